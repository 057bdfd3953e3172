"""A pull stopped while the store writes: a course's snapshots are saved all together or not at all (the
current state and its history never disagree), and the run's end is recorded as it really was."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from moodle_sync.store import Store
from moodle_sync.store import evidence as evidence_store
from tests.store.test_evidence import snap


def test_a_save_stopped_between_current_and_history_leaves_both_as_before(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    first = store.start_run(["o"], "full")
    store.save_snapshots(first.id, [snap(1), snap(2)])
    store.finish_run(first.id, "ok")
    run = store.start_run(["o"], "incremental")
    real = evidence_store.upsert

    def upsert_then_stop(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(evidence_store, "upsert", upsert_then_stop)
    with pytest.raises(KeyboardInterrupt):
        store.save_snapshots(run.id, [replace(snap(1), activities_done=5, completed=True), snap(3)])
    monkeypatch.undo()
    assert [(s.user_id, s.activities_done, s.completed) for s in store.current("o")] == [(1, 0, False), (2, 0, False)]
    assert len(store.history("o")) == 2
    assert store.finish_run(run.id, "interrupted", errors=["interrupted: KeyboardInterrupt()"]).status == "interrupted"
    assert store.last_run("o").id == first.id        # type: ignore[union-attr]   # still not an ok run
    with pytest.raises(ValueError, match="interrupted"):
        store.finish_run(run.id, "stopped")
