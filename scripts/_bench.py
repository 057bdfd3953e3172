"""Shared helpers of the bench_*.py scripts: a sandbox started in this process, a timer, measurements,
a results table, ``--json`` output, the example offering and generated participants.

Every benchmark talks to the sandbox (never a real site) through the library's own code paths
(:func:`moodle_sync.ws.connect` and the functions it measures); the sandbox sleeps ``latency_ms`` in
every web-service call, outside its state lock, so concurrent calls overlap as they would on a site
whose web server runs several PHP workers. What the sandbox cannot show is the real server's own
work per call and per record: the numbers are client cost + round trips, not Moodle's cost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_OFFERING = ROOT / "examples" / "offering-koding.yaml"
CLASS_NAMES = ("Kelas A", "Kelas B", "Kelas C", "Kelas D", "Kelas E")

if str(ROOT) not in sys.path:  # run as ``python scripts/bench_x.py`` from a checkout
    sys.path.insert(0, str(ROOT))

from moodle_sync.sandbox.server import SandboxServer
from moodle_sync.ws import connect

# --- command line -------------------------------------------------------------------------------------

def parser(description: str, *, max_input_vars: str = "5000") -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--latency-ms", type=float, default=20.0,
                   help="latency the sandbox adds to every web-service call (default 20)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent reads (default 8)")
    p.add_argument("--max-input-vars", default=max_input_vars, metavar="N[,N...]",
                   help=f"the site's max_input_vars; several (comma-separated) run one after the other "
                        f"(default {max_input_vars})")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    return p


def input_var_limits(text: str) -> list[int]:
    """``"5000,1000"`` -> ``[5000, 1000]``; raises ``SystemExit`` for anything else."""
    try:
        limits = [int(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        limits = []
    if not limits or any(n < 10 for n in limits):
        raise SystemExit(f"--max-input-vars: expected numbers of at least 10, got {text!r}")
    return limits


# --- the sandbox and the client -----------------------------------------------------------------------

@contextlib.contextmanager
def sandbox(latency_ms: float = 0.0, max_input_vars: int = 5000,
            state_file: Path | None = None) -> Iterator[SandboxServer]:
    """A fresh sandbox in this process, started with no latency (set it with :func:`set_latency`);
    with ``state_file``, its site is saved there when it stops."""
    server = SandboxServer(latency_ms=0, max_input_vars=max_input_vars, state_file=state_file)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class RemoteControl:
    """The sandbox's test controls over HTTP (``/_sandbox/<action>``), for a sandbox in another process;
    called like :class:`~moodle_sync.sandbox.control.SandboxControl` (positional arguments allowed)."""

    def __init__(self, url: str) -> None:
        import inspect

        import requests

        from moodle_sync.sandbox.control import SandboxControl

        self._url, self._session, self._inspect, self._cls = url, requests.Session(), inspect, SandboxControl

    def __getattr__(self, action: str) -> Callable[..., Any]:
        method = getattr(self._cls, action)

        def call(*args: Any, **kwargs: Any) -> Any:
            bound = self._inspect.signature(method).bind(None, *args, **kwargs)
            arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
            response = self._session.post(f"{self._url}/_sandbox/{action}", json=arguments, timeout=60)
            response.raise_for_status()
            return response.json().get("result")

        return call


@dataclass
class RemoteSandbox:
    """A sandbox served by ``moodle-sync sandbox`` in its own process (as a real Moodle runs apart from
    us: its CPU is not ours), started from a state file."""

    url: str
    token: str
    control: RemoteControl
    process: Any
    connections_opened: int = 0


@contextlib.contextmanager
def remote_sandbox(state_file: Path, *, max_input_vars: int = 5000) -> Iterator[RemoteSandbox]:
    import subprocess

    ready = state_file.with_suffix(".ready.json")
    process = subprocess.Popen([sys.executable, "-m", "moodle_sync", "sandbox", "--state", str(state_file),
                                "--ready-file", str(ready), "--max-input-vars", str(max_input_vars), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if ready.exists() and ready.stat().st_size:
                break
            if process.poll() is not None:
                raise SystemExit("the sandbox process did not start")
            time.sleep(0.1)
        info = json.loads(ready.read_text())
        yield RemoteSandbox(info["url"], info["token"], RemoteControl(info["url"]), process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def set_latency(server: Any, latency_ms: float) -> None:
    server.control.set_latency(latency_ms)


def client(server: Any, *, concurrency: int = 8, max_input_vars: int = 5000) -> Any:
    """A :class:`~moodle_sync.ws.moodle.Moodle` over REST for the sandbox (the library's own connect)."""
    return connect(server.url, server.token, concurrency=concurrency, max_input_vars=max_input_vars,
                   retries=2)


# --- measuring ----------------------------------------------------------------------------------------

class Timer:
    """``with Timer() as t: ...`` then ``t.seconds`` (wall time, perf_counter)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Self:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


@dataclass
class Measurement:
    """One measured (or extrapolated) run: web-service calls, wall time, calls per function."""

    label: str
    calls: int
    seconds: float
    functions: dict[str, int] = field(default_factory=dict)
    units: int = 0                   # users, enrolments, reads... what per-unit figures divide by
    extrapolated_from: int = 0       # measured on this many units, scaled to ``units`` (0: measured)
    connections: int | None = None   # TCP connections the sandbox accepted during the run
    note: str = ""

    @property
    def ms_per_unit(self) -> float | None:
        return 1000 * self.seconds / self.units if self.units else None

    @property
    def calls_per_unit(self) -> float | None:
        return self.calls / self.units if self.units else None

    def scaled(self, units: int, label: str | None = None) -> Measurement:
        """This sample's per-unit cost scaled to ``units`` (calls and time proportional)."""
        factor = units / self.units
        return Measurement(label or self.label, round(self.calls * factor), self.seconds * factor,
                           {k: round(v * factor) for k, v in self.functions.items()}, units,
                           extrapolated_from=self.units, note=self.note)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "calls": self.calls, "seconds": round(self.seconds, 3),
                               "units": self.units, "functions": dict(sorted(self.functions.items()))}
        if self.units:
            out["calls_per_unit"] = round(self.calls / self.units, 4)
            out["ms_per_unit"] = round(1000 * self.seconds / self.units, 3)
        if self.extrapolated_from:
            out["extrapolated_from"] = self.extrapolated_from
        if self.connections is not None:
            out["connections"] = self.connections
        if self.note:
            out["note"] = self.note
        return out


def measure(moodle: Any, label: str, fn: Callable[[], Any], *, units: int = 0,
            server: Any = None) -> tuple[Measurement, Any]:
    """Run ``fn``; return what it cost (counted by the client's own statistics) and what it returned."""
    before = moodle.client.stats.snapshot()
    server = server if isinstance(server, SandboxServer) else None
    opened = server.connections_opened if server is not None else 0
    with Timer() as t:
        value = fn()
    stats = moodle.client.stats.since(before)
    m = Measurement(label, stats.total_calls, t.seconds,
                    {k: v.calls for k, v in stats.by_function.items()}, units,
                    connections=server.connections_opened - opened if server is not None else None)
    return m, value


def ratio(slow: Measurement, fast: Measurement) -> float:
    """How many times faster ``fast`` ran than ``slow`` (wall time)."""
    return slow.seconds / fast.seconds if fast.seconds > 0 else float("inf")


# --- output -------------------------------------------------------------------------------------------

def format_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: numbers right-aligned, everything else left-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [all(_is_number(row[i]) for row in rows) and rows != [] for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w)
                         for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([title, line(list(headers)), rule, *(line(r) for r in cells)])


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}" if value >= 1 else f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def measurement_rows(items: Sequence[Measurement]) -> list[list[Any]]:
    """Rows for :data:`MEASUREMENT_HEADERS`."""
    return [[m.label + (f" (extrapolated from {m.extrapolated_from})" if m.extrapolated_from else ""),
             m.calls, m.seconds, m.calls_per_unit, m.ms_per_unit] for m in items]


MEASUREMENT_HEADERS = ["run", "calls", "wall s", "calls/unit", "ms/unit"]


def functions_table(title: str, items: Sequence[Measurement]) -> str:
    """Calls per web-service function, one column per measurement."""
    names = sorted({f for m in items for f in m.functions})
    rows = [[name, *[m.functions.get(name, 0) for m in items]] for name in names]
    rows.append(["total", *[m.calls for m in items]])
    return format_table(title, ["function", *[m.label for m in items]], rows)


class Report:
    """What a benchmark prints: tables and notes for people, or one JSON document with ``--json``."""

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        self.name = name
        self.settings = settings
        self.sections: list[str] = []
        self.data: dict[str, Any] = {"benchmark": name, "settings": settings}

    def table(self, text: str) -> None:
        self.sections.append(text)

    def note(self, text: str) -> None:
        self.sections.append(text)
        self.data.setdefault("notes", []).append(text)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = _jsonable(value)

    def render(self) -> str:
        head = f"{self.name} — " + ", ".join(f"{k}={v}" for k, v in self.settings.items())
        return "\n\n".join([head, *self.sections])

    def emit(self, as_json: bool, out: Any = None) -> None:
        out = out or sys.stdout
        if as_json:
            json.dump(self.data, out, indent=2, ensure_ascii=False)
            out.write("\n")
        else:
            out.write(self.render() + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Measurement):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    return value


# --- the example offering, provisioning, participants -------------------------------------------------

def example_offering() -> Any:
    """The example offering (examples/offering-koding.yaml) rendered through its template: 15 courses."""
    from moodle_sync.offerings import load_offering
    from moodle_sync.templates import load_template, render_offering

    offering = load_offering(EXAMPLE_OFFERING)
    return render_offering(offering, load_template(offering.template))


def provision(moodle: Any, spec: Any, store: Any = None) -> Any:
    """plan + apply the offering (what ``moodle-sync apply`` does); returns the apply result."""
    from moodle_sync.provision.apply import apply_plan
    from moodle_sync.provision.observe import observe
    from moodle_sync.provision.plan import plan_offering
    from moodle_sync.provision.spec import offering_summary

    if store is not None:
        store.save_offering(spec.offering_id, spec.template, spec.title, offering_summary(spec))
    plan = plan_offering(spec, observe(moodle, spec))
    if plan.problems:
        raise SystemExit("the example offering cannot be provisioned: " + "; ".join(plan.problems))
    result = apply_plan(moodle, spec, plan, store=store)
    if not result.ok:
        raise SystemExit(f"provisioning failed: {result.failed[:3]}")
    return result


def enrolled_offering(moodle: Any, spec: Any, store: Any,
                      people: Sequence[Any]) -> tuple[list[int], list[tuple[int, int]]]:
    """Provision the offering, record and enrol ``people`` (what apply, select and enrol do); the course
    ids (in the offering's order) and the (course id, user id) of every student enrolment. Exits when any
    enrolment fails."""
    from moodle_sync.enrolment import enrol_participants

    provision(moodle, spec, store)
    store.save_participants(spec.offering_id, people)
    enrolled = enrol_participants(moodle, spec, people)
    if enrolled.failed or enrolled.enrolled != len(people):
        raise SystemExit(f"setup: enrolment failed: {enrolled.failed[:3]}")
    course_ids = [moodle.courses_by_field("idnumber", c.idnumber)[0].id for c in spec.courses]
    return course_ids, [(cid, u.id) for cid in course_ids for u in moodle.enrolled_users(cid)
                        if "student" in u.roles]


def participants(spec: Any, n: int, *, seed: int = 4511, prefix: str = "guru") -> list[Any]:
    """``n`` selected participants spread over the offering's courses and over each course's classes.

    The classes are the offering's own (the template's names, "Kelas Lampung Barat A", ...): enrolment
    knows no other. Deterministic for a seed; e-mails ``{prefix}{i}@bench.example.org``, each with a
    16-digit NUPTK.
    """
    from moodle_sync.store.records import ParticipantRecord

    rng = random.Random(seed)
    courses = list(spec.courses)
    levels = ("SD", "SMP", "SMA", "SMK")
    out = []
    for i in range(n):
        course = courses[i % len(courses)]
        first, last = f"Guru{i}", rng.choice(("Saputra", "Lestari", "Wijaya", "Rahmawati", "Hidayat"))
        out.append(ParticipantRecord(
            email=f"{prefix}{i}@bench.example.org", fullname=f"{first} {last}", firstname=first, lastname=last,
            nuptk=f"{1800000000000000 + i}", school=f"SD Negeri {rng.randint(1, 400)} {course.key}",
            regency=course.regency, school_level=rng.choice(levels), phone=f"08{rng.randint(10**9, 10**10 - 1)}",
            course_key=course.key, class_name=class_name(course, (i // len(courses)) % max(1, len(course.groups))),
            status="selected"))
    return out


def class_name(course: Any, index: int) -> str:
    """The name of a course's ``index``-th class: the template's group of that rank, else "Kelas X"."""
    return course.groups[index].name if index < len(course.groups) else CLASS_NAMES[index]


def open_store(directory: str | Path) -> Any:
    """A fresh SQLite store in ``directory``."""
    from moodle_sync.store import Store

    return Store.open(f"sqlite:///{Path(directory) / 'bench.sqlite'}")
