"""Apply's writes of sections: courses with fewer sections than their spec get more (numsections raised,
one batch), then each section gets its name (sent again when the answer was lost: naming is idempotent)."""

from __future__ import annotations

from typing import Any

from ..exceptions import WriteOutcomeUnknownError
from ..ws.moodle import Section
from ._courses import send_course_updates
from ._run import ApplyRun, why
from .plan import CREATE, UPDATE, Action

_Rename = tuple[Action, int, str, str]   # the action, the section id, its name, the course format


def name_sections(run: ApplyRun) -> None:
    """Name the sections; courses that lack sections get them first (numsections raised, one batch)."""
    by_course: dict[str, list[Action]] = {}
    for a in run.plan.of("section"):
        if a.op in (CREATE, UPDATE) and a.course_key in run.course_ids:
            by_course.setdefault(a.course_key, []).append(a)
    work = list(by_course.items())
    current: list[Any] = run.m.map_reads(lambda item: run.m.sections(run.course_ids[item[0]]), work)
    refused = _add_sections(run, work, current)
    renames: list[_Rename] = []
    for (k, acts), secs in zip(work, current):
        if isinstance(secs, Exception):
            for a in acts:
                run.record(a, None, "failed", why(secs))
        else:
            renames += _renames_needed(run, k, acts, secs, refused.get(k))
    _rename(run, renames)


def _renames_needed(run: ApplyRun, k: str, acts: list[Action], secs: list[Section],
                    refused: str | None) -> list[_Rename]:
    """The sections of course ``k`` whose name must be set; records those already right or missing.
    ``refused``: Moodle's reason when adding the course's missing sections failed."""
    course_format = next((c.format for c in run.offering.courses if c.key == k), "topics")
    ids = {s.number: s for s in secs}
    renames: list[_Rename] = []
    for a in acts:
        s = ids.get(int(a.data["number"]))
        if s is None:
            run.record(a, None, "failed", "section does not exist" + (
                f" (adding sections failed: {refused})" if refused is not None else ""))
        elif s.name == a.data["name"]:
            run.record(a, s.id, "ok")
        else:
            renames.append((a, s.id, a.data["name"], course_format))
    return renames


def _rename(run: ApplyRun, renames: list[_Rename]) -> None:
    """Set the section names side by side; each failure is its section's alone."""
    def rename(item: _Rename) -> None:
        _, sid, name, fmt = item
        try:
            run.m.rename_section(sid, name, fmt)
        except WriteOutcomeUnknownError:
            run.m.rename_section(sid, name, fmt)  # setting a name is idempotent: safe to send again

    for item, res in zip(renames, run.m.map_writes(rename, renames)):
        run.record(item[0], item[1], "failed" if isinstance(res, Exception) else "ok",
                   why(res) if isinstance(res, Exception) else None, "section", item[0].key)


def _add_sections(run: ApplyRun, work: list[tuple[str, list[Action]]], current: list[Any]) -> dict[str, str]:
    """Raise numsections where a course has fewer sections than its spec (one batch), then read those
    courses again in place in ``current``. Returns Moodle's reason by course key for refusals."""
    spec_counts = {c.key: c.numsections for c in run.offering.courses}
    short = [i for i, ((k, _), secs) in enumerate(zip(work, current))
             if not isinstance(secs, Exception) and max((s.number for s in secs), default=0) < spec_counts[k]]
    if not short:
        return {}
    keys = {run.course_ids[work[i][0]]: work[i][0] for i in short}
    _, refused, _ = send_course_updates(run, [  # a lost answer is settled by the read that follows
        {"id": cid, "courseformatoptions": [{"name": "numsections", "value": str(spec_counts[k])}]}
        for cid, k in keys.items()])
    again = run.m.map_reads(lambda i: run.m.sections(run.course_ids[work[i][0]]), short)
    for i, secs in zip(short, again):
        current[i] = secs
    return {keys[cid]: reason for cid, reason in refused.items()}
