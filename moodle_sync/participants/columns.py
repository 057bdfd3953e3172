"""Which column of a form export holds which field.

Headers are free text in Indonesian or English; :func:`detect_columns` recognises the common ones
("Timestamp"/"Stempel waktu", Microsoft Forms' "Completion time", KoboToolbox's "_submission_time", "Alamat email", "Nama Lengkap (beserta gelar)", "NUPTK", "NPSN Sekolah",
"Asal Sekolah", "Kabupaten/Kota", "Jenjang", "Nomor HP/WhatsApp", "Apakah Bapak/Ibu pernah mengikuti
pelatihan ...?"). A mapping file (YAML, ``field: header text``) names the rest or overrides a guess; a
field mapped to ``null`` is ignored even if a header looks like it. Headers are compared ignoring case and
spacing.

Fields: submitted_at (alias timestamp), email, fullname (alias name), nuptk, npsn, school, regency,
school_level (alias level), phone, trained_before, choice ("Pilihan Pelatihan", "Program yang dipilih"),
choice2 ("Pilihan Kedua", "Pilihan Pelatihan 2"), subject (subject taught or role: "Mata Pelajaran yang
Diampu", "Bidang Studi", "Peran"; a "Jabatan" column is ignored unless the mapping names it) and
years_of_service ("Masa Kerja", "Lama Mengajar").
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..exceptions import InputError
from .model import FIELDS, REQUIRED_FIELDS

__all__ = ["ColumnMap", "detect_columns", "load_mapping", "resolve_columns"]

_FIELD_ALIASES = {"timestamp": "submitted_at", "name": "fullname", "level": "school_level",
                  "jenjang": "school_level", "kabupaten": "regency", "hp": "phone",
                  "trained": "trained_before"}


def _norm(header: str) -> str:
    return " ".join(re.sub(r"[^\w@]+", " ", header.casefold()).split())


def _has(*words: str) -> Callable[[str], bool]:
    return lambda h: any(re.search(rf"(?:^| ){re.escape(w)}(?: |$)", h) for w in words)


def _not(test: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda h: not test(h)


def _all(*tests: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda h: all(t(h) for t in tests)


_EMAIL = _has("email", "e mail", "surel", "surat elektronik", "gmail")
# Rules in order; the first that matches a header decides its field (None: a column we ignore).
_RULES: tuple[tuple[str | None, Callable[[str], bool]], ...] = (
    ("submitted_at", _has("timestamp", "stempel waktu", "cap waktu", "waktu pendaftaran", "tanggal daftar",
                          "submitted at", "submission time", "_submission_time", "completion time",
                          "waktu penyelesaian", "waktu selesai")),
    (None, _has("start time", "waktu mulai", "last modified time", "waktu terakhir diubah", "_id", "_uuid",
                "_index", "_status", "_submitted_by", "_validation_status")),
    ("email", _EMAIL),
    ("choice2", _has("pilihan kedua", "pilihan pelatihan 2", "pilihan pelatihan kedua", "pilihan 2",
                     "second choice", "program pilihan kedua")),
    ("choice", _has("pilihan pelatihan", "pilihan program", "program yang dipilih", "pelatihan yang dipilih",
                    "pilihan pertama", "pilihan 1", "programme choice", "program choice", "first choice")),
    ("years_of_service", _has("masa kerja", "lama mengajar", "lama bertugas", "years of service",
                              "lama menjadi guru", "pengalaman mengajar")),
    ("trained_before", _has("pernah", "sebelumnya", "previously", "already attended", "trained before",
                            "have you attended")),
    ("nuptk", _has("nuptk")),
    ("npsn", _has("npsn")),
    ("phone", _has("hp", "wa", "whatsapp", "telepon", "telp", "tlp", "ponsel", "handphone", "phone",
                   "mobile", "no wa", "nomor wa")),
    ("subject", _has("mata pelajaran", "mapel", "bidang studi", "subject", "peran", "role",
                     "mata pelajaran yang diampu")),
    ("school_level", _has("jenjang", "level", "tingkat", "school level", "jenis sekolah")),
    ("regency", _has("kabupaten", "kota", "kab", "kabupaten kota", "regency", "city", "kab kota", "daerah")),
    (None, _has("alamat", "address", "kepala", "nip", "nik", "kecamatan", "desa", "kelurahan",
                "jenis kelamin", "tempat lahir", "tanggal lahir", "jabatan", "golongan")),
    ("school", _has("sekolah", "satuan pendidikan", "satdik", "instansi", "unit kerja", "lembaga",
                    "school", "madrasah")),
    ("fullname", _all(_has("nama", "name", "full name"), _not(_has("sekolah", "school", "instansi",
                                                                     "ibu kandung", "pengguna", "user")))),
)


@dataclass(frozen=True)
class ColumnMap:
    """``index[field]`` is the column holding ``field``; ``header[field]`` that column's header text."""

    index: Mapping[str, int]
    header: Mapping[str, str]

    def value(self, cells: Sequence[str], field: str) -> str | None:
        """The cell for ``field`` (``None`` when the field has no column, ``""`` when the row is short)."""
        i = self.index.get(field)
        if i is None:
            return None
        return cells[i] if i < len(cells) else ""


def detect_columns(header: Sequence[str]) -> dict[str, list[int]]:
    """For each field, the columns whose header looks like it (by the rules above, first match wins)."""
    found: dict[str, list[int]] = {}
    for i, text in enumerate(header):
        h = _norm(text)
        if not h:
            continue
        for field, test in _RULES:
            if test(h):
                if field is not None:
                    found.setdefault(field, []).append(i)
                break
    return found


def load_mapping(path: str | os.PathLike[str], fields: Sequence[str] = FIELDS) -> dict[str, str | None]:
    """Read a mapping file: YAML ``field: header text`` (``null`` to ignore a field); ``fields`` are the
    fields it may name (a registration's by default; a needs survey passes its own).

    Raises :class:`InputError` naming the file when it cannot be read, is not a mapping, or names an
    unknown field.
    """
    file = str(path)
    try:
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"cannot read the mapping file: {exc.strerror or exc}", file=file) from exc
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=file,
                         row=None if line is None else line + 1) from exc
    if isinstance(data, dict) and set(data) == {"columns"}:
        data = data["columns"]
    if not isinstance(data, dict):
        raise InputError("the mapping file must be a mapping of field: header text", file=file)
    mapping: dict[str, str | None] = {}
    for key, value in data.items():
        field = _FIELD_ALIASES.get(str(key), str(key))
        if field not in fields:
            raise InputError(f"unknown field {key!r}; fields are: {', '.join(fields)}", file=file,
                             field=str(key))
        if value is not None and not isinstance(value, (str, int)):
            raise InputError("the header must be text (or null to ignore the field)", file=file,
                             field=str(key))
        mapping[field] = None if value is None else str(value)
    return mapping


def resolve_columns(header: Sequence[str], *, file: str, mapping: Mapping[str, str | None] | None = None,
                    mapping_file: str | None = None, unanswered: Collection[int] = ()) -> ColumnMap:
    """Decide the column of every field: the mapping first, then the auto-detection.

    Of two columns that look like one field, the one not in ``unanswered`` (columns no row answers, or
    only with "anonymous", as Microsoft Forms fills its own Email and Name columns) is taken.
    Raises :class:`InputError` naming the file (and listing the headers found) when a mapped header is not
    in the file, when two columns look like the same field and the mapping does not say which, or when a
    required field (submitted_at, email, fullname, regency) has no column.
    """
    headers_found = "; ".join(f"{i + 1}: {h!r}" for i, h in enumerate(header)) or "(none)"
    normalised = [_norm(h) for h in header]
    index: dict[str, int] = {}
    explicit: set[str] = set()
    for field, text in (mapping or {}).items():
        explicit.add(field)
        if text is None:
            continue
        want = _norm(text)
        matches = [i for i, h in enumerate(normalised) if h == want]
        if not matches:
            raise InputError(f"the mapping{f' ({mapping_file})' if mapping_file else ''} names the header "
                             f"{text!r} for {field}, but the file has no such column. Headers found: "
                             f"{headers_found}", file=file, field=field)
        index[field] = matches[0]
    taken = set(index.values())
    ambiguous: list[str] = []
    for field, columns in detect_columns(header).items():
        if field in explicit:
            continue
        columns = [c for c in columns if c not in taken]
        if len(columns) > 1 and len([c for c in columns if c not in unanswered]) == 1:
            columns = [c for c in columns if c not in unanswered]
        if len(columns) > 1:
            ambiguous.append(f"{field}: " + " / ".join(repr(header[c]) for c in columns))
        elif columns:
            index[field] = columns[0]
    if ambiguous:
        raise InputError("several columns look like the same field: " + "; ".join(ambiguous) +
                         ". Say which one to use in a mapping file (--mapping), "
                         "e.g. `email: \"Alamat email\"`",
                         file=file)
    missing = [f for f in REQUIRED_FIELDS if f not in index]
    if missing:
        raise InputError(f"required field(s) {', '.join(missing)} not found. Headers found: {headers_found}. "
                         f"Name the columns in a mapping file (--mapping), e.g. `{missing[0]}: \"<header>\"`",
                         file=file)
    return ColumnMap(index=dict(sorted(index.items(), key=lambda kv: FIELDS.index(kv[0]))),
                     header={f: header[i] for f, i in index.items()})
