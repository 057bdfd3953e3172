"""Readability: courses named as people call them, not by key; the pre/post chart lies down for many
courses; the progress chart from the first pull; the follow-up wording once a course has ended."""

from __future__ import annotations

import re

from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.reports import charts
from moodle_sync.reports.aggregate import GroupStats, ProgressPoint, build_report
from moodle_sync.reports.i18n import labels
from moodle_sync.reports.source import course_ends, course_names
from moodle_sync.reports.tables import follow_up_table, stats_table

L = labels("en")
NOW = 1_790_000_000
DATA = {"courses": [
    {"key": "metro", "regency": "metro", "fullname": "Koding 2026 — Kota Metro", "end_date": NOW - 86_400},
    {"key": "pesawaran", "regency": "pesawaran", "fullname": "Koding 2026 — Pesawaran", "end_date": NOW + 86_400},
    {"key": "OLD-1", "regency": "metro", "fullname": "Koding 2023 (lama)", "adopted": True, "end_date": 0}]}


def test_courses_are_named_by_regency_or_full_name() -> None:
    assert course_names(DATA) == {"metro": "Kota Metro", "pesawaran": "Kabupaten Pesawaran",
                                  "OLD-1": "Koding 2023 (lama)"}
    assert course_names({"courses": [{"key": "main", "regency": None, "fullname": "Koding 2026"}]}) == {
        "main": "Koding 2026"}
    assert course_ends(DATA) == {"metro": NOW - 86_400, "pesawaran": NOW + 86_400}


def _snap(user: int, key: str, **kw: object) -> CompletionSnapshot:
    return CompletionSnapshot("o", 1 if key == "metro" else 2, key, user, f"u{user}@x.id", f"U{user}",
                              class_name="Kelas A", **kw)  # type: ignore[arg-type]


def test_tables_show_names_and_the_json_keeps_keys() -> None:
    report = build_report("o", [_snap(1, "metro"), _snap(2, "pesawaran", last_access=NOW - 20 * 86_400,
                                                         activities_done=1, activities_total=5)],
                          now=NOW, course_names=course_names(DATA), course_ends=course_ends(DATA))
    assert [r[0] for r in stats_table(report, "course", L).rows][:2] == ["Kota Metro", "Kabupaten Pesawaran"]
    assert [r[0] for r in stats_table(report, "class", L).rows][:2] == ["Kota Metro / Kelas A",
                                                                        "Kabupaten Pesawaran / Kelas A"]
    assert [g.group for g in report.breakdowns["course"]] == ["metro", "pesawaran"]
    follow = {r[0]: r[5] for r in follow_up_table(report, L).rows}
    assert follow == {"Kota Metro": "did not start (course ended)", "Kabupaten Pesawaran": "stalled"}
    assert follow_up_table(report, labels("id")).rows[0][5] == "tidak memulai (kursus sudah berakhir)"


def _height(svg: str) -> float:
    return float(re.search(r'height="([\d.]+)pt"', svg).group(1))  # type: ignore[union-attr]


def _group(name: str) -> GroupStats:
    return GroupStats(name, 20, 0, 15, 10, 50.0, None, 0, None, 0, 40.0, 70.0, 30.0, 15)


def test_the_pre_post_chart_lies_down_for_fifteen_courses() -> None:
    few = charts.pre_post([_group(f"c{i}") for i in range(3)], "t", L, "?")
    many = charts.pre_post([_group(f"Kabupaten Lampung {i}") for i in range(15)], "t", L, "?")
    assert few and many and _height(many) > 2 * _height(few)


def test_the_progress_chart_from_one_pull_draws_bars() -> None:
    one = charts.progress_over_time([ProgressPoint("2026-08-03", 30, 12, 0)], "Progress", L)
    two = charts.progress_over_time([ProgressPoint("2026-08-03", 30, 12, 0), ProgressPoint("2026-08-04", 30, 14, 1)],
                                    "Progress", L)
    assert one and two and "<path" in one
    assert one.count("<g id=\"progress-patch_") > two.count("<g id=\"progress-patch_")   # three bars, no lines
