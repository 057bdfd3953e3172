"""The needs survey: reading (every row accounted for), demand cells, shares, proposed seats, quotas written."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.exceptions import InputError
from moodle_sync.offerings import load_offering
from moodle_sync.participants import Table
from moodle_sync.participants.needs import (
    demand_cells,
    profile,
    propose_seats,
    read_survey,
    survey_from_tables,
    topic_totals,
)
from moodle_sync.participants.needs.output import write_quotas

EXAMPLES = Path(__file__).parents[2] / "examples"
HEADER = ("Timestamp", "Kabupaten/Kota", "Jenjang", "Masa Kerja", "Pelatihan yang Dibutuhkan",
          "Apakah Bapak/Ibu pernah mengikuti pelatihan serupa?")


def table(*rows: tuple[str, ...]) -> Table:
    return Table("survey.csv", HEADER, tuple((i + 2, r) for i, r in enumerate(rows)))


def test_rows_accepted_or_rejected_with_row_field_and_reason() -> None:
    survey = survey_from_tables([table(
        ("01/01/2026 07:00:00", "Metro", "SD Negeri", "> 10 tahun", "Koding; Kecerdasan Artifisial; STEM", "Belum"),
        ("01/01/2026 07:01:00", "Kota Palembang", "SD", "12", "Koding", "Belum"),
        ("01/01/2026 07:02:00", "Lamsel", "SMP", "3", "", "Sudah"),
        ("01/01/2026 07:03:00", "Lamsel", "SMP", "lama", "STEM", ""),
        ("01/01/2026 07:04:00", "Lamsel", "Universitas", "3", "STEM", ""))])
    assert survey.rows == 5 and survey.accounted_for and len(survey.respondents) == 1
    r = survey.respondents[0]
    assert (r.regency, r.level, r.years, r.years_band, r.topics, r.trained_before) == (
        "metro", "SD", 11, "> 10", ("Koding", "Kecerdasan Artifisial", "STEM"), False)
    assert [(x.row, x.field) for x in survey.rejected] == [(3, "regency"), (4, "topics"), (5, "years_of_service"),
                                                           (6, "school_level")]
    assert survey.columns["survey.csv"]["topics"] == "Pelatihan yang Dibutuhkan"


def test_a_survey_without_a_topics_column_names_the_file_and_headers() -> None:
    with pytest.raises(InputError) as raised:
        survey_from_tables([Table("s.csv", HEADER[:4], ())])
    assert "topics" in str(raised.value) and "s.csv" in str(raised.value) and "'Masa Kerja'" in str(raised.value)


def test_one_respondent_counts_once_per_topic_and_topics_keep_one_spelling() -> None:
    survey = survey_from_tables([table(
        ("", "Metro", "SD", "12", "Koding; STEM", ""), ("", "Metro", "SD", "15", "koding ,  stem", ""),
        ("", "Metro", "SMP", "2", "Koding", ""))])
    cells = {(c.regency, c.level, c.years_band, c.topic): c.count for c in demand_cells(survey.respondents)}
    assert cells == {("metro", "SD", "> 10", "Koding"): 2, ("metro", "SD", "> 10", "STEM"): 2,
                     ("metro", "SMP", "< 5", "Koding"): 1}
    assert topic_totals(survey.respondents)[0] == {"topic": "Koding", "count": 3, "share": 1.0}


def test_example_survey_has_4511_respondents_52_percent_sd_over_ten_years() -> None:
    survey = read_survey(EXAMPLES / "needs-survey.csv")
    assert len(survey.respondents) == 4511 and len(survey.rejected) == 12 and survey.accounted_for
    top = profile(survey.respondents)[0]
    assert (top["level"], top["years_band"], top["count"], round(top["share"], 2)) == ("SD", "> 10", 2346, 0.52)
    assert {r.regency for r in survey.respondents} == {r.slug for r in load_offering(
        EXAMPLES / "offering-koding.yaml").regencies}   # all 15


def test_propose_shares_seats_by_demand_with_the_minimum() -> None:
    rows = [("", "Metro", "SD", "12", "Literasi Kelautan", "")] * 30 + \
           [("", "Pesisir Barat", "SD", "12", "Literasi Kelautan; STEM", "")] * 2 + \
           [("", "Pesisir Barat", "SMA", "12", "Literasi Kelautan", "")] * 5 + \
           [("", "Mesuji", "SD", "12", "Koding", "")] * 10
    survey = survey_from_tables([table(*rows)])
    p = propose_seats(survey.respondents, names=["Literasi Kelautan 2026", "literasi kelautan"],
                      regencies=["metro", "pesisir-barat", "mesuji"], seats=20, minimum=4, levels=["SD"])
    assert p.topics == ("Literasi Kelautan",) and p.demand == {"metro": 30, "pesisir-barat": 2}
    assert p.quotas == {"metro": 18, "pesisir-barat": 2}           # minimum capped at the demand
    assert p.by_level == {"metro": {"SD": 30}, "pesisir-barat": {"SD": 2}}


def test_write_quotas_replaces_the_block_and_keeps_every_other_line(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    original = "# comment\nid: x\nquotas:\n  metro: 1\n  # old\nseats: 3   # keep\n"
    path.write_text(original, encoding="utf-8")
    write_quotas(path, {"metro": 2, "mesuji": 1}, "proposed")
    text = path.read_text(encoding="utf-8")
    assert text == "# comment\nid: x\nseats: 3   # keep\nquotas:                             # proposed\n" \
                   "  metro: 2\n  mesuji: 1\n"
    write_quotas(path, {"metro": 5}, "again")
    assert path.read_text(encoding="utf-8").count("quotas:") == 1 and "  metro: 5\n" in path.read_text()


def test_examples_are_what_the_script_generates() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_needs_survey",
                                                  Path(__file__).parents[2] / "scripts" / "make_needs_survey.py")
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert (EXAMPLES / "needs-survey.csv").read_bytes() == script.needs_survey()
    assert (EXAMPLES / "registrations-combined.csv").read_bytes() == script.combined_form()
    assert (EXAMPLES / "sekolah-pesisir.csv").read_bytes() == script.coastal_schools()


def test_propose_splits_a_regencys_seats_by_level_when_the_offering_targets_levels(tmp_path: Path) -> None:
    rows = [("", "Metro", "SD", "12", "Koding", "")] * 30 + [("", "Metro", "SMP", "3", "Koding", "")] * 10 + \
           [("", "Pringsewu", "SMP", "3", "Koding", "")] * 5 + [("", "Pringsewu", "SMA", "3", "Koding", "")] * 9
    survey = survey_from_tables([table(*rows)])
    p = propose_seats(survey.respondents, names=["Koding"], regencies=["metro", "pringsewu"], seats=45,
                      levels=["SD", "SMP"])
    assert p.quotas == {"metro": 40, "pringsewu": 5}
    assert p.level_quotas == {"metro": {"SD": 30, "SMP": 10}, "pringsewu": {"SD": 0, "SMP": 5}}
    assert all(sum(p.level_quotas[k].values()) == n for k, n in p.quotas.items())
    one = propose_seats(survey.respondents, names=["Koding"], regencies=["metro"], seats=10, levels=["SD"])
    assert one.level_quotas == {}                                   # one target level: no split
    path = tmp_path / "o.yaml"
    path.write_text("id: x\n", encoding="utf-8")
    write_quotas(path, p.quotas, "proposed", p.level_quotas)
    assert path.read_text(encoding="utf-8").endswith("  metro: {SD: 30, SMP: 10}\n  pringsewu: {SD: 0, SMP: 5}\n")
