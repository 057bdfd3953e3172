"""Opening a store: the SQLAlchemy engine, and creating/migrating the schema atomically.

SQLite: the file (and its parent directories) is created on first use, readable by its owner only;
creating and migrating happen in one transaction under an exclusive lock on ``<file>.lock`` beside it,
so two processes opening a new store at once cannot both create it. PostgreSQL: the same, in one
transaction holding a transaction-scoped advisory lock. Other databases are refused.

pysqlite would silently commit before DDL; the engine here issues ``BEGIN`` itself so that DDL is
transactional too (the recipe from SQLAlchemy's SQLite dialect documentation).
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from ..exceptions import ConfigError, mask_url
from ..files import private_file
from .migrations import MIGRATIONS, Migration, migrate
from .views import create_views

# pg_advisory_xact_lock key: "moodle" in ASCII.
PG_LOCK_KEY = 0x6D6F6F646C65
LOCK_TIMEOUT = 60.0


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL of ``url`` (a plain path means an SQLite file). Raises :class:`ConfigError`."""
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser()}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"store: {mask_url(url)!r} is not a database URL (sqlite:///PATH or "
                          "postgresql+psycopg://USER@HOST/DB)") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"store: {backend!r} databases are not supported (use sqlite or postgresql)")
    if parsed.drivername == "postgresql":   # no driver named: psycopg 3, the one we ship with
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file of an SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def create_store_engine(url: URL) -> Engine:
    """An engine for ``url`` that makes every transaction (DDL included) a real one."""
    if url.get_backend_name() == "postgresql":
        try:
            return create_engine(url, pool_pre_ping=True)
        except ImportError:
            raise ConfigError(f"the store {url.render_as_string(hide_password=True)} needs a PostgreSQL driver: "
                              "pip install 'moodle-sync[postgres]'") from None
    path = sqlite_path(url)
    kwargs: dict[str, Any] = {"connect_args": {"timeout": 30}}
    if path is None:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None   # we say BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def file_lock(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing). Raises :class:`ConfigError` on timeout."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, path, timeout)
        try:
            yield
        finally:
            _release(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _release(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise

    def _release(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _acquire(fd: int, path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.01
    while not _try_lock(fd):
        if time.monotonic() >= deadline:
            raise ConfigError(f"{path}: another moodle-sync has held the store lock for {timeout:.0f}s; "
                              "wait for it to finish and try again")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _prepare_sqlite_file(path: Path) -> None:
    try:
        private_file(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the store: {exc.strerror}") from None


def open_engine(url: str, migrations: tuple[Migration, ...] = MIGRATIONS) -> Engine:
    """An engine for the store at ``url``, its schema created or migrated to the latest version.

    Raises :class:`ConfigError` for a bad URL, an unreachable database, a store that cannot be created,
    a lock that is not released in time, or a store written by a newer moodle-sync.
    """
    parsed = parse_url(url)
    path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is not None:
        _prepare_sqlite_file(path)
    engine = create_store_engine(parsed)
    try:
        if path is not None:
            with file_lock(path.with_name(path.name + ".lock")), \
                    engine.execution_options(sqlite_immediate=True).begin() as conn:
                    migrate(conn, migrations)
                    create_views(conn)
        elif parsed.get_backend_name() == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
                migrate(conn, migrations)
                create_views(conn)
        else:
            with engine.begin() as conn:
                migrate(conn, migrations)
                create_views(conn)
    except DBAPIError as exc:
        engine.dispose()
        where = parsed.render_as_string(hide_password=True)
        raise ConfigError(f"store {where}: cannot open: {exc.orig}") from None
    except BaseException:
        engine.dispose()
        raise
    return engine
