"""Formula neutralisation and the CSV/XLSX writers."""

from __future__ import annotations

import csv
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from moodle_sync.participants.reader import read_table
from moodle_sync.tabular import Sheet, neutralise, unneutralise, write_csv, write_xlsx


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+6281234567890", "'+6281234567890"),
    ("-", "'-"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("Budi Santoso", "Budi Santoso"),
    ("'quoted", "'quoted"),
    ("", ""),
    (12, 12),
    (-3.5, -3.5),
    (None, None),
])
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


@given(st.text())
def test_unneutralise_reverses_neutralise(text: str) -> None:
    assert unneutralise(neutralise(text)) == text


def test_unneutralise_leaves_other_apostrophes() -> None:
    assert unneutralise("'Aisyah") == "'Aisyah"
    assert unneutralise("''=x") == "''=x"


def test_write_csv_neutralises_and_uses_bom_and_crlf(tmp_path) -> None:
    path = write_csv(tmp_path / "out" / "x.csv", ["nama", "hp", "n", "waktu", "ok"],
                     [["=1+1", "+62812", 5, datetime(2026, 11, 27, 14, 3, 12), True],
                      ["Siti; Aminah", None, -2, None, False]])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["nama", "hp", "n", "waktu", "ok"]
    assert rows[1] == ["'=1+1", "'+62812", "5", "2026-11-27 14:03:12", "1"]
    assert rows[2] == ["Siti; Aminah", "", "-2", "", "0"]


def test_write_csv_semicolon_reads_back_to_the_original_values(tmp_path) -> None:
    path = write_csv(tmp_path / "x.csv", ["hp", "alamat"], [["+6281234567890", "Jl. A\nKec. B; Metro"]],
                     delimiter=";")
    table = read_table(path)
    assert table.delimiter == ";"
    assert table.rows == ((2, ("+6281234567890", "Jl. A\nKec. B; Metro")),)


def test_write_xlsx_stores_text_never_formulas(tmp_path) -> None:
    path = write_xlsx(tmp_path / "x.xlsx", [
        Sheet("Peserta: Terpilih/1", ["Nama", "HP", "No"], [["=HYPERLINK(\"x\")", "+62812", 3]]),
        Sheet("Peserta: Terpilih/1", ["a"], [["-"]]),
    ])
    wb = load_workbook(path)
    assert wb.sheetnames == ["Peserta- Terpilih-1", "Peserta- Terpilih-1 (2)"]
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == ["Nama", "HP", "No"]
    assert ws["A2"].value == "'=HYPERLINK(\"x\")" and ws["A2"].data_type == "s"
    assert ws["B2"].value == "'+62812" and ws["C2"].value == 3
    assert wb.worksheets[1]["A2"].value == "'-"
    table = read_table(path)
    assert table.rows == ((2, ("=HYPERLINK(\"x\")", "+62812", "3")),)


def test_write_xlsx_needs_a_sheet(tmp_path) -> None:
    with pytest.raises(ValueError):
        write_xlsx(tmp_path / "x.xlsx", [])


def test_writers_replace_atomically_and_leave_no_temp_files(tmp_path) -> None:
    target = tmp_path / "x.csv"
    target.write_text("old")
    write_csv(target, ["a"], [["b"]])
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]
    assert "old" not in target.read_text("utf-8-sig")
