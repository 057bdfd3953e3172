"""``moodle-sync pull`` (cron-safe; one site, or several into one store) and ``moodle-sync schedule``
(crontab and systemd units)."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from ..config import Settings, check_one_site_settings, config_profiles, default_data_dir, token_variable
from ..evidence.sites import DEFAULT_SITES_AT_ONCE, PullOptions, SiteJob, SitesOutcome, pull_sites
from ..exceptions import ConfigError, redact
from ..files import private_file
from .app import App, pass_app
from .common import OfferingFile, offering_id_of, output_options

log = logging.getLogger("moodle_sync.pull")


@dataclass(frozen=True)
class _Flags:
    """The pull's command-line flags; each site's settings fill what they leave open."""

    full: bool
    report_id: int | None
    stale_hours: float
    grades: str | None
    dry_run: bool

    def options(self, settings: Settings) -> PullOptions:
        return PullOptions(full=self.full, report_id=self.report_id or settings.completion_report_id,
                           stale_after=int(self.stale_hours * 3600), grades=self.grades or settings.pull_grades,
                           student_role_id=settings.student_role_id, dry_run=self.dry_run)


@click.command("pull")
@click.argument("offerings", nargs=-1, metavar="[OFFERING]...")
@click.option("--full", is_flag=True, help="Re-read every enrolment (default: incremental).")
@click.option("--report-id", type=int, metavar="ID",
              help="Read completion from this custom report (report builder) instead of per-enrolment calls "
                   "(default: the completion_report_id setting; one site only).")
@click.option("--stale-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="Incremental pulls re-read an incomplete enrolment at least this often.")
@click.option("--grades", type=click.Choice(["always", "on-activity"]),
              help="Read every course's grades each pull (always), or only a course someone accessed since the "
                   "last pull (on-activity; default: the pull_grades setting, always).")
@click.option("--dry-run", is_flag=True, help="Read Moodle and say what changed; save nothing.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Append a log of the run to this file (default: pull.log in the data dir).")
@click.option("--profile", "profiles", multiple=True, metavar="NAME",
              help="Pull this profile's site (repeatable: several sites into one store, each with its own token).")
@click.option("--all-profiles", is_flag=True, help="Pull the site of every profile in the config file.")
@click.option("--sites-at-once", type=click.IntRange(min=1), default=DEFAULT_SITES_AT_ONCE, show_default=True,
              help="With several profiles: how many sites are pulled at the same time.")
@output_options
@pass_app
def pull_cmd(app: App, offerings: tuple[str, ...], full: bool, report_id: int | None, stale_hours: float,
             grades: str | None, dry_run: bool, log_file: Path | None, profiles: tuple[str, ...],
             all_profiles: bool, sites_at_once: int) -> int:
    """Pull completion, grades and access for OFFERINGs (files or ids; default: every offering in the store).

    Safe under cron: a lock per site and store stops two pulls of one site from overlapping (that site is
    'busy', exit 75). With --profile (repeated) or --all-profiles several sites are pulled into one store,
    at once: each with its own settings and token (MOODLE_TOKEN_<NAME>, the keyring, or token_command;
    MOODLE_TOKEN and MOODLE_URL are refused then); each pulls its own offerings.
    Participants are the users enrolled with the student_role_id setting's role.
    Exit (the worst site's): 0 all read; 75 a site busy; 1 some courses or enrolments could not be read
    (their last state is kept) or a site could not be reached; 2 a site's settings; 3 a bug; 130
    interrupted (the run is recorded, and the next incremental pull reads everything since the last run
    that ended ok).
    """
    ids = [offering_id_of(o) for o in offerings]
    flags = _Flags(full, report_id, stale_hours, grades, dry_run)
    names = _profiles(app, profiles, all_profiles, flags)
    with _pull_log(log_file or default_data_dir() / "pull.log"):
        if names is None:
            outcome = _pull_one(app, ids, flags)
        else:
            outcome = _pull_several(app, names, ids, flags, sites_at_once)
        _log(outcome)
    app.emit(_document(outcome, several=names is not None), lambda: _human(app, outcome, names is not None))
    return outcome.exit_code


def _profiles(app: App, profiles: Sequence[str], all_profiles: bool, flags: _Flags) -> list[str] | None:
    """The profiles a multi-site pull pulls (None: the one site of the global settings); refuses what would
    send one site's token or report id to another."""
    if all_profiles and profiles:
        raise click.UsageError("give --profile NAME (repeatable) or --all-profiles, not both")
    if not (all_profiles or profiles):
        return None
    names = config_profiles(app.config) if all_profiles else list(dict.fromkeys(profiles))
    check_one_site_settings(names, app.overrides)
    if len(names) > 1 and flags.report_id:
        raise click.UsageError("--report-id names one site's report: with several profiles set each profile's "
                               "completion_report_id in the config file instead")
    return names


def _pull_one(app: App, ids: list[str], flags: _Flags) -> SitesOutcome:
    """The one site of the global settings (``moodle-sync [--profile NAME] pull``)."""
    store = app.store()
    if not ids and not store.offerings():
        app.info("No offerings in the store yet: apply one first.")
    total = store.count_current(ids or [o.offering_id for o in store.offerings()]) or None
    job = SiteJob(app.settings.profile, app.store, app.moodle, flags.options(app.settings))
    with app.progress("Pulling", total) as advance:
        return pull_sites([job], ids, progress=advance)


def _pull_several(app: App, names: list[str], ids: list[str], flags: _Flags, workers: int) -> SitesOutcome:
    """Several profiles' sites into one store, ``workers`` at a time; a profile whose settings are not
    valid fails alone (exit 2), profiles naming different stores are refused."""
    children = [app.for_profile(name) for name in names]
    try:
        jobs = [_job(child, name, flags) for child, name in zip(children, names)]
        _one_store(children, names)
        _no_rows_older_than_sites(children, names)
        with app.progress(f"Pulling {len(jobs)} sites", None) as advance:
            return pull_sites(jobs, ids, workers=workers, progress=advance)
    finally:
        for child in children:
            child.close()


def _job(child: App, name: str, flags: _Flags) -> SiteJob:
    """The pull of one profile's site; settings that are not valid make a job that fails with their error."""
    try:
        settings = child.settings
    except ConfigError as exc:
        error = exc

        def refuse() -> Any:
            raise error

        return SiteJob(name, refuse, refuse)
    return SiteJob(name, child.store, child.moodle, flags.options(settings))


def _one_store(children: Sequence[App], names: Sequence[str]) -> None:
    """Refuse profiles whose settings name different stores: a multi-site pull fills one store."""
    stores: dict[str, list[str]] = {}
    for child, name in zip(children, names):
        try:
            stores.setdefault(child.settings.store_url_shown, []).append(name)
        except ConfigError:
            continue  # that profile fails alone
    if len(stores) > 1:
        named = "; ".join(f"{', '.join(who)}: {url}" for url, who in stores.items())
        raise click.UsageError(f"the profiles name different stores ({named}): several sites are pulled into one "
                               "store; give it with --store (or MOODLE_SYNC_STORE)")


def _no_rows_older_than_sites(children: Sequence[App], names: Sequence[str]) -> None:
    """Refuse a multi-site pull into a store that holds rows from before stores knew sites: the first site
    registered adopts them all, and which profile's site comes first is not the user's choice (profiles
    are pulled at once), so another centre could take them. Raises :class:`ConfigError` (exit 2) naming
    the upgrade the README gives: one pull with the profile whose site wrote the store."""
    if len(names) < 2:
        return
    for child in children:
        try:
            store = child.opened_store()
        except ConfigError:
            continue  # that profile fails alone
        if store.has_legacy_rows():
            raise ConfigError(f"the store {child.settings.store_url_shown} holds rows older than sites (written "
                              "before moodle-sync knew several sites), which the first site registered adopts: "
                              "run `moodle-sync --profile NAME pull` first with the one of the profiles "
                              f"{', '.join(names)} whose site wrote them, then pull several sites")
        return


class _RedactingFormatter(logging.Formatter):
    """Log lines with every secret (token, store password) masked, whatever logged them."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


@contextmanager
def _pull_log(path: Path) -> Iterator[None]:
    """Append the run's log (the moodle_sync loggers, INFO and up) to ``path`` (0600) for the block."""
    private_file(path)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("moodle_sync")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


def _log(outcome: SitesOutcome) -> None:
    """Each site's run, and its errors, into the pull log (INFO: the terminal shows them already)."""
    for s in outcome.sites:
        log.info("%srun %s %s: %s, %d enrolments, %d re-read, %d changed, %d calls, %.1fs",
                 f"profile {s.profile} (site {s.site_id}) " if len(outcome.sites) > 1 else "", s.run_id, s.mode,
                 s.status, s.enrolments, s.reread, s.changed, s.calls, s.seconds)
        for error in s.errors[:20]:
            log.info("profile %s: %s: %s", s.profile, s.status, error)
    for error in outcome.errors:
        log.info("not pulled: %s", error)


def _document(outcome: SitesOutcome, several: bool) -> dict[str, Any]:
    """``pull --json``: ``sites`` and the worst ``status`` (with one site, also that site's fields at the top,
    as before several sites could be pulled)."""
    document = outcome.to_dict()
    if several:
        return document
    return {**outcome.sites[0].to_dict(), **document, "errors": outcome.sites[0].errors}


def _human(app: App, outcome: SitesOutcome, several: bool) -> None:
    """One site: what its run did, its reads that failed; or why it was not pulled (on stderr). Several: a
    heading with the worst status, then the same per site, named by profile and site."""
    if several:
        app.out.print(f"Pull of {len(outcome.sites)} sites into one store: {outcome.status} in {outcome.seconds:.1f}s.")
    for s in outcome.sites:
        name = f"{escape(s.profile)} ({s.site_id or 'site not known'}): " if several else ""
        if s.mode is not None:
            app.out.print(f"{'  ' if several else ''}{name}" + ("Dry run: would pull" if s.run_id == 0 else
                          f"Pull {s.run_id}") + f" ({s.mode}) of {', '.join(s.offerings)}: {s.status}. "
                          f"{s.enrolments} enrolments, {s.reread} re-read, {s.changed} changed, {s.calls} calls "
                          f"in {s.seconds:.1f}s.")
        elif several and not s.errors:
            app.out.print(f"  {name}nothing to pull.")
        for e in s.errors[:20]:   # a run's reads that failed (stdout); why a site was not pulled (stderr)
            (app.out if s.mode else app.err).print(f"  {name}[yellow]{'not read' if s.mode else s.status}:[/] "
                                                   f"{escape(e)}")
    for e in outcome.errors:
        app.out.print(f"  [yellow]not pulled:[/] {escape(e)}")


# schedule ---------------------------------------------------------------------------------------------

GLOBAL_FLAGS = {"url": "--url", "protocol": "--protocol", "store": "--store", "concurrency": "--concurrency",
                "max_input_vars": "--max-input-vars", "timeout": "--timeout",
                "insecure_skip_tls_verify": "--insecure-skip-tls-verify"}


def calendar(minutes: int) -> tuple[str, str]:
    """``(crontab time fields, systemd OnCalendar=)`` that both fire every ``minutes``, at the same moments
    (from :00 of each hour, or from midnight for whole hours).

    Raises ``ValueError`` saying which values work for one cron cannot say: a number of minutes that does
    not divide 60 (cron's ``*/45`` fires at :00 and :45) nor is a whole number of hours dividing 24."""
    if minutes < 5:
        raise ValueError("--every must be at least 5 minutes")
    if 60 % minutes == 0:
        return (f"*/{minutes} * * * *", f"*-*-* *:00/{minutes}:00") if minutes < 60 else \
            ("0 * * * *", "*-*-* *:00:00")
    hours, rest = divmod(minutes, 60)
    if rest == 0 and 24 % hours == 0:
        return (f"0 */{hours} * * *", f"*-*-* 00/{hours}:00:00") if hours < 24 else ("0 0 * * *", "*-*-* 00:00:00")
    raise ValueError(
        f"--every {minutes}: cron cannot run a command every {minutes} minutes (its minutes and hours restart "
        "each hour and day); choose minutes dividing 60 (5, 6, 10, 12, 15, 20, 30, 60) or whole hours dividing "
        "24 (120, 180, 240, 360, 480, 720, 1440)")


def global_options(app: App) -> list[str]:
    """The global options given to this run, as arguments for the printed commands: the config file and a
    SQLite store as absolute paths (cron starts in the home directory); a store's database password is left
    out (it belongs in ~/.pgpass or the EnvironmentFile, never in a crontab). The config file, profile and
    store given by MOODLE_SYNC_CONFIG, MOODLE_SYNC_PROFILE and MOODLE_SYNC_STORE are carried as options too:
    cron and systemd start without the caller's environment."""
    config = app.config or os.environ.get("MOODLE_SYNC_CONFIG")
    args = ["--config", str(Path(config).expanduser().resolve())] if config else []
    profile = app.profile or os.environ.get("MOODLE_SYNC_PROFILE")
    if profile:
        args += ["--profile", profile]
    for key, flag in GLOBAL_FLAGS.items():
        value = app.overrides.get(key)
        if key == "store" and value is None:
            value = os.environ.get("MOODLE_SYNC_STORE") or None
        if value is None or value is False:
            continue
        if key == "store":
            value = _store_for_schedule(str(value))
        args += [flag] if value is True else [flag, str(value)]
    return args


def _store_for_schedule(store: str) -> str:
    if "://" not in store:
        return str(Path(store).expanduser().resolve())
    from sqlalchemy.engine import make_url

    url = make_url(store)
    return url._replace(password=None).render_as_string(hide_password=False) if url.password else store


def _command(exe: str, args: Sequence[str]) -> str:
    return " ".join([exe, *(shlex.quote(a) for a in args)])


@click.command("schedule")
@click.option("--every", "minutes", type=int, default=60, show_default=True,
              help="Minutes between pulls: dividing 60 (5, 6, 10, 12, 15, 20, 30, 60), or whole hours dividing 24 "
                   "(120, 180, 240, 360, 480, 720, 1440).")
@click.option("--profile", "profiles", multiple=True, metavar="NAME",
              help="The scheduled pull pulls this profile's site (repeatable: several sites into one store).")
@click.option("--all-profiles", is_flag=True, help="The scheduled pull pulls every profile of the config file.")
@click.option("--profile-name", "profile", default=None, hidden=True,
              help="Old spelling of the global --profile (the one site of the scheduled commands).")
@click.option("--followup", "followups", multiple=True, metavar="OFFERING", type=OfferingFile(),
              help="Also a weekly line (Monday 07:00) sending this offering's (file or id) follow-up packs to "
                   "its facilitators as Moodle messages (repeatable).")
@output_options
@pass_app
def schedule_cmd(app: App, minutes: int, profiles: tuple[str, ...], all_profiles: bool, profile: str | None,
                 followups: tuple[Path, ...] = ()) -> int:
    """Print a crontab and systemd service/timer units for scheduled pulls (and weekly follow-ups).

    The lines carry the global options given here (--config, --store, --profile, ...). The token is not in
    them: give it to the service through the OS keyring, a token_command, or an EnvironmentFile readable
    only by the service user.
    """
    try:
        cron_time, on_calendar = calendar(minutes)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if all_profiles and profiles:
        raise click.UsageError("give --profile NAME (repeatable) or --all-profiles, not both")
    if profile and not app.profile:
        app.profile = profile
    several = all_profiles or len(profiles) > 1
    if several and followups and not app.profile:
        raise click.UsageError("--followup with several profiles: name the follow-up's site with the global "
                               "option (moodle-sync --profile NAME schedule ...)")
    exe = shutil.which("moodle-sync") or f"{sys.executable} -m moodle_sync"
    pull_args = [f for name in profiles for f in ("--profile", name)] + (["--all-profiles"] if all_profiles else [])
    pull = _command(exe, [*global_options(app), "pull", *pull_args, "--quiet"])
    follow = [_command(exe, [*global_options(app), "followup", str(f.resolve()), "--send", "moodle", "--yes",
                             "--quiet"]) for f in followups]
    units = _units(pull, on_calendar, _token_hint(app, list(profiles), all_profiles))
    crontab = _crontab(cron_time, pull, follow)
    app.emit({"crontab": crontab, "systemd_service": units[0], "systemd_timer": units[1], "pull_command": pull},
             lambda: _print_schedule(crontab, *units))
    return 0


def _crontab(cron_time: str, pull: str, followups: Sequence[str]) -> str:
    """The crontab lines (``%`` escaped: cron would end the command there)."""
    lines = [f"{cron_time} {pull}  # moodle-sync: completion pull"]
    lines += [f"0 7 * * 1 {line}  # moodle-sync: weekly follow-up" for line in followups]
    return "".join(line.replace("%", "\\%") + "\n" for line in lines)


def _token_hint(app: App, profiles: list[str], all_profiles: bool) -> str:
    """What the service's EnvironmentFile holds: one site's MOODLE_URL and MOODLE_TOKEN, or each profile's
    MOODLE_TOKEN_<NAME> when several sites are pulled."""
    if all_profiles:
        try:
            profiles = config_profiles(app.config)
        except ConfigError:
            return "each profile's MOODLE_TOKEN_<NAME> (not MOODLE_TOKEN: it would go to every site)"
    if len(profiles) > 1 or all_profiles:
        return f"{', '.join(token_variable(p) for p in profiles)} (one per profile, not MOODLE_TOKEN)"
    return "MOODLE_URL and MOODLE_TOKEN" if not profiles else f"{token_variable(profiles[0])}"


def _units(pull: str, on_calendar: str, tokens: str) -> tuple[str, str]:
    """The systemd service and timer (``%`` and ``$`` escaped: systemd would expand them)."""
    exec_start = pull.replace("%", "%%").replace("$", "$$")
    service = (
        "[Unit]\nDescription=moodle-sync completion pull\nWants=network-online.target\n"
        "After=network-online.target\n\n[Service]\nType=oneshot\n"
        f"# Put {tokens} in this file, mode 600, owned by the service user:\n"
        "EnvironmentFile=-%h/.config/moodle-sync/env\n"
        f"ExecStart={exec_start}\n"
        "# exit 75: another pull of a site was still running; not a failure\nSuccessExitStatus=75\n")
    timer = (
        "[Unit]\nDescription=Run moodle-sync completion pull regularly\n\n"
        f"[Timer]\nOnCalendar={on_calendar}\nPersistent=true\n\n"
        "[Install]\nWantedBy=timers.target\n")
    return service, timer


def _print_schedule(crontab: str, service: str, timer: str) -> None:
    click.echo("# crontab -e, then add:")
    click.echo(crontab)
    click.echo("# or systemd (user units): ~/.config/systemd/user/moodle-sync-pull.service")
    click.echo(service)
    click.echo("# ~/.config/systemd/user/moodle-sync-pull.timer")
    click.echo(timer)
    click.echo("# then: systemctl --user daemon-reload && systemctl --user enable --now moodle-sync-pull.timer")


COMMANDS = [pull_cmd, schedule_cmd]
