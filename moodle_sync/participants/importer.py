"""Importing registration exports: read, map columns, normalise, validate, de-duplicate.

:func:`import_registrations` reads files; :func:`import_table` does the same for a :class:`Table` already
in memory (pure). Every data row ends in exactly one bucket of the :class:`ImportResult`:

* rejected: a required value is missing or invalid, or an optional value is present but invalid where it
  matters (NUPTK and NPSN identify people and schools, so a wrong one is not guessed away). An unusable
  phone number is only dropped, with a warning on the applicant.
* superseded: the same person (same e-mail or same NUPTK, also transitively) submitted again later; the
  latest valid submission wins (by timestamp, then by file order and row). Rejected rows never supersede.
* accepted: everything else. ``first_submitted_at`` keeps the person's earliest valid submission.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ..exceptions import InputError
from ..tabular import write_csv
from .columns import ColumnMap, load_mapping, resolve_columns
from .model import Applicant, ImportResult, Rejected, Superseded
from .names import parse_name
from .normalise import (
    InvalidValue,
    detect_dayfirst,
    normalise_email,
    normalise_npsn,
    normalise_nuptk,
    normalise_phone,
    normalise_school_level,
    parse_timestamp,
    parse_years_of_service,
    parse_yes_no,
)
from .reader import Table, find_header, read_table
from .regency_names import InvalidRegency, normalise_regency

__all__ = ["default_rejects_path", "import_registrations", "import_table", "write_rejects"]

PathLike = str | os.PathLike[str]
T = TypeVar("T")


class _Reject(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def _check(field: str, fn: Callable[[str | None], T], value: str | None) -> T:
    try:
        return fn(value)
    except (InvalidValue, InvalidRegency) as exc:
        raise _Reject(field, str(exc)) from exc


def _applicant(table: Table, columns: ColumnMap, row: int, cells: tuple[str, ...],
               dayfirst: bool) -> Applicant:
    def v(field: str) -> str | None:
        return columns.value(cells, field)

    used = max((i + 1 for i, c in enumerate(cells) if c), default=0)
    if used > len(table.header):
        raise _Reject("row", f"the row has {used} cells but the header only {len(table.header)} "
                             f"(a stray delimiter?)")
    submitted_at = _check("submitted_at", lambda x: parse_timestamp(x, dayfirst=dayfirst), v("submitted_at"))
    email = _check("email", normalise_email, v("email"))
    name = _check("fullname", parse_name, v("fullname"))
    regency = _check("regency", normalise_regency, v("regency"))
    nuptk = _check("nuptk", normalise_nuptk, v("nuptk"))
    npsn = _check("npsn", normalise_npsn, v("npsn"))
    level = _check("school_level", normalise_school_level, v("school_level"))
    warnings: list[str] = []
    if npsn and npsn.startswith("0") and re.sub(r"\D", "", v("npsn") or "") == npsn[1:]:
        warnings.append(f"npsn: {v('npsn')!r} has 7 digits, read as {npsn} (a leading zero a spreadsheet dropped)")
    try:
        phone = normalise_phone(v("phone"))
    except InvalidValue as exc:
        phone = None
        warnings.append(f"phone ignored: {exc}")
    trained = parse_yes_no(v("trained_before"))
    if trained is None and (v("trained_before") or "").strip():
        warnings.append(f"answer {v('trained_before')!r} about earlier training not understood: treated as "
                        f"no answer")
    if name.note:
        warnings.append(f"fullname: the note {name.note!r} after the name was left out")
    school = " ".join((v("school") or "").split()) or None
    try:
        years = parse_years_of_service(v("years_of_service"))
    except InvalidValue as exc:
        years = None
        warnings.append(f"years_of_service ignored: {exc}")
    choices = tuple(c for c in (" ".join(re.sub(r"\s*[\r\n]+\s*", "; ", (v(f) or "").strip()).split())
                                for f in ("choice", "choice2")) if c)   # a multi-select's lines: "a; b"
    firstname, lastname = name.split()
    return Applicant(file=table.file, row=row, email=email, fullname=name.fullname, firstname=firstname,
                     lastname=lastname, regency=regency, submitted_at=submitted_at, nuptk=nuptk, npsn=npsn,
                     school=school, school_level=level, phone=phone, trained_before=trained,
                     warnings=tuple(warnings), choices=choices,
                     subject=" ".join((v("subject") or "").split()) or None, years_of_service=years)


def _deduplicate(valid: Sequence[Applicant], order: Mapping[str, int]
                 ) -> tuple[list[Applicant], list[Superseded]]:
    parent = list(range(len(valid)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[str, str], int] = {}
    for i, a in enumerate(valid):
        for kind, key in (("email", a.email), ("nuptk", a.nuptk)):
            if key is None:
                continue
            j = owner.setdefault((kind, key), i)
            if j != i:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(valid)):
        groups.setdefault(find(i), []).append(i)

    def recency(a: Applicant) -> tuple[Any, ...]:
        return (a.submitted_at, order[a.file], a.row)

    accepted: list[Applicant] = []
    superseded: list[Superseded] = []
    for members in groups.values():
        people = sorted((valid[i] for i in members), key=recency)
        winner = people[-1]
        first = people[0].submitted_at
        accepted.append(replace(winner, first_submitted_at=first) if first != winner.submitted_at else winner)
        for loser in people[:-1]:
            matched = ("email" if loser.email == winner.email else
                       "nuptk" if loser.nuptk and loser.nuptk == winner.nuptk else "linked")
            superseded.append(Superseded(loser, winner.file, winner.row, matched))
    accepted.sort(key=lambda a: (order[a.file], a.row))
    superseded.sort(key=lambda s: (order[s.applicant.file], s.applicant.row))
    return accepted, superseded


def _by_header(table: Table, cells: tuple[str, ...]) -> dict[str, str]:
    """A row's cells by their header (blank or repeated headers made unique by the column number)."""
    values: dict[str, str] = {}
    for i, h in enumerate(table.header):
        key = h or f"column {i + 1}"
        key = key if key not in values else f"{key} ({i + 1})"
        values[key] = cells[i] if i < len(cells) else ""
    return values


def _unanswered(table: Table) -> set[int]:
    """Columns that no row answers, or only with "anonymous" (Microsoft Forms' Email and Name columns of a
    form that does not sign people in)."""
    blank = {"", "anonymous", "anonim"}
    return {i for i in range(len(table.header))
            if all((cells[i] if i < len(cells) else "").strip().lower() in blank for _, cells in table.rows)}


def _resolves(header: tuple[str, ...], file: str, mapping: Mapping[str, str | None] | None,
              mapping_file: str | None) -> bool:
    """Whether ``header`` names every required field (the mapping's headers included)."""
    try:
        resolve_columns(header, file=file, mapping=mapping, mapping_file=mapping_file)
    except InputError:
        return False
    return True


def import_table(tables: Table | Sequence[Table], *,
                 mapping: Mapping[str, str | None] | None = None,
                 mapping_file: str | None = None) -> ImportResult:
    """Import tables already read (pure: no I/O). See the module docstring for the buckets.

    Raises :class:`~moodle_sync.exceptions.InputError` when a table cannot be used at all (a required
    column is missing, a mapped header is absent, columns are ambiguous).
    """
    tables = [tables] if isinstance(tables, Table) else list(tables)
    order = {t.file: i for i, t in enumerate(tables)}
    valid: list[Applicant] = []
    rejected: list[Rejected] = []
    rows = 0
    columns: dict[str, dict[str, str]] = {}
    for table in tables:
        table = find_header(table, partial(_resolves, file=table.file, mapping=mapping, mapping_file=mapping_file))
        cmap = resolve_columns(table.header, file=table.file, mapping=mapping, mapping_file=mapping_file,
                               unanswered=_unanswered(table))
        columns[table.file] = dict(cmap.header)
        ts = cmap.index["submitted_at"]
        dayfirst = detect_dayfirst(cells[ts] for _, cells in table.rows if ts < len(cells))
        for row, cells in table.rows:
            rows += 1
            try:
                valid.append(_applicant(table, cmap, row, cells, dayfirst))
            except _Reject as exc:
                rejected.append(Rejected(table.file, row, exc.reason, exc.field, _by_header(table, cells)))
        rows += len(table.unreadable)
        rejected.extend(Rejected(table.file, u.row, u.reason, u.field, _by_header(table, u.cells))
                        for u in table.unreadable)
    rejected.sort(key=lambda r: (order[r.file], r.row))
    accepted, superseded = _deduplicate(valid, order)
    return ImportResult(files=tuple(t.file for t in tables), rows=rows, accepted=tuple(accepted),
                        superseded=tuple(superseded), rejected=tuple(rejected), columns=columns,
                        delimiters={t.file: t.delimiter for t in tables if t.delimiter})


def import_registrations(paths: PathLike | Sequence[PathLike], *,
                         mapping: PathLike | Mapping[str, str | None] | None = None) -> ImportResult:
    """Read and import one or more CSV/XLSX registration exports (de-duplicated across all of them).

    ``mapping`` is a mapping file path or an already loaded ``{field: header}``. Raises
    :class:`~moodle_sync.exceptions.InputError` naming the file when a file or the mapping cannot be read
    or a file lacks a required column.
    """
    files = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    mapping_file = None
    if mapping is not None and not isinstance(mapping, Mapping):
        mapping_file = str(mapping)
        mapping = load_mapping(mapping)
    tables = [read_table(p) for p in files]
    return import_table(tables, mapping=mapping, mapping_file=mapping_file)


def default_rejects_path(path: PathLike) -> Path:
    """``<dir>/<name>.rejects.csv`` next to the input file ``<dir>/<name>.<ext>``."""
    p = Path(path)
    return p.with_name(f"{p.stem}.rejects.csv")


def write_rejects(result: ImportResult, path: PathLike, *, delimiter: str | None = None) -> Path:
    """Write the rejected rows as CSV: ``file, row, field, reason`` and then the row's original cells (under
    their original headers), formula-like text neutralised. The delimiter defaults to the one of the first
    CSV input (a ``;`` export opens the same way in the same spreadsheet), else a comma. Written even when
    nothing was rejected (header only), so an old rejects file never lingers. Returns the path; raises
    ``OSError`` if it cannot be written."""
    headers: list[str] = []
    for r in result.rejected:
        for h in r.values:
            if h not in headers:
                headers.append(h)
    fixed = ["file", "row", "field", "reason"]
    shown = [h if h not in fixed else f"{h} (original)" for h in headers]
    rows = [[r.file, r.row, r.field or "", r.reason, *[r.values.get(h, "") for h in headers]]
            for r in result.rejected]
    if delimiter is None:
        delimiter = next((result.delimiters[f] for f in result.files if f in result.delimiters), ",")
    return write_csv(path, fixed + shown, rows, delimiter=delimiter)
