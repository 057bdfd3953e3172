"""One suite, two targets: every contract scenario runs against the sandbox, and against a real Moodle 4.5
when ``MOODLE_URL`` and ``MOODLE_TOKEN`` were set when pytest started (skipped otherwise).

The ``site`` fixture gives a scenario a connected :class:`~moodle_sync.ws.moodle.Moodle`, a run tag that
names everything the scenario creates, and a :class:`Cleanup` that deletes those things afterwards, even
when the scenario failed half-way. Cleanup finds what to delete by name (shortname, username, category
idnumber), registered *before* the write, so a write that landed without an answer is deleted too.

``MOODLE_LIMITED_TOKEN`` (a token of a service holding only ``core_webservice_get_site_info``) enables the
access-denied scenario on the real site; the sandbox makes such a token itself.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from moodle_sync.exceptions import MoodleSyncError
from moodle_sync.ws import connect
from moodle_sync.ws.moodle import Moodle
from tests.conftest import REAL_MOODLE_TOKEN, REAL_MOODLE_URL

# Read at import time: tests/conftest.py removes every MOODLE_* variable before each test runs.
REAL_MOODLE_LIMITED_TOKEN = os.environ.get("MOODLE_LIMITED_TOKEN")
# The tool's own token holds only what the tool needs (no deletes): clean-up uses an admin's token when given.
REAL_MOODLE_ADMIN_TOKEN = os.environ.get("MOODLE_ADMIN_TOKEN")
# A token of the tool's service whose user's role lacks moodle/course:create (the lab's moodle_sync_nocap).
REAL_MOODLE_NOCAP_TOKEN = os.environ.get("MOODLE_NOCAP_TOKEN")
# The folder where the lab's mail catcher writes every mail Moodle sends, one *.eml file each.
REAL_MOODLE_LAB_MAILDIR = os.environ.get("MOODLE_LAB_MAILDIR")
REAL_CONFIGURED = bool(REAL_MOODLE_URL and REAL_MOODLE_TOKEN)

STUDENT_ROLE = 5          # role ids of a standard Moodle install (and of the sandbox)
TEACHER_ROLE = 3
PASSWORD = "Kontrak-2026!"  # meets Moodle's default password policy
LIMITED_FUNCTIONS = ["core_webservice_get_site_info"]

TARGETS = [
    "sandbox",
    pytest.param("real", marks=pytest.mark.skipif(
        not REAL_CONFIGURED, reason="set MOODLE_URL and MOODLE_TOKEN to run the contract on a real Moodle")),
]


def _connect(url: str, token: str, protocol: str = "rest", **options: Any) -> Moodle:
    """A client that does not retry (a contract failure should show at once) and waits long enough."""
    options.setdefault("retries", 1)
    options.setdefault("timeout", 120)
    return connect(url, token, protocol=protocol, **options)


class Cleanup:
    """What a scenario may create, by name; :meth:`run` deletes whatever of it exists.

    Courses go first (``core_course_delete_courses``), then users (``core_user_delete_users``), then
    categories, deepest first (``core_course_delete_categories``, recursive, so nothing inside survives).
    """

    def __init__(self, moodle: Moodle) -> None:
        self.moodle = moodle  # an admin REST client of its own, whatever the scenario's protocol
        self.shortnames: list[str] = []
        self.usernames: list[str] = []
        self.category_idnumbers: list[str] = []

    def course(self, shortname: str) -> str:
        self.shortnames.append(shortname)
        return shortname

    def user(self, username: str) -> str:
        self.usernames.append(username)
        return username

    def category(self, idnumber: str) -> str:
        self.category_idnumbers.append(idnumber)
        return idnumber

    def _course_ids(self) -> list[int]:
        return sorted({c.id for shortname in dict.fromkeys(self.shortnames)
                       for c in self.moodle.courses_by_field("shortname", shortname)})

    def _user_ids(self) -> list[int]:
        if not self.usernames:
            return []
        return sorted(u.id for u in self.moodle.users_by_field("username", self.usernames))

    def _categories(self) -> list[Any]:
        if not self.category_idnumbers:
            return []
        wanted = set(self.category_idnumbers)
        found = [c for c in self.moodle.categories() if c.idnumber in wanted]
        return sorted(found, key=lambda c: -c.path.count("/"))

    def leftovers(self) -> list[str]:
        """What still exists of the registered names (empty after a complete cleanup)."""
        return ([f"course {i}" for i in self._course_ids()] + [f"user {i}" for i in self._user_ids()]
                + [f"category {c.id} ({c.idnumber})" for c in self._categories()])

    def run(self) -> list[str]:
        """Delete everything registered that exists; return the problems (empty when all went)."""
        problems: list[str] = []
        steps = [
            ("courses", lambda: self._delete_courses(self._course_ids())),
            ("users", lambda: self._delete_users(self._user_ids())),
            ("categories", lambda: self._delete_categories(self._categories())),
        ]
        for what, step in steps:
            try:
                problems.extend(step())
            except MoodleSyncError as exc:
                problems.append(f"deleting {what}: {exc}")
        try:
            problems.extend(f"left behind: {x}" for x in self.leftovers())
        except MoodleSyncError as exc:
            problems.append(f"checking what is left: {exc}")
        return problems

    def _delete_courses(self, ids: list[int]) -> list[str]:
        return self.moodle.delete_courses(ids) if ids else []

    def _delete_users(self, ids: list[int]) -> list[str]:
        if ids:
            self.moodle.call("core_user_delete_users", {"userids": ids})
        return []

    def _delete_categories(self, categories: list[Any]) -> list[str]:
        # one by one, deepest first: a parent's recursive delete takes its children with it
        for category in categories:
            self.moodle.call("core_course_delete_categories",
                             {"categories": [{"id": category.id, "recursive": 1}]})
        return []


@dataclass
class Site:
    """One target as a scenario sees it."""

    target: str               # "sandbox" or "real"
    protocol: str             # "rest" or "soap"
    url: str
    token: str
    limited_token: str | None
    tag: str                  # unique per scenario run; every name created starts with it
    moodle: Moodle
    cleanup: Cleanup
    sandbox: Any = field(default=None, repr=False)

    def connect(self, token: str | None = None, **options: Any) -> Moodle:
        """Another client for this target and protocol (another token, another ``max_input_vars``...)."""
        return _connect(self.url, token or self.token, self.protocol, **options)

    def name(self, suffix: str) -> str:
        return f"{self.tag}-{suffix}"

    def create_category(self) -> int:
        idnumber = self.cleanup.category(self.name("cat"))
        return self.moodle.create_categories([{"name": f"Kontrak {self.tag}", "idnumber": idnumber,
                                               "parent": 0}])[0].id

    def course_record(self, categoryid: int, suffix: str, *, numsections: int | None = None,
                      **fields: Any) -> dict[str, Any]:
        """A course to create, its shortname registered for cleanup."""
        shortname = self.cleanup.course(self.name(suffix))
        course = {"fullname": f"Kontrak {shortname}", "shortname": shortname, "categoryid": categoryid,
                  **fields}
        if numsections is not None:
            course["courseformatoptions"] = [{"name": "numsections", "value": str(numsections)}]
        return course

    def create_course(self, categoryid: int, suffix: str = "course", **options: Any) -> int:
        return self.moodle.create_courses([self.course_record(categoryid, suffix, **options)])[0]

    def user_records(self, count: int, *, first: int = 0) -> list[dict[str, Any]]:
        """Users to create (``<tag>-u<i>``), their usernames registered for cleanup."""
        return [{"username": self.cleanup.user(self.name(f"u{i}")), "password": PASSWORD,
                 "firstname": "Peserta", "lastname": f"Kontrak {i}", "email": f"{self.tag}.u{i}@example.org"}
                for i in range(first, first + count)]

    def create_users(self, count: int, *, first: int = 0) -> list[int]:
        answer = self.moodle.call("core_user_create_users", {"users": self.user_records(count, first=first)})
        return [int(u["id"]) for u in answer]

    def enrol(self, courseid: int, userids: list[int], roleid: int = STUDENT_ROLE) -> Any:
        return self.moodle.call("enrol_manual_enrol_users", {"enrolments": [
            {"roleid": roleid, "userid": u, "courseid": courseid} for u in userids]})


@pytest.fixture
def protocol() -> str:
    """The scenario's protocol; read-only scenarios parametrise it over rest and soap."""
    return "rest"


@pytest.fixture(params=TARGETS)
def site(request: pytest.FixtureRequest, protocol: str) -> Iterator[Site]:
    """A connected target for one scenario; everything registered in ``site.cleanup`` is deleted after it."""
    sandbox = None
    if request.param == "sandbox":
        sandbox = request.getfixturevalue("sandbox")
        url, token = sandbox.url, sandbox.token
        limited: str | None = sandbox.control.make_token(LIMITED_FUNCTIONS)
    else:
        assert REAL_MOODLE_URL and REAL_MOODLE_TOKEN
        url, token, limited = REAL_MOODLE_URL, REAL_MOODLE_TOKEN, REAL_MOODLE_LIMITED_TOKEN
    admin_token = REAL_MOODLE_ADMIN_TOKEN if request.param == "real" else None
    cleanup = Cleanup(_connect(url, admin_token or token))
    tag = f"msc{uuid.uuid4().hex[:10]}"
    site = Site(request.param, protocol, url, token, limited, tag, _connect(url, token, protocol), cleanup,
                sandbox)
    try:
        yield site
    finally:
        problems = cleanup.run()
        site.moodle.client.close()
        cleanup.moodle.client.close()
        if problems:
            pytest.fail(f"cleanup on the {request.param} site after {tag}: " + "; ".join(problems))
