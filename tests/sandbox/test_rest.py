"""The REST endpoint: Moodle's checks in Moodle's order, error bodies, formats, encodings, limits."""

from __future__ import annotations

import json

import requests

from moodle_sync.exceptions import (
    AccessDeniedError,
    InvalidParameterError,
    InvalidTokenError,
    RecordMissingError,
)
from moodle_sync.sandbox.server import SandboxServer
from moodle_sync.ws.rest import RestTransport
from moodle_sync.ws.transport import MoodleClient
from tests.conftest import sample

from .conftest import post

REST = "/webservice/rest/server.php"


def test_bad_token_comes_first_and_matches_the_sample(sandbox: SandboxServer) -> None:
    assert post(sandbox, "nonexistent_function", token="0" * 32) == sample("core_webservice_get_site_info-invalidtoken")
    assert post(sandbox, "core_webservice_get_site_info", token="") == \
        sample("core_webservice_get_site_info-invalidtoken")


def test_unknown_function_then_access_then_parameters(sandbox: SandboxServer) -> None:
    assert post(sandbox, "core_nonexistent_function") == sample("nonexistent_function-invalidrecord")
    # not in the limited token's service: access is checked before the (bogus) parameters
    assert post(sandbox, "core_course_get_courses_by_field", {"bogus": 1}, token=sandbox.limited_token) == \
        sample("core_course_get_courses_by_field-accessexception")
    assert post(sandbox, "core_course_get_courses_by_field", {"field": "bogusfield", "value": "x"}) == \
        sample("core_course_get_courses_by_field-invalidparameter")


def test_debuginfo_only_with_debugging_on(sandbox: SandboxServer) -> None:
    assert "debuginfo" not in post(sandbox, "core_webservice_get_site_info", {"foo": "1"})
    sandbox.moodle.debug = True
    debug = "with-debuginfo/"
    assert post(sandbox, "core_webservice_get_site_info", {"foo": "1"}) == \
        sample(debug + "core_webservice_get_site_info-unknown-extra-param")
    assert post(sandbox, "core_nonexistent_function") == sample(debug + "nonexistent_function")
    assert post(sandbox, "core_course_get_courses_by_field", {"field": "id", "value": 2},
                token=sandbox.limited_token) == sample(debug + "core_course_get_courses_by_field-accessexception")
    assert post(sandbox, "core_enrol_get_enrolled_users", {"courseid": "abc"}) == \
        sample(debug + "core_enrol_get_enrolled_users-text-for-int")
    assert post(sandbox, "core_user_get_users_by_field", {"field": "username", "values": "admin"}) == \
        sample(debug + "core_user_get_users_by_field-scalar-for-list")
    assert post(sandbox, "core_course_create_courses", {"courses": [{"fullname": "no shortname / category",
                                                                    "categoryid": 1}]}) == \
        sample(debug + "core_course_create_courses-invalidparameter")
    assert post(sandbox, "core_webservice_get_site_info", token="x") == \
        sample(debug + "core_webservice_get_site_info-invalidtoken")


def test_missing_or_unknown_format_answers_xml(sandbox: SandboxServer) -> None:
    for fmt in (None, "yaml"):
        text = post(sandbox, "core_course_get_courses_by_field", {"field": "shortname", "value": "MASTER-AI"},
                    fmt=fmt)
        assert text.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>')
        assert "<VALUE>MASTER-AI</VALUE>" in text
    error = post(sandbox, "core_webservice_get_site_info", token="bad", fmt="xml")
    assert "<ERRORCODE>invalidtoken</ERRORCODE>" in error and error.startswith("<?xml")


def test_functions_without_a_result_answer_null(sandbox: SandboxServer) -> None:
    response = requests.post(sandbox.url + REST, data={
        "wstoken": sandbox.token, "wsfunction": "enrol_manual_enrol_users", "moodlewsrestformat": "json",
        "enrolments[0][roleid]": "5", "enrolments[0][userid]": "2", "enrolments[0][courseid]": "2"}, timeout=10)
    assert response.text == "null"
    assert response.headers["Content-Type"] == "application/json"


def test_get_query_works_and_a_json_body_is_ignored(sandbox: SandboxServer) -> None:
    query = f"?wstoken={sandbox.token}&wsfunction=core_course_get_courses_by_field&moodlewsrestformat=json"
    by_get = requests.get(sandbox.url + REST + query + "&field=idnumber&value=MASTER-PM", timeout=10).json()
    assert [c["shortname"] for c in by_get["courses"]] == ["MASTER-PM"]
    ignored = requests.post(sandbox.url + REST + query, data=json.dumps({"field": "idnumber", "value": "MASTER-PM"}),
                            headers={"Content-Type": "application/json"}, timeout=10).json()
    assert len(ignored["courses"]) == 5  # no criteria reached Moodle: every course


def test_empty_brackets_split_into_separate_items(sandbox: SandboxServer) -> None:
    response = requests.post(sandbox.url + REST, data=[
        ("wstoken", sandbox.token), ("wsfunction", "core_course_create_courses"), ("moodlewsrestformat", "json"),
        ("courses[][fullname]", "A"), ("courses[][shortname]", "a"), ("courses[][categoryid]", "1")], timeout=10)
    assert response.json()["errorcode"] == "invalidparameter"  # three incomplete courses, not one


def test_max_input_vars_drops_the_rest_silently(sandbox: SandboxServer) -> None:
    sandbox.max_input_vars = 6  # token, function, format, field + 2 values
    found = post(sandbox, "core_user_get_users_by_field", {"field": "username",
                                                           "values": ["guest", "admin", "nobody", "x"]})
    assert [u["username"] for u in found] == ["guest", "admin"]
    sandbox.max_input_vars = 4
    sandbox.moodle.debug = True
    assert post(sandbox, "core_user_get_users_by_field", {"field": "username", "values": ["admin"]})["debuginfo"] == \
        "Missing required key in single structure: values"


def test_client_errors_map_to_our_exceptions(sandbox: SandboxServer, client: MoodleClient) -> None:
    import pytest

    with pytest.raises(InvalidParameterError):
        client.call("core_course_get_courses_by_field", {"field": "bogus", "value": "x"})
    with pytest.raises(RecordMissingError):
        client.transport.send("core_nonexistent_function", {}, timeout=5)
    with pytest.raises(InvalidTokenError):
        RestTransport(sandbox.url, "f" * 32).send("core_webservice_get_site_info", {}, timeout=5)
    with pytest.raises(AccessDeniedError):
        RestTransport(sandbox.url, sandbox.limited_token).send("core_course_get_categories", {}, timeout=5)


def test_made_tokens_carry_exactly_their_functions(sandbox: SandboxServer) -> None:
    token = sandbox.make_token(["core_webservice_get_site_info", "core_course_get_categories"])
    assert len(token) == 32 and int(token, 16) >= 0
    info = post(sandbox, "core_webservice_get_site_info", token=token)
    assert [f["name"] for f in info["functions"]] == ["core_webservice_get_site_info", "core_course_get_categories"]
    assert post(sandbox, "core_user_create_users", {"users": []}, token=token)["errorcode"] == "accessexception"
    unimplemented = sandbox.make_token(["core_course_duplicate_course"])
    assert post(sandbox, "core_course_duplicate_course", {"courseid": 2, "fullname": "x", "shortname": "x",
                                                          "categoryid": 1}, token=unimplemented)["errorcode"] == \
        "sandboxnotimplemented"


def test_refuses_to_listen_beyond_loopback() -> None:
    import pytest

    with pytest.raises(ValueError, match="loopback"):
        SandboxServer("0.0.0.0")
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer("192.168.1.10")


def test_keep_alive_reuses_one_connection(sandbox: SandboxServer) -> None:
    before = sandbox.connections_opened
    with requests.Session() as session:
        for _ in range(5):
            answer = session.post(sandbox.url + REST, data={"wstoken": sandbox.token, "moodlewsrestformat": "json",
                                                             "wsfunction": "core_webservice_get_site_info"},
                                  timeout=10)
            assert answer.headers.get("Connection", "keep-alive").lower() != "close"
    assert sandbox.connections_opened - before == 1
