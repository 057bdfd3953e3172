"""Reading a needs-survey export (analisis kebutuhan pelatihan): every row accepted or rejected with a reason.

The survey is read by the registrations' reader (CSV/XLSX, any encoding and delimiter a spreadsheet
writes) and its headers recognised by the same rules (:func:`..columns.detect_columns`), plus one for
the topics column ("Pelatihan yang Dibutuhkan", "Topik pelatihan", "Training topics"). Required:
regency, school level, years of service (a number or a band such as "> 10 tahun") and topics (a
multi-select answer "Koding; Kecerdasan Artifisial; STEM", split on ``;`` or ``,``). Optional: trained
before. A row missing or garbling a required answer is rejected (file, row, field, reason);
``rows == len(respondents) + len(rejected)`` always.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Sequence

from ...exceptions import InputError
from ..columns import _has, _norm, detect_columns
from ..model import Rejected
from ..normalise import (InvalidValue, normalise_school_level, parse_yes_no, parse_years_of_service,
                         years_band)
from ..reader import Table, find_header, read_table
from ..regency_names import InvalidRegency, normalise_regency
from .topics import topic_key, topic_name

__all__ = ["Respondent", "Survey", "read_survey", "survey_from_tables", "SURVEY_FIELDS"]

SURVEY_FIELDS = ("regency", "school_level", "years_of_service", "topics", "trained_before")
_REQUIRED = ("regency", "school_level", "years_of_service", "topics")
_TOPICS = _has("pelatihan yang dibutuhkan", "kebutuhan pelatihan", "topik", "topik pelatihan", "topics",
               "training topics", "materi pelatihan", "pelatihan yang diinginkan", "pelatihan yang diperlukan",
               "training needs", "dibutuhkan", "butuhkan", "diperlukan", "diminati", "diinginkan",
               "kebutuhan", "minat pelatihan")


@dataclass(frozen=True)
class Respondent:
    """One usable survey answer. ``regency`` is a slug, ``years_band`` one of ``YEARS_BANDS``, ``topics``
    the topics chosen (each once, by :func:`.topics.topic_key`; a known topic by its name, another as the
    survey's first answer spelled it)."""

    file: str
    row: int
    regency: str
    level: str
    years: int
    years_band: str
    topics: tuple[str, ...]
    trained_before: bool | None = None


@dataclass(frozen=True)
class Survey:
    """The survey read: ``columns`` maps each file to the header used for each field."""

    files: tuple[str, ...]
    rows: int
    respondents: tuple[Respondent, ...]
    rejected: tuple[Rejected, ...]
    columns: dict[str, dict[str, str]]

    @property
    def accounted_for(self) -> bool:
        return self.rows == len(self.respondents) + len(self.rejected)


def _columns(table: Table) -> dict[str, int]:
    """Field -> column of a survey table; raises :class:`InputError` naming the file when a required
    column is missing or two columns look like the same field."""
    found = {f: cols for f, cols in detect_columns(table.header).items() if f in SURVEY_FIELDS}
    taken = {c for cols in found.values() for c in cols}
    topics = [i for i, h in enumerate(table.header) if i not in taken and _TOPICS(_norm(h))]
    # KoboToolbox adds a column per option of a multi-select ("Topik pelatihan/Koding"): the question's own
    # column holds the answer
    topics = [i for i in topics if not any(table.header[i].startswith(table.header[j] + "/") for j in topics)]
    if topics:
        found["topics"] = topics
    headers = "; ".join(f"{i + 1}: {h!r}" for i, h in enumerate(table.header))
    twice = [f for f, cols in found.items() if len(cols) > 1]
    if twice:
        raise InputError(f"several columns look like {', '.join(twice)}. Headers found: {headers}",
                         file=table.file)
    missing = [f for f in _REQUIRED if f not in found]
    if missing:
        raise InputError(f"required survey column(s) {', '.join(missing)} not found. Headers found: {headers}",
                         file=table.file)
    return {f: cols[0] for f, cols in found.items()}


def _usable(header: tuple[str, ...]) -> bool:
    """Whether ``header`` names every required survey field, each once."""
    try:
        _columns(Table("", header, ()))
    except InputError:
        return False
    return True


class _Bad(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def _respondent(file: str, row: int, cells: Sequence[str], index: dict[str, int],
                spelling: dict[str, str]) -> Respondent:
    """One row as a respondent; raises :class:`_Bad` (field, reason) when it cannot be used."""
    def v(field: str) -> str:
        i = index.get(field)
        return cells[i] if i is not None and i < len(cells) else ""

    try:
        regency = normalise_regency(v("regency"))
    except InvalidRegency as exc:
        raise _Bad("regency", str(exc)) from exc
    try:
        level = normalise_school_level(v("school_level"))
    except InvalidValue as exc:
        raise _Bad("school_level", str(exc)) from exc
    try:
        years = parse_years_of_service(v("years_of_service"))
    except InvalidValue as exc:
        raise _Bad("years_of_service", str(exc)) from exc
    if level is None or years is None:
        raise _Bad("school_level" if level is None else "years_of_service", "no answer")
    topics: list[str] = []
    for part in re.split(r"[;,\n]", v("topics")):
        key = topic_key(part)
        if key:
            name = spelling.setdefault(key, topic_name(part))
            if name not in topics:
                topics.append(name)
    if not topics:
        raise _Bad("topics", "no training topic chosen")
    return Respondent(file, row, regency, level, years, years_band(years), tuple(topics),
                      parse_yes_no(v("trained_before")))


def survey_from_tables(tables: Sequence[Table]) -> Survey:
    """Read tables already in memory (pure). Raises :class:`InputError` when a table lacks a required
    column."""
    respondents: list[Respondent] = []
    rejected: list[Rejected] = []
    columns: dict[str, dict[str, str]] = {}
    spelling: dict[str, str] = {}
    rows = 0
    for table in tables:
        table = find_header(table, _usable)
        index = _columns(table)
        columns[table.file] = {f: table.header[i] for f, i in index.items()}
        for row, cells in table.rows:
            rows += 1
            try:
                respondents.append(_respondent(table.file, row, cells, index, spelling))
            except _Bad as exc:
                rejected.append(Rejected(table.file, row, exc.reason, exc.field))
        rows += len(table.unreadable)
        rejected.extend(Rejected(table.file, u.row, u.reason, u.field) for u in table.unreadable)
    return Survey(tuple(t.file for t in tables), rows, tuple(respondents),
                  tuple(sorted(rejected, key=lambda r: (r.file, r.row))), columns)


def read_survey(paths: str | os.PathLike[str] | Sequence[Any]) -> Survey:
    """Read one or more survey exports (CSV/XLSX). Raises :class:`InputError` naming the file when one
    cannot be read or lacks a required column."""
    files = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    return survey_from_tables([read_table(p) for p in files])
