"""Announcement lists for participants (in Bahasa Indonesia): selected, waitlist, not selected.

Written through :mod:`moodle_sync.tabular`, so formula-like text is neutralised. The lists are meant to be
published, so they carry no phone numbers, NUPTK or full e-mail addresses: the e-mail is masked
(``bu***@gmail.com``) to let people with the same name find themselves. Withdrawn applicants are left out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..regions import by_slug
from ..tabular import Sheet, write_csv, write_xlsx
from .classes import ClassGroup
from .selection import (
    CAUSE_BEYOND_WAITLIST,
    CAUSE_NOT_OFFERED,
    CAUSE_PROMOTED,
    CAUSE_TRAINED,
    Placement,
    Selection,
)

__all__ = [
    "SHEET_NOT_ELIGIBLE",
    "SHEET_NOT_SELECTED",
    "SHEET_SELECTED",
    "SHEET_WAITLIST",
    "announcement_sheets",
    "mask_email",
    "write_announcement_csv",
    "write_announcement_xlsx",
]

SHEET_SELECTED, SHEET_WAITLIST, SHEET_NOT_SELECTED = "Peserta Terpilih", "Daftar Tunggu", "Tidak Terpilih"
SHEET_NOT_ELIGIBLE = "Tidak Memenuhi Syarat"
_FILE_SUFFIX = {SHEET_SELECTED: "terpilih", SHEET_WAITLIST: "daftar-tunggu",
                SHEET_NOT_SELECTED: "tidak-terpilih", SHEET_NOT_ELIGIBLE: "tidak-memenuhi-syarat"}
_RULE_ID = {"levels": "jenjang sekolah", "subjects": "mata pelajaran/peran", "regencies": "kabupaten/kota",
            "schools": "sekolah sasaran", "years_of_service": "masa kerja"}
_PERSON = ["Nama Lengkap", "Asal Sekolah", "Kabupaten/Kota", "Jenjang", "Email (disamarkan)"]


def mask_email(email: str) -> str:
    """``budi.santoso@gmail.com`` -> ``bu***@gmail.com`` (one letter kept when the name is short)."""
    local, _, domain = email.partition("@")
    keep = 2 if len(local) > 3 else 1
    return f"{local[:keep]}***@{domain}"


def _keterangan(p: Placement) -> str:
    region = by_slug(p.applicant.regency).name
    if p.cause == CAUSE_PROMOTED:
        return "Terpilih (dari daftar tunggu)"
    if p.status == "not_eligible":
        return f"Tidak memenuhi syarat sasaran ({_RULE_ID.get(p.cause, p.cause)})"
    if p.cause == "model_school":
        return "Terpilih (kursi sekolah model)"
    if p.status == "selected":
        return f"Terpilih (kuota {region})"
    if p.status == "waitlisted":
        return f"Daftar tunggu nomor {p.rank} (nomor {p.regency_rank} di {region})"
    if p.cause == CAUSE_NOT_OFFERED:
        return f"{region} tidak termasuk wilayah sasaran kegiatan ini"
    if p.cause == CAUSE_TRAINED:
        return "Sudah pernah mengikuti pelatihan ini"
    if p.cause == CAUSE_BEYOND_WAITLIST:
        return "Kuota dan daftar tunggu sudah penuh"
    return "Tidak terpilih"


def _person(p: Placement) -> list[Any]:
    a = p.applicant
    return [a.fullname, a.school or "", a.regency_name, a.school_level or "", mask_email(a.email)]


def announcement_sheets(selection: Selection, *,
                        classes: Mapping[str, Sequence[ClassGroup]] | None = None) -> list[Sheet]:
    """The lists as :class:`~moodle_sync.tabular.Sheet` objects (selected, waitlist, not selected, and not
    eligible, with the rule, when anyone is),
    with Indonesian headers; a "Kelas" column on the selected list when ``classes`` is given."""
    class_of: dict[str, str] = {}
    for course, groups in (classes or {}).items():
        for g in groups:
            for a in g.members:
                class_of[a.email] = g.name if course == "main" else f"{g.name} ({course})"
    selected_header = ["No", *_PERSON, *(["Kelas"] if classes is not None else []), "Keterangan"]
    selected = [[p.rank, *_person(p), *([class_of.get(p.email, "")] if classes is not None else []),
                 _keterangan(p)] for p in selection.selected]
    waitlist = [[p.rank, *_person(p), p.regency_rank, _keterangan(p)] for p in selection.waitlist]
    others = [[i, *_person(p), _keterangan(p)] for i, p in enumerate(selection.not_selected, start=1)]
    sheets = [
        Sheet(SHEET_SELECTED, selected_header, selected),
        Sheet(SHEET_WAITLIST, ["No. Urut", *_PERSON, "Urutan di Kabupaten/Kota", "Keterangan"], waitlist),
        Sheet(SHEET_NOT_SELECTED, ["No", *_PERSON, "Keterangan"], others),
    ]
    if selection.not_eligible:   # a fourth list only when the offering has a target audience that excluded someone
        sheets.append(Sheet(SHEET_NOT_ELIGIBLE, ["No", *_PERSON, "Keterangan"],
                            [[i, *_person(p), _keterangan(p)]
                             for i, p in enumerate(selection.not_eligible, start=1)]))
    return sheets


def write_announcement_xlsx(selection: Selection, path: str | os.PathLike[str], *,
                            classes: Mapping[str, Sequence[ClassGroup]] | None = None) -> Path:
    """One workbook with three sheets (Peserta Terpilih, Daftar Tunggu, Tidak Terpilih; a fourth, Tidak
    Memenuhi Syarat, when anyone is not eligible). Returns the path;
    raises ``OSError`` if it cannot be written."""
    return write_xlsx(path, announcement_sheets(selection, classes=classes))


def write_announcement_csv(selection: Selection, directory: str | os.PathLike[str], *,
                           stem: str = "pengumuman",
                           classes: Mapping[str, Sequence[ClassGroup]] | None = None,
                           delimiter: str = ",") -> dict[str, Path]:
    """CSV files in ``directory``: ``<stem>-terpilih.csv``, ``<stem>-daftar-tunggu.csv``,
    ``<stem>-tidak-terpilih.csv`` (and ``<stem>-tidak-memenuhi-syarat.csv`` when anyone is not eligible). Returns sheet title -> path; raises ``OSError`` if one cannot be
    written."""
    out: dict[str, Path] = {}
    for sheet in announcement_sheets(selection, classes=classes):
        target = Path(directory) / f"{stem}-{_FILE_SUFFIX[sheet.title]}.csv"
        out[sheet.title] = write_csv(target, sheet.header, sheet.rows, delimiter=delimiter)
    return out
