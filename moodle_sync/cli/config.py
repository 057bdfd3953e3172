"""``moodle-sync config``: write a starter file, show the settings in force and where each came from."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import default_config_path, write_starter_config
from .app import App, pass_app, table
from .common import output_options


@click.group()
def config() -> None:
    """Configuration file and settings."""


@config.command("init")
@click.option("--path", "path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write (default: the user config dir).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@output_options
@pass_app
def init(app: App, path: Path | None, force: bool) -> int:
    """Write a commented starter config file (no token: see the file's header)."""
    target = write_starter_config(path or default_config_path(), force=force)
    app.emit({"written": str(target)}, lambda: app.out.print(f"Wrote {target}"))
    return 0


@config.command("show")
@output_options
@pass_app
def show(app: App) -> int:
    """Show the settings in force and where each came from (the token is never shown)."""
    s = app.settings
    data = s.public_dict()
    data["store_url"] = s.store_url_shown

    def human() -> None:
        rows = [[k, v, s.sources.get(k, "default")] for k, v in data.items() if k != "sources"]
        app.out.print(table(f"profile {s.profile}", ["setting", "value", "from"], rows))

    app.emit(data, human)
    return 0


COMMANDS = [config]
