"""Selection: never-trained first, fair spread over regencies, earlier registration first; waitlist and
promotion."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moodle_sync.exceptions import InputError
from moodle_sync.participants import (
    NOT_SELECTED,
    SELECTED,
    WAITLISTED,
    WITHDRAWN,
    next_in_line,
    promote_from_waitlist,
    select_participants,
)

from .factories import applicant, crowd


def _by_regency(placements) -> Counter:  # type: ignore[no-untyped-def]
    return Counter(p.applicant.regency for p in placements)


def test_quota_is_proportional_with_minimum_and_respects_seats() -> None:
    people = crowd({"bandar-lampung": 60, "lampung-tengah": 30, "mesuji": 2, "pesisir-barat": 8})
    sel = select_participants(people, seats=20, min_per_regency=2)
    assert len(sel.selected) == 20
    # mesuji and pesisir-barat get the minimum of 2 (their proportional shares 0.36 and 1.42 are below it);
    # the other 16 seats go 60:30 -> 10.67 and 5.33 -> 10 + 5, and the last seat to the larger remainder
    assert _by_regency(sel.selected) == {"bandar-lampung": 11, "lampung-tengah": 5, "mesuji": 2, "pesisir-barat": 2}
    assert len(sel.waitlist) == 80 and not sel.not_selected


def test_never_trained_first_across_regencies() -> None:
    people = [applicant(f"t{i}@x.id", "metro", minute=i, trained=True) for i in range(5)]
    people += [applicant(f"n{i}@x.id", "mesuji", minute=100 + i, trained=False) for i in range(3)]
    people += [applicant(f"u{i}@x.id", "metro", minute=200 + i) for i in range(2)]   # no answer: never trained
    sel = select_participants(people, seats=6)
    assert [p.email for p in sel.selected] == ["n0@x.id", "n1@x.id", "n2@x.id", "u0@x.id", "u1@x.id", "t0@x.id"]
    assert [p.tier for p in sel.selected].count("trained") == 1
    assert sel.waitlist[0].email == "t1@x.id"


def test_records_make_someone_trained_and_conflicts_are_flagged() -> None:
    people = [applicant("a@x.id", minute=0, trained=False), applicant("b@x.id", minute=1, nuptk="1" * 16),
              applicant("c@x.id", minute=2, trained=True), applicant("d@x.id", minute=3)]
    records = {" A@x.id ": "completed koding-2025-a1", "1" * 16: "completed koding-2025-b2",
               "c@x.id": "completed ai-2025"}
    sel = select_participants(people, seats=1, previously_trained=records)
    assert [p.email for p in sel.selected] == ["d@x.id"]
    a, b, c = (sel.placement(e) for e in ("a@x.id", "b@x.id", "c@x.id"))
    assert a.trained and a.trained_source == "records: completed koding-2025-a1"
    assert a.conflict == "the form says never trained, but our records say: completed koding-2025-a1"
    assert b.trained and b.conflict is None          # the form did not answer: no conflict
    assert c.trained_source == "form and records: completed ai-2025" and c.conflict is None


def test_earlier_registration_first_within_a_regency() -> None:
    people = [applicant(f"p{i}@x.id", "metro", minute=10 - i, row=i + 2) for i in range(5)]
    sel = select_participants(people, seats=2)
    assert [p.email for p in sel.selected] == ["p4@x.id", "p3@x.id"]
    assert [(p.email, p.rank, p.regency_rank) for p in sel.waitlist] == [
        ("p2@x.id", 1, 1), ("p1@x.id", 2, 2), ("p0@x.id", 3, 3)]


def test_first_submission_time_counts_not_the_correction() -> None:
    early = applicant("a@x.id", minute=50)
    from dataclasses import replace

    from .factories import BASE
    corrected = replace(early, first_submitted_at=BASE)          # registered at minute 0, corrected at 50
    sel = select_participants([applicant("b@x.id", minute=10), corrected], seats=1)
    assert sel.selected[0].email == "a@x.id"


def test_regencies_not_served_trained_excluded_and_waitlist_size() -> None:
    people = [applicant("a@x.id", "metro", minute=0), applicant("b@x.id", "mesuji", minute=1),
              applicant("c@x.id", "metro", minute=2, trained=True), applicant("d@x.id", "metro", minute=3),
              applicant("e@x.id", "metro", minute=4), applicant("f@x.id", "metro", minute=5)]
    sel = select_participants(people, seats=1, regencies=["Kota Metro"], exclude_trained=True, waitlist_size=2)
    assert sel.regencies == ("metro",)
    outcome = {p.email: (p.status, p.cause) for p in sel.placements}
    assert outcome == {
        "a@x.id": (SELECTED, "regency_quota"), "b@x.id": (NOT_SELECTED, "regency_not_offered"),
        "c@x.id": (NOT_SELECTED, "already_trained"), "d@x.id": (WAITLISTED, "waitlist"),
        "e@x.id": (WAITLISTED, "waitlist"), "f@x.id": (NOT_SELECTED, "beyond_waitlist")}
    assert sel.placement("B@X.ID").reason == "Kabupaten Mesuji is not served by this offering"


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="not one of Lampung"):
        select_participants([], seats=1, regencies=["Kota Palembang"])
    with pytest.raises(InputError, match="negative"):
        select_participants([], seats=-1)
    with pytest.raises(InputError, match="share the e-mail"):
        select_participants([applicant("a@x.id"), applicant("a@x.id", minute=1)], seats=1)
    with pytest.raises(InputError, match="not among the applicants"):
        select_participants([], seats=1).placement("x@y.id")


def test_deterministic_whatever_the_input_order() -> None:
    people = crowd({"bandar-lampung": 17, "metro": 9, "mesuji": 3, "way-kanan": 5}, trained_every=4)
    one = select_participants(people, seats=13, min_per_regency=2)
    two = select_participants(list(reversed(people)), seats=13, min_per_regency=2)
    assert one.placements == two.placements and one.tiers == two.tiers


def test_promotion_stays_in_the_regency_of_the_withdrawn_person() -> None:
    people = [applicant("m0@x.id", "mesuji", minute=0), applicant("m1@x.id", "mesuji", minute=10),
              applicant("m2@x.id", "mesuji", minute=11)]
    people += [applicant(f"b{i}@x.id", "bandar-lampung", minute=1 + i) for i in range(6)]
    sel = select_participants(people, seats=4, min_per_regency=1)
    assert [p.email for p in sel.selected] == ["m0@x.id", "b0@x.id", "b1@x.id", "b2@x.id"]
    leaving = next(p for p in sel.selected if p.applicant.regency == "mesuji")
    next_mesuji = next(p for p in sel.waitlist if p.applicant.regency == "mesuji")
    assert sel.waitlist[0].applicant.regency == "bandar-lampung"      # the overall first is elsewhere
    new, promoted = promote_from_waitlist(sel, leaving.email)
    assert promoted is not None and promoted.email == next_mesuji.email == "m1@x.id"
    assert promoted.status == SELECTED and promoted.rank == 4 and promoted.cause == "promoted"
    assert new.placement(leaving.email).status == WITHDRAWN
    assert len(new.selected) == 4 and len(new.waitlist) == len(sel.waitlist) - 1
    assert [p.rank for p in new.waitlist] == list(range(1, len(new.waitlist) + 1))
    assert new.promotions[-1].promoted == promoted.email and "Kabupaten Mesuji" in new.promotions[-1].rule
    assert sel.placement(leaving.email).status == SELECTED               # the input is unchanged


def test_promotion_falls_back_to_the_overall_waitlist_then_the_trained_tier() -> None:
    people = [applicant("m1@x.id", "mesuji", minute=0), applicant("b1@x.id", "metro", minute=1),
              applicant("b2@x.id", "metro", minute=2), applicant("m2@x.id", "mesuji", minute=3, trained=True)]
    sel = select_participants(people, seats=2, min_per_regency=1)
    assert [p.email for p in sel.selected] == ["m1@x.id", "b1@x.id"]
    new, promoted = promote_from_waitlist(sel, "m1@x.id")
    assert promoted is not None and promoted.email == "b2@x.id"          # never-trained elsewhere beats trained here
    new, promoted = promote_from_waitlist(new, "b2@x.id")
    assert promoted is not None and promoted.email == "m2@x.id"
    new, promoted = promote_from_waitlist(new, "b1@x.id")
    assert promoted is None and "waitlist is empty" in new.promotions[-1].rule
    assert len(new.selected) == 1
    with pytest.raises(InputError, match="already withdrawn"):
        promote_from_waitlist(new, "b1@x.id")


def test_withdrawal_from_the_waitlist_promotes_nobody() -> None:
    sel = select_participants(crowd({"metro": 3}), seats=1)
    new, promoted = promote_from_waitlist(sel, sel.waitlist[0].email)
    assert promoted is None and len(new.selected) == 1 and len(new.waitlist) == 1
    assert new.waitlist[0].rank == 1


_regencies = st.sampled_from(["bandar-lampung", "metro", "mesuji", "pesisir-barat", "lampung-tengah"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_regencies, st.sampled_from([True, False, None]), st.integers(0, 500)), max_size=60),
       st.integers(0, 40), st.integers(0, 3), st.booleans())
def test_selection_properties(rows, seats: int, minimum: int, exclude: bool) -> None:  # type: ignore[no-untyped-def]
    people = [applicant(f"p{i}@x.id", regency, minute=minute, trained=trained, row=i + 2)
              for i, (regency, trained, minute) in enumerate(rows)]
    sel = select_participants(people, seats=seats, min_per_regency=minimum, exclude_trained=exclude,
                              regencies=["bandar-lampung", "metro", "mesuji", "lampung-tengah"])
    # every applicant exactly once
    assert sorted(p.email for p in sel.placements) == sorted(a.email for a in people)
    eligible = [p for p in sel.placements if p.cause not in ("regency_not_offered", "already_trained")]
    assert len(sel.selected) == min(seats, len(eligible))
    # never trained first: no trained person selected while a never-trained one waits
    if any(p.trained for p in sel.selected):
        assert not any(not p.trained for p in sel.waitlist)
    # quota: a regency with applicants in the first tier gets at least the (applied) minimum
    first = sel.tiers[0].allocation
    for share in first.shares:
        got = sum(1 for p in sel.selected if p.applicant.regency == share.key and not p.trained)
        assert got == share.seats >= min(first.minimum_applied, share.applicants)
    # ranks are consecutive
    assert [p.rank for p in sel.selected] == list(range(1, len(sel.selected) + 1))
    assert [p.rank for p in sel.waitlist] == list(range(1, len(sel.waitlist) + 1))
    # promotion keeps the number of seats filled while anyone waits
    if sel.selected:
        new, promoted = promote_from_waitlist(sel, sel.selected[0].email)
        assert len(new.selected) == len(sel.selected) - (promoted is None)
        assert (promoted is None) == (not sel.waitlist)
        assert sorted(p.email for p in new.placements) == sorted(a.email for a in people)


def test_next_in_line_is_the_highest_tier_then_the_regency_then_the_order() -> None:
    # (name, regency, choice, trained) in waitlist order
    waiting = [("a", "metro", 1, True), ("b", "pesawaran", 2, False), ("c", "pesawaran", 1, True),
               ("d", "metro", 1, True)]

    def pick(items: list[tuple[str, str, int, bool]], regency: str) -> tuple[str, bool] | None:
        found = next_in_line(items, regency, tier_of=lambda w: (w[2], w[3]), regency_of=lambda w: w[1])
        return (found[0][0], found[1]) if found else None

    assert pick(waiting, "pesawaran") == ("c", True)      # first choice, though trained, before second choice
    assert pick(waiting, "metro") == ("a", True)
    assert pick(waiting, "tanggamus") == ("a", False)     # nobody of the regency: the tier's first overall
    assert pick(waiting[1:2], "metro") == ("b", False)
    assert pick([], "metro") is None
