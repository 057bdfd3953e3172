"""The pull: which enrolments an incremental pull re-reads (each rule of ``needs_reread``), the report
rows, and whole pulls against the sandbox with a controlled clock (staleness, failures keep what we knew)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from moodle_sync.enrolment import enrol_participants
from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.evidence.pull import DAY, needs_reread, parse_report_rows, pull_offerings, read_report
from moodle_sync.exceptions import MoodleSyncError
from moodle_sync.offerings import load_offering
from moodle_sync.provision.apply import apply_plan
from moodle_sync.provision.observe import observe
from moodle_sync.provision.plan import plan_offering
from moodle_sync.provision.spec import OfferingSpec, offering_summary
from moodle_sync.sandbox import SandboxServer
from moodle_sync.store import ParticipantRecord, Store
from moodle_sync.templates import load_template, render_offering
from moodle_sync.ws import connect
from moodle_sync.ws.moodle import EnrolledUser, Moodle
from moodle_sync.ws.transport import RetryPolicy

EXAMPLE = Path(__file__).parents[2] / "examples" / "offering-koding.yaml"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "samples"
ACTIVITIES = ["panduan", "pretest", "materi-1", "tugas-1", "materi-2", "tugas-2", "materi-3", "tugas-3",
              "posttest", "refleksi"]
NOW = 1_790_000_000
WIB = ZoneInfo("Asia/Jakarta")


# needs_reread, rule by rule --------------------------------------------------------------------------

def user(last_course_access: int | None = 1_789_000_000) -> EnrolledUser:
    return EnrolledUser(id=10, username="a@b.id", email="a@b.id", fullname="A B", idnumber="", roles=("student",),
                        role_ids=(5,), groups=(), first_access=None, last_access=last_course_access,
                        last_course_access=last_course_access)


def snapshot(**changes: Any) -> CompletionSnapshot:
    base = CompletionSnapshot(offering_id="o", course_id=3, course_key="metro", user_id=10, email="a@b.id",
                              fullname="A B", last_access=1_789_000_000, activities_total=10, activities_done=4,
                              course_grade=40.0, pretest_grade=6.0, grades_modified=1_788_000_000,
                              pulled_at=NOW - 3600)
    return replace(base, **changes)


GRADES = {"course_grade": 40.0, "course_grade_max": 100.0, "pretest_grade": 6.0, "pretest_max": 10.0,
          "posttest_grade": None, "posttest_max": 10.0, "grades_modified": 1_788_000_000}


def test_nothing_changed_recently_read_is_not_reread() -> None:
    assert needs_reread(snapshot(), user(), GRADES, NOW, DAY) is False


def test_a_new_enrolment_is_read() -> None:
    assert needs_reread(None, user(), GRADES, NOW, DAY) is True
    assert needs_reread(None, user(None), {}, NOW, DAY) is True


@pytest.mark.parametrize("access", [1_789_500_000, None])
def test_access_moved_is_reread(access: int | None) -> None:
    assert needs_reread(snapshot(), user(access), GRADES, NOW, DAY) is True


def test_never_accessed_stays_never_accessed() -> None:
    assert needs_reread(snapshot(last_access=None), user(None), GRADES, NOW, DAY) is False
    assert needs_reread(snapshot(last_access=None), user(0), GRADES, NOW, DAY) is False   # Moodle's 0: never


@pytest.mark.parametrize("field,value", [("course_grade", 55.0), ("pretest_grade", None), ("posttest_grade", 8.0),
                                         ("grades_modified", 1_789_100_000)])
def test_a_grade_changed_is_reread(field: str, value: Any) -> None:
    assert needs_reread(snapshot(), user(), {**GRADES, field: value}, NOW, DAY) is True


def test_a_grade_changed_is_reread_even_when_complete() -> None:
    done = snapshot(completed=True, time_completed=NOW - 10 * DAY, activities_done=10)
    assert needs_reread(done, user(), {**GRADES, "posttest_grade": 9.0}, NOW, DAY) is True


def test_completed_stays_completed_however_old() -> None:
    done = snapshot(completed=True, time_completed=NOW - 40 * DAY, activities_done=10, pulled_at=NOW - 30 * DAY)
    assert needs_reread(done, user(), GRADES, NOW, DAY) is False


def test_all_activities_done_but_not_complete_is_reread() -> None:
    waiting = snapshot(activities_done=10, pulled_at=NOW - 60)
    assert needs_reread(waiting, user(), GRADES, NOW, DAY) is True
    assert needs_reread(snapshot(activities_done=9, pulled_at=NOW - 60), user(), GRADES, NOW, DAY) is False


def test_no_tracked_activities_is_not_all_done() -> None:
    assert needs_reread(snapshot(activities_total=0, activities_done=0), user(), GRADES, NOW, DAY) is False


@pytest.mark.parametrize("age,expected", [(DAY - 1, False), (DAY, True), (3 * DAY, True)])
def test_incomplete_is_reread_after_stale_after(age: int, expected: bool) -> None:
    assert needs_reread(snapshot(pulled_at=NOW - age), user(), GRADES, NOW, DAY) is expected


def test_stale_after_is_the_callers_choice() -> None:
    old = snapshot(pulled_at=NOW - 2 * 3600)
    assert needs_reread(old, user(), GRADES, NOW, 3600) is True
    assert needs_reread(old, user(), GRADES, NOW, 3 * 3600) is False


# report rows --------------------------------------------------------------------------------------------

HEADERS = ["Full name", "Email address", "Course ID number", "Completed", "Student progress", "Time completed",
           "Last access to course"]


def test_report_rows_become_snapshot_fields() -> None:
    rows = [["Sari Dewi", " Sari.Dewi@Guru.Belajar.id ", "o-metro", "Yes", "100%", "Monday, 3 August 2026, 9:05 AM",
             "Monday, 3 August 2026, 9:00 AM"],
            ["Budi", "budi@x.id", "o-metro", "No", "40%", "", "Never"],
            ["Eko", "eko@x.id", "o-metro", "No", "", "", "Never"]]
    out = parse_report_rows(HEADERS, rows, WIB)
    assert set(out) == {("sari.dewi@guru.belajar.id", "o-metro"), ("budi@x.id", "o-metro"), ("eko@x.id", "o-metro")}
    sari = out[("sari.dewi@guru.belajar.id", "o-metro")]
    assert sari["completed"] is True and sari["activities_done"] == sari["activities_total"] == 100
    assert sari["time_completed"] == int(datetime(2026, 8, 3, 9, 5, tzinfo=WIB).timestamp())
    assert out[("budi@x.id", "o-metro")] == {"completed": False, "time_completed": None, "activities_total": 100,
                                             "activities_done": 40}
    assert out[("eko@x.id", "o-metro")]["activities_total"] == 0


def test_report_rows_in_indonesian() -> None:
    rows = [["Sari", "sari@x.id", "o-metro", "Ya", "100,0%", "Senin, 3 Agustus 2026, 09.05", "Tidak pernah"],
            ["Budi", "budi@x.id", "o-metro", "Tidak", "37,5%", "", "Selasa, 4 Agustus 2026, 21:40"],
            ["Eko", "eko@x.id", "o-metro", "", "12,5%", "", ""]]
    out = parse_report_rows(HEADERS, rows, WIB)
    assert out[("sari@x.id", "o-metro")] == {"completed": True, "activities_total": 100, "activities_done": 100,
                                             "time_completed": int(datetime(2026, 8, 3, 9, 5, tzinfo=WIB).timestamp())}
    assert out[("budi@x.id", "o-metro")] == {"completed": False, "time_completed": None, "activities_total": 100,
                                             "activities_done": 38}
    assert out[("eko@x.id", "o-metro")]["activities_done"] == 13                 # half up, not to even


def test_the_real_report_shape_is_read() -> None:
    sample = json.loads((FIXTURES / "core_reportbuilder_retrieve_report-participants-completion.json").read_text())
    data = sample["data"]
    out = parse_report_rows(data["headers"], [r["columns"] for r in data["rows"]], WIB)
    assert len(out) == len(data["rows"])
    done = [v for v in out.values() if v["completed"]]
    assert done and all(v["activities_done"] == 100 for v in done)
    assert all(v["time_completed"] == int(datetime(2026, 11, 27, 22, 35, tzinfo=WIB).timestamp()) for v in done)
    assert all(v == {"completed": False, "time_completed": None, "activities_total": 100, "activities_done": 0}
               for v in out.values() if not v["completed"])


@pytest.mark.parametrize("column,value", [("Completed", "Oui"), ("Student progress", "37.5 pct"),
                                          ("Time completed", "Montag, 3 August 2026, 09:05"),
                                          ("Time completed", "Monday, 3 Agustus 2026, 13:05 PM"),
                                          ("Time completed", "Senin, 31 Juni 2026, 09.05")])
def test_a_value_that_cannot_be_read_fails_naming_column_and_value(column: str, value: str) -> None:
    row = ["Sari", "sari@x.id", "o-metro", "Ya", "100,0%", "Senin, 3 Agustus 2026, 09.05", "Tidak pernah"]
    row[HEADERS.index(column)] = value
    with pytest.raises(MoodleSyncError, match=re.escape(f"row 1 (sari@x.id, o-metro), column {column!r}: "
                                                         f"{value!r}")):
        parse_report_rows(HEADERS, [row], WIB)


def test_a_report_without_a_needed_column_is_refused_by_name() -> None:
    headers = [h for h in HEADERS if h != "Student progress"]
    with pytest.raises(MoodleSyncError, match="'Student progress'"):
        parse_report_rows(headers, [], WIB)


# whole pulls against the sandbox -------------------------------------------------------------------------

@pytest.fixture
def moodle(sandbox: SandboxServer) -> Iterator[Moodle]:
    m = connect(sandbox.url, sandbox.token, max_input_vars=5000)
    m.client.retry = RetryPolicy(attempts=2, backoff=0.0)
    yield m
    m.client.close()


@pytest.fixture
def offering() -> OfferingSpec:
    o = load_offering(EXAMPLE)
    spec = render_offering(o, load_template(o.template))
    return replace(spec, courses=tuple(c for c in spec.courses if c.key in ("metro", "pesawaran")))


class Clock:
    """The store's clock: real time until a test sets ``now``."""

    def __init__(self) -> None:
        self.now: int | None = None

    def __call__(self) -> float:
        return time.time() if self.now is None else self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with Store.open(str(tmp_path / "store.sqlite"), clock=clock) as s:
        yield s


@pytest.fixture
def enrolled(moodle: Moodle, offering: OfferingSpec, store: Store) -> dict[str, list[int]]:
    """Two courses, three participants each; returns course key -> [course id, user ids...]."""
    assert apply_plan(moodle, offering, plan_offering(offering, observe(moodle, offering))).ok
    people = [ParticipantRecord(email=f"guru{n}.{key}@belajar.id", firstname=f"Guru{n}", lastname=key.title(),
                                regency=key, school_level="SD", course_key=key,
                                class_name=offering.course(key).groups[0].name)
              for key in ("metro", "pesawaran") for n in range(3)]
    store.save_offering(offering.offering_id, offering.template, offering.title, offering_summary(offering))
    store.save_participants(offering.offering_id, people)
    result = enrol_participants(moodle, offering, people)
    assert result.failed == [] and result.enrolled == 6
    out = {}
    for key in ("metro", "pesawaran"):
        cid = moodle.courses_by_field("idnumber", offering.course(key).idnumber)[0].id
        out[key] = [cid, *sorted(result.user_ids[p.email] for p in people if p.course_key == key)]
    return out


def finish(sandbox: Any, courseid: int, userid: int, when: int) -> None:
    sandbox.control.record_access(courseid, userid, time=when)
    for idnumber in ACTIVITIES:
        sandbox.control.complete_activity(courseid, userid, idnumber, time=when)


def test_incremental_pulls_with_a_clock(sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec, store: Store,
                                        enrolled: dict[str, list[int]]) -> None:
    oid = offering.offering_id
    t0 = NOW

    def pull_at(t: int, **kw: Any) -> Any:
        return pull_offerings(moodle, store, [oid], clock=lambda: t, stale_after=DAY, **kw)

    first = pull_at(t0)
    assert (first.status, first.enrolments, first.reread, first.changed) == ("ok", 6, 6, 6)
    assert {s.regency for s in store.current(oid)} == {"metro", "pesawaran"}

    metro, m1 = enrolled["metro"][0], enrolled["metro"][1]
    finish(sandbox, metro, m1, t0 + 60)
    sandbox.control.run_cron(time=t0 + 120)
    second = pull_at(t0 + 600)
    assert (second.reread, second.changed) == (1, 1)
    done = {s.user_id: s for s in store.current(oid)}[m1]
    assert done.completed and done.activities_done == len(ACTIVITIES) and done.pulled_at == t0 + 600

    assert pull_at(t0 + 1200).reread == 0
    stale = pull_at(t0 + DAY + 1)                     # a day on: every incomplete enrolment, not the complete one
    assert stale.reread == 5
    marks = {s.user_id: s for s in store.current(oid)}
    assert marks[m1].pulled_at == t0 + 600 and all(s.pulled_at == t0 + DAY + 1 for u, s in marks.items() if u != m1)
    assert pull_at(t0 + DAY + 2).reread == 0
    assert pull_at(t0 + DAY + 3, full=True).reread == 6


def test_a_read_that_fails_keeps_what_we_knew(sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec,
                                              store: Store, enrolled: dict[str, list[int]]) -> None:
    oid = offering.offering_id
    assert pull_offerings(moodle, store, [oid], clock=lambda: NOW).status == "ok"
    before = {s.user_id: s for s in store.current(oid)}
    sandbox.control.inject_fault("core_completion_get_course_completion_status", "http500", times=1000)
    outcome = pull_offerings(moodle, store, [oid], full=True, clock=lambda: NOW + 60)
    assert outcome.status == "partial" and len(outcome.errors) == 6 and outcome.reread == 6
    after = {s.user_id: s for s in store.current(oid)}
    assert {u: s.pulled_at for u, s in after.items()} == {u: s.pulled_at for u, s in before.items()}
    assert all(s.activities_total == len(ACTIVITIES) for s in after.values())
    run = store.runs()[0]
    assert run.status == "partial" and len(run.errors) == 6


def test_a_missing_course_is_an_error_of_that_course_only(sandbox: SandboxServer, moodle: Moodle,
                                                          offering: OfferingSpec, store: Store,
                                                          enrolled: dict[str, list[int]]) -> None:
    moodle.delete_courses([enrolled["pesawaran"][0]])
    outcome = pull_offerings(moodle, store, [offering.offering_id], clock=lambda: NOW)
    assert outcome.status == "partial" and outcome.enrolments == 3
    idnumber = offering.course("pesawaran").idnumber
    assert outcome.errors == [f"{offering.offering_id}/pesawaran: course {idnumber} not found"]
    assert {s.course_key for s in store.current(offering.offering_id)} == {"metro"}


def test_the_report_is_read_page_by_page(sandbox: SandboxServer, moodle: Moodle,
                                         enrolled: dict[str, list[int]]) -> None:
    finish(sandbox, enrolled["metro"][0], enrolled["metro"][2], NOW)
    sandbox.control.run_cron(time=NOW + 60)
    report_id = sandbox.control.create_participants_report()
    whole = read_report(moodle, report_id)
    paged = read_report(moodle, report_id, perpage=2)
    assert paged == whole and len(whole) >= 6
    assert sum(v["completed"] for v in whole.values()) == 1


def test_a_failed_reread_is_retried_by_the_next_pull(sandbox: SandboxServer, moodle: Moodle,
                                                     offering: OfferingSpec, store: Store,
                                                     enrolled: dict[str, list[int]]) -> None:
    oid = offering.offering_id
    assert pull_offerings(moodle, store, [oid], clock=lambda: NOW).reread == 6
    metro, m1 = enrolled["metro"][0], enrolled["metro"][1]
    finish(sandbox, metro, m1, NOW + 30)
    sandbox.control.inject_fault("core_completion_get_course_completion_status", "http500", times=1000)
    failed = pull_offerings(moodle, store, [oid], clock=lambda: NOW + 60)
    assert failed.status == "partial" and failed.reread == 1
    sandbox.control.clear_faults()
    assert pull_offerings(moodle, store, [oid], clock=lambda: NOW + 120).reread == 1
    assert {s.user_id: s for s in store.current(oid)}[m1].activities_done == len(ACTIVITIES)


def test_a_new_enrolment_whose_first_read_failed_is_read_next_time(sandbox: SandboxServer, moodle: Moodle,
                                                                   offering: OfferingSpec, store: Store,
                                                                   enrolled: dict[str, list[int]]) -> None:
    oid = offering.offering_id   # (a first pull is full: the criteria stand for the activities; see below)
    sandbox.control.inject_fault("core_completion_get_course_completion_status", "http500", times=1000)
    assert pull_offerings(moodle, store, [oid], clock=lambda: NOW).status == "partial"
    sandbox.control.clear_faults()
    assert pull_offerings(moodle, store, [oid], clock=lambda: NOW + 60).reread == 6


def _grade_reads(sandbox: SandboxServer) -> int:
    return sandbox.control.call_counts().get("gradereport_user_get_grade_items", 0)


def test_on_activity_reads_grades_only_of_courses_someone_visited(sandbox: SandboxServer, moodle: Moodle,
                                                                  offering: OfferingSpec, store: Store,
                                                                  enrolled: dict[str, list[int]]) -> None:
    oid = offering.offering_id
    metro, m1 = enrolled["metro"][0], enrolled["metro"][1]
    sandbox.control.set_grade(metro, m1, "pretest", 6.0)
    assert pull_offerings(moodle, store, [oid], grades="on-activity").reread == 6   # first pull: all grades
    assert {s.user_id: s for s in store.current(oid)}[m1].pretest_grade == 6.0

    before = _grade_reads(sandbox)
    quiet = pull_offerings(moodle, store, [oid], grades="on-activity")
    assert (_grade_reads(sandbox) - before, quiet.reread, quiet.changed) == (0, 0, 0)
    assert {s.user_id: s for s in store.current(oid)}[m1].pretest_grade == 6.0       # kept, not lost

    teacher = next(u.id for u in moodle.enrolled_users(metro) if "editingteacher" in u.roles)
    sandbox.control.record_access(metro, teacher)                  # grading pages log the teacher's access
    sandbox.control.set_grade(metro, m1, "pretest", 9.0)
    before = _grade_reads(sandbox)
    graded = pull_offerings(moodle, store, [oid], grades="on-activity")
    assert (_grade_reads(sandbox) - before, graded.reread) == (1, 1)                 # metro only, that one
    assert {s.user_id: s for s in store.current(oid)}[m1].pretest_grade == 9.0


def test_on_activity_misses_a_grade_set_with_nobody_in_the_course_until_a_full_pull(
        sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec, store: Store,
        enrolled: dict[str, list[int]]) -> None:
    oid = offering.offering_id
    metro, m1 = enrolled["metro"][0], enrolled["metro"][1]
    pull_offerings(moodle, store, [oid], grades="on-activity")
    sandbox.control.set_grade(metro, m1, "posttest", 8.0)           # e.g. an import: no course access
    assert pull_offerings(moodle, store, [oid], grades="on-activity").reread == 0
    assert pull_offerings(moodle, store, [oid], grades="always").reread == 1        # the default sees it
    assert {s.user_id: s for s in store.current(oid)}[m1].posttest_grade == 8.0


# a run that did not finish ----------------------------------------------------------------------------

class StopAt:
    """A transport that raises ``exc`` when ``function`` is called (the pull stopped half-way there)."""

    def __init__(self, inner: Any, function: str, exc: BaseException) -> None:
        self.inner, self.function, self.exc = inner, function, exc

    def send(self, function: str, params: Any, **kw: Any) -> Any:
        if function == self.function:
            raise self.exc
        return self.inner.send(function, params, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("exc,status", [(KeyboardInterrupt(), "interrupted"), (RuntimeError("boom"), "failed")])
def test_a_run_stopped_half_way_is_not_ok_and_the_next_incremental_sees_what_it_missed(
        sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec, store: Store, clock: Clock,
        enrolled: dict[str, list[int]], exc: BaseException, status: str) -> None:
    oid = offering.offering_id
    metro, m1 = enrolled["metro"][0], enrolled["metro"][1]
    clock.now = NOW
    assert pull_offerings(moodle, store, [oid], grades="on-activity", clock=lambda: NOW).status == "ok"
    teacher = next(u.id for u in moodle.enrolled_users(metro) if "editingteacher" in u.roles)
    sandbox.control.record_access(metro, teacher, time=NOW + 100)    # grading, long before the next run
    sandbox.control.set_grade(metro, m1, "pretest", 9.0)

    clock.now = NOW + 10_000
    stopping = connect(sandbox.url, sandbox.token, max_input_vars=5000)
    stopping.client.transport = StopAt(stopping.client.transport, "core_completion_get_course_completion_status", exc)
    with pytest.raises(type(exc)):
        pull_offerings(stopping, store, [oid], grades="on-activity", clock=lambda: NOW + 10_000)
    stopping.client.close()
    run = store.runs(limit=1)[0]
    assert (run.status, run.finished_at) == (status, NOW + 10_000) and run.errors
    assert store.last_run(oid).started_at == NOW                       # type: ignore[union-attr]
    assert {s.user_id: s for s in store.current(oid)}[m1].pretest_grade is None   # nothing half-saved

    clock.now = NOW + 20_000
    after = pull_offerings(moodle, store, [oid], grades="on-activity", clock=lambda: NOW + 20_000)
    assert (after.status, after.reread) == ("ok", 1)
    assert {s.user_id: s for s in store.current(oid)}[m1].pretest_grade == 9.0


# participants: the configured role, withdrawals, enrolment times -------------------------------------------

def test_participants_are_read_by_the_configured_role_id(sandbox: SandboxServer, moodle: Moodle,
                                                         offering: OfferingSpec, store: Store,
                                                         enrolled: dict[str, list[int]]) -> None:
    metro = enrolled["metro"][0]
    teachers = {u.id for u in moodle.enrolled_users(metro) if 3 in u.role_ids}
    assert teachers
    pull_offerings(moodle, store, [offering.offering_id], student_role_id=3, clock=lambda: NOW)
    assert {s.user_id for s in store.current(offering.offering_id, metro)} == teachers


def test_suspended_and_unenrolled_participants_are_marked(sandbox: SandboxServer, moodle: Moodle,
                                                         offering: OfferingSpec, store: Store,
                                                         enrolled: dict[str, list[int]]) -> None:
    oid = offering.offering_id
    metro, m1, m2, m3 = enrolled["metro"]
    pull_offerings(moodle, store, [oid], clock=lambda: NOW)
    assert moodle.enrol([{"roleid": 5, "userid": m1, "courseid": metro, "suspend": 1}]).failed == []
    assert moodle.unenrol([{"userid": m2, "courseid": metro}]).failed == []
    outcome = pull_offerings(moodle, store, [oid], clock=lambda: NOW + 600)
    assert outcome.status == "ok"
    now = {s.user_id: s for s in store.current(oid, metro)}
    assert {u: s.enrol_status for u, s in now.items()} == {m1: "suspended", m2: "unenrolled", m3: "active"}
    assert now[m2].pulled_at == NOW + 600
    again = pull_offerings(moodle, store, [oid], clock=lambda: NOW + 1200)
    assert again.changed == 0 and {s.user_id: s for s in store.current(oid, metro)}[m2].pulled_at == NOW + 600
    assert moodle.enrol([{"roleid": 5, "userid": m1, "courseid": metro, "suspend": 0}]).failed == []
    pull_offerings(moodle, store, [oid], clock=lambda: NOW + 1800)
    assert {s.user_id: s for s in store.current(oid, metro)}[m1].enrol_status == "active"


def test_time_enrolled_is_when_we_enrolled_them_else_when_a_pull_first_saw_them(
        sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec, store: Store, clock: Clock,
        enrolled: dict[str, list[int]]) -> None:
    oid = offering.offering_id
    clock.now = NOW - 5 * DAY
    store.update_participant(oid, "guru0.metro@belajar.id", status="enrolled")
    pull_offerings(moodle, store, [oid], clock=lambda: NOW)
    times = {s.email: s.time_enrolled for s in store.current(oid)}
    assert times.pop("guru0.metro@belajar.id") == NOW - 5 * DAY
    assert set(times.values()) == {NOW}                              # first seen by this pull
    clock.now = NOW + DAY
    store.update_participant(oid, "guru1.metro@belajar.id", status="enrolled")   # recorded after: not earlier
    pull_offerings(moodle, store, [oid], full=True, clock=lambda: NOW + 2 * DAY)
    times = {s.email: s.time_enrolled for s in store.current(oid)}
    assert times["guru0.metro@belajar.id"] == NOW - 5 * DAY and times["guru1.metro@belajar.id"] == NOW


def test_the_first_pull_of_an_offering_is_a_full_pull(sandbox: SandboxServer, moodle: Moodle,
                                                      offering: OfferingSpec, store: Store,
                                                      enrolled: dict[str, list[int]]) -> None:
    oid = offering.offering_id
    first = pull_offerings(moodle, store, [oid], clock=lambda: NOW)
    assert (first.mode, first.status, first.reread) == ("full", "ok", 6)
    assert store.runs()[0].mode == "full"
    full = pull_offerings(moodle, store, [oid], full=True, clock=lambda: NOW + 60)
    assert first.calls == full.calls           # the course contents stand for per-enrolment activity reads
    later = pull_offerings(moodle, store, [oid], clock=lambda: NOW + 120)
    assert (later.mode, later.reread) == ("incremental", 0)


def test_a_first_pull_run_as_incremental_would_cost_a_call_per_enrolment_more(
        sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec, store: Store,
        enrolled: dict[str, list[int]], monkeypatch: pytest.MonkeyPatch) -> None:
    import moodle_sync.evidence.pull as pull_module

    monkeypatch.setattr(pull_module, "is_first_pull", lambda store, offering_id: False)
    old = pull_offerings(moodle, store, [offering.offering_id], clock=lambda: NOW, dry_run=True)
    monkeypatch.undo()
    new = pull_offerings(moodle, store, [offering.offering_id], clock=lambda: NOW, dry_run=True)
    assert old.mode == "incremental" and new.mode == "full"
    assert new.calls == old.calls - 6 + 2     # no activities read per enrolment; one contents read per course


def test_a_course_without_idnumber_is_never_looked_up_by_an_empty_one(moodle: Moodle) -> None:
    from moodle_sync.evidence.pull import CourseTarget, Puller

    calls = moodle.client.stats.snapshot()
    assert Puller(moodle).course_id(CourseTarget("o", "old2", "")) is None
    assert moodle.client.stats.since(calls).total_calls == 0


def test_courses_are_pulled_and_saved_batch_by_batch(sandbox: SandboxServer, offering: OfferingSpec, store: Store,
                                                     enrolled: dict[str, list[int]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """With one read at a time a batch is one course: the first course is saved before the second's
    completion is read, so a pull holds one batch of enrolments in memory, never the offering's."""
    import moodle_sync.evidence.pull as pull_module

    events: list[str] = []
    reads, save = pull_module.run_reads, store.save_snapshots

    def counting_reads(moodle: Moodle, courses: Any, **kw: Any) -> Any:
        events.append(f"read {[c.target.key for c in courses]}")
        return reads(moodle, courses, **kw)

    def counting_save(run_id: int, snaps: Any) -> int:
        events.append(f"save {sorted({s.course_key for s in snaps})}")
        return save(run_id, snaps)

    monkeypatch.setattr(pull_module, "run_reads", counting_reads)
    monkeypatch.setattr(store, "save_snapshots", counting_save)
    one_at_a_time = connect(sandbox.url, sandbox.token, max_input_vars=5000, concurrency=1)
    try:
        outcome = pull_offerings(one_at_a_time, store, [offering.offering_id], clock=lambda: NOW)
    finally:
        one_at_a_time.client.close()
    assert (outcome.status, outcome.enrolments, outcome.reread) == ("ok", 6, 6)
    first, second = sorted(("metro", "pesawaran"), key=lambda key: events.index(f"read ['{key}']"))
    assert events == [f"read ['{first}']", f"save ['{first}']", f"read ['{second}']", f"save ['{second}']"]


def test_a_later_pull_knows_it_is_not_the_first_from_one_course(moodle: Moodle, offering: OfferingSpec,
                                                                store: Store, enrolled: dict[str, list[int]],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a pull is an offering's first is counted in the store, not told by reading every snapshot
    of the offering."""
    oid = offering.offering_id
    for key in ("metro", "pesawaran"):
        store.map_object(oid, "course", key, enrolled[key][0])
    assert pull_offerings(moodle, store, [oid], clock=lambda: NOW).mode == "full"
    asked: list[int | None] = []
    current = store.current

    def recording(offering_id: str, course_id: int | None = None) -> list[CompletionSnapshot]:
        asked.append(course_id)
        return current(offering_id, course_id)

    monkeypatch.setattr(store, "current", recording)
    assert pull_offerings(moodle, store, [oid], clock=lambda: NOW + 60).mode == "incremental"
    assert None not in asked


def test_course_batches_hold_about_a_budget_of_enrolments() -> None:
    from moodle_sync.evidence.pull import BATCH_ENROLMENTS, CourseTarget, course_batches

    courses = [(CourseTarget("o", key, key), i) for i, key in enumerate("abcde", start=1)]
    small, big = BATCH_ENROLMENTS // 4, BATCH_ENROLMENTS + 1
    keys = [[t.key for t, _ in batch] for batch in course_batches(courses, {"a": small, "b": small, "c": big,
                                                                           "d": small}, most=8)]
    assert keys == [["a", "b"], ["c"], ["d", "e"]]                   # a bigger course alone; unknown ones count 0
    assert [len(b) for b in course_batches(courses, {}, most=2)] == [2, 2, 1]   # never more than ``most``
    assert course_batches([], {}, most=8) == []
