"""The typed records the store takes and gives back (besides the evidence model's own types).

Times are Unix seconds, as everywhere in moodle_sync. E-mail addresses are kept and compared in lower
case, without surrounding spaces (see :func:`normalise_email`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# What a Moodle object map entry can be.
OBJECT_KINDS = ("category", "course", "group", "grouping", "user", "enrolment", "section")
# How a write to Moodle ended: ``unknown`` when it was sent but no answer came back.
WRITE_OUTCOMES = ("ok", "failed", "unknown")
# Where a participant stands in an offering.
PARTICIPANT_STATUSES = ("selected", "waitlist", "not_selected", "withdrawn", "enrolled", "failed")
# How a pull ran and how it ended: ``partial`` some reads failed (their last state is kept); ``failed`` an
# error or a crash stopped it; ``interrupted`` stopped by the user (Ctrl-C). Only an ``ok`` run moves the
# point an incremental pull reads "since" (see moodle_sync.evidence.pull).
RUN_MODES = ("full", "incremental", "report")
RUN_STATUSES = ("running", "ok", "partial", "failed", "interrupted")


def normalise_email(email: str) -> str:
    """The form in which the store keeps and compares e-mail addresses: stripped, lower case."""
    return email.strip().lower()


@dataclass(frozen=True)
class OfferingRecord:
    """An offering as provisioning saved it: its template, title and the rendered data it chose to keep."""

    offering_id: str
    template: str
    title: str
    data: dict[str, Any]
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class MappedObject:
    """Which Moodle object (by id) stands for one of our keys, and the spec hash it was last written with."""

    offering_id: str
    kind: str
    key: str
    moodle_id: int
    spec_hash: str | None
    updated_at: int


@dataclass(frozen=True)
class WriteRecord:
    """One entry of the audit trail: a write we sent to Moodle and how it ended."""

    id: int
    at: int
    offering_id: str
    action: str
    kind: str
    key: str
    moodle_id: int | None
    spec_hash: str | None
    outcome: str
    detail: str | None


@dataclass
class ParticipantRecord:
    """An applicant of an offering and where they stand (selected, enrolled, ...).

    ``regency`` is a regency slug (see :mod:`moodle_sync.regions`); ``updated_at`` is set by the store.
    """

    email: str
    fullname: str = ""
    firstname: str = ""
    lastname: str = ""
    nuptk: str | None = None
    npsn: str | None = None
    school: str | None = None
    regency: str | None = None
    school_level: str | None = None
    phone: str | None = None
    course_key: str | None = None
    class_name: str | None = None
    status: str = "selected"
    rank: int | None = None
    reason: str | None = None
    moodle_user_id: int | None = None
    trained_before_form: bool | None = None
    submitted_at: int | None = None
    updated_at: int | None = None
    trained: bool | None = None      # the selection counted them as trained before (form or records)


PARTICIPANT_FIELDS = tuple(f.name for f in fields(ParticipantRecord))
