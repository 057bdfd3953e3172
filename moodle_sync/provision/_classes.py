"""Apply's writes of classes: the missing groups and groupings (one batch each over all courses, each
refusal alone; a lost answer settled by reading), then every class of the courses touched put into its
course's grouping (sent again when the answer was lost: Moodle skips a pair already assigned)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..ws.batching import send_in_batches
from ..ws.moodle import Group, Grouping
from ._run import ApplyRun, outcome_of, why
from .plan import Action

_Assignment = tuple[str, Grouping, Group]   # course key, the grouping, the class


def create_classes(run: ApplyRun) -> None:
    """Create the missing classes (groups) and groupings, each refusal alone, then put every class of
    the courses touched into the course's grouping."""
    made = _create_in_courses(run, "core_group_create_groups", "groups", "group", run.m.groups)
    made += _create_in_courses(run, "core_group_create_groupings", "groupings", "grouping", run.m.groupings)
    touched = sorted({a.course_key for a in made if a.course_key})
    reads = run.m.map_reads(lambda k: (run.m.groups(run.course_ids[k]), run.m.groupings(run.course_ids[k])),
                            touched)
    assignments: list[_Assignment] = []
    for k, res in zip(touched, reads):
        mine = [a for a in made if a.course_key == k]
        if isinstance(res, Exception):
            for a in mine:  # Moodle answered: they exist; only their ids are not known
                run.record(a, None, "ok")
            grouping = run.offering.course(k).grouping
            if grouping is not None:
                run.record(Action("grouping", "assign", f"{k} / {grouping.name}", "classes", k), None,
                           "failed", f"reading the course's classes failed ({why(res)}): they were not put "
                                     "into the grouping", counted=False)
            continue
        assignments += _record_classes(run, k, mine, *res)
    _assign_groupings(run, assignments)


def _create_in_courses(run: ApplyRun, function: str, key: str, kind: str,
                       read: Callable[[int], Sequence[Group | Grouping]]) -> list[Action]:
    """Create the planned ``kind`` objects (groups or groupings) in one batch call, isolating those Moodle
    refuses (recorded failed with its reason); a batch whose answer was lost is settled by reading each
    course with ``read`` (by idnumber) and sending once more what is not there. Returns the actions that
    went through."""
    todo = run.in_existing_courses(kind)
    records = [{"courseid": run.course_id(a), "name": a.data["name"], "idnumber": a.data["idnumber"],
                "description": a.data["description"]} for a in todo]

    def not_landed(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        courses = sorted({r["courseid"] for r in batch})
        # A course that cannot be read counts as not landed: Moodle refuses a duplicate name or idnumber.
        seen = {cid: {x.idnumber for x in res} for cid, res in zip(courses, run.m.map_reads(read, courses))
                if not isinstance(res, Exception)}
        return [r for r in batch if r["idnumber"] not in seen.get(r["courseid"], set())]

    if not records:
        return []
    outcome = send_in_batches(run.m.client, function, key, records, reconcile=not_landed)
    owner = {id(r): a for r, a in zip(records, todo)}
    for record, exc in outcome.failed:
        run.record(owner[id(record)], None, outcome_of(exc), why(exc))
    return [owner[id(record)] for record, _ in outcome.done]


def _record_classes(run: ApplyRun, k: str, made: list[Action], groups: list[Group],
                    groupings: list[Grouping]) -> list[_Assignment]:
    """Record the groups and grouping made in course ``k`` as read back; return the (grouping, group)
    pairs its classes need."""
    spec = run.offering.course(k)
    by_idn = {g.idnumber: g for g in groups if g.idnumber}
    gp = next((x for x in groupings if spec.grouping and x.idnumber == spec.grouping.idnumber), None)
    for a in made:
        found: Group | Grouping | None = by_idn.get(a.data["idnumber"]) if a.kind == "group" else gp
        run.record(a, found.id if found else None, "ok" if found else "failed",
                   None if found else "created, but not found when read back",
                   a.kind, f"{k}/{a.data['idnumber']}" if a.kind == "group" else k)
    return [(k, gp, by_idn[g.idnumber]) for g in spec.groups if gp and g.idnumber in by_idn]


def _assign_groupings(run: ApplyRun, pairs: list[_Assignment]) -> None:
    """Put classes into groupings in batches; a refused pair fails alone with Moodle's reason."""
    if not pairs:
        return
    records = [{"groupingid": gp.id, "groupid": g.id} for _, gp, g in pairs]
    # Moodle skips a pair that is already assigned (group/externallib.php, assign_grouping): a batch
    # whose answer was lost can be sent once more without assigning anything twice.
    outcome = send_in_batches(run.m.client, "core_group_assign_grouping", "assignments", records,
                              reconcile=lambda batch: batch)
    owner = {id(r): pair for r, pair in zip(records, pairs)}
    for record, exc in [(r, None) for r, _ in outcome.done] + list(outcome.failed):
        k, gp, g = owner[id(record)]
        a = Action("grouping", "assign", f"{k} / {gp.name} + {g.name}", "put the class into the grouping", k)
        run.record(a, gp.id, "ok" if exc is None else outcome_of(exc), None if exc is None else why(exc),
                   counted=False)
