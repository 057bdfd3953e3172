"""End to end: one provisioning story over REST and over SOAP against the sandbox, the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from moodle_sync.exceptions import (
    AccessDeniedError,
    InvalidParameterError,
    InvalidTokenError,
    MoodleSyncError,
    ShortnameTakenError,
)
from moodle_sync.sandbox.server import SandboxServer
from moodle_sync.ws import connect

FIXED_NOW = 1795818000.0


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    site = SandboxServer()
    site.start()
    try:
        yield site
    finally:
        site.stop()


def fresh(server: SandboxServer) -> None:
    server.moodle.clock = lambda: FIXED_NOW  # same timestamps in both runs
    server.control.reset()


def story(server: SandboxServer, protocol: str) -> dict[str, Any]:
    """Read the site, find categories and courses, create users, enrol them, group them, read back."""
    fresh(server)
    moodle = connect(server.url, server.token, protocol=protocol, retries=1, timeout=10)
    out: dict[str, Any] = {}
    out["site_info"] = moodle.call("core_webservice_get_site_info")
    out["typed_site_info"] = moodle.site_info()
    out["categories"] = moodle.call("core_course_get_categories",
                                    {"criteria": [{"key": "idnumber", "value": "MASTER"}]})
    out["all_categories"] = moodle.categories()
    course = moodle.courses_by_field("idnumber", "MASTER-AI")[0]
    out["course"] = moodle.call("core_course_get_courses_by_field", {"field": "id", "value": str(course.id)})
    users = [{"username": f"guru{i}", "password": "Rahasia-123", "firstname": "Guru", "lastname": f"Ke {i}",
              "email": f"guru{i}@sekolah.sch.id", "idnumber": f"NUPTK-{i}",
              "customfields": [], "preferences": [{"type": "auth_forcepasswordchange", "value": "1"}]}
             for i in range(3)]
    out["created"] = moodle.call("core_user_create_users", {"users": users})
    ids = [u["id"] for u in out["created"]]
    out["enrol"] = moodle.call("enrol_manual_enrol_users", {"enrolments": [
        {"roleid": 5, "userid": uid, "courseid": course.id, "suspend": 0} for uid in ids]})
    group = moodle.call("core_group_create_groups", {"groups": [
        {"courseid": course.id, "name": "Kelas Metro", "description": "", "idnumber": "metro"}]})
    out["group"] = group
    out["members"] = moodle.call("core_group_add_group_members", {"members": [
        {"groupid": group[0]["id"], "userid": uid} for uid in ids[:2]]})
    out["enrolled"] = moodle.call("core_enrol_get_enrolled_users", {"courseid": course.id, "options": [
        {"name": "limitfrom", "value": "0"}, {"name": "limitnumber", "value": "100"}]})
    out["typed_enrolled"] = moodle.enrolled_users(course.id)
    out["users"] = moodle.call("core_user_get_users_by_field", {"field": "idnumber",
                                                                "values": ["NUPTK-0", "NUPTK-2"]})
    out["contents"] = moodle.call("core_course_get_contents", {"courseid": course.id})
    out["completion"] = moodle.call("core_completion_get_activities_completion_status",
                                    {"courseid": course.id, "userid": ids[0]})
    out["grades"] = moodle.call("gradereport_user_get_grade_items", {"courseid": course.id})
    out["errors"] = [failure(lambda: moodle.call("core_user_create_users", {"users": users[:1]})),
                     failure(lambda: moodle.call("core_course_create_courses", {"courses": [
                         {"fullname": "Lagi", "shortname": "MASTER-AI", "categoryid": 1}]})),
                     failure(lambda: connect(server.url, server.limited_token, protocol=protocol, retries=1)
                             .call("core_course_get_categories", {})),
                     failure(lambda: connect(server.url, "f" * 32, protocol=protocol, retries=1).site_info())]
    moodle.client.close()
    return out


def failure(action: Any) -> tuple[str, str]:
    try:
        action()
    except MoodleSyncError as exc:
        return type(exc).__name__, getattr(exc, "errorcode", "")
    raise AssertionError("the call should have failed")


def test_the_same_story_gives_the_same_answers_over_soap_and_rest(server: SandboxServer) -> None:
    rest = story(server, "rest")
    soap = story(server, "soap")
    for key in rest:
        assert soap[key] == rest[key], key
    assert [u["username"] for u in soap["users"]] == ["guru0", "guru2"]
    assert len(soap["enrolled"]) == 3 and soap["enrol"] is None and soap["members"] is None
    assert soap["errors"] == [(InvalidParameterError.__name__, "invalidparameter"),
                              (ShortnameTakenError.__name__, "shortnametaken"),
                              (AccessDeniedError.__name__, "accessexception"),
                              (InvalidTokenError.__name__, "invalidtoken")]


def test_the_sandbox_wsdl_lists_only_the_tokens_functions(server: SandboxServer) -> None:
    fresh(server)
    full = connect(server.url, server.token, protocol="soap", retries=1)
    limited = connect(server.url, server.limited_token, protocol="soap", retries=1)
    assert limited.client.transport.operations() == {"core_webservice_get_site_info"}
    assert {"core_user_create_users", "enrol_manual_enrol_users"} <= full.client.transport.operations()
    assert limited.site_info().functions == frozenset({"core_webservice_get_site_info"})
