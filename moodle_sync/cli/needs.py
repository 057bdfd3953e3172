"""``moodle-sync needs FILE``: what a needs survey says, and the seats an offering should have where.

``needs FILE`` reads the survey (CSV/XLSX), accounts for every row and reports the demand per regency x
level x years-of-service band x topic, with the shares a centre quotes; ``--format csv|xlsx|html`` writes
a file, ``--json`` prints the document (``rows``, ``respondents``, ``rejected``, ``cells``, ...).
``needs FILE --propose OFFERING`` shares the offering's seats between its regencies by the demand for its
topic (with its minimum per regency) and writes them into the offering's ``quotas:``, which ``select``
uses; where the offering targets two or more levels, each regency's seats split per level
(``metro: {SD: 12, SMP: 8}``). Exit 0 when every row is accounted for, 1 otherwise or when the file cannot be used.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from ..exceptions import InputError
from .app import App, pass_app, table
from .common import EXIT_OK, EXIT_PROBLEM, OfferingFile, output_options, templates_option

if TYPE_CHECKING:
    from ..participants.needs import Survey

FORMATS = ("table", "csv", "xlsx", "html", "json")


@click.command("needs")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table prints on the terminal; json prints the document; csv, xlsx and html write files.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: <first file's name>-needs.EXT next to it).")
@click.option("--lang", type=click.Choice(("id", "en")), default="id", show_default=True,
              help="Language of the labels in xlsx/html.")
@click.option("--propose", "offering_file", type=OfferingFile(), metavar="OFFERING",
              help="Propose OFFERING's (file or id) seats per regency and write them as its quotas.")
@click.option("--topic", "topics", multiple=True, metavar="TEXT",
              help="Survey topic(s) meaning the offering (default: its applicants.choice, else its title and "
                   "its template's name, title and aliases).")
@click.option("--dry-run", is_flag=True, help="With --propose: show the seats; leave the offering as it is.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="YAML mapping of survey fields (regency, school_level, years_of_service, topics, "
                   "trained_before) to the export's headers.")
@templates_option
@output_options
@pass_app
def needs_cmd(app: App, files: tuple[Path, ...], fmt: str, output: Path | None, lang: str,
              offering_file: Path | None, topics: tuple[str, ...], dry_run: bool, mapping: Path | None,
              templates: tuple[str, ...]) -> int:
    """Read a needs survey: demand per regency, level, years of service and topic; propose seats."""
    from ..participants.needs import read_survey
    from ..participants.needs.output import (
        needs_document,
        write_needs_csv,
        write_needs_html,
        write_needs_xlsx,
    )

    survey = read_survey(list(files), mapping=mapping)
    code = EXIT_OK if survey.accounted_for else EXIT_PROBLEM
    if offering_file is not None:
        _propose(app, survey, offering_file, topics or _offering_names(app, offering_file, templates), dry_run)
        return code
    if fmt in ("csv", "xlsx", "html"):
        target = output or files[0].with_name(f"{files[0].stem}-needs.{fmt}")
        writer = {"csv": lambda: write_needs_csv(survey, target), "xlsx": lambda: write_needs_xlsx(survey, target, lang),
                  "html": lambda: write_needs_html(survey, target, lang)}[fmt]
        try:
            written = writer()
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror or exc}", file=str(target)) from exc
        app.emit({"rows": survey.rows, "respondents": len(survey.respondents), "rejected": len(survey.rejected),
                  "file": str(written)}, lambda: app.out.print(f"Wrote {written}"))
        return code
    document = needs_document(survey)
    if fmt == "json":
        app.json = True
    app.emit(document, lambda: _human(app, document))
    return code


def _human(app: App, doc: dict) -> None:
    """The survey's headline numbers, topics, profile and regencies as tables."""
    app.out.print(f"Rows {doc['rows']}: {doc['respondents']} respondents, {len(doc['rejected'])} rejected.")
    for r in doc["rejected"][:10]:
        app.out.print(f"  rejected: {escape(r['file'])} row {r['row']}: {r['field']}: {escape(r['reason'])}")
    pct = lambda x: f"{x * 100:.1f}%"
    app.out.print(table("Topics wanted", ["topic", "respondents", "share"],
                        [[t["topic"], t["count"], pct(t["share"])] for t in doc["topics"]]))
    app.out.print(table("Who answered (level x years of service)", ["level", "years", "respondents", "share"],
                        [[p["level"], p["years_band"], p["count"], pct(p["share"])] for p in doc["profile"]]))
    app.out.print(table("Respondents per regency", ["regency", "respondents", "share"],
                        [[r["name"], r["count"], pct(r["share"])] for r in doc["regencies"]]))
    app.out.print(f"{len(doc['cells'])} demand cells (regency x level x years x topic): --json, or --format csv.")


def _offering_names(app: App, offering_file: Path, templates: tuple[str, ...]) -> tuple[str, ...]:
    """The names meaning the offering in a survey: its ``applicants.choice``, else its title, its template's
    name, title and ``aliases`` (as ``select`` matches a choice column). Raises :class:`InputError` or a
    template error when the offering or its template cannot be loaded."""
    from ..offerings import load_offering
    from ..templates import load_template, template_dirs

    offering = load_offering(offering_file)
    if offering.applicants.choice:
        return tuple(offering.applicants.choice)
    template = load_template(offering.template, template_dirs(templates, app.settings.templates_dir),
                             where=offering.template_where)
    return (offering.title, offering.template.replace("-", " "), template.title, *template.aliases)


def _propose(app: App, survey: Survey, offering_file: Path, names: tuple[str, ...], dry_run: bool) -> None:
    """Propose the offering's seats per regency from the demand for the topics ``names`` mean, and (unless
    ``dry_run``) write them as its quotas."""
    from ..offerings import load_offering
    from ..participants.needs import propose_seats
    from ..participants.needs.output import write_quotas

    offering = load_offering(offering_file)
    rules = offering.applicants
    reserved = sum(m.seats for m in rules.model_schools)
    proposal = propose_seats(survey.respondents, names=names, regencies=[r.slug for r in offering.regencies],
                             seats=max(0, offering.seats - reserved), minimum=offering.min_per_regency,
                             levels=rules.eligible.levels)
    if not proposal.topics:
        raise InputError(f"no survey topic means this offering ({', '.join(names)}): name it with --topic",
                         file=str(offering_file))
    quotas = {r.slug: proposal.quotas.get(r.slug, 0) for r in offering.regencies}
    written = None
    if not dry_run:
        old = offering_file.read_text(encoding="utf-8")
        write_quotas(offering_file, quotas, f"proposed by 'moodle-sync needs' on {date.today().isoformat()}",
                     proposal.level_quotas)
        try:
            load_offering(offering_file)
        except InputError:
            offering_file.write_text(old, encoding="utf-8")
            raise
        written = str(offering_file)
    doc = {"offering": offering.id, "proposal": proposal.to_dict(), "quotas": quotas,
           "level_quotas": proposal.level_quotas, "written": written, "dry_run": dry_run}

    def human() -> None:
        app.out.print(table(f"Seats for {offering.id} from the demand for {', '.join(proposal.topics)}"
                            + (f" ({', '.join(proposal.levels)} teachers)" if proposal.levels else ""),
                            ["regency", "demand", "seats"],
                            [[k, proposal.demand.get(k, 0), _seats_text(n, proposal.level_quotas.get(k))]
                             for k, n in quotas.items()]))
        app.out.print(f"Wrote quotas into {written}" if written else "Dry run: the offering is unchanged.")

    app.emit(doc, human)


def _seats_text(seats: int, levels: dict[str, int] | None) -> str:
    """``20`` or ``20 (SD 12, SMP 8)``."""
    return f"{seats} ({', '.join(f'{k} {n}' for k, n in levels.items())})" if levels else str(seats)


COMMANDS = [needs_cmd]
