"""One handler maps every failure to an exit code and a message, and the token never shows: not on stdout,
stderr, in --json, in a traceback, nor in -vv debug logging (REST or SOAP, success or failure)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from moodle_sync.cli import cli
from moodle_sync.cli.app import App, pass_app
from moodle_sync.exceptions import ConfigError, InputError, InvalidParameterError, RequestShapeError
from moodle_sync.sandbox import SandboxServer

from .conftest import run

EXAMPLES = Path(__file__).parents[2] / "examples"
OFFERING = str(EXAMPLES / "offering-koding.yaml")




Install = Callable[[Callable[[App], object]], None]


@pytest.fixture
def command(monkeypatch: pytest.MonkeyPatch) -> Install:
    """Install ``boom``, a command that runs the given function with the App, for this test only."""

    def install(body: Callable[[App], object]) -> None:
        @click.command("boom")
        @click.option("--json", "as_json", is_flag=True)
        @pass_app
        def boom(app: App, as_json: bool) -> object:
            app.json = as_json
            return body(app)

        monkeypatch.setitem(cli.commands, "boom", boom)

    return install


def raising(exc: BaseException) -> Callable[[App], object]:
    def body(app: App) -> object:
        raise exc
    return body


def test_success_is_the_commands_return_value(capsys: pytest.CaptureFixture[str], command: Install) -> None:
    command(lambda app: 0)
    assert run(capsys, "boom")[0] == 0
    command(lambda app: 2)
    assert run(capsys, "boom")[0] == 2
    command(lambda app: None)
    assert run(capsys, "boom")[0] == 0


def test_a_configuration_error_is_2(capsys: pytest.CaptureFixture[str], command: Install) -> None:
    command(raising(ConfigError("no Moodle site: set MOODLE_URL")))
    code, out, err = run(capsys, "boom")
    assert (code, out, err) == (2, "", "Error: no Moodle site: set MOODLE_URL\n")


def test_a_moodle_sync_error_is_1_with_json_on_stdout(capsys: pytest.CaptureFixture[str], command: Install) -> None:
    command(raising(InvalidParameterError("core_course_create_courses", "invalidparameter",
                                          "Invalid parameter value detected", debuginfo="shortname taken")))
    code, out, err = run(capsys, "boom", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc == {"error": "InvalidParameterError", "function": "core_course_create_courses",
                   "errorcode": "invalidparameter", "debuginfo": "shortname taken",
                   "message": "core_course_create_courses: Invalid parameter value detected [invalidparameter] "
                              "(shortname taken)"}
    assert err.startswith("Error: core_course_create_courses: Invalid parameter value detected")
    command(raising(InputError("not a date", file="o.yaml", row=7, field="start")))
    code, out, err = run(capsys, "boom")
    assert (code, out) == (1, "") and err == "Error: o.yaml:7: start: not a date\n"


def test_a_request_we_built_wrong_is_an_internal_error(capsys: pytest.CaptureFixture[str], command: Install) -> None:
    command(raising(RequestShapeError("core_user_create_users: users[0][lastname] is required")))
    assert run(capsys, "boom")[0] == 3


def test_ctrl_c_is_130(capsys: pytest.CaptureFixture[str], command: Install) -> None:
    command(raising(KeyboardInterrupt()))
    code, _, err = run(capsys, "boom")
    assert code == 130 and "Aborted." in err and "Traceback" not in err


def test_a_crash_is_3_with_the_traceback_and_no_token(capsys: pytest.CaptureFixture[str], command: Install,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    token = secrets.token_hex(16)
    monkeypatch.setenv("MOODLE_TOKEN", token)

    def crash(app: App) -> object:
        used = app.settings.token()
        raise RuntimeError(f"unexpected answer for wstoken={used}&wsfunction=x; token {used} rejected")

    command(crash)
    code, out, err = run(capsys, "boom")
    assert code == 3
    assert "Traceback" in err and "RuntimeError: unexpected answer" in err and "in crash" in err
    assert "Internal error: this is a bug in moodle-sync" in err
    assert token not in out + err and "***" in err


def test_usage_errors_are_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "no-such-command")[0] == 2
    assert run(capsys, "plan")[0] == 2                      # missing OFFERING
    assert run(capsys, "plan", "/nowhere/offering.yaml")[0] == 2
    assert run(capsys, "--protocol", "xmlrpc", "doctor")[0] == 2
    code, out, _ = run(capsys, "--version")
    assert code == 0 and "moodle-sync" in out


def test_the_token_is_never_printed_by_any_command(sandbox_env: SandboxServer, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token = sandbox_env.token
    monkeypatch.setenv("MOODLE_SYNC_STORE", str(tmp_path / "store.sqlite"))
    monkeypatch.chdir(tmp_path)
    runs = [
        ["doctor"], ["doctor", "--json"], ["--protocol", "soap", "doctor", "--json"],
        ["config", "show"], ["config", "show", "--json"],
        ["plan", OFFERING, "--json", "--stats"], ["apply", OFFERING, "--dry-run", "--stats"],
        ["select", OFFERING, "--applicants", str(EXAMPLES / "registrations.csv"), "--dry-run", "--json"],
        ["pull", "--json"], ["schedule"], ["report", "koding-2026-a1"],
    ]
    for args in runs:
        code, out, err = run(capsys, *args)
        assert token not in out + err, args
    monkeypatch.setenv("MOODLE_TOKEN", token[::-1])   # a wrong token: errors must not show it either
    for args in (["plan", OFFERING], ["plan", OFFERING, "--json"], ["--protocol", "soap", "plan", OFFERING]):
        code, out, err = run(capsys, *args)
        assert code == 1 and token[::-1] not in out + err, args
        assert "Invalid token" in out + err


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "moodle_sync", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_debug_logging_never_shows_the_token(sandbox: SandboxServer, tmp_path: Path) -> None:
    token = sandbox.token
    env = {**os.environ, "MOODLE_URL": sandbox.url, "MOODLE_TOKEN": token,
           "MOODLE_SYNC_STORE": str(tmp_path / "store.sqlite")}
    soap = _cli(["-vv", "--protocol", "soap", "doctor", "--json"], env)
    assert soap.returncode == 0, soap.stderr[-2000:]
    assert "DEBUG" in soap.stderr and "wstoken=***" in soap.stderr   # urllib3 logged the SOAP URLs, masked
    rest = _cli(["-vv", "plan", OFFERING], env)
    assert rest.returncode == 2 and "DEBUG" in rest.stderr
    wrong = _cli(["-vv", "--protocol", "soap", "doctor"], {**env, "MOODLE_TOKEN": token[::-1]})
    assert wrong.returncode == 1 and "Invalid token" in wrong.stdout
    for done, used in ((soap, token), (rest, token), (wrong, token[::-1])):
        assert used not in done.stdout + done.stderr



def test_a_wrong_token_stops_a_pull_at_once(capsys: pytest.CaptureFixture[str], sandbox_env: SandboxServer,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import small_offering

    monkeypatch.setenv("MOODLE_SYNC_STORE", str(tmp_path / "store.sqlite"))
    monkeypatch.chdir(tmp_path)
    path = str(small_offering(tmp_path / "offering"))
    assert run(capsys, "apply", path, "--yes", "--quiet")[0] == 0
    assert run(capsys, "select", path, "--applicants", str(EXAMPLES / "registrations.csv"), "--quiet")[0] == 0
    assert run(capsys, "enrol", path, "--quiet", "--yes")[0] == 0
    before = sum(sandbox_env.control.call_counts().values())
    monkeypatch.setenv("MOODLE_TOKEN", "0" * 32)
    code, _, err = run(capsys, "pull")
    assert code == 1 and "Invalid token - token not found [invalidtoken]" in err
    assert sum(sandbox_env.control.call_counts().values()) - before <= 4   # one per concurrent read at most


def test_offering_is_a_file_or_the_id_of_one_the_store_recorded(capsys: pytest.CaptureFixture[str],
                                                                 sandbox_env: SandboxServer, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import small_offering

    monkeypatch.setenv("MOODLE_SYNC_STORE", str(tmp_path / "store.sqlite"))
    monkeypatch.chdir(tmp_path)
    path = small_offering(tmp_path / "offering", id="by-id-1", category="T by-id / Koding")
    code, _, err = run(capsys, "plan", "by-id-1")
    assert code == 2 and "no store records an offering 'by-id-1': give its YAML file" in err
    assert run(capsys, "apply", str(path), "--yes", "--quiet")[0] == 0

    by_id, by_file = run(capsys, "plan", "by-id-1"), run(capsys, "plan", str(path))

    assert by_id[0] == 0 and by_id[:2] == by_file[:2] and "by-id-1" in by_id[1]
    code, _, err = run(capsys, "followup", "other-id", "--dry-run")
    assert code == 2 and "offering 'other-id' is not in the store: give its YAML file" in err
    code, _, err = run(capsys, "enrol", "missing.yaml", "--dry-run")
    assert code == 2 and "missing.yaml: no such offering file" in err
    path.rename(tmp_path / "moved.yaml")
    code, _, err = run(capsys, "completers", "by-id-1", "--dry-run")
    assert code == 2 and "no longer there: give its YAML file" in err
