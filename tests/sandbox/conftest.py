"""Helpers to call the sandbox over HTTP (the ``sandbox`` fixtures come from the plugin that
tests/conftest.py loads: :mod:`moodle_sync.sandbox.pytest_plugin`)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from moodle_sync.sandbox.server import SandboxServer
from moodle_sync.ws.rest import RestTransport, encode_php_form
from moodle_sync.ws.transport import MoodleClient, RetryPolicy


def post(server: SandboxServer, function: str, params: dict[str, Any] | None = None, *,
         token: str | None = None, fmt: str | None = "json") -> Any:
    """One raw REST call with ``requests``; returns the decoded JSON body (errors included)."""
    data = [("wstoken", token if token is not None else server.token), ("wsfunction", function)]
    if fmt is not None:
        data.append(("moodlewsrestformat", fmt))
    data += encode_php_form(params or {})
    response = requests.post(server.url + "/webservice/rest/server.php", data=data, timeout=10)
    assert response.status_code == 200
    return response.json() if fmt == "json" else response.text


@pytest.fixture
def client(sandbox: SandboxServer) -> Any:
    """A :class:`MoodleClient` over REST to the sandbox, with quick retries."""
    with MoodleClient(RestTransport(sandbox.url, sandbox.token), timeout=5,
                      retry=RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05)) as c:
        yield c
