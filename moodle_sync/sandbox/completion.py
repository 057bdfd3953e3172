"""Completion logic: activity states, rule details, progress, and the "cron" that completes courses.

Activity completion changes at once (a view, a grade, an override). Course completion follows
Moodle's cron: :func:`run_cron` reviews every enrolment of every course with criteria and writes the
criterion and course completion rows; until it runs, a course shows as not complete.
"""

from __future__ import annotations

from typing import Any

from . import records as r
from .content import tracked_modules
from .state import State

COMPLETE_STATES = (1, 2)
RULE_DESCRIPTIONS = {
    "completionview": "View",
    "completionusegrade": "Receive a grade",
    "completionpassgrade": "Receive a passing grade",
    "completionsubmit": "Make a submission",
}


def activity_record(state: State, cmid: int, userid: int) -> r.ActivityCompletion | None:
    return state.activity_completions.first("cm_user", (cmid, userid))


def is_tracked_user(state: State, courseid: int, userid: int) -> bool:
    """Moodle tracks completion for enrolled users holding the student role."""
    e = state.enrolments.first("course_user", (courseid, userid))
    return e is not None and 5 in e.roles


def activity_status(state: State, cm: r.Module, userid: int) -> dict[str, Any]:
    """The completion fields Moodle shows for one activity and user (``completiondata`` / ``statuses``)."""
    rec = activity_record(state, cm.id, userid)
    value = rec.state if rec else 0
    details = [] if cm.completion != 2 else [
        {"rulename": rule, "rulevalue": {"status": 1 if value in COMPLETE_STATES else 0,
                                         "description": RULE_DESCRIPTIONS.get(rule, rule)}}
        for rule in cm.rules
    ]
    return {
        "state": value,
        "timecompleted": rec.timecompleted if rec else 0,
        "overrideby": rec.overrideby if rec else None,
        "valueused": False,
        "hascompletion": cm.completion > 0,
        "isautomatic": cm.completion == 2,
        "istrackeduser": is_tracked_user(state, cm.course, userid),
        "uservisible": bool(cm.visible),
        "details": details,
        "isoverallcomplete": value in COMPLETE_STATES,
    }


def set_activity_state(state: State, cm: r.Module, userid: int, value: int, now: int,
                       overrideby: int | None = None) -> r.ActivityCompletion:
    """Record ``value`` (0 incomplete, 1 complete, 2 pass, 3 fail) for the user on the activity.

    As in Moodle 4.5, an activity that is a course completion criterion marks its criterion at once;
    only the course's completion waits for cron (:func:`run_cron`)."""
    rec = activity_record(state, cm.id, userid)
    timecompleted = now if value in COMPLETE_STATES else 0
    if rec is None:
        rec = state.insert("activity_completions", r.ActivityCompletion(
            id=0, cmid=cm.id, userid=userid, state=value, timecompleted=timecompleted, overrideby=overrideby))
    else:
        if rec.state in COMPLETE_STATES and value in COMPLETE_STATES and overrideby is None:
            timecompleted = rec.timecompleted  # already complete: keep the first time
        rec = state.update("activity_completions", rec, state=value, timecompleted=timecompleted,
                           overrideby=overrideby)
    course = state.courses.get(cm.course)
    if (course is not None and cm.id in (course.criteria or ()) and value in COMPLETE_STATES
            and state.criteria_completions.first("cm_user", (cm.id, userid)) is None):
        state.insert("criteria_completions", r.CriterionCompletion(
            id=0, courseid=course.id, cmid=cm.id, userid=userid, timecompleted=rec.timecompleted or now))
    return rec


def progress_percent(state: State, courseid: int, userid: int,
                     tracked: list[r.Module] | None = None) -> float | None:
    """Share of tracked activities the user completed (``None`` when the course tracks none).

    ``tracked`` may pass the course's :func:`tracked_modules` when computing many users at once.
    """
    if tracked is None:
        tracked = tracked_modules(state, courseid)
    if not tracked:
        return None
    done = 0
    for cm in tracked:
        rec = activity_record(state, cm.id, userid)
        if rec is not None and rec.state in COMPLETE_STATES:
            done += 1
    return 100.0 * done / len(tracked)


def run_cron(state: State, now: int) -> int:
    """Review criteria of every enrolled user in every course with criteria; return courses newly completed."""
    newly = 0
    for course in list(state.courses):
        if not course.criteria or not course.enablecompletion:
            continue
        for e in state.enrolments.find("course", course.id):
            newly += _review(state, course, e.userid, now)
    return newly


def _review(state: State, course: r.Course, userid: int, now: int) -> int:
    met_all = True
    first_time: int | None = None
    for cmid in course.criteria:
        rec = activity_record(state, cmid, userid)
        crit = state.criteria_completions.first("cm_user", (cmid, userid))
        if rec is not None and rec.state in COMPLETE_STATES:
            if crit is None:
                crit = state.insert("criteria_completions", r.CriterionCompletion(
                    id=0, courseid=course.id, cmid=cmid, userid=userid, timecompleted=rec.timecompleted or now))
            first_time = crit.timecompleted if first_time is None else min(first_time, crit.timecompleted)
        else:
            met_all = False
    completion = state.course_completions.first("course_user", (course.id, userid))
    if first_time is None and completion is None:
        return 0
    if completion is None:
        completion = state.insert("course_completions", r.CourseCompletion(
            id=0, courseid=course.id, userid=userid, timestarted=first_time or now))
    if met_all and completion.timecompleted is None:
        state.update("course_completions", completion, timecompleted=now)
        return 1
    return 0


def course_completed(state: State, courseid: int, userid: int) -> int | None:
    """When cron marked the course complete for the user, else ``None``."""
    rec = state.course_completions.first("course_user", (courseid, userid))
    return rec.timecompleted if rec else None

