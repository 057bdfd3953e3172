#!/usr/bin/env python3
"""Benchmark the web-service client: N independent reads, one at a time vs concurrently, and the cost of
opening a connection per call vs reusing pooled connections.

Against an in-process sandbox with injected latency (default 20 ms per call). The reads are
``core_course_get_courses_by_field`` (field ``id``), one per course, over the library's own
``Moodle.map_reads`` (bounded by the client's ``concurrency``). The sandbox counts the TCP connections
it accepts, so connection reuse is measured, not assumed.

Usage: python scripts/bench_client.py [--reads 60] [--latency-ms 20] [--concurrency 8] [--json]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import _bench as b


def read_course(moodle: Any, courseid: int) -> Any:
    return moodle.courses_by_ids([courseid])


def run_pooled(server: Any, ids: list[int], concurrency: int, max_input_vars: int) -> b.Measurement:
    """The reads over one client (pooled keep-alive connections), ``concurrency`` at a time."""
    moodle = b.client(server, concurrency=concurrency, max_input_vars=max_input_vars)
    try:
        label = "sequential (concurrency 1)" if concurrency == 1 else f"concurrent ({concurrency})"
        m, results = b.measure(moodle, label, lambda: moodle.map_reads(lambda i: read_course(moodle, i), ids),
                               units=len(ids), server=server)
        _check(results, ids)
        return m
    finally:
        moodle.client.close()


def run_new_connection_each(server: Any, ids: list[int], max_input_vars: int) -> b.Measurement:
    """The naive way: a new client (so a new TCP connection) for every read, one at a time."""
    calls = 0
    functions: dict[str, int] = {}
    results = []
    opened = server.connections_opened
    with b.Timer() as t:
        for i in ids:
            moodle = b.client(server, concurrency=1, max_input_vars=max_input_vars)
            try:
                results.append(read_course(moodle, i))
            finally:
                moodle.client.close()
            calls += moodle.client.stats.total_calls
            for name, s in moodle.client.stats.by_function.items():
                functions[name] = functions.get(name, 0) + s.calls
    _check(results, ids)
    return b.Measurement("sequential, new connection per call", calls, t.seconds, functions, len(ids),
                         connections=server.connections_opened - opened)


def _check(results: Sequence[Any], ids: list[int]) -> None:
    for r in results:
        if isinstance(r, Exception):
            raise r
    got = [r[0].id for r in results]
    if got != ids:
        raise SystemExit("the reads did not return the courses asked for")


def main(argv: Sequence[str] | None = None) -> int:
    p = b.parser(__doc__.splitlines()[0])
    p.add_argument("--reads", type=int, default=60, help="independent reads (one course each; default 60)")
    args = p.parse_args(argv)
    limits = b.input_var_limits(args.max_input_vars)
    levels = sorted({1, 4, args.concurrency} - {0})
    report = b.Report("bench_client", {"reads": args.reads, "latency_ms": args.latency_ms,
                                       "concurrency": levels, "max_input_vars": limits[0]})
    with b.sandbox(max_input_vars=limits[0]) as server:
        setup = b.client(server, max_input_vars=limits[0])
        ids = setup.create_courses([{"fullname": f"Bench course {i}", "shortname": f"bench-{i}",
                                     "categoryid": 1, "idnumber": f"bench-{i}"} for i in range(args.reads)])
        setup.client.close()
        b.set_latency(server, args.latency_ms)
        runs = [run_new_connection_each(server, ids, limits[0])]
        runs += [run_pooled(server, ids, c, limits[0]) for c in levels]

    baseline = runs[1]  # sequential over pooled connections
    rows = [[m.label, m.calls, m.connections, m.seconds, m.ms_per_unit, b.ratio(baseline, m)] for m in runs]
    report.table(b.format_table(f"{args.reads} independent reads (core_course_get_courses_by_field), "
                                f"{args.latency_ms:g} ms latency per call",
                                ["run", "calls", "connections", "wall s", "ms/read", "speed-up vs sequential"],
                                rows))
    floor = args.reads * args.latency_ms / 1000
    report.note(f"Latency floor: {args.reads} x {args.latency_ms:g} ms = {floor:.2f} s sequential, "
                + ", ".join(f"{floor / c:.2f} s at {c}" for c in levels if c > 1)
                + ". Connections: the sandbox's count of accepted TCP connections during each run (keep-alive "
                  "pooling opens at most one per worker; on a real HTTPS site each new connection also costs "
                  "a TLS handshake, 1-2 extra round trips).")
    report.put("runs", runs)
    report.put("speedups", {m.label: round(b.ratio(baseline, m), 2) for m in runs})
    report.emit(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
