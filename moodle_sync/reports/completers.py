"""Completers: who passed an offering (:class:`~moodle_sync.offerings.PassRule`), as the certificate
system needs them. Pure: the certificate numbers come from the store (issued once, see
:mod:`moodle_sync.store.certificates`) and are joined in by :func:`with_numbers`.

The name is the participant's name as registered (titles kept), else Moodle's; JP is ``variables.jp``;
the completion date is Moodle's course completion time. Someone enrolled in two courses of the offering
is listed once (the earlier completion). Withdrawn participants who never completed are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..evidence.model import CompletionSnapshot
from ..localtime import WIB
from ..offerings import PassRule, training_hours
from ..store.records import ParticipantRecord, normalise_email
from .aggregate import enrich, is_withdrawn, regency_name

HEADER = ["No. Sertifikat", "Nama", "NUPTK", "Email", "Sekolah", "NPSN", "Kabupaten/Kota", "Jenjang", "JP",
          "Tanggal Selesai", "Nilai Post-test", "Kursus", "Kelas"]


@dataclass(frozen=True)
class Completer:
    email: str
    name: str
    nuptk: str | None
    school: str | None
    npsn: str | None
    regency: str | None
    school_level: str | None
    jp: Any
    completed_at: int | None
    posttest_pct: float | None
    course_key: str
    class_name: str | None
    certificate_number: str | None = None


def build_completers(snapshots: Iterable[CompletionSnapshot], participants: Iterable[ParticipantRecord], *,
                     rule: PassRule, variables: Mapping[str, Any]) -> list[Completer]:
    """Everyone who passed, ordered by completion time (unknown last), then name: the order numbers are
    issued in. Raises :class:`~moodle_sync.templates.problems.OfferingError` for a ``variables.jp`` that
    is not a number of hours."""
    jp = training_hours(variables)
    people = list(participants)
    records = {normalise_email(p.email): p for p in people}
    best: dict[str, Completer] = {}
    for s in enrich(snapshots, people):
        if is_withdrawn(s) or not rule.passed(s.completed, s.posttest_grade, s.posttest_max):
            continue
        email = normalise_email(s.email)
        p = records.get(email)
        found = Completer(
            email=email, name=p.fullname if p and p.fullname else s.fullname, nuptk=p.nuptk if p else None,
            school=p.school if p else None, npsn=p.npsn if p else None, regency=regency_name(s.regency),
            school_level=s.school_level, jp=jp, completed_at=s.time_completed if s.completed else None,
            posttest_pct=s.posttest_grade / s.posttest_max * 100.0 if s.posttest_grade is not None and s.posttest_max
            else None, course_key=s.course_key, class_name=s.class_name)
        if email not in best or _order(found) < _order(best[email]):
            best[email] = found
    return sorted(best.values(), key=_order)


def _order(c: Completer) -> tuple[Any, ...]:
    return (c.completed_at is None, c.completed_at or 0, c.name.casefold(), c.email)


def with_numbers(completers: Sequence[Completer], numbers: Mapping[str, str]) -> list[Completer]:
    """The completers with their certificate numbers (by e-mail) filled in."""
    return [replace(c, certificate_number=numbers.get(c.email)) for c in completers]


@dataclass(frozen=True)
class Lapsed:
    """A certificate issued earlier to someone who no longer passes (a grade lowered, a completion or an
    enrolment removed in Moodle): the number stays theirs and is never reused, but they are not listed."""

    email: str
    certificate_number: str
    completed_at: int | None
    issued_at: int


def lapsed(completers: Sequence[Completer], issued: Mapping[str, Any]) -> list[Lapsed]:
    """The certificates of ``issued`` (e-mail -> record with ``number``, ``completed_at``, ``issued_at``)
    whose holder is not among ``completers`` any more, in number order."""
    passing = {c.email for c in completers}
    return sorted((Lapsed(email, r.number, r.completed_at, r.issued_at) for email, r in issued.items()
                   if email not in passing), key=lambda x: (x.issued_at, x.certificate_number))


def completion_date(timestamp: int | None) -> str | None:
    """The WIB date of a completion time, YYYY-MM-DD."""
    from datetime import datetime

    return datetime.fromtimestamp(timestamp, WIB).date().isoformat() if timestamp else None


def rows(completers: Sequence[Completer]) -> list[list[Any]]:
    """Table rows under :data:`HEADER` (formula safety is the writer's, see :mod:`moodle_sync.tabular`)."""
    return [[c.certificate_number, c.name, c.nuptk, c.email, c.school, c.npsn, c.regency, c.school_level, c.jp,
             completion_date(c.completed_at), round(c.posttest_pct, 2) if c.posttest_pct is not None else None,
             c.course_key, c.class_name] for c in completers]


def completers_document(offering_id: str, completers: Sequence[Completer],
                        gone: Sequence[Lapsed] = ()) -> dict[str, Any]:
    """The JSON contract: ``completers``: ``{email, certificate_number, jp, completed_at}`` (and more);
    ``no_longer_passing``: certificates issued earlier whose holder does not pass any more."""
    return {"offering": offering_id, "count": len(completers),
            "no_longer_passing": [{"email": g.email, "certificate_number": g.certificate_number,
                                   "completed_at": g.completed_at, "issued_at": g.issued_at} for g in gone],
            "completers": [{"email": c.email, "certificate_number": c.certificate_number, "jp": c.jp,
                            "completed_at": c.completed_at, "completed_on": completion_date(c.completed_at),
                            "name": c.name, "nuptk": c.nuptk, "school": c.school, "regency": c.regency,
                            "posttest_pct": c.posttest_pct} for c in completers]}
