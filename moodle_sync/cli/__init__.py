"""The ``moodle-sync`` command: a thin shell that parses, calls the library and prints.

Exit codes: 0 success or nothing to do; 1 a problem found or a failure; 2 usage or configuration error
(and, for ``plan``, changes pending); 3 an internal error (a bug: please report it with the log);
75 busy (another pull, or another run changing the offering); 130 interrupted.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from typing import Any

import click

from .._version import __version__
from ..exceptions import ConfigError, MoodleSyncError, redact
from .app import App, pass_app
from .common import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, output_options


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="moodle-sync")
@click.option("--config", "config", metavar="FILE", help="Config file (default: MOODLE_SYNC_CONFIG, then the "
              "user config dir).")
@click.option("--profile", metavar="NAME", help="Profile in the config file (default: MOODLE_SYNC_PROFILE or "
              "'default').")
@click.option("--url", metavar="URL", help="Moodle site address (overrides MOODLE_URL and the file).")
@click.option("--protocol", type=click.Choice(["rest", "soap"]), help="Web-service protocol.")
@click.option("--store", metavar="PATH|URL", help="Local store: an SQLite path or an SQLAlchemy URL.")
@click.option("--concurrency", type=int, metavar="N", help="Independent reads at once (default 4).")
@click.option("--max-input-vars", type=int, metavar="N", help="The site's PHP max_input_vars (default 1000).")
@click.option("--timeout", type=float, metavar="SECONDS", help="Seconds to wait for one call.")
@click.option("--insecure-skip-tls-verify", is_flag=True, default=None,
              help="Do NOT verify the site's TLS certificate (throw-away test sites only).")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, config: str | None, profile: str | None, verbose: int, **overrides: Any) -> None:
    """Provision Moodle courses, enrol selected participants, and pull completion evidence."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)  # a command may lower a logger's level for its own log file, not for stderr
        handler.addFilter(_RedactFilter())
    app = App(config=config, profile=profile, overrides={k: v for k, v in overrides.items() if v is not None})
    ctx.obj = app
    ctx.call_on_close(app.close)


class _RedactFilter(logging.Filter):
    """Scrubs the token from every log record, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


def root_command() -> click.Group:
    """The ``moodle-sync`` group with every command of :mod:`.commands` added (once)."""
    if not cli.commands:
        from . import commands

        for command in commands.ALL:
            cli.add_command(command)
    return cli


_register = root_command   # the name older tests use


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map every failure to an exit code and a friendly message."""
    root_command()
    want_json = "--json" in (argv if argv is not None else sys.argv[1:])
    try:
        code = cli.main(args=argv, prog_name="moodle-sync", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MoodleSyncError as exc:
        if want_json:
            click.echo(json.dumps(exc.to_dict(), ensure_ascii=False, indent=2))
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code if not isinstance(exc, ConfigError) else EXIT_USAGE)
    except Exception:  # noqa: BLE001 - a bug: say so, keep the details, never the token
        text = redact(traceback.format_exc())
        click.echo(text, err=True)
        click.echo("Internal error: this is a bug in moodle-sync; please report it with the text above.",
                   err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


__all__ = ["App", "cli", "main", "output_options", "pass_app", "root_command"]
