"""``moodle-sync doctor``: tell an admin whether their site and token are ready, or what to set up."""

from __future__ import annotations

import click
from rich.markup import escape

from ..doctor import FAIL, OK, SKIP, WARN, DoctorReport, run_doctor, site_address
from ..requirements import CAPABILITY_NAMES, EXTRAS, Requirements, requirements
from ..ws.probe import probe_site
from .app import App, pass_app, table
from .common import output_options

MARK = {OK: "[green]ok[/]", WARN: "[yellow]warn[/]", FAIL: "[red]FAIL[/]", SKIP: "[dim]skip[/]"}


@click.command()
@click.option("--requirements", "show_requirements", is_flag=True,
              help="Print what to set up on the site instead (no site needed): the service's functions, the "
                   "tool role's capabilities and the roles it may assign, per feature.")
@click.option("--extra", "extras", multiple=True, type=click.Choice(sorted(EXTRAS)),
              help="With --requirements: add an optional feature (repeatable).")
@output_options
@pass_app
def doctor(app: App, show_requirements: bool, extras: tuple[str, ...]) -> int:
    """Check site, web services, protocol, token, release, and per feature the functions and capabilities.

    Exit 0 when everything is ready, 1 when something is missing (each missing function and capability
    is named). With --requirements, print what the site needs and exit 0.
    """
    if show_requirements:
        needs = requirements(extras)
        app.emit(needs.to_dict(), lambda: _print_requirements(app, needs))
        return 0
    s = app.settings
    url = s.require_url()
    base, _ = site_address(url)
    report = run_doctor(url, s.protocol,
                        probe=lambda: probe_site(base, verify=s.verify, timeout=min(s.timeout, 30)),
                        moodle=app.moodle)
    app.emit(report.to_dict(), lambda: _print_report(app, report, url, s.protocol))
    return 0 if report.ready else 1


def _print_report(app: App, report: DoctorReport, url: str, protocol: str) -> None:
    app.out.print(table(f"moodle-sync doctor: {url} over {protocol.upper()}", ["check", "status", "detail"],
                        [[c.name, MARK[c.status], escape(c.detail)] for c in report.checks]))
    if report.missing_functions:
        app.out.print("Add these functions to the token's external service:")
        for name in report.missing_functions:
            app.out.print(f"  {name}", markup=False, overflow="ignore", crop=False)
    if report.missing_capabilities:
        app.out.print("Allow these capabilities in the token user's role (at system level):")
        for name in report.missing_capabilities:
            app.out.print(f"  {name}  ({CAPABILITY_NAMES.get(name, '?')})", markup=False, overflow="ignore",
                          crop=False)
    app.out.print("[green]Ready.[/]" if report.ready else
                  "[red]Not ready:[/] fix the FAIL lines above and run doctor again.")


def _print_requirements(app: App, needs: Requirements) -> None:
    def line(text: str) -> None:
        app.out.print(text, markup=False, overflow="ignore", crop=False)

    for name in needs.included:
        r = needs.features[name]
        line(f"{name}: {r.label}")
        line("  functions: " + ", ".join(r.functions))
        for c in r.capabilities:
            line(f"  capability {c.name}  ({c.title})")
        if r.assign_roles:
            line("  allow role assignments: " + ", ".join(r.assign_roles))
    line(f"In all: {len(needs.functions)} functions for the external service; a role at system level with "
         f"{len(needs.capabilities)} capabilities, allowed to assign {', '.join(needs.assign_roles)}.")
    others = [f for f in needs.features if f not in needs.included]
    if others:
        line("Optional (--extra): " + ", ".join(f"{f} ({needs.features[f].label})" for f in others))


COMMANDS = [doctor]
