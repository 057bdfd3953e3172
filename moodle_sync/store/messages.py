"""Messages sent to facilitators: one per site, offering, day (WIB) and recipient, so a rerun the same
day sends nothing twice.

A message is *reserved* (recorded with outcome ``unknown``) before it is sent and *settled* (``ok`` with
Moodle's message id, or ``failed`` with Moodle's error) when the answer comes. A message whose answer was
lost stays ``unknown``: it is never re-sent by itself (Moodle may have delivered it); a ``failed`` one may
be sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import schema as t
from .base import StoreBase
from .records import normalise_email

MESSAGE_OUTCOMES = ("ok", "failed", "unknown")


@dataclass(frozen=True)
class MessageRecord:
    """One message to a facilitator, as recorded."""

    id: int
    offering_id: str
    day: str
    recipient: str
    moodle_user_id: int | None
    digest: str
    outcome: str
    msgid: int | None
    detail: str | None
    at: int


def _message(row: Row[Any]) -> MessageRecord:
    return MessageRecord(row.id, row.offering_id, row.day, row.recipient, row.moodle_user_id, row.digest,
                         row.outcome, row.msgid, row.detail, row.at)


class MessageStore(StoreBase):
    """The sent-messages part of :class:`~moodle_sync.store.Store`."""

    def messages(self, offering_id: str, day: str | None = None) -> list[MessageRecord]:
        """The messages recorded for an offering (on ``day``, YYYY-MM-DD, if given), oldest first."""
        c = t.sent_messages.c
        query = select(t.sent_messages).where(c.site_id == self.site_id, c.offering_id == offering_id)
        if day is not None:
            query = query.where(c.day == day)
        with self._read() as conn:
            return [_message(r) for r in conn.execute(query.order_by(c.id)).all()]

    def reserve_message(self, offering_id: str, day: str, recipient: str, moodle_user_id: int | None,
                        digest: str) -> MessageRecord | None:
        """Record that a message to ``recipient`` is about to be sent (outcome ``unknown``), unless one was
        sent, or may have been, that day. Returns the record to settle, or ``None``: do not send."""
        recipient = normalise_email(recipient)
        c = t.sent_messages.c
        key = and_(c.site_id == self.site_id, c.offering_id == offering_id, c.day == day, c.recipient == recipient)
        values = {"moodle_user_id": moodle_user_id, "digest": digest, "outcome": "unknown", "msgid": None,
                  "detail": None, "at": self._now()}
        try:
            with self._write() as conn:
                row = conn.execute(select(t.sent_messages).where(key)).first()
                if row is not None and row.outcome != "failed":
                    return None
                if row is None:
                    conn.execute(insert(t.sent_messages).values(site_id=self.site_id, offering_id=offering_id,
                                                                day=day, recipient=recipient, **values))
                elif conn.execute(update(t.sent_messages).where(c.id == row.id, c.outcome == "failed")
                                  .values(**values)).rowcount != 1:
                    return None     # another run re-reserved it meanwhile (PostgreSQL: both saw it failed)
                row = conn.execute(select(t.sent_messages).where(key)).one()
        except IntegrityError:   # another run reserved it meanwhile (PostgreSQL: both saw no row)
            return None
        return _message(row)

    def settle_message(self, message_id: int, outcome: str, *, msgid: int | None = None,
                       detail: str | None = None, expect: str | None = None) -> bool:
        """Record how a reserved message ended: ``ok`` (with Moodle's ``msgid``), ``failed`` or ``unknown``;
        with ``expect``, only while its outcome is still that (another run may have settled it). Returns
        whether the record was changed."""
        if outcome not in MESSAGE_OUTCOMES:
            raise ValueError(f"message outcome {outcome!r} is not one of {', '.join(MESSAGE_OUTCOMES)}")
        c = t.sent_messages.c
        query = update(t.sent_messages).where(c.id == message_id, c.site_id == self.site_id)
        if expect is not None:
            query = query.where(c.outcome == expect)
        with self._write() as conn:
            return conn.execute(query.values(outcome=outcome, msgid=msgid, detail=detail, at=self._now())).rowcount == 1
