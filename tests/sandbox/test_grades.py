"""The course total as Moodle 4.5 computes it: natural aggregation over the graded items only."""

from __future__ import annotations

from typing import Any

from moodle_sync.sandbox.grades import format_float, format_percentage
from moodle_sync.sandbox.server import SandboxServer
from tests.conftest import sample

from .test_completion import KODING, call, learners

# MASTER-KODING: pretest (0-10), tugas-1..3 (0-100 each), posttest (0-10): the course item's range is 0-320.


def course_total(server: SandboxServer, userid: int) -> dict[str, Any]:
    report = call(server, "gradereport_user_get_grade_items", {"courseid": KODING, "userid": userid})
    [total] = [i for i in report["usergrades"][0]["gradeitems"] if i["itemtype"] == "course"]
    return total


def test_the_course_total_leaves_empty_grades_out_of_sum_and_maximum(sandbox: SandboxServer) -> None:
    tested, _untouched = learners(sandbox, 2)
    sandbox.control.set_grade(KODING, tested, "pretest", 6.5)
    sandbox.control.set_grade(KODING, tested, "posttest", 8.0)

    total = course_total(sandbox, tested)

    assert (total["graderaw"], total["grademin"], total["grademax"]) == (14.5, 0.0, 20.0)
    assert (total["gradeformatted"], total["rangeformatted"], total["percentageformatted"]) == (
        "14.50", "0&ndash;20", "72.50 %")
    assert list(total) == list(sample("gradereport_user_get_grade_items")["usergrades"][0]["gradeitems"][0])


def test_a_course_total_without_grades_shows_the_whole_range_and_no_percentage(sandbox: SandboxServer) -> None:
    (untouched,) = learners(sandbox, 1)

    total = course_total(sandbox, untouched)

    assert (total["graderaw"], total["grademax"], total["rangeformatted"], total["percentageformatted"],
            total["gradeformatted"]) == (None, 320.0, "0&ndash;320", "-", "-")


def test_a_zero_is_a_grade_and_counts_in_the_maximum(sandbox: SandboxServer) -> None:
    (learner,) = learners(sandbox, 1)
    sandbox.control.set_grade(KODING, learner, "pretest", 10.0)
    sandbox.control.set_grade(KODING, learner, "tugas-1", 0.0)

    total = course_total(sandbox, learner)

    assert (total["graderaw"], total["grademax"], total["percentageformatted"]) == (10.0, 110.0, "9.09 %")


def test_an_activity_range_has_no_decimals_as_in_the_user_report(sandbox: SandboxServer) -> None:
    (learner,) = learners(sandbox, 1)
    sandbox.control.set_grade(KODING, learner, "pretest", 7.0)

    report = call(sandbox, "gradereport_user_get_grade_items", {"courseid": KODING, "userid": learner})
    pretest = next(i for i in report["usergrades"][0]["gradeitems"] if i["idnumber"] == "pretest")

    assert (pretest["rangeformatted"], pretest["percentageformatted"]) == ("0&ndash;10", "70.00 %")


def test_the_participants_report_grade_is_the_course_total(sandbox: SandboxServer) -> None:
    (learner,) = learners(sandbox, 1)
    sandbox.control.set_grade(KODING, learner, "pretest", 6.5)
    sandbox.control.set_grade(KODING, learner, "posttest", 8.0)
    report = sandbox.control.create_participants_report()

    rows = call(sandbox, "core_reportbuilder_retrieve_report", {"reportid": report, "page": 0, "perpage": 50})

    [row] = [r["columns"] for r in rows["data"]["rows"] if r["columns"][5] == "guru0"]
    assert row[12] == "14.50"


def test_numbers_round_half_away_from_zero_like_php() -> None:
    assert (format_float(0.125, 2), format_float(2.5, 0), format_float(-2.5, 0)) == ("0.13", "3", "-3")
    assert (format_percentage(None, 0, 10), format_percentage(5, 0, 0)) == ("-", "")


def test_a_course_without_graded_items_answers_the_real_total_row(sandbox: SandboxServer) -> None:
    cid = call(sandbox, "core_course_create_courses", {"courses": [{"fullname": "x", "shortname": "x",
                                                                    "categoryid": 1}]})[0]["id"]
    (learner,) = learners(sandbox, 1, cid)

    [row] = call(sandbox, "gradereport_user_get_grade_items", {"courseid": cid, "userid": learner})[
        "usergrades"][0]["gradeitems"]

    real = sample("gradereport_user_get_grade_items-all-users")["usergrades"][0]["gradeitems"][0]
    assert {**row, "id": real["id"], "iteminstance": real["iteminstance"]} == real
