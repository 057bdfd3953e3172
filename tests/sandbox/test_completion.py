"""Completion, cron, grades and the participants report."""

from __future__ import annotations

from typing import Any

import pytest

from moodle_sync.sandbox.calls import userdate
from moodle_sync.sandbox.control import ControlError
from moodle_sync.sandbox.errors import SandboxMoodleError
from moodle_sync.sandbox.functions_site import REPORT_HEADERS
from moodle_sync.sandbox.server import SandboxServer
from tests.conftest import sample

from .conftest import post

KODING = 2  # MASTER-KODING in the seed


def call(server: SandboxServer, function: str, params: dict[str, Any] | None = None) -> Any:
    return server.moodle.call(function, params or {})


def learners(server: SandboxServer, count: int, courseid: int = KODING) -> list[int]:
    users = [{"username": f"guru{i}", "password": "Rahasia#2026", "firstname": "Guru", "lastname": f"L{i}",
              "email": f"guru{i}@guru.belajar.id", "idnumber": f"N{i}"} for i in range(count)]
    ids = [u["id"] for u in call(server, "core_user_create_users", {"users": users})]
    call(server, "enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": i, "courseid": courseid}
                                                             for i in ids]})
    return ids


def complete_all(server: SandboxServer, userid: int, courseid: int = KODING) -> None:
    for cm in server.state.modules.find("course", courseid):
        if cm.completion:
            server.control.complete_activity(courseid, userid, cm.idnumber)


def test_course_completes_only_after_cron(sandbox: SandboxServer) -> None:
    (uid,) = learners(sandbox, 1)
    complete_all(sandbox, uid)
    before = call(sandbox, "core_completion_get_course_completion_status", {"courseid": KODING, "userid": uid})
    assert before["completionstatus"]["completed"] is False
    # A real 4.5.6 site marks each activity criterion at once; only the course's completion waits for cron.
    assert {c["status"] for c in before["completionstatus"]["completions"]} == {"Yes"}
    assert sandbox.control.run_cron() == 1
    after = call(sandbox, "core_completion_get_course_completion_status", {"courseid": KODING, "userid": uid})
    assert after["completionstatus"]["completed"] is True
    first = after["completionstatus"]["completions"][0]
    assert set(first) == set(sample("core_completion_get_course_completion_status-after-override")
                             ["completionstatus"]["completions"][0])
    assert first["status"] == "Yes" and first["details"]["criteria"].startswith(f'<a href="{sandbox.url}/mod/')
    assert sandbox.control.run_cron() == 0


def test_nocriteriaset_and_notenroled(sandbox: SandboxServer) -> None:
    assert post(sandbox, "core_completion_get_course_completion_status", {"courseid": KODING, "userid": 2}) == \
        sample("core_completion_get_course_completion_status-notenrolled")
    cid = call(sandbox, "core_course_create_courses", {"courses": [{"fullname": "x", "shortname": "x",
                                                                    "categoryid": 1}]})[0]["id"]
    (uid,) = learners(sandbox, 1, cid)
    assert post(sandbox, "core_completion_get_course_completion_status", {"courseid": cid, "userid": uid}) == \
        sample("extra/core_completion_get_course_completion_status-nocriteria")
    assert call(sandbox, "core_completion_get_activities_completion_status",
                {"courseid": cid, "userid": uid}) == sample("extra/core_completion_get_activities_completion_status-empty")
    teacher = call(sandbox, "core_user_create_users", {"users": [{
        "username": "fasil", "password": "Rahasia#2026", "firstname": "F", "lastname": "T",
        "email": "fasil@bgtk.id"}]})[0]["id"]
    call(sandbox, "enrol_manual_enrol_users", {"enrolments": [{"roleid": 4, "userid": teacher, "courseid": KODING}]})
    with pytest.raises(SandboxMoodleError) as info:  # only students are tracked; another user's status
        call(sandbox, "core_completion_get_course_completion_status", {"courseid": KODING, "userid": teacher})
    assert (info.value.errorcode, info.value.message) == ("usernotenroled", "User is not enrolled in this course")
    call(sandbox, "core_course_update_courses", {"courses": [{"id": cid, "enablecompletion": 0}]})
    with pytest.raises(SandboxMoodleError) as info:
        call(sandbox, "core_completion_get_course_completion_status", {"courseid": cid, "userid": uid})
    assert info.value.errorcode == "cannotviewreport"


def test_activity_states_and_override(sandbox: SandboxServer) -> None:
    (uid,) = learners(sandbox, 1)
    sandbox.control.complete_activity(KODING, uid, "panduan", time=1_800_000_000)
    statuses = call(sandbox, "core_completion_get_activities_completion_status",
                    {"courseid": KODING, "userid": uid})["statuses"]
    first = statuses[0]
    assert set(first) == set(sample("core_completion_get_activities_completion_status")["statuses"][0])
    assert (first["state"], first["timecompleted"], first["istrackeduser"]) == (1, 1_800_000_000, True)
    assert first["details"] == [{"rulename": "completionview", "rulevalue": {"status": 1, "description": "View"}}]
    manual = next(s for s in statuses if s["tracking"] == 1)
    answer = call(sandbox, "core_completion_override_activity_completion_status",
                  {"userid": uid, "cmid": manual["cmid"], "newstate": 1})
    assert (answer["state"], answer["overrideby"], answer["tracking"]) == (1, 2, 1)
    with pytest.raises(SandboxMoodleError):
        call(sandbox, "core_completion_override_activity_completion_status",
             {"userid": uid, "cmid": 99999, "newstate": 1})


def test_grades_for_everyone_in_one_call(sandbox: SandboxServer) -> None:
    a, b = learners(sandbox, 2)
    sandbox.control.set_grade(KODING, a, "pretest", 7.5, time=1_800_000_100)
    report = call(sandbox, "gradereport_user_get_grade_items", {"courseid": KODING, "userid": 0})
    assert [u["userid"] for u in report["usergrades"]] == [a, b]
    items = report["usergrades"][0]["gradeitems"]
    assert items[-1]["itemtype"] == "course"
    pretest = next(i for i in items if i["idnumber"] == "pretest")
    assert (pretest["graderaw"], pretest["grademax"], pretest["gradedategraded"]) == (7.5, 10.0, 1_800_000_100)
    assert pretest["cmid"] == sandbox.state.modules.first("idnumber", (KODING, "pretest")).id
    assert pretest["gradeformatted"] == "7.50" and pretest["percentageformatted"] == "75.00 %"
    assert report["usergrades"][1]["gradeitems"][0]["graderaw"] is None
    # as in Moodle's user report, the course total's graderaw is its final grade
    assert (items[-1]["graderaw"], report["usergrades"][1]["gradeitems"][-1]["graderaw"]) == (7.5, None)
    # a grade completes the quiz, whose completion rule is "receive a grade"
    statuses = call(sandbox, "core_completion_get_activities_completion_status", {"courseid": KODING, "userid": a})
    assert next(s for s in statuses["statuses"] if s["cmid"] == pretest["cmid"])["state"] == 1
    assert call(sandbox, "core_grades_update_grades", {
        "source": "t", "courseid": KODING, "component": "mod_quiz", "activityid": pretest["cmid"], "itemnumber": 0,
        "grades": [{"studentid": b, "grade": 4}]}) == 0
    single = call(sandbox, "gradereport_user_get_grade_items", {"courseid": KODING, "userid": b})
    assert next(i for i in single["usergrades"][0]["gradeitems"] if i["idnumber"] == "pretest")["graderaw"] == 4.0


def test_controls_refuse_what_makes_no_sense(sandbox: SandboxServer) -> None:
    (uid,) = learners(sandbox, 1)
    with pytest.raises(ControlError, match="no activity"):
        sandbox.control.complete_activity(KODING, uid, "nope")
    with pytest.raises(ControlError, match="not enrolled"):
        sandbox.control.set_grade(3, uid, "pretest", 5)
    with pytest.raises(ControlError, match="outside"):
        sandbox.control.set_grade(KODING, uid, "pretest", 50)


def test_participants_report_formats_and_pages(sandbox: SandboxServer) -> None:
    ids = learners(sandbox, 3)
    call(sandbox, "enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": ids[0], "courseid": 3}]})
    complete_all(sandbox, ids[1])
    sandbox.control.record_access(KODING, ids[1], time=1_800_000_000)
    sandbox.control.run_cron(time=1_800_000_500)
    report = sandbox.control.create_participants_report()
    page0 = call(sandbox, "core_reportbuilder_retrieve_report", {"reportid": report, "page": 0, "perpage": 3})
    real = sample("core_reportbuilder_retrieve_report-participants-completion")
    assert page0["data"]["headers"] == real["data"]["headers"] == REPORT_HEADERS
    assert page0["data"]["totalrowcount"] == 4
    assert set(page0["details"]) == set(real["details"])
    rows = [r["columns"] for r in page0["data"]["rows"]]
    assert [r[5] for r in rows] == ["guru0", "guru1", "guru2"]
    done = rows[1]
    assert done[0] == f'<a href="{sandbox.url}/course/view.php?id={KODING}">Master: Koding untuk Guru</a>'
    assert done[1] == f'<a href="{sandbox.url}/user/profile.php?id={ids[1]}">Guru L1</a>'
    assert done[2:5] == ["Manual enrolments", "MASTER-KODING", "MASTER-KODING"]
    assert (done[8], done[9], done[11]) == ("Yes", "100.0%", userdate(1_800_000_500))
    assert done[13] == userdate(1_800_000_000) and done[15] == "Student"
    assert (rows[0][8], rows[0][9], rows[0][10], rows[0][13]) == ("", "0.0%", "", "Never")
    page1 = call(sandbox, "core_reportbuilder_retrieve_report", {"reportid": report, "page": 1, "perpage": 3})
    assert [r["columns"][3] for r in page1["data"]["rows"]] == ["MASTER-AI"]
    with pytest.raises(SandboxMoodleError):
        call(sandbox, "core_reportbuilder_retrieve_report", {"reportid": 999})


def test_userdate_reads_like_moodle() -> None:
    # 2026-11-27 15:35 UTC is 22:35 in Lampung (UTC+7)
    assert userdate(1795793700) == "Friday, 27 November 2026, 10:35 PM"
    assert userdate(0) == ""
