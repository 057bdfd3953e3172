"""The store's unsettled writes: what apply must settle by reading Moodle before it sends anything again."""

from __future__ import annotations

from pathlib import Path

from moodle_sync.store import Store


def test_a_key_is_unsettled_while_its_newest_write_is_unknown(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        record = store.record_write
        record("o", "create", "content", "metro", 7, "h", "unknown", "import from course 2 sent")   # in flight
        record("o", "create", "content", "pesawaran", 8, "h", "unknown", "import from course 2 sent")
        record("o", "create", "content", "pesawaran", 8, "h", "ok")                                  # answered
        record("o", "create", "content", "tanggamus", 9, "h", "failed", "refused")
        record("o", "create", "content", "tanggamus", 9, "h", "unknown", "sent again")
        record("o", "create", "course", "lampung-barat", None, "h", "unknown", "no answer")          # other kind
        record("p", "create", "content", "metro", 70, "h", "unknown", "another offering")
        unsettled = store.unsettled_writes("o", "content")
        assert sorted(unsettled) == ["metro", "tanggamus"]
        assert (unsettled["metro"].moodle_id, unsettled["tanggamus"].detail) == (7, "sent again")
        record("o", "create", "content", "metro", 7, "h", "ok", "settled by reading")
        assert sorted(store.unsettled_writes("o", "content")) == ["tanggamus"]
        assert store.unsettled_writes("nobody", "content") == {}
