"""Pull runs and snapshots: current state, history of changes only, marks."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.exc import IntegrityError

from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.store import Store
from tests.store.conftest import Clock


def snap(user_id: int, course_id: int = 10, offering: str = "o", **kw: object) -> CompletionSnapshot:
    base = {"offering_id": offering, "course_id": course_id, "course_key": "lampung-selatan", "user_id": user_id,
            "email": f"u{user_id}@x.id", "fullname": f"User {user_id}", "class_name": "Kelas A",
            "regency": "Kabupaten Lampung Selatan", "school_level": "SD", "activities_total": 8}
    return CompletionSnapshot(**{**base, **kw})  # type: ignore[arg-type]


def test_runs_start_finish_and_lookup(store: Store, clock: Clock) -> None:
    first = store.start_run(["o", "p"], "full")
    assert (first.status, first.finished_at, first.offerings, first.started_at) == ("running", None, ["o", "p"],
                                                                                    clock.now)
    clock.now += 30
    done = store.finish_run(first.id, "ok", calls=12, enrolments=40, reread=3, errors=[])
    assert (done.status, done.finished_at, done.calls, done.enrolments, done.reread) == ("ok", clock.now, 12, 40, 3)
    second = store.start_run(["o"], "incremental")
    store.finish_run(second.id, "partial", calls=2, errors=["course 11: access denied"])
    third = store.start_run(["p"], "report")
    assert [r.id for r in store.runs()] == [third.id, second.id, first.id]
    assert [r.id for r in store.runs(limit=1)] == [third.id]
    assert store.last_run().id == first.id                            # type: ignore[union-attr]
    assert store.last_run("o", status="partial").errors == ["course 11: access denied"]  # type: ignore[union-attr]
    assert store.last_run("p", status=None).id == third.id           # type: ignore[union-attr]
    assert store.last_run("nobody") is None
    with pytest.raises(ValueError, match="mode"):
        store.start_run(["o"], "sometimes")
    with pytest.raises(ValueError, match="status"):
        store.finish_run(third.id, "running")
    with pytest.raises(ValueError, match="no pull run"):
        store.finish_run(9999, "ok")


def test_snapshots_history_keeps_only_changes(store: Store, clock: Clock) -> None:
    run1 = store.start_run(["o"], "full")
    day1 = [snap(1, pulled_at=1000), snap(2, pulled_at=1000), snap(3, course_id=11, pulled_at=1000)]
    assert store.save_snapshots(run1.id, day1) == 3
    run2 = store.start_run(["o"], "incremental")
    day2 = [replace(day1[0], pulled_at=2000),                                   # unchanged
            replace(day1[1], pulled_at=2000, activities_done=3, last_access=1900),  # progressed
            replace(day1[2], pulled_at=2000)]
    assert store.save_snapshots(run2.id, day2) == 1
    run3 = store.start_run(["o"], "incremental")
    done = replace(day2[1], pulled_at=3000, activities_done=8, completed=True, time_completed=2950,
                   course_grade=87.5, course_grade_max=100.0)
    assert store.save_snapshots(run3.id, [done]) == 1
    assert store.current("o") == [day2[0], done, day2[2]]
    assert store.current("o", course_id=11) == [day2[2]]
    assert [(s.user_id, s.pulled_at) for s in store.history("o")] == [
        (1, 1000), (2, 1000), (3, 1000), (2, 2000), (2, 3000)]
    assert store.history("o")[-1] == done
    marks = store.pull_marks("o", 10)
    assert sorted(marks) == [1, 2] and marks[2].completed and marks[2].course_grade == 87.5
    assert store.pull_marks("o", 99) == {} and store.current("other") == []


def test_snapshot_without_pulled_at_is_stamped_now(store: Store, clock: Clock) -> None:
    run = store.start_run(["o"], "full")
    store.save_snapshots(run.id, [snap(1)])
    assert store.current("o")[0].pulled_at == clock.now == store.history("o")[0].pulled_at


def test_same_enrolment_in_two_offerings_is_kept_apart(store: Store) -> None:
    run = store.start_run(["o", "p"], "full")
    assert store.save_snapshots(run.id, [snap(1), snap(1, offering="p", completed=True)]) == 2
    assert [s.completed for s in store.current("o")] == [False]
    assert [s.completed for s in store.current("p")] == [True]


def test_bad_snapshot_batches_change_nothing(store: Store) -> None:
    run = store.start_run(["o"], "full")
    with pytest.raises(ValueError, match="twice"):
        store.save_snapshots(run.id, [snap(1), snap(1)])
    with pytest.raises(ValueError, match="no pull run"):
        store.save_snapshots(run.id + 100, [snap(1)])
    with pytest.raises(IntegrityError):
        store.save_snapshots(run.id, [snap(1), snap(2, email=None)])   # NOT NULL fails in the database
    assert store.current("o") == [] and store.history("o") == []
    assert store.save_snapshots(run.id, []) == 0


def test_a_pull_of_4511_enrolments(store: Store) -> None:
    run = store.start_run(["big"], "full")
    rows = [snap(u, course_id=100 + u % 15, offering="big", pulled_at=5000, activities_done=u % 9,
                 completed=u % 9 == 8, course_grade=(u % 101) / 1.3 if u % 3 else None, course_grade_max=100.0)
            for u in range(4511)]
    assert store.save_snapshots(run.id, rows) == 4511
    again = [replace(s, pulled_at=6000) for s in rows]
    again[18] = replace(again[18], activities_done=8, completed=True)
    assert store.save_snapshots(run.id, again) == 1
    assert len(store.current("big")) == 4511 and len(store.history("big")) == 4512
    assert {s.key: s for s in store.current("big")} == {s.key: s for s in again}


def test_count_current_counts_the_sites_own_evidence_of_the_offerings(store: Store) -> None:
    run = store.start_run(["o", "p"], "full").id
    store.save_snapshots(run, [snap(1), snap(2), snap(3, offering="p"), snap(4, offering="q")])
    other = store.for_site("lms.other.example")
    other.save_snapshots(other.start_run(["o"], "full").id, [snap(5), snap(6)])
    assert store.count_current(["o"]) == 2 and store.count_current(["o", "p"]) == 3
    assert store.count_current([]) == 0 and other.count_current(["o", "p"]) == 2
