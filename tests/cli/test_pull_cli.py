"""``moodle-sync pull`` and ``schedule`` against the sandbox: full then incremental pulls, what makes an
incremental pull re-read an enrolment, the report-builder path, the lock, the log, the schedule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.config import default_data_dir
from moodle_sync.sandbox import SandboxServer
from moodle_sync.store import Store, site_key
from moodle_sync.store.locks import pull_lock
from moodle_sync.ws import connect
from moodle_sync.ws.moodle import Moodle
from tests.store.conftest import PG_URL, _pg_schema

from .conftest import run, run_json, site_store, small_offering

EXAMPLES = Path(__file__).parents[2] / "examples"
OFFERING_ID = "koding-2026-a1"
# The tracked activities of MASTER-KODING, imported into every course (see moodle_sync/sandbox/seed.py).
ACTIVITIES = ["panduan", "pretest", "materi-1", "tugas-1", "materi-2", "tugas-2", "materi-3", "tugas-3",
              "posttest", "refleksi"]
PER_ENROLMENT = ("core_completion_get_course_completion_status",
                 "core_completion_get_activities_completion_status")




def pull(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    got, out, err = run(capsys, "pull", *args, "--json")
    assert got == code, out + err
    return json.loads(out)




@pytest.fixture
def moodle(sandbox: SandboxServer) -> Iterator[Moodle]:
    m = connect(sandbox.url, sandbox.token)
    yield m
    m.client.close()


@pytest.fixture
def enrolled(sandbox_env: SandboxServer, store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The small offering provisioned, its 12 selected participants enrolled."""
    path = str(small_offering(tmp_path / "offering"))
    assert run(capsys, "apply", path, "--yes", "--quiet")[0] == 0
    assert run(capsys, "select", path, "--applicants", str(EXAMPLES / "registrations.csv"), "--quiet")[0] == 0
    assert run(capsys, "enrol", path, "--yes", "--quiet")[0] == 0
    return path


def course_id(moodle: Moodle, key: str) -> int:
    return moodle.courses_by_field("idnumber", f"{OFFERING_ID}-{key}")[0].id


def student_ids(moodle: Moodle, key: str) -> list[int]:
    return sorted(u.id for u in moodle.enrolled_users(course_id(moodle, key)) if "student" in u.roles)


def current(store_path: Path) -> dict[int, Any]:
    with site_store(store_path) as store:
        return {s.user_id: s for s in store.current(OFFERING_ID)}


def per_enrolment_calls(sandbox: SandboxServer) -> int:
    """Calls made for single enrolments (whole-course reads excluded)."""
    counts = sandbox.control.call_counts()
    return sum(counts.get(f, 0) for f in PER_ENROLMENT)


def completion_reads(sandbox: SandboxServer) -> int:
    """How many enrolments had their course completion read (one call each)."""
    return sandbox.control.call_counts().get("core_completion_get_course_completion_status", 0)


def test_first_pull_reads_everything_then_nothing(enrolled: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                                  sandbox: SandboxServer) -> None:
    first = pull(capsys)
    assert first["offerings"] == [OFFERING_ID] and first["mode"] == "full" and first["status"] == "ok"
    assert first["enrolments"] == 12 and first["reread"] == 12 and first["changed"] == 12
    assert first["errors"] == []
    assert completion_reads(sandbox) == 12
    calls = per_enrolment_calls(sandbox)
    snapshots = current(store_path)
    assert len(snapshots) == 12
    assert all(s.activities_total == len(ACTIVITIES) and s.activities_done == 0 and not s.completed
               for s in snapshots.values())
    assert {s.class_name for s in snapshots.values()} == {"Kelas Metro A", "Kelas Pesawaran A"}
    assert {s.regency for s in snapshots.values()} == {"metro", "pesawaran"}

    second = pull(capsys)
    assert (second["enrolments"], second["reread"], second["changed"]) == (12, 0, 0)
    assert per_enrolment_calls(sandbox) == calls       # nothing re-read
    assert second["mode"] == "incremental"
    # only the whole-course reads are left (the first, full, pull also read each course's contents)
    assert second["calls"] == first["calls"] - calls - 2
    code, out, _ = run(capsys, "pull")
    assert code == 0 and "12 enrolments, 0 re-read, 0 changed" in out
    by_file = pull(capsys, enrolled)                      # OFFERING as its file, as other commands take it
    assert by_file["offerings"] == [OFFERING_ID] and by_file["sites"][0]["offerings"] == [OFFERING_ID]


def test_a_grade_by_a_teacher_rereads_exactly_that_enrolment(enrolled: str, store_path: Path,
                                                             capsys: pytest.CaptureFixture[str], sandbox: SandboxServer,
                                                             moodle: Moodle) -> None:
    pull(capsys)
    cid = course_id(moodle, "metro")
    graded = student_ids(moodle, "metro")[2]
    sandbox.control.set_grade(cid, graded, "pretest", 7.5)
    reads = completion_reads(sandbox)
    after = pull(capsys)
    assert after["reread"] == 1 and after["changed"] == 1
    assert completion_reads(sandbox) == reads + 1       # that enrolment only
    snapshots = current(store_path)
    assert snapshots[graded].pretest_grade == 7.5 and snapshots[graded].pretest_max == 10.0
    assert all(s.pretest_grade is None for u, s in snapshots.items() if u != graded)
    assert pull(capsys)["reread"] == 0


def test_completion_is_picked_up_after_cron(enrolled: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                            sandbox: SandboxServer, moodle: Moodle) -> None:
    pull(capsys)
    cid = course_id(moodle, "pesawaran")
    finisher = student_ids(moodle, "pesawaran")[0]
    sandbox.control.record_access(cid, finisher)      # the participant works in the course
    for idnumber in ACTIVITIES:
        sandbox.control.complete_activity(cid, finisher, idnumber)
    doc = pull(capsys)
    assert doc["reread"] == 1
    snap = current(store_path)[finisher]
    assert snap.activities_done == snap.activities_total == len(ACTIVITIES)
    assert not snap.completed                          # Moodle's cron has not run yet

    assert sandbox.control.run_cron() == 1             # no visit since: only the "all done" rule re-reads
    doc = pull(capsys)
    assert doc["reread"] == 1 and doc["changed"] == 1
    snap = current(store_path)[finisher]
    assert snap.completed and snap.time_completed
    assert pull(capsys)["reread"] == 0                 # complete: not read again
    assert sum(s.completed for s in current(store_path).values()) == 1


def test_dry_run_says_what_changed_and_saves_nothing(enrolled: str, store_path: Path,
                                                     capsys: pytest.CaptureFixture[str], sandbox: SandboxServer,
                                                     moodle: Moodle) -> None:
    doc = pull(capsys, "--dry-run")
    assert (doc["enrolments"], doc["reread"], doc["changed"]) == (12, 12, 12)
    assert current(store_path) == {}
    with site_store(store_path) as store:
        assert store.runs() == []
    pull(capsys)
    sandbox.control.set_grade(course_id(moodle, "metro"), student_ids(moodle, "metro")[0], "posttest", 9.0)
    doc = pull(capsys, "--dry-run")
    assert (doc["reread"], doc["changed"]) == (1, 1)
    assert all(s.posttest_grade is None for s in current(store_path).values())
    code, out, _ = run(capsys, "pull", "--dry-run")
    assert code == 0 and out.startswith("Dry run: would pull") and "1 changed" in out
    assert pull(capsys)["changed"] == 1                # the real pull still sees the change


def test_full_rereads_everything(enrolled: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                 sandbox: SandboxServer) -> None:
    pull(capsys)
    doc = pull(capsys, "--full")
    assert doc["mode"] == "full" and doc["reread"] == 12 and doc["changed"] == 0
    assert completion_reads(sandbox) == 24
    with site_store(store_path) as store:
        runs = store.runs()
        assert [r.mode for r in runs[:2]] == ["full", "full"]   # the first pull of an offering is full
        assert all(r.status == "ok" for r in runs)


def test_report_builder_path_gives_the_same_completions(enrolled: str, store_path: Path,
                                                        capsys: pytest.CaptureFixture[str], sandbox: SandboxServer,
                                                        moodle: Moodle) -> None:
    for key, finishers in (("metro", 3), ("pesawaran", 1)):
        cid = course_id(moodle, key)
        for uid in student_ids(moodle, key)[:finishers]:
            sandbox.control.record_access(cid, uid)
            for idnumber in ACTIVITIES:
                sandbox.control.complete_activity(cid, uid, idnumber)
        sandbox.control.complete_activity(cid, student_ids(moodle, key)[-1], "panduan")   # one started
    sandbox.control.run_cron()
    per_user = pull(capsys, "--full")
    by_user = {u: (s.completed, s.activities_done > 0) for u, s in current(store_path).items()}
    assert sum(c for c, _ in by_user.values()) == 4

    report_id = sandbox.control.create_participants_report()
    calls = per_enrolment_calls(sandbox)
    doc = pull(capsys, "--report-id", str(report_id))
    assert doc["mode"] == "report" and doc["status"] == "ok" and doc["enrolments"] == per_user["enrolments"]
    assert per_enrolment_calls(sandbox) == calls       # no per-enrolment reads
    assert sandbox.control.call_counts()["core_reportbuilder_retrieve_report"] >= 1
    from_report = current(store_path)
    assert {u: (s.completed, s.activities_done > 0) for u, s in from_report.items()} == by_user
    assert all(s.time_completed for s in from_report.values() if s.completed)


def test_a_second_pull_while_one_runs_exits_75(enrolled: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                               sandbox: SandboxServer) -> None:
    with site_store(store_path) as other, pull_lock(other):   # another user's pull of the site into the store
        code, _, err = run(capsys, "pull")
    assert code == 75
    assert "another pull is running" in err
    assert per_enrolment_calls(sandbox) == 0
    with site_store(store_path) as store:
        assert store.runs() == []
    assert pull(capsys)["status"] == "ok"              # the lock is free again


def test_the_run_is_logged_without_the_token(enrolled: str, store_path: Path, capsys: pytest.CaptureFixture[str],
                                             sandbox: SandboxServer, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "pull.log"
    doc = pull(capsys, "--log", str(log))
    text = log.read_text("utf-8")
    assert f"run {doc['run_id']} full: ok, 12 enrolments, 12 re-read" in text
    assert sandbox.token not in text
    pull(capsys)
    assert "run" in (default_data_dir() / "pull.log").read_text("utf-8")


def test_pull_with_nothing_to_pull(sandbox_env: SandboxServer, store_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "pull")
    assert code == 0 and "No offerings in the store yet" in err
    doc = pull(capsys, "not-there", code=1)
    assert doc["status"] == "partial" and doc["errors"] == ["not-there: not in the store (apply it first)"]
    code, out, _ = run(capsys, "pull", "not-there")
    assert code == 1 and "not-there: not in the store" in out


def test_schedule_prints_cron_and_systemd_units(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_TOKEN", "sch3dul3-t0k3n-never-printed")
    code, out, _ = run(capsys, "schedule")
    assert code == 0
    assert "\n0 * * * * " in out and " pull --quiet" in out
    assert "[Service]" in out and "ExecStart=" in out and "SuccessExitStatus=75" in out
    assert "[Timer]" in out and "OnCalendar=*-*-* *:00:00" in out and "Persistent=true" in out
    code, out, _ = run(capsys, "schedule", "--every", "30", "--profile-name", "bgtk", "--json")
    doc = json.loads(out)
    assert doc["crontab"].startswith("*/30 * * * * ") and "--profile bgtk pull --quiet" in doc["crontab"]
    assert "pull" in doc["systemd_service"] and "OnCalendar=*-*-* *:00/30:00" in doc["systemd_timer"]
    assert "sch3dul3-t0k3n-never-printed" not in out
    code, _, err = run(capsys, "schedule", "--every", "2")
    assert code == 2 and "at least 5 minutes" in err


@pytest.mark.parametrize("minutes, cron, calendar", [
    (15, "*/15 * * * *", "*-*-* *:00/15:00"),       # :00 :15 :30 :45, both
    (120, "0 */2 * * *", "*-*-* 00/2:00:00"),       # 00:00 02:00 ..., both
    (1440, "0 0 * * *", "*-*-* 00:00:00"),
])
def test_cron_and_the_timer_fire_at_the_same_moments(capsys: pytest.CaptureFixture[str], minutes: int, cron: str,
                                                     calendar: str) -> None:
    code, doc = run_json(capsys, "schedule", "--every", str(minutes))
    assert code == 0 and doc["crontab"].startswith(cron + " ") and f"OnCalendar={calendar}\n" in doc["systemd_timer"]
    assert "OnUnitActiveSec" not in doc["systemd_timer"]


@pytest.mark.parametrize("minutes", [45, 90, 100, 420])
def test_schedule_refuses_what_cron_cannot_say(capsys: pytest.CaptureFixture[str], minutes: int) -> None:
    # */45 fires at :00 and :45 (15 minutes apart), an hourly line beside a 90-minute timer disagrees
    code, out, err = run(capsys, "schedule", "--every", str(minutes))
    assert code == 2 and out == ""
    assert f"--every {minutes}: cron cannot run a command every {minutes} minutes" in err
    assert "(5, 6, 10, 12, 15, 20, 30, 60)" in err and "(120, 180, 240, 360, 480, 720, 1440)" in err


def test_schedule_carries_the_global_options_into_every_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text('[profiles.a]\nurl = "https://a.example"\n\n[profiles.b]\nurl = "https://b.example"\n')
    offering = EXAMPLES / "offering-koding.yaml"
    code, doc = run_json(capsys, "--config", "config.toml", "--store", "data/ev 1.sqlite", "--profile", "a",
                         "schedule", "--every", "15", "--followup", str(offering))
    assert code == 0
    pull_line, followup_line = doc["crontab"].splitlines()
    assert f"--config {config} --profile a --store '{tmp_path / 'data' / 'ev 1.sqlite'}' pull --quiet" in pull_line
    assert f"--config {config} --profile a --store '{tmp_path / 'data' / 'ev 1.sqlite'}' followup {offering}" \
        in followup_line
    assert followup_line.startswith("0 7 * * 1 ") and followup_line.endswith("--send moodle --yes --quiet  # moodle-sync: weekly follow-up")
    assert "ExecStart=" + doc["pull_command"] in doc["systemd_service"]
    assert "MOODLE_URL and MOODLE_TOKEN" in doc["systemd_service"]


def test_schedule_of_several_sites(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.a]\nurl = "https://a.example"\n\n[profiles.lampung-b]\nurl = "https://b.example"\n')
    code, doc = run_json(capsys, "--config", str(config), "schedule", "--all-profiles")
    assert code == 0 and doc["pull_command"].endswith(f"--config {config} pull --all-profiles --quiet")
    assert "MOODLE_TOKEN_A, MOODLE_TOKEN_LAMPUNG_B (one per profile, not MOODLE_TOKEN)" in doc["systemd_service"]
    code, doc = run_json(capsys, "--config", str(config), "schedule", "--profile", "a", "--profile", "lampung-b")
    assert code == 0 and doc["pull_command"].endswith("pull --profile a --profile lampung-b --quiet")
    code, _, err = run(capsys, "--config", str(config), "schedule", "--all-profiles", "--followup",
                       str(EXAMPLES / "offering-koding.yaml"))
    assert code == 2 and "name the follow-up's site with the global option" in err
    code, doc = run_json(capsys, "--config", str(config), "--profile", "a", "schedule", "--all-profiles",
                         "--followup", str(EXAMPLES / "offering-koding.yaml"))
    assert code == 0 and " --profile a followup " in doc["crontab"].splitlines()[1]


def test_schedule_leaves_secrets_and_cron_specials_out(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "--store", "postgresql+psycopg://ev:pa%25ss@db.example/ev", "schedule")
    assert code == 0 and "pa%25ss" not in json.dumps(doc) and "pa%ss" not in json.dumps(doc)
    assert "--store postgresql+psycopg://ev@db.example/ev pull" in doc["crontab"]
    code, doc = run_json(capsys, "--store", "/srv/100%/ev.sqlite", "schedule")
    assert "--store /srv/100\\%/ev.sqlite pull" in doc["crontab"]          # cron ends a command at a bare %
    assert "ExecStart=" in doc["systemd_service"] and "/srv/100%%/ev.sqlite" in doc["systemd_service"]


def test_stale_hours_zero_rereads_every_incomplete_enrolment(enrolled: str, store_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    pull(capsys)
    assert pull(capsys, "--stale-hours", "0")["reread"] == 12


def test_grades_on_activity_skips_the_grade_reports_of_quiet_courses(enrolled: str, store_path: Path,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     sandbox: SandboxServer, moodle: Moodle,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pull(capsys)
    reports = lambda: sandbox.control.call_counts().get("gradereport_user_get_grade_items", 0)
    before = reports()
    assert pull(capsys, "--grades", "on-activity")["reread"] == 0
    assert reports() == before                                  # nobody opened a course: no grade report
    monkeypatch.setenv("MOODLE_SYNC_PULL_GRADES", "on-activity")  # the same, from the setting
    cid = course_id(moodle, "metro")
    sandbox.control.record_access(cid, student_ids(moodle, "metro")[0])
    assert pull(capsys)["reread"] == 1
    assert reports() == before + 1                              # only the course someone visited


def test_stats_show_wall_time_beside_summed_call_time(enrolled: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "pull", "--stats")
    assert code == 0
    assert "s summed (concurrent), in " in err and "s wall time" in err
    doc = pull(capsys, "--stats")
    assert doc["stats"]["wall_seconds"] > 0 and doc["stats"]["total_calls"] == doc["calls"]


# several sites into one store ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def second_server() -> Iterator[SandboxServer]:
    """A second fake Moodle (its own state and tokens; the same seed, so the same course and user ids)."""
    with SandboxServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def two_sites(request: pytest.FixtureRequest, sandbox: SandboxServer, second_server: SandboxServer, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[TwoSites]:
    """Profiles a (the session's sandbox) and b (a second one), each with its token in MOODLE_TOKEN_<NAME>,
    the same offering applied, selected and enrolled on both, one store (SQLite, or PostgreSQL)."""
    second_server.control.reset()
    monkeypatch.chdir(tmp_path)
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("set MOODLE_SYNC_TEST_PG_URL to pull into PostgreSQL")
    stores = _pg_schema(PG_URL) if request.param == "postgresql" and PG_URL else \
        iter([f"sqlite:///{tmp_path / 'data' / 'store.sqlite'}"])
    for store in stores:
        config = tmp_path / "config.toml"
        config.write_text(f'[profiles.a]\nurl = "{sandbox.url}"\n\n[profiles.b]\nurl = "{second_server.url}"\n')
        for name, value in (("MOODLE_SYNC_CONFIG", str(config)), ("MOODLE_SYNC_STORE", store),
                            ("MOODLE_TOKEN_A", sandbox.token), ("MOODLE_TOKEN_B", second_server.token)):
            monkeypatch.setenv(name, value)
        offering = str(small_offering(tmp_path / "offering"))
        for profile in ("a", "b"):
            for args in (("apply", offering, "--yes"), ("select", offering, "--applicants",
                                                          str(EXAMPLES / "registrations.csv")), ("enrol", offering, "--yes")):
                assert run(capsys, "--profile", profile, *args, "--quiet")[0] == 0, (profile, args)
        yield TwoSites(store, offering, {"a": sandbox, "b": second_server}, monkeypatch)


@dataclass
class TwoSites:
    store: str
    offering: str
    servers: dict[str, SandboxServer]
    monkeypatch: pytest.MonkeyPatch

    def site_id(self, profile: str) -> str:
        return site_key(self.servers[profile].url)

    def current(self, profile: str) -> dict[int, Any]:
        with Store.open(self.store) as store:
            return {s.user_id: s for s in store.for_site(self.site_id(profile)).current(OFFERING_ID)}

    def record_tokens(self) -> dict[str, list[str | None]]:
        """From now on, the token of every call each site gets."""
        seen: dict[str, list[str | None]] = {}
        for profile, server in self.servers.items():
            calls = seen.setdefault(profile, [])

            def ws_call(token: str | None, function: str | None, params: Any, *,
                        calls: list[str | None] = calls, original: Any = server.ws_call) -> Any:
                calls.append(token)
                return original(token, function, params)

            self.monkeypatch.setattr(server, "ws_call", ws_call)
        return seen


def test_two_sites_with_the_same_offering_go_into_one_store_apart(two_sites: TwoSites,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    b = two_sites.servers["b"]
    moodle = connect(b.url, b.token)     # on site b only, someone finishes the course
    cid, uid = course_id(moodle, "metro"), student_ids(moodle, "metro")[0]
    moodle.client.close()
    b.control.record_access(cid, uid)
    for idnumber in ACTIVITIES:
        b.control.complete_activity(cid, uid, idnumber)
    b.control.run_cron()
    tokens = two_sites.record_tokens()
    code, doc = run_json(capsys, "pull", "--all-profiles", two_sites.offering)     # OFFERING as its file
    assert code == 0 and doc["status"] == "ok", doc
    assert [(s["profile"], s["site_id"], s["status"], s["offerings"], s["mode"], s["enrolments"]) for s in doc["sites"]] \
        == [("a", two_sites.site_id("a"), "ok", [OFFERING_ID], "full", 12),
            ("b", two_sites.site_id("b"), "ok", [OFFERING_ID], "full", 12)]
    assert doc["enrolments"] == 24 and doc["calls"] == sum(s["calls"] for s in doc["sites"])
    assert set(tokens["a"]) == {two_sites.servers["a"].token}       # each site saw its own token only
    assert set(tokens["b"]) == {b.token} and len(tokens["a"]) > 10 and len(tokens["b"]) > 10
    a_now, b_now = two_sites.current("a"), two_sites.current("b")
    assert set(a_now) == set(b_now) and len(a_now) == 12            # the same user ids on both sites...
    assert not any(s.completed for s in a_now.values())             # ...and neither overwrote the other
    assert [u for u, s in b_now.items() if s.completed] == [uid]
    code, out, _ = run(capsys, "pull", "--profile", "a", "--profile", "b")
    assert code == 0 and out.startswith("Pull of 2 sites into one store: ok in ")
    assert f"  b ({two_sites.site_id('b')}): Pull " in out and "(incremental) of koding-2026-a1: ok. 12 enrolments" in out
    assert [u for u, s in two_sites.current("b").items() if s.completed] == [uid]


def test_one_site_busy_the_other_is_pulled(two_sites: TwoSites, capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open(two_sites.store) as store, pull_lock(store.for_site(two_sites.site_id("a"))):
        code, doc = run_json(capsys, "pull", "--all-profiles")
    assert code == 75 and doc["status"] == "busy"
    a, b = doc["sites"]
    assert (a["status"], a["exit_code"], a["enrolments"]) == ("busy", 75, 0) and "another pull is running" in a["errors"][0]
    assert (b["status"], b["enrolments"]) == ("ok", 12)
    assert two_sites.current("a") == {} and len(two_sites.current("b")) == 12
    code, doc = run_json(capsys, "pull", "--all-profiles")         # the lock is free again
    assert code == 0 and [s["mode"] for s in doc["sites"]] == ["full", "incremental"]


def test_a_shared_token_or_url_is_refused_for_several_sites(two_sites: TwoSites, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = two_sites.record_tokens()
    monkeypatch.setenv("MOODLE_TOKEN", two_sites.servers["a"].token)
    code, out, err = run(capsys, "pull", "--all-profiles")
    assert code == 2 and "MOODLE_TOKEN names one site, but 2 profiles are given (a, b)" in err
    assert "MOODLE_TOKEN_A, MOODLE_TOKEN_B" in err and two_sites.servers["a"].token not in out + err
    monkeypatch.delenv("MOODLE_TOKEN")
    code, _, err = run(capsys, "--url", two_sites.servers["a"].url, "pull", "--profile", "a", "--profile", "b")
    assert code == 2 and "--url names one site" in err
    assert tokens == {"a": [], "b": []}                             # nothing was sent anywhere
    code, _, err = run(capsys, "pull", "--all-profiles", "--report-id", "3")
    assert code == 2 and "--report-id names one site's report" in err


def test_a_site_without_its_token_fails_alone(two_sites: TwoSites, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOODLE_TOKEN_B")
    code, doc = run_json(capsys, "pull", "--all-profiles")
    assert code == 2 and doc["status"] == "failed"
    a, b = doc["sites"]
    assert (a["status"], a["enrolments"]) == ("ok", 12)
    assert (b["status"], b["exit_code"]) == ("failed", 2) and "no web-service token for profile 'b'" in b["errors"][0]


def test_profiles_naming_different_stores_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.a]\nurl = "https://a.example"\nstore = "a.sqlite"\n\n'
                      '[profiles.b]\nurl = "https://b.example"\nstore = "b.sqlite"\n')
    code, _, err = run(capsys, "--config", str(config), "pull", "--all-profiles")
    assert code == 2 and "the profiles name different stores" in err and "give it with --store" in err
