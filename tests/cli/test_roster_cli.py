"""``moodle-sync select``, ``enrol`` and ``withdraw`` against the sandbox, end to end.

Most tests use a small copy of examples/offering-koding.yaml (two regencies, 12 seats, so there is a
waitlist in both) with the example registrations; the selection test uses the example as it is.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.sandbox import SandboxServer
from moodle_sync.store.locks import offering_lock
from moodle_sync.ws import connect
from moodle_sync.ws.moodle import Moodle
from tests.store.conftest import PG_URL, _pg_schema

from .conftest import run, run_json, site_store, small_offering, writes

EXAMPLES = Path(__file__).parents[2] / "examples"
REGISTRATIONS = str(EXAMPLES / "registrations.csv")
OFFERING_ID = "koding-2026-a1"










@pytest.fixture
def moodle(sandbox: SandboxServer) -> Iterator[Moodle]:
    m = connect(sandbox.url, sandbox.token)
    yield m
    m.client.close()


@pytest.fixture
def offering(sandbox_env: SandboxServer, store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The small offering, provisioned."""
    path = small_offering(tmp_path / "offering")
    assert run(capsys, "apply", str(path), "--yes", "--quiet")[0] == 0
    return str(path)


def participants(store_path: Path) -> dict[str, Any]:
    with site_store(store_path) as store:
        return {p.email: p for p in store.participants(OFFERING_ID)}


def students(moodle: Moodle, course_key: str, *, onlyactive: bool = False) -> list[Any]:
    course = moodle.courses_by_field("idnumber", f"{OFFERING_ID}-{course_key}")[0]
    return [u for u in moodle.enrolled_users(course.id, onlyactive=onlyactive) if "student" in u.roles]


def test_select_counts_statuses_and_announcements(sandbox_env: SandboxServer, store_path: Path,
                                                  capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    offering = str(EXAMPLES / "offering-koding.yaml")
    out_dir = tmp_path / "pengumuman"
    code, doc = run_json(capsys, "select", offering, "--applicants", REGISTRATIONS, "--output", str(out_dir))
    assert code == 0 and doc["dry_run"] is False
    counts = doc["counts"]
    assert 0 < counts["selected"] <= counts["seats"]
    assert counts["selected"] + counts["waitlisted"] + counts["not_selected"] + counts["withdrawn"] \
        == counts["applicants"]
    placements = [p for status in ("selected", "waitlist", "not_selected", "withdrawn")
                  for p in doc["selection"][status]]
    emails = Counter(p["email"] for p in placements)
    assert len(emails) == counts["applicants"] and set(emails.values()) == {1}   # each exactly once
    stored = participants(store_path)
    assert set(stored) == set(emails)
    by_status = Counter(p.status for p in stored.values())
    assert by_status["selected"] == counts["selected"] and by_status["waitlist"] == counts["waitlisted"]
    assert all(p.course_key and p.class_name for p in stored.values() if p.status == "selected")
    assert all(p.course_key is None for p in stored.values() if p.status != "selected")
    files = doc["files"]
    assert Path(files["xlsx"]).parent == out_dir and Path(files["xlsx"]).stat().st_size > 0
    csvs = sorted(Path(p).name for k, p in files.items() if k != "xlsx")
    assert csvs == ["pengumuman-daftar-tunggu.csv", "pengumuman-terpilih.csv", "pengumuman-tidak-terpilih.csv"]
    chosen = (out_dir / "pengumuman-terpilih.csv").read_text("utf-8-sig").splitlines()
    assert len(chosen) == 1 + counts["selected"]
    assert writes(sandbox_env.control.call_counts()) == {}   # selecting writes nothing to Moodle


def test_select_dry_run_saves_and_writes_nothing(sandbox_env: SandboxServer, store_path: Path,
                                                 capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = small_offering(tmp_path / "offering")
    code, doc = run_json(capsys, "select", str(path), "--applicants", REGISTRATIONS, "--dry-run")
    assert code == 0 and doc["dry_run"] is True and doc["files"] == {}
    assert doc["counts"]["selected"] == 12
    assert participants(store_path) == {}
    assert not (tmp_path / f"{OFFERING_ID}-seleksi").exists()


def test_an_enrolment_in_an_earlier_offering_in_moodle_counts_as_training(sandbox_env: SandboxServer, store_path: Path,
                                                                          capsys: pytest.CaptureFixture[str],
                                                                          tmp_path: Path, moodle: Moodle) -> None:
    earlier = small_offering(tmp_path / "earlier", id="koding-2025-a1", start="2025-08-04", end="2025-11-28")
    assert run(capsys, "apply", str(earlier), "--yes", "--quiet")[0] == 0   # the store maps its courses
    path = str(small_offering(tmp_path / "offering"))
    _, before = run_json(capsys, "select", path, "--applicants", REGISTRATIONS, "--dry-run")
    first = before["selection"]["selected"][0]
    assert first["trained"] is False
    # Trained last year, but not through this store: only Moodle knows.
    user = moodle.create_users([{"username": "guru.lama", "email": first["email"], "firstname": "Guru",
                                 "lastname": "Lama", "auth": "manual", "createpassword": 1}]).done
    assert user
    uid = moodle.users_by_field("email", [first["email"]])[0].id
    old_course = moodle.courses_by_field("idnumber", "koding-2025-a1-metro")[0].id
    assert not moodle.enrol([{"roleid": 5, "userid": uid, "courseid": old_course}]).failed
    _, after = run_json(capsys, "select", path, "--applicants", REGISTRATIONS, "--dry-run")
    placement = next(p for status in ("selected", "waitlist") for p in after["selection"][status]
                     if p["email"] == first["email"])
    assert placement["trained"] is True and "koding-2025-a1 (Moodle)" in placement["trained_source"]
    assert placement["status"] == "waitlisted"   # never-trained applicants come first
    _, without = run_json(capsys, "select", path, "--applicants", REGISTRATIONS, "--dry-run", "--no-moodle-history")
    assert without["selection"]["selected"][0]["email"] == first["email"]


def test_enrol_everyone_selected_exactly_once_and_rerun_changes_nothing(offering: str, store_path: Path,
                                                                        capsys: pytest.CaptureFixture[str],
                                                                        moodle: Moodle, sandbox: SandboxServer) -> None:
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    selected = {e: p for e, p in participants(store_path).items() if p.status == "selected"}
    assert len(selected) == 12

    code, doc = run_json(capsys, "enrol", offering, "--yes")
    assert code == 0, doc
    assert (doc["participants"], doc["created"], doc["enrolled"], doc["failed"]) == (12, 12, 12, [])
    for key in ("metro", "pesawaran"):
        enrolled = students(moodle, key)
        emails = Counter(u.email for u in enrolled)
        assert set(emails.values()) == {1}
        assert set(emails) == {e for e, p in selected.items() if p.course_key == key}
        course = moodle.courses_by_field("idnumber", f"{OFFERING_ID}-{key}")[0]
        groups = {g.id: g.name for g in moodle.groups(course.id)}
        for u in enrolled:   # each in their class, the group provisioning made
            assert [groups[g] for g in u.groups] == [selected[u.email].class_name]
    stored = participants(store_path)
    assert all(stored[e].status == "enrolled" and stored[e].moodle_user_id for e in selected)

    before = writes(sandbox.control.call_counts())
    code, doc = run_json(capsys, "enrol", offering, "--yes")
    assert code == 0
    assert (doc["created"], doc["enrolled"], doc["grouped"], doc["matched"], doc["already_enrolled"]) \
        == (0, 0, 0, 12, 12)
    assert writes(sandbox.control.call_counts()) == before
    code, out, _ = run(capsys, "enrol", offering, "--yes")
    assert code == 0 and "0 users were created, 0 enrolments were made (12 already enrolled)" in out


def test_enrol_dry_run_writes_nothing(offering: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                      sandbox: SandboxServer) -> None:
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    before = writes(sandbox.control.call_counts())
    code, doc = run_json(capsys, "enrol", offering, "--dry-run")
    assert code == 0 and doc["dry_run"] is True
    assert (doc["created"], doc["enrolled"], doc["grouped"]) == (12, 12, 0)
    assert writes(sandbox.control.call_counts()) == before
    assert {p.status for p in participants(store_path).values()} == {"selected", "waitlist", "not_selected"}


class Terminal(io.StringIO):
    """Standard input that is a terminal, with the answers typed in advance."""

    def isatty(self) -> bool:
        return True


def test_enrol_shows_what_it_will_write_then_asks(offering: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                                  sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    before = writes(sandbox.control.call_counts())
    for args in (("enrol", offering), ("enrol", offering, "--json")):   # no one to ask: --yes is needed
        code, out, err = run(capsys, *args)
        assert code == 2 and "--yes" in err and not out, args
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, _, err = run(capsys, "enrol", offering)
    assert code == 130 and "Aborted" in err
    preview, question = err.index("Enrol 12 participant(s) of koding-2026-a1:"), err.index("Enrol 12 participant(s) in http")
    assert preview < err.index("  metro: ") < err.index("  pesawaran: ") < question
    assert "class(es)" in err and "mails each a password" in err
    assert writes(sandbox.control.call_counts()) == before
    assert {p.status for p in participants(store_path).values()} == {"selected", "waitlist", "not_selected"}
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, out, _ = run(capsys, "enrol", offering)
    assert code == 0 and "12 users were created, 12 enrolments were made" in out


def test_withdraw_shows_what_it_will_write_then_asks(offering: str, store_path: Path,
                                                     capsys: pytest.CaptureFixture[str], sandbox: SandboxServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    assert run(capsys, "enrol", offering, "--quiet", "--yes")[0] == 0
    leaving = next(p for p in participants(store_path).values() if p.status == "enrolled" and p.regency == "metro")
    before = writes(sandbox.control.call_counts())
    code, _, err = run(capsys, "withdraw", offering, leaving.email)
    assert code == 2 and "--yes" in err
    code, doc = run_json(capsys, "withdraw", offering, leaving.email, "--dry-run")   # never asks
    assert code == 0 and doc["dry_run"] is True and doc["promoted"]
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, _, err = run(capsys, "withdraw", offering, leaving.email)
    assert code == 130
    assert err.index(f"Withdraw {leaving.email} (enrolled): suspend their enrolment in metro.") \
        < err.index("Seat given to ") < err.index(f"<{doc['promoted']}>") \
        < err.index(f"Withdraw {leaving.email} in http")
    assert writes(sandbox.control.call_counts()) == before
    assert participants(store_path)[leaving.email].status == "enrolled"
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, out, _ = run(capsys, "withdraw", offering, leaving.email)
    assert code == 0 and f"{leaving.email}: suspended" in out and doc["promoted"] in out
    assert participants(store_path)[leaving.email].status == "withdrawn"


def test_select_refuses_to_reshuffle_enrolled_participants(offering: str, store_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    assert run(capsys, "enrol", offering, "--quiet", "--yes")[0] == 0
    before = participants(store_path)
    code, _, err = run(capsys, "select", offering, "--applicants", REGISTRATIONS)
    assert code == 1
    assert "12 participants" in err and "already enrolled" in err and "--force" in err
    assert participants(store_path) == before
    code, _, _ = run(capsys, "select", offering, "--applicants", REGISTRATIONS, "--force", "--quiet")
    assert code == 0


def test_a_record_moodle_refuses_fails_only_that_person(offering: str, store_path: Path,
                                                        capsys: pytest.CaptureFixture[str], sandbox: SandboxServer,
                                                        moodle: Moodle) -> None:
    sandbox.moodle.debug = True   # Moodle sends debuginfo (the real reason of invalidparameter) only then
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    selected = sorted(e for e, p in participants(store_path).items() if p.status == "selected")
    victim = selected[5]
    sandbox.control.fail_record("core_user_create_users", {"email": victim}, "invalidparameter",
                                f"Email address is invalid: {victim}")
    code, out, _ = run(capsys, "enrol", offering, "--yes")
    assert code == 1
    assert f"not enrolled: {victim}: Invalid parameter value detected" in out
    assert f"Email address is invalid: {victim}" in out
    assert "11 users were created, 11 enrolments were made" in out
    code, doc = run_json(capsys, "enrol", offering, "--yes")   # still failing: named in JSON with the reason
    assert code == 1 and [f["email"] for f in doc["failed"]] == [victim]
    assert doc["failed"][0]["reason"] == (f"Invalid parameter value detected [invalidparameter]: "
                                          f"Email address is invalid: {victim}")
    enrolled = {u.email for key in ("metro", "pesawaran") for u in students(moodle, key)}
    assert enrolled == set(selected) - {victim}
    stored = participants(store_path)
    assert stored[victim].status == "failed" and "Email address is invalid" in (stored[victim].reason or "")
    assert stored[victim].moodle_user_id is None
    assert all(stored[e].status == "enrolled" for e in selected if e != victim)

    sandbox.control.clear_faults()
    code, doc = run_json(capsys, "enrol", offering, "--yes")
    assert code == 0 and (doc["created"], doc["enrolled"], doc["failed"]) == (1, 1, [])
    assert participants(store_path)[victim].status == "enrolled"


def test_a_lost_answer_creates_no_duplicates(offering: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                             sandbox: SandboxServer, moodle: Moodle) -> None:
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    selected = sorted(e for e, p in participants(store_path).items() if p.status == "selected")
    creates = sandbox.control.call_counts()["core_user_create_users"]   # the facilitators' accounts
    sandbox.control.inject_fault("core_user_create_users", "apply_then_drop")
    code, doc = run_json(capsys, "enrol", offering, "--yes")
    assert code == 0, doc   # the lost answer was resolved by reading the users back
    assert doc["created"] == 12 and doc["enrolled"] == 12 and doc["failed"] == []
    assert sandbox.control.call_counts()["core_user_create_users"] == creates + 1   # not re-sent blindly
    code, doc = run_json(capsys, "enrol", offering, "--yes")
    assert code == 0 and (doc["created"], doc["enrolled"], doc["matched"]) == (0, 0, 12)
    assert sandbox.control.call_counts()["core_user_create_users"] == creates + 1
    users = moodle.users_by_field("email", selected)
    assert sorted(u.email for u in users) == selected    # one user each
    assert sorted(u.email for key in ("metro", "pesawaran") for u in students(moodle, key)) == selected


def test_withdraw_suspends_and_promotes_the_same_regency(offering: str, store_path: Path,
                                                         capsys: pytest.CaptureFixture[str], moodle: Moodle,
                                                         sandbox: SandboxServer) -> None:
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    assert run(capsys, "enrol", offering, "--quiet", "--yes")[0] == 0
    people = participants(store_path)
    leaving = min((p for p in people.values() if p.status == "enrolled" and p.regency == "pesawaran"),
                  key=lambda p: p.rank or 0)
    waitlist = sorted((p for p in people.values() if p.status == "waitlist"), key=lambda p: p.rank or 0)
    successor = next(p for p in waitlist if p.regency == "pesawaran")
    assert waitlist[0].regency != "pesawaran"   # so the regency rule, not the overall order, decides

    before = writes(sandbox.control.call_counts())
    code, doc = run_json(capsys, "withdraw", offering, leaving.email, "--dry-run")
    assert code == 0 and doc["promoted"] == successor.email and doc["dry_run"] is True
    assert writes(sandbox.control.call_counts()) == before
    assert participants(store_path)[leaving.email].status == "enrolled"

    code, doc = run_json(capsys, "withdraw", offering, leaving.email.upper(), "--yes")
    assert code == 0, doc
    assert (doc["withdrawn"], doc["action"], doc["promoted"]) == (leaving.email, "suspended", successor.email)
    assert doc["promoted_enrolment"]["enrolled"] == 1 and doc["promoted_enrolment"]["failed"] == []
    everyone = {u.email: u for u in students(moodle, "pesawaran")}
    active = {u.email for u in students(moodle, "pesawaran", onlyactive=True)}
    assert leaving.email in everyone and leaving.email not in active      # suspended, work kept
    assert successor.email in active
    course = moodle.courses_by_field("idnumber", f"{OFFERING_ID}-pesawaran")[0]
    groups = {g.id: g.name for g in moodle.groups(course.id)}
    assert [groups[g] for g in everyone[successor.email].groups] == [leaving.class_name]
    stored = participants(store_path)
    assert stored[leaving.email].status == "withdrawn"
    assert stored[successor.email].status == "enrolled" and stored[successor.email].class_name == leaving.class_name
    assert stored[successor.email].course_key == "pesawaran"

    code, _, err = run(capsys, "withdraw", offering, leaving.email, "--yes")
    assert code == 1 and "already withdrawn" in err
    code, _, err = run(capsys, "withdraw", offering, "nobody@example.org", "--yes")
    assert code == 1 and "not a participant" in err


def test_withdraw_unenrol_removes_the_enrolment(offering: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                                moodle: Moodle) -> None:
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    assert run(capsys, "enrol", offering, "--quiet", "--yes")[0] == 0
    people = participants(store_path)
    leaving = next(p for p in people.values() if p.status == "enrolled" and p.regency == "metro")
    code, doc = run_json(capsys, "withdraw", offering, leaving.email, "--unenrol", "--no-promote", "--yes")
    assert code == 0 and doc["action"] == "unenrolled" and doc["promoted"] is None
    assert leaving.email not in {u.email for u in students(moodle, "metro")}
    after = participants(store_path)
    assert after[leaving.email].status == "withdrawn"
    assert sum(p.status == "enrolled" for p in after.values()) == 11   # nobody promoted


def test_enrol_people_from_a_file(offering: str, store_path: Path, capsys: pytest.CaptureFixture[str], moodle: Moodle,
                                  tmp_path: Path) -> None:
    export = tmp_path / "peserta.csv"
    export.write_text(
        "Timestamp,Alamat email,Nama Lengkap,Kabupaten/Kota,Jenjang\n"
        "02/11/2026 07:00:00,Sari.Dewi@Guru.Belajar.id,Sari Dewi S.Pd,Kota Metro,SD\n"
        "02/11/2026 07:05:00,budi.hartono@guru.belajar.id,Budi Hartono,Pesawaran,SMP\n",
        encoding="utf-8")
    code, doc = run_json(capsys, "enrol", offering, "--participants", str(export), "--yes")
    assert code == 0, doc
    assert (doc["participants"], doc["created"], doc["enrolled"]) == (2, 2, 2)
    assert [u.email for u in students(moodle, "metro")] == ["sari.dewi@guru.belajar.id"]
    assert [u.email for u in students(moodle, "pesawaran")] == ["budi.hartono@guru.belajar.id"]
    assert {p.status for p in participants(store_path).values()} == {"enrolled"}


def test_enrol_before_select_is_an_input_error(offering: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "enrol", offering, "--yes")
    assert code == 1 and "run 'moodle-sync select' first" in err


def test_explain_says_why(sandbox_env: SandboxServer, store_path: Path, capsys: pytest.CaptureFixture[str],
                          tmp_path: Path) -> None:
    path = str(small_offering(tmp_path / "offering"))
    _, doc = run_json(capsys, "select", path, "--applicants", REGISTRATIONS, "--dry-run")
    chosen, waiting = doc["selection"]["selected"][3], doc["selection"]["waitlist"][2]
    elsewhere = next(p for p in doc["selection"]["not_selected"] if p["regency"] == "tanggamus")
    code, out, _ = run(capsys, "select", path, "--applicants", REGISTRATIONS, "--explain", chosen["email"])
    assert code == 0
    assert chosen["email"] in out and f"Result: selected, rank {chosen['rank']} of 12" in out
    assert "Rule 1 (never trained first)" in out and "Rule 2 (fair spread over regencies)" in out
    code, out, _ = run(capsys, "select", path, "--applicants", REGISTRATIONS, "--explain", waiting["email"])
    assert code == 0 and f"Result: waitlist position {waiting['rank']} overall" in out
    code, doc = run_json(capsys, "select", path, "--applicants", REGISTRATIONS, "--explain", elsewhere["email"])
    assert code == 0 and "is not one of the regencies this offering serves" in doc["explanation"]
    code, _, err = run(capsys, "select", path, "--applicants", REGISTRATIONS, "--explain", "nobody@example.org")
    assert code == 1 and "nobody@example.org" in err
    assert participants(store_path) == {}


def test_enrol_failure_reason_is_printed_verbatim(offering: str, store_path: Path,
                                                  capsys: pytest.CaptureFixture[str], sandbox: SandboxServer) -> None:
    sandbox.moodle.debug = True
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    victim = sorted(e for e, p in participants(store_path).items() if p.status == "selected")[5]
    sandbox.control.fail_record("core_user_create_users", {"email": victim}, "invalidparameter",
                                f"Email address is invalid: {victim}")
    code, out, _ = run(capsys, "enrol", offering, "--yes")
    assert code == 1
    assert (f"not enrolled: {victim}: Invalid parameter value detected [invalidparameter]: "
            f"Email address is invalid: {victim}") in out


def test_enrol_from_a_file_names_who_cannot_be_enrolled(offering: str, store_path: Path,
                                                       capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    export = tmp_path / "peserta.csv"
    export.write_text("Timestamp,Alamat email,Nama Lengkap,Kabupaten/Kota,Jenjang\n"
                      "02/11/2026 07:00:00,sari.dewi@guru.belajar.id,Sari Dewi,Kota Metro,SD\n"
                      "02/11/2026 07:05:00,budi.hartono@guru.belajar.id,Budi Hartono,Tanggamus,SMP\n",
                      encoding="utf-8")
    code, doc = run_json(capsys, "enrol", offering, "--participants", str(export), "--yes")
    assert code == 1 and [f["email"] for f in doc["failed"]] == ["budi.hartono@guru.belajar.id"]


def test_withdraw_promotes_the_never_trained_before_the_same_regency(offering: str, store_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "select", offering, "--applicants", REGISTRATIONS)[0] == 0
    people = participants(store_path)
    leaving = next(p for p in people.values() if p.status == "selected" and p.regency == "pesawaran")
    waitlist = sorted((p for p in people.values() if p.status == "waitlist"), key=lambda p: p.rank or 0)
    same = next(p for p in waitlist if p.regency == "pesawaran")
    elsewhere = next(p for p in waitlist if p.regency != "pesawaran")
    with site_store(store_path) as store:        # the same-regency candidate counts as trained
        store.update_participant(OFFERING_ID, same.email, trained=True)
        for p in waitlist:
            if p.regency == "pesawaran" and p.email != same.email:
                store.update_participant(OFFERING_ID, p.email, trained=True)
    code, doc = run_json(capsys, "withdraw", offering, leaving.email, "--dry-run")
    assert code == 0 and doc["promoted"] == elsewhere.email


# classes: one path, the template's ------------------------------------------------------------------

def test_classes_the_selection_adds_are_planned_and_made_as_apply_makes_them(
        sandbox_env: SandboxServer, store_path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        moodle: Moodle) -> None:
    path = str(small_offering(tmp_path / "offering", class_size=4, classes_per_course=1))
    assert run(capsys, "apply", path, "--yes", "--quiet")[0] == 0      # one class per course
    assert run(capsys, "select", path, "--applicants", REGISTRATIONS, "--quiet")[0] == 0
    selected = {e: p for e, p in participants(store_path).items() if p.status == "selected"}
    counts = Counter(p.course_key for p in selected.values())
    extra = {k: n for k, n in counts.items() if n > 4}   # more than the one class holds
    assert extra and set(counts) == {"metro", "pesawaran"}
    for key, short in (("metro", "Metro"), ("pesawaran", "Pesawaran")):   # the template's names, A, B, ...
        names = sorted({p.class_name for p in selected.values() if p.course_key == key})
        assert names == [f"Kelas {short} {letter}" for letter in "ABC"[:-(-counts[key] // 4)]]
    code, doc = run_json(capsys, "plan", path)
    assert code == 2
    made = {a["key"] for a in doc["actions"] if a["kind"] == "group" and a["op"] == "create"}
    wanted = {(k, f"Kelas {k.title()} B") for k in extra}
    assert made == {f"{k} / {name}" for k, name in wanted}                              # plan sees them
    code, doc = run_json(capsys, "enrol", path, "--yes")
    assert code == 0 and doc["groups_created"] == len(wanted) and doc["failed"] == [], doc
    for key, name in wanted:
        course = moodle.courses_by_field("idnumber", f"{OFFERING_ID}-{key}")[0]
        group = next(g for g in moodle.groups(course.id) if g.name == name)
        assert group.idnumber == f"{OFFERING_ID}-{key}-kelas-b"
        members = {u.email for u in students(moodle, key) if group.id in u.groups}
        assert members == {e for e, p in selected.items() if p.class_name == name}
    code, doc = run_json(capsys, "plan", path)
    assert not [a for a in doc["actions"] if a["kind"] in ("group", "grouping", "member") and a["op"] != "unchanged"]


def test_every_enrolment_failure_is_listed(offering: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    export = tmp_path / "peserta.csv"
    rows = [f"02/11/2026 08:{n:02d}:00,guru{n}@guru.belajar.id,Guru {chr(65 + n % 26)}{chr(97 + n // 26)}di,"
            "Tanggamus,SD" for n in range(60)]
    export.write_text("Timestamp,Alamat email,Nama Lengkap,Kabupaten/Kota,Jenjang\n" + "\n".join(rows) + "\n",
                      encoding="utf-8")
    code, out, err = run(capsys, "enrol", offering, "--participants", str(export), "--yes")
    assert code == 1 and out.count("not enrolled:") == 60, err


# one writer per offering ------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, sandbox_env: SandboxServer, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The store the CLI uses: SQLite in tmp_path, or a fresh schema in MOODLE_SYNC_TEST_PG_URL's database."""
    monkeypatch.chdir(tmp_path)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'store.sqlite'}"
        monkeypatch.setenv("MOODLE_SYNC_STORE", url)
        yield url
        return
    if not PG_URL:
        pytest.skip("set MOODLE_SYNC_TEST_PG_URL to run the store tests against PostgreSQL")
    for url in _pg_schema(PG_URL):
        monkeypatch.setenv("MOODLE_SYNC_STORE", url)
        yield url


def test_a_second_writer_of_an_offering_exits_75_and_changes_nothing(any_store: str, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     sandbox: SandboxServer) -> None:
    path = str(small_offering(tmp_path / "offering"))
    assert run(capsys, "apply", path, "--yes", "--quiet")[0] == 0
    assert run(capsys, "select", path, "--applicants", REGISTRATIONS, "--quiet")[0] == 0
    with site_store(any_store) as store:
        before = store.participants(OFFERING_ID)
        with offering_lock(store, OFFERING_ID):     # another run, from this host or another one
            writes_before = writes(sandbox.control.call_counts())
            for args in (("enrol", path, "--yes"), ("select", path, "--applicants", REGISTRATIONS),
                         ("withdraw", path, before[0].email, "--yes"), ("apply", path, "--yes")):
                code, _, err = run(capsys, *args)
                assert code == 75, (args, err)
                assert f"is changing offering {OFFERING_ID}" in err and "held by" in err and "pid" in err
            assert writes(sandbox.control.call_counts()) == writes_before
            assert store.participants(OFFERING_ID) == before
            code, doc = run_json(capsys, "enrol", path, "--dry-run")   # reading needs no lock
            assert code == 0 and doc["dry_run"] is True
    code, doc = run_json(capsys, "enrol", path, "--yes")
    assert code == 0 and doc["enrolled"] == 12


COMBINED = str(EXAMPLES / "registrations-combined.csv")
BUCKETS = ("selected", "waitlisted", "not_selected", "not_eligible", "other_programme")


def test_select_combined_form_json_buckets_every_applicant_once(sandbox_env: SandboxServer, store_path: Path,
                                                                capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path) -> None:
    offering = str(EXAMPLES / "offering-kelautan-pesisir.yaml")
    code, doc = run_json(capsys, "select", offering, "--applicants", COMBINED, "--output", str(tmp_path / "out"),
                         "--no-moodle-history")
    assert code == 0
    emails = Counter(e["email"] for b in BUCKETS for e in doc[b])
    assert len(emails) == doc["counts"]["accepted"] == 240 and set(emails.values()) == {1}
    assert all({"email", "regency", "reason"} <= set(e) for b in BUCKETS for e in doc[b])
    assert doc["not_eligible"] and doc["other_programme"] and len(doc["selected"]) == 30
    assert all(e["cause"] == "schools" for e in doc["not_eligible"])
    assert all(e["npsn"] in (EXAMPLES / "sekolah-pesisir.csv").read_text() for e in doc["selected"])
    stored = participants_of(store_path, "laut-2026-pesisir")
    assert len(stored) == 240
    assert all(stored[e["email"]].status == "not_selected" and stored[e["email"]].reason.startswith("not eligible")
               for e in doc["not_eligible"])
    assert all(stored[e["email"]].reason.startswith("chose ") for e in doc["other_programme"])
    lists = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "pengumuman-tidak-memenuhi-syarat.csv" in lists
    text = (tmp_path / "out" / "pengumuman-tidak-memenuhi-syarat.csv").read_text(encoding="utf-8-sig")
    assert "Tidak memenuhi syarat sasaran (sekolah sasaran)" in text
    who = doc["not_eligible"][0]["email"]
    code, out, _ = run(capsys, "select", offering, "--applicants", COMBINED, "--explain", who, "--no-moodle-history")
    assert code == 0 and "Eligibility rule 'schools' excluded them" in out


def test_select_model_schools_first_and_in_their_own_class(sandbox_env: SandboxServer, store_path: Path,
                                                           capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    offering = str(EXAMPLES / "offering-koding-model.yaml")
    code, doc = run_json(capsys, "select", offering, "--applicants", COMBINED, "--output", str(tmp_path / "out"),
                         "--no-moodle-history")
    assert code == 0
    model = [e for e in doc["selected"] if e["cause"] == "model_school"]
    assert Counter(e["npsn"] for e in model) == {"10807001": 6, "10807002": 6}
    assert [e["rank"] for e in model] == list(range(1, 13))
    stored = participants_of(store_path, "koding-2026-model")
    for npsn in ("10807001", "10807002"):
        classes = {(stored[e["email"]].course_key, stored[e["email"]].class_name) for e in model if e["npsn"] == npsn}
        assert len(classes) == 1                                   # one class per model school
        members = [p for p in stored.values() if (p.course_key, p.class_name) in classes]
        assert {p.npsn for p in members} == {npsn}                 # and nobody else in it
    schools = {m["npsn"]: m for m in doc["model_schools"]}
    assert schools["10807001"]["selected"] == 6 and schools["10807001"]["course"] == "metro"
    for e in model:
        assert (schools[e["npsn"]]["course"], schools[e["npsn"]]["class"]) == (
            stored[e["email"]].course_key, stored[e["email"]].class_name)
    assert schools["10807002"]["facilitator"] == "agus.fasilitator@bgtk-lampung.example.org"


def participants_of(store_path: Path, offering_id: str) -> dict[str, Any]:
    with site_store(store_path) as store:
        return {p.email: p for p in store.participants(offering_id)}


MESSY = [
    ("Timestamp;Alamat email;Nama Lengkap;Asal Sekolah;NPSN Sekolah;Kabupaten/Kota;Jenjang;Masa Kerja;"
     "Pilihan Pelatihan;Apakah pernah mengikuti pelatihan ini?"),
    ('01/06/2026 08:02;a1@guru.id;Ani Süsanto;SD N 1 Kota Agung;10801101;Kab. Tanggamus;SD;10 th;'
     '"Literasi Kelautan, Koding untuk Guru";Belum'),
    ('01/06/2026 08:03;a2@guru.id;Budi;SMP 2 Kota Agung;10801102;TANGGAMUS;SMP;> 10 tahun;'
     '"Koding untuk Guru\nLiterasi Kelautan";'),
    "01/06/2026 08:06;a5@guru.id;Eka;SD Z;10801101;Kota Metro;SD;3;Literasi Kelautan;",
    "01/06/2026 08:07;bad-email;Fajar;SD Z;10801101;Tanggamus;SD;3;Literasi Kelautan;",
    ";;;;;;;;;",
]


def test_select_a_messy_export_accounts_for_every_row_and_serves_only_the_offerings_regencies(
        sandbox_env: SandboxServer, store_path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    form = tmp_path / "form.csv"
    form.write_bytes("\r\n".join(MESSY).encode("cp1252"))
    offering = str(EXAMPLES / "offering-kelautan-pesisir.yaml")         # a single course for 8 regencies
    code, doc = run_json(capsys, "select", offering, "--applicants", str(form), "--dry-run", "--no-moodle-history")
    assert code == 0
    counts = doc["counts"]
    assert counts["rows"] == 4 == counts["accepted"] + counts["superseded"] + counts["rejected"]
    assert doc["rejected"] == [{"file": str(form), "row": 5, "field": "email",
                                "reason": "'bad-email' is not a valid e-mail address"}]
    placed = {e["email"]: (b, e) for b in BUCKETS for e in doc[b]}
    assert len(placed) == sum(len(doc[b]) for b in BUCKETS) == counts["accepted"] == 3
    assert placed["a5@guru.id"][0] == "not_selected" and placed["a5@guru.id"][1]["cause"] == "regency_not_offered"
    assert {placed[e][0] for e in ("a1@guru.id", "a2@guru.id")} == {"selected"}   # a multi-select choice
    assert doc["warnings"] == []
    assert placed["a2@guru.id"][1]["file"] == str(form) and placed["a2@guru.id"][1]["row"] == 3


# model schools: the school's facilitator leads the school's class ----------------------------------

RINA, AGUS = "rina.fasilitator@bgtk-lampung.example.org", "agus.fasilitator@bgtk-lampung.example.org"


def model_offering(folder: Path, **changes: Any) -> Path:
    """The model-school example with a facilitators CSV giving Agus (a model school's facilitator) another
    class of the same course too."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    document = yaml.safe_load((EXAMPLES / "offering-koding-model.yaml").read_text("utf-8"))
    document.update(facilitators="fasilitator.csv", **changes)
    (folder / "fasilitator.csv").write_text(f"email,name,course,class\n{AGUS},Agus Salim,pringsewu,B\n", "utf-8")
    path = folder / "offering.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def facilitator_of(moodle: Moodle, course_idnumber: str, email: str) -> tuple[list[str], set[str]]:
    """The roles and the group names of ``email`` in a course."""
    course = moodle.courses_by_field("idnumber", course_idnumber)[0]
    names = {g.id: g.name for g in moodle.groups(course.id)}
    user = next(u for u in moodle.enrolled_users(course.id) if u.email == email)
    return list(user.roles), {names[g] for g in user.groups}


def test_enrol_makes_each_model_schools_facilitator_lead_its_class_and_a_rerun_changes_nothing(
        sandbox_env: SandboxServer, store_path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        moodle: Moodle) -> None:
    # Two classes per course from the start: the selection's classes all exist when enrol runs.
    path = str(model_offering(tmp_path / "offering", classes_per_course=2))
    assert run(capsys, "apply", path, "--yes", "--quiet")[0] == 0
    code, doc = run_json(capsys, "select", path, "--applicants", COMBINED, "--no-moodle-history")
    assert code == 0
    where = {m["npsn"]: (m["course"], m["class"]) for m in doc["model_schools"]}
    assert where == {"10807001": ("metro", "Kelas Metro A"), "10807002": ("pringsewu", "Kelas Pringsewu A")}
    code, plan = run_json(capsys, "plan", path)
    pending = {(a["kind"], a["key"]) for a in plan["actions"] if a["op"] == "create"}
    assert {("user", RINA), ("enrolment", f"metro / {RINA}"),
            ("member", f"metro / {RINA} in Kelas Metro A"),
            ("member", f"pringsewu / {AGUS} in Kelas Pringsewu A")} <= pending            # plan shows them
    assert run_json(capsys, "enrol", path, "--yes")[1]["failed"] == []
    assert facilitator_of(moodle, "koding-2026-model-metro", RINA) == (["editingteacher"], {"Kelas Metro A"})
    assert facilitator_of(moodle, "koding-2026-model-pringsewu", AGUS) == (
        ["editingteacher"], {"Kelas Pringsewu A", "Kelas Pringsewu B"})                   # the CSV's class kept
    user = moodle.users_by_field("email", [RINA])[0]
    assert (user.firstname, user.lastname) == ("Rina", "Fasilitator")
    assert run(capsys, "apply", path, "--yes", "--quiet")[0] == 0     # the summary names the new facilitator
    assert run_json(capsys, "plan", path)[0] == 0
    code, doc = run_json(capsys, "enrol", path, "--yes")
    assert code == 0 and doc["groups_created"] == 0


def test_select_warns_of_an_eligibility_rule_no_applicant_matches(sandbox_env: SandboxServer, store_path: Path,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    for name in ("offering-kelautan-pesisir.yaml", "sekolah-pesisir.csv"):
        (tmp_path / name).write_bytes((EXAMPLES / name).read_bytes())
    offering = tmp_path / "offering-kelautan-pesisir.yaml"
    text = offering.read_text(encoding="utf-8")
    offering.write_text(text.replace("    schools: sekolah-pesisir.csv", "    schools: sekolah-pesisir.csv\n"
                                     "    subjects: [Guru Olahraga]"), encoding="utf-8")
    code, doc = run_json(capsys, "select", str(offering), "--applicants", COMBINED, "--dry-run",
                         "--no-moodle-history")
    assert code == 0 and len(doc["warnings"]) == 1
    assert doc["warnings"][0].startswith("applicants.eligible.subjects: no applicant's answer matches 'Guru Olahraga'")
    assert not doc["selected"] and all(e["cause"] in ("schools", "subjects") for e in doc["not_eligible"])
    code, out, _ = run(capsys, "select", str(offering), "--applicants", COMBINED, "--dry-run", "--no-moodle-history")
    assert code == 0 and "warning: applicants.eligible.subjects" in out


def test_explain_a_person_whose_row_was_rejected_names_file_row_and_field(
        sandbox_env: SandboxServer, store_path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    form = tmp_path / "form.csv"
    rows = MESSY[:2] + ["01/06/2026 08:07;guru@gmail.con;Fajar;SD Z;10801101;Tanggamus;SD;3;Literasi Kelautan;"]
    form.write_bytes("\r\n".join(rows).encode("cp1252"))
    offering = str(EXAMPLES / "offering-kelautan-pesisir.yaml")
    code, out, _ = run(capsys, "select", offering, "--applicants", str(form), "--explain", "guru@gmail.con",
                       "--no-moodle-history")
    assert code == 0 and f"{form} row 3: rejected, email:" in out and "typo of gmail.com" in out
    code, out, err = run(capsys, "select", offering, "--applicants", str(form), "--explain", "nobody@x.id",
                         "--no-moodle-history")
    assert code == 1 and "not among the applicants" in err
