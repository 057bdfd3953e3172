"""The offering file and its facilitators CSV: validation with file:line/row: field errors."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from moodle_sync.exceptions import InputError
from moodle_sync.offerings import load_offering, parse_offering, split_name, wib_midnight
from moodle_sync.regions import LAMPUNG
from moodle_sync.templates import OfferingError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

GOOD = """\
id: uji-2026-a1
template: koding-untuk-guru
title: Uji Coba
batch: Angkatan 1
start: 2026-07-06
end: 2026-09-30
category: BGTK Lampung / 2026 / Uji
courses: per-regency
seats: 450
class_size: 30
"""


def write(tmp_path: Path, text: str, csv: str | None = None) -> Path:
    path = tmp_path / "offering.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    if csv is not None:
        (tmp_path / "fasilitator.csv").write_text(textwrap.dedent(csv), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(OfferingError) as info:
        load_offering(path)
    return [str(p) for p in info.value.problems]


def test_example_offering_loads() -> None:
    offering = load_offering(EXAMPLES / "offering-koding.yaml")
    assert offering.id == "koding-2026-a1" and offering.template == "koding-untuk-guru"
    assert offering.mode == "per-regency" and offering.regencies == LAMPUNG
    assert offering.category == ("BGTK Lampung", "2026", "Koding")
    assert (offering.seats, offering.class_size, offering.min_per_regency) == (300, 30, 10)
    assert offering.course_keys == tuple(r.slug for r in LAMPUNG)
    assert all(offering.classes_for(k) == 1 for k in offering.course_keys)     # 20 seats per course
    assert len(offering.facilitators) >= 5
    assert {f.course for f in offering.facilitators} >= {"metro", "bandar-lampung", "way-kanan"}


def test_dates_are_midnight_in_jakarta(tmp_path: Path) -> None:
    offering = load_offering(write(tmp_path, GOOD))
    assert offering.start == dt.date(2026, 7, 6)
    expected = int(dt.datetime(2026, 7, 5, 17, 0, tzinfo=dt.timezone.utc).timestamp())
    assert offering.start_ts == expected == wib_midnight(dt.date(2026, 7, 6))
    assert offering.end_ts - offering.start_ts == (dt.date(2026, 9, 30) - dt.date(2026, 7, 6)).days * 86400


def test_classes_are_derived_from_seats_and_class_size(tmp_path: Path) -> None:
    text = GOOD.replace("seats: 450", "seats: 100").replace("courses: per-regency",
                                                             "courses: per-regency\nregencies: [metro, Mesuji]")
    offering = load_offering(write(tmp_path, text))
    assert offering.course_keys == ("mesuji", "metro")
    assert offering.seats_for("metro") == 50 and offering.classes_for("metro") == 2
    single = load_offering(write(tmp_path, GOOD.replace("per-regency", "single").replace("450", "61")))
    assert single.course_keys == ("main",) and single.classes_for("main") == 3


def test_classes_per_course_number_or_mapping(tmp_path: Path) -> None:
    offering = load_offering(write(tmp_path, GOOD + "classes_per_course: 2\n"))
    assert set(offering.classes_per_course.values()) == {2}
    offering = load_offering(write(tmp_path, GOOD + "classes_per_course: {default: 1, Kota Bandar Lampung: 3}\n"))
    assert offering.classes_for("bandar-lampung") == 3 and offering.classes_for("metro") == 1
    path = write(tmp_path, GOOD + "classes_per_course: {jakarta: 2}\n")
    [problem] = problems(path)
    assert problem.startswith(f"{path}:11: classes_per_course.jakarta: 'jakarta' is not a course of this offering")


def test_every_problem_is_reported_with_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        id: Koding 2026
        template: koding-untuk-guru
        title: Uji
        start: 2026-09-30
        end: 2026-07-06
        category: BGTK Lampung //
        courses: per-kabupaten
        regencies: [metro, jakarta, Metro]
        seats: -5
        colour: blue
        """)
    assert problems(path) == [
        f"{path}:10: colour: unknown key (did you mean 'courses'?)",
        f"{path}:1: batch: required",
        f"{path}:1: id: 'Koding 2026' must be a slug: lower-case letters, digits and '-' (e.g. koding-2026-a1)",
        f"{path}:5: end: 2026-07-06 is not after start 2026-09-30",
        f"{path}:6: category: has an empty category name",
        f"{path}:7: courses: 'per-kabupaten' is not one of per-regency, single",
        f"{path}:8: regencies[1]: 'jakarta' is not one of Lampung's 15 regencies/cities (" + ", ".join(
            r.slug for r in LAMPUNG) + ")",
        f"{path}:8: regencies[2]: metro is listed twice",
        f"{path}:9: seats: must be at least 0",
    ]


def test_error_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("start: 2026-07-06", "start: 6 Juli 2026"))
    with pytest.raises(InputError) as info:
        load_offering(path)
    assert (info.value.file, info.value.row, info.value.field) == (str(path), 5, "start")
    assert "must be a date YYYY-MM-DD" in str(info.value)


def test_impossible_dates_and_datetimes(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("end: 2026-09-30", "end: '2026-02-30'"))
    assert problems(path) == [f"{path}:6: end: '2026-02-30' is not a real date"]
    path = write(tmp_path, GOOD.replace("end: 2026-09-30", "end: 2026-09-30 08:00:00"))
    assert problems(path) == [f"{path}:6: end: must be a date (YYYY-MM-DD) without a time"]


def test_min_per_regency_must_fit_in_the_seats(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "min_per_regency: 31\n")
    assert problems(path) == [(f"{path}:11: min_per_regency: 31 for each of 15 regencies needs 465 seats, "
                               "but there are only 450")]


def test_category_as_list_and_variables(tmp_path: Path) -> None:
    text = GOOD.replace("category: BGTK Lampung / 2026 / Uji", "category: [BGTK Lampung, '2026']")
    offering = load_offering(write(tmp_path, text + "variables: {jp: 24, topik: Scratch}\nvisible: false\n"))
    assert offering.category == ("BGTK Lampung", "2026")
    assert offering.variables == {"jp": 24, "topik": "Scratch"} and offering.visible is False
    path = write(tmp_path, text + "variables: {2jp: 24}\n")
    assert problems(path) == [(f"{path}:11: variables.2jp: variable names are letters, digits and '_' "
                               "(not starting with a digit)")]


def test_plain_mapping_is_accepted() -> None:
    offering = parse_offering({"id": "x-1", "template": "t", "title": "T", "batch": "B", "start": "2026-01-05",
                               "end": "2026-02-05", "category": "A / B", "courses": "single"})
    assert offering.course_keys == ("main",) and offering.seats_for("main") == 0
    with pytest.raises(OfferingError, match="<offering>: courses: required"):
        parse_offering({"id": "x-1", "template": "t", "title": "T", "batch": "B", "start": "2026-01-05",
                        "end": "2026-02-05", "category": "A"})


# Facilitators CSV -------------------------------------------------------------------------------------

def test_facilitators_csv_is_read_relative_to_the_offering(tmp_path: Path) -> None:
    csv = """\
        email;nama;kabupaten;kelas
        Rina.K@Guru.Belajar.ID;Rina Kusumawati;Kota Metro;a
        agus@example.org;"Dr. Agus Salim, M.Pd.";pringsewu;
        made@example.org;Sukarmi;mesuji;Kelas Mesuji A
        """
    offering = load_offering(write(tmp_path, GOOD + "facilitators: fasilitator.csv\n", csv))
    rina, agus, made = offering.facilitators
    assert (rina.email, rina.course, rina.class_ref, rina.class_letter) == ("rina.k@guru.belajar.id", "metro",
                                                                            "A", "A")
    assert (rina.file, rina.row) == (str(tmp_path / "fasilitator.csv"), 2)
    assert (agus.firstname, agus.lastname, agus.class_ref) == ("Dr. Agus", "Salim, M.Pd.", None)
    assert (made.firstname, made.lastname, made.class_ref, made.class_letter) == ("Sukarmi", "-",
                                                                                  "Kelas Mesuji A", None)
    assert made.name == "Sukarmi" and agus.name == "Dr. Agus Salim, M.Pd."


def test_facilitator_rows_are_validated_with_row_and_field(tmp_path: Path) -> None:
    csv = """\
        email,name,course,class
        rina@guru.belajar.id,Rina,metro,A
        bukan-email,Agus,metro,A
        sari@example.org,,metro,A
        budi@example.org,Budi,jakarta,A
        rina@guru.belajar.id,Rina,metro,a
        rina@guru.belajar.id,Rina Wati,pringsewu,A
        dewi@example.org,Dewi,metro,C
        """
    path = write(tmp_path, GOOD + "facilitators: fasilitator.csv\n", csv)
    csv_path = tmp_path / "fasilitator.csv"
    assert problems(path) == [
        f"{csv_path}:3: email: 'bukan-email' is not an e-mail address",
        f"{csv_path}:4: name: required",
        (f"{csv_path}:5: course: 'jakarta' is not a course of this offering (expected a regency slug or name of "
         "this offering)"),
        f"{csv_path}:6: email: rina@guru.belajar.id is already given for this course and class on row 2",
        f"{csv_path}:7: name: rina@guru.belajar.id is called 'Rina' on row 2: one person, one name",
        f"{csv_path}:8: class: class C does not exist: course metro has 1 class",
    ]


def test_facilitators_csv_needs_its_columns(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "facilitators: fasilitator.csv\n", "surel,kelas\nx@example.org,A\n")
    csv_path = tmp_path / "fasilitator.csv"
    assert problems(path) == [f"{csv_path}:1: course: missing column (header: surel, kelas)",
                              f"{csv_path}:1: name: missing column: give name, or firstname and lastname"]


def test_missing_or_non_utf8_facilitators_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "facilitators: tidak-ada.csv\n")
    [problem] = problems(path)
    assert problem.startswith(f"{tmp_path / 'tidak-ada.csv'}: cannot read facilitators file")
    (tmp_path / "fasilitator.csv").write_bytes("email,name,course\nx@example.org,Jos\xe9,metro\n".encode("latin-1"))
    path = write(tmp_path, GOOD + "facilitators: fasilitator.csv\n")
    [problem] = problems(path)
    assert "not UTF-8 text" in problem


def test_single_course_facilitators_use_main(tmp_path: Path) -> None:
    text = GOOD.replace("per-regency", "single").replace("450", "60")
    csv = "email,name,course,class\na@example.org,Ani,main,B\nb@example.org,Budi,,A\nc@example.org,Cici,metro,A\n"
    path = write(tmp_path, text + "facilitators: fasilitator.csv\n", csv)
    [problem] = problems(path)
    assert problem == (f"{tmp_path / 'fasilitator.csv'}:4: course: 'metro' is not a course of this offering "
                       "(expected main)")


@pytest.mark.parametrize("name, expected", [
    ("Rina Kusumawati", ("Rina", "Kusumawati")),
    ("Sukarno", ("Sukarno", "-")),
    ("Tukiyem, S.Pd.", ("Tukiyem", "S.Pd.")),
    ("I Made  Suardana", ("I Made", "Suardana")),
    ("Dra. Siti Aminah, M.Pd.", ("Dra. Siti", "Aminah, M.Pd.")),
    ("Dra. Siti Aminah,M.Pd.", ("Dra. Siti", "Aminah, M.Pd.")),
])
def test_split_name(name: str, expected: tuple[str, str]) -> None:
    assert split_name(name) == expected
