"""Classes: at most class_size, nearly equal, regencies (then schools) kept together where possible."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moodle_sync.participants import assign_classes, class_code, select_participants

from .factories import applicant, crowd


@pytest.mark.parametrize("index, code", [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ"),
                                         (702, "AAA")])
def test_class_code(index: int, code: str) -> None:
    assert class_code(index) == code


def test_regencies_kept_together_when_they_fit() -> None:
    people = crowd({"bandar-lampung": 23, "lampung-tengah": 20, "lampung-selatan": 15, "metro": 7, "mesuji": 3,
                    "pesisir-barat": 3, "way-kanan": 9, "tanggamus": 10, "pringsewu": 6, "tulang-bawang-barat": 4,
                    "lampung-barat": 2, "pesawaran": 6, "lampung-utara": 6, "lampung-timur": 3, "tulang-bawang": 3})
    assert len(people) == 120
    classes = assign_classes(people, class_size=30)["main"]
    assert [c.name for c in classes] == ["Kelas A", "Kelas B", "Kelas C", "Kelas D"]
    assert [c.size for c in classes] == [30, 30, 30, 30]
    homes = {}
    for c in classes:
        for regency in c.regencies:
            homes.setdefault(regency, []).append(c.code)
    assert all(len(codes) == 1 for codes in homes.values()), homes


def test_a_large_regency_is_split_at_school_boundaries() -> None:
    people = [applicant(f"s{i}@x.id", "bandar-lampung", school=f"SD Negeri {i % 3 + 1} Metro", npsn=f"1080000{i % 3}",
                        minute=i) for i in range(12)]          # three schools of four
    classes = assign_classes(people, class_size=8)["main"]
    assert [c.size for c in classes] == [6, 6]
    schools = [sorted({a.npsn for a in c.members}) for c in classes]
    split = set(schools[0]) & set(schools[1])
    assert len(split) == 1                                     # only one school had to be split


def test_sizes_are_balanced_and_never_above_the_limit() -> None:
    classes = assign_classes(crowd({"metro": 61}), class_size=30)["main"]
    assert [c.size for c in classes] == [21, 20, 20]


def test_per_course_and_placements_accepted() -> None:
    sel = select_participants(crowd({"metro": 5, "mesuji": 4}), seats=9)
    classes = assign_classes(sel.selected, class_size=3, course_of=lambda a: a.regency, prefix="Kelompok")
    assert list(classes) == ["mesuji", "metro"]
    assert [c.size for c in classes["mesuji"]] == [2, 2]
    assert [c.size for c in classes["metro"]] == [3, 2]
    assert classes["metro"][0].name == "Kelompok A" and classes["metro"][0].course == "metro"


def test_deterministic_and_bad_arguments() -> None:
    people = crowd({"metro": 7, "mesuji": 5, "way-kanan": 4})
    assert assign_classes(people, class_size=5) == assign_classes(list(reversed(people)), class_size=5)
    with pytest.raises(ValueError):
        assign_classes(people, class_size=0)
    with pytest.raises(ValueError, match="twice"):
        assign_classes(people + people[:1], class_size=5)
    assert assign_classes([], class_size=5) == {}


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(["bandar-lampung", "metro", "mesuji", "tanggamus", "pringsewu"]),
                       st.integers(1, 40), min_size=1), st.integers(1, 35))
def test_class_properties(counts: dict[str, int], size: int) -> None:
    people = crowd(counts)
    classes = assign_classes(people, class_size=size)["main"]
    assert sorted(a.email for c in classes for a in c.members) == sorted(a.email for a in people)
    sizes = [c.size for c in classes]
    assert max(sizes) <= size and max(sizes) - min(sizes) <= 1
    assert len(classes) == -(-len(people) // size)
    # each split of a regency fills (and closes) a class, so there are at most classes - 1 splits
    pieces = sum(len(c.regencies) for c in classes)
    assert pieces <= len(counts) + len(classes) - 1
