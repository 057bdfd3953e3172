"""Test controls: what a test (or the quickstart, or a benchmark) may do to the fake site that a web-service
client cannot: slow it down, make calls fail, complete activities, grade, run cron, count calls, read the
mails the site sent, make tokens (for a user lacking capabilities), reset.

The same actions are served as JSON ``POST /_sandbox/<action>`` (or ``GET`` without arguments; see
:mod:`moodle_sync.sandbox.server`), so a sandbox started by the CLI can be driven from another process.
Every action raises :class:`ControlError` for a request that makes no sense (unknown course, ...).
"""

from __future__ import annotations

import inspect
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from . import records as r
from .completion import run_cron as _run_cron
from .completion import set_activity_state
from .errors import RecordFailure
from .functions_completion import set_grade as _set_grade
from .moodle import FULL_SERVICE, LIMITED_SERVICE, SandboxMoodle
from .seed import seed_state

FAULT_KINDS = ("timeout", "http500", "http429", "apply_then_drop", "apply_then_timeout")
ACTIONS = ("set_latency", "inject_fault", "clear_faults", "fail_record", "complete_activity", "set_grade",
           "record_access", "run_cron", "create_participants_report", "call_counts", "reset", "make_token",
           "info", "mails", "messages")


class ControlError(ValueError):
    """A control request that cannot be carried out (names what is wrong)."""


@dataclass
class Fault:
    """A transport failure for the next ``times`` calls of ``function`` (``"*"``: any function)."""

    function: str
    kind: str
    times: int = 1
    seconds: float = 30.0  # how long a ``timeout``/``apply_then_timeout`` holds the request before dropping it


class FaultBook:
    """Pending faults, consumed call by call. Thread-safe. ``released`` ends held ``timeout`` requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self.released = threading.Event()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, function: str) -> Fault | None:
        """The fault to apply to this call of ``function``, if any (uses up one of its ``times``)."""
        with self._lock:
            for fault in self._faults:
                if fault.function in (function, "*"):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class SandboxControl:
    """The Python test-control API of one sandbox (``server.control``)."""

    def __init__(self, moodle: SandboxMoodle, faults: FaultBook) -> None:
        self.moodle = moodle
        self.faults = faults

    # transport behaviour ----------------------------------------------------------------------
    def set_latency(self, ms: float) -> None:
        """Sleep ``ms`` milliseconds in every web-service call (outside the state lock)."""
        if ms < 0:
            raise ControlError("latency must not be negative")
        self.moodle.latency_ms = float(ms)

    def inject_fault(self, function: str, kind: str, times: int = 1, seconds: float = 30.0) -> None:
        """Make the next ``times`` calls of ``function`` fail with ``kind``.

        ``timeout`` holds the request ``seconds`` (set it above the client's timeout) and drops it;
        ``http500`` and ``http429`` (with ``Retry-After: 1``) answer without running the call;
        ``apply_then_drop`` runs the call, then closes the connection without answering;
        ``apply_then_timeout`` runs the call, then holds the answer ``seconds`` and drops it (a call that
        goes on past the client's timeout: its work is done, the client hears nothing in time).
        """
        if kind not in FAULT_KINDS:
            raise ControlError(f"fault kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ControlError("times must be at least 1")
        self.faults.add(Fault(function, kind, int(times), float(seconds)))

    def clear_faults(self) -> None:
        """Forget pending faults and per-record failures."""
        self.faults.clear()
        with self.moodle.lock:
            self.moodle.record_failures.clear()

    def fail_record(self, function: str, match: dict[str, Any], errorcode: str, message: str,
                    debuginfo: str | None = None, times: int | None = None) -> None:
        """Fail any batch call of ``function`` that reaches a record whose fields equal ``match``
        (for a function without a batch: any call whose parameters equal ``match``).

        The call fails at that record (so an all-or-nothing batch is rolled back) with ``errorcode`` and
        ``message`` (``invalidparameter`` comes as Moodle's invalid_parameter_exception with
        ``message`` as its debuginfo). ``times`` limits how often (default: every time).
        """
        if not match:
            raise ControlError("match must name at least one field")
        with self.moodle.lock:
            self.moodle.record_failures.append(RecordFailure(function, dict(match), errorcode, message, debuginfo,
                                                             times))

    # site activity ----------------------------------------------------------------------------
    def complete_activity(self, courseid: int, userid: int, cm_idnumber: str, time: int | None = None) -> int:
        """Mark the activity with ``cm_idnumber`` complete for the user; returns its course-module id."""
        with self.moodle.lock:
            state = self.moodle.state
            assert state is not None
            self._enrolled(courseid, userid)
            cm = state.modules.first("idnumber", (courseid, cm_idnumber))
            if cm is None:
                raise ControlError(f"course {courseid} has no activity with idnumber {cm_idnumber!r}")
            if not cm.completion:
                raise ControlError(f"activity {cm_idnumber!r} does not track completion")
            with state.transaction():
                set_activity_state(state, cm, userid, 1, int(time) if time is not None else self.moodle.now())
            self._written()
            return cm.id

    def set_grade(self, courseid: int, userid: int, item_idnumber: str, grade: float | None,
                  time: int | None = None) -> int:
        """Grade the user on the grade item with ``item_idnumber`` (completes "receive a grade" activities);
        returns the grade item id."""
        with self.moodle.lock:
            state = self.moodle.state
            assert state is not None
            self._enrolled(courseid, userid)
            item = next((i for i in state.grade_items.find("course", courseid) if i.idnumber == item_idnumber), None)
            if item is None:
                raise ControlError(f"course {courseid} has no grade item with idnumber {item_idnumber!r}")
            if grade is not None and not item.grademin <= float(grade) <= item.grademax:
                raise ControlError(f"grade {grade} is outside {item.grademin:g}..{item.grademax:g}")
            when = int(time) if time is not None else self.moodle.now()
            with state.transaction():
                _set_grade(state, item, userid, None if grade is None else float(grade), when)
            self._written()
            return item.id

    def record_access(self, courseid: int, userid: int, time: int | None = None) -> None:
        """Record that the user opened the course (``lastcourseaccess``, ``lastaccess``, ``firstaccess``)."""
        with self.moodle.lock:
            state = self.moodle.state
            assert state is not None
            self._enrolled(courseid, userid)
            when = int(time) if time is not None else self.moodle.now()
            with state.transaction():
                access = state.course_access.first("course_user", (courseid, userid))
                if access is None:
                    state.insert("course_access", r.CourseAccess(id=0, courseid=courseid, userid=userid,
                                                                 timeaccess=when))
                else:
                    state.update("course_access", access, timeaccess=max(access.timeaccess, when))
                user = state.users.rows[userid]
                state.update("users", user, lastaccess=max(user.lastaccess, when),
                             firstaccess=user.firstaccess or when)
            self._written()

    def run_cron(self, time: int | None = None) -> int:
        """Compute course completions (Moodle's completion cron); returns how many enrolments completed."""
        with self.moodle.lock:
            state = self.moodle.state
            assert state is not None
            with state.transaction():
                done = _run_cron(state, int(time) if time is not None else self.moodle.now())
            self._written()
            return done

    def create_participants_report(self, name: str = "moodle_sync completion") -> int:
        """Create a custom report over "Course participants" (active enrolments); returns its id."""
        with self.moodle.lock:
            state = self.moodle.state
            assert state is not None
            report = state.insert("reports", r.Report(id=0, name=name, timecreated=self.moodle.now()))
            self._written()
            return report.id

    # bookkeeping ------------------------------------------------------------------------------
    def call_counts(self) -> dict[str, int]:
        """Web-service calls received per function since start (or the last reset)."""
        with self.moodle.lock:
            return dict(sorted(self.moodle.counts.items()))

    def make_token(self, functions: list[str], lacking: list[str] | None = None) -> str:
        """A new token whose service holds exactly ``functions``; its user is the admin or, with ``lacking``,
        a new user whose system role allows every capability but those (``moodle/course:create``...)."""
        try:
            return self.moodle.make_token(list(functions), lacking=None if lacking is None else list(lacking))
        except ValueError as exc:
            raise ControlError(str(exc)) from None

    def mails(self) -> list[dict[str, Any]]:
        """The mails the site sent, oldest first: ``id``, ``userid``, ``username``, ``to``, ``subject``, ``time``."""
        with self.moodle.lock:
            state = self.moodle.state
            assert state is not None
            return [asdict(m) for m in sorted(state.mails, key=lambda m: m.id)]

    def messages(self) -> list[dict[str, Any]]:
        """The private messages the site delivered, oldest first: ``id``, ``useridfrom``, ``useridto``,
        ``text``, ``textformat``, ``time``."""
        with self.moodle.lock:
            state = self.moodle.state
            assert state is not None
            return [asdict(m) for m in sorted(state.messages, key=lambda m: m.id)]

    def info(self) -> dict[str, Any]:
        """The sandbox's address and tokens."""
        return {"url": self.moodle.base_url, "token": self.moodle.token, "limited_token": self.moodle.limited_token}

    def reset(self) -> None:
        """Back to the seed state; the two standard tokens stay valid; faults, failures, counts, latency cleared."""
        with self.moodle.lock:
            keep = {t.service: t.token for t in self.moodle.state.tokens  # type: ignore[union-attr]
                    if t.service in (FULL_SERVICE, LIMITED_SERVICE)}
            fresh = seed_state(self.moodle.now(), self.moodle.tz)
            for service, token in keep.items():
                functions = next(t.functions for t in self.moodle.state.tokens  # type: ignore[union-attr]
                                 if t.service == service)
                fresh.insert("tokens", r.Token(id=0, token=token, userid=2, service=service, functions=functions))
            self.moodle.state = fresh
            self.moodle.record_failures.clear()
            self.moodle.counts.clear()
            self.moodle.latency_ms = 0.0
            self.moodle._cache.clear()
            self.faults.clear()
            self._written()

    def _enrolled(self, courseid: int, userid: int) -> None:
        state = self.moodle.state
        assert state is not None
        if state.courses.get(courseid) is None:
            raise ControlError(f"no course with id {courseid}")
        if state.enrolments.first("course_user", (courseid, userid)) is None:
            raise ControlError(f"user {userid} is not enrolled in course {courseid}")

    def _written(self) -> None:
        if self.moodle.on_write is not None:
            self.moodle.on_write()

    def perform(self, action: str, arguments: dict[str, Any]) -> Any:
        """Run control ``action`` with keyword ``arguments`` (the HTTP control endpoint's entry)."""
        if action not in ACTIONS:
            raise ControlError(f"unknown sandbox action {action!r}; known: {', '.join(ACTIONS)}")
        method = getattr(self, action)
        try:
            inspect.signature(method).bind(**arguments)
        except TypeError as exc:
            raise ControlError(f"{action}: {exc}") from None
        return method(**arguments)
