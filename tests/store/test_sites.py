"""Sites in one store (issue 12): two centres with the same offering id, course and user ids, certificate
numbers and message keys stay apart through every Store method; sites are registered, listed and resolved
by id, URL, alias, profile or name; SQLite and (with MOODLE_SYNC_TEST_PG_URL) PostgreSQL."""

from __future__ import annotations

import pytest

from moodle_sync.store import LEGACY_SITE, ParticipantRecord, SiteRecord, Store, site_key
from tests.store.conftest import Clock
from tests.store.test_evidence import snap

A, B = "lms-a.example.id/moodle", "lms-b.example.id"


@pytest.mark.parametrize(("url", "key"), [
    ("https://LMS.Example.id/moodle/", "lms.example.id/moodle"),
    ("http://lms.example.id/moodle", "lms.example.id/moodle"),
    ("lms.example.id/moodle", "lms.example.id/moodle"),
    ("https://lms.example.id:443/moodle/webservice/rest/server.php", "lms.example.id/moodle"),
    ("https://lms.example.id/login/token.php", "lms.example.id"),
    ("http://127.0.0.1:8480/", "127.0.0.1:8480"),
    ("https://lms.example.id/moodle?lang=id", "lms.example.id/moodle"),
])
def test_site_key_is_host_port_and_path(url: str, key: str) -> None:
    assert site_key(url) == key


def test_site_key_refuses_a_url_without_a_host() -> None:
    with pytest.raises(ValueError, match="no host"):
        site_key("https:///moodle")


def _two(store: Store) -> tuple[Store, Store]:
    store.register_site(f"https://{A}", "Centre A", profile="a")
    store.register_site(f"https://{B}", "Centre B", profile="b")
    return store.for_site(A), store.for_site(B)


def test_provisioning_of_two_sites_stays_apart(store: Store) -> None:
    a, b = _two(store)
    a.save_offering("koding-2026-a1", "koding", "Koding A", {"site": "a"})
    b.save_offering("koding-2026-a1", "koding", "Koding B", {"site": "b"})
    a.map_object("koding-2026-a1", "course", "metro", 101, "h-a")
    b.map_object("koding-2026-a1", "course", "metro", 202, "h-b")
    a.record_write("koding-2026-a1", "create", "course", "metro", 101, "h-a", "ok")
    b.record_write("koding-2026-a1", "create", "course", "metro", None, "h-b", "unknown")
    assert [(o.title, o.data) for o in a.offerings()] == [("Koding A", {"site": "a"})]
    assert b.get_offering("koding-2026-a1").title == "Koding B"     # type: ignore[union-attr]
    assert (a.object_id("koding-2026-a1", "course", "metro"), b.object_id("koding-2026-a1", "course", "metro")) \
        == (101, 202)
    assert [o.moodle_id for o in b.objects("koding-2026-a1")] == [202]
    assert [(w.moodle_id, w.outcome) for w in a.writes()] == [(101, "ok")]
    assert a.unsettled_writes("koding-2026-a1", "course") == {}
    assert list(b.unsettled_writes("koding-2026-a1", "course")) == ["metro"]
    assert store.offerings() == [] and store.writes() == []          # the legacy site holds nothing


def test_participants_of_two_sites_stay_apart(store: Store) -> None:
    a, b = _two(store)
    a.save_participants("o", [ParticipantRecord("guru@x.id", status="enrolled", course_key="metro",
                                                class_name="A", moodle_user_id=7, nuptk="123")])
    b.save_participants("o", [ParticipantRecord("guru@x.id", status="waitlist", course_key="metro",
                                                class_name="B", moodle_user_id=7)])
    assert [p.status for p in a.participants("o")] == ["enrolled"]
    assert [p.class_name for p in b.participants("o")] == ["B"]
    assert b.class_schools("o") == [("metro", "B", None, 1)] and a.class_counts("o") == {"metro": 1}
    b.update_participant("o", "guru@x.id", status="withdrawn")
    assert a.participants("o")[0].status == "enrolled"
    # training history looks at the site's own records only
    assert a.training_history(["guru@x.id"], ["123"], exclude_offering="p") == {"guru@x.id": "enrolled in o",
                                                                                "123": "enrolled in o"}
    assert b.training_history(["guru@x.id"], ["123"], exclude_offering="p") == {}


def test_evidence_of_two_sites_stays_apart(store: Store, clock: Clock) -> None:
    a, b = _two(store)
    run_a, run_b = a.start_run(["o"], "full"), b.start_run(["o"], "full")
    a.save_snapshots(run_a.id, [snap(1, pulled_at=1000)])
    b.save_snapshots(run_b.id, [snap(1, pulled_at=1000, activities_done=5)])
    b.save_snapshots(run_b.id, [snap(1, pulled_at=2000, activities_done=8, completed=True)])
    a.finish_run(run_a.id, "ok")
    assert [s.activities_done for s in a.current("o")] == [0]
    assert [s.activities_done for s in b.current("o")] == [8]
    assert [s.activities_done for s in a.history("o")] == [0]
    assert [s.activities_done for s in b.history("o")] == [5, 8]
    assert a.pull_marks("o", 10)[1].completed is False and b.pull_marks("o", 10)[1].completed is True
    assert [r.id for r in a.runs()] == [run_a.id] and a.last_run("o").id == run_a.id  # type: ignore[union-attr]
    assert b.last_run("o") is None and b.last_run("o", status=None).id == run_b.id     # type: ignore[union-attr]
    with pytest.raises(ValueError, match="no pull run"):
        a.finish_run(run_b.id, "ok")                  # another site's run is not this site's to finish
    with pytest.raises(ValueError, match="no pull run"):
        a.save_snapshots(run_b.id, [snap(2)])


def test_certificates_and_messages_of_two_sites_stay_apart(store: Store) -> None:
    a, b = _two(store)

    def number(seq: int) -> str:
        return f"{seq:04d}/2026"

    issued_a = a.issue_certificates("o", [("x@x.id", 1), ("y@x.id", 2)], pattern="p", year=2026, number=number)
    issued_b = b.issue_certificates("o", [("y@x.id", 3)], pattern="p", year=2026, number=number)
    assert {e: c.number for e, c in issued_a.items()} == {"x@x.id": "0001/2026", "y@x.id": "0002/2026"}
    assert {e: c.number for e, c in issued_b.items()} == {"y@x.id": "0001/2026"}   # its own sequence
    assert list(b.certificates("o")) == ["y@x.id"]
    sent = a.reserve_message("o", "2026-08-10", "fas@x.id", 7, "h")
    assert sent is not None and a.settle_message(sent.id, "ok", msgid=1)
    assert a.reserve_message("o", "2026-08-10", "fas@x.id", 7, "h") is None
    other = b.reserve_message("o", "2026-08-10", "fas@x.id", 7, "h")          # the other centre's facilitator
    assert other is not None and not b.settle_message(sent.id, "failed")   # nor settles A's message
    assert [m.outcome for m in a.messages("o")] == ["ok"] and [m.outcome for m in b.messages("o")] == ["unknown"]


def test_register_keeps_first_seen_and_profile_and_records_the_alias(store: Store, clock: Clock) -> None:
    first = store.register_site(f"https://{A}/", "Centre A", profile="a", alias="http://10.0.0.5/moodle")
    assert first == SiteRecord(A, f"https://{A}", "Centre A", "a", clock.now, clock.now)
    clock.now += 60
    again = store.register_site(f"https://{A}", "Pusat A")
    assert (again.name, again.profile, again.first_seen, again.last_seen) == ("Pusat A", "a", first.first_seen,
                                                                              clock.now)
    store.register_site(f"https://{B}", "Centre B", profile="b")
    assert [s.site_id for s in store.sites()] == [A, B]
    assert store.site_of_url("http://10.0.0.5/moodle/webservice/rest/server.php").site_id == A  # type: ignore[union-attr]
    assert store.site_of_url("https://lms-c.example.id") is None


@pytest.mark.parametrize(("ref", "found"), [
    (A, A), (f"https://{B}/", B), ("http://10.0.0.5/moodle", A), ("b", B), ("Centre A", A),
    ("nowhere", None), ("shared", None),
])
def test_resolve_site_by_id_url_alias_profile_or_name(store: Store, ref: str, found: str | None) -> None:
    store.register_site(f"https://{A}", "Centre A", profile="a", alias="http://10.0.0.5/moodle")
    store.register_site(f"https://{B}", "Centre B", profile="b")
    store.register_site("https://lms-c.example.id", "shared", profile="shared-c")
    store.register_site("https://lms-d.example.id", "shared", profile="shared-d")
    site = store.resolve_site(ref)
    assert (site.site_id if site else None) == found


def test_a_new_store_has_no_legacy_rows_to_adopt(store: Store) -> None:
    assert store.site_id == LEGACY_SITE and store.sites() == [] and not store.has_legacy_rows()
    store.save_offering("o", "t", "T", {})
    assert store.has_legacy_rows()
    store.register_site(f"https://{A}", "A")
    assert not store.has_legacy_rows() and store.for_site(A).get_offering("o") is not None


def test_a_derived_store_shares_the_engine_and_closing_it_leaves_the_store_open(store: Store) -> None:
    derived = store.for_site(A)
    derived.save_offering("o", "t", "T", {})
    derived.close()
    assert store.for_site(A).get_offering("o") is not None          # the engine still serves
    assert repr(derived).endswith(f"site={A!r})")
