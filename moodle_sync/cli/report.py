"""``moodle-sync report OFFERING``: completion evidence from the store as tables, JSON, CSV, XLSX or HTML, of
one centre (the configured profile's site, or ``--site``) or of every centre that has it (``--all-sites``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..exceptions import ConfigError
from ..files import write_private_text
from ..reports import FORMATS, LANGUAGES, print_tables, report_document
from ..reports.render import write_csv_report, write_html_report, write_xlsx_report
from ..tabular import CSV_DIALECTS
from .app import App, pass_app
from .common import offering_id_of, output_options, store_exists

if TYPE_CHECKING:
    from ..reports.aggregate import Report
    from ..reports.reach import ReachReport
    from ..store import Store
    from ..store.records import SiteRecord

EXTENSIONS = {"csv": ".csv", "xlsx": ".xlsx", "html": ".html", "json": ".json"}
Centres = list[tuple["SiteRecord | None", "Store"]]


@dataclass(frozen=True)
class Output:
    """How a report is given: ``fmt`` (one of FORMATS), the file (None: the default name), language, CSV dialect."""

    fmt: str
    path: Path | None
    lang: str
    dialect: str


def no_evidence(offering_id: str) -> int:
    """Say that the store has no evidence of ``offering_id`` yet and how to get it; the exit code (1)."""
    click.echo(f"Error: the store has no completion evidence of offering {offering_id!r} "
               f"(run 'moodle-sync pull {offering_id}' first)", err=True)
    return 1


def current_snapshots(app: App, offering_id: str) -> list[Any]:
    """The offering's current snapshots in the store, of the configured profile's site (none when there is
    no store: never creates one; never calls Moodle)."""
    return app.store(offline=True).current(offering_id) if store_exists(app) else []


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
@click.option("--site", "site_ref", metavar="PROFILE|SITE",
              help="The centre to report on: a profile of the config file, or a site the store holds (its id, "
                   "name or URL). Default: the configured profile's site.")
@click.option("--all-sites", is_flag=True,
              help="Every centre in the store that has the offering (or matching offerings): figures together "
                   "(from all their participants, not an average of rates) and per centre.")
@output_options
@pass_app
def report(app: App, offering: str | None, fmt: str, output: Path | None, lang: str, stalled_days: int,
           dialect: str, programme: str | None, year: int | None, site_ref: str | None, all_sites: bool) -> int:
    """Completion, progress, grades, pre/post-test gains and effect sizes of OFFERING (its file or id), and
    who to follow up; or, with --programme and/or --year, pemerataan across offerings.

    Reads the local store only (run 'moodle-sync pull' first), never Moodle. Exit 0 when a report was made,
    1 when the store has no evidence of the offering (or no offering matches).
    """
    if (offering is None) == (programme is None and year is None):
        raise click.UsageError("give OFFERING, or --programme and/or --year (not both)")
    if site_ref is not None and all_sites:
        raise click.UsageError("give --site or --all-sites, not both")
    out = Output("json" if app.json and fmt == "table" else fmt, output, lang, dialect)
    if offering is None:
        return reach_report(app, out, programme, year, site_ref, all_sites)
    offering_id = offering_id_of(offering)
    built = None
    if store_exists(app):
        with centres(app, site_ref, all_sites) as chosen:
            built = offering_report(chosen, offering_id, all_sites, stalled_days)
    if built is None:
        return no_evidence(offering_id)
    return give_report(app, built, out)


@contextmanager
def centres(app: App, site_ref: str | None, all_sites: bool) -> Iterator[Centres]:
    """The centres to report on, each with the store bound to it: every site of the store (``all_sites``),
    the one ``site_ref`` names, or the configured profile's site (None as site: a store without sites).
    Raises :class:`ConfigError` for a ``site_ref`` the store does not know."""
    if site_ref is None and not all_sites:
        bound: Store = app.store(offline=True)
        yield [(bound.resolve_site(bound.site_id) if bound.site_id else None, bound)]
        return
    from ..store import Store

    with Store.open(app.settings.store_url) as opened:
        if all_sites:
            yield [(s, opened.for_site(s.site_id)) for s in opened.sites()] or [(None, opened)]
        else:
            site = named_site(app, opened, site_ref or "")
            yield [(site, opened.for_site(site.site_id))]


def named_site(app: App, store: Store, ref: str) -> SiteRecord:
    """The site ``ref`` names: one the store knows by id, profile, name or URL, else the site of the config
    file's profile of that name. Raises :class:`ConfigError` when neither is."""
    site = store.resolve_site(ref)
    if site is None:
        from ..config import config_profiles

        try:
            profiles = config_profiles(app.config)
        except ConfigError:
            profiles = []
        url = app.for_profile(ref).settings.url if ref in profiles else None
        site = store.site_of_url(url) if url else None
    if site is None:
        known = ", ".join(f"{s.site_id} ({s.name})" for s in store.sites()) or "none yet"
        raise ConfigError(f"--site {ref!r}: the store holds no such site (its sites: {known}; a profile's site "
                          "is known once it has been pulled)")
    return site


def offering_report(chosen: Centres, offering_id: str, all_sites: bool, stalled_days: int) -> Report | None:
    """The offering's report: of the one centre, or over the centres (``all_sites``); None without evidence."""
    from ..reports.source import load_report, load_sites_report

    now = int(time.time())
    real = [(site, store) for site, store in chosen if site is not None]
    if all_sites and real:
        return load_sites_report(real, offering_id, now=now, stalled_days=stalled_days)
    site, store = chosen[0]
    return load_report(store, offering_id, now=now, stalled_days=stalled_days, site=site)


def give_report(app: App, built: Report, out: Output) -> int:
    """Print the report or write its file(s); the exit code (0)."""
    if out.fmt == "table":
        print_tables(built, app.out, out.lang)
        return 0
    if out.fmt == "json" and out.path is None:
        click.echo(json.dumps(report_document(built, out.lang), ensure_ascii=False, indent=2))
        return 0
    target = out.path or Path(f"{built.offering_id}-report{EXTENSIONS[out.fmt]}")
    if out.fmt == "json":
        document = json.dumps(report_document(built, out.lang), ensure_ascii=False, indent=2)
        written = [write_private_text(target, document + "\n")]
    elif out.fmt == "csv":
        written = write_csv_report(built, target, out.lang, out.dialect)
    elif out.fmt == "xlsx":
        written = [write_xlsx_report(built, target, out.lang)]
    else:
        written = [write_html_report(built, target, out.lang)]
    tell_written(app, {"offering": built.offering_id, "format": out.fmt}, written)
    return 0


def tell_written(app: App, document: dict[str, Any], written: list[Path]) -> None:
    """Say which files were written (``--json``: ``document`` with their paths as ``written``)."""
    def human() -> None:
        for path in written:
            app.out.print(f"Wrote {path}", highlight=False)

    app.emit({**document, "written": [str(p) for p in written]}, human)


def reach_report(app: App, out: Output, programme: str | None, year: int | None, site_ref: str | None,
                 all_sites: bool) -> int:
    """``report --programme/--year``: pemerataan as a table, JSON, CSV or XLSX (no HTML yet)."""
    if out.fmt == "html":
        raise click.UsageError("pemerataan is written as table, json, csv or xlsx")
    built = None
    if store_exists(app):
        with centres(app, site_ref, all_sites) as chosen:
            built = reach_of(chosen, programme, year, all_sites)
    if built is None:
        click.echo("Error: no offering in the store matches " + " and ".join(
            part for part in (f"programme {programme!r}" if programme else "", f"year {year}" if year else "")
            if part), err=True)
        return 1
    return give_reach(app, built, out)


def reach_of(chosen: Centres, programme: str | None, year: int | None, all_sites: bool) -> ReachReport | None:
    """Pemerataan of the one centre, or over the centres (``all_sites``); None when no offering matches."""
    from ..reports.source import load_reach, load_sites_reach

    real = [(site, store) for site, store in chosen if site is not None]
    if all_sites and real:
        return load_sites_reach(real, programme=programme, year=year)
    site, store = chosen[0]
    return load_reach(store, programme=programme, year=year, site=site)


def give_reach(app: App, built: ReachReport, out: Output) -> int:
    """Print the pemerataan or write its file(s); the exit code (0)."""
    from ..reports.render import print_reach, write_reach

    if out.fmt == "table":
        print_reach(built, app.out, out.lang)
        return 0
    document = json.dumps({"lang": out.lang, **built.to_dict()}, ensure_ascii=False, indent=2)
    if out.fmt == "json" and out.path is None:
        click.echo(document)
        return 0
    target = out.path or Path(f"pemerataan-{built.scope.replace(' ', '-')}{EXTENSIONS[out.fmt]}")
    written = ([write_private_text(target, document + "\n")] if out.fmt == "json"
               else write_reach(built, target, out.fmt, out.lang, out.dialect))
    tell_written(app, {"scope": built.scope, "format": out.fmt}, written)
    return 0


COMMANDS = [report]
