"""Reading CSV (delimiters, encodings, line ends, quoted line breaks) and XLSX form exports."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from moodle_sync.exceptions import InputError
from moodle_sync.participants.reader import decode_bytes, read_table, sniff_delimiter

HEADER = ["Timestamp", "Alamat email", "Nama Lengkap (beserta gelar)", "Kabupaten/Kota"]


def _write(tmp_path: Path, text: str, *, encoding: str = "utf-8", name: str = "form.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    lines = [delimiter.join(HEADER), delimiter.join(["27/11/2026 14:03:12", "a@b.id", "Budi, S.Pd.", "Metro"])]
    if delimiter == ",":
        lines[1] = "27/11/2026 14:03:12,a@b.id,\"Budi, S.Pd.\",Metro"
    table = read_table(_write(tmp_path, "\n".join(lines) + "\n"))
    assert table.delimiter == delimiter
    assert table.header == tuple(HEADER)
    assert table.rows == ((2, ("27/11/2026 14:03:12", "a@b.id", "Budi, S.Pd.", "Metro")),)


def test_semicolon_wins_over_commas_inside_values() -> None:
    text = "Nama, beserta gelar;Email;Kota\nBudi, S.Pd., M.Pd.;a@b.id;Metro\nSiti, S.Pd.;c@d.id;Metro\n"
    assert sniff_delimiter(text) == ";"


def test_bom_crlf_and_embedded_line_breaks_keep_spreadsheet_row_numbers(tmp_path: Path) -> None:
    text = ("\ufeffTimestamp;Email;Alamat Sekolah;Kota\r\n"
            "27/11/2026 14:03:12;a@b.id;\"Jl. Raya 1\r\nKec. Metro; Kota Metro\";Metro\r\n"
            "\r\n"
            ";;;\r\n"
            "27/11/2026 15:00:00;c@d.id;\"Jl. \"\"Baru\"\" 2\";Metro\r\n")
    table = read_table(_write(tmp_path, text))
    assert table.encoding == "utf-8-sig"
    assert table.header[0] == "Timestamp"   # no BOM left on the first header
    assert [r for r, _ in table.rows] == [2, 5]
    assert table.rows[0][1][2] == "Jl. Raya 1\r\nKec. Metro; Kota Metro"
    assert table.rows[1][1][2] == "Jl. \"Baru\" 2"


def test_cp1252_file(tmp_path: Path) -> None:
    text = "Timestamp;Email;Nama;Kota\n27/11/2026 14:03:12;a@b.id;Nur’aini Café;Metro\n"
    table = read_table(_write(tmp_path, text, encoding="cp1252"))
    assert table.rows[0][1][2] == "Nur’aini Café"
    assert table.encoding in ("cp1252", "windows-1252")


def test_latin1_file(tmp_path: Path) -> None:
    text = "Timestamp,Email,Nama,Kota\n27/11/2026 14:03:12,a@b.id,José Müller,Metro\n" * 1
    table = read_table(_write(tmp_path, text, encoding="latin-1"))
    assert table.rows[0][1][2] == "José Müller"
    assert table.encoding in ("cp1252", "latin_1", "iso8859_15")


@pytest.mark.parametrize("encoding, bom", [("utf-16-le", "\ufeff"), ("utf-16-le", ""), ("utf-16-be", "")])
def test_utf16_tab_export(tmp_path: Path, encoding: str, bom: str) -> None:
    text = "Timestamp\tEmail\tNama\tKota\r\n27/11/2026 14:03:12\ta@b.id\tSiti Ñ\tMetro\r\n"
    table = read_table(_write(tmp_path, bom + text, encoding=encoding))
    assert table.delimiter == "\t"
    assert table.header[0] == "Timestamp"
    assert table.rows[0][1][2] == "Siti Ñ"


def test_decode_prefers_utf8() -> None:
    assert decode_bytes("Nur’aini".encode()) == ("Nur’aini", "utf-8")


def test_our_apostrophes_are_removed_again(tmp_path: Path) -> None:
    table = read_table(_write(tmp_path, "HP,Nama\n'+6281234,'Aisyah\n"))
    assert table.rows[0][1] == ("+6281234", "'Aisyah")


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty") as exc:
        read_table(_write(tmp_path, "\r\n\r\n"))
    assert exc.value.file and exc.value.file.endswith("form.csv")


def test_missing_file_and_xls(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="xls"):
        read_table(_write(tmp_path, "x", name="old.xls"))


def _xlsx(tmp_path: Path, rows: list[list[object]], *, name: str = "form.xlsx", title: str = "Form Responses 1"
          ) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


def test_xlsx(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [
        HEADER + ["NUPTK", "Serial"],
        [datetime(2026, 11, 27, 14, 3, 12), " A@B.id ", "Budi", "Metro", 1234567890123456, 46353.5],
        [None, None, None, None, None, None],
        ["27/11/2026 15:00:00", "c@d.id", "=HYPERLINK(\"http://x\",\"Siti\")", "Metro", "'+62812", None],
    ])
    table = read_table(path)
    assert table.header == tuple(HEADER + ["NUPTK", "Serial"])
    assert table.rows[0] == (2, ("2026-11-27 14:03:12", "A@B.id", "Budi", "Metro", "1234567890123456", "46353.5"))
    assert table.rows[1][0] == 4
    assert table.rows[1][1][2] == "=HYPERLINK(\"http://x\",\"Siti\")"   # the formula as text, not evaluated
    assert table.rows[1][1][4] == "+62812"


def test_xlsx_named_sheet_and_header_not_on_row_one(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [[None], HEADER, ["2026-11-27 14:03:12", "a@b.id", "Budi", "Metro"]])
    table = read_table(path, sheet="Form Responses 1")
    assert table.header_row == 2 and table.rows[0][0] == 3
    with pytest.raises(InputError, match="no worksheet named 'Sheet9'.*Form Responses 1"):
        read_table(path, sheet="Sheet9")


def test_xlsx_content_under_a_csv_name_and_a_broken_xlsx(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [HEADER, ["2026-11-27 14:03:12", "a@b.id", "Budi", "Metro"]], name="export.csv")
    assert read_table(path).rows[0][1][1] == "a@b.id"
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="XLSX"):
        read_table(broken)


def test_a_cell_over_the_csv_field_limit_sets_its_row_aside_and_names_line_and_column(tmp_path: Path) -> None:
    huge = "x" * 200_000
    text = ("Timestamp;Email;Alamat Sekolah;Kota\n"
            "27/11/2026 10:00:00;a@b.id;\"Jl. Merdeka\n No. 1\";Metro\n"
            f"27/11/2026 10:01:00;c@d.id;{huge};Metro\n"
            "27/11/2026 10:02:00;e@f.id;Jl. Sudirman;Metro\n")
    table = read_table(_write(tmp_path, text))
    assert [n for n, _ in table.rows] == [2, 4]
    (bad,) = table.unreadable
    assert (bad.row, bad.field) == (3, "Alamat Sekolah")
    assert bad.reason.startswith("line 4: the cell holds 200,000 characters")
    assert bad.cells[2] == "[200,000 characters left out]" and bad.cells[1] == "c@d.id"


def test_a_header_over_the_csv_field_limit_is_an_input_error_naming_file_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "Timestamp;\"" + "x" * 140_000 + "\"\n1;2\n")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert (info.value.file, info.value.row, info.value.field) == (str(path), 1, "column 2")
