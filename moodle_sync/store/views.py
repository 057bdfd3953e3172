"""SQL views for analysts: a stable, documented, read-only face of the store, the same on SQLite and PostgreSQL.

A BI tool (Metabase, Superset, Grafana) or plain SQL reads these three views instead of the tables, whose
shape follows what moodle-sync needs and may change between versions. The views hold no personal data: no
names, e-mail addresses, phone numbers, NUPTK or schools; a Moodle user id is kept so that people can be
counted once. On PostgreSQL a role granted SELECT on the views alone can read them and nothing else (a view
reads its tables with its owner's rights).

- ``v_enrolment_evidence``: the current evidence of every enrolment (one row per site, offering, course and
  Moodle user), with the class, regency and school level filled from the participant record where Moodle's
  evidence lacks them, as the reports do;
- ``v_pull_runs``: every pull run of every site;
- ``v_selection_outcomes``: every participant record's selection outcome.

Columns are listed in :data:`VIEW_COLUMNS` (the README's table is written from it) and only ever gain new
columns at the end. Times are Unix seconds (UTC); booleans are true/false on PostgreSQL and 1/0 on SQLite;
percentages are 0-100, unrounded.

:func:`create_views` runs after the migrations, in the opener's transaction, once the store is at
:data:`~.schema.SCHEMA_VERSION` (the views are written for it): a view that is missing or
whose definition changed is (re)created (PostgreSQL: ``CREATE OR REPLACE VIEW``, which keeps the grants
given on it), an unchanged one is left alone, so opening a store takes no lock on a view an analyst is
reading. A migration that rebuilds or drops a table a view reads calls :func:`drop_views` first.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text

from ..regions import LAMPUNG
from .migrations import current_version
from .schema import SCHEMA_VERSION

VIEW_COLUMNS: dict[str, tuple[str, ...]] = {
    "v_enrolment_evidence": (
        "site_id", "site_name", "offering_id", "offering_title", "programme", "course_key", "course_id",
        "class_name", "regency", "school_level", "moodle_user_id", "role", "enrol_status", "withdrawn",
        "started", "completed", "activities_done", "activities_total", "time_enrolled", "last_access",
        "time_completed", "course_grade", "course_grade_max", "course_grade_pct", "pretest_grade",
        "pretest_max", "pretest_pct", "posttest_grade", "posttest_max", "posttest_pct", "grades_modified",
        "pulled_at", "run_id"),
    "v_pull_runs": (
        "site_id", "site_name", "run_id", "started_at", "finished_at", "duration_seconds", "mode", "status",
        "offerings", "calls", "enrolments", "reread", "errors"),
    "v_selection_outcomes": (
        "site_id", "site_name", "offering_id", "programme", "course_key", "class_name", "regency",
        "school_level", "status", "rank", "reason", "trained_before", "trained_before_form", "moodle_user_id",
        "submitted_at", "updated_at"),
}
"""The columns of each view, in order."""

VIEW_DESCRIPTIONS: dict[str, str] = {
    "v_enrolment_evidence": "Current completion evidence per enrolment (site, offering, course, Moodle user); "
                            "no personal data",
    "v_pull_runs": "Pull runs of every site: times, mode, status, web-service calls, enrolments, errors",
    "v_selection_outcomes": "Selection outcome of every participant record; no personal data",
}


def _regency(expression: str) -> str:
    """SQL naming a regency given by slug or name by its official name (as reports show it); other text
    unchanged."""
    cases = " ".join(f"WHEN '{r.slug}' THEN '{r.name}'" for r in LAMPUNG)
    return f"CASE {expression} {cases} ELSE {expression} END"


def _pct(grade: str, maximum: str) -> str:
    return f"CASE WHEN s.{maximum} > 0 THEN 100.0 * s.{grade} / s.{maximum} END"


# The participant record of an enrolment, as reports find it: by e-mail, else by Moodle user id.
_RECORD = """(SELECT site_id, offering_id, moodle_user_id, MIN(email) AS email FROM participants
      WHERE moodle_user_id IS NOT NULL GROUP BY site_id, offering_id, moodle_user_id) pu
    ON pu.site_id = s.site_id AND pu.offering_id = s.offering_id AND pu.moodle_user_id = s.user_id
  LEFT JOIN participants p
    ON p.site_id = s.site_id AND p.offering_id = s.offering_id AND p.email = CASE
      WHEN EXISTS (SELECT 1 FROM participants x WHERE x.site_id = s.site_id AND x.offering_id = s.offering_id
                   AND x.email = LOWER(TRIM(s.email))) THEN LOWER(TRIM(s.email)) ELSE pu.email END"""


def _enrolment_evidence() -> str:
    region = _regency("COALESCE(NULLIF(s.regency, ''), p.regency)")
    return f"""SELECT s.site_id AS site_id, st.name AS site_name, s.offering_id AS offering_id,
  o.title AS offering_title, o.template AS programme, s.course_key AS course_key, s.course_id AS course_id,
  COALESCE(NULLIF(s.class_name, ''), p.class_name) AS class_name, {region} AS regency,
  COALESCE(NULLIF(s.school_level, ''), p.school_level) AS school_level, s.user_id AS moodle_user_id,
  s.role AS role, s.enrol_status AS enrol_status,
  (NOT s.completed AND (s.enrol_status <> 'active' OR COALESCE(p.status, '') = 'withdrawn')) AS withdrawn,
  (COALESCE(s.last_access, 0) > 0 OR s.activities_done > 0 OR s.completed) AS started,
  s.completed AS completed, s.activities_done AS activities_done, s.activities_total AS activities_total,
  s.time_enrolled AS time_enrolled, s.last_access AS last_access, s.time_completed AS time_completed,
  s.course_grade AS course_grade, s.course_grade_max AS course_grade_max,
  {_pct("course_grade", "course_grade_max")} AS course_grade_pct,
  s.pretest_grade AS pretest_grade, s.pretest_max AS pretest_max, {_pct("pretest_grade", "pretest_max")} AS pretest_pct,
  s.posttest_grade AS posttest_grade, s.posttest_max AS posttest_max,
  {_pct("posttest_grade", "posttest_max")} AS posttest_pct,
  s.grades_modified AS grades_modified, s.pulled_at AS pulled_at, s.run_id AS run_id
FROM snapshots_current s
  LEFT JOIN sites st ON st.site_id = s.site_id
  LEFT JOIN offerings o ON o.site_id = s.site_id AND o.offering_id = s.offering_id
  LEFT JOIN {_RECORD}"""


def _pull_runs(dialect: str) -> str:
    errors = "json_array_length(r.errors::json)" if dialect == "postgresql" else "json_array_length(r.errors)"
    return f"""SELECT r.site_id AS site_id, st.name AS site_name, r.id AS run_id, r.started_at AS started_at,
  r.finished_at AS finished_at, r.finished_at - r.started_at AS duration_seconds, r.mode AS mode,
  r.status AS status,
  (SELECT COUNT(*) FROM pull_run_offerings ro WHERE ro.run_id = r.id) AS offerings,
  r.calls AS calls, r.enrolments AS enrolments, r.reread AS reread, {errors} AS errors
FROM pull_runs r
  LEFT JOIN sites st ON st.site_id = r.site_id"""


# Reasons that may name a person or a school (a promotion names who withdrew, a model-school seat or the
# school rule names the school, a failed enrolment another account's e-mail): the view shows NULL instead.
_PERSONAL_REASON = ("p.status = 'failed' OR p.reason LIKE '%@%' OR p.reason LIKE '%NPSN%' "
                    "OR p.reason LIKE '%model school%'")


def _selection_outcomes() -> str:
    return f"""SELECT p.site_id AS site_id, st.name AS site_name, p.offering_id AS offering_id,
  o.template AS programme, p.course_key AS course_key, p.class_name AS class_name,
  {_regency("p.regency")} AS regency, p.school_level AS school_level, p.status AS status, p.rank AS rank,
  CASE WHEN {_PERSONAL_REASON} THEN NULL ELSE p.reason END AS reason, p.trained AS trained_before, p.trained_before_form AS trained_before_form,
  p.moodle_user_id AS moodle_user_id, p.submitted_at AS submitted_at, p.updated_at AS updated_at
FROM participants p
  LEFT JOIN sites st ON st.site_id = p.site_id
  LEFT JOIN offerings o ON o.site_id = p.site_id AND o.offering_id = p.offering_id"""


def view_queries(dialect: str) -> dict[str, str]:
    """The SELECT of each view for ``dialect`` (``sqlite`` or ``postgresql``), by view name."""
    return {"v_enrolment_evidence": _enrolment_evidence(), "v_pull_runs": _pull_runs(dialect),
            "v_selection_outcomes": _selection_outcomes()}


def _marker(name: str, query: str) -> str:
    """The comment a PostgreSQL view carries: its description and a digest of its definition."""
    digest = hashlib.sha256(query.encode("utf-8")).hexdigest()[:16]
    return f"{VIEW_DESCRIPTIONS[name]} (moodle-sync {digest})"


def create_views(conn: Connection) -> list[str]:
    """Create the views that are missing or out of date, inside the caller's transaction; the names of
    those (re)created. Raises SQLAlchemy's errors (the caller's transaction then rolls back)."""
    if current_version(conn) != SCHEMA_VERSION:   # a store opened with fewer migrations (tests): no views
        return []
    dialect = conn.dialect.name
    made = []
    for name, query in view_queries(dialect).items():
        if dialect == "postgresql":
            marker = _marker(name, query)
            found = conn.execute(text("SELECT obj_description(to_regclass(:name), 'pg_class')"),
                                 {"name": name}).scalar()
            if found == marker:
                continue
            conn.execute(text(f"CREATE OR REPLACE VIEW {name} AS {query}"))
            conn.execute(text(f"COMMENT ON VIEW {name} IS '{marker}'"))
        else:
            statement = f"CREATE VIEW {name} AS {query}"
            found = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = :name"),
                                 {"name": name}).scalar()
            if found == statement:
                continue
            conn.execute(text(f"DROP VIEW IF EXISTS {name}"))
            conn.execute(text(statement))
        made.append(name)
    return made


def drop_views(conn: Connection) -> None:
    """Drop the views (for a migration that rebuilds a table they read; :func:`create_views` brings them
    back). PostgreSQL: the grants on them go with them."""
    for name in VIEW_COLUMNS:
        conn.execute(text(f"DROP VIEW IF EXISTS {name}"))
