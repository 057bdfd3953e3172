"""An offering's roster: from imported applicants to selected participants in the store, and back out.

Ties the pure selection (:mod:`moodle_sync.participants`) to an offering's courses and classes and to
the store: who is trained already (our records and Moodle's enrolment history of earlier offerings),
which course and class each selected person goes to (the template's classes first), and the
participant records that enrolment, withdrawal, pulls and reports read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

from .exceptions import MoodleSyncError
from .participants.classes import ClassGroup, assign_classes
from .participants.model import Applicant
from .participants.selection import Placement, Selection, select_participants
from .provision.spec import OfferingSpec
from .store.records import ParticipantRecord

WIB = ZoneInfo("Asia/Jakarta")


def course_chooser(offering: OfferingSpec) -> Callable[[str | None], str | None]:
    """Which course of the offering serves a regency (slug): its own course, or the single one."""
    by_regency = {c.regency: c.key for c in offering.courses if c.regency}
    if not by_regency:
        only = offering.courses[0].key if offering.courses else None
        return lambda regency: only
    return lambda regency: by_regency.get(regency)


def moodle_history(moodle: Any, store: Any, offering_id: str, applicants: Sequence[Applicant]) -> dict[str, str]:
    """E-mail -> evidence of an earlier training found in Moodle: enrolment in a course that the store
    maps to another offering. One batched user look-up, then each known user's courses, concurrently."""
    other_courses = {o.moodle_id: o.offering_id for rec in store.offerings() if rec.offering_id != offering_id
                     for o in store.objects(rec.offering_id, "course")}
    if not other_courses or not applicants:
        return {}
    users = moodle.users_by_field("email", [a.email for a in applicants])
    found: dict[str, str] = {}
    for user, courses in zip(users, moodle.map_reads(lambda u: moodle.users_courses(u.id), users)):
        if isinstance(courses, MoodleSyncError):
            raise courses
        earlier = sorted({other_courses[c.id] for c in courses if c.id in other_courses})
        if earlier:
            found[user.email] = f"enrolled in {', '.join(earlier)} (Moodle)"
    return found


@dataclass
class RosterResult:
    selection: Selection
    classes: dict[str, tuple[ClassGroup, ...]]
    records: list[ParticipantRecord]


def class_names(offering: OfferingSpec, classes: dict[str, tuple[ClassGroup, ...]]) -> dict[str, str]:
    """E-mail -> class (group) name: the i-th class of a course takes the template's i-th class name, so
    participants land in the groups provisioning created; extra classes keep the selection's name."""
    out: dict[str, str] = {}
    for course_key, groups in classes.items():
        try:
            template_groups = offering.course(course_key).groups
        except KeyError:
            template_groups = ()
        for i, group in enumerate(groups):
            name = template_groups[i].name if i < len(template_groups) else group.name
            for a in group.members:
                out[a.email] = name
    return out


def build_roster(offering: OfferingSpec, applicants: Sequence[Applicant], *,
                 previously_trained: dict[str, str], waitlist_size: int | None = None) -> RosterResult:
    """Select within the offering's seats and quotas, put the selected into classes, and make the records.

    Applicants from regencies the offering has no course for are not selected (the selection says why).
    """
    regencies = [c.regency for c in offering.courses if c.regency] or None
    seats = offering.seats or len(applicants)
    selection = select_participants(applicants, seats=seats, regencies=regencies,
                                    min_per_regency=offering.min_per_regency,
                                    previously_trained=previously_trained, waitlist_size=waitlist_size)
    choose = course_chooser(offering)
    classes = assign_classes(selection.selected, class_size=offering.class_size,
                             course_of=lambda a: choose(a.regency) or "main")
    names = class_names(offering, classes)
    records = [_record(p, choose(p.applicant.regency), names.get(p.email)) for p in selection.placements]
    return RosterResult(selection, classes, records)


def _record(p: Placement, course_key: str | None, class_name: str | None) -> ParticipantRecord:
    a = p.applicant
    return ParticipantRecord(
        email=a.email, fullname=a.fullname, firstname=a.firstname, lastname=a.lastname, nuptk=a.nuptk,
        npsn=a.npsn, school=a.school, regency=a.regency, school_level=a.school_level, phone=a.phone,
        course_key=course_key if p.status == "selected" else None,
        class_name=class_name if p.status == "selected" else None,
        status={"waitlisted": "waitlist"}.get(p.status, p.status), rank=p.rank, reason=p.reason,
        trained_before_form=a.trained_before, submitted_at=_unix(a.registered_at), trained=p.trained)


def _unix(moment: datetime) -> int:
    return int((moment if moment.tzinfo else moment.replace(tzinfo=WIB)).timestamp())
