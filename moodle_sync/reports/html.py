"""The HTML report: one self-contained file (inline CSS and SVG charts; no scripts, fonts or links to
fetch), rendered with Jinja2 (autoescaped) from ``report.html.j2`` beside this module. It prints on A4
with page breaks before the detailed tables and the follow-up list."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from .._version import __version__
from ..localtime import WIB
from . import charts
from .aggregate import Report
from .i18n import labels
from .numbers import shown_gain
from .tables import Fixed, cell_text, dimensions, follow_up_table, progress_table, stats_table


def _environment() -> Environment:
    return Environment(loader=PackageLoader("moodle_sync", "reports"),
                       autoescape=select_autoescape(["html", "j2"], default=True),
                       trim_blocks=True, lstrip_blocks=True)


def _when(timestamp: int | None) -> str:
    if not timestamp:
        return ""
    return datetime.fromtimestamp(timestamp, WIB).strftime("%Y-%m-%d %H:%M WIB")


def _texts(rows: list[list[Any]], lang: str) -> list[list[str]]:
    return [[cell_text(c, lang) for c in row] for row in rows]


def _cards(report: Report, L: Mapping[str, str], lang: str) -> list[dict[str, str]]:
    t = report.total
    cards: list[tuple[str, Any]] = [(L["enrolled"], t.enrolled)]
    if t.withdrawn:
        cards.append((L["withdrawn"], t.withdrawn))
    cards += [(L["started"], t.started), (L["completed"], t.completed), (L["completion_pct"], t.completion_pct),
              (L["median_days"], t.median_days)]
    if t.gain_pct is not None:
        cards.append((f'{L["gain_pct"]} (n={t.prepost_n})', shown_gain(t.pre_mean_pct, t.post_mean_pct)))
    if t.norm_gain is not None:
        cards.append((L["norm_gain_pct"], t.norm_gain * 100.0))
    shown = [{"label": label, "value": cell_text(value, lang)} for label, value in cards]
    d, low, high = t.effect_size, t.effect_low, t.effect_high
    if d is not None and low is not None and high is not None and not t.small:   # small: not for comparison
        d_text, low_text, high_text = (cell_text(Fixed(v), lang) for v in (d, low, high))
        shown.append({"label": f'{L["effect_size"]} [95%]', "value": f"{d_text} [{low_text}; {high_text}]"})
    return shown


def _charts(report: Report, L: Mapping[str, str]) -> list[dict[str, str]]:
    by_course = report.breakdowns["course"]
    prepost_rows = by_course if len(by_course) > 1 else report.breakdowns["regency"]
    by_site = report.breakdowns.get("site", [])
    drawn = [
        (charts.completion_by_group(by_site, L["chart_completion_by_site"], L["unknown"], "completion-site")
         if by_site else None,
         L["chart_completion_by_site"]),
        (charts.completion_by_group(report.breakdowns["regency"], L["chart_completion_by_regency"], L["unknown"]),
         L["chart_completion_by_regency"]),
        (charts.progress_over_time(report.progress, L["chart_progress"], L), L["chart_progress"]),
        (charts.pre_post(prepost_rows, L["chart_prepost"], L, L["unknown"]), L["chart_prepost"]),
    ]
    return [{"svg": svg, "caption": caption} for svg, caption in drawn if svg]


def centres(report: Report) -> str:
    """The centre(s) a report is of, for its heading: one name, several joined by commas, or ''."""
    return ", ".join(s.site_name or s.site_id or "" for s in report.sites) or report.site_name or ""


def render_html(report: Report, lang: str = "id") -> str:
    """The report as one HTML document in ``lang``. Raises ``ValueError`` for an unknown language."""
    L = labels(lang)
    follow = follow_up_table(report, L)
    groups: list[dict[str, Any]] = []
    for entry, row in zip(report.follow_up, _texts(follow.rows, lang)):
        title = f'{entry.course_label or entry.course_key} / {entry.class_name or L["unknown"]}'
        if not groups or groups[-1]["title"] != title:
            groups.append({"title": title, "rows": []})
        groups[-1]["rows"].append(row[2:])
    stats = [stats_table(report, d, L) for d in dimensions(report)]
    progress = progress_table(report, L)
    return _environment().get_template("report.html.j2").render(
        lang=lang, L=L, version=__version__, report=report, centres=centres(report),
        generated=_when(report.generated_at), last_pull=_when(report.last_pulled_at),
        cards=_cards(report, L, lang), charts=_charts(report, L),
        stats_tables=[{"title": t.title, "header": t.header, "rows": _texts(t.rows, lang)} for t in stats],
        progress={"title": progress.title, "header": progress.header, "rows": _texts(progress.rows, lang)},
        follow_up_note=L["follow_up_note"].format(days=report.stalled_days),
        follow_up_header=follow.header[2:], follow_up_groups=groups)
