"""The one local store of moodle_sync: offerings, the Moodle object map, the audit trail, participants,
pull runs and completion evidence of one or more Moodle sites, in SQLite (default) or PostgreSQL, through
SQLAlchemy Core."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from .certificates import CertificateStore
from .engine import open_engine, parse_url
from .evidence import EvidenceStore
from .messages import MessageStore
from .participants import ParticipantStore
from .provisioning import ProvisioningStore
from .records import LEGACY_SITE
from .sites import SiteStore

if TYPE_CHECKING:
    from typing_extensions import Self


class Store(SiteStore, ProvisioningStore, ParticipantStore, EvidenceStore, CertificateStore, MessageStore):
    """A store opened with :meth:`open`; use it as a context manager or call :meth:`close`.

    A store is bound to one site (:attr:`site_id`): every method but the sites' own reads and writes only
    that site's rows; :meth:`for_site` gives the same store bound to another. Every method runs in its own
    transaction (all of it happens, or none). Times are Unix seconds from ``clock``.
    """

    @classmethod
    def open(cls, url: str, *, site: str = LEGACY_SITE, clock: Callable[[], float] = time.time) -> Store:
        """Open (creating or migrating as needed) the store at ``url``: an SQLAlchemy URL such as
        ``sqlite:////path/to/file.sqlite`` or ``postgresql+psycopg://user@host/db``, or a plain path to
        an SQLite file; bound to ``site`` (a site id; by default the rows of a store older than sites).
        Raises :class:`~moodle_sync.exceptions.ConfigError` when it cannot."""
        engine = open_engine(url)
        return cls(engine, parse_url(url).render_as_string(hide_password=True), clock, site_id=site)

    def for_site(self, site_id: str) -> Store:
        """This store bound to ``site_id``: the same engine (cheap). Closing the store it came from closes
        the engine; closing the derived one does nothing."""
        return type(self)(self._engine, self.url, self._clock, site_id=site_id, owns_engine=False)

    def close(self) -> None:
        """Release the store's connections (if it opened them). The store cannot be used afterwards."""
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r}, site={self.site_id!r})"
