"""Offerings, the map from our keys to Moodle ids, and the audit trail of writes to Moodle."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, insert, select

from . import schema as t
from .base import StoreBase, inserted_id, upsert
from .records import OBJECT_KINDS, WRITE_OUTCOMES, MappedObject, OfferingRecord, WriteRecord


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(allowed)}")


def _offering(row: Row[Any]) -> OfferingRecord:
    return OfferingRecord(row.offering_id, row.template, row.title, json.loads(row.data), row.created_at,
                          row.updated_at)


def _write(row: Row[Any]) -> WriteRecord:
    return WriteRecord(row.id, row.at, row.offering_id, row.action, row.kind, row.key, row.moodle_id,
                       row.spec_hash, row.outcome, row.detail)


def _object(row: Row[Any]) -> MappedObject:
    return MappedObject(row.offering_id, row.kind, row.key, row.moodle_id, row.spec_hash, row.updated_at)


class ProvisioningStore(StoreBase):
    """The provisioning half of :class:`~moodle_sync.store.Store`."""

    # offerings ------------------------------------------------------------------------------------
    def save_offering(self, offering_id: str, template: str, title: str, data: dict[str, Any]) -> OfferingRecord:
        """Create or replace an offering's record (``data`` must be JSON-serialisable); keeps its
        ``created_at`` when it existed. Returns the record as stored. Raises ``TypeError`` for data
        that JSON cannot hold."""
        now = self._now()
        text = json.dumps(data, ensure_ascii=False, sort_keys=True)
        with self._write() as conn:
            upsert(conn, t.offerings, [{"site_id": self.site_id, "offering_id": offering_id, "template": template,
                                        "title": title, "data": text, "created_at": now, "updated_at": now}],
                   keys=["site_id", "offering_id"], keep=["created_at"])
            row = conn.execute(select(t.offerings).where(self._offering_is(offering_id))).one()
        return _offering(row)

    def offerings(self) -> list[OfferingRecord]:
        """Every offering, by id."""
        with self._read() as conn:
            rows = conn.execute(select(t.offerings).where(t.offerings.c.site_id == self.site_id)
                                .order_by(t.offerings.c.offering_id)).all()
        return [_offering(r) for r in rows]

    def get_offering(self, offering_id: str) -> OfferingRecord | None:
        """The offering with this id, or None."""
        with self._read() as conn:
            row = conn.execute(select(t.offerings).where(self._offering_is(offering_id))).first()
        return _offering(row) if row is not None else None

    def _offering_is(self, offering_id: str) -> ColumnElement[bool]:
        c = t.offerings.c
        return and_(c.site_id == self.site_id, c.offering_id == offering_id)

    # the Moodle object map ------------------------------------------------------------------------
    def map_object(self, offering_id: str, kind: str, key: str, moodle_id: int,
                   spec_hash: str | None = None) -> None:
        """Remember that our ``key`` of ``kind`` in the offering is Moodle object ``moodle_id`` (replacing
        any earlier entry). Raises ``ValueError`` for a kind not in :data:`OBJECT_KINDS`."""
        _check(kind, OBJECT_KINDS, "kind")
        with self._write() as conn:
            upsert(conn, t.moodle_objects, [{"site_id": self.site_id, "offering_id": offering_id, "kind": kind,
                                             "key": key, "moodle_id": int(moodle_id), "spec_hash": spec_hash,
                                             "updated_at": self._now()}],
                   keys=["site_id", "offering_id", "kind", "key"])

    def object_id(self, offering_id: str, kind: str, key: str) -> int | None:
        """The Moodle id mapped to our key, or None."""
        c = t.moodle_objects.c
        with self._read() as conn:
            value = conn.execute(select(c.moodle_id).where(
                c.site_id == self.site_id, c.offering_id == offering_id, c.kind == kind,
                c.key == key)).scalar_one_or_none()
        return int(value) if value is not None else None

    def objects(self, offering_id: str, kind: str | None = None) -> list[MappedObject]:
        """The offering's mapped objects (of one kind if given), by kind then key."""
        c = t.moodle_objects.c
        query = select(t.moodle_objects).where(c.site_id == self.site_id, c.offering_id == offering_id)
        if kind is not None:
            query = query.where(c.kind == kind)
        with self._read() as conn:
            rows = conn.execute(query.order_by(c.kind, c.key)).all()
        return [_object(r) for r in rows]

    # the audit trail ------------------------------------------------------------------------------
    def record_write(self, offering_id: str, action: str, kind: str, key: str, moodle_id: int | None,
                     spec_hash: str | None, outcome: str, detail: str | None = None) -> WriteRecord:
        """Append one write to the audit trail, stamped with the current time; returns it.

        Raises ``ValueError`` for an outcome not in :data:`WRITE_OUTCOMES`.
        """
        _check(outcome, WRITE_OUTCOMES, "outcome")
        values = {"at": self._now(), "offering_id": offering_id, "action": action, "kind": kind, "key": key,
                  "moodle_id": int(moodle_id) if moodle_id is not None else None, "spec_hash": spec_hash,
                  "outcome": outcome, "detail": detail}
        with self._write() as conn:
            new_id = inserted_id(conn.execute(insert(t.writes).values(site_id=self.site_id, **values)))
        return WriteRecord(id=new_id, **values)  # type: ignore[arg-type]

    def writes(self, offering_id: str | None = None, limit: int | None = None) -> list[WriteRecord]:
        """The audit trail (of one offering if given), oldest first; with ``limit``, only the newest
        ``limit`` entries (still oldest first)."""
        c = t.writes.c
        query = select(t.writes).where(c.site_id == self.site_id)
        if offering_id is not None:
            query = query.where(c.offering_id == offering_id)
        query = query.order_by(c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [_write(r) for r in reversed(rows)]

    def unsettled_writes(self, offering_id: str, kind: str) -> dict[str, WriteRecord]:
        """The writes of ``kind`` in the offering still waiting to be settled, by key: those whose newest
        entry is ``unknown`` (sent, and no answer seen nor anything read back since). A write recorded as in
        flight before it was sent stays here when the process died before the answer came."""
        c = t.writes.c
        query = select(t.writes).where(c.site_id == self.site_id, c.offering_id == offering_id,
                                       c.kind == kind).order_by(c.id)
        with self._read() as conn:
            rows = conn.execute(query).all()
        newest = {r.key: r for r in rows}
        return {key: _write(r) for key, r in newest.items() if r.outcome == "unknown"}
