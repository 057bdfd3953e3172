"""Pull runs and completion snapshots: the current state of each enrolment and its history of changes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, insert, select, update

from ..evidence.model import CompletionSnapshot, PullRun
from . import schema as t
from .base import StoreBase, inserted_id, upsert
from .records import RUN_MODES, RUN_STATUSES

SNAPSHOT_FIELDS = tuple(f.name for f in fields(CompletionSnapshot))
# The fields of CompletionSnapshot.state(), read off the model itself: comparing these as a tuple is
# what "state() changed" means, without building dicts for thousands of rows.
STATE_FIELDS = tuple(CompletionSnapshot(offering_id="", course_id=0, course_key="", user_id=0, email="",
                                        fullname="").state())


def _state(item: Any) -> tuple[Any, ...]:
    return tuple(getattr(item, name) for name in STATE_FIELDS)


def _snapshot(row: Row[Any]) -> CompletionSnapshot:
    values = {name: getattr(row, name) for name in SNAPSHOT_FIELDS}
    values["completed"] = bool(values["completed"])
    return CompletionSnapshot(**values)


class EvidenceStore(StoreBase):
    """The evidence half of :class:`~moodle_sync.store.Store`."""

    # pull runs ------------------------------------------------------------------------------------
    def start_run(self, offerings: Sequence[str], mode: str) -> PullRun:
        """Record the start of a pull over ``offerings``; returns the run (status ``running``).

        Raises ``ValueError`` for a mode not in :data:`RUN_MODES`.
        """
        if mode not in RUN_MODES:
            raise ValueError(f"pull mode {mode!r} is not one of {', '.join(RUN_MODES)}")
        run = PullRun(id=0, started_at=self._now(), offerings=list(offerings), mode=mode)
        with self._write() as conn:
            run.id = inserted_id(conn.execute(insert(t.pull_runs).values(
                site_id=self.site_id, started_at=run.started_at, mode=mode, status=run.status, calls=0, enrolments=0, reread=0,
                errors="[]")))
            if run.offerings:
                conn.execute(insert(t.pull_run_offerings), [
                    {"site_id": self.site_id, "run_id": run.id, "position": i, "offering_id": o}
                    for i, o in enumerate(run.offerings)])
        return run

    def finish_run(self, run_id: int, status: str, calls: int = 0, enrolments: int = 0, reread: int = 0,
                   errors: Sequence[str] = ()) -> PullRun:
        """Record how a pull ended (stamping ``finished_at``); returns the run.

        Raises ``ValueError`` for a status that is not a final one (ok, partial, failed, interrupted) or a
        run unknown (to this site).
        """
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"pull status {status!r} is not one of {', '.join(RUN_STATUSES[1:])}")
        with self._write() as conn:
            done = conn.execute(update(t.pull_runs).where(self._run_is(run_id)).values(
                finished_at=self._now(), status=status, calls=calls, enrolments=enrolments, reread=reread,
                errors=json.dumps(list(errors), ensure_ascii=False)))
            if done.rowcount == 0:
                raise ValueError(f"there is no pull run {run_id}")
        found = self._runs(ids=[run_id])
        return found[0]

    def settle_dead_runs(self) -> list[int]:
        """Mark ``failed`` this site's runs still ``running`` (a process killed mid-pull, a host that went
        down): call it only while holding the site's pull lock, when no run of the site can be alive.
        Returns their ids."""
        r = t.pull_runs.c
        why = json.dumps(["the run did not finish (its process was killed or its host stopped)"])
        with self._write() as conn:
            ids = list(conn.execute(select(r.id).where(r.site_id == self.site_id, r.status == "running")).scalars())
            if ids:
                conn.execute(update(t.pull_runs).where(r.site_id == self.site_id, r.id.in_(ids))
                             .values(status="failed", finished_at=self._now(), errors=why))
        return ids

    def _run_is(self, run_id: int) -> ColumnElement[bool]:
        return and_(t.pull_runs.c.id == run_id, t.pull_runs.c.site_id == self.site_id)

    def runs(self, limit: int = 20) -> list[PullRun]:
        """The newest ``limit`` pull runs, newest first."""
        return self._runs(limit=limit)

    def last_run(self, offering_id: str | None = None, status: str | None = "ok") -> PullRun | None:
        """The newest run (over ``offering_id`` if given) with this status (any status for None)."""
        return next(iter(self._runs(limit=1, offering_id=offering_id, status=status)), None)

    def _runs(self, *, limit: int | None = None, offering_id: str | None = None, status: str | None = None,
              ids: Sequence[int] | None = None) -> list[PullRun]:
        r, ro = t.pull_runs.c, t.pull_run_offerings.c
        query = select(t.pull_runs).where(r.site_id == self.site_id)
        if offering_id is not None:
            query = query.where(r.id.in_(select(ro.run_id).where(ro.site_id == self.site_id,
                                                                 ro.offering_id == offering_id)))
        if status is not None:
            query = query.where(r.status == status)
        if ids is not None:
            query = query.where(r.id.in_(list(ids)))
        query = query.order_by(r.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).all()
            names: dict[int, list[str]] = {row.id: [] for row in rows}
            if names:
                for link in conn.execute(select(ro.run_id, ro.offering_id).where(ro.run_id.in_(list(names)))
                                         .order_by(ro.run_id, ro.position)):
                    names[link.run_id].append(link.offering_id)
        return [PullRun(id=row.id, started_at=row.started_at, finished_at=row.finished_at, offerings=names[row.id],
                        mode=row.mode, status=row.status, calls=row.calls, enrolments=row.enrolments,
                        reread=row.reread, errors=json.loads(row.errors)) for row in rows]

    # snapshots ------------------------------------------------------------------------------------
    def save_snapshots(self, run_id: int, snapshots: Sequence[CompletionSnapshot]) -> int:
        """Make ``snapshots`` the current state of their enrolments, in one transaction.

        Every snapshot replaces the current row of its (offering, course, user) where anything differs (a
        row identical but for the run that last saw it is left alone); one whose ``state()``
        differs from that row (or that is new) is also appended to the history. A snapshot with
        ``pulled_at`` 0 is stamped with the current time. Returns how many were new or changed.
        Raises ``ValueError`` for an unknown run or a key given twice.
        """
        if not snapshots:
            return 0
        now = self._now()
        rows: dict[tuple[str, int, int], dict[str, Any]] = {}
        states: dict[tuple[str, int, int], tuple[Any, ...]] = {}
        for snap in snapshots:
            if snap.key in rows:
                raise ValueError(f"snapshot {snap.key} is given twice")
            row = {name: getattr(snap, name) for name in SNAPSHOT_FIELDS}
            row.update(pulled_at=snap.pulled_at or now, run_id=run_id, site_id=self.site_id)
            rows[snap.key] = row
            states[snap.key] = _state(snap)
        c = t.snapshots_current.c
        with self._write() as conn:
            if conn.execute(select(t.pull_runs.c.id).where(self._run_is(run_id))).first() is None:
                raise ValueError(f"there is no pull run {run_id}")
            stored: dict[tuple[str, int, int], tuple[Any, ...]] = {}
            stamps: dict[tuple[str, int, int], tuple[Any, ...]] = {}
            state_columns = [c[name] for name in STATE_FIELDS]
            flag = STATE_FIELDS.index("completed")
            for offering_id in sorted({key[0] for key in rows}):
                courses = sorted({key[1] for key in rows if key[0] == offering_id})
                query = select(c.course_id, c.user_id, c.pulled_at, c.course_key, *state_columns).where(
                    c.site_id == self.site_id, c.offering_id == offering_id, c.course_id.in_(courses))
                for old in conn.execute(query):
                    state = list(old[4:])
                    state[flag] = bool(state[flag])
                    key = (offering_id, old[0], old[1])
                    stored[key] = tuple(state)
                    stamps[key] = (old[2], old[3])
            changed = [row for key, row in rows.items() if stored.get(key) != states[key]]
            # Rows whose state, stamp and course key are as stored need no write at all (most of an
            # incremental pull's).
            touched = [row for key, row in rows.items() if stored.get(key) != states[key]
                       or stamps.get(key) != (row["pulled_at"], row["course_key"])]
            if touched:
                upsert(conn, t.snapshots_current, touched, keys=["site_id", "offering_id", "course_id", "user_id"])
            if changed:
                conn.execute(insert(t.snapshots_history), changed)
        return len(changed)

    def current(self, offering_id: str, course_id: int | None = None) -> list[CompletionSnapshot]:
        """The latest snapshot of each enrolment of the offering (of one course if given), by course
        then user."""
        c = t.snapshots_current.c
        query = select(t.snapshots_current).where(c.site_id == self.site_id, c.offering_id == offering_id)
        if course_id is not None:
            query = query.where(c.course_id == course_id)
        with self._read() as conn:
            rows = conn.execute(query.order_by(c.course_id, c.user_id)).all()
        return [_snapshot(r) for r in rows]

    def count_current(self, offering_ids: Sequence[str]) -> int:
        """How many enrolments of these offerings the store holds evidence of (counted in the database, not
        loaded: a pull's progress total)."""
        c = t.snapshots_current.c
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(t.snapshots_current).where(
                c.site_id == self.site_id, c.offering_id.in_(list(offering_ids)))).scalar_one())

    def history(self, offering_id: str) -> list[CompletionSnapshot]:
        """Every recorded change of the offering's enrolments, oldest first, each with its ``pulled_at``."""
        h = t.snapshots_history.c
        with self._read() as conn:
            rows = conn.execute(select(t.snapshots_history).where(h.site_id == self.site_id,
                                                                  h.offering_id == offering_id)
                                .order_by(h.pulled_at, h.id)).all()
        return [_snapshot(r) for r in rows]

    def pull_marks(self, offering_id: str, course_id: int) -> dict[int, CompletionSnapshot]:
        """What the last pulls saw in one course, by Moodle user id (incremental pulls compare with it)."""
        return {s.user_id: s for s in self.current(offering_id, course_id)}
