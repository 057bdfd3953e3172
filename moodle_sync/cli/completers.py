"""``moodle-sync completers OFFERING``: everyone who passed, with JP and a certificate number issued once
(stored), as XLSX or CSV for the certificate system (formula-safe, 0600)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from ..reports.completers import (
    HEADER,
    Completer,
    Lapsed,
    build_completers,
    completers_document,
    lapsed,
    rows,
    with_numbers,
)
from ..tabular import CSV_DIALECTS, Sheet, write_csv, write_xlsx
from .app import App, pass_app, table
from .common import offering_argument, output_options, render, templates_option
from .report import current_snapshots, no_evidence

if TYPE_CHECKING:
    from ..offerings import CertificatePattern
    from ..store.certificates import CertificateRecord
    from ..store.store import Store


def _write(listed: list[Completer], target: Path, fmt: str, dialect: str) -> Path:
    """The certificate system's file (XLSX, or CSV in ``dialect``), 0600 and formula-safe."""
    if fmt == "xlsx":
        return write_xlsx(target, [Sheet("Lulus", HEADER, rows(listed))])
    delimiter, decimal = CSV_DIALECTS[dialect]
    return write_csv(target, HEADER, rows(listed), delimiter=delimiter, decimal=decimal)


@click.command("completers")
@offering_argument
@templates_option
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True,
              help="File for the certificate system.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: ./OFFERING-completers.xlsx or .csv).")
@click.option("--csv-delimiter", type=click.Choice([",", ";"]), default=",", show_default=True,
              help="CSV separator (';' opens directly in an Excel with Indonesian settings, and brings a "
                   "decimal comma).")
@click.option("--csv-dialect", "dialect", type=click.Choice(list(CSV_DIALECTS)),
              help="As in 'report': standard (',' and a decimal point) or excel-id (';' and a decimal comma); "
                   "overrides --csv-delimiter.")
@click.option("--dry-run", is_flag=True, help="List who passed; issue no number, write no file.")
@output_options
@pass_app
def completers(app: App, offering_file: Path, templates: tuple[str, ...], fmt: str, output: Path | None,
               csv_delimiter: str, dialect: str | None, dry_run: bool) -> int:
    """Everyone who passed OFFERING (course complete and post-test at least variables.nilai_lulus, by
    default), with name as registered, NUPTK, school, regency, JP (variables.jp), completion date and a
    certificate number (variables.nomor_sertifikat) issued once: it never changes on a rerun and never
    repeats across offerings with the same pattern and year.

    Someone issued a number earlier who no longer passes (a grade lowered in Moodle) keeps the number (it
    is never reused) but is not listed: a warning and the JSON's no_longer_passing name them.

    OFFERING is the offering's YAML file, or its id once applied. Reads the store (run 'moodle-sync pull'
    first). Exit 0 done; 1 no evidence in the store.
    """
    from ..offerings import certificate_pattern, load_offering, pass_rule, training_hours

    offering = load_offering(offering_file)
    spec = render(app, offering_file, templates, offline=True)
    where = offering.file or str(offering_file)
    rule, pattern = pass_rule(spec.variables, where), certificate_pattern(spec.variables, where)
    if training_hours(spec.variables, where) is None:
        click.echo(f"Warning: {where}: variables.jp is not set: the JP column stays empty", err=True)
    snapshots = current_snapshots(app, spec.offering_id)
    if not snapshots:
        return no_evidence(spec.offering_id)
    store = app.store(offline=True)
    passed = build_completers(snapshots, store.participants(spec.offering_id), rule=rule, variables=spec.variables)
    try:
        issued = store.certificates(spec.offering_id) if dry_run else _issue(store, spec.offering_id, passed,
                                                                              pattern, offering.start.year)
    except ValueError as exc:   # a pattern whose numbers collide with ones already issued
        click.echo(f"Error: {where}: variables.nomor_sertifikat: {exc}; nothing was issued", err=True)
        return 1
    listed = with_numbers(passed, {email: c.number for email, c in issued.items()})
    gone = lapsed(passed, issued)
    _warn_lapsed(gone, spec.offering_id)
    written = None if dry_run else _write(listed, output or Path(f"{spec.offering_id}-completers.{fmt}"), fmt,
                                          dialect or ("excel-id" if csv_delimiter == ";" else "standard"))
    app.emit({**completers_document(spec.offering_id, listed, gone), "written": str(written) if written else None,
              "dry_run": dry_run}, lambda: _human(app, spec.offering_id, listed, written))
    return 0


def _issue(store: Store, offering_id: str, passed: list[Completer], pattern: CertificatePattern,
           year: int) -> dict[str, CertificateRecord]:
    """Issue a certificate number to everyone in ``passed`` who has none yet, in completion order (one
    transaction, locked per pattern and year); returns every number the offering holds, by e-mail.
    Raises ``ValueError`` when the pattern's numbers would collide with ones already issued."""
    return store.issue_certificates(offering_id, [(c.email, c.completed_at) for c in passed],
                                    pattern=pattern.text, year=year if pattern.yearly else 0,
                                    number=lambda seq: pattern.number(seq, year, offering_id))


def _warn_lapsed(gone: list[Lapsed], offering_id: str) -> None:
    """Name on stderr everyone who holds a number but no longer passes (the number is kept, never reused)."""
    for g in gone:
        click.echo(f"Warning: {g.email} holds certificate {g.certificate_number} but no longer passes "
                   f"{offering_id} (grade or completion changed in Moodle); not listed, number not reused",
                   err=True)


def _human(app: App, offering_id: str, listed: list[Completer], written: Path | None) -> None:
    """Who passed, as a table, and the file written."""
    shown = [[escape(str(v)) if v is not None else "—" for v in (r[0], r[1], r[2], r[6], r[8], r[9])]
             for r in rows(listed)]
    app.out.print(table(f"{len(listed)} passed {offering_id}", ["certificate", "name", "NUPTK", "regency", "JP",
                                                                "completed"], shown))
    if written:
        app.out.print(f"Wrote {escape(str(written))}", highlight=False)


COMMANDS = [completers]
