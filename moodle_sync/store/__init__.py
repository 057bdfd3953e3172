"""The local store (SQLite by default, PostgreSQL by URL): ``Store.open(settings.store_url)``.

:class:`Store` (and with it SQLAlchemy) is imported on first use, so that code which only needs the
record types (reports, selection) stays quick to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .records import (
    LEGACY_SITE,
    OBJECT_KINDS,
    PARTICIPANT_STATUSES,
    RUN_MODES,
    RUN_STATUSES,
    WRITE_OUTCOMES,
    MappedObject,
    OfferingRecord,
    ParticipantRecord,
    SiteRecord,
    WriteRecord,
    normalise_email,
    site_key,
)

if TYPE_CHECKING:
    from .store import Store


def __getattr__(name: str) -> Any:
    if name == "Store":
        from .store import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LEGACY_SITE",
    "OBJECT_KINDS",
    "PARTICIPANT_STATUSES",
    "RUN_MODES",
    "RUN_STATUSES",
    "WRITE_OUTCOMES",
    "MappedObject",
    "OfferingRecord",
    "ParticipantRecord",
    "SiteRecord",
    "Store",
    "WriteRecord",
    "normalise_email",
    "site_key",
]
