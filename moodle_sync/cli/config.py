"""``moodle-sync config``: write a starter file, show the settings in force and where each came from."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import config_profiles, default_config_path, write_starter_config
from ..exceptions import ConfigError
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


@config.command("profiles")
@output_options
@pass_app
def profiles(app: App) -> int:
    """List the config file's profiles (what pull --all-profiles pulls): each one's site, store, and where its
    token comes from (the token is never shown). Exit 2 when a profile's settings are not valid."""
    rows = [_profile_row(app, name) for name in config_profiles(app.config)]

    def human() -> None:
        app.out.print(table("profiles", ["profile", "url", "store", "token from", "problem"],
                            [[r["profile"], r["url"], r["store"], r["token"], r["error"]] for r in rows]))

    app.emit({"profiles": rows}, human)
    return 2 if any(r["error"] for r in rows) else 0


def _profile_row(app: App, name: str) -> dict[str, str | None]:
    """One profile's site, store (password masked) and token source; or the error of its settings."""
    try:
        s = app.for_profile(name).settings
    except ConfigError as exc:
        return {"profile": name, "url": None, "store": None, "token": None, "error": str(exc)}
    return {"profile": name, "url": s.url, "store": s.store_url_shown, "token": s.token_source(), "error": None}


COMMANDS = [config]
