from __future__ import annotations

import pytest

from moodle_sync.exceptions import RequestShapeError
from moodle_sync.ws.signatures import check_params, check_returns, count_form_fields
from tests.conftest import sample


def test_valid_nested_params_pass() -> None:
    check_params("core_course_create_courses", {"courses": [{
        "fullname": "A", "shortname": "a", "categoryid": 1, "enablecompletion": 1,
        "courseformatoptions": [{"name": "numsections", "value": "3"}]}]})


@pytest.mark.parametrize("params, message", [
    ({"courses": [{"fullname": "A", "categoryid": 1}]}, "courses[0].shortname: missing required key"),
    ({"courses": [{"fullname": "A", "shortname": "a", "categoryid": 1, "foo": 1}]}, "unexpected keys ['foo']"),
    ({"courses": [{"fullname": "A", "shortname": "a", "categoryid": "1"}]}, "courses[0].categoryid: '1' is not"),
    ({"courses": {"fullname": "A"}}, "courses: expected a list"),
    ({}, "courses: missing required key"),
])
def test_bad_params_are_refused_before_sending(params: dict, message: str) -> None:
    with pytest.raises(RequestShapeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_params("core_course_create_courses", params)


def test_unknown_function_is_refused() -> None:
    with pytest.raises(RequestShapeError, match="not a web-service function"):
        check_params("core_course_make_coffee", {})


def test_bool_accepts_python_bool_and_0_1_only() -> None:
    check_params("core_course_get_categories", {"addsubcategories": True})
    with pytest.raises(RequestShapeError):
        check_params("core_course_get_categories", {"addsubcategories": 2})


@pytest.mark.parametrize("function, name", [
    ("core_webservice_get_site_info", "core_webservice_get_site_info"),
    ("core_course_get_categories", "core_course_get_categories"),
    ("core_course_get_courses_by_field", "core_course_get_courses_by_field"),
    ("core_user_create_users", "core_user_create_users"),
    ("core_enrol_get_enrolled_users", "core_enrol_get_enrolled_users"),
    ("gradereport_user_get_grade_items", "gradereport_user_get_grade_items"),
    ("core_completion_get_course_completion_status", "core_completion_get_course_completion_status"),
    ("core_group_create_groups", "core_group_create_groups"),
    ("enrol_manual_enrol_users", "enrol_manual_enrol_users"),
])
def test_real_samples_match_their_return_signature(function: str, name: str) -> None:
    assert check_returns(function, sample(name)) == []


def test_check_returns_reports_shape_drift() -> None:
    bad = [{"id": "3", "username": "x", "extra": 1}]
    problems = check_returns("core_user_create_users", bad)
    assert any("[0].id: expected int" in p for p in problems)
    assert any("extra: not in the signature" in p for p in problems)


def test_form_field_count() -> None:
    assert count_form_fields({"users": [{"a": 1, "b": None, "c": [{"x": 1}, {"y": 2}]}]}) == 3
