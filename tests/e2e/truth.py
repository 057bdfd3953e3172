"""What the site's own database says, per course of an offering: the ground truth the report must equal.

On the lab, PostgreSQL is read directly (Moodle's tables, no web service in between); on the sandbox, its
state. Both give, per participant (student role): suspended, accessed, any activity completed, course
completed, the course total as the user report shows it (final grade over the user's own range, natural
aggregation with empty grades excluded) and the pre-test and post-test as percentages.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

COURSE_SQL = """
WITH st AS (
  SELECT DISTINCT c.id AS courseid, c.idnumber, ue.userid, (ue.status = 1 OR e.status = 1) AS suspended
    FROM mdl_course c
    JOIN mdl_enrol e ON e.courseid = c.id
    JOIN mdl_user_enrolments ue ON ue.enrolid = e.id
    JOIN mdl_context ctx ON ctx.instanceid = c.id AND ctx.contextlevel = 50
    JOIN mdl_role_assignments ra ON ra.contextid = ctx.id AND ra.userid = ue.userid
    JOIN mdl_role r ON r.id = ra.roleid AND r.shortname = 'student'
   WHERE c.idnumber LIKE %(prefix)s
)
SELECT st.idnumber, st.userid, st.suspended,
       EXISTS (SELECT 1 FROM mdl_user_lastaccess la WHERE la.courseid = st.courseid AND la.userid = st.userid)
         AS accessed,
       EXISTS (SELECT 1 FROM mdl_course_modules_completion cmc JOIN mdl_course_modules cm ON cm.id = cmc.coursemoduleid
                WHERE cm.course = st.courseid AND cmc.userid = st.userid AND cmc.completionstate > 0) AS any_done,
       (SELECT cc.timecompleted FROM mdl_course_completions cc WHERE cc.course = st.courseid AND cc.userid = st.userid)
         AS timecompleted,
       (SELECT gg.finalgrade / NULLIF(gg.rawgrademax, 0) * 100 FROM mdl_grade_grades gg
          JOIN mdl_grade_items gi ON gi.id = gg.itemid
         WHERE gi.courseid = st.courseid AND gi.itemtype = 'course' AND gg.userid = st.userid) AS course_pct,
       (SELECT gg.finalgrade / gi.grademax * 100 FROM mdl_grade_grades gg JOIN mdl_grade_items gi ON gi.id = gg.itemid
         WHERE gi.courseid = st.courseid AND gi.idnumber = 'pretest' AND gg.userid = st.userid) AS pre_pct,
       (SELECT gg.finalgrade / gi.grademax * 100 FROM mdl_grade_grades gg JOIN mdl_grade_items gi ON gi.id = gg.itemid
         WHERE gi.courseid = st.courseid AND gi.idnumber = 'posttest' AND gg.userid = st.userid) AS post_pct
  FROM st
"""


@dataclass(frozen=True)
class Participant:
    course_key: str
    userid: int
    suspended: bool
    started: bool
    completed: bool
    course_pct: float | None
    pre_pct: float | None
    post_pct: float | None


@dataclass(frozen=True)
class CourseTruth:
    enrolled: int
    withdrawn: int
    started: int
    completed: int
    grade_mean_pct: float | None
    pre_mean_pct: float | None
    post_mean_pct: float | None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def summarise(participants: Iterable[Participant]) -> dict[str, CourseTruth]:
    """Per course key, the figures the report defines (withdrawn: suspended and not completed)."""
    by_course: dict[str, list[Participant]] = {}
    for p in participants:
        by_course.setdefault(p.course_key, []).append(p)
    out = {}
    for key, people in sorted(by_course.items()):
        gone = [p for p in people if p.suspended and not p.completed]
        active = [p for p in people if p not in gone]
        pairs = [(p.pre_pct, p.post_pct) for p in active if p.pre_pct is not None and p.post_pct is not None]
        out[key] = CourseTruth(
            enrolled=len(active), withdrawn=len(gone), started=sum(p.started for p in active),
            completed=sum(p.completed for p in active),
            grade_mean_pct=_mean([p.course_pct for p in active if p.course_pct is not None]),
            pre_mean_pct=_mean([a for a, _ in pairs]), post_mean_pct=_mean([b for _, b in pairs]))
    return out


def lab_truth(db_url: str, offering_id: str) -> dict[str, CourseTruth]:
    """The figures per course, read from the lab's PostgreSQL database."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        rows = conn.execute(COURSE_SQL, {"prefix": f"{offering_id}-%"}).fetchall()
    return summarise(Participant(
        course_key=idnumber.removeprefix(f"{offering_id}-"), userid=userid, suspended=suspended,
        started=accessed or any_done, completed=timecompleted is not None,
        course_pct=None if course is None else float(course), pre_pct=None if pre is None else float(pre),
        post_pct=None if post is None else float(post))
        for idnumber, userid, suspended, accessed, any_done, timecompleted, course, pre, post in rows)


def sandbox_truth(server: Any, offering_id: str) -> dict[str, CourseTruth]:
    """The same figures from the sandbox's state (its "database")."""
    from moodle_sync.sandbox.grades import course_total

    moodle = server.moodle
    with moodle.lock:
        state = moodle.state
        people = []
        for course in state.courses:
            if not course.idnumber.startswith(f"{offering_id}-"):
                continue
            items = {i.idnumber: i for i in state.grade_items.find("course", course.id) if i.idnumber}
            cms = {cm.id for cm in state.modules.find("course", course.id)}
            for e in state.enrolments.find("course", course.id):
                if 5 not in e.roles:
                    continue

                def pct(idnumber: str, items: dict[str, Any] = items, userid: int = e.userid) -> float | None:
                    item = items.get(idnumber)
                    grade = item and state.grades.first("item_user", (item.id, userid))
                    return None if not grade or grade.finalgrade is None else grade.finalgrade / item.grademax * 100

                total = course_total(state, course.id, e.userid)
                done = state.course_completions.first("course_user", (course.id, e.userid))
                any_done = any(c.state > 0 for cm in cms for c in state.activity_completions.find("cm_user", (cm, e.userid)))
                people.append(Participant(
                    course_key=course.idnumber.removeprefix(f"{offering_id}-"), userid=e.userid,
                    suspended=e.status == 1,
                    started=state.course_access.first("course_user", (course.id, e.userid)) is not None or any_done,
                    completed=bool(done and done.timecompleted),
                    course_pct=None if total.grade is None or not total.grademax else total.grade / total.grademax * 100,
                    pre_pct=pct("pretest"), post_pct=pct("posttest")))
    return summarise(people)
