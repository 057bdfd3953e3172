"""``moodle-sync doctor`` against the sandbox: ready over REST and SOAP, missing functions and capabilities
named, a bad token, an unreachable site, a server that is not a Moodle or a page URL reported (exit 1)
without ever printing the token, no site configured (exit 2); ``--requirements`` with no site at all."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from moodle_sync.cli import main
from moodle_sync.sandbox import SandboxServer
from moodle_sync.ws.functions import FUNCTIONS, required_for

from .conftest import run


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
    missing = sorted({f for feature in ("enrolment", "completion", "followup") for f in required_for(feature)}
                     - set(given))
    assert missing  # the test means something only if some are missing
    code, out, _ = run(capsys, "doctor", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ready"] is False and doc["missing_functions"] == missing
    failed = {c["name"] for c in doc["checks"] if c["status"] == "fail"}
    assert failed == {"functions for enrolment", "functions for completion", "functions for followup"}


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


# --requirements: what an admin (or scripts/moodle-lab.sh) sets up, with no site at all ---------------

def test_requirements_need_no_site_and_list_functions_capabilities_and_roles(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "doctor", "--requirements", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["functions", "capabilities", "assign_roles", "features"]
    needed = {f for feature in ("core", "provisioning", "enrolment", "completion", "followup", "diagnosis")
              for f in required_for(feature)}
    assert set(doc["functions"]) == needed and len(doc["functions"]) == len(needed)
    assert "core_enrol_get_enrolled_users_with_capability" in doc["functions"]
    assert doc["assign_roles"] == ["student", "editingteacher"]
    assert doc["capabilities"] == sorted(doc["capabilities"])
    assert {"moodle/course:create", "moodle/role:assign", "moodle/site:viewparticipants", "moodle/role:review",
            "webservice/rest:use", "webservice/soap:use"} <= set(doc["capabilities"])
    assert "moodle/site:config" not in doc["capabilities"] and "moodle/course:delete" not in doc["capabilities"]
    features = doc["features"]
    assert [f for f, v in features.items() if v["included"]] == ["core", "provisioning", "enrolment", "completion",
                                                                  "followup", "diagnosis"]
    create = next(c for c in features["provisioning"]["capabilities"] if c["name"] == "moodle/course:create")
    assert create["title"] == "Create courses"
    assert create["checked"][0]["source"] == "course/externallib.php:create_courses"
    assert features["enrolment"]["assign_roles"] == ["student"]
    assert features["provisioning"]["assign_roles"] == ["editingteacher"]


def test_requirements_with_every_extra_cover_every_declared_function(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "doctor", "--requirements", "--extra", "test-data", "--extra", "report-builder",
                       "--json")
    doc = json.loads(out)
    assert code == 0 and set(doc["functions"]) == set(FUNCTIONS)
    assert {"moodle/course:delete", "moodle/user:delete", "moodle/reportbuilder:view"} <= set(doc["capabilities"])


def test_requirements_for_people(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "doctor", "--requirements")
    assert code == 0
    assert "capability moodle/course:create  (Create courses)" in out
    assert "allow role assignments: student" in out and "allow role assignments: editingteacher" in out
    assert "Optional (--extra): report-builder" in out


# capabilities against the sandbox: a token user whose system role lacks some ------------------------

def test_each_missing_capability_is_named_per_feature(sandbox_env: SandboxServer, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_TOKEN", sandbox_env.control.make_token(
        sorted(FUNCTIONS), lacking=["moodle/course:create", "report/completion:view"]))
    code, out, _ = run(capsys, "doctor", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["missing_functions"] == []
    assert doc["missing_capabilities"] == ["moodle/course:create", "report/completion:view"]
    failed = {c["name"]: c["capabilities"] for c in doc["checks"] if c["status"] == "fail"}
    assert failed == {"capabilities for provisioning": ["moodle/course:create"],
                      "capabilities for completion": ["report/completion:view"]}
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and "moodle/course:create  (Create courses)" in out


def test_a_role_with_every_listed_capability_is_ready(sandbox_env: SandboxServer,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_TOKEN", sandbox_env.control.make_token(sorted(FUNCTIONS), lacking=[]))
    code, out, _ = run(capsys, "doctor", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ready"] and doc["missing_capabilities"] == []
    assert "site administrator" not in next(c["detail"] for c in doc["checks"] if c["name"] == "token user")
    assert {c["name"] for c in doc["checks"] if c["name"].startswith("capabilities for")} == {
        f"capabilities for {f}" for f in ("core", "provisioning", "enrolment", "completion", "followup")}


def test_a_user_who_may_not_list_holders_is_warned_not_failed(sandbox_env: SandboxServer,
                                                             capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_TOKEN", sandbox_env.control.make_token(
        sorted(FUNCTIONS), lacking=["moodle/role:review"]))
    code, out, _ = run(capsys, "doctor", "--json")
    doc = json.loads(out)
    check = next(c for c in doc["checks"] if c["name"] == "capabilities")
    assert code == 0 and check["status"] == "warn" and "moodle/role:review" in check["detail"]


# the site address: not a Moodle at all, or a page of one -------------------------------------------

class _PlainPages(BaseHTTPRequestHandler):
    """A web server that is not a Moodle: every path answers the same small HTML page."""

    status = 200

    def _answer(self) -> None:
        body = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>It works!</body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=[200, 404])
def plain_server(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Handler", (_PlainPages,), {"status": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_plain_web_server_is_not_a_moodle_site(plain_server: str, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_URL", plain_server)
    monkeypatch.setenv("MOODLE_TOKEN", "0123456789abcdef0123456789abcdef")
    code, out, _ = run(capsys, "doctor", "--json")
    doc = json.loads(out)
    assert code == 1
    names = {c["name"]: c for c in doc["checks"]}
    assert names["Moodle site"]["status"] == "fail" and "is not a Moodle site" in names["Moodle site"]["detail"]
    assert "REST protocol enabled" not in names and "enable" not in out.lower()


def test_a_page_url_is_named_and_its_site_address_probed(sandbox_env: SandboxServer,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_URL", sandbox_env.url + "/login/index.php")
    code, out, _ = run(capsys, "doctor", "--json")
    doc = json.loads(out)
    statuses = {c["name"]: c["status"] for c in doc["checks"]}
    assert code == 1 and statuses["site address"] == "fail" and statuses["REST protocol enabled"] == "ok"
    address = next(c for c in doc["checks"] if c["name"] == "site address")
    assert f"the site address is {sandbox_env.url}:" in address["detail"]
    assert "token valid" not in statuses
