"""Opening a store: creation, atomic migration, locking, URLs."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, inspect, select, text

from moodle_sync.config import Settings
from moodle_sync.exceptions import ConfigError
from moodle_sync.store import Store, schema
from moodle_sync.store.engine import file_lock, open_engine, parse_url
from moodle_sync.store.migrations import MIGRATIONS, Migration, current_version


def _versions(url: str) -> list[int]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return [r.version for r in conn.execute(select(schema.schema_version).order_by("version"))]
    finally:
        engine.dispose()


def test_new_sqlite_store_is_created_with_its_folders_private_and_current(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "store.sqlite"
    with Store.open(str(path)) as store:
        assert store.offerings() == []
    assert path.exists() and (tmp_path / "deep" / "er" / "store.sqlite.lock").exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _versions(f"sqlite:///{path}") == [m.version for m in MIGRATIONS]


def test_reopening_applies_nothing_twice(store_url: str) -> None:
    Store.open(store_url).close()
    Store.open(store_url).close()
    assert _versions(store_url) == [m.version for m in MIGRATIONS]


def test_migrated_schema_matches_the_tables_the_queries_use(store_url: str) -> None:
    engine = open_engine(store_url)
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            assert set(found.get_table_names()) == set(schema.metadata.tables)
            for name, table in schema.metadata.tables.items():
                columns = {c["name"]: c["nullable"] for c in found.get_columns(name)}
                assert columns == {c.name: c.nullable for c in table.columns}, name
                assert set(found.get_pk_constraint(name)["constrained_columns"]) == {
                    c.name for c in table.primary_key}, name
    finally:
        engine.dispose()
    assert MIGRATIONS[-1].version == schema.SCHEMA_VERSION


def _extra_table(md: MetaData) -> Table:
    return Table("extra", md, Column("n", Integer, primary_key=True))


def test_a_failing_migration_leaves_the_store_as_it_was(store_url: str) -> None:
    Store.open(store_url).close()

    def half_done(conn) -> None:  # type: ignore[no-untyped-def]
        _extra_table(MetaData()).create(conn)
        conn.execute(text("INSERT INTO offerings (site_id, offering_id, template, title, data, created_at, updated_at) "
                          "VALUES ('', 'x', 't', 'T', '{}', 1, 1)"))
        raise RuntimeError("migration bug")

    with pytest.raises(RuntimeError):
        open_engine(store_url, (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "broken", half_done)))
    engine = open_engine(store_url)
    try:
        with engine.connect() as conn:
            assert not inspect(conn).has_table("extra")
            assert current_version(conn) == len(MIGRATIONS)
            assert conn.execute(text("SELECT count(*) FROM offerings")).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_new_migration_is_applied_once_on_the_next_open(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.save_offering("koding-2026-a1", "koding", "Koding", {})
    step = Migration(len(MIGRATIONS) + 1, "extra table", lambda conn: _extra_table(MetaData()).create(conn))
    for _ in range(2):
        open_engine(store_url, (*MIGRATIONS, step)).dispose()
    engine = open_engine(store_url, (*MIGRATIONS, step))
    try:
        with engine.connect() as conn:
            assert inspect(conn).has_table("extra")
            assert current_version(conn) == step.version
            assert conn.execute(text("SELECT count(*) FROM schema_version")).scalar_one() == step.version
    finally:
        engine.dispose()
    with pytest.raises(ConfigError, match="newer than this moodle-sync"):
        Store.open(store_url)   # the code knows fewer migrations than the store has


def test_many_processes_creating_one_new_store_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'store.sqlite'}"

    def open_and_write(i: int) -> int:
        with Store.open(url) as store:
            store.save_offering(f"o{i}", "t", "T", {})
            return len(store.offerings())

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(open_and_write, range(6)))
    with Store.open(url) as store:
        assert [o.offering_id for o in store.offerings()] == [f"o{i}" for i in range(6)]
    assert _versions(url) == [m.version for m in MIGRATIONS]


def test_a_held_lock_times_out_with_a_clear_error(tmp_path: Path) -> None:
    lock = tmp_path / "store.sqlite.lock"
    with file_lock(lock), pytest.raises(ConfigError, match="store lock"), file_lock(lock, timeout=0.05):
        pass
    with file_lock(lock, timeout=0.05):   # released again
        pass


def test_urls(tmp_path: Path) -> None:
    assert parse_url(str(tmp_path / "x.sqlite")).get_backend_name() == "sqlite"
    assert parse_url("postgresql://u@localhost/db").drivername == "postgresql+psycopg"
    with pytest.raises(ConfigError, match="not supported"):
        parse_url("mysql://u@localhost/db")
    with pytest.raises(ConfigError, match="not a database URL"):
        parse_url("::nonsense://")


def test_in_memory_store_keeps_its_data_while_open() -> None:
    with Store.open("sqlite://") as store:
        store.save_offering("o", "t", "T", {"a": [1, 2]})
        assert store.get_offering("o").data == {"a": [1, 2]}  # type: ignore[union-attr]


def test_unreachable_database_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot open") as caught:
        Store.open("postgresql+psycopg://someone:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2")
    assert "s3cret-pw" not in str(caught.value)


def test_settings_store_path_opens(tmp_path: Path) -> None:
    settings = Settings(store=str(tmp_path / "mine.sqlite"))
    with Store.open(settings.store_url) as store:
        assert store.url.endswith("mine.sqlite")
    assert (tmp_path / "mine.sqlite").exists()
