"""Apply's content imports from master courses, and how an import whose answer was lost is settled.

An import is recorded as in flight before it is sent and settled, in this run or any later one (a crash
mid-import included), by looking for the master's activities in the target course. While none are there
it is not sent again: Moodle's import is a backup and restore in one request that runs on after the client
gave up (``core_course_external::import_course``), and sending it again would put the content in twice.
``reimport`` lifts that for the course keys an operator has checked by hand.
"""

from __future__ import annotations

from collections import Counter

from ..exceptions import ConnectionFailedError, MoodleSyncError, WebServiceError, WriteOutcomeUnknownError
from ..store.records import WriteRecord
from ..ws.moodle import Section
from ._run import ApplyRun, why
from .plan import CREATE, UNCHANGED, Action

Activities = Counter[tuple[str, str]]


def import_content(run: ApplyRun) -> None:
    """Import the master's content into each course that has none, first settling any import of ours
    whose answer was never seen (this run's or an earlier run's) by reading the course."""
    if not run.plan.of("content"):
        return
    pending: dict[str, WriteRecord] = (run.store.unsettled_writes(run.offering.offering_id, "content")
                                       if run.store is not None else {})
    for a in run.plan.of("content", UNCHANGED):
        if a.key in pending:  # the plan read content in the course: the unanswered import did land
            run.audit(a, pending[a.key].moodle_id, "ok", "settled by reading: the course has content now")
    imports = _Imports(run)
    for a in run.plan.of("content", CREATE):
        cid = run.course_ids.get(a.key)
        if cid is None:
            continue
        earlier = pending.get(a.key)
        if (earlier is not None and earlier.moodle_id == cid and a.key not in run.reimport
                and imports.settle(a, cid, "an earlier import into this course got no answer")):
            continue
        imports.send(a, cid)


class _Imports:
    """Sends imports and settles lost ones, reading each master's activities once."""

    def __init__(self, run: ApplyRun) -> None:
        self.run = run
        self.master_activities: dict[int, Activities] = {}

    def send(self, a: Action, cid: int) -> None:
        """Record the import as in flight, send it, record how it ended (settling a lost answer)."""
        run, master = self.run, int(a.data["importfrom"])
        again = " again on request (--reimport)" if a.key in run.reimport else ""
        run.audit(a, cid, "unknown", f"import from course {master} sent{again}; waiting for its answer")
        try:
            run.m.import_course(master, cid)
        except WriteOutcomeUnknownError:
            if not self.settle(a, cid, "the import got no answer"):
                run.record(a, cid, "unknown", "the import got no answer and the master has no activities to "
                                              "look for: run apply again")
            return
        except WebServiceError as exc:
            run.record(a, cid, "failed", why(exc))
            return
        except ConnectionFailedError as exc:
            if not exc.sent:
                run.audit(a, cid, "failed", f"not sent: {exc}")
            raise
        run.record(a, cid, "ok")

    def settle(self, a: Action, cid: int, reason: str) -> bool:
        """Settle an import whose answer was lost by looking for the master's activities in course ``cid``.

        Records ``ok`` when all are there, ``unknown`` when some or none are (Moodle may still be running
        it: it is not sent again) and returns True; returns False, recording nothing, when the master has
        no activities, so sending the import (again) cannot put anything in twice.
        """
        run = self.run
        try:
            wanted = self.activities_of_master(int(a.data["importfrom"]))
            have = activities(run.m.sections(cid))
        except MoodleSyncError as exc:
            run.record(a, cid, "unknown", f"{reason}, and reading the course to settle it failed ({why(exc)}): "
                                          "not sent again; run apply again")
            return True
        total = sum(wanted.values())
        if not total:
            return False
        found = sum((wanted & have).values())
        if found == total:
            run.record(a, cid, "ok", f"{reason}; settled by reading: the master's {total} activities are in "
                                     "the course")
        elif found:
            run.record(a, cid, "unknown", f"{reason}; {found} of the master's {total} activities are in the "
                                          "course: the import is still running or broke off; not sent again: "
                                          "check the course in Moodle")
        else:
            run.record(a, cid, "unknown", f"{reason}, and none of the master's {total} activities is in the "
                                          "course yet: Moodle may still be running it, so it is not sent again. "
                                          "Run apply again later to settle it; if the course stays empty, check "
                                          f"it in Moodle and send it again with apply --reimport {a.key}")
        return True

    def activities_of_master(self, master: int) -> Activities:
        if master not in self.master_activities:
            self.master_activities[master] = activities(self.run.m.sections(master))
        return self.master_activities[master]


def activities(sections: list[Section]) -> Activities:
    """A course's activities as (module, name) counts, leaving out the forums of section 0 (Moodle gives
    every course its Announcements forum there), as :func:`~moodle_sync.provision.state.has_content`."""
    return Counter((m.modname, m.name) for s in sections for m in s.modules if m.modname != "forum" or s.number != 0)
