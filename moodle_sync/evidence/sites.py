"""Pull several Moodle sites into one store: each site with its own settings and token, under its own
per-(site, store) pull lock, a bounded number of sites at once; one site busy or failing never stops the
others.

A site is a :class:`SiteJob`: how to open its store (bound to the site) and its :class:`~moodle_sync.ws.moodle.Moodle`,
and its :class:`PullOptions`. :func:`pull_sites` runs the jobs (at most ``workers`` at once, each on a thread
of its own; each site's reads are bounded by its own client's concurrency) and gives a
:class:`SitesOutcome`: one :class:`SiteOutcome` per site, in the jobs' order, and the worst status.

Statuses, from best to worst, with the exit code each gives: ``ok`` (0), ``busy`` (75: another pull of that
site into this store is running; try later), ``partial`` (1: some reads failed, their last state is kept),
``failed`` (the site could not be pulled: the error's exit code, 1 for Moodle or the network, 2 for its
settings, 3 for a bug) and ``interrupted`` (130: Ctrl-C; sites not started yet are not pulled, running ones
are halted: they send nothing more).

Offerings: with no ids every site pulls all of its offerings. Named ids with one site are pulled as named
(an id the store does not hold is that run's error). Named ids with several sites: each site pulls those of
the ids it holds (the same id on two sites is two offerings); an id no site holds is an error of the whole
pull (``partial``).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from ..exceptions import MoodleSyncError, RunHaltedError
from ..store.locks import BusyError, pull_lock
from ..ws.moodle import Moodle
from .pull import DAY, PullOutcome, pull_offerings

log = logging.getLogger("moodle_sync.pull")

# Worst last: the status of several sites is the worst of theirs.
STATUS_RANK = {"ok": 0, "busy": 1, "partial": 2, "failed": 3, "interrupted": 4}
EXIT_BUSY, EXIT_INTERRUPTED = 75, 130
DEFAULT_SITES_AT_ONCE = 4


@dataclass(frozen=True)
class PullOptions:
    """How one site is pulled (from the CLI's flags over that site's settings); see
    :func:`~moodle_sync.evidence.pull.pull_offerings`."""

    full: bool = False
    report_id: int | None = None
    stale_after: int = DAY
    grades: str = "always"
    student_role_id: int = 5
    dry_run: bool = False


@dataclass(frozen=True)
class SiteJob:
    """One site to pull. ``store()`` gives the store bound to the site (it may ask Moodle who the site is),
    ``moodle()`` the site's client, with this profile's own token; both may raise
    :class:`~moodle_sync.exceptions.MoodleSyncError` (no token, site unreachable...), which fails this site only."""

    profile: str
    store: Callable[[], Any]
    moodle: Callable[[], Moodle]
    options: PullOptions = PullOptions()


@dataclass
class SiteOutcome:
    """What pulling one site gave. ``offerings``: the ids pulled there; ``run_id`` 0 for a dry run or no run."""

    profile: str
    site_id: str | None = None
    status: str = "ok"
    exit_code: int = 0
    offerings: list[str] = field(default_factory=list)
    run_id: int = 0
    mode: str | None = None
    enrolments: int = 0
    reread: int = 0
    changed: int = 0
    calls: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    held: list[str] | None = None   # of the named ids, those this site's store holds (None: not looked)

    def to_dict(self) -> dict[str, Any]:
        """The outcome as ``pull --json`` shows it (a site)."""
        out = asdict(self)
        del out["held"]
        return out

    def took(self, outcome: PullOutcome) -> None:
        """Take the figures of the site's pull run."""
        self.status, self.exit_code = outcome.status, 0 if outcome.status == "ok" else 1
        self.run_id, self.mode, self.errors = outcome.run_id, outcome.mode, list(outcome.errors)
        self.enrolments, self.reread, self.changed = outcome.enrolments, outcome.reread, outcome.changed
        self.calls, self.seconds = outcome.calls, outcome.seconds

    def stopped(self, status: str, exit_code: int, why: str) -> SiteOutcome:
        """Mark the site stopped (busy, failed, interrupted) for reason ``why``; returns self."""
        self.status, self.exit_code = status, exit_code
        self.errors.append(why)
        return self


@dataclass
class SitesOutcome:
    """Every site's outcome (in the jobs' order), the errors of the pull as a whole, its wall time."""

    sites: list[SiteOutcome]
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def status(self) -> str:
        """The worst status of the sites (``partial`` at least when the pull as a whole has errors)."""
        statuses = [s.status for s in self.sites] + (["partial"] if self.errors else [])
        return max(statuses, key=STATUS_RANK.__getitem__, default="ok")

    @property
    def exit_code(self) -> int:
        """The exit code of the worst site (of the sites with the worst status, the highest code)."""
        worst = [s.exit_code for s in self.sites if s.status == self.status]
        return max(worst, default=1 if self.errors else 0)

    def to_dict(self) -> dict[str, Any]:
        """The document ``pull --json`` prints: ``sites``, the worst ``status``, and the sums."""
        total = {key: sum(getattr(s, key) for s in self.sites) for key in ("enrolments", "reread", "changed", "calls")}
        return {"sites": [s.to_dict() for s in self.sites], "status": self.status, "exit_code": self.exit_code,
                **total, "seconds": self.seconds, "errors": list(self.errors)}


def pull_site(job: SiteJob, offering_ids: Sequence[str], *, several: bool = False,
              progress: Callable[[int], None] | None = None,
              opened: Callable[[Moodle], None] | None = None,
              claim: Callable[[str, str], str | None] | None = None) -> SiteOutcome:
    """Pull one site under its pull lock; never raises for the site's own trouble (busy, a Moodle or
    settings error, a bug: logged with its traceback) but for ``KeyboardInterrupt``.

    ``several``: named ``offering_ids`` are pulled only where this site holds them (see the module's
    docstring). ``opened`` is told the site's client as soon as it exists (to halt it on Ctrl-C).
    ``claim(site_id, profile)`` gives the profile of this run that has the site already (then this one
    fails with exit 2, naming both), or None.
    """
    outcome = SiteOutcome(job.profile)
    try:
        store = job.store()
        outcome.site_id = store.site_id
        first = claim(store.site_id, job.profile) if claim is not None else None
        if first is not None:
            return outcome.stopped("failed", 2, f"profile {job.profile} names the same site ({store.site_id}) as "
                                                f"profile {first}, pulled once under {first}: remove one of them "
                                                "from the config file or the --profile options")
        with pull_lock(store):
            _pull_held(job, store, offering_ids, several, progress, opened, outcome)
    except BusyError as exc:
        return outcome.stopped("busy", EXIT_BUSY, str(exc))
    except RunHaltedError as exc:
        interrupted = isinstance(exc.cause, KeyboardInterrupt)
        return outcome.stopped("interrupted" if interrupted else "failed",
                               EXIT_INTERRUPTED if interrupted else exc.exit_code, str(exc))
    except MoodleSyncError as exc:
        return outcome.stopped("failed", exc.exit_code, str(exc))
    except Exception as exc:  # a bug: this site fails, the others go on; the traceback goes to the log
        log.exception("profile %s: the pull crashed", job.profile)
        return outcome.stopped("failed", 3, f"crashed: {exc!r} (a bug: the log has the details)")
    return outcome


def _pull_held(job: SiteJob, store: Any, offering_ids: Sequence[str], several: bool,
               progress: Callable[[int], None] | None, opened: Callable[[Moodle], None] | None,
               outcome: SiteOutcome) -> None:
    """The part of :func:`pull_site` run under the site's lock: runs a killed pull left ``running`` marked
    failed, which offerings, then the pull run (the site's client is opened only when there is something
    to pull)."""
    if not job.options.dry_run:
        store.settle_dead_runs()
    if several and offering_ids:
        outcome.held = [o for o in offering_ids if store.get_offering(o) is not None]
        ids = outcome.held
    else:
        ids = list(offering_ids) or [o.offering_id for o in store.offerings()]
    outcome.offerings = list(ids)
    if not ids:
        return
    moodle = job.moodle()
    if opened is not None:
        opened(moodle)
    o = job.options
    outcome.took(pull_offerings(moodle, store, ids, full=o.full, report_id=o.report_id, stale_after=o.stale_after,
                                student_role_id=o.student_role_id, progress=progress, dry_run=o.dry_run,
                                grades=o.grades))


def pull_sites(jobs: Sequence[SiteJob], offering_ids: Sequence[str] = (), *,
               workers: int = DEFAULT_SITES_AT_ONCE,
               progress: Callable[[int], None] | None = None) -> SitesOutcome:
    """Pull every job's site, at most ``workers`` sites at once; see the module's docstring.

    Ctrl-C (``KeyboardInterrupt``) halts every site's client (calls on the wire finish, nothing more is
    sent), waits for the running sites, and marks the sites not started ``interrupted``: the outcome is
    returned, not raised. Raises ``ValueError`` for no jobs or ``workers`` < 1.
    """
    if not jobs or workers < 1:
        raise ValueError("pull_sites needs at least one job and one worker")
    started = time.perf_counter()
    several = len(jobs) > 1
    clients = _Clients()
    claims: dict[str, str] = {}
    claims_lock = threading.Lock()

    def claim(site_id: str, profile: str) -> str | None:
        with claims_lock:
            holder = claims.setdefault(site_id, profile)
        return holder if holder != profile else None

    def run(job: SiteJob) -> SiteOutcome:
        return pull_site(job, offering_ids, several=several, progress=progress, opened=clients.add, claim=claim)

    if workers == 1 or not several:
        sites = _one_by_one(jobs, run)
    else:
        with _quick_thread_switches():
            sites = _at_once(jobs, run, workers, clients)
    outcome = SitesOutcome(sites, seconds=round(time.perf_counter() - started, 3))
    if several and offering_ids:
        outcome.errors = _held_nowhere(offering_ids, sites)
    return outcome


# While several sites are pulled at once, Python switches threads every half millisecond instead of every 5.
# Three sites at eight reads each are two dozen threads in one interpreter: a thread whose answer has
# arrived waits for the interpreter lock while another decodes a grade report, up to the switch interval
# each time, and with 20 ms calls that convoy cost a quarter of the wall time (measured: 3 sites at once
# took 1.27x the slowest alone with 5 ms, 1.19x with 0.5 ms; scripts/bench_scale.py).
QUICK_SWITCH_SECONDS = 0.0005


@contextmanager
def _quick_thread_switches() -> Iterator[None]:
    """Run the block with the interpreter's thread switch interval at :data:`QUICK_SWITCH_SECONDS`
    (restored after; never made longer than it was)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, QUICK_SWITCH_SECONDS))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


class _Clients:
    """The sites' clients opened so far, to halt them all on Ctrl-C (one opened after that is halted at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: list[Moodle] = []
        self._halted: BaseException | None = None

    def add(self, moodle: Moodle) -> None:
        with self._lock:
            self._clients.append(moodle)
            if self._halted is not None:
                moodle.client.halt(self._halted)

    def halt(self, cause: BaseException) -> None:
        with self._lock:
            self._halted = cause
            for moodle in self._clients:
                moodle.client.halt(cause)


def _one_by_one(jobs: Sequence[SiteJob], run: Callable[[SiteJob], SiteOutcome]) -> list[SiteOutcome]:
    """Each site in turn, in this thread; after Ctrl-C the site being pulled and the rest are ``interrupted``."""
    sites: list[SiteOutcome] = []
    for job in jobs:
        try:
            sites.append(run(job))
        except KeyboardInterrupt:
            sites.append(SiteOutcome(job.profile).stopped("interrupted", EXIT_INTERRUPTED, "interrupted"))
            break
    return sites + [_not_pulled(job) for job in jobs[len(sites):]]


def _at_once(jobs: Sequence[SiteJob], run: Callable[[SiteJob], SiteOutcome], workers: int,
             clients: _Clients) -> list[SiteOutcome]:
    """The sites on at most ``workers`` threads; on Ctrl-C every opened client is halted, the sites not
    started are dropped, and the running ones are waited for."""
    pool = ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="moodle-site")
    futures: list[Future[SiteOutcome]] = [pool.submit(run, job) for job in jobs]
    try:
        wait(futures)
    except KeyboardInterrupt as exc:
        for future in futures:   # first, so that no worker freed by the halt starts another site
            future.cancel()
        clients.halt(exc)
    finally:
        pool.shutdown(wait=True)
    return [f.result() if not f.cancelled() else _not_pulled(job) for f, job in zip(futures, jobs)]


def _not_pulled(job: SiteJob) -> SiteOutcome:
    return SiteOutcome(job.profile).stopped("interrupted", EXIT_INTERRUPTED, "interrupted before its pull started")


def _held_nowhere(offering_ids: Sequence[str], sites: Sequence[SiteOutcome]) -> list[str]:
    """Named offerings that no site holds, when every site could look (a site that failed first may hold them)."""
    if any(s.held is None for s in sites):
        return []
    held = {o for s in sites for o in s.held or ()}
    profiles = ", ".join(s.profile for s in sites)
    return [f"{o}: not in the store for any of the profiles {profiles} (apply it first)"
            for o in offering_ids if o not in held]
