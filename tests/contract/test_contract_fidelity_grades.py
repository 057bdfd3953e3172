"""The course total the user report answers: natural aggregation, empty grades left out (Moodle 4.5's default).

A course imported from MASTER-KODING (the sandbox's seed; the lab builds the same master) has a pretest and a
posttest out of 10 and three assignments out of 100. A learner graded on the two tests only has a course total
of their sum out of 20, not out of 320.
"""

from __future__ import annotations

from typing import Any

import pytest

from moodle_sync.ws.moodle import Moodle

from .conftest import REAL_MOODLE_ADMIN_TOKEN, Site

pytestmark = pytest.mark.contract

MASTER = "MASTER-KODING"


def _grader(site: Site) -> Moodle:
    """A client allowed to grade: the sandbox's token; on a real site the admin's (the tool never grades)."""
    if site.target == "sandbox":
        return site.moodle
    if not REAL_MOODLE_ADMIN_TOKEN:
        pytest.skip("set MOODLE_ADMIN_TOKEN (a token allowed core_grades_update_grades) to grade on the real site")
    return site.connect(REAL_MOODLE_ADMIN_TOKEN)


def _course_from_master(site: Site) -> int:
    masters = site.moodle.courses_by_field("shortname", MASTER)
    if not masters:
        pytest.skip(f"the site has no {MASTER} (scripts/moodle-lab.sh up builds the masters)")
    courseid = site.create_course(site.create_category(), newsitems=0)
    site.moodle.import_course(masters[0].id, courseid)
    return courseid


def _grade(grader: Moodle, courseid: int, cmid: int, userid: int, value: float) -> None:
    answer = grader.call("core_grades_update_grades", {
        "source": "moodle_sync contract", "courseid": courseid, "component": "mod_quiz", "activityid": cmid,
        "itemnumber": 0, "grades": [{"studentid": userid, "grade": value}]})
    assert answer == 0  # GRADE_UPDATE_OK


def _items_by_user(site: Site, courseid: int) -> dict[int, dict[str, dict[str, Any]]]:
    report = site.moodle.call("gradereport_user_get_grade_items", {"courseid": courseid, "userid": 0})
    return {u["userid"]: {("total" if i["itemtype"] == "course" else i["itemname"]): i for i in u["gradeitems"]}
            for u in report["usergrades"]}


def test_the_course_total_counts_only_graded_items(site: Site) -> None:
    grader = _grader(site)
    courseid = _course_from_master(site)
    tested, untouched = site.create_users(2)
    site.enrol(courseid, [tested, untouched])
    quizzes = {m.name: m.id for s in site.moodle.sections(courseid) for m in s.modules if m.modname == "quiz"}
    _grade(grader, courseid, quizzes["Pretest"], tested, 6.5)
    _grade(grader, courseid, quizzes["Posttest"], tested, 8.0)

    items = _items_by_user(site, courseid)

    total = items[tested]["total"]
    assert (total["graderaw"], total["grademin"], total["grademax"]) == (14.5, 0, 20)
    assert (total["gradeformatted"], total["rangeformatted"], total["percentageformatted"]) == (
        "14.50", "0&ndash;20", "72.50 %")
    pretest = items[tested]["Pretest"]
    assert (pretest["graderaw"], pretest["rangeformatted"], pretest["percentageformatted"]) == (
        6.5, "0&ndash;10", "65.00 %")
    everything = sum(i["grademax"] for name, i in items[untouched].items() if name != "total")
    empty = items[untouched]["total"]
    assert (empty["graderaw"], empty["grademax"], empty["rangeformatted"], empty["percentageformatted"]) == (
        None, everything, f"0&ndash;{everything:g}", "-")
