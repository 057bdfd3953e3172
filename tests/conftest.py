"""Shared fixtures. Every test runs with an empty user config/data dir and no Moodle settings from the
environment, so no test can read or write a user's real config or store."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["moodle_sync.sandbox.pytest_plugin"]

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "samples"

# Contract tests read these before the isolation below removes them from the environment.
REAL_MOODLE_URL = os.environ.get("MOODLE_URL")
REAL_MOODLE_TOKEN = os.environ.get("MOODLE_TOKEN")


def sample(name: str) -> Any:
    """A real Moodle 4.5 response body from tests/fixtures/samples (``extra/x`` for subfolders)."""
    return json.loads((SAMPLES / f"{name}.json").read_text("utf-8"))


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    for var in list(os.environ):
        if var.startswith(("MOODLE_", "MOODLE_SYNC_")):
            monkeypatch.delenv(var, raising=False)
    return home
