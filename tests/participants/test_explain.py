"""Plain-English explanations of selection results."""

from __future__ import annotations

import pytest

from moodle_sync.exceptions import InputError
from moodle_sync.participants import explain, promote_from_waitlist, select_participants

from .factories import applicant


@pytest.fixture()
def selection():  # type: ignore[no-untyped-def]
    people = [applicant(f"b{i}@x.id", "bandar-lampung", minute=i, trained=False) for i in range(10)]
    people += [applicant("m0@x.id", "mesuji", minute=50), applicant("m1@x.id", "mesuji", minute=51)]
    people += [applicant("t@x.id", "metro", minute=0)]
    # never-trained tier: Bandar Lampung 9 (b1-b9), Mesuji 2; shares 6*9/11 = 4.91 and 1.09 -> 5 and 1
    return select_participants(people, seats=6, min_per_regency=1, regencies=["bandar-lampung", "mesuji"],
                               previously_trained={"b0@x.id": "completed koding-2025-a1"})


def test_selected(selection) -> None:  # type: ignore[no-untyped-def]
    text = explain(selection, "b1@x.id")
    assert "Counts as never trained" in text
    assert "Kota Bandar Lampung had 9 applicant(s) and got 5 seat(s)" in text
    assert "proportional share of 4.91" in text and "largest-remainder" in text
    assert "Result: selected, rank 2 of 6." not in text and "Result: selected, rank 1 of 6." in text
    assert "Rule 3 (earlier registration first): 1st in Kota Bandar Lampung" in text


def test_minimum_and_waitlist(selection) -> None:  # type: ignore[no-untyped-def]
    text = explain(selection, "M1@x.id")
    assert "Kabupaten Mesuji had 2 applicant(s) and got 1 seat(s): a guaranteed minimum of 1, a proportional " \
           "share of 1.09." in text
    assert "the 1 seat(s) of Kabupaten Mesuji in this tier went to applicants who registered earlier" in text
    assert "Result: waitlist position 5 overall (1st in Kabupaten Mesuji)" in text


def test_trained_with_conflict(selection) -> None:  # type: ignore[no-untyped-def]
    text = explain(selection, "b0@x.id")
    assert "Counts as already trained (records: completed koding-2025-a1)" in text
    assert "the form says never trained, but our records say: completed koding-2025-a1; the records win" in text
    assert "No seats were left for the already-trained tier" in text


def test_not_served_and_unknown(selection) -> None:  # type: ignore[no-untyped-def]
    assert "Kota Metro is not one of the regencies this offering serves" in explain(selection, "t@x.id")
    with pytest.raises(InputError):
        explain(selection, "nobody@x.id")


def test_promoted_and_withdrawn(selection) -> None:  # type: ignore[no-untyped-def]
    new, promoted = promote_from_waitlist(selection, "m0@x.id")
    assert promoted is not None
    assert "promoted from waitlist position 5 after m0@x.id withdrew (first on the waitlist of Kabupaten Mesuji)" \
        in explain(new, "m1@x.id")
    assert "Result: withdrew" in explain(new, "m0@x.id")
