"""Enrol selected participants: match or create their Moodle users, enrol them, put them in their class.

Users are matched as Moodle compares them: by e-mail ignoring case (what ``core_user_create_users``
refuses as "Email address already exists"), else by NUPTK (idnumber). One batched read finds the
addresses as given and in lower case; an account whose stored address differs in some other way of
case is found when Moodle refuses to create it ("Email address already exists"), by reading that
address ignoring case, and is then enrolled as the existing user it is (a dry run reads every unknown
address ignoring case up front, so its counts are exact). The records of new users are checked before
they are sent for everything else Moodle would refuse that we can know (format, blank names, lengths, a
username or e-mail used twice in the batch or already on the site). Calls are batched and what is
already right is skipped, so a rerun after a crash or a kill creates no user or enrolment twice. A
batch whose answer never came is settled by reading Moodle back (users by username, enrolments and
class memberships by course) before anything is sent again.

New users go through in chunks, several side by side: each chunk is created, enrolled and put in its
class while the next ones are being created. Moodle hashes and mails each new password inside
``core_user_create_users`` (the bulk uploader leaves that to cron; web services cannot), so a creating
request mostly waits on the mail server: chunks side by side keep the site's cores busy meanwhile. Class
memberships are added one call at a time (side by side they deadlock on PostgreSQL).

Classes are the offering's (the template's names, idnumbers, grouping and facilitators): a class the
roster uses that Moodle does not have yet is made through the provisioning plan, as ``apply`` makes it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .exceptions import MoodleSyncError, WebServiceError
from .provision.apply import WriteLog, apply_plan
from .provision.observe import observe
from .provision.plan import CREATE, class_part, plan_offering
from .provision.spec import GroupSpec, OfferingSpec
from .regions import BY_SLUG
from .store.records import ParticipantRecord
from .ws.batching import MIN_PARALLEL_BATCH, run_bounded
from .ws.moodle import EnrolledUser, Group, Moodle, User

log = logging.getLogger("moodle_sync.enrolment")

USERNAME_OK = re.compile(r"^[a-z0-9._@-]+$")
# What validate_email (PHPMailer's check) accepts, closely enough for the addresses teachers have.
EMAIL_OK = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                      r"@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
# Column sizes of Moodle's user table: a longer value makes the whole batch fail in the database.
MAX_LENGTHS = {"username": 100, "email": 100, "firstname": 100, "lastname": 100, "idnumber": 255,
               "institution": 255, "department": 255, "phone1": 20, "city": 120}


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


def email_key(email: str) -> str:
    """An e-mail address as Moodle compares it when it creates a user: trimmed, case ignored."""
    return email.strip().casefold()


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


def record_problem(record: dict[str, Any]) -> str | None:
    """Why ``core_user_create_users`` would refuse this record on its own, or None.

    Checks what Moodle checks (user/externallib.php ``create_users`` and user/lib.php
    ``user_create_user``): no blank username, first or last name; a username that is lower case and of
    the characters Moodle keeps; a valid e-mail address; and values that fit the user table.
    """
    for name in ("username", "firstname", "lastname"):
        if not str(record.get(name, "")).strip():
            return f"the field {name} cannot be blank"
    username = str(record["username"])
    if username != username.lower() or not USERNAME_OK.match(username):
        return f"username {username!r} is not valid in Moodle (lower case letters, digits and . _ @ - only)"
    email = str(record.get("email", ""))
    if not EMAIL_OK.match(email) or ".." in email.split("@")[0]:
        return f"e-mail address {email!r} is not valid"
    for name, limit in MAX_LENGTHS.items():
        if len(str(record.get(name, ""))) > limit:
            return f"{name} is longer than Moodle keeps ({limit} characters)"
    return None


@dataclass
class MatchedUsers:
    """Who is who in Moodle: matched or created users by participant e-mail, and who could not be.

    ``existing``: users that Moodle said it already had when asked to create them (an address stored in
    another case), by participant e-mail; they are not in ``found``."""

    found: dict[str, User] = field(default_factory=dict)
    to_create: list[ParticipantRecord] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    existing: dict[str, User] = field(default_factory=dict)


def match_users(moodle: Moodle, people: Sequence[ParticipantRecord], *, exhaustive: bool = False) -> MatchedUsers:
    """Find each participant's Moodle user as Moodle would: e-mail (as given or in lower case), NUPTK.

    With ``exhaustive`` every address still unknown is also read ignoring case (one call each: what a
    dry run does, so its counts are exact); otherwise an address stored in another case is left to
    :func:`create_users`, where Moodle's refusal finds it. Those without a user are to be created, unless
    the username we would give them is another user's (then they fail, with the reason). Raises only
    what a failing batched read raises.
    """
    out = MatchedUsers()
    addresses = [a for p in people for a in (p.email.strip(), p.email.strip().lower())]
    by_email = {email_key(u.email): u for u in moodle.users_by_field("email", addresses)}
    rest = [p for p in people if email_key(p.email) not in by_email]
    nuptks = [p.nuptk for p in rest if p.nuptk]
    by_idnumber = {u.idnumber: u for u in moodle.users_by_field("idnumber", nuptks)} if nuptks else {}
    unknown = [p for p in rest if not (p.nuptk and p.nuptk in by_idnumber)]
    if exhaustive:
        # core_user_get_users_by_field compares e-mails exactly (on PostgreSQL); create compares ignoring case.
        found, failed = users_with_emails(moodle, [p.email for p in unknown])
        by_email.update((email_key(e), u) for e, u in found.items())
        out.failed.update(failed)
    new = [p for p in unknown if email_key(p.email) not in by_email and p.email not in out.failed]
    taken = {u.username: u for u in moodle.users_by_field("username", [moodle_username(p.email) for p in new])}
    for p in people:
        u = by_email.get(email_key(p.email)) or (by_idnumber.get(p.nuptk) if p.nuptk else None)
        if u is not None:
            out.found[p.email] = u
        elif p.email in out.failed:
            continue
        elif moodle_username(p.email) in taken:
            other = taken[moodle_username(p.email)]
            out.failed[p.email] = (f"username {other.username} is already Moodle user {other.id} with e-mail "
                                   f"{other.email}: merge or rename that account first")
        else:
            out.to_create.append(p)
    return out


def users_with_emails(moodle: Moodle, emails: Sequence[str]) -> tuple[dict[str, User], dict[str, str]]:
    """Each address's user compared ignoring case (one read each, concurrently): the users found by the
    address as given (the oldest when several), and the addresses that could not be read, with why."""
    found: dict[str, User] = {}
    failed: dict[str, str] = {}
    for email, users in zip(emails, moodle.map_reads(moodle.users_with_email, emails)):
        if isinstance(users, MoodleSyncError):
            failed[email] = f"could not check for an existing Moodle user: {_reason(users)}"
        elif users:
            found[email] = min(users, key=lambda u: u.id)
    return found, failed


def refused_as_invalid(exc: BaseException) -> bool:
    """Moodle refused the record alone as an invalid parameter: for a record that passed
    :func:`record_problem`, an address another user has in another case (Moodle says which only with
    debugging on: "Email address already exists")."""
    return isinstance(exc, WebServiceError) and exc.errorcode == "invalidparameter"


def create_users(moodle: Moodle, people: Sequence[ParticipantRecord], *, auth: str, lang: str | None,
                 progress: Callable[[int], None]) -> MatchedUsers:
    """Create the users of ``people`` (none of whom we found): records checked first, one user each.

    A batch whose answer was lost is settled by reading users by username: what landed is never sent
    again, so nobody is created (or mailed a password) twice. A record Moodle refuses alone as invalid is
    settled by reading its address ignoring case: a user found there (the address stored in another
    case) goes to ``existing``. Returns the created users by participant e-mail and the failures with
    their reasons.
    """
    out = MatchedUsers()
    records, owner = _checked_records(people, auth, lang, out.failed)
    if not records:
        return out

    def not_landed(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        there = {u.username for u in moodle.users_by_field("username", [r["username"] for r in batch])}
        return [r for r in batch if r["username"] not in there]

    outcome = moodle.create_users(records, reconcile=not_landed, on_progress=progress)
    taken = [r for r, exc in outcome.failed if refused_as_invalid(exc)]
    for r, exc in outcome.failed:
        out.failed[owner[r["username"]]] = _reason(exc)
    if taken:
        found, _ = users_with_emails(moodle, [owner[r["username"]] for r in taken])
        for email, u in found.items():
            out.existing[email] = u
            del out.failed[email]
    # The answer carries each new user's id; only a batch that had to be settled needs a read for them.
    unread = [r["username"] for r, answer in outcome.done if not (isinstance(answer, dict) and answer.get("id"))]
    for r, answer in outcome.done:
        if isinstance(answer, dict) and answer.get("id"):
            out.found[owner[r["username"]]] = User(
                id=int(answer["id"]), username=r["username"], email=r["email"], firstname=r["firstname"],
                lastname=r["lastname"], idnumber=r.get("idnumber", ""), auth=r["auth"])
    for u in moodle.users_by_field("username", unread) if unread else []:
        if u.username in owner:
            out.found[owner[u.username]] = u
    return out


def _checked_records(people: Sequence[ParticipantRecord], auth: str, lang: str | None,
                     failed: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The ``core_user_create_users`` records of ``people`` Moodle would take, and each username's
    participant e-mail; the others go to ``failed`` with the reason."""
    records: list[dict[str, Any]] = []
    owner: dict[str, str] = {}          # username -> participant e-mail
    emails: dict[str, str] = {}         # e-mail key -> participant e-mail
    for p in people:
        record = new_user_record(p, auth)
        if lang:  # only where the site has that language pack; Moodle refuses an unknown one
            record["lang"] = lang
        problem = record_problem(record)
        if problem is None and record["username"] in owner:
            problem = f"username {record['username']} would be the same as {owner[record['username']]}'s"
        if problem is None and email_key(record["email"]) in emails:
            problem = f"e-mail address is the same as {emails[email_key(record['email'])]}'s"
        if problem is not None:
            failed[p.email] = problem
            continue
        owner[record["username"]] = p.email
        emails[email_key(record["email"])] = p.email
        records.append(record)
    return records, owner


def provision_classes(moodle: Moodle, offering: OfferingSpec, course_keys: Sequence[str], *,
                      write_log: WriteLog | None = None, new_user_auth: str = "manual",
                      dry_run: bool = False) -> int:
    """Make the classes of the offering's courses ``course_keys`` that Moodle lacks, as ``apply`` makes them
    (the template's name and idnumber, in the offering's grouping, with their facilitators): the class
    part of the same plan, applied. Returns how many classes were (or, with ``dry_run``, would be) created.
    """
    spec = replace(offering, courses=tuple(c for c in offering.courses if c.key in set(course_keys)))
    plan = class_part(plan_offering(spec, observe(moodle, spec)))
    created = len(plan.of("group", CREATE))
    if dry_run or not plan.pending:
        return created
    result = apply_plan(moodle, spec, plan, store=write_log, new_user_auth=new_user_auth)
    for failure in result.failed:
        log.warning("class provisioning: %s", failure)
    return created


def enrol_participants(moodle: Moodle, offering: OfferingSpec, participants: Sequence[ParticipantRecord], *,
                       auth: str = "manual", student_role_id: int = 5, lang: str | None = None,
                       dry_run: bool = False, progress: Callable[[int], None] | None = None,
                       on_result: Callable[[ParticipantRecord, int | None, str | None], None] | None = None,
                       write_log: WriteLog | None = None, new_user_workers: int | None = None) -> EnrolResult:
    """Make every participant a user, enrolled as a student in their course and member of their class.

    ``participants`` carry ``course_key`` (a course of ``offering``) and ``class_name`` (one of that course's
    classes in ``offering``). ``on_result`` is called per participant with the Moodle user id (or None)
    and the failure reason (or None), so the caller can record it. Classes Moodle lacks are provisioned
    (their writes recorded in ``write_log``). New users go through in chunks of :data:`NEW_USER_CHUNK`,
    ``new_user_workers`` side by side (default: :func:`new_user_workers_for`). With ``dry_run`` only reads
    are made and the counts say what would happen.
    """
    run = _Run(moodle, offering, dry_run, progress or (lambda n: None))
    people = run.courses(participants)
    matched = match_users(moodle, people, exhaustive=dry_run)
    run.failed.update(matched.failed)
    run.users.update(matched.found)
    run.result.matched = len(matched.found)
    new = {p.email for p in matched.to_create}
    run.read_courses(people, new)
    run.classes(people, write_log, auth)
    known = [p for p in people if p.email not in new]
    run.enrol(known, student_role_id, new)
    run.memberships(known)
    if dry_run:
        run.result.created = len(matched.to_create)
    elif matched.to_create:
        existing = run.newcomers(matched.to_create, student_role_id, auth=auth, lang=lang,
                                 workers=new_user_workers or new_user_workers_for(moodle))
        if existing:   # addresses Moodle had in another case: enrolled as the users they are
            run.read_courses(existing, set())
            run.enrol(existing, student_role_id, set())
            run.memberships(existing)
    result = run.result
    result.failed = sorted(run.failed.items())
    result.user_ids = {e: u.id for e, u in run.users.items() if e not in run.failed}
    if on_result is not None and not dry_run:
        for p in participants:
            on_result(p, result.user_ids.get(p.email), run.failed.get(p.email))
    return result



def end_enrolment(moodle: Moodle, offering: OfferingSpec, person: ParticipantRecord, *, unenrol: bool = False,
                  student_role_id: int = 5) -> bool:
    """End an enrolled participant's enrolment in their course: suspend it (their work kept) or, with
    ``unenrol``, remove it. Nothing is sent for someone not enrolled (by the store's record) or whose
    course Moodle does not have. Returns whether a write was made; raises the error Moodle answered."""
    if person.status != "enrolled" or not person.moodle_user_id or not person.course_key:
        return False
    course = moodle.courses_by_field("idnumber", offering.course(person.course_key).idnumber)
    if not course:
        return False
    entry = {"userid": person.moodle_user_id, "courseid": course[0].id}
    out = moodle.unenrol([entry]) if unenrol else moodle.enrol([{**entry, "roleid": student_role_id, "suspend": 1}])
    if out.failed:
        raise out.failed[0][1]
    return True

# New users per chunk: one create, one enrol and one class-membership call each.
NEW_USER_CHUNK = MIN_PARALLEL_BATCH


def new_user_workers_for(moodle: Moodle) -> int:
    """How many chunks of new users go side by side: the reads' and the writes' concurrency together
    (4 + 2 by default). A creating request mostly waits on Moodle's password mail, not on the site's
    cores, so more of them than ``write_concurrency`` fit; they are requests like any other for the site's
    web server."""
    return max(1, moodle.concurrency + moodle.client.write_concurrency)


class _Run:
    """One enrolment run: the courses, users, enrolments and classes it read, and who failed why."""

    def __init__(self, moodle: Moodle, offering: OfferingSpec, dry_run: bool,
                 advance: Callable[[int], None]) -> None:
        self.m, self.offering, self.dry_run, self.advance = moodle, offering, dry_run, advance
        self.result = EnrolResult(dry_run=dry_run)
        self.failed: dict[str, str] = {}
        self.users: dict[str, User] = {}
        self.course_ids: dict[str, int] = {}
        self.enrolled: dict[str, dict[int, EnrolledUser]] = {}
        self.groups: dict[str, list[Group]] = {}
        self.lock = threading.Lock()             # results and failures, written by chunks side by side
        self.members_lock = threading.Lock()     # one core_group_add_group_members call at a time

    def courses(self, participants: Sequence[ParticipantRecord]) -> list[ParticipantRecord]:
        """The participants whose course exists in Moodle (read by idnumber, concurrently); the rest fail."""
        specs = {c.key: c for c in self.offering.courses}
        for p in participants:
            if not p.course_key:
                self.failed[p.email] = f"no course assigned ({p.reason})" if p.reason else \
                    "no course assigned (run select first)"
            elif p.course_key not in specs:
                self.failed[p.email] = f"course {p.course_key!r} is not part of offering {self.offering.offering_id}"
        keys = sorted({p.course_key for p in participants if p.course_key in specs and p.course_key})
        found = self.m.map_reads(lambda k: self.m.courses_by_field("idnumber", specs[k].idnumber), keys)
        for k, res in zip(keys, found):
            if isinstance(res, MoodleSyncError):
                raise res
            if res:
                self.course_ids[k] = res[0].id
        for p in participants:
            if p.email not in self.failed and p.course_key not in self.course_ids:
                self.failed[p.email] = f"course {specs[p.course_key or ''].idnumber} does not exist yet: run apply first"
        return [p for p in participants if p.email not in self.failed]

    def read_courses(self, people: Sequence[ParticipantRecord], new: set[str]) -> None:
        """The enrolled users (with their groups) and the groups of the courses of ``people``. A course none
        of whose participants had a Moodle account before this run cannot hold them yet: its participants
        are not read."""
        to_read = {p.course_key for p in people if p.email in self.users and p.email not in new}

        def enrolled_in(k: str) -> list[EnrolledUser]:
            return self.m.enrolled_users(self.course_ids[k], fields="id,groups") if k in to_read else []

        keys = sorted({p.course_key or "" for p in people} & set(self.course_ids))
        for k, e, g in zip(keys, self.m.map_reads(enrolled_in, keys),
                           self.m.map_reads(lambda k: self.m.groups(self.course_ids[k]), keys)):
            if isinstance(e, MoodleSyncError):
                raise e
            if isinstance(g, MoodleSyncError):
                raise g
            self.enrolled[k] = {u.id: u for u in e}
            self.groups[k] = g

    def newcomers(self, people: Sequence[ParticipantRecord], role_id: int, *, auth: str, lang: str | None,
                  workers: int) -> list[ParticipantRecord]:
        """Create, enrol and place ``people`` (who have no user yet) chunk by chunk, ``workers`` chunks side
        by side. Returns those Moodle turned out to have already (an address stored in another case): their
        users are known, their enrolment and class are left to the caller."""
        chunks = [list(people[i:i + NEW_USER_CHUNK]) for i in range(0, len(people), NEW_USER_CHUNK)]
        existing: list[ParticipantRecord] = []

        def one(chunk: list[ParticipantRecord]) -> None:
            if existing:
                # Moodle has had addresses of this list in another case: read the rest ignoring case
                # first rather than have their batches refused.
                chunk = self.known_in_other_case(chunk, existing)
            made = create_users(self.m, chunk, auth=auth, lang=lang, progress=self.advance)
            with self.lock:
                self.failed.update(made.failed)
                self.users.update(made.found)
                self.users.update(made.existing)
                self.result.created += len(made.found)
                self.result.matched += len(made.existing)
                existing.extend(p for p in chunk if p.email in made.existing)
            created = [p for p in chunk if p.email in made.found]
            self.enrol(created, role_id, set())
            self.memberships(created)

        run_bounded(one, chunks, workers=workers, name="moodle-newcomers", client=self.m.client)
        return existing

    def known_in_other_case(self, chunk: list[ParticipantRecord],
                            existing: list[ParticipantRecord]) -> list[ParticipantRecord]:
        """Those of ``chunk`` whose address no user has ignoring case; the others are recorded as
        ``existing`` users (or failed when their address could not be read)."""
        found, failed = users_with_emails(self.m, [p.email for p in chunk])
        with self.lock:
            self.failed.update(failed)
            self.users.update(found)
            self.result.matched += len(found)
            existing.extend(p for p in chunk if p.email in found)
        self.advance(len(found) + len(failed))
        return [p for p in chunk if p.email not in found and p.email not in failed]

    def enrol(self, people: Sequence[ParticipantRecord], role_id: int, new: set[str]) -> None:
        """Enrol whoever is not enrolled yet; a lost answer is settled by reading the courses' participants."""
        enrolments = []
        for p in people:
            u = self.users.get(p.email)
            if u is None:
                continue
            if u.id in self.enrolled[p.course_key or ""]:
                self.result.already_enrolled += 1
            else:
                enrolments.append({"roleid": role_id, "userid": u.id, "courseid": self.course_ids[p.course_key or ""]})
        if self.dry_run:
            self.result.enrolled += len(enrolments) + len(new)  # new users are not enrolled anywhere yet
            return
        if not enrolments:
            return

        def not_enrolled(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
            courses = sorted({r["courseid"] for r in batch})
            there = {(c, u.id) for c, users_in in zip(courses, self.m.map_reads(self.m.enrolled_users, courses))
                     if not isinstance(users_in, Exception) for u in users_in}
            return [r for r in batch if (r["courseid"], r["userid"]) not in there]

        out = self.m.enrol(enrolments, reconcile=not_enrolled, on_progress=self.advance)
        with self.lock:
            email_of = {u.id: e for e, u in self.users.items()}
            self.result.enrolled += len(out.done)
            for r, exc in out.failed:
                self.failed[email_of[r["userid"]]] = _reason(exc)

    def class_of(self, p: ParticipantRecord) -> GroupSpec | None:
        """The offering's class of a participant (by name in their course), or None."""
        groups = self.offering.course(p.course_key or "").groups
        return next((g for g in groups if g.name == p.class_name), None)

    def group(self, key: str, spec: GroupSpec) -> Group | None:
        """The Moodle group of a class: by its idnumber, else by its name (as the planner finds it)."""
        gs = self.groups.get(key, [])
        return next((g for g in gs if g.idnumber and g.idnumber == spec.idnumber), None) or \
            next((g for g in gs if g.name == spec.name), None)

    def newly_led(self, p: ParticipantRecord, spec: GroupSpec) -> bool:
        """Whether ``p`` is not yet a member of their class (``spec``, which Moodle has), a class the offering
        gives a facilitator: that facilitator may not lead it yet (a model school's is named by the roster)."""
        key = p.course_key or ""
        if not any(spec.idnumber in f.groups for f in self.offering.course(key).facilitators):
            return False
        user, group = self.users.get(p.email), self.group(key, spec)
        e = self.enrolled.get(key, {}).get(user.id) if user is not None else None
        return e is None or group is None or group.id not in e.groups

    def classes(self, people: Sequence[ParticipantRecord], write_log: WriteLog | None, auth: str) -> None:
        """Provision the classes the participants need that Moodle lacks, and the class part of a course
        where a facilitator's class gets new members (:meth:`newly_led`); a class name the offering does not
        have fails its participants (the roster is from another selection: select again)."""
        lacking: set[str] = set()
        for p in people:
            if not p.class_name or p.email in self.failed:
                continue
            spec = self.class_of(p)
            if spec is None:
                names = ", ".join(g.name for g in self.offering.course(p.course_key or "").groups) or "none"
                self.failed[p.email] = (f"class {p.class_name!r} is not a class of course {p.course_key} "
                                        f"(classes: {names}): run select again")
            elif self.group(p.course_key or "", spec) is None or self.newly_led(p, spec):
                lacking.add(p.course_key or "")
        if not lacking:
            return
        keys = sorted(lacking)
        self.result.groups_created = provision_classes(self.m, self.offering, keys, write_log=write_log,
                                                       new_user_auth=auth, dry_run=self.dry_run)
        if not self.dry_run:
            for k, g in zip(keys, self.m.map_reads(lambda k: self.m.groups(self.course_ids[k]), keys)):
                if isinstance(g, MoodleSyncError):
                    raise g
                self.groups[k] = g

    def memberships(self, people: Sequence[ParticipantRecord]) -> None:
        """Add members not yet in their class; a lost answer is settled by reading the classes' members."""
        pairs: list[tuple[int, int]] = []
        owner: dict[tuple[int, int], str] = {}
        course_of: dict[int, int] = {}
        for p in people:
            u = self.users.get(p.email)
            spec = self.class_of(p) if p.class_name else None
            if u is None or p.email in self.failed or spec is None:
                continue
            g = self.group(p.course_key or "", spec)
            if g is None:
                if not self.dry_run:
                    self.failed[p.email] = f"class {p.class_name!r} could not be created"
                continue
            e = self.enrolled[p.course_key or ""].get(u.id)
            if e is not None and g.id in e.groups:
                continue
            pairs.append((g.id, u.id))
            owner[(g.id, u.id)] = p.email
            course_of[g.id] = g.courseid
        if self.dry_run:
            self.result.grouped += len(pairs)
            return
        if not pairs:
            return

        def not_members(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
            courses = sorted({course_of[r["groupid"]] for r in batch})
            reads = self.m.map_reads(lambda c: self.m.enrolled_users(c, fields="id,groups"), courses)
            there = {(gid, u.id) for res in reads if not isinstance(res, Exception) for u in res for gid in u.groups}
            return [r for r in batch if (r["groupid"], r["userid"]) not in there]

        with self.members_lock:
            out = self.m.add_group_members(pairs, on_progress=self.advance, reconcile=not_members)
        with self.lock:
            self.result.grouped += len(out.done)
            for r, exc in out.failed:
                self.failed[owner[(r["groupid"], r["userid"])]] = _reason(exc)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, WebServiceError):
        return f"{exc.moodle_message} [{exc.errorcode}]" + (f": {exc.debuginfo}" if exc.debuginfo else "")
    return str(exc)
