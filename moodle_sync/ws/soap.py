"""SOAP transport: zeep reads Moodle's WSDL, our codec writes and reads the rpc/encoded messages.

Same inputs, same results and same exceptions as :class:`~moodle_sync.ws.rest.RestTransport`.
zeep alone cannot talk to Moodle (it sends lists of structures as empty arrays and cannot read the
apache ``Map`` type), so zeep does what it is good at: it loads the WSDL once per transport (the
token's service), through a loader that serves the SOAP-encoding schema from this package and never
fetches anything else, and tells which operations the token may call and their ``SOAPAction``. The
envelopes themselves come from :mod:`moodle_sync.ws.soap_codec` and travel over our own pooled
``requests.Session``.

Moodle's SOAP server wants the token in the URL (``server.php?wstoken=...``): it is registered as a
secret so that :func:`~moodle_sync.exceptions.redact` removes it, and no message here is built from
a URL that carries it. Faults come with HTTP 200 (token and user failures) or HTTP 500 (everything
else); both map, by their text, to the exceptions REST raises for the same failure.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote

import requests
import zeep
from lxml import etree
from zeep.transports import Transport as ZeepTransport

from ..exceptions import (
    RateLimitedError,
    RequestShapeError,
    ServerError,
    from_moodle_error,
    redact,
    register_secret,
)
from .rest import pooled_session, request_failure, retry_after_seconds
from .soap_codec import (
    SOAP_ENC,
    SoapCodecError,
    decode_response,
    encode_request,
    find_fault,
    moodle_error_from_fault,
)

log = logging.getLogger("moodle_sync.ws.soap")

SOAP_PATH = "/webservice/soap/server.php"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_LOAD = "(wsdl)"  # the "function" named in errors while the WSDL is being loaded


def encoding_schema() -> bytes:
    """Our copy of the SOAP 1.1 encoding schema (``data/soap-encoding.xsd``)."""
    return resources.files("moodle_sync.ws").joinpath("data/soap-encoding.xsd").read_bytes()


class _RedactingFilter(logging.Filter):
    """Masks the token in log records: urllib3 logs every request line, and SOAP has the token in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = redact(text)
        if masked != text:
            record.msg, record.args = masked, ()
        return True


_URL_LOGGERS = ("urllib3.connectionpool",)


def _mask_url_logs() -> None:
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
            logger.addFilter(_RedactingFilter())


class _WsdlLoader(ZeepTransport):
    """zeep's document loader for one WSDL: that WSDL from ``fetch``, the SOAP-encoding schema from
    this package, and nothing else: no internet, no local files.

    It shares our session, undoing what zeep's constructor does to it (zeep stamps its own
    User-Agent and mounts a ``file://`` adapter).
    """

    def __init__(self, session: requests.Session, wsdl_url: str, fetch: Callable[[], bytes]) -> None:
        user_agent = session.headers.get("User-Agent")
        file_adapter = session.adapters.get("file://")
        super().__init__(session=session)
        if user_agent is None:
            session.headers.pop("User-Agent", None)
        else:
            session.headers["User-Agent"] = user_agent
        if file_adapter is None:
            session.adapters.pop("file://", None)
        self._wsdl_url = wsdl_url
        self._fetch = fetch

    def load(self, url: str) -> bytes:
        if url == self._wsdl_url:
            return self._fetch()
        if url.rstrip("/") == SOAP_ENC.rstrip("/"):
            return encoding_schema()
        raise _RefusedDocument(url)

    def get(self, address: str, params: Any, headers: Any) -> requests.Response:
        raise _RefusedDocument(address)

    def post(self, address: str, message: Any, headers: Any) -> requests.Response:
        raise _RefusedDocument(address)


class _RefusedDocument(Exception):
    """The WSDL wanted a document we do not fetch."""


@dataclass(frozen=True)
class _Service:
    """What the WSDL says: the operations the token may call, with their SOAPAction."""

    soap_actions: dict[str, str]


class SoapTransport:
    """Sends calls to ``{url}/webservice/soap/server.php?wstoken=...`` over one pooled session.

    The WSDL (``?wsdl=1&wstoken=...``) is loaded on the first call and kept. A function the WSDL does
    not offer is not in the token's service: :class:`~moodle_sync.exceptions.AccessDeniedError`, as
    REST's ``accessexception``, without sending anything.
    """

    protocol = "soap"

    def __init__(self, url: str, token: str, *, verify: bool | str = True, pool_size: int = 8,
                 session: requests.Session | None = None) -> None:
        register_secret(token)
        _mask_url_logs()
        self.url = url.rstrip("/")
        self._token = token
        self._endpoint = f"{self.url}{SOAP_PATH}"
        self._namespace = self._endpoint  # Moodle ignores the call's namespace; keep the token out of bodies
        self.session = pooled_session(session, self.url, verify=verify, pool_size=pool_size)
        self._service: _Service | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the token
        return f"SoapTransport({self.url!r})"

    def send(self, function: str, params: Mapping[str, Any], *, timeout: float) -> Any:
        service = self._load_service(function, timeout)
        action = service.soap_actions.get(function)
        if action is None:
            raise from_moodle_error(function, {
                "exception": "webservice_access_exception", "errorcode": "accessexception",
                "message": "Access control exception",
                "debuginfo": f"the site's WSDL for this token has no operation {function}"})
        try:
            envelope = encode_request(function, params, self._namespace)
        except SoapCodecError as exc:
            raise RequestShapeError(f"{function}: cannot be sent over SOAP: {exc}") from None
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
        response = self._request(function, "POST", f"{self._endpoint}?wstoken={quote(self._token, safe='')}",
                                 timeout, data=envelope, headers=headers)
        return decode_answer(function, response.status_code, response.content,
                             response.headers.get("Retry-After"))

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------------------------ the WSDL
    def operations(self, *, timeout: float = 60.0) -> frozenset[str]:
        """The functions the token's service offers, as the site's WSDL lists them."""
        return frozenset(self._load_service(WSDL_LOAD, timeout).soap_actions)

    def _load_service(self, function: str, timeout: float) -> _Service:
        with self._lock:
            if self._service is None:
                self._service = self._read_wsdl(function, timeout)
            return self._service

    def _read_wsdl(self, function: str, timeout: float) -> _Service:
        """Fetch the WSDL with our session and let zeep read it, the token masked out of it first.

        Moodle writes the token into the WSDL (namespace, address, every SOAPAction) and zeep logs
        those at DEBUG level, so zeep only ever sees ``wstoken=***``.
        """
        wsdl_url = f"{self._endpoint}?wsdl=1&wstoken={quote(self._token, safe='')}"
        masked_url = f"{self._endpoint}?wsdl=1"

        def fetch() -> bytes:
            response = self._request(function, "GET", wsdl_url, timeout)
            content = response.content
            decode_answer(function, response.status_code, content, response.headers.get("Retry-After"),
                          expect_envelope=False)
            if not _is_wsdl(content):  # zeep takes any XML for a WSDL without services
                snippet = redact(content.decode("utf-8", "replace").strip()[:120].replace("\n", " "))
                raise ServerError(function, f"{self.url} answered something that is not a WSDL: {snippet!r}")
            for form in {self._token.encode(), quote(self._token, safe="").encode()}:
                content = content.replace(form, b"***")
            return content

        loader = _WsdlLoader(self.session, masked_url, fetch)
        try:
            client = zeep.Client(masked_url, transport=loader, settings=zeep.Settings(forbid_dtd=True))
        except _RefusedDocument as exc:
            raise ServerError(function, f"the WSDL of {self.url} refers to {redact(str(exc))}, which is "
                                        "not fetched") from None
        except (zeep.exceptions.Error, SyntaxError, ValueError) as exc:
            raise ServerError(function, f"cannot read the WSDL of {self.url}: {redact(str(exc))[:200]}") \
                from None
        actions: dict[str, str] = {}
        for service in client.wsdl.services.values():
            for port in service.ports.values():
                for name, operation in port.binding.all().items():
                    actions[name] = getattr(operation, "soapaction", None) or f"{self._endpoint}#{name}"
        log.debug("WSDL of %s: %d operations", self.url, len(actions))
        return _Service(actions)

    # --------------------------------------------------------------------------------- HTTP errors
    def _request(self, function: str, method: str, url: str, timeout: float,
                 **kwargs: Any) -> requests.Response:
        """One HTTP exchange, with failures mapped exactly as the REST transport maps them."""
        try:
            return self.session.request(method, url, timeout=(min(10.0, timeout), timeout), **kwargs)
        except requests.exceptions.RequestException as exc:
            raise request_failure(function, self.url, exc, timeout) from None


def _is_wsdl(content: bytes) -> bool:
    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return False
    return root is not None and root.tag == f"{{{WSDL_NS}}}definitions"


def decode_answer(function: str, status: int, content: bytes, retry_after: str | None = None, *,
                  expect_envelope: bool = True) -> Any:
    """Decode a SOAP answer: 429, then a fault (HTTP 200 or 500), then 5xx/4xx, then the result.

    Raises what :func:`~moodle_sync.ws.rest.decode_response` raises for the same failure:
    :class:`RateLimitedError`, the :class:`WebServiceError` subclass of Moodle's error, or
    :class:`ServerError`. With ``expect_envelope=False`` (the WSDL) only failures are checked.
    """
    if status == 429:
        raise RateLimitedError(function, "the site answered 429 Too Many Requests",
                               retry_after=retry_after_seconds(retry_after))
    fault = None
    if b"Fault" in content:
        try:
            fault = find_fault(content)
        except SoapCodecError:
            fault = None
    if fault is not None:
        raise from_moodle_error(function, moodle_error_from_fault(fault))
    if status >= 400:
        raise ServerError(function, f"the site answered HTTP {status}")
    if not expect_envelope:
        return None
    try:
        return decode_response(content, function)
    except SoapCodecError as exc:
        snippet = redact(content.decode("utf-8", "replace").strip()[:120].replace("\n", " "))
        raise ServerError(function, f"HTTP {status}: not a SOAP answer ({exc}): {snippet!r}") from None
