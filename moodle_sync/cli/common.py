"""What several commands share: exit codes, the output options, the OFFERING argument and ``--templates``,
and rendering an offering file into the desired state."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from ..exceptions import InputError
from ..provision.spec import OfferingSpec
from .app import App

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Adds ``--json``, ``--stats`` and ``--quiet`` to a command (they set the shared :class:`App`)."""

    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
    @click.option("--stats", is_flag=True, help="Print web-service call counts and timings.")
    @click.option("--quiet", "-q", is_flag=True, help="No progress or chatter on stderr.")
    @functools.wraps(fn)
    def wrapper(*args: Any, as_json: bool, stats: bool, quiet: bool, **kwargs: Any) -> Any:
        app = click.get_current_context().find_object(App)
        if app is not None:
            app.json = app.json or as_json
            app.stats = app.stats or stats
            app.quiet = app.quiet or quiet
        return fn(*args, **kwargs)

    return wrapper


class OfferingFile(click.ParamType):
    """OFFERING for the commands that need the offering's file: its YAML file, or the id of an offering whose
    file the store recorded (``apply``, ``select`` and ``enrol`` record it). Converts to the file's
    :class:`~pathlib.Path`; anything else is a usage error (exit 2) saying to give the YAML file."""

    name = "offering"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        if isinstance(value, Path):
            return value
        path = Path(value)
        if path.is_file():
            return path
        if path.suffix.lower() in (".yaml", ".yml") or "/" in value or os.sep in value:
            self.fail(f"{value}: no such offering file", param, ctx)
        app = ctx.find_object(App) if ctx is not None else None
        if app is None or not store_exists(app):
            self.fail(f"{value}: no such file, and no store records an offering {value!r}: give its YAML file",
                      param, ctx)
        from ..api import stored_offering_file

        try:
            return stored_offering_file(app.store(offline=True), value)
        except InputError as exc:
            self.fail(str(exc), param, ctx)


offering_argument = click.argument("offering_file", metavar="OFFERING", type=OfferingFile())
templates_option = click.option("--templates", "templates", multiple=True, metavar="DIR",
                                help="Another folder of course templates (before the shipped ones).")


def render(app: App, path: Path, templates: tuple[str, ...], classes: Mapping[str, int] | None = None, *,
           offline: bool = False) -> OfferingSpec:
    """Load the offering file and render it through its template into the desired state, with as many
    classes per course as the store's roster (or ``classes``, a new selection's) needs, and each model
    school's facilitator leading the class the roster keeps that school's teachers in (see
    :func:`moodle_sync.api.render_offering`). A store not created yet is not created by rendering;
    ``offline``: the store's site is found without asking Moodle (see :meth:`App.store`)."""
    from ..api import render_offering
    from ..templates import template_dirs

    store = app.store(offline=offline) if store_exists(app) else None
    settings = app.settings
    return render_offering(path, templates=template_dirs(templates, settings.templates_dir), store=store,
                           classes=classes, facilitator_role_id=settings.facilitator_role_id)


def store_exists(app: App) -> bool:
    """Whether the configured store exists (a SQLite file is there; a server database is assumed), so a
    command that only reads it never creates one."""
    from ..store.engine import parse_url, sqlite_path

    url = parse_url(app.settings.store_url)
    path = sqlite_path(url) if url.get_backend_name() == "sqlite" else None
    return path is None or path.exists()


yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")


def confirm_writes(app: App, question: str, yes: bool) -> None:
    """The one rule for commands that write to Moodle: ask ``question`` first, unless ``--yes``.

    Where there is no one to ask (``--json``, or stdin is not a terminal: cron, a pipe) the command needs
    ``--yes``; raises :class:`click.UsageError` then, :class:`click.Abort` (exit 1) when the answer is no.
    ``--dry-run`` never asks: callers return before calling this.
    """
    if yes:
        return
    if app.json:
        raise click.UsageError("--json needs --yes for a command that writes to Moodle (there is no one to ask)")
    if not sys.stdin.isatty():
        raise click.UsageError("not on a terminal: add --yes to write to Moodle without being asked")
    click.confirm(question, abort=True, err=True)


def offering_id_of(value: str) -> str:
    """The offering id an OFFERING argument names: an offering YAML file (its ``id:``) or the id itself.

    Raises :class:`click.BadParameter` (exit 2, as for every command's OFFERING) for a YAML file that is not
    there, :class:`~moodle_sync.exceptions.InputError` (file, line, field) for a file that is not a valid
    offering."""
    path = Path(value)
    if path.suffix.lower() in (".yaml", ".yml") and not path.is_file():
        raise click.BadParameter(f"{value}: no such offering file", param_hint="'OFFERING'")
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        from ..offerings import load_offering

        return load_offering(path).id
    return value
