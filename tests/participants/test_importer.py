"""Importing registrations: every row in exactly one bucket, de-duplication, the rejects file."""

from __future__ import annotations

import csv
import importlib.util
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest
from openpyxl import Workbook

from moodle_sync.exceptions import InputError
from moodle_sync.participants import (
    default_rejects_path,
    import_registrations,
    import_table,
    read_table,
    write_rejects,
)
from moodle_sync.participants.reader import Table

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "registrations.csv"
HEADER = ("Timestamp", "Alamat email", "Nama Lengkap", "NUPTK", "Kabupaten/Kota", "Nomor HP", "Pernah ikut?")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_registrations", ROOT / "scripts" / "make_registrations.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_registrations"] = module
    spec.loader.exec_module(module)
    return module


def _table(*rows: tuple[str, ...], file: str = "form.csv") -> Table:
    return Table(file, HEADER, tuple((i, r) for i, r in enumerate(rows, start=2)))


def _row(when: str, email: str, name: str = "Budi Santoso", nuptk: str = "", regency: str = "Metro",
         phone: str = "", trained: str = "Belum") -> tuple[str, ...]:
    return (when, email, name, nuptk, regency, phone, trained)


def test_example_file_is_what_the_generator_makes() -> None:
    gen = _generator()
    assert EXAMPLE.read_bytes() == gen.render(gen.generate())


def test_example_file_every_row_gets_its_expected_bucket() -> None:
    gen = _generator()
    expected = {i: row.expect for i, row in enumerate(gen.generate(), start=2)}
    result = import_registrations(EXAMPLE)
    got = {a.row: "accepted" for a in result.accepted}
    got.update({s.applicant.row: "superseded" for s in result.superseded})
    got.update({r.row: f"rejected:{r.field}" for r in result.rejected})
    assert result.accounted_for
    assert result.rows == len(expected) == len(got)
    assert got == expected
    assert 380 <= result.rows <= 450
    assert result.counts["superseded"] >= 30 and result.counts["rejected"] >= 20


def test_example_file_values_are_normalised() -> None:
    result = import_registrations(EXAMPLE)
    for a in result.accepted:
        assert a.email == a.email.strip().lower()
        assert a.phone is None or (a.phone.startswith("+62") and a.phone[1:].isdigit())
        assert a.nuptk is None or (len(a.nuptk) == 16 and a.nuptk.isdigit())
        assert a.firstname and a.lastname
        assert a.registered_at <= a.submitted_at
    schools = {a.school for a in result.accepted}
    assert '=HYPERLINK("https://bit.ly/daftar-guru","SMP Negeri 1 Natar")' in schools   # kept as text
    assert {a.regency for a in result.accepted} >= {"pesisir-barat", "mesuji", "bandar-lampung"}


def test_every_row_in_one_bucket_and_the_latest_submission_wins() -> None:
    table = _table(
        _row("02/11/2026 08:00:00", "budi@gmail.com", nuptk="1234567890123456"),
        _row("03/11/2026 09:00:00", "  BUDI@gmail.com ", regency="Lamsel"),              # same e-mail, later
        _row("02/11/2026 07:00:00", "siti@gmail.com", name="Siti"),
        _row("05/11/2026 10:00:00", "siti.baru@gmail.com", name="Siti", nuptk="9999999999999999"),
        _row("04/11/2026 10:00:00", "siti@gmail.com", name="Siti", nuptk="9999999999999999"),  # links both
        _row("06/11/2026 10:00:00", "bad-email", name="Ani"),
        _row("07/11/2026 10:00:00", "budi@gmail.com", regency="Kota Palembang"),          # rejected: no effect
    )
    result = import_table(table)
    assert result.counts == {"rows": 7, "accepted": 2, "superseded": 3, "rejected": 2}
    budi = next(a for a in result.accepted if a.email == "budi@gmail.com")
    assert (budi.row, budi.regency) == (3, "lampung-selatan")
    assert budi.nuptk is None                       # the kept row is the latest one, as submitted
    assert budi.first_submitted_at == datetime(2026, 11, 2, 8)
    assert budi.registered_at == datetime(2026, 11, 2, 8)
    siti = next(a for a in result.accepted if a.fullname == "Siti")
    assert (siti.row, siti.email, siti.registered_at) == (5, "siti.baru@gmail.com", datetime(2026, 11, 2, 7))
    by_row = {s.applicant.row: (s.by_row, s.matched_on) for s in result.superseded}
    assert by_row == {2: (3, "email"), 4: (5, "linked"), 6: (5, "nuptk")}
    assert [(r.row, r.field) for r in result.rejected] == [(7, "email"), (8, "regency")]


def test_same_timestamp_later_row_wins() -> None:
    result = import_table(_table(_row("02/11/2026 08:00:00", "a@b.id", name="Satu Orang"),
                                 _row("02/11/2026 08:00:00", "a@b.id", name="Dua Orang")))
    assert [a.fullname for a in result.accepted] == ["Dua Orang"]


def test_unusable_phone_is_a_warning_and_unknown_answer_too() -> None:
    result = import_table(_table(_row("02/11/2026 08:00:00", "a@b.id", phone="12345", trained="Lupa")))
    (a,) = result.accepted
    assert a.phone is None and a.trained_before is None
    assert len(a.warnings) == 2 and "phone ignored" in a.warnings[0]


def test_row_with_more_cells_than_the_header_is_rejected() -> None:
    table = Table("f.csv", HEADER, ((2, _row("02/11/2026 08:00:00", "a@b.id") + ("Metro",)),
                                    (3, _row("02/11/2026 08:00:00", "c@b.id") + ("",))))
    result = import_table(table)
    assert [(r.row, r.field) for r in result.rejected] == [(2, "row")]
    assert len(result.accepted) == 1


def test_month_first_file_is_detected() -> None:
    result = import_table(_table(_row("11/27/2026 2:00:00 PM", "a@b.id"), _row("11/03/2026 9:00:00 AM", "c@b.id")))
    assert sorted(a.submitted_at for a in result.accepted) == [datetime(2026, 11, 3, 9), datetime(2026, 11, 27, 14)]


def test_missing_required_column_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "form.csv"
    path.write_text("Timestamp;Email;Nama\n27/11/2026 10:00:00;a@b.id;Budi\n", "utf-8")
    with pytest.raises(InputError, match="regency") as exc:
        import_registrations(path)
    assert exc.value.file == str(path)


def test_mapping_file_and_several_files(tmp_path: Path) -> None:
    one = tmp_path / "gelombang1.csv"
    one.write_text("Waktu;Surel;Siapa nama Anda?;Domisili\n27/11/2026 10:00:00;a@b.id;Budi;Metro\n", "utf-8")
    wb = Workbook()
    wb.active.append(["Waktu", "Surel", "Siapa nama Anda?", "Domisili"])
    wb.active.append([datetime(2026, 11, 28, 9, 0), "A@B.ID", "Budi Santoso", "Kota Metro"])
    wb.active.append([46354.5, "c@d.id", "Siti", "Tubaba"])
    two = tmp_path / "gelombang2.xlsx"
    wb.save(two)
    mapping = tmp_path / "kolom.yaml"
    mapping.write_text("submitted_at: Waktu\nemail: Surel\nfullname: Siapa nama Anda?\nregency: Domisili\n", "utf-8")
    result = import_registrations([one, two], mapping=mapping)
    assert result.counts == {"rows": 3, "accepted": 2, "superseded": 1, "rejected": 0}
    assert {(a.file, a.row) for a in result.accepted} == {(str(two), 2), (str(two), 3)}
    siti = next(a for a in result.accepted if a.email == "c@d.id")
    assert siti.submitted_at == datetime(2026, 11, 28, 12)
    assert result.delimiters == {str(one): ";"}


def test_rejects_file(tmp_path: Path) -> None:
    source = tmp_path / "daftar.csv"
    source.write_text("Timestamp;Email;Nama;Kota;HP\n"
                      "27/11/2026 10:00:00;=HYPERLINK(\"x\");Budi;Metro;+62812\n"
                      "27/11/2026 10:00:00;a@b.id;Siti;Palembang;-\n"
                      "27/11/2026 10:00:00;c@b.id;Ani;Metro;\n", "utf-8")
    result = import_registrations(source)
    path = write_rejects(result, default_rejects_path(source))
    assert path == tmp_path / "daftar.rejects.csv"
    table = read_table(path)
    assert table.delimiter == ";"
    assert table.header == ("file", "row", "field", "reason", "Timestamp", "Email", "Nama", "Kota", "HP")
    assert [c[:3] for _, c in table.rows] == [(str(source), "2", "email"), (str(source), "3", "regency")]
    raw = path.read_text("utf-8-sig")
    assert "\"'=HYPERLINK" in raw and ";'+62812" in raw and ";'-" in raw      # neutralised on disk
    assert table.rows[0][1][5] == "=HYPERLINK(\"x\")"                        # and read back as it was


def test_rejects_file_without_rejects_has_a_header_only(tmp_path: Path) -> None:
    result = import_table(_table(_row("02/11/2026 08:00:00", "a@b.id")))
    path = write_rejects(result, tmp_path / "r.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh)) == [["file", "row", "field", "reason"]]


def test_the_rejects_file_is_private_even_over_an_older_one(tmp_path: Path) -> None:
    import os
    import stat

    result = import_table(_table(_row("02/11/2026 08:00:00", "a@b.id")))
    target = tmp_path / "r.csv"
    target.write_text("old")
    target.chmod(0o644)
    old = os.umask(0o022)
    try:
        paths = [write_rejects(result, target), write_rejects(result, tmp_path / "rejects" / "r.csv")]
    finally:
        os.umask(old)
    assert [stat.S_IMODE(p.stat().st_mode) for p in paths] == [0o600, 0o600]
    assert stat.S_IMODE((tmp_path / "rejects").stat().st_mode) == 0o700


def test_a_row_with_an_oversized_cell_is_rejected_and_the_others_are_read(tmp_path: Path) -> None:
    source = tmp_path / "daftar.csv"
    rows = [_row("02/11/2026 08:00:00", "a@b.id"), _row("02/11/2026 08:01:00", "c@d.id"),
            _row("02/11/2026 08:02:00", "e@f.id")]
    rows[1] = (*rows[1][:2], "y" * 150_000, *rows[1][3:])
    with source.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    result = import_registrations(source)
    assert sorted(a.email for a in result.accepted) == ["a@b.id", "e@f.id"] and result.rows == 3
    (bad,) = result.rejected
    assert (bad.row, bad.field) == (3, HEADER[2]) and "150,000 characters" in bad.reason
    assert "line 3" in bad.reason
    write_rejects(result, tmp_path / "r.csv")
    assert read_table(tmp_path / "r.csv").rows[0][1][:3] == (str(source), "3", HEADER[2])


def test_a_teacher_with_a_note_under_the_name_is_accepted_with_a_warning() -> None:
    result = import_table(_table(_row("02/11/2026 08:00:00", "sri@b.id", name="Sri Siregar\n(wali kelas 5)")))
    (sri,) = result.accepted
    assert not result.rejected and (sri.fullname, sri.firstname, sri.lastname) == ("Sri Siregar", "Sri", "Siregar")
    assert sri.warnings == ("fullname: the note '(wali kelas 5)' after the name was left out",)
