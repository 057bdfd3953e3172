"""The fake Moodle's SOAP endpoint, ``/webservice/soap/server.php``, answering as Moodle 4.5 does.

- ``GET ?wsdl=1&wstoken=T``: the real 4.5 WSDL (``data/soap-wsdl.xml``, read off a real site) with
  this site's address and the token put in, and only the operations of the token's service.
- ``POST ?wstoken=T``: an rpc/encoded call. Parameters reach the function as PHP's SoapServer hands
  them over: one left out arrives as ``null`` (so an omitted list fails with ``invalidparameter``);
  with none of the declared names present the call fails with "Missing parameter".
- Failures, as on the real site: token and user failures HTTP 200 with faultcode ``MOODLE:error`` and
  the message; a function outside the token's service HTTP 500 "Procedure 'f' not present"; any other
  error HTTP 500 with faultstring ``"MESSAGE | ERRORCODE: CODE"`` (MESSAGE is "Unknown error" unless
  the site debugs), faultactor the errorcode and, when debugging, the debuginfo as detail. Functions
  that return nothing answer HTTP 202 with an empty body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from ..ws.signatures import load_signatures
from ..ws.soap_codec import SoapCodecError, decode_request, encode_fault, encode_response
from .errors import SandboxMoodleError

Dispatch = Callable[[str, str, Mapping[str, Any]], Any]
TokenFunctions = Callable[[str], Iterable[str] | None]

SOAP_PATH = "/webservice/soap/server.php"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_TEMPLATE_BASE = "http://127.0.0.1:8080"
_TEMPLATE_TOKEN = "wstoken=TOKEN"

# Errors Moodle raises while authenticating, before the SOAP server exists: sent as HTTP 200.
EARLY_ERRORCODES = frozenset({"invalidtoken", "sitemaintenance", "usernotconfirmed", "passwordisexpired",
                              "wsaccessuserdeleted", "wsaccessuserunconfirmed", "wsaccessusersuspended",
                              "wsaccessuserexpired", "wsaccessusernologin"})

_XML_OK = {"Content-Type": "text/xml; charset=utf-8"}
_XML_EARLY = {"Content-Type": "application/xml; charset=utf-8"}

Answer = tuple[int, dict[str, str], bytes]


def handle_soap(dispatch: Dispatch, method: str, path_query: str, body: bytes, base_url: str, *,
                debug: bool = False, token_functions: TokenFunctions | None = None) -> Answer:
    """Answer one HTTP request to the SOAP endpoint: ``(status, headers, body)``.

    ``dispatch(token, function, params)`` runs a call (raising
    :class:`~moodle_sync.sandbox.errors.SandboxMoodleError`). ``token_functions(token)`` names the
    functions of the token's service (or raises the token's error); without it they are read with
    ``core_webservice_get_site_info`` through ``dispatch``, and if that is not allowed the WSDL lists
    every function. ``debug`` is the site's debugging switch (messages and debuginfo in faults).
    """
    query = parse_qs(urlsplit(path_query).query)
    token = (query.get("wstoken") or [""])[0]
    functions = _FunctionsOf(dispatch, token, token_functions)
    try:
        if method.upper() == "GET" and (query.get("wsdl") or ["0"])[0] not in ("", "0"):
            return 200, dict(_XML_EARLY), _wsdl(base_url, token, functions.allowed())
        if method.upper() != "POST" or not body.strip():
            functions.allowed()  # Moodle authenticates first
            return _fault("SOAP-ENV:Client", "Bad Request")
        return _call(dispatch, token, body, base_url, functions, debug=debug)
    except SandboxMoodleError as exc:
        return _error_answer(exc, None, debug=debug)


def _call(dispatch: Dispatch, token: str, body: bytes, base_url: str, functions: _FunctionsOf, *,
          debug: bool) -> Answer:
    try:
        function, parts = decode_request(body)
    except SoapCodecError:
        functions.allowed()
        return _fault("SOAP-ENV:Client", "Bad Request")
    sig = load_signatures().get(function)
    params: dict[str, Any] = dict(parts)
    if sig is not None:
        names = list(sig["parameters_desc"]["keys"])
        if names and not any(name in parts for name in names):
            allowed = functions.allowed()  # raises the token's error first, as Moodle authenticates first
            if allowed is not None and function not in allowed:
                return _not_present(function)
            return _fault("SOAP-ENV:Client", "Missing parameter")
        params = {name: parts.get(name) for name in names}  # PHP passes null for a part left out
    try:
        result = dispatch(token, function, params)
    except SandboxMoodleError as exc:
        return _error_answer(exc, function, debug=debug)
    if sig is not None and sig["returns_desc"] is None:
        return 202, {"Content-Type": "text/html; charset=utf-8"}, b""
    namespace = f"{base_url.rstrip('/')}{SOAP_PATH}?wstoken={token}"
    return 200, dict(_XML_OK), encode_response(function, result, namespace)


def _error_answer(exc: SandboxMoodleError, function: str | None, *, debug: bool) -> Answer:
    if exc.errorcode in EARLY_ERRORCODES:
        text = exc.message
        if debug and exc.debuginfo:
            text += " - " + exc.debuginfo
        return 200, dict(_XML_EARLY), encode_fault("MOODLE:error", text)
    if function is not None and (exc.errorcode == "accessexception" or (
            exc.errorcode == "invalidrecord" and function not in load_signatures()
            and "external_functions" in exc.message)):
        return _not_present(function)
    message = exc.message if debug else "Unknown error"
    return 500, dict(_XML_OK), encode_fault("Receiver", f"{message} | ERRORCODE: {exc.errorcode}",
                                            actor=exc.errorcode,
                                            detail=exc.debuginfo if debug else None)


def _not_present(function: str) -> Answer:
    return _fault("SOAP-ENV:Server", f"Procedure '{function}' not present")


def _fault(code: str, text: str) -> Answer:
    return 500, dict(_XML_OK), encode_fault(code, text)


class _FunctionsOf:
    """The functions of a token's service, asked for at most once per request."""

    def __init__(self, dispatch: Dispatch, token: str, token_functions: TokenFunctions | None) -> None:
        self._dispatch, self._token, self._token_functions = dispatch, token, token_functions
        self._known: list[str] | None = None
        self._asked = False

    def allowed(self) -> list[str] | None:
        """The token's functions, ``None`` when they cannot be told; raises the token's error."""
        if not self._asked:
            self._asked = True
            self._known = self._ask()
        return self._known

    def _ask(self) -> list[str] | None:
        if self._token_functions is not None:
            names = self._token_functions(self._token)
            return None if names is None else list(names)
        try:
            info = self._dispatch(self._token, "core_webservice_get_site_info", {})
        except SandboxMoodleError as exc:
            if exc.errorcode in EARLY_ERRORCODES:
                raise
            return None
        if isinstance(info, Mapping) and isinstance(info.get("functions"), list):
            return [f["name"] for f in info["functions"] if isinstance(f, Mapping) and "name" in f]
        return None


# ------------------------------------------------------------------------------------------ WSDL
@lru_cache(maxsize=1)
def _template() -> bytes:
    return resources.files("moodle_sync.sandbox").joinpath("data/soap-wsdl.xml").read_bytes()


def _wsdl(base_url: str, token: str, functions: Iterable[str] | None) -> bytes:
    """The real WSDL for this site and token, restricted to ``functions`` when given."""
    text = _template().decode("utf-8")
    text = text.replace(_TEMPLATE_BASE, escape(base_url.rstrip("/"), {'"': "&quot;"}))
    text = text.replace(_TEMPLATE_TOKEN, "wstoken=" + escape(token, {'"': "&quot;"}))
    if functions is None:
        return text.encode("utf-8")
    keep = set(functions)
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    for tag in ("portType", "binding"):
        for parent in root.findall(f"{{{WSDL_NS}}}{tag}"):
            for operation in parent.findall(f"{{{WSDL_NS}}}operation"):
                if operation.get("name") not in keep:
                    parent.remove(operation)
    for message in root.findall(f"{{{WSDL_NS}}}message"):
        name = message.get("name", "")
        if name.endswith(("In", "Out")) and name[:-3 if name.endswith("Out") else -2] not in keep:
            root.remove(message)
    return b'<?xml version="1.0"?>\n' + etree.tostring(root, encoding="UTF-8", xml_declaration=False) + b"\n"
