"""Aggregation figures on the hand-made offering of conftest.py (worked out by hand there)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.reports import breakdown, build_report, enrich, follow_up, group_stats, progress_over_time
from moodle_sync.reports.aggregate import day_of
from moodle_sync.store import ParticipantRecord
from tests.reports.conftest import COURSE_STARTS, DAY, LS, METRO, NOW, T0, snap


def _report(snapshots: list[CompletionSnapshot], participants: list[ParticipantRecord], **kw: object):  # type: ignore[no-untyped-def]
    return build_report("o", snapshots, participants, now=NOW, course_starts=COURSE_STARTS, **kw)  # type: ignore[arg-type]


def test_overall_figures(snapshots: list[CompletionSnapshot], participants: list[ParticipantRecord]) -> None:
    total = _report(snapshots, participants).total
    assert (total.enrolled, total.started, total.completed) == (6, 5, 3)
    assert total.completion_pct == 50.0
    assert (total.median_days, total.days_n) == (7.0, 3)                 # 10, 4 and 7 days
    assert total.grade_mean_pct == pytest.approx((80 + 90 + 60) / 3) and total.grade_n == 3
    assert total.pre_mean_pct == pytest.approx((40 + 50 + 20) / 3)
    assert total.post_mean_pct == pytest.approx(80.0)
    assert total.gain_pct == pytest.approx(80.0 - 110 / 3) and total.prepost_n == 3


def test_per_course_and_per_regency(snapshots: list[CompletionSnapshot], participants: list[ParticipantRecord]) -> None:
    report = _report(snapshots, participants)
    ls, metro = report.breakdowns["course"]
    assert (ls.group, ls.enrolled, ls.started, ls.completed, ls.completion_pct) == ("ls", 4, 3, 2, 50.0)
    assert (ls.median_days, ls.grade_mean_pct, ls.pre_mean_pct, ls.post_mean_pct, ls.gain_pct, ls.prepost_n) == (
        7.0, 85.0, 45.0, 80.0, 35.0, 2)
    assert (metro.group, metro.enrolled, metro.completed, metro.median_days, metro.gain_pct) == (
        "metro", 2, 1, 7.0, 60.0)
    regencies = report.breakdowns["regency"]
    assert [r.group for r in regencies] == [LS, METRO]            # BPS order; b's slug became the name
    assert [r.enrolled for r in regencies] == [4, 2]


def test_per_school_level_with_an_unknown_group(snapshots: list[CompletionSnapshot],
                                                participants: list[ParticipantRecord]) -> None:
    levels = {g.group: g for g in _report(snapshots, participants).breakdowns["school_level"]}
    assert list(levels) == ["SD", "SMP", "SMA", None]
    sd, smp, sma, unknown = levels.values()
    assert (sd.enrolled, sd.started, sd.completed, sd.median_days, sd.grade_mean_pct, sd.gain_pct) == (
        2, 2, 1, 10.0, 80.0, 50.0)
    assert (smp.enrolled, smp.median_days, smp.grade_mean_pct, smp.pre_mean_pct, smp.post_mean_pct) == (
        1, 4.0, 90.0, 50.0, 70.0)
    assert (sma.enrolled, sma.started, sma.completed, sma.completion_pct) == (2, 2, 1, 50.0)   # g from the record
    assert (unknown.enrolled, unknown.started, unknown.completion_pct, unknown.median_days, unknown.grade_mean_pct,
            unknown.pre_mean_pct, unknown.gain_pct, unknown.prepost_n) == (1, 0, 0.0, None, None, None, None, 0)


def test_per_class_names_the_course_when_there_are_several(snapshots: list[CompletionSnapshot],
                                                           participants: list[ParticipantRecord]) -> None:
    classes = _report(snapshots, participants).breakdowns["class"]
    assert [(c.group, c.enrolled, c.started, c.completed) for c in classes] == [
        ("ls / Kelas A", 2, 2, 2), ("ls / Kelas B", 2, 1, 0), ("metro / Kelas A", 2, 2, 1)]
    kelas_b = classes[1]
    assert (kelas_b.completion_pct, kelas_b.median_days, kelas_b.pre_mean_pct, kelas_b.prepost_n) == (0.0, None, None, 0)
    one_course = breakdown(enrich([s for s in snapshots if s.course_key == "ls"], participants), "class")
    assert [c.group for c in one_course] == ["Kelas A", "Kelas B"]


def test_days_to_complete_needs_a_start(snapshots: list[CompletionSnapshot]) -> None:
    without_starts = group_stats(None, enrich(snapshots, []))
    assert (without_starts.median_days, without_starts.days_n) == (10.0, 1)   # only a knows her enrolment time
    early = [snap(1, "a", completed=True, time_enrolled=T0 + 5 * DAY, time_completed=T0 + 4 * DAY)]
    # an enrolment time after the completion is not one (never a negative or a made-up 0 days): not counted
    assert (group_stats(None, early).median_days, group_stats(None, early).days_n) == (None, 0)


def test_even_number_of_completions_takes_the_middle_mean() -> None:
    rows = [snap(i, f"p{i}", completed=True, time_enrolled=T0, time_completed=T0 + d * DAY)
            for i, d in enumerate((1, 2, 6, 30))]
    assert group_stats(None, rows).median_days == 4.0


def test_grade_without_maximum_is_left_out() -> None:
    rows = [snap(1, "a", course_grade=7.0, course_grade_max=None), snap(2, "b", course_grade=5.0, course_grade_max=0.0),
            snap(3, "c", course_grade=3.0, course_grade_max=4.0)]
    stats = group_stats(None, rows)
    assert (stats.grade_mean_pct, stats.grade_n) == (75.0, 1)


def test_empty_input_gives_empty_tables() -> None:
    assert breakdown([], "regency") == []
    empty = group_stats(None, [])
    assert (empty.enrolled, empty.completion_pct, empty.median_days, empty.grade_mean_pct, empty.gain_pct) == (
        0, None, None, None, None)
    report = build_report("o", [], [], [], now=NOW)
    assert report.total.enrolled == 0 and report.follow_up == [] and report.progress == []
    assert all(rows == [] for rows in report.breakdowns.values())
    with pytest.raises(ValueError, match="dimension"):
        breakdown([snap(1, "a")], "school")


def test_follow_up_list(snapshots: list[CompletionSnapshot], participants: list[ParticipantRecord]) -> None:
    rows = enrich(snapshots, participants)
    entries = follow_up(rows, participants, now=NOW, stalled_days=14)
    assert [(e.fullname, e.class_name, e.reason, e.days_since_access, e.progress_pct, e.phone) for e in entries] == [
        ("D", "Kelas B", "not_started", None, 0.0, None),
        ("C", "Kelas B", "stalled", 20, 40.0, "+62811"),
    ]
    assert [e.fullname for e in follow_up(rows, participants, now=NOW, stalled_days=21)] == ["D"]
    assert [e.fullname for e in follow_up(rows, participants, now=NOW, stalled_days=2)] == ["D", "C", "G"]


def test_started_through_activity_without_access_is_stalled() -> None:
    [entry] = follow_up([snap(1, "a", activities_done=1)], [], now=NOW)
    assert (entry.reason, entry.last_access, entry.days_since_access) == ("stalled", None, None)


def test_progress_over_time_by_wib_day() -> None:
    hour = 3600
    a0, b0, c0 = snap(1, "a", pulled_at=T0 + hour), snap(2, "b", last_access=T0, pulled_at=T0 + hour), \
        snap(3, "c", pulled_at=T0 + 2 * DAY + hour)
    history = [
        a0, b0,
        replace(a0, last_access=T0 + 4 * hour, pulled_at=T0 + 5 * hour),               # same WIB day
        replace(b0, completed=True, time_completed=T0 + DAY, pulled_at=T0 + 2 * DAY + hour),
        c0,
        snap(5, "e", role="editingteacher", pulled_at=T0 + 2 * DAY + hour),
    ]
    points = progress_over_time(reversed(history))          # order of the input does not matter
    assert [(p.date, p.enrolled, p.started, p.completed) for p in points] == [
        ("2026-01-01", 2, 2, 0), ("2026-01-03", 3, 2, 1)]
    assert day_of(T0 + 17 * hour - 1) == "2026-01-01" and day_of(T0 + 17 * hour) == "2026-01-02"


def test_report_document(snapshots: list[CompletionSnapshot], participants: list[ParticipantRecord]) -> None:
    report = _report(snapshots, participants, title="Koding", stalled_days=10)
    doc = report.to_dict()
    assert doc["title"] == "Koding" and doc["stalled_days"] == 10 and doc["last_pulled_at"] == NOW - 3600
    assert doc["total"]["enrolled"] == 6 and [g["group"] for g in doc["breakdowns"]["course"]] == ["ls", "metro"]


def _with_withdrawals(snapshots: list[CompletionSnapshot],
                      participants: list[ParticipantRecord]) -> tuple[list[CompletionSnapshot], list[ParticipantRecord]]:
    """The hand-made offering plus four who left: h suspended before starting, i unenrolled after starting
    (stalled), j withdrawn by us (Moodle not told yet), k suspended after completing (still a completer)."""
    gone = [
        snap(8, "h", class_name="Kelas A", school_level="SD", enrol_status="suspended"),
        snap(9, "i", class_name="Kelas B", school_level="SD", enrol_status="unenrolled", last_access=NOW - 30 * DAY,
             activities_done=1, pretest_grade=1.0, pretest_max=10.0, posttest_grade=1.0, posttest_max=10.0),
        snap(10, "j", "metro", class_name="Kelas A", school_level="SMA"),
        snap(11, "k", "metro", class_name="Kelas A", school_level="SMA", enrol_status="suspended", completed=True,
             time_completed=T0 + 4 * DAY, last_access=T0 + 4 * DAY, activities_total=4, activities_done=4),
    ]
    people = [*participants, ParticipantRecord(email="j@x.id", fullname="J", status="withdrawn", moodle_user_id=10)]
    return [*snapshots, *gone], people


def test_withdrawn_participants_are_counted_apart_at_every_level(
        snapshots: list[CompletionSnapshot], participants: list[ParticipantRecord]) -> None:
    report = _report(*_with_withdrawals(snapshots, participants))
    total = report.total
    assert (total.enrolled, total.withdrawn, total.started, total.completed) == (7, 3, 6, 4)
    assert total.completion_pct == pytest.approx(400 / 7)
    assert (total.median_days, total.days_n) == (5.5, 4)                # 10, 4, 7 and k's 2 days (from metro's start)
    assert total.pre_mean_pct == pytest.approx((40 + 50 + 20) / 3) and total.prepost_n == 3   # not i's
    by = {d: {g.group: (g.enrolled, g.withdrawn) for g in report.breakdowns[d]} for d in report.breakdowns}
    assert by["course"] == {"ls": (4, 2), "metro": (3, 1)}
    assert by["class"] == {"ls / Kelas A": (2, 1), "ls / Kelas B": (2, 1), "metro / Kelas A": (3, 1)}
    assert by["regency"] == {LS: (4, 2), METRO: (3, 1)}
    assert by["school_level"] == {"SD": (2, 2), "SMP": (1, 0), "SMA": (3, 1), None: (1, 0)}
    assert [e.fullname for e in report.follow_up] == ["D", "C"]


def test_withdrawn_participants_leave_progress_over_time_from_when_the_pull_saw_it() -> None:
    a0 = snap(1, "a", pulled_at=T0 + 3600)
    history = [a0, snap(2, "b", pulled_at=T0 + 3600), replace(a0, enrol_status="suspended", pulled_at=T0 + 2 * DAY)]
    assert [(p.enrolled, p.withdrawn) for p in progress_over_time(history)] == [(2, 0), (1, 1)]
    late = build_report("o", [history[1], history[2]], [ParticipantRecord(email="b@x.id", status="withdrawn")],
                        history, now=NOW)
    assert [(p.enrolled, p.withdrawn) for p in late.progress] == [(2, 0), (1, 1)]   # our record: not back-dated
    assert (late.total.enrolled, late.total.withdrawn) == (0, 2)


def test_days_to_complete_count_from_the_later_of_enrolment_and_course_start() -> None:
    late = snap(1, "a", completed=True, time_enrolled=T0 + 5 * DAY, time_completed=T0 + 8 * DAY)
    early = snap(2, "b", completed=True, time_enrolled=T0 - 5 * DAY, time_completed=T0 + 3 * DAY)
    assert group_stats(None, [late], COURSE_STARTS).median_days == 3.0    # promoted from the waitlist
    assert group_stats(None, [early], COURSE_STARTS).median_days == 3.0   # waited for the course to start


def test_days_to_complete_ignore_an_enrolment_time_after_the_completion() -> None:
    from moodle_sync.reports.aggregate import group_stats

    day = 86_400
    start = 1_690_000_000
    past = [CompletionSnapshot("o", 1, "OLD", 1, "a@x.id", "A", completed=True, time_completed=start + 12 * day,
                               time_enrolled=start + 400 * day),          # first pulled long after finishing
            CompletionSnapshot("o", 1, "OLD", 2, "b@x.id", "B", completed=True, time_completed=start - day,
                               time_enrolled=start + 400 * day)]          # finished before the course start
    stats = group_stats("OLD", past, {"OLD": start})
    assert (stats.median_days, stats.days_n) == (12.0, 1)
