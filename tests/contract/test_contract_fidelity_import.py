"""An import that goes on after the client stopped waiting: the client cannot know whether it happened
(``WriteOutcomeUnknownError``), and the content does arrive in the target course.

On the sandbox the ``apply_then_timeout`` fault does the import and holds the answer; on a real site a very
short client timeout does the same to a real import (PHP carries on after the client hung up), and the
scenario reads the target until the import has landed (60 s at most).
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from moodle_sync.exceptions import WriteOutcomeUnknownError

from .conftest import Site

pytestmark = pytest.mark.contract

MASTER = "MASTER-KODING"
WAIT_SECONDS = 60.0


def _module_names(site: Site, courseid: int) -> Counter[str]:
    """The course's activities by name (forums left out: whether the master's Announcements is copied is
    not what this scenario is about)."""
    return Counter(m.name for s in site.moodle.sections(courseid) for m in s.modules if m.modname != "forum")


def _wait_for(site: Site, courseid: int, wanted: Counter[str]) -> Counter[str]:
    """The target's activities once they equal ``wanted``, or what it has after :data:`WAIT_SECONDS`."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        have = _module_names(site, courseid)
        if have == wanted or time.monotonic() > deadline:
            return have
        time.sleep(1.0)


def test_an_import_past_the_client_timeout_is_unknown_to_the_client_and_still_lands(site: Site) -> None:
    masters = site.moodle.courses_by_field("shortname", MASTER)
    if not masters:
        pytest.skip(f"the site has no {MASTER} (scripts/moodle-lab.sh up builds the masters)")
    target = site.create_course(site.create_category(), newsitems=0)
    impatient = site.connect(timeout=0.3, retries=1)
    if site.target == "sandbox":
        site.sandbox.control.inject_fault("core_course_import_course", "apply_then_timeout", seconds=30)

    with pytest.raises(WriteOutcomeUnknownError):
        impatient.import_course(masters[0].id, target)

    impatient.client.close()
    assert _wait_for(site, target, _module_names(site, masters[0].id)) == _module_names(site, masters[0].id)
