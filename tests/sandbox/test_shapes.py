"""Every function the sandbox serves answers in the real Moodle 4.5 shape (``check_returns``), over HTTP."""

from __future__ import annotations

from typing import Any

from moodle_sync.sandbox.moodle import implemented_functions
from moodle_sync.sandbox.server import SandboxServer
from moodle_sync.ws.functions import FUNCTIONS
from moodle_sync.ws.signatures import check_returns
from moodle_sync.ws.transport import MoodleClient
from tests.conftest import sample


class Recorder:
    """Calls through the real client and checks each answer against the real return signature."""

    def __init__(self, client: MoodleClient) -> None:
        self.client = client
        self.seen: set[str] = set()

    def __call__(self, function: str, params: dict[str, Any] | None = None) -> Any:
        answer = self.client.call(function, params or {})
        assert check_returns(function, answer) == [], function
        self.seen.add(function)
        return answer


def test_every_function_answers_in_the_real_shape(sandbox: SandboxServer, client: MoodleClient) -> None:
    call = Recorder(client)
    site = call("core_webservice_get_site_info")
    assert site["release"] == "4.5.6 (Build: 20250811)" and site["version"] == "2024100706"
    assert site["userid"] == 2 and {f["name"] for f in site["functions"]} >= set(FUNCTIONS)

    cats = call("core_course_create_categories", {"categories": [{"name": "Angkatan 1", "idnumber": "ANG1"}]})
    call("core_course_get_categories", {"criteria": [{"key": "idnumber", "value": "ANG1"}]})
    created = call("core_course_create_courses", {"courses": [{
        "fullname": "Koding Angkatan 1", "shortname": "KOD-1", "categoryid": cats[0]["id"], "idnumber": "KOD-1",
        "courseformatoptions": [{"name": "numsections", "value": "2"}]}]})
    cid = created[0]["id"]
    master = call("core_course_get_courses_by_field", {"field": "shortname", "value": "MASTER-KODING"})
    call("core_course_import_course", {"importfrom": master["courses"][0]["id"], "importto": cid})
    call("core_course_update_courses", {"courses": [{"id": cid, "summary": "Ringkasan"}]})
    contents = call("core_course_get_contents", {"courseid": cid})
    call("core_update_inplace_editable", {"component": "format_topics", "itemtype": "sectionname",
                                          "itemid": str(contents[1]["id"]), "value": "Pekan 1"})
    call("core_course_get_courses_by_field", {})

    users = call("core_user_create_users", {"users": [
        {"username": "guru1", "password": "Rahasia#2026", "firstname": "Siti", "lastname": "Aminah",
         "email": "siti@guru.belajar.id", "idnumber": "NUPTK1"},
        {"username": "fasil1", "createpassword": 1, "firstname": "Budi", "lastname": "Santoso",
         "email": "budi@bgtk.id", "auth": "oauth2"}]})
    learner, facilitator = users[0]["id"], users[1]["id"]
    call("core_user_get_users_by_field", {"field": "idnumber", "values": ["NUPTK1"]})
    found = call("core_user_get_users", {"criteria": [{"key": "email", "value": "SITI@guru.belajar.id"}]})
    assert [u["id"] for u in found["users"]] == [learner]   # e-mails compared ignoring case, as create does
    call("enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": learner, "courseid": cid},
                                                     {"roleid": 4, "userid": facilitator, "courseid": cid}]})
    groups = call("core_group_create_groups", {"groups": [{"courseid": cid, "name": "Kelas A", "description": ""}]})
    call("core_group_add_group_members", {"members": [{"groupid": groups[0]["id"], "userid": learner}]})
    call("core_group_get_course_groups", {"courseid": cid})
    groupings = call("core_group_create_groupings", {"groupings": [
        {"courseid": cid, "name": "Semua kelas", "description": "", "idnumber": ""}]})
    call("core_group_assign_grouping", {"assignments": [{"groupingid": groupings[0]["id"],
                                                        "groupid": groups[0]["id"]}]})
    call("core_group_get_course_groupings", {"courseid": cid})
    call("core_enrol_get_enrolled_users", {"courseid": cid})
    call("core_enrol_get_users_courses", {"userid": learner})

    sandbox.control.complete_activity(cid, learner, "pretest")
    sandbox.control.set_grade(cid, learner, "pretest", 7.5)
    sandbox.control.record_access(cid, learner)
    sandbox.control.run_cron()
    statuses = call("core_completion_get_activities_completion_status", {"courseid": cid, "userid": learner})
    call("core_completion_override_activity_completion_status",
         {"userid": learner, "cmid": statuses["statuses"][0]["cmid"], "newstate": 1})
    call("core_completion_get_course_completion_status", {"courseid": cid, "userid": learner})
    call("gradereport_user_get_grade_items", {"courseid": cid, "userid": 0})
    quiz = next(s for s in statuses["statuses"] if s["modname"] == "quiz")
    assert call("core_grades_update_grades", {"source": "test", "courseid": cid, "component": "mod_quiz",
                                              "activityid": quiz["cmid"], "itemnumber": 0,
                                              "grades": [{"studentid": learner, "grade": 9}]}) == 0
    report = sandbox.control.create_participants_report()
    call("core_reportbuilder_retrieve_report", {"reportid": report, "page": 0, "perpage": 5})
    call("core_reportbuilder_list_reports", {})

    call("core_message_send_instant_messages", {"messages": [
        {"touserid": facilitator, "text": "Halo", "clientmsgid": "a1"}, {"touserid": 99999, "text": "Halo"}]})
    call("core_message_get_messages", {"useridto": facilitator, "useridfrom": 0, "type": "conversations", "read": 2})
    call("enrol_manual_unenrol_users", {"enrolments": [{"userid": facilitator, "courseid": cid}]})
    call("core_user_delete_users", {"userids": [facilitator]})
    call("core_course_delete_courses", {"courseids": [cid, 99999]})
    call("core_course_delete_categories", {"categories": [{"id": cats[0]["id"], "recursive": 1}]})

    sandbox.control.make_token(["core_webservice_get_site_info"], lacking=["moodle/course:create"])
    holders = call("core_enrol_get_enrolled_users_with_capability", {"coursecapabilities": [
        {"courseid": 1, "capabilities": ["moodle/course:update", "moodle/course:create"]}]})
    assert [[u["username"] for u in c["users"]] for c in holders] == [["wsuser1"], []]

    assert set(implemented_functions()) - call.seen == set()


def test_site_info_matches_the_sample_except_site_specific_values(sandbox: SandboxServer,
                                                                   client: MoodleClient) -> None:
    real = sample("core_webservice_get_site_info")
    ours = client.call("core_webservice_get_site_info")
    assert list(ours) == list(real)
    assert ours["advancedfeatures"] == real["advancedfeatures"]
    limited = MoodleClient(type(client.transport)(sandbox.url, sandbox.limited_token))
    assert limited.call("core_webservice_get_site_info")["functions"] == \
        sample("core_webservice_get_site_info-limited-token")["functions"]


def test_course_answers_have_the_keys_of_the_real_ones(client: MoodleClient) -> None:
    real = sample("core_course_get_courses_by_field")["courses"][0]
    ours = client.call("core_course_get_courses_by_field", {"field": "idnumber", "value": "MASTER-AI"})
    assert list(ours["courses"][0]) == list(real)
    real_module = sample("core_course_get_contents")[1]["modules"][0]
    contents = client.call("core_course_get_contents", {"courseid": ours["courses"][0]["id"]})
    page = next(m for s in contents for m in s["modules"] if m["modname"] == "page")
    assert list(page) == list(real_module)
