"""What a pull sees for one enrolment, and what reports are built from.

A :class:`CompletionSnapshot` is pure data: the pull fills it from Moodle, the store keeps it (current
state plus history of changes), the reports aggregate it. Times are Unix seconds (Moodle's own unit),
``None`` when Moodle has none; grades are as Moodle shows them (raw values on the item's scale) with
their maxima, so percentages can be derived.

``enrol_status`` says whether the enrolment still stands: ``active``; ``suspended`` (Moodle lists the user
among ``core_enrol_get_enrolled_users``'s ``onlysuspended`` answer: every enrolment suspended, disabled or
out of its dates); ``unenrolled`` (a user a pull saw before is no longer a participant of the course).
``time_enrolled`` is the earliest time we know the enrolment existed (see :mod:`moodle_sync.evidence.pull`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# What CompletionSnapshot.enrol_status can be.
ENROL_STATUSES = ("active", "suspended", "unenrolled")


@dataclass(frozen=True)
class CompletionSnapshot:
    offering_id: str
    course_id: int                 # Moodle course id
    course_key: str                # the offering's key of the course (e.g. the regency slug, or "main")
    user_id: int                   # Moodle user id
    email: str
    fullname: str
    class_name: str | None = None  # the Moodle group (class) the participant is in
    regency: str | None = None     # one of the 15 official names (from the participant record)
    school_level: str | None = None  # SD, SMP, SMA, SMK, SLB, ...
    role: str = "student"
    first_access: int | None = None   # not known from the web services: None
    last_access: int | None = None    # lastcourseaccess, 0 -> None
    completed: bool = False
    time_completed: int | None = None
    time_enrolled: int | None = None
    activities_total: int = 0         # activities with completion tracking
    activities_done: int = 0
    course_grade: float | None = None
    course_grade_max: float | None = None
    pretest_grade: float | None = None
    pretest_max: float | None = None
    posttest_grade: float | None = None
    posttest_max: float | None = None
    grades_modified: int | None = None  # newest gradedatesubmitted/graded of the user's items
    pulled_at: int = 0
    enrol_status: str = "active"      # one of ENROL_STATUSES

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.offering_id, self.course_id, self.user_id)

    @property
    def started(self) -> bool:
        return bool(self.last_access) or self.activities_done > 0 or self.completed

    def state(self) -> dict[str, Any]:
        """The fields that describe progress (a change in any of them is history worth keeping)."""
        d = asdict(self)
        for k in ("pulled_at", "offering_id", "course_id", "user_id", "course_key"):
            d.pop(k)
        return d

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PullRun:
    id: int
    started_at: int
    finished_at: int | None = None
    offerings: list[str] = field(default_factory=list)
    mode: str = "incremental"      # full | incremental | report
    status: str = "running"        # running | ok | partial | failed | interrupted
    calls: int = 0
    enrolments: int = 0
    reread: int = 0
    errors: list[str] = field(default_factory=list)
