"""Read what Moodle has for an offering: the observed state the planner compares with the desired one.

Reads are few and concurrent: all categories in one call, the courses of each target category in one
call each (then by idnumber, then shortname, only for courses not found there), and per existing course
its sections, groups, groupings and enrolled users, read concurrently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..ws.moodle import Course, Moodle, all_read
from .spec import CourseSpec, MasterCourseRef, OfferingSpec
from .state import AdoptedState, CourseState, ObservedState, adoptable, find_category, shortname_conflict

if TYPE_CHECKING:
    from ..offerings import Adoption


def observe(moodle: Moodle, offering: OfferingSpec) -> ObservedState:
    """Read the observed state of everything ``offering`` describes. Raises what the reads raise."""
    state = ObservedState(categories=moodle.categories())
    prefix = offering.category_idnumber_prefix
    target = {s.key: c.id for s in offering.courses
              if (c := find_category(state.categories, s.category_path, prefix)) is not None}
    existing = _match_courses(moodle, offering, state, target)
    for (key, _), course_state in zip(existing, all_read(moodle.map_reads(_course_reader(moodle), existing))):
        state.courses[key] = course_state
    emails = sorted({f.email for s in offering.courses for f in s.facilitators})
    state.users = {u.email: u for u in moodle.users_by_field("email", emails)} if emails else {}
    state.masters = _masters(moodle, offering)
    return state


def _match_courses(moodle: Moodle, offering: OfferingSpec, state: ObservedState,
                   target: Mapping[str, int]) -> list[tuple[str, Course]]:
    """The existing course of each spec, as (course key, course); a course holding a spec's shortname that
    is not ours goes to ``state.conflicts`` instead. ``target``: the category id of each course key."""
    candidates: dict[str, Course] = {}
    for courses in all_read(moodle.map_reads(moodle.courses_in_category, sorted(set(target.values())))):
        for course in courses:
            candidates.setdefault(f"idnumber:{course.idnumber}", course)
            candidates.setdefault(f"shortname:{course.shortname}", course)

    def lookup(spec: CourseSpec) -> Course | str | None:
        found = candidates.get(f"idnumber:{spec.idnumber}") if spec.idnumber else None
        if found is None and spec.idnumber:
            found = next(iter(moodle.courses_by_field("idnumber", spec.idnumber)), None)
        if found is not None:
            return found
        found = candidates.get(f"shortname:{spec.shortname}")
        if found is None:
            found = next(iter(moodle.courses_by_field("shortname", spec.shortname)), None)
        if found is None or adoptable(found, spec, target.get(spec.key)):
            return found
        return shortname_conflict(spec, found, state.categories)

    existing: list[tuple[str, Course]] = []
    for spec, result in zip(offering.courses, all_read(moodle.map_reads(lookup, offering.courses))):
        if isinstance(result, str):
            state.conflicts[spec.key] = result
        elif result is not None:
            existing.append((spec.key, result))
    return existing


def _course_reader(moodle: Moodle) -> Callable[[tuple[str, Course]], CourseState]:
    """Reads one existing course's sections, groups, groupings and enrolled users."""
    def details(item: tuple[str, Course]) -> CourseState:
        _, course = item
        return CourseState(course, moodle.sections(course.id), moodle.groups(course.id),
                           moodle.groupings(course.id), moodle.enrolled_users(course.id))
    return details


def _masters(moodle: Moodle, offering: OfferingSpec) -> dict[MasterCourseRef, Course | None]:
    """Each master course the offering names, or ``None`` where Moodle has none."""
    refs = sorted({s.master_course for s in offering.courses if s.master_course},
                  key=lambda m: (m.field, m.value))

    def master(ref: MasterCourseRef) -> Course | None:
        found = moodle.courses_by_field(ref.field, ref.value)
        return found[0] if found else None

    return dict(zip(refs, all_read(moodle.map_reads(master, refs))))


def observe_adopted(moodle: Moodle, adoption: Adoption) -> AdoptedState:
    """Read the courses ``adoption`` names: each idnumber (one call each, concurrently) and every course of
    its category (the categories, then one call). Each course once, in the order named (the category's by
    id); an idnumber or category Moodle lacks is a problem, named. Raises what the reads raise."""
    state = AdoptedState()
    found = all_read(moodle.map_reads(lambda idnumber: moodle.courses_by_field("idnumber", idnumber),
                                  [i for i, _ in adoption.idnumbers]))
    seen: set[int] = set()
    for (idnumber, regency), result in zip(adoption.idnumbers, found):
        if not result:
            state.problems.append(f"adopt: no course has the idnumber {idnumber!r}")
        elif result[0].id not in seen:
            seen.add(result[0].id)
            state.courses.append((result[0], regency))
    if adoption.category:
        category = find_category(moodle.categories(), adoption.category, "")
        if category is None:
            state.problems.append(f"adopt: no category {' / '.join(adoption.category)!r}")
        else:
            for course in sorted(moodle.courses_in_category(category.id), key=lambda c: c.id):
                if course.id not in seen:
                    seen.add(course.id)
                    state.courses.append((course, None))
    return state


__all__ = ["observe", "observe_adopted"]
