"""``moodle-sync followup OFFERING``: per facilitator, who in their classes to contact and why (XLSX and
HTML files, 0600), and with ``--send moodle`` the list as a Moodle message, once a day."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from ..exceptions import MoodleSyncError, WriteOutcomeUnknownError
from ..reports.aggregate import day_of
from ..reports.followup import (
    STATUSES,
    Facilitator,
    FollowupPack,
    build_followup,
    facilitator_message,
    message_digest,
    pack_document,
)
from ..reports.followup_files import write_packs
from ..reports.source import course_ends, course_names
from ..store.messages import MessageRecord
from .app import App, pass_app, table
from .common import (
    confirm_writes,
    offering_argument,
    offering_id_of,
    output_options,
    render,
    templates_option,
    yes_option,
)
from .report import current_snapshots, no_evidence


def _recipients(pack: FollowupPack) -> list[tuple[Facilitator, str, int]]:
    """Each facilitator with their message and how many people it lists."""
    out = []
    for facilitator, classes in pack.by_facilitator().items():
        if facilitator is not None:
            out.append((facilitator, facilitator_message(pack, facilitator, classes),
                        sum(len(c.people) for c in classes)))
    return out


def _settle_lost(moodle: Any, store: Any, record: MessageRecord) -> str:
    """Settle a message whose answer was lost by reading what the token user sent its recipient: ``ok``
    (with Moodle's id) when a message with the same text is there, ``failed`` when none is (it never
    arrived: it may be sent now). ``unknown`` (left as it is, not to be sent) while another run may still
    be sending it (no loss recorded yet), when Moodle cannot be read, or when another run settled it first."""
    if record.detail is None:
        return "unknown"
    try:
        me = moodle.site_info().userid
        sent = moodle.messages_sent(me, record.moodle_user_id or 0)
    except MoodleSyncError:
        return "unknown"
    found = next((m for m in sent if message_digest(m.text) == record.digest), None)
    outcome = "ok" if found is not None else "failed"
    if not store.settle_message(record.id, outcome, msgid=found.id if found else None, expect="unknown",
                                detail="answer lost; " + ("found in Moodle" if found else "not in Moodle")):
        return "unknown"
    return outcome


Sending = dict[str, list[dict[str, Any]]]


def _send(app: App, pack: FollowupPack, dry_run: bool) -> Sending:
    """Send every facilitator's message once today; returns what was sent, skipped, failed or is unknown."""
    result: Sending = {"sent": [], "skipped": [], "failed": [], "unknown": []}
    recipients = _recipients(pack)
    if not recipients:
        return result
    moodle, store, day = app.moodle(), app.store(), day_of(pack.generated_at)
    ids = {u.email.lower(): u.id for u in moodle.users_by_field("email", [f.email for f, _, _ in recipients])}
    today = {m.recipient: m for m in store.messages(pack.offering_id, day)}
    for facilitator, text, people in recipients:
        entry = {"email": facilitator.email, "name": facilitator.name, "participants": people}
        userid = ids.get(facilitator.email)
        if userid is None:
            result["failed"].append({**entry, "error": "no Moodle user with this e-mail"})
            continue
        record = today.get(facilitator.email)
        if dry_run:
            result["sent" if record is None or record.outcome == "failed" else "skipped"].append({**entry, "text": text})
            continue
        outcome, detail = _send_once(moodle, store, pack.offering_id, day, (facilitator.email, userid, text), record)
        result[outcome].append({**entry, **detail})
    return result


def _send_once(moodle: Any, store: Any, offering_id: str, day: str, message: tuple[str, int, str],
               record: MessageRecord | None) -> tuple[str, dict[str, Any]]:
    """Send one facilitator's message (``(e-mail, Moodle user id, text)``) unless today's is sent or may be:
    a lost answer of today's is settled first by reading Moodle. Returns the outcome (``sent``, ``skipped``,
    ``failed``, ``unknown``) and what to say about it (``msgid``, ``why`` or ``error``)."""
    email, userid, text = message
    settled = _settle_lost(moodle, store, record) if record is not None and record.outcome == "unknown" else None
    if settled == "ok":
        return "skipped", {"why": f"sent on {day}: its answer was lost, Moodle has it"}
    if settled == "unknown":
        return "skipped", {"why": f"maybe sent on {day} (its answer was lost or is awaited; Moodle's messages "
                                  "could not settle it)"}
    reserved = store.reserve_message(offering_id, day, email, userid, message_digest(text))
    if reserved is None:
        return "skipped", {"why": f"already sent (or maybe sent) on {day}"}
    try:
        answer = moodle.send_message(userid, text, f"followup{reserved.id}")
    except WriteOutcomeUnknownError as exc:
        store.settle_message(reserved.id, "unknown", detail=str(exc))
        return "unknown", {"error": str(exc)}
    except MoodleSyncError as exc:
        store.settle_message(reserved.id, "failed", detail=str(exc))
        return "failed", {"error": str(exc)}
    store.settle_message(reserved.id, "ok" if answer.sent else "failed", msgid=answer.msgid, detail=answer.error)
    return ("sent", {"msgid": answer.msgid}) if answer.sent else ("failed", {"error": answer.error})


def _human(app: App, pack: FollowupPack, written: list[Path], sending: Sending | None, dry_run: bool) -> None:
    """The pack per class for people, the files written, and what was (or would be) sent."""
    rows = [[escape(c.label), escape(", ".join(f.name for f in c.facilitators) or "—"),
             *[str(sum(1 for p in c.people if p.status == s)) for s in STATUSES]] for c in pack.classes]
    if rows:
        app.out.print(table(f"Follow-up of {pack.offering_id} (stalled: {pack.stalled_days} days without access)",
                            ["class", "facilitator", *STATUSES], rows))
    else:
        app.out.print(f"Nobody to follow up in {pack.offering_id}.")
    for path in written:
        app.out.print(f"Wrote {escape(str(path))}", highlight=False)
    if sending is not None:
        _print_sending(app, sending, dry_run)


def _print_sending(app: App, sending: Sending, dry_run: bool) -> None:
    verb = "would send" if dry_run else "sent"
    for e in sending["sent"]:
        app.out.print(f"{verb}: {escape(e['name'])} <{e['email']}> ({e['participants']} participants)")
        if dry_run:
            app.out.print(escape(e["text"]), highlight=False)
    for e in sending["skipped"]:
        why = f" ({escape(e['why'])})" if e.get("why") else ""
        app.out.print(f"[dim]not sent again today:[/] {escape(e['name'])} <{e['email']}>{why}")
    for e in sending["failed"]:
        app.out.print(f"[red]not sent:[/] {escape(e['name'])} <{e['email']}>: {escape(e['error'] or '')}")
    for e in sending["unknown"]:
        app.out.print(f"[yellow]answer lost (not re-sent; check the facilitator's Moodle messages):[/] "
                      f"{escape(e['name'])} <{e['email']}>")


def _pack(app: App, offering_file: Path, templates: tuple[str, ...], stalled_days: int) -> FollowupPack | None:
    """The offering's follow-up pack from the store's evidence; None when the store has none of it."""
    from ..offerings import load_offering, pass_rule

    offering = load_offering(offering_file)
    spec = render(app, offering_file, templates, offline=True)
    rule = pass_rule(spec.variables, offering.file or str(offering_file))
    snapshots = current_snapshots(app, spec.offering_id)
    if not snapshots:
        return None
    store = app.store(offline=True)
    saved = store.get_offering(spec.offering_id)
    return build_followup(spec, snapshots, store.participants(spec.offering_id), rule=rule, now=int(time.time()),
                          stalled_days=stalled_days, course_names=course_names(saved.data) if saved else None,
                          course_ends=course_ends(saved.data) if saved else None)


@click.command("followup")
@offering_argument
@templates_option
@click.option("--stalled-days", type=click.IntRange(min=1), default=14, show_default=True,
              help="A started, unfinished participant without course access for this many days is stalled.")
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the facilitators' XLSX and HTML files (default: ./OFFERING-followup).")
@click.option("--send", type=click.Choice(["moodle"]),
              help="Also send each facilitator their list as a Moodle message (once a day; asks first unless --yes).")
@yes_option
@click.option("--dry-run", is_flag=True, help="Show who would get what; write no file, send nothing.")
@output_options
@pass_app
def followup(app: App, offering_file: Path, templates: tuple[str, ...], stalled_days: int,
             output_dir: Path | None, send: str | None, yes: bool, dry_run: bool) -> int:
    """Per class and facilitator: participants not started, stalled, missing the pre-test or post-test, or
    below the pass mark, with school and a WhatsApp link carrying a prefilled message.

    OFFERING is the offering's YAML file, or its id once applied. Reads the store (run 'moodle-sync pull'
    first). Exit 0 done; 1 no evidence in the store, or a message could not be sent (or its answer was
    lost: it is not sent again the same day).
    """
    pack = _pack(app, offering_file, templates, stalled_days)
    if pack is None:
        return no_evidence(offering_id_of(str(offering_file)))
    if send == "moodle" and not dry_run and _recipients(pack):
        confirm_writes(app, f"Send {len(_recipients(pack))} facilitator(s) their follow-up list as a Moodle "
                            f"message on {app.settings.url}?", yes)
    written = [] if dry_run else write_packs(pack, output_dir or Path(f"{pack.offering_id}-followup"))
    sending = _send(app, pack, dry_run) if send == "moodle" else None
    document: dict[str, Any] = {**pack_document(pack), "written": [str(p) for p in written], "dry_run": dry_run}
    if sending is not None:
        document.update(sending)
    app.emit(document, lambda: _human(app, pack, written, sending, dry_run))
    return 1 if sending and (sending["failed"] or sending["unknown"]) else 0


COMMANDS = [followup]
