"""``moodle-sync sandbox``: serves until SIGTERM, prints what scripts need, refuses non-loopback hosts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from click.testing import CliRunner

import moodle_sync.cli as cli_module


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen([sys.executable, "-m", "moodle_sync", "sandbox", "--ready-file", str(ready), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sandbox did not become ready"
        time.sleep(0.05)
    return proc, json.loads(ready.read_text())


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, out


def test_print_env_then_serve_until_sigterm(tmp_path: Path) -> None:
    proc, info = _start(tmp_path, "--print-env", "--state", str(tmp_path / "site.json"))
    try:
        answer = requests.post(info["url"] + "/webservice/rest/server.php", timeout=10, data={
            "wstoken": info["token"], "wsfunction": "core_webservice_get_site_info", "moodlewsrestformat": "json"})
        assert answer.json()["release"] == "4.5.6 (Build: 20250811)"
    finally:
        code, out = _stop(proc)
    assert code == 0
    assert out.splitlines() == [f"export MOODLE_URL={info['url']}", f"export MOODLE_TOKEN={info['token']}"]
    assert (tmp_path / "site.json").exists() and not (tmp_path / "ready.json").exists()


def test_json_document_in_process(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"

    def terminate_when_ready() -> None:  # the command's own SIGTERM handler is installed by then
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)

    cli_module._register()
    killer = threading.Thread(target=terminate_when_ready, daemon=True)
    killer.start()
    result = CliRunner().invoke(cli_module.cli, [
        "sandbox", "--json", "--latency-ms", "1", "--debug", "--ready-file", str(ready)])
    killer.join(timeout=30)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert set(info) == {"url", "token", "limited_token"} and info["url"].startswith("http://127.0.0.1:")


def test_refuses_a_public_host() -> None:
    cli_module._register()
    result = CliRunner().invoke(cli_module.cli, ["sandbox", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "loopback" in result.output
