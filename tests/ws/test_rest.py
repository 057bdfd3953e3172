from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from moodle_sync.exceptions import (
    AccessDeniedError,
    InvalidParameterError,
    InvalidTokenError,
    PasswordPolicyError,
    RateLimitedError,
    RecordMissingError,
    RequestTimeoutError,
    RunHaltedError,
    ServerError,
    ShortnameTakenError,
    SiteUnreachableError,
    WriteOutcomeUnknownError,
)
from moodle_sync.ws.rest import RestTransport, decode_response, encode_php_form
from moodle_sync.ws.transport import MoodleClient, RetryPolicy
from tests.conftest import SAMPLES, sample
from tests.ws.canned import CannedServer

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def server() -> Iterator[CannedServer]:
    s = CannedServer()
    yield s
    s.close()


def client_for(server: CannedServer, **kw: object) -> MoodleClient:
    kw.setdefault("retry", RetryPolicy(attempts=3, backoff=0.0))
    c = MoodleClient(RestTransport(server.url, TOKEN), **kw)  # type: ignore[arg-type]
    c._sleep = lambda s: None
    return c


def test_php_style_encoding() -> None:
    fields = encode_php_form({"courses": [{"fullname": "Å", "visible": True, "summary": None,
                                           "courseformatoptions": [{"name": "numsections", "value": 3}]}],
                              "flag": False, "ratio": 2.0})
    assert fields == [("courses[0][fullname]", "Å"), ("courses[0][visible]", "1"),
                      ("courses[0][courseformatoptions][0][name]", "numsections"),
                      ("courses[0][courseformatoptions][0][value]", "3"), ("flag", "0"), ("ratio", "2")]


def test_request_is_form_encoded_with_token_in_body(server: CannedServer) -> None:
    server.add(json.dumps(sample("core_course_get_categories")))
    cats = client_for(server).call("core_course_get_categories",
                                   {"criteria": [{"key": "idnumber", "value": "X"}]})
    assert cats[0]["name"] == "Category 1"
    req = server.requests[0]
    assert req["path"] == "/webservice/rest/server.php"
    assert ("wstoken", TOKEN) in req["fields"]
    assert ("moodlewsrestformat", "json") in req["fields"]
    assert ("criteria[0][key]", "idnumber") in req["fields"]
    assert TOKEN not in req["path"]


def test_connections_are_reused(server: CannedServer) -> None:
    c = client_for(server)
    for _ in range(5):
        server.add("null")
        c.call("enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": 3, "courseid": 2}]})
    assert len(server.connections) == 1
    assert c.stats.calls_to("enrol_manual_enrol_users") == 5


@pytest.mark.parametrize("name, exc", [
    ("core_webservice_get_site_info-invalidtoken", InvalidTokenError),
    ("core_course_get_courses_by_field-accessexception", AccessDeniedError),
    ("core_course_create_courses-invalidparameter", InvalidParameterError),
    ("core_course_create_courses-shortnametaken", ShortnameTakenError),
    ("core_user_create_users-weak-password", PasswordPolicyError),
    ("nonexistent_function-invalidrecord", RecordMissingError),
    ("with-debuginfo/core_course_create_courses-invalidparameter", InvalidParameterError),
])
def test_errors_are_mapped_from_the_body_of_a_200(name: str, exc: type) -> None:
    text = (SAMPLES / f"{name}.json").read_text()
    with pytest.raises(exc) as info:
        decode_response("core_course_create_courses", 200, text)
    assert info.value.errorcode


def test_invalid_parameter_keeps_debuginfo() -> None:
    text = (SAMPLES / "with-debuginfo/core_course_create_courses-invalidparameter.json").read_text()
    with pytest.raises(InvalidParameterError) as info:
        decode_response("core_course_create_courses", 200, text)
    assert "Missing required key in single structure: shortname" in str(info.value)


def test_access_denied_names_the_function() -> None:
    text = (SAMPLES / "core_course_get_courses_by_field-accessexception.json").read_text()
    with pytest.raises(AccessDeniedError, match="core_course_get_courses_by_field"):
        decode_response("core_course_get_courses_by_field", 200, text)


def test_password_policy_html_is_stripped() -> None:
    text = (SAMPLES / "core_user_create_users-weak-password.json").read_text()
    with pytest.raises(PasswordPolicyError) as info:
        decode_response("core_user_create_users", 200, text)
    assert "<div>" not in str(info.value)
    assert "at least 8 characters" in str(info.value)


def test_xml_answer_is_explained() -> None:
    with pytest.raises(ServerError, match="XML instead of JSON"):
        decode_response("f", 200, "<?xml version='1.0'?><RESPONSE/>")


def test_reads_are_retried_on_5xx_and_429(server: CannedServer) -> None:
    server.add("oops", status=502)
    server.add("", status=429, headers={"Retry-After": "0"})
    server.add(json.dumps(sample("core_course_get_categories")))
    c = client_for(server)
    assert c.call("core_course_get_categories")[0]["id"] == 1
    assert c.stats.by_function["core_course_get_categories"].calls == 3
    assert c.stats.by_function["core_course_get_categories"].retries == 2


def test_reads_give_up_after_the_attempts(server: CannedServer) -> None:
    for _ in range(3):
        server.add("", status=503)
    with pytest.raises(ServerError):
        client_for(server).call("core_course_get_categories")
    assert len(server.requests) == 3


def test_429_on_a_write_is_safe_to_retry(server: CannedServer) -> None:
    server.add("", status=429, headers={"Retry-After": "0"})
    server.add("null")
    client_for(server).call("enrol_manual_enrol_users",
                            {"enrolments": [{"roleid": 5, "userid": 3, "courseid": 2}]})
    assert len(server.requests) == 2


def test_a_write_that_times_out_is_never_resent(server: CannedServer) -> None:
    server.add("null", delay=1.0)
    c = client_for(server, timeout=0.2)
    with pytest.raises(WriteOutcomeUnknownError, match="read Moodle"):
        c.call("enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": 3, "courseid": 2}]})
    assert len(server.requests) == 1


def test_a_write_with_5xx_is_outcome_unknown(server: CannedServer) -> None:
    server.add("", status=500)
    with pytest.raises(WriteOutcomeUnknownError):
        client_for(server).call("core_user_delete_users", {"userids": [3]})
    assert len(server.requests) == 1


def test_a_read_that_times_out_is_retried_then_raises(server: CannedServer) -> None:
    for _ in range(3):
        server.add("null", delay=0.5)
    with pytest.raises(RequestTimeoutError):
        client_for(server, timeout=0.1).call("core_course_get_categories")


def test_a_refused_connection_is_not_retried_and_halts_the_client() -> None:
    c = MoodleClient(RestTransport("http://127.0.0.1:9", TOKEN), retry=RetryPolicy(attempts=4, backoff=0))
    c._sleep = lambda s: None
    with pytest.raises(SiteUnreachableError) as info:
        c.call("core_course_get_categories")
    assert info.value.sent is False and "connection refused" in str(info.value)
    assert c.stats.calls_to("core_course_get_categories") == 1
    with pytest.raises(RunHaltedError, match="connection refused"):
        c.call("core_user_delete_users", {"userids": [1]})
    assert c.stats.calls_to("core_user_delete_users") == 0


def test_rate_limit_after_retries(server: CannedServer) -> None:
    for _ in range(3):
        server.add("", status=429)
    with pytest.raises(RateLimitedError):
        client_for(server).call("core_course_get_categories")


def test_token_never_in_errors_or_repr(server: CannedServer) -> None:
    server.add(json.dumps({"exception": "x", "errorcode": "invalidparameter",
                           "message": f"echo wstoken={TOKEN}", "debuginfo": TOKEN}))
    c = client_for(server)
    with pytest.raises(InvalidParameterError) as info:
        c.call("core_course_get_categories")
    assert TOKEN not in str(info.value)
    assert TOKEN not in json.dumps(info.value.to_dict())
    assert TOKEN not in repr(c.transport)
