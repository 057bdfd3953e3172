"""What a web-service function implementation gets: the :class:`Call` context, the registry, lookups.

Each ``functions_*`` module registers its functions with :func:`ws`; an implementation takes the
:class:`Call` and the cleaned parameters and returns the answer (plain JSON values). Lookups raise
the errors Moodle raises for missing rows (``invalidrecord`` naming the table).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import records as r
from .errors import RecordFailure, SandboxMoodleError, invalid_parameter, missing_record, moodle_error
from .records import ADMIN_ID, GUEST_ID, SITE_COURSE_ID  # noqa: F401 - re-exported for the functions
from .state import State

Handler = Callable[["Call", dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {}

THEME_REV = 1795818076
SITE_NAME = "BGTK Test Moodle"
DEFAULT_TIMEZONE = "Asia/Jakarta"  # the lab's site timezone ($CFG->timezone); dates shown to people use it


def site_timezone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``Asia/Jakarta``); ``ValueError`` naming it when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Jakarta)") from None


SITE_TZ = site_timezone(DEFAULT_TIMEZONE)


def ws(name: str) -> Callable[[Handler], Handler]:
    """Register the implementation of web-service function ``name``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


@dataclass
class Call:
    """One web-service call in progress (inside the state lock and a transaction)."""

    state: State
    function: str
    userid: int
    now: int
    base_url: str
    token: str = ""
    failures: list[RecordFailure] = field(default_factory=list)
    cache: dict[str, tuple[int, Any]] = field(default_factory=dict)
    after_commit: SandboxMoodleError | None = None
    tz: tzinfo = SITE_TZ  # the site's time zone
    outbox: list[r.Mail] = field(default_factory=list)  # mails to send once the call's transaction committed

    def cached(self, name: str, build: Callable[[Call], Any]) -> Any:
        """``build(call)``, reused until the state changes (for expensive read-only views)."""
        hit = self.cache.get(name)
        if hit is not None and hit[0] == self.state.version:
            return hit[1]
        value = build(self)
        self.cache[name] = (self.state.version, value)
        return value

    def records(self, items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Iterate a batch, raising an injected per-record failure when a record matches one."""
        for item in items:
            for failure in self.failures:
                if failure.function == self.function and failure.matches(item):
                    failure.used()
                    raise failure.error()
            yield item

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def pix(self, component: str, name: str) -> str:
        return self.url(f"/theme/image.php/boost/{component}/{THEME_REV}/{name}")

    def user_picture(self, size: str = "f1") -> str:
        return self.pix("core", f"u/{size}")


# ----------------------------------------------------------------------------- lookups
def course(state: State, courseid: int) -> r.Course:
    row = state.courses.get(courseid)
    if row is None:
        raise missing_record("course")
    return row


def course_context(state: State, courseid: int) -> r.Course:
    """The course as ``validate_context`` sees it: a missing course is an invalid parameter."""
    row = state.courses.get(courseid)
    if row is None:
        raise invalid_parameter("Context does not exist")
    return row


def course_in_context(state: State, courseid: int) -> r.Course:
    """The course, or the ``errorcoursecontextnotvalid`` error group functions raise for a missing one."""
    row = state.courses.get(courseid)
    if row is None:
        raise moodle_error("errorcoursecontextnotvalid", "You cannot execute functions in the course context "
                           f"(course id:{courseid}). The context error message was: Invalid parameter value detected")
    return row


def user(state: State, userid: int) -> r.User:
    row = state.users.get(userid)
    if row is None or row.deleted:
        raise missing_record("user")
    return row


def module(state: State, cmid: int) -> r.Module:
    row = state.modules.get(cmid)
    if row is None:
        raise missing_record("course_modules")
    return row


def enrolment(state: State, courseid: int, userid: int) -> r.Enrolment | None:
    return state.enrolments.first("course_user", (courseid, userid))


def is_enrolled(state: State, courseid: int, userid: int, *, active: bool = False) -> bool:
    e = enrolment(state, courseid, userid)
    if e is None:
        return False
    return not active or e.status == 0


def sections_of(state: State, courseid: int) -> list[r.Section]:
    return sorted(state.sections.find("course", courseid), key=lambda s: s.section)


def modules_in_order(state: State, courseid: int) -> list[r.Module]:
    """The course's modules in page order (section by section, then the section's sequence)."""
    out: list[r.Module] = []
    for sec in sections_of(state, courseid):
        for cmid in sec.sequence:
            cm = state.modules.get(cmid)
            if cm is not None:
                out.append(cm)
    return out


# ----------------------------------------------------------------------------- display helpers
def userdate(timestamp: int | None, tz: tzinfo = SITE_TZ) -> str:
    """Moodle's ``strftimedaydatetime`` in time zone ``tz``: "Friday, 27 November 2026, 10:35 PM"."""
    if not timestamp:
        return ""
    dt = datetime.fromtimestamp(timestamp, tz)
    hour = dt.hour % 12 or 12
    return f"{dt:%A}, {dt.day} {dt:%B} {dt.year}, {hour}:{dt:%M} {'AM' if dt.hour < 12 else 'PM'}"


def midnight(timestamp: int, tz: tzinfo = SITE_TZ) -> int:
    """The start of the day holding ``timestamp`` in time zone ``tz`` (Moodle's ``usergetmidnight``)."""
    dt = datetime.fromtimestamp(timestamp, tz)
    return int(dt.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
