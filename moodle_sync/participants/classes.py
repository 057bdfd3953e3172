"""Splitting selected participants into classes (Moodle groups) per course.

For each course (``course_of(applicant)``, default ``"main"``) the participants are put in the fewest
classes of at most ``class_size``, whose sizes differ by at most one, keeping a regency and then a school
together where possible: regencies are packed largest first into the class with the least room that holds
them (first-fit decreasing); a regency too big for any class fills the roomiest class, whole schools first,
and its rest is placed the same way. Within a class, members are ordered by regency, school, name; classes
are named in the order of their first member: "Kelas A", "Kelas B", ... "Kelas Z", "Kelas AA", ...
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .model import Applicant
from .selection import Placement

__all__ = ["ClassGroup", "assign_classes", "class_code"]


@dataclass(frozen=True)
class ClassGroup:
    """One class of a course: its ``code`` ("A"), ``name`` ("Kelas A") and members in order."""

    course: str
    code: str
    name: str
    members: tuple[Applicant, ...]

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def regencies(self) -> tuple[str, ...]:
        """The regency slugs in this class, largest group first."""
        counts: dict[str, int] = {}
        for a in self.members:
            counts[a.regency] = counts.get(a.regency, 0) + 1
        return tuple(sorted(counts, key=lambda r: (-counts[r], r)))


def class_code(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA", 27 -> "AB" (spreadsheet-column style)."""
    if index < 0:
        raise ValueError("index must not be negative")
    code = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        code = chr(ord("A") + rest) + code
    return code


def _school_key(a: Applicant) -> str:
    return a.npsn or " ".join((a.school or "").casefold().split()) or "~"


def _member_key(a: Applicant) -> tuple[str, str, str, str]:
    return (a.regency, _school_key(a), a.fullname.casefold(), a.email)


def _groups(members: Sequence[Applicant], key: Callable[[Applicant], str]) -> list[list[Applicant]]:
    """Members grouped by ``key``, largest group first (ties by key), each group in member order."""
    groups: dict[str, list[Applicant]] = {}
    for a in sorted(members, key=_member_key):
        groups.setdefault(key(a), []).append(a)
    return [groups[k] for k in sorted(groups, key=lambda k: (-len(groups[k]), k))]


def _pack(members: Sequence[Applicant], capacities: Sequence[int]) -> list[list[Applicant]]:
    """First-fit-decreasing of regencies into classes of exactly ``capacities`` (which sum to the members).

    A regency goes whole into the class with the least room that holds it. One that fits nowhere fills
    the class with the most room, with whole schools first (largest first) and then part of the next
    school; the rest of the regency is placed the same way.
    """
    rooms = list(capacities)
    classes: list[list[Applicant]] = [[] for _ in capacities]
    for group in _groups(members, lambda a: a.regency):
        while group:
            fits = [i for i, room in enumerate(rooms) if room >= len(group)]
            if fits:
                i = min(fits, key=lambda i: (rooms[i], i))
                classes[i] += group
                rooms[i] -= len(group)
                break
            i = max(range(len(rooms)), key=lambda i: (rooms[i], -i))
            room = rooms[i]
            chosen: list[Applicant] = []
            rest: list[list[Applicant]] = []
            for school in _groups(group, _school_key):
                if len(school) <= room - len(chosen):
                    chosen += school
                else:
                    rest.append(school)
            if len(chosen) < room:
                take = room - len(chosen)
                chosen += rest[0][:take]
                rest[0] = rest[0][take:]
            classes[i] += chosen
            rooms[i] = 0
            group = sorted((a for school in rest for a in school), key=_member_key)
    return classes


def assign_classes(selected: Iterable[Applicant | Placement], *, class_size: int,
                   course_of: Callable[[Applicant], str] = lambda a: "main",
                   prefix: str = "Kelas") -> dict[str, tuple[ClassGroup, ...]]:
    """Classes per course key (sorted), each of at most ``class_size`` members, as the module describes.

    Accepts applicants or placements (their applicant is used). Raises ``ValueError`` if ``class_size`` is
    below 1 or the same e-mail appears twice.
    """
    if class_size < 1:
        raise ValueError("class_size must be at least 1")
    people = [p.applicant if isinstance(p, Placement) else p for p in selected]
    if len({a.email for a in people}) != len(people):
        raise ValueError("the same e-mail appears twice among the participants")
    by_course: dict[str, list[Applicant]] = {}
    for a in people:
        by_course.setdefault(course_of(a), []).append(a)
    result: dict[str, tuple[ClassGroup, ...]] = {}
    for course in sorted(by_course):
        members = sorted(by_course[course], key=_member_key)
        k = math.ceil(len(members) / class_size)
        base, extra = divmod(len(members), k)
        packed = _pack(members, [base + 1] * extra + [base] * (k - extra))
        packed = sorted((sorted(c, key=_member_key) for c in packed), key=lambda c: _member_key(c[0]))
        result[course] = tuple(ClassGroup(course, class_code(i), f"{prefix} {class_code(i)}", tuple(c))
                               for i, c in enumerate(packed))
    return result
