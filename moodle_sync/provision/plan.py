"""Desired state + observed state -> actions. Pure: no I/O, no clock, no Moodle.

Each :class:`Action` is a create, an update (with field-level changes, old -> new) or unchanged, with
a reason. ``plan`` and ``apply`` build the plan with this same function; apply then executes it.
Nothing is ever planned for deletion. An offering that adopts existing courses (``adopt:``) plans nothing
for them: :func:`plan_adoption` lists each as adopted and unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..ws.moodle import Course, EnrolledUser, Group
from .spec import CourseSpec, OfferingSpec
from .state import AdoptedState, CourseState, ObservedState, category_idnumber, find_category, has_content

if TYPE_CHECKING:
    from ..offerings import Offering

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"

ROLE_IDS = {"editingteacher": 3, "teacher": 4, "student": 5, "manager": 1}


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Action:
    kind: str                 # category | course | content | section | group | grouping | user | enrolment | member
    op: str                   # create | update | unchanged
    key: str                  # what it is about, readable: a category path, "lampung-selatan", ...
    reason: str
    course_key: str | None = None
    changes: tuple[Change, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "op": self.op, "key": self.key, "course": self.course_key,
                "reason": self.reason,
                "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes]}


@dataclass
class Plan:
    offering_id: str
    actions: list[Action] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def pending(self) -> list[Action]:
        return [a for a in self.actions if a.op != UNCHANGED]

    def counts(self) -> dict[str, int]:
        out = {CREATE: 0, UPDATE: 0, UNCHANGED: 0}
        for a in self.actions:
            out[a.op] += 1
        return out

    def of(self, kind: str, op: str | None = None) -> list[Action]:
        return [a for a in self.actions if a.kind == kind and (op is None or a.op == op)]

    def to_dict(self) -> dict[str, Any]:
        return {"offering": self.offering_id, "changes_pending": bool(self.pending),
                "counts": self.counts(), "problems": list(self.problems),
                "actions": [a.to_dict() for a in self.actions]}


def _norm_html(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def course_fields(spec: CourseSpec) -> dict[str, Any]:
    """The course fields we own, as Moodle names them (create/update payload minus ids)."""
    fields: dict[str, Any] = {
        "fullname": spec.fullname, "shortname": spec.shortname, "idnumber": spec.idnumber,
        "summary": spec.summary, "summaryformat": 1, "format": spec.format,
        "startdate": spec.start_date, "enddate": spec.end_date, "visible": int(spec.visible),
        "groupmode": spec.groupmode,
        "enablecompletion": int(spec.enable_completion),
    }
    if spec.lang:
        fields["lang"] = spec.lang
    return fields


def _course_changes(spec: CourseSpec, cs: CourseState, categoryid: int | None) -> list[Change]:
    c = cs.course
    observed: dict[str, Any] = {"fullname": c.fullname, "shortname": c.shortname, "idnumber": c.idnumber,
                "summary": c.summary, "format": c.format, "startdate": c.startdate, "enddate": c.enddate,
                "visible": int(c.visible), "enablecompletion": int(c.enablecompletion), "lang": c.lang,
                "groupmode": c.groupmode}
    changes = []
    for name, new in course_fields(spec).items():
        if name == "summaryformat":
            continue
        old = observed[name]
        same = _norm_html(old) == _norm_html(new) if name == "summary" else old == new
        if not same:
            changes.append(Change(name, old, new))
    if categoryid is not None and c.categoryid != categoryid:
        changes.append(Change("categoryid", c.categoryid, categoryid))
    return changes


def plan_offering(offering: OfferingSpec, observed: ObservedState) -> Plan:
    """Compare the desired offering with what Moodle has; return every action, in the order to apply."""
    plan = Plan(offering.offering_id)
    add = plan.actions.append
    prefix = offering.category_idnumber_prefix

    # Categories, parents first.
    category_ids: dict[tuple[str, ...], int | None] = {}
    for path in offering.category_paths:
        found = find_category(observed.categories, path, prefix)
        label = " / ".join(path)
        if found:
            category_ids[path] = found.id
            add(Action("category", UNCHANGED, label, f"exists (id {found.id})",
                       data={"path": path, "id": found.id}))
        else:
            category_ids[path] = None
            add(Action("category", CREATE, label, "missing", data={
                "path": path, "name": path[-1], "idnumber": category_idnumber(prefix, path)}))

    new_users: set[str] = set()
    for spec in offering.courses:
        if spec.key in observed.conflicts:  # its shortname is held by a course that is not ours: hands off
            plan.problems.append(observed.conflicts[spec.key])
            continue
        _plan_course(plan, spec, observed.courses.get(spec.key), category_ids.get(spec.category_path),
                     observed, new_users)
    return plan


def _plan_course(plan: Plan, spec: CourseSpec, cs: CourseState | None, categoryid: int | None,
                 observed: ObservedState, new_users: set[str]) -> None:
    """Every action of one course, in the order to apply: the course, its content, sections, classes and
    facilitators. ``new_users``: the e-mails of users already planned for creation (by earlier courses)."""
    _plan_course_fields(plan, spec, cs, categoryid)
    _plan_content(plan, spec, cs, observed)
    _plan_sections(plan, spec, cs)
    groups = _Groups.of(cs)
    _plan_classes(plan, spec, cs, groups)
    _plan_facilitators(plan, spec, cs, groups, observed, new_users)


def _plan_course_fields(plan: Plan, spec: CourseSpec, cs: CourseState | None, categoryid: int | None) -> None:
    """The course: created when missing, else updated where its fields differ."""
    k, add = spec.key, plan.actions.append
    if cs is None:
        reason = f"no course with idnumber {spec.idnumber} or shortname {spec.shortname}"
        add(Action("course", CREATE, k, reason, k, data={"fields": course_fields(spec), "path": spec.category_path,
                                                         "numsections": spec.numsections}))
        return
    changes = _course_changes(spec, cs, categoryid)
    add(Action("course", UPDATE if changes else UNCHANGED, k,
               f"course id {cs.course.id}" + (": fields differ" if changes else ""), k,
               tuple(changes), {"id": cs.course.id}))


def _plan_content(plan: Plan, spec: CourseSpec, cs: CourseState | None, observed: ObservedState) -> None:
    """Content imported from the master course, once: never into a course that already has some."""
    if not spec.master_course:
        return
    k, add = spec.key, plan.actions.append
    master = observed.masters.get(spec.master_course)
    ref = f"{spec.master_course.field} {spec.master_course.value}"
    if master is None:
        plan.problems.append(f"{k}: master course with {ref} not found: content cannot be imported")
    elif cs is not None and has_content(cs.sections):
        add(Action("content", UNCHANGED, k, f"course already has content (from {ref})", k))
    else:
        add(Action("content", CREATE, k, f"import content from master course {master.shortname} "
                   f"(id {master.id})", k, data={"importfrom": master.id}))


def _plan_sections(plan: Plan, spec: CourseSpec, cs: CourseState | None) -> None:
    """Section names, by number: missing sections are added, differing names set."""
    k, add = spec.key, plan.actions.append
    existing = {s.number: s for s in cs.sections} if cs else {}
    for section in spec.sections:
        label = f"{k} section {section.number}"
        have = existing.get(section.number)
        if have is None:
            add(Action("section", CREATE if cs is None else UPDATE, label,
                       "new course" if cs is None else "section missing: add sections", k,
                       (Change("name", None, section.name),),
                       {"number": section.number, "name": section.name}))
        elif have.name != section.name:
            add(Action("section", UPDATE, label, f"section id {have.id}", k,
                       (Change("name", have.name, section.name),),
                       {"number": section.number, "name": section.name, "id": have.id}))
        else:
            add(Action("section", UNCHANGED, label, f"section id {have.id}", k))


@dataclass(frozen=True)
class _Groups:
    """A course's existing groups, by idnumber and by name (a class is found by either)."""

    by_idnumber: Mapping[str, Group]
    by_name: Mapping[str, Group]

    @classmethod
    def of(cls, cs: CourseState | None) -> _Groups:
        groups = cs.groups if cs else []
        return cls({g.idnumber: g for g in groups if g.idnumber}, {g.name: g for g in groups})

    def find(self, idnumber: str, name: str) -> Group | None:
        return self.by_idnumber.get(idnumber) or self.by_name.get(name)


def _plan_classes(plan: Plan, spec: CourseSpec, cs: CourseState | None, groups: _Groups) -> None:
    """Classes (groups) and the grouping that holds them, each created when missing."""
    k, add = spec.key, plan.actions.append
    for g in spec.groups:
        have_group = groups.find(g.idnumber, g.name)
        label = f"{k} / {g.name}"
        if have_group:
            add(Action("group", UNCHANGED, label, f"group id {have_group.id}", k))
        else:
            add(Action("group", CREATE, label, "missing", k, data={
                "name": g.name, "idnumber": g.idnumber, "description": g.description}))
    if spec.grouping:
        gp = spec.grouping
        have_gp = [x for x in (cs.groupings if cs else []) if x.idnumber == gp.idnumber or x.name == gp.name]
        if have_gp:
            add(Action("grouping", UNCHANGED, f"{k} / {gp.name}", f"grouping id {have_gp[0].id}", k))
        else:
            add(Action("grouping", CREATE, f"{k} / {gp.name}", "missing", k, data={
                "name": gp.name, "idnumber": gp.idnumber, "description": gp.description}))


def _plan_facilitators(plan: Plan, spec: CourseSpec, cs: CourseState | None, groups: _Groups,
                       observed: ObservedState, new_users: set[str]) -> None:
    """Facilitators: a user (once, however many courses they lead), an enrolment with the facilitator role,
    membership of their classes."""
    k, add = spec.key, plan.actions.append
    role_id = spec.facilitator_role_id or ROLE_IDS.get(spec.facilitator_role, 3)
    enrolled = {u.email: u for u in cs.enrolled} if cs else {}
    for f in spec.facilitators:
        label = f"{k} / {f.email}"
        if observed.users.get(f.email) is None and f.email not in new_users:
            new_users.add(f.email)
            add(Action("user", CREATE, f.email, "no Moodle user with this e-mail", k, data={
                "email": f.email, "firstname": f.firstname, "lastname": f.lastname}))
        e = enrolled.get(f.email)
        if e is not None and role_id in e.role_ids:
            add(Action("enrolment", UNCHANGED, label, f"enrolled as {spec.facilitator_role}", k))
        else:
            add(Action("enrolment", CREATE, label, f"enrol as {spec.facilitator_role}", k, data={
                "email": f.email, "roleid": role_id}))
        for gid in f.groups:
            _plan_membership(plan, spec, label, f.email, gid, e, groups)


def _plan_membership(plan: Plan, spec: CourseSpec, label: str, email: str, gid: str,
                     enrolment: EnrolledUser | None, groups: _Groups) -> None:
    """A facilitator's membership of the class ``gid`` (a group idnumber of ``spec``)."""
    k, add = spec.key, plan.actions.append
    group = next((g for g in spec.groups if g.idnumber == gid), None)
    if group is None:
        plan.problems.append(f"{k}: facilitator {email} is given class {gid!r}, which the course "
                             "does not have")
        return
    have_group = groups.find(gid, group.name)
    if enrolment is not None and have_group is not None and have_group.id in enrolment.groups:
        add(Action("member", UNCHANGED, f"{label} in {group.name}", "already a member", k))
    else:
        add(Action("member", CREATE, f"{label} in {group.name}", "add to class", k, data={
            "email": email, "group_idnumber": gid, "group_name": group.name}))


# What makes an offering's classes: the groups, the grouping that holds them, and the facilitators who lead
# them (their users, enrolments as facilitators and memberships).
CLASS_KINDS = ("group", "grouping", "user", "enrolment", "member")


def class_part(plan: Plan) -> Plan:
    """The part of ``plan`` that makes the offering's classes (:data:`CLASS_KINDS`), for a run that must
    not touch anything else: existing courses stay in it only as the ids apply needs (unchanged, whatever
    their fields), and courses still to be created are left out with the actions inside them. Pure."""
    missing = {a.course_key for a in plan.of("course", CREATE)}
    actions = [replace(a, op=UNCHANGED, changes=()) if a.kind == "course" else a for a in plan.actions
               if a.course_key not in missing and (a.kind == "course" or a.kind in CLASS_KINDS)]
    return Plan(plan.offering_id, actions, list(plan.problems))


# Adopted courses ----------------------------------------------------------------------------------------
ADOPTED_REASON = "adopted: pulled as it is; plan and apply never change it"


def adopted_key(course: Course) -> str:
    """The key of an adopted course in its offering: its idnumber, else its shortname (unique in Moodle)."""
    return course.idnumber or course.shortname


def plan_adoption(offering_id: str, adopted: AdoptedState) -> Plan:
    """The plan of an offering that adopts existing courses: one ``unchanged`` action per course, saying it
    is adopted (never created, updated, given content, classes or facilitators), and the courses that
    could not be found as problems. Applying it writes nothing to Moodle."""
    plan = Plan(offering_id, problems=list(adopted.problems))
    for course, _ in adopted.courses:
        plan.actions.append(Action("course", UNCHANGED, adopted_key(course),
                                   f"{ADOPTED_REASON} (id {course.id}, {course.fullname!r})",
                                   course_key=adopted_key(course), data={"id": course.id, "adopted": True}))
    if not adopted.courses and not adopted.problems:
        plan.problems.append("adopt: the category holds no course")
    return plan


def adopted_summary(offering: Offering, adopted: AdoptedState, pretest: str | None,
                    posttest: str | None) -> dict[str, Any]:
    """What the store keeps of an adopting offering: the shape of
    :func:`~moodle_sync.provision.spec.offering_summary` (what pulls and reports read), each course with
    its Moodle id, and ``adopted`` set. ``pretest``/``posttest``: the test items (idnumber or name)."""
    return {
        "offering_id": offering.id, "title": offering.title, "template": offering.template,
        "batch": offering.batch, "seats": offering.seats, "class_size": offering.class_size,
        "min_per_regency": offering.min_per_regency, "adopted": True,
        "courses": [{"key": adopted_key(c), "idnumber": c.idnumber, "shortname": c.shortname,
                     "fullname": c.fullname, "regency": regency, "start_date": c.startdate,
                     "end_date": c.enddate, "pretest": pretest, "posttest": posttest, "groups": [],
                     "moodle_id": c.id, "adopted": True}
                    for c, regency in adopted.courses],
    }
