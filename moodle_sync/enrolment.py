"""Enrol selected participants: match or create their Moodle users, enrol them, put them in their class.

Calls are batched (users matched by e-mail in one call per ``max_input_vars`` chunk, created in
all-or-nothing batches with bad records isolated, enrolments and group memberships in batches) and what
is already right is skipped, so a rerun after a crash or a kill creates no user or enrolment twice.
A batch whose answer never came is reconciled by reading Moodle back before anything is sent again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .exceptions import MoodleSyncError, WebServiceError
from .provision.spec import OfferingSpec
from .regions import BY_SLUG
from .store.records import ParticipantRecord
from .ws.batching import send_in_batches
from .ws.moodle import EnrolledUser, Group, Moodle, User

log = logging.getLogger("moodle_sync.enrolment")

USERNAME_OK = re.compile(r"^[a-z0-9._@-]+$")


@dataclass
class EnrolResult:
    matched: int = 0            # existing Moodle users found
    created: int = 0            # users created
    enrolled: int = 0           # new enrolments
    already_enrolled: int = 0
    grouped: int = 0            # new class memberships
    groups_created: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)   # (email, reason)
    user_ids: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "matched": self.matched, "created": self.created,
                "enrolled": self.enrolled, "already_enrolled": self.already_enrolled,
                "grouped": self.grouped, "groups_created": self.groups_created,
                "failed": [{"email": e, "reason": r} for e, r in self.failed]}


def moodle_username(email: str) -> str:
    """The username we give a new user: the e-mail address, lower case (Moodle allows @ . _ -)."""
    name = email.strip().lower()
    return name if USERNAME_OK.match(name) else re.sub(r"[^a-z0-9._@-]", "", name)


def new_user_record(p: ParticipantRecord, auth: str) -> dict[str, Any]:
    """The ``core_user_create_users`` record for a participant."""
    record: dict[str, Any] = {
        "username": moodle_username(p.email), "email": p.email.strip().lower(), "auth": auth,
        "firstname": p.firstname or p.fullname or p.email.split("@")[0],
        "lastname": p.lastname or "-", "country": "ID", "timezone": "Asia/Jakarta",
    }
    if auth == "manual":
        record["createpassword"] = 1
    if p.nuptk:
        record["idnumber"] = p.nuptk
    if p.school:
        record["institution"] = p.school[:255]
    if p.school_level:
        record["department"] = p.school_level
    if p.regency and p.regency in BY_SLUG:
        record["city"] = BY_SLUG[p.regency].name
    if p.phone:
        record["phone1"] = p.phone[:20]
    return record


def group_idnumber(offering_id: str, course_key: str, class_name: str) -> str:
    slug = "-".join(re.sub(r"[^a-z0-9 ]", "", class_name.lower()).split())
    return f"{offering_id}-{course_key}-{slug}"[:100]


def enrol_participants(moodle: Moodle, offering: OfferingSpec, participants: Sequence[ParticipantRecord], *,
                       auth: str = "manual", student_role_id: int = 5, lang: str | None = None,
                       dry_run: bool = False, progress: Callable[[int], None] | None = None,
                       on_result: Callable[[ParticipantRecord, int | None, str | None], None] | None = None
                       ) -> EnrolResult:
    """Make every participant a user, enrolled as a student in their course and member of their class.

    ``participants`` carry ``course_key`` (a course of ``offering``) and ``class_name``. ``on_result`` is
    called per participant with the Moodle user id (or None) and the failure reason (or None), so the
    caller can record it. With ``dry_run`` only reads are made and the counts say what would happen.
    """
    advance = progress or (lambda n: None)
    result = EnrolResult(dry_run=dry_run)
    people = [p for p in participants if p.course_key]
    failed: dict[str, str] = {}
    for p in participants:
        if not p.course_key:
            failed[p.email] = f"no course assigned ({p.reason})" if p.reason else \
                "no course assigned (run select first)"

    # Courses of the offering, by idnumber (read concurrently).
    keys = sorted({p.course_key for p in people if p.course_key})
    specs = {c.key: c for c in offering.courses}
    unknown = [k for k in keys if k not in specs]
    for p in people:
        if p.course_key in unknown:
            failed[p.email] = f"course {p.course_key!r} is not part of offering {offering.offering_id}"
    keys = [k for k in keys if k in specs]
    found = moodle.map_reads(lambda k: moodle.courses_by_field("idnumber", specs[k].idnumber), keys)
    course_ids: dict[str, int] = {}
    for k, res in zip(keys, found):
        if isinstance(res, MoodleSyncError):
            raise res
        if res:
            course_ids[k] = res[0].id
        else:
            for p in people:
                if p.course_key == k:
                    failed[p.email] = f"course {specs[k].idnumber} does not exist yet: run apply first"
    people = [p for p in people if p.email not in failed]

    # Users: by e-mail, then by idnumber (NUPTK); create the rest.
    by_email = {u.email: u for u in moodle.users_by_field("email", [p.email for p in people])}
    missing = [p for p in people if p.email not in by_email]
    nuptks = [p.nuptk for p in missing if p.nuptk]
    by_idnumber = {u.idnumber: u for u in moodle.users_by_field("idnumber", nuptks)} if nuptks else {}
    users: dict[str, User] = {}
    to_create: list[ParticipantRecord] = []
    for p in people:
        u = by_email.get(p.email) or (by_idnumber.get(p.nuptk) if p.nuptk else None)
        if u is not None:
            users[p.email] = u
            result.matched += 1
        else:
            to_create.append(p)
    if to_create and not dry_run:
        records = [new_user_record(p, auth) for p in to_create]
        if lang:  # only where the site has that language pack; Moodle refuses an unknown one
            for r in records:
                r["lang"] = lang

        def not_landed(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
            there = {u.email for u in moodle.users_by_field("email", [r["email"] for r in batch])}
            return [r for r in batch if r["email"] not in there]

        outcome = moodle.create_users(records, reconcile=not_landed, on_progress=advance)
        created_emails = [r["email"] for r, _ in outcome.done]
        for r, exc in outcome.failed:
            failed[r["email"]] = _reason(exc)
        # One read gives the ids, whether the answer carried them or the batch had to be reconciled.
        for u in moodle.users_by_field("email", created_emails):
            users[u.email] = u
        result.created = len(created_emails)
    elif dry_run:
        result.created = len(to_create)

    # Enrolments and classes, per course: what is there already is skipped. A course none of whose
    # participants had a Moodle account before this run cannot hold them yet: it is not read.
    new = {p.email for p in to_create}
    to_read = {p.course_key for p in people if p.email in users and p.email not in new}

    def enrolled_in(k: str) -> list[EnrolledUser]:
        return moodle.enrolled_users(course_ids[k], fields="id,groups") if k in to_read else []

    enrolled_now = moodle.map_reads(enrolled_in, sorted(course_ids))
    groups_now = moodle.map_reads(lambda k: moodle.groups(course_ids[k]), sorted(course_ids))
    enrolled: dict[str, dict[int, EnrolledUser]] = {}
    groups: dict[str, list[Group]] = {}
    for k, e, g in zip(sorted(course_ids), enrolled_now, groups_now):
        if isinstance(e, MoodleSyncError):
            raise e
        if isinstance(g, MoodleSyncError):
            raise g
        enrolled[k] = {u.id: u for u in e}
        groups[k] = g

    enrolments = []
    for p in people:
        u = users.get(p.email)
        if u is None:
            continue
        if u.id in enrolled[p.course_key or ""]:
            result.already_enrolled += 1
        else:
            enrolments.append({"roleid": student_role_id, "userid": u.id, "courseid": course_ids[p.course_key or ""]})
    if dry_run:
        result.enrolled = len(enrolments) + len(to_create)  # new users are not enrolled anywhere yet
    elif enrolments:
        def not_enrolled(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
            courses = sorted({r["courseid"] for r in batch})
            there = {(c, u.id) for c, users_in in zip(courses, moodle.map_reads(moodle.enrolled_users, courses))
                     if not isinstance(users_in, Exception) for u in users_in}
            return [r for r in batch if (r["courseid"], r["userid"]) not in there]

        out = moodle.enrol(enrolments, reconcile=not_enrolled, on_progress=advance)
        email_of = {u.id: e for e, u in users.items()}
        result.enrolled = len(out.done)
        for r, exc in out.failed:
            failed[email_of[r["userid"]]] = _reason(exc)

    # Classes: create the groups that do not exist yet (matched by name, then by our idnumber), then add
    # members not yet in them.
    wanted_groups = sorted({(p.course_key or "", p.class_name) for p in people if p.class_name})
    have: dict[tuple[str, str | None], Group] = {}
    for k, gs in groups.items():
        by_idnumber = {g.idnumber: g for g in gs if g.idnumber}
        for g in gs:
            have[(k, g.name)] = g
        for key, name in wanted_groups:
            g = by_idnumber.get(group_idnumber(offering.offering_id, key, name)) if key == k else None
            if g is not None:
                have.setdefault((k, name), g)
    new_groups = [(k, name) for k, name in wanted_groups if (k, name) not in have and k in course_ids]
    if new_groups and not dry_run:
        records = [{"courseid": course_ids[k], "name": name,
                    "idnumber": group_idnumber(offering.offering_id, k, name), "description": ""}
                   for k, name in new_groups]
        created = send_in_batches(moodle.client, "core_group_create_groups", "groups", records)
        for (k, name), record in zip(new_groups, records):
            answer = next((a for r, a in created.done if r is record), None)
            if answer:
                have[(k, name)] = Group(int(answer["id"]), int(answer["courseid"]), answer["name"],
                                        answer.get("idnumber") or "")
        for record, exc in created.failed:
            log.warning("class %s could not be created: %s", record["name"], _reason(exc))
    result.groups_created = len(new_groups)
    pairs: list[tuple[int, int]] = []
    owner: dict[tuple[int, int], str] = {}
    for p in people:
        u = users.get(p.email)
        g = have.get((p.course_key or "", p.class_name)) if p.class_name else None
        if u is None or p.email in failed or not p.class_name:
            continue
        if g is None:
            if not dry_run:
                failed[p.email] = f"class {p.class_name!r} could not be created"
            continue
        e = enrolled[p.course_key or ""].get(u.id)
        if e is not None and g.id in e.groups:
            continue
        pairs.append((g.id, u.id))
        owner[(g.id, u.id)] = p.email
    if dry_run:
        result.grouped = len(pairs)
    elif pairs:
        out = moodle.add_group_members(pairs, on_progress=advance)
        result.grouped = len(out.done)
        for r, exc in out.failed:
            failed[owner[(r["groupid"], r["userid"])]] = _reason(exc)

    result.failed = sorted(failed.items())
    result.user_ids = {e: u.id for e, u in users.items() if e not in failed}
    if on_result is not None and not dry_run:
        for p in participants:
            on_result(p, result.user_ids.get(p.email), failed.get(p.email))
    return result


def _reason(exc: BaseException) -> str:
    if isinstance(exc, WebServiceError):
        return f"{exc.moodle_message} [{exc.errorcode}]" + (f": {exc.debuginfo}" if exc.debuginfo else "")
    return str(exc)
