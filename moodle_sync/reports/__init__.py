"""Reports on completion evidence: pure aggregation (:mod:`.aggregate`) and renderers (rich tables, JSON,
CSV, XLSX, self-contained HTML with SVG charts), with labels in Bahasa Indonesia or English."""

from .aggregate import (
    DIMENSIONS,
    FollowUpEntry,
    GroupStats,
    ProgressPoint,
    Report,
    breakdown,
    build_report,
    enrich,
    follow_up,
    group_stats,
    progress_over_time,
)
from .html import render_html
from .i18n import LANGUAGES, labels
from .render import (
    FORMATS,
    print_tables,
    report_document,
    write_csv_report,
    write_html_report,
    write_xlsx_report,
)
from .source import course_starts, load_report

__all__ = [
    "DIMENSIONS", "FORMATS", "LANGUAGES", "FollowUpEntry", "GroupStats", "ProgressPoint", "Report", "breakdown",
    "build_report", "course_starts", "enrich", "follow_up", "group_stats", "labels", "load_report",
    "print_tables", "progress_over_time", "render_html", "report_document", "write_csv_report",
    "write_html_report", "write_xlsx_report",
]
