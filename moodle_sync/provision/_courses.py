"""Apply's writes of categories and courses: missing categories (a call per depth), new courses (batches)
and course updates (batches, each course on its own; a lost answer settled by reading the course back)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..exceptions import MoodleSyncError, WebServiceError, WriteOutcomeUnknownError
from ..ws.batching import send_in_batches
from ..ws.moodle import Course
from ._run import ApplyRun, outcome_of, why
from .plan import CREATE, UPDATE, Action, Change
from .state import find_category

log = logging.getLogger("moodle_sync.provision")


def create_categories(run: ApplyRun) -> None:
    """Create the missing categories, a call per depth (parents first); ids come from the answers."""
    todo = run.plan.of("category", CREATE)
    for depth in sorted({len(a.data["path"]) for a in todo}):
        level = [a for a in todo if len(a.data["path"]) == depth
                 and (depth == 1 or tuple(a.data["path"][:-1]) in run.category_ids)]
        if not level:
            continue
        payload = [{"name": a.data["name"], "idnumber": a.data["idnumber"], "description": "",
                    "parent": run.category_ids[tuple(a.data["path"][:-1])] if depth > 1 else 0} for a in level]
        try:
            created = {c.idnumber: c.id for c in run.m.create_categories(payload)}
        except WriteOutcomeUnknownError:
            created = _categories_read_back(run, level)
        except WebServiceError as exc:
            for a in level:
                run.record(a, None, "failed", why(exc))
            continue
        for a in level:
            cid = created.get(a.data["idnumber"])
            if cid is not None:
                run.category_ids[tuple(a.data["path"])] = cid
            run.record(a, cid, "ok" if cid else "failed", None if cid else "not created", "category", a.key)


def _categories_read_back(run: ApplyRun, level: list[Action]) -> dict[str, int]:
    """The ids of ``level``'s categories that exist, by idnumber, read after a creation got no answer."""
    log.warning("category creation got no answer; reading categories back")
    known = run.m.categories()
    created = {}
    for a in level:
        found = find_category(known, tuple(a.data["path"]), run.offering.category_idnumber_prefix)
        if found is not None:
            created[a.data["idnumber"]] = found.id
    return created


def create_courses(run: ApplyRun) -> None:
    """Create the planned courses in their categories (batches); a course whose category is missing, or
    that Moodle refuses, fails alone. A lost answer is settled by looking the courses up by idnumber."""
    todo = []
    for a in run.plan.of("course", CREATE):
        if tuple(a.data["path"]) in run.category_ids:
            todo.append(a)
        else:
            run.record(a, None, "failed", f"category {' / '.join(a.data['path'])} does not exist")
    if not todo:
        return
    records = [{**a.data["fields"], "categoryid": run.category_ids[tuple(a.data["path"])],
                "courseformatoptions": [{"name": "numsections", "value": str(a.data["numsections"])}]}
               for a in todo]

    def not_landed(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in batch if not run.m.courses_by_field("idnumber", r["idnumber"])]

    outcome = send_in_batches(run.m.client, "core_course_create_courses", "courses", records, reconcile=not_landed)
    by_idnumber = {r["idnumber"]: a for r, a in zip(records, todo)}
    for record, answer in outcome.done:
        a = by_idnumber[record["idnumber"]]
        cid = int(answer["id"]) if answer else run.m.courses_by_field("idnumber", record["idnumber"])[0].id
        run.course_ids[a.key] = cid
        run.record(a, cid, "ok", map_kind="course", map_key=a.key)
    for record, exc in outcome.failed:
        run.record(by_idnumber[record["idnumber"]], None, outcome_of(exc), why(exc))


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


def send_course_updates(run: ApplyRun, records: list[dict[str, Any]]) -> tuple[list[int], dict[int, str], list[int]]:
    """Send course updates (``id`` + fields) in batches, each course on its own: (ids updated, Moodle's
    reason by id for those refused, ids whose answer was lost). Raises only for failures that stop
    everything (bad token, site unreachable)."""
    outcome = send_in_batches(_PerCourseWarnings(run.m.client), "core_course_update_courses", "courses", records)
    done, refused, lost = [], {}, []
    for record, warnings in outcome.done:
        if warnings:
            refused[int(record["id"])] = "; ".join(f"{w.get('message')} [{w.get('warningcode')}]" for w in warnings)
        else:
            done.append(int(record["id"]))
    for record, exc in outcome.failed:
        if isinstance(exc, WriteOutcomeUnknownError):
            lost.append(int(record["id"]))
        else:
            refused[int(record["id"])] = why(exc)
    return done, refused, lost


def update_courses(run: ApplyRun) -> None:
    """Update changed courses; a course Moodle refuses fails alone, a lost answer is settled by reading."""
    todo = {int(a.data["id"]): a for a in run.plan.of("course", UPDATE)}
    if not todo:
        return
    done, refused, lost = send_course_updates(
        run, [{"id": cid, **{c.field: c.new for c in a.changes}} for cid, a in todo.items()])
    for cid in done:
        run.record(todo[cid], cid, "ok")
    for cid, reason in refused.items():
        run.record(todo[cid], cid, "failed", reason)
    if lost:
        _settle_updates(run, [todo[cid] for cid in lost])


def _settle_updates(run: ApplyRun, actions: list[Action]) -> None:
    """Course updates whose answer was lost: recorded ``unknown``, then settled by reading the courses
    back and comparing each changed field with the plan. Not re-sent: the next plan shows what is left."""
    ids = [int(a.data["id"]) for a in actions]
    for a, cid in zip(actions, ids):
        run.audit(a, cid, "unknown", "core_course_update_courses got no answer; reading the course back")
    try:
        seen = {c.id: c for c in run.m.courses_by_ids(ids)}
    except MoodleSyncError as exc:
        for a, cid in zip(actions, ids):
            run.record(a, cid, "unknown", f"the update got no answer and reading the course back failed "
                                          f"({why(exc)}): run apply again")
        return
    for a, cid in zip(actions, ids):
        course = seen.get(cid)
        if course is None:
            run.record(a, cid, "failed", "the update got no answer and the course is no longer in Moodle")
            continue
        differ = [c.field for c in a.changes if not _landed(course, c)]
        if differ:
            run.record(a, cid, "failed", f"the update got no answer and reading the course back shows "
                                         f"{', '.join(differ)} unchanged: run apply again")
        else:
            run.record(a, cid, "ok", "the update got no answer; reading the course back shows every change")


def _landed(course: Course, change: Change) -> bool:
    """True when ``course`` as read shows ``change.new`` (a summary compared without whitespace runs)."""
    seen = getattr(course, change.field, None)
    if change.field == "summary":
        return " ".join(str(seen or "").split()) == " ".join(str(change.new or "").split())
    if isinstance(seen, bool):
        return int(seen) == int(change.new)
    return bool(seen == change.new)
