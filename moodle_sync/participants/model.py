"""What an import produces: applicants (valid, de-duplicated rows), superseded rows, rejected rows.

Pure, frozen data. Every data row of an input file ends in exactly one of
:attr:`ImportResult.accepted`, :attr:`ImportResult.superseded` or :attr:`ImportResult.rejected`.
Row numbers are the ones a person sees in the spreadsheet (the header is row 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import datetime
from typing import Any

from ..regions import by_slug

FIELDS: tuple[str, ...] = ("submitted_at", "email", "fullname", "nuptk", "npsn", "school", "regency",
                           "school_level", "phone", "trained_before", "choice", "choice2", "subject",
                           "years_of_service")
"""The fields a registration row can carry, in the order we show them."""

REQUIRED_FIELDS: tuple[str, ...] = ("submitted_at", "email", "fullname", "regency")
"""Fields whose column must exist: without them a file cannot be used."""

SCHOOL_LEVELS: tuple[str, ...] = ("PAUD", "SD", "SMP", "SMA", "SMK", "SLB")
"""The school levels an applicant ends up with (madrasah levels are mapped onto these)."""


@dataclass(frozen=True)
class Applicant:
    """One person's valid registration (the latest of their submissions).

    ``regency`` is a slug from :mod:`moodle_sync.regions`; ``submitted_at`` is the time of the row that was
    kept, ``first_submitted_at`` the earliest valid submission by the same person (what "earlier
    registration first" uses, so correcting a form later does not cost a place). Times are naive, in the
    time zone of the form (WIB for a Lampung form). ``trained_before`` is the form's answer (``None``: not
    asked or not answered). ``choices`` are the programmes chosen (empty: the form has no choice column or
    the person left it empty: an applicant for any offering). ``warnings`` lists values we dropped without rejecting the row (e.g. an
    unusable phone number).
    """

    file: str
    row: int
    email: str
    fullname: str
    firstname: str
    lastname: str
    regency: str
    submitted_at: datetime
    nuptk: str | None = None
    npsn: str | None = None
    school: str | None = None
    school_level: str | None = None
    phone: str | None = None
    trained_before: bool | None = None
    first_submitted_at: datetime | None = None
    warnings: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()          # programme choices as answered, first choice first
    subject: str | None = None             # subject taught or role ("Guru BK", "Bahasa Inggris", ...)
    years_of_service: int | None = None    # whole years (a band such as "> 10 tahun" gives its lower bound)

    @property
    def regency_name(self) -> str:
        """The official name, e.g. "Kabupaten Lampung Tengah"."""
        return by_slug(self.regency).name

    @property
    def registered_at(self) -> datetime:
        """When this person first registered (validly): the key of "earlier registration first"."""
        return self.first_submitted_at or self.submitted_at

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description (times as ISO 8601)."""
        return {
            "file": self.file, "row": self.row, "email": self.email, "fullname": self.fullname,
            "firstname": self.firstname, "lastname": self.lastname, "nuptk": self.nuptk, "npsn": self.npsn,
            "school": self.school, "regency": self.regency, "regency_name": self.regency_name,
            "school_level": self.school_level, "phone": self.phone, "trained_before": self.trained_before,
            "submitted_at": self.submitted_at.isoformat(sep=" "),
            "registered_at": self.registered_at.isoformat(sep=" "), "warnings": list(self.warnings),
            "choices": list(self.choices), "subject": self.subject, "years_of_service": self.years_of_service,
        }


@dataclass(frozen=True)
class Rejected:
    """A row we cannot use: where it is, which field, why, and the row's original values by header."""

    file: str
    row: int
    reason: str
    field: str | None = None
    values: Mapping[str, str] = _field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class Superseded:
    """A valid row replaced by a later submission of the same person (same e-mail or NUPTK)."""

    applicant: Applicant
    by_file: str
    by_row: int
    matched_on: str   # "email", "nuptk", or "linked" (through another submission of the same person)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.applicant.file, "row": self.applicant.row, "email": self.applicant.email,
                "by_file": self.by_file, "by_row": self.by_row, "matched_on": self.matched_on}


@dataclass(frozen=True)
class ImportResult:
    """The outcome of importing one or more registration files.

    ``rows`` counts the data rows read (blank rows are skipped and not counted);
    ``rows == len(accepted) + len(superseded) + len(rejected)`` always holds. ``columns`` maps each file
    to the header used for each field; ``delimiters`` each CSV file to its delimiter.
    """

    files: tuple[str, ...]
    rows: int
    accepted: tuple[Applicant, ...]
    superseded: tuple[Superseded, ...]
    rejected: tuple[Rejected, ...]
    columns: Mapping[str, Mapping[str, str]] = _field(default_factory=dict)
    delimiters: Mapping[str, str] = _field(default_factory=dict)   # CSV files only: file -> delimiter

    @property
    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "accepted": len(self.accepted), "superseded": len(self.superseded),
                "rejected": len(self.rejected)}

    @property
    def accounted_for(self) -> bool:
        """True when every row is in exactly one bucket."""
        return self.rows == len(self.accepted) + len(self.superseded) + len(self.rejected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files), **self.counts,
            "warnings": sum(len(a.warnings) for a in self.accepted),
            "columns": {f: dict(c) for f, c in self.columns.items()},
            "rejects": [r.to_dict() for r in self.rejected],
            "superseded_rows": [s.to_dict() for s in self.superseded],
        }
