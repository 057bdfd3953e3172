"""Pull completion, grades and access from Moodle into the evidence store.

Per course, four cheap whole-course reads every time: enrolled users (last course access, classes),
every user's grades in one call (``gradereport_user_get_grade_items`` with ``userid=0``), the
course's groups, and its contents (which activities track completion). Then, per enrolment and
concurrently, the expensive read of course completion (and of activity completion, unless the course's
completion criteria are exactly its tracked activities: then the criteria give the activity counts):
for all enrolments in a full pull, and in an incremental pull only for those whose data can have
changed since the last pull:

* new enrolments, and anyone not seen before;
* anyone who accessed the course since (``lastcourseaccess`` moved);
* anyone whose grades changed (a teacher grading does not need the participant to visit);
* anyone not complete whose activities were all done (cron completes the course later);
* anyone not complete last read more than ``stale_after`` ago (a trainer overriding an activity's
  completion, or a date-based criterion, changes nothing we can see cheaply: a bounded delay).

Everyone else keeps their last completion state, refreshed with this pull's access, grades and class.
So an incremental pull's calls grow with what changed (plus four per course); what it cannot avoid is
reading each course's participant list and grades whole: Moodle 4.5's web services have no "changed
since" for either (``core_enrol_get_enrolled_users`` takes no time filter; ``gradereport_user_get_grade_items``
only a user or a group), so their bytes grow with the enrolments. Courses are pulled in batches (of about
``BATCH_ENROLMENTS``), each saved before the next is read: memory holds a batch, not an offering.
The optional report path reads a custom report (report builder, "Course participants" source) page by
page instead of the per-enrolment reads, checking first that it has the columns it needs.

Participants are the enrolled users holding the configured student role (by role id, the one enrolment
gives them; a user with no role at all counts too). Each course's suspended enrolments are read too
(``onlysuspended``), and a participant an earlier pull saw who is no longer there is kept as
``unenrolled``: reports count both apart as withdrawn. ``time_enrolled`` is the earliest of: when we
enrolled them (their participant record turned ``enrolled``), and when a pull first saw the enrolment
(``core_enrol_get_enrolled_users`` does not give Moodle's own enrolment time).

An offering's first pull (no evidence of it in the store yet) is a full pull. Courses an offering adopts
(``adopt:``, recorded by ``apply``) are pulled the same way: participants are whoever holds the student
role, the tests are found by idnumber or, failing that, by grade item name.

A run is ``ok`` only when it went to its end with every read answered: a run stopped by Ctrl-C is
recorded ``interrupted``, one stopped by an error or a crash ``failed``, one with some reads failed
``partial``. Incremental rules that look "since the last pull" (``grades="on-activity"``) start from the
last ``ok`` run, so nothing that happened during a run that did not finish is skipped. Each course's
snapshots are saved in one transaction, so a stopped run leaves every course either as the run read it
or as before.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from ..exceptions import MoodleSyncError, NotEnrolledError, RunHaltedError
from ..localtime import WIB
from ..ws.moodle import EnrolledUser, GradeItem, Moodle, UserGrades
from .display import DisplayValueError, parse_percent, parse_time, parse_yes_no
from .model import CompletionSnapshot

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("moodle_sync.pull")

DAY = 86400


@dataclass(frozen=True)
class CourseTarget:
    """One course of an offering to pull, with what the reports need to know about it."""

    offering_id: str
    key: str
    idnumber: str
    pretest: str | None = None
    posttest: str | None = None
    start_date: int = 0
    regency: str | None = None      # an adopted course's regency: for participants no record places


@dataclass(frozen=True)
class ParticipantInfo:
    """What the store's participant record adds to a snapshot. ``enrolled_at``: when we enrolled them (the
    record turned ``enrolled``; a later update only moves it later), in ``course_key``."""

    regency: str | None = None
    school_level: str | None = None
    enrolled_at: int | None = None
    course_key: str | None = None


@dataclass
class PullStats:
    enrolments: int = 0
    reread: int = 0
    courses: int = 0
    errors: list[str] = field(default_factory=list)


# The user fields a pull reads of each enrolled user (the fewer, the less the site has to fill in).
PULL_USER_FIELDS = "id,fullname,email,firstaccess,lastcourseaccess,roles,groups"
GRADE_FIELDS = ("course_grade", "course_grade_max", "pretest_grade", "pretest_max", "posttest_grade",
                "posttest_max", "grades_modified")
# Enrolments a batch of courses is made of (by the participant records): a pull holds about this many in
# memory at once (a bigger course alone), so memory does not grow with the offering.
BATCH_ENROLMENTS = 2000
# Course access this long before the last pull's start still counts as "since" (clocks differ a little).
CLOCK_MARGIN = 300

REPORT_COLUMNS = {
    "email": "Email address",
    "course": "Course ID number",
    "completed": "Completed",
    "progress": "Student progress",
    "timecompleted": "Time completed",
    "lastaccess": "Last access to course",
}


def _grades_fields(g: UserGrades | None, target: CourseTarget) -> dict[str, Any]:
    if g is None:
        return {}
    course = g.item(itemtype="course")
    pre = evidence_item(g, target.pretest)
    post = evidence_item(g, target.posttest)
    return {
        "course_grade": course.grade if course else None, "course_grade_max": course.grademax if course else None,
        "pretest_grade": pre.grade if pre else None, "pretest_max": pre.grademax if pre else None,
        "posttest_grade": post.grade if post else None, "posttest_max": post.grademax if post else None,
        "grades_modified": g.last_change,
    }


def evidence_item(grades: UserGrades, wanted: str | None) -> GradeItem | None:
    """The grade item that is a test: the one with the idnumber ``wanted``, else (older courses, adopted)
    the one named ``wanted`` (ignoring case and surrounding spaces); None when there is none."""
    if not wanted:
        return None
    found = grades.item(idnumber=wanted)
    if found is None:
        name = " ".join(wanted.split()).casefold()
        found = next((it for it in grades.items if it.itemtype != "course"
                      and " ".join((it.name or "").split()).casefold() == name), None)
    return found


def time_enrolled(previous: CompletionSnapshot | None, info: ParticipantInfo, course_key: str, now: int) -> int:
    """The earliest time we know an enrolment existed: when a pull first saw it (``now`` for a new one),
    or when we enrolled the participant in this course, whichever is earlier (each can only be late)."""
    first_seen = (previous.time_enrolled or previous.pulled_at or now) if previous is not None else now
    ours = info.enrolled_at if info.course_key in (None, course_key) else None
    return min(first_seen, ours) if ours else first_seen


def is_student(user: EnrolledUser, student_role_id: int) -> bool:
    """Whether an enrolled user is a participant: holds the student role (by id), or no role at all."""
    return student_role_id in user.role_ids or not user.role_ids


def needs_reread(previous: CompletionSnapshot | None, user: EnrolledUser, grades: dict[str, Any],
                 now: int, stale_after: int) -> bool:
    """Whether an incremental pull must read this enrolment's completion again (see module doc)."""
    if previous is None:
        return True
    if (user.last_course_access or None) != previous.last_access:
        return True
    for name in ("course_grade", "pretest_grade", "posttest_grade", "grades_modified"):
        if grades.get(name) != getattr(previous, name):
            return True
    if previous.completed:
        return False
    if previous.activities_total and previous.activities_done >= previous.activities_total:
        return True  # waiting for cron to complete the course
    return now - (previous.pulled_at or 0) >= stale_after


@dataclass(frozen=True)
class CourseReads:
    """A course's whole-course reads, checked: who is enrolled (and suspended), their grades and classes."""

    enrolled: list[EnrolledUser]
    grades: dict[int, UserGrades] | None        # by user id; None: not read (carried forward)
    group_names: dict[int, str]
    suspended: set[int] | None                  # None: the suspended list could not be read
    tracked: int                                # activities tracking completion (0: not known)


class Puller:
    """Pulls one offering's courses. ``marks`` gives the last snapshots (by course id) for incremental pulls."""

    def __init__(self, moodle: Moodle, *, student_role_id: int = 5, full: bool = False,
                 stale_after: int = DAY, clock: Callable[[], float] = time.time,
                 progress: Callable[[int], None] | None = None) -> None:
        self.m = moodle
        self.student_role_id = student_role_id
        self.full = full
        self.stale_after = stale_after
        self.clock = clock
        self.progress = progress or (lambda n: None)
        self.stats = PullStats()

    def course_id(self, target: CourseTarget) -> int | None:
        """The course's id by its idnumber; None when none has it, or it has none (an adopted course
        without one is known by the id apply recorded only)."""
        if not target.idnumber:
            return None
        found = self.m.courses_by_field("idnumber", target.idnumber)
        return found[0].id if found else None

    def course_reads(self, courseid: int, *, report: bool = False,
                     with_grades: bool = True) -> list[Callable[[], Any]]:
        """The whole-course reads a course's pull starts with (independent: they may run concurrently):
        enrolled users (only the fields a pull uses), grades, groups, the ids of suspended users, and in
        a full pull the contents. Without ``with_grades`` the grades are left for the caller to read, or
        to carry forward (None)."""
        reads: list[Callable[[], Any]] = [
                 lambda: self.m.enrolled_users(courseid, fields=PULL_USER_FIELDS),
                 (lambda: self.m.grades(courseid, 0)) if with_grades else (lambda: None),
                 lambda: self.m.groups(courseid),
                 lambda: self.m.enrolled_users(courseid, onlysuspended=True, fields="id")]
        if self.full and not report:  # which activities track completion: for the criteria shortcut
            reads.append(lambda: self.m.sections(courseid))
        return reads

    def checked_reads(self, target: CourseTarget, results: Sequence[Any]) -> CourseReads:
        """The whole-course reads' results, checked. Raises the error of any read but the suspended
        list's (that one is noted, and each enrolment keeps its last status)."""
        for i, res in enumerate(results):
            if isinstance(res, MoodleSyncError) and i != 3:
                raise res
        enrolled, grades, groups, suspended_read = results[:4]
        suspended: set[int] | None = None
        if isinstance(suspended_read, MoodleSyncError):
            self.stats.errors.append(f"{target.offering_id}/{target.key}: suspended enrolments not read (their "
                                     f"last status is kept): {suspended_read}")
        else:
            suspended = {u.id for u in suspended_read}
        tracked = sum(1 for s in results[4] for m in s.modules if m.completion) if len(results) > 4 else 0
        return CourseReads(list(enrolled), {g.userid: g for g in grades} if grades is not None else None,
                           {g.id: g.name for g in groups}, suspended, tracked)

    def plan_course(self, target: CourseTarget, courseid: int, people: dict[str, ParticipantInfo],
                    marks: dict[int, CompletionSnapshot],
                    report_rows: dict[tuple[str, str], dict[str, Any]] | None = None,
                    prefetched: list[Any] | None = None) -> CoursePull:
        """A course's snapshots from its whole-course reads, and who needs a completion read.

        ``prefetched``: the results of :meth:`course_reads`, when the caller read them already (for
        several courses at once). Raises what those reads raised."""
        now = int(self.clock())
        results = prefetched if prefetched is not None else self.m.map_reads(
            lambda f: f(), self.course_reads(courseid, report=report_rows is not None))
        reads = self.checked_reads(target, results)
        students = [u for u in reads.enrolled if is_student(u, self.student_role_id)]
        base: dict[int, CompletionSnapshot] = {}
        reread: list[EnrolledUser] = []
        for u in students:
            prev = marks.get(u.id)
            snap = base_snapshot(target, courseid, u, prev, people.get(u.email, ParticipantInfo()), reads, now)
            if report_rows is not None:
                row = report_rows.get((u.email, target.idnumber))
                snap = replace(snap, **row) if row is not None else snap
            elif prev is not None and not self.full and not needs_reread(
                    prev, u, snapshot_grades(snap), now, self.stale_after):
                snap = replace(snap, pulled_at=prev.pulled_at)  # completion carried forward, not re-read
            else:
                reread.append(u)
            base[u.id] = snap
        base.update(_gone(marks, base, now))
        self.progress(len(students) - len(reread))
        self.stats.courses += 1
        self.stats.enrolments += len(students)
        self.stats.reread += len(reread)
        return CoursePull(target, marks, base, reread, partial(self.read_completion, courseid, reads.tracked, marks))

    def read_completion(self, courseid: int, tracked: int, marks: dict[int, CompletionSnapshot],
                        u: EnrolledUser) -> dict[str, Any]:
        """One enrolment's completion, as snapshot fields ({} when unenrolled since the list was read).

        Course completion first. Where every tracked activity is a completion criterion (the number of
        tracked activities, ``tracked``, is known from the course contents in a full pull, else from this
        enrolment's last read), the criteria say what is done and the activities call is saved: Moodle 4.5
        marks an activity's criterion when the activity completes (only the course's completion waits for
        cron; seen on a real 4.5.6 site)."""
        try:
            cc = self.m.course_completion(courseid, u.id)
        except NotEnrolledError:
            return {}
        known = tracked or (marks[u.id].activities_total if u.id in marks else 0)
        if cc is not None and known and cc.activity_criteria_total == known:
            out: dict[str, Any] = {"activities_total": known, "activities_done": cc.activity_criteria_done}
        else:
            acts = self.m.activities_completion(courseid, u.id)
            out = {"activities_total": len(acts), "activities_done": sum(1 for a in acts if a.done)}
        if cc is not None:
            out.update(completed=cc.completed, time_completed=cc.time_completed)
        return out

    def finish_course(self, course: CoursePull, results: Sequence[Any]) -> list[CompletionSnapshot]:
        """The course's snapshots once the completion reads of ``course.reread`` gave ``results``."""
        base = course.base
        for u, res in zip(course.reread, results):
            if isinstance(res, MoodleSyncError):
                self.stats.errors.append(f"{course.target.key}: user {u.id}: {res}")
                if u.id in course.marks:
                    base[u.id] = course.marks[u.id]  # what we knew, unchanged: the same trigger fires next time
                else:
                    del base[u.id]                   # still new to the next pull
                continue
            base[u.id] = replace(base[u.id], **res)
        return list(base.values())


def snapshot_grades(snap: CompletionSnapshot) -> dict[str, Any]:
    """The grade fields of a snapshot (what :func:`needs_reread` compares)."""
    return {name: getattr(snap, name) for name in GRADE_FIELDS}


def base_snapshot(target: CourseTarget, courseid: int, u: EnrolledUser, prev: CompletionSnapshot | None,
                  info: ParticipantInfo, reads: CourseReads, now: int) -> CompletionSnapshot:
    """One participant's snapshot from the whole-course reads, completion as last read (``prev``): this
    pull's access, grades (or the last ones, when the course's grades were not read), class and status."""
    if reads.grades is not None:
        grades = _grades_fields(reads.grades.get(u.id), target)
    else:
        grades = {k: getattr(prev, k) for k in GRADE_FIELDS} if prev is not None else {}
    if reads.suspended is not None:
        status = "suspended" if u.id in reads.suspended else "active"
    else:
        status = prev.enrol_status if prev is not None and prev.enrol_status != "unenrolled" else "active"
    classes = sorted(reads.group_names[i] for i in u.groups if i in reads.group_names)
    return CompletionSnapshot(
        offering_id=target.offering_id, course_id=courseid, course_key=target.key, user_id=u.id,
        email=u.email, fullname=u.fullname, class_name=", ".join(classes) or None,
        regency=info.regency or target.regency, school_level=info.school_level, first_access=u.first_access,
        last_access=u.last_course_access, pulled_at=now,
        completed=prev.completed if prev else False, time_completed=prev.time_completed if prev else None,
        activities_total=prev.activities_total if prev else 0, activities_done=prev.activities_done if prev else 0,
        time_enrolled=time_enrolled(prev, info, target.key, now), enrol_status=status, **grades)


def _gone(marks: dict[int, CompletionSnapshot], present: dict[int, CompletionSnapshot],
          now: int) -> dict[int, CompletionSnapshot]:
    """Participants an earlier pull saw in the course who are no longer among its students: their last
    snapshot, marked ``unenrolled`` (stamped ``now`` when that is news)."""
    return {uid: prev if prev.enrol_status == "unenrolled" else replace(prev, enrol_status="unenrolled", pulled_at=now)
            for uid, prev in marks.items() if uid not in present}


@dataclass
class CoursePull:
    """One course half-way through a pull: snapshots from the whole-course reads, and who to re-read."""

    target: CourseTarget
    marks: dict[int, CompletionSnapshot]
    base: dict[int, CompletionSnapshot]
    reread: list[EnrolledUser]
    read: Callable[[EnrolledUser], dict[str, Any]]   # one enrolment's completion reads -> snapshot fields


def run_reads(moodle: Moodle, courses: Sequence[CoursePull], on_done: Callable[[], None] | None = None) -> list[Any]:
    """Every completion read of ``courses`` in one bounded concurrent run; per enrolment, in order, its
    snapshot fields or the error that stopped its read."""
    return moodle.map_reads(lambda item: item[0].read(item[1]), [(c, u) for c in courses for u in c.reread],
                            on_done=on_done)


def _grades_may_have_changed(enrolled: Any, marks: dict[int, CompletionSnapshot], since: int,
                             student_role_id: int = 5) -> bool:
    """Whether a course's grades need reading (``grades="on-activity"``): someone accessed it since the
    last pull, or it has a participant we have not seen yet."""
    if isinstance(enrolled, Exception):
        return True  # the course's pull will fail on it anyway, and say why
    return any((u.last_course_access or 0) >= since
               or (u.id not in marks and is_student(u, student_role_id)) for u in enrolled)


def parse_report_rows(headers: Sequence[str], rows: Iterable[Sequence[str]],
                      tz: dt.tzinfo) -> dict[tuple[str, str], dict[str, Any]]:
    """Turn a completion report's display values (English or Indonesian, see :mod:`.display`) into
    snapshot fields, by (e-mail, course idnumber). Progress is kept as a percentage: activities_done of
    100, rounded half up.

    Raises :class:`MoodleSyncError` naming the missing columns when the report lacks one we need, and
    naming the row, column and value when a value cannot be read.
    """
    index: dict[str, int] = {}
    for name, header in REPORT_COLUMNS.items():
        if header not in headers:
            raise MoodleSyncError(f"the completion report lacks the column {header!r} (has: "
                                  f"{', '.join(headers)}); add it, or pull without --report-id")
        index[name] = list(headers).index(header)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for number, row in enumerate(rows, start=1):
        email, course = row[index["email"]].strip().lower(), row[index["course"]].strip()
        out[(email, course)] = report_row_fields(number, row, index, tz)
    return out


def report_row_fields(number: int, row: Sequence[str], index: dict[str, int], tz: dt.tzinfo) -> dict[str, Any]:
    """One completion report row's snapshot fields (``index``: the column of each of :data:`REPORT_COLUMNS`).
    Raises :class:`MoodleSyncError` naming the row, column and value when a value cannot be read."""
    def read(name: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(row[index[name]])
        except DisplayValueError as exc:
            who = f"{row[index['email']].strip().lower()}, {row[index['course']].strip()}"
            raise MoodleSyncError(f"completion report, row {number} ({who}), column "
                                  f"{REPORT_COLUMNS[name]!r}: {exc}") from None

    completed = bool(read("completed", parse_yes_no))
    progress = read("progress", parse_percent)
    time_completed = read("timecompleted", lambda text: parse_time(text, tz))
    return {
        "completed": completed,
        "time_completed": time_completed if completed else None,
        "activities_total": 100 if progress is not None else 0,
        "activities_done": int(Decimal(repr(progress)).quantize(Decimal(1), ROUND_HALF_UP))
        if progress is not None else 0,
    }


def read_report(moodle: Moodle, reportid: int, *, perpage: int = 1000,
                tz: dt.tzinfo = WIB) -> dict[tuple[str, str], dict[str, Any]]:
    """Every row of the completion report, page by page (all pages; never silently only the first)."""
    first = moodle.report_page(reportid, 0, perpage)
    rows = list(first.rows)
    pages = max(1, -(-first.total // perpage))
    more = moodle.map_reads(lambda p: moodle.report_page(reportid, p, perpage), range(1, pages))
    for page in more:
        if isinstance(page, MoodleSyncError):
            raise page
        rows.extend(page.rows)
    if len(rows) < first.total:
        raise MoodleSyncError(f"the completion report said {first.total} rows but gave {len(rows)}")
    return parse_report_rows(first.headers, rows, tz)


def since_point(store: Store, offering_id: str) -> int | None:
    """When the last ``ok`` pull over the offering started (None if none): what an incremental pull may
    take as already seen. A partial, failed or interrupted run never moves it."""
    run = store.last_run(offering_id, status="ok")
    return run.started_at if run is not None else None


def is_first_pull(store: Store, offering_id: str) -> bool:
    """Whether no pull has saved evidence of the offering yet (no snapshot of it in the store): its
    first pull then reads everything, as a full pull. Counted in the database, nothing loaded."""
    return store.count_current([offering_id]) == 0


def stopped_status(exc: BaseException) -> str:
    """The status of a run stopped by ``exc``: ``interrupted`` for Ctrl-C (KeyboardInterrupt, or a call
    refused because Ctrl-C halted the client: :class:`RunHaltedError` caused by it, as each site's thread
    of a multi-site pull sees it), else ``failed``."""
    if isinstance(exc, RunHaltedError):
        exc = exc.cause
    return "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"


def participant_info(record: Any) -> ParticipantInfo:
    """What a pull takes from a participant record (a :class:`~moodle_sync.store.ParticipantRecord`)."""
    enrolled_at = record.updated_at if record.status == "enrolled" else None
    return ParticipantInfo(record.regency, record.school_level, enrolled_at, record.course_key)


@dataclass
class PullOutcome:
    run_id: int
    mode: str
    status: str
    enrolments: int
    reread: int
    calls: int
    seconds: float
    changed: int
    errors: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def pull_offerings(moodle: Moodle, store: Store, offering_ids: Sequence[str], *, full: bool = False,
                   report_id: int | None = None, stale_after: int = DAY, student_role_id: int = 5,
                   progress: Callable[[int], None] | None = None,
                   clock: Callable[[], float] = time.time, dry_run: bool = False,
                   grades: str = "always") -> PullOutcome:
    """Pull every course of the offerings into ``store`` (a :class:`~moodle_sync.store.Store`), as one run.

    The run is recorded with its mode, call count, enrolments read and errors; its status is ``ok``,
    ``partial`` (some enrolments or courses could not be read: their last state is kept), ``failed`` (an
    error or a crash stopped it; re-raised) or ``interrupted`` (KeyboardInterrupt; re-raised).
    ``student_role_id``: the role that makes an enrolled user a participant (the one enrolment gives).
    With ``dry_run`` Moodle is read as usual but nothing is written to the store (``changed`` is then
    the number of enrolments whose state differs from the stored one).

    ``grades``: ``always`` reads every course's grades each pull; ``on-activity`` (incremental pulls)
    reads a course's grades only when someone — a participant, or a facilitator: Moodle logs course access
    on grading pages — accessed the course since the start of the last ``ok`` pull, or it has participants not
    seen before; otherwise the last grades are kept. A grade changed with nobody in the course (an import,
    a web service, a regrade by cron) then waits for the next full pull.

    Courses are pulled in batches (see the module's docstring), each saved before the next is read.
    """
    if grades not in ("always", "on-activity"):
        raise ValueError(f"grades: {grades!r} is not always or on-activity")
    started, before = time.perf_counter(), moodle.client.stats.snapshot()
    puller = Puller(moodle, student_role_id=student_role_id, full=full or bool(report_id), stale_after=stale_after,
                    clock=clock, progress=progress)
    run = OfferingsPull(moodle, store, puller, full=full, grades=grades, dry_run=dry_run)
    mode = run.prepare(offering_ids, report_id)
    run_id = 0 if dry_run else store.start_run(list(offering_ids), mode).id
    status = "ok"
    try:
        run.run_id = run_id
        run.report_rows = read_report(moodle, report_id) if report_id else None
        for offering_id in offering_ids:
            run.pull_offering(offering_id)
        status = "partial" if run.errors else "ok"
    except BaseException as exc:
        status = stopped_status(exc)
        run.errors.append(f"{status}: {exc!r}" if not isinstance(exc, MoodleSyncError) else str(exc))
        raise
    finally:
        calls = moodle.client.stats.since(before).total_calls
        stats = puller.stats
        if not dry_run:
            store.finish_run(run_id, status, calls=calls, enrolments=stats.enrolments, reread=stats.reread,
                             errors=stats.errors)
    return PullOutcome(run_id, mode, status, stats.enrolments, stats.reread, calls,
                       round(time.perf_counter() - started, 3), run.changed, stats.errors)


class OfferingsPull:
    """One run over offerings, course batch by course batch: whole-course reads, the plan, the
    completion reads, the save. Its ``puller`` keeps the counts and errors."""

    def __init__(self, moodle: Moodle, store: Store, puller: Puller, *, full: bool, grades: str,
                 dry_run: bool) -> None:
        self.moodle, self.store, self.puller = moodle, store, puller
        self.full, self.grades, self.dry_run = full, grades, dry_run
        self.run_id = 0
        self.changed = 0
        self.report_rows: dict[tuple[str, str], dict[str, Any]] | None = None
        self.last_start: dict[str, int | None] = {}
        self.first: set[str] = set()
        self.batch = max(1, moodle.client.concurrency)

    @property
    def errors(self) -> list[str]:
        return self.puller.stats.errors

    def prepare(self, offering_ids: Sequence[str], report_id: int | None) -> str:
        """Read from the store where each offering's incremental pull starts; returns the run's mode."""
        self.last_start = {o: since_point(self.store, o) for o in offering_ids}
        self.first = {o for o in offering_ids if is_first_pull(self.store, o)}
        if report_id:
            return "report"
        return "full" if self.full or set(offering_ids) <= self.first else "incremental"

    def pull_offering(self, offering_id: str) -> None:
        """Pull one offering's courses, batch by batch (each batch saved before the next is read)."""
        record = self.store.get_offering(offering_id)
        if record is None:
            self.errors.append(f"{offering_id}: not in the store (apply it first)")
            return
        # An offering's first pull is a full one: nothing to carry forward, and the course contents
        # let the completion criteria stand for the activities (one call per course, not per enrolment).
        self.puller.full = self.full or self.report_rows is not None or offering_id in self.first
        people = {p.email: participant_info(p) for p in self.store.participants(offering_id)}
        mapped = {o.key: o.moodle_id for o in self.store.objects(offering_id, "course")}
        located = self.locate(offering_id, course_targets(offering_id, record.data), mapped)
        expected = Counter(p.course_key for p in people.values())
        for batch in course_batches(located, expected, self.batch):
            self.pull_batch(offering_id, batch, people, mapped)

    def locate(self, offering_id: str, targets: Sequence[CourseTarget],
               mapped: dict[str, int]) -> list[tuple[CourseTarget, int]]:
        """Each course's Moodle id (the one apply recorded, else by idnumber); those not found are noted."""
        ids = self.moodle.map_reads(lambda t: mapped.get(t.key) or self.puller.course_id(t), targets)
        found: list[tuple[CourseTarget, int]] = []
        for target, cid in zip(targets, ids):
            if isinstance(cid, int):
                found.append((target, cid))
            elif cid is None:
                self.errors.append(f"{offering_id}/{target.key}: course {target.idnumber} not found")
            else:
                self.errors.append(f"{offering_id}/{target.key}: {cid}")
        return found

    def pull_batch(self, offering_id: str, batch: Sequence[tuple[CourseTarget, int]],
                   people: dict[str, ParticipantInfo], mapped: dict[str, int]) -> None:
        """A few courses: their whole-course reads at once, then every completion read they need
        together (so the concurrency is used across courses), then each course saved."""
        marks = {cid: self.store.pull_marks(offering_id, cid) for _, cid in batch}
        prefetched = self.prefetch(offering_id, [cid for _, cid in batch], marks)
        planned: list[CoursePull] = []
        for target, cid in batch:
            course = self.plan(target, cid, people, marks[cid], prefetched[cid], mapped)
            if course is not None:
                planned.append(course)
        results = run_reads(self.moodle, planned, on_done=lambda: self.puller.progress(1))
        for course in planned:
            mine, results = results[:len(course.reread)], results[len(course.reread):]
            self.save(course, self.puller.finish_course(course, mine))

    def prefetch(self, offering_id: str, course_ids: Sequence[int],
                 marks: dict[int, dict[int, CompletionSnapshot]]) -> dict[int, list[Any]]:
        """Every course's whole-course reads at once (bounded by the concurrency); with
        ``grades="on-activity"``, grades only of the courses someone accessed since the last pull."""
        every = (self.grades == "always" or self.full or self.report_rows is not None
                 or self.last_start[offering_id] is None)
        reads = [self.puller.course_reads(cid, report=self.report_rows is not None, with_grades=every)
                 for cid in course_ids]
        flat = self.moodle.map_reads(lambda f: f(), [f for fs in reads for f in fs])
        out: dict[int, list[Any]] = {}
        for cid, fs in zip(course_ids, reads):
            out[cid], flat = flat[:len(fs)], flat[len(fs):]
        if not every:
            since = (self.last_start[offering_id] or 0) - CLOCK_MARGIN
            role = self.puller.student_role_id
            active = [cid for cid in course_ids if _grades_may_have_changed(out[cid][0], marks[cid], since, role)]
            for cid, res in zip(active, self.moodle.map_reads(lambda c: self.moodle.grades(c, 0), active)):
                out[cid][1] = res
        return out

    def plan(self, target: CourseTarget, cid: int, people: dict[str, ParticipantInfo],
             marks: dict[int, CompletionSnapshot], prefetched: list[Any],
             mapped: dict[str, int]) -> CoursePull | None:
        """The course's plan; None (the error noted) when its reads failed. A course made again since
        apply recorded it (its recorded id fails, its idnumber names another) is pulled by today's id."""
        try:
            try:
                return self.puller.plan_course(target, cid, people, marks, self.report_rows, prefetched)
            except MoodleSyncError:
                if mapped.get(target.key) != cid or (again := self.puller.course_id(target)) in (None, cid):
                    raise
                return self.puller.plan_course(target, again, people,
                                               self.store.pull_marks(target.offering_id, again), self.report_rows)
        except MoodleSyncError as exc:
            self.errors.append(f"{target.offering_id}/{target.key}: {exc}")
            return None

    def save(self, course: CoursePull, snaps: list[CompletionSnapshot]) -> None:
        """Save a course's snapshots (one transaction); in a dry run, count what would change."""
        if self.dry_run:
            self.changed += sum(1 for s in snaps if s.user_id not in course.marks
                                or course.marks[s.user_id].state() != s.state())
        else:
            self.changed += self.store.save_snapshots(self.run_id, snaps)


def course_batches(located: Sequence[tuple[CourseTarget, int]], expected: Mapping[str | None, int],
                   most: int) -> list[list[tuple[CourseTarget, int]]]:
    """Courses in order, in batches of at most ``most`` courses and about :data:`BATCH_ENROLMENTS`
    ``expected`` enrolments (by course key; a bigger course makes a batch of its own)."""
    out: list[list[tuple[CourseTarget, int]]] = []
    total = 0
    for item in located:
        size = expected.get(item[0].key, 0)
        if not out or len(out[-1]) >= most or (total + size > BATCH_ENROLMENTS and out[-1]):
            out.append([])
            total = 0
        out[-1].append(item)
        total += size
    return out


def course_targets(offering_id: str, data: dict[str, Any]) -> list[CourseTarget]:
    """The courses of an offering as provisioning saved it (its record's ``data``)."""
    return [CourseTarget(offering_id, c["key"], c["idnumber"], c.get("pretest"), c.get("posttest"),
                         c.get("start_date") or 0, c.get("regency") if c.get("adopted") else None)
            for c in data.get("courses", [])]
