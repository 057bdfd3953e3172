"""Writing what a needs survey says: the demand as CSV, XLSX or a self-contained HTML page (inline SVG
charts, ``id``/``en`` labels), and proposed seats into an offering file's ``quotas:`` block.

Files holding survey results are written private (0600, see :mod:`moodle_sync.files`); the offering file
keeps its mode and every other line exactly as written.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...files import write_private_text
from ...regions import BY_SLUG
from ...tabular import Sheet, write_csv, write_xlsx
from .demand import demand_cells, profile, regency_totals, topic_totals
from .survey import Survey

__all__ = [
    "LANGUAGES",
    "needs_document",
    "write_needs_csv",
    "write_needs_html",
    "write_needs_xlsx",
    "write_quotas",
]

LANGUAGES = ("id", "en")
_L = {
    "id": {"title": "Analisis Kebutuhan Pelatihan", "respondents": "Responden", "rows": "Baris",
           "rejected": "Ditolak", "topic": "Topik", "count": "Jumlah", "share": "Persentase",
           "level": "Jenjang", "years_band": "Masa kerja (tahun)", "regency": "Kabupaten/Kota",
           "topics_chart": "Topik pelatihan yang dibutuhkan (responden)", "profile": "Profil responden",
           "cells": "Kebutuhan per kabupaten/kota, jenjang, masa kerja dan topik", "row": "Baris",
           "field": "Kolom", "reason": "Alasan"},
    "en": {"title": "Training needs survey", "respondents": "Respondents", "rows": "Rows",
           "rejected": "Rejected", "topic": "Topic", "count": "Count", "share": "Share",
           "level": "Level", "years_band": "Years of service", "regency": "Regency/city",
           "topics_chart": "Training topics wanted (respondents)", "profile": "Who answered",
           "cells": "Demand per regency, level, years of service and topic", "row": "Row",
           "field": "Field", "reason": "Reason"},
}
CELL_HEADER = ["regency", "level", "years_band", "topic", "count"]


def needs_document(survey: Survey) -> dict[str, Any]:
    """The JSON document of ``needs --json``: rows, respondents, rejected, cells, and the summaries."""
    people = survey.respondents
    return {"files": list(survey.files), "rows": survey.rows, "respondents": len(people),
            "rejected": [r.to_dict() for r in survey.rejected], "columns": survey.columns,
            "cells": [c.to_dict() for c in demand_cells(people)], "topics": topic_totals(people),
            "profile": profile(people), "regencies": regency_totals(people)}


def write_needs_csv(survey: Survey, path: str | os.PathLike[str]) -> Path:
    """The demand cells as CSV (regency, level, years_band, topic, count). Raises ``OSError``."""
    return write_csv(path, CELL_HEADER, [[c.regency, c.level, c.years_band, c.topic, c.count]
                                         for c in demand_cells(survey.respondents)])


def write_needs_xlsx(survey: Survey, path: str | os.PathLike[str], lang: str = "id") -> Path:
    """A workbook: topics, profile, regencies, the demand cells and the rejected rows. Raises ``OSError``."""
    L, doc = _L[lang], needs_document(survey)
    sheets = [Sheet(L["topic"], [L["topic"], L["count"], L["share"]],
                    [[t["topic"], t["count"], t["share"]] for t in doc["topics"]]),
              Sheet(L["profile"], [L["level"], L["years_band"], L["count"], L["share"]],
                    [[p["level"], p["years_band"], p["count"], p["share"]] for p in doc["profile"]]),
              Sheet(L["regency"], [L["regency"], L["count"], L["share"]],
                    [[r["name"], r["count"], r["share"]] for r in doc["regencies"]]),
              Sheet("cells", CELL_HEADER, [[c[k] for k in CELL_HEADER] for c in doc["cells"]]),
              Sheet(L["rejected"], ["file", L["row"], L["field"], L["reason"]],
                    [[r.file, r.row, r.field or "", r.reason] for r in survey.rejected])]
    return write_xlsx(path, sheets)


def _bars(items: Sequence[tuple[str, int]], title: str, prefix: str) -> str:
    """A horizontal bar chart as inline SVG (matplotlib, no pyplot)."""
    from matplotlib.figure import Figure

    from ...reports.charts import BLUE, to_svg

    figure = Figure(figsize=(7, 0.35 * len(items) + 1), dpi=96, layout="constrained")
    axes = figure.subplots()
    labels = [k for k, _ in reversed(items)]
    axes.barh(labels, [v for _, v in reversed(items)], color=BLUE)
    axes.set_title(title)
    return to_svg(figure, prefix)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_needs_html(survey: Survey, path: str | os.PathLike[str], lang: str = "id") -> Path:
    """One self-contained HTML page: headline numbers, charts of topics and regencies, the profile, the
    demand cells and the rejected rows. Raises ``OSError``."""
    L, doc = _L[lang], needs_document(survey)
    pct = lambda x: f"{x * 100:.1f}%"
    parts = [f"<h1>{html.escape(L['title'])}</h1>",
             (f"<p>{L['rows']}: {doc['rows']} &middot; {L['respondents']}: {doc['respondents']} &middot; "
              f"{L['rejected']}: {len(doc['rejected'])}</p>")]
    if doc["topics"]:
        parts.append(_bars([(t["topic"], t["count"]) for t in doc["topics"]], L["topics_chart"], "topics"))
        parts.append(_bars([(r["name"], r["count"]) for r in doc["regencies"]], L["regency"], "regencies"))
    parts += [f"<h2>{L['profile']}</h2>",
              _table([L["level"], L["years_band"], L["count"], L["share"]],
                     [[p["level"], p["years_band"], p["count"], pct(p["share"])] for p in doc["profile"]]),
              f"<h2>{L['cells']}</h2>",
              _table([L["regency"], L["level"], L["years_band"], L["topic"], L["count"]],
                     [[BY_SLUG[c["regency"]].name, c["level"], c["years_band"], c["topic"], c["count"]]
                      for c in doc["cells"]]),
              f"<h2>{L['rejected']}</h2>",
              _table(["file", L["row"], L["field"], L["reason"]],
                     [[r.file, r.row, r.field or "", r.reason] for r in survey.rejected])]
    style = ("body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}svg{max-width:100%;height:auto}")
    page = (f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{L['title']}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
    return write_private_text(path, page)


_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def write_quotas(path: str | os.PathLike[str], quotas: Mapping[str, int], note: str,
                 levels: Mapping[str, Mapping[str, int]] | None = None) -> str:
    """Put ``quotas:`` (regency slug: seats, or ``{level: seats}`` for a regency in ``levels``) into the
    offering file, replacing an existing top-level ``quotas:`` block and leaving every other line as it
    is. Returns the new text; the caller checks it (load the offering) and may restore the old. Raises
    ``OSError``."""
    p = Path(path)
    lines = p.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    skipping = False
    for line in lines:
        if line.startswith("quotas:"):
            skipping = True
            continue
        if skipping and (_TOP_KEY.match(line) or (line.startswith("#") and not line.startswith("  "))):
            skipping = False
        if not skipping:
            out.append(line)
    while out and not out[-1].strip():
        out.pop()
    out.append(f"quotas:                             # {note}")
    for slug, seats in quotas.items():
        split = (levels or {}).get(slug)
        out.append(f"  {slug}: {{{', '.join(f'{lvl}: {n}' for lvl, n in split.items())}}}" if split
                   else f"  {slug}: {seats}")
    text = "\n".join(out) + "\n"
    p.write_text(text, encoding="utf-8")
    return text
