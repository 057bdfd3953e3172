"""``moodle-sync plan`` and ``moodle-sync apply``: make Moodle match an offering.

``plan`` exits 0 when nothing needs to change, 2 when changes are pending, 1 on problems.
``apply`` builds the same plan with the same code, shows it, asks (``--yes`` skips), executes it.
An offering that adopts existing courses (``adopt:``) plans nothing for them: ``apply`` records the offering
and its courses in the store (for pulls and reports) and writes nothing to Moodle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from ..provision.apply import ApplyResult, apply_plan
from ..provision.observe import observe, observe_adopted
from ..provision.plan import UNCHANGED, Plan, adopted_summary, plan_adoption, plan_offering
from ..provision.spec import OfferingSpec, offering_summary
from .app import App, pass_app, table
from .common import confirm_writes, offering_argument, output_options, render, templates_option, yes_option

OP_STYLE = {"create": "[green]create[/]", "update": "[yellow]update[/]", "unchanged": "[dim]unchanged[/]"}

def adoption(app: App, path: Path, templates: tuple[str, ...]) -> tuple[Plan, dict[str, Any]] | None:
    """For an offering file with ``adopt:``: its plan (every adopted course unchanged, the ones not found
    as problems) and what the store keeps of it; None for an offering that provisions its courses."""
    from ..offerings import load_offering
    from ..templates import load_template, template_dirs

    offering = load_offering(path)
    if offering.adopt is None:
        return None
    evidence = load_template(offering.template, template_dirs(templates, app.settings.templates_dir),
                             where=offering.template_where).evidence
    app.info(f"Reading the courses {offering.id} adopts...")
    state = observe_adopted(app.moodle(), offering.adopt)
    summary = adopted_summary(offering, state, offering.adopt.pretest or evidence.pretest_idnumber,
                              offering.adopt.posttest or evidence.posttest_idnumber)
    return plan_adoption(offering.id, state), summary


def record_adoption(app: App, plan: Plan, summary: dict[str, Any]) -> None:
    """Keep an adopting offering and its courses (key -> Moodle id) in the store; nothing goes to Moodle."""
    store = app.store()
    store.save_offering(plan.offering_id, summary["template"], summary["title"], summary)
    for course in summary["courses"]:
        store.map_object(plan.offering_id, "course", course["key"], course["moodle_id"])


def build_plan(app: App, spec: OfferingSpec) -> Plan:
    moodle = app.moodle()
    app.info(f"Reading what Moodle has for {spec.offering_id} ({len(spec.courses)} courses)...")
    return plan_offering(spec, observe(moodle, spec))


def show_plan(app: App, plan: Plan, *, show_all: bool) -> None:
    rows = []
    for a in plan.actions:
        if a.op == UNCHANGED and not show_all:
            continue
        detail = "; ".join(f"{c.field}: {_short(c.old)} -> {_short(c.new)}" for c in a.changes) or a.reason
        rows.append([OP_STYLE[a.op], a.kind, escape(a.key), escape(detail)])
    counts = plan.counts()
    title = (f"Plan for {plan.offering_id}: {counts['create']} to create, {counts['update']} to update, "
             f"{counts['unchanged']} unchanged")
    if rows:
        app.out.print(table(title, ["action", "kind", "what", "detail"], rows))
    else:
        app.out.print(f"{title}. Nothing to change.")
    for p in plan.problems:
        app.out.print(f"[red]problem:[/] {escape(p)}")


def show_adoption(app: App, plan: Plan) -> None:
    """The plan of an adopting offering: its courses, and that nothing of them will change."""
    show_plan(app, plan, show_all=True)
    app.out.print(f"{len(plan.actions)} adopted course(s): pulled as they are; plan and apply never change them.",
                  highlight=False)


def _short(value: Any, width: int = 50) -> str:
    text = "—" if value in (None, "") else str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command("plan")
@offering_argument
@templates_option
@click.option("--all", "show_all", is_flag=True, help="Also list what is unchanged.")
@output_options
@pass_app
def plan_cmd(app: App, offering_file: Path, templates: tuple[str, ...], show_all: bool) -> int:
    """Show what apply would change in Moodle for OFFERING (an offering YAML file).

    Exit 0: nothing to change (always, for an offering that adopts existing courses); 2: changes pending;
    1: problems (e.g. master course missing, an adopted course not found).
    """
    adopted = adoption(app, offering_file, templates)
    if adopted is not None:
        plan = adopted[0]
        app.emit({**plan.to_dict(), "adopted": True}, lambda: show_adoption(app, plan))
        return 1 if plan.problems else 0
    spec = render(app, offering_file, templates)
    plan = build_plan(app, spec)
    app.emit(plan.to_dict(), lambda: show_plan(app, plan, show_all=show_all))
    if plan.problems:
        return 1
    return 2 if plan.pending else 0


@click.command("apply")
@offering_argument
@templates_option
@yes_option
@click.option("--dry-run", is_flag=True, help="Show the plan and stop (writes nothing, asks nothing).")
@click.option("--reimport", "reimport", multiple=True, metavar="COURSE_KEY",
              help="Send again the content import of this course (a key such as 'metro'; repeatable) although "
                   "an earlier one got no answer and may still be running. Only after checking the course in "
                   "Moodle: if that import is still running, the content arrives twice.")
@output_options
@pass_app
def apply_cmd(app: App, offering_file: Path, templates: tuple[str, ...], yes: bool, dry_run: bool,
              reimport: tuple[str, ...]) -> int:
    """Make Moodle match OFFERING: build the plan, show it, ask, then execute it.

    Every write is recorded in the local store (the audit trail). Nothing is ever deleted. A write whose
    answer was lost is settled by reading Moodle, never sent blindly again. Exit 0: all done; 1: problems
    in the plan, or some writes failed or stay unknown (each is listed; the rest was done).
    An offering that adopts existing courses is recorded in the store only: Moodle is not written to.
    """
    adopted = adoption(app, offering_file, templates)
    if adopted is not None:
        return apply_adoption(app, *adopted, dry_run=dry_run)
    spec = render(app, offering_file, templates)
    if not dry_run:   # one writer per offering (select, enrol, withdraw, apply): exit 75 when another runs
        from ..store.locks import offering_lock

        click.get_current_context().with_resource(offering_lock(app.store(), spec.offering_id))
    _check_reimport(spec, reimport)
    plan = build_plan(app, spec)
    if not app.json:
        show_plan(app, plan, show_all=False)
    if plan.problems:
        app.emit({**plan.to_dict(), "applied": False}, lambda: None)
        app.info("[red]Not applied:[/] fix the problems above first.")
        return 1
    if dry_run or not plan.pending:
        if not dry_run:   # nothing to send; an earlier unanswered write the plan found done is settled
            _execute(app, spec, plan)
        app.emit({**plan.to_dict(), "applied": False, "dry_run": dry_run}, lambda: None)
        return 0
    confirm_writes(app, f"Apply {len(plan.pending)} change(s) to {app.settings.url}?", yes)
    with app.progress("Applying", len(plan.pending)) as advance:
        result = _execute(app, spec, plan, progress=advance, reimport=reimport)
    app.emit({**plan.to_dict(), "applied": True, "result": result.to_dict()}, lambda: show_result(app, result))
    return 0 if result.ok else 1


def _check_reimport(spec: OfferingSpec, reimport: tuple[str, ...]) -> None:
    """Raises :class:`click.BadParameter` for a ``--reimport`` key that is no course of the offering."""
    unknown_keys = sorted(set(reimport) - {c.key for c in spec.courses})
    if unknown_keys:
        raise click.BadParameter(f"{', '.join(unknown_keys)}: no such course in the offering (its keys: "
                                 f"{', '.join(c.key for c in spec.courses)})", param_hint="--reimport")


def _execute(app: App, spec: OfferingSpec, plan: Plan, *, progress: Callable[[int], None] | None = None,
             reimport: tuple[str, ...] = ()) -> ApplyResult:
    """Record the offering in the store, then execute ``plan`` (every write recorded there too)."""
    store = app.store()
    store.save_offering(spec.offering_id, spec.template, spec.title, offering_summary(spec))
    return apply_plan(app.moodle(), spec, plan, store=store, new_user_auth=app.settings.new_user_auth,
                      progress=progress, reimport=reimport)


def show_result(app: App, result: ApplyResult) -> None:
    """What an apply did: how many changes, and each failed or unknown one with its reason."""
    left = [text for n, text in ((len(result.failed), f"{len(result.failed)} failed"),
                                 (len(result.unknown), f"{len(result.unknown)} unknown (no answer)")) if n]
    app.out.print(f"Applied {len(result.done)} change(s)" + (f", {', '.join(left)}:" if left else "."))
    for f in result.failed:
        app.out.print(f"  [red]failed:[/] {escape(f)}")
    for u in result.unknown:
        app.out.print(f"  [yellow]unknown:[/] {escape(u)}")
    if left:
        app.out.print("Run apply again to finish: what is done is not done twice.")


def apply_adoption(app: App, plan: Plan, summary: dict[str, Any], *, dry_run: bool) -> int:
    """``apply`` of an adopting offering: show the plan; unless ``dry_run`` or problems, record it."""
    if not app.json:
        show_adoption(app, plan)
    if plan.problems or dry_run:
        app.emit({**plan.to_dict(), "adopted": True, "applied": False, "dry_run": dry_run}, lambda: None)
        if plan.problems:
            app.info("[red]Not applied:[/] fix the problems above first.")
        return 1 if plan.problems else 0
    from ..store.locks import offering_lock

    with offering_lock(app.store(), plan.offering_id):
        record_adoption(app, plan, summary)
    keys = [str(c["key"]) for c in summary["courses"]]
    app.emit({**plan.to_dict(), "adopted": True, "applied": True, "courses": keys},
             lambda: app.out.print(f"Recorded {plan.offering_id} with {len(keys)} adopted course(s); nothing was "
                                   f"written to Moodle. Pull them: moodle-sync pull {plan.offering_id}",
                                   highlight=False))
    return 0


COMMANDS = [plan_cmd, apply_cmd]
