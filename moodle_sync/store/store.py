"""The one local store of moodle_sync: offerings, the Moodle object map, the audit trail, participants,
pull runs and completion evidence, in SQLite (default) or PostgreSQL, through SQLAlchemy Core."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from .certificates import CertificateStore
from .engine import open_engine, parse_url
from .evidence import EvidenceStore
from .messages import MessageStore
from .participants import ParticipantStore
from .provisioning import ProvisioningStore


class Store(ProvisioningStore, ParticipantStore, EvidenceStore, CertificateStore, MessageStore):
    """A store opened with :meth:`open`; use it as a context manager or call :meth:`close`.

    Every method runs in its own transaction (all of it happens, or none). Times are Unix seconds
    from ``clock``.
    """

    @classmethod
    def open(cls, url: str, *, clock: Callable[[], float] = time.time) -> Store:
        """Open (creating or migrating as needed) the store at ``url``: an SQLAlchemy URL such as
        ``sqlite:////path/to/file.sqlite`` or ``postgresql+psycopg://user@host/db``, or a plain path to
        an SQLite file. Raises :class:`~moodle_sync.exceptions.ConfigError` when it cannot."""
        engine = open_engine(url)
        return cls(engine, parse_url(url).render_as_string(hide_password=True), clock)

    def close(self) -> None:
        """Release the store's connections. The store cannot be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"
