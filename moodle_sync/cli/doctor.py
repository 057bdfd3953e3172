"""``moodle-sync doctor``: tell an admin whether their site and token are ready."""

from __future__ import annotations

import click
from rich.markup import escape

from ..doctor import FAIL, OK, SKIP, WARN, run_doctor
from ..ws.probe import probe_site
from . import output_options
from .app import App, pass_app, table

MARK = {OK: "[green]ok[/]", WARN: "[yellow]warn[/]", FAIL: "[red]FAIL[/]", SKIP: "[dim]skip[/]"}


@click.command()
@output_options
@pass_app
def doctor(app: App) -> int:
    """Check site, web services, protocol, token, release and the functions each feature needs.

    Exit 0 when everything is ready, 1 when something is missing (each missing function is named).
    """
    s = app.settings
    url = s.require_url()
    report = run_doctor(url, s.protocol,
                        probe=lambda: probe_site(url, verify=s.verify, timeout=min(s.timeout, 30)),
                        moodle=app.moodle)

    def human() -> None:
        app.out.print(table(f"moodle-sync doctor: {url} over {s.protocol.upper()}",
                            ["check", "status", "detail"],
                            [[c.name, MARK[c.status], escape(c.detail)] for c in report.checks]))
        if report.missing_functions:
            app.out.print("Add these functions to the token's external service:")
            for name in report.missing_functions:
                app.out.print(f"  {name}", markup=False, overflow="ignore", crop=False)
        app.out.print("[green]Ready.[/]" if report.ready else
                      "[red]Not ready:[/] fix the FAIL lines above and run doctor again.")

    app.emit(report.to_dict(), human)
    return 0 if report.ready else 1


COMMANDS = [doctor]
