"""The targets every end-to-end scenario runs on: the sandbox always, and the real Moodle 4.5 lab of
scripts/moodle-lab.sh when ``MOODLE_LAB_DB_URL`` (and the lab's ``MOODLE_URL``/``MOODLE_TOKEN``) are set, as
``eval "$(scripts/moodle-lab.sh up)"`` sets them; the lab needs root (its PHP runs as www-data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REAL_MOODLE_TOKEN, REAL_MOODLE_URL
from tests.e2e.truth import CourseTruth, lab_truth, sandbox_truth

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
# Read at import time: tests/conftest.py removes every MOODLE_* variable before each test runs.
LAB_DB_URL = os.environ.get("MOODLE_LAB_DB_URL")
LAB_DIR = os.environ.get("MOODLE_LAB_DIR")
LAB_READY = bool(LAB_DB_URL and REAL_MOODLE_URL and REAL_MOODLE_TOKEN)

class Target:
    """One site the scenario runs on: how to reach it, play progress, regrade, and read its truth."""

    def __init__(self, name: str, url: str, token: str, truth: Callable[[str], dict[str, CourseTruth]],
                 regrade: Callable[[int, int, str, float], None], sandbox: Any = None) -> None:
        self.name, self.url, self.token, self.truth, self.regrade, self.sandbox = name, url, token, truth, regrade, sandbox

    def use(self, monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
        """Point the CLI at this site (its URL and token) and at the SQLite store ``store``."""
        monkeypatch.setenv("MOODLE_URL", self.url)
        monkeypatch.setenv("MOODLE_TOKEN", self.token)
        monkeypatch.setenv("MOODLE_SYNC_STORE", str(store))
        monkeypatch.setenv("MOODLE_SYNC_MAX_INPUT_VARS", "5000")

    def simulate(self, offering_id: str) -> str:
        env = {**os.environ, "MOODLE_URL": self.url, "MOODLE_TOKEN": self.token}
        if LAB_DIR:
            env["MOODLE_LAB_DIR"] = LAB_DIR
        args = [sys.executable, str(ROOT / "scripts" / "simulate_progress.py"), offering_id]
        done = subprocess.run(args + (["--lab"] if self.name == "lab" else []), env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


def _lab_regrade(courseid: int, userid: int, idnumber: str, grade: float) -> None:
    plan = Path(f"/tmp/moodle-sync-e2e-regrade-{uuid.uuid4().hex}.json")
    plan.write_text(json.dumps({"events": [{"type": "grade", "courseid": courseid, "userid": userid,
                                            "idnumber": idnumber, "grade": grade}]}))
    plan.chmod(0o644)
    try:
        env = {**os.environ, **({"MOODLE_LAB_DIR": LAB_DIR} if LAB_DIR else {})}
        subprocess.run(["bash", str(ROOT / "scripts" / "moodle-lab.sh"), "php", str(ROOT / "scripts" / "lab" / "progress.php"),
                        f"--plan={plan}"], env=env, check=True, capture_output=True, timeout=300)
    finally:
        plan.unlink()


@pytest.fixture(params=["sandbox", pytest.param("lab", marks=pytest.mark.skipif(
    not LAB_READY, reason="no lab: eval \"$(scripts/moodle-lab.sh up)\" sets MOODLE_LAB_DB_URL, MOODLE_URL, MOODLE_TOKEN"))])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "sandbox":
        server = request.getfixturevalue("sandbox")

        def regrade(courseid: int, userid: int, idnumber: str, grade: float) -> None:
            server.control.set_grade(courseid, userid, idnumber, grade)

        return Target("sandbox", server.url, server.token, lambda o: sandbox_truth(server, o), regrade, server)
    assert LAB_DB_URL and REAL_MOODLE_URL and REAL_MOODLE_TOKEN
    return Target("lab", REAL_MOODLE_URL, REAL_MOODLE_TOKEN, lambda o: lab_truth(LAB_DB_URL, o), _lab_regrade)
