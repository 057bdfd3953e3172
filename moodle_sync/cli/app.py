"""The object every command gets in ``ctx.obj``: settings, output mode, a lazily opened site and store."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..config import Settings, load_settings


@dataclass
class App:
    """Shared state of one command run. ``json`` switches output to one JSON document on stdout."""

    config: str | None = None
    profile: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    json: bool = False
    stats: bool = False
    quiet: bool = False
    _settings: Settings | None = None
    _moodle: Any = None
    _store: Any = None
    out: Console = field(default_factory=lambda: Console(soft_wrap=True))
    err: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True))
    started: float = field(default_factory=time.perf_counter)   # for --stats: the command's wall time

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(config=self.config, profile=self.profile, overrides=self.overrides)
        return self._settings

    def moodle(self) -> Any:
        """The :class:`~moodle_sync.ws.moodle.Moodle` for the configured site (opened once)."""
        if self._moodle is None:
            from ..ws import connect

            s = self.settings
            self._moodle = connect(s.require_url(), s.token(), protocol=s.protocol, verify=s.verify,
                                   timeout=s.timeout, retries=s.retries, max_input_vars=s.max_input_vars,
                                   concurrency=s.concurrency, write_concurrency=s.write_concurrency)
        return self._moodle

    def store(self) -> Any:
        """The local :class:`~moodle_sync.store.Store` (opened once, created and migrated if needed)."""
        if self._store is None:
            from ..store import Store

            self._store = Store.open(self.settings.store_url)
        return self._store

    def call_stats(self) -> dict[str, Any] | None:
        """The web-service call statistics so far, with ``wall_seconds`` since the command started (calls run
        concurrently: their summed ``total_seconds`` may exceed it); None when Moodle was not called."""
        if self._moodle is None:
            return None
        return {**self._moodle.client.stats.to_dict(), "wall_seconds": round(time.perf_counter() - self.started, 3)}

    def close(self) -> None:
        if self._moodle is not None:
            self._moodle.client.close()
        if self._store is not None:
            self._store.close()

    # output -----------------------------------------------------------------------------------
    def emit(self, document: Any, human: Callable[[], None] | None = None) -> None:
        """Print ``document`` as JSON (``--json``) or call ``human`` to print it for people."""
        if self.json:
            if self.stats and isinstance(document, dict) and self.call_stats() is not None:
                document = {**document, "stats": self.call_stats()}
            click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))
        elif human is not None:
            human()
        if self.stats and not self.json:
            self.print_stats()

    def print_stats(self) -> None:
        stats = self.call_stats()
        if not stats:
            return
        table = Table(title=f"Web-service calls: {stats['total_calls']} taking {stats['total_seconds']:.2f}s summed "
                            f"(concurrent), in {stats['wall_seconds']:.2f}s wall time")
        for col in ("function", "calls", "errors", "retries", "seconds"):
            table.add_column(col, justify="left" if col == "function" else "right")
        for name, s in stats["functions"].items():
            table.add_row(name, str(s["calls"]), str(s["errors"]), str(s["retries"]), f"{s['seconds']:.3f}")
        self.err.print(table)

    def info(self, message: str) -> None:
        """A line for people on stderr (silent with --quiet or --json)."""
        if not self.quiet and not self.json:
            self.err.print(message)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Callable[[int], None]]:
        """A progress bar on stderr; yields ``advance(n)``. Hidden with --quiet/--json or off a terminal."""
        if self.quiet or self.json or not sys.stderr.isatty():
            yield lambda n=1: None
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=self.err, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task, n)


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> Table:
    """A readable rich table."""
    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    return t


pass_app = click.make_pass_decorator(App)
