"""The benchmark scripts run end to end at a tiny size with no latency and report their numbers.

No timing is asserted (machines differ); what is checked is that each script drives the library's real
code paths against its own sandbox and reports calls, times and the outcomes it exists to show.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def bench(name: str) -> Any:
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module(name)


def run_json(name: str, args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert bench(name).main([*args, "--latency-ms", "0", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_client_reads_sequential_and_concurrent(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json("bench_client", ["--reads", "6", "--concurrency", "3"], capsys)
    runs = {r["label"]: r for r in data["runs"]}
    assert set(runs) == {"sequential, new connection per call", "sequential (concurrency 1)",
                         "concurrent (3)", "concurrent (4)"}
    for r in runs.values():
        assert r["calls"] == 6 and r["functions"] == {"core_course_get_courses_by_field": 6}
        assert r["seconds"] > 0 and r["units"] == 6
    # Pooled keep-alive connections: one for a sequential client, one per call for the naive one.
    assert runs["sequential (concurrency 1)"]["connections"] == 1
    assert runs["sequential, new connection per call"]["connections"] == 6
    assert 1 <= runs["concurrent (3)"]["connections"] <= 3
    assert set(data["speedups"]) == set(runs)


def test_provision_counts_calls_and_second_plan_is_empty(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json("bench_provision", ["--max-input-vars", "5000"], capsys)
    result = data["max_input_vars_5000"]
    assert result["second_plan_pending"] == 0
    assert result["plan_counts"]["create"] > 0
    apply = result["apply"]
    assert apply["functions"]["core_course_create_courses"] == 1
    assert result["apply_records_per_function"]["core_course_create_courses"] == 15
    naive = result["naive_apply"]
    assert naive["functions"]["core_course_create_courses"] == 15
    assert naive["calls"] > apply["calls"]
    assert result["second_plan"]["calls"] > 0 and result["plan_and_apply"]["seconds"] > 0


def test_enrol_batches_and_rerun_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json("bench_enrol", ["--users", "40", "--sample", "4", "--max-input-vars", "5000,1000"], capsys)
    for limit in (5000, 1000):
        run = data[f"max_input_vars_{limit}"]
        assert run["result"]["created"] == run["result"]["enrolled"] == run["result"]["grouped"] == 40
        assert run["ours"]["units"] == 40 and run["ours"]["calls"] > 0 and run["ours"]["ms_per_unit"] > 0
        writes = {"core_user_create_users", "enrol_manual_enrol_users", "core_group_add_group_members"}
        assert not writes & set(run["rerun"]["functions"])
    naive = data["naive_extrapolated"]
    assert data["naive_sample"]["calls"] == 12  # three single-record calls per user
    assert naive["extrapolated_from"] == 4 and naive["units"] == 40 and naive["calls"] == 120


def test_pull_reports_every_mode_and_the_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json("bench_pull", ["--enrolments", "45", "--sample", "9", "--concurrency", "4"], capsys)
    runs = data["runs"]
    assert runs["naive"]["extrapolated_from"] == 9 and runs["naive"]["units"] == 45
    assert runs["full"]["functions"]["core_completion_get_course_completion_status"] == 45
    assert data["outcomes"]["full_outcome"]["reread"] == 45
    assert data["outcomes"]["unchanged_outcome"]["reread"] == 0
    changed = data["outcomes"]["incremental_outcome"]["reread"]
    assert 1 <= changed <= 45
    assert runs["incremental_changed"]["calls"] < runs["full"]["calls"]
    assert data["outcomes"]["report_outcome"]["mode"] == "report"
    assert runs["report_builder"]["functions"]["core_reportbuilder_retrieve_report"] >= 1
    assert data["ratios"]["full_vs_naive"] > 0 and data["ratios"]["incremental_vs_full"] > 0


def test_tables_are_printed_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench("bench_client").main(["--reads", "4", "--latency-ms", "0"]) == 0
    out = capsys.readouterr().out
    assert "speed-up vs sequential" in out and "concurrent (8)" in out


def test_scale_reports_every_size_and_mode_and_sites_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json("bench_scale", ["--sizes", "60", "--sites", "2", "--site-enrolments", "30",
                                    "--concurrency", "4"], capsys)
    rows = {(r["size"], r["mode"]): r for r in data["rows"]}
    assert set(rows) == {(60, "full"), (60, "quiet incremental"), (60, "10% changed"), (30, "centre1 alone, full"),
                         (30, "centre2 alone, full"), (60, "2 sites at once, full")}
    full, quiet, changed = rows[60, "full"], rows[60, "quiet incremental"], rows[60, "10% changed"]
    assert full["reread"] == full["enrolments"] == 60 and full["calls"] > 60
    assert quiet["reread"] == 0 and quiet["calls"] < full["calls"]
    assert changed["changed_enrolments"] == 6 and changed["reread"] >= 6 and changed["calls"] < full["calls"]
    together = rows[60, "2 sites at once, full"]
    assert together["enrolments"] == 60 and together["reread"] == 60
    assert together["calls"] == rows[30, "centre1 alone, full"]["calls"] + rows[30, "centre2 alone, full"]["calls"]
    assert all(r["peak_mb"] > 0 and r["wall"] > 0 for r in data["rows"])
    assert data["sites"]["ratio"] > 0 and data["idle_peak_mb"] > 0
