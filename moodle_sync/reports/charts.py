"""Charts for the HTML report, as inline SVG text drawn by matplotlib without pyplot (no GUI, no global
state). Text is drawn as paths, so the SVG needs no fonts; ids inside each SVG get a per-chart prefix so
that several charts can share one HTML document. Each function returns None when there is nothing to draw.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any

from .aggregate import GroupStats, ProgressPoint
from .numbers import round_half_up, shown_gain

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

BLUE, ORANGE, GREEN, GREY = "#1f5fa8", "#e08a1e", "#2e8b57", "#9aa4ae"
_RC: dict[RcKeyType, Any] = {"svg.fonttype": "path", "svg.hashsalt": "moodle-sync", "font.size": 9,
                             "axes.spines.top": False, "axes.spines.right": False}
# Metadata keys matplotlib would write into the SVG (with links to schema sites): none of them.
_NO_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}


def _style() -> AbstractContextManager[Any]:
    """matplotlib's settings for our charts (matplotlib is imported here, on first use: it is slow)."""
    from matplotlib import rc_context

    return rc_context(_RC)


def to_svg(figure: Figure, prefix: str) -> str:
    """The figure as an ``<svg>`` element for inlining in HTML: no XML prologue, metadata or comments
    (matplotlib writes each label into a comment), ids prefixed with ``prefix``."""
    buffer = io.StringIO()
    with _style():
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA, bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*|<!--.*?-->\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'(xlink:href|href)="#([^"]+)"', rf'\1="#{prefix}-\2"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return svg.replace("<svg ", '<svg role="img" ', 1)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96, layout="constrained")


def completion_by_group(rows: Sequence[GroupStats], title: str, unknown: str,
                        prefix: str = "completion") -> str | None:
    """Horizontal bars: the completion rate of each group (e.g. each regency); ``prefix`` keeps the SVG's
    ids apart from another such chart's in the same document."""
    drawn = [r for r in rows if r.completion_pct is not None]
    if not drawn:
        return None
    with _style():
        fig = _figure(7.0, 0.9 + 0.32 * len(drawn))
        ax = fig.add_subplot()
        names = [r.label or r.group or unknown for r in drawn][::-1]
        values = [r.completion_pct or 0.0 for r in drawn][::-1]
        bars = ax.barh(names, values, color=BLUE)
        ax.bar_label(bars, labels=[f"{round_half_up(v, 0):.0f}%" for v in values], padding=3)
        ax.set_xlim(0, 110)
        ax.set_title(title, loc="left")
    return to_svg(fig, prefix)


def progress_over_time(points: Sequence[ProgressPoint], title: str, labels: Mapping[str, str]) -> str | None:
    """Lines: enrolled (dashed), started and completed per pull date; from one pull date only (the first
    pull), bars of the three counts that day, which a line of one point cannot show."""
    if not points:
        return None
    if len(points) == 1:
        return _progress_bars(points[0], title, labels)
    with _style():
        fig = _figure(7.0, 3.0)
        ax = fig.add_subplot()
        from matplotlib.dates import AutoDateLocator, DateFormatter, date2num

        days = [float(date2num(date.fromisoformat(p.date))) for p in points]
        ax.plot(days, [p.enrolled for p in points], color=GREY, linestyle="--", label=labels["enrolled"])
        ax.plot(days, [p.started for p in points], color=ORANGE, marker="o", label=labels["started"])
        ax.plot(days, [p.completed for p in points], color=GREEN, marker="o", label=labels["completed"])
        if len(set(days)) > 1:
            ax.xaxis.set_major_locator(AutoDateLocator(maxticks=8))
        else:
            ax.set_xticks(days)
        ax.xaxis.set_major_formatter(DateFormatter("%d/%m"))   # day/month: read the same in both languages
        ax.set_ylim(0, max(p.enrolled for p in points) * 1.08 or 1)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.set_title(title, loc="left")
    return to_svg(fig, "progress")


def _progress_bars(point: ProgressPoint, title: str, labels: Mapping[str, str]) -> str:
    """The counts of a single pull date as bars, with the date in the title."""
    with _style():
        fig = _figure(7.0, 2.0)
        ax = fig.add_subplot()
        names = [labels["enrolled"], labels["started"], labels["completed"]][::-1]
        values = [point.enrolled, point.started, point.completed][::-1]
        bars = ax.barh(names, values, color=[GREEN, ORANGE, GREY])
        ax.bar_label(bars, labels=[str(v) for v in values], padding=3)
        ax.set_xlim(0, max(values) * 1.12 or 1)
        shown = date.fromisoformat(point.date).strftime("%d/%m/%Y")
        ax.set_title(f"{title} ({shown})", loc="left")
    return to_svg(fig, "progress")


def _pre_post_rows(rows: Sequence[GroupStats], title: str, labels: Mapping[str, str], unknown: str) -> str:
    """Many groups (more than :data:`UPRIGHT_MAX`): horizontal paired bars, one row per group, the names
    readable in full and each pair labelled "pre → post (gain)"."""
    with _style():
        fig = _figure(7.5, 1.0 + 0.42 * len(rows))
        ax = fig.add_subplot()
        ys = list(range(len(rows)))[::-1]
        ax.barh([y + 0.2 for y in ys], [r.pre_mean_pct or 0.0 for r in rows], 0.4, color=GREY,
                label=labels["pretest"])
        post = ax.barh([y - 0.2 for y in ys], [r.post_mean_pct or 0.0 for r in rows], 0.4, color=BLUE,
                       label=labels["posttest"])
        ax.bar_label(post, labels=[f"{round_half_up(r.pre_mean_pct or 0.0, 0):.0f} → "
                                   f"{round_half_up(r.post_mean_pct or 0.0, 0):.0f} "
                                   f"({shown_gain(r.pre_mean_pct, r.post_mean_pct, 0) or 0.0:+.0f})" for r in rows],
                     padding=3)
        ax.set_yticks(ys, [r.label or r.group or unknown for r in rows])
        ax.set_xlim(0, 130)
        ax.set_xticks([0, 20, 40, 60, 80, 100])
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncols=2)
        ax.set_title(title, loc="left")
    return to_svg(fig, "prepost")


UPRIGHT_MAX = 6
"""Up to this many groups, the pre/post chart stands upright; more lie down, one row each."""


def pre_post(rows: Sequence[GroupStats], title: str, labels: Mapping[str, str], unknown: str) -> str | None:
    """Paired bars: pre-test and post-test means per group, with the gain written above each pair (whole
    points, rounded half up; the gain from the rounded means, so the labels add up). More than
    :data:`UPRIGHT_MAX` groups (15 regencies' courses) are drawn lying down, so every name can be read."""
    drawn = [r for r in rows if r.pre_mean_pct is not None and r.post_mean_pct is not None]
    if not drawn:
        return None
    if len(drawn) > UPRIGHT_MAX:
        return _pre_post_rows(drawn, title, labels, unknown)
    with _style():
        fig = _figure(7.0, 3.2)
        ax = fig.add_subplot()
        xs = list(range(len(drawn)))
        pre = ax.bar([x - 0.2 for x in xs], [r.pre_mean_pct or 0.0 for r in drawn], 0.4, color=GREY,
                     label=labels["pretest"])
        post = ax.bar([x + 0.2 for x in xs], [r.post_mean_pct or 0.0 for r in drawn], 0.4, color=BLUE,
                      label=labels["posttest"])
        ax.bar_label(pre, labels=[f"{round_half_up(r.pre_mean_pct or 0.0, 0):.0f}" for r in drawn], padding=2)
        ax.bar_label(post, labels=[f"{round_half_up(r.post_mean_pct or 0.0, 0):.0f} "
                                   f"({shown_gain(r.pre_mean_pct, r.post_mean_pct, 0) or 0.0:+.0f})" for r in drawn],
                     padding=2)
        ax.set_xticks(xs, [r.label or r.group or unknown for r in drawn], rotation=30 if len(drawn) > 4 else 0,
                      ha="right" if len(drawn) > 4 else "center")
        ax.set_ylim(0, 115)
        ax.legend(loc="upper left", frameon=False, ncols=2)
        ax.set_title(title, loc="left")
    return to_svg(fig, "prepost")
