"""Writing CSV and XLSX files that are safe to open in a spreadsheet.

A text cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is run as a formula
by Excel, LibreOffice and Google Sheets ("CSV injection"). Every text value we write goes through
:func:`neutralise`, which prefixes such a value with an apostrophe, as OWASP recommends; the value is then
shown as text (a phone number ``+62812...`` stays readable as ``'+62812...`` instead of turning into a
number or a ``#NAME?`` error). :func:`unneutralise` reverses it, so reading back a file we wrote gives the
original values. Numbers, booleans, dates and ``None`` are written as such (they are never formulas).

CSV files are written as UTF-8 with a byte-order mark (so Excel recognises the encoding) and ``\\r\\n``
line ends; ``delimiter=";"`` gives what an Excel with Indonesian regional settings opens directly.
In XLSX files every text cell is stored as a string (never as a formula), also with the apostrophe, so the
protection survives a later "Save as CSV".

Public API: :func:`neutralise`, :func:`unneutralise`, :func:`write_csv`, :class:`Sheet`, :func:`write_xlsx`.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from .files import write_private

__all__ = ["CSV_DIALECTS", "FORMULA_TRIGGERS", "Sheet", "neutralise", "unneutralise", "write_csv", "write_xlsx"]

CSV_DIALECTS = {"standard": (",", "."), "excel-id": (";", ",")}
"""CSV dialects by name: (delimiter, decimal mark). ``excel-id`` is what an Excel with Indonesian regional
settings opens directly: ``;`` between cells and a decimal comma."""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a text cell as a formula."""

_XLSX_MAX_TITLE = 31
_XLSX_BAD_TITLE_CHARS = str.maketrans({c: "-" for c in "[]:*?/\\"})


def neutralise(value: Any) -> Any:
    """Return ``value`` safe for a spreadsheet cell.

    A ``str`` starting with one of :data:`FORMULA_TRIGGERS` gets an apostrophe in front; any other value
    (other text, numbers, booleans, dates, ``None``) is returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unneutralise(text: str) -> str:
    """Undo :func:`neutralise`: strip one apostrophe that precedes a formula trigger.

    Text that :func:`neutralise` would not have touched is returned unchanged, so
    ``unneutralise(neutralise(s)) == s`` for every string ``s``.
    """
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def _csv_cell(value: Any, decimal: str = ".") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(float(value)).replace(".", decimal) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(neutralise(str(value)))


def write_csv(path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[Any]], *,
              delimiter: str = ",", decimal: str = ".") -> Path:
    """Write a CSV file (UTF-8 with BOM, ``\\r\\n``) with every text cell neutralised.

    ``decimal``: the decimal mark of numbers with a fraction (``,`` for Indonesian Excel, with
    ``delimiter=";"``; see :data:`CSV_DIALECTS`).

    ``header`` is written first (neutralised too). Cells are converted as: ``None`` -> empty, ``bool`` ->
    ``1``/``0``, numbers as digits, ``datetime`` -> ``YYYY-MM-DD HH:MM:SS``, anything else -> ``str``.
    The file is replaced atomically, private to its owner (``0600``, see :mod:`moodle_sync.files`).
    Returns the path written. Raises ``OSError`` if it cannot be written.
    """
    target = Path(path)

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
            writer.writerow([_csv_cell(h) for h in header])
            for row in rows:
                writer.writerow([_csv_cell(v, decimal) for v in row])

    write_private(target, write)
    return target


@dataclass(frozen=True)
class Sheet:
    """One worksheet for :func:`write_xlsx`: a title (at most 31 characters are kept), a header, rows."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


def _sheet_title(title: str, used: set[str]) -> str:
    base = (title.translate(_XLSX_BAD_TITLE_CHARS).strip("' ") or "Sheet")[:_XLSX_MAX_TITLE]
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: _XLSX_MAX_TITLE - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def write_xlsx(path: str | os.PathLike[str], sheets: Sequence[Sheet]) -> Path:
    """Write an XLSX workbook with one worksheet per :class:`Sheet`, every text cell neutralised.

    Text is always stored as a string cell (never a formula); numbers, booleans and dates keep their type.
    The header row is bold and frozen, columns are sized to their content. Sheet titles are made valid
    (``[]:*?/\\`` replaced, cut to 31 characters, made unique). The file is replaced atomically, ``0600``.
    Returns the path written. Raises ``ValueError`` if ``sheets`` is empty, ``OSError`` if it cannot be
    written.
    """
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    if not sheets:
        raise ValueError("write_xlsx needs at least one sheet")
    target = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for sheet in sheets:
        ws = wb.create_sheet(_sheet_title(sheet.title, used))
        widths: list[int] = []
        for r, row in enumerate([list(sheet.header), *[list(x) for x in sheet.rows]], start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c)
                if isinstance(value, (bool, int, float, datetime, date)) or value is None:
                    cell.value = value
                    text = "" if value is None else str(value)
                else:
                    text = str(neutralise(str(value)))
                    cell.value = text
                    cell.data_type = TYPE_STRING
                if r == 1:
                    cell.font = Font(bold=True)
                while len(widths) < c:
                    widths.append(0)
                longest = max((len(p) for p in text.split("\n")), default=0)
                widths[c - 1] = max(widths[c - 1], min(60, longest))
        for c, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = max(8, width + 2)
        ws.freeze_panes = "A2"
    write_private(target, lambda tmp: wb.save(str(tmp)))
    return target
