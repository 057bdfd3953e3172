"""Seats per regency: proportional, with a minimum, largest remainder."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodle_sync.participants.allocation import allocate_seats


def _seats(alloc) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {s.key: s.seats for s in alloc.shares}


def test_largest_remainder_textbook_case() -> None:
    alloc = allocate_seats({"a": 50, "b": 30, "c": 20}, 7)
    # exact shares 3.5, 2.1, 1.4 -> 3, 2, 1 and the one left over goes to the largest remainder (a)
    assert [s.share for s in alloc.shares] == [Fraction(7, 2), Fraction(21, 10), Fraction(7, 5)]
    assert _seats(alloc) == {"a": 4, "b": 2, "c": 1}
    assert [s.remainder_seat for s in alloc.shares] == [True, False, False]


def test_remainder_ties_go_to_more_applicants_then_by_key() -> None:
    assert _seats(allocate_seats({"a": 1, "b": 1, "c": 1}, 2)) == {"a": 1, "b": 1, "c": 0}
    assert _seats(allocate_seats({"a": 2, "b": 4, "c": 2, "d": 4}, 3)) == {"a": 1, "b": 1, "c": 0, "d": 1}
    # shares 0.5 and 1.5: equal remainders, the regency with more applicants gets the seat
    assert _seats(allocate_seats({"a": 1, "b": 3}, 2)) == {"a": 0, "b": 2}


def test_minimum_is_guaranteed_and_capped_at_applicants() -> None:
    alloc = allocate_seats({"big": 100, "one": 1, "two": 2}, 10, minimum=2)
    assert _seats(alloc) == {"big": 7, "one": 1, "two": 2}
    assert {s.key: s.floor for s in alloc.shares} == {"big": 2, "one": 1, "two": 2}
    assert alloc.minimum_applied == 2


def test_minimum_does_not_add_to_a_share_that_is_already_larger() -> None:
    # proportional shares 6 and 4 are both above the minimum of 2: the minimum changes nothing
    assert _seats(allocate_seats({"a": 60, "b": 40}, 10, minimum=2)) == {"a": 6, "b": 4}


def test_minimum_that_does_not_fit_is_lowered_for_everyone() -> None:
    alloc = allocate_seats({k: 10 for k in "abcde"}, 7, minimum=2)
    assert alloc.minimum_applied == 1
    assert sorted(_seats(alloc).values()) == [1, 1, 1, 2, 2]
    alloc = allocate_seats({k: 10 for k in "abcde"}, 4, minimum=1)
    assert alloc.minimum_applied == 0 and _seats(alloc) == {"a": 1, "b": 1, "c": 1, "d": 1, "e": 0}


def test_seats_won_earlier_count_toward_the_minimum() -> None:
    alloc = allocate_seats({"a": 10, "b": 10}, 4, minimum=3, already={"a": 3})
    assert {s.key: s.floor for s in alloc.shares} == {"a": 0, "b": 3}
    assert _seats(alloc) == {"a": 1, "b": 3}


def test_enough_seats_for_everyone_and_empty_regencies() -> None:
    alloc = allocate_seats({"a": 3, "b": 0, "c": 2}, 10, minimum=1)
    assert _seats(alloc) == {"a": 3, "c": 2}
    assert alloc.seats == 5


def test_negative_numbers_are_refused() -> None:
    with pytest.raises(ValueError):
        allocate_seats({"a": 1}, -1)


@given(st.dictionaries(st.sampled_from("abcdefghijklmno"), st.integers(0, 40), max_size=15),
       st.integers(0, 200), st.integers(0, 5))
def test_allocation_properties(demand: dict[str, int], seats: int, minimum: int) -> None:
    alloc = allocate_seats(demand, seats, minimum=minimum)
    got = _seats(alloc)
    total = sum(demand.values())
    assert sum(got.values()) == min(seats, total)
    for s in alloc.shares:
        assert 0 <= s.seats <= demand[s.key]
        assert s.seats >= min(alloc.minimum_applied, demand[s.key])
        assert abs(s.seats - s.share) < 1                  # largest remainder: never off by a whole seat
    if seats < total:
        assert sum(min(minimum, d) for d in demand.values()) <= seats or alloc.minimum_applied < minimum
    assert allocate_seats(dict(reversed(list(demand.items()))), seats, minimum=minimum) == alloc
