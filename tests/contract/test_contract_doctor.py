"""doctor against each target: the tool's token is ready; a token whose user lacks ``moodle/course:create``
makes doctor exit 1 naming that capability (on the lab: the non-admin tool role of scripts/moodle-lab.sh,
exactly as README "Set up Moodle web services" describes, and the same role without that capability)."""

from __future__ import annotations

import json

import pytest

from moodle_sync.requirements import requirements
from tests.cli.conftest import run

from .conftest import REAL_MOODLE_NOCAP_TOKEN, Site

pytestmark = pytest.mark.contract


def _doctor(site: Site, token: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict]:
    monkeypatch.setenv("MOODLE_URL", site.url)
    monkeypatch.setenv("MOODLE_TOKEN", token)
    code, out, _ = run(capsys, "doctor", "--json")
    return code, json.loads(out)


def test_the_tools_token_is_ready(site: Site, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    code, report = _doctor(site, site.token, capsys, monkeypatch)
    assert code == 0, report
    assert report["missing_capabilities"] == []


def test_a_missing_capability_is_named(site: Site, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    if site.target == "real":
        if not REAL_MOODLE_NOCAP_TOKEN:
            pytest.skip("set MOODLE_NOCAP_TOKEN (scripts/moodle-lab.sh prints it)")
        token = REAL_MOODLE_NOCAP_TOKEN
    else:
        token = site.sandbox.control.make_token(requirements().functions, lacking=["moodle/course:create"])
    code, report = _doctor(site, token, capsys, monkeypatch)
    assert code == 1, report
    assert report["missing_capabilities"] == ["moodle/course:create"]
