"""Certificate numbers: issued once, stable across reruns, never repeated across offerings of a pattern
and year, safe when two runs issue at once."""

from __future__ import annotations

import threading

import pytest

from moodle_sync.store import Store

PATTERN = "{seq:04d}/BGTK-LPG/{year}"


def _number(year: int):  # type: ignore[no-untyped-def]
    return lambda seq: PATTERN.format(seq=seq, year=year)


def test_numbers_are_issued_once_and_kept_on_rerun(store_url: str) -> None:
    with Store.open(store_url) as store:
        first = store.issue_certificates("o1", [("B@x.id", 10), ("a@x.id", 20)], pattern=PATTERN, year=2026,
                                         number=_number(2026))
        assert {e: c.number for e, c in first.items()} == {"b@x.id": "0001/BGTK-LPG/2026",
                                                           "a@x.id": "0002/BGTK-LPG/2026"}
        again = store.issue_certificates("o1", [("a@x.id", 20), ("c@x.id", 30), ("b@x.id", 10)], pattern=PATTERN,
                                         year=2026, number=_number(2026))
        assert {e: c.number for e, c in again.items()} == {"b@x.id": "0001/BGTK-LPG/2026",
                                                           "a@x.id": "0002/BGTK-LPG/2026",
                                                           "c@x.id": "0003/BGTK-LPG/2026"}
        assert store.certificates("o1") == again


def test_another_offering_continues_the_sequence_and_another_year_restarts_it(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.issue_certificates("o1", [("a@x.id", None)], pattern=PATTERN, year=2026, number=_number(2026))
        o2 = store.issue_certificates("o2", [("a@x.id", None)], pattern=PATTERN, year=2026, number=_number(2026))
        o3 = store.issue_certificates("o3", [("a@x.id", None)], pattern=PATTERN, year=2027, number=_number(2027))
        assert o2["a@x.id"].number == "0002/BGTK-LPG/2026"
        assert o3["a@x.id"].number == "0001/BGTK-LPG/2027"


def test_a_pattern_that_would_repeat_a_number_issues_nothing(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.issue_certificates("o1", [("a@x.id", None)], pattern=PATTERN, year=2026, number=_number(2026))
        with pytest.raises(ValueError, match="already issued"):
            store.issue_certificates("o2", [("a@x.id", None)], pattern="other", year=2026,
                                     number=lambda seq: "0001/BGTK-LPG/2026")
        assert store.certificates("o2") == {}


def test_two_runs_at_once_never_share_a_number(store_url: str) -> None:
    people = [(f"p{i}@x.id", None) for i in range(30)]
    errors: list[BaseException] = []

    def issue(offering: str) -> None:
        try:
            with Store.open(store_url) as store:
                for i in range(0, len(people), 3):
                    store.issue_certificates(offering, people[i:i + 3], pattern=PATTERN, year=2026,
                                             number=_number(2026))
        except Exception as exc:  # noqa: BLE001 - a thread's error is asserted on below  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(o,)) for o in ("o1", "o2")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    with Store.open(store_url) as store:
        numbers = [c.number for o in ("o1", "o2") for c in store.certificates(o).values()]
    assert len(numbers) == 60 and len(set(numbers)) == 60
    assert sorted(numbers) == [f"{n:04d}/BGTK-LPG/2026" for n in range(1, 61)]
