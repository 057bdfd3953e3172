"""The pytest fixtures: a fresh site per test, and the environment pointing at it."""

from __future__ import annotations

import os

from moodle_sync.config import load_settings
from moodle_sync.sandbox.server import SandboxServer


def test_sandbox_env_points_settings_at_the_sandbox(sandbox_env: SandboxServer) -> None:
    assert os.environ["MOODLE_URL"] == sandbox_env.url
    settings = load_settings()
    assert settings.require_url() == sandbox_env.url and settings.token() == sandbox_env.token


def test_each_test_starts_from_the_seed_part_one(sandbox: SandboxServer) -> None:
    sandbox.moodle.call("core_course_create_categories", {"categories": [{"name": "Sisa tes"}]})
    sandbox.control.set_latency(1)
    sandbox.moodle.debug = True


def test_each_test_starts_from_the_seed_part_two(sandbox: SandboxServer) -> None:
    assert "Sisa tes" not in {c.name for c in sandbox.state.categories}
    assert sandbox.moodle.latency_ms == 0 and sandbox.moodle.debug is False
