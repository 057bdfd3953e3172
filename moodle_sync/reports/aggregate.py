"""Aggregation of completion evidence: snapshots and participant records in, typed tables out. Pure.

Only enrolments with the ``student`` role count. A snapshot's missing class, regency or school level is
taken from the participant record with the same e-mail (or Moodle user id); regencies are shown by
their official names. Percentages are 0-100 and not rounded (renderers round them, half up).

- withdrawn: not completed, and the enrolment is suspended or gone in Moodle, or the participant record
  says we withdrew them. Withdrawn participants are counted apart and left out of every other figure and
  of the follow-up list (someone who completed and was suspended afterwards still counts as completed);
- enrolled: the participants not withdrawn;
- started: accessed the course, or completed any activity (``CompletionSnapshot.started``);
- completion rate: completed / enrolled;
- days to complete: ``time_completed`` minus the participant's own start — their ``time_enrolled``, or
  the course's start date when they were enrolled before it (or their enrolment time is unknown) — for
  completed enrolments where both are known; the median is reported;
- course grade: grade / grade maximum for those with a grade;
- pre-test and post-test: means over the people who have both, and the gain (post minus pre, points,
  unrounded here; tables show the rounded post minus the rounded pre, see :mod:`.numbers`); over the same
  people, the normalised gain and the paired effect size with its 95% confidence interval (:mod:`.stats`),
  the group flagged ``small`` under ten of them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from ..evidence.model import CompletionSnapshot
from ..localtime import WIB
from ..regions import BY_NAME, BY_SLUG, LAMPUNG
from ..store.records import ParticipantRecord, normalise_email
from .stats import is_small, normalised_gain, paired_effect_size

DIMENSIONS = ("course", "class", "regency", "school_level")
LEVEL_ORDER = ("PAUD", "SD", "SMP", "SMA", "SMK", "SLB")
DAY = 86_400


@dataclass(frozen=True)
class GroupStats:
    """The figures of one group (a course, class, regency or school level; ``group`` None: not known)."""

    group: str | None
    enrolled: int
    withdrawn: int
    started: int
    completed: int
    completion_pct: float | None
    median_days: float | None
    days_n: int
    grade_mean_pct: float | None
    grade_n: int
    pre_mean_pct: float | None
    post_mean_pct: float | None
    gain_pct: float | None
    prepost_n: int
    norm_gain: float | None = None        # Hake's normalised gain of the group (see .stats)
    effect_size: float | None = None      # paired Cohen's d_z, with its 95% confidence interval
    effect_low: float | None = None
    effect_high: float | None = None
    small: bool = True                    # fewer than stats.MIN_GROUP paired scores: flagged, not compared
    label: str | None = None              # what people read for ``group``: a course's name, not its key


@dataclass(frozen=True)
class FollowUpEntry:
    """A participant a facilitator should contact: ``reason`` is ``not_started`` or ``stalled``."""

    course_key: str
    class_name: str | None
    fullname: str
    email: str
    phone: str | None
    reason: str
    last_access: int | None
    days_since_access: int | None
    activities_done: int
    activities_total: int
    progress_pct: float | None
    course_label: str | None = None       # the course's name (``course_key`` is its key)
    course_ended: bool = False            # the course had ended at the report's time: "did not start/finish"


@dataclass(frozen=True)
class ProgressPoint:
    """Counts after the pulls of one day (WIB): enrolled so far (withdrawn apart), and how many had
    started / completed."""

    date: str
    enrolled: int
    started: int
    completed: int
    withdrawn: int = 0


@dataclass(frozen=True)
class Report:
    """Everything a report shows, for one offering."""

    offering_id: str
    title: str
    generated_at: int
    stalled_days: int
    last_pulled_at: int | None
    total: GroupStats
    breakdowns: dict[str, list[GroupStats]]
    follow_up: list[FollowUpEntry]
    progress: list[ProgressPoint] = field(default_factory=list)
    site_id: str | None = None       # the centre (Moodle site) of the figures; None: several, or not known
    site_name: str | None = None
    sites: list[Report] = field(default_factory=list)   # figures of several centres: each centre's own

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data; each centre of ``sites`` as ``{"site_id", "name", ...its figures}``."""
        return with_sites(self)


def with_sites(value: Any) -> dict[str, Any]:
    """A report as plain data, each centre of its ``sites`` as ``{"site_id", "name", ...its figures}``."""
    out = asdict(value)
    out["sites"] = [{"site_id": s.site_id, "name": s.site_name,
                     **{k: v for k, v in s.to_dict().items() if k not in ("site_id", "site_name", "sites")}}
                    for s in value.sites]
    return out


# --- helpers -------------------------------------------------------------------------------------------
def _pct(part: float, whole: float) -> float:
    return part / whole * 100.0


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def regency_name(value: str | None) -> str | None:
    """The official name of a regency given by slug or name; other text unchanged; None stays None."""
    if not value:
        return None
    if value in BY_SLUG:
        return BY_SLUG[value].name
    return value


def students(snapshots: Iterable[CompletionSnapshot]) -> list[CompletionSnapshot]:
    """The snapshots of students (facilitators and other roles left out)."""
    return [s for s in snapshots if s.role == "student"]


def is_withdrawn(snapshot: CompletionSnapshot) -> bool:
    """Whether a participant counts as withdrawn: not completed, and their enrolment no longer active
    (suspended or unenrolled in Moodle, or ``withdrawn`` as :func:`enrich` marks from our records)."""
    return snapshot.enrol_status != "active" and not snapshot.completed


def enrich(snapshots: Iterable[CompletionSnapshot], participants: Iterable[ParticipantRecord], *,
           withdrawals: bool = True) -> list[CompletionSnapshot]:
    """The students' snapshots, with class, regency and school level filled from the participant records
    where the snapshot lacks them, and the regency given by its official name. With ``withdrawals``, an
    active enrolment of someone whose record says we withdrew them gets ``enrol_status`` ``withdrawn``
    (for the report only: Moodle may not have been told yet, or the pull not have seen it)."""
    by_email = {normalise_email(p.email): p for p in participants}
    by_user = {p.moodle_user_id: p for p in by_email.values() if p.moodle_user_id is not None}
    out = []
    for s in students(snapshots):
        p = by_email.get(normalise_email(s.email)) or by_user.get(s.user_id)
        gone = withdrawals and p is not None and p.status == "withdrawn" and s.enrol_status == "active"
        out.append(replace(
            s,
            class_name=s.class_name or (p.class_name if p else None),
            regency=regency_name(s.regency or (p.regency if p else None)),
            school_level=s.school_level or (p.school_level if p else None),
            enrol_status="withdrawn" if gone else s.enrol_status))
    return out


# --- group figures -------------------------------------------------------------------------------------
def group_stats(group: str | None, snapshots: Sequence[CompletionSnapshot],
                course_starts: Mapping[str, int] | None = None) -> GroupStats:
    """The figures of one group of (student) snapshots, withdrawn participants counted apart and left
    out of the rest. ``course_starts`` maps a course key to the course's start (Unix seconds): days to
    complete count from the later of it and the participant's enrolment."""
    starts = course_starts or {}
    gone = sum(1 for s in snapshots if is_withdrawn(s))
    snapshots = [s for s in snapshots if not is_withdrawn(s)]
    enrolled = len(snapshots)
    started = sum(1 for s in snapshots if s.started)
    completed = sum(1 for s in snapshots if s.completed)
    days = []
    for s in snapshots:
        begin = own_start(s, starts.get(s.course_key))
        if s.completed and s.time_completed and begin:
            days.append(max(0, s.time_completed - begin) / DAY)
    grades = [_pct(s.course_grade, s.course_grade_max) for s in snapshots
              if s.course_grade is not None and s.course_grade_max]
    pairs = [(_pct(s.pretest_grade, s.pretest_max), _pct(s.posttest_grade, s.posttest_max)) for s in snapshots
             if s.pretest_grade is not None and s.pretest_max and s.posttest_grade is not None and s.posttest_max]
    pre = _mean([a for a, _ in pairs])
    post = _mean([b for _, b in pairs])
    effect = paired_effect_size(pairs)
    return GroupStats(
        group=group, enrolled=enrolled, withdrawn=gone, started=started, completed=completed,
        completion_pct=_pct(completed, enrolled) if enrolled else None,
        median_days=statistics.median(days) if days else None, days_n=len(days),
        grade_mean_pct=_mean(grades), grade_n=len(grades),
        pre_mean_pct=pre, post_mean_pct=post,
        gain_pct=post - pre if pre is not None and post is not None else None, prepost_n=len(pairs),
        norm_gain=normalised_gain(pre, post), effect_size=effect.d if effect else None,
        effect_low=effect.low if effect else None, effect_high=effect.high if effect else None,
        small=is_small(len(pairs)))


def own_start(snapshot: CompletionSnapshot, course_start: int | None) -> int | None:
    """When a participant could start: enrolment time, but not before the course starts (either may be
    unknown: then the other; None when both are). An enrolment time after the completion is not one (a pull
    first saw someone who had finished already, as in an adopted past course): then the course start alone,
    if it is not after the completion either."""
    done = snapshot.time_completed
    known = [t for t in (snapshot.time_enrolled, course_start) if t and not (done and t > done)]
    return max(known) if known else None


def order_of(dimension: str) -> Callable[[str | None], tuple[Any, ...]]:
    """The sort key of a breakdown's groups: regencies by BPS code, school levels by stage, others
    alphabetically (other text after the known regencies and levels); the unknown group (None) last."""
    regencies = {r.name: i for i, r in enumerate(LAMPUNG)}

    def key(group: str | None) -> tuple[Any, ...]:
        if group is None:
            return (2, 0, "")
        if dimension == "regency" and group in BY_NAME:
            return (0, regencies[group], group)
        if dimension == "school_level" and group in LEVEL_ORDER:
            return (0, LEVEL_ORDER.index(group), group)
        return (1 if dimension in ("regency", "school_level") else 0, 0, group.casefold())

    return key


def group_of(dimension: str, snapshot: CompletionSnapshot, several_courses: bool) -> str | None:
    """The group a snapshot belongs to along ``dimension`` (one of :data:`DIMENSIONS`).

    A class is named with its course ("lampung-selatan / Kelas A") when the offering has several courses,
    since every course has its own classes.
    """
    if dimension == "course":
        return snapshot.course_key
    if dimension == "class":
        if not snapshot.class_name:
            return None
        return f"{snapshot.course_key} / {snapshot.class_name}" if several_courses else snapshot.class_name
    if dimension == "regency":
        return snapshot.regency
    if dimension == "school_level":
        return snapshot.school_level
    raise ValueError(f"unknown dimension {dimension!r} (one of {', '.join(DIMENSIONS)})")


def breakdown(snapshots: Sequence[CompletionSnapshot], dimension: str,
              course_starts: Mapping[str, int] | None = None,
              course_names: Mapping[str, str] | None = None) -> list[GroupStats]:
    """The figures per group along ``dimension``, in a stable order (regencies by BPS code, school
    levels by stage, others alphabetically; the unknown group last). Empty input gives no rows.
    ``course_names``: course key -> name, for the ``label`` of courses and of classes (with their course)."""
    several = len({s.course_key for s in snapshots}) > 1
    names = course_names or {}
    groups: dict[str | None, list[CompletionSnapshot]] = {}
    labels: dict[str | None, str] = {}
    for s in snapshots:
        group = group_of(dimension, s, several)
        groups.setdefault(group, []).append(s)
        if dimension == "course" and s.course_key in names:
            labels[group] = names[s.course_key]
        elif dimension == "class" and several and s.class_name and s.course_key in names:
            labels[group] = f"{names[s.course_key]} / {s.class_name}"
    return [replace(group_stats(g, groups[g], course_starts), label=labels.get(g))
            for g in sorted(groups, key=order_of(dimension))]


# --- follow-up and progress ----------------------------------------------------------------------------
def follow_up(snapshots: Sequence[CompletionSnapshot], participants: Iterable[ParticipantRecord], *, now: int,
              stalled_days: int = 14, course_names: Mapping[str, str] | None = None,
              course_ends: Mapping[str, int] | None = None) -> list[FollowUpEntry]:
    """Students who have not started, or who started, have not completed and have not accessed the course
    for ``stalled_days`` days (or never, as far as Moodle says), ordered by course, class, reason, name.
    Withdrawn participants are not listed. An entry of a course whose end (``course_ends``) is past ``now``
    says so (``course_ended``: they did not start, or did not finish)."""
    phones = {normalise_email(p.email): p.phone for p in participants}
    names, ends = course_names or {}, course_ends or {}
    out = []
    for s in snapshots:
        if s.completed or is_withdrawn(s):
            continue
        since = (now - s.last_access) // DAY if s.last_access else None
        if not s.started:
            reason = "not_started"
        elif since is None or since >= stalled_days:
            reason = "stalled"
        else:
            continue
        out.append(FollowUpEntry(
            course_key=s.course_key, class_name=s.class_name, fullname=s.fullname, email=s.email,
            phone=phones.get(normalise_email(s.email)), reason=reason, last_access=s.last_access,
            days_since_access=since, activities_done=s.activities_done, activities_total=s.activities_total,
            progress_pct=_pct(s.activities_done, s.activities_total) if s.activities_total else None,
            course_label=names.get(s.course_key), course_ended=0 < ends.get(s.course_key, 0) <= now))
    out.sort(key=lambda e: (e.course_key, e.class_name or "\uffff", e.reason != "not_started",
                            e.fullname.casefold(), e.email))
    return out


def day_of(timestamp: int) -> str:
    """The WIB calendar date of a Unix time, as YYYY-MM-DD."""
    return datetime.fromtimestamp(timestamp, WIB).date().isoformat()


def progress_over_time(history: Iterable[CompletionSnapshot]) -> list[ProgressPoint]:
    """From the history of changes: per day on which a pull recorded changes, the enrolled, started,
    completed and withdrawn counts (each enrolment counted by its latest state on that day; withdrawn ones
    only as withdrawn)."""
    latest: dict[tuple[str, str, int], CompletionSnapshot] = {}   # by course key: unique across centres
    points: list[ProgressPoint] = []
    rows = sorted(students(history), key=lambda s: s.pulled_at)
    for i, s in enumerate(rows):
        latest[(s.offering_id, s.course_key, s.user_id)] = s
        day = day_of(s.pulled_at)
        if i + 1 == len(rows) or day_of(rows[i + 1].pulled_at) != day:
            states = [x for x in latest.values() if not is_withdrawn(x)]
            points.append(ProgressPoint(day, len(states), sum(1 for x in states if x.started),
                                        sum(1 for x in states if x.completed), len(latest) - len(states)))
    return points


def build_report(offering_id: str, snapshots: Iterable[CompletionSnapshot],
                 participants: Iterable[ParticipantRecord] = (), history: Iterable[CompletionSnapshot] = (), *,
                 now: int, title: str | None = None, stalled_days: int = 14,
                 course_starts: Mapping[str, int] | None = None, course_names: Mapping[str, str] | None = None,
                 course_ends: Mapping[str, int] | None = None) -> Report:
    """The whole report of an offering from its current snapshots, participant records and history;
    ``course_names`` label courses, ``course_ends`` tell the follow-up list which courses have ended."""
    people = list(participants)
    return report_of_rows(
        offering_id, enrich(snapshots, people), people, enrich(history, people, withdrawals=False), now=now,
        title=title, stalled_days=stalled_days, course_starts=course_starts, course_names=course_names,
        course_ends=course_ends)


def report_of_rows(offering_id: str, rows: Sequence[CompletionSnapshot], people: Sequence[ParticipantRecord],
                   history: Sequence[CompletionSnapshot], *, now: int, title: str | None = None,
                   stalled_days: int = 14, course_starts: Mapping[str, int] | None = None,
                   course_names: Mapping[str, str] | None = None,
                   course_ends: Mapping[str, int] | None = None) -> Report:
    """The report of students' snapshots already :func:`enrich`-ed (``history`` too, without withdrawals):
    what :func:`build_report` and a report over several centres share."""
    return Report(
        offering_id=offering_id, title=title or offering_id, generated_at=now, stalled_days=stalled_days,
        last_pulled_at=max((s.pulled_at for s in rows), default=None) or None,
        total=group_stats(None, rows, course_starts),
        breakdowns={d: breakdown(rows, d, course_starts, course_names) for d in DIMENSIONS},
        follow_up=follow_up(rows, people, now=now, stalled_days=stalled_days, course_names=course_names,
                            course_ends=course_ends),
        progress=progress_over_time(history))
