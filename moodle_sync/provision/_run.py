"""One apply run's bookkeeping: what it knows (course and category ids), what it did (the result), and the
audit trail every write leaves in the store. The phases (:mod:`._courses`, :mod:`._sections`,
:mod:`._content`, :mod:`._classes`, :mod:`._facilitators`) all write through :meth:`ApplyRun.record`."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..exceptions import WebServiceError, WriteOutcomeUnknownError
from ..store.records import WriteRecord
from ..ws.moodle import Moodle
from .plan import CREATE, UNCHANGED, Action, Plan
from .spec import OfferingSpec


class WriteLog(Protocol):
    """What apply needs of the store (see :class:`moodle_sync.store.Store`)."""

    def record_write(self, offering_id: str, action: str, kind: str, key: str, moodle_id: int | None,
                     spec_hash: str | None, outcome: str, detail: str | None = None) -> Any: ...

    def map_object(self, offering_id: str, kind: str, key: str, moodle_id: int,
                   spec_hash: str | None = None) -> Any: ...

    def unsettled_writes(self, offering_id: str, kind: str) -> dict[str, WriteRecord]: ...


@dataclass
class ApplyResult:
    """What an apply did: ``done`` labels, ``failed`` and ``unknown`` (no answer, not settled) with reasons."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unknown

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "done": len(self.done), "failed": self.failed, "unknown": self.unknown}


class ApplyRun:
    """The state of one apply: the plan being executed, the ids known so far, the result and the store."""

    def __init__(self, moodle: Moodle, offering: OfferingSpec, plan: Plan, store: WriteLog | None,
                 auth: str, progress: Callable[[int], None], reimport: Collection[str]) -> None:
        self.m, self.offering, self.plan, self.store = moodle, offering, plan, store
        self.auth, self.progress, self.reimport = auth, progress, frozenset(reimport)
        self.result = ApplyResult()
        self.hashes = {c.key: c.spec_hash() for c in offering.courses}
        # Ids of what exists already; the phases add what they create.
        self.course_ids: dict[str, int] = {a.key: int(a.data["id"]) for a in plan.of("course")
                                           if a.op != CREATE}
        self.category_ids: dict[tuple[str, ...], int] = {tuple(a.data["path"]): int(a.data["id"])
                                                         for a in plan.of("category", UNCHANGED)}

    def record(self, a: Action, moodle_id: int | None, outcome: str, detail: str | None = None,
               map_kind: str | None = None, map_key: str | None = None, *, counted: bool = True) -> None:
        """Put the end of one action in the result and the audit trail. ``counted`` actions are the plan's
        own (they advance the progress and count as done); others (grouping assignments) only show when
        they fail. An ``ok`` with ``map_kind`` also maps the Moodle id in the store."""
        label = f"{a.op} {a.kind} {a.key}"
        if outcome == "ok":
            if counted:
                self.result.done.append(label)
        else:
            (self.result.failed if outcome == "failed" else self.result.unknown).append(
                f"{label}: {detail}" if detail else label)
        self.audit(a, moodle_id, outcome, detail)
        if self.store is not None and outcome == "ok" and moodle_id and map_kind:
            self.store.map_object(self.offering.offering_id, map_kind, map_key or a.key, moodle_id,
                                  self.hashes.get(a.course_key or ""))
        if counted:
            self.progress(1)

    def audit(self, a: Action, moodle_id: int | None, outcome: str, detail: str | None = None) -> None:
        """Only the audit trail (a write sent and not yet answered, a settlement found by reading)."""
        if self.store is not None:
            self.store.record_write(self.offering.offering_id, a.op, a.kind, a.key, moodle_id,
                                    self.hashes.get(a.course_key or ""), outcome, detail)

    def course_id(self, a: Action) -> int:
        """The Moodle id of the course ``a`` belongs to (only for actions whose course exists)."""
        return self.course_ids[a.course_key or ""]

    def in_existing_courses(self, kind: str) -> list[Action]:
        """The planned creations of ``kind`` in courses that exist (made before or in this run)."""
        return [a for a in self.plan.of(kind, CREATE) if a.course_key in self.course_ids]


def outcome_of(exc: BaseException) -> str:
    """The outcome a failed write records: ``unknown`` when its answer was lost, else ``failed``."""
    return "unknown" if isinstance(exc, WriteOutcomeUnknownError) else "failed"


def why(exc: BaseException) -> str:
    """Moodle's reason for a failure, as the result and the audit trail say it (with a hint where the
    usual cause is known)."""
    if isinstance(exc, WebServiceError) and exc.errorcode == "errorinvalidparam" and "lang" in exc.moodle_message:
        return (f"{exc.moodle_message} [{exc.errorcode}]: the site has no language pack for the template's "
                "'lang'; install it (Site administration > Language > Language packs) or set lang: '' in the "
                "template")
    if isinstance(exc, WebServiceError):
        return f"{exc.moodle_message} [{exc.errorcode}]" + (f" ({exc.debuginfo})" if exc.debuginfo else "")
    return str(exc)
