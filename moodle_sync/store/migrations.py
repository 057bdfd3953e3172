"""Schema migrations: ordered Python functions, each taking the store from version N-1 to N.

:func:`migrate` runs inside the one transaction that the opener holds (under a file lock for SQLite, an
advisory lock for PostgreSQL), so a store is either fully at the new version or untouched. Each step
keeps its own frozen description of the tables it creates: the current shape lives in
:mod:`moodle_sync.store.schema`, and a test checks that the two agree after the last step.

To change the schema: add a function ``_vN(conn)`` at the end of :data:`MIGRATIONS`, bump
``schema.SCHEMA_VERSION``, and change :mod:`~moodle_sync.store.schema` to match.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
    text,
)

from ..exceptions import ConfigError
from . import schema


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1(conn: Connection) -> None:
    """Offerings, the Moodle object map, the audit trail, participants, pull runs and snapshots."""
    md = MetaData()
    _v1_provisioning(md)
    _v1_participants(md)
    _v1_evidence(md)
    md.create_all(conn)


def _v1_provisioning(md: MetaData) -> None:
    Table("offerings", md,
          Column("offering_id", Text, primary_key=True), Column("template", Text, nullable=False),
          Column("title", Text, nullable=False), Column("data", Text, nullable=False),
          Column("created_at", BigInteger, nullable=False), Column("updated_at", BigInteger, nullable=False))
    Table("moodle_objects", md,
          Column("offering_id", Text, primary_key=True), Column("kind", Text, primary_key=True),
          Column("key", Text, primary_key=True), Column("moodle_id", BigInteger, nullable=False),
          Column("spec_hash", Text), Column("updated_at", BigInteger, nullable=False))
    Table("writes", md,
          Column("id", Integer, primary_key=True, autoincrement=True), Column("at", BigInteger, nullable=False),
          Column("offering_id", Text, nullable=False), Column("action", Text, nullable=False),
          Column("kind", Text, nullable=False), Column("key", Text, nullable=False),
          Column("moodle_id", BigInteger), Column("spec_hash", Text), Column("outcome", Text, nullable=False),
          Column("detail", Text), Index("ix_writes_offering", "offering_id", "id"))


def _v1_participants(md: MetaData) -> None:
    Table("participants", md,
          Column("offering_id", Text, primary_key=True), Column("email", Text, primary_key=True),
          Column("fullname", Text, nullable=False), Column("firstname", Text, nullable=False),
          Column("lastname", Text, nullable=False), Column("nuptk", Text), Column("npsn", Text),
          Column("school", Text), Column("regency", Text), Column("school_level", Text), Column("phone", Text),
          Column("course_key", Text), Column("class_name", Text), Column("status", Text, nullable=False),
          Column("rank", Integer), Column("reason", Text), Column("moodle_user_id", BigInteger),
          Column("trained_before_form", Boolean), Column("submitted_at", BigInteger),
          Column("updated_at", BigInteger, nullable=False),
          Index("ix_participants_email", "email"), Index("ix_participants_nuptk", "nuptk"))


def _v1_snapshot_columns() -> list[Column[Any]]:
    return [
        Column("course_key", Text, nullable=False), Column("email", Text, nullable=False),
        Column("fullname", Text, nullable=False), Column("class_name", Text), Column("regency", Text),
        Column("school_level", Text), Column("role", Text, nullable=False),
        Column("first_access", BigInteger), Column("last_access", BigInteger),
        Column("completed", Boolean, nullable=False), Column("time_completed", BigInteger),
        Column("time_enrolled", BigInteger), Column("activities_total", Integer, nullable=False),
        Column("activities_done", Integer, nullable=False), Column("course_grade", Double),
        Column("course_grade_max", Double), Column("pretest_grade", Double), Column("pretest_max", Double),
        Column("posttest_grade", Double), Column("posttest_max", Double),
        Column("grades_modified", BigInteger), Column("pulled_at", BigInteger, nullable=False)]


def _v1_evidence(md: MetaData) -> None:
    Table("pull_runs", md,
          Column("id", Integer, primary_key=True, autoincrement=True),
          Column("started_at", BigInteger, nullable=False), Column("finished_at", BigInteger),
          Column("mode", Text, nullable=False), Column("status", Text, nullable=False),
          Column("calls", Integer, nullable=False), Column("enrolments", Integer, nullable=False),
          Column("reread", Integer, nullable=False), Column("errors", Text, nullable=False))
    Table("pull_run_offerings", md,
          Column("run_id", Integer, ForeignKey("pull_runs.id", ondelete="CASCADE"), primary_key=True),
          Column("position", Integer, primary_key=True, autoincrement=False),
          Column("offering_id", Text, nullable=False),
          Index("ix_pull_run_offerings_offering", "offering_id", "run_id"))
    Table("snapshots_current", md,
          Column("offering_id", Text, primary_key=True),
          Column("course_id", BigInteger, primary_key=True, autoincrement=False),
          Column("user_id", BigInteger, primary_key=True, autoincrement=False),
          Column("run_id", Integer, ForeignKey("pull_runs.id"), nullable=False),
          *_v1_snapshot_columns(), Index("ix_snapshots_current_email", "email"))
    Table("snapshots_history", md,
          Column("id", Integer, primary_key=True, autoincrement=True),
          Column("offering_id", Text, nullable=False), Column("course_id", BigInteger, nullable=False),
          Column("user_id", BigInteger, nullable=False),
          Column("run_id", Integer, ForeignKey("pull_runs.id"), nullable=False),
          *_v1_snapshot_columns(), Index("ix_snapshots_history_offering", "offering_id", "pulled_at"))


def _v2(conn: Connection) -> None:
    """Participants: whether the selection counted them as trained before (their priority tier)."""
    conn.execute(text("ALTER TABLE participants ADD COLUMN trained BOOLEAN"))


def _v3(conn: Connection) -> None:
    """Snapshots: whether the enrolment still stands (``enrol_status``); ``time_enrolled`` filled where
    unknown with when a pull first recorded the enrolment (the earliest history row of its key)."""
    for table in ("snapshots_current", "snapshots_history"):
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN enrol_status TEXT NOT NULL DEFAULT 'active'"))
    conn.execute(text(
        "UPDATE snapshots_current SET time_enrolled = (SELECT MIN(h.pulled_at) FROM snapshots_history h"
        " WHERE h.offering_id = snapshots_current.offering_id AND h.course_id = snapshots_current.course_id"
        " AND h.user_id = snapshots_current.user_id) WHERE time_enrolled IS NULL"))
    conn.execute(text("UPDATE snapshots_current SET time_enrolled = pulled_at WHERE time_enrolled IS NULL"))


def _v4(conn: Connection) -> None:
    """Certificates (a number issued once per participant, never repeated for a pattern and year) and the
    messages sent to facilitators (one per offering, day and recipient)."""
    md = MetaData()
    Table("certificates", md,
          Column("offering_id", Text, primary_key=True), Column("email", Text, primary_key=True),
          Column("number", Text, nullable=False, unique=True), Column("pattern", Text, nullable=False),
          Column("year", Integer, nullable=False), Column("seq", Integer, nullable=False),
          Column("completed_at", BigInteger), Column("issued_at", BigInteger, nullable=False),
          UniqueConstraint("pattern", "year", "seq", name="uq_certificates_sequence"))
    Table("sent_messages", md,
          Column("id", Integer, primary_key=True, autoincrement=True), Column("offering_id", Text, nullable=False),
          Column("day", Text, nullable=False), Column("recipient", Text, nullable=False),
          Column("moodle_user_id", BigInteger), Column("digest", Text, nullable=False),
          Column("outcome", Text, nullable=False), Column("msgid", BigInteger), Column("detail", Text),
          Column("at", BigInteger, nullable=False),
          UniqueConstraint("offering_id", "day", "recipient", name="uq_sent_messages_day"))
    md.create_all(conn)


@dataclass(frozen=True)
class _Keys:
    """A table's keys as version 5 made them: ``site_id`` first wherever the key is not a surrogate id."""

    primary: tuple[str, ...]
    unique: tuple[tuple[str, tuple[str, ...]], ...] = ()    # (constraint name, columns)
    indexes: tuple[tuple[str, tuple[str, ...]], ...] = ()   # (index name, columns)


_V5_KEYS: dict[str, _Keys] = {
    "offerings": _Keys(("site_id", "offering_id")),
    "moodle_objects": _Keys(("site_id", "offering_id", "kind", "key")),
    "writes": _Keys(("id",), indexes=(("ix_writes_offering", ("site_id", "offering_id", "id")),)),
    "participants": _Keys(("site_id", "offering_id", "email"),
                          indexes=(("ix_participants_email", ("site_id", "email")),
                                   ("ix_participants_nuptk", ("site_id", "nuptk")))),
    "pull_runs": _Keys(("id",), indexes=(("ix_pull_runs_site", ("site_id", "id")),)),
    "pull_run_offerings": _Keys(("site_id", "run_id", "position"), indexes=(
        ("ix_pull_run_offerings_offering", ("site_id", "offering_id", "run_id")),)),
    "snapshots_current": _Keys(("site_id", "offering_id", "course_id", "user_id"),
                               indexes=(("ix_snapshots_current_email", ("site_id", "email")),)),
    "snapshots_history": _Keys(("id",), indexes=(
        ("ix_snapshots_history_offering", ("site_id", "offering_id", "pulled_at")),)),
    "certificates": _Keys(("site_id", "offering_id", "email"), unique=(
        ("uq_certificates_number", ("site_id", "number")),
        ("uq_certificates_sequence", ("site_id", "pattern", "year", "seq")))),
    "sent_messages": _Keys(("id",), unique=(
        ("uq_sent_messages_day", ("site_id", "offering_id", "day", "recipient")),)),
}


def _v5(conn: Connection) -> None:
    """Sites: the ``sites`` and ``site_aliases`` tables, and ``site_id`` first in every other table's keys,
    '' (LEGACY_SITE) in the rows already there. SQLite rebuilds a table whose primary or unique key changes
    (it cannot alter a key); PostgreSQL alters every table in place. Every row is kept."""
    md = MetaData()
    Table("sites", md, Column("site_id", Text, primary_key=True), Column("url", Text, nullable=False),
          Column("name", Text, nullable=False), Column("profile", Text),
          Column("first_seen", BigInteger, nullable=False), Column("last_seen", BigInteger, nullable=False))
    Table("site_aliases", md, Column("alias", Text, primary_key=True), Column("site_id", Text, nullable=False))
    md.create_all(conn)
    for name, keys in _V5_KEYS.items():
        for index, _columns in keys.indexes:
            conn.execute(text(f"DROP INDEX IF EXISTS {index}"))
        if conn.dialect.name == "sqlite" and (keys.primary != ("id",) or keys.unique):
            _v5_rebuild(conn, name, keys)
        else:
            _v5_alter(conn, name, keys)


def _quoted(conn: Connection, columns: tuple[str, ...] | list[str]) -> str:
    quote = conn.dialect.identifier_preparer.quote
    return ", ".join(quote(c) for c in columns)


def _v5_alter(conn: Connection, name: str, keys: _Keys) -> None:
    """Add ``site_id`` to table ``name`` in place and make its keys and indexes those of ``keys``."""
    conn.execute(text(f"ALTER TABLE {name} ADD COLUMN site_id TEXT NOT NULL DEFAULT ''"))
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ALTER TABLE {name} ALTER COLUMN site_id DROP DEFAULT"))
        found = inspect(conn)
        if keys.primary != ("id",):
            conn.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {found.get_pk_constraint(name)['name']}"))
            conn.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_pkey PRIMARY KEY "
                              f"({_quoted(conn, keys.primary)})"))
        for old in found.get_unique_constraints(name):
            conn.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {old['name']}"))
        for unique, columns in keys.unique:
            conn.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT {unique} UNIQUE ({_quoted(conn, columns)})"))
    for index, columns in keys.indexes:
        conn.execute(text(f"CREATE INDEX {index} ON {name} ({_quoted(conn, columns)})"))


def _v5_rebuild(conn: Connection, name: str, keys: _Keys) -> None:
    """SQLite: table ``name`` again with ``site_id`` first and ``keys``, every row copied with site ''.

    The columns, their defaults and foreign keys are read from the table as it is (so every earlier
    migration's columns are kept as they were)."""
    found = inspect(conn)
    columns = found.get_columns(name)
    md = MetaData()
    Table("pull_runs", md, Column("id", Integer, primary_key=True))   # what foreign keys name; not created
    Table(name, md, Column("site_id", Text, nullable=False),
          *[Column(c["name"], c["type"], nullable=c["nullable"],
                   server_default=text(c["default"]) if c["default"] is not None else None) for c in columns],
          PrimaryKeyConstraint(*keys.primary),
          *[UniqueConstraint(*cols, name=unique) for unique, cols in keys.unique],
          *[ForeignKeyConstraint(fk["constrained_columns"],
                                 [f"{fk['referred_table']}.{c}" for c in fk["referred_columns"]],
                                 ondelete=fk["options"].get("ondelete")) for fk in found.get_foreign_keys(name)],
          *[Index(index, *cols) for index, cols in keys.indexes])
    conn.execute(text(f"ALTER TABLE {name} RENAME TO {name}__v4"))
    md.tables[name].create(conn)
    names = _quoted(conn, [c["name"] for c in columns])
    conn.execute(text(f"INSERT INTO {name} (site_id, {names}) SELECT '', {names} FROM {name}__v4"))
    conn.execute(text(f"DROP TABLE {name}__v4"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "offerings, object map, audit trail, participants, pull runs, snapshots", _v1),
    Migration(2, "participants.trained (the selection's priority tier)", _v2),
    Migration(3, "snapshots.enrol_status; time_enrolled from the first pull that saw the enrolment", _v3),
    Migration(4, "certificates (issued once, never repeated) and messages sent to facilitators", _v4),
    Migration(5, "sites: site_id first in every key; rows already there kept with site '' (legacy)", _v5),
)


def current_version(conn: Connection) -> int:
    """The store's schema version: 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(select(func.coalesce(func.max(schema.schema_version.c.version), 0))).scalar_one())


def migrate(conn: Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply every migration newer than the store's version, in order, on ``conn`` (in its transaction).

    Returns the versions applied (empty when the store was current). Raises :class:`ConfigError` when
    the store was written by a newer moodle-sync (its version is past the last migration known here).
    """
    latest = migrations[-1].version if migrations else 0
    if inspect(conn).has_table("schema_version"):
        version = current_version(conn)
    else:
        schema.schema_version.create(conn)
        version = 0
    if version > latest:
        raise ConfigError(f"the store has schema version {version}, newer than this moodle-sync knows "
                          f"({latest}): upgrade moodle-sync, or point --store at another store")
    applied = []
    for step in migrations:
        if step.version <= version:
            continue
        step.apply(conn)
        conn.execute(insert(schema.schema_version).values(
            version=step.version, description=step.description, applied_at=int(time.time())))
        applied.append(step.version)
    return applied
