"""Locks that make one moodle-sync run the only writer of something a store holds for one site: an
offering (select, enrol, withdraw, apply) or the site's pulls. Locks are per (site, store): two sites
pull into one store at once, the same site twice is refused. One mechanism, across processes and hosts:

- PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a 64-bit key derived from the store
  (database and schema), the store's bound site and the lock's name, held on a connection of its own for
  as long as the block runs. The server drops it when that connection ends, so a killed run leaves
  nothing behind.
- SQLite: an exclusive lock on a file beside the database file (``<database>.<name>.lock`` for the rows of
  a store older than sites, ``<database>.<site>-<hash>.<name>.lock`` for a site), which the kernel drops
  with the process.
- In-memory SQLite: a lock within this process (nobody else can open that store).

A run that finds the lock taken waits up to ``wait`` seconds (default: not at all), then raises
:class:`BusyError` (exit code 75, EX_TEMPFAIL: try again later), naming who holds it when that is known.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from ..exceptions import ConfigError, MoodleSyncError
from .engine import file_lock, sqlite_path
from .records import LEGACY_SITE

__all__ = ["BusyError", "PullBusyError", "lock_key", "offering_lock", "pull_lock", "store_lock"]

POLL_SECONDS = 0.25
_local_locks: dict[tuple[int, str, str], threading.Lock] = {}
_local_guard = threading.Lock()


class BusyError(MoodleSyncError):
    """Another run holds the lock. Exit code 75 (EX_TEMPFAIL): try again when it has finished."""

    exit_code = 75


class PullBusyError(BusyError):
    """Another pull of the same site into the same store is running."""


def lock_key(store_identity: str, name: str, site: str = LEGACY_SITE) -> int:
    """The signed 64-bit advisory-lock key of lock ``name`` of ``site`` in the store known as
    ``store_identity`` (the legacy site keeps the key locks had before stores knew sites)."""
    scoped = name if site == LEGACY_SITE else f"site:{site}\0{name}"
    digest = hashlib.sha256(f"moodle-sync\0{store_identity}\0{scoped}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _holder() -> str:
    """Who we are, for the message another run gets: ``pid 123 on host-a``."""
    return f"pid {os.getpid()} on {socket.gethostname()}"


@contextmanager
def store_lock(store: Any, name: str, *, what: str, wait: float = 0.0,
               error: type[BusyError] = BusyError) -> Iterator[None]:
    """Hold the exclusive lock ``name`` of ``store`` (a :class:`~moodle_sync.store.Store`) and its bound site
    for the block.

    ``what`` says in the error what the holder is doing ("another pull is running"). Raises ``error``
    (a :class:`BusyError`) when the lock is still taken after ``wait`` seconds.
    """
    engine: Engine = store._engine
    site: str = store.site_id
    if site != LEGACY_SITE:
        what = f"{what} for site {site}"
    if engine.dialect.name == "postgresql":
        with _pg_lock(engine, site, name, what, wait, error):
            yield
        return
    path = sqlite_path(engine.url)
    if path is None:
        with _local_lock(engine, site, name, what, wait, error):
            yield
        return
    with _file_lock(path.with_name(f"{path.name}.{_site_part(site)}{_slug(name)}.lock"), what, wait, error):
        yield


def offering_lock(store: Any, offering_id: str, *, wait: float = 0.0) -> Any:
    """The one-writer lock of an offering: select, enrol, withdraw and apply each hold it while they run."""
    return store_lock(store, f"offering:{offering_id}", wait=wait,
                      what=f"another moodle-sync run (select, enrol, withdraw or apply) is changing offering "
                           f"{offering_id}")


def pull_lock(store: Any, *, wait: float = 0.0) -> Any:
    """The lock of the site's pulls into the store: two pulls of one site into one store (from any host)
    never overlap; pulls of two sites do."""
    return store_lock(store, "pull", what="another pull is running", wait=wait, error=PullBusyError)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120]


def _site_part(site: str) -> str:
    """The part of a lock file's name that names the site: none for the legacy site, else a readable slug
    and a hash (two sites whose slugs agree, 'a/b' and 'a_b', still lock apart)."""
    if site == LEGACY_SITE:
        return ""
    return f"{_slug(site)[:60]}-{hashlib.sha256(site.encode()).hexdigest()[:8]}."


def _busy(error: type[BusyError], what: str, holder: str | None, where: str) -> BusyError:
    held = f"held by {holder}" if holder else "held"
    return error(f"{what} ({held}; lock {where}); try again when it has finished")


@contextmanager
def _file_lock(path: Path, what: str, wait: float, error: type[BusyError]) -> Iterator[None]:
    with ExitStack() as held:
        try:
            held.enter_context(file_lock(path, timeout=wait))
        except ConfigError:   # file_lock's "still held after the timeout"
            try:
                holder = path.read_text(encoding="utf-8").strip() or None
            except OSError:
                holder = None
            raise _busy(error, what, holder, str(path)) from None
        path.write_text(_holder(), encoding="utf-8")
        yield


@contextmanager
def _local_lock(engine: Engine, site: str, name: str, what: str, wait: float,
                error: type[BusyError]) -> Iterator[None]:
    with _local_guard:
        lock = _local_locks.setdefault((id(engine), site, name), threading.Lock())
    acquired = lock.acquire(timeout=wait) if wait > 0 else lock.acquire(blocking=False)
    if not acquired:
        raise _busy(error, what, _holder(), "in memory")
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _pg_lock(engine: Engine, site: str, name: str, what: str, wait: float,
             error: type[BusyError]) -> Iterator[None]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
        key = lock_key(f"{database}/{schema}", name, site)
        deadline = time.monotonic() + wait
        while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            if time.monotonic() >= deadline:
                raise _busy(error, what, _pg_holder(conn, key), f"PostgreSQL advisory lock {key}")
            time.sleep(POLL_SECONDS)
        conn.execute(text("SELECT set_config('application_name', :n, false)"),
                     {"n": f"moodle-sync {_holder()}"[:63]})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.execute(text("RESET application_name"))


def _pg_holder(conn: Connection, key: int) -> str | None:
    """The application name and address of the session holding advisory lock ``key``, if visible."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = conn.execute(text(
        "SELECT a.application_name, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid = CAST(:hi AS oid) AND l.objid = CAST(:lo AS oid)"),
        {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF}).first()
    if row is None:
        return None
    name = row.application_name or "a PostgreSQL session"
    return f"{name} from {row.client_addr}" if row.client_addr else name
