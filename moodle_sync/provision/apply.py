"""Execute a provisioning plan against Moodle, batching what Moodle accepts in batches.

Order: categories (a call per depth), new courses (one batch), course updates (one call), content
imports, section names, groups and groupings (one call each over all courses), facilitator users,
enrolments and class memberships (batches). Every write is recorded in the store with the offering,
the Moodle id, the spec hash and the outcome.

A write whose answer never came (:class:`WriteOutcomeUnknownError`) is never re-sent blindly: the objects
it would have made are read back from Moodle; what exists is kept, what does not is sent once more. After
a crash, a rerun plans again from what Moodle has and finishes the job without duplicates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from ..exceptions import WebServiceError, WriteOutcomeUnknownError
from ..ws.batching import send_in_batches
from ..ws.moodle import Moodle
from .observe import find_category, has_content
from .plan import CREATE, UNCHANGED, UPDATE, Action, Plan
from .spec import OfferingSpec

log = logging.getLogger("moodle_sync.provision")


class WriteLog(Protocol):
    """What apply needs of the store (see :class:`moodle_sync.store.Store`)."""

    def record_write(self, offering_id: str, action: str, kind: str, key: str, moodle_id: int | None,
                     spec_hash: str | None, outcome: str, detail: str | None = None) -> Any: ...

    def map_object(self, offering_id: str, kind: str, key: str, moodle_id: int,
                   spec_hash: str | None = None) -> Any: ...


@dataclass
class ApplyResult:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "done": len(self.done), "failed": self.failed}


class _Applier:
    def __init__(self, moodle: Moodle, offering: OfferingSpec, plan: Plan, store: WriteLog | None,
                 auth: str, progress: Callable[[int], None]) -> None:
        self.m, self.offering, self.plan, self.store = moodle, offering, plan, store
        self.auth, self.progress = auth, progress
        self.result = ApplyResult()
        self.course_ids: dict[str, int] = {}
        self.hashes = {c.key: c.spec_hash() for c in offering.courses}

    # bookkeeping ------------------------------------------------------------------------------
    def record(self, a: Action, moodle_id: int | None, outcome: str, detail: str | None = None,
               map_kind: str | None = None, map_key: str | None = None) -> None:
        label = f"{a.op} {a.kind} {a.key}"
        (self.result.done if outcome == "ok" else self.result.failed).append(
            label if outcome == "ok" else f"{label}: {detail}")
        if self.store is not None:
            h = self.hashes.get(a.course_key or "")
            self.store.record_write(self.offering.offering_id, a.op, a.kind, a.key, moodle_id, h, outcome,
                                    detail)
            if outcome == "ok" and moodle_id and map_kind:
                self.store.map_object(self.offering.offering_id, map_kind, map_key or a.key, moodle_id, h)
        self.progress(1)

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
            self.record(by_idnumber[record["idnumber"]], None, "failed", _why(exc))

    def update_courses(self) -> None:
        todo = self.plan.of("course", UPDATE)
        if not todo:
            return
        payload = [{"id": int(a.data["id"]), **{c.field: c.new for c in a.changes}} for a in todo]
        try:
            warnings = self.m.update_courses(payload)
        except WriteOutcomeUnknownError:
            warnings = []  # updates are idempotent: the next plan shows whatever did not land
        except WebServiceError as exc:
            for a in todo:
                self.record(a, int(a.data["id"]), "failed", _why(exc))
            return
        failed_ids = {w.split(":")[0].split()[-1] for w in warnings}
        for a in todo:
            bad = str(a.data["id"]) in failed_ids
            self.record(a, int(a.data["id"]), "failed" if bad else "ok",
                        "; ".join(w for w in warnings if f"course {a.data['id']}:" in w) or None)

    def import_content(self) -> None:
        for a in self.plan.of("content", CREATE):
            cid = self.course_ids.get(a.key)
            if cid is None:
                continue
            try:
                self.m.import_course(int(a.data["importfrom"]), cid)
            except WriteOutcomeUnknownError:
                if not has_content(self.m.sections(cid)):
                    self.record(a, cid, "unknown", "import did not answer and no content is there yet: "
                                                   "run apply again")
                    continue
            except WebServiceError as exc:
                self.record(a, cid, "failed", _why(exc))
                continue
            self.record(a, cid, "ok")

    def sections(self) -> None:
        todo = [a for a in self.plan.of("section") if a.op in (CREATE, UPDATE)]
        by_course: dict[str, list[Action]] = {}
        for a in todo:
            by_course.setdefault(a.key.rsplit(" section ", 1)[0], []).append(a)
        work = [(k, acts) for k, acts in by_course.items() if k in self.course_ids]
        course_format = {c.key: c.format for c in self.offering.courses}
        # Courses that lack sections get numsections raised first (one call for all of them).
        spec_counts = {c.key: c.numsections for c in self.offering.courses}
        current = self.m.map_reads(lambda item: self.m.sections(self.course_ids[item[0]]), work)
        grow = [{"id": self.course_ids[k], "courseformatoptions": [
            {"name": "numsections", "value": str(spec_counts[k])}]}
            for (k, _), secs in zip(work, current)
            if not isinstance(secs, Exception) and max((s.number for s in secs), default=0) < spec_counts[k]]
        if grow:
            self.m.update_courses(grow)
            current = self.m.map_reads(lambda item: self.m.sections(self.course_ids[item[0]]), work)
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
                    self.record(a, None, "failed", "section does not exist")
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

        for item, res in zip(renames, self.m.map_reads(rename, renames)):
            self.record(item[0], item[1], "failed" if isinstance(res, Exception) else "ok",
                        _why(res) if isinstance(res, Exception) else None, "section", item[0].key)

    def groups(self) -> None:
        todo = [a for a in self.plan.of("group", CREATE) if a.course_key in self.course_ids]
        if todo:
            payload = [{"courseid": self.course_ids[a.course_key or ""], "name": a.data["name"],
                        "idnumber": a.data["idnumber"], "description": a.data["description"]} for a in todo]
            try:
                self.m.create_groups(payload)
            except WriteOutcomeUnknownError:
                log.warning("group creation timed out; reading groups back")
            except WebServiceError as exc:
                for a in todo:
                    self.record(a, None, "failed", _why(exc))
                todo = []
        gp_todo = [a for a in self.plan.of("grouping", CREATE) if a.course_key in self.course_ids]
        if gp_todo:
            try:
                self.m.create_groupings([{"courseid": self.course_ids[a.course_key or ""], "name": a.data["name"],
                                          "idnumber": a.data["idnumber"], "description": a.data["description"]}
                                         for a in gp_todo])
            except WriteOutcomeUnknownError:
                log.warning("grouping creation timed out; reading groupings back")
        touched = sorted({a.course_key for a in todo + gp_todo if a.course_key})
        if not touched:
            return
        reads = self.m.map_reads(lambda k: (self.m.groups(self.course_ids[k]), self.m.groupings(self.course_ids[k])),
                                 touched)
        assignments: list[tuple[int, int]] = []
        for k, res in zip(touched, reads):
            if isinstance(res, Exception):
                continue
            groups, groupings = res
            spec = self.offering.course(k)
            by_idn = {g.idnumber: g for g in groups}
            for a in (x for x in todo if x.course_key == k):
                g = by_idn.get(a.data["idnumber"])
                self.record(a, g.id if g else None, "ok" if g else "failed", None if g else "not created",
                            "group", f"{k}/{a.data['idnumber']}")
            gp = next((x for x in groupings if spec.grouping and x.idnumber == spec.grouping.idnumber), None)
            for a in (x for x in gp_todo if x.course_key == k):
                self.record(a, gp.id if gp else None, "ok" if gp else "failed", None if gp else "not created",
                            "grouping", k)
            if gp:
                assignments += [(gp.id, by_idn[g.idnumber].id) for g in spec.groups if g.idnumber in by_idn]
        if assignments:
            self.m.assign_groupings(assignments)

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
                self.record(by_email[record["email"]], None, "failed", _why(exc))
        enrols = [a for a in self.plan.of("enrolment", CREATE) if a.course_key in self.course_ids]
        members = [a for a in self.plan.of("member", CREATE) if a.course_key in self.course_ids]
        if not enrols and not members:
            return
        emails = sorted({a.data["email"] for a in enrols + members})
        user_ids = {u.email: u.id for u in self.m.users_by_field("email", emails)}
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
            self.record(index[id(record)], record["userid"], "failed", _why(exc))
        if not members:
            return
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
            self.record(owner_of[(record["groupid"], record["userid"])], record["groupid"], "failed", _why(exc))


def _why(exc: BaseException) -> str:
    if isinstance(exc, WebServiceError) and exc.errorcode == "errorinvalidparam" and "lang" in exc.moodle_message:
        return (f"{exc.moodle_message} [{exc.errorcode}]: the site has no language pack for the template's "
                "'lang'; install it (Site administration > Language > Language packs) or set lang: '' in the "
                "template")
    if isinstance(exc, WebServiceError):
        return f"{exc.moodle_message} [{exc.errorcode}]" + (f" ({exc.debuginfo})" if exc.debuginfo else "")
    return str(exc)


def apply_plan(moodle: Moodle, offering: OfferingSpec, plan: Plan, *, store: WriteLog | None = None,
               new_user_auth: str = "manual", progress: Callable[[int], None] | None = None) -> ApplyResult:
    """Execute ``plan`` (built by :func:`~moodle_sync.provision.plan.plan_offering` for ``offering``).

    Returns what was done and what failed, with Moodle's reasons. Raises only for failures that stop
    everything (bad token, site unreachable).
    """
    return _Applier(moodle, offering, plan, store, new_user_auth, progress or (lambda n: None)).run()


__all__ = ["apply_plan", "ApplyResult"]
