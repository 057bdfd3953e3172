"""The Moodle sites (centres) a store holds rows of, the configured URLs that name them, and the adoption of
the rows of a store older than sites.

A site's id is :func:`~moodle_sync.store.records.site_key` of the ``siteurl`` Moodle answers in
``core_webservice_get_site_info`` (its ``$CFG->wwwroot``; see ``site_key`` for why not ``siteid``). A
configured URL may be written differently (``http://`` for ``https://``, a ``/webservice/...`` tail, a
proxy's name): it is recorded as an alias, so the next run knows its site without a call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, select, text, update

from . import schema as t
from .base import StoreBase, upsert
from .locks import lock_key
from .records import LEGACY_SITE, SiteRecord, site_key

# Every table whose rows belong to a site (all but sites, site_aliases and schema_version).
SITE_TABLES = (t.offerings, t.moodle_objects, t.writes, t.participants, t.pull_runs, t.pull_run_offerings,
               t.snapshots_current, t.snapshots_history, t.certificates, t.sent_messages)


def _site(row: Row[Any]) -> SiteRecord:
    return SiteRecord(row.site_id, row.url, row.name, row.profile, row.first_seen, row.last_seen)


class SiteStore(StoreBase):
    """The sites part of :class:`~moodle_sync.store.Store` (not scoped to the bound site: it lists them)."""

    def register_site(self, url: str, name: str, *, profile: str | None = None,
                      alias: str | None = None) -> SiteRecord:
        """Record the site at ``url`` (Moodle's ``siteurl``) named ``name``: created, or updated (its
        ``first_seen`` kept, ``last_seen`` now; its profile kept when ``profile`` is None). ``alias``, a URL
        configured for that site, is recorded to name it from now on.

        The first site registered in a store holding rows of a store older than sites (``LEGACY_SITE``)
        adopts them, in every table, in the same transaction. Returns the site. Raises ``ValueError`` for a
        URL without a host.
        """
        site_id = site_key(url)
        aliases = {site_key(alias)} if alias else set()
        now = self._now()
        with self._write() as conn:
            self._lock_sites(conn)
            first = conn.execute(select(func.count()).select_from(t.sites)).scalar_one() == 0
            keep = ["first_seen"] + (["profile"] if profile is None else [])
            upsert(conn, t.sites, [{"site_id": site_id, "url": url.strip().rstrip("/"), "name": name,
                                    "profile": profile, "first_seen": now, "last_seen": now}],
                   keys=["site_id"], keep=keep)
            upsert(conn, t.site_aliases, [{"alias": a, "site_id": site_id} for a in sorted(aliases - {site_id})],
                   keys=["alias"])
            if first:
                _adopt_legacy_rows(conn, site_id)
            row = conn.execute(select(t.sites).where(t.sites.c.site_id == site_id)).one()
        return _site(row)

    def sites(self) -> list[SiteRecord]:
        """Every site the store knows, by site id."""
        with self._read() as conn:
            return [_site(r) for r in conn.execute(select(t.sites).order_by(t.sites.c.site_id)).all()]

    def resolve_site(self, ref: str) -> SiteRecord | None:
        """The site ``ref`` names: a site id; else a URL (or ``host/path``) whose :func:`site_key` is a site or
        an alias of one; else the one site registered under that profile name; else the one site with that
        name. None when nothing (or, for a profile or name, more than one site) matches."""
        ref = ref.strip()
        sites = self.sites()
        by_id = {s.site_id: s for s in sites}
        if ref in by_id:
            return by_id[ref]
        found = self._site_of_key(ref, by_id)
        if found is not None:
            return found
        for field in ("profile", "name"):
            matches = [s for s in sites if getattr(s, field) == ref]
            if matches:
                return matches[0] if len(matches) == 1 else None
        return None

    def site_of_url(self, url: str) -> SiteRecord | None:
        """The site known for ``url`` (its site_key is a site id or a recorded alias), or None. No call."""
        return self._site_of_key(url, {s.site_id: s for s in self.sites()})

    def has_legacy_rows(self) -> bool:
        """Whether any table holds rows of a store older than sites (not adopted by a site yet)."""
        with self._read() as conn:
            return any(conn.execute(select(table.c.site_id).where(table.c.site_id == LEGACY_SITE).limit(1)).first()
                       is not None for table in SITE_TABLES)

    def _site_of_key(self, ref: str, by_id: dict[str, SiteRecord]) -> SiteRecord | None:
        try:
            key = site_key(ref)
        except ValueError:
            return None
        if key in by_id:
            return by_id[key]
        with self._read() as conn:
            site_id = conn.execute(select(t.site_aliases.c.site_id)
                                   .where(t.site_aliases.c.alias == key)).scalar_one_or_none()
        return by_id.get(site_id) if site_id is not None else None

    def _lock_sites(self, conn: Connection) -> None:
        """On PostgreSQL, wait for the transaction lock of the sites table, so that two first registrations
        at once cannot both adopt (SQLite's write lock is held already)."""
        if conn.dialect.name == "postgresql":
            database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                         {"key": lock_key(f"{database}/{schema}", "sites")})


def _adopt_legacy_rows(conn: Connection, site_id: str) -> None:
    """Give every row of a store older than sites (site '') to ``site_id``."""
    for table in SITE_TABLES:
        conn.execute(update(table).where(table.c.site_id == LEGACY_SITE).values(site_id=site_id))
