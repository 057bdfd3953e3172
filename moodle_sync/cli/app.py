"""The object every command gets in ``ctx.obj``: settings, output mode, a lazily opened site and store.

The store a command gets is bound to the configured profile's Moodle site (see :meth:`App.store`): the
site is known by its URL, so a run whose URL the store has seen makes no call for it; a new URL costs one
``core_webservice_get_site_info``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..config import Settings, load_settings
from ..exceptions import ConfigError

if TYPE_CHECKING:
    from ..store import SiteRecord, Store


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
    _store: Store | None = None   # the store as opened (it owns the connections); bound to the legacy site
    _bound: Store | None = None   # the store bound to the configured site
    _bound_online: bool = False   # whether _bound's site was settled with Moodle (not just guessed offline)
    _site: SiteRecord | None = None
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

    def store(self, *, offline: bool = False) -> Store:
        """The local :class:`~moodle_sync.store.Store` (opened once, created and migrated if needed), bound to
        the configured profile's site.

        A URL the store knows (as a site or an alias) needs no call; an unknown one costs one
        ``core_webservice_get_site_info``, whose ``siteurl`` and ``sitename`` register the site (with this
        profile, and the configured URL as its alias; the first site adopts a pre-v5 store's rows). With
        ``offline`` (or no URL configured) Moodle is never called: the configured URL's known site, else
        the store's only site, else the rows of a store older than sites. Raises :class:`ConfigError`
        when offline cannot choose among the store's sites, and whatever the site-info call raises.
        """
        if self._bound is not None and (offline or self._bound_online):
            return self._bound
        url = self.settings.url
        if offline or not url:
            bound = self._offline_store(url)
        else:
            site = self._opened_store().site_of_url(url) or self._register(url)
            bound, self._site, self._bound_online = self._opened_store().for_site(site.site_id), site, True
        self._bound = bound
        return bound

    def site(self) -> SiteRecord:
        """The configured profile's site as the store records it (one site-info call when the store does
        not know its URL yet). Raises :class:`ConfigError` when no URL is configured."""
        self.settings.require_url()
        self.store()
        assert self._site is not None   # store() with a URL always settles the site
        return self._site

    def for_profile(self, profile: str) -> App:
        """A new App for ``profile``: the same config file, global overrides (but ``--url``, which named this
        profile's site) and output mode; its own site, token and store."""
        overrides = {k: v for k, v in self.overrides.items() if k != "url"}
        return App(config=self.config, profile=profile, overrides=overrides, json=self.json, stats=self.stats,
                   quiet=self.quiet, out=self.out, err=self.err, started=self.started)

    def opened_store(self) -> Store:
        """The store as opened (created and migrated if needed), not bound to any site: for what looks at
        every site's rows. Raises :class:`ConfigError` for settings that are not valid."""
        return self._opened_store()

    def _opened_store(self) -> Store:
        if self._store is None:
            from ..store import Store

            self._store = Store.open(self.settings.store_url)
        return self._store

    def _register(self, url: str) -> SiteRecord:
        """Ask Moodle which site ``url`` is, and record it (with ``url`` as its alias)."""
        info = self.moodle().site_info()
        return self._opened_store().register_site(info.siteurl or url, info.sitename,
                                                  profile=self.settings.profile, alias=url)

    def _offline_store(self, url: str | None) -> Store:
        """The store bound without asking Moodle (see :meth:`store`)."""
        opened = self._opened_store()
        known = opened.site_of_url(url) if url else None
        sites = opened.sites()
        if known is None and len(sites) == 1:
            known = sites[0]
        if known is not None:
            self._site = known
            return opened.for_site(known.site_id)
        if not sites:
            return opened
        names = ", ".join(f"{s.site_id} (profile {s.profile})" if s.profile else s.site_id for s in sites)
        configured = f"the configured URL {url} is none of them" if url else "no site URL is configured"
        raise ConfigError(f"the store {self.settings.store_url_shown} holds {len(sites)} sites ({names}) and "
                          f"{configured}: choose one with --site SITE (a site id, profile or URL) or --profile")

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
            yield _ignore
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=self.err, transient=True) as bar:
            task = bar.add_task(description, total=total)

            def advance(n: int = 1) -> None:
                bar.advance(task, n)

            yield advance


def _ignore(n: int = 1) -> None:
    """Progress nobody sees."""


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> Table:
    """A readable rich table."""
    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    return t


pass_app = click.make_pass_decorator(App)
