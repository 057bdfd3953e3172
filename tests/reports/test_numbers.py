"""Rounding as shown: half up everywhere (not Python's half to even), and a gain that adds up."""

from __future__ import annotations

import pytest

from moodle_sync.reports.aggregate import GroupStats
from moodle_sync.reports.html import _cards
from moodle_sync.reports.i18n import labels
from moodle_sync.reports.numbers import round_half_up, shown_gain
from moodle_sync.reports.tables import STAT_FIELDS, cell_text, rounded, stat_cells

L = labels("en")


@pytest.mark.parametrize("value,digits,shown", [(12.25, 1, 12.3), (0.05, 1, 0.1), (2.675, 2, 2.68), (0.5, 0, 1.0),
                                                (2.5, 0, 3.0), (12.249999, 1, 12.2), (-0.04, 1, 0.0),
                                                (-2.25, 1, -2.3), (100.0, 1, 100.0)])
def test_round_half_up(value: float, digits: int, shown: float) -> None:
    assert round_half_up(value, digits) == shown


def test_cells_round_half_up_in_both_languages() -> None:
    assert (rounded(12.25), cell_text(12.25, "en"), cell_text(12.25, "id"), cell_text(0.45, "id")) == (
        12.3, "12.3", "12,3", "0,5")


def _stats(pre: float | None, post: float | None) -> GroupStats:
    return GroupStats("x", 8, 1, 4, 1, 12.25, 2.25, 1, 87.65, 1, pre, post,
                      post - pre if pre is not None and post is not None else None, 1)


def test_a_row_of_pre_post_and_gain_adds_up_as_shown() -> None:
    cells = dict(zip(STAT_FIELDS, stat_cells(_stats(12.25, 50.04))))
    assert (cells["completion_pct"], cells["median_days"], cells["grade_mean_pct"]) == (12.3, 2.3, 87.7)
    assert (cells["pre_mean_pct"], cells["post_mean_pct"], cells["gain_pct"]) == (12.3, 50.0, 37.7)
    assert shown_gain(None, 50.0) is None and dict(zip(STAT_FIELDS, stat_cells(_stats(None, None))))["gain_pct"] is None


def test_the_html_gain_card_is_the_tables_gain() -> None:
    from moodle_sync.reports.aggregate import Report

    total = _stats(12.25, 50.04)
    report = Report("o", "O", 0, 14, None, total, {}, [])
    gain = next(c["value"] for c in _cards(report, L, "en") if c["label"].startswith(L["gain_pct"]))
    assert gain == "37.7"
