"""How reports round the numbers they show: half up (12.25 -> 12.3, 0.5 -> 1), everywhere — tables,
CSV/XLSX, HTML, charts. Python's ``round`` and ``%``-formatting round half to even on the binary value
(12.25 -> "12.2"); this rounds the decimal a person would read (the float's shortest repr)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def round_half_up(value: float, digits: int = 1) -> float:
    """``value`` rounded to ``digits`` decimals, halves away from zero (-0.0 comes back as 0.0)."""
    exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return float(exact) + 0.0


def shown_gain(pre: float | None, post: float | None, digits: int = 1) -> float | None:
    """The gain a report shows beside pre and post rounded to ``digits``: the rounded post minus the
    rounded pre (so the row adds up as printed); None when either is missing."""
    if pre is None or post is None:
        return None
    return round_half_up(round_half_up(post, digits) - round_half_up(pre, digits), digits)
