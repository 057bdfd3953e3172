"""A token whose user lacks capabilities, and who holds a capability at system level."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from moodle_sync.sandbox.control import ControlError
from moodle_sync.sandbox.errors import SandboxMoodleError
from moodle_sync.sandbox.moodle import implemented_functions
from moodle_sync.sandbox.server import SandboxServer
from tests.conftest import sample

from .conftest import post

NEW_COURSE = {"courses": [{"fullname": "Koding 1", "shortname": "KOD-1", "categoryid": 1}]}
HOLDERS = "core_enrol_get_enrolled_users_with_capability"


def nocap_token(server: SandboxServer, *lacking: str) -> str:
    return server.control.make_token(implemented_functions(), lacking=list(lacking or ["moodle/course:create"]))


def holders(server: SandboxServer, capabilities: list[str], options: list[dict[str, Any]] | None = None,
            token: str | None = None) -> Any:
    return post(server, HOLDERS, {"coursecapabilities": [{"courseid": 1, "capabilities": capabilities}],
                                  "options": options or []}, token=token)


def test_a_function_needing_a_lacking_capability_answers_moodles_error(sandbox: SandboxServer) -> None:
    token = nocap_token(sandbox)

    answer = post(sandbox, "core_course_create_courses", NEW_COURSE, token=token)

    assert answer == {"exception": "core\\exception\\required_capability_exception", "errorcode": "nopermissions",
                      "message": "Sorry, but you do not currently have permissions to do that (Create courses)."}
    assert sandbox.state.courses.first("shortname", "KOD-1") is None


def test_the_token_user_may_do_everything_else(sandbox: SandboxServer) -> None:
    token = nocap_token(sandbox)

    site = post(sandbox, "core_webservice_get_site_info", token=token)
    created = post(sandbox, "core_user_create_users", {"users": [
        {"username": "guru1", "password": "Rahasia#2026", "firstname": "G", "lastname": "S",
         "email": "guru1@guru.belajar.id"}]}, token=token)

    assert (site["username"], site["userissiteadmin"]) == ("wsuser1", False)
    assert [u["username"] for u in created] == ["guru1"]
    assert post(sandbox, "core_course_create_courses", NEW_COURSE)[0]["shortname"] == "KOD-1"  # the admin may


def test_the_first_lacking_capability_a_function_declares_is_named(sandbox: SandboxServer) -> None:
    token = nocap_token(sandbox, "moodle/course:visibility", "moodle/user:create")

    course = post(sandbox, "core_course_create_courses", NEW_COURSE, token=token)
    user = post(sandbox, "core_user_create_users", {"users": [
        {"username": "guru1", "createpassword": 1, "firstname": "G", "lastname": "S", "email": "g@guru.id"}]},
        token=token)

    assert course["message"].endswith("(Hide/show courses).") and user["message"].endswith("(Create users).")


def test_a_name_that_is_no_capability_is_refused_by_the_control(sandbox: SandboxServer) -> None:
    with pytest.raises(ControlError, match="course-create"):
        sandbox.control.make_token(["core_webservice_get_site_info"], lacking=["course-create"])
    assert sandbox.control.make_token(["core_webservice_get_site_info"], lacking=["moodle/grade:viewall"])
    answer = requests.post(f"{sandbox.url}/_sandbox/make_token", timeout=10, json={
        "functions": ["core_webservice_get_site_info"], "lacking": ["moodle/course:create"]})
    assert len(answer.json()["result"]) == 32


def test_holders_of_a_capability_at_the_site_are_users_with_a_system_role(sandbox: SandboxServer) -> None:
    first = nocap_token(sandbox, "moodle/course:create")
    nocap_token(sandbox, "moodle/user:create")
    ids = {u.username: u.id for u in sandbox.state.users if u.username.startswith("wsuser")}

    answer = holders(sandbox, ["moodle/course:create", "moodle/user:create", "moodle/course:update"], token=first)

    assert [(c["courseid"], c["capability"], [u["id"] for u in c["users"]]) for c in answer] == [
        (1, "moodle/course:create", [ids["wsuser2"]]),
        (1, "moodle/user:create", [ids["wsuser1"]]),
        (1, "moodle/course:update", [ids["wsuser1"], ids["wsuser2"]])]
    real = sample("derived/core_enrol_get_enrolled_users_with_capability")[0]["users"][0]
    assert list(answer[0]["users"][0]) == list(real)
    assert answer[0]["users"][0]["roles"] == []


def test_the_admin_without_a_role_is_not_listed(sandbox: SandboxServer) -> None:
    assert holders(sandbox, ["moodle/course:create"]) == [
        {"courseid": 1, "capability": "moodle/course:create", "users": []}]


def test_holders_are_paged_per_capability(sandbox: SandboxServer) -> None:
    for _ in range(3):
        nocap_token(sandbox, "moodle/site:config")
    ids = sorted(u.id for u in sandbox.state.users if u.username.startswith("wsuser"))

    paged = holders(sandbox, ["moodle/course:create", "moodle/course:update"],
                    [{"name": "limitfrom", "value": "1"}, {"name": "limitnumber", "value": "1"}])
    fields = holders(sandbox, ["moodle/course:create"], [{"name": "userfields", "value": "email"}])

    assert [[u["id"] for u in c["users"]] for c in paged] == [[ids[1]], [ids[1]]]
    assert [sorted(u) for u in fields[0]["users"]] == [["email", "fullname", "id"]] * 3


def test_the_checks_moodle_makes_before_listing(sandbox: SandboxServer) -> None:
    blind = nocap_token(sandbox, "moodle/role:review")

    assert post(sandbox, HOLDERS, {"coursecapabilities": []})["errorcode"] == "invalidparameter"
    assert holders(sandbox, ["moodle/course:create"], token=blind)["message"] == (
        "Sorry, but you do not currently have permissions to do that (Review permissions for others).")
    assert holders(sandbox, ["x"], [{"name": "userfields", "value": "shoesize"}]) == {
        "exception": "core\\exception\\moodle_exception", "errorcode": "invaliduserfield",
        "message": "Invalid user field: shoesize"}
    with pytest.raises(SandboxMoodleError) as other_course:
        sandbox.moodle.call(HOLDERS, {"coursecapabilities": [{"courseid": 2, "capabilities": ["x"]}]})
    assert other_course.value.errorcode == "sandboxnotimplemented"


def test_viewing_participants_or_reviewing_enrolments_lets_a_user_list_holders(sandbox: SandboxServer) -> None:
    reviewer = nocap_token(sandbox, "moodle/site:viewparticipants")
    neither = nocap_token(sandbox, "moodle/site:viewparticipants", "moodle/course:enrolreview")

    assert [c["capability"] for c in holders(sandbox, ["moodle/course:create"], token=reviewer)] == [
        "moodle/course:create"]
    assert holders(sandbox, ["moodle/course:create"], token=neither)["message"].endswith("(View participants).")
    assert holders(sandbox, ["moodle/course:create"], [{"name": "onlyactive", "value": "1"}],
                   token=neither)["message"].endswith("(View participants).")
