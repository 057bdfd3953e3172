"""SoapTransport against a small Moodle-like HTTP server on 127.0.0.1: same results and exceptions as REST."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
from lxml import etree

from moodle_sync.exceptions import (
    AccessDeniedError,
    ConnectionFailedError,
    InvalidParameterError,
    InvalidTokenError,
    MoodleSyncError,
    NoCompletionCriteriaError,
    RateLimitedError,
    RecordMissingError,
    RequestShapeError,
    RequestTimeoutError,
    ServerError,
    ShortnameTakenError,
)
from moodle_sync.sandbox.errors import access_denied, invalid_parameter, invalid_token, moodle_error
from moodle_sync.sandbox.soap_endpoint import handle_soap
from moodle_sync.ws.rest import RestTransport
from moodle_sync.ws.signatures import signature
from moodle_sync.ws.soap import SoapTransport, _RefusedDocument, _WsdlLoader
from moodle_sync.ws.soap_codec import decode_request, decode_response, encode_fault
from moodle_sync.ws.transport import MoodleClient, RetryPolicy
from tests.conftest import FIXTURES, sample

TOKEN = "5oap7e5770ken0f7he5i7e0000000001"
Answer = tuple[int, dict[str, str], bytes]
Route = Callable[[str, str, bytes], Answer]
XML = {"Content-Type": "text/xml; charset=utf-8"}


class FakeSite:
    """An HTTP server on 127.0.0.1 answering with ``route(method, path_query, body)``; keeps what it got."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.received: list[tuple[str, str, bytes, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                site.received.append((self.command, self.path, body, dict(self.headers)))
                status, headers, content = site.route(self.command, self.path, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def posts(self, path: str = "/webservice/soap/server.php") -> list[bytes]:
        return [body for method, p, body, _ in self.received if method == "POST" and p.startswith(path)]

    def gets(self) -> int:
        return sum(1 for method, *_ in self.received if method == "GET")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def real_wsdl(base: str, token: str) -> bytes:
    text = (FIXTURES / "soap-wsdl.xml").read_text("utf-8")
    return text.replace("http://127.0.0.1:8080", base).replace("wstoken=TOKEN", f"wstoken={token}").encode()


def token_fault() -> Answer:
    return 200, {"Content-Type": "application/xml; charset=utf-8"}, encode_fault(
        "MOODLE:error", "Invalid token - token not found")


class Replay:
    """SOAP calls get the real envelopes of tests/fixtures/soap (or set ``answers``), REST calls samples."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.wsdl: Answer | None = None
        self.site = FakeSite(self)

    def __call__(self, method: str, path_query: str, body: bytes) -> Answer:
        parts = urlsplit(path_query)
        query = parse_qs(parts.query)
        if parts.path == "/webservice/rest/server.php":
            form = dict(parse_qsl(body.decode()))
            if form.get("wstoken") != TOKEN:
                return 200, {}, json.dumps(sample("core_webservice_get_site_info-invalidtoken")).encode()
            return 200, {}, json.dumps(sample(form["wsfunction"])).encode()
        if query.get("wstoken") != [TOKEN]:
            return token_fault()
        if method == "GET":
            return self.wsdl or (200, XML, real_wsdl(self.site.url, TOKEN))
        function, _ = decode_request(body)
        if function in self.answers:
            return self.answers[function]
        return 200, XML, (FIXTURES / "soap" / f"{function}.response.xml").read_bytes()


@pytest.fixture
def replay() -> Iterator[Replay]:
    r = Replay()
    yield r
    r.site.close()


@pytest.fixture
def soap(replay: Replay) -> Iterator[SoapTransport]:
    t = SoapTransport(replay.site.url, TOKEN)
    yield t
    t.close()


# --------------------------------------------------------------------------------- real envelopes
def test_real_answers_decode_to_what_rest_gives(replay: Replay, soap: SoapTransport) -> None:
    rest = RestTransport(replay.site.url, TOKEN)
    assert soap.send("core_webservice_get_site_info", {}, timeout=5) == rest.send(
        "core_webservice_get_site_info", {}, timeout=5) == sample("core_webservice_get_site_info")
    criteria = [{"key": "idnumber", "value": "bench-std"}]
    categories = soap.send("core_course_get_categories", {"criteria": criteria, "addsubcategories": False},
                           timeout=5)
    assert categories[0]["idnumber"] == "bench-std" and categories[0]["id"] == 5
    assert categories[0].keys() == sample("core_course_get_categories")[0].keys()
    courses = soap.send("core_course_get_courses_by_field", {"field": "idnumber", "value": "bench-std-metro"},
                        timeout=5)
    assert courses["courses"][0]["showactivitydates"] is True
    assert courses.keys() == sample("core_course_get_courses_by_field").keys()


def test_the_call_is_the_envelope_php_sends_with_the_token_only_in_the_url(replay: Replay,
                                                                          soap: SoapTransport) -> None:
    soap.send("core_course_get_categories", {"criteria": [{"key": "idnumber", "value": "bench-std"}],
                                             "addsubcategories": 0}, timeout=5)
    (_, path, body, headers), = [r for r in replay.site.received if r[0] == "POST"]
    assert path == f"/webservice/soap/server.php?wstoken={TOKEN}"
    assert TOKEN not in body.decode() and TOKEN not in headers.get("User-Agent", "")
    assert headers["Content-Type"].startswith("text/xml")
    assert headers["SOAPAction"].endswith('#core_course_get_categories"')
    real = (FIXTURES / "soap" / "core_course_get_categories.request.xml").read_bytes()
    assert etree.tostring(etree.fromstring(body)[0]) == etree.tostring(etree.fromstring(real)[0]).replace(
        b"http://127.0.0.1:8080/webservice/soap/server.php?wstoken=TOKEN",
        f"{replay.site.url}/webservice/soap/server.php".encode())


def test_the_wsdl_is_read_once_for_many_calls_from_many_threads(replay: Replay, soap: SoapTransport) -> None:
    errors: list[BaseException] = []

    def call() -> None:
        try:
            soap.send("core_webservice_get_site_info", {}, timeout=5)
        except BaseException as exc:  # noqa: BLE001 - a thread's failure, whatever it is, is reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and replay.site.gets() == 1 and len(replay.site.posts()) == 6
    assert "core_course_create_courses" in soap.operations()
    assert soap.session.headers["User-Agent"].startswith("moodle_sync/")  # not zeep's
    assert "file://" not in soap.session.adapters


def test_a_function_missing_from_the_wsdl_is_access_denied_without_sending(replay: Replay,
                                                                          soap: SoapTransport) -> None:
    wsdl = real_wsdl(replay.site.url, TOKEN).replace(b'<operation name="core_course_get_categories">',
                                                     b'<operation name="core_course_get_categories_gone">')
    replay.wsdl = 200, XML, wsdl
    with pytest.raises(AccessDeniedError) as info:
        soap.send("core_course_get_categories", {}, timeout=5)
    assert info.value.errorcode == "accessexception" and replay.site.posts() == []


def test_a_void_function_answers_202_and_gives_none(replay: Replay, soap: SoapTransport) -> None:
    replay.answers["core_user_delete_users"] = 202, {"Content-Type": "text/html"}, b""
    assert soap.send("core_user_delete_users", {"userids": [9]}, timeout=5) is None


# ------------------------------------------------------------------------------------------ faults
FAULTS = [
    (500, "Receiver", "Unknown error | ERRORCODE: invalidparameter", InvalidParameterError),
    (500, "Receiver", "Unknown error | ERRORCODE: invalidrecord", RecordMissingError),
    (500, "Receiver", "Unknown error | ERRORCODE: nocriteriaset", NoCompletionCriteriaError),
    (500, "Receiver", "Short name is already used | ERRORCODE: shortnametaken", ShortnameTakenError),
    (500, "SOAP-ENV:Server", "Procedure 'core_course_get_categories' not present", AccessDeniedError),
    (200, "MOODLE:error", "Invalid token - token not found", InvalidTokenError),
]


@pytest.mark.parametrize("status, code, string, cls", FAULTS)
def test_faults_raise_the_exceptions_rest_raises(replay: Replay, soap: SoapTransport, status: int, code: str,
                                                 string: str, cls: type) -> None:
    replay.answers["core_course_get_categories"] = status, XML, encode_fault(code, string)
    with pytest.raises(cls):
        soap.send("core_course_get_categories", {}, timeout=5)


def test_a_bad_token_fails_like_rest(replay: Replay) -> None:
    for transport in (SoapTransport(replay.site.url, "0" * 32), RestTransport(replay.site.url, "0" * 32)):
        with pytest.raises(InvalidTokenError) as info:
            transport.send("core_webservice_get_site_info", {}, timeout=5)
        assert info.value.errorcode == "invalidtoken"


@pytest.mark.parametrize("answer, cls", [
    ((429, {"Retry-After": "3"}, b"slow down"), RateLimitedError),
    ((503, {"Content-Type": "text/html"}, b"<html>Service Unavailable</html>"), ServerError),
    ((404, {"Content-Type": "text/html"}, b"<html>Not Found</html>"), ServerError),
    ((200, {"Content-Type": "text/html"}, b"<html><body>Login</body></html>"), ServerError),
    ((200, XML, b"<?xml version='1.0'?><something/>"), ServerError),
])
def test_answers_that_are_not_soap_map_like_rest(replay: Replay, soap: SoapTransport, answer: Answer,
                                                 cls: type) -> None:
    replay.answers["core_course_get_categories"] = answer
    with pytest.raises(cls) as info:
        soap.send("core_course_get_categories", {}, timeout=5)
    if cls is RateLimitedError:
        assert info.value.retry_after == 3.0


@pytest.mark.parametrize("wsdl", [
    (200, {"Content-Type": "text/html"}, b"<html>Moodle login</html>"),
    (500, {"Content-Type": "text/html"}, b"PHP Fatal error"),
    (200, XML, (b'<?xml version="1.0"?><definitions xmlns="http://schemas.xmlsoap.org/wsdl/">'
                b'<import namespace="urn:x" location="http://example.org/evil.wsdl"/></definitions>')),
])
def test_a_wsdl_we_cannot_read_is_a_server_error_and_fetches_nothing_else(replay: Replay, soap: SoapTransport,
                                                                         wsdl: Answer) -> None:
    replay.wsdl = wsdl
    with pytest.raises(ServerError):
        soap.send("core_webservice_get_site_info", {}, timeout=5)
    assert all(path.startswith("/webservice/soap/server.php") for _, path, _, _ in replay.site.received)


def test_the_wsdl_loader_serves_the_encoding_schema_and_nothing_else() -> None:
    session = requests.Session()
    session.headers["User-Agent"] = "ours"
    loader = _WsdlLoader(session, "http://site/wsdl", lambda: b"<definitions/>")
    assert session.headers["User-Agent"] == "ours" and "file://" not in session.adapters
    assert loader.load("http://site/wsdl") == b"<definitions/>"
    assert b"arrayType" in loader.load("http://schemas.xmlsoap.org/soap/encoding/")
    for url in ("http://schemas.xmlsoap.org/wsdl/", "file:///etc/passwd", "/etc/passwd"):
        with pytest.raises(_RefusedDocument):
            loader.load(url)


def test_the_token_never_shows_in_errors_or_logs(replay: Replay, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    soap = SoapTransport(replay.site.url, TOKEN)
    raised: list[MoodleSyncError] = []
    for status, code, string, _ in FAULTS:
        replay.answers["core_course_get_categories"] = status, XML, encode_fault(code, string)
        with pytest.raises(MoodleSyncError) as info:
            soap.send("core_course_get_categories", {}, timeout=5)
        raised.append(info.value)
    # an answer echoing the token (Moodle puts it in every envelope's namespace) that we cannot decode
    replay.answers["core_course_get_categories"] = 200, XML, f"<html>wstoken={TOKEN} {TOKEN}</html>".encode()
    with pytest.raises(ServerError) as server_error:
        soap.send("core_course_get_categories", {}, timeout=5)
    raised.append(server_error.value)
    replay.wsdl = 200, XML, b'<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><oops'
    broken = SoapTransport(replay.site.url, TOKEN)
    with pytest.raises(ServerError) as wsdl_error:
        broken.send("core_webservice_get_site_info", {}, timeout=5)
    raised.append(wsdl_error.value)
    for exc in raised:
        assert TOKEN not in str(exc) and TOKEN not in repr(exc) and TOKEN not in json.dumps(exc.to_dict())
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(soap)


# ---------------------------------------------------------------------------------- the network
def test_a_refused_connection_was_surely_not_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionFailedError) as info:
        SoapTransport(f"http://127.0.0.1:{port}", TOKEN).send("core_webservice_get_site_info", {}, timeout=5)
    assert info.value.sent is False and TOKEN not in str(info.value)


def test_no_answer_in_time_is_a_timeout() -> None:
    release = threading.Event()

    def stall(method: str, path: str, body: bytes) -> Answer:
        release.wait(10)
        return 200, XML, b""

    site = FakeSite(stall)
    try:
        with pytest.raises(RequestTimeoutError):
            SoapTransport(site.url, TOKEN).send("core_webservice_get_site_info", {}, timeout=0.3)
    finally:
        release.set()
        site.close()


def test_values_xml_cannot_carry_are_refused_before_sending(replay: Replay, soap: SoapTransport) -> None:
    with pytest.raises(RequestShapeError):
        soap.send("core_course_get_courses_by_field", {"field": "shortname", "value": "a\x01"}, timeout=5)
    assert replay.site.posts() == []


# ------------------------------------------------------------- through the sandbox's SOAP endpoint
class FakeMoodle:
    """A dispatch for :func:`handle_soap` answering with REST samples; the REST route answers the same."""

    def __init__(self, functions: list[str] | None = None) -> None:
        self.functions = functions
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.site = FakeSite(self.route)

    def dispatch(self, token: str, function: str, params: Any, record: bool = True) -> Any:
        if token != TOKEN:
            raise invalid_token()
        info = sample("core_webservice_get_site_info")
        if self.functions is not None:
            info["functions"] = [f for f in info["functions"] if f["name"] in self.functions]
        if function not in [f["name"] for f in info["functions"]]:
            raise access_denied(function)
        if record:
            self.calls.append((function, dict(params)))
        if function == "core_webservice_get_site_info":
            return info
        if function == "core_course_get_courses_by_field" and params.get("field") == "bogus":
            raise invalid_parameter("Invalid field name")
        if function == "core_course_create_courses":
            raise moodle_error("shortnametaken", "Short name is already used for another course (x)")
        if function == "enrol_manual_enrol_users":
            return None
        return sample(function)

    def route(self, method: str, path_query: str, body: bytes) -> Answer:
        if urlsplit(path_query).path == "/webservice/rest/server.php":
            form = dict(parse_qsl(body.decode()))
            answer = self.dispatch(form["wstoken"], form["wsfunction"], {}, record=False)
            return 200, {}, json.dumps(answer).encode()
        return handle_soap(self.dispatch, method, path_query, body, self.site.url)


@pytest.fixture
def moodle() -> Iterator[FakeMoodle]:
    m = FakeMoodle()
    yield m
    m.site.close()


@pytest.mark.parametrize("function, params", [
    ("core_webservice_get_site_info", {}),
    ("core_course_get_categories", {"criteria": [{"key": "idnumber", "value": "x"}]}),
    ("core_course_get_courses_by_field", {"field": "idnumber", "value": "x"}),
    ("core_user_get_users_by_field", {"field": "email", "values": ["a@example.org"]}),
    ("core_enrol_get_enrolled_users", {"courseid": 2}),
    ("core_completion_get_course_completion_status", {"courseid": 2, "userid": 3}),
    ("gradereport_user_get_grade_items", {"courseid": 2}),
    ("core_course_get_contents", {"courseid": 2}),
])
def test_same_results_as_rest_through_the_sandbox_endpoint(moodle: FakeMoodle, function: str,
                                                           params: dict[str, Any]) -> None:
    client = MoodleClient(SoapTransport(moodle.site.url, TOKEN), retry=RetryPolicy(attempts=1))
    rest = RestTransport(moodle.site.url, TOKEN)
    assert client.call(function, params) == rest.send(function, params, timeout=5) == sample(function)
    # the call reached Moodle with the given parameters, and the declared defaults for the others
    soap_call = [p for f, p in moodle.calls if f == function][-1]
    declared = signature(function)["parameters_desc"]["keys"]
    assert soap_call == {name: params.get(name, [] if "default" in desc and desc["kind"] != "value"
                                          else desc.get("default"))
                         for name, desc in declared.items()}


def test_errors_through_the_sandbox_endpoint(moodle: FakeMoodle) -> None:
    soap = SoapTransport(moodle.site.url, TOKEN)
    with pytest.raises(InvalidParameterError):
        soap.send("core_course_get_courses_by_field", {"field": "bogus", "value": "1"}, timeout=5)
    with pytest.raises(ShortnameTakenError):
        course = {"fullname": "A", "shortname": "a", "categoryid": 1}
        soap.send("core_course_create_courses", {"courses": [course]}, timeout=5)
    assert soap.send("enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": 3, "courseid": 2}]},
                     timeout=5) is None
    limited = FakeMoodle(functions=["core_webservice_get_site_info"])
    try:
        narrow = SoapTransport(limited.site.url, TOKEN)
        assert narrow.operations() == {"core_webservice_get_site_info"}
        with pytest.raises(AccessDeniedError):
            narrow.send("core_course_get_categories", {}, timeout=5)
    finally:
        limited.site.close()


def test_decode_of_what_the_endpoint_sends_matches_the_real_envelope_shape(moodle: FakeMoodle) -> None:
    status, _, body = handle_soap(moodle.dispatch, "POST", f"/webservice/soap/server.php?wstoken={TOKEN}",
                                  (FIXTURES / "soap" / "core_course_get_categories.request.xml").read_bytes(),
                                  moodle.site.url)
    assert status == 200
    assert decode_response(body, "core_course_get_categories") == sample("core_course_get_categories")
