"""Transactions and JSON persistence of the sandbox state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moodle_sync.sandbox import records as r
from moodle_sync.sandbox.server import SandboxServer
from moodle_sync.sandbox.state import State

from .conftest import post


def test_a_failed_transaction_leaves_no_trace() -> None:
    state = State()
    state.insert("users", r.User(id=0, username="a", firstname="A", lastname="B", email="a@x.id"))
    with pytest.raises(RuntimeError), state.transaction():
        user = state.users.first("username", "a")
        state.update("users", user, username="renamed")
        state.insert("users", r.User(id=0, username="b", firstname="B", lastname="C", email="b@x.id"))
        state.delete("users", user)
        raise RuntimeError("boom")
    assert [u.username for u in state.users] == ["a"]
    assert state.users.first("username", "a") is not None
    assert state.users.first("username", "renamed") is None and state.users.first("username", "b") is None


def test_round_trip_through_json(tmp_path: Path) -> None:
    state = State()
    state.insert("courses", r.Course(id=5, category=1, fullname="F", shortname="S", criteria=[3, 4],
                                     formatoptions={"hiddensections": 1}))
    state.counter("instance:quiz")
    state.save(tmp_path / "s.json")
    loaded = State.load(tmp_path / "s.json")
    assert loaded.courses.first("shortname", "S") == state.courses.get(5)
    assert loaded.next_id("courses") == 6 and loaded.counter("instance:quiz") == 2


def test_damaged_state_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        State.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(ValueError, match="format"):
        State.load(tmp_path / "other.json")


def test_a_server_with_a_state_file_keeps_its_site_and_tokens(tmp_path: Path) -> None:
    path = tmp_path / "site.json"
    with SandboxServer(state_file=path) as first:
        token = first.token
        post(first, "core_course_create_categories", {"categories": [{"name": "Angkatan 7"}]})
    assert path.exists() and not list(tmp_path.glob(".site.json.*"))
    with SandboxServer(state_file=path) as second:
        assert second.token == token
        names = [c["name"] for c in post(second, "core_course_get_categories")]
        assert "Angkatan 7" in names
