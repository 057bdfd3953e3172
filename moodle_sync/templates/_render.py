"""Rendering an offering through a template into the desired state (:class:`OfferingSpec`). Pure: no I/O.

Each course is rendered with this context (all names usable in any Jinja string or file)::

    offering   id, title, batch, start, end (dates), start_ts, end_ts, year, seats, class_size,
               min_per_regency, mode, category (list), course_count
    course     key, name, short, seats, classes; then idnumber, shortname, fullname as rendered
               (rendered in that order, so shortname may use course.idnumber)
    regency    code, kind, short, slug, name — or None for a single course (use course.short/name)
    variables  the template's variables, overridden by the offering's
    template   name, title
  and, for group names: letter (A, B, ...), number (1, 2, ...); for the summary and section/group
  descriptions: sections, groups, grouping, facilitators (lists of dicts).
Filters: the Jinja built-ins, plus ``tanggal`` (a date in Indonesian: "6 Juli 2026").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..provision.spec import (
    CourseSpec,
    FacilitatorSpec,
    GroupingSpec,
    GroupSpec,
    MasterCourseRef,
    OfferingSpec,
    SectionSpec,
)
from ..regions import Regency
from ._jinja import Renderer, letters
from ._yaml import display_path
from .model import GroupTemplate, Pattern, Template
from .problems import Problem, TemplateError

if TYPE_CHECKING:
    from ..offerings import Facilitator, Offering

SHORTNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
IDNUMBER_RE = SHORTNAME_RE
MAX_SHORTNAME, MAX_IDNUMBER, MAX_FULLNAME, MAX_NAME = 100, 100, 254, 254
SINGLE_NAME, SINGLE_SHORT = "Provinsi Lampung", "Lampung"


def render_offering(offering: Offering, template: Template) -> OfferingSpec:
    """The desired state of ``offering`` rendered through ``template`` (already loaded): one
    :class:`CourseSpec` per course key, in the offering's order. Pure and deterministic.

    Raises :class:`TemplateError` naming file:line: field for a Jinja error (e.g. an undefined variable),
    and listing every rendered value that is invalid (shortname format, duplicates, unknown classes).
    """
    if template.abstract:
        raise TemplateError([Problem(display_path(template.source.file), None, "abstract",
                                     f"template {template.name!r} is abstract: render a template that "
                                     "extends it")])
    renderer = Renderer(template.files)
    variables = {**template.variables, **offering.variables}
    base = {
        "offering": _offering_context(offering),
        "variables": variables,
        "template": {"name": template.name, "title": template.title},
    }
    problems: list[Problem] = []
    courses = [_render_course(offering, template, renderer, base, key, problems)
               for key in offering.course_keys]
    problems += _duplicates(template, courses)
    if problems:
        raise TemplateError(_condense(problems))
    return OfferingSpec(offering_id=offering.id, title=offering.title, template=template.name,
                        batch=offering.batch, courses=tuple(courses), seats=offering.seats,
                        class_size=offering.class_size, min_per_regency=offering.min_per_regency,
                        variables=variables)


def _offering_context(offering: Offering) -> dict[str, Any]:
    return {
        "id": offering.id, "title": offering.title, "batch": offering.batch, "start": offering.start,
        "end": offering.end, "start_ts": offering.start_ts, "end_ts": offering.end_ts,
        "year": offering.start.year, "seats": offering.seats, "class_size": offering.class_size,
        "min_per_regency": offering.min_per_regency, "mode": offering.mode,
        "category": list(offering.category), "course_count": len(offering.course_keys),
    }


def _regency_context(regency: Regency) -> dict[str, str]:
    return {"code": regency.code, "kind": regency.kind, "short": regency.short, "slug": regency.slug,
            "name": regency.name}


def _render_course(offering: Offering, template: Template, renderer: Renderer, base: Mapping[str, Any],
                   key: str, problems: list[Problem]) -> CourseSpec:
    assert template.fullname and template.shortname and template.idnumber and template.master
    regency = next((r for r in offering.regencies if r.slug == key), None) if offering.mode != "single" else None
    course: dict[str, Any] = {
        "key": key, "name": regency.name if regency else SINGLE_NAME,
        "short": regency.short if regency else SINGLE_SHORT,
        "seats": offering.seats_for(key), "classes": offering.classes_for(key),
    }
    context: dict[str, Any] = {**base, "course": course,
                               "regency": _regency_context(regency) if regency else None}
    course["idnumber"] = _checked(renderer.render(template.idnumber, context), template.idnumber, key, problems,
                                  regex=IDNUMBER_RE, limit=MAX_IDNUMBER)
    if course["idnumber"] and offering.id.lower() not in course["idnumber"].lower():
        problems.append(_problem(template.idnumber, f"renders to {course['idnumber']!r} for course {key!r}, "
                                 f"which does not contain the offering id {offering.id!r}: courses of two "
                                 "offerings could share an idnumber"))
    course["shortname"] = _checked(renderer.render(template.shortname, context), template.shortname, key,
                                   problems, regex=SHORTNAME_RE, limit=MAX_SHORTNAME)
    course["fullname"] = _checked(renderer.render(template.fullname, context), template.fullname, key, problems,
                                  limit=MAX_FULLNAME)
    sections = tuple(SectionSpec(s.number, _checked(renderer.render(s.name, context), s.name, key, problems,
                                                    limit=MAX_NAME),
                                 renderer.render(s.summary, context, html=True) if s.summary else "")
                     for s in template.sections)
    groups = tuple(_render_groups(offering, template.groups, renderer, context, key, problems))
    grouping = (GroupingSpec(*_render_group(template.grouping, renderer, context, key, problems))
                if template.grouping else None)
    facilitators = _facilitators(offering, key, groups, problems)
    context.update(
        sections=[{"number": s.number, "name": s.name} for s in sections],
        groups=[{"name": g.name, "idnumber": g.idnumber, "letter": letters(i)} for i, g in enumerate(groups)],
        grouping={"name": grouping.name, "idnumber": grouping.idnumber} if grouping else None,
        facilitators=[{"name": f.firstname if f.lastname == "-" else f"{f.firstname} {f.lastname}",
                       "email": f.email} for f in facilitators],
    )
    summary = ""
    if template.summary is not None:
        summary = renderer.render_file(template.summary.source, context, field="summary",
                                       file=template.summary.file, line=template.summary.line)
    master = MasterCourseRef(template.master.field, _checked(renderer.render(template.master.value, context),
                                                             template.master.value, key, problems))
    return CourseSpec(
        key=key, fullname=course["fullname"], shortname=course["shortname"], idnumber=course["idnumber"],
        category_path=offering.category, summary=summary, format=template.format,
        start_date=offering.start_ts, end_date=offering.end_ts,
        visible=template.visible if offering.visible is None else offering.visible, lang=template.lang,
        enable_completion=template.enable_completion, sections=sections, master_course=master, groups=groups,
        grouping=grouping, facilitators=facilitators, facilitator_role=template.facilitator_role,
        regency=regency.slug if regency else None, evidence=template.evidence)


def _render_groups(offering: Offering, pattern: GroupTemplate | None, renderer: Renderer,
                   context: Mapping[str, Any], key: str, problems: list[Problem]) -> list[GroupSpec]:
    if pattern is None:
        return []
    groups = []
    for i in range(offering.classes_for(key)):
        group_context = {**context, "letter": letters(i), "number": i + 1}
        groups.append(GroupSpec(*_render_group(pattern, renderer, group_context, key, problems)))
    for attr, field_pattern in (("name", pattern.name), ("idnumber", pattern.idnumber)):
        seen: set[str] = set()
        for g in groups:
            value = getattr(g, attr).casefold()
            if value and value in seen:
                problems.append(_problem(field_pattern, f"two classes of course {key!r} render to "
                                         f"{getattr(g, attr)!r}: use {{{{ letter }}}} in it"))
                break
            seen.add(value)
    return groups


def _render_group(pattern: GroupTemplate, renderer: Renderer, context: Mapping[str, Any], key: str,
                  problems: list[Problem]) -> tuple[str, str, str]:
    """(name, idnumber, description) of one group or grouping."""
    name = _checked(renderer.render(pattern.name, context), pattern.name, key, problems, limit=MAX_NAME)
    idnumber = _checked(renderer.render(pattern.idnumber, context), pattern.idnumber, key, problems,
                        regex=IDNUMBER_RE, limit=MAX_IDNUMBER)
    description = renderer.render(pattern.description, context, html=True) if pattern.description else ""
    return name, idnumber, description


def _facilitators(offering: Offering, key: str, groups: tuple[GroupSpec, ...],
                  problems: list[Problem]) -> tuple[FacilitatorSpec, ...]:
    """Facilitators of course ``key``, one per person, with the idnumbers of the classes they lead."""
    people: dict[str, tuple[Facilitator, list[str]]] = {}
    for f in offering.facilitators:
        if f.course != key:
            continue
        led = people.setdefault(f.email, (f, []))[1]
        if f.class_ref is None:
            continue
        group = _find_group(f, groups)
        if group is None:
            available = ", ".join(g.name for g in groups) or "none"
            problems.append(Problem(f.file, f.row, "class", f"no class {f.class_ref!r} in course {key!r} "
                                    f"(classes: {available})"))
        elif group.idnumber not in led:
            led.append(group.idnumber)
    return tuple(FacilitatorSpec(f.email, f.firstname, f.lastname, tuple(led)) for f, led in people.values())


def _find_group(facilitator: Facilitator, groups: tuple[GroupSpec, ...]) -> GroupSpec | None:
    letter = facilitator.class_letter
    if letter is not None:
        index = next((i for i in range(len(groups)) if letters(i) == letter), None)
        if index is not None:
            return groups[index]
    wanted = " ".join((facilitator.class_ref or "").split()).casefold()
    return next((g for g in groups if " ".join(g.name.split()).casefold() == wanted), None)


def _checked(value: str, pattern: Pattern, key: str, problems: list[Problem], *,
             regex: re.Pattern[str] | None = None, limit: int | None = None) -> str:
    """``value`` (rendered from ``pattern``) after checking it is non-empty, within ``limit`` and matching
    ``regex``; each failure is added to ``problems``."""
    if not value:
        problems.append(_problem(pattern, f"renders to an empty text for course {key!r}"))
    elif limit is not None and len(value) > limit:
        problems.append(_problem(pattern, f"renders to {len(value)} characters for course {key!r} "
                                 f"(at most {limit}): {value[:60]!r}..."))
    elif regex is not None and not regex.match(value):
        problems.append(_problem(pattern, f"renders to {value!r} for course {key!r}: use only letters, "
                                 "digits, '.', '_' and '-' (no spaces), starting with a letter or digit"))
    return value


def _condense(problems: list[Problem]) -> list[Problem]:
    """One problem per place (file, line, field): the same mistake usually shows in every course."""
    first: dict[tuple[str, int | None, str], Problem] = {}
    more: dict[tuple[str, int | None, str], int] = {}
    for p in problems:
        place = (p.file, p.line, p.field)
        if place in first:
            more[place] = more.get(place, 0) + 1
        else:
            first[place] = p
    return [Problem(p.file, p.line, p.field, f"{p.message} (and {more[place]} more like it)")
            if place in more else p for place, p in first.items()]


def _problem(pattern: Pattern, message: str) -> Problem:
    return Problem(pattern.file, pattern.line, pattern.field, message)


def _duplicates(template: Template, courses: list[CourseSpec]) -> list[Problem]:
    problems: list[Problem] = []
    for attr, pattern in (("shortname", template.shortname), ("idnumber", template.idnumber)):
        seen: dict[str, str] = {}
        for course in courses:
            value = getattr(course, attr)
            if not value:
                continue
            if value.casefold() in seen:
                assert pattern is not None
                problems.append(_problem(pattern, f"courses {seen[value.casefold()]!r} and {course.key!r} both "
                                         f"render to {value!r}: use {{{{ course.key }}}} in it"))
            else:
                seen[value.casefold()] = course.key
    return problems
