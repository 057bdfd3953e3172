"""Renderers of a :class:`~moodle_sync.reports.aggregate.Report`: rich tables, JSON, CSV and XLSX files.

CSV and XLSX go through :mod:`moodle_sync.tabular`, which neutralises cells a spreadsheet would run as
formulas. CSV holds one table per file, so a CSV report is three files: the summary (every breakdown in one
long table), ``<name>-follow-up.csv`` and ``<name>-progress.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from ..files import write_private_text
from ..tabular import CSV_DIALECTS, Sheet, write_csv, write_xlsx
from .aggregate import Report
from .html import centres, render_html
from .i18n import labels
from .reach import ReachReport
from .tables import (
    ReportTable,
    all_tables,
    cell_text,
    follow_up_table,
    progress_table,
    reach_levels_table,
    reach_sites_table,
    reach_table,
    summary_table,
)

FORMATS = ("table", "csv", "xlsx", "html", "json")


def print_tables(report: Report, console: Console, lang: str = "id") -> None:
    """Print the report as rich tables."""
    L = labels(lang)
    t = report.total
    console.print(f"[bold]{escape(report.title)}[/bold] ({escape(report.offering_id)}): {L['enrolled']} "
                  f"{t.enrolled}, {L['started']} {t.started}, {L['completed']} {t.completed}, {L['withdrawn']} "
                  f"{t.withdrawn}", markup=True, highlight=False)
    if centres(report):
        console.print(f"{L['sites'] if report.sites else L['site']}: {centres(report)}", markup=False,
                      highlight=False)
    for table in all_tables(report, L, short=True):
        _print_table(console, table, report.stalled_days, lang)


def _print_table(console: Console, table: ReportTable, stalled_days: int, lang: str) -> None:
    """Print one of a report's tables (the follow-up list with its note, or that nobody needs it)."""
    L = labels(lang)
    if table.name == "follow_up":
        if not table.rows:
            console.print(f"{table.title}: {L['nobody_to_follow_up']}", markup=False)
            return
        console.print(f"{table.title}: {L['follow_up_note'].format(days=stalled_days)}", markup=False)
    out = Table(title=None if table.name == "follow_up" else table.title, title_justify="left",
                box=box.SIMPLE_HEAD)
    texts = [[cell_text(c, lang) for c in row] for row in table.rows]
    for i, head in enumerate(table.header):
        numeric = table.name != "follow_up" and i > 0
        widest = max((len(r[i]) for r in texts), default=0)
        out.add_column(head, justify="right" if numeric else "left", min_width=widest if numeric else min(widest, 24))
    for n, row in enumerate(texts):
        last = n == len(texts) - 1 and table.name not in ("follow_up", "progress")
        out.add_row(*row, style="bold" if last else None)
    if not table.rows:
        out.add_row(*([L["no_data"]] + [""] * (len(table.header) - 1)))
    _print_whole(console, out)


def _print_whole(console: Console, table: Table) -> None:
    """Print ``table`` at the terminal's width; when the output is not a terminal (piped, a file), as wide
    as the table needs, so no heading is cut to an ellipsis or broken over lines."""
    if console.is_terminal:
        console.print(table)
        return
    wide = console.options.update(width=10_000, max_width=10_000)
    width = max(console.width, Measurement.get(console, wide, table).maximum)
    Console(file=console.file, width=width, soft_wrap=True, color_system=None).print(table)


def report_document(report: Report, lang: str = "id") -> dict[str, Any]:
    """The report as one JSON-ready document (field names in English; ``lang`` recorded for labels)."""
    labels(lang)
    return {"lang": lang, **report.to_dict()}


def _sibling(path: Path, tail: str) -> Path:
    return path.with_name(f"{path.stem}-{tail}{path.suffix or '.csv'}")


def write_csv_report(report: Report, path: Path, lang: str = "id", dialect: str = "standard") -> list[Path]:
    """Write the summary to ``path`` and the follow-up list and progress table beside it, in ``dialect``
    (one of :data:`~moodle_sync.tabular.CSV_DIALECTS`); returns the paths. Raises ``OSError`` when a file
    cannot be written."""
    L = labels(lang)
    delimiter, decimal = CSV_DIALECTS[dialect]
    written = []
    for table, target in ((summary_table(report, L), path),
                          (follow_up_table(report, L), _sibling(path, "follow-up")),
                          (progress_table(report, L), _sibling(path, "progress"))):
        written.append(write_csv(target, table.header, table.rows, delimiter=delimiter, decimal=decimal))
    return written


def write_xlsx_report(report: Report, path: Path, lang: str = "id") -> Path:
    """Write a workbook: one sheet per breakdown, then progress and follow-up. Raises ``OSError``."""
    L = labels(lang)
    titles = {"progress": L["sheet_progress"], "follow_up": L["sheet_follow_up"]}
    return write_xlsx(path, [Sheet(titles.get(t.name, t.title), t.header, t.rows) for t in all_tables(report, L)])


def write_html_report(report: Report, path: Path, lang: str = "id") -> Path:
    """Write the self-contained HTML report (UTF-8). Raises ``OSError``."""
    return write_private_text(path, render_html(report, lang))


def print_reach(report: ReachReport, console: Console, lang: str = "id") -> None:
    """Print the pemerataan table (and which offerings it covers)."""
    L = labels(lang)
    console.print(f"{L['reach_offerings']}: {', '.join(report.offerings)}", markup=False, highlight=False)
    for table in reach_tables(report, L):
        out = Table(title=table.title, title_justify="left", box=box.SIMPLE_HEAD)
        for i, head in enumerate(table.header):
            out.add_column(head, justify="right" if i else "left")
        for n, row in enumerate(table.rows):
            out.add_row(*(cell_text(c, lang) for c in row), style="bold" if n == len(table.rows) - 1 else None)
        _print_whole(console, out)


def reach_tables(report: ReachReport, L: Mapping[str, str]) -> list[ReportTable]:
    """The pemerataan per regency, per school level, then (over several centres) per centre."""
    return [reach_table(report, L), reach_levels_table(report, L),
            *([reach_sites_table(report, L)] if report.sites else [])]


def write_reach(report: ReachReport, path: Path, fmt: str, lang: str = "id",
                dialect: str = "standard") -> list[Path]:
    """Write the pemerataan as ``xlsx`` (a sheet per table) or ``csv`` (in ``dialect``: the table per
    regency, and beside it ``<name>-levels.csv`` and, over several centres, ``<name>-sites.csv``); returns
    the paths. Raises ``OSError``."""
    tables = reach_tables(report, labels(lang))
    if fmt == "xlsx":
        return [write_xlsx(path, [Sheet(t.title, t.header, t.rows) for t in tables])]
    delimiter, decimal = CSV_DIALECTS[dialect]
    tails = {"reach_level": "levels", "reach_site": "sites"}
    return [write_csv(_sibling(path, tails[t.name]) if t.name in tails else path, t.header, t.rows,
                      delimiter=delimiter, decimal=decimal) for t in tables]
