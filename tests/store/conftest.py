"""Store fixtures: every test gets a fresh store in tmp_path (SQLite), and, when
MOODLE_SYNC_TEST_PG_URL names a PostgreSQL database, the same tests run again in a fresh schema there."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodle_sync.store import Store

# Read before the autouse isolation fixture removes MOODLE_SYNC_* variables from the environment.
PG_URL = os.environ.get("MOODLE_SYNC_TEST_PG_URL")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: int = 1_767_225_600) -> None:   # 2026-01-01 00:00 UTC
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'moodle-sync.sqlite'}"
        return
    if not PG_URL:
        pytest.skip("set MOODLE_SYNC_TEST_PG_URL to run the store tests against PostgreSQL")
    yield from _pg_schema(PG_URL)


def _pg_schema(url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"moodle_sync_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield make_url(url).update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(store_url: str, clock: Clock) -> Iterator[Store]:
    with Store.open(store_url, clock=clock) as opened:
        yield opened
