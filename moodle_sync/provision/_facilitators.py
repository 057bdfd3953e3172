"""Apply's writes for facilitators: their Moodle users (batches; a lost answer settled by looking the
e-mails up), their enrolments with the facilitator role, and their membership of their classes."""

from __future__ import annotations

from typing import Any

from ..exceptions import MoodleSyncError
from ..ws.moodle import Group
from ._run import ApplyRun, outcome_of, why
from .plan import CREATE, Action


def provision_facilitators(run: ApplyRun) -> None:
    """Create the missing facilitator users, then enrol them and add them to their classes."""
    _create_users(run)
    enrols = run.in_existing_courses("enrolment")
    members = run.in_existing_courses("member")
    if not enrols and not members:
        return
    emails = sorted({a.data["email"] for a in enrols + members})
    user_ids = {u.email: u.id for u in run.m.users_by_field("email", emails)}
    _enrol(run, enrols, user_ids)
    if members:
        _add_members(run, members, user_ids)


def _create_users(run: ApplyRun) -> None:
    """Create the planned users (batches); one Moodle refuses fails alone."""
    users = run.plan.of("user", CREATE)
    if not users:
        return
    records = [{"username": a.data["email"], "email": a.data["email"], "firstname": a.data["firstname"],
                "lastname": a.data["lastname"], "auth": run.auth,
                **({"createpassword": 1} if run.auth == "manual" else {})} for a in users]

    def not_landed(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = {u.email for u in run.m.users_by_field("email", [r["email"] for r in batch])}
        return [r for r in batch if r["email"] not in found]

    outcome = run.m.create_users(records, reconcile=not_landed)
    by_email = {a.data["email"]: a for a in users}
    for record, answer in outcome.done:
        run.record(by_email[record["email"]], int(answer["id"]) if answer else None, "ok")
    for record, exc in outcome.failed:
        run.record(by_email[record["email"]], None, outcome_of(exc), why(exc))


def _enrol(run: ApplyRun, enrols: list[Action], user_ids: dict[str, int]) -> None:
    """Enrol each facilitator with the role the plan names; a user Moodle lacks fails alone."""
    records, owners = [], []
    for a in enrols:
        uid = user_ids.get(a.data["email"])
        if uid is None:
            run.record(a, None, "failed", "no Moodle user")
            continue
        records.append({"roleid": int(a.data["roleid"]), "userid": uid, "courseid": run.course_id(a)})
        owners.append(a)
    outcome = run.m.enrol(records)  # enrolling twice is harmless in Moodle: no reconcile needed
    index = {id(r): a for r, a in zip(records, owners)}
    for record, _ in outcome.done:
        run.record(index[id(record)], record["userid"], "ok")
    for record, exc in outcome.failed:
        run.record(index[id(record)], record["userid"], outcome_of(exc), why(exc))


def _add_members(run: ApplyRun, members: list[Action], user_ids: dict[str, int]) -> None:
    """Add each facilitator to their classes; a class or user that cannot be found fails alone."""
    courses = sorted({a.course_key for a in members if a.course_key})
    groups: dict[str, list[Group] | MoodleSyncError] = dict(
        zip(courses, run.m.map_reads(lambda k: run.m.groups(run.course_ids[k]), courses)))
    pairs, owners = [], []
    for a in members:
        gs = groups.get(a.course_key or "")
        g = next((x for x in gs if x.idnumber == a.data["group_idnumber"]), None) if isinstance(gs, list) else None
        uid = user_ids.get(a.data["email"])
        if g is None or uid is None:
            run.record(a, None, "failed", "group or user missing")
            continue
        pairs.append((g.id, uid))
        owners.append(a)
    out = run.m.add_group_members(pairs)
    owner_of = dict(zip(pairs, owners))
    for record, _ in out.done:
        run.record(owner_of[(record["groupid"], record["userid"])], record["groupid"], "ok")
    for record, exc in out.failed:
        run.record(owner_of[(record["groupid"], record["userid"])], record["groupid"], outcome_of(exc), why(exc))
