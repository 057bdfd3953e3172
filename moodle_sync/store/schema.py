"""The store's current schema as SQLAlchemy Core tables: what the queries are written against.

The database is brought to this shape by :mod:`moodle_sync.store.migrations` (which keeps its own,
frozen, copy of each step); a test checks that a freshly migrated database has exactly these columns.
Times are Unix seconds (BigInteger); JSON-valued columns are text.

Schema v5: a store holds several Moodle sites (centres). ``sites`` lists them (``site_id`` = the
:func:`~moodle_sync.store.records.site_key` of Moodle's ``siteurl``), ``site_aliases`` maps the
site_key of a configured URL to its site; every other table has ``site_id`` as the first column of its
keys, so two sites may use the same offering id, course and user ids, and certificate numbers. Rows of a
store older than v5 have ``site_id`` '' (``LEGACY_SITE``) until a site adopts them. Tables keyed by an
autoincrement ``id`` (writes, pull_runs, snapshots_history, sent_messages) keep it (ids are unique across
sites) and carry ``site_id`` in their indexes and unique keys.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 5

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", BigInteger, nullable=False),
)

sites = Table(
    "sites", metadata,
    Column("site_id", Text, primary_key=True),
    Column("url", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("profile", Text),
    Column("first_seen", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
)

site_aliases = Table(
    "site_aliases", metadata,
    Column("alias", Text, primary_key=True),
    Column("site_id", Text, nullable=False),
)

offerings = Table(
    "offerings", metadata,
    Column("site_id", Text, primary_key=True),
    Column("offering_id", Text, primary_key=True),
    Column("template", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

moodle_objects = Table(
    "moodle_objects", metadata,
    Column("site_id", Text, primary_key=True),
    Column("offering_id", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("moodle_id", BigInteger, nullable=False),
    Column("spec_hash", Text),
    Column("updated_at", BigInteger, nullable=False),
)

writes = Table(
    "writes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("offering_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("moodle_id", BigInteger),
    Column("spec_hash", Text),
    Column("outcome", Text, nullable=False),
    Column("detail", Text),
    Column("site_id", Text, nullable=False),
    Index("ix_writes_offering", "site_id", "offering_id", "id"),
)

participants = Table(
    "participants", metadata,
    Column("site_id", Text, primary_key=True),
    Column("offering_id", Text, primary_key=True),
    Column("email", Text, primary_key=True),
    Column("fullname", Text, nullable=False),
    Column("firstname", Text, nullable=False),
    Column("lastname", Text, nullable=False),
    Column("nuptk", Text),
    Column("npsn", Text),
    Column("school", Text),
    Column("regency", Text),
    Column("school_level", Text),
    Column("phone", Text),
    Column("course_key", Text),
    Column("class_name", Text),
    Column("status", Text, nullable=False),
    Column("rank", Integer),
    Column("reason", Text),
    Column("moodle_user_id", BigInteger),
    Column("trained_before_form", Boolean),
    Column("submitted_at", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
    Column("trained", Boolean),
    Index("ix_participants_email", "site_id", "email"),
    Index("ix_participants_nuptk", "site_id", "nuptk"),
)

pull_runs = Table(
    "pull_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Column("mode", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("calls", Integer, nullable=False),
    Column("enrolments", Integer, nullable=False),
    Column("reread", Integer, nullable=False),
    Column("errors", Text, nullable=False),
    Column("site_id", Text, nullable=False),
    Index("ix_pull_runs_site", "site_id", "id"),
)

pull_run_offerings = Table(
    "pull_run_offerings", metadata,
    Column("site_id", Text, primary_key=True),
    Column("run_id", Integer, ForeignKey("pull_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("offering_id", Text, nullable=False),
    Index("ix_pull_run_offerings_offering", "site_id", "offering_id", "run_id"),
)


def _snapshot_columns() -> list[Column[Any]]:
    """The columns of a :class:`~moodle_sync.evidence.model.CompletionSnapshot`, minus the key ones."""
    return [
        Column("course_key", Text, nullable=False),
        Column("email", Text, nullable=False),
        Column("fullname", Text, nullable=False),
        Column("class_name", Text),
        Column("regency", Text),
        Column("school_level", Text),
        Column("role", Text, nullable=False),
        Column("first_access", BigInteger),
        Column("last_access", BigInteger),
        Column("completed", Boolean, nullable=False),
        Column("time_completed", BigInteger),
        Column("time_enrolled", BigInteger),
        Column("activities_total", Integer, nullable=False),
        Column("activities_done", Integer, nullable=False),
        Column("course_grade", Double),
        Column("course_grade_max", Double),
        Column("pretest_grade", Double),
        Column("pretest_max", Double),
        Column("posttest_grade", Double),
        Column("posttest_max", Double),
        Column("grades_modified", BigInteger),
        Column("pulled_at", BigInteger, nullable=False),
        Column("enrol_status", Text, nullable=False, server_default="active"),
    ]


snapshots_current = Table(
    "snapshots_current", metadata,
    Column("site_id", Text, primary_key=True),
    Column("offering_id", Text, primary_key=True),
    Column("course_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_id", Integer, ForeignKey("pull_runs.id"), nullable=False),
    *_snapshot_columns(),
    Index("ix_snapshots_current_email", "site_id", "email"),
)

snapshots_history = Table(
    "snapshots_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("offering_id", Text, nullable=False),
    Column("course_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("run_id", Integer, ForeignKey("pull_runs.id"), nullable=False),
    *_snapshot_columns(),
    Column("site_id", Text, nullable=False),
    Index("ix_snapshots_history_offering", "site_id", "offering_id", "pulled_at"),
)

# The columns a snapshot row carries, in the model's terms (everything but the store's own site_id/run_id/id).
SNAPSHOT_COLUMNS = ("offering_id", "course_id", "user_id", *(c.name for c in _snapshot_columns()))

certificates = Table(
    "certificates", metadata,
    Column("site_id", Text, primary_key=True),
    Column("offering_id", Text, primary_key=True),
    Column("email", Text, primary_key=True),
    Column("number", Text, nullable=False),
    Column("pattern", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("completed_at", BigInteger),
    Column("issued_at", BigInteger, nullable=False),
    UniqueConstraint("site_id", "number", name="uq_certificates_number"),
    UniqueConstraint("site_id", "pattern", "year", "seq", name="uq_certificates_sequence"),
)

sent_messages = Table(
    "sent_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("offering_id", Text, nullable=False),
    Column("day", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("moodle_user_id", BigInteger),
    Column("digest", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("msgid", BigInteger),
    Column("detail", Text),
    Column("at", BigInteger, nullable=False),
    Column("site_id", Text, nullable=False),
    UniqueConstraint("site_id", "offering_id", "day", "recipient", name="uq_sent_messages_day"),
)
