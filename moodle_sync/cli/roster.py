"""``moodle-sync select``, ``enrol`` and ``withdraw``: from registrations to enrolled participants."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from ..enrolment import enrol_participants
from ..exceptions import InputError
from ..files import private_dir
from ..participants.eligibility import ApplicantRules, unmatched_rules
from ..participants.selection import OTHER_PROGRAMME, Placement, Selection
from ..provision.spec import OfferingSpec, offering_summary
from ..roster import build_roster, choice_names, course_chooser, model_school_classes, moodle_history
from ..store.records import ParticipantRecord
from .app import App, pass_app, table
from .common import offering_argument, output_options, render, templates_option

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
    from ..participants.announce import write_announcement_csv, write_announcement_xlsx
    from ..participants.explain import explain, explain_import
    from ..participants.importer import import_registrations

    if not dry_run and not explain_email:
        hold_offering(app, offering_file)
    spec = render(app, offering_file, templates)
    imported = import_registrations(list(applicant_files), mapping=mapping)
    applicants = list(imported.accepted)
    store = app.store()
    history = store.training_history([a.email for a in applicants], [a.nuptk for a in applicants if a.nuptk],
                                     exclude_offering=spec.offering_id)
    if moodle_history_on and app.settings.url:
        for email, evidence in moodle_history(app.moodle(), store, spec.offering_id, applicants).items():
            history.setdefault(email, evidence)
    rules, template = _applicant_rules(app, offering_file, templates)
    roster = build_roster(spec, applicants, previously_trained=history, waitlist_size=waitlist_size,
                          render=lambda counts: render(app, offering_file, templates, counts),
                          rules=rules, choice=choice_names(spec, rules, template.title, template.aliases))
    spec = roster.offering   # with as many classes as the selection needs, named by the template
    if explain_email:
        try:
            text = explain(roster.selection, explain_email)
        except InputError:
            text = explain_import(imported, explain_email)
            if text is None:
                raise
        app.emit({"email": explain_email, "explanation": text}, lambda: app.out.print(text))
        return 0
    enrolled = store.participants(spec.offering_id, status="enrolled")
    if enrolled and not force and not dry_run:
        raise InputError(f"{len(enrolled)} participants of {spec.offering_id} are already enrolled: selecting again "
                         "would reshuffle them. Use 'moodle-sync withdraw' to change the roster, or --force.")
    files: dict[str, str] = {}
    if not dry_run:
        store.save_offering(spec.offering_id, spec.template, spec.title, offering_summary(spec))
        store.save_participants(spec.offering_id, roster.records)
        out = output_dir or Path(f"{spec.offering_id}-seleksi")
        private_dir(out)
        files["xlsx"] = str(write_announcement_xlsx(roster.selection, out / "pengumuman.xlsx", classes=roster.classes))
        files.update({k: str(v) for k, v in write_announcement_csv(roster.selection, out,
                                                                     classes=roster.classes).items()})
    counts = {**imported.counts, **roster.selection.counts()}
    model = model_school_classes(roster, rules)
    warnings = unmatched_rules([p.applicant for p in roster.selection.placements if p.status != OTHER_PROGRAMME],
                               rules.eligible)

    def human() -> None:
        by_regency: dict[str, list[int]] = {}
        for r in roster.records:
            row = by_regency.setdefault(r.regency or "?", [0, 0, 0])
            row[0] += 1
            row[1] += r.status == "selected"
            row[2] += r.status == "waitlist"
        app.out.print(table(f"Selection for {spec.offering_id}: {counts['selected']} of {counts['seats']} seats",
                            ["regency", "applicants", "selected", "waitlist"],
                            [[k, *v] for k, v in sorted(by_regency.items())]))
        for m in model:
            app.out.print(f"Model school {escape(m['name'] or m['npsn'])}: {m['selected']} of {m['seats']} reserved "
                          f"seats, {m['class'] or 'no class'}" + (f" ({m['course']})" if m["course"] else "")
                          + (f", facilitator {escape(m['facilitator'])}" if m["facilitator"] else ""))
        for w in warnings:
            app.out.print(f"[yellow]warning:[/] {escape(w)}")
        if counts["not_eligible"] or counts["other_programme"]:
            app.out.print(f"Not eligible: {counts['not_eligible']}; chose another programme: "
                          f"{counts['other_programme']} (see --json or --explain EMAIL).")
        app.out.print(f"Rows {imported.rows}: {len(imported.accepted)} accepted, {len(imported.superseded)} "
                      f"superseded, {len(imported.rejected)} rejected (see 'participants check').")
        conflicts = [p for p in roster.selection.placements if p.conflict]
        for p in conflicts[:10]:
            app.out.print(f"[yellow]conflict:[/] {escape(p.email)}: {escape(p.conflict)}")
        for kind, path in files.items():
            app.out.print(f"Wrote {path}")

    app.emit({"offering": spec.offering_id, "counts": counts, "files": files, "dry_run": dry_run,
              **buckets(roster.selection), "rejected": [r.to_dict() for r in imported.rejected],
              "superseded": [s.to_dict() for s in imported.superseded], "warnings": warnings,
              "model_schools": model, "selection": roster.selection.to_dict()}, human)
    return 0


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
    everyone = {"seats": len(accepted), "min_per_regency": 0}
    roster = build_roster(replace(spec, **everyone), accepted, previously_trained={},
                          render=lambda counts: replace(rerender(counts), **everyone))
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


@click.command("enrol")
@offering_argument
@click.option("--participants", "participants_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Enrol everyone in this export instead of the stored selection.")
@click.option("--dry-run", is_flag=True, help="Only read Moodle and say what would be done.")
@templates_option
@output_options
@pass_app
def enrol_cmd(app: App, offering_file: Path, participants_file: Path | None, dry_run: bool,
              templates: tuple[str, ...]) -> int:
    """Create or match Moodle users for the selected participants, enrol them, add them to their class.

    Reruns are safe: nobody is created or enrolled twice. Exit 1 when some could not be enrolled (each is
    listed with Moodle's reason); everyone else is enrolled.
    """
    if not dry_run:
        hold_offering(app, offering_file)
    spec = render(app, offering_file, templates)
    store = app.store()
    if participants_file:
        people, imported, spec = _records_from_file(
            spec, participants_file, lambda counts: render(app, offering_file, templates, counts))
        if imported.get("rejected"):
            app.info(f"{imported['rejected']} row(s) of {participants_file} rejected on import: see "
                     "'moodle-sync participants check'")
        if not dry_run:
            store.save_offering(spec.offering_id, spec.template, spec.title, offering_summary(spec))
            store.save_participants(spec.offering_id, people)
    else:
        people = [p for status in ("selected", "enrolled", "failed")
                  for p in store.participants(spec.offering_id, status=status)]
    if not people:
        raise InputError(f"no selected participants for {spec.offering_id}: run 'moodle-sync select' first, "
                         "or give --participants FILE")

    def record(p: ParticipantRecord, user_id: int | None, reason: str | None) -> None:
        store.update_participant(spec.offering_id, p.email, status="failed" if reason else "enrolled",
                                 moodle_user_id=user_id, reason=reason or p.reason)

    with app.progress("Enrolling", len(people) * 3) as advance:
        result = enrol_participants(app.moodle(), spec, people, auth=app.settings.new_user_auth,
                                    student_role_id=app.settings.student_role_id, dry_run=dry_run,
                                    progress=advance, on_result=record, write_log=store)

    def human() -> None:
        verb = "would be" if dry_run else "were"
        app.out.print(f"{len(people)} participants: {result.matched} matched existing users, {result.created} "
                      f"users {verb} created, {result.enrolled} enrolments {verb} made ({result.already_enrolled} "
                      f"already enrolled), {result.grouped} class memberships, {result.groups_created} new classes.")
        for email, reason in result.failed:   # every one: each needs someone to act
            app.out.print(f"  [red]not enrolled:[/] {escape(email)}: {escape(reason)}")

    app.emit({"offering": spec.offering_id, "participants": len(people), **result.to_dict()}, human)
    return 0 if not result.failed else 1


@click.command("withdraw")
@offering_argument
@click.argument("email")
@click.option("--unenrol", is_flag=True, help="Remove the enrolment (default: suspend it, keeping their work).")
@click.option("--no-promote", is_flag=True, help="Do not give the seat to the next person on the waitlist.")
@click.option("--dry-run", is_flag=True, help="Say what would happen; change nothing.")
@templates_option
@output_options
@pass_app
def withdraw_cmd(app: App, offering_file: Path, email: str, unenrol: bool, no_promote: bool, dry_run: bool,
                 templates: tuple[str, ...]) -> int:
    """Withdraw EMAIL from OFFERING (suspend or unenrol) and promote the next person on the waitlist.

    The freed seat goes to the first on the waitlist of the same regency, else to the first overall; the
    promoted person is enrolled at once, in the class of the person who left.
    """
    if not dry_run:
        hold_offering(app, offering_file)
    spec = render(app, offering_file, templates)
    store = app.store()
    email = email.strip().lower()
    people = {p.email: p for p in store.participants(spec.offering_id)}
    person = people.get(email)
    if person is None:
        raise InputError(f"{email} is not a participant of {spec.offering_id}", field="email")
    if person.status == "withdrawn":
        raise InputError(f"{email} has already withdrawn", field="email")
    promoted: ParticipantRecord | None = None
    freed = person.status in ("selected", "enrolled")
    if freed and not no_promote:
        waiting = sorted((p for p in people.values() if p.status == "waitlist"), key=lambda p: p.rank or 0)
        # The selection's rules again: never-trained before trained, then the freed seat's regency first.
        tier = [p for p in waiting if not p.trained] or waiting
        same = [p for p in tier if p.regency == person.regency]
        promoted = (same or tier or [None])[0]
    moodle = app.moodle()
    action = "unenrolled" if unenrol else "suspended"
    if not dry_run:
        if person.status == "enrolled" and person.moodle_user_id and person.course_key:
            course = moodle.courses_by_field("idnumber", spec.course(person.course_key).idnumber)
            if course:
                entry = {"userid": person.moodle_user_id, "courseid": course[0].id}
                out = moodle.unenrol([entry]) if unenrol else moodle.enrol(
                    [{**entry, "roleid": app.settings.student_role_id, "suspend": 1}])
                if out.failed:
                    raise out.failed[0][1]
        store.update_participant(spec.offering_id, email, status="withdrawn", reason=f"withdrew ({action})")
    result = None
    if promoted is not None:
        seat = replace(promoted, status="selected", class_name=person.class_name,
                       course_key=person.course_key or course_chooser(spec)(promoted.regency),
                       reason=f"promoted from the waitlist: seat of {email}")
        if not dry_run:
            store.update_participant(spec.offering_id, seat.email, status="selected", course_key=seat.course_key,
                                     class_name=seat.class_name, reason=seat.reason)
            result = enrol_participants(moodle, spec, [seat], auth=app.settings.new_user_auth,
                                        student_role_id=app.settings.student_role_id, write_log=store,
                                        on_result=lambda p, uid, why: store.update_participant(
                                            spec.offering_id, p.email, status="failed" if why else "enrolled",
                                            moodle_user_id=uid, reason=why or p.reason))
    doc = {"offering": spec.offering_id, "withdrawn": email, "action": action if person.status == "enrolled" else
           "none (not enrolled)", "promoted": promoted.email if promoted else None, "dry_run": dry_run,
           "promoted_enrolment": result.to_dict() if result else None}

    def human() -> None:
        app.out.print(f"{email}: {doc['action']}" + (" (dry run)" if dry_run else ""))
        if promoted is not None:
            where = "same regency" if promoted.regency == person.regency else "overall waitlist"
            app.out.print(f"Seat given to {promoted.fullname} <{promoted.email}> (waitlist #{promoted.rank}, {where}).")
        elif freed and not no_promote:
            app.out.print("The waitlist is empty: the seat stays free.")

    app.emit(doc, human)
    return 0 if result is None or not result.failed else 1


COMMANDS = [select_cmd, enrol_cmd, withdraw_cmd]
