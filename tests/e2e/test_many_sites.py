"""Many centres, one evidence store: two sandbox sites (and the real Moodle 4.5 lab as a third, where it
runs) run the same offering id, a small copy of the example (24 seats over two regencies); one
``pull --all-profiles`` brings all of them into one store (PostgreSQL when ``MOODLE_SYNC_TEST_PG_URL`` is set,
else SQLite). Then each centre's report equals what its own site says (its database, or the sandbox's state),
``report --all-sites`` shows each centre apart and together (the total from the union of rows), the
analysts' view counts the same, and nothing of one site overwrote another.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from moodle_sync.sandbox import SandboxServer
from moodle_sync.store import site_key
from tests.cli.conftest import run, run_json, small_offering
from tests.conftest import REAL_MOODLE_TOKEN, REAL_MOODLE_URL
from tests.e2e.conftest import EXAMPLES, LAB_DB_URL, LAB_READY, Target, _lab_regrade
from tests.e2e.test_main_job import _assert_equal_to_truth, _per_course
from tests.e2e.truth import lab_truth, sandbox_truth
from tests.store.conftest import PG_URL, _pg_schema

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


@pytest.fixture
def second_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    """One store for every centre: a fresh PostgreSQL schema where one is configured, else SQLite."""
    if PG_URL:
        yield from _pg_schema(PG_URL)
    else:
        yield f"sqlite:///{tmp_path / 'evidence.sqlite'}"


def _sandbox_target(name: str, server: SandboxServer) -> Target:
    def regrade(courseid: int, userid: int, idnumber: str, grade: float) -> None:
        server.control.set_grade(courseid, userid, idnumber, grade)

    return Target(name, server.url, server.token, lambda o: sandbox_truth(server, o), regrade, server)


def _targets(sandbox: SandboxServer, second: SandboxServer) -> dict[str, Target]:
    targets = {"lampung": _sandbox_target("sandbox", sandbox), "bengkulu": _sandbox_target("sandbox", second)}
    if LAB_READY:
        assert LAB_DB_URL and REAL_MOODLE_URL and REAL_MOODLE_TOKEN
        targets["lab"] = Target("lab", REAL_MOODLE_URL, REAL_MOODLE_TOKEN, lambda o: lab_truth(LAB_DB_URL, o),
                                _lab_regrade)
    return targets


def _configure(monkeypatch: pytest.MonkeyPatch, folder: Path, store: str, targets: dict[str, Target]) -> None:
    """A config file with one profile per centre, each token in MOODLE_TOKEN_<NAME>, one store for all."""
    config = folder / "config.toml"
    config.write_text("".join(f'[profiles.{name}]\nurl = "{t.url}"\nmax_input_vars = 5000\n\n'
                              for name, t in targets.items()), encoding="utf-8")
    monkeypatch.setenv("MOODLE_SYNC_CONFIG", str(config))
    monkeypatch.setenv("MOODLE_SYNC_STORE", store)
    for name, target in targets.items():
        monkeypatch.setenv(f"MOODLE_TOKEN_{name.upper()}", target.token)


def _run_the_offering(capsys: pytest.CaptureFixture[str], profile: str, offering: str, folder: Path) -> None:
    for args in (("apply", offering, "--yes"),
                 ("select", offering, "--applicants", str(EXAMPLES / "registrations.csv"),
                  "--output", str(folder / f"seleksi-{profile}"), "--no-moodle-history"),
                 ("enrol", offering, "--yes")):
        code, out, err = run(capsys, "--profile", profile, *args, "--quiet")
        assert code == 0, (profile, args, out, err)


def _first_student(target: Target, offering_id: str, course: str) -> tuple[int, int]:
    from moodle_sync.ws import connect

    moodle = connect(target.url, target.token, max_input_vars=5000)
    try:
        found = moodle.courses_by_field("idnumber", f"{offering_id}-{course}")
        courseid = found[0].id
        students = sorted(u.id for u in moodle.enrolled_users(courseid) if "student" in u.roles)
        return courseid, students[0]
    finally:
        moodle.client.close()


def _view_counts(store: str) -> dict[tuple[str, str], int]:
    """Enrolled (not withdrawn) participants per (site, course) in the analysts' view."""
    engine = create_engine(store)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT site_id, course_key, COUNT(*) FROM v_enrolment_evidence "
                "WHERE role = 'student' AND NOT withdrawn GROUP BY site_id, course_key")).all()
    finally:
        engine.dispose()
    return {(site, course): int(n) for site, course, n in rows}


def test_many_centres_in_one_store(sandbox: SandboxServer, second_sandbox: SandboxServer, store_url: str,
                                   tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    offering_id = f"e2e-sites-{uuid.uuid4().hex[:8]}"    # the same id at every centre
    targets = _targets(sandbox, second_sandbox)
    _configure(monkeypatch, tmp_path, store_url, targets)
    # a small copy of the example offering (two regencies, 24 seats): the main job's size is test_main_job's
    offering = str(small_offering(tmp_path / "offering", seats=24, id=offering_id,
                                  category=f"E2E {offering_id} / Koding"))
    for profile, target in targets.items():
        _run_the_offering(capsys, profile, offering, tmp_path)
        target.simulate(offering_id)
    # only Bengkulu's facilitator regrades someone: the centres' figures must differ where they should
    courseid, userid = _first_student(targets["bengkulu"], offering_id, "metro")
    targets["bengkulu"].regrade(courseid, userid, "posttest", 0.0)

    code, pulled = run_json(capsys, "pull", "--all-profiles")
    assert code == 0 and pulled["status"] == "ok", pulled
    assert sorted(s["profile"] for s in pulled["sites"]) == sorted(targets)
    assert {s["site_id"] for s in pulled["sites"]} == {site_key(t.url) for t in targets.values()}

    own: dict[str, dict[str, Any]] = {}
    for profile, target in targets.items():
        code, report = run_json(capsys, "report", offering_id, "--site", profile, "--format", "json")
        assert code == 0, report
        _assert_equal_to_truth(report, target.truth(offering_id))    # each centre: its own site's figures
        own[profile] = report
    assert _per_course(own["lampung"]) != _per_course(own["bengkulu"])   # the regrade stayed at Bengkulu

    code, together = run_json(capsys, "report", offering_id, "--all-sites", "--format", "json")
    assert code == 0, together
    by_site = {s["site_id"]: s for s in together["sites"]}
    assert set(by_site) == {site_key(t.url) for t in targets.values()}
    for profile, target in targets.items():
        assert _per_course(by_site[site_key(target.url)]) == _per_course(own[profile])
    enrolled = sum(row["enrolled"] for r in own.values() for row in r["breakdowns"]["course"])
    assert together["total"]["enrolled"] == enrolled

    views = _view_counts(store_url)
    for profile, target in targets.items():
        for course, truth in target.truth(offering_id).items():
            assert views.get((site_key(target.url), course), 0) == truth.enrolled, (profile, course)
