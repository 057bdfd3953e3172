"""Execute a provisioning plan against Moodle, batching what Moodle accepts in batches.

Order: categories (a call per depth), new courses (one batch), course updates (one batch), content
imports, section names, groups and groupings (one batch each over all courses), facilitator users,
enrolments and class memberships (batches). Every write is recorded in the store with the offering,
the Moodle id, the spec hash and the outcome.

One refusal never stops the rest: a course, group, grouping or grouping assignment that Moodle refuses
fails alone, named with Moodle's reason, and everything else goes on; the result lists every failure.

A write whose answer never came (:class:`WriteOutcomeUnknownError`) is recorded as ``unknown`` and is
never re-sent blindly; it is settled by reading Moodle:

- created objects (categories, courses, groups, groupings, users) are read back; what exists is kept,
  what does not is sent once more;
- a course update is settled by reading the course back and comparing it with the plan (``ok`` or
  ``failed``; not re-sent: the next plan shows whatever did not land);
- a content import is recorded as in flight before it is sent and settled, in this run or any later one
  (a crash mid-import included), by looking for the master's activities in the target course. While none
  are there it is not sent again: Moodle's import is a backup and restore in one request that runs on
  after the client gave up (``core_course_external::import_course``), and sending it again would put the
  content in twice. ``reimport`` lifts that for the course keys an operator has checked by hand;
- section names and grouping assignments are sent again: both are idempotent in Moodle.

After a crash, a rerun plans again from what Moodle has and finishes the job without duplicates.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..exceptions import ConnectionFailedError, MoodleSyncError, WebServiceError, WriteOutcomeUnknownError
from ..store.records import WriteRecord
from ..ws.batching import send_in_batches
from ..ws.moodle import Course, Group, Grouping, Moodle, Section
from .observe import find_category
from .plan import CREATE, UNCHANGED, UPDATE, Action, Change, Plan
from .spec import OfferingSpec

log = logging.getLogger("moodle_sync.provision")


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


class _PerCourseWarnings:
    """``core_course_update_courses`` as :func:`send_in_batches` needs it. Moodle catches each course's
    failure and answers one list of warnings for the whole call (course/externallib.php); this view of the
    client pairs each course of a call with its own warnings, in order."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def call(self, function: str, params: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
        answer = self._client.call(function, params) or {}
        warnings = answer.get("warnings") or []
        return [[w for w in warnings if str(w.get("itemid")) == str(c["id"])] for c in params["courses"]]


class _Applier:
    def __init__(self, moodle: Moodle, offering: OfferingSpec, plan: Plan, store: WriteLog | None,
                 auth: str, progress: Callable[[int], None], reimport: Collection[str]) -> None:
        self.m, self.offering, self.plan, self.store = moodle, offering, plan, store
        self.auth, self.progress, self.reimport = auth, progress, frozenset(reimport)
        self.result = ApplyResult()
        self.course_ids: dict[str, int] = {}
        self.hashes = {c.key: c.spec_hash() for c in offering.courses}
        self.master_activities: dict[int, Counter[tuple[str, str]]] = {}

    # bookkeeping ------------------------------------------------------------------------------
    def record(self, a: Action, moodle_id: int | None, outcome: str, detail: str | None = None,
               map_kind: str | None = None, map_key: str | None = None, *, counted: bool = True) -> None:
        """Put the end of one action in the result and the audit trail. ``counted`` actions are the plan's
        own (they advance the progress and count as done); others (grouping assignments) only show when
        they fail."""
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

    # phases -----------------------------------------------------------------------------------
    def run(self) -> ApplyResult:
        for a in self.plan.of("course"):
            if a.op != CREATE:
                self.course_ids[a.key] = int(a.data["id"])
        self.category_ids = {tuple(a.data["path"]): int(a.data["id"]) for a in self.plan.of("category", UNCHANGED)}
        self.categories()
        self.create_courses()
        self.update_courses()
        self.import_content()
        self.sections()
        self.groups()
        self.facilitators()
        return self.result

    def categories(self) -> None:
        """Create the missing categories, a call per depth (parents first); ids come from the answers."""
        todo = self.plan.of("category", CREATE)
        prefix = self.offering.category_idnumber_prefix
        for depth in sorted({len(a.data["path"]) for a in todo}):
            level = [a for a in todo if len(a.data["path"]) == depth]
            level = [a for a in level if len(a.data["path"]) == 1 or tuple(a.data["path"][:-1]) in self.category_ids]
            payload = [{"name": a.data["name"], "idnumber": a.data["idnumber"], "description": "",
                        "parent": self.category_ids[tuple(a.data["path"][:-1])] if len(a.data["path"]) > 1 else 0}
                       for a in level]
            if not payload:
                continue
            try:
                created = {c.idnumber: c.id for c in self.m.create_categories(payload)}
            except WriteOutcomeUnknownError:
                log.warning("category creation got no answer; reading categories back")
                known = self.m.categories()
                created = {}
                for a in level:
                    found = find_category(known, tuple(a.data["path"]), prefix)
                    if found is not None:
                        created[a.data["idnumber"]] = found.id
            except WebServiceError as exc:
                for a in level:
                    self.record(a, None, "failed", _why(exc))
                continue
            for a in level:
                cid = created.get(a.data["idnumber"])
                if cid is not None:
                    self.category_ids[tuple(a.data["path"])] = cid
                self.record(a, cid, "ok" if cid else "failed", None if cid else "not created", "category", a.key)

    def create_courses(self) -> None:
        todo = []
        for a in self.plan.of("course", CREATE):
            if tuple(a.data["path"]) in self.category_ids:
                todo.append(a)
            else:
                self.record(a, None, "failed", f"category {' / '.join(a.data['path'])} does not exist")
        if not todo:
            return
        records = []
        for a in todo:
            fields = dict(a.data["fields"])
            fields["categoryid"] = self.category_ids[tuple(a.data["path"])]
            fields["courseformatoptions"] = [{"name": "numsections", "value": str(a.data["numsections"])}]
            records.append(fields)

        def not_landed(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [r for r in batch if not self.m.courses_by_field("idnumber", r["idnumber"])]

        outcome = send_in_batches(self.m.client, "core_course_create_courses", "courses", records,
                                  reconcile=not_landed)
        by_idnumber = {r["idnumber"]: a for r, a in zip(records, todo)}
        for record, answer in outcome.done:
            a = by_idnumber[record["idnumber"]]
            cid = int(answer["id"]) if answer else self.m.courses_by_field("idnumber", record["idnumber"])[0].id
            self.course_ids[a.key] = cid
            self.record(a, cid, "ok", map_kind="course", map_key=a.key)
        for record, exc in outcome.failed:
            self.record(by_idnumber[record["idnumber"]], None, _outcome(exc), _why(exc))

    def send_course_updates(self, records: list[dict[str, Any]]) -> tuple[list[int], dict[int, str], list[int]]:
        """Send course updates (``id`` + fields) in batches, each course on its own: (ids updated, Moodle's
        reason by id for those refused, ids whose answer was lost). Raises only for failures that stop
        everything (bad token, site unreachable)."""
        outcome = send_in_batches(_PerCourseWarnings(self.m.client), "core_course_update_courses", "courses",
                                  records)
        done, refused, lost = [], {}, []
        for record, warnings in outcome.done:
            if warnings:
                refused[int(record["id"])] = "; ".join(f"{w.get('message')} [{w.get('warningcode')}]"
                                                       for w in warnings)
            else:
                done.append(int(record["id"]))
        for record, exc in outcome.failed:
            if isinstance(exc, WriteOutcomeUnknownError):
                lost.append(int(record["id"]))
            else:
                refused[int(record["id"])] = _why(exc)
        return done, refused, lost

    def update_courses(self) -> None:
        """Update changed courses; a course Moodle refuses fails alone, a lost answer is settled by reading."""
        todo = {int(a.data["id"]): a for a in self.plan.of("course", UPDATE)}
        if not todo:
            return
        done, refused, lost = self.send_course_updates(
            [{"id": cid, **{c.field: c.new for c in a.changes}} for cid, a in todo.items()])
        for cid in done:
            self.record(todo[cid], cid, "ok")
        for cid, why in refused.items():
            self.record(todo[cid], cid, "failed", why)
        if lost:
            self.settle_updates([todo[cid] for cid in lost])

    def settle_updates(self, actions: list[Action]) -> None:
        """Course updates whose answer was lost: recorded ``unknown``, then settled by reading the courses
        back and comparing each changed field with the plan. Not re-sent: the next plan shows what is left."""
        ids = [int(a.data["id"]) for a in actions]
        for a, cid in zip(actions, ids):
            self.audit(a, cid, "unknown", "core_course_update_courses got no answer; reading the course back")
        try:
            seen = {c.id: c for c in self.m.courses_by_ids(ids)}
        except MoodleSyncError as exc:
            for a, cid in zip(actions, ids):
                self.record(a, cid, "unknown", f"the update got no answer and reading the course back failed "
                                               f"({_why(exc)}): run apply again")
            return
        for a, cid in zip(actions, ids):
            course = seen.get(cid)
            if course is None:
                self.record(a, cid, "failed", "the update got no answer and the course is no longer in Moodle")
                continue
            differ = [c.field for c in a.changes if not _landed(course, c)]
            if differ:
                self.record(a, cid, "failed", f"the update got no answer and reading the course back shows "
                                              f"{', '.join(differ)} unchanged: run apply again")
            else:
                self.record(a, cid, "ok", "the update got no answer; reading the course back shows every change")

    # content --------------------------------------------------------------------------------
    def import_content(self) -> None:
        """Import the master's content into each course that has none, first settling any import of ours
        whose answer was never seen (this run's or an earlier run's) by reading the course."""
        if not self.plan.of("content"):
            return
        pending = (self.store.unsettled_writes(self.offering.offering_id, "content")
                   if self.store is not None else {})
        for a in self.plan.of("content", UNCHANGED):
            if a.key in pending:  # the plan read content in the course: the unanswered import did land
                self.audit(a, pending[a.key].moodle_id, "ok", "settled by reading: the course has content now")
        for a in self.plan.of("content", CREATE):
            cid = self.course_ids.get(a.key)
            if cid is None:
                continue
            earlier = pending.get(a.key)
            if earlier is not None and earlier.moodle_id == cid and a.key not in self.reimport:
                if self.settle_import(a, cid, "an earlier import into this course got no answer"):
                    continue
            self.send_import(a, cid)

    def send_import(self, a: Action, cid: int) -> None:
        """Record the import as in flight, send it, record how it ended (settling a lost answer)."""
        master = int(a.data["importfrom"])
        again = " again on request (--reimport)" if a.key in self.reimport else ""
        self.audit(a, cid, "unknown", f"import from course {master} sent{again}; waiting for its answer")
        try:
            self.m.import_course(master, cid)
        except WriteOutcomeUnknownError:
            if not self.settle_import(a, cid, "the import got no answer"):
                self.record(a, cid, "unknown", "the import got no answer and the master has no activities to "
                                               "look for: run apply again")
            return
        except WebServiceError as exc:
            self.record(a, cid, "failed", _why(exc))
            return
        except ConnectionFailedError as exc:
            if not exc.sent:
                self.audit(a, cid, "failed", f"not sent: {exc}")
            raise
        self.record(a, cid, "ok")

    def settle_import(self, a: Action, cid: int, why: str) -> bool:
        """Settle an import whose answer was lost by looking for the master's activities in course ``cid``.

        Records ``ok`` when all are there, ``unknown`` when some or none are (Moodle may still be running
        it: it is not sent again) and returns True; returns False, recording nothing, when the master has
        no activities, so sending the import (again) cannot put anything in twice.
        """
        try:
            wanted = self.activities_of_master(int(a.data["importfrom"]))
            have = _activities(self.m.sections(cid))
        except MoodleSyncError as exc:
            self.record(a, cid, "unknown", f"{why}, and reading the course to settle it failed ({_why(exc)}): "
                                           "not sent again; run apply again")
            return True
        total = sum(wanted.values())
        if not total:
            return False
        found = sum((wanted & have).values())
        if found == total:
            self.record(a, cid, "ok", f"{why}; settled by reading: the master's {total} activities are in the course")
        elif found:
            self.record(a, cid, "unknown", f"{why}; {found} of the master's {total} activities are in the course: "
                                           "the import is still running or broke off; not sent again: check the "
                                           "course in Moodle")
        else:
            self.record(a, cid, "unknown", f"{why}, and none of the master's {total} activities is in the course "
                                           "yet: Moodle may still be running it, so it is not sent again. Run "
                                           "apply again later to settle it; if the course stays empty, check it "
                                           f"in Moodle and send it again with apply --reimport {a.key}")
        return True

    def activities_of_master(self, master: int) -> Counter[tuple[str, str]]:
        if master not in self.master_activities:
            self.master_activities[master] = _activities(self.m.sections(master))
        return self.master_activities[master]

    # sections -------------------------------------------------------------------------------
    def sections(self) -> None:
        """Name the sections; courses that lack sections get them first (numsections raised, one batch)."""
        by_course: dict[str, list[Action]] = {}
        for a in self.plan.of("section"):
            if a.op in (CREATE, UPDATE) and a.course_key in self.course_ids:
                by_course.setdefault(a.course_key, []).append(a)
        work = list(by_course.items())
        current = self.m.map_reads(lambda item: self.m.sections(self.course_ids[item[0]]), work)
        refused = self.add_sections(work, current)
        course_format = {c.key: c.format for c in self.offering.courses}
        renames: list[tuple[Action, int, str, str]] = []
        for (k, acts), secs in zip(work, current):
            if isinstance(secs, Exception):
                for a in acts:
                    self.record(a, None, "failed", _why(secs))
                continue
            ids = {s.number: s for s in secs}
            for a in acts:
                s = ids.get(int(a.data["number"]))
                if s is None:
                    self.record(a, None, "failed", "section does not exist" + (
                        f" (adding sections failed: {refused[k]})" if k in refused else ""))
                elif s.name == a.data["name"]:
                    self.record(a, s.id, "ok")
                else:
                    renames.append((a, s.id, a.data["name"], course_format.get(k, "topics")))

        def rename(item: tuple[Action, int, str, str]) -> None:
            _, sid, name, fmt = item
            try:
                self.m.rename_section(sid, name, fmt)
            except WriteOutcomeUnknownError:
                self.m.rename_section(sid, name, fmt)  # setting a name is idempotent: safe to send again

        for item, res in zip(renames, self.m.map_writes(rename, renames)):
            self.record(item[0], item[1], "failed" if isinstance(res, Exception) else "ok",
                        _why(res) if isinstance(res, Exception) else None, "section", item[0].key)

    def add_sections(self, work: list[tuple[str, list[Action]]], current: list[Any]) -> dict[str, str]:
        """Raise numsections where a course has fewer sections than its spec (one batch), then read those
        courses again in place in ``current``. Returns Moodle's reason by course key for refusals."""
        spec_counts = {c.key: c.numsections for c in self.offering.courses}
        short = [i for i, ((k, _), secs) in enumerate(zip(work, current))
                 if not isinstance(secs, Exception) and max((s.number for s in secs), default=0) < spec_counts[k]]
        if not short:
            return {}
        keys = {self.course_ids[work[i][0]]: work[i][0] for i in short}
        _, refused, _ = self.send_course_updates([  # a lost answer is settled by the read that follows
            {"id": cid, "courseformatoptions": [{"name": "numsections", "value": str(spec_counts[k])}]}
            for cid, k in keys.items()])
        again = self.m.map_reads(lambda i: self.m.sections(self.course_ids[work[i][0]]), short)
        for i, secs in zip(short, again):
            current[i] = secs
        return {keys[cid]: why for cid, why in refused.items()}

    # classes ------------------------------------------------------------------------------------
    def groups(self) -> None:
        """Create the missing classes (groups) and groupings, each refusal alone, then put every class of
        the courses touched into the course's grouping."""
        made = self.create_in_courses("core_group_create_groups", "groups", "group", self.m.groups)
        made += self.create_in_courses("core_group_create_groupings", "groupings", "grouping", self.m.groupings)
        touched = sorted({a.course_key for a in made if a.course_key})
        reads = self.m.map_reads(lambda k: (self.m.groups(self.course_ids[k]), self.m.groupings(self.course_ids[k])),
                                 touched)
        assignments: list[tuple[str, Grouping, Group]] = []
        for k, res in zip(touched, reads):
            mine = [a for a in made if a.course_key == k]
            if isinstance(res, Exception):
                for a in mine:  # Moodle answered: they exist; only their ids are not known
                    self.record(a, None, "ok")
                grouping = self.offering.course(k).grouping
                if grouping is not None:
                    self.record(Action("grouping", "assign", f"{k} / {grouping.name}", "classes", k), None,
                                "failed", f"reading the course's classes failed ({_why(res)}): they were not put "
                                          "into the grouping", counted=False)
                continue
            assignments += self.record_classes(k, mine, *res)
        self.assign_groupings(assignments)

    def create_in_courses(self, function: str, key: str, kind: str,
                          read: Callable[[int], Sequence[Group | Grouping]]) -> list[Action]:
        """Create the planned ``kind`` objects (groups or groupings) in one batch call, isolating those Moodle
        refuses (recorded failed with its reason); a batch whose answer was lost is settled by reading each
        course with ``read`` (by idnumber) and sending once more what is not there. Returns the actions that
        went through."""
        todo = [a for a in self.plan.of(kind, CREATE) if a.course_key in self.course_ids]
        records = [{"courseid": self.course_ids[a.course_key or ""], "name": a.data["name"],
                    "idnumber": a.data["idnumber"], "description": a.data["description"]} for a in todo]

        def not_landed(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
            courses = sorted({r["courseid"] for r in batch})
            # A course that cannot be read counts as not landed: Moodle refuses a duplicate name or idnumber.
            seen = {cid: {x.idnumber for x in res} for cid, res in zip(courses, self.m.map_reads(read, courses))
                    if not isinstance(res, Exception)}
            return [r for r in batch if r["idnumber"] not in seen.get(r["courseid"], set())]

        if not records:
            return []
        outcome = send_in_batches(self.m.client, function, key, records, reconcile=not_landed)
        owner = {id(r): a for r, a in zip(records, todo)}
        for record, exc in outcome.failed:
            self.record(owner[id(record)], None, _outcome(exc), _why(exc))
        return [owner[id(record)] for record, _ in outcome.done]

    def record_classes(self, k: str, made: list[Action], groups: list[Group],
                       groupings: list[Grouping]) -> list[tuple[str, Grouping, Group]]:
        """Record the groups and grouping made in course ``k`` as read back; return the (grouping, group)
        pairs its classes need."""
        spec = self.offering.course(k)
        by_idn = {g.idnumber: g for g in groups if g.idnumber}
        gp = next((x for x in groupings if spec.grouping and x.idnumber == spec.grouping.idnumber), None)
        for a in made:
            found: Group | Grouping | None = by_idn.get(a.data["idnumber"]) if a.kind == "group" else gp
            self.record(a, found.id if found else None, "ok" if found else "failed",
                        None if found else "created, but not found when read back",
                        a.kind, f"{k}/{a.data['idnumber']}" if a.kind == "group" else k)
        return [(k, gp, by_idn[g.idnumber]) for g in spec.groups if gp and g.idnumber in by_idn]

    def assign_groupings(self, pairs: list[tuple[str, Grouping, Group]]) -> None:
        """Put classes into groupings in batches; a refused pair fails alone with Moodle's reason."""
        if not pairs:
            return
        records = [{"groupingid": gp.id, "groupid": g.id} for _, gp, g in pairs]
        # Moodle skips a pair that is already assigned (group/externallib.php, assign_grouping): a batch
        # whose answer was lost can be sent once more without assigning anything twice.
        outcome = send_in_batches(self.m.client, "core_group_assign_grouping", "assignments", records,
                                  reconcile=lambda batch: batch)
        owner = {id(r): pair for r, pair in zip(records, pairs)}
        for record, exc in [(r, None) for r, _ in outcome.done] + list(outcome.failed):
            k, gp, g = owner[id(record)]
            a = Action("grouping", "assign", f"{k} / {gp.name} + {g.name}", "put the class into the grouping", k)
            self.record(a, gp.id, "ok" if exc is None else _outcome(exc), None if exc is None else _why(exc),
                        counted=False)

    # facilitators -----------------------------------------------------------------------------
    def facilitators(self) -> None:
        users = self.plan.of("user", CREATE)
        if users:
            records = [{"username": a.data["email"], "email": a.data["email"], "firstname": a.data["firstname"],
                        "lastname": a.data["lastname"], "auth": self.auth,
                        **({"createpassword": 1} if self.auth == "manual" else {})} for a in users]

            def not_landed(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
                found = {u.email for u in self.m.users_by_field("email", [r["email"] for r in batch])}
                return [r for r in batch if r["email"] not in found]

            outcome = self.m.create_users(records, reconcile=not_landed)
            by_email = {a.data["email"]: a for a in users}
            for record, answer in outcome.done:
                self.record(by_email[record["email"]], int(answer["id"]) if answer else None, "ok")
            for record, exc in outcome.failed:
                self.record(by_email[record["email"]], None, _outcome(exc), _why(exc))
        enrols = [a for a in self.plan.of("enrolment", CREATE) if a.course_key in self.course_ids]
        members = [a for a in self.plan.of("member", CREATE) if a.course_key in self.course_ids]
        if not enrols and not members:
            return
        emails = sorted({a.data["email"] for a in enrols + members})
        user_ids = {u.email: u.id for u in self.m.users_by_field("email", emails)}
        self.enrol(enrols, user_ids)
        if members:
            self.add_members(members, user_ids)

    def enrol(self, enrols: list[Action], user_ids: dict[str, int]) -> None:
        records, owners = [], []
        for a in enrols:
            uid = user_ids.get(a.data["email"])
            if uid is None:
                self.record(a, None, "failed", "no Moodle user")
                continue
            records.append({"roleid": int(a.data["roleid"]), "userid": uid,
                            "courseid": self.course_ids[a.course_key or ""]})
            owners.append(a)
        outcome = self.m.enrol(records)  # enrolling twice is harmless in Moodle: no reconcile needed
        index = {id(r): a for r, a in zip(records, owners)}
        for record, _ in outcome.done:
            self.record(index[id(record)], record["userid"], "ok")
        for record, exc in outcome.failed:
            self.record(index[id(record)], record["userid"], _outcome(exc), _why(exc))

    def add_members(self, members: list[Action], user_ids: dict[str, int]) -> None:
        courses = sorted({a.course_key for a in members if a.course_key})
        groups = dict(zip(courses, self.m.map_reads(lambda k: self.m.groups(self.course_ids[k]), courses)))
        pairs, owners = [], []
        for a in members:
            gs = groups.get(a.course_key)
            g = next((x for x in gs if x.idnumber == a.data["group_idnumber"]), None) \
                if isinstance(gs, list) else None
            uid = user_ids.get(a.data["email"])
            if g is None or uid is None:
                self.record(a, None, "failed", "group or user missing")
                continue
            pairs.append((g.id, uid))
            owners.append(a)
        out = self.m.add_group_members(pairs)
        owner_of = {pair: a for pair, a in zip(pairs, owners)}
        for record, _ in out.done:
            self.record(owner_of[(record["groupid"], record["userid"])], record["groupid"], "ok")
        for record, exc in out.failed:
            self.record(owner_of[(record["groupid"], record["userid"])], record["groupid"], _outcome(exc),
                        _why(exc))


def _activities(sections: list[Section]) -> Counter[tuple[str, str]]:
    """A course's activities as (module, name) counts, leaving out the forums of section 0 (Moodle gives
    every course its Announcements forum there), as :func:`~moodle_sync.provision.observe.has_content`."""
    return Counter((m.modname, m.name) for s in sections for m in s.modules if m.modname != "forum" or s.number != 0)


def _landed(course: Course, change: Change) -> bool:
    """True when ``course`` as read shows ``change.new`` (a summary compared without whitespace runs)."""
    seen = getattr(course, change.field, None)
    if change.field == "summary":
        return " ".join(str(seen or "").split()) == " ".join(str(change.new or "").split())
    if isinstance(seen, bool):
        return int(seen) == int(change.new)
    return bool(seen == change.new)


def _outcome(exc: BaseException) -> str:
    return "unknown" if isinstance(exc, WriteOutcomeUnknownError) else "failed"


def _why(exc: BaseException) -> str:
    if isinstance(exc, WebServiceError) and exc.errorcode == "errorinvalidparam" and "lang" in exc.moodle_message:
        return (f"{exc.moodle_message} [{exc.errorcode}]: the site has no language pack for the template's "
                "'lang'; install it (Site administration > Language > Language packs) or set lang: '' in the "
                "template")
    if isinstance(exc, WebServiceError):
        return f"{exc.moodle_message} [{exc.errorcode}]" + (f" ({exc.debuginfo})" if exc.debuginfo else "")
    return str(exc)


def apply_plan(moodle: Moodle, offering: OfferingSpec, plan: Plan, *, store: WriteLog | None = None,
               new_user_auth: str = "manual", progress: Callable[[int], None] | None = None,
               reimport: Collection[str] = ()) -> ApplyResult:
    """Execute ``plan`` (built by :func:`~moodle_sync.provision.plan.plan_offering` for ``offering``).

    Returns what was done, what failed and what stays unknown, with Moodle's reasons; one refusal never
    stops the rest. ``reimport`` names course keys whose unanswered, unsettled import may be sent again
    (an operator has checked the course). Without a ``store`` an import lost in one run cannot be known
    to the next. Raises only for failures that stop everything (bad token, site unreachable).
    """
    return _Applier(moodle, offering, plan, store, new_user_auth, progress or (lambda n: None), reimport).run()


__all__ = ["ApplyResult", "apply_plan"]
