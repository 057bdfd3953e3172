"""The rpc/encoded codec against the envelopes PHP's SoapClient sent to, and got from, a real Moodle 4.5."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from moodle_sync.exceptions import (
    AccessDeniedError,
    InvalidParameterError,
    InvalidTokenError,
    NoCompletionCriteriaError,
    PasswordPolicyError,
    RecordMissingError,
    WebServiceError,
    from_moodle_error,
)
from moodle_sync.ws.soap_codec import (
    SOAP_ENC,
    XSI,
    SoapCodecError,
    SoapFault,
    decode_fault,
    decode_request,
    decode_response,
    encode_fault,
    encode_request,
    encode_response,
    find_fault,
    moodle_error_from_fault,
)
from tests.conftest import FIXTURES, sample

ENVELOPES = FIXTURES / "soap"
NS = "http://127.0.0.1:8080/webservice/soap/server.php?wstoken=TOKEN"


def envelope(name: str) -> bytes:
    return (ENVELOPES / name).read_bytes()


def shape(node: etree._Element) -> Any:
    """A comparable form of an XML tree: tags, attributes with QName values resolved, text, children."""
    def resolve(value: str) -> str:
        prefix, colon, local = value.rpartition(":")
        if colon and (prefix in node.nsmap or prefix == ""):
            return f"{{{node.nsmap.get(prefix or None)}}}{local}"
        return value

    attrib = {k: resolve(v) if k in (f"{{{XSI}}}type", f"{{{SOAP_ENC}}}arrayType") else v
              for k, v in node.attrib.items()}
    return (node.tag, attrib, (node.text or "").strip(), [shape(child) for child in node])


def xml_shape(body: bytes) -> Any:
    return shape(etree.fromstring(body))


# ----------------------------------------------------------------------------------------- requests
REQUESTS = {
    "core_course_get_categories": {"criteria": [{"key": "idnumber", "value": "bench-std"}],
                                   "addsubcategories": False},
    "core_course_get_courses_by_field": {"field": "idnumber", "value": "bench-std-metro"},
    "core_enrol_get_enrolled_users": {"courseid": 24, "options": [{"name": "limitfrom", "value": "0"},
                                                                  {"name": "limitnumber", "value": "2"}]},
    "core_user_get_users_by_field": {"field": "email", "values": ["std.metro.1@guru.belajar.id",
                                                                  "std.metro.2@guru.belajar.id"]},
    "core_webservice_get_site_info": {},
}


def test_nested_criteria_request_is_byte_for_byte_what_php_sends() -> None:
    sent = encode_request("core_course_get_categories", REQUESTS["core_course_get_categories"], NS)
    assert sent == envelope("core_course_get_categories.request.xml")


@pytest.mark.parametrize("function", sorted(REQUESTS))
def test_requests_match_the_real_envelopes(function: str) -> None:
    sent = encode_request(function, REQUESTS[function], NS)
    real = envelope(f"{function}.request.xml")
    assert xml_shape(sent)[3] == xml_shape(real)[3]  # the Body, structurally (prefix order may differ)
    root = etree.fromstring(sent)
    assert {"SOAP-ENV", "ns1", "ns2", "SOAP-ENC", "xsi", "xsd"} <= set(root.nsmap)  # all on the envelope
    assert all(len(node.nsmap) == len(root.nsmap) for node in root.iter())  # none declared below it


@pytest.mark.parametrize("function", sorted(REQUESTS))
def test_decoding_a_real_request_gives_back_the_parameters(function: str) -> None:
    name, params = decode_request(envelope(f"{function}.request.xml"))
    assert name == function
    expected = {k: (int(v) if isinstance(v, bool) else v) for k, v in REQUESTS[function].items()}
    if function == "core_webservice_get_site_info":
        expected = {"serviceshortnames": []}
    assert params == expected
    assert xml_shape(encode_request(name, params, NS))[3] == xml_shape(envelope(f"{function}.request.xml"))[3]


def test_parameters_follow_the_signature_order_and_left_out_ones_get_their_defaults() -> None:
    sent = etree.fromstring(encode_request("core_course_get_categories", {"addsubcategories": True}, NS))
    call = sent[0][0]
    assert [child.tag for child in call] == ["criteria", "addsubcategories"]
    assert call[0].get(f"{{{SOAP_ENC}}}arrayType") == "xsd:ur-type[0]"  # an optional list: empty, not absent
    assert (call[1].get(f"{{{XSI}}}type"), call[1].text) == ("xsd:int", "1")

    defaults = etree.fromstring(encode_request("core_course_get_categories", {}, NS))[0][0]
    assert [(c.tag, c.text) for c in defaults] == [("criteria", None), ("addsubcategories", "1")]

    edit = encode_request("core_course_edit_section", {"action": "hide", "id": 3}, NS)
    search = etree.fromstring(edit)[0][0]
    assert search[2].tag == "sectionreturn" and search[2].get(f"{{{XSI}}}nil") == "true"  # default null


def test_required_parameters_left_out_stay_out_and_unknown_ones_go_last() -> None:
    call = etree.fromstring(encode_request("core_enrol_get_enrolled_users", {"extra": "x"}, NS))[0][0]
    assert [child.tag for child in call] == ["options", "extra"]


def test_values_are_typed_as_moodle_accepts_them() -> None:
    users = [{"username": "guru1", "password": "S3cret-pass", "firstname": "Guru", "lastname": "Satu",
              "email": "g1@example.org", "idnumber": None,
              "preferences": [{"type": "auth_forcepasswordchange", "value": 1}],
              "customfields": []}]
    call = etree.fromstring(encode_request("core_user_create_users", {"users": users}, NS))[0][0]
    item = call[0][0]
    assert item.get(f"{{{XSI}}}type") == "ns2:Map"
    keys = [entry.find("key").text for entry in item]
    assert keys == ["username", "password", "firstname", "lastname", "email", "preferences", "customfields"]
    prefs = item[5].find("value")
    assert prefs.get(f"{{{SOAP_ENC}}}arrayType") == "ns2:Map[1]"
    assert item[6].find("value").get(f"{{{SOAP_ENC}}}arrayType") == "xsd:ur-type[0]"

    # booleans: xsd:boolean only where Moodle declares PARAM_BOOL; elsewhere 0/1 (PHP's false is "")
    enrol = etree.fromstring(encode_request("enrol_manual_enrol_users", {"enrolments": [
        {"roleid": 5, "userid": 7, "courseid": 3, "suspend": False}]}, NS))[0][0][0][0]
    suspend = next(e.find("value") for e in enrol if e.find("key").text == "suspend")
    assert (suspend.get(f"{{{XSI}}}type"), suspend.text) == ("xsd:int", "0")
    search = etree.fromstring(encode_request("core_course_get_courses_by_field", {
        "field": "id", "value": 2.5}, NS))[0][0]
    assert (search[1].get(f"{{{XSI}}}type"), search[1].text) == ("xsd:double", "2.5")
    groups = etree.fromstring(encode_request("core_group_create_groups", {"groups": [
        {"courseid": 3, "name": "A", "description": "", "participation": False}]}, NS))[0][0][0][0]
    participation = next(e.find("value") for e in groups if e.find("key").text == "participation")
    assert (participation.get(f"{{{XSI}}}type"), participation.text) == ("xsd:boolean", "false")


def test_an_empty_structure_goes_as_an_empty_array() -> None:
    # Moodle reads an empty ns2:Map as null (invalidparameter) but an empty array as array().
    call = etree.fromstring(encode_request("core_course_get_courses", {"options": {}}, NS))[0][0]
    assert call[0].get(f"{{{XSI}}}type") == "SOAP-ENC:Array"


def test_text_xml_cannot_carry_is_refused() -> None:
    with pytest.raises(SoapCodecError):
        encode_request("core_course_get_courses_by_field", {"field": "shortname", "value": "a\x00b"}, NS)


# ------------------------------------------------------------------------------------------ answers
def scalars_match(soap: Any, rest: Any) -> bool:
    """Same keys and list nesting, and the same Python type for each value (null matches any)."""
    if isinstance(rest, dict):
        return isinstance(soap, dict) and soap.keys() == rest.keys() and all(
            scalars_match(soap[k], rest[k]) for k in rest)
    if isinstance(rest, list):
        if not isinstance(soap, list):
            return False
        pairs = zip(soap, rest) if len(soap) == len(rest) else zip(soap, rest[:1] * len(soap))
        return all(scalars_match(s, r) for s, r in pairs)
    return soap is None or rest is None or type(soap) is type(rest)


def test_site_info_decodes_to_exactly_the_rest_json_of_the_same_site() -> None:
    decoded = decode_response(envelope("core_webservice_get_site_info.response.xml"),
                              "core_webservice_get_site_info")
    assert decoded == sample("core_webservice_get_site_info")
    # what the WSDL typing changed is undone: PARAM_BOOL came as xsd:int, optional nils are dropped
    assert decoded["userissiteadmin"] is True and decoded["usercanmanageownfiles"] is True
    assert "userhomepageurl" not in decoded and "usersessionscount" not in decoded


@pytest.mark.parametrize("function", ["core_course_get_categories", "core_course_get_courses_by_field",
                                      "core_user_get_users_by_field", "core_enrol_get_enrolled_users"])
def test_answers_decode_to_the_shape_and_types_of_the_rest_json(function: str) -> None:
    decoded = decode_response(envelope(f"{function}.response.xml"), function)
    assert decoded and scalars_match(decoded, sample(function))


def test_answer_details() -> None:
    users = decode_response(envelope("core_user_get_users_by_field.response.xml"),
                            "core_user_get_users_by_field")
    assert users[0]["suspended"] is False and users[0]["confirmed"] is True and users[0]["timezone"] == "99"
    courses = decode_response(envelope("core_course_get_courses_by_field.response.xml"),
                              "core_course_get_courses_by_field")
    course = courses["courses"][0]
    assert course["enrollmentmethods"] == ["manual"] and course["contacts"] == []
    assert course["showactivitydates"] is True and courses["warnings"] == []
    enrolled = decode_response(envelope("core_enrol_get_enrolled_users.response.xml"))
    assert [u["roles"][0]["shortname"] for u in enrolled] == ["student", "student"]


def test_answers_without_a_result() -> None:
    assert decode_response(b"") is None  # HTTP 202, as Moodle answers a function that returns nothing
    void = encode_response("core_user_delete_users", None, NS)
    assert decode_response(void, "core_user_delete_users") is None


def test_multi_reference_values_are_followed() -> None:
    body = (b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
            b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            b'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
            b'<SOAP-ENV:Body><r><return><a href="#r1"/><b href="#r1"/></return></r>'
            b'<v id="r1" xsi:type="xsd:int">7</v></SOAP-ENV:Body></SOAP-ENV:Envelope>')
    assert decode_response(body) == {"a": 7, "b": 7}
    loop = body.replace(b'<v id="r1" xsi:type="xsd:int">7</v>', b'<v id="r1"><w href="#r1"/></v>')
    with pytest.raises(SoapCodecError):
        decode_response(loop)


@pytest.mark.parametrize("body", [
    b"<html>Error</html>", b"not xml", b"<?xml version='1.0'?><a/>",
    b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"/>'])
def test_what_is_not_a_soap_answer_is_refused(body: bytes) -> None:
    with pytest.raises(SoapCodecError):
        decode_response(body)


def test_xml_entities_are_not_expanded() -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>'
            b'<r><return>&e;</return></r></SOAP-ENV:Body></SOAP-ENV:Envelope>')
    assert "root:" not in str(decode_response(body))


# ------------------------------------------------------------------------------ the server's halves
@pytest.mark.parametrize("function", ["core_webservice_get_site_info", "core_course_get_categories",
                                      "core_course_get_courses_by_field", "core_user_get_users_by_field",
                                      "core_enrol_get_enrolled_users"])
def test_answers_we_encode_decode_like_the_real_ones(function: str) -> None:
    real = decode_response(envelope(f"{function}.response.xml"), function)
    ours = encode_response(function, real, NS)
    assert decode_response(ours, function) == real
    # where Moodle's WSDL types the result it is a struct, elsewhere Maps: as PHP writes it
    top = etree.fromstring(ours)[0][0][0]
    real_top = etree.fromstring(envelope(f"{function}.response.xml"))[0][0][0]
    is_array = top.get(f"{{{XSI}}}type") == "SOAP-ENC:Array"
    assert is_array == (real_top.get(f"{{{XSI}}}type") == "SOAP-ENC:Array")


def test_struct_answers_type_booleans_as_int_and_missing_keys_as_nil() -> None:
    info = sample("core_webservice_get_site_info")
    ours = etree.fromstring(encode_response("core_webservice_get_site_info", info, NS))
    ret = ours[0][0][0]
    admin = ret.find("userissiteadmin")
    assert (admin.get(f"{{{XSI}}}type"), admin.text) == ("xsd:int", "1")
    assert ret.find("userhomepageurl").get(f"{{{XSI}}}nil") == "true"
    assert ret.find("functions")[0].get(f"{{{XSI}}}type") == "ns2:Map"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**62, 2**62) | st.floats(allow_nan=False)
    | st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(JSON)
def test_any_json_value_survives_an_untyped_answer(value: Any) -> None:
    """Where no signature speaks, an answer carries any REST JSON value unchanged."""
    decoded = decode_response(encode_response("local_unknown_function", value, NS), "local_unknown_function")
    assert decoded == normalise(value)


def normalise(value: Any) -> Any:
    """An empty dict is an empty PHP array: it comes back as []."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()} if value else []
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text("abcdefghij", min_size=1, max_size=6), JSON, max_size=4))
def test_any_parameters_survive_a_request(params: dict[str, Any]) -> None:
    """What we send is what PHP hands to Moodle: None left out, booleans as 0/1, {} as []."""
    name, decoded = decode_request(encode_request("local_unknown_function", params, NS))
    assert name == "local_unknown_function"
    assert decoded == {k: as_sent(v) for k, v in params.items() if v is not None}


def as_sent(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict):
        kept = {k: as_sent(v) for k, v in value.items() if v is not None}
        return kept or []
    if isinstance(value, list):
        return [as_sent(v) for v in value if v is not None]
    return value


# ------------------------------------------------------------------------------------------- faults
def fault_body(code: str, string: str, actor: str | None = None, detail: str | None = None) -> bytes:
    return encode_fault(code, string, actor=actor, detail=detail)


# Fault strings as the real site sent them (token faults HTTP 200, the others HTTP 500).
REAL_FAULTS = [
    ("MOODLE:error", "Invalid token - token not found", None, InvalidTokenError, "invalidtoken"),
    ("Receiver", "Unknown error | ERRORCODE: invalidparameter", "invalidparameter", InvalidParameterError,
     "invalidparameter"),
    ("Receiver", "Unknown error | ERRORCODE: invalidrecord", "invalidrecord", RecordMissingError,
     "invalidrecord"),
    ("Receiver", "Unknown error | ERRORCODE: nocriteriaset", "nocriteriaset", NoCompletionCriteriaError,
     "nocriteriaset"),
    ("SOAP-ENV:Server", "Procedure 'core_course_get_categories' not present", None, AccessDeniedError,
     "accessexception"),
    ("SOAP-ENV:Client", "Missing parameter", None, InvalidParameterError, "invalidparameter"),
    ("SOAP-ENV:Client", "Bad Request", None, WebServiceError, "soapfault"),
]


@pytest.mark.parametrize("code, string, actor, cls, errorcode", REAL_FAULTS)
def test_faults_map_to_the_exceptions_rest_raises(code: str, string: str, actor: str | None, cls: type,
                                                  errorcode: str) -> None:
    body = fault_body(code, string, actor)
    assert decode_fault(body) == (code, string)
    error = from_moodle_error("f", moodle_error_from_fault(find_fault(body)))
    assert type(error) is cls and error.errorcode == errorcode


def test_a_weak_password_fault_carries_the_policy() -> None:
    policy = ("<div>Passwords must be at least 8 characters long.</div><div>Passwords must have at least 1 "
              "digit(s).</div>")
    fault = find_fault(fault_body("Receiver", f"Unknown error | ERRORCODE: {policy}", policy))
    error = from_moodle_error("core_user_create_users", moodle_error_from_fault(fault))
    assert isinstance(error, PasswordPolicyError) and "at least 1 digit" in str(error)


def test_a_debugging_site_gives_message_and_debuginfo() -> None:
    fault = find_fault(fault_body("Receiver",
                                  "Invalid parameter value detected | ERRORCODE: invalidparameter",
                                  "invalidparameter", "Username already exists: guru1"))
    assert moodle_error_from_fault(fault) == {"exception": None, "errorcode": "invalidparameter",
                                              "message": "Invalid parameter value detected",
                                              "debuginfo": "Username already exists: guru1"}
    access = find_fault(fault_body("MOODLE:error",
                                   "Access control exception - Invalid token - token expired"))
    assert moodle_error_from_fault(access)["errorcode"] == "accessexception"
    assert moodle_error_from_fault(access)["debuginfo"] == "Invalid token - token expired"


def test_fault_helpers() -> None:
    assert find_fault(envelope("core_course_get_categories.response.xml")) is None
    with pytest.raises(SoapCodecError):
        decode_fault(envelope("core_course_get_categories.response.xml"))
    with pytest.raises(SoapCodecError):
        decode_response(fault_body("Receiver", "x | ERRORCODE: y"))
    assert find_fault(fault_body("a", "b\x01c", "d", "e")) == SoapFault("a", "b?c", "d", "e")
