"""Pemerataan: who applied, was selected and completed, per regency and per school level, over several
offerings (of a programme, a year, one centre or several). Pure.

People are counted once per row however many of the offerings they are in: by NUPTK, else e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..evidence.model import CompletionSnapshot
from ..store.records import ParticipantRecord, normalise_email
from .aggregate import enrich, order_of, regency_name, with_sites

SELECTED_STATUSES = ("selected", "enrolled", "withdrawn", "failed")
_COUNTS = ("applicants", "selected", "completed", "never")
_TOTAL = ("total", None)


@dataclass(frozen=True)
class ReachRow:
    """One regency's reach over several offerings (``regency`` None: not known). People are counted once
    per row however many of the offerings they are in (by NUPTK, else e-mail)."""

    regency: str | None
    applicants: int
    selected: int
    completed: int
    never_trained: int      # selected people the selection counted as never trained before


@dataclass(frozen=True)
class ReachLevelRow:
    """One school level's reach over several offerings (``school_level`` None: not known), counted as
    :class:`ReachRow`."""

    school_level: str | None
    applicants: int
    selected: int
    completed: int
    never_trained: int


@dataclass(frozen=True)
class ReachReport:
    """Pemerataan evidence: who applied, was selected and completed, per regency (``rows``) and per school
    level (``levels``), over ``offerings``."""

    scope: str
    offerings: list[str]
    rows: list[ReachRow]
    total: ReachRow
    levels: list[ReachLevelRow] = field(default_factory=list)
    site_id: str | None = None       # the centre (Moodle site); None: several, or not known
    site_name: str | None = None
    sites: list[ReachReport] = field(default_factory=list)   # over several centres: each centre's own

    def to_dict(self) -> dict[str, Any]:
        """The pemerataan as plain data; each centre of ``sites`` as ``{"site_id", "name", ...its rows}``."""
        return with_sites(self)


def _person(p: ParticipantRecord) -> str:
    return f"nuptk:{p.nuptk.strip()}" if p.nuptk and p.nuptk.strip() else f"email:{normalise_email(p.email)}"


class _Sets:
    """The people of each count, by (dimension, group): regency, school level, and the total."""

    def __init__(self) -> None:
        self.found: dict[tuple[str, str | None], dict[str, set[str]]] = {}

    def add(self, regency: str | None, level: str | None, what: str, who: str) -> None:
        for key in (("regency", regency), ("school_level", level), _TOTAL):
            self.found.setdefault(key, {k: set() for k in _COUNTS})[what].add(who)

    def counts(self, key: tuple[str, str | None]) -> tuple[int, int, int, int]:
        found = self.found.get(key) or {k: set() for k in _COUNTS}
        return (len(found["applicants"]), len(found["selected"]), len(found["completed"]), len(found["never"]))

    def groups(self, dimension: str) -> list[str | None]:
        return sorted((g for d, g in self.found if d == dimension), key=order_of(dimension))


def _count_offering(sets: _Sets, people: Sequence[ParticipantRecord], snapshots: Sequence[CompletionSnapshot]
                    ) -> None:
    """Add one offering's applicants, selected, never-trained and completed people to ``sets``."""
    by_email = {normalise_email(p.email): p for p in people}
    for p in people:
        regency = regency_name(p.regency)
        sets.add(regency, p.school_level, "applicants", _person(p))
        if p.status in SELECTED_STATUSES:
            sets.add(regency, p.school_level, "selected", _person(p))
            if p.trained is False:
                sets.add(regency, p.school_level, "never", _person(p))
    for s in enrich(snapshots, people, withdrawals=False):
        if s.completed:
            record = by_email.get(normalise_email(s.email))
            if record is None:   # an adopted course: nobody's record, the snapshot's own regency and level
                sets.add(s.regency, s.school_level, "completed", f"email:{normalise_email(s.email)}")
            else:
                sets.add(regency_name(record.regency) or s.regency, record.school_level or s.school_level,
                         "completed", _person(record))


def reach(scope: str, offerings: Mapping[str, tuple[Sequence[ParticipantRecord], Sequence[CompletionSnapshot]]]
          ) -> ReachReport:
    """Per regency (official names, BPS order; unknown last), per school level and in total: distinct
    applicants, selected (selected, enrolled, withdrawn or failed to enrol), completed (a completed student
    snapshot; people an offering has no record of, as in adopted courses, counted by e-mail with the
    snapshot's regency) and never-trained selected people, over ``offerings`` (id -> its participant
    records and current snapshots)."""
    sets = _Sets()
    for people, snapshots in offerings.values():
        _count_offering(sets, people, snapshots)
    return ReachReport(
        scope, sorted(offerings), [ReachRow(g, *sets.counts(("regency", g))) for g in sets.groups("regency")],
        ReachRow(None, *sets.counts(_TOTAL)),
        levels=[ReachLevelRow(g, *sets.counts(("school_level", g))) for g in sets.groups("school_level")])
