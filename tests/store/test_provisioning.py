"""Offerings, the Moodle object map and the audit trail."""

from __future__ import annotations

import pytest

from moodle_sync.store import MappedObject, Store
from tests.store.conftest import Clock


def test_offering_round_trip_keeps_created_at_on_update(store: Store, clock: Clock) -> None:
    assert store.get_offering("koding-2026-a1") is None
    first = store.save_offering("koding-2026-a1", "koding", "Pelatihan Koding", {"seats": 120, "nama": "Ñusa"})
    clock.now += 3600
    second = store.save_offering("koding-2026-a1", "koding", "Pelatihan Koding dan AI", {"seats": 90})
    assert second.created_at == first.created_at and second.updated_at == first.updated_at + 3600
    got = store.get_offering("koding-2026-a1")
    assert got == second and got.title == "Pelatihan Koding dan AI" and got.data == {"seats": 90}
    store.save_offering("ai-2026-b1", "ai", "AI", {})
    assert [o.offering_id for o in store.offerings()] == ["ai-2026-b1", "koding-2026-a1"]


def test_offering_data_must_be_json(store: Store) -> None:
    with pytest.raises(TypeError):
        store.save_offering("o", "t", "T", {"bad": object()})
    assert store.get_offering("o") is None


def test_object_map_upserts_and_filters(store: Store, clock: Clock) -> None:
    assert store.object_id("o", "course", "lampung-selatan") is None
    store.map_object("o", "course", "lampung-selatan", 101, spec_hash="aaa")
    store.map_object("o", "group", "lampung-selatan/kelas-a", 7)
    clock.now += 10
    store.map_object("o", "course", "lampung-selatan", 102, spec_hash="bbb")   # re-created
    store.map_object("other", "course", "lampung-selatan", 999)
    assert store.object_id("o", "course", "lampung-selatan") == 102
    assert store.object_id("o", "group", "lampung-selatan/kelas-a") == 7
    assert store.objects("o", "course") == [
        MappedObject("o", "course", "lampung-selatan", 102, "bbb", clock.now)]
    assert [(m.kind, m.key) for m in store.objects("o")] == [
        ("course", "lampung-selatan"), ("group", "lampung-selatan/kelas-a")]
    with pytest.raises(ValueError, match="kind"):
        store.map_object("o", "quiz", "x", 1)


def test_audit_trail_order_filter_and_limit(store: Store, clock: Clock) -> None:
    for i, outcome in enumerate(["ok", "failed", "unknown", "ok"]):
        clock.now += 1
        store.record_write("o" if i != 1 else "p", "create", "course", f"k{i}", 100 + i if outcome == "ok" else None,
                           "h", outcome, detail="timeout" if outcome == "unknown" else None)
    everything = store.writes()
    assert [w.key for w in everything] == ["k0", "k1", "k2", "k3"]
    assert [w.at for w in everything] == sorted(w.at for w in everything)
    assert [w.key for w in store.writes("o")] == ["k0", "k2", "k3"]
    assert [w.key for w in store.writes("o", limit=2)] == ["k2", "k3"]
    unknown = store.writes("o")[1]
    assert (unknown.outcome, unknown.moodle_id, unknown.detail) == ("unknown", None, "timeout")
    with pytest.raises(ValueError, match="outcome"):
        store.record_write("o", "create", "course", "k", 1, None, "maybe")
