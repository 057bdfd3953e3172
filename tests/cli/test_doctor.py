"""``moodle-sync doctor`` against the sandbox: ready over REST and SOAP, missing functions named, a bad
token or an unreachable site reported (exit 1) without ever printing the token, no site configured (exit 2)."""

from __future__ import annotations

import json
import socket

import pytest

from moodle_sync.cli import main

from .conftest import run
from moodle_sync.sandbox import SandboxServer
from moodle_sync.ws.functions import required_for




def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("protocol", ["rest", "soap"])
def test_ready_against_the_sandbox(sandbox_env: SandboxServer, capsys: pytest.CaptureFixture[str],
                                   protocol: str) -> None:
    code, out, err = run(capsys, "--protocol", protocol, "doctor", "--json")
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["ready"] is True and doc["missing_functions"] == [] and doc["protocol"] == protocol
    names = [c["name"] for c in doc["checks"]]
    assert f"{protocol.upper()} protocol enabled" in names
    assert {f"functions for {f}" for f in ("core", "provisioning", "enrolment", "completion")} <= set(names)
    assert all(c["status"] == "ok" for c in doc["checks"])
    code, out, _ = run(capsys, "--protocol", protocol, "doctor")
    assert code == 0 and "Ready." in out and protocol.upper() in out


def test_a_token_missing_functions_names_each_one(sandbox_env: SandboxServer, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    given = required_for("core") + required_for("provisioning")
    monkeypatch.setenv("MOODLE_TOKEN", sandbox_env.control.make_token(given))
    missing = sorted({f for feature in ("enrolment", "completion") for f in required_for(feature)} - set(given))
    assert missing  # the test means something only if some are missing
    code, out, _ = run(capsys, "doctor", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ready"] is False and doc["missing_functions"] == missing
    failed = {c["name"] for c in doc["checks"] if c["status"] == "fail"}
    assert failed == {"functions for enrolment", "functions for completion"}


def test_missing_functions_are_named_in_a_wide_table(sandbox_env: SandboxServer, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    given = required_for("core") + required_for("provisioning")
    monkeypatch.setenv("MOODLE_TOKEN", sandbox_env.control.make_token(given))
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and "Not ready" in out
    for function in sorted(set(required_for("enrolment") + required_for("completion")) - set(given)):
        assert function in out


def test_a_token_without_site_info_is_named(sandbox_env: SandboxServer, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_TOKEN", sandbox_env.control.make_token(required_for("provisioning")))
    code, out, _ = run(capsys, "doctor", "--json")
    assert code == 1
    assert json.loads(out)["missing_functions"] == ["core_webservice_get_site_info"]


@pytest.mark.parametrize("protocol", ["rest", "soap"])
def test_an_invalid_token_fails_without_printing_it(sandbox_env: SandboxServer, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch, protocol: str) -> None:
    bogus = "f00dfeedf00dfeedf00dfeedf00dfeed"
    monkeypatch.setenv("MOODLE_TOKEN", bogus)
    for extra in ([], ["--json"]):
        code, out, err = run(capsys, "--protocol", protocol, "doctor", *extra)
        assert code == 1
        assert bogus not in out + err
        assert "Invalid token" in out
    doc = json.loads(out)
    token_check = next(c for c in doc["checks"] if c["name"] == "token valid")
    assert token_check["status"] == "fail" and doc["ready"] is False


def test_no_token_at_all_is_a_failed_check(sandbox: SandboxServer, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_URL", sandbox.url)
    code, out, _ = run(capsys, "doctor", "--json")
    assert code == 1
    token_check = next(c for c in json.loads(out)["checks"] if c["name"] == "token valid")
    assert token_check["status"] == "fail" and "MOODLE_TOKEN" in token_check["detail"]


def test_an_unreachable_site(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("MOODLE_TOKEN", "0123456789abcdef0123456789abcdef")
    code, out, err = run(capsys, "--timeout", "5", "doctor", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ready"] is False
    assert doc["checks"][0]["name"] == "site reachable" and doc["checks"][0]["status"] == "fail"
    assert "cannot reach" in doc["checks"][0]["detail"]
    assert doc["checks"][-1]["status"] == "skip"
    assert "0123456789abcdef0123456789abcdef" not in out + err


def test_no_site_configured_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "doctor")
    assert code == 2
    assert "no Moodle site" in err and "MOODLE_URL" in err and "Traceback" not in err
    code, out, _ = run(capsys, "doctor", "--json")
    assert code == 2 and json.loads(out)["error"] == "ConfigError"


def test_missing_functions_are_named_in_an_80_column_output(sandbox_env: SandboxServer,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    given = required_for("core") + required_for("provisioning")
    monkeypatch.setenv("MOODLE_TOKEN", sandbox_env.control.make_token(given))
    with pytest.raises(SystemExit) as exited:
        main(["doctor"])
    out = capsys.readouterr().out
    assert exited.value.code == 1
    for function in sorted(set(required_for("enrolment") + required_for("completion")) - set(given)):
        assert function in out
