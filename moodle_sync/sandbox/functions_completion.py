"""Completion and grades: ``core_completion_*``, ``gradereport_user_get_grade_items``, ``core_grades_update_grades``."""

from __future__ import annotations

from typing import Any

from . import records as r
from .calls import Call, course, enrolment, module, modules_in_order, user, ws
from .completion import (
    COMPLETE_STATES,
    activity_record,
    activity_status,
    course_completed,
    is_tracked_user,
    set_activity_state,
)
from .errors import invalid_parameter, moodle_error
from .grades import CourseTotal, course_total, format_grade, format_percentage, format_range

REQUIREMENTS = {"completionview": "Viewing the {mod}", "completionusegrade": "Achieving grade",
                "completionpassgrade": "Achieving passing grade", "completionsubmit": "Making a submission"}


@ws("core_completion_get_activities_completion_status")
def get_activities_completion_status(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    crs = course(call.state, p["courseid"])
    u = user(call.state, p["userid"])
    if not crs.enablecompletion:
        raise moodle_error("cannotviewreport", "You cannot view this report")
    statuses = []
    for cm in modules_in_order(call.state, crs.id):
        if not cm.completion:
            continue
        s = activity_status(call.state, cm, u.id)
        statuses.append({"cmid": cm.id, "modname": cm.modname, "instance": cm.instance, "state": s["state"],
                         "timecompleted": s["timecompleted"], "tracking": cm.completion,
                         "overrideby": s["overrideby"], "valueused": s["valueused"],
                         "hascompletion": s["hascompletion"], "isautomatic": s["isautomatic"],
                         "istrackeduser": s["istrackeduser"], "uservisible": s["uservisible"],
                         "details": s["details"], "isoverallcomplete": s["isoverallcomplete"]})
    return {"statuses": statuses, "warnings": []}


def _requirement(cm: r.Module) -> str:
    if cm.completion == 1:
        return "Marking yourself complete"
    return ", ".join(REQUIREMENTS.get(rule, rule).format(mod=cm.modname) for rule in cm.rules)


@ws("core_completion_get_course_completion_status")
def get_course_completion_status(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    crs = course(state, p["courseid"])
    u = user(state, p["userid"])
    if not crs.enablecompletion:
        raise moodle_error("cannotviewreport", "You cannot view this report")
    if not is_tracked_user(state, crs.id, u.id):  # Moodle tracks enrolled students only
        if u.id == call.userid:
            raise moodle_error("notenroled", "You are not enrolled in this course")
        raise moodle_error("usernotenroled", "User is not enrolled in this course")
    if not crs.criteria:
        raise moodle_error("nocriteriaset", "No completion criteria set for this course")
    completions = []
    for cmid in crs.criteria:
        cm = state.modules.get(cmid)
        if cm is None:
            continue
        crit = state.criteria_completions.first("cm_user", (cm.id, u.id))
        link = call.url(f"/mod/{cm.modname}/view.php?id={cm.id}")
        completions.append({
            "type": 4, "title": "Activity completion", "status": "Yes" if crit else "No", "complete": bool(crit),
            "timecompleted": crit.timecompleted if crit else None,
            "details": {"type": "Activity completion", "criteria": f'<a href="{link}">{cm.name}</a>',
                        "requirement": _requirement(cm), "status": ""},
        })
    return {"completionstatus": {"completed": course_completed(state, crs.id, u.id) is not None,
                                 "aggregation": 1, "completions": completions}, "warnings": []}


@ws("core_completion_override_activity_completion_status")
def override_activity_completion_status(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    u = user(state, p["userid"])
    cm = module(state, p["cmid"])
    if p["newstate"] not in (0, 1):
        raise invalid_parameter(f"Invalid completion state: {p['newstate']}")
    if not cm.completion:
        raise moodle_error("nocompletiontracking", "Completion tracking is not enabled for this activity")
    if enrolment(state, cm.course, u.id) is None:
        raise moodle_error("nopermissions", "Sorry, but you do not currently have permissions to do that "
                                            "(Override activity completion status).")
    rec = set_activity_state(state, cm, u.id, p["newstate"], call.now, overrideby=call.userid)
    return {"cmid": cm.id, "userid": u.id, "state": rec.state, "timecompleted": rec.timecompleted,
            "overrideby": call.userid, "tracking": cm.completion}


# ----------------------------------------------------------------------------- grades
def _item_dict(call: Call, item: r.GradeItem, grade: r.Grade | None, total: CourseTotal) -> dict[str, Any]:
    """One row of the user report: an activity's grade, or the course total with its per-user range."""
    is_course = item.itemtype == "course"
    final = total.grade if is_course else (grade.finalgrade if grade else None)
    grademin, grademax = ((total.grademin, total.grademax) if is_course and final is not None
                          else (item.grademin, item.grademax))
    out: dict[str, Any] = {
        "id": item.id, "itemname": item.itemname, "itemtype": item.itemtype, "itemmodule": item.itemmodule,
        "iteminstance": item.iteminstance, "itemnumber": item.itemnumber, "idnumber": item.idnumber,
        "categoryid": None if is_course else _category_of(call, item.courseid), "outcomeid": None,
        "scaleid": None, "locked": False,
    }
    if item.cmid is not None:
        out["cmid"] = item.cmid
    out.update({
        # Moodle's user report puts the final grade in graderaw, the course total's included.
        "graderaw": final,
        "gradedatesubmitted": None if is_course or grade is None else grade.timecreated,
        "gradedategraded": None if is_course or grade is None else grade.timemodified,
        "gradehiddenbydate": False, "gradeneedsupdate": False, "gradeishidden": False, "gradeislocked": False,
        "gradeisoverridden": bool(grade.overridden) if grade else False,
        "gradeformatted": format_grade(final),
        "grademin": grademin, "grademax": grademax,
        "rangeformatted": format_range(grademin, grademax),
        "percentageformatted": format_percentage(final, grademin, grademax),
        "feedback": "", "feedbackformat": 0,
    })
    return out


def _category_of(call: Call, courseid: int) -> int | None:
    for item in call.state.grade_items.find("course", courseid):
        if item.itemtype == "course":
            return item.iteminstance
    return None


def user_grade_items(call: Call, crs: r.Course, u: r.User) -> dict[str, Any]:
    """One user's grade report for a course: activity items in order, then the course total."""
    state = call.state
    items = sorted(state.grade_items.find("course", crs.id), key=lambda i: (i.itemtype == "course", i.sortorder))
    grades = {i.id: state.grades.first("item_user", (i.id, u.id)) for i in items}
    total = course_total(state, crs.id, u.id)
    return {"courseid": crs.id, "courseidnumber": crs.idnumber, "userid": u.id, "userfullname": u.fullname,
            "useridnumber": u.idnumber, "maxdepth": 2,
            "gradeitems": [_item_dict(call, i, grades[i.id], total) for i in items]}


@ws("gradereport_user_get_grade_items")
def get_grade_items(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    crs = course(state, p["courseid"])
    if p["userid"]:
        u = user(state, p["userid"])
        if enrolment(state, crs.id, u.id) is None:
            raise moodle_error("notenrolled", "You are not enrolled in this course")
        users = [u]
    else:
        group_members = ({m.userid for m in state.group_members.find("group", p["groupid"])}
                         if p["groupid"] else None)
        users = []
        for e in sorted(state.enrolments.find("course", crs.id), key=lambda e: e.userid):
            u2 = state.users.get(e.userid)
            if u2 is None or u2.deleted or 5 not in e.roles or e.status != 0:
                continue
            if group_members is not None and u2.id not in group_members:
                continue
            users.append(u2)
        users.sort(key=lambda x: (x.lastname, x.firstname, x.id))
    return {"usergrades": [user_grade_items(call, crs, u) for u in users], "warnings": []}


def set_grade(state: Any, item: r.GradeItem, userid: int, value: float | None, now: int) -> r.Grade:
    """Store a grade (raw = final), and complete an activity whose completion asks for a grade."""
    grade = state.grades.first("item_user", (item.id, userid))
    if grade is None:
        grade = state.insert("grades", r.Grade(id=0, itemid=item.id, userid=userid, rawgrade=value,
                                               finalgrade=value, timecreated=now, timemodified=now))
    else:
        state.update("grades", grade, rawgrade=value, finalgrade=value, timemodified=now)
    if item.cmid is not None and value is not None:
        cm = state.modules.get(item.cmid)
        if cm is not None and cm.completion == 2 and "completionusegrade" in cm.rules:
            rec = activity_record(state, cm.id, userid)
            if rec is None or rec.state not in COMPLETE_STATES:
                set_activity_state(state, cm, userid, 1, now)
    return grade


@ws("core_grades_update_grades")
def update_grades(call: Call, p: dict[str, Any]) -> int:
    """Answers 0 (GRADE_UPDATE_OK) or 1 (GRADE_UPDATE_FAILED) like ``grade_update``."""
    state = call.state
    crs = course(state, p["courseid"])
    cm = state.modules.get(p["activityid"])
    if cm is None or cm.course != crs.id or p["component"] != f"mod_{cm.modname}":
        return 1
    items = [i for i in state.grade_items.find("cmid", cm.id) if (i.itemnumber or 0) == p["itemnumber"]]
    if not items:
        return 1
    item = items[0]
    details = p.get("itemdetails") or {}
    if "grademax" in details and details["grademax"] != item.grademax:
        state.update("grade_items", item, grademax=float(details["grademax"]))
    for g in p["grades"]:
        if state.users.get(g["studentid"]) is None:
            return 1
        set_grade(state, item, g["studentid"], g["grade"], call.now)
    return 0
