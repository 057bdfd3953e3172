"""``moodle-sync report OFFERING``: completion evidence from the store as tables, JSON, CSV, XLSX or HTML."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from ..files import write_private_text
from ..reports import FORMATS, LANGUAGES, load_report, print_tables, report_document
from ..reports.render import write_csv_report, write_html_report, write_xlsx_report
from ..tabular import CSV_DIALECTS
from .app import App, pass_app
from .common import output_options

EXTENSIONS = {"csv": ".csv", "xlsx": ".xlsx", "html": ".html", "json": ".json"}


def no_evidence(offering_id: str) -> int:
    """Say that the store has no evidence of ``offering_id`` yet and how to get it; the exit code (1)."""
    click.echo(f"Error: the store has no completion evidence of offering {offering_id!r} "
               f"(run 'moodle-sync pull {offering_id}' first)", err=True)
    return 1


def current_snapshots(app: App, offering_id: str) -> list[Any]:
    """The offering's current snapshots in the store (none when there is no store: never creates one)."""
    return app.store().current(offering_id) if store_exists(app.settings.store_url) else []


def store_exists(url: str) -> bool:
    """Whether the store at ``url`` exists (a SQLite file is there; a server database is assumed), so a
    command that only reads it never creates one."""
    from ..store.engine import parse_url, sqlite_path

    parsed = parse_url(url)
    path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    return path is None or path.exists()


@click.command("report")
@click.argument("offering", required=False)
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
@click.option("--programme", metavar="TEMPLATE",
              help="Instead of OFFERING: pemerataan (per regency: applicants, selected, completed, never-trained "
                   "reached) over every offering of this programme (its template).")
@click.option("--year", type=click.IntRange(2000, 2100),
              help="Instead of OFFERING: pemerataan over the offerings that started in this year (with "
                   "--programme: of that programme).")
@output_options
@pass_app
def report(app: App, offering: str | None, fmt: str, output: Path | None, lang: str, stalled_days: int,
           dialect: str, programme: str | None, year: int | None) -> int:
    """Completion, progress, grades, pre/post-test gains and effect sizes of OFFERING, and who to follow up;
    or, with --programme and/or --year, pemerataan across offerings.

    Reads the local store only (run 'moodle-sync pull' first). Exit 0 when a report was made, 1 when the
    store has no evidence of the offering (or no offering matches).
    """
    if (offering is None) == (programme is None and year is None):
        raise click.UsageError("give OFFERING, or --programme and/or --year (not both)")
    if offering is None:
        return reach_report(app, fmt, output, lang, dialect, programme, year)
    url = app.settings.store_url
    built = None
    if store_exists(url):
        from ..store import Store

        with Store.open(url) as store:
            built = load_report(store, offering, now=int(time.time()), stalled_days=stalled_days)
    if built is None:
        return no_evidence(offering)
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


def reach_report(app: App, fmt: str, output: Path | None, lang: str, dialect: str, programme: str | None,
                 year: int | None) -> int:
    """``report --programme/--year``: the pemerataan table as a table, JSON, CSV or XLSX (no HTML yet)."""
    from ..reports.render import print_reach, write_reach
    from ..reports.source import load_reach

    built = None
    if store_exists(app.settings.store_url):
        from ..store import Store

        with Store.open(app.settings.store_url) as store:
            built = load_reach(store, programme=programme, year=year)
    if built is None:
        click.echo("Error: no offering in the store matches " + " and ".join(
            part for part in (f"programme {programme!r}" if programme else "", f"year {year}" if year else "")
            if part), err=True)
        return 1
    if app.json and fmt == "table":
        fmt = "json"
    if fmt == "html":
        raise click.UsageError("pemerataan is written as table, json, csv or xlsx")
    if fmt == "table":
        print_reach(built, app.out, lang)
        return 0
    document = json.dumps({"lang": lang, **built.to_dict()}, ensure_ascii=False, indent=2)
    if fmt == "json" and output is None:
        click.echo(document)
        return 0
    target = output or Path(f"pemerataan-{built.scope.replace(' ', '-')}{EXTENSIONS[fmt]}")
    written = write_private_text(target, document + "\n") if fmt == "json" else write_reach(
        built, target, fmt, lang, dialect)
    app.emit({"scope": built.scope, "format": fmt, "written": [str(written)]},
             lambda: app.out.print(f"Wrote {written}", highlight=False))
    return 0


COMMANDS = [report]
