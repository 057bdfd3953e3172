"""Reading what a report needs from the store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .aggregate import ReachReport, Report, build_report, reach

if TYPE_CHECKING:
    from ..store import Store


def course_starts(data: Mapping[str, Any]) -> dict[str, int]:
    """Course start dates (Unix seconds) by course key, from an offering's saved data: each entry of
    ``data["courses"]`` with a ``key`` and a positive ``start_date`` (the shape of a rendered
    :class:`~moodle_sync.provision.spec.OfferingSpec`). Anything else gives nothing."""
    out: dict[str, int] = {}
    courses = data.get("courses")
    if isinstance(courses, (list, tuple)):
        for course in courses:
            if isinstance(course, Mapping) and isinstance(course.get("key"), str):
                start = course.get("start_date")
                if isinstance(start, int) and not isinstance(start, bool) and start > 0:
                    out[course["key"]] = start
    return out


def course_names(data: Mapping[str, Any]) -> dict[str, str]:
    """What people call each course of an offering's saved data, by key: the regency's official name for a
    course serving one regency in an offering of several courses, else the course's full name."""
    from ..regions import BY_SLUG

    courses = [c for c in data.get("courses") or [] if isinstance(c, Mapping) and isinstance(c.get("key"), str)]
    out: dict[str, str] = {}
    for c in courses:
        regency = BY_SLUG.get(c.get("regency") or "")
        name = regency.name if regency is not None and len(courses) > 1 and not c.get("adopted") else c.get("fullname")
        if isinstance(name, str) and name:
            out[c["key"]] = name
    return out


def course_ends(data: Mapping[str, Any]) -> dict[str, int]:
    """Course end dates (Unix seconds, positive ones only) by course key, from an offering's saved data."""
    return {c["key"]: c["end_date"] for c in data.get("courses") or []
            if isinstance(c, Mapping) and isinstance(c.get("key"), str) and isinstance(c.get("end_date"), int)
            and not isinstance(c.get("end_date"), bool) and c["end_date"] > 0}


def load_report(store: Store, offering_id: str, *, now: int, stalled_days: int = 14) -> Report | None:
    """The report of an offering from the store, or None when the store has no snapshots of it."""
    snapshots = store.current(offering_id)
    if not snapshots:
        return None
    offering = store.get_offering(offering_id)
    return build_report(
        offering_id, snapshots, store.participants(offering_id), store.history(offering_id), now=now,
        title=offering.title if offering else None, stalled_days=stalled_days,
        course_starts=course_starts(offering.data) if offering else None,
        course_names=course_names(offering.data) if offering else None,
        course_ends=course_ends(offering.data) if offering else None)


def offering_year(data: Mapping[str, Any]) -> int | None:
    """The year (WIB) an offering ran: of its earliest course start in its saved data; None when unknown."""
    from .aggregate import day_of

    starts = list(course_starts(data).values())
    return int(day_of(min(starts))[:4]) if starts else None


def load_reach(store: Store, *, programme: str | None = None, year: int | None = None) -> ReachReport | None:
    """Pemerataan over the offerings of a programme (their template) and/or a year (see :func:`offering_year`),
    from the store; None when no offering matches."""
    chosen = [o for o in store.offerings()
              if (programme is None or o.template == programme) and (year is None or offering_year(o.data) == year)]
    if not chosen:
        return None
    scope = " ".join(part for part in (programme, str(year) if year is not None else None) if part)
    return reach(scope, {o.offering_id: (store.participants(o.offering_id), store.current(o.offering_id))
                         for o in chosen})
