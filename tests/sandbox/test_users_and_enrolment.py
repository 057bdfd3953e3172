"""Users, enrolments and groups: all-or-nothing batches, Moodle's messages, deleted users."""

from __future__ import annotations

from typing import Any

import pytest

from moodle_sync.sandbox.errors import SandboxMoodleError
from moodle_sync.sandbox.server import SandboxServer
from tests.conftest import sample

from .conftest import post


def user(name: str, **extra: Any) -> dict[str, Any]:
    return {"username": name, "password": "Rahasia#2026", "firstname": "Guru", "lastname": name.title(),
            "email": f"{name}@guru.belajar.id", **extra}


def call(server: SandboxServer, function: str, params: dict[str, Any]) -> Any:
    return server.moodle.call(function, params)


def error_of(server: SandboxServer, function: str, params: dict[str, Any]) -> SandboxMoodleError:
    with pytest.raises(SandboxMoodleError) as info:
        call(server, function, params)
    return info.value


def usernames(server: SandboxServer) -> set[str]:
    return {u.username for u in server.state.users}


def test_create_users_answers_ids_and_usernames(sandbox: SandboxServer) -> None:
    created = post(sandbox, "core_user_create_users", {"users": [user("guru1"), user("guru2")]})
    assert [u["username"] for u in created] == ["guru1", "guru2"]
    assert created[1]["id"] == created[0]["id"] + 1


def test_a_duplicate_rolls_back_the_whole_batch_and_names_only_it(sandbox: SandboxServer) -> None:
    sandbox.moodle.debug = True
    answer = post(sandbox, "core_user_create_users", {"users": [user("guru1"), user("admin"), user("guru3")]})
    assert answer == sample("with-debuginfo/core_user_create_users-duplicate-username")
    assert not {"guru1", "guru3"} & usernames(sandbox)
    sandbox.moodle.debug = False
    assert post(sandbox, "core_user_create_users", {"users": [user("guru1")]})[0]["username"] == "guru1"
    assert post(sandbox, "core_user_create_users", {"users": [user("guru1")]}) == \
        sample("core_user_create_users-duplicate")


def test_duplicate_email_within_one_batch(sandbox: SandboxServer) -> None:
    err = error_of(sandbox, "core_user_create_users",
                   {"users": [user("a1"), user("a2", email="A1@guru.belajar.id")]})
    assert err.debuginfo == "Email address already exists: A1@guru.belajar.id"
    assert "a1" not in usernames(sandbox)


def test_weak_password_is_the_html_policy_exactly(sandbox: SandboxServer) -> None:
    assert post(sandbox, "core_user_create_users", {"users": [user("lemah", password="sandi")]}) == \
        sample("core_user_create_users-weak-password")
    err = error_of(sandbox, "core_user_create_users", {"users": [user("lemah", password="Sandi12345")]})
    assert err.errorcode == ("<div>The password must have at least 1 special character(s) such as *, -, or #."
                             "</div>")


def test_createpassword_and_external_auth_need_no_password(sandbox: SandboxServer) -> None:
    a = user("tanpasandi", createpassword=1)
    b = user("sso", auth="oauth2")
    del a["password"], b["password"]
    assert len(call(sandbox, "core_user_create_users", {"users": [a, b]})) == 2
    c = user("kosong")
    del c["password"]
    assert error_of(sandbox, "core_user_create_users", {"users": [c]}).debuginfo == \
        "Invalid password: you must provide a password, or set createpassword."


def test_get_users_by_field_skips_unknown_and_deleted(sandbox: SandboxServer) -> None:
    created = call(sandbox, "core_user_create_users", {"users": [user("guru1", idnumber="N1"), user("guru2")]})
    call(sandbox, "core_user_delete_users", {"userids": [created[1]["id"]]})
    found = call(sandbox, "core_user_get_users_by_field", {"field": "username",
                                                            "values": ["guru2", "guru1", "nobody"]})
    assert [u["username"] for u in found] == ["guru1"]
    assert list(found[0]) == list(sample("core_user_get_users_by_field")[0])
    assert call(sandbox, "core_user_get_users_by_field", {"field": "idnumber", "values": ["N1"]})[0]["id"] == \
        created[0]["id"]
    assert call(sandbox, "core_user_get_users_by_field", {"field": "email",
                                                          "values": ["guru1@guru.belajar.id"]})[0]["id"] == \
        created[0]["id"]


def test_deleted_users_keep_their_row_renamed(sandbox: SandboxServer) -> None:
    uid = call(sandbox, "core_user_create_users", {"users": [user("guru1")]})[0]["id"]
    call(sandbox, "enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": uid, "courseid": 2}]})
    assert call(sandbox, "core_user_delete_users", {"userids": [uid]}) is None
    row = sandbox.state.users.get(uid)
    assert row.deleted == 1 and row.username.startswith("guru1@guru.belajar.id.") and row.idnumber == ""
    assert sandbox.state.enrolments.find("user", uid) == []
    assert call(sandbox, "core_user_create_users", {"users": [user("guru1")]})[0]["id"] != uid
    assert error_of(sandbox, "core_user_delete_users", {"userids": [uid]}).errorcode == "invalidrecord"


def test_enrol_is_all_or_nothing(sandbox: SandboxServer) -> None:
    uid = call(sandbox, "core_user_create_users", {"users": [user("guru1")]})[0]["id"]
    err = error_of(sandbox, "enrol_manual_enrol_users", {"enrolments": [
        {"roleid": 5, "userid": uid, "courseid": 2}, {"roleid": 5, "userid": 9999, "courseid": 2}]})
    assert err.errorcode == "invalidparameter" and err.debuginfo == "User id not exist: 9999"
    assert sandbox.state.enrolments.find("user", uid) == []
    err = error_of(sandbox, "enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": uid,
                                                                        "courseid": 999}]})
    assert err.debuginfo == "Context does not exist"
    assert error_of(sandbox, "enrol_manual_enrol_users", {"enrolments": [
        {"roleid": 2, "userid": uid, "courseid": 2}]}).errorcode == "wsusercannotassign"


def test_enrolled_users_pages_and_shows_groups(sandbox: SandboxServer) -> None:
    ids = [u["id"] for u in call(sandbox, "core_user_create_users",
                                 {"users": [user(f"guru{i}") for i in range(5)]})]
    call(sandbox, "enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": i, "courseid": 2}
                                                              for i in ids]})
    group = call(sandbox, "core_group_create_groups", {"groups": [{"courseid": 2, "name": "Kelas A",
                                                                   "description": ""}]})[0]
    call(sandbox, "core_group_add_group_members", {"members": [{"groupid": group["id"], "userid": ids[3]}]})
    page = call(sandbox, "core_enrol_get_enrolled_users", {"courseid": 2, "options": [
        {"name": "limitfrom", "value": "2"}, {"name": "limitnumber", "value": "2"}]})
    assert [u["id"] for u in page] == ids[2:4]
    assert "groups" not in page[0] and page[1]["groups"][0]["name"] == "Kelas A"
    assert page[0]["roles"] == sample("core_enrol_get_enrolled_users")[0]["roles"]
    in_group = call(sandbox, "core_enrol_get_enrolled_users", {"courseid": 2, "options": [
        {"name": "groupid", "value": str(group["id"])}]})
    assert [u["id"] for u in in_group] == [ids[3]]
    courses = call(sandbox, "core_enrol_get_users_courses", {"userid": ids[0]})
    assert [c["shortname"] for c in courses] == ["MASTER-KODING"]


def test_unenrol_removes_group_membership_and_is_all_or_nothing(sandbox: SandboxServer) -> None:
    uid = call(sandbox, "core_user_create_users", {"users": [user("guru1")]})[0]["id"]
    call(sandbox, "enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": uid, "courseid": c}
                                                              for c in (2, 3)]})
    gid = call(sandbox, "core_group_create_groups", {"groups": [{"courseid": 2, "name": "A",
                                                                 "description": ""}]})[0]["id"]
    call(sandbox, "core_group_add_group_members", {"members": [{"groupid": gid, "userid": uid}]})
    with pytest.raises(SandboxMoodleError):
        call(sandbox, "enrol_manual_unenrol_users", {"enrolments": [{"userid": uid, "courseid": 2},
                                                                   {"userid": 8888, "courseid": 3}]})
    assert len(sandbox.state.enrolments.find("user", uid)) == 2
    call(sandbox, "enrol_manual_unenrol_users", {"enrolments": [{"userid": uid, "courseid": 2}]})
    assert [e.courseid for e in sandbox.state.enrolments.find("user", uid)] == [3]
    assert sandbox.state.group_members.find("user", uid) == []


def test_group_members_must_be_enrolled(sandbox: SandboxServer) -> None:
    uid = call(sandbox, "core_user_create_users", {"users": [user("guru1")]})[0]["id"]
    gid = call(sandbox, "core_group_create_groups", {"groups": [{"courseid": 2, "name": "A",
                                                                 "description": ""}]})[0]["id"]
    err = error_of(sandbox, "core_group_add_group_members", {"members": [{"groupid": gid, "userid": uid}]})
    assert err.debuginfo == "Only enrolled users may be members of groups"
    assert error_of(sandbox, "core_group_add_group_members", {"members": [{"groupid": 777, "userid": uid}]}) \
        .message == "Can't find data record in database table groups."


def test_groups_names_are_unique_per_course(sandbox: SandboxServer) -> None:
    first = post(sandbox, "core_group_create_groups", {"groups": [{"courseid": 2, "name": "Group A",
                                                                  "description": ""}]})
    expected = sample("core_group_create_groups")[0]
    assert {k: v for k, v in first[0].items() if k not in ("id", "courseid")} == \
        {k: v for k, v in expected.items() if k not in ("id", "courseid")}
    err = error_of(sandbox, "core_group_create_groups", {"groups": [
        {"courseid": 3, "name": "B", "description": ""}, {"courseid": 2, "name": "Group A", "description": ""}]})
    assert err.debuginfo == "Group with the same name already exists in the course"
    assert sandbox.state.groups.find("course", 3) == []


def test_groupings_without_idnumber_are_created_then_fail(sandbox: SandboxServer) -> None:
    err = error_of(sandbox, "core_group_create_groupings", {"groupings": [{"courseid": 2, "name": "G",
                                                                           "description": ""}]})
    assert err.errorcode == "invalidresponse"
    assert [g["name"] for g in call(sandbox, "core_group_get_course_groupings", {"courseid": 2})] == ["G"]


def test_fail_record_fails_the_batch_at_that_record(sandbox: SandboxServer) -> None:
    sandbox.control.fail_record("core_user_create_users", {"username": "guru2"}, "invalidparameter",
                                "Username already exists: guru2")
    sandbox.moodle.debug = True
    answer = post(sandbox, "core_user_create_users", {"users": [user("guru1"), user("guru2")]})
    assert answer["errorcode"] == "invalidparameter" and answer["debuginfo"] == "Username already exists: guru2"
    assert "guru1" not in usernames(sandbox)
    assert len(post(sandbox, "core_user_create_users", {"users": [user("guru1")]})) == 1


def test_fail_record_on_a_plain_call_matches_its_parameters(sandbox: SandboxServer) -> None:
    sandbox.control.fail_record("core_enrol_get_enrolled_users", {"courseid": 3}, "nopermissions",
                                "Sorry, but you do not currently have permissions to do that.", times=1)
    assert call(sandbox, "core_enrol_get_enrolled_users", {"courseid": 2}) == []
    assert error_of(sandbox, "core_enrol_get_enrolled_users", {"courseid": 3}).errorcode == "nopermissions"
    assert call(sandbox, "core_enrol_get_enrolled_users", {"courseid": 3}) == []


def test_missing_courses_fail_the_way_each_function_fails(sandbox: SandboxServer) -> None:
    assert error_of(sandbox, "core_enrol_get_enrolled_users", {"courseid": 404}).message == \
        "Can't find data record in database table course."
    err = error_of(sandbox, "core_group_get_course_groups", {"courseid": 404})
    assert err.errorcode == "errorcoursecontextnotvalid" and "(course id:404)" in err.message
    assert error_of(sandbox, "enrol_manual_unenrol_users", {"enrolments": [{"userid": 2, "courseid": 404}]}) \
        .debuginfo == "Context does not exist"
