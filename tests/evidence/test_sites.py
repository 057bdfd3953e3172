"""Several sites pulled into one store (moodle_sync.evidence.sites): each site with its own client and its own
store binding, under its own lock; one site busy, failing or crashing never stops the others; the worst
status is the pull's. The pull of one site (evidence.pull.pull_offerings) is replaced by a recorder here: the
sandbox tests in tests/cli/test_pull_cli.py run the real one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from moodle_sync.evidence import sites as sites_module
from moodle_sync.evidence.pull import PullOutcome
from moodle_sync.evidence.sites import (
    PullOptions,
    SiteJob,
    SiteOutcome,
    SitesOutcome,
    _Clients,
    pull_site,
    pull_sites,
)
from moodle_sync.exceptions import ConfigError, InvalidTokenError, RunHaltedError
from moodle_sync.store import Store
from moodle_sync.store.locks import pull_lock

OFFERING = "koding-2026-a1"


@dataclass
class Pulls:
    """What the replaced pull_offerings was asked: (client name, site id, offering ids, options)."""

    calls: list[tuple[str, str, list[str], dict[str, Any]]] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)        # site id -> the status its run ends with
    hook: dict[str, Any] = field(default_factory=dict)          # site id -> called before answering
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, moodle: Any, store: Any, ids: list[str], **options: Any) -> PullOutcome:
        with self.lock:
            self.calls.append((moodle.name, store.site_id, list(ids), options))
        if store.site_id in self.hook:
            self.hook[store.site_id]()
        status = self.status.get(store.site_id, "ok")
        return PullOutcome(len(self.calls), "full", status, 12, 12, 40, 0.5, 3,
                           [] if status == "ok" else [f"{ids[0]}/metro: course not found"])


@pytest.fixture
def pulls(monkeypatch: pytest.MonkeyPatch) -> Pulls:
    recorder = Pulls()
    monkeypatch.setattr(sites_module, "pull_offerings", recorder)
    return recorder


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """One store holding two sites with the same offering id, and a third site with none."""
    with Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}") as opened:
        for url, name in (("https://lms.a.example/moodle", "A"), ("https://lms.b.example", "B"),
                          ("https://lms.c.example", "C")):
            opened.register_site(url, name)
        for site in ("lms.a.example/moodle", "lms.b.example"):
            opened.for_site(site).save_offering(OFFERING, "koding", f"Koding {site}", {"courses": []})
        opened.for_site("lms.b.example").save_offering("only-b", "koding", "Only on B", {"courses": []})
        yield opened


def client(name: str) -> Any:
    """A stand-in for a site's Moodle: its name, and a client that can be halted."""
    halted: list[BaseException] = []
    return SimpleNamespace(name=name, client=SimpleNamespace(halt=halted.append, halted=halted))


def job(store: Store, site: str, profile: str, opened: list[str] | None = None, **options: Any) -> SiteJob:
    """The job of ``site`` in ``store``; ``opened`` records each client the job opens."""
    def moodle() -> Any:
        if opened is not None:
            opened.append(profile)
        return client(profile)

    return SiteJob(profile, lambda: store.for_site(site), moodle, PullOptions(**options))


def test_each_site_pulls_its_own_offerings_with_its_own_client_and_options(store: Store, pulls: Pulls) -> None:
    jobs = [job(store, "lms.a.example/moodle", "a", report_id=12, grades="on-activity"),
            job(store, "lms.b.example", "b", student_role_id=7)]
    outcome = pull_sites(jobs, workers=2)
    calls = sorted(pulls.calls, key=lambda c: c[0])
    assert [(c[0], c[1], c[2]) for c in calls] == [("a", "lms.a.example/moodle", [OFFERING]),
                                                   ("b", "lms.b.example", [OFFERING, "only-b"])]
    assert (calls[0][3]["report_id"], calls[0][3]["grades"], calls[0][3]["student_role_id"]) == (12, "on-activity", 5)
    assert (calls[1][3]["report_id"], calls[1][3]["student_role_id"]) == (None, 7)
    assert [s.profile for s in outcome.sites] == ["a", "b"]            # the jobs' order, whoever finished first
    assert [s.site_id for s in outcome.sites] == ["lms.a.example/moodle", "lms.b.example"]
    assert (outcome.status, outcome.exit_code) == ("ok", 0)
    document = outcome.to_dict()
    assert document["status"] == "ok" and document["enrolments"] == 24 and document["calls"] == 80
    assert document["sites"][1] == {"profile": "b", "site_id": "lms.b.example", "status": "ok", "exit_code": 0,
                                    "offerings": [OFFERING, "only-b"], "run_id": document["sites"][1]["run_id"],
                                    "mode": "full", "enrolments": 12, "reread": 12, "changed": 3, "calls": 40,
                                    "seconds": 0.5, "errors": []}


def test_a_busy_site_is_reported_busy_and_the_others_are_pulled(store: Store, pulls: Pulls) -> None:
    jobs = [job(store, "lms.a.example/moodle", "a"), job(store, "lms.b.example", "b")]
    with pull_lock(store.for_site("lms.a.example/moodle")):            # another pull of site A into this store
        outcome = pull_sites(jobs, workers=2)
    a, b = outcome.sites
    assert (a.status, a.exit_code, a.run_id) == ("busy", 75, 0) and "another pull is running" in a.errors[0]
    assert (b.status, b.exit_code) == ("ok", 0)
    assert [c[0] for c in pulls.calls] == ["b"]
    assert (outcome.status, outcome.exit_code) == ("busy", 75)
    with pull_lock(store.for_site("lms.b.example")):                   # B's lock is B's only
        assert pull_site(jobs[0], ()).status == "ok"


def test_the_worst_status_gives_the_exit_code() -> None:
    def site(status: str, code: int) -> SiteOutcome:
        return SiteOutcome("p", status=status, exit_code=code)

    assert SitesOutcome([site("ok", 0), site("busy", 75)]).exit_code == 75
    assert SitesOutcome([site("busy", 75), site("partial", 1)]).exit_code == 1     # a problem outranks busy
    assert SitesOutcome([site("partial", 1), site("failed", 2), site("failed", 1)]).exit_code == 2
    assert SitesOutcome([site("failed", 3), site("interrupted", 130)]).status == "interrupted"
    assert SitesOutcome([site("ok", 0)], errors=["x: not in the store"]).exit_code == 1
    assert SitesOutcome([site("ok", 0)], errors=["x: not in the store"]).status == "partial"


def test_a_site_that_fails_or_crashes_fails_alone(store: Store, pulls: Pulls) -> None:
    def no_token() -> Any:
        raise ConfigError("no web-service token for profile 'c'")

    def wrong_token() -> Any:
        raise InvalidTokenError("core_webservice_get_site_info", "invalidtoken", "Invalid token - token not found")

    def crash() -> None:
        raise RuntimeError("a bug")

    pulls.hook["lms.b.example"] = crash
    pulls.status["lms.a.example/moodle"] = "partial"
    jobs = [job(store, "lms.a.example/moodle", "a"), job(store, "lms.b.example", "b"),
            SiteJob("c", no_token, no_token), SiteJob("d", wrong_token, wrong_token)]
    outcome = pull_sites(jobs, workers=4)
    got = {s.profile: (s.status, s.exit_code) for s in outcome.sites}
    assert got == {"a": ("partial", 1), "b": ("failed", 3), "c": ("failed", 2), "d": ("failed", 1)}
    assert outcome.sites[1].errors == ["crashed: RuntimeError('a bug') (a bug: the log has the details)"]
    assert outcome.sites[2].errors == ["no web-service token for profile 'c'"]
    assert (outcome.status, outcome.exit_code) == ("failed", 3)


def test_named_offerings_are_pulled_where_each_site_holds_them(store: Store, pulls: Pulls) -> None:
    opened: list[str] = []
    jobs = [job(store, site, name, opened) for site, name in
            (("lms.a.example/moodle", "a"), ("lms.b.example", "b"), ("lms.c.example", "c"))]
    outcome = pull_sites(jobs, [OFFERING, "only-b"], workers=1)
    assert sorted((c[0], tuple(c[2])) for c in pulls.calls) == [("a", (OFFERING,)), ("b", (OFFERING, "only-b"))]
    assert [s.offerings for s in outcome.sites] == [[OFFERING], [OFFERING, "only-b"], []]
    assert opened == ["a", "b"]                     # a site with nothing to pull is not even asked
    assert outcome.errors == [] and outcome.status == "ok"

    outcome = pull_sites(jobs, ["nowhere", OFFERING], workers=2)
    assert outcome.errors == ["nowhere: not in the store for any of the profiles a, b, c (apply it first)"]
    assert (outcome.status, outcome.exit_code) == ("partial", 1)


def test_one_site_pulls_named_offerings_as_named(store: Store, pulls: Pulls) -> None:
    outcome = pull_sites([job(store, "lms.c.example", "c")], ["nowhere"])
    assert pulls.calls[0][2] == ["nowhere"]         # pull_offerings says it is not in the store
    assert outcome.errors == []


def test_sites_are_pulled_at_the_same_time_up_to_the_bound(store: Store, pulls: Pulls) -> None:
    b_started = threading.Event()
    waited: list[bool] = []
    pulls.hook["lms.a.example/moodle"] = lambda: waited.append(b_started.wait(timeout=30))
    pulls.hook["lms.b.example"] = b_started.set
    jobs = [job(store, "lms.a.example/moodle", "a"), job(store, "lms.b.example", "b")]
    assert pull_sites(jobs, workers=2).status == "ok"
    assert waited == [True]                         # A was still pulling when B started


def test_ctrl_c_stops_the_sites_not_pulled_yet(store: Store, pulls: Pulls) -> None:
    def interrupted() -> Any:
        raise KeyboardInterrupt

    jobs = [job(store, "lms.a.example/moodle", "a"), SiteJob("b", interrupted, interrupted),
            job(store, "lms.b.example", "c")]
    outcome = pull_sites(jobs, workers=1)
    assert [(s.status, s.exit_code) for s in outcome.sites] == [("ok", 0), ("interrupted", 130), ("interrupted", 130)]
    assert outcome.sites[2].errors == ["interrupted before its pull started"]
    assert [c[0] for c in pulls.calls] == ["a"] and outcome.exit_code == 130


def test_ctrl_c_halts_every_client_even_one_opened_afterwards() -> None:
    clients = _Clients()
    first, late = client("a"), client("b")
    clients.add(first)
    stop = KeyboardInterrupt()
    clients.halt(stop)
    clients.add(late)
    assert first.client.halted == [stop] and late.client.halted == [stop]


def test_no_jobs_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        pull_sites([])


def test_ctrl_c_while_sites_run_at_once_halts_them_and_drops_the_rest(store: Store, pulls: Pulls,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    running = threading.Barrier(3)      # sites a and b pulling, and the main thread
    halted: dict[str, threading.Event] = {}

    def moodle_of(name: str) -> Any:
        halted[name] = threading.Event()
        return SimpleNamespace(name=name, client=SimpleNamespace(halt=lambda cause: halted[name].set()))

    def pull_until_halted() -> None:
        running.wait(timeout=30)
        assert any(event.wait(timeout=30) for event in halted.values())
        raise RunHaltedError("core_enrol_get_enrolled_users", KeyboardInterrupt())

    def ctrl_c(futures: Any) -> None:
        running.wait(timeout=30)
        raise KeyboardInterrupt

    pulls.hook["lms.a.example/moodle"] = pulls.hook["lms.b.example"] = pull_until_halted
    monkeypatch.setattr(sites_module, "wait", ctrl_c)
    jobs = [SiteJob(name, lambda site=site: store.for_site(site), lambda name=name: moodle_of(name))
            for name, site in (("a", "lms.a.example/moodle"), ("b", "lms.b.example"), ("c", "lms.c.example"))]
    outcome = pull_sites(jobs, [OFFERING], workers=2)
    assert [(s.profile, s.status, s.exit_code) for s in outcome.sites] == [
        ("a", "interrupted", 130), ("b", "interrupted", 130), ("c", "interrupted", 130)]
    assert all(event.is_set() for event in halted.values()) and set(halted) == {"a", "b"}
    assert outcome.sites[2].errors == ["interrupted before its pull started"]
    assert "the run had stopped (interrupted)" in outcome.sites[0].errors[0]


def test_sites_pulled_at_once_switch_threads_quickly_and_restore_the_interval(store: Store, pulls: Pulls) -> None:
    import sys

    seen: list[float] = []
    pulls.hook["lms.a.example/moodle"] = lambda: seen.append(sys.getswitchinterval())
    before = sys.getswitchinterval()
    pull_sites([job(store, "lms.a.example/moodle", "a"), job(store, "lms.b.example", "b")], workers=2)
    assert seen == [sites_module.QUICK_SWITCH_SECONDS] and sys.getswitchinterval() == before
    pull_sites([job(store, "lms.a.example/moodle", "a")])               # one site: the interpreter's own
    assert seen[-1] == before
