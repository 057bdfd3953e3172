"""Reports name people: the HTML, CSV and XLSX files are written 0600 (umask 022), also over older ones."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from moodle_sync.reports import Report
from moodle_sync.reports.render import write_csv_report, write_html_report, write_xlsx_report
from tests.reports.test_render import report  # noqa: F401  (the fixture)


def test_report_files_are_private(report: Report, tmp_path: Path) -> None:  # noqa: F811
    old_html = tmp_path / "r.html"
    old_html.write_text("old")
    old_html.chmod(0o644)
    old = os.umask(0o022)
    try:
        written = [write_html_report(report, old_html), write_xlsx_report(report, tmp_path / "new" / "r.xlsx"),
                   *write_csv_report(report, tmp_path / "r.csv")]
    finally:
        os.umask(old)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {p.name: 0o600 for p in written}
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
