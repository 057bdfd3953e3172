"""Renderers: HTML (self-contained, escaped, both languages), CSV/XLSX (neutralised), rich tables, JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.reports import (
    Report,
    build_report,
    print_tables,
    render_html,
    report_document,
    write_csv_report,
    write_xlsx_report,
)
from moodle_sync.store import ParticipantRecord
from tests.reports.conftest import COURSE_STARTS, DAY, NOW, T0


@pytest.fixture
def report(snapshots: list[CompletionSnapshot], participants: list[ParticipantRecord]) -> Report:
    history = [replace(s, pulled_at=T0 + DAY, completed=False, last_access=None, activities_done=0)
               for s in snapshots] + snapshots
    named = [replace(s, fullname="=cmd|' /C calc'!A0") if s.user_id == 4 else
             replace(s, fullname="<b>Cici</b> & co") if s.user_id == 3 else s for s in snapshots]
    return build_report("koding-2026-a1", named, participants, history, now=NOW, title="Koding <untuk> Guru",
                        course_starts=COURSE_STARTS)


def _resource_links(html: str) -> list[str]:
    return re.findall(r"""(?:src|href|action|poster)\s*=\s*["']?\s*([^"'\s>]+)""", html, flags=re.IGNORECASE)


def test_html_is_self_contained_with_charts(report: Report) -> None:
    html = render_html(report, "id")
    assert html.count("<svg") == 3
    assert all(link.startswith("#") for link in _resource_links(html)), _resource_links(html)
    for outside in ("<script", "<link", "@import", "url(http", "url(//", "<img", "<iframe", "<!--"):
        assert outside not in html.lower()
    assert "@media print" in html and "page-break-before: always" in html
    assert len(set(re.findall(r'\bid="([^"]+)"', html))) == len(re.findall(r'\bid="([^"]+)"', html))


def test_html_escapes_what_came_from_moodle(report: Report) -> None:
    html = render_html(report, "en")
    assert "&lt;b&gt;Cici&lt;/b&gt; &amp; co" in html and "<b>Cici</b>" not in html
    assert "Koding &lt;untuk&gt; Guru" in html


def test_html_language_switch(report: Report) -> None:
    indonesian, english = render_html(report, "id"), render_html(report, "en")
    assert '<html lang="id">' in indonesian and "Laporan penyelesaian" in indonesian
    assert "Peserta yang perlu ditindaklanjuti" in indonesian and "belum mulai" in indonesian
    assert "50,0" in indonesian and "Completion report" not in indonesian
    assert '<html lang="en">' in english and "Completion report" in english and "not started" in english
    assert "50.0" in english and "Laporan penyelesaian" not in english
    with pytest.raises(ValueError, match="language"):
        render_html(report, "fr")


def test_html_of_an_offering_without_progress_or_tests() -> None:
    bare = build_report("o", [CompletionSnapshot("o", 1, "main", 1, "a@x.id", "A", completed=True)], [], now=NOW)
    html = render_html(bare, "en")
    assert "<svg" in html                                   # the completion chart (regency unknown)
    assert "No data yet." in html and "Nobody needs following up." in html


def _csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_csv_files_neutralise_formulas(report: Report, tmp_path: Path) -> None:
    summary, follow, progress = write_csv_report(report, tmp_path / "out" / "koding.csv", "en")
    assert (summary.name, follow.name, progress.name) == ("koding.csv", "koding-follow-up.csv", "koding-progress.csv")
    rows = _csv(follow)
    assert rows[0][:3] == ["Course", "Class", "Name"]
    names = [r[2] for r in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in names and not any(n.startswith("=") for n in names)
    table = _csv(summary)
    assert table[-1][:7] == ["All participants", "All participants", "6", "0", "5", "3", "50.0"]
    assert ["Course", "ls", "4", "0", "3", "2", "50.0", "7.0", "85.0", "45.0", "80.0", "35.0", "2"] in [
        r[:13] for r in table]
    assert _csv(progress)[1:] == [["2026-01-02", "6", "0", "0", "0"], ["2026-01-31", "6", "5", "3", "0"]]


def test_xlsx_workbook(report: Report, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = write_xlsx_report(report, tmp_path / "koding.xlsx", "id")
    book = load_workbook(path)
    assert book.sheetnames == ["Per kursus", "Per kelas", "Per kabupaten-kota", "Per jenjang",
                               "Kemajuan", "Tindak lanjut"]
    follow = book.worksheets[-1]
    cells = [c for row in follow.iter_rows(min_row=2) for c in row if c.column == 3]
    cmd = next(c for c in cells if "cmd" in str(c.value))
    assert cmd.value == "'=cmd|' /C calc'!A0" and cmd.data_type == "s"
    assert (book["Per kursus"]["A2"].value, book["Per kursus"]["F2"].value, book["Per kursus"]["G2"].value) == (
        "ls", 50.0, 7.0)


def test_rich_tables(report: Report) -> None:
    console = Console(file=io.StringIO(), width=200)
    print_tables(report, console, "en")
    text = console.file.getvalue()  # type: ignore[attr-defined]
    for expected in ("By course", "By class", "By regency/city", "By school level", "Progress over time",
                     "Participants to follow up", "ls / Kelas B", "Kota Metro", "(unknown)", "not started"):
        assert expected in text


def test_json_document(report: Report) -> None:
    doc = json.loads(json.dumps(report_document(report, "id")))
    assert doc["lang"] == "id" and doc["offering_id"] == "koding-2026-a1"
    assert [e["reason"] for e in doc["follow_up"]] == ["not_started", "stalled"]
