"""Reports over several centres (Moodle sites) that run the same offering or programme. Pure.

Figures together are computed from the union of the centres' rows, never by averaging their percentages:
each centre's snapshots are first completed from its own participant records (:func:`~.aggregate.enrich`),
then joined. Courses, their classes and their Moodle ids belong to one centre, so in the joined rows a
course key is qualified with its centre (``site_id/key``) and labelled with the centre's name; regencies and
school levels are shared and add up across centres. Each centre's own report is kept beside the total
(``Report.sites``), and the total gets a ``site`` breakdown: one row per centre.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..evidence.model import CompletionSnapshot
from ..store.records import ParticipantRecord
from .aggregate import Report, build_report, enrich, report_of_rows
from .reach import ReachReport, reach

SITE = "site"
"""The breakdown of a report over several centres: one group per centre (``group`` its site id)."""


@dataclass(frozen=True)
class SiteEvidence:
    """What one centre's store holds of an offering: its rows and the offering's saved course data."""

    site_id: str
    name: str
    snapshots: Sequence[CompletionSnapshot]
    participants: Sequence[ParticipantRecord] = ()
    history: Sequence[CompletionSnapshot] = ()
    title: str | None = None
    course_starts: Mapping[str, int] = field(default_factory=dict)
    course_names: Mapping[str, str] = field(default_factory=dict)
    course_ends: Mapping[str, int] = field(default_factory=dict)


def site_report(offering_id: str, evidence: SiteEvidence, *, now: int, stalled_days: int = 14) -> Report:
    """The report of one centre's evidence, naming the centre."""
    built = build_report(
        offering_id, evidence.snapshots, evidence.participants, evidence.history, now=now, title=evidence.title,
        stalled_days=stalled_days, course_starts=evidence.course_starts, course_names=evidence.course_names,
        course_ends=evidence.course_ends)
    return replace(built, site_id=evidence.site_id, site_name=evidence.name)


def qualified(site_id: str, course_key: str) -> str:
    """A course key made unique across centres."""
    return f"{site_id}/{course_key}"


def _joined_rows(parts: Sequence[SiteEvidence], *, history: bool) -> list[CompletionSnapshot]:
    """Every centre's enriched rows (current, or ``history`` without withdrawals), course keys qualified."""
    return [replace(s, course_key=qualified(p.site_id, s.course_key))
            for p in parts
            for s in (enrich(p.history, p.participants, withdrawals=False) if history
                      else enrich(p.snapshots, p.participants))]


def _joined_names(parts: Sequence[SiteEvidence]) -> dict[str, str]:
    """Each qualified course key's label: the centre's name, then the course's name (or key)."""
    return {qualified(p.site_id, s.course_key): f"{p.name} / {p.course_names.get(s.course_key, s.course_key)}"
            for p in parts for s in p.snapshots}


def combined_report(offering_id: str, parts: Sequence[SiteEvidence], *, now: int,
                    stalled_days: int = 14) -> Report:
    """The report of an offering over several centres: figures together from the union of their rows,
    a ``site`` breakdown (one row per centre, in the order given) and each centre's own report in
    ``sites``. Raises ``ValueError`` when ``parts`` is empty."""
    if not parts:
        raise ValueError("a report over centres needs at least one centre")
    own = [site_report(offering_id, p, now=now, stalled_days=stalled_days) for p in parts]
    starts = {qualified(p.site_id, k): v for p in parts for k, v in p.course_starts.items()}
    ends = {qualified(p.site_id, k): v for p in parts for k, v in p.course_ends.items()}
    together = report_of_rows(
        offering_id, _joined_rows(parts, history=False), [person for p in parts for person in p.participants],
        _joined_rows(parts, history=True), now=now, title=next((p.title for p in parts if p.title), None),
        stalled_days=stalled_days, course_starts=starts, course_names=_joined_names(parts), course_ends=ends)
    per_site = [replace(r.total, group=r.site_id, label=r.site_name) for r in own]
    return replace(together, breakdowns={SITE: per_site, **together.breakdowns}, sites=own)


@dataclass(frozen=True)
class SiteOfferings:
    """One centre's offerings for pemerataan: offering id -> its participant records and current snapshots."""

    site_id: str
    name: str
    offerings: Mapping[str, tuple[Sequence[ParticipantRecord], Sequence[CompletionSnapshot]]]


def combined_reach(scope: str, parts: Sequence[SiteOfferings]) -> ReachReport:
    """Pemerataan over several centres: people counted once over all of them (by NUPTK, else e-mail), the
    offerings named ``centre: offering``, and each centre's own pemerataan in ``sites``."""
    joined = {f"{p.name}: {offering}": evidence for p in parts for offering, evidence in p.offerings.items()}
    own = [replace(reach(scope, p.offerings), site_id=p.site_id, site_name=p.name) for p in parts]
    return replace(reach(scope, joined), sites=own)
