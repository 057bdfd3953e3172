"""PHP form parsing and Moodle's parameter validation, as the sandbox reproduces them."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from moodle_sync.sandbox.errors import SandboxMoodleError
from moodle_sync.sandbox.params import parse_php_form, validate_parameters
from moodle_sync.ws.signatures import signature


def params_of(function: str) -> dict:
    return signature(function)["parameters_desc"]


def test_nested_fields_become_nested_arrays_with_int_keys() -> None:
    body = urlencode([("courses[0][fullname]", "A"), ("courses[0][courseformatoptions][0][name]", "numsections"),
                      ("courses[0][courseformatoptions][0][value]", "3"), ("courses[1][fullname]", "B")])
    parsed = parse_php_form(body, 1000)
    assert parsed == {"courses": {0: {"fullname": "A", "courseformatoptions": {0: {"name": "numsections",
                                                                                     "value": "3"}}},
                                  1: {"fullname": "B"}}}


def test_empty_brackets_append_a_new_item_each_time() -> None:
    parsed = parse_php_form("courses[][fullname]=A&courses[][shortname]=a", 1000)
    assert parsed["courses"] == {0: {"fullname": "A"}, 1: {"shortname": "a"}}


def test_non_canonical_numbers_stay_string_keys_and_plus_is_space() -> None:
    parsed = parse_php_form("a[01]=x&a[1]=y&b=hello+world&c.d=1", 1000)
    assert parsed["a"] == {"01": "x", 1: "y"}
    assert parsed["b"] == "hello world"
    assert parsed["c_d"] == "1"  # PHP turns dots in names into underscores


def test_fields_past_max_input_vars_are_dropped_silently() -> None:
    body = "&".join(f"values[{i}]=u{i}" for i in range(10))
    assert list(parse_php_form(body, 4)["values"].values()) == ["u0", "u1", "u2", "u3"]


def _debuginfo(function: str, value: dict) -> str:
    with pytest.raises(SandboxMoodleError) as info:
        validate_parameters(params_of(function), value)
    assert info.value.errorcode == "invalidparameter"
    assert info.value.message == "Invalid parameter value detected"
    return str(info.value.debuginfo)


def test_unknown_keys_are_named_like_moodle() -> None:
    assert _debuginfo("core_webservice_get_site_info", {"foo": "1"}) == \
        "Unexpected keys (foo) detected in parameter array."


def test_missing_required_key_names_the_path() -> None:
    assert _debuginfo("core_course_create_courses", {"courses": {0: {"fullname": "x", "categoryid": "1"}}}) == \
        "courses => Invalid parameter value detected: Missing required key in single structure: shortname"


@pytest.mark.parametrize("bad", [" 1", "1.0", "01", "abc", "+1", ""])
def test_ints_reject_anything_but_canonical_digits(bad: str) -> None:
    text = _debuginfo("core_enrol_get_enrolled_users", {"courseid": bad})
    assert text == (f'courseid => Invalid parameter value detected: Invalid external api parameter: the value is '
                    f'"{bad}", the server was expecting "int" type')


def test_ints_are_converted() -> None:
    assert validate_parameters(params_of("core_enrol_get_enrolled_users"), {"courseid": "-7"}) == \
        {"courseid": -7, "options": []}


@pytest.mark.parametrize("bad", ["true", "yes", "2", ""])
def test_bools_accept_only_0_and_1(bad: str) -> None:
    _debuginfo("core_course_get_categories", {"addsubcategories": bad})


def test_bools_and_defaults() -> None:
    desc = params_of("core_course_get_categories")
    assert validate_parameters(desc, {"addsubcategories": "0"}) == {"criteria": [], "addsubcategories": False}
    assert validate_parameters(desc, {}) == {"criteria": [], "addsubcategories": True}


def test_defaults_are_cleaned_to_their_type() -> None:
    cleaned = validate_parameters(params_of("core_group_create_groups"),
                                  {"groups": {0: {"courseid": "2", "name": "A", "description": ""}}})
    assert cleaned["groups"][0]["descriptionformat"] == 1
    assert cleaned["groups"][0]["participation"] is True


def test_scalar_for_list_and_list_for_scalar() -> None:
    assert _debuginfo("core_user_get_users_by_field", {"field": "username", "values": "admin"}) == \
        "values => Invalid parameter value detected: Only arrays accepted. The bad value is: 'admin'"
    assert _debuginfo("core_enrol_get_enrolled_users", {"courseid": {0: "1"}}) == \
        "courseid => Invalid parameter value detected: Scalar type expected, array or object received."


def test_usernames_must_already_be_clean() -> None:
    user = {"username": "Guru01", "password": "x", "firstname": "A", "lastname": "B", "email": "a@b.id"}
    assert "the server was expecting \"username\" type" in _debuginfo("core_user_create_users", {"users": [user]})


def test_python_values_from_soap_are_accepted() -> None:
    cleaned = validate_parameters(params_of("core_course_get_categories"),
                                  {"criteria": [{"key": "id", "value": 3}], "addsubcategories": True})
    assert cleaned == {"criteria": [{"key": "id", "value": "3"}], "addsubcategories": True}
