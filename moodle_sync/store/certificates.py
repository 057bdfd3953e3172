"""Certificate numbers: issued once per participant of an offering, never changed, never repeated.

A number comes from a pattern's sequence (counted per pattern and year, across every offering of the
store's site: two sites count apart and may issue the same number): the next free ``seq``. Issuing runs in one write transaction — on SQLite it holds the database's
write lock from its start (BEGIN IMMEDIATE), on PostgreSQL it first takes a transaction advisory lock of
the site, pattern and year — so two runs at once (of one offering or of two) never hand out the same
number; the table's unique constraints (``site_id, number``; ``site_id, pattern, year, seq``) stand behind
that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, func, insert, select, text

from . import schema as t
from .base import StoreBase
from .locks import lock_key
from .records import normalise_email


@dataclass(frozen=True)
class CertificateRecord:
    """A certificate as issued: its number, and the pattern, year and sequence it came from."""

    offering_id: str
    email: str
    number: str
    pattern: str
    year: int
    seq: int
    completed_at: int | None
    issued_at: int


def _certificate(row: Row[Any]) -> CertificateRecord:
    return CertificateRecord(row.offering_id, row.email, row.number, row.pattern, row.year, row.seq,
                             row.completed_at, row.issued_at)


class CertificateStore(StoreBase):
    """The certificates part of :class:`~moodle_sync.store.Store`."""

    def certificates(self, offering_id: str) -> dict[str, CertificateRecord]:
        """The certificates issued for an offering, by (normalised) e-mail."""
        with self._read() as conn:
            rows = conn.execute(select(t.certificates).where(self._of_offering(offering_id))).all()
        return {r.email: _certificate(r) for r in rows}

    def issue_certificates(self, offering_id: str, people: Sequence[tuple[str, int | None]], *, pattern: str,
                           year: int, number: Callable[[int], str]) -> dict[str, CertificateRecord]:
        """Give every ``(email, completed_at)`` of ``people`` without a certificate of this offering the next
        number of ``pattern`` and ``year`` (``number(seq)`` formats it), in the order given, in one
        transaction. Certificates already issued are kept as they are (their pattern may differ).

        Returns every certificate of the offering, by e-mail. Raises ``ValueError`` when ``number`` gives a
        number already issued (a pattern that does not show ``{seq}`` in full); nothing is issued then.
        """
        now = self._now()
        with self._write() as conn:
            self._lock_sequence(conn, pattern, year)
            c = t.certificates.c
            have = {r.email for r in conn.execute(select(c.email).where(self._of_offering(offering_id)))}
            last = conn.execute(select(func.coalesce(func.max(c.seq), 0))
                                .where(c.site_id == self.site_id, c.pattern == pattern, c.year == year)).scalar_one()
            rows = []
            for email, completed_at in people:
                email = normalise_email(email)
                if email in have:
                    continue
                have.add(email)
                last += 1
                rows.append({"site_id": self.site_id, "offering_id": offering_id, "email": email, "number": number(last),
                             "pattern": pattern, "year": year, "seq": last, "completed_at": completed_at,
                             "issued_at": now})
            taken = self._taken(conn, [r["number"] for r in rows])
            if taken or len({r["number"] for r in rows}) < len(rows):
                raise ValueError(f"certificate pattern {pattern!r} gives a number already issued "
                                 f"({', '.join(sorted(taken)) or 'twice in this run'})")
            if rows:
                conn.execute(insert(t.certificates), rows)
            issued = conn.execute(select(t.certificates).where(self._of_offering(offering_id))).all()
        return {r.email: _certificate(r) for r in issued}

    def _of_offering(self, offering_id: str) -> ColumnElement[bool]:
        c = t.certificates.c
        return and_(c.site_id == self.site_id, c.offering_id == offering_id)

    def _lock_sequence(self, conn: Connection, pattern: str, year: int) -> None:
        """On PostgreSQL, wait for the transaction lock of the sequence (SQLite's write lock is held already)."""
        if conn.dialect.name == "postgresql":
            database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
            key = lock_key(f"{database}/{schema}", f"certificates:{pattern}:{year}", self.site_id)
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def _taken(self, conn: Connection, numbers: list[str]) -> set[str]:
        if not numbers:
            return set()
        c = t.certificates.c
        return {r.number for r in conn.execute(select(c.number).where(c.site_id == self.site_id,
                                                                      c.number.in_(numbers)))}
