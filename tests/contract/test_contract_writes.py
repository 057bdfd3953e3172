"""Contract scenarios that write (REST): courses, users, enrolments, groups, completion, grades, deletion.

Each scenario works inside a category of its own, named by the run tag, and leaves nothing behind.
"""

from __future__ import annotations

import pytest

from moodle_sync.exceptions import (
    InvalidParameterError,
    NoCompletionCriteriaError,
    NotEnrolledError,
    ShortnameTakenError,
)
from moodle_sync.ws.batching import plan_batches

from .conftest import TEACHER_ROLE, Site

pytestmark = pytest.mark.contract


def test_a_course_created_with_numsections_has_sections_0_to_n(site: Site) -> None:
    categoryid = site.create_category()
    courseid = site.create_course(categoryid, numsections=3)

    [course] = site.moodle.courses_by_field("id", courseid)
    assert (course.shortname, course.categoryid) == (site.name("course"), categoryid)
    assert [s.number for s in site.moodle.sections(courseid)] == [0, 1, 2, 3]
    assert [c.id for c in site.moodle.courses_in_category(categoryid)] == [courseid]


def test_a_course_created_without_numsections_has_only_section_0(site: Site) -> None:
    courseid = site.create_course(site.create_category())

    assert [s.number for s in site.moodle.sections(courseid)] == [0]


def test_a_taken_shortname_is_refused_and_the_course_is_not_created_twice(site: Site) -> None:
    categoryid = site.create_category()
    courseid = site.create_course(categoryid)

    with pytest.raises(ShortnameTakenError) as caught:
        site.moodle.create_courses([{"fullname": "Lagi", "shortname": site.name("course"),
                                     "categoryid": categoryid}])

    assert caught.value.errorcode == "shortnametaken"
    assert site.name("course") in caught.value.moodle_message
    assert [c.id for c in site.moodle.courses_by_field("shortname", site.name("course"))] == [courseid]


def test_a_duplicate_username_in_a_batch_fails_alone_and_the_others_are_created_once(site: Site) -> None:
    good = site.user_records(3)
    duplicate = {**good[0], "email": f"{site.tag}.dup@example.org", "lastname": "Ganda"}

    outcome = site.moodle.create_users([good[0], good[1], duplicate, good[2]])

    assert sorted(r["username"] for r, _ in outcome.done) == sorted(r["username"] for r in good)
    assert all(answer["username"] == r["username"] for r, answer in outcome.done)
    [(record, error)] = outcome.failed
    assert record is duplicate
    assert isinstance(error, InvalidParameterError) and error.errorcode == "invalidparameter"
    assert error.function == "core_user_create_users"
    created = site.moodle.users_by_field("username", [r["username"] for r in good])
    assert sorted((u.id, u.username) for u in created) == sorted(
        (int(answer["id"]), r["username"]) for r, answer in outcome.done)
    assert site.moodle.users_by_field("email", [duplicate["email"]]) == []


def test_enrolment_answers_null_and_enrolled_users_lists_them_with_roles(site: Site) -> None:
    courseid = site.create_course(site.create_category())
    students = site.create_users(2)
    [teacher] = site.create_users(1, first=2)

    assert site.enrol(courseid, students) is None
    outcome = site.moodle.enrol([{"roleid": TEACHER_ROLE, "userid": teacher, "courseid": courseid}])

    assert outcome.failed == [] and [answer for _, answer in outcome.done] == [None]
    enrolled = {u.id: (u.username, u.roles) for u in site.moodle.enrolled_users(courseid)}
    assert enrolled == {students[0]: (site.name("u0"), ("student",)),
                        students[1]: (site.name("u1"), ("student",)),
                        teacher: (site.name("u2"), ("editingteacher",))}


def test_group_members_a_user_not_enrolled_fails_for_that_record_only(site: Site) -> None:
    courseid = site.create_course(site.create_category())
    enrolled = site.create_users(2)
    [outsider] = site.create_users(1, first=2)
    site.enrol(courseid, enrolled)
    [group] = site.moodle.create_groups([{"courseid": courseid, "name": "Kelas A", "description": "",
                                          "idnumber": site.name("kelas-a")}])

    outcome = site.moodle.add_group_members([(group.id, enrolled[0]), (group.id, outsider),
                                             (group.id, enrolled[1])])

    assert sorted(r["userid"] for r, _ in outcome.done) == sorted(enrolled)
    [(record, error)] = outcome.failed
    assert record == {"groupid": group.id, "userid": outsider}
    assert isinstance(error, InvalidParameterError) and error.errorcode == "invalidparameter"
    assert error.function == "core_group_add_group_members"
    assert [(g.id, g.name, g.idnumber) for g in site.moodle.groups(courseid)] == [
        (group.id, "Kelas A", site.name("kelas-a"))]
    assert {u.id: u.groups for u in site.moodle.enrolled_users(courseid)} == {
        enrolled[0]: (group.id,), enrolled[1]: (group.id,)}


def test_course_completion_without_criteria_is_none(site: Site) -> None:
    courseid = site.create_course(site.create_category(), enablecompletion=1)
    [student, outsider] = site.create_users(2)
    site.enrol(courseid, [student])

    assert site.moodle.course_completion(courseid, student) is None
    with pytest.raises(NoCompletionCriteriaError) as caught:
        site.moodle.call("core_completion_get_course_completion_status",
                         {"courseid": courseid, "userid": student})
    assert caught.value.errorcode == "nocriteriaset"
    with pytest.raises(NotEnrolledError) as not_enrolled:
        site.moodle.course_completion(courseid, outsider)
    assert not_enrolled.value.errorcode == "usernotenroled"


def test_grade_items_for_userid_0_answer_every_enrolled_student(site: Site) -> None:
    courseid = site.create_course(site.create_category())
    students = site.create_users(3)
    site.enrol(courseid, students)

    grades = site.moodle.grades(courseid, 0)

    assert sorted(g.userid for g in grades) == sorted(students)
    for user_grades in grades:
        items = [(item.itemtype, item.grade, item.graded_at) for item in user_grades.items]
        assert items == [("course", None, None)]


def test_deleting_a_course_twice_answers_a_warning_the_second_time(site: Site) -> None:
    courseid = site.create_course(site.create_category())

    first = site.moodle.call("core_course_delete_courses", {"courseids": [courseid]})
    second = site.moodle.call("core_course_delete_courses", {"courseids": [courseid]})

    assert first == {"warnings": []}
    assert second == {"warnings": [{"item": "course", "itemid": courseid,
                                    "warningcode": "unknowncourseidnumber",
                                    "message": f"Unknown course ID {courseid}"}]}
    assert site.moodle.courses_by_field("id", courseid) == []


def test_a_grouping_created_with_an_idnumber_is_listed(site: Site) -> None:
    courseid = site.create_course(site.create_category())
    [group] = site.moodle.create_groups([{"courseid": courseid, "name": "Kelas B", "description": ""}])

    [grouping] = site.moodle.create_groupings([{"courseid": courseid, "name": "Angkatan 1", "description": "",
                                                "idnumber": site.name("angkatan-1")}])
    site.moodle.assign_groupings([(grouping.id, group.id)])

    assert (grouping.courseid, grouping.name, grouping.idnumber) == (
        courseid, "Angkatan 1", site.name("angkatan-1"))
    assert [(g.id, g.name, g.idnumber) for g in site.moodle.groupings(courseid)] == [
        (grouping.id, "Angkatan 1", site.name("angkatan-1"))]


def test_batches_are_sized_by_form_fields_and_all_records_go_through(site: Site) -> None:
    moodle = site.connect(max_input_vars=1000)
    users = [{**u, "idnumber": u["username"], "auth": "manual"} for u in site.user_records(300)]
    expected_calls = len(plan_batches(users, 1000))

    outcome = moodle.create_users(users)

    assert expected_calls > 1
    assert moodle.client.stats.calls_to("core_user_create_users") == outcome.calls == expected_calls
    assert outcome.failed == [] and len(outcome.done) == 300
    created = site.moodle.users_by_field("username", [u["username"] for u in users])
    assert sorted(u.username for u in created) == sorted(u["username"] for u in users)
