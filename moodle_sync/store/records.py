"""The typed records the store takes and gives back (besides the evidence model's own types).

Times are Unix seconds, as everywhere in moodle_sync. E-mail addresses are kept and compared in lower
case, without surrounding spaces (see :func:`normalise_email`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

# What a Moodle object map entry can be.
OBJECT_KINDS = ("category", "course", "group", "grouping", "user", "enrolment", "section")
# How a write to Moodle ended: ``unknown`` when it was sent but no answer came back.
WRITE_OUTCOMES = ("ok", "failed", "unknown")
# Where a participant stands in an offering.
PARTICIPANT_STATUSES = ("selected", "waitlist", "not_selected", "withdrawn", "enrolled", "failed")
# How a pull ran and how it ended: ``partial`` some reads failed (their last state is kept); ``failed`` an
# error or a crash stopped it; ``interrupted`` stopped by the user (Ctrl-C). Only an ``ok`` run moves the
# point an incremental pull reads "since" (see moodle_sync.evidence.pull).
RUN_MODES = ("full", "incremental", "report")
RUN_STATUSES = ("running", "ok", "partial", "failed", "interrupted")
# The site of rows written by a store older than schema v5 (before a store knew sites): the first site
# registered in the store adopts them (see Store.register_site).
LEGACY_SITE = ""
# Paths under a Moodle site's root that a configured URL may end with; they are not part of the site.
_SITE_TAILS = ("/webservice/", "/login/")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_email(email: str) -> str:
    """The form in which the store keeps and compares e-mail addresses: stripped, lower case."""
    return email.strip().lower()


def site_key(url: str) -> str:
    """The stable id of the Moodle site at ``url``: lower-cased ``host[:port]/path``, without the scheme, a
    default port, a trailing slash, a query, or a ``/webservice/...`` or ``/login/...`` tail
    (``'https://LMS.Example.id/moodle/'`` -> ``'lms.example.id/moodle'``).

    Why the URL is the site's stable id: Moodle 4.5's ``core_webservice_get_site_info``
    (webservice/externallib.php, ``core_webservice_external::get_site_info``) answers
    ``'siteurl' => $CFG->wwwroot`` -- the one address the site is installed at, set in its config.php --
    and ``'siteid' => SITEID``, the id of the front-page course, which is 1 on every Moodle and so tells
    no two sites apart (nor does ``sitename``, which an admin renames at will). ``wwwroot`` changes only
    when the site itself is moved to another address (config.php edited, links rewritten): a deliberate
    migration, after which the store knows the moved site as a new one. A configured URL is written against the
    same root, so most runs know their site from configuration alone, without a call.

    Pure; raises ``ValueError`` for a URL without a host.
    """
    text = url.strip()
    parts = urlsplit(text if "://" in text else f"//{text}")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"{url!r} is not a site URL (no host)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r} is not a site URL (bad port)") from None
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    path = parts.path.lower()
    for tail in _SITE_TAILS:
        if tail in f"{path}/":
            path = f"{path}/"[:f"{path}/".index(tail)]
    return host + path.rstrip("/")


@dataclass(frozen=True)
class SiteRecord:
    """A Moodle site (centre) the store holds rows of: ``site_id`` is :func:`site_key` of its
    ``url`` (Moodle's ``siteurl``), ``name`` its site name, ``profile`` the config profile that last
    registered it; ``first_seen``/``last_seen`` when it was first and last registered."""

    site_id: str
    url: str
    name: str
    profile: str | None
    first_seen: int
    last_seen: int


@dataclass(frozen=True)
class OfferingRecord:
    """An offering as provisioning saved it: its template, title and the rendered data it chose to keep."""

    offering_id: str
    template: str
    title: str
    data: dict[str, Any]
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class MappedObject:
    """Which Moodle object (by id) stands for one of our keys, and the spec hash it was last written with."""

    offering_id: str
    kind: str
    key: str
    moodle_id: int
    spec_hash: str | None
    updated_at: int


@dataclass(frozen=True)
class WriteRecord:
    """One entry of the audit trail: a write we sent to Moodle and how it ended."""

    id: int
    at: int
    offering_id: str
    action: str
    kind: str
    key: str
    moodle_id: int | None
    spec_hash: str | None
    outcome: str
    detail: str | None


@dataclass
class ParticipantRecord:
    """An applicant of an offering and where they stand (selected, enrolled, ...).

    ``regency`` is a regency slug (see :mod:`moodle_sync.regions`); ``updated_at`` is set by the store.
    """

    email: str
    fullname: str = ""
    firstname: str = ""
    lastname: str = ""
    nuptk: str | None = None
    npsn: str | None = None
    school: str | None = None
    regency: str | None = None
    school_level: str | None = None
    phone: str | None = None
    course_key: str | None = None
    class_name: str | None = None
    status: str = "selected"
    rank: int | None = None
    reason: str | None = None
    moodle_user_id: int | None = None
    trained_before_form: bool | None = None
    submitted_at: int | None = None
    updated_at: int | None = None
    trained: bool | None = None      # the selection counted them as trained before (form or records)


PARTICIPANT_FIELDS = tuple(f.name for f in fields(ParticipantRecord))
