"""Course building blocks shared by the web-service functions, the seed and the test controls.

Creating a course (with its section 0, numbered sections and course grade item), adding sections and
activities (with completion settings and grade items), deleting them, and copying one course's
content into another (``core_course_import_course``).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from . import records as r
from .calls import midnight, modules_in_order, sections_of
from .state import State

# modname -> (purpose, plural shown by Moodle)
MOD_INFO: dict[str, tuple[str, str]] = {
    "quiz": ("assessment", "Quizzes"),
    "assign": ("assessment", "Assignments"),
    "page": ("content", "Pages"),
    "url": ("content", "URLs"),
    "resource": ("content", "Files"),
    "label": ("content", "Text and media areas"),
    "lesson": ("content", "Lessons"),
    "forum": ("collaboration", "Forums"),
    "feedback": ("communication", "Feedback"),
    "h5pactivity": ("interactivecontent", "H5P"),
}

FORMAT_OPTIONS: dict[str, dict[str, Any]] = {
    "topics": {"hiddensections": 1, "coursedisplay": 0, "indentation": "1"},
    "weeks": {"hiddensections": 1, "coursedisplay": 0, "automaticenddate": 1, "indentation": "1"},
    "social": {"numdiscussions": 10},
    "singleactivity": {"activitytype": "forum"},
}
YEAR = 365 * 86400


def create_course(state: State, now: int, *, tz: tzinfo, category: int, fullname: str, shortname: str,
                  idnumber: str = "", numsections: int = 0, **settings: Any) -> r.Course:
    """Insert a course with section 0 plus ``numsections`` sections and its course-total grade item.

    Without a ``startdate`` the course starts at midnight of the current day in the site's time zone ``tz``.
    """
    fmt = settings.get("format") or "topics"
    startdate = settings.pop("startdate", None)
    if startdate is None:
        startdate = midnight(now, tz)  # Moodle: usergetmidnight(time())
    enddate = settings.pop("enddate", None)
    if enddate is None:
        enddate = startdate + YEAR if fmt in ("topics", "weeks") else 0
    cat_courses = state.courses.count("category", category)
    cat = state.categories.get(category)
    course = r.Course(id=0, category=category, fullname=fullname, shortname=shortname, idnumber=idnumber,
                      startdate=startdate, enddate=enddate, timecreated=now, timemodified=now, cacherev=now,
                      sortorder=(cat.sortorder if cat else 0) + cat_courses + 1,
                      formatoptions=dict(FORMAT_OPTIONS.get(fmt, {})), **settings)
    state.insert("courses", course)
    for number in range(numsections + 1):
        state.insert("sections", r.Section(id=0, course=course.id, section=number, timemodified=now))
    state.insert("grade_items", r.GradeItem(id=0, courseid=course.id, itemtype="course",
                                            iteminstance=state.counter("grade_categories"), grademax=0.0))
    if fmt in ("topics", "weeks") and course.newsitems > 0:
        # Moodle's forum observer adds the Announcements forum to section 0 when a course is created.
        general = next(s for s in sections_of(state, course.id) if s.section == 0)
        add_module(state, general, modname="forum", name="Announcements", completion=0, now=now)
    return course


def add_section(state: State, course: r.Course, *, name: str | None = None, summary: str = "",
                now: int = 0) -> r.Section:
    """Append a section after the course's last one."""
    number = max((s.section for s in sections_of(state, course.id)), default=-1) + 1
    return state.insert("sections", r.Section(id=0, course=course.id, section=number, name=name, summary=summary,
                                              timemodified=now))


def add_module(state: State, section: r.Section, *, modname: str, name: str, idnumber: str = "",
               completion: int = 2, rules: list[str] | None = None, grademax: float | None = None,
               intro: str = "", visible: int = 1, now: int = 0) -> r.Module:
    """Add an activity at the end of ``section``; graded activities get a grade item with the same idnumber."""
    if rules is None:
        rules = [] if completion != 2 else (["completionusegrade"] if grademax is not None else ["completionview"])
    cm = r.Module(id=0, course=section.course, section=section.id, modname=modname,
                  instance=state.counter(f"instance:{modname}"), name=name, idnumber=idnumber, intro=intro,
                  visible=visible, completion=completion, rules=list(rules), grademax=grademax, added=now)
    state.insert("modules", cm)
    state.update("sections", section, sequence=[*section.sequence, cm.id])
    if grademax is not None:
        items = state.grade_items.find("course", section.course)
        state.insert("grade_items", r.GradeItem(
            id=0, courseid=section.course, itemtype="mod", itemmodule=modname, iteminstance=cm.instance,
            itemnumber=0, idnumber=idnumber or None, itemname=name, grademax=float(grademax), cmid=cm.id,
            sortorder=len(items) + 1))
        _refresh_course_total(state, section.course)
    return cm


def _refresh_course_total(state: State, courseid: int) -> None:
    items = state.grade_items.find("course", courseid)
    total = sum(i.grademax for i in items if i.itemtype != "course")
    for item in items:
        if item.itemtype == "course" and item.grademax != total:
            state.update("grade_items", item, grademax=total)


def delete_module(state: State, cm: r.Module) -> None:
    """Remove an activity with its grade item, grades and completion data."""
    section = state.sections.get(cm.section)
    if section is not None:
        state.update("sections", section, sequence=[i for i in section.sequence if i != cm.id])
    for item in state.grade_items.find("cmid", cm.id):
        for grade in state.grades.find("item", item.id):
            state.delete("grades", grade)
        state.delete("grade_items", item)
    for comp in state.activity_completions.find("cm", cm.id):
        state.delete("activity_completions", comp)
    for comp in list(state.criteria_completions.find("course", cm.course)):
        if comp.cmid == cm.id:
            state.delete("criteria_completions", comp)
    course = state.courses.get(cm.course)
    if course is not None and cm.id in course.criteria:
        state.update("courses", course, criteria=[c for c in course.criteria if c != cm.id])
    state.delete("modules", cm)
    _refresh_course_total(state, cm.course)


def delete_course(state: State, course: r.Course) -> None:
    """Remove a course and everything in it (sections, activities, enrolments, groups, grades, completion)."""
    for cm in state.modules.find("course", course.id):
        delete_module(state, cm)
    for sec in state.sections.find("course", course.id):
        state.delete("sections", sec)
    for item in state.grade_items.find("course", course.id):
        for grade in state.grades.find("item", item.id):
            state.delete("grades", grade)
        state.delete("grade_items", item)
    for e in state.enrolments.find("course", course.id):
        state.delete("enrolments", e)
    for a in list(state.course_access):
        if a.courseid == course.id:
            state.delete("course_access", a)
    for grouping in state.groupings.find("course", course.id):
        for link in state.grouping_groups.find("grouping", grouping.id):
            state.delete("grouping_groups", link)
        state.delete("groupings", grouping)
    for group in state.groups.find("course", course.id):
        for member in state.group_members.find("group", group.id):
            state.delete("group_members", member)
        state.delete("groups", group)
    for table in ("criteria_completions", "course_completions"):
        for row in state.tables[table].find("course", course.id):
            state.delete(table, row)
    state.delete("courses", course)


def import_content(state: State, source: r.Course, target: r.Course, *, delete_first: bool, now: int) -> None:
    """Copy sections (names, summaries) and activities (idnumbers, grade items, completion) into ``target``.

    Like Moodle's import: a section number the target already has keeps its own name and summary unless
    empty; activities are appended to the section of the same number; an activity idnumber already used
    in the target is dropped; course-completion criteria on copied activities are copied too.
    """
    if delete_first:
        for cm in state.modules.find("course", target.id):
            delete_module(state, cm)
        for sec in sections_of(state, target.id):
            if sec.section == 0:
                state.update("sections", sec, name=None, summary="", sequence=[])
            else:
                state.delete("sections", sec)
    by_number = {s.section: s for s in sections_of(state, target.id)}
    mapping: dict[int, int] = {}
    for src_sec in sections_of(state, source.id):
        dst = by_number.get(src_sec.section)
        if dst is None:
            dst = state.insert("sections", r.Section(id=0, course=target.id, section=src_sec.section,
                                                     name=src_sec.name, summary=src_sec.summary,
                                                     summaryformat=src_sec.summaryformat, visible=src_sec.visible,
                                                     timemodified=now))
            by_number[dst.section] = dst
        else:
            changes: dict[str, Any] = {}
            if not dst.name and src_sec.name:
                changes["name"] = src_sec.name
            if not dst.summary and src_sec.summary:
                changes["summary"] = src_sec.summary
            if changes:
                state.update("sections", dst, **changes)
        for cmid in src_sec.sequence:
            cm = state.modules.get(cmid)
            if cm is None:
                continue
            idnumber = cm.idnumber
            if idnumber and state.modules.first("idnumber", (target.id, idnumber)) is not None:
                idnumber = ""
            copy = add_module(state, dst, modname=cm.modname, name=cm.name, idnumber=idnumber,
                              completion=cm.completion, rules=cm.rules, grademax=cm.grademax, intro=cm.intro,
                              visible=cm.visible, now=now)
            mapping[cm.id] = copy.id
    criteria = list(target.criteria) + [mapping[c] for c in source.criteria if c in mapping]
    if criteria != target.criteria:
        state.update("courses", target, criteria=criteria)


def tracked_modules(state: State, courseid: int) -> list[r.Module]:
    """Activities of the course with completion tracking, in page order."""
    return [cm for cm in modules_in_order(state, courseid) if cm.completion]
