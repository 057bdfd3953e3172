"""pytest fixtures for the sandbox: ``sandbox`` (a running fake site, fresh state per test) and
``sandbox_env`` (the same, with ``MOODLE_URL``/``MOODLE_TOKEN`` pointing at it).

Enable with ``pytest_plugins = ["moodle_sync.sandbox.pytest_plugin"]`` in the top-level conftest.py.
One server serves the whole session; each test gets it reset to the seed state (same tokens, no
faults, no latency, debugging off, ``max_input_vars`` back to 5000).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import SandboxServer

DEFAULT_MAX_INPUT_VARS = 5000


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """The session's sandbox server (shared; prefer :func:`sandbox`, which resets it)."""
    server = SandboxServer(max_input_vars=DEFAULT_MAX_INPUT_VARS)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """A running sandbox in its seed state, just for this test."""
    _fresh(sandbox_server)
    yield sandbox_server
    _fresh(sandbox_server)


@pytest.fixture
def sandbox_env(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """The sandbox, with ``MOODLE_URL`` and ``MOODLE_TOKEN`` set to it for this test."""
    monkeypatch.setenv("MOODLE_URL", sandbox.url)
    monkeypatch.setenv("MOODLE_TOKEN", sandbox.token)
    return sandbox


def _fresh(server: SandboxServer) -> None:
    server.faults.released.set()  # end requests still held by a ``timeout`` fault
    server.control.reset()
    server.faults.released.clear()
    server.moodle.debug = False
    server.max_input_vars = DEFAULT_MAX_INPUT_VARS
