"""Migration 3: snapshots learn whether the enrolment still stands, and get a ``time_enrolled`` where a
store written before had none (when a pull first recorded the enrolment). Migration 5: sites; every row of
a v4 store is kept, and adopted by the first site registered."""

from __future__ import annotations

from sqlalchemy import UniqueConstraint, inspect, text

from moodle_sync.store import Store, schema
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


# Version 5: sites. A store as version 4 left it, with a row in every table.
V4_ROWS = {
    "offerings": "(offering_id, template, title, data, created_at, updated_at) VALUES ('o', 'koding', 'Koding', "
                 "'{\"a\": 1}', 1, 2)",
    "moodle_objects": "(offering_id, kind, key, moodle_id, spec_hash, updated_at) VALUES "
                      "('o', 'course', 'metro', 101, 'h', 2), ('o', 'group', 'metro:A', 5, NULL, 2)",
    "writes": "(at, offering_id, action, kind, key, moodle_id, spec_hash, outcome, detail) VALUES "
              "(2, 'o', 'create', 'course', 'metro', NULL, 'h', 'unknown', NULL)",
    "participants": "(offering_id, email, fullname, firstname, lastname, nuptk, status, moodle_user_id, "
                    "updated_at, trained) VALUES ('o', 'guru@x.id', 'Guru', 'Guru', '', '123', 'enrolled', 7, 2, "
                    "true)",
    "pull_runs": "(id, started_at, mode, status, calls, enrolments, reread, errors) VALUES "
                 "(1, 100, 'full', 'ok', 3, 1, 0, '[]')",
    "pull_run_offerings": "(run_id, position, offering_id) VALUES (1, 0, 'o')",
    "snapshots_current": f"({COLUMNS}) VALUES {_row(7, 1000)}",
    "snapshots_history": f"({COLUMNS}) VALUES {_row(7, 1000)}",
    "certificates": "(offering_id, email, number, pattern, year, seq, completed_at, issued_at) VALUES "
                    "('o', 'guru@x.id', '0001/2026', 'p', 2026, 1, 900, 1000)",
    "sent_messages": "(offering_id, day, recipient, moodle_user_id, digest, outcome, msgid, detail, at) VALUES "
                     "('o', '2026-08-10', 'fas@x.id', 3, 'h', 'ok', 42, NULL, 1000)",
}


def _v4_store(store_url: str) -> None:
    engine = open_engine(store_url, MIGRATIONS[:4])
    try:
        with engine.begin() as conn:
            for table, values in V4_ROWS.items():
                conn.execute(text(f"INSERT INTO {table} {values}"))
    finally:
        engine.dispose()


def _counts(store_url: str) -> dict[str, dict[str, int]]:
    """Rows per table and site, read with SQL (not through the Store)."""
    engine = open_engine(store_url)
    try:
        with engine.connect() as conn:
            return {table: {site: int(n) for site, n in conn.execute(text(
                f"SELECT site_id, count(*) FROM {table} GROUP BY site_id"))} for table in V4_ROWS}
    finally:
        engine.dispose()


def test_version_5_keeps_every_row_of_a_v4_store_and_the_first_site_adopts_them(store_url: str) -> None:
    _v4_store(store_url)
    with Store.open(store_url) as store:
        assert store.get_offering("o") is not None                 # the legacy site reads them as before
    assert _counts(store_url) == {table: {"": 2 if table == "moodle_objects" else 1} for table in V4_ROWS}
    with Store.open(store_url) as store:
        store.register_site("https://lms-a.example.id/", "Centre A")
        store.register_site("https://lms-b.example.id/", "Centre B")    # the second site adopts nothing
        a = store.for_site("lms-a.example.id")
        assert a.get_offering("o").data == {"a": 1}               # type: ignore[union-attr]
        assert a.object_id("o", "course", "metro") == 101 and list(a.unsettled_writes("o", "course")) == ["metro"]
        assert [(p.email, p.trained, p.moodle_user_id) for p in a.participants("o")] == [("guru@x.id", True, 7)]
        assert a.last_run("o").offerings == ["o"]                  # type: ignore[union-attr]
        assert [s.user_id for s in a.current("o")] == [7] and [s.user_id for s in a.history("o")] == [7]
        assert a.certificates("o")["guru@x.id"].number == "0001/2026"
        assert [m.msgid for m in a.messages("o")] == [42]
        assert store.for_site("lms-b.example.id").offerings() == [] and store.offerings() == []
        assert not store.has_legacy_rows()
    assert _counts(store_url) == {table: {"lms-a.example.id": 2 if table == "moodle_objects" else 1}
                                  for table in V4_ROWS}


def test_a_migrated_v4_store_has_the_keys_of_a_new_one(store_url: str) -> None:
    _v4_store(store_url)
    Store.open(store_url).close()
    engine = open_engine(store_url)
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            for name, table in schema.metadata.tables.items():
                assert [c.name for c in table.primary_key.columns] == \
                    found.get_pk_constraint(name)["constrained_columns"], name
                assert sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(name)) == sorted(
                    tuple(c.name for c in u.columns) for u in table.constraints if isinstance(u, UniqueConstraint)), name
                assert {i["name"]: i["column_names"] for i in found.get_indexes(name) if i["name"].startswith("ix_")} \
                    == {i.name: [c.name for c in i.columns] for i in table.indexes}, name
    finally:
        engine.dispose()
