"""The sandbox's SOAP endpoint answers as the real Moodle 4.5 SOAP server does (checked against one)."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from moodle_sync.sandbox.errors import (
    SandboxMoodleError,
    access_denied,
    invalid_parameter,
    invalid_token,
    moodle_error,
    unknown_function,
)
from moodle_sync.sandbox.soap_endpoint import handle_soap
from moodle_sync.ws.signatures import load_signatures
from moodle_sync.ws.soap_codec import decode_response, encode_request, find_fault
from tests.conftest import FIXTURES, sample

TOKEN = "e2dp0in770ken000000000000000abcd"
BASE = "http://127.0.0.1:4321"
CALL = f"/webservice/soap/server.php?wstoken={TOKEN}"
WSDL = "http://schemas.xmlsoap.org/wsdl/"


class Site:
    """A dispatch that records calls; ``answers`` by function (a value or an exception to raise)."""

    def __init__(self, functions: list[str] | None = None) -> None:
        self.functions = functions
        self.answers: dict[str, Any] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, token: str, function: str, params: Any) -> Any:
        self.calls.append((token, function, dict(params)))
        if token != TOKEN:
            raise invalid_token()
        if function not in load_signatures():
            raise unknown_function(function)
        if self.functions is not None and function not in self.functions:
            raise access_denied(function)
        if function == "core_webservice_get_site_info" and function not in self.answers:
            info = sample("core_webservice_get_site_info")
            if self.functions is not None:
                info["functions"] = [{"name": f, "version": "2024100706"} for f in self.functions]
            return info
        answer = self.answers.get(function)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def post(site: Site, function: str, params: dict[str, Any], **kw: Any) -> tuple[int, dict[str, str], bytes]:
    return handle_soap(site, "POST", CALL, encode_request(function, params, f"{BASE}/x"), BASE, **kw)


def operations(wsdl: bytes) -> set[str]:
    root = etree.fromstring(wsdl)
    return {op.get("name") for op in root.iter(f"{{{WSDL}}}operation")
            if op.getparent().tag == f"{{{WSDL}}}portType"}


def test_the_wsdl_is_the_real_one_for_this_site_and_token() -> None:
    status, headers, body = handle_soap(Site(), "GET", f"{CALL}&wsdl=1", b"", BASE)
    assert status == 200 and headers["Content-Type"].startswith("application/xml")
    text = body.decode()
    assert "127.0.0.1:8080" not in text and "wstoken=TOKEN" not in text
    assert f'location="{BASE}/webservice/soap/server.php?wstoken={TOKEN}"' in text
    assert len(operations(body)) == 81  # every function of the real service


def test_the_wsdl_lists_only_the_tokens_functions() -> None:
    site = Site(functions=["core_webservice_get_site_info", "core_course_get_categories"])
    body = handle_soap(site, "GET", f"{CALL}&wsdl=1", b"", BASE)[2]
    assert operations(body) == {"core_webservice_get_site_info", "core_course_get_categories"}
    messages = {m.get("name") for m in etree.fromstring(body).iter(f"{{{WSDL}}}message")}
    assert messages == {"core_webservice_get_site_infoIn", "core_webservice_get_site_infoOut",
                        "core_course_get_categoriesIn", "core_course_get_categoriesOut"}
    told = handle_soap(Site(), "GET", f"{CALL}&wsdl=1", b"", BASE,
                       token_functions=lambda token: ["core_user_create_users"])[2]
    assert operations(told) == {"core_user_create_users"}
    unknown = handle_soap(Site(), "GET", f"{CALL}&wsdl=1", b"", BASE, token_functions=lambda token: None)[2]
    assert len(operations(unknown)) == 81


def test_a_bad_token_is_a_moodle_error_fault_with_http_200() -> None:
    status, headers, body = handle_soap(Site(), "GET", "/webservice/soap/server.php?wsdl=1&wstoken=nope", b"",
                                        BASE)
    assert status == 200 and headers["Content-Type"].startswith("application/xml")
    fault = find_fault(body)
    assert fault.code == "MOODLE:error" and fault.string == "Invalid token - token not found"
    status, _, body = handle_soap(Site(), "POST", "/webservice/soap/server.php?wstoken=nope",
                                  encode_request("core_webservice_get_site_info", {}, "urn:x"), BASE)
    assert status == 200 and find_fault(body).string == "Invalid token - token not found"


def test_a_call_reaches_moodle_as_php_hands_it_over() -> None:
    site = Site()
    site.answers["core_course_get_categories"] = sample("core_course_get_categories")
    real = (FIXTURES / "soap" / "core_course_get_categories.request.xml").read_bytes()
    status, headers, body = handle_soap(site, "POST", CALL, real, BASE)
    assert status == 200 and headers["Content-Type"].startswith("text/xml")
    criteria = [{"key": "idnumber", "value": "bench-std"}]
    assert site.calls[-1] == (TOKEN, "core_course_get_categories",
                              {"criteria": criteria, "addsubcategories": 0})
    assert decode_response(body, "core_course_get_categories") == sample("core_course_get_categories")
    assert f'xmlns:ns1="{BASE}/webservice/soap/server.php?wstoken={TOKEN}"'.encode() in body


def test_a_part_left_out_arrives_as_null_and_no_part_at_all_is_missing_parameter() -> None:
    site = Site()
    partial = (b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
               b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><SOAP-ENV:Body>'
               b'<m:core_course_get_categories '
               b'xmlns:m="urn:x"><addsubcategories xsi:type="xsd:int" '
               b'xmlns:xsd="http://www.w3.org/2001/XMLSchema">0</addsubcategories>'
               b'</m:core_course_get_categories></SOAP-ENV:Body></SOAP-ENV:Envelope>')
    site.answers["core_course_get_categories"] = []
    handle_soap(site, "POST", CALL, partial, BASE)
    assert site.calls[-1][2] == {"criteria": None, "addsubcategories": 0}

    empty = partial.replace(b'<addsubcategories xsi:type="xsd:int" '
                            b'xmlns:xsd="http://www.w3.org/2001/XMLSchema">0</addsubcategories>', b"")
    status, _, body = handle_soap(site, "POST", CALL, empty, BASE)
    assert status == 500 and (find_fault(body).code, find_fault(body).string) == (
        "SOAP-ENV:Client", "Missing parameter")


@pytest.mark.parametrize("method, body", [("POST", b"not xml"), ("POST", b""), ("GET", b"")])
def test_what_is_not_a_call_is_a_bad_request(method: str, body: bytes) -> None:
    status, _, answer = handle_soap(Site(), method, CALL, body, BASE)
    assert status == 500 and find_fault(answer).string == "Bad Request"


def test_functions_outside_the_service_are_not_present() -> None:
    site = Site(functions=["core_webservice_get_site_info"])
    status, _, body = post(site, "core_course_get_categories", {})
    assert status == 500 and find_fault(body).string == "Procedure 'core_course_get_categories' not present"
    status, _, body = post(Site(), "local_nothing_here", {"a": 1})
    assert status == 500 and find_fault(body).string == "Procedure 'local_nothing_here' not present"


def test_errors_carry_the_errorcode_and_only_a_debugging_site_says_more() -> None:
    site = Site()
    site.answers["core_user_create_users"] = invalid_parameter("Username already exists: guru1")
    status, _, body = post(site, "core_user_create_users", {"users": [{"username": "guru1"}]})
    fault = find_fault(body)
    assert status == 500 and fault.string == "Unknown error | ERRORCODE: invalidparameter"
    assert fault.actor == "invalidparameter" and fault.detail is None
    fault = find_fault(post(site, "core_user_create_users", {"users": []}, debug=True)[2])
    assert fault.string == "Invalid parameter value detected | ERRORCODE: invalidparameter"
    assert fault.detail == "Username already exists: guru1"

    site.answers["core_course_create_courses"] = moodle_error("shortnametaken", "Short name is already used")
    fault = find_fault(post(site, "core_course_create_courses", {"courses": []})[2])
    assert fault.string == "Unknown error | ERRORCODE: shortnametaken"


def test_early_errors_add_the_debuginfo_when_debugging() -> None:
    site = Site()
    site.answers["core_course_get_categories"] = SandboxMoodleError("x", "wsaccessusersuspended",
                                                                    "Refused web service access", "why")
    assert find_fault(post(site, "core_course_get_categories", {})[2]).string == "Refused web service access"
    status, _, body = post(site, "core_course_get_categories", {}, debug=True)
    assert status == 200 and find_fault(body).string == "Refused web service access - why"


def test_functions_without_a_result_answer_202_with_no_body() -> None:
    site = Site()
    status, _, body = post(site, "enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": 3,
                                                                               "courseid": 2}]})
    assert (status, body) == (202, b"")


def test_signals_of_the_sandbox_pass_through() -> None:
    class Signal(BaseException):
        pass

    site = Site()
    site.answers["core_course_get_categories"] = Signal()
    with pytest.raises(Signal):
        post(site, "core_course_get_categories", {})
