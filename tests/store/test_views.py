"""The analysts' SQL views (moodle_sync/store/views.py) on SQLite and PostgreSQL: their columns exactly as
documented, rows agreeing with the tables (and with the reports) for two centres that use the same offering
id, course ids and user ids, no personal data, created once, and on PostgreSQL readable by a role that may
read nothing else."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.reports.aggregate import enrich, is_withdrawn
from moodle_sync.store import ParticipantRecord, Store
from moodle_sync.store.migrations import MIGRATIONS
from moodle_sync.store.views import VIEW_COLUMNS, create_views

from .conftest import Clock

T0 = 1_767_225_600
SITES = {"lampung": ("https://lms.lampung.example.id/", "BGP Lampung"),
         "bengkulu": ("https://lms.bengkulu.example.id/", "BGP Bengkulu")}
PERSONAL = ("fullname", "firstname", "lastname", "email", "phone", "nuptk", "npsn", "school")


def snap(user_id: int, email: str, **kw: Any) -> CompletionSnapshot:
    return CompletionSnapshot(**{"offering_id": "koding", "course_id": 7, "course_key": "main", "user_id": user_id,
                                 "email": email, "fullname": f"Guru {user_id}", **kw})


def fill(store: Store, centre: str) -> None:
    """The same offering id, course id and user ids on both centres, with different people and outcomes."""
    store.save_offering("koding", "koding-untuk-guru", f"Koding {centre}", {"courses": [{"key": "main"}]})
    done = centre == "lampung"
    store.save_participants("koding", [
        ParticipantRecord(f"ani@{centre}.id", "Ani", nuptk="1234", regency="metro", school_level="SD",
                          phone="0812", status="enrolled", rank=1, reason="selected, rank 1", moodle_user_id=11,
                          trained=False, class_name="Kelas A", school="SDN 1"),
        ParticipantRecord(f"budi@{centre}.id", "Budi", regency="pesawaran", school_level="SMP", status="withdrawn",
                          moodle_user_id=12, trained=True),
        ParticipantRecord(f"citra@{centre}.id", "Citra", regency="pesawaran", status="waitlist", rank=9),
    ])
    run = store.start_run(["koding"], "full")
    store.save_snapshots(run.id, [
        # Ani: class and regency only in the record (matched by e-mail, in another case)
        snap(11, f"Ani@{centre}.id ", completed=done, time_completed=T0 if done else None, last_access=T0,
             activities_total=4, activities_done=4 if done else 1, course_grade=45.0, course_grade_max=50.0,
             pretest_grade=4.0, pretest_max=10.0, posttest_grade=8.0, posttest_max=10.0, pulled_at=T0),
        # Budi: found by Moodle user id (another e-mail in Moodle); withdrawn by us, active in Moodle
        snap(12, f"b.lain@{centre}.id", pulled_at=T0),
        snap(13, f"fasil@{centre}.id", role="editingteacher", regency="Kota Metro", pulled_at=T0),
    ])
    store.finish_run(run.id, "ok" if done else "partial", calls=30, enrolments=3,
                     errors=[] if done else ["fasil@bengkulu.id: no grades", "timeout"])


@pytest.fixture
def filled(store_url: str) -> Iterator[Store]:
    with Store.open(store_url, clock=Clock()) as store:
        for centre, (url, name) in SITES.items():
            site = store.register_site(url, name, profile=centre)
            fill(store.for_site(site.site_id), centre)
        yield store


def rows(store: Store, view: str) -> list[dict[str, Any]]:
    with store._read() as conn:   # the store's own engine: the same database and schema
        return [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {view}"))]


@pytest.mark.parametrize("view", sorted(VIEW_COLUMNS))
def test_columns_are_exactly_the_documented_ones_and_none_is_personal(filled: Store, view: str) -> None:
    with filled._read() as conn:
        found = tuple(conn.execute(text(f"SELECT * FROM {view} WHERE 1 = 0")).keys())
    assert found == VIEW_COLUMNS[view]
    assert not set(found) & set(PERSONAL)


def test_no_cell_holds_personal_data(filled: Store) -> None:
    cells = {str(v).lower() for view in VIEW_COLUMNS for row in rows(filled, view) for v in row.values()}
    assert not [c for c in cells if "@" in c or c in ("ani", "budi", "guru 11", "1234", "0812", "sdn 1")]


def test_evidence_agrees_with_the_tables_and_the_reports_for_two_centres(filled: Store) -> None:
    found = {(r["site_id"], r["moodle_user_id"]): r for r in rows(filled, "v_enrolment_evidence")}
    assert len(found) == 6
    for site in filled.sites():
        store = filled.for_site(site.site_id)
        current = {s.user_id: s for s in store.current("koding")}
        enriched = {s.user_id: s for s in enrich(current.values(), store.participants("koding"))}
        for user_id, s in current.items():
            row = found[(site.site_id, user_id)]
            assert (row["site_name"], row["offering_id"], row["programme"], row["course_key"], row["course_id"],
                    row["role"], row["enrol_status"], row["pulled_at"]) == (
                site.name, "koding", "koding-untuk-guru", "main", 7, s.role, s.enrol_status, s.pulled_at)
            assert bool(row["completed"]) == s.completed and bool(row["started"]) == s.started
            if user_id in enriched:   # the reports' students: the same class, regency, level, withdrawal
                e = enriched[user_id]
                assert (row["class_name"], row["regency"], row["school_level"], bool(row["withdrawn"])) == (
                    e.class_name, e.regency, e.school_level, is_withdrawn(e))
    lampung_ani = found[("lms.lampung.example.id", 11)]
    assert (lampung_ani["regency"], lampung_ani["class_name"], lampung_ani["course_grade_pct"],
            lampung_ani["pretest_pct"], lampung_ani["posttest_pct"]) == ("Kota Metro", "Kelas A", 90.0, 40.0, 80.0)
    assert found[("lms.bengkulu.example.id", 11)]["completed"] in (False, 0)
    assert found[("lms.bengkulu.example.id", 12)]["withdrawn"] in (True, 1)


def test_pull_runs_and_selection_outcomes_per_centre(filled: Store) -> None:
    runs = {r["site_name"]: r for r in rows(filled, "v_pull_runs")}
    assert {n: (r["status"], r["calls"], r["enrolments"], r["errors"], r["offerings"], r["duration_seconds"])
            for n, r in runs.items()} == {"BGP Lampung": ("ok", 30, 3, 0, 1, 0),
                                          "BGP Bengkulu": ("partial", 30, 3, 2, 1, 0)}
    outcomes = sorted((r["site_name"], r["status"], r["regency"], r["rank"], r["trained_before"] in (True, 1))
                      for r in rows(filled, "v_selection_outcomes"))
    assert outcomes == sorted((name, *o) for _, name in SITES.values() for o in (
        ("enrolled", "Kota Metro", 1, False), ("withdrawn", "Kabupaten Pesawaran", None, True),
        ("waitlist", "Kabupaten Pesawaran", 9, False)))


def test_views_are_made_once_and_wait_for_the_current_schema(store_url: str) -> None:
    from moodle_sync.store.engine import open_engine

    old = open_engine(store_url, MIGRATIONS[:4])   # a store as an older release left it: no views yet
    with old.connect() as conn:
        assert create_views(conn) == []
    old.dispose()
    with Store.open(store_url) as store, store._write() as conn:   # migrated: the views are there, current
        assert create_views(conn) == []
        assert conn.execute(text("SELECT COUNT(*) FROM v_enrolment_evidence")).scalar() == 0


@pytest.fixture
def analyst(filled: Store, store_url: str) -> Iterator[str]:
    """A PostgreSQL login role granted SELECT on the three views only, as the README tells; its URL."""
    if make_url(store_url).get_backend_name() != "postgresql":
        pytest.skip("roles and grants: PostgreSQL only")
    role, schema = f"analyst_{uuid.uuid4().hex[:10]}", _schema_of(store_url)
    admin = create_engine(store_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'secret'"))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
        conn.execute(text(f"GRANT SELECT ON {', '.join(VIEW_COLUMNS)} TO {role}"))
    try:
        yield make_url(store_url).set(username=role, password="secret").render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def _schema_of(url: str) -> str:
    return make_url(url).query["options"].split("search_path=", 1)[1]   # type: ignore[union-attr]


def test_a_role_granted_the_views_reads_them_and_no_table(analyst: str, store_url: str) -> None:
    Store.open(store_url).close()   # opening again (as every command does) keeps the grants
    engine = create_engine(analyst)
    try:
        with engine.connect() as conn:
            for view in VIEW_COLUMNS:
                assert conn.execute(text(f"SELECT COUNT(*) FROM {view}")).scalar()
        for table in ("snapshots_current", "participants", "sites", "pull_runs"):
            with engine.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text(f"SELECT * FROM {table}"))
    finally:
        engine.dispose()


EXAMPLE = """SELECT site_name, regency, COUNT(*) AS enrolled,
       SUM(CASE WHEN completed THEN 1 ELSE 0 END) AS completed,
       ROUND(100.0 * SUM(CASE WHEN completed THEN 1 ELSE 0 END) / COUNT(*), 1) AS completion_pct
FROM v_enrolment_evidence
WHERE role = 'student' AND NOT withdrawn
GROUP BY site_name, regency
ORDER BY site_name, regency"""


def test_the_readme_example_runs_on_both_databases(filled: Store) -> None:
    with filled._read() as conn:
        found = [tuple(r) for r in conn.execute(text(EXAMPLE))]
    assert [(name, regency, enrolled, done, float(pct)) for name, regency, enrolled, done, pct in found] == [
        ("BGP Bengkulu", "Kota Metro", 1, 0, 0.0), ("BGP Lampung", "Kota Metro", 1, 1, 100.0)]


def test_the_readme_lists_each_views_columns() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    if "## For analysts: SQL views" not in readme:
        pytest.skip("the README has no 'For analysts: SQL views' section yet")
    section = readme.split("## For analysts: SQL views", 1)[1].split("\n## ", 1)[0]
    for view, columns in VIEW_COLUMNS.items():
        line = next(x for x in section.splitlines() if x.startswith(f"`{view}`: "))
        assert tuple(re.findall(r"`(\w+)`", line.split(": ", 1)[1])) == columns
