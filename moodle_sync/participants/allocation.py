"""Sharing seats between regencies: proportional, with a minimum, by the largest-remainder method.

Pure arithmetic on exact fractions. For each regency with ``d`` applicants, the ideal share is ``λ·d``
(proportional to its applicants) but never below its minimum ``f`` (the requested minimum, capped at ``d``);
``λ`` is the one number that makes the shares add up to the seats. Each regency gets the whole part of its
share; the seats left over go one each to the largest fractional parts (ties: more applicants first, then
the slug). No regency ever gets more seats than applicants (with ``λ <= 1`` a share never exceeds ``d``),
so seats a regency cannot use stay in the pool for the others.

If the seats cannot give every regency its minimum, the minimum is lowered (for everyone alike) to the
largest value that fits, and :attr:`Allocation.minimum_applied` says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

__all__ = ["Allocation", "Share", "allocate_seats"]


@dataclass(frozen=True)
class Share:
    """One regency's part: ``applicants`` asking, ``floor`` guaranteed, exact ``share``, whole ``seats``,
    and whether one of them came from the largest remainder (``remainder_seat``)."""

    key: str
    applicants: int
    floor: int
    share: Fraction
    seats: int
    remainder_seat: bool


@dataclass(frozen=True)
class Allocation:
    seats: int                     # seats shared out (at most the total applicants)
    minimum_requested: int
    minimum_applied: int
    shares: tuple[Share, ...]      # sorted by key

    def seats_of(self, key: str) -> int:
        return next((s.seats for s in self.shares if s.key == key), 0)

    def share_of(self, key: str) -> Share | None:
        return next((s for s in self.shares if s.key == key), None)


def _floors(demand: Mapping[str, int], minimum: int, already: Mapping[str, int]) -> dict[str, int]:
    return {k: min(max(0, minimum - already.get(k, 0)), d) for k, d in demand.items()}


def _solve_lambda(demand: Mapping[str, int], floors: Mapping[str, int], seats: int) -> Fraction:
    """The ``λ`` in [0, 1] with ``sum(max(f, λ·d)) == seats`` (requires ``sum(f) <= seats <= sum(d)``)."""
    breakpoints = sorted({Fraction(floors[k], d) for k, d in demand.items()} | {Fraction(0), Fraction(1)})
    for lo, hi in pairwise(breakpoints):
        # On (lo, hi]: regencies with f/d >= hi keep their floor, the others are proportional.
        fixed = sum(floors[k] for k, d in demand.items() if Fraction(floors[k], d) >= hi)
        slope = sum(d for k, d in demand.items() if Fraction(floors[k], d) < hi)
        if slope and fixed + hi * slope >= seats:
            return max(lo, Fraction(seats - fixed, slope))
    return Fraction(1)


def allocate_seats(demand: Mapping[str, int], seats: int, *, minimum: int = 0,
                   already: Mapping[str, int] | None = None) -> Allocation:
    """Share ``seats`` between the keys of ``demand`` (applicants per regency), as the module describes.

    ``already`` counts seats a regency got earlier (a higher-priority tier): they count toward its
    minimum. Keys with no applicants get nothing and are left out. Raises ``ValueError`` for negative
    seats, minimum or demand.
    """
    if seats < 0 or minimum < 0 or any(d < 0 for d in demand.values()):
        raise ValueError("seats, minimum and applicants must not be negative")
    already = already or {}
    demand = {k: d for k, d in sorted(demand.items()) if d > 0}
    total = sum(demand.values())
    if seats >= total:
        shares = tuple(Share(k, d, d, Fraction(d), d, False) for k, d in demand.items())
        return Allocation(total, minimum, minimum, shares)
    applied = minimum
    while applied > 0 and sum(_floors(demand, applied, already).values()) > seats:
        applied -= 1
    floors = _floors(demand, applied, already)
    lam = _solve_lambda(demand, floors, seats)
    exact = {k: max(Fraction(floors[k]), lam * d) for k, d in demand.items()}
    whole = {k: math.floor(q) for k, q in exact.items()}
    left = seats - sum(whole.values())
    order = sorted((k for k in demand if exact[k] > whole[k]),
                   key=lambda k: (-(exact[k] - whole[k]), -demand[k], k))
    lucky = set(order[:left])
    shares = tuple(Share(k, d, floors[k], exact[k], whole[k] + (k in lucky), k in lucky)
                   for k, d in demand.items())
    return Allocation(seats, minimum, applied, shares)
