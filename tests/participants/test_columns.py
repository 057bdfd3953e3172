"""Recognising columns from free-text headers, and the mapping file."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.exceptions import InputError
from moodle_sync.participants.columns import detect_columns, load_mapping, resolve_columns

GOOGLE_FORM_ID = [
    "Stempel waktu", "Alamat email", "Nama Lengkap (beserta gelar)", "NUPTK", "Asal Sekolah", "NPSN Sekolah",
    "Alamat Sekolah", "Kabupaten/Kota", "Jenjang", "Nomor HP/WhatsApp", "Mata Pelajaran yang Diampu",
    "Apakah Bapak/Ibu pernah mengikuti pelatihan Koding sebelumnya?", "Nama Kepala Sekolah",
]
ENGLISH = ["Timestamp", "Email Address", "Full name", "School", "Regency/City", "School level", "Phone number",
           "Have you attended this training before?"]


def test_indonesian_google_form_headers() -> None:
    cmap = resolve_columns(GOOGLE_FORM_ID, file="f.csv")
    assert cmap.header == {
        "submitted_at": "Stempel waktu", "email": "Alamat email", "fullname": "Nama Lengkap (beserta gelar)",
        "nuptk": "NUPTK", "npsn": "NPSN Sekolah", "school": "Asal Sekolah", "regency": "Kabupaten/Kota",
        "school_level": "Jenjang", "phone": "Nomor HP/WhatsApp",
        "trained_before": "Apakah Bapak/Ibu pernah mengikuti pelatihan Koding sebelumnya?",
        "subject": "Mata Pelajaran yang Diampu",
    }
    assert list(cmap.index) == ["submitted_at", "email", "fullname", "nuptk", "npsn", "school", "regency",
                                "school_level", "phone", "trained_before", "subject"]


def test_english_headers() -> None:
    cmap = resolve_columns(ENGLISH, file="f.csv")
    assert cmap.header["email"] == "Email Address"
    assert cmap.header["fullname"] == "Full name"
    assert cmap.header["regency"] == "Regency/City"
    assert cmap.header["school_level"] == "School level"
    assert cmap.header["trained_before"] == "Have you attended this training before?"


def test_value_of_a_short_row() -> None:
    cmap = resolve_columns(["Timestamp", "Email", "Nama", "Kota", "NUPTK"], file="f.csv")
    assert cmap.value(("t", "e", "n", "k"), "nuptk") == ""
    assert cmap.value(("t", "e", "n", "k"), "phone") is None


def test_missing_required_field_names_file_and_headers() -> None:
    with pytest.raises(InputError) as exc:
        resolve_columns(["Timestamp", "Surel", "Sekolah"], file="daftar.csv")
    text = str(exc.value)
    assert exc.value.file == "daftar.csv"
    assert "fullname, regency" in text
    assert "1: 'Timestamp'; 2: 'Surel'; 3: 'Sekolah'" in text
    assert "--mapping" in text


def test_ambiguous_columns_need_a_mapping() -> None:
    header = ["Timestamp", "Email Address", "Alamat email aktif", "Nama", "Kota"]
    with pytest.raises(InputError, match="email: 'Email Address' / 'Alamat email aktif'"):
        resolve_columns(header, file="f.csv")
    cmap = resolve_columns(header, file="f.csv", mapping={"email": "alamat  EMAIL aktif"})
    assert cmap.index["email"] == 2


def test_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "kolom.yaml"
    path.write_text("timestamp: Waktu isi\nname: Siapa nama Anda?\nregency: Domisili\nphone: null\n", "utf-8")
    mapping = load_mapping(path)
    assert mapping == {"submitted_at": "Waktu isi", "fullname": "Siapa nama Anda?", "regency": "Domisili",
                       "phone": None}
    header = ["Waktu isi", "Email", "Siapa nama Anda?", "Domisili", "No. HP"]
    cmap = resolve_columns(header, file="f.csv", mapping=mapping)
    assert cmap.index == {"submitted_at": 0, "email": 1, "fullname": 2, "regency": 3}


def test_mapping_under_columns_key(tmp_path: Path) -> None:
    path = tmp_path / "kolom.yaml"
    path.write_text("columns:\n  email: Surel\n", "utf-8")
    assert load_mapping(path) == {"email": "Surel"}


@pytest.mark.parametrize("text, message", [
    ("- a\n- b\n", "must be a mapping"), ("colour: Warna\n", "unknown field 'colour'"),
    ("email: [a, b]\n", "must be text"), ("email: 'unclosed\n", "not valid YAML"),
])
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "kolom.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(InputError, match=message) as exc:
        load_mapping(path)
    assert exc.value.file == str(path)


def test_mapping_names_a_header_that_is_not_there() -> None:
    with pytest.raises(InputError, match="mapping \\(kolom.yaml\\) names the header 'Surel'.*Headers found: 1: "
                                         "'Timestamp'"):
        resolve_columns(["Timestamp", "Email"], file="f.csv", mapping={"email": "Surel"},
                        mapping_file="kolom.yaml")


def test_unreadable_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the mapping file"):
        load_mapping(tmp_path / "missing.yaml")


def test_detect_ignores_addresses_and_headmasters() -> None:
    found = detect_columns(["Alamat Sekolah", "Nama Kepala Sekolah", "Alamat email", "Nama Sekolah"])
    assert found == {"email": [2], "school": [3]}


def test_programme_choice_service_and_subject_headers() -> None:
    header = ["Timestamp", "Alamat email", "Nama Lengkap", "Kabupaten/Kota", "Pilihan Pelatihan",
              "Pilihan Kedua", "Masa Kerja", "Mata Pelajaran / Peran", "Jabatan"]
    cmap = resolve_columns(header, file="f.csv")
    assert cmap.header["choice"] == "Pilihan Pelatihan" and cmap.header["choice2"] == "Pilihan Kedua"
    assert cmap.header["years_of_service"] == "Masa Kerja"
    assert cmap.header["subject"] == "Mata Pelajaran / Peran"   # "Jabatan" alone stays ignored
    assert resolve_columns(["Timestamp", "Email", "Nama", "Kabupaten", "Program yang dipilih"],
                           file="g.csv").header["choice"] == "Program yang dipilih"
