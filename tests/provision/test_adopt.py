"""Adopted courses: the offering's ``adopt:`` block, the plan that changes nothing, and the evidence items
found by name in older courses."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.evidence.pull import evidence_item
from moodle_sync.offerings import load_offering
from moodle_sync.provision.plan import UNCHANGED, adopted_summary, plan_adoption
from moodle_sync.provision.state import AdoptedState
from moodle_sync.templates.problems import OfferingError
from moodle_sync.ws.moodle import Course, GradeItem, UserGrades

HEAD = """id: koding-2023-lama
template: koding-untuk-guru
title: Koding untuk Guru 2023
batch: Angkatan 1
start: 2023-08-01
end: 2023-11-30
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "adopt.yaml"
    path.write_text(HEAD + text, encoding="utf-8")
    return load_offering(path)


def test_an_adopting_offering_needs_no_category_nor_course_mode(tmp_path: Path) -> None:
    offering = _load(tmp_path, "adopt:\n  idnumbers: {KODING-2023-METRO: metro, KODING-2023-X: Pringsewu}\n"
                               "  category: BGTK Lampung / 2023\n  evidence: {pretest: Pre-test Koding}\n")
    adopt = offering.adopt  # type: ignore[attr-defined]
    assert adopt.idnumbers == (("KODING-2023-METRO", "metro"), ("KODING-2023-X", "pringsewu"))
    assert adopt.category == ("BGTK Lampung", "2023") and (adopt.pretest, adopt.posttest) == ("Pre-test Koding", None)
    assert _load(tmp_path, "adopt:\n  idnumbers: [A, B]\n").adopt.idnumbers == (  # type: ignore[attr-defined]
        ("A", None), ("B", None))


def test_every_problem_of_the_block_is_named_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(OfferingError) as caught:
        _load(tmp_path, "adopt:\n  idnumbers: {A: nowhere}\n  evidense: {}\n")
    text = str(caught.value)
    assert "adopt.yaml:9: adopt.evidense: unknown key (did you mean 'evidence'?)" in text
    assert "adopt.yaml:8: adopt.idnumbers.A: 'nowhere' is not one of Lampung's 15 regencies/cities" in text
    with pytest.raises(OfferingError, match="adopt: names no course"):
        _load(tmp_path, "adopt:\n  evidence: {pretest: x}\n")


def test_without_adopt_category_and_courses_stay_required(tmp_path: Path) -> None:
    with pytest.raises(OfferingError, match="category"):
        _load(tmp_path, "courses: single\n")


def _course(cid: int, idnumber: str, shortname: str) -> Course:
    return Course(cid, f"Course {cid}", shortname, idnumber, 7, startdate=1_690_000_000)


def test_the_plan_of_adopted_courses_changes_nothing_and_names_what_is_missing(tmp_path: Path) -> None:
    state = AdoptedState([(_course(3, "OLD-1", "old1"), "metro"), (_course(4, "", "old2"), None)],
                         ["adopt: no course has the idnumber 'OLD-9'"])
    plan = plan_adoption("o", state)
    assert [(a.op, a.key) for a in plan.actions] == [(UNCHANGED, "OLD-1"), (UNCHANGED, "old2")]
    assert plan.pending == [] and plan.problems == ["adopt: no course has the idnumber 'OLD-9'"]
    assert plan_adoption("o", AdoptedState()).problems == ["adopt: the category holds no course"]
    offering = _load(tmp_path, "adopt:\n  idnumbers: [OLD-1]\n")
    summary = adopted_summary(offering, state, "Pretest", "post")  # type: ignore[arg-type]
    assert summary["adopted"] and [(c["key"], c["moodle_id"], c["regency"], c["start_date"], c["pretest"])
                                   for c in summary["courses"]] == [
        ("OLD-1", 3, "metro", 1_690_000_000, "Pretest"), ("old2", 4, None, 1_690_000_000, "Pretest")]


def _item(idnumber: str, name: str, grade: float) -> GradeItem:
    return GradeItem(1, "mod", "quiz", idnumber, 9, name, grade, 10.0, None, None)


def test_a_test_is_found_by_idnumber_first_then_by_its_name() -> None:
    grades = UserGrades(5, (_item("", "Pre-test  Koding", 4.0), _item("pretest", "Kuis awal", 6.0)))
    assert evidence_item(grades, "pretest").grade == 6.0            # type: ignore[union-attr]
    assert evidence_item(grades, "pre-test koding").grade == 4.0    # type: ignore[union-attr]
    assert evidence_item(grades, "posttest") is None and evidence_item(grades, None) is None
