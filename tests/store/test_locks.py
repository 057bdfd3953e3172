"""Store locks (one writer per offering, one pull per site and store) on SQLite and, with MOODLE_SYNC_TEST_PG_URL,
on PostgreSQL: exclusive across connections and processes, released after the block, on error, and when
the holding process dies; exit code 75 with who holds it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from moodle_sync.exceptions import ConfigError
from moodle_sync.store import Store
from moodle_sync.store.locks import BusyError, PullBusyError, lock_key, offering_lock, pull_lock

HOLDER = """
import sys, time
from moodle_sync.store import Store
from moodle_sync.store.locks import offering_lock
store = Store.open(sys.argv[1])
with offering_lock(store, "koding-2026-a1"):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_second_writer_of_an_offering_is_refused_at_once(store_url: str, store: Store) -> None:
    # another connection, as another host would have
    with Store.open(store_url) as other, offering_lock(store, "koding-2026-a1"):
        with pytest.raises(BusyError, match="is changing offering koding-2026-a1") as refused, \
                offering_lock(other, "koding-2026-a1"):
            pytest.fail("two writers held the offering")
        assert refused.value.exit_code == 75
        assert "held by" in str(refused.value) and "pid" in str(refused.value)
        with offering_lock(other, "koding-2026-b2"), pull_lock(other):   # another offering, the pulls: free
            pass


def test_a_second_pull_into_the_store_is_refused(store_url: str, store: Store) -> None:
    with Store.open(store_url) as other, pull_lock(store):
        with pytest.raises(PullBusyError, match="another pull is running") as refused, pull_lock(other):
            pytest.fail("two pulls held the store")
        assert refused.value.exit_code == 75


def test_released_after_the_block_even_on_error(store_url: str, store: Store) -> None:
    with pytest.raises(RuntimeError), offering_lock(store, "o"):
        raise RuntimeError("the run failed")
    with Store.open(store_url) as other, offering_lock(other, "o"):
        pass
    with offering_lock(store, "o"):   # and again: nothing left behind
        pass


def test_an_error_inside_the_block_is_not_taken_for_a_busy_lock(store: Store) -> None:
    with pytest.raises(ConfigError, match="inside"), offering_lock(store, "o"):
        raise ConfigError("raised inside the block")


def test_a_waiting_run_gets_the_lock_when_it_is_released(store_url: str, store: Store) -> None:
    got: list[str] = []
    with Store.open(store_url) as other:
        waiter = threading.Thread(target=lambda: _take(other, got))
        with offering_lock(store, "o"):
            waiter.start()
        waiter.join(timeout=60)
    assert got == ["taken"]


def _take(store: Store, got: list[str]) -> None:
    with offering_lock(store, "o", wait=30):
        got.append("taken")


def test_a_killed_holder_leaves_no_stale_lock(store_url: str, store: Store) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, store_url], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).parents[2])
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(BusyError, match="koding-2026-a1"), offering_lock(store, "koding-2026-a1"):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=30)
    with offering_lock(store, "koding-2026-a1", wait=30):   # the kernel / the server dropped it with the process
        pass


def test_sqlite_locks_are_files_beside_the_database(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "db" / "store.sqlite")) as store, offering_lock(store, "koding-2026-a1"), \
            pull_lock(store):
        names = sorted(p.name for p in (tmp_path / "db").iterdir() if p.name.endswith(".lock"))
        assert "store.sqlite.offering_koding-2026-a1.lock" in names and "store.sqlite.pull.lock" in names
        assert (tmp_path / "db" / "store.sqlite.pull.lock").stat().st_mode & 0o077 == 0


def test_an_in_memory_store_locks_within_the_process() -> None:
    with Store.open("sqlite://") as store:
        with offering_lock(store, "o"), pytest.raises(BusyError), offering_lock(store, "o"):
            pass
        with offering_lock(store, "o"):
            pass


def test_lock_keys_are_per_store_and_name() -> None:
    key = lock_key("db/public", "offering:a")
    assert -2**63 <= key < 2**63
    assert key == lock_key("db/public", "offering:a")
    assert len({key, lock_key("db/other", "offering:a"), lock_key("db/public", "offering:b")}) == 3


def test_locks_are_per_site_two_sites_at_once_the_same_site_twice_refused(store_url: str, store: Store) -> None:
    a, b = store.for_site("lms-a.example.id"), store.for_site("lms-b.example.id")
    with Store.open(store_url, site="lms-a.example.id") as other_a, pull_lock(a), offering_lock(a, "o"):
        with pull_lock(b), offering_lock(b, "o"), pull_lock(store):   # another site, and the legacy rows
            pass
        with pytest.raises(PullBusyError, match="another pull is running"), pull_lock(other_a):
            pytest.fail("two pulls of one site held the store")
        with pytest.raises(BusyError, match="is changing offering o"), offering_lock(other_a, "o"):
            pytest.fail("two writers of one site's offering")


def test_sqlite_site_locks_are_files_named_for_the_site(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "db" / "store.sqlite"), site="lms.example.id/moodle") as store, \
            pull_lock(store), pull_lock(store.for_site("lms.example.id_moodle")):   # slugs alike, sites not
        names = sorted(p.name for p in (tmp_path / "db").iterdir() if p.name.endswith(".pull.lock"))
        assert len(names) == 2 and all(n.startswith("store.sqlite.lms.example.id_moodle-") for n in names)


def test_lock_keys_are_per_site() -> None:
    assert lock_key("db/public", "pull") != lock_key("db/public", "pull", "lms.example.id")
    assert lock_key("db/public", "pull", "a") != lock_key("db/public", "pull", "b")
