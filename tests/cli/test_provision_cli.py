"""``moodle-sync plan`` and ``apply`` against the sandbox: exit codes, dry runs that write nothing, the
confirmation, and a change made by hand in Moodle showing up as exactly one update."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from moodle_sync.sandbox import SandboxServer
from moodle_sync.ws import connect

from .conftest import run, run_json, site_store, small_offering, writes

EXAMPLES = Path(__file__).parents[2] / "examples"
OFFERING = str(EXAMPLES / "offering-koding.yaml")
OFFERING_ID = "koding-2026-a1"








def test_plan_is_2_before_apply_and_0_after(sandbox_env: SandboxServer, store_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", OFFERING, "--json")
    assert code == 2
    doc = json.loads(out)
    assert doc["offering"] == OFFERING_ID and doc["changes_pending"] is True and doc["problems"] == []
    assert sum(1 for a in doc["actions"] if a["kind"] == "course" and a["op"] == "create") == 15
    assert not writes(sandbox_env.control.call_counts())  # planning reads only

    code, out, _ = run(capsys, "apply", OFFERING, "--yes", "--json")
    assert code == 0, out
    applied = json.loads(out)
    assert applied["applied"] is True and applied["result"]["failed"] == []

    code, out, _ = run(capsys, "plan", OFFERING)
    assert code == 0 and "Nothing to change" in out
    code, out, _ = run(capsys, "plan", OFFERING, "--json")
    assert code == 0 and json.loads(out)["changes_pending"] is False

    with site_store(store_path) as store:   # the audit trail and the object map
        assert store.get_offering(OFFERING_ID) is not None
        assert len(store.objects(OFFERING_ID, "course")) == 15
        assert store.writes(OFFERING_ID) and all(
            w.outcome == "ok" or (w.kind == "content" and "waiting for its answer" in (w.detail or ""))
            for w in store.writes(OFFERING_ID))   # an import is first recorded in flight, then settled
        assert store.unsettled_writes(OFFERING_ID, "content") == {}
    before = writes(sandbox_env.control.call_counts())
    code, _, _ = run(capsys, "apply", OFFERING, "--yes")
    assert code == 0
    assert writes(sandbox_env.control.call_counts()) == before   # nothing to do: nothing sent


def test_apply_dry_run_writes_nothing(sandbox_env: SandboxServer, store_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "apply", OFFERING, "--dry-run", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["applied"] is False and doc["dry_run"] is True and doc["changes_pending"] is True
    assert writes(sandbox_env.control.call_counts()) == {}
    assert sandbox_env.control.call_counts()  # it did read Moodle
    code, out, _ = run(capsys, "apply", OFFERING, "--dry-run")
    assert code == 0 and f"Plan for {OFFERING_ID}:" in out and "0 unchanged" in out
    assert writes(sandbox_env.control.call_counts()) == {}
    assert not store_path.exists()
    code, _, _ = run(capsys, "plan", OFFERING)
    assert code == 2   # still everything to do


def test_apply_json_without_yes_is_a_usage_error(sandbox_env: SandboxServer, store_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "apply", OFFERING, "--json")
    assert code == 2 and out == ""
    assert "--yes" in err
    assert writes(sandbox_env.control.call_counts()) == {}


def test_apply_off_a_terminal_needs_yes_as_every_command_that_writes(
        sandbox_env: SandboxServer, store_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """cron or a pipe: no one can answer, so apply refuses without --yes (the rule of enrol and withdraw)."""
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    code, out, err = run(capsys, "apply", OFFERING)
    assert code == 2 and "--yes" in err and "Applied" not in out
    assert writes(sandbox_env.control.call_counts()) == {}
    assert run(capsys, "apply", OFFERING, "--dry-run")[0] == 0   # --dry-run never asks


class Terminal(io.StringIO):
    """Standard input that is a terminal, with the answers typed in advance."""

    def isatty(self) -> bool:
        return True


def test_apply_asks_first(sandbox_env: SandboxServer, store_path: Path, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, _, err = run(capsys, "apply", OFFERING)
    assert code == 130 and "Apply" in err
    assert writes(sandbox_env.control.call_counts()) == {}
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, out, _ = run(capsys, "apply", OFFERING)
    assert code == 0 and "Applied" in out
    assert run(capsys, "plan", OFFERING)[0] == 0


def test_a_fullname_edited_in_moodle_is_exactly_one_update(sandbox_env: SandboxServer, store_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", OFFERING, "--yes", "--quiet")[0] == 0
    moodle = connect(sandbox_env.url, sandbox_env.token)
    try:
        course = moodle.courses_by_field("idnumber", f"{OFFERING_ID}-metro")[0]
        moodle.update_courses([{"id": course.id, "fullname": "Diubah manual"}])
    finally:
        moodle.client.close()
    code, out, _ = run(capsys, "plan", OFFERING, "--json")
    assert code == 2
    pending = [a for a in json.loads(out)["actions"] if a["op"] != "unchanged"]
    assert len(pending) == 1
    action = pending[0]
    assert (action["kind"], action["op"], action["key"]) == ("course", "update", "metro")
    assert action["changes"] == [{"field": "fullname", "old": "Diubah manual", "new": course.fullname}]
    code, out, _ = run(capsys, "plan", OFFERING)
    assert code == 2 and "Diubah manual" in out
    assert run(capsys, "apply", OFFERING, "--yes")[0] == 0
    assert run(capsys, "plan", OFFERING)[0] == 0


def test_a_missing_master_course_is_a_problem(sandbox_env: SandboxServer, store_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    moodle = connect(sandbox_env.url, sandbox_env.token)
    try:
        master = moodle.courses_by_field("idnumber", "MASTER-KODING")[0]
        moodle.delete_courses([master.id])
    finally:
        moodle.client.close()
    code, out, _ = run(capsys, "plan", OFFERING, "--json")
    assert code == 1
    problems = json.loads(out)["problems"]
    assert problems and any("MASTER-KODING" in p for p in problems)
    code, out, _ = run(capsys, "apply", OFFERING, "--yes", "--json")
    assert code == 1 and json.loads(out)["applied"] is False
    assert writes(sandbox_env.control.call_counts()) == {"core_course_delete_courses": 1}


def test_a_bad_offering_file_is_an_input_error(sandbox_env: SandboxServer, store_path: Path,
                                               capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "facilitators.csv", tmp_path / "facilitators.csv")
    bad = tmp_path / "bad.yaml"
    text = re.sub(r"(?m)^seats: *\d+", "seats: many", (EXAMPLES / "offering-koding.yaml").read_text("utf-8"))
    assert "seats: many" in text
    bad.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "plan", str(bad))
    assert code == 1 and out == ""
    assert "seats" in err and "bad.yaml" in err
    assert sandbox_env.control.call_counts() == {}


def test_an_import_still_running_is_unknown_exit_1_never_sent_twice_then_settled(
        sandbox_env: SandboxServer, store_path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from moodle_sync.exceptions import WriteOutcomeUnknownError
    from moodle_sync.ws.moodle import Moodle

    offering = str(small_offering(tmp_path / "o", ("metro", "pesawaran")))
    held: list[tuple[int, int]] = []
    real_import = Moodle.import_course

    def import_course(self: Moodle, importfrom: int, importto: int) -> None:
        if not held:   # the first import runs on in Moodle after the client gave up (it lands below)
            held.append((importfrom, importto))
            raise WriteOutcomeUnknownError("core_course_import_course", "no answer within the timeout")
        real_import(self, importfrom, importto)

    monkeypatch.setattr(Moodle, "import_course", import_course)
    code, doc = run_json(capsys, "apply", offering, "--yes")
    assert code == 1 and doc["result"]["failed"] == []
    [unknown] = doc["result"]["unknown"]
    key = unknown.split(":")[0].rsplit(" ", 1)[-1]
    assert key in ("metro", "pesawaran") and "may still be running" in unknown
    assert f"--reimport {key}" in unknown

    code, out, _ = run(capsys, "apply", offering, "--yes")   # the rerun settles by reading: nothing yet
    assert code == 1 and "1 unknown (no answer)" in out and "unknown:" in out
    assert sandbox_env.control.call_counts()["core_course_import_course"] == 1   # the other course's only

    code, _, err = run(capsys, "apply", offering, "--yes", "--reimport", "nowhere")
    assert code == 2 and "nowhere" in err and "--reimport" in err

    moodle = connect(sandbox_env.url, sandbox_env.token)
    try:
        real_import(moodle, *held[0])   # Moodle finishes the first import
    finally:
        moodle.client.close()
    assert run(capsys, "plan", offering)[0] == 0
    assert run(capsys, "apply", offering, "--yes")[0] == 0
    with site_store(store_path) as store:
        assert store.unsettled_writes(OFFERING_ID, "content") == {}
        assert [w.outcome for w in store.writes(OFFERING_ID) if w.kind == "content" and w.key == key][-1] == "ok"


def test_the_facilitator_role_id_setting_enrols_facilitators_with_that_role(
        sandbox_env: SandboxServer, store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[profiles.default]\nfacilitator_role_id = 4\n", encoding="utf-8")   # non-editing teacher
    monkeypatch.setenv("MOODLE_SYNC_CONFIG", str(config))
    offering = str(small_offering(tmp_path / "offering", regencies=("metro",), seats=4, min_per_regency=1))
    code, out, err = run(capsys, "apply", offering, "--yes", "--quiet")
    assert code == 0, out + err
    moodle = connect(sandbox_env.url, sandbox_env.token)
    try:
        course = moodle.courses_by_field("idnumber", "koding-2026-a1-metro")[0]
        roles = {u.email: u.role_ids for u in moodle.enrolled_users(course.id)}
    finally:
        moodle.client.close()
    assert roles and all(ids == (4,) for ids in roles.values()), roles
