"""Execute a provisioning plan against Moodle, batching what Moodle accepts in batches.

Order: categories (a call per depth), new courses (one batch), course updates (one batch), content
imports, section names, groups and groupings (one batch each over all courses), facilitator users,
enrolments and class memberships (batches). Every write is recorded in the store with the offering,
the Moodle id, the spec hash and the outcome.

One refusal never stops the rest: a course, group, grouping or grouping assignment that Moodle refuses
fails alone, named with Moodle's reason, and everything else goes on; the result lists every failure.

A write whose answer never came (:class:`WriteOutcomeUnknownError`) is recorded as ``unknown`` and is
never re-sent blindly; it is settled by reading Moodle:

- created objects (categories, courses, groups, groupings, users) are read back; what exists is kept,
  what does not is sent once more;
- a course update is settled by reading the course back and comparing it with the plan (``ok`` or
  ``failed``; not re-sent: the next plan shows whatever did not land);
- a content import is recorded as in flight before it is sent and settled, in this run or any later one
  (a crash mid-import included), by looking for the master's activities in the target course. While none
  are there it is not sent again: Moodle's import is a backup and restore in one request that runs on
  after the client gave up (``core_course_external::import_course``), and sending it again would put the
  content in twice. ``reimport`` lifts that for the course keys an operator has checked by hand;
- section names and grouping assignments are sent again: both are idempotent in Moodle.

After a crash, a rerun plans again from what Moodle has and finishes the job without duplicates.

Each phase has its module: ``_courses`` (categories, courses), ``_content`` (imports), ``_sections``,
``_classes`` (groups, groupings), ``_facilitators`` (users, enrolments, memberships); ``_run`` keeps the
run's ids, result and audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from ..ws.moodle import Moodle
from ._classes import create_classes
from ._content import import_content
from ._courses import create_categories, create_courses, update_courses
from ._facilitators import provision_facilitators
from ._run import ApplyResult, ApplyRun, WriteLog
from ._sections import name_sections
from .plan import Plan
from .spec import OfferingSpec

# The phases, in the order they run: each needs what the ones before it made.
PHASES: tuple[Callable[[ApplyRun], None], ...] = (
    create_categories, create_courses, update_courses, import_content, name_sections, create_classes,
    provision_facilitators,
)


def apply_plan(moodle: Moodle, offering: OfferingSpec, plan: Plan, *, store: WriteLog | None = None,
               new_user_auth: str = "manual", progress: Callable[[int], None] | None = None,
               reimport: Collection[str] = ()) -> ApplyResult:
    """Execute ``plan`` (built by :func:`~moodle_sync.provision.plan.plan_offering` for ``offering``).

    Returns what was done, what failed and what stays unknown, with Moodle's reasons; one refusal never
    stops the rest. ``reimport`` names course keys whose unanswered, unsettled import may be sent again
    (an operator has checked the course). Without a ``store`` an import lost in one run cannot be known
    to the next. Raises only for failures that stop everything (bad token, site unreachable).
    """
    run = ApplyRun(moodle, offering, plan, store, new_user_auth, progress or (lambda n: None), reimport)
    for phase in PHASES:
        phase(run)
    return run.result


__all__ = ["ApplyResult", "WriteLog", "apply_plan"]
