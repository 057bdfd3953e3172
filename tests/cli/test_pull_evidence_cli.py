"""``moodle-sync pull`` and what it records: a run stopped by Ctrl-C (exit 130) or a crash (exit 3) is
never ``ok``; participants are those enrolled with the configured ``student_role_id``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.evidence import pull as pull_module
from moodle_sync.sandbox import SandboxServer

from .conftest import run, site_store, small_offering

EXAMPLES = Path(__file__).parents[2] / "examples"
OFFERING_ID = "koding-2026-a1"


def enrol_small_offering(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    path = str(small_offering(folder))
    assert run(capsys, "apply", path, "--yes", "--quiet")[0] == 0
    assert run(capsys, "select", path, "--applicants", str(EXAMPLES / "registrations.csv"), "--quiet")[0] == 0
    assert run(capsys, "enrol", path, "--quiet", "--yes")[0] == 0


def runs(store_path: Path) -> list[Any]:
    with site_store(store_path) as store:
        return store.runs()


@pytest.mark.parametrize("exc,code,status", [(KeyboardInterrupt, 130, "interrupted"),
                                             (RuntimeError, 3, "failed")])
def test_a_pull_stopped_half_way_is_recorded_as_stopped(
        sandbox_env: SandboxServer, store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, exc: type[BaseException], code: int, status: str) -> None:
    enrol_small_offering(capsys, tmp_path / "offering")
    assert run(capsys, "pull", "--quiet")[0] == 0

    def stop(*args: Any, **kwargs: Any) -> Any:
        raise exc()

    monkeypatch.setattr(pull_module, "run_reads", stop)    # after the whole-course reads, before any save
    got, _, err = run(capsys, "pull", "--full")
    assert got == code, err
    latest, first = runs(store_path)[:2]
    assert (latest.status, first.status) == (status, "ok") and latest.finished_at is not None
    assert latest.errors and latest.errors[-1].startswith(status)


def test_participants_are_those_with_the_configured_role(sandbox_env: SandboxServer, store_path: Path,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[profiles.default]\nstudent_role_id = 4\n", encoding="utf-8")
    monkeypatch.setenv("MOODLE_SYNC_CONFIG", str(config))
    enrol_small_offering(capsys, tmp_path / "offering")      # enrolled as role 4 (non-editing teacher)
    got, out, err = run(capsys, "pull", "--json")
    assert got == 0, err
    assert json.loads(out)["enrolments"] == 12
