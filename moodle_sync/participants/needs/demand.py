"""Demand from a needs survey, and seats proposed from it: pure functions, no I/O, deterministic.

A respondent counts once per topic chosen in :func:`demand_cells` (regency x level x years band x
topic) and in :func:`topic_totals`; once in :func:`profile` (level x years band, with the share a centre
quotes: "52% are SD teachers with > 10 years") and in :func:`regency_totals`. :func:`propose_seats`
shares an offering's seats between its regencies in proportion to the demand for its topic, with the
offering's minimum per regency, by the selection's own rule (:func:`..allocation.allocate_seats`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ...regions import BY_SLUG, LAMPUNG
from ..allocation import Allocation, allocate_seats
from ..model import SCHOOL_LEVELS
from ..normalise import YEARS_BANDS
from .survey import Respondent
from .topics import topic_key

__all__ = [
    "Cell",
    "Proposal",
    "demand_cells",
    "profile",
    "propose_seats",
    "regency_totals",
    "topic_matches",
    "topic_totals",
]

_REGENCY_ORDER = {r.slug: i for i, r in enumerate(LAMPUNG)}


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@dataclass(frozen=True)
class Cell:
    regency: str
    level: str
    years_band: str
    topic: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"regency": self.regency, "level": self.level, "years_band": self.years_band,
                "topic": self.topic, "count": self.count}


def demand_cells(respondents: Iterable[Respondent]) -> list[Cell]:
    """Respondents per regency x level x years band x topic (each respondent once per topic chosen),
    in the official regency order, then level, band and topic; empty cells left out."""
    counts = Counter((r.regency, r.level, r.years_band, t) for r in respondents for t in r.topics)
    order = lambda k: (_REGENCY_ORDER.get(k[0], 99), SCHOOL_LEVELS.index(k[1]) if k[1] in SCHOOL_LEVELS else 99,
                       YEARS_BANDS.index(k[2]) if k[2] in YEARS_BANDS else 99, k[3])
    return [Cell(*k, n) for k, n in sorted(counts.items(), key=lambda kv: order(kv[0]))]


def profile(respondents: Sequence[Respondent]) -> list[dict[str, Any]]:
    """Respondents per level x years band with their share of all respondents, largest first."""
    counts = Counter((r.level, r.years_band) for r in respondents)
    return [{"level": level, "years_band": band, "count": n, "share": _share(n, len(respondents))}
            for (level, band), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def topic_totals(respondents: Sequence[Respondent]) -> list[dict[str, Any]]:
    """Respondents wanting each topic, with the share of all respondents, most wanted first."""
    counts = Counter(t for r in respondents for t in r.topics)
    return [{"topic": t, "count": n, "share": _share(n, len(respondents))}
            for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def regency_totals(respondents: Sequence[Respondent]) -> list[dict[str, Any]]:
    """Respondents per regency (official order), with their share."""
    counts = Counter(r.regency for r in respondents)
    return [{"regency": k, "name": BY_SLUG[k].name, "count": n, "share": _share(n, len(respondents))}
            for k, n in sorted(counts.items(), key=lambda kv: _REGENCY_ORDER.get(kv[0], 99))]


def topic_matches(topic: str, names: Iterable[str]) -> bool:
    """Whether a survey topic means the offering named by ``names`` (its choice answers or titles):
    equal by :func:`.topics.topic_key` ("AI" is "Kecerdasan Artifisial"), or one contained in the other
    as whole words ("Koding" and
    "Koding untuk Guru")."""
    t = f" {topic_key(topic)} "
    for name in names:
        n = f" {topic_key(name)} "
        if n.strip() and (n in t or t in n):
            return True
    return False


@dataclass(frozen=True)
class Proposal:
    """Seats proposed per regency for one offering, from the demand for its topic."""

    topics: tuple[str, ...]               # the survey topics that mean the offering
    levels: tuple[str, ...]               # the levels counted (the offering's target levels; empty: all)
    demand: dict[str, int]                # regency -> respondents wanting the topic
    by_level: dict[str, dict[str, int]]   # regency -> level -> respondents
    allocation: Allocation

    @property
    def quotas(self) -> dict[str, int]:
        return {s.key: s.seats for s in self.allocation.shares}

    @property
    def level_quotas(self) -> dict[str, dict[str, int]]:
        """Where the offering targets two or more levels: each regency's seats shared between them in
        proportion to the respondents of each level (largest remainder; every target level named, 0
        where nobody of it wants the topic). Empty otherwise."""
        if len(self.levels) < 2:
            return {}
        out: dict[str, dict[str, int]] = {}
        for regency, seats in self.quotas.items():
            counts = self.by_level.get(regency, {})
            if seats and sum(counts.values()):
                # weights scaled by the seats: a sample's few respondents do not cap a level's seats
                shares = allocate_seats({lvl: counts.get(lvl, 0) * seats for lvl in self.levels}, seats).shares
                split = {sh.key: sh.seats for sh in shares}
                out[regency] = {lvl: split.get(lvl, 0) for lvl in self.levels}
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"topics": list(self.topics), "levels": list(self.levels), "seats": self.allocation.seats,
                "minimum_applied": self.allocation.minimum_applied,
                "regencies": [{"regency": s.key, "demand": self.demand.get(s.key, 0), "floor": s.floor,
                               "share": float(s.share), "seats": s.seats,
                               "by_level": self.by_level.get(s.key, {}),
                               "seats_by_level": self.level_quotas.get(s.key)} for s in self.allocation.shares]}


def propose_seats(respondents: Sequence[Respondent], *, names: Sequence[str], regencies: Sequence[str],
                  seats: int, minimum: int = 0, levels: Sequence[str] = ()) -> Proposal:
    """Share ``seats`` between ``regencies`` (slugs) in proportion to the respondents there who want a
    topic meaning ``names`` (and teach at one of ``levels``, when given), at least ``minimum`` each where
    anyone wants it; all ``seats`` are shared when anyone wants the topic, also when the survey counts
    fewer respondents than seats. A regency without demand gets no seat. Raises ``ValueError`` for negative
    numbers."""
    topics = tuple(sorted({t for r in respondents for t in r.topics if topic_matches(t, names)}))
    demand: Counter[str] = Counter()
    by_level: dict[str, Counter[str]] = {}
    for r in respondents:
        if r.regency in regencies and (not levels or r.level in levels) and set(r.topics) & set(topics):
            demand[r.regency] += 1
            by_level.setdefault(r.regency, Counter())[r.level] += 1
    total = sum(demand.values())
    # The survey is a sample: where it counts fewer respondents than there are seats, the seats are still
    # all shared in proportion (the counts scaled up), not capped at the respondents.
    weights = {k: d * seats for k, d in demand.items()} if total and seats > total else dict(demand)
    allocation = allocate_seats(weights, seats if seats else total, minimum=minimum)
    return Proposal(topics, tuple(levels), dict(demand), {k: dict(v) for k, v in by_level.items()}, allocation)
