"""Numbers an evaluator trusts: normalised gain, the paired effect size with its 95% CI (worked out by
hand), and groups under ten people flagged instead of compared."""

from __future__ import annotations

import math

import pytest

from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.reports.aggregate import group_stats
from moodle_sync.reports.i18n import labels
from moodle_sync.reports.stats import is_small, normalised_gain, paired_effect_size, t_quantile_975
from moodle_sync.reports.tables import STAT_FIELDS, cell_text, stat_cells

PRE = [40, 50, 60, 30, 20, 50, 45, 55, 35, 65]
DIFF = [10, 20, 30, 10, 20, 30, 10, 20, 30, 20]
PAIRS = [(float(p), float(p + d)) for p, d in zip(PRE, DIFF)]


def test_normalised_gain_is_the_share_of_what_was_left_to_gain() -> None:
    assert normalised_gain(45.0, 65.0) == pytest.approx(20 / 55)
    assert normalised_gain(80.0, 70.0) == pytest.approx(-0.5)
    assert normalised_gain(100.0, 100.0) is None and normalised_gain(None, 50.0) is None


@pytest.mark.parametrize("df,t", [(1, 12.7062), (2, 4.3027), (4, 2.7764), (5, 2.5706), (9, 2.2622), (29, 2.0452),
                                  (120, 1.9799)])
def test_t_quantile_matches_the_tables(df: int, t: float) -> None:
    assert t_quantile_975(df) == pytest.approx(t, abs=3e-4)


def test_paired_effect_size_and_its_interval_by_hand() -> None:
    # differences: mean 20, sd sqrt(600 / 9); d = 20 / 8.165 = 2.449; SE = sqrt(1/10 + d^2/20) = sqrt(0.4)
    effect = paired_effect_size(PAIRS)
    assert effect is not None and effect.n == 10
    d = 20 / math.sqrt(600 / 9)
    assert effect.d == pytest.approx(d)
    half = 2.262157 * math.sqrt(0.4)
    assert effect.low == pytest.approx(d - half, abs=1e-4) and effect.high == pytest.approx(d + half, abs=1e-4)


def test_no_effect_size_without_spread_or_pairs() -> None:
    assert paired_effect_size([(10.0, 20.0)]) is None
    assert paired_effect_size([(10.0, 20.0), (30.0, 40.0)]) is None   # every difference the same


def _snaps(n: int) -> list[CompletionSnapshot]:
    return [CompletionSnapshot("o", 1, "ls", i, f"u{i}@x.id", f"U{i}", pretest_grade=float(pre), pretest_max=100.0,
                               posttest_grade=float(pre + d), posttest_max=100.0)
            for i, (pre, d) in enumerate(zip(PRE[:n], DIFF[:n]))]


def test_a_group_of_ten_is_compared_and_one_of_nine_is_flagged() -> None:
    L = labels("en")
    ten = dict(zip(STAT_FIELDS, stat_cells(group_stats("ls", _snaps(10)), L)))
    assert ten["norm_gain_pct"] == 36.4 and ten["small_note"] is None
    assert (cell_text(ten["effect_size"]), cell_text(ten["effect_low"]), cell_text(ten["effect_high"], "id")) == (
        "2.45", "1.02", "3,88")
    nine_stats = group_stats("ls", _snaps(9))
    assert nine_stats.small and nine_stats.effect_size is not None       # kept in the JSON document
    nine = dict(zip(STAT_FIELDS, stat_cells(nine_stats, L)))
    assert (nine["effect_size"], nine["effect_low"], nine["effect_high"]) == (None, None, None)
    assert nine["small_note"] == "only 9 with pre & post: not compared"
    assert is_small(9) and not is_small(10)


def test_the_html_cards_give_the_effect_size_with_its_interval_only_for_ten_or_more() -> None:
    from moodle_sync.reports.aggregate import Report
    from moodle_sync.reports.html import _cards

    def cards(n: int) -> dict[str, str]:
        report = Report("o", "o", 0, 14, None, group_stats(None, _snaps(n)), {}, [])
        return {c["label"]: c["value"] for c in _cards(report, labels("id"), "id")}

    assert cards(10)["Ukuran efek (d berpasangan) [95%]"] == "2,45 [1,02; 3,88]"
    assert cards(10)["Gain ternormalisasi (%)"] == "36,4"
    assert "Ukuran efek (d berpasangan) [95%]" not in cards(9)
