"""``moodle-sync pull`` (cron-safe) and ``moodle-sync schedule`` (crontab and systemd units)."""

from __future__ import annotations

import logging
import shlex
import shutil
import sys
from pathlib import Path

import click
from rich.markup import escape

from ..config import default_data_dir
from ..evidence.pull import pull_offerings
from ..files import private_file
from ..store.locks import pull_lock
from .app import App, pass_app
from .common import output_options


@click.command("pull")
@click.argument("offerings", nargs=-1, metavar="[OFFERING_ID]...")
@click.option("--full", is_flag=True, help="Re-read every enrolment (default: incremental).")
@click.option("--report-id", type=int, metavar="ID",
              help="Read completion from this custom report (report builder) instead of per-enrolment calls "
                   "(default: the completion_report_id setting).")
@click.option("--stale-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="Incremental pulls re-read an incomplete enrolment at least this often.")
@click.option("--grades", type=click.Choice(["always", "on-activity"]),
              help="Read every course's grades each pull (always), or only a course someone accessed since the "
                   "last pull (on-activity; default: the pull_grades setting, always).")
@click.option("--dry-run", is_flag=True, help="Read Moodle and say what changed; save nothing.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Append a log of the run to this file (default: pull.log in the data dir).")
@output_options
@pass_app
def pull_cmd(app: App, offerings: tuple[str, ...], full: bool, report_id: int | None, stale_hours: float,
             grades: str | None, dry_run: bool, log_file: Path | None) -> int:
    """Pull completion, grades and access for OFFERING_IDs (default: every offering in the store).

    Safe under cron: a lock stops two pulls from overlapping (exit 75 when one is already running).
    Participants are the users enrolled with the student_role_id setting's role.
    Exit 0 all read; 1 some courses or enrolments could not be read (their last state is kept); 130
    interrupted and 3 crashed (the run is recorded interrupted / failed, and the next incremental pull
    reads everything since the last run that ended ok).
    """
    data_dir = default_data_dir()
    log_path = log_file or data_dir / "pull.log"
    private_file(log_path)
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("moodle_sync").addHandler(handler)
    logging.getLogger("moodle_sync").setLevel(logging.INFO)
    try:
        store = app.store()
        ids = list(offerings) or [o.offering_id for o in store.offerings()]
        if not ids:
            app.info("No offerings in the store yet: apply one first.")
            app.emit({"offerings": [], "status": "ok", "enrolments": 0}, lambda: None)
            return 0
        with pull_lock(store):   # one pull per store, whoever and wherever runs it
            total = sum(len(store.current(o)) for o in ids) or None
            with app.progress("Pulling", total) as advance:
                outcome = pull_offerings(app.moodle(), store, ids, full=full,
                                         report_id=report_id or app.settings.completion_report_id,
                                         stale_after=int(stale_hours * 3600), progress=advance,
                                         dry_run=dry_run, grades=grades or app.settings.pull_grades,
                                         student_role_id=app.settings.student_role_id)
        logging.getLogger("moodle_sync.pull").info(
            "run %s %s: %s, %d enrolments, %d re-read, %d changed, %d calls, %.1fs", outcome.run_id,
            outcome.mode, outcome.status, outcome.enrolments, outcome.reread, outcome.changed, outcome.calls,
            outcome.seconds)

        def human() -> None:
            app.out.print(("Dry run: would pull" if dry_run else f"Pull {outcome.run_id}") + f" ({outcome.mode}) of {', '.join(ids)}: {outcome.status}. "
                          f"{outcome.enrolments} enrolments, {outcome.reread} re-read, {outcome.changed} changed, "
                          f"{outcome.calls} calls in {outcome.seconds:.1f}s.")
            for e in outcome.errors[:20]:
                app.out.print(f"  [yellow]not read:[/] {escape(e)}")

        app.emit({"offerings": ids, **outcome.to_dict()}, human)
        return 0 if outcome.status == "ok" else 1
    finally:
        logging.getLogger("moodle_sync").removeHandler(handler)
        handler.close()


@click.command("schedule")
@click.option("--every", "minutes", type=int, default=60, show_default=True, help="Minutes between pulls.")
@click.option("--profile-name", "profile", default=None, help="Profile the scheduled pull uses.")
@click.option("--followup", "followups", multiple=True, metavar="OFFERING",
              help="Also a weekly line (Monday 07:00) sending this offering file's follow-up packs to its "
                   "facilitators as Moodle messages (repeatable).")
@output_options
@pass_app
def schedule_cmd(app: App, minutes: int, profile: str | None, followups: tuple[str, ...] = ()) -> int:
    """Print a crontab line and systemd service/timer units for scheduled pulls.

    The token is not in them: give it to the service through the OS keyring, a token_command, or an
    EnvironmentFile readable only by the service user.
    """
    if minutes < 5:
        raise click.UsageError("--every must be at least 5 minutes")
    exe = shutil.which("moodle-sync") or f"{sys.executable} -m moodle_sync"
    prof = f" --profile {profile}" if profile else ""
    command = f"{exe}{prof} pull --quiet"
    cron_spec = f"*/{minutes} * * * *" if minutes < 60 else f"0 */{max(1, minutes // 60)} * * *"
    crontab = f"{cron_spec} {command}  # moodle-sync: completion pull\n"
    crontab += "".join(f"0 7 * * 1 {exe}{prof} followup {shlex.quote(str(Path(f).resolve()))} --send moodle --quiet"
                       "  # moodle-sync: weekly follow-up\n" for f in followups)
    service = (
        "[Unit]\nDescription=moodle-sync completion pull\nWants=network-online.target\n"
        "After=network-online.target\n\n[Service]\nType=oneshot\n"
        "# Put MOODLE_URL and MOODLE_TOKEN in this file, mode 600, owned by the service user:\n"
        "EnvironmentFile=-%h/.config/moodle-sync/env\n"
        f"ExecStart={command}\n"
        "# exit 75: another pull was still running; not a failure\nSuccessExitStatus=75\n")
    timer = (
        "[Unit]\nDescription=Run moodle-sync completion pull regularly\n\n"
        f"[Timer]\nOnBootSec=5min\nOnUnitActiveSec={minutes}min\nPersistent=true\n\n"
        "[Install]\nWantedBy=timers.target\n")

    def human() -> None:
        click.echo("# crontab -e, then add:")
        click.echo(crontab)
        click.echo("# or systemd (user units): ~/.config/systemd/user/moodle-sync-pull.service")
        click.echo(service)
        click.echo("# ~/.config/systemd/user/moodle-sync-pull.timer")
        click.echo(timer)
        click.echo("# then: systemctl --user daemon-reload && systemctl --user enable --now moodle-sync-pull.timer")

    app.emit({"crontab": crontab, "systemd_service": service, "systemd_timer": timer}, human)
    return 0


COMMANDS = [pull_cmd, schedule_cmd]
