"""What was observed in Moodle for an offering, and the pure rules that match it to the desired state:
which category is the offering's, which course may be taken as ours, whether a course has content.
No I/O: :mod:`.observe` reads these from Moodle; :mod:`.plan` compares them with the desired state."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ws.moodle import Category, Course, EnrolledUser, Group, Grouping, Section, User
from .spec import CourseSpec, MasterCourseRef


@dataclass
class CourseState:
    """An existing course of the offering as Moodle has it: the course and what inside it we own."""

    course: Course
    sections: list[Section]
    groups: list[Group]
    groupings: list[Grouping]
    enrolled: list[EnrolledUser]


@dataclass
class ObservedState:
    """Everything an offering describes, as Moodle has it (read by :func:`~.observe.observe`)."""

    categories: list[Category] = field(default_factory=list)
    courses: dict[str, CourseState] = field(default_factory=dict)       # by course key
    users: dict[str, User] = field(default_factory=dict)                # facilitators, by e-mail
    masters: dict[MasterCourseRef, Course | None] = field(default_factory=dict)
    # Courses found by shortname only that are not safe to adopt: the reason, by course key.
    conflicts: dict[str, str] = field(default_factory=dict)


@dataclass
class AdoptedState:
    """The existing courses an offering adopts, as Moodle has them, with what could not be found."""

    courses: list[tuple[Course, str | None]] = field(default_factory=list)   # (course, regency slug or None)
    problems: list[str] = field(default_factory=list)


def category_idnumber(prefix: str, path: tuple[str, ...]) -> str:
    """The idnumber we give a category we create: stable for its path, readable, <= 100 chars."""
    slug = "/".join("-".join(part.lower().split()) for part in path)
    return f"{prefix}:{slug}"[:100]


def find_category(categories: list[Category], path: tuple[str, ...], prefix: str) -> Category | None:
    """The category at ``path``: ours by idnumber first, else one with the same names from the root."""
    wanted = category_idnumber(prefix, path)
    for c in categories:
        if c.idnumber == wanted:
            return c
    parent_id = 0
    found: Category | None = None
    for depth, name in enumerate(path):
        parent_here = parent_id
        matches = [c for c in categories if c.parent == parent_here and c.name.strip() == name.strip()]
        if depth == len(path) - 1:
            ours = [c for c in matches if c.idnumber == category_idnumber(prefix, path[:depth + 1])]
            matches = ours or matches
        if not matches:
            return None
        found = min(matches, key=lambda c: c.id)
        parent_id = found.id
    return found


def adoptable(course: Course, spec: CourseSpec, categoryid: int | None) -> bool:
    """Whether a course found by ``spec``'s shortname only (no course has its idnumber) may be taken as ours:
    its idnumber is empty or ours, and it sits in the spec's category. Anything else belongs to someone
    else (another offering, a hand-made course) and must never be updated."""
    return course.idnumber in ("", spec.idnumber) and categoryid is not None and course.categoryid == categoryid


def shortname_conflict(spec: CourseSpec, course: Course, categories: list[Category]) -> str:
    """The conflict to report for a course that holds ``spec``'s shortname and is not ours (see
    :func:`adoptable`)."""
    where = next((c.name for c in categories if c.id == course.categoryid), f"category id {course.categoryid}")
    idnumber = f"idnumber {course.idnumber!r}" if course.idnumber else "no idnumber"
    return (f"{spec.key}: shortname {spec.shortname!r} is taken by course id {course.id} ({course.fullname!r}, "
            f"{idnumber}, in {where!r}), which is not this offering's course ({spec.idnumber!r} in "
            f"{' / '.join(spec.category_path)!r}): not adopted, not updated. Rename one of them, or give that "
            "course our idnumber if it truly is ours")


def has_content(sections: list[Section]) -> bool:
    """True when the course holds activities beyond the announcements forum Moodle adds itself."""
    return any(m.modname != "forum" or s.number != 0 for s in sections for m in s.modules)


__all__ = [
    "AdoptedState",
    "CourseState",
    "ObservedState",
    "adoptable",
    "category_idnumber",
    "find_category",
    "has_content",
    "shortname_conflict",
]
