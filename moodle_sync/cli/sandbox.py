"""``moodle-sync sandbox``: run the fake Moodle 4.5 site on loopback until Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

import click

from ..files import private_dir
from .app import App, pass_app
from .common import output_options


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", default=0, type=int, show_default=True, help="Port (0: any free port).")
@click.option("--latency-ms", default=0.0, type=float, help="Sleep this long in every web-service call.")
@click.option("--max-input-vars", default=5000, type=int, show_default=True,
              help="PHP max_input_vars: fields past it are silently dropped.")
@click.option("--debug", is_flag=True, help="Add debuginfo to error answers (like Moodle with debugging on).")
@click.option("--state", "state_file", metavar="FILE", help="Load the site from FILE and save it back there.")
@click.option("--timezone", default="Asia/Jakarta", show_default=True, metavar="ZONE",
              help="The site's time zone (IANA name): dates shown in reports, a new course's midnight.")
@click.option("--print-env", is_flag=True, help="Print only 'export MOODLE_URL=...' and 'export MOODLE_TOKEN=...'.")
@click.option("--ready-file", metavar="PATH", help="Write {url, token, limited_token} as JSON here once serving.")
@output_options
@pass_app
def sandbox(app: App, host: str, port: int, latency_ms: float, max_input_vars: int, debug: bool,
            state_file: str | None, timezone: str, print_env: bool, ready_file: str | None) -> int:
    """Serve a fake Moodle 4.5 site (REST, test controls under /_sandbox/) for tests and demos.

    Exit 0 when stopped with Ctrl-C or SIGTERM; 2 when the host is not loopback, the state file is bad or
    the time zone unknown.
    """
    from ..sandbox import SandboxServer

    try:
        server = SandboxServer(host, port, latency_ms=latency_ms, max_input_vars=max_input_vars, debug=debug,
                               state_file=state_file, timezone=timezone)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if ready_file:
        Path(ready_file).unlink(missing_ok=True)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        info = {"url": server.url, "token": server.token, "limited_token": server.limited_token}
        if print_env:
            click.echo(f"export MOODLE_URL={server.url}")
            click.echo(f"export MOODLE_TOKEN={server.token}")
        else:
            app.emit(info, lambda: _human(app, info))
        if ready_file:
            _write_atomically(Path(ready_file), info)
        app.info("Serving; press Ctrl-C to stop.")
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if ready_file:
            Path(ready_file).unlink(missing_ok=True)
    app.info("Sandbox stopped.")
    return 0


def _human(app: App, info: dict[str, Any]) -> None:
    app.out.print(f"Moodle sandbox: {info['url']}")
    app.out.print(f"token:         {info['token']}")
    app.out.print(f"limited token: {info['limited_token']}")


def _write_atomically(path: Path, document: dict[str, Any]) -> None:
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh)
    os.replace(tmp, path)


COMMANDS = [sandbox]
