"""A centre's past programme, end to end, on the sandbox and on the real Moodle 4.5 lab: courses the product
did not create (the site's master courses stand for old courses: real quizzes, completion criteria) get
participants enrolled by hand (a teacher too) and real progress; an offering adopts them (by idnumber with
its regency, and by category; tests found by item name), ``plan``/``apply`` write nothing to Moodle, the first
pull is a full one, and the report equals the site's database per course.

The lab runs when ``MOODLE_LAB_DB_URL``, the lab's ``MOODLE_URL``/``MOODLE_TOKEN`` and ``MOODLE_ADMIN_TOKEN``
are set, as ``eval "$(scripts/moodle-lab.sh up)"`` sets them; it needs root (the lab's PHP runs as www-data).
"""

from __future__ import annotations

import importlib.util
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from moodle_sync.ws import connect
from moodle_sync.ws.functions import FUNCTIONS
from tests.cli.conftest import run, run_json
from tests.conftest import REAL_MOODLE_TOKEN, REAL_MOODLE_URL
from tests.e2e.truth import CourseTruth, lab_truth, sandbox_truth

ROOT = Path(__file__).parents[2]
# Read at import time: tests/conftest.py removes every MOODLE_* variable before each test runs.
LAB_DB_URL = os.environ.get("MOODLE_LAB_DB_URL")
LAB_ENV = {k: v for k in ("MOODLE_LAB_DIR", "MOODLE_LAB_PORT") if (v := os.environ.get(k))}
LAB_ADMIN_TOKEN = os.environ.get("MOODLE_ADMIN_TOKEN")
LAB_READY = bool(LAB_DB_URL and REAL_MOODLE_URL and REAL_MOODLE_TOKEN and LAB_ADMIN_TOKEN)
OLD_COURSES = ("MASTER-KODING", "MASTER-AI")
PER_COURSE = 6
FIGURES = ("enrolled", "withdrawn", "started", "completed", "grade_mean_pct", "pre_mean_pct", "post_mean_pct")

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def _simulate_progress() -> Any:
    spec = importlib.util.spec_from_file_location("simulate_progress", ROOT / "scripts" / "simulate_progress.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Site:
    """Where the old courses are: the tool's URL and token, an admin token (to play the centre's past),
    how to play progress, the database's figures, and the old courses' own records (to see nothing changed)."""

    def __init__(self, name: str, url: str, token: str, admin_token: str, play: Callable[[list[Any]], None],
                 truth: Callable[[], dict[str, CourseTruth]], sandbox: Any = None) -> None:
        self.name, self.url, self.token, self.admin_token = name, url, token, admin_token
        self.play, self.truth, self.sandbox = play, truth, sandbox


@pytest.fixture(params=["sandbox", pytest.param("lab", marks=pytest.mark.skipif(
    not LAB_READY, reason="no lab: eval \"$(scripts/moodle-lab.sh up)\" sets MOODLE_LAB_DB_URL, MOODLE_URL, "
                          "MOODLE_TOKEN, MOODLE_ADMIN_TOKEN"))])
def site(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Site:
    progress = _simulate_progress()
    if request.param == "sandbox":
        server = request.getfixturevalue("sandbox")
        return Site("sandbox", server.url, server.token, server.token,
                    lambda events: progress.play_in_sandbox(server.url, events),
                    lambda: sandbox_truth(server, "MASTER"), server)
    for key, value in LAB_ENV.items():
        monkeypatch.setenv(key, value)
    assert LAB_DB_URL and REAL_MOODLE_URL and REAL_MOODLE_TOKEN and LAB_ADMIN_TOKEN
    return Site("lab", REAL_MOODLE_URL, REAL_MOODLE_TOKEN, LAB_ADMIN_TOKEN, progress.play_in_lab,
                lambda: lab_truth(LAB_DB_URL, "MASTER"))


def _a_past_programme(site: Site) -> dict[str, int]:
    """Participants enrolled by hand in the old courses (and a teacher in the first), with progress played;
    returns course idnumber -> course id."""
    admin = connect(site.url, site.admin_token)
    tag = uuid.uuid4().hex[:6]
    ids = {i: admin.courses_by_field("idnumber", i)[0].id for i in OLD_COURSES}
    people = [{"username": f"lama{tag}{c}{n}", "email": f"lama{tag}.{c}{n}@contoh.sch.id", "firstname": f"Guru{n}",
               "lastname": f"Lama {c}", "password": f"Rahasia-{tag}-{n}!"} for c in range(len(OLD_COURSES))
              for n in range(PER_COURSE + (1 if c == 0 else 0))]
    made = admin.create_users(people)
    assert not made.failed, made.failed
    user_ids = {u.username: u.id for u in admin.users_by_field("username", [p["username"] for p in people])}
    enrolments, students = [], {}
    for c, idnumber in enumerate(OLD_COURSES):
        mine = [user_ids[f"lama{tag}{c}{n}"] for n in range(PER_COURSE)]
        students[ids[idnumber]] = mine
        enrolments += [{"roleid": 5, "userid": u, "courseid": ids[idnumber]} for u in mine]
    enrolments.append({"roleid": 3, "userid": user_ids[f"lama{tag}0{PER_COURSE}"], "courseid": ids[OLD_COURSES[0]]})
    assert not admin.enrol(enrolments).failed
    events = _simulate_progress().plan_progress(sorted(students.items()), seed=11, now=int(time.time()), days_ago=40)
    site.play(events)
    admin.client.close()
    return ids


def _offering(folder: Path, offering_id: str) -> Path:
    document = {"id": offering_id, "template": "koding-untuk-guru", "title": "Program lama", "batch": "2023",
                "start": "2023-08-01", "end": "2023-11-30",
                "adopt": {"idnumbers": {"MASTER-KODING": "metro"}, "category": "Master",
                          "evidence": {"pretest": "Pretest", "posttest": "Posttest"}}}
    path = folder / "adopt.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _writes(site: Site, before: dict[str, int]) -> list[str]:
    if site.sandbox is None:
        return []
    after = site.sandbox.control.call_counts()
    return sorted(f for f, n in after.items() if n != before.get(f, 0) and not FUNCTIONS[f].is_read)


def _old_courses(site: Site) -> list[tuple[Any, ...]]:
    """The old courses as Moodle keeps them (what apply must leave alone)."""
    moodle = connect(site.url, site.admin_token)
    try:
        return sorted((c.id, c.fullname, c.shortname, c.idnumber, c.categoryid, c.startdate, c.enddate, c.visible,
                       len(moodle.groups(c.id))) for i in OLD_COURSES for c in moodle.courses_by_field("idnumber", i))
    finally:
        moodle.client.close()


def test_a_past_programme_is_adopted_pulled_and_reported_as_the_database_says(
        site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _a_past_programme(site)
    offering_id = f"lama-{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("MOODLE_URL", site.url)
    monkeypatch.setenv("MOODLE_TOKEN", site.token)
    monkeypatch.setenv("MOODLE_SYNC_STORE", str(tmp_path / "store.sqlite"))
    offering = str(_offering(tmp_path, offering_id))
    courses = _old_courses(site)
    counts = site.sandbox.control.call_counts() if site.sandbox else {}

    code, out, err = run(capsys, "plan", offering)
    assert code == 0 and "5 adopted course(s): pulled as they are; plan and apply never change them." in out, out + err
    code, applied = run_json(capsys, "apply", offering, "--yes")
    assert code == 0 and applied["applied"] and applied["adopted"], applied
    assert set(OLD_COURSES) <= set(applied["courses"])
    assert all(a["op"] == "unchanged" for a in applied["actions"])
    assert _writes(site, counts) == [] and _old_courses(site) == courses

    code, pulled = run_json(capsys, "pull", offering_id)
    assert code == 0 and pulled["mode"] == "full" and pulled["status"] == "ok", pulled
    code, report = run_json(capsys, "report", offering_id, "--format", "json")
    assert code == 0
    truth = site.truth()
    reported = {row["group"].removeprefix("MASTER-"): row for row in report["breakdowns"]["course"]}
    assert sorted(reported) == sorted(truth) and {"KODING", "AI"} <= set(truth)
    for key, expected in truth.items():
        for figure in FIGURES:
            want = getattr(expected, figure)
            got = reported[key][figure]
            assert got == (pytest.approx(want, abs=1e-6) if isinstance(want, float) else want), (key, figure)
    assert reported["KODING"]["enrolled"] >= PER_COURSE and reported["KODING"]["pre_mean_pct"] is not None
    regencies = {row["group"]: row["enrolled"] for row in report["breakdowns"]["regency"]}
    assert regencies["Kota Metro"] == truth["KODING"].enrolled

    # Certificates and follow-up work on a past programme too (pass mark and grades as the site has them).
    monkeypatch.chdir(tmp_path)
    code, listed = run_json(capsys, "completers", offering)
    assert code == 0 and listed["completers"], listed
    numbers = [c["certificate_number"] for c in listed["completers"]]
    assert len(set(numbers)) == len(numbers) and all(n.endswith("/BGTK-LPG/2023") for n in numbers)
    assert all(c["posttest_pct"] >= 70.0 and c["jp"] == 40 and c["completed_at"] for c in listed["completers"])
    code, pack = run_json(capsys, "followup", offering, "--dry-run")
    people = [p for c in pack["classes"] for p in c["participants"]]
    assert code == 0 and people and pack["written"] == []
    assert all(p["status"] != "below_pass" or p["email"] not in {c["email"] for c in listed["completers"]}
               for p in people)

    code, again = run_json(capsys, "pull", offering_id)
    assert code == 0 and again["mode"] == "incremental" and again["reread"] == 0, again
    assert set(ids.values()) <= {c[0] for c in courses}
