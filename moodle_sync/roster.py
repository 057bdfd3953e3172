"""An offering's roster: from imported applicants to selected participants in the store, and back out.

Ties the pure selection (:mod:`moodle_sync.participants`) to an offering's courses and classes and to
the store: who is trained already (our records and Moodle's enrolment history of earlier offerings),
which course and class each selected person goes to (the template's classes first), and the
participant records that enrolment, withdrawal, pulls and reports read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .enrolment import EnrolResult, end_enrolment, enrol_participants
from .exceptions import InputError, MoodleSyncError
from .localtime import WIB
from .participants.classes import ClassGroup, assign_classes, class_code
from .participants.eligibility import ApplicantRules
from .participants.model import Applicant
from .participants.selection import (
    CAUSE_MODEL_SCHOOL,
    Placement,
    Selection,
    next_in_line,
    select_participants,
)
from .provision.spec import GroupSpec, OfferingSpec
from .store.records import ParticipantRecord

if TYPE_CHECKING:
    from .offerings import Facilitator, Offering
    from .templates import Template


def course_chooser(offering: OfferingSpec) -> Callable[[str | None], str | None]:
    """Which course of the offering serves a regency (slug): its own course, or the single one."""
    by_regency = {c.regency: c.key for c in offering.courses if c.regency}
    if not by_regency:
        only = offering.courses[0].key if offering.courses else None
        return lambda regency: only
    return lambda regency: by_regency.get(regency) if regency else None


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
    classes: dict[str, tuple[ClassGroup, ...]]   # per course key, named as the offering names its classes
    records: list[ParticipantRecord]
    offering: OfferingSpec                      # the desired state the classes were named from


def desired_offering(offering: Offering, template: Template, classes: Mapping[str, int],
                     school_classes: Mapping[str, tuple[str, str]] | None = None) -> OfferingSpec:
    """The offering rendered through ``template`` with ``classes[k]`` classes in course ``k`` where that is
    more than the offering's own count (``classes_per_course``, else seats / class_size). Pure.

    The count comes from a selection (see :meth:`~moodle_sync.store.Store.class_counts`): a class is never
    taken away, since Moodle may hold it already and a facilitator may lead it. ``school_classes`` (NPSN ->
    course key and class name, see :func:`school_classes`) puts each model school's facilitator in the
    desired state as a facilitator of that school's class, as a row of the facilitators CSV would (a class
    the rendered course does not have is left out: enrolment names those participants). Raises what
    :func:`~moodle_sync.templates.render_offering` raises.
    """
    from .templates import render_offering

    counts = {k: max(offering.classes_for(k), int(classes.get(k, 0))) for k in offering.course_keys}
    offering = replace(offering, classes_per_course=counts)
    spec = render_offering(offering, template)
    extra = model_school_facilitators(offering, _existing(spec, school_classes or {}))
    if not extra:
        return spec
    return render_offering(replace(offering, facilitators=offering.facilitators + extra), template)


def school_classes(rows: Iterable[tuple[str, str, str | None, int]], npsns: Iterable[str]
                   ) -> dict[str, tuple[str, str]]:
    """NPSN -> ``(course key, class name)`` of each school of ``npsns`` that has a class of its own in a
    roster: a class whose participants are all from that school (a model school's teachers on its reserved
    seats share one), the largest where there are several. ``rows`` are ``(course key, class name, npsn,
    count)`` as :meth:`~moodle_sync.store.Store.class_schools` gives them. Pure."""
    schools_in: dict[tuple[str, str], list[tuple[str | None, int]]] = {}
    for course, name, npsn, count in rows:
        schools_in.setdefault((course, name), []).append((npsn, count))
    wanted = set(npsns)
    best: dict[str, tuple[int, tuple[str, str]]] = {}
    for where, schools in sorted(schools_in.items()):
        if len(schools) != 1:
            continue
        npsn, count = schools[0]
        if npsn is not None and npsn in wanted and count > best.get(npsn, (0, where))[0]:
            best[npsn] = (count, where)
    return {npsn: where for npsn, (_, where) in best.items()}


def model_school_facilitators(offering: Offering, classes: Mapping[str, tuple[str, str]]
                              ) -> tuple[Facilitator, ...]:
    """A facilitators-CSV row for each model school of ``offering`` that names a facilitator and has a
    class in ``classes`` (NPSN -> course key and class name): that facilitator leads that class. The name
    is the one the facilitators CSV gives the same e-mail, else made from the address
    (``rina.fasilitator@...`` -> Rina Fasilitator). A row the CSV already has is not repeated. Pure."""
    from .offerings import Facilitator

    given = {(f.email, f.course, (f.class_ref or "").casefold()) for f in offering.facilitators}
    names = {f.email: (f.firstname, f.lastname) for f in offering.facilitators}
    rows: list[Facilitator] = []
    for school in offering.applicants.model_schools:
        if not school.facilitator or school.npsn not in classes:
            continue
        course, name = classes[school.npsn]
        email = school.facilitator.lower()
        if (email, course, name.casefold()) in given:
            continue
        given.add((email, course, name.casefold()))
        first, last = names.get(email) or _name_from_email(email)
        rows.append(Facilitator(email, first, last, course, name, offering.file or ""))
    return tuple(rows)


def _name_from_email(email: str) -> tuple[str, str]:
    """Moodle's first and last name made from an e-mail address's local part, for a facilitator known
    only by address: ``rina.fasilitator`` -> ``("Rina", "Fasilitator")``; one word -> ``(word, "-")``."""
    from .offerings import split_name

    local = email.partition("@")[0]
    words = [w.capitalize() for w in re.split(r"[._+\-\d]+", local) if w]
    return split_name(" ".join(words) or local)


def _existing(spec: OfferingSpec, classes: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The entries of ``classes`` (NPSN -> course key and class name) naming a class ``spec`` has."""
    def has(course: str, name: str) -> bool:
        wanted = " ".join(name.split()).casefold()
        return any(" ".join(g.name.split()).casefold() == wanted for g in _groups_of(spec, course))
    return {npsn: where for npsn, where in classes.items() if has(*where)}


def class_counts(classes: Mapping[str, Sequence[ClassGroup]]) -> dict[str, int]:
    """How many classes each course needs for a selection's classes."""
    return {k: len(groups) for k, groups in classes.items()}


def name_classes(offering: OfferingSpec, classes: Mapping[str, Sequence[ClassGroup]]
                 ) -> dict[str, tuple[ClassGroup, ...]]:
    """The selection's classes named as the offering names them: the i-th class of a course is the
    template's i-th class (its ``groups``), so participants land in the groups provisioning creates.

    A course whose template defines no classes is left out (its participants get no class).
    Raises ``ValueError`` when a course has classes but fewer than the selection needs: render the
    offering with the selection's count first (:func:`desired_offering`).
    """
    out: dict[str, tuple[ClassGroup, ...]] = {}
    for key, groups in classes.items():
        template_groups = _groups_of(offering, key)
        if not template_groups:
            continue
        if len(template_groups) < len(groups):
            raise ValueError(f"course {key!r} needs {len(groups)} classes but the offering has "
                             f"{len(template_groups)}: render it with the selection's class count")
        out[key] = tuple(replace(g, name=template_groups[i].name) for i, g in enumerate(groups))
    return out


def class_names(offering: OfferingSpec, classes: Mapping[str, Sequence[ClassGroup]]) -> dict[str, str]:
    """E-mail -> class (group) name, as :func:`name_classes` names the classes."""
    return {a.email: g.name for groups in name_classes(offering, classes).values() for g in groups
            for a in g.members}


def choice_names(offering: OfferingSpec, rules: ApplicantRules, template_title: str | None = None,
                 aliases: Sequence[str] = ()) -> tuple[str, ...]:
    """The choice answers that mean this offering: the offering's ``applicants.choice``, else its title,
    its template's title and name, and the template's ``aliases``."""
    if rules.choice:
        return tuple(rules.choice)
    return tuple(t for t in (offering.title, template_title, offering.template, *aliases) if t)


def _classes(selection: Selection, class_size: int, choose: Callable[[str | None], str | None]
             ) -> dict[str, tuple[ClassGroup, ...]]:
    """Classes per course: each model school's selected teachers in one class of their own (first), the
    others packed by :func:`assign_classes`; codes run A, B, ... per course."""
    schools: dict[tuple[str, str], list[Applicant]] = {}
    for p in selection.selected:
        if p.cause == CAUSE_MODEL_SCHOOL:
            key = (choose(p.applicant.regency) or "main", p.applicant.npsn or "")
            schools.setdefault(key, []).append(p.applicant)
    rest = [p for p in selection.selected if p.cause != CAUSE_MODEL_SCHOOL]
    packed = assign_classes(rest, class_size=class_size, course_of=lambda a: choose(a.regency) or "main")
    members: dict[str, list[tuple[Applicant, ...]]] = {}
    for (course, _), people in sorted(schools.items()):
        members.setdefault(course, []).append(tuple(people))
    for course, groups in packed.items():
        members.setdefault(course, []).extend(g.members for g in groups)
    return {course: tuple(ClassGroup(course, class_code(i), f"Kelas {class_code(i)}", m)
                          for i, m in enumerate(groups)) for course, groups in sorted(members.items())}


def build_roster(offering: OfferingSpec, applicants: Sequence[Applicant], *,
                 previously_trained: dict[str, str], waitlist_size: int | None = None,
                 render: Callable[[Mapping[str, int]], OfferingSpec] | None = None,
                 rules: ApplicantRules | None = None, choice: Sequence[str] = ()) -> RosterResult:
    """Select within the offering's seats and quotas, put the selected into classes, and make the records.

    Applicants from regencies the offering has no course for are not selected (the selection says why).
    When the selection needs more classes in a course than ``offering`` has, ``render`` is asked for the
    desired state with that many (``render(counts)``, see :func:`desired_offering`) and the classes take
    its names: there is one naming rule, the template's. Raises ``ValueError`` when classes are still
    missing (no ``render``). ``rules`` (the offering's eligibility, model schools, quotas) and ``choice``
    (the answers meaning this offering, see :func:`choice_names`) go to the selection; each model school's
    selected teachers share one class.
    """
    rules = rules or ApplicantRules()
    regencies = [c.regency for c in offering.courses if c.regency] or list(rules.regencies) or None
    reserved = sum(m.seats for m in rules.model_schools)
    seats = offering.seats or (sum(rules.quotas.values()) + reserved if rules.quotas else len(applicants))
    selection = select_participants(applicants, seats=seats, regencies=regencies,
                                    min_per_regency=offering.min_per_regency,
                                    previously_trained=previously_trained, waitlist_size=waitlist_size,
                                    choice=choice, eligible=rules.eligible, model_schools=rules.model_schools,
                                    quotas=rules.quotas or None,
                                    level_quotas=rules.level_quotas or None)
    choose = course_chooser(offering)
    classes = _classes(selection, offering.class_size, choose)
    needed = class_counts(classes)
    if render is not None and any(n > len(_groups_of(offering, k)) for k, n in needed.items()):
        offering = render(needed)
    named = name_classes(offering, classes)
    names = {a.email: g.name for groups in named.values() for g in groups for a in g.members}
    records = [_record(p, choose(p.applicant.regency), names.get(p.email)) for p in selection.placements]
    return RosterResult(selection, named, records, offering)


def model_school_classes(roster: RosterResult, rules: ApplicantRules) -> list[dict[str, Any]]:
    """Per model school: its reserved seats, how many took them, the course and class they share (the class
    the school's facilitator leads, see :func:`model_school_facilitators`) and that facilitator."""
    where = {a.email: (course, g.name) for course, groups in roster.classes.items() for g in groups
             for a in g.members}
    out: list[dict[str, Any]] = []
    for school in rules.model_schools:
        taken = [p for p in roster.selection.selected if p.cause == CAUSE_MODEL_SCHOOL
                 and p.applicant.npsn == school.npsn]
        course, name = where.get(taken[0].email, (None, None)) if taken else (None, None)
        out.append({"npsn": school.npsn, "name": school.name, "seats": school.seats, "selected": len(taken),
                    "course": course, "class": name, "facilitator": school.facilitator})
    return out


def _groups_of(offering: OfferingSpec, key: str) -> tuple[GroupSpec, ...]:
    """The classes the offering gives course ``key`` (none for a course it does not have)."""
    try:
        return offering.course(key).groups
    except KeyError:
        return ()


# The store knows selected/waitlist/not_selected/...: those outside the offering's audience or choosing
# another programme are stored as not selected, their reason saying which ("not eligible (schools): ...").
_STORED_STATUS = {"waitlisted": "waitlist", "not_eligible": "not_selected", "other_programme": "not_selected"}


def _record(p: Placement, course_key: str | None, class_name: str | None) -> ParticipantRecord:
    a = p.applicant
    return ParticipantRecord(
        email=a.email, fullname=a.fullname, firstname=a.firstname, lastname=a.lastname, nuptk=a.nuptk,
        npsn=a.npsn, school=a.school, regency=a.regency, school_level=a.school_level, phone=a.phone,
        course_key=course_key if p.status == "selected" else None,
        class_name=class_name if p.status == "selected" else None,
        status=_STORED_STATUS.get(p.status, p.status), rank=p.rank, reason=p.reason,
        trained_before_form=a.trained_before, submitted_at=_unix(a.registered_at), trained=p.trained)


def _unix(moment: datetime) -> int:
    return int((moment if moment.tzinfo else moment.replace(tzinfo=WIB)).timestamp())


# --- withdrawal ------------------------------------------------------------------------------------------
OnResult = Callable[[ParticipantRecord, int | None, str | None], None]


def next_on_waitlist(people: Iterable[ParticipantRecord], leaving: ParticipantRecord
                     ) -> tuple[ParticipantRecord, bool] | None:
    """Who of a stored roster's waitlist takes the seat ``leaving`` frees, by the selection's one rule
    (:func:`~moodle_sync.participants.selection.next_in_line`): never trained before trained, then
    ``leaving``'s regency first, else the first overall, in waitlist order. (The store keeps no programme
    choice: a second-choice applicant counts in their training tier, behind the first-choice ones of their
    regency.) Returns that record and whether they are of the same regency; ``None`` when no one waits. Pure.
    """
    waiting = sorted((p for p in people if p.status == "waitlist"), key=lambda p: p.rank or 0)
    return next_in_line(waiting, leaving.regency, tier_of=lambda p: (1, bool(p.trained)),
                        regency_of=lambda p: p.regency)


@dataclass(frozen=True)
class Withdrawal:
    """What withdrawing ``person`` does (see :func:`plan_withdrawal`): their enrolment suspended or removed
    (``unenrol``) when they are enrolled, and the seat they free (``freed``) given, when ``promote``, to
    ``promoted`` (as they will be stored: selected, in the course and class of the one who left), of
    ``person``'s regency when ``same_regency`` (``None``: the waitlist is empty)."""

    person: ParticipantRecord
    unenrol: bool
    freed: bool                              # they held a seat (selected or enrolled)
    promote: bool = True                     # a freed seat goes to the waitlist
    promoted: ParticipantRecord | None = None
    same_regency: bool = False

    @property
    def verb(self) -> str:
        """What happens to the enrolment: ``unenrolled`` or ``suspended``."""
        return "unenrolled" if self.unenrol else "suspended"

    @property
    def action(self) -> str:
        """What Moodle sees: the :attr:`verb`, or ``none (not enrolled)``."""
        return self.verb if self.person.status == "enrolled" else "none (not enrolled)"


def plan_withdrawal(offering: OfferingSpec, people: Sequence[ParticipantRecord], email: str, *,
                    unenrol: bool = False, promote: bool = True) -> Withdrawal:
    """Plan withdrawing ``email`` (any case) from the stored roster ``people`` of ``offering``: the freed
    seat (if they held one and ``promote``) goes to :func:`next_on_waitlist`, in the class of the one who
    left (their course, else the course serving the promoted person's regency). Pure.

    Raises :class:`~moodle_sync.exceptions.InputError` (field ``email``) when ``email`` is not a
    participant or has already withdrawn."""
    key = email.strip().lower()
    person = next((p for p in people if p.email == key), None)
    if person is None:
        raise InputError(f"{key} is not a participant of {offering.offering_id}", field="email")
    if person.status == "withdrawn":
        raise InputError(f"{key} has already withdrawn", field="email")
    freed = person.status in ("selected", "enrolled")
    found = next_on_waitlist(people, person) if freed and promote else None
    if found is None:
        return Withdrawal(person, unenrol, freed, promote)
    promoted, same = found
    seat = replace(promoted, status="selected", class_name=person.class_name,
                   course_key=person.course_key or course_chooser(offering)(promoted.regency),
                   reason=f"promoted from the waitlist: seat of {key}")
    return Withdrawal(person, unenrol, freed, promote, seat, same)


def store_results(store: Any, offering_id: str) -> OnResult:
    """The ``on_result`` of :func:`~moodle_sync.enrolment.enrol_participants` that keeps each participant's
    outcome in ``store``: enrolled with their Moodle user id, or failed with the reason."""
    def record(p: ParticipantRecord, user_id: int | None, reason: str | None) -> None:
        store.update_participant(offering_id, p.email, status="failed" if reason else "enrolled",
                                 moodle_user_id=user_id, reason=reason or p.reason)
    return record


def withdraw(moodle: Any, store: Any, offering: OfferingSpec, plan: Withdrawal, *, student_role_id: int = 5,
             auth: str = "manual") -> EnrolResult | None:
    """Carry out ``plan``: end the enrolment in Moodle (:func:`~moodle_sync.enrolment.end_enrolment`),
    record the withdrawal in ``store``, then store the promoted person as selected and enrol them at once
    (their outcome recorded as ``enrol`` records it). Returns the promoted person's enrolment, or ``None``.
    Raises what ending the enrolment raises (then nothing is recorded)."""
    person = plan.person
    end_enrolment(moodle, offering, person, unenrol=plan.unenrol, student_role_id=student_role_id)
    store.update_participant(offering.offering_id, person.email, status="withdrawn",
                             reason=f"withdrew ({plan.verb})")
    seat = plan.promoted
    if seat is None:
        return None
    store.update_participant(offering.offering_id, seat.email, status="selected", course_key=seat.course_key,
                             class_name=seat.class_name, reason=seat.reason)
    return enrol_participants(moodle, offering, [seat], auth=auth, student_role_id=student_role_id,
                              write_log=store, on_result=store_results(store, offering.offering_id))
