"""Reading form exports (CSV or XLSX) into a plain table of text cells.

CSV: the encoding is found from a byte-order mark (UTF-8, UTF-16), else UTF-8 if the bytes are valid
UTF-8, else charset-normalizer's guess (cp1252 and latin-1 files from older Excel); the delimiter
(comma, semicolon, tab or pipe) is the one that splits the first records most consistently; quoted fields
may hold delimiters and line breaks; ``\\r\\n``, ``\\n`` and ``\\r`` line ends are all fine.
XLSX: the first worksheet (or a named one); formulas are read as the text the user typed, never evaluated;
dates become ``YYYY-MM-DD HH:MM:SS`` text, whole numbers lose their ``.0``.

A row number is what a person sees in the spreadsheet: one per record (a quoted field with line breaks is
still one row), the header is the first non-blank row (normally row 1). Blank rows are skipped. Cells are
stripped of surrounding white space, and an apostrophe we put in front of a formula-like value
(:func:`moodle_sync.tabular.neutralise`) is removed again.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ..exceptions import InputError
from ..tabular import unneutralise

__all__ = ["CELL_LIMIT", "Table", "UnreadableRow", "decode_bytes", "find_header", "read_table", "sniff_delimiter"]

_DELIMITERS = (",", ";", "\t", "|")
_XLSX_SUFFIXES = (".xlsx", ".xlsm")

CELL_LIMIT = 131_072
"""The longest cell a row may have (the csv module's own default limit). A longer one is no answer to a
form: an unclosed quote that ran over the lines after it, or a document pasted into a cell. Its row is set
aside (:class:`UnreadableRow`), the others are read."""

_PARSE_LIMIT = 2**31 - 1   # what the csv module is allowed to read, so that we can say where a cell is too long


@dataclass(frozen=True)
class UnreadableRow:
    """A row that cannot be read: its spreadsheet row number, the column (``field``, its header), why, and
    its cells (the offending one replaced by a note of its length)."""

    row: int
    field: str
    reason: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A header and data rows of text; ``rows`` holds ``(spreadsheet row number, cells)``."""

    file: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    header_row: int = 1
    encoding: str | None = None     # CSV only
    delimiter: str | None = None    # CSV only
    unreadable: tuple[UnreadableRow, ...] = ()


_PLAUSIBLE = ["cp1252", "latin_1", "iso8859_15", "mac_roman", "cp850", "cp437"]
"""Encodings a spreadsheet in Indonesia writes when it does not write UTF-8 (Windows "ANSI" is cp1252),
most likely first: of guesses that read the bytes equally cleanly, the earlier wins (charset-normalizer
alone calls a short cp1252 file with one "ü" cp850, and "Süsanto" becomes "S³santo")."""
_PLAUSIBLE_RANK = {name: i for i, name in enumerate(_PLAUSIBLE)}


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a CSV file's bytes; returns ``(text, encoding name)``.

    Order: a BOM (UTF-8, UTF-16 LE/BE); UTF-16 without BOM (NUL bytes in every other position); strict
    UTF-8; charset-normalizer's least chaotic guess among the encodings spreadsheets here write (cp1252,
    latin-1, ISO 8859-15, Mac Roman, DOS code pages: unrestricted guessing is unreliable on short files;
    ties go to the likelier, cp1252 first); cp1252;
    and latin-1 as the last resort (it decodes any byte).
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name), name
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(0) * 3 >= len(sample):
        name = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, cp_isolation=_PLAUSIBLE))
    best = min(matches, key=lambda m: (round(m.chaos, 3), _PLAUSIBLE_RANK.get(m.encoding, 99)), default=None)
    candidates = ([best.encoding] if best is not None else []) + ["cp1252", "latin_1"]
    for name in candidates:
        try:
            return data.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    """The CSV records of ``text``; cells of any length are read (:data:`CELL_LIMIT` is checked after)."""
    if csv.field_size_limit() < _PARSE_LIMIT:
        csv.field_size_limit(_PARSE_LIMIT)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)


def _numbered_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str], int]]:
    """``(row number, record, line where the record starts)`` of each CSV record."""
    reader = _records(text, delimiter)
    line = 1
    for number, record in enumerate(reader, start=1):
        yield number, record, line
        line = reader.line_num + 1   # type: ignore[attr-defined]


def sniff_delimiter(text: str, *, sample_records: int = 30) -> str:
    """The delimiter that gives the header the most columns and the first records the same width.

    Scores each of ``,`` ``;`` tab ``|`` by (records whose width equals the header's, header width);
    a delimiter that leaves the header as one column never wins over one that splits it. Comma wins ties.
    """
    best, best_score = ",", (-1, -1)
    for delim in _DELIMITERS:
        widths: list[int] = []
        try:
            for record in _records(text, delim):
                if not any(c.strip() for c in record):
                    continue
                widths.append(len(record))
                if len(widths) > sample_records:
                    break
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        score = (sum(1 for w in widths[1:] if w == widths[0]), widths[0])
        if score > best_score:
            best, best_score = delim, score
    return best


def _clean(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = str(value).strip()
    return unneutralise(text).strip() if text else ""


def _too_long(file: str, header: tuple[str, ...] | None, number: int, line: int | None,
              cells: tuple[str, ...]) -> UnreadableRow | None:
    """The row set aside when one of its cells is longer than :data:`CELL_LIMIT`; raises
    :class:`InputError` (file, line, column) when that row is the header."""
    column = next((i for i, c in enumerate(cells) if len(c) > CELL_LIMIT), None)
    if column is None:
        return None
    where = f"line {line}" if line is not None else f"row {number}"
    reason = (f"{where}: the cell holds {len(cells[column]):,} characters, more than the {CELL_LIMIT:,} a cell "
              "may hold (an unclosed quote running over the lines after it?)")
    if header is None:
        raise InputError(reason, file=file, row=number, field=f"column {column + 1}")
    field = header[column] if column < len(header) and header[column] else f"column {column + 1}"
    kept = tuple(f"[{len(c):,} characters left out]" if len(c) > CELL_LIMIT else c for c in cells)
    return UnreadableRow(number, field, reason, kept)


def _build(file: str, numbered: Iterable[tuple[int, list[Any], int | None]], *, encoding: str | None = None,
           delimiter: str | None = None) -> Table:
    header: tuple[str, ...] | None = None
    header_row = 1
    rows: list[tuple[int, tuple[str, ...]]] = []
    unreadable: list[UnreadableRow] = []
    for number, raw, line in numbered:
        cells = tuple(_clean(v) for v in raw)
        if not any(cells):
            continue
        bad = _too_long(file, header, number, line, cells)
        if bad is not None:
            unreadable.append(bad)
            continue
        if header is None:
            header, header_row = tuple(" ".join(c.split()) for c in cells), number
            while header and not header[-1]:
                header = header[:-1]
            continue
        rows.append((number, cells))
    if header is None:
        raise InputError("the file has no header row (it is empty)", file=file)
    return Table(file, header, tuple(rows), header_row, encoding, delimiter, tuple(unreadable))


HEADER_SEARCH = 5
"""How many rows below the first one may hold the real header (a title row, merged group labels above)."""


def find_header(table: Table, usable: Callable[[tuple[str, ...]], bool]) -> Table:
    """The table with the first row ``usable`` accepts as its header: the first non-blank row, else one of
    the :data:`HEADER_SEARCH` rows after it (an export with a title row such as "Rekap Survei 2026", or a
    group-label row merged over the headers). The rows above the header found are titles, not data, and
    are left out. Returns ``table`` itself when no row is usable (the caller then names what is missing)."""
    if usable(table.header):
        return table
    for i, (number, cells) in enumerate(table.rows[:HEADER_SEARCH]):
        header = tuple(" ".join(c.split()) for c in cells)
        while header and not header[-1]:
            header = header[:-1]
        if usable(header):
            return Table(table.file, header, table.rows[i + 1:], number, table.encoding, table.delimiter,
                         tuple(u for u in table.unreadable if u.row > number))
    return table


def read_table(path: str | os.PathLike[str], *, sheet: str | None = None) -> Table:
    """Read a CSV or XLSX file (chosen by the suffix ``.xlsx``/``.xlsm``, else CSV) into a :class:`Table`.

    Raises :class:`InputError` (naming the file) if it cannot be read, is empty, is not a valid XLSX, or
    the named ``sheet`` does not exist.
    """
    p = Path(path)
    file = str(path)
    if p.suffix.lower() in _XLSX_SUFFIXES:
        return _read_xlsx(p, file, sheet)
    if p.suffix.lower() == ".xls":
        raise InputError("old Excel .xls files are not supported: save the file as .xlsx or .csv", file=file)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=file) from exc
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(p, file, sheet)
    text, encoding = decode_bytes(data)
    delimiter = sniff_delimiter(text)
    try:
        records = list(_numbered_records(text, delimiter))
    except csv.Error as exc:  # pragma: no cover - strict=False and no field limit make this very rare
        raise InputError(f"not a readable CSV file: {exc}", file=file) from exc
    return _build(file, records, encoding=encoding, delimiter=delimiter)


def _read_xlsx(p: Path, file: str, sheet: str | None) -> Table:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with p.open("rb") as fh:   # a file object: openpyxl would refuse a name not ending in .xlsx
            wb = load_workbook(io.BytesIO(fh.read()), data_only=False)
    except (BadZipFile, KeyError, ValueError, OSError, InvalidFileException) as exc:
        raise InputError(f"not a readable XLSX workbook: {exc}", file=file) from exc
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise InputError(f"no worksheet named {sheet!r}; the workbook has: "
                                 f"{', '.join(wb.sheetnames)}", file=file)
            ws = wb[sheet]
        else:
            ws = wb.worksheets[0]
        numbered = ((row[0].row if row else i, [c.value for c in row], None)
                    for i, row in enumerate(ws.iter_rows(), start=1))
        return _build(file, numbered)
    finally:
        wb.close()
