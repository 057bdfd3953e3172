"""``moodle-sync participants``: check a registration export before selecting from it.

``participants check FILE`` reads a CSV/XLSX form export, maps its columns, normalises and validates every
row, de-duplicates people, prints the counts and writes the rejected rows to a CSV file (default
``<name>.rejects.csv`` next to the input). Exit 0 when every row is accounted for (rejects are normal),
1 when the file cannot be used (unreadable, required columns missing), 2 for usage errors.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from ..exceptions import InputError
from ..participants import default_rejects_path, import_registrations, write_rejects
from .app import App, pass_app
from .common import EXIT_OK, EXIT_PROBLEM, output_options


@click.group("participants")
def participants() -> None:
    """Check registration exports (CSV/XLSX from Google Forms and the like)."""


@participants.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="YAML file naming columns: `field: header text` (fields: submitted_at, email, fullname, "
                   "nuptk, npsn, school, regency, school_level, phone, trained_before, choice, choice2, subject, "
                   "years_of_service).")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Where to write the rejected rows (default: <name>.rejects.csv next to FILE).")
@output_options
@pass_app
def check(app: App, file: Path, mapping: Path | None, rejects: Path | None) -> int:
    """Import FILE, report accepted / superseded / rejected rows, and write the rejects file."""
    result = import_registrations(file, mapping=mapping)
    target = rejects or default_rejects_path(file)
    try:
        rejects_path = write_rejects(result, target)
    except OSError as exc:
        raise InputError(f"cannot write the rejects file: {exc.strerror or exc}", file=str(target)) from exc
    document = {**result.to_dict(), "rejects_file": str(rejects_path)}

    def human() -> None:
        table = Table(title=f"Registrations in {file}", show_header=False)
        table.add_column("bucket")
        table.add_column("rows", justify="right")
        for key, value in result.counts.items():
            table.add_row(key, str(value))
        app.out.print(table)
        columns = result.columns.get(str(file), {})
        app.out.print(Text("Columns: " + "; ".join(f"{f} = {h!r}" for f, h in columns.items())))
        if result.rejected:
            by_field = Counter(r.field or "row" for r in result.rejected)
            summary = ", ".join(f"{f} {n}" for f, n in by_field.most_common())
            app.out.print(Text(f"Rejected by field: {summary}"))
            for r in result.rejected[:10]:
                app.out.print(Text(f"  row {r.row}: {r.field}: {r.reason}"))
            if len(result.rejected) > 10:
                app.out.print(Text(f"  ... and {len(result.rejected) - 10} more"))
        warnings = [(a.row, w) for a in result.accepted for w in a.warnings]
        for row, warning in warnings[:10]:
            app.out.print(Text(f"  warning, row {row}: {warning}"))
        app.out.print(Text(f"Rejected rows written to {rejects_path}"))

    app.emit(document, human)
    return EXIT_OK if result.accounted_for else EXIT_PROBLEM


COMMANDS = [participants]
