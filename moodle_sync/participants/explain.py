"""Plain-English explanations of a selection result, for the admin who must answer "why not me?"."""

from __future__ import annotations

from .allocation import Share
from .model import ImportResult
from .selection import (
    CAUSE_BEYOND_WAITLIST,
    CAUSE_MODEL_SCHOOL,
    CAUSE_NOT_OFFERED,
    CAUSE_PROMOTED,
    CAUSE_TRAINED,
    NOT_ELIGIBLE,
    NOT_SELECTED,
    OTHER_PROGRAMME,
    SECOND_CHOICE,
    SELECTED,
    TIER_NEVER_TRAINED,
    TIER_TRAINED,
    WAITLISTED,
    WITHDRAWN,
    Placement,
    Selection,
    TierAllocation,
    ordinal,
)

__all__ = ["explain", "explain_import"]

_TIER_TEXT = {TIER_NEVER_TRAINED: "never-trained", TIER_TRAINED: "already-trained"}


def _training_line(p: Placement) -> str:
    if p.trained:
        line = f"Counts as already trained ({p.trained_source}), so comes after all never-trained applicants."
    else:
        answer = p.applicant.trained_before
        said = "the form says never trained" if answer is False else "the form gives no answer about training"
        line = f"Counts as never trained ({said}, and our records show no earlier training): top priority."
    if p.conflict:
        line += f" Note: {p.conflict}; the records win."
    return line


def _quota_line(p: Placement, tier: TierAllocation, share: Share | None) -> str:
    region = p.applicant.regency_name
    tier_text = (_TIER_TEXT.get(tier.tier) or
                 f"second-choice {_TIER_TEXT[tier.tier.removeprefix(SECOND_CHOICE)]}")
    alloc = tier.allocation
    if share is None:
        return f"In the {tier_text} tier, {region} had no applicants."
    if tier.seats == 0:
        return (f"No seats were left for the {tier_text} tier ({region} had {share.applicants} applicant(s) "
                f"in it): every seat went to a higher priority.")
    text = (f"In the {tier_text} tier there were {tier.seats} seats; {region} had {share.applicants} "
            f"applicant(s) and got {share.seats} seat(s)")
    if tier.seats >= sum(s.applicants for s in alloc.shares):
        return text + " (the tier had enough seats for everyone)."
    parts = []
    if share.floor:
        parts.append(f"a guaranteed minimum of {share.floor}")
    parts.append(f"a proportional share of {float(share.share):.2f}")
    if share.remainder_seat:
        parts.append("one extra seat for a large remainder (largest-remainder method)")
    text += ": " + ", ".join(parts) + "."
    if alloc.minimum_applied < alloc.minimum_requested:
        text += (f" The minimum of {alloc.minimum_requested} per regency did not fit the seats for every "
                 f"regency and was lowered to {alloc.minimum_applied}.")
    return text


def explain(selection: Selection, email: str) -> str:
    """Say in plain English why the applicant with ``email`` got their result: the rule that decided,
    their rank, and their regency's quota numbers. Raises :class:`~moodle_sync.exceptions.InputError` if
    the e-mail is not among the applicants."""
    p = selection.placement(email)
    a = p.applicant
    lines = [(f"{a.fullname} <{a.email}>, {a.regency_name}, registered {a.registered_at:%d/%m/%Y %H:%M:%S} "
              f"(row {a.row} of {a.file}).")]
    if p.status == OTHER_PROGRAMME:
        lines.append(f"Programme choice: {' / '.join(a.choices)}; none of these answers means this offering. "
                     f"Result: an applicant for another programme, not for this one.")
        return "\n".join(lines)
    if a.choices:
        lines.append(f"Programme choice: this offering is their {ordinal(p.choice)} choice"
                     + (" (second-choice applicants get seats after first-choice ones)." if p.choice == 2 else "."))
    decided = _out_before_seats(selection, p)
    if decided:
        return "\n".join([*lines, *decided])
    lines.append("Rule 1 (never trained first): " + _training_line(p))
    if p.status == NOT_SELECTED and p.cause == CAUSE_TRAINED:
        lines.append("Result: not selected. This offering takes no already-trained applicants.")
    elif p.status == WITHDRAWN:
        lines.append(f"Result: withdrew ({p.reason}).")
    else:
        lines += _seat_lines(selection, p)
    return "\n".join(lines)


def _out_before_seats(selection: Selection, p: Placement) -> list[str]:
    """The lines for an applicant decided before the priority rules: not eligible, on a model school's
    reserved seat, or from a regency the offering does not serve; none for the others."""
    if p.status == NOT_ELIGIBLE:
        return [(f"Eligibility rule '{p.cause}' excluded them: {p.reason.split(': ', 1)[-1]}. "
                 f"Result: not eligible (the offering's target audience, applicants.eligible).")]
    if p.status == SELECTED and p.cause == CAUSE_MODEL_SCHOOL:
        return [(f"Rule 0 (model schools first): {p.note}; never-trained teachers of the school first, "
                 f"then by registration time."),
                f"Result: selected, rank {p.rank} of {len(selection.selected)}, in their school's class."]
    if p.status == NOT_SELECTED and p.cause == CAUSE_NOT_OFFERED:
        return [(f"Result: not selected. {p.applicant.regency_name} is not one of the regencies this offering "
                 f"serves ({len(selection.regencies)} regencies).")]
    return []


def _seat_lines(selection: Selection, p: Placement) -> list[str]:
    """Rules 2 and 3 and the result for an applicant who took part in sharing the seats."""
    tier = next((t for t in selection.tiers if t.tier == p.tier), None)
    share = tier.allocation.share_of(p.applicant.regency) if tier else None
    seats = share.seats if share else 0
    region = p.applicant.regency_name
    lines = ["Rule 2 (fair spread over regencies): " + _quota_line(p, tier, share)] if tier is not None else []
    if p.status == SELECTED and p.cause == CAUSE_PROMOTED:
        lines.append(f"Result: selected (rank {p.rank} of {len(selection.selected)}), {p.note}.")
    elif p.status == SELECTED:
        lines.append(f"Rule 3 (earlier registration first): {ordinal(p.regency_rank or 0)} in {region} "
                     f"among those selected, which is within its {seats} seat(s).")
        lines.append(f"Result: selected, rank {p.rank} of {len(selection.selected)}.")
    elif p.status == WAITLISTED:
        lines.append(f"Rule 3 (earlier registration first): the {seats} seat(s) of {region} in this tier "
                     f"went to applicants who registered earlier." if seats else
                     f"{region} got no seat in this tier.")
        lines.append(f"Result: waitlist position {p.rank} overall ({ordinal(p.regency_rank or 0)} in "
                     f"{region}). When someone selected from {region} withdraws, the first on {region}'s "
                     f"waitlist gets the seat; if {region} has no one waiting, the first on the overall "
                     f"waitlist does.")
    elif p.cause == CAUSE_BEYOND_WAITLIST:
        lines.append(f"Result: not selected; the waitlist holds only {selection.waitlist_size} people and "
                     f"this applicant came after them.")
    return lines


def explain_import(imported: ImportResult, email: str) -> str | None:
    """Why ``email`` is no applicant: the rows of the registration export that carry it and were
    rejected (file, row, field, reason), or superseded by a later submission; ``None`` when no row does.
    (A person whose later submission was accepted is an applicant: ask :func:`explain`.)"""
    key = email.strip().lower()
    lines: list[str] = []
    for s in imported.superseded:
        if s.applicant.email == key:
            lines.append(f"{s.applicant.file} row {s.applicant.row}: superseded by the later submission in "
                         f"{s.by_file} row {s.by_row} (same {s.matched_on}).")
    for r in imported.rejected:
        if any(key == str(v).strip().lower() for v in r.values.values()):
            lines.append(f"{r.file} row {r.row}: rejected, {r.field or 'row'}: {r.reason}. It takes part in "
                         f"no selection until the row is corrected.")
    return "\n".join([f"{email} is not among the applicants:", *lines]) if lines else None
