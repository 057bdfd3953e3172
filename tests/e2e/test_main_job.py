"""The main job end to end, on the sandbox and on the real Moodle 4.5 lab (scripts/moodle-lab.sh), with the
same assertions: apply an offering -> plan shows nothing to change -> select + enrol the example
registrations -> simulated progress (on the lab: real quiz attempts, page views, submissions, Moodle's own
completion task) -> pull -> the report's per-course enrolled / started / completed / course grade % /
pre-test % / post-test % equal what the site's own database says; a facilitator's regrade is picked up by
the next incremental pull; a withdrawal promotes from the waitlist. Last, both targets agree number for
number.

The lab runs when ``MOODLE_LAB_DB_URL`` (and the lab's ``MOODLE_URL``/``MOODLE_TOKEN``) are set, as
``eval "$(scripts/moodle-lab.sh up)"`` sets them; it needs root (the lab's PHP runs as www-data).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.conftest import run, run_json
from tests.e2e.conftest import EXAMPLES, Target
from tests.e2e.truth import CourseTruth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
RESULTS: dict[str, dict[str, Any]] = {}   # target -> what the report said, for the agreement test
FIGURES = ("enrolled", "withdrawn", "started", "completed", "grade_mean_pct", "pre_mean_pct", "post_mean_pct")


def _offering(folder: Path, offering_id: str) -> Path:
    document = yaml.safe_load((EXAMPLES / "offering-koding.yaml").read_text("utf-8"))
    document.update(id=offering_id, category=f"E2E {offering_id} / Koding",
                    facilitators=str(EXAMPLES / "facilitators.csv"))
    path = folder / "offering.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _per_course(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["group"]: {f: row[f] for f in FIGURES} for row in report["breakdowns"]["course"]}


def _assert_equal_to_truth(report: dict[str, Any], truth: dict[str, CourseTruth]) -> None:
    reported = _per_course(report)
    assert sorted(reported) == sorted(truth)
    for key, expected in truth.items():
        got = reported[key]
        for figure in FIGURES:
            want = getattr(expected, figure)
            if isinstance(want, float):
                assert got[figure] == pytest.approx(want, abs=1e-6), (key, figure, got, expected)
            else:
                assert got[figure] == want, (key, figure, got, expected)


def test_main_job_equals_the_sites_database(target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    offering_id = f"e2e-{uuid.uuid4().hex[:8]}"
    target.use(monkeypatch, tmp_path / "store.sqlite")
    offering = str(_offering(tmp_path, offering_id))

    code, out, err = run(capsys, "apply", offering, "--yes")
    assert code == 0, out + err
    code, out, err = run(capsys, "plan", offering)
    assert code == 0 and "Nothing to change" in out, out + err

    code, out, err = run(capsys, "select", offering, "--applicants", str(EXAMPLES / "registrations.csv"),
                         "--output", str(tmp_path / "seleksi"), "--no-moodle-history")
    assert code == 0, out + err
    code, enrolled = run_json(capsys, "enrol", offering, "--yes")
    assert code == 0 and not enrolled["failed"], enrolled

    target.simulate(offering_id)
    code, pulled = run_json(capsys, "pull", offering_id)
    assert code == 0 and pulled, pulled
    code, report = run_json(capsys, "report", offering_id, "--format", "json")
    assert code == 0
    truth = target.truth(offering_id)
    _assert_equal_to_truth(report, truth)
    assert sum(t.enrolled for t in truth.values()) == 300
    assert sum(t.completed for t in truth.values()) > 0, "no course completed: completion criteria or cron"
    assert all(t.grade_mean_pct is not None for t in truth.values() if t.started)

    # A facilitator regrades one post-test: the next incremental pull sees it.
    course_key, userid, courseid, regraded = _someone_with_a_posttest(report, target, offering_id)
    target.regrade(courseid, userid, "posttest", 10.0)
    code, pulled = run_json(capsys, "pull", offering_id)
    assert code == 0
    code, report = run_json(capsys, "report", offering_id, "--format", "json")
    after = target.truth(offering_id)
    assert after[course_key].post_mean_pct != truth[course_key].post_mean_pct
    _assert_equal_to_truth(report, after)

    # A withdrawal suspends one participant and gives the seat to the waitlist.
    email = next(f["email"] for f in report["follow_up"] if f["reason"] == "not_started")
    code, withdrawn = run_json(capsys, "withdraw", offering, email, "--yes")
    assert code == 0, withdrawn
    assert withdrawn.get("promoted"), withdrawn
    code, pulled = run_json(capsys, "pull", offering_id)
    code, report = run_json(capsys, "report", offering_id, "--format", "json")
    final = target.truth(offering_id)
    assert sum(t.withdrawn for t in final.values()) == 1
    assert sum(t.enrolled for t in final.values()) == 300
    _assert_equal_to_truth(report, final)
    RESULTS[target.name] = {"first": _per_course_rounded(truth), "final": _per_course_rounded(final),
                            "regraded": regraded, "withdrawn": email}


def _per_course_rounded(truth: dict[str, CourseTruth]) -> dict[str, tuple[Any, ...]]:
    return {k: tuple(round(v, 6) if isinstance(v, float) else v for v in (getattr(t, f) for f in FIGURES))
            for k, t in truth.items()}


def _someone_with_a_posttest(report: dict[str, Any], target: Target, offering_id: str) -> tuple[str, int, int, str]:
    """(course key, user id, course id, full name) of the first participant in Moodle's grade report order
    (last name, first name) whose post-test is below 10, in the first course that has one."""
    from moodle_sync.ws import connect

    moodle = connect(target.url, target.token)
    courses = sorted((c for c in moodle.courses_by_field("", "") if c.idnumber.startswith(offering_id + "-")),
                     key=lambda c: c.idnumber)
    for course in courses:
        for item in moodle.call("gradereport_user_get_grade_items", {"courseid": course.id, "userid": 0})["usergrades"]:
            post = next((g for g in item["gradeitems"] if g.get("idnumber") == "posttest"), None)
            if post and post.get("graderaw") is not None and post["graderaw"] < 10:
                return (course.idnumber.removeprefix(offering_id + "-"), int(item["userid"]), course.id,
                        str(item["userfullname"]))
    pytest.fail("nobody has a post-test below 10")


def test_sandbox_and_lab_agree_number_for_number() -> None:
    if "lab" not in RESULTS or "sandbox" not in RESULTS:
        pytest.skip("needs the scenario on both the sandbox and the lab in this run")
    assert RESULTS["sandbox"] == RESULTS["lab"]
