"""Migration 3: snapshots learn whether the enrolment still stands, and get a ``time_enrolled`` where a
store written before had none (when a pull first recorded the enrolment)."""

from __future__ import annotations

from sqlalchemy import text

from moodle_sync.store import Store
from moodle_sync.store.engine import open_engine
from moodle_sync.store.migrations import MIGRATIONS

COLUMNS = ("offering_id, course_id, user_id, run_id, course_key, email, fullname, role, completed, "
           "activities_total, activities_done, pulled_at")


def _row(user_id: int, pulled_at: int) -> str:
    return f"('o', 3, {user_id}, 1, 'metro', 'u{user_id}@x.id', 'U', 'student', false, 10, 0, {pulled_at})"


def test_version_3_fills_enrol_status_and_time_enrolled_from_the_first_pull(store_url: str) -> None:
    engine = open_engine(store_url, MIGRATIONS[:2])       # a store as the previous release left it
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO pull_runs (id, started_at, mode, status, calls, enrolments, reread, "
                              "errors) VALUES (1, 100, 'full', 'ok', 0, 0, 0, '[]')"))
            conn.execute(text(f"INSERT INTO snapshots_history ({COLUMNS}) VALUES "
                              f"{_row(7, 1000)}, {_row(7, 5000)}, {_row(8, 3000)}"))
            conn.execute(text(f"INSERT INTO snapshots_current ({COLUMNS}) VALUES {_row(7, 9000)}, {_row(8, 9000)}, "
                              f"{_row(9, 9000)}"))
    finally:
        engine.dispose()
    with Store.open(store_url) as store:
        now = {s.user_id: s for s in store.current("o")}
        assert {u: s.time_enrolled for u, s in now.items()} == {7: 1000, 8: 3000, 9: 9000}
        assert {s.enrol_status for s in now.values()} == {"active"}
        assert {s.enrol_status for s in store.history("o")} == {"active"}
