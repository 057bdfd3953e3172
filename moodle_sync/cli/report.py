"""``moodle-sync report OFFERING``: completion evidence from the store as tables, JSON, CSV, XLSX or HTML."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from ..files import write_private_text
from ..reports import FORMATS, LANGUAGES, load_report, print_tables, report_document
from ..reports.render import write_csv_report, write_html_report, write_xlsx_report
from ..tabular import CSV_DIALECTS
from . import output_options
from .app import App, pass_app

EXTENSIONS = {"csv": ".csv", "xlsx": ".xlsx", "html": ".html", "json": ".json"}


def _store_exists(url: str) -> bool:
    from ..store.engine import parse_url, sqlite_path

    parsed = parse_url(url)
    path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    return path is None or path.exists()


@click.command("report")
@click.argument("offering")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table prints on the terminal; json prints one document (or writes --output); csv, xlsx "
                   "and html write files.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default for csv/xlsx/html: OFFERING-report.EXT in the current folder).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="id", show_default=True,
              help="Language of the labels: id (Bahasa Indonesia) or en.")
@click.option("--stalled-days", type=click.IntRange(min=1), default=14, show_default=True,
              help="A started, unfinished participant without course access for this many days is stalled.")
@click.option("--csv-dialect", "dialect", type=click.Choice(list(CSV_DIALECTS)), default="standard",
              show_default=True, help="standard: ',' between cells, decimal point; excel-id: ';' and a decimal "
                                      "comma, what Excel with Indonesian regional settings opens directly.")
@output_options
@pass_app
def report(app: App, offering: str, fmt: str, output: Path | None, lang: str, stalled_days: int,
           dialect: str) -> int:
    """Completion, progress, grades and pre/post-test gains of OFFERING, and who to follow up.

    Reads the local store only (run 'moodle-sync pull' first). Exit 0 when a report was made, 1 when the
    store has no evidence of the offering.
    """
    url = app.settings.store_url
    built = None
    if _store_exists(url):
        from ..store import Store

        with Store.open(url) as store:
            built = load_report(store, offering, now=int(time.time()), stalled_days=stalled_days)
    if built is None:
        click.echo(f"Error: the store has no completion evidence of offering {offering!r} "
                   f"(run 'moodle-sync pull {offering}' first)", err=True)
        return 1
    if app.json and fmt == "table":
        fmt = "json"
    if fmt == "table":
        print_tables(built, app.out, lang)
        return 0
    if fmt == "json" and output is None:
        click.echo(json.dumps(report_document(built, lang), ensure_ascii=False, indent=2))
        return 0
    target = output or Path(f"{offering}-report{EXTENSIONS[fmt]}")
    if fmt == "json":
        write_private_text(target, json.dumps(report_document(built, lang), ensure_ascii=False, indent=2) + "\n")
        written = [target]
    elif fmt == "csv":
        written = write_csv_report(built, target, lang, dialect)
    elif fmt == "xlsx":
        written = [write_xlsx_report(built, target, lang)]
    else:
        written = [write_html_report(built, target, lang)]
    app.emit({"offering": offering, "format": fmt, "written": [str(p) for p in written]},
             lambda: [app.out.print(f"Wrote {p}", highlight=False) for p in written])
    return 0


COMMANDS = [report]
