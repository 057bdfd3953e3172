"""Reading what a report needs from the store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from .aggregate import Report, build_report

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


def load_report(store: Store, offering_id: str, *, now: int, stalled_days: int = 14) -> Report | None:
    """The report of an offering from the store, or None when the store has no snapshots of it."""
    snapshots = store.current(offering_id)
    if not snapshots:
        return None
    offering = store.get_offering(offering_id)
    return build_report(
        offering_id, snapshots, store.participants(offering_id), store.history(offering_id), now=now,
        title=offering.title if offering else None, stalled_days=stalled_days,
        course_starts=course_starts(offering.data) if offering else None)
