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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...exceptions import InputError
from ..columns import _has, _norm, detect_columns, load_mapping
from ..model import Rejected
from ..normalise import InvalidValue, normalise_school_level, parse_years_of_service, parse_yes_no, years_band
from ..reader import Table, find_header, read_table
from ..regency_names import InvalidRegency, normalise_regency
from .topics import topic_key, topic_name

__all__ = ["SURVEY_FIELDS", "Respondent", "Survey", "read_survey", "survey_from_tables"]

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


def _columns(table: Table, mapping: Mapping[str, str | None] | None = None,
             mapping_file: str | None = None) -> dict[str, int]:
    """Field -> column of a survey table: the mapping's headers first (``None``: the field is not read),
    then the recognised ones. Raises :class:`InputError` naming the file when a mapped header is not in
    it, a required column is missing or two columns look like the same field."""
    headers = "; ".join(f"{i + 1}: {h!r}" for i, h in enumerate(table.header))
    mapped = _mapped(table, mapping or {}, mapping_file, headers)
    found = {f: [c for c in cols if c not in mapped.values()]
             for f, cols in detect_columns(table.header).items() if f in SURVEY_FIELDS and f not in (mapping or {})}
    taken = {c for cols in found.values() for c in cols} | set(mapped.values())
    topics = [i for i, h in enumerate(table.header) if i not in taken and _TOPICS(_norm(h))]
    # KoboToolbox adds a column per option of a multi-select ("Topik pelatihan/Koding"): the question's own
    # column holds the answer
    topics = [i for i in topics if not any(table.header[i].startswith(table.header[j] + "/") for j in topics)]
    if topics and "topics" not in (mapping or {}):
        found["topics"] = topics
    found = {f: cols for f, cols in found.items() if cols}
    found.update({f: [i] for f, i in mapped.items()})
    twice = [f for f, cols in found.items() if len(cols) > 1]
    if twice:
        raise InputError(f"several columns look like {', '.join(twice)}. Headers found: {headers}",
                         file=table.file)
    missing = [f for f in _REQUIRED if f not in found]
    if missing:
        raise InputError(f"required survey column(s) {', '.join(missing)} not found. Headers found: {headers}",
                         file=table.file)
    return {f: cols[0] for f, cols in found.items()}


def _mapped(table: Table, mapping: Mapping[str, str | None], mapping_file: str | None,
            headers: str) -> dict[str, int]:
    """Field -> column of the fields the mapping names a header for; raises :class:`InputError` (file,
    field) when the table has no such header."""
    normalised = [_norm(h) for h in table.header]
    out: dict[str, int] = {}
    for field, text in mapping.items():
        if text is None:
            continue
        matches = [i for i, h in enumerate(normalised) if h == _norm(text)]
        if not matches:
            raise InputError(f"the mapping{f' ({mapping_file})' if mapping_file else ''} names the header "
                             f"{text!r} for {field}, but the file has no such column. Headers found: "
                             f"{headers}", file=table.file, field=field)
        out[field] = matches[0]
    return out


def _usable(header: tuple[str, ...], mapping: Mapping[str, str | None] | None = None) -> bool:
    """Whether ``header`` names every required survey field, each once (with the mapping's headers)."""
    try:
        _columns(Table("", header, ()), mapping)
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


def survey_from_tables(tables: Sequence[Table], mapping: Mapping[str, str | None] | None = None,
                       mapping_file: str | None = None) -> Survey:
    """Read tables already in memory (pure); ``mapping`` is ``{field: header}`` as a mapping file gives
    it (see :func:`read_survey`). Raises :class:`InputError` when a table lacks a required column or a
    mapped header."""
    respondents: list[Respondent] = []
    rejected: list[Rejected] = []
    columns: dict[str, dict[str, str]] = {}
    spelling: dict[str, str] = {}
    rows = 0
    for table in tables:
        table = find_header(table, lambda h: _usable(h, mapping))
        index = _columns(table, mapping, mapping_file)
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


def read_survey(paths: str | os.PathLike[str] | Sequence[Any],
                mapping: str | os.PathLike[str] | None = None) -> Survey:
    """Read one or more survey exports (CSV/XLSX). ``mapping`` is a YAML file ``field: header text``
    (the fields of :data:`SURVEY_FIELDS`; ``null`` leaves a field unread), as registrations take it.
    Raises :class:`InputError` naming the file when one (or the mapping) cannot be read, or a file lacks
    a required column or a mapped header."""
    files = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    fields = load_mapping(mapping, SURVEY_FIELDS) if mapping is not None else None
    return survey_from_tables([read_table(p) for p in files], fields,
                              str(mapping) if mapping is not None else None)
