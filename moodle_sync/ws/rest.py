"""REST transport over ``requests``: PHP-style form encoding, errors mapped from the body.

Moodle's REST server takes ``application/x-www-form-urlencoded`` only (a JSON body is silently ignored),
nested parameters flattened PHP-style (``courses[0][courseformatoptions][0][name]``), booleans as
``0``/``1``, and answers HTTP 200 with an ``exception`` body when a call fails. The token travels in
the POST body, never in the URL, so it cannot end up in access logs or in our error messages.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter

from .._version import __version__
from ..exceptions import (
    ConnectionFailedError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    SiteUnreachableError,
    TransportError,
    from_moodle_error,
    redact,
    register_secret,
)

log = logging.getLogger("moodle_sync.ws.rest")

REST_PATH = "/webservice/rest/server.php"


def encode_php_form(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten nested parameters into PHP-style form fields, in order.

    ``{"courses": [{"fullname": "A", "visible": True}]}`` becomes
    ``[("courses[0][fullname]", "A"), ("courses[0][visible]", "1")]``. ``None`` values are left out.
    """
    fields: list[tuple[str, str]] = []

    def walk(value: Any, key: str) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{key}[{k}]")
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{key}[{i}]")
        elif isinstance(value, bool):
            fields.append((key, "1" if value else "0"))
        elif isinstance(value, float) and value.is_integer():
            fields.append((key, str(int(value))))
        else:
            fields.append((key, str(value)))

    for name, value in params.items():
        walk(value, str(name))
    return fields


def pooled_session(session: requests.Session | None, url: str, *, verify: bool | str,
                   pool_size: int) -> requests.Session:
    """A session that verifies TLS as asked, names us, and keeps up to ``pool_size`` connections open
    (one per concurrent read); urllib3's own retries are off (the client retries reads itself)."""
    session = session or requests.Session()
    if verify is True:  # what requests would take from the environment while trust_env is on
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.verify = verify
    # Read the proxy settings once, not on every call (requests looks at .netrc and the environment
    # for each request while trust_env is on; that is a tenth of a call's CPU).
    session.proxies.update(requests.utils.get_environ_proxies(url))
    session.trust_env = False
    session.headers["User-Agent"] = f"moodle_sync/{__version__}"
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(pool_size, 2), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class RestTransport:
    """Sends calls to ``{url}/webservice/rest/server.php`` over one pooled ``requests.Session``."""

    protocol = "rest"

    def __init__(self, url: str, token: str, *, verify: bool | str = True, pool_size: int = 8,
                 session: requests.Session | None = None) -> None:
        register_secret(token)
        self.url = url.rstrip("/")
        self.endpoint = self.url + REST_PATH
        self._token = token
        self.session = pooled_session(session, self.url, verify=verify, pool_size=pool_size)
        # Every call is the same POST but for its body: prepared once (URL parsed, the session's headers
        # merged), copied per call. That skips requests' per-call merging of settings, cookies and hooks, a
        # third of the client's CPU per call, which is what bounds several sites pulled at once.
        self._template = self.session.prepare_request(requests.Request(
            "POST", self.endpoint, headers={"Content-Type": "application/x-www-form-urlencoded"}))

    def __repr__(self) -> str:  # never show the token
        return f"RestTransport({self.url!r})"

    def send(self, function: str, params: Mapping[str, Any], *, timeout: float) -> Any:
        data = [("wstoken", self._token), ("wsfunction", function), ("moodlewsrestformat", "json")]
        data += encode_php_form(params)
        request = self._template.copy()
        request.body = urlencode(data).encode("ascii")
        request.headers["Content-Length"] = str(len(request.body))
        try:  # requests' exceptions are not chained (``from None``): their text can hold the URL
            response = self.session.send(request, timeout=(min(10.0, timeout), timeout))
        except requests.exceptions.RequestException as exc:
            raise request_failure(function, self.url, exc, timeout) from None
        return decode_response(function, response.status_code, response.text,
                               response.headers.get("Retry-After"))

    def close(self) -> None:
        self.session.close()


def decode_response(function: str, status: int, text: str, retry_after: str | None = None) -> Any:
    """Decode a REST answer: map 429/5xx, then Moodle's exception body, then the JSON result."""
    if status == 429:
        raise RateLimitedError(function, "the site answered 429 Too Many Requests",
                               retry_after=retry_after_seconds(retry_after))
    if status >= 500:
        raise ServerError(function, f"the site answered HTTP {status}")
    try:
        body = json.loads(text)
    except ValueError:
        snippet = redact(text.strip()[:120].replace("\n", " "))
        if text.lstrip().startswith("<?xml"):
            raise ServerError(function, "the site answered XML instead of JSON; is this the REST "
                                        f"endpoint of a Moodle site? ({snippet})") from None
        raise ServerError(function, f"HTTP {status}: not a web-service answer: {snippet!r}") from None
    if isinstance(body, dict) and "exception" in body and "errorcode" in body:
        raise from_moodle_error(function, body)
    if status >= 400:
        raise ServerError(function, f"the site answered HTTP {status}")
    return body


def request_failure(function: str, url: str, exc: requests.exceptions.RequestException,
                    timeout: float) -> TransportError:
    """Our exception for a request that got no HTTP answer (REST and SOAP alike; the text never holds
    the token): :class:`SiteUnreachableError` when the connection was refused, the name did not resolve
    or TLS failed (the run stops), :class:`ConnectionFailedError` for a connect timeout (nothing sent)
    or a dropped connection, :class:`RequestTimeoutError` when the answer did not come in time."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ConnectionFailedError(function, f"cannot connect to {url}: timed out", sent=False)
    if isinstance(exc, requests.exceptions.SSLError):
        return SiteUnreachableError(function, f"TLS failed for {url}: {redact(str(exc))}")
    if isinstance(exc, requests.exceptions.Timeout):
        return RequestTimeoutError(function, f"no answer from {url} within {timeout:g}s")
    if isinstance(exc, requests.exceptions.ConnectionError) and refused_before_sending(exc):
        return SiteUnreachableError(function, f"cannot reach {url}: {connection_reason(exc)}")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return ConnectionFailedError(function, f"cannot reach {url}: {connection_reason(exc)}", sent=True)
    return ConnectionFailedError(function, f"request to {url} failed: {type(exc).__name__}", sent=False)


def retry_after_seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def refused_before_sending(exc: Exception) -> bool:
    text = repr(exc)
    return any(s in text for s in ("Connection refused", "NameResolutionError", "Name or service not known",
                                   "Failed to resolve", "No route to host", "NewConnectionError"))


def connection_reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "Failed to resolve",
                   "Connection reset", "Remote end closed connection", "No route to host"):
        if marker in text:
            return marker.lower()
    return redact(text)[:200]
