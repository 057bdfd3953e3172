#!/usr/bin/env python3
"""Benchmark how a pull's cost grows: 1k, 5k, 20k and 50k enrolments (15 courses of the example offering),
each pulled full, incremental with nothing changed, and incremental after 10 % of enrolments changed;
then 3 sites of 4,511 enrolments each pulled into one store, one at a time and all at once.

Each site is set up (untimed, no latency) in a sandbox in this process: provisioning, enrolment, progress.
Its state is then served by ``moodle-sync sandbox`` in a process of its own (as a real Moodle runs apart
from us), with ``--latency-ms`` added to every call, and each pull runs in a child process of its own, so
that the figures are the pull's alone: wall time, web-service calls, the pull's CPU, the sandbox's CPU
(read from /proc: the fake Moodle's own cost, not ours) and the pull process's peak resident memory
(``ru_maxrss``; an idle child, imports and client only, is measured as the baseline). The 10 % change is
made in the set-up sandbox, whose state is then served afresh: the sandbox saving its state while a pull
runs would be timed as the pull's.

The several-site run uses the multi-site pull (``moodle_sync.evidence.sites.pull_sites``) into one store:
``--pg URL`` (a PostgreSQL server; a schema of its own is made and dropped), else an SQLite file.

Usage: python scripts/bench_scale.py [--sizes 1000,5000,20000,50000] [--sites 3] [--site-enrolments 4511]
       [--changed 0.10] [--latency-ms 20] [--concurrency 8] [--pg URL] [--json]
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import _bench as b
import bench_pull as bp

MODES = ("full", "quiet incremental", "10% changed")


# --- one site: set up in this process, served by another -----------------------------------------------

@dataclass
class Site:
    """A sandbox site set up for the benchmark: its state file, and what the pulls need to know."""

    name: str
    state_file: Path
    store_url: str
    site_id: str
    offering_id: str
    enrolments: list[tuple[int, int]]
    activities: dict[int, Any] = field(default_factory=dict)


def set_up(name: str, size: int, directory: Path, store_url: str, *, site_id: str = "",
           prefix: str = "guru") -> tuple[Site, Any]:
    """Provision the example offering, enrol ``size`` participants and play their progress in a sandbox
    in this process (no latency); returns the site and that sandbox (still running: the 10 % change is
    made there later). The store at ``store_url`` (bound to ``site_id``) gets the offering."""
    from moodle_sync.store import Store

    spec = b.example_offering()
    people = b.participants(spec, size, prefix=prefix)
    server = b.SandboxServer(latency_ms=0)
    server.start()
    setup = b.client(server)
    with Store.open(store_url) as opened:
        store = opened.for_site(site_id) if site_id else opened
        course_ids, enrolments = b.enrolled_offering(setup, spec, store, people)
    setup.client.close()
    bp.simulate_progress(server, enrolments)
    site = Site(name, directory / f"{name}.json", store_url, site_id, spec.offering_id, enrolments,
                {cid: bp.course_activities(server, cid) for cid in course_ids})
    save_state(server, site.state_file)
    return site, server


def save_state(server: Any, path: Path) -> None:
    """Write the in-process sandbox's site to ``path`` (for a sandbox process to serve)."""
    from moodle_sync.sandbox.state import write_state_file

    with server.moodle.lock:
        snapshot = server.state.to_dict()
    write_state_file(snapshot, path)


@contextlib.contextmanager
def served(site: Site, latency_ms: float) -> Iterator[Any]:
    """The site served by a sandbox process of its own, with ``latency_ms``. The process is killed at the
    end (its state file is a throw-away copy: saving it back would only cost time)."""
    copy = site.state_file.with_name(f"{site.state_file.stem}-served-{uuid.uuid4().hex[:6]}.json")
    shutil.copyfile(site.state_file, copy)
    with b.remote_sandbox(copy) as remote:
        try:
            b.set_latency(remote, latency_ms)
            yield remote
        finally:
            remote.process.kill()
    copy.unlink(missing_ok=True)


def cpu_spent(before: Sequence[float | None], after: Sequence[float | None]) -> float | None:
    """CPU seconds several processes spent between two readings (None when one is unknown)."""
    pairs = [(a, c) for a, c in zip(after, before) if a is not None and c is not None]
    return round(sum(a - c for a, c in pairs), 2) if len(pairs) == len(before) else None


# --- the measured pulls, each in a child process --------------------------------------------------------

def child(task: dict[str, Any], sandbox_pid: int | None = None) -> dict[str, Any]:
    """Run ``task`` in a child process (this script with ``--child``); its JSON answer, with the
    sandbox's CPU over the run when ``sandbox_pid`` is given."""
    before = bp.cpu_seconds(sandbox_pid) if sandbox_pid else None
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(task)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the child {task['kind']} failed:\n{done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    after = bp.cpu_seconds(sandbox_pid) if sandbox_pid else None
    answer["sandbox_cpu"] = round(after - before, 2) if before is not None and after is not None else None
    return answer


def pull_task(site: Site, remote: Any, args: Any, **options: Any) -> dict[str, Any]:
    """What a child needs to pull ``site`` as served by ``remote``."""
    return {"kind": "pull", "url": remote.url, "token": remote.token, "store": site.store_url,
            "site": site.site_id, "offering": site.offering_id, "concurrency": args.concurrency,
            "options": options}


def run_child(task: dict[str, Any]) -> dict[str, Any]:
    """In the child: do ``task`` and say what it cost (wall, calls, this process's CPU and peak memory)."""
    from moodle_sync.ws import connect

    started = time.perf_counter()
    out: dict[str, Any] = {"calls": 0, "enrolments": 0, "reread": 0, "changed": 0}
    if task["kind"] == "pull":
        out = child_pull(task, connect)
    elif task["kind"] == "sites":
        out = child_sites(task, connect)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.update(wall=round(time.perf_counter() - started, 2), cpu=round(usage.ru_utime + usage.ru_stime, 2),
               peak_mb=round(peak_kb(usage) / 1024, 1))
    return out


def peak_kb(usage: Any) -> int:
    """This process's peak resident memory (kB): VmHWM, which starts afresh at exec (``ru_maxrss`` of a
    child keeps its parent's peak at fork), else ``ru_maxrss``."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return int(usage.ru_maxrss)
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), None)
    return int(line.split()[1]) if line else int(usage.ru_maxrss)


def child_pull(task: dict[str, Any], connect: Any) -> dict[str, Any]:
    from moodle_sync.evidence.pull import pull_offerings
    from moodle_sync.store import Store

    moodle = connect(task["url"], task["token"], concurrency=task["concurrency"], retries=2)
    with Store.open(task["store"]) as opened:
        store = opened.for_site(task["site"]) if task["site"] else opened
        outcome = pull_offerings(moodle, store, [task["offering"]], **task["options"])
    moodle.client.close()
    if outcome.status != "ok":
        raise SystemExit(f"pull {outcome.status}: {outcome.errors[:3]}")
    return {"calls": outcome.calls, "enrolments": outcome.enrolments, "reread": outcome.reread,
            "changed": outcome.changed}


def child_sites(task: dict[str, Any], connect: Any) -> dict[str, Any]:
    """Every site of ``task["sites"]`` pulled at once into one store (the multi-site pull)."""
    from moodle_sync.evidence.sites import PullOptions, SiteJob, pull_sites
    from moodle_sync.store import Store

    with Store.open(task["store"]) as opened:
        jobs = [SiteJob(s["site"], store=partial(opened.for_site, s["site"]),
                        moodle=partial(connect, s["url"], s["token"], concurrency=task["concurrency"], retries=2),
                        options=PullOptions(full=True)) for s in task["sites"]]
        outcome = pull_sites(jobs, [task["offering"]], workers=len(jobs))
    sites = [s.to_dict() for s in outcome.sites]
    if any(s["status"] != "ok" for s in sites):
        raise SystemExit(f"sites: {[(s['profile'], s['status'], s['errors'][:2]) for s in sites]}")
    return {"calls": sum(s["calls"] for s in sites), "enrolments": sum(s["enrolments"] for s in sites),
            "reread": sum(s["reread"] for s in sites), "changed": sum(s["changed"] for s in sites)}


# --- the benchmark ----------------------------------------------------------------------------------------

def say(text: str) -> None:
    """A progress line on stderr (the results go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def measure_size(size: int, args: Any, directory: Path) -> list[dict[str, Any]]:
    """One size: full and quiet incremental pulls, then 10 % changed (in the set-up sandbox, served afresh)."""
    store_url = f"sqlite:///{directory / f'size-{size}.sqlite'}"
    say(f"{size:,} enrolments: setting up")
    site, local = set_up(f"size-{size}", size, directory, store_url)
    say(f"{size:,} enrolments: pulling")
    rows = []
    try:
        with served(site, args.latency_ms) as remote:
            pid = remote.process.pid
            rows.append({"mode": MODES[0], **child(pull_task(site, remote, args, full=True), pid)})
            rows.append({"mode": MODES[1], **child(pull_task(site, remote, args), pid)})
        changed = bp.change_some(local, site.enrolments, args.changed, site.activities)
        save_state(local, site.state_file)
    finally:
        local.stop()
    with served(site, args.latency_ms) as remote:
        rows.append({"mode": MODES[2], "changed_enrolments": changed,
                     **child(pull_task(site, remote, args), remote.process.pid)})
    for row in rows:
        row["size"] = len(site.enrolments)
    site.state_file.unlink(missing_ok=True)
    return rows


def measure_sites(args: Any, directory: Path, store_url: str) -> dict[str, Any]:
    """``--sites`` sites into one store: each alone (full pulls), then all at once (the multi-site pull)."""
    from moodle_sync.store import Store

    sites = []
    with Store.open(store_url) as store:
        for i in range(1, args.sites + 1):
            sites.append(store.register_site(f"https://centre{i}.bench.example", f"Centre {i}").site_id)
    built = []
    say(f"{args.sites} sites of {args.site_enrolments:,} enrolments: setting up")
    for i, site_id in enumerate(sites, start=1):
        site, local = set_up(f"centre{i}", args.site_enrolments, directory, store_url, site_id=site_id,
                             prefix=f"c{i}guru")
        local.stop()
        built.append(site)
    with contextlib.ExitStack() as stack:
        remotes = [stack.enter_context(served(s, args.latency_ms)) for s in built]
        alone = [{"mode": f"{s.name} alone, full", "size": len(s.enrolments),
                  **child(pull_task(s, r, args, full=True), r.process.pid)} for s, r in zip(built, remotes)]
        before = [bp.cpu_seconds(r.process.pid) for r in remotes]
        together = child({"kind": "sites", "store": store_url, "offering": built[0].offering_id,
                          "concurrency": args.concurrency,
                          "sites": [{"site": s.site_id, "url": r.url, "token": r.token}
                                    for s, r in zip(built, remotes)]})
        spent = [bp.cpu_seconds(r.process.pid) for r in remotes]
        together["sandbox_cpu"] = cpu_spent(before, spent)
    together.update(mode=f"{args.sites} sites at once, full", size=sum(len(s.enrolments) for s in built))
    slowest = max(row["wall"] for row in alone)
    return {"rows": [*alone, together], "slowest_alone": slowest, "at_once": together["wall"],
            "ratio": round(together["wall"] / slowest, 2) if slowest else None}


@contextlib.contextmanager
def several_site_store(pg: str | None, directory: Path) -> Iterator[str]:
    """The store the several sites are pulled into: a fresh schema on the ``pg`` server (dropped at the
    end), else an SQLite file in ``directory``."""
    if not pg:
        yield f"sqlite:///{directory / 'sites.sqlite'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield make_url(pg).update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def baseline(args: Any) -> float:
    """The peak memory of a child that only imports the library and opens a client (MB)."""
    return float(child({"kind": "idle"})["peak_mb"])


def markdown(rows: Sequence[dict[str, Any]], idle_mb: float) -> str:
    """The results as one markdown table."""
    head = ["size", "mode", "calls", "re-read", "wall s", "pull CPU s", "sandbox CPU s", "peak MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if h != "mode" else "---" for h in head) + "|"]
    for r in rows:
        cells = [f"{r['size']:,}", r["mode"], f"{r['calls']:,}", f"{r['reread']:,}", f"{r['wall']:.1f}",
                 f"{r['cpu']:.1f}", "-" if r.get("sandbox_cpu") is None else f"{r['sandbox_cpu']:.1f}",
                 f"{r['peak_mb']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(f"\nPeak MB is the pull process's peak resident memory; an idle one (imports, client) peaks "
                 f"at {idle_mb:.0f} MB.")
    return "\n".join(lines)


def parse_sizes(text: str) -> list[int]:
    """``"1000,5000"`` -> ``[1000, 5000]``; raises ``SystemExit`` for anything else."""
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        sizes = []
    if any(n < 1 for n in sizes):
        sizes = []
    if not sizes and text.strip():
        raise SystemExit(f"--sizes: expected positive numbers, comma-separated, got {text!r}")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    p = b.parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,5000,20000,50000", help="enrolments per run, comma-separated "
                   "(default 1000,5000,20000,50000; empty: none)")
    p.add_argument("--changed", type=float, default=0.10, help="share of enrolments changed (default 0.10)")
    p.add_argument("--sites", type=int, default=3, help="sites pulled at once into one store (default 3; 0: none)")
    p.add_argument("--site-enrolments", type=int, default=4511, help="enrolments per site (default 4511)")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL"), metavar="URL",
                   help="PostgreSQL server for the several-site store (default $BENCH_PG_URL; else SQLite)")
    p.add_argument("--child", help=argparse_hidden())
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(json.loads(args.child))))
        return 0
    report = b.Report("bench_scale", {"sizes": args.sizes, "changed": args.changed, "sites": args.sites,
                                      "site_enrolments": args.site_enrolments, "latency_ms": args.latency_ms,
                                      "concurrency": args.concurrency, "store": "postgresql" if args.pg else
                                      "sqlite"})
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in parse_sizes(args.sizes):
            rows.extend(measure_size(size, args, Path(tmp)))
        sites = None
        if args.sites > 0:
            with several_site_store(args.pg, Path(tmp)) as url:
                sites = measure_sites(args, Path(tmp), url)
            rows.extend(sites["rows"])
    idle = baseline(args)
    report.table(markdown(rows, idle))
    if sites is not None:
        report.note(f"{args.sites} sites at once vs slowest alone: {sites['at_once']:.1f} s vs "
                    f"{sites['slowest_alone']:.1f} s ({sites['ratio']:.2f}x; goal: at most 1.20x)")
    report.put("rows", rows)
    report.put("idle_peak_mb", idle)
    report.put("sites", sites)
    report.emit(args.json)
    return 0


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
