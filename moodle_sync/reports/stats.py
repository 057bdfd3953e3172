"""Numbers an evaluator trusts, from paired pre-/post-test scores (percent, 0-100). Pure; standard library only.

- normalised gain (Hake's class-average gain): ``(post mean - pre mean) / (100 - pre mean)``, the share of
  what a group could still gain that it gained; None when the pre-test mean is 100 (nothing left to gain);
- paired effect size: Cohen's d_z, the mean of the paired differences over their standard deviation (n - 1);
- its 95% confidence interval: ``d_z ± t(0.975, n - 1) · sqrt(1/n + d_z² / (2n))`` (the usual large-sample
  standard error of d_z; with the t quantile rather than 1.96 for small groups);
- groups with fewer than :data:`MIN_GROUP` paired scores are *small*: their effect size is reported but
  flagged, and renderers show the flag instead of a figure to compare (too few people to rank).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MIN_GROUP = 10
"""Groups with fewer paired scores than this are flagged, not compared."""


@dataclass(frozen=True)
class EffectSize:
    """A paired effect size with its 95% confidence interval (``low`` <= ``d`` <= ``high``)."""

    d: float
    low: float
    high: float
    n: int


def normalised_gain(pre_mean: float | None, post_mean: float | None) -> float | None:
    """Hake's normalised gain of a group from its pre- and post-test means (percent): None when either is
    missing or the pre-test mean leaves nothing to gain (100 or more)."""
    if pre_mean is None or post_mean is None or pre_mean >= 100.0:
        return None
    return (post_mean - pre_mean) / (100.0 - pre_mean)


def t_quantile_975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom (>= 1): exact up to 4, a
    Cornish-Fisher expansion around the normal quantile from 5 on (within 0.0003)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, not {df}")
    if df == 1:
        return 12.706204736174698
    exact = {2: 4.302652729749464, 3: 3.182446305284263, 4: 2.7764451051977987}
    if df in exact:
        return exact[df]
    z = statistics.NormalDist().inv_cdf(0.975)
    v = float(df)
    return (z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * v ** 3)
            + (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / (92160 * v ** 4))


def paired_effect_size(pairs: Sequence[tuple[float, float]]) -> EffectSize | None:
    """Cohen's d_z of ``(pre, post)`` pairs with its 95% confidence interval; None with fewer than two
    pairs or when every difference is the same (no spread: d is undefined)."""
    n = len(pairs)
    if n < 2:
        return None
    diffs = [post - pre for pre, post in pairs]
    sd = statistics.stdev(diffs)
    if sd == 0:
        return None
    d = statistics.fmean(diffs) / sd
    half = t_quantile_975(n - 1) * math.sqrt(1.0 / n + d * d / (2.0 * n))
    return EffectSize(d, d - half, d + half, n)


def is_small(n: int) -> bool:
    """Whether a group of ``n`` paired scores is too small to compare (fewer than :data:`MIN_GROUP`)."""
    return n < MIN_GROUP
