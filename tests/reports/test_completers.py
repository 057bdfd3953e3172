"""Completers: the pass rule, names as registered, JP, one row per person, formula-safe rows."""

from __future__ import annotations

import pytest

from moodle_sync.offerings import PassRule, certificate_pattern, pass_rule
from moodle_sync.reports.completers import build_completers, completers_document, rows, with_numbers
from moodle_sync.store import ParticipantRecord
from moodle_sync.templates.problems import OfferingError

from .conftest import DAY, T0, snap

PEOPLE = [ParticipantRecord(email="a@x.id", fullname="Dra. Ani, M.Pd.", nuptk="1234", school="SDN 1",
                            npsn="10800001", status="enrolled")]


def _snaps():  # type: ignore[no-untyped-def]
    return [
        snap(1, "a", completed=True, time_completed=T0 + 9 * DAY, posttest_grade=7.0, posttest_max=10.0),
        snap(1, "a", "metro", completed=True, time_completed=T0 + 5 * DAY, posttest_grade=80.0, posttest_max=100.0),
        snap(2, "b", completed=True, time_completed=T0 + 2 * DAY, posttest_grade=69.9, posttest_max=100.0),
        snap(3, "c", completed=False, posttest_grade=95.0, posttest_max=100.0),
        snap(4, "d", completed=True, time_completed=T0 + 3 * DAY),
        snap(5, "e", completed=True, time_completed=T0 + 1 * DAY, posttest_grade=70.0, posttest_max=100.0),
        snap(6, "f", completed=True, time_completed=T0, posttest_grade=90.0, posttest_max=100.0, role="editingteacher"),
    ]


def test_only_those_who_completed_and_reached_the_mark_pass_in_completion_order() -> None:
    listed = build_completers(_snaps(), PEOPLE, rule=PassRule(70.0), variables={"jp": 40})
    assert [(c.email, c.course_key, c.completed_at) for c in listed] == [
        ("e@x.id", "ls", T0 + DAY), ("a@x.id", "metro", T0 + 5 * DAY)]
    a = listed[1]
    assert (a.name, a.nuptk, a.school, a.jp, a.regency) == ("Dra. Ani, M.Pd.", "1234", "SDN 1", 40, "Kota Metro")


def test_the_rule_is_configurable_through_variables() -> None:
    no_test = build_completers(_snaps(), PEOPLE, rule=pass_rule({"nilai_lulus": None}), variables={})
    assert {c.email for c in no_test} == {"a@x.id", "b@x.id", "d@x.id", "e@x.id"}
    no_completion = pass_rule({"nilai_lulus": 90, "lulus_wajib_selesai": False})
    assert {c.email for c in build_completers(_snaps(), PEOPLE, rule=no_completion, variables={})} == {"c@x.id"}
    with pytest.raises(OfferingError, match="variables.nilai_lulus"):
        pass_rule({"nilai_lulus": 170})
    with pytest.raises(OfferingError, match="variables.nomor_sertifikat"):
        certificate_pattern({"nomor_sertifikat": "BGTK/{tahun}"})
    assert certificate_pattern({}).number(7, 2026, "o") == "0007/BGTK-LPG/2026"
    assert not certificate_pattern({"nomor_sertifikat": "{offering}-{seq}"}).yearly


def test_rows_and_document_carry_the_number() -> None:
    listed = with_numbers(build_completers(_snaps(), PEOPLE, rule=PassRule(), variables={"jp": 40}),
                          {"a@x.id": "0001/BGTK-LPG/2026"})
    assert rows(listed)[1][:4] == ["0001/BGTK-LPG/2026", "Dra. Ani, M.Pd.", "1234", "a@x.id"]
    assert rows(listed)[1][9] == "2026-01-06"
    doc = completers_document("o", listed)
    assert doc["completers"][1] == {**doc["completers"][1], "email": "a@x.id", "jp": 40,
                                    "certificate_number": "0001/BGTK-LPG/2026", "completed_at": T0 + 5 * DAY}


def test_jp_written_as_text_is_kept_and_a_wrong_jp_is_named() -> None:
    assert {c.jp for c in build_completers(_snaps(), PEOPLE, rule=PassRule(), variables={"jp": "40"})} == {40}
    assert {c.jp for c in build_completers(_snaps(), PEOPLE, rule=PassRule(), variables={"jp": "32,5"})} == {32.5}
    assert {c.jp for c in build_completers(_snaps(), PEOPLE, rule=PassRule(), variables={})} == {None}
    for wrong in ("empat puluh", 0, -3, True):
        with pytest.raises(OfferingError, match="variables.jp"):
            build_completers(_snaps(), PEOPLE, rule=PassRule(), variables={"jp": wrong})
