"""A :class:`~moodle_sync.reports.aggregate.Report` as labelled tables: what every renderer prints.

Cells are plain values (text, int, float rounded half up to one decimal, or None for "no value"), so
the CSV and XLSX writers keep numbers as numbers; the table and HTML renderers format them. The gain
cell is the rounded post-test mean minus the rounded pre-test mean, so a row adds up as shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .aggregate import DIMENSIONS, FollowUpEntry, GroupStats, Report, day_of
from .numbers import round_half_up, shown_gain
from .reach import ReachReport

STAT_FIELDS = ("enrolled", "withdrawn", "started", "completed", "completion_pct", "median_days", "grade_mean_pct",
               "pre_mean_pct", "post_mean_pct", "gain_pct", "prepost_n", "norm_gain_pct", "effect_size",
               "effect_low", "effect_high", "small_note")
EFFECT_DIGITS = 2


class Fixed(float):
    """A float shown with ``digits`` decimals (an effect size): still a number in CSV and XLSX."""

    digits: int = EFFECT_DIGITS


@dataclass(frozen=True)
class ReportTable:
    """One table: ``name`` is stable (site, course, class, regency, school_level, follow_up, progress, reach,
    reach_level, reach_site)."""

    name: str
    title: str
    header: list[str]
    rows: list[list[Any]]


def rounded(value: Any) -> Any:
    """Floats to one decimal (a :class:`Fixed` to its own digits), half up; everything else unchanged."""
    if isinstance(value, Fixed):
        return Fixed(round_half_up(value, value.digits))
    return round_half_up(value, 1) if isinstance(value, float) else value


def stat_cells(stats: GroupStats, L: Mapping[str, str] | None = None) -> list[Any]:
    """The cells of :data:`STAT_FIELDS` for one group: rounded, the gain from the rounded means, the
    normalised gain in percent; a small group's effect size left out and its note set (``L["small"]``)."""
    cells = {f: rounded(getattr(stats, f, None)) for f in STAT_FIELDS}
    cells["gain_pct"] = shown_gain(stats.pre_mean_pct, stats.post_mean_pct)
    cells["norm_gain_pct"] = rounded(stats.norm_gain * 100.0) if stats.norm_gain is not None else None
    shown = not stats.small
    for f in ("effect_size", "effect_low", "effect_high"):
        value = getattr(stats, f)
        cells[f] = rounded(Fixed(value)) if shown and value is not None else None
    cells["small_note"] = ((L or {}).get("small_group", "n < 10").format(n=stats.prepost_n)
                           if stats.small and stats.prepost_n else None)
    return [cells[f] for f in STAT_FIELDS]


def _stat_row(label: str, stats: GroupStats, L: Mapping[str, str]) -> list[Any]:
    return [label, *stat_cells(stats, L)]


def group_label(group: str | None, L: Mapping[str, str]) -> str:
    return L["unknown"] if group is None else group


def stats_table(report: Report, dimension: str, L: Mapping[str, str], *, short: bool = False) -> ReportTable:
    """The figures per group of ``dimension``, with the whole offering as the last row (``short``:
    brief column headings, for a terminal)."""
    rows = [_stat_row(g.label or group_label(g.group, L), g, L) for g in report.breakdowns[dimension]]
    rows.append(_stat_row(L["total"], report.total, L))
    header = [L[dimension], *(L[f"short_{f}" if short else f] for f in STAT_FIELDS)]
    return ReportTable(dimension, L[f"by_{dimension}"], header, rows)


def summary_table(report: Report, L: Mapping[str, str]) -> ReportTable:
    """Every breakdown in one long table (first column: which breakdown), then the overall row."""
    rows = [[L[d], g.label or group_label(g.group, L), *stat_cells(g, L)] for d in dimensions(report)
            for g in report.breakdowns[d]]
    rows.append([L["total"], L["total"], *stat_cells(report.total, L)])
    return ReportTable("summary", L["summary"], [L["dimension"], L["group"], *(L[f] for f in STAT_FIELDS)],
                       rows)


def follow_up_table(report: Report, L: Mapping[str, str]) -> ReportTable:
    """The follow-up list, by course and class."""
    header = [L["course"], L["class"], L["name"], L["email"], L["phone"], L["reason"], L["last_access"],
              L["days_since_access"], L["activities"], L["progress"]]
    rows = [[e.course_label or e.course_key, e.class_name, e.fullname, e.email, e.phone, reason_text(e, L),
             day_of(e.last_access) if e.last_access else L["never"], e.days_since_access,
             f"{e.activities_done}/{e.activities_total}", rounded(e.progress_pct)]
            for e in report.follow_up]
    return ReportTable("follow_up", L["follow_up"], header, rows)


def reason_text(entry: FollowUpEntry, L: Mapping[str, str]) -> str:
    """Why someone is followed up, worded for a course still running or one that has ended."""
    return L[f"{entry.reason}_ended"] if entry.course_ended else L[entry.reason]


def progress_table(report: Report, L: Mapping[str, str]) -> ReportTable:
    """Enrolled, started, completed and withdrawn counts per pull date."""
    return ReportTable("progress", L["progress_over_time"],
                       [L["date"], L["enrolled"], L["started"], L["completed"], L["withdrawn"]],
                       [[p.date, p.enrolled, p.started, p.completed, p.withdrawn] for p in report.progress])


def all_tables(report: Report, L: Mapping[str, str], *, short: bool = False) -> list[ReportTable]:
    """The per-dimension tables, the progress table and the follow-up list, in reading order."""
    return [*(stats_table(report, d, L, short=short) for d in dimensions(report)), progress_table(report, L),
            follow_up_table(report, L)]


def dimensions(report: Report) -> list[str]:
    """The report's breakdowns in reading order: by centre first (a report over several centres), then
    :data:`~.aggregate.DIMENSIONS`."""
    return [d for d in ("site", *DIMENSIONS) if d in report.breakdowns]


def cell_text(value: Any, lang: str = "en", empty: str = "–") -> str:
    """A cell for people: None as ``empty``, floats with one decimal rounded half up (a decimal comma in
    Indonesian)."""
    if value is None:
        return empty
    if isinstance(value, float):
        digits = value.digits if isinstance(value, Fixed) else 1
        text = f"{round_half_up(value, digits):.{digits}f}"
        return text.replace(".", ",") if lang == "id" else text
    return str(value)


def reach_table(report: ReachReport, L: Mapping[str, str]) -> ReportTable:
    """Pemerataan per regency: applicants, selected, completed, never-trained reached; the total last."""
    header = [L["regency"], L["applicants"], L["selected"], L["completed"], L["never_trained"]]
    rows = [[group_label(r.regency, L), r.applicants, r.selected, r.completed, r.never_trained] for r in report.rows]
    t = report.total
    rows.append([L["total"], t.applicants, t.selected, t.completed, t.never_trained])
    return ReportTable("reach", L["reach_title"].format(scope=report.scope), header, rows)


def reach_levels_table(report: ReachReport, L: Mapping[str, str]) -> ReportTable:
    """Pemerataan per school level (by stage; unknown last), the total last."""
    header = [L["school_level"], L["applicants"], L["selected"], L["completed"], L["never_trained"]]
    rows: list[list[Any]] = [[group_label(r.school_level, L), r.applicants, r.selected, r.completed,
                              r.never_trained] for r in report.levels]
    t = report.total
    rows.append([L["total"], t.applicants, t.selected, t.completed, t.never_trained])
    return ReportTable("reach_level", L["reach_by_level"].format(scope=report.scope), header, rows)


def reach_sites_table(report: ReachReport, L: Mapping[str, str]) -> ReportTable:
    """Pemerataan per centre (each centre's own totals; a person trained at two centres is in both), then
    the total over all of them (that person once)."""
    header = [L["site"], L["applicants"], L["selected"], L["completed"], L["never_trained"]]
    rows: list[list[Any]] = [[s.site_name or s.site_id, s.total.applicants, s.total.selected, s.total.completed,
                              s.total.never_trained] for s in report.sites]
    t = report.total
    rows.append([L["total"], t.applicants, t.selected, t.completed, t.never_trained])
    return ReportTable("reach_site", L["reach_by_site"].format(scope=report.scope), header, rows)
