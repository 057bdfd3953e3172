"""Messy real exports, as an independent tester writes them: each test failed before its fix."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import Workbook

from moodle_sync.offerings import load_offering
from moodle_sync.participants import Table, import_table
from moodle_sync.participants.eligibility import Eligibility, ModelSchool, choice_rank, ineligible
from moodle_sync.participants.needs import propose_seats, read_survey, survey_from_tables, topic_totals
from moodle_sync.participants.normalise import normalise_npsn, parse_years_of_service, years_band
from moodle_sync.participants.selection import select_participants
from moodle_sync.templates.problems import OfferingError

from .factories import applicant, crowd

EXAMPLES = Path(__file__).parents[2] / "examples"
HEADER = ("Timestamp", "Kabupaten/Kota", "Jenjang", "Masa Kerja", "Pelatihan yang Dibutuhkan")


def survey(*rows: tuple[str, ...]):
    return survey_from_tables([Table("s.csv", HEADER, tuple((i + 2, r) for i, r in enumerate(rows)))])


@pytest.mark.parametrize("text,years,band", [
    ("10 tahun 3 bulan", 10, "5-10"), ("8 bulan", 0, "< 5"), ("lebih 10 tahun", 11, "> 10"),
    ("20 tahun lebih", 21, "> 10"), ("belum 1 tahun", 0, "< 5"), ("10 th", 10, "5-10"), ("5-10", 5, "5-10"),
    ("> 10 tahun", 11, "> 10"), ("diatas 10 thn", 11, "> 10")])
def test_years_of_service_with_months_and_loose_bands(text: str, years: int, band: str) -> None:
    assert parse_years_of_service(text) == years and years_band(years) == band


def test_topic_spellings_of_one_topic_are_one_topic_counted_once_per_respondent() -> None:
    s = survey(("", "Metro", "SD", "12", "koding; Coding"),
               ("", "Metro", "SD", "12", "Kecerdasan Artifisial (AI), K.A."),
               ("", "Metro", "SD", "12", "Kecerdasan Artifisial\nKoding"),
               ("", "Metro", "SD", "12", "AI; STEM"))
    totals = {t["topic"]: t["count"] for t in topic_totals(s.respondents)}
    assert totals == {"Koding": 2, "Kecerdasan Artifisial": 3, "STEM": 1}
    assert s.respondents[0].topics == ("Koding",)
    # and an offering named "AI untuk Pendidikan" finds the survey's "Kecerdasan Artifisial"
    p = propose_seats(s.respondents, names=["AI untuk Pendidikan"], regencies=["metro"], seats=5)
    assert p.topics == ("Kecerdasan Artifisial",) and p.demand == {"metro": 3}


def test_a_garbled_years_answer_is_rejected_on_years_even_when_it_mentions_level() -> None:
    s = survey(("", "Metro", "SD", "level tinggi", "Koding"))
    assert [(r.row, r.field) for r in s.rejected] == [(2, "years_of_service")]


def test_npsn_that_lost_its_leading_zero_in_excel_is_read_back() -> None:
    assert normalise_npsn("1234567") == "01234567"
    a = replace(applicant("a@x.id", npsn=normalise_npsn("1234567")))
    assert ineligible(a, Eligibility(schools=("01234567",))) is None


def test_a_multi_select_choice_answer_names_each_programme_ticked() -> None:
    a = applicant("a@x.id")
    assert choice_rank(replace(a, choices=("Koding, Literasi Kelautan",)), ["Literasi Kelautan"]) == 1
    assert choice_rank(replace(a, choices=("Koding;\nAI untuk Pendidikan",)), ["Koding"]) == 1
    assert choice_rank(replace(a, choices=("STEM", "Koding, AI")), ["AI"]) == 2
    assert choice_rank(replace(a, choices=("Koding, AI",)), ["Literasi Kelautan"]) is None


@pytest.mark.parametrize("answer", ["BK", "Guru BK", "B.K.", "Bimbingan dan Konseling", "Bimbingan Konseling (BK)",
                                    "guru bimbingan konseling", "Konselor / BK"])
def test_subject_rules_match_the_ways_people_write_a_subject(answer: str) -> None:
    a = replace(applicant("a@x.id"), subject=answer)
    assert ineligible(a, Eligibility(subjects=("Guru BK",))) is None


@pytest.mark.parametrize("answer,rule", [("B. Inggris", "Bahasa Inggris"), ("Bhs Inggris", "Guru Bahasa Inggris"),
                                         ("English", "Bahasa Inggris"), ("Cakep", "calon kepala sekolah"),
                                         ("Calon Kepsek", "Calon Kepala Sekolah")])
def test_subject_rules_match_abbreviations(answer: str, rule: str) -> None:
    a = replace(applicant("a@x.id"), subject=answer)
    assert ineligible(a, Eligibility(subjects=(rule,))) is None


def test_subject_rules_still_exclude_other_subjects() -> None:
    for answer in ("Bahasa Indonesia", "IPA", "Guru Kelas", ""):
        a = replace(applicant("a@x.id"), subject=answer)
        assert ineligible(a, Eligibility(subjects=("Guru BK", "Bahasa Inggris")))[0] == "subjects"


def test_quotas_summing_to_more_than_the_seats_are_shared_fairly_not_by_name() -> None:
    people = crowd({"metro": 5, "pringsewu": 5, "lampung-tengah": 5})
    sel = select_participants(people, seats=6, regencies=["metro", "pringsewu", "lampung-tengah"],
                              quotas={"metro": 4, "pringsewu": 4, "lampung-tengah": 4})
    assert Counter(p.applicant.regency for p in sel.selected) == {"metro": 2, "pringsewu": 2, "lampung-tengah": 2}
    assert len(sel.selected) + len(sel.waitlist) == 15


def test_a_model_school_with_more_seats_than_applicants_gives_the_rest_to_the_pool() -> None:
    people = [applicant("m@x.id", "metro", npsn="10807001")] + crowd({"metro": 4, "pringsewu": 4}, start=5)
    sel = select_participants(people, seats=5, regencies=["metro", "pringsewu"],
                              model_schools=(ModelSchool("10807001", 10),))
    assert len(sel.selected) == 5 and sel.placement("m@x.id").cause == "model_school"
    assert len(sel.selected) + len(sel.waitlist) == 9


def _offering_with_schools(tmp_path: Path, csv_bytes: bytes, name: str = "schools.csv") -> Path:
    text = (EXAMPLES / "offering-kelautan-pesisir.yaml").read_text(encoding="utf-8")
    (tmp_path / name).write_bytes(csv_bytes)
    text = text.replace("sekolah-pesisir.csv", name)
    path = tmp_path / "o.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_schools_csv_in_windows_1252_with_a_long_npsn_header_is_read(tmp_path: Path) -> None:
    data = "Nama Sekolah;NPSN Sekolah\r\nSD Negeri 1 Pesisir Tengah (Krüi);10801101\r\nSMP Negeri 2;1080112\r\n"
    offering = load_offering(_offering_with_schools(tmp_path, data.encode("cp1252")))
    assert offering.applicants.eligible.schools == ("10801101", "01080112")


def test_a_schools_csv_without_an_npsn_column_is_an_error_not_an_open_door(tmp_path: Path) -> None:
    with pytest.raises(OfferingError) as raised:
        load_offering(_offering_with_schools(tmp_path, b"sekolah,kode\nSD 1,10801101\n"))
    assert "applicants.eligible.schools" in str(raised.value) and "npsn" in str(raised.value).lower()


def test_a_model_schools_csv_in_windows_1252_is_read(tmp_path: Path) -> None:
    text = (EXAMPLES / "offering-koding-model.yaml").read_text(encoding="utf-8").split("model_schools:")[0]
    (tmp_path / "model.csv").write_bytes("NPSN;Nama;Jenjang\r\n10807001;SD Negeri 1 Metro (Pusat) ü;6\r\n"
                                         .encode("cp1252"))
    path = tmp_path / "o.yaml"
    path.write_text(text + "model_schools: model.csv\n", encoding="utf-8")
    with pytest.raises(OfferingError) as raised:     # no seats column: named, not a crash
        load_offering(path)
    assert "model_schools" in str(raised.value)
    data = "NPSN Sekolah;Nama Sekolah;Kursi\r\n10807001;SD Negeri 1 Metro ü;6\r\n"
    (tmp_path / "model.csv").write_bytes(data.encode("cp1252"))
    assert [(m.npsn, m.seats) for m in load_offering(path).applicants.model_schools] == [("10807001", 6)]


def test_an_xlsx_survey_with_a_title_row_and_trailing_empty_rows(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.append(["Rekap Analisis Kebutuhan Pelatihan 2026"])
    ws.merge_cells("A1:E1")
    ws.append(list(HEADER))
    ws.append(["2026-01-12 07:00:00", "Metro", "SD", 12, "Koding, STEM"])
    ws.append(["2026-01-12 07:01:00", "Pringsewu", "SMP", "5-10", "STEM"])
    for _ in range(5):
        ws.append([None, None, None, None, None])
    path = tmp_path / "survey.xlsx"
    book.save(path)
    s = read_survey(path)
    assert s.rows == 2 and len(s.respondents) == 2 and s.accounted_for


def test_a_registration_xlsx_with_a_title_row_is_read() -> None:
    header = ("Timestamp", "Alamat email", "Nama Lengkap", "Kabupaten/Kota")
    table = Table("f.xlsx", ("Pendaftaran Pelatihan Koding",),
                  ((2, header), (3, ("01/06/2026 08:00:00", "a@guru.id", "Ani", "Metro"))))
    result = import_table(table)
    assert [a.email for a in result.accepted] == ["a@guru.id"]


def test_a_choice_answer_on_several_lines_is_one_answer_per_line() -> None:
    header = ("Timestamp", "Alamat email", "Nama Lengkap", "Kabupaten/Kota", "Pilihan Pelatihan")
    rows = ((2, ("01/06/2026 08:00:00", "a@guru.id", "Ani", "Metro", "Koding untuk Guru\nLiterasi Kelautan")),)
    a, = import_table(Table("f.csv", header, rows)).accepted
    assert choice_rank(a, ["Literasi Kelautan"]) == 1 and choice_rank(a, ["Koding untuk Guru"]) == 1


def test_a_short_windows_1252_export_with_one_umlaut_is_read_as_windows_1252(tmp_path: Path) -> None:
    from moodle_sync.participants.reader import read_table

    text = ("Timestamp;Alamat email;Nama Lengkap;Kabupaten/Kota\r\n"
            "01/06/2026 08:02;a1@guru.id;Ani Süsanto;Kab. Tanggamus\r\n")
    (tmp_path / "f.csv").write_bytes(text.encode("cp1252"))
    table = read_table(tmp_path / "f.csv")
    assert table.encoding == "cp1252" and table.rows[0][1][2] == "Ani Süsanto"


def test_propose_shares_all_the_seats_when_the_survey_counts_fewer_respondents() -> None:
    s = survey(*[("", "Metro", "SD", "12", "Koding")] * 6, *[("", "Pringsewu", "SD", "3", "Coding")] * 3)
    p = propose_seats(s.respondents, names=["Koding untuk Guru"], regencies=["metro", "pringsewu"], seats=30)
    assert p.quotas == {"metro": 20, "pringsewu": 10} and p.demand == {"metro": 6, "pringsewu": 3}
    assert [r["demand"] for r in p.to_dict()["regencies"]] == [6, 3]


def test_a_choice_answer_with_a_bracketed_note_means_the_programme() -> None:
    a = replace(applicant("a@x.id"), choices=("Koding untuk Guru (Angkatan 2, 5 Okt - 18 Des 2026)",))
    assert choice_rank(a, ["Koding untuk Guru"]) == 1


def test_a_subject_rule_nobody_matches_is_a_warning_naming_the_rule_and_the_answers() -> None:
    from moodle_sync.participants.eligibility import unmatched_rules

    people = [replace(applicant("a@x.id"), subject="Guru Kelas"), replace(applicant("b@x.id"), subject="BK")]
    rules = Eligibility(subjects=("Guru BK", "Guru Olahraga"), schools=("10801101",))
    assert unmatched_rules(people, rules) == [
        "applicants.eligible.subjects: no applicant's answer matches 'Guru Olahraga' (answers: 'BK', 'Guru Kelas')",
        "applicants.eligible.schools: no applicant's NPSN is on the list of 1 schools"]


@pytest.mark.parametrize("text,slug", [("Lampung Sel.", "lampung-selatan"), ("Lampung Timur (Lamtim)", "lampung-timur"),
                                       ("T. Bawang", "tulang-bawang"), ("1871", "bandar-lampung"),
                                       ("18.71", "bandar-lampung"), ("Tulang Bawang Barat (TBB)", "tulang-bawang-barat")])
def test_more_regency_spellings(text: str, slug: str) -> None:
    from moodle_sync.participants.regency_names import normalise_regency

    assert normalise_regency(text) == slug


def test_a_microsoft_forms_export_with_anonymous_email_and_name_columns() -> None:
    header = ("ID", "Start time", "Completion time", "Email", "Name", "Alamat email", "Nama Lengkap",
              "Kabupaten/Kota")
    rows = ((2, ("1", "6/1/26 8:00:00", "6/1/26 8:03:10", "anonymous", "", "a@guru.id", "Ani", "Metro")),
            (3, ("2", "6/1/26 8:05:00", "6/1/26 8:09:00", "anonymous", "", "b@guru.id", "Budi", "Lamsel")))
    result = import_table(Table("ms.xlsx", header, rows))
    assert result.columns["ms.xlsx"]["submitted_at"] == "Completion time"
    columns = result.columns["ms.xlsx"]
    assert columns["email"] == "Alamat email" and columns["fullname"] == "Nama Lengkap"
    assert [a.email for a in result.accepted] == ["a@guru.id", "b@guru.id"] and not result.rejected


def test_survey_topic_headers_as_forms_ask_and_kobo_option_columns() -> None:
    header = ("Kabupaten/Kota", "Jenjang", "Masa Kerja", "Pelatihan apa yang Bapak/Ibu butuhkan?",
              "Pelatihan apa yang Bapak/Ibu butuhkan?/Koding", "Pelatihan apa yang Bapak/Ibu butuhkan?/STEM")
    s = survey_from_tables([Table("kobo.csv", header, ((2, ("Metro", "SD", "3", "Koding;STEM", "1", "1")),))])
    assert s.columns["kobo.csv"]["topics"] == "Pelatihan apa yang Bapak/Ibu butuhkan?"
    assert s.respondents[0].topics == ("Koding", "STEM")


def test_an_npsn_given_back_its_zero_is_a_warning_on_the_applicant() -> None:
    header = ("Timestamp", "Alamat email", "Nama Lengkap", "Kabupaten/Kota", "NPSN Sekolah")
    rows = ((2, ("01/06/2026 08:00:00", "a@guru.id", "Ani", "Metro", "1234567")),)
    a, = import_table(Table("f.csv", header, rows)).accepted
    assert a.npsn == "01234567" and any("read as 01234567" in w for w in a.warnings)
