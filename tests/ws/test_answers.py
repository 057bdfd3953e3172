"""Answers not shaped like Moodle's become InvalidResponseError (exit 1) naming the function, not a crash."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from moodle_sync.exceptions import InvalidResponseError
from moodle_sync.ws.moodle import Moodle
from moodle_sync.ws.transport import MoodleClient
from tests.conftest import sample


class Answers:
    protocol = "fake"

    def __init__(self, **answers: Any) -> None:
        self.answers = answers

    def send(self, function: str, params: Mapping[str, Any], *, timeout: float) -> Any:
        return self.answers[function]

    def close(self) -> None:
        pass


def moodle(**answers: Any) -> Moodle:
    return Moodle(MoodleClient(Answers(**answers), validate=False))  # type: ignore[arg-type]


def test_real_answers_still_parse() -> None:
    m = moodle(core_course_get_courses_by_field=sample("core_course_get_courses_by_field"),
               core_enrol_get_enrolled_users=sample("core_enrol_get_enrolled_users"),
               gradereport_user_get_grade_items=sample("gradereport_user_get_grade_items"))
    assert m.courses_by_field("id", 2)[0].id == 2
    assert m.enrolled_users(2)
    assert m.grades(2, 0)


@pytest.mark.parametrize("call, function, answer, what", [
    (lambda m: m.courses_by_field("id", 2), "core_course_get_courses_by_field", [], "list"),
    (lambda m: m.courses_by_field("id", 2), "core_course_get_courses_by_field", {"courses": [{"fullname": "x"}]},
     "'id'"),
    (lambda m: m.enrolled_users(2), "core_enrol_get_enrolled_users", {"users": []}, "dict"),
    (lambda m: m.groups(2), "core_group_get_course_groups", [{"id": "abc", "courseid": 2, "name": "A"}],
     "abc"),
    (lambda m: m.site_info(), "core_webservice_get_site_info", "<html>maintenance</html>", "str"),
    (lambda m: m.grades(2), "gradereport_user_get_grade_items", {"usergrades": [{"gradeitems": []}]},
     "'userid'"),
    (lambda m: m.course_completion(2, 3), "core_completion_get_course_completion_status", {"warnings": []},
     "'completionstatus'"),
    (lambda m: m.create_courses([{"fullname": "A"}]), "core_course_create_courses", None, "NoneType"),
])
def test_an_answer_not_shaped_like_moodles_names_the_function(call: Any, function: str, answer: Any,
                                                             what: str) -> None:
    with pytest.raises(InvalidResponseError) as info:
        call(moodle(**{function: answer}))
    assert info.value.function == function and info.value.exit_code == 1
    assert function in str(info.value) and what in str(info.value)


def test_users_with_email_checks_the_shape_too() -> None:
    with pytest.raises(InvalidResponseError, match="core_user_get_users"):
        moodle(core_user_get_users={"users": [{"email": "a@b.id"}]}).users_with_email("A@b.id")


def test_all_read_gives_every_result_or_raises_the_first_failed_read() -> None:
    from moodle_sync.exceptions import MoodleSyncError
    from moodle_sync.ws.moodle import all_read

    assert all_read([[1], [2, 3]]) == [[1], [2, 3]]
    first, second = MoodleSyncError("first"), MoodleSyncError("second")
    with pytest.raises(MoodleSyncError, match="first"):
        all_read([[1], first, second])
