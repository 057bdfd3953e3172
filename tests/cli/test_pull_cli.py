"""``moodle-sync pull`` and ``schedule`` against the sandbox: full then incremental pulls, what makes an
incremental pull re-read an enrolment, the report-builder path, the lock, the log, the schedule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.config import default_data_dir
from moodle_sync.evidence.lock import pull_lock
from moodle_sync.sandbox import SandboxServer
from moodle_sync.store import Store
from moodle_sync.ws import connect
from moodle_sync.ws.moodle import Moodle

from .conftest import run, small_offering

EXAMPLES = Path(__file__).parents[2] / "examples"
OFFERING_ID = "koding-2026-a1"
# The tracked activities of MASTER-KODING, imported into every course (see moodle_sync/sandbox/seed.py).
ACTIVITIES = ["panduan", "pretest", "materi-1", "tugas-1", "materi-2", "tugas-2", "materi-3", "tugas-3",
              "posttest", "refleksi"]
PER_ENROLMENT = ("core_completion_get_course_completion_status",
                 "core_completion_get_activities_completion_status")




def pull(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    got, out, err = run(capsys, "pull", *args, "--json")
    assert got == code, out + err
    return json.loads(out)




@pytest.fixture
def moodle(sandbox: SandboxServer) -> Iterator[Moodle]:
    m = connect(sandbox.url, sandbox.token)
    yield m
    m.client.close()


@pytest.fixture
def enrolled(sandbox_env: SandboxServer, store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The small offering provisioned, its 12 selected participants enrolled."""
    path = str(small_offering(tmp_path / "offering"))
    assert run(capsys, "apply", path, "--yes", "--quiet")[0] == 0
    assert run(capsys, "select", path, "--applicants", str(EXAMPLES / "registrations.csv"), "--quiet")[0] == 0
    assert run(capsys, "enrol", path, "--quiet")[0] == 0
    return path


def course_id(moodle: Moodle, key: str) -> int:
    return moodle.courses_by_field("idnumber", f"{OFFERING_ID}-{key}")[0].id


def student_ids(moodle: Moodle, key: str) -> list[int]:
    return sorted(u.id for u in moodle.enrolled_users(course_id(moodle, key)) if "student" in u.roles)


def current(store_path: Path) -> dict[int, Any]:
    with Store.open(str(store_path)) as store:
        return {s.user_id: s for s in store.current(OFFERING_ID)}


def per_enrolment_calls(sandbox: SandboxServer) -> int:
    """Calls made for single enrolments (whole-course reads excluded)."""
    counts = sandbox.control.call_counts()
    return sum(counts.get(f, 0) for f in PER_ENROLMENT)


def completion_reads(sandbox: SandboxServer) -> int:
    """How many enrolments had their course completion read (one call each)."""
    return sandbox.control.call_counts().get("core_completion_get_course_completion_status", 0)


def test_first_pull_reads_everything_then_nothing(enrolled: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                                  sandbox: SandboxServer) -> None:
    first = pull(capsys)
    assert first["offerings"] == [OFFERING_ID] and first["mode"] == "full" and first["status"] == "ok"
    assert first["enrolments"] == 12 and first["reread"] == 12 and first["changed"] == 12
    assert first["errors"] == []
    assert completion_reads(sandbox) == 12
    calls = per_enrolment_calls(sandbox)
    snapshots = current(store_path)
    assert len(snapshots) == 12
    assert all(s.activities_total == len(ACTIVITIES) and s.activities_done == 0 and not s.completed
               for s in snapshots.values())
    assert {s.class_name for s in snapshots.values()} == {"Kelas Metro A", "Kelas Pesawaran A"}
    assert {s.regency for s in snapshots.values()} == {"metro", "pesawaran"}

    second = pull(capsys)
    assert (second["enrolments"], second["reread"], second["changed"]) == (12, 0, 0)
    assert per_enrolment_calls(sandbox) == calls       # nothing re-read
    assert second["mode"] == "incremental"
    # only the whole-course reads are left (the first, full, pull also read each course's contents)
    assert second["calls"] == first["calls"] - calls - 2
    code, out, _ = run(capsys, "pull")
    assert code == 0 and "12 enrolments, 0 re-read, 0 changed" in out


def test_a_grade_by_a_teacher_rereads_exactly_that_enrolment(enrolled: str, store_path: Path,
                                                             capsys: pytest.CaptureFixture[str], sandbox: SandboxServer,
                                                             moodle: Moodle) -> None:
    pull(capsys)
    cid = course_id(moodle, "metro")
    graded = student_ids(moodle, "metro")[2]
    sandbox.control.set_grade(cid, graded, "pretest", 7.5)
    reads = completion_reads(sandbox)
    after = pull(capsys)
    assert after["reread"] == 1 and after["changed"] == 1
    assert completion_reads(sandbox) == reads + 1       # that enrolment only
    snapshots = current(store_path)
    assert snapshots[graded].pretest_grade == 7.5 and snapshots[graded].pretest_max == 10.0
    assert all(s.pretest_grade is None for u, s in snapshots.items() if u != graded)
    assert pull(capsys)["reread"] == 0


def test_completion_is_picked_up_after_cron(enrolled: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                            sandbox: SandboxServer, moodle: Moodle) -> None:
    pull(capsys)
    cid = course_id(moodle, "pesawaran")
    finisher = student_ids(moodle, "pesawaran")[0]
    sandbox.control.record_access(cid, finisher)      # the participant works in the course
    for idnumber in ACTIVITIES:
        sandbox.control.complete_activity(cid, finisher, idnumber)
    doc = pull(capsys)
    assert doc["reread"] == 1
    snap = current(store_path)[finisher]
    assert snap.activities_done == snap.activities_total == len(ACTIVITIES)
    assert not snap.completed                          # Moodle's cron has not run yet

    assert sandbox.control.run_cron() == 1             # no visit since: only the "all done" rule re-reads
    doc = pull(capsys)
    assert doc["reread"] == 1 and doc["changed"] == 1
    snap = current(store_path)[finisher]
    assert snap.completed and snap.time_completed
    assert pull(capsys)["reread"] == 0                 # complete: not read again
    assert sum(s.completed for s in current(store_path).values()) == 1


def test_dry_run_says_what_changed_and_saves_nothing(enrolled: str, store_path: Path,
                                                     capsys: pytest.CaptureFixture[str], sandbox: SandboxServer,
                                                     moodle: Moodle) -> None:
    doc = pull(capsys, "--dry-run")
    assert (doc["enrolments"], doc["reread"], doc["changed"]) == (12, 12, 12)
    assert current(store_path) == {}
    with Store.open(str(store_path)) as store:
        assert store.runs() == []
    pull(capsys)
    sandbox.control.set_grade(course_id(moodle, "metro"), student_ids(moodle, "metro")[0], "posttest", 9.0)
    doc = pull(capsys, "--dry-run")
    assert (doc["reread"], doc["changed"]) == (1, 1)
    assert all(s.posttest_grade is None for s in current(store_path).values())
    code, out, _ = run(capsys, "pull", "--dry-run")
    assert code == 0 and out.startswith("Dry run: would pull") and "1 changed" in out
    assert pull(capsys)["changed"] == 1                # the real pull still sees the change


def test_full_rereads_everything(enrolled: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                 sandbox: SandboxServer) -> None:
    pull(capsys)
    doc = pull(capsys, "--full")
    assert doc["mode"] == "full" and doc["reread"] == 12 and doc["changed"] == 0
    assert completion_reads(sandbox) == 24
    with Store.open(str(store_path)) as store:
        runs = store.runs()
        assert [r.mode for r in runs[:2]] == ["full", "full"]   # the first pull of an offering is full
        assert all(r.status == "ok" for r in runs)


def test_report_builder_path_gives_the_same_completions(enrolled: str, store_path: Path,
                                                        capsys: pytest.CaptureFixture[str], sandbox: SandboxServer,
                                                        moodle: Moodle) -> None:
    for key, finishers in (("metro", 3), ("pesawaran", 1)):
        cid = course_id(moodle, key)
        for uid in student_ids(moodle, key)[:finishers]:
            sandbox.control.record_access(cid, uid)
            for idnumber in ACTIVITIES:
                sandbox.control.complete_activity(cid, uid, idnumber)
        sandbox.control.complete_activity(cid, student_ids(moodle, key)[-1], "panduan")   # one started
    sandbox.control.run_cron()
    per_user = pull(capsys, "--full")
    by_user = {u: (s.completed, s.activities_done > 0) for u, s in current(store_path).items()}
    assert sum(c for c, _ in by_user.values()) == 4

    report_id = sandbox.control.create_participants_report()
    calls = per_enrolment_calls(sandbox)
    doc = pull(capsys, "--report-id", str(report_id))
    assert doc["mode"] == "report" and doc["status"] == "ok" and doc["enrolments"] == per_user["enrolments"]
    assert per_enrolment_calls(sandbox) == calls       # no per-enrolment reads
    assert sandbox.control.call_counts()["core_reportbuilder_retrieve_report"] >= 1
    from_report = current(store_path)
    assert {u: (s.completed, s.activities_done > 0) for u, s in from_report.items()} == by_user
    assert all(s.time_completed for s in from_report.values() if s.completed)


def test_a_second_pull_while_one_runs_exits_75(enrolled: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                               sandbox: SandboxServer) -> None:
    with Store.open(str(store_path)) as other, pull_lock(other):   # another user's pull into the same store
        code, out, err = run(capsys, "pull")
    assert code == 75
    assert "another pull is running" in err
    assert per_enrolment_calls(sandbox) == 0
    with Store.open(str(store_path)) as store:
        assert store.runs() == []
    assert pull(capsys)["status"] == "ok"              # the lock is free again


def test_the_run_is_logged_without_the_token(enrolled: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                             sandbox: SandboxServer, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "pull.log"
    doc = pull(capsys, "--log", str(log))
    text = log.read_text("utf-8")
    assert f"run {doc['run_id']} full: ok, 12 enrolments, 12 re-read" in text
    assert sandbox.token not in text
    pull(capsys)
    assert "run" in (default_data_dir() / "pull.log").read_text("utf-8")


def test_pull_with_nothing_to_pull(sandbox_env: SandboxServer, store_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "pull")
    assert code == 0 and "No offerings in the store yet" in err
    doc = pull(capsys, "not-there", code=1)
    assert doc["status"] == "partial" and doc["errors"] == ["not-there: not in the store (apply it first)"]
    code, out, _ = run(capsys, "pull", "not-there")
    assert code == 1 and "not-there: not in the store" in out


def test_schedule_prints_cron_and_systemd_units(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_TOKEN", "sch3dul3-t0k3n-never-printed")
    code, out, _ = run(capsys, "schedule")
    assert code == 0
    assert "0 */1 * * *" in out and " pull --quiet" in out
    assert "[Service]" in out and "ExecStart=" in out and "SuccessExitStatus=75" in out
    assert "[Timer]" in out and "OnUnitActiveSec=60min" in out
    code, out, _ = run(capsys, "schedule", "--every", "30", "--profile-name", "bgtk", "--json")
    doc = json.loads(out)
    assert doc["crontab"].startswith("*/30 * * * * ") and "--profile bgtk pull --quiet" in doc["crontab"]
    assert "pull" in doc["systemd_service"] and "OnUnitActiveSec=30min" in doc["systemd_timer"]
    assert "sch3dul3-t0k3n-never-printed" not in out
    code, _, err = run(capsys, "schedule", "--every", "2")
    assert code == 2 and "at least 5 minutes" in err


def test_stale_hours_zero_rereads_every_incomplete_enrolment(enrolled: str, store_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    pull(capsys)
    assert pull(capsys, "--stale-hours", "0")["reread"] == 12


def test_grades_on_activity_skips_the_grade_reports_of_quiet_courses(enrolled: str, store_path: Path,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     sandbox: SandboxServer, moodle: Moodle,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pull(capsys)
    reports = lambda: sandbox.control.call_counts().get("gradereport_user_get_grade_items", 0)
    before = reports()
    assert pull(capsys, "--grades", "on-activity")["reread"] == 0
    assert reports() == before                                  # nobody opened a course: no grade report
    monkeypatch.setenv("MOODLE_SYNC_PULL_GRADES", "on-activity")  # the same, from the setting
    cid = course_id(moodle, "metro")
    sandbox.control.record_access(cid, student_ids(moodle, "metro")[0])
    assert pull(capsys)["reread"] == 1
    assert reports() == before + 1                              # only the course someone visited


def test_stats_show_wall_time_beside_summed_call_time(enrolled: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "pull", "--stats")
    assert code == 0
    assert "s summed (concurrent), in " in err and "s wall time" in err
    doc = pull(capsys, "--stats")
    assert doc["stats"]["wall_seconds"] > 0 and doc["stats"]["total_calls"] == doc["calls"]
