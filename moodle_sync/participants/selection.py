"""Choosing participants from applicants: pure functions, no I/O, deterministic.

Rules, in order of precedence:

1. **Never trained first.** An applicant counts as trained if the form says so (``trained_before``) or
   our records say so (``previously_trained``: e-mail or NUPTK -> evidence such as "completed
   koding-2025-a1"). Never-trained applicants (and those who did not answer, with no record) fill seats
   before any trained applicant gets one. A form that says "never" while our records say otherwise is
   flagged on the placement (``conflict``); the records win.
2. **Fair spread over regencies,** inside each priority tier: the tier's seats are shared between the
   regencies in proportion to their applicants in that tier, with ``min_per_regency`` guaranteed to every
   regency that has applicants (capped at its applicants; seats won in the first tier count toward the
   minimum in the second) and whole seats by largest remainder (see :mod:`.allocation`).
3. **Earlier registration first** within a regency: by ``Applicant.registered_at`` (the person's first
   valid submission), then file order, row, e-mail.

Before these rules, two pure gates (see :mod:`.eligibility`): an applicant whose programme choice is
another offering is ``other_programme``; one outside the target audience is ``not_eligible``, with the rule
that excluded them. Where the form has a choice column, first-choice applicants are selected before
second-choice ones (the tiers above, first choice first). Model schools' reserved seats are filled from
that school's eligible applicants before the general pool (never trained first, then first choice, then
earlier registration); with per-regency ``quotas`` each regency's seats are its quota instead of a
proportional share (quotas adding up to more than the seats are first scaled down to them, in
proportion), and seats a regency cannot fill (too few applicants) then go to those waiting
elsewhere, shared proportionally, tier by tier. A regency's quota may be split by school level
(``level_quotas``): inside each tier, each level takes up to its seats first (registration order), the
regency's seats a level cannot fill go to its other levels, and what the regency still cannot fill rounds
as above.

Everyone else in an offered regency is on the waitlist, ranked by tier, registration time, row (the order
in which the pool is drawn when a regency has nobody left; see :func:`promote_from_waitlist`). Applicants
from a regency the offering does not serve, trained applicants when ``exclude_trained`` is set, and those
past ``waitlist_size`` are not selected, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from typing import Any, TypeVar

from ..exceptions import InputError
from ..regions import BY_SLUG, LAMPUNG, by_slug
from .allocation import Allocation, Share, allocate_seats
from .eligibility import Eligibility, ModelSchool, choice_rank, ineligible
from .model import Applicant
from .regency_names import InvalidRegency, normalise_regency

__all__ = [
    "NOT_ELIGIBLE",
    "NOT_SELECTED",
    "OTHER_PROGRAMME",
    "SELECTED",
    "TIER_NEVER_TRAINED",
    "TIER_TRAINED",
    "WAITLISTED",
    "WITHDRAWN",
    "Placement",
    "Promotion",
    "Selection",
    "TierAllocation",
    "next_in_line",
    "promote_from_waitlist",
    "select_participants",
]

W = TypeVar("W")

SELECTED, WAITLISTED, NOT_SELECTED, WITHDRAWN = "selected", "waitlisted", "not_selected", "withdrawn"
NOT_ELIGIBLE, OTHER_PROGRAMME = "not_eligible", "other_programme"
TIER_NEVER_TRAINED, TIER_TRAINED = "never_trained", "trained"
SECOND_CHOICE = "second_choice_"   # prefix of the tiers of second-choice applicants

# cause codes (stable, for the announcement texts)
CAUSE_QUOTA = "regency_quota"
CAUSE_PROMOTED = "promoted"
CAUSE_WAITLIST = "waitlist"
CAUSE_NOT_OFFERED = "regency_not_offered"
CAUSE_TRAINED = "already_trained"
CAUSE_BEYOND_WAITLIST = "beyond_waitlist"
CAUSE_WITHDRAWN = "withdrawn"
CAUSE_MODEL_SCHOOL = "model_school"
CAUSE_OTHER_PROGRAMME = "other_programme"


@dataclass(frozen=True)
class Placement:
    """One applicant's outcome.

    ``rank``: selected -> order of selection (1 = first), waitlisted -> waitlist position (1 = next in
    line overall); ``regency_rank``: the same within the applicant's regency. ``trained_source`` says why
    they count as trained ("form", "records: ...", "form and records: ..."), ``conflict`` when the form and
    our records disagree. ``reason`` is an English sentence; ``cause`` a stable code.
    """

    applicant: Applicant
    status: str
    cause: str
    reason: str
    rank: int | None = None
    regency_rank: int | None = None
    trained: bool = False
    trained_source: str | None = None
    conflict: str | None = None
    note: str | None = None        # how a promoted person got their seat
    choice: int = 1                # 1: this offering is their first choice (or the form has none), 2: second

    @property
    def email(self) -> str:
        return self.applicant.email

    @property
    def tier(self) -> str:
        return (SECOND_CHOICE if self.choice == 2 else "") + (TIER_TRAINED if self.trained else TIER_NEVER_TRAINED)

    def to_dict(self) -> dict[str, Any]:
        return {"email": self.email, "fullname": self.applicant.fullname, "regency": self.applicant.regency,
                "npsn": self.applicant.npsn, "choice": self.choice,
                "status": self.status, "cause": self.cause, "reason": self.reason, "rank": self.rank,
                "regency_rank": self.regency_rank, "trained": self.trained,
                "trained_source": self.trained_source, "conflict": self.conflict,
                "registered_at": self.applicant.registered_at.isoformat(sep=" ")}


@dataclass(frozen=True)
class TierAllocation:
    """How one priority tier's seats were shared between regencies."""

    tier: str
    seats: int            # seats available to this tier
    allocation: Allocation


@dataclass(frozen=True)
class Promotion:
    """A withdrawal and who (if anyone) got the seat, and by which rule."""

    withdrawn: str                 # e-mail
    promoted: str | None           # e-mail
    rule: str                      # English sentence


@dataclass(frozen=True)
class Selection:
    """The result of :func:`select_participants` (and of later promotions). Every applicant has exactly
    one placement."""

    seats: int
    min_per_regency: int
    regencies: tuple[str, ...]
    placements: tuple[Placement, ...]
    tiers: tuple[TierAllocation, ...]
    promotions: tuple[Promotion, ...] = ()
    waitlist_size: int | None = None
    _by_email: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_email", {p.email: i for i, p in enumerate(self.placements)})

    def _with_status(self, status: str) -> tuple[Placement, ...]:
        return tuple(sorted((p for p in self.placements if p.status == status),
                            key=lambda p: (p.rank or 0, _order_key(p.applicant))))

    @property
    def selected(self) -> tuple[Placement, ...]:
        return self._with_status(SELECTED)

    @property
    def waitlist(self) -> tuple[Placement, ...]:
        return self._with_status(WAITLISTED)

    @property
    def not_selected(self) -> tuple[Placement, ...]:
        return tuple(sorted((p for p in self.placements if p.status == NOT_SELECTED),
                            key=lambda p: _order_key(p.applicant)))

    @property
    def withdrawn(self) -> tuple[Placement, ...]:
        return tuple(p for p in self.placements if p.status == WITHDRAWN)

    @property
    def not_eligible(self) -> tuple[Placement, ...]:
        return tuple(p for p in self.placements if p.status == NOT_ELIGIBLE)

    @property
    def other_programme(self) -> tuple[Placement, ...]:
        return tuple(p for p in self.placements if p.status == OTHER_PROGRAMME)

    def placement(self, email: str) -> Placement:
        """The placement of the applicant with this e-mail (any case); raises :class:`InputError` if none."""
        key = email.strip().lower()
        if key not in self._by_email:
            raise InputError(f"{email!r} is not among the applicants", field="email")
        return self.placements[self._by_email[key]]

    def counts(self) -> dict[str, int]:
        return {"seats": self.seats, "applicants": len(self.placements), "selected": len(self.selected),
                "waitlisted": len(self.waitlist), "not_selected": len(self.not_selected),
                "withdrawn": len(self.withdrawn), "not_eligible": len(self.not_eligible),
                "other_programme": len(self.other_programme)}

    def to_dict(self) -> dict[str, Any]:
        return {**self.counts(), "min_per_regency": self.min_per_regency, "regencies": list(self.regencies),
                "quotas": [{"tier": t.tier, "seats": t.seats, "minimum_applied": t.allocation.minimum_applied,
                            "regencies": [{"regency": s.key, "applicants": s.applicants, "floor": s.floor,
                                           "share": float(s.share), "seats": s.seats,
                                           "remainder_seat": s.remainder_seat} for s in t.allocation.shares]}
                           for t in self.tiers],
                "selected": [p.to_dict() for p in self.selected],
                "waitlist": [p.to_dict() for p in self.waitlist],
                "not_selected": [p.to_dict() for p in self.not_selected],
                "withdrawn": [p.to_dict() for p in self.withdrawn],
                "not_eligible": [p.to_dict() for p in self.not_eligible],
                "other_programme": [p.to_dict() for p in self.other_programme],
                "promotions": [{"withdrawn": x.withdrawn, "promoted": x.promoted, "rule": x.rule}
                               for x in self.promotions]}


def _order_key(a: Applicant) -> tuple[datetime, str, int, str]:
    return (a.registered_at, a.file, a.row, a.email)


def _training(a: Applicant, records: Mapping[str, str]) -> tuple[bool, str | None, str | None]:
    evidence = records.get(a.email) or (records.get(a.nuptk) if a.nuptk else None)
    if a.trained_before and evidence:
        return True, f"form and records: {evidence}", None
    if a.trained_before:
        return True, "form", None
    if evidence:
        conflict = (f"the form says never trained, but our records say: {evidence}"
                    if a.trained_before is False else None)
        return True, f"records: {evidence}", conflict
    return False, None, None


def _offered(regencies: Collection[str] | None) -> tuple[str, ...]:
    if regencies is None:
        return tuple(r.slug for r in LAMPUNG)
    slugs: list[str] = []
    for r in regencies:
        try:
            slug = r if r in BY_SLUG else normalise_regency(r)
        except InvalidRegency as exc:
            raise InputError(str(exc), field="regencies") from exc
        if slug not in slugs:
            slugs.append(slug)
    return tuple(slugs)


_Pending = tuple[Applicant, bool, "str | None", "str | None", int]   # applicant, trained, source, conflict, choice


def _gate(a: Applicant, trained: bool, source: str | None, conflict: str | None, *, choice: Sequence[str],
          offered: Sequence[str], eligible: Eligibility | None, exclude_trained: bool) -> Placement | int:
    """The placement of an applicant who is out before the seats are shared, else their choice rank."""

    def out(status: str, cause: str, reason: str, rank: int = 1) -> Placement:
        return Placement(a, status, cause, reason, trained=trained, trained_source=source, conflict=conflict,
                         choice=rank)

    rank = choice_rank(a, choice) if choice else 1
    if rank is None:
        return out(OTHER_PROGRAMME, CAUSE_OTHER_PROGRAMME, f"chose {' / '.join(a.choices)}, not this programme")
    if a.regency not in offered:
        return out(NOT_SELECTED, CAUSE_NOT_OFFERED, f"{a.regency_name} is not served by this offering", rank)
    failed = ineligible(a, eligible) if eligible else None
    if failed:
        return out(NOT_ELIGIBLE, failed[0], f"not eligible ({failed[0]}): {failed[1]}", rank)
    if trained and exclude_trained:
        return out(NOT_SELECTED, CAUSE_TRAINED, f"already trained ({source})", rank)
    return rank


def _quota_allocation(demand: Mapping[str, int], quotas: Mapping[str, int], given: Mapping[str, int],
                      seats: int) -> Allocation:
    """Each regency's seats up to its quota (minus seats it already has), within ``seats`` (by key order)."""
    shares: list[Share] = []
    left = seats
    for key, d in sorted(demand.items()):
        n = max(0, min(d, quotas.get(key, 0) - given.get(key, 0), left))
        left -= n
        shares.append(Share(key, d, 0, Fraction(n), n, False))
    return Allocation(seats - left, 0, 0, tuple(shares))


def _fitting_quotas(quotas: Mapping[str, int] | None, seats: int) -> Mapping[str, int] | None:
    """The quotas as given when they add up to at most ``seats``; else ``seats`` shared between the
    regencies in proportion to their quotas (largest remainder), so that no regency loses its seats for
    its name's place in the alphabet."""
    if quotas is None or sum(quotas.values()) <= seats:
        return quotas
    return {s.key: s.seats for s in allocate_seats(dict(quotas), seats).shares}


def _model_school_seats(pending: Sequence[_Pending], schools: Sequence[ModelSchool], seats: int
                        ) -> dict[str, str]:
    """E-mail -> note for those who take a model school's reserved seats (never trained first, then first
    choice, then earlier registration), at most ``seats`` in all."""
    taken: dict[str, str] = {}
    for school in schools:
        members = sorted((p for p in pending if p[0].npsn == school.npsn),
                         key=lambda p: (p[1], p[4], _order_key(p[0])))
        for p in members[:max(0, min(school.seats, seats - len(taken)))]:
            taken[p[0].email] = f"model school {school.name or school.npsn}: {school.seats} reserved seat(s)"
    return taken


def _take(members: Sequence[_Pending], allocation: Allocation, chosen: set[str],
          levels: Mapping[str, Mapping[str, int]], level_given: dict[tuple[str, str | None], int]
          ) -> dict[str, int]:
    """Who of a tier's ``members`` (in registration order) takes their regency's seats in ``allocation``:
    in a regency split by ``levels`` (regency -> level -> seats), each level first up to its seats not yet
    given (``level_given``), then the regency's seats left to its other members in registration order.
    Adds to ``chosen`` and ``level_given``; returns the seats taken per regency."""
    taken: dict[str, int] = {}

    def take(a: Applicant) -> None:
        taken[a.regency] = taken.get(a.regency, 0) + 1
        chosen.add(a.email)
        level_given[(a.regency, a.school_level)] = level_given.get((a.regency, a.school_level), 0) + 1

    for a, *_ in members:
        split = levels.get(a.regency)
        if (split is not None and taken.get(a.regency, 0) < allocation.seats_of(a.regency)
                and level_given.get((a.regency, a.school_level), 0) < split.get(a.school_level or "", 0)):
            take(a)
    for a, *_ in members:
        if a.email not in chosen and taken.get(a.regency, 0) < allocation.seats_of(a.regency):
            take(a)
    return taken


def _fill_tiers(pending: Sequence[_Pending], chosen: set[str], given: dict[str, int],
                tiers: list[TierAllocation], remaining: int, *, quotas: Mapping[str, int] | None,
                minimum: int, record_empty: bool = True,
                levels: Mapping[str, Mapping[str, int]] | None = None,
                level_given: dict[tuple[str, str | None], int] | None = None) -> int:
    """Fill seats tier by tier (first choice before second, never trained before trained), each tier's
    seats shared by ``quotas`` or proportionally with ``minimum``, and inside a regency by its ``levels``
    (see :func:`_take`); adds to ``chosen``, ``given``, ``level_given`` and ``tiers`` (an empty tier only
    when ``record_empty``). Returns the seats left."""
    level_given = {} if level_given is None else level_given
    ranks = (1, 2) if any(p[4] == 2 for p in pending) else (1,)
    for rank in ranks:
        for tier, is_trained in ((TIER_NEVER_TRAINED, False), (TIER_TRAINED, True)):
            members = [p for p in pending if p[1] is is_trained and p[4] == rank and p[0].email not in chosen]
            if not record_empty and (not members or remaining == 0):
                continue
            demand: dict[str, int] = {}
            for a, *_ in members:
                demand[a.regency] = demand.get(a.regency, 0) + 1
            allocation = (_quota_allocation(demand, quotas, given, remaining) if quotas is not None else
                          allocate_seats(demand, remaining, minimum=minimum, already=given))
            tiers.append(TierAllocation((SECOND_CHOICE if rank == 2 else "") + tier, remaining, allocation))
            taken = _take(members, allocation, chosen, levels or {}, level_given)   # members in registration order
            for k, n in taken.items():
                given[k] = given.get(k, 0) + n
            remaining -= sum(taken.values())
    return remaining


def select_participants(applicants: Sequence[Applicant], *, seats: int,
                        regencies: Collection[str] | None = None, min_per_regency: int = 0,
                        previously_trained: Mapping[str, str] | None = None, exclude_trained: bool = False,
                        waitlist_size: int | None = None, choice: Sequence[str] = (),
                        eligible: Eligibility | None = None, model_schools: Sequence[ModelSchool] = (),
                        quotas: Mapping[str, int] | None = None,
                        level_quotas: Mapping[str, Mapping[str, int]] | None = None) -> Selection:
    """Select up to ``seats`` participants by the rules in the module docstring.

    ``regencies``: the regencies the offering serves (slugs or names; ``None`` = all 15).
    ``previously_trained``: e-mail or NUPTK -> evidence text. ``exclude_trained``: trained applicants get
    no seat and no waitlist place. ``waitlist_size``: how many go on the waitlist (``None`` = everyone).
    ``choice``: the choice answers meaning this offering (empty: everyone is an applicant); ``eligible``:
    the target audience; ``model_schools``: reserved seats; ``quotas``: seats per regency (slug);
    ``level_quotas``: regency -> school level -> seats, how a regency's quota is shared between levels
    (each level up to its seats first, inside each tier; seats a level cannot fill go to the regency's
    other levels; only with ``quotas`` as given, not when they are scaled down to the seats).
    Raises :class:`InputError` for negative numbers, an unknown regency, or two applicants with one e-mail.
    """
    if seats < 0 or min_per_regency < 0 or (waitlist_size is not None and waitlist_size < 0):
        raise InputError("seats, min_per_regency and waitlist_size must not be negative", field="seats")
    offered = _offered(regencies)
    _refuse_shared_emails(applicants)
    done, pending = _gate_all(applicants, previously_trained or {}, choice=choice, offered=offered,
                              eligible=eligible, exclude_trained=exclude_trained)
    model = _model_school_seats(pending, model_schools, seats)
    chosen, tiers = _fill_seats(pending, model, seats, min_per_regency, quotas, level_quotas)
    placements = done + _ranked(pending, model, chosen, waitlist_size)
    return Selection(seats, min_per_regency, offered, _renumber(placements), tuple(tiers),
                     waitlist_size=waitlist_size)


def _refuse_shared_emails(applicants: Sequence[Applicant]) -> None:
    """Raises :class:`InputError` when two applicants have one e-mail (the import de-duplicates)."""
    seen: set[str] = set()
    for a in applicants:
        if a.email in seen:
            raise InputError(f"two applicants share the e-mail {a.email!r}: import (de-duplicate) first",
                             field="email")
        seen.add(a.email)


def _gate_all(applicants: Sequence[Applicant], previously_trained: Mapping[str, str], *, choice: Sequence[str],
              offered: Sequence[str], eligible: Eligibility | None, exclude_trained: bool
              ) -> tuple[list[Placement], list[_Pending]]:
    """The applicants (in registration order) who are out before the seats are shared, placed; and the
    others, pending with their training and choice rank (see :func:`_gate`)."""
    records = {k.strip().lower(): v for k, v in previously_trained.items()}
    done: list[Placement] = []
    pending: list[_Pending] = []
    for a in sorted(applicants, key=_order_key):
        trained, source, conflict = _training(a, records)
        out = _gate(a, trained, source, conflict, choice=choice, offered=offered, eligible=eligible,
                    exclude_trained=exclude_trained)
        if isinstance(out, Placement):
            done.append(out)
        else:
            pending.append((a, trained, source, conflict, out))
    return done, pending


def _fill_seats(pending: Sequence[_Pending], model: Mapping[str, str], seats: int, minimum: int,
                quotas: Mapping[str, int] | None, level_quotas: Mapping[str, Mapping[str, int]] | None
                ) -> tuple[set[str], list[TierAllocation]]:
    """Who of ``pending`` gets a seat (the ``model`` schools' seats taken already), and how each tier's
    seats were shared: by ``quotas`` (scaled down to the seats if they add up to more; the seats a regency
    cannot fill from its quota then go to those waiting elsewhere), else proportionally with ``minimum``."""
    given: dict[str, int] = {}
    level_given: dict[tuple[str, str | None], int] = {}
    for a, *_ in pending:
        if a.email in model:
            given[a.regency] = given.get(a.regency, 0) + 1
            level_given[(a.regency, a.school_level)] = level_given.get((a.regency, a.school_level), 0) + 1
    chosen: set[str] = set(model)
    tiers: list[TierAllocation] = []
    fitting = _fitting_quotas(quotas, seats)
    levels = level_quotas if fitting is quotas else None   # scaled-down quotas: the level split no longer adds up
    remaining = _fill_tiers(pending, chosen, given, tiers, seats - len(model), quotas=fitting, minimum=minimum,
                            levels=levels, level_given=level_given)
    if fitting is not None and remaining:   # seats a regency cannot fill from its quota go to those waiting
        _fill_tiers(pending, chosen, given, tiers, remaining, quotas=None, minimum=0, record_empty=False)
    return chosen, tiers


def _ranked(pending: Sequence[_Pending], model: Mapping[str, str], chosen: Collection[str],
            waitlist_size: int | None) -> list[Placement]:
    """The placements of ``pending``: the ``chosen`` selected (model schools' first, then by choice, tier
    and registration), the others on the waitlist in the same order, or not selected past
    ``waitlist_size``. Ranks are provisional (see :func:`_renumber`)."""
    order = sorted(pending, key=lambda p: (p[0].email not in model, p[4], p[1], _order_key(p[0])))
    placements: list[Placement] = []
    selected = (p for p in order if p[0].email in chosen)
    for rank_no, (a, trained, source, conflict, ch) in enumerate(selected, start=1):
        placements.append(Placement(a, SELECTED, CAUSE_MODEL_SCHOOL if a.email in model else CAUSE_QUOTA, "",
                                    rank_no, trained=trained, trained_source=source, conflict=conflict,
                                    note=model.get(a.email), choice=ch))
    waiting = (p for p in order if p[0].email not in chosen)
    for position, (a, trained, source, conflict, ch) in enumerate(waiting, start=1):
        if waitlist_size is not None and position > waitlist_size:
            placements.append(Placement(a, NOT_SELECTED, CAUSE_BEYOND_WAITLIST,
                                        f"not selected: past the waitlist of {waitlist_size}",
                                        trained=trained, trained_source=source, conflict=conflict, choice=ch))
        else:
            placements.append(Placement(a, WAITLISTED, CAUSE_WAITLIST, "", position, trained=trained,
                                        trained_source=source, conflict=conflict, choice=ch))
    return placements


def _renumber(placements: list[Placement]) -> tuple[Placement, ...]:
    """Give selected and waitlisted placements consecutive ranks, regency ranks and reason texts."""
    out = list(placements)
    for status in (SELECTED, WAITLISTED):
        idx = sorted((i for i, p in enumerate(out) if p.status == status),
                     key=lambda i: (out[i].rank or 0, _order_key(out[i].applicant)))
        per_regency: dict[str, int] = {}
        for rank, i in enumerate(idx, start=1):
            p = out[i]
            r = per_regency[p.applicant.regency] = per_regency.get(p.applicant.regency, 0) + 1
            region = by_slug(p.applicant.regency).name
            if status == WAITLISTED:
                reason = f"waitlist position {rank} ({ordinal(r)} in {region})"
            elif p.cause == CAUSE_PROMOTED:
                reason = f"selected, rank {rank} ({ordinal(r)} in {region}), {p.note}"
            elif p.cause == CAUSE_MODEL_SCHOOL:
                reason = f"selected, rank {rank} ({ordinal(r)} in {region}, {p.note})"
            else:
                reason = (f"selected, rank {rank} ({ordinal(r)} in {region}, "
                          f"{'trained' if p.trained else 'never trained'} tier)")
            out[i] = replace(p, rank=rank, regency_rank=r, reason=reason)
    order = {SELECTED: 0, WAITLISTED: 1, NOT_SELECTED: 2, WITHDRAWN: 3, NOT_ELIGIBLE: 4, OTHER_PROGRAMME: 5}
    return tuple(sorted(out, key=lambda p: (order[p.status], p.rank or 0, _order_key(p.applicant))))


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def next_in_line(waitlist: Sequence[W], regency: str | None, *, tier_of: Callable[[W], tuple[int, bool]],
                 regency_of: Callable[[W], str | None]) -> tuple[W, bool] | None:
    """Who takes a seat freed in ``regency``: of the highest priority tier still waiting (``tier_of`` gives
    ``(choice, trained)``: first choice before second, never trained before trained), the first of that
    regency, else the tier's first overall. ``waitlist`` is in waitlist order. Returns that one and whether
    they are of the same regency; ``None`` when no one is waiting. The one rule of waitlist promotion,
    for a :class:`Selection` (:func:`promote_from_waitlist`) and for a stored roster
    (:func:`moodle_sync.roster.next_on_waitlist`)."""
    if not waitlist:
        return None
    top = min(tier_of(w) for w in waitlist)
    tier = [w for w in waitlist if tier_of(w) == top]
    same = [w for w in tier if regency_of(w) == regency]
    return (same[0], True) if same else (tier[0], False)


def promote_from_waitlist(selection: Selection, withdrawn_email: str) -> tuple[Selection, Placement | None]:
    """Record that ``withdrawn_email`` withdrew and, if they held a seat, give it to the next in line.

    The seat goes to the highest priority tier still waiting (first choice before second, never trained
    before trained); within it,
    to the first on the waitlist of the withdrawn person's regency (fairness: the seat was that regency's),
    else to the first on the overall waitlist. The promoted person is ranked after everyone already
    selected. Returns the new selection and the promoted placement
    (``None`` when the withdrawn person was not selected or the waitlist is empty). The input is not
    changed. Raises :class:`InputError` if the e-mail is unknown or already withdrawn.
    """
    person = selection.placement(withdrawn_email)
    if person.status == WITHDRAWN:
        raise InputError(f"{person.email} has already withdrawn", field="email")
    placements = {p.email: p for p in selection.placements}
    placements[person.email] = replace(person, status=WITHDRAWN, cause=CAUSE_WITHDRAWN,
                                       reason=f"withdrew (was {person.reason})", rank=None, regency_rank=None)
    promoted: Placement | None = None
    rule = f"{person.email} withdrew while {person.status.replace('_', ' ')}; no seat was freed"
    if person.status == SELECTED:
        region = by_slug(person.applicant.regency).name
        found = next_in_line(selection.waitlist, person.applicant.regency,
                             tier_of=lambda p: (p.choice, p.trained), regency_of=lambda p: p.applicant.regency)
        rule = f"seat freed in {region}, but the waitlist is empty"
        if found is not None:
            candidate, same = found
            where = (f"first on the waitlist of {region}" if same else
                     f"{region} has no one waiting in this tier, so the first on the overall waitlist")
            tier_text = ("second-choice " if candidate.choice == 2 else "") + \
                ("trained" if candidate.trained else "never-trained")
            rule = (f"seat freed by {person.email} ({region}) went to {candidate.email}: "
                    f"{where} ({tier_text} tier, waitlist position {candidate.rank})")
            top = max((p.rank or 0 for p in selection.selected), default=0)
            promoted = replace(candidate, status=SELECTED, cause=CAUSE_PROMOTED, rank=top + 1,
                               note=f"promoted from waitlist position {candidate.rank} after "
                                    f"{person.email} withdrew ({where})")
            placements[candidate.email] = promoted
    promotion = Promotion(person.email, promoted.email if promoted else None, rule)
    new = Selection(selection.seats, selection.min_per_regency, selection.regencies,
                    _renumber(list(placements.values())), selection.tiers,
                    selection.promotions + (promotion,), selection.waitlist_size)
    return new, (new.placement(promoted.email) if promoted else None)
