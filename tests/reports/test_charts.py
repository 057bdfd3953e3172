"""Charts: nothing to draw gives None; the SVG is fit for inlining and carries no label text as markup."""

from __future__ import annotations

import re

from moodle_sync.reports import charts
from moodle_sync.reports.aggregate import GroupStats, ProgressPoint
from moodle_sync.reports.i18n import labels

L = labels("en")


def stats(group: str | None, pct: float | None, pre: float | None = None, post: float | None = None) -> GroupStats:
    gain = post - pre if pre is not None and post is not None else None
    return GroupStats(group, 4, 0, 2, 1, pct, None, 0, None, 0, pre, post, gain, 1 if gain is not None else 0)


def test_nothing_to_draw() -> None:
    assert charts.completion_by_group([], "t", "?") is None
    assert charts.completion_by_group([stats("x", None)], "t", "?") is None
    assert charts.progress_over_time([], "t", L) is None
    assert charts.pre_post([stats("x", 50.0, pre=40.0)], "t", L, "?") is None


def test_svg_is_inline_ready_and_label_text_is_not_markup() -> None:
    hostile = "--><script>alert(1)</script><!--"
    svg = charts.completion_by_group([stats(hostile, 25.0), stats(None, 50.0)], "Completion", "(unknown)")
    assert svg is not None and svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<script" not in svg and "<!--" not in svg and "<?xml" not in svg and "<metadata" not in svg
    assert 'id="completion-' in svg and ' id="' in svg
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("completion-") for i in ids)
    refs = re.findall(r'href="#([^"]+)"|url\(#([^)]+)\)', svg)
    assert refs and all((a or b) in ids for a, b in refs)


def test_single_pull_and_pre_post_pairs_draw() -> None:
    one_day = charts.progress_over_time([ProgressPoint("2026-07-06", 30, 12, 0)], "t", L)
    pairs = charts.pre_post([stats("ls", 50.0, 40.0, 75.0), stats("metro", 20.0, 55.0, 50.0)], "t", L, "?")
    assert one_day is not None and one_day.startswith("<svg") and 'id="progress-' in one_day
    assert pairs is not None and 'id="prepost-' in pairs
