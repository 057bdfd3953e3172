"""Participants of offerings (selection and enrolment), and who was trained before."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Row, distinct, func, select, update

from ..exceptions import InputError
from . import schema as t
from .base import StoreBase, chunks, upsert
from .records import PARTICIPANT_FIELDS, PARTICIPANT_STATUSES, ParticipantRecord, normalise_email


def _participant(row: Row[Any]) -> ParticipantRecord:
    return ParticipantRecord(**{name: getattr(row, name) for name in PARTICIPANT_FIELDS})


def _check_status(status: str) -> None:
    if status not in PARTICIPANT_STATUSES:
        raise ValueError(f"participant status {status!r} is not one of {', '.join(PARTICIPANT_STATUSES)}")


class ParticipantStore(StoreBase):
    """The participants half of :class:`~moodle_sync.store.Store`."""

    def save_participants(self, offering_id: str, participants: list[ParticipantRecord]) -> int:
        """Insert or replace (every field) participants of the offering, keyed by e-mail, in one
        transaction; stamps ``updated_at``. Returns how many were saved.

        Raises ``ValueError`` for an unknown status or an e-mail given twice.
        """
        now = self._now()
        rows: dict[str, dict[str, Any]] = {}
        for p in participants:
            _check_status(p.status)
            email = normalise_email(p.email)
            if email in rows:
                raise ValueError(f"participant {email} is given twice for offering {offering_id}")
            rows[email] = {**asdict(p), "site_id": self.site_id, "offering_id": offering_id, "email": email,
                           "updated_at": now}
        with self._write() as conn:
            upsert(conn, t.participants, list(rows.values()), keys=["site_id", "offering_id", "email"])
        return len(rows)

    def participants(self, offering_id: str, status: str | None = None) -> list[ParticipantRecord]:
        """The offering's participants (with this status if given), ordered by rank then e-mail."""
        c = t.participants.c
        query = select(t.participants).where(c.site_id == self.site_id, c.offering_id == offering_id)
        if status is not None:
            _check_status(status)
            query = query.where(c.status == status)
        with self._read() as conn:
            rows = conn.execute(query).all()
        records = [_participant(r) for r in rows]
        records.sort(key=lambda p: (p.rank is None, p.rank or 0, p.email))
        return records

    def class_counts(self, offering_id: str) -> dict[str, int]:
        """How many classes each course of the offering has in its roster (the distinct class names of its
        participants, whatever their status), by course key; ``{}`` before any selection."""
        c = t.participants.c
        query = (select(c.course_key, func.count(distinct(c.class_name)))
                 .where(c.site_id == self.site_id, c.offering_id == offering_id, c.course_key.is_not(None),
                        c.class_name.is_not(None))
                 .group_by(c.course_key))
        with self._read() as conn:
            return {key: int(n) for key, n in conn.execute(query).all()}

    def class_schools(self, offering_id: str) -> list[tuple[str, str, str | None, int]]:
        """``(course_key, class_name, npsn, count)``: how many of the offering's participants (whatever their
        status) of each school are in each class; ``npsn`` is None for those without one. ``[]`` before
        any selection."""
        c = t.participants.c
        query = (select(c.course_key, c.class_name, c.npsn, func.count())
                 .where(c.site_id == self.site_id, c.offering_id == offering_id, c.course_key.is_not(None),
                        c.class_name.is_not(None))
                 .group_by(c.course_key, c.class_name, c.npsn))
        with self._read() as conn:
            return sorted(((key, name, npsn, int(n)) for key, name, npsn, n in conn.execute(query).all()),
                          key=lambda r: (r[0], r[1], r[2] or ""))

    def update_participant(self, offering_id: str, email: str, **fields: Any) -> ParticipantRecord:
        """Change some fields of one participant (and stamp ``updated_at``); returns the record.

        Raises ``ValueError`` for a field that a :class:`ParticipantRecord` does not have (or
        ``updated_at``, which the store sets) or an unknown status, and :class:`InputError` when the
        offering has no such participant.
        """
        unknown = sorted(set(fields) - set(PARTICIPANT_FIELDS) | ({"updated_at"} & set(fields)))
        if unknown:
            raise ValueError(f"cannot update participant field(s): {', '.join(unknown)}")
        if "status" in fields:
            _check_status(fields["status"])
        key = normalise_email(email)
        c = t.participants.c
        where = (c.site_id == self.site_id) & (c.offering_id == offering_id) & (c.email == key)
        with self._write() as conn:
            done = conn.execute(update(t.participants).where(where).values(**fields, updated_at=self._now()))
            if done.rowcount == 0:
                raise InputError(f"offering {offering_id} has no participant {key}", field="email")
            row = conn.execute(select(t.participants).where(where)).one()
        return _participant(row)

    def training_history(self, emails: list[str], nuptks: list[str], *,
                         exclude_offering: str | None = None) -> dict[str, str]:
        """Evidence that people took part in an earlier training recorded in this store for this site.

        Looks up each e-mail and NUPTK among the participants and the pulled (student) snapshots of
        every offering but ``exclude_offering`` (the one being selected for). Returns a dict from each
        given e-mail/NUPTK that was found (as given) to ``"completed OFFERING"`` when a snapshot shows
        the course completed, else ``"enrolled in OFFERING"`` when the person was enrolled there or
        was seen in a pull. People who merely applied elsewhere are not listed.
        """
        by_email = {normalise_email(e): e for e in emails if e and e.strip()}
        by_nuptk = {n.strip(): n for n in nuptks if n and n.strip()}
        if not by_email and not by_nuptk:
            return {}
        with self._read() as conn:
            people = [r for r in self._people(conn, by_email, by_nuptk) if r.offering_id != exclude_offering]
            snaps = [r for r in self._student_snapshots(conn, by_email, people)
                     if r.offering_id != exclude_offering]
        found: dict[str, list[tuple[int, str, str]]] = {}   # key -> (rank, offering, evidence)
        for snap in snaps:
            email = normalise_email(snap.email)
            if email in by_email:
                _note(found, by_email[email], snap.offering_id, bool(snap.completed))
        seen = _completed_by_offering(snaps)
        for person in people:
            marks = [seen[k] for k in ((person.offering_id, person.email),
                                       (person.offering_id, person.moodle_user_id)) if k in seen]
            if not marks and person.status != "enrolled":
                continue
            for key in _keys(person, by_email, by_nuptk):
                _note(found, key, person.offering_id, any(marks))
        return {key: min(options)[2] for key, options in found.items()}

    def _people(self, conn: Connection, by_email: dict[str, str], by_nuptk: dict[str, str]) -> list[Row[Any]]:
        """The site's participants (of any offering) with one of these e-mails or NUPTKs."""
        p = t.participants.c
        people: list[Row[Any]] = []
        for part in chunks(sorted(by_email)):
            people += conn.execute(select(t.participants).where(p.site_id == self.site_id, p.email.in_(part))).all()
        for part in chunks(sorted(by_nuptk)):
            people += conn.execute(select(t.participants).where(p.site_id == self.site_id, p.nuptk.in_(part))).all()
        return people

    def _student_snapshots(self, conn: Connection, by_email: dict[str, str],
                           people: list[Row[Any]]) -> list[Row[Any, Any, Any, Any]]:
        """The site's current student snapshots of these e-mails or of these people (by e-mail or user id)."""
        s = t.snapshots_current.c
        emails = sorted(set(by_email) | {r.email for r in people})
        user_ids = sorted({r.moodle_user_id for r in people if r.moodle_user_id is not None})
        columns = (s.offering_id, s.user_id, s.email, s.completed)
        mine = (s.site_id == self.site_id) & (s.role == "student")
        snaps: list[Row[Any, Any, Any, Any]] = []   # offering_id, user_id, email, completed
        for part in chunks(emails):
            snaps += conn.execute(select(*columns).where(mine, s.email.in_(part))).all()
        for part in chunks(user_ids):
            snaps += conn.execute(select(*columns).where(mine, s.user_id.in_(part))).all()
        return snaps


def _note(found: dict[str, list[tuple[int, str, str]]], key: str, offering: str, completed: bool) -> None:
    evidence = f"completed {offering}" if completed else f"enrolled in {offering}"
    found.setdefault(key, []).append((0 if completed else 1, offering, evidence))


def _completed_by_offering(snaps: list[Row[Any, Any, Any, Any]]) -> dict[tuple[str, str | int], bool]:
    """(offering, e-mail or user id) -> whether any snapshot of it shows the course completed."""
    seen: dict[tuple[str, str | int], bool] = {}
    for snap in snaps:
        for who in (normalise_email(snap.email), int(snap.user_id)):
            seen[(snap.offering_id, who)] = seen.get((snap.offering_id, who), False) or bool(snap.completed)
    return seen


def _keys(person: Row[Any], by_email: dict[str, str], by_nuptk: dict[str, str]) -> Iterable[str]:
    if person.email in by_email:
        yield by_email[person.email]
    if person.nuptk and person.nuptk.strip() in by_nuptk:
        yield by_nuptk[person.nuptk.strip()]
