"""The fake Moodle's database: tables of dataclass rows with indexes, transactions, JSON persistence.

Every change goes through :meth:`State.insert`, :meth:`State.update` or :meth:`State.delete`, which
keep the indexes right and, inside :meth:`State.transaction`, remember how to undo themselves, so a
failing web-service call leaves no trace (Moodle's delegated transactions). The caller holds the one
lock around the state (see :class:`~moodle_sync.sandbox.moodle.SandboxMoodle`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from . import records as r

R = TypeVar("R")


class _Row(Protocol):
    """A record of a table: a dataclass of :mod:`records` with an ``id`` (0 until inserted)."""

    id: int


Row = TypeVar("Row", bound=_Row)
KeyFn = Callable[[Any], Hashable | None]

STATE_FORMAT = 1


class Table(Generic[R]):
    """Rows by id plus non-unique indexes (``key -> ids`` in insertion order)."""

    def __init__(self, name: str, cls: type[R], indexes: dict[str, KeyFn]) -> None:
        self.name = name
        self.cls = cls
        self.rows: dict[int, R] = {}
        self.next_id = 1
        self._keyfns = indexes
        self._indexes: dict[str, dict[Hashable, dict[int, None]]] = {n: {} for n in indexes}

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[R]:
        return iter(list(self.rows.values()))

    def get(self, row_id: int) -> R | None:
        return self.rows.get(row_id)

    def find(self, index: str, key: Hashable) -> list[R]:
        """Rows whose ``index`` key equals ``key``, oldest first."""
        ids = self._indexes[index].get(key)
        return [self.rows[i] for i in ids] if ids else []

    def first(self, index: str, key: Hashable) -> R | None:
        ids = self._indexes[index].get(key)
        return self.rows[next(iter(ids))] if ids else None

    def count(self, index: str, key: Hashable) -> int:
        return len(self._indexes[index].get(key) or ())

    def _index(self, row: Any) -> None:
        for name, fn in self._keyfns.items():
            key = fn(row)
            if key is not None:
                self._indexes[name].setdefault(key, {})[row.id] = None

    def _unindex(self, row: Any) -> None:
        for name, fn in self._keyfns.items():
            key = fn(row)
            if key is not None:
                bucket = self._indexes[name].get(key)
                if bucket is not None:
                    bucket.pop(row.id, None)
                    if not bucket:
                        del self._indexes[name][key]

    def _put(self, row: Any) -> None:
        self.rows[row.id] = row
        self._index(row)

    def _drop(self, row: Any) -> None:
        self._unindex(row)
        self.rows.pop(row.id, None)


def _nonempty(value: Any) -> Any:
    return value if value not in (None, "") else None


def _tables() -> dict[str, Table[Any]]:
    spec: list[tuple[str, type, dict[str, KeyFn]]] = [
        ("categories", r.Category, {"idnumber": lambda c: _nonempty(c.idnumber), "parent": lambda c: c.parent}),
        ("courses", r.Course, {"shortname": lambda c: c.shortname, "idnumber": lambda c: _nonempty(c.idnumber),
                               "category": lambda c: c.category}),
        ("sections", r.Section, {"course": lambda s: s.course}),
        ("modules", r.Module, {"course": lambda m: m.course,
                               "idnumber": lambda m: (m.course, m.idnumber) if m.idnumber else None}),
        ("grade_items", r.GradeItem, {"course": lambda g: g.courseid, "cmid": lambda g: g.cmid}),
        ("grades", r.Grade, {"item_user": lambda g: (g.itemid, g.userid), "item": lambda g: g.itemid}),
        ("users", r.User, {"username": lambda u: u.username, "email": lambda u: u.email.lower() or None,
                           "idnumber": lambda u: _nonempty(u.idnumber)}),
        ("enrolments", r.Enrolment, {"course_user": lambda e: (e.courseid, e.userid), "course": lambda e: e.courseid,
                                     "user": lambda e: e.userid}),
        ("course_access", r.CourseAccess, {"course_user": lambda a: (a.courseid, a.userid)}),
        ("groups", r.Group, {"course": lambda g: g.courseid, "course_name": lambda g: (g.courseid, g.name),
                             "course_idnumber": lambda g: (g.courseid, g.idnumber) if g.idnumber else None}),
        ("group_members", r.GroupMember, {"group": lambda m: m.groupid, "user": lambda m: m.userid,
                                          "group_user": lambda m: (m.groupid, m.userid)}),
        ("groupings", r.Grouping, {"course": lambda g: g.courseid,
                                   "course_idnumber": lambda g: (g.courseid, g.idnumber) if g.idnumber else None}),
        ("grouping_groups", r.GroupingGroup, {"grouping": lambda g: g.groupingid, "group": lambda g: g.groupid,
                                              "pair": lambda g: (g.groupingid, g.groupid)}),
        ("activity_completions", r.ActivityCompletion, {"cm_user": lambda c: (c.cmid, c.userid),
                                                        "cm": lambda c: c.cmid}),
        ("criteria_completions", r.CriterionCompletion, {"cm_user": lambda c: (c.cmid, c.userid),
                                                         "course": lambda c: c.courseid}),
        ("course_completions", r.CourseCompletion, {"course_user": lambda c: (c.courseid, c.userid),
                                                    "course": lambda c: c.courseid}),
        ("reports", r.Report, {}),
        ("tokens", r.Token, {"token": lambda t: t.token}),
        ("mails", r.Mail, {}),
        ("messages", r.Message, {}),
        ("role_assignments", r.RoleAssignment, {"user": lambda a: a.userid}),
    ]
    return {name: Table(name, cls, idx) for name, cls, idx in spec}


class State:
    """All tables of the fake site. Not thread-safe by itself: hold the owner's lock."""

    def __init__(self) -> None:
        self.tables = _tables()
        self.counters: dict[str, int] = {}
        self.version = 0
        self._journal: list[Callable[[], None]] | None = None

    def __getattr__(self, name: str) -> Table[Any]:
        tables = self.__dict__.get("tables")
        if tables is not None and name in tables:
            return tables[name]
        raise AttributeError(name)

    # ids ----------------------------------------------------------------------------------------
    def next_id(self, table: str) -> int:
        t = self.tables[table]
        value = t.next_id
        t.next_id += 1
        return value

    def counter(self, name: str, start: int = 1) -> int:
        """The next value of a named counter (module instance ids, context ids...)."""
        value = self.counters.get(name, start)
        self.counters[name] = value + 1
        return value

    # changes ------------------------------------------------------------------------------------
    def insert(self, table: str, row: Row) -> Row:
        """Add ``row`` (its ``id`` assigned from the table's sequence when 0)."""
        t = self.tables[table]
        if row.id == 0:
            row.id = self.next_id(table)
        else:
            t.next_id = max(t.next_id, row.id + 1)
        t._put(row)
        self._changed(lambda: t._drop(row))
        return row

    def update(self, table: str, row: Any, **changes: Any) -> Any:
        """Change fields of ``row`` in place, keeping indexes right."""
        t = self.tables[table]
        old = {k: getattr(row, k) for k in changes}
        t._unindex(row)
        for k, v in changes.items():
            setattr(row, k, v)
        t._index(row)

        def undo() -> None:
            t._unindex(row)
            for k, v in old.items():
                setattr(row, k, v)
            t._index(row)

        self._changed(undo)
        return row

    def delete(self, table: str, row: Any) -> None:
        t = self.tables[table]
        if row.id not in t.rows:
            return
        t._drop(row)
        self._changed(lambda: t._put(row))

    def _changed(self, undo: Callable[[], None]) -> None:
        self.version += 1
        if self._journal is not None:
            self._journal.append(undo)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All changes inside stick together: an exception undoes every one of them, then propagates."""
        if self._journal is not None:  # nested: the outer transaction decides
            yield
            return
        self._journal = []
        try:
            yield
        except BaseException:
            for undo in reversed(self._journal):
                undo()
            self.version += 1
            raise
        finally:
            self._journal = None

    # persistence --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "counters": dict(self.counters),
            "tables": {name: {"next_id": t.next_id, "rows": [asdict(row) for row in t.rows.values()]}
                       for name, t in self.tables.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        """Rebuild a state saved by :meth:`to_dict`; ``ValueError`` if it is not one."""
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise ValueError("not a moodle_sync sandbox state file (format 1)")
        state = cls()
        state.counters = {str(k): int(v) for k, v in data.get("counters", {}).items()}
        for name, saved in data.get("tables", {}).items():
            t = state.tables.get(name)
            if t is None:
                raise ValueError(f"unknown table {name!r} in the state file")
            known = {f.name for f in fields(t.cls)}
            for row in saved.get("rows", []):
                t._put(t.cls(**{k: v for k, v in row.items() if k in known}))
            t.next_id = max(int(saved.get("next_id", 1)), max(t.rows, default=0) + 1)
        return state

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state to ``path`` atomically (temporary file in the same folder, then rename)."""
        write_state_file(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> State:
        """Read a state file written by :meth:`save`; ``ValueError`` if it is damaged."""
        try:
            data = json.loads(Path(path).read_text("utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON ({exc})") from None
        return cls.from_dict(data)


def write_state_file(data: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a :meth:`State.to_dict` snapshot to ``path`` atomically (temporary file, then rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
