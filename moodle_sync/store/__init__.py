"""The local store (SQLite by default, PostgreSQL by URL): ``Store.open(settings.store_url)``."""

from .records import (
    OBJECT_KINDS,
    PARTICIPANT_STATUSES,
    RUN_MODES,
    RUN_STATUSES,
    WRITE_OUTCOMES,
    MappedObject,
    OfferingRecord,
    ParticipantRecord,
    WriteRecord,
    normalise_email,
)
from .store import Store

__all__ = [
    "Store", "OfferingRecord", "MappedObject", "WriteRecord", "ParticipantRecord", "normalise_email",
    "OBJECT_KINDS", "WRITE_OUTCOMES", "PARTICIPANT_STATUSES", "RUN_MODES", "RUN_STATUSES",
]
