"""``moodle-sync needs``: the JSON contract, the files, and --propose writing quotas that select then uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from moodle_sync.offerings import load_offering

from .conftest import run, run_json

EXAMPLES = Path(__file__).parents[2] / "examples"
SURVEY = str(EXAMPLES / "needs-survey.csv")


def test_needs_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "needs", SURVEY)
    assert code == 0
    assert doc["rows"] == 4523 and doc["respondents"] == 4511 and len(doc["rejected"]) == 12
    assert all({"file", "row", "field", "reason"} <= set(r) for r in doc["rejected"])
    assert all(set(c) == {"regency", "level", "years_band", "topic", "count"} for c in doc["cells"])
    # one respondent counts once per topic chosen: the cells add up to the topics' totals
    assert sum(c["count"] for c in doc["cells"]) == sum(t["count"] for t in doc["topics"])
    assert doc["profile"][0]["level"] == "SD" and doc["profile"][0]["years_band"] == "> 10"


def test_needs_table_csv_xlsx_html(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "needs", SURVEY)
    assert code == 0 and "4511 respondents, 12 rejected" in out and "52.0%" in out
    for fmt in ("csv", "xlsx", "html"):
        target = tmp_path / f"needs.{fmt}"
        code, out, err = run(capsys, "needs", SURVEY, "--format", fmt, "-o", str(target), "--lang", "en")
        assert code == 0, err
        assert target.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "needs.csv").read_text(encoding="utf-8-sig").startswith("regency,level,years_band,topic,count")
    book = load_workbook(tmp_path / "needs.xlsx")
    assert book.sheetnames == ["Topic", "Who answered", "Regency-city", "cells", "Rejected"]
    assert book["Topic"].max_row == 8 and book["Rejected"].max_row == 13
    page = (tmp_path / "needs.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "<h2>Who answered</h2>" in page and "Kota Palembang" in page


def test_propose_writes_quotas_and_select_uses_them(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    sandbox_env: object, store_path: Path) -> None:
    folder = tmp_path / "ex"
    folder.mkdir()
    for name in ("offering-kelautan-pesisir.yaml", "sekolah-pesisir.csv"):
        shutil.copy(EXAMPLES / name, folder / name)
    offering = folder / "offering-kelautan-pesisir.yaml"
    offering.write_text(offering.read_text(encoding="utf-8").split("quotas:")[0], encoding="utf-8")
    before = offering.read_text(encoding="utf-8")
    code, doc = run_json(capsys, "needs", SURVEY, "--propose", str(offering), "--dry-run")
    assert code == 0 and doc["written"] is None and offering.read_text(encoding="utf-8") == before
    code, doc = run_json(capsys, "needs", SURVEY, "--propose", str(offering))
    assert code == 0 and doc["proposal"]["topics"] == ["Literasi Kelautan"]
    quotas = load_offering(offering).applicants.quotas
    assert quotas == doc["quotas"] and sum(quotas.values()) == 30 and all(n >= 2 for n in quotas.values())
    assert offering.read_text(encoding="utf-8").startswith(before.rstrip("\n"))   # the rest as it was
    code, sel = run_json(capsys, "select", str(offering), "--applicants", str(EXAMPLES / "registrations-combined.csv"),
                         "--dry-run", "--no-moodle-history")
    first = sel["selection"]["quotas"][0]
    assert code == 0 and first["tier"] == "never_trained"
    assert all(r["seats"] <= quotas[r["regency"]] for r in first["regencies"])


def test_propose_without_a_matching_topic_says_use_topic(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    offering = tmp_path / "o.yaml"
    shutil.copy(EXAMPLES / "offering-koding.yaml", offering)
    shutil.copy(EXAMPLES / "facilitators.csv", tmp_path / "facilitators.csv")
    code, _out, err = run(capsys, "needs", SURVEY, "--propose", str(offering), "--topic", "Robotika")
    assert code == 1 and "--topic" in err
    code, doc = run_json(capsys, "needs", SURVEY, "--propose", str(offering), "--dry-run")
    assert code == 0 and doc["proposal"]["topics"] == ["Koding"] and sum(doc["quotas"].values()) == 300


# the template's aliases: default choice answers and survey topics ------------------------------------

def koding_offering(folder: Path) -> Path:
    """A copy of the Koding example (its template declares aliases such as Coding and Pemrograman)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / "facilitators.csv", folder / "facilitators.csv")
    return Path(shutil.copy(EXAMPLES / "offering-koding.yaml", folder / "offering.yaml"))


def test_select_takes_a_template_alias_as_a_choice_answer(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                          sandbox_env: object, store_path: Path) -> None:
    form = tmp_path / "form.csv"
    form.write_text("Timestamp,Alamat email,Nama Lengkap,Kabupaten/Kota,Jenjang,Pilihan Pelatihan\n"
                    "01/06/2026 08:00,a@guru.id,Ani Lestari,Kota Metro,SD,Coding\n"
                    "01/06/2026 08:01,b@guru.id,Budi Santoso,Kota Metro,SD,pemrograman!\n"
                    "01/06/2026 08:02,c@guru.id,Citra Dewi,Kota Metro,SD,Literasi Kelautan\n", encoding="utf-8")
    code, doc = run_json(capsys, "select", str(koding_offering(tmp_path / "o")), "--applicants", str(form),
                         "--dry-run", "--no-moodle-history")
    assert code == 0
    assert {e["email"] for e in doc["selected"]} == {"a@guru.id", "b@guru.id"}
    assert [e["email"] for e in doc["other_programme"]] == ["c@guru.id"]


SMALL_SURVEY = ("Wilayah,Tingkat,Lama Mengajar,Minat\n"
                "Kota Metro,SD,12,Pemrograman; STEM\n"
                "Kota Metro,SMP,3,Pemrograman\n"
                "Pringsewu,SD,> 10 tahun,STEM\n"
                "Pringsewu,SD,7,\n")
SURVEY_MAPPING = "regency: Wilayah\nschool_level: Tingkat\nyears_of_service: Lama Mengajar\ntopics: Minat\n"


def test_propose_finds_the_offering_by_its_template_alias(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    survey = tmp_path / "survei.csv"
    survey.write_text(SMALL_SURVEY, encoding="utf-8")
    (tmp_path / "map.yaml").write_text(SURVEY_MAPPING, encoding="utf-8")
    code, doc = run_json(capsys, "needs", str(survey), "--mapping", str(tmp_path / "map.yaml"),
                         "--propose", str(koding_offering(tmp_path / "o")), "--dry-run")
    assert code == 0
    demand = {r["regency"]: r["demand"] for r in doc["proposal"]["regencies"]}
    assert doc["proposal"]["topics"] == ["Pemrograman"] and demand["metro"] == 2 and not demand.get("pringsewu")


# --mapping: the survey's headers named as registrations name theirs ----------------------------------

def test_needs_mapping_names_the_survey_columns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    survey = tmp_path / "survei.csv"
    survey.write_text(SMALL_SURVEY, encoding="utf-8")
    code, _out, err = run(capsys, "needs", str(survey), "--json")
    assert code == 1 and "required survey column(s)" in err
    mapping = tmp_path / "map.yaml"
    mapping.write_text(SURVEY_MAPPING, encoding="utf-8")
    code, doc = run_json(capsys, "needs", str(survey), "--mapping", str(mapping))
    assert code == 0 and doc["rows"] == 4 and doc["respondents"] == 3
    assert [(r["row"], r["field"]) for r in doc["rejected"]] == [(5, "topics")]
    assert {(c["regency"], c["topic"]): c["count"] for c in doc["cells"] if c["level"] == "SD"} == {
        ("metro", "Pemrograman"): 1, ("metro", "STEM"): 1, ("pringsewu", "STEM"): 1}


def test_needs_mapping_errors_name_the_file_and_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    survey = tmp_path / "survei.csv"
    survey.write_text(SMALL_SURVEY, encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(SURVEY_MAPPING.replace("Minat", "Topik yang Diminati"), encoding="utf-8")
    code, _out, err = run(capsys, "needs", str(survey), "--mapping", str(mapping))
    assert code == 1 and str(survey) in err and "'Topik yang Diminati' for topics" in err
    mapping.write_text(SURVEY_MAPPING + "email: Surel\n", encoding="utf-8")
    code, _out, err = run(capsys, "needs", str(survey), "--mapping", str(mapping))
    assert code == 1 and str(mapping) in err and "unknown field 'email'" in err


# --propose per level: the offering targets SD and SMP ----------------------------------------------

def test_propose_writes_seats_per_level_and_select_honours_them_the_same_on_a_rerun(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, sandbox_env: object, store_path: Path) -> None:
    offering = Path(shutil.copy(EXAMPLES / "offering-koding-model.yaml", tmp_path / "offering.yaml"))
    code, doc = run_json(capsys, "needs", SURVEY, "--propose", str(offering))
    assert code == 0 and doc["written"] == str(offering)
    rules = load_offering(offering).applicants
    assert set(rules.level_quotas) == {"metro", "pringsewu", "lampung-tengah"}
    assert {k: dict(v) for k, v in rules.level_quotas.items()} == doc["level_quotas"]
    assert all(set(v) == {"SD", "SMP"} and sum(v.values()) == rules.quotas[k] for k, v in rules.level_quotas.items())
    assert sum(rules.quotas.values()) == 36 - 12                       # the seats less the model schools'
    runs = []
    for _ in range(2):
        code, sel = run_json(capsys, "select", str(offering), "--applicants",
                             str(EXAMPLES / "registrations-combined.csv"), "--dry-run", "--no-moodle-history")
        assert code == 0
        runs.append([(e["email"], e["rank"]) for e in sel["selected"]])
    assert runs[0] == runs[1] and len(runs[0]) == 36
