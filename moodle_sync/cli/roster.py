"""``moodle-sync select``, ``enrol`` and ``withdraw``: from registrations to enrolled participants."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from ..enrolment import EnrolResult, enrol_participants
from ..exceptions import InputError
from ..files import private_dir
from ..participants.eligibility import ApplicantRules, unmatched_rules
from ..participants.model import Applicant, ImportResult
from ..participants.selection import OTHER_PROGRAMME, Placement, Selection
from ..provision.spec import OfferingSpec, offering_summary
from ..roster import (
    RosterResult,
    Withdrawal,
    build_roster,
    choice_names,
    model_school_classes,
    moodle_history,
    plan_withdrawal,
    store_results,
    withdraw,
)
from ..store.records import ParticipantRecord
from .app import App, pass_app, table
from .common import confirm_writes, offering_argument, output_options, render, templates_option, yes_option

if TYPE_CHECKING:
    from ..templates.model import Template


@click.command("select")
@offering_argument
@click.option("--applicants", "applicant_files", multiple=True, required=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Registration export (CSV/XLSX); repeat for several.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML mapping of fields to the export's headers.")
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the announcement lists (default: ./<offering id>-seleksi).")
@click.option("--explain", "explain_email", metavar="EMAIL", help="Only say why this person got their result.")
@click.option("--waitlist", "waitlist_size", type=int, help="How many go on the waitlist (default: everyone).")
@click.option("--moodle-history/--no-moodle-history", "moodle_history_on", default=True,
              help="Also check Moodle's enrolments in earlier offerings (needs the site).")
@click.option("--force", is_flag=True, help="Select again although participants are already enrolled.")
@click.option("--dry-run", is_flag=True, help="Show the result; save and write nothing.")
@templates_option
@output_options
@pass_app
def select_cmd(app: App, offering_file: Path, applicant_files: tuple[Path, ...], mapping: Path | None,
               output_dir: Path | None, explain_email: str | None, waitlist_size: int | None,
               moodle_history_on: bool, force: bool, dry_run: bool, templates: tuple[str, ...]) -> int:
    """Fill OFFERING's seats from registrations: never-trained first, fair over regencies, earlier first.

    Saves selected / waitlist / not selected in the store and writes the announcement lists (XLSX + CSV).
    """
    from ..participants.importer import import_registrations

    if not dry_run and not explain_email:
        hold_offering(app, offering_file)
    spec = render(app, offering_file, templates)
    imported = import_registrations(list(applicant_files), mapping=mapping)
    history = _training_history(app, spec, imported.accepted, moodle_history_on)
    rules, template = _applicant_rules(app, offering_file, templates)
    roster = build_roster(spec, list(imported.accepted), previously_trained=history, waitlist_size=waitlist_size,
                          render=lambda counts: render(app, offering_file, templates, counts),
                          rules=rules, choice=choice_names(spec, rules, template.title, template.aliases))
    if explain_email:
        return _explain(app, roster.selection, imported, explain_email)
    if not force and not dry_run:
        _refuse_reshuffle(app, roster.offering.offering_id)
    files = {} if dry_run else _save_selection(app, roster, output_dir)
    doc = _selection_document(roster, imported, rules, files, dry_run)
    app.emit(doc, lambda: _show_selection(app, roster, imported, doc))
    return 0


def _training_history(app: App, spec: OfferingSpec, applicants: Sequence[Applicant],
                      moodle_history_on: bool) -> dict[str, str]:
    """E-mail or NUPTK -> evidence of an earlier training: the store's other offerings, and (with
    ``moodle_history_on`` and a site configured) Moodle's enrolments in their courses."""
    store = app.store()
    history: dict[str, str] = store.training_history([a.email for a in applicants],
                                                     [a.nuptk for a in applicants if a.nuptk],
                                                     exclude_offering=spec.offering_id)
    if moodle_history_on and app.settings.url:
        for email, evidence in moodle_history(app.moodle(), store, spec.offering_id, applicants).items():
            history.setdefault(email, evidence)
    return history


def _explain(app: App, selection: Selection, imported: ImportResult, email: str) -> int:
    """``select --explain EMAIL``: why this person got their result, or why their rows are no applicant.
    Raises :class:`InputError` when no applicant and no row has the address."""
    from ..participants.explain import explain, explain_import

    try:
        text = explain(selection, email)
    except InputError:
        rows = explain_import(imported, email)
        if rows is None:
            raise
        text = rows
    app.emit({"email": email, "explanation": text}, lambda: app.out.print(text))
    return 0


def _refuse_reshuffle(app: App, offering_id: str) -> None:
    """Raises :class:`InputError` when some participants of the offering are enrolled already."""
    enrolled = app.store().participants(offering_id, status="enrolled")
    if enrolled:
        raise InputError(f"{len(enrolled)} participants of {offering_id} are already enrolled: selecting again "
                         "would reshuffle them. Use 'moodle-sync withdraw' to change the roster, or --force.")


def _save_selection(app: App, roster: RosterResult, output_dir: Path | None) -> dict[str, str]:
    """Save the roster in the store and write the announcement lists; returns the files written by kind."""
    from ..participants.announce import write_announcement_csv, write_announcement_xlsx

    spec, store = roster.offering, app.store()
    store.save_offering(spec.offering_id, spec.template, spec.title, offering_summary(spec))
    store.save_participants(spec.offering_id, roster.records)
    out = private_dir(output_dir or Path(f"{spec.offering_id}-seleksi"))
    files = {"xlsx": str(write_announcement_xlsx(roster.selection, out / "pengumuman.xlsx", classes=roster.classes))}
    files.update({k: str(v) for k, v in write_announcement_csv(roster.selection, out, classes=roster.classes).items()})
    return files


def _selection_document(roster: RosterResult, imported: ImportResult, rules: ApplicantRules,
                        files: Mapping[str, str], dry_run: bool) -> dict[str, Any]:
    """The ``select --json`` document (see :func:`buckets` for its per-applicant lists)."""
    selection = roster.selection
    warnings = unmatched_rules([p.applicant for p in selection.placements if p.status != OTHER_PROGRAMME],
                               rules.eligible)
    return {"offering": roster.offering.offering_id, "counts": {**imported.counts, **selection.counts()},
            "files": dict(files), "dry_run": dry_run, **buckets(selection),
            "rejected": [r.to_dict() for r in imported.rejected],
            "superseded": [s.to_dict() for s in imported.superseded], "warnings": warnings,
            "model_schools": model_school_classes(roster, rules), "selection": selection.to_dict()}


def _show_selection(app: App, roster: RosterResult, imported: ImportResult, doc: Mapping[str, Any]) -> None:
    """The selection for people: per regency, model schools, warnings, what was left out, files written."""
    counts = doc["counts"]
    by_regency: dict[str, list[int]] = {}
    for r in roster.records:
        row = by_regency.setdefault(r.regency or "?", [0, 0, 0])
        row[0] += 1
        row[1] += r.status == "selected"
        row[2] += r.status == "waitlist"
    app.out.print(table(f"Selection for {doc['offering']}: {counts['selected']} of {counts['seats']} seats",
                        ["regency", "applicants", "selected", "waitlist"],
                        [[k, *v] for k, v in sorted(by_regency.items())]))
    for m in doc["model_schools"]:
        app.out.print(f"Model school {escape(m['name'] or m['npsn'])}: {m['selected']} of {m['seats']} reserved "
                      f"seats, {m['class'] or 'no class'}" + (f" ({m['course']})" if m["course"] else "")
                      + (f", facilitator {escape(m['facilitator'])}" if m["facilitator"] else ""))
    for w in doc["warnings"]:
        app.out.print(f"[yellow]warning:[/] {escape(w)}")
    if counts["not_eligible"] or counts["other_programme"]:
        app.out.print(f"Not eligible: {counts['not_eligible']}; chose another programme: "
                      f"{counts['other_programme']} (see --json or --explain EMAIL).")
    app.out.print(f"Rows {imported.rows}: {len(imported.accepted)} accepted, {len(imported.superseded)} "
                  f"superseded, {len(imported.rejected)} rejected (see 'participants check').")
    conflicts = [(p.email, p.conflict) for p in roster.selection.placements if p.conflict]
    for email, conflict in conflicts[:10]:
        app.out.print(f"[yellow]conflict:[/] {escape(email)}: {escape(conflict)}")
    for path in doc["files"].values():
        app.out.print(f"Wrote {path}")


def buckets(selection: Selection) -> dict[str, list[dict[str, object]]]:
    """The JSON contract of ``select --json``: every accepted applicant in exactly one of ``selected``,
    ``waitlisted``, ``not_selected``, ``not_eligible``, ``other_programme`` (``withdrawn`` ones, which only
    promotions make, are under ``not_selected``), each entry with at least ``email``, ``regency``, ``reason``
    and the ``file`` and ``row`` the applicant's registration came from. (The rows that are no applicant
    are in the document's ``rejected`` and ``superseded`` lists.)"""
    def entry(p: Placement) -> dict[str, object]:
        return {"email": p.email, "regency": p.applicant.regency, "reason": p.reason, "cause": p.cause,
                "rank": p.rank, "npsn": p.applicant.npsn, "choice": p.choice, "file": p.applicant.file,
                "row": p.applicant.row}
    return {"selected": [entry(p) for p in selection.selected],
            "waitlisted": [entry(p) for p in selection.waitlist],
            "not_selected": [entry(p) for p in selection.not_selected + selection.withdrawn],
            "not_eligible": [entry(p) for p in selection.not_eligible],
            "other_programme": [entry(p) for p in selection.other_programme]}


def _applicant_rules(app: App, offering_file: Path, templates: tuple[str, ...]) -> tuple[ApplicantRules, Template]:
    """The offering's applicant rules (choice, eligible, model schools, quotas) and its template (whose
    title and aliases are the default choice answers)."""
    from ..offerings import load_offering
    from ..templates import load_template, template_dirs

    offering = load_offering(offering_file)
    dirs = template_dirs(templates, app.settings.templates_dir)
    return offering.applicants, load_template(offering.template, dirs, where=offering.template_where)


def _records_from_file(spec: OfferingSpec, path: Path, rerender: Callable[[Mapping[str, int]], OfferingSpec]
                       ) -> tuple[list[ParticipantRecord], dict[str, int], OfferingSpec]:
    """Participants given directly (no selection): everyone accepted goes to their course, in classes.

    Those the offering has no course for come back without a course (enrolment reports them as failed,
    with the reason); the import's counts say how many rows were superseded or rejected. Returns the
    records, those counts and the desired state with the classes they need.
    """
    from ..participants.importer import import_registrations

    imported = import_registrations(path)
    accepted = list(imported.accepted)

    def everyone(offering: OfferingSpec) -> OfferingSpec:   # a seat for each, no regency minimum
        return replace(offering, seats=len(accepted), min_per_regency=0)

    roster = build_roster(everyone(spec), accepted, previously_trained={},
                          render=lambda counts: everyone(rerender(counts)))
    return roster.records, dict(imported.counts), replace(roster.offering, seats=spec.seats,
                                                          min_per_regency=spec.min_per_regency)


def hold_offering(app: App, offering_file: Path) -> None:
    """Hold the offering's one-writer lock until the command ends (before reading the store's roster).

    Raises :class:`~moodle_sync.store.locks.BusyError` (exit 75) while another select, enrol, withdraw
    or apply of the same offering runs, from any host.
    """
    from ..offerings import load_offering
    from ..store.locks import offering_lock

    click.get_current_context().with_resource(offering_lock(app.store(), load_offering(offering_file).id))


def ask(app: App, preview: Sequence[str], question: str, yes: bool) -> None:
    """Show what will be written (on stderr, unless ``--yes`` or ``--json``), then ask ``question`` by the
    one rule for commands that write to Moodle (:func:`~moodle_sync.cli.common.confirm_writes`)."""
    if not yes and not app.json:
        for line in preview:
            app.err.print(line)
    confirm_writes(app, question, yes)


@click.command("enrol")
@offering_argument
@click.option("--participants", "participants_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Enrol everyone in this export instead of the stored selection.")
@click.option("--dry-run", is_flag=True, help="Only read Moodle and say what would be done (never asks).")
@yes_option
@templates_option
@output_options
@pass_app
def enrol_cmd(app: App, offering_file: Path, participants_file: Path | None, dry_run: bool, yes: bool,
              templates: tuple[str, ...]) -> int:
    """Create or match Moodle users for the selected participants, enrol them, add them to their class.

    Shows who will be enrolled and asks first (--yes: do not ask; needed off a terminal and with --json).
    Reruns are safe: nobody is created or enrolled twice. Exit 1 when some could not be enrolled (each is
    listed with Moodle's reason); everyone else is enrolled.
    """
    if not dry_run:
        hold_offering(app, offering_file)
    spec = render(app, offering_file, templates)
    store = app.store()
    if participants_file:
        people, spec = _people_from_file(app, spec, participants_file,
                                         lambda counts: render(app, offering_file, templates, counts))
    else:
        people = [p for status in ("selected", "enrolled", "failed")
                  for p in store.participants(spec.offering_id, status=status)]
    if not people:
        raise InputError(f"no selected participants for {spec.offering_id}: run 'moodle-sync select' first, "
                         "or give --participants FILE")
    if not dry_run:
        ask(app, _enrol_preview(app, spec, people), f"Enrol {len(people)} participant(s) in "
            f"{app.settings.require_url()}?", yes)
        if participants_file:
            store.save_offering(spec.offering_id, spec.template, spec.title, offering_summary(spec))
            store.save_participants(spec.offering_id, people)
    with app.progress("Enrolling", len(people) * 3) as advance:
        result = enrol_participants(app.moodle(), spec, people, auth=app.settings.new_user_auth,
                                    student_role_id=app.settings.student_role_id, dry_run=dry_run,
                                    progress=advance, on_result=store_results(store, spec.offering_id),
                                    write_log=store)
    app.emit({"offering": spec.offering_id, "participants": len(people), **result.to_dict()},
             lambda: _show_enrolment(app, len(people), result))
    return 0 if not result.failed else 1


def _people_from_file(app: App, spec: OfferingSpec, path: Path,
                      rerender: Callable[[Mapping[str, int]], OfferingSpec]
                      ) -> tuple[list[ParticipantRecord], OfferingSpec]:
    """``enrol --participants FILE``: the records of everyone in the file and the desired state with the
    classes they need (see :func:`_records_from_file`); says how many rows the import rejected."""
    people, imported, spec = _records_from_file(spec, path, rerender)
    if imported.get("rejected"):
        app.info(f"{imported['rejected']} row(s) of {path} rejected on import: see "
                 "'moodle-sync participants check'")
    return people, spec


def _enrol_preview(app: App, spec: OfferingSpec, people: Sequence[ParticipantRecord]) -> list[str]:
    """What ``enrol`` will write, for the question: participants per course and class, and what happens to
    users Moodle does not have yet."""
    per_course: dict[str, tuple[int, set[str]]] = {}
    for p in people:
        n, classes = per_course.get(p.course_key or "(no course)", (0, set()))
        per_course[p.course_key or "(no course)"] = (n + 1, classes | ({p.class_name} if p.class_name else set()))
    done = sum(p.status == "enrolled" for p in people)
    mailed = " (Moodle mails each a password)" if app.settings.new_user_auth == "manual" else ""
    return [f"Enrol {len(people)} participant(s) of {spec.offering_id}"
            + (f", {done} of them enrolled already by the store's record" if done else "") + ":",
            *(f"  {key}: {n} participant(s) in {len(classes)} class(es)" for key, (n, classes) in
              sorted(per_course.items())),
            (f"Users Moodle does not have are created{mailed}, enrolled as students and put in their class "
             "(--dry-run counts exactly what would be done).")]


def _show_enrolment(app: App, people: int, result: EnrolResult) -> None:
    """An enrolment's counts for people, and every participant not enrolled with the reason."""
    verb = "would be" if result.dry_run else "were"
    app.out.print(f"{people} participants: {result.matched} matched existing users, {result.created} "
                  f"users {verb} created, {result.enrolled} enrolments {verb} made ({result.already_enrolled} "
                  f"already enrolled), {result.grouped} class memberships, {result.groups_created} new classes.")
    for email, reason in result.failed:   # every one: each needs someone to act
        app.out.print(f"  [red]not enrolled:[/] {escape(email)}: {escape(reason)}")


@click.command("withdraw")
@offering_argument
@click.argument("email")
@click.option("--unenrol", is_flag=True, help="Remove the enrolment (default: suspend it, keeping their work).")
@click.option("--no-promote", is_flag=True, help="Do not give the seat to the next person on the waitlist.")
@click.option("--dry-run", is_flag=True, help="Say what would happen; change nothing (never asks).")
@yes_option
@templates_option
@output_options
@pass_app
def withdraw_cmd(app: App, offering_file: Path, email: str, unenrol: bool, no_promote: bool, dry_run: bool,
                 yes: bool, templates: tuple[str, ...]) -> int:
    """Withdraw EMAIL from OFFERING (suspend or unenrol) and promote the next person on the waitlist.

    The freed seat goes to the first on the waitlist of the same regency, else to the first overall (never
    trained before trained); the promoted person is enrolled at once, in the class of the person who left.
    Shows what will be done and asks first (--yes: do not ask; needed off a terminal and with --json).
    """
    if not dry_run:
        hold_offering(app, offering_file)
    spec = render(app, offering_file, templates)
    store = app.store()
    plan = plan_withdrawal(spec, store.participants(spec.offering_id), email, unenrol=unenrol,
                           promote=not no_promote)
    result = None
    if not dry_run:
        ask(app, _withdrawal_preview(plan), f"Withdraw {plan.person.email} in {app.settings.require_url()}?", yes)
        result = withdraw(app.moodle(), store, spec, plan, student_role_id=app.settings.student_role_id,
                          auth=app.settings.new_user_auth)
    promoted = plan.promoted
    doc = {"offering": spec.offering_id, "withdrawn": plan.person.email, "action": plan.action,
           "promoted": promoted.email if promoted else None, "dry_run": dry_run,
           "promoted_enrolment": result.to_dict() if result else None}

    def human() -> None:
        app.out.print(f"{escape(plan.person.email)}: {plan.action}" + (" (dry run)" if dry_run else ""))
        for line in _seat_lines(plan):
            app.out.print(line)

    app.emit(doc, human)
    return 0 if result is None or not result.failed else 1


def _withdrawal_preview(plan: Withdrawal) -> list[str]:
    """What a withdrawal will do, for the question: the enrolment, then who gets the seat."""
    person = plan.person
    what = (f"{'remove' if plan.unenrol else 'suspend'} their enrolment in {person.course_key}"
            if person.status == "enrolled" else "mark them withdrawn (not enrolled in Moodle)")
    return [f"Withdraw {escape(person.email)} ({person.status}): {what}.", *_seat_lines(plan)]


def _seat_lines(plan: Withdrawal) -> list[str]:
    """Who gets the seat a withdrawal frees, for people (nothing when no seat is freed)."""
    seat = plan.promoted
    if seat is not None:
        where = "same regency" if plan.same_regency else "overall waitlist"
        return [f"Seat given to {escape(seat.fullname)} <{escape(seat.email)}> (waitlist #{seat.rank}, {where}), "
                f"enrolled in {seat.course_key}" + (f", class {escape(seat.class_name)}." if seat.class_name else ".")]
    if not plan.freed:
        return []
    return ["The waitlist is empty: the seat stays free." if plan.promote else "The seat stays free (--no-promote)."]


COMMANDS = [select_cmd, enrol_cmd, withdraw_cmd]
