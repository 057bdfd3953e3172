"""Reading what a report needs from the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..evidence.model import CompletionSnapshot
from ..store.records import ParticipantRecord, SiteRecord
from .aggregate import Report
from .reach import ReachReport, reach
from .sites import SiteEvidence, SiteOfferings, combined_reach, combined_report, site_report

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


def site_evidence(store: Store, offering_id: str, site: SiteRecord | None = None) -> SiteEvidence | None:
    """What the store holds of an offering on the store's site (``site`` names it), or None when it has
    no snapshots of it."""
    snapshots = store.current(offering_id)
    if not snapshots:
        return None
    offering = store.get_offering(offering_id)
    data = offering.data if offering else {}
    return SiteEvidence(
        site_id=store.site_id, name=site.name if site else store.site_id, snapshots=snapshots,
        participants=store.participants(offering_id), history=store.history(offering_id),
        title=offering.title if offering else None, course_starts=course_starts(data),
        course_names=course_names(data), course_ends=course_ends(data))


def load_report(store: Store, offering_id: str, *, now: int, stalled_days: int = 14,
                site: SiteRecord | None = None) -> Report | None:
    """The report of an offering from the store (of the store's site: ``site`` names it in the report), or
    None when the store has no snapshots of it."""
    evidence = site_evidence(store, offering_id, site)
    if evidence is None:
        return None
    built = site_report(offering_id, evidence, now=now, stalled_days=stalled_days)
    return built if site is not None else replace(built, site_id=None, site_name=None)


def named(stores: Sequence[tuple[SiteRecord, Store]]) -> list[tuple[SiteRecord, Store]]:
    """The centres with names people can tell apart: a name several of them share (or none) gets the site
    id ("BGTK Test Moodle (127.0.0.1:8001)")."""
    shared = Counter(site.name for site, _ in stores)
    return [(site if site.name and shared[site.name] == 1 else
             replace(site, name=f"{site.name} ({site.site_id})" if site.name else site.site_id), store)
            for site, store in stores]


def load_sites_report(stores: Sequence[tuple[SiteRecord, Store]], offering_id: str, *, now: int,
                      stalled_days: int = 14) -> Report | None:
    """The report of an offering over every given centre that has evidence of it (figures together, per
    centre, and each centre's own: :func:`~.sites.combined_report`); None when none has."""
    parts = [e for site, store in named(stores) if (e := site_evidence(store, offering_id, site)) is not None]
    return combined_report(offering_id, parts, now=now, stalled_days=stalled_days) if parts else None


def offering_year(data: Mapping[str, Any]) -> int | None:
    """The year (WIB) an offering ran: of its earliest course start in its saved data; None when unknown."""
    from .aggregate import day_of

    starts = list(course_starts(data).values())
    return int(day_of(min(starts))[:4]) if starts else None


def reach_scope(programme: str | None, year: int | None) -> str:
    """What a pemerataan covers, in words: the programme and/or the year."""
    return " ".join(part for part in (programme, str(year) if year is not None else None) if part)


def reach_evidence(store: Store, *, programme: str | None = None, year: int | None = None
                   ) -> dict[str, tuple[list[ParticipantRecord], list[CompletionSnapshot]]]:
    """The store's site's offerings of a programme (their template) and/or a year (see
    :func:`offering_year`): offering id -> its participant records and current snapshots."""
    return {o.offering_id: (store.participants(o.offering_id), store.current(o.offering_id))
            for o in store.offerings()
            if (programme is None or o.template == programme) and (year is None or offering_year(o.data) == year)}


def load_reach(store: Store, *, programme: str | None = None, year: int | None = None,
               site: SiteRecord | None = None) -> ReachReport | None:
    """Pemerataan over the offerings of a programme and/or a year on the store's site (``site`` names it),
    from the store; None when no offering matches."""
    chosen = reach_evidence(store, programme=programme, year=year)
    if not chosen:
        return None
    built = reach(reach_scope(programme, year), chosen)
    return replace(built, site_id=site.site_id, site_name=site.name) if site else built


def load_sites_reach(stores: Sequence[tuple[SiteRecord, Store]], *, programme: str | None = None,
                     year: int | None = None) -> ReachReport | None:
    """Pemerataan over every given centre's matching offerings (people counted once over all of them), with
    each centre's own; None when no centre has a matching offering."""
    parts = [SiteOfferings(site.site_id, site.name, chosen) for site, store in named(stores)
             if (chosen := reach_evidence(store, programme=programme, year=year))]
    return combined_reach(reach_scope(programme, year), parts) if parts else None
