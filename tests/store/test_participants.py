"""Participants: upsert by e-mail, status filters, updates, and training history."""

from __future__ import annotations

import pytest

from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.exceptions import InputError
from moodle_sync.store import ParticipantRecord, Store
from tests.store.conftest import Clock


def person(email: str, **kw: object) -> ParticipantRecord:
    return ParticipantRecord(email=email, fullname=kw.pop("fullname", email.split("@")[0].title()),  # type: ignore[arg-type]
                             **kw)  # type: ignore[arg-type]


def test_save_and_read_back_every_field(store: Store, clock: Clock) -> None:
    full = ParticipantRecord(
        email=" Siti.Aminah@Guru.ID ", fullname="Siti Aminah", firstname="Siti", lastname="Aminah",
        nuptk="1234567890123456", npsn="10800001", school="SD Negeri 1 Kalianda", regency="lampung-selatan",
        school_level="SD", phone="+628123", course_key="lampung-selatan", class_name="Kelas A",
        status="selected", rank=3, reason="quota", moodle_user_id=None, trained_before_form=False,
        submitted_at=1_760_000_000)
    assert store.save_participants("o", [full]) == 1
    [got] = store.participants("o")
    assert got.email == "siti.aminah@guru.id" and got.updated_at == clock.now
    expected = {**vars(full), "email": "siti.aminah@guru.id", "updated_at": clock.now}
    assert vars(got) == expected


def test_upsert_replaces_by_email_and_keeps_other_offerings(store: Store, clock: Clock) -> None:
    store.save_participants("o", [person("a@x.id", rank=2), person("b@x.id", rank=1, status="waitlist")])
    store.save_participants("p", [person("a@x.id", rank=1)])
    clock.now += 5
    store.save_participants("o", [person("A@x.id", rank=5, status="not_selected", reason="late")])
    assert [(p.email, p.rank, p.status) for p in store.participants("o")] == [
        ("b@x.id", 1, "waitlist"), ("a@x.id", 5, "not_selected")]
    assert store.participants("o", status="waitlist")[0].email == "b@x.id"
    assert store.participants("o", status="enrolled") == []
    assert [p.rank for p in store.participants("p")] == [1]


def test_bad_participant_input_is_refused_whole(store: Store) -> None:
    with pytest.raises(ValueError, match="twice"):
        store.save_participants("o", [person("a@x.id"), person("A@X.ID ")])
    with pytest.raises(ValueError, match="status"):
        store.save_participants("o", [person("a@x.id"), person("b@x.id", status="accepted")])
    assert store.participants("o") == []


def test_update_participant(store: Store, clock: Clock) -> None:
    store.save_participants("o", [person("a@x.id")])
    clock.now += 60
    got = store.update_participant("o", "A@x.id", status="enrolled", moodle_user_id=4321, class_name="Kelas B")
    assert (got.status, got.moodle_user_id, got.class_name, got.updated_at) == ("enrolled", 4321, "Kelas B",
                                                                                clock.now)
    assert store.participants("o", status="enrolled") == [got]
    with pytest.raises(ValueError, match="nickname"):
        store.update_participant("o", "a@x.id", nickname="x")
    with pytest.raises(ValueError, match="updated_at"):
        store.update_participant("o", "a@x.id", updated_at=1)
    with pytest.raises(ValueError, match="status"):
        store.update_participant("o", "a@x.id", status="graduated")
    with pytest.raises(InputError, match="no participant nobody@x.id"):
        store.update_participant("o", "nobody@x.id", status="withdrawn")


def _snap(offering: str, user_id: int, email: str, completed: bool, role: str = "student") -> CompletionSnapshot:
    return CompletionSnapshot(offering_id=offering, course_id=10, course_key="main", user_id=user_id,
                              email=email, fullname="X", role=role, completed=completed,
                              time_completed=1_700_000_000 if completed else None)


def test_training_history(store: Store) -> None:
    # 2025: Ani completed, Budi enrolled without completing, Cici only applied, Dedi a facilitator.
    store.save_participants("koding-2025-a1", [
        person("ani@x.id", nuptk="111", status="enrolled", moodle_user_id=1),
        person("budi@x.id", nuptk="222", status="enrolled", moodle_user_id=2),
        person("cici@x.id", nuptk="333", status="not_selected"),
        person("eka@old.id", nuptk="555", status="withdrawn", moodle_user_id=5)])
    run = store.start_run(["koding-2025-a1"], "full")
    store.save_snapshots(run.id, [_snap("koding-2025-a1", 1, "ani@x.id", True),
                                  _snap("koding-2025-a1", 2, "budi@x.id", False),
                                  _snap("koding-2025-a1", 4, "dedi@x.id", True, role="editingteacher"),
                                  _snap("koding-2025-a1", 5, "eka@x.id", True),
                                  _snap("koding-2025-a1", 6, "fani@x.id", False)])
    # The offering being selected for has all of them as applicants; it must not count.
    store.save_participants("koding-2026-a1", [
        person(e, status="enrolled") for e in ("ani@x.id", "budi@x.id", "cici@x.id", "dedi@x.id", "gita@x.id")])
    found = store.training_history(
        ["ANI@x.id", "budi@x.id", "cici@x.id", "dedi@x.id", "fani@x.id", "gita@x.id", "eka@new.id"],
        ["111", "333", "555", "999"], exclude_offering="koding-2026-a1")
    assert found == {
        "ANI@x.id": "completed koding-2025-a1",
        "111": "completed koding-2025-a1",
        "budi@x.id": "enrolled in koding-2025-a1",
        "fani@x.id": "enrolled in koding-2025-a1",     # seen in a pull, no participant record
        "555": "completed koding-2025-a1",            # found by NUPTK, completion via the Moodle user id
    }
    assert store.training_history(["gita@x.id"], [])["gita@x.id"] == "enrolled in koding-2026-a1"
    assert store.training_history([], []) == {}


def test_training_history_prefers_completion_over_a_later_enrolment(store: Store) -> None:
    store.save_participants("a-2024", [person("ani@x.id", status="enrolled", moodle_user_id=1)])
    store.save_participants("b-2025", [person("ani@x.id", status="enrolled", moodle_user_id=1)])
    run = store.start_run(["a-2024", "b-2025"], "full")
    store.save_snapshots(run.id, [_snap("a-2024", 1, "ani@x.id", False), _snap("b-2025", 1, "ani@x.id", True)])
    assert store.training_history(["ani@x.id"], []) == {"ani@x.id": "completed b-2025"}


def test_training_history_with_many_people(store: Store) -> None:
    store.save_participants("old", [person(f"p{i}@x.id", nuptk=str(i), status="enrolled") for i in range(1500)])
    found = store.training_history([f"p{i}@x.id" for i in range(0, 3000, 2)], [str(i) for i in range(1, 3000, 2)])
    assert len(found) == 1500 and found["p1498@x.id"] == "enrolled in old" and found["1499"] == "enrolled in old"


def test_class_counts_per_course_from_the_roster(store: Store) -> None:
    assert store.class_counts("o") == {}
    store.save_participants("o", [
        person("a@x.id", course_key="metro", class_name="Kelas Metro A", status="enrolled"),
        person("b@x.id", course_key="metro", class_name="Kelas Metro B", status="selected"),
        person("c@x.id", course_key="metro", class_name="Kelas Metro B", status="withdrawn"),
        person("d@x.id", course_key="pesawaran", class_name="Kelas Pesawaran A", status="selected"),
        person("e@x.id", status="waitlist"),
        person("f@x.id", course_key="tanggamus", status="failed")])
    store.save_participants("p", [person("a@x.id", course_key="metro", class_name="Kelas Metro C")])
    assert store.class_counts("o") == {"metro": 2, "pesawaran": 1}
