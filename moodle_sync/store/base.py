"""What every part of the store shares: the engine, the bound site, the clock, transactions, and a portable
upsert."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, CursorResult, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite

from .records import LEGACY_SITE

T = TypeVar("T")

# Rows per statement when a list of values goes into an IN (...) (SQLite's variable limit may be 999).
IN_CHUNK = 500


class StoreBase:
    """The engine, the site and the clock; :meth:`_read` and :meth:`_write` give a connection inside one
    transaction. Every query of the store's parts reads and writes only rows of :attr:`site_id`."""

    def __init__(self, engine: Engine, url: str, clock: Callable[[], float] = time.time, *,
                 site_id: str = LEGACY_SITE, owns_engine: bool = True) -> None:
        self._engine = engine
        self._writer = engine.execution_options(sqlite_immediate=True)
        self.url = url
        self._clock = clock
        self.site_id = site_id
        self._owns_engine = owns_engine

    def _now(self) -> int:
        return int(self._clock())

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection in a transaction for reads (committed at the end: reads change nothing)."""
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A connection in a write transaction: committed when the block ends, rolled back on error.

        On SQLite the transaction takes the write lock at once (BEGIN IMMEDIATE), so two writers wait
        for each other instead of failing half-way.
        """
        with self._writer.begin() as conn:
            yield conn


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str],
           keep: Iterable[str] = ()) -> None:
    """Insert ``rows`` into ``table``; where the ``keys`` already exist, update every other column but
    those in ``keep``. One executemany; nothing happens for no rows."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    fixed = set(keys) | set(keep)
    names = [c for c in rows[0] if c not in fixed]
    if names:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={name: stmt.excluded[name] for name in names})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    conn.execute(stmt, list(rows))


def inserted_id(result: CursorResult[Any]) -> int:
    """The id the database gave the one row ``result`` inserted. Raises ``RuntimeError`` when it gave none."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the insert gave no primary key")
    return int(key[0])


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start:start + size]
