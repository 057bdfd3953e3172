"""The main job as Python functions: what the ``moodle-sync`` commands do, for programs and notebooks.

Each function is a thin composition of the library modules the CLI uses too (templates, provisioning,
participants, enrolment, evidence, reports); none prints, asks or exits. The order of the job::

    spec = render_offering("offering.yaml")                  # the desired state (pure)
    plan = plan_offering(moodle, "offering.yaml")            # what apply would change (reads Moodle)
    apply_offering(moodle, "offering.yaml", store=store)     # make Moodle match
    import_registrations(["registrations.csv"])              # accepted, superseded, rejected rows
    select_participants("offering.yaml", ["registrations.csv"], store=store)
    enrol_selected(moodle, "offering.yaml", store=store)
    pull_evidence(moodle, store)
    report = offering_report(store, "koding-2026-a1")

``moodle`` is what :func:`moodle_sync.connect` returns; ``store`` what :func:`open_store` returns. Every
error is a :class:`~moodle_sync.exceptions.MoodleSyncError`: :class:`~moodle_sync.exceptions.InputError`
(file, row/line, field) for bad files, a web-service or transport error for what Moodle answered, and
:class:`~moodle_sync.store.locks.BusyError` when another run holds the offering (or the store's pull).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from .exceptions import InputError

if TYPE_CHECKING:
    from .enrolment import EnrolResult
    from .evidence.pull import PullOutcome
    from .offerings import Offering
    from .participants.model import ImportResult
    from .provision.apply import ApplyResult
    from .provision.plan import Plan
    from .provision.spec import OfferingSpec
    from .reports.aggregate import Report
    from .roster import RosterResult
    from .store.store import Store
    from .templates.model import Template
    from .ws.moodle import Moodle

__all__ = [
    "apply_offering",
    "enrol_selected",
    "import_registrations",
    "offering_report",
    "open_store",
    "plan_offering",
    "pull_evidence",
    "render_offering",
    "select_participants",
    "stored_offering_file",
]

PathLike: TypeAlias = "str | os.PathLike[str]"


def import_registrations(files: Sequence[PathLike], *, mapping: PathLike | None = None) -> ImportResult:
    """Read registration exports (CSV in any common delimiter and encoding, or XLSX; Indonesian or English
    headers, or a ``mapping`` YAML naming them), normalise every field and de-duplicate across the files.
    Every row ends in exactly one of ``accepted``, ``superseded`` (the same person's later submission won)
    or ``rejected`` (file, row, field, reason). Raises :class:`~moodle_sync.exceptions.InputError` naming
    the file when a file or the mapping cannot be read or a required column is missing."""
    from .participants.importer import import_registrations as import_files

    return import_files(list(files), mapping=mapping)


def open_store(url: str, *, site: str | None = None, moodle: Moodle | None = None) -> Store:
    """The local evidence store at ``url``: an SQLite path, or an SQLAlchemy URL such as
    ``postgresql+psycopg://user@host/db``; created and migrated when needed. Close it (``store.close()``,
    or use it in a ``with``) when done.

    A store keeps each centre's (Moodle site's) rows apart. ``site`` names the one to read and write (a
    site id, a URL, a profile or a site name, as ``report --site`` takes them); by default the store's only
    site, or, in a store that has none yet, rows of no site (the command's first run against a site adopts
    them). Raises :class:`~moodle_sync.exceptions.ConfigError` for a URL it cannot open, and for a ``site``
    the store does not know or a store of several sites without ``site``.

    With ``moodle`` the store is bound to that Moodle's site: one ``core_webservice_get_site_info`` call
    says which (its ``siteurl``), and a site the store does not know yet is recorded, as a command's first
    run against it does (the first site of a store adopts rows of no site)."""
    from .exceptions import ConfigError
    from .store.store import Store

    if moodle is not None:
        return Store.open(url, site=_site_of(url, moodle))
    with Store.open(url) as probe:
        sites = probe.sites()
        chosen = probe.resolve_site(site) if site is not None else sites[0] if len(sites) == 1 else None
    if chosen is None and (site is not None or sites):
        known = ", ".join(s.site_id for s in sites) or "none"
        raise ConfigError(f"store {url}: " + (f"no site {site!r}" if site is not None else "several sites")
                          + f" (its sites: {known}): name one with site=")
    return Store.open(url, site=chosen.site_id) if chosen is not None else Store.open(url)


def _site_of(url: str, moodle: Moodle) -> str:
    """The site id of the Moodle ``moodle`` reaches, recorded in the store at ``url`` if it is new."""
    from .store.store import Store

    info = moodle.site_info()
    with Store.open(url) as probe:
        known = probe.site_of_url(info.siteurl)
        return known.site_id if known is not None else probe.register_site(info.siteurl, info.sitename).site_id


def _offering_and_template(offering_file: PathLike, templates: Sequence[PathLike]) -> tuple[Offering, Template]:
    """The validated offering file and the template it names (searched in ``templates``, then the shipped
    ones). Raises :class:`~moodle_sync.exceptions.InputError` naming file, line and field."""
    from .offerings import load_offering
    from .templates import load_template

    offering = load_offering(offering_file)
    return offering, load_template(offering.template, [str(d) for d in templates], where=offering.template_where)


def render_offering(offering_file: PathLike, *, templates: Sequence[PathLike] = (), store: Store | None = None,
                    classes: Mapping[str, int] | None = None,
                    facilitator_role_id: int | None = None) -> OfferingSpec:
    """The offering file rendered through its template into the desired state of its courses. Pure
    apart from reading the files (and ``store``).

    Each course gets as many classes as the offering asks, as the ``store``'s roster already uses, and as
    ``classes`` (course key -> count) asks; a model school's facilitator leads the class the roster keeps
    that school's teachers in. ``templates`` are folders searched before the shipped templates. The result
    remembers ``offering_file`` (``source``), so the store can find the file from the offering's id.
    ``facilitator_role_id``: the site's role id facilitators are enrolled with (the ``facilitator_role_id``
    setting); by default the id a standard Moodle gives the template's ``facilitator_role``.
    Raises :class:`~moodle_sync.exceptions.InputError` (file:line: field) for a bad offering or template.
    """
    from .roster import desired_offering, school_classes

    offering, template = _offering_and_template(offering_file, templates)
    counts = dict(store.class_counts(offering.id)) if store is not None else {}
    schools = [m.npsn for m in offering.applicants.model_schools if m.facilitator]
    led = school_classes(store.class_schools(offering.id), schools) if store is not None and counts and schools \
        else {}
    for key, n in (classes or {}).items():
        counts[key] = max(counts.get(key, 0), n)
    spec = desired_offering(offering, template, counts, led)
    if facilitator_role_id is not None:
        spec = replace(spec, courses=tuple(replace(c, facilitator_role_id=facilitator_role_id)
                                           for c in spec.courses))
    return replace(spec, source=str(Path(offering_file).resolve()))


def plan_offering(moodle: Moodle, offering_file: PathLike, *, templates: Sequence[PathLike] = (),
                  store: Store | None = None) -> Plan:
    """What :func:`apply_offering` would do: every category, course, section, class and facilitator as
    create, update (field by field) or unchanged, and the problems (a missing master course, a shortname
    another course holds). Only reads Moodle. ``plan.pending`` is empty when Moodle already matches.
    Raises what :func:`render_offering` raises, and the web-service errors of the reads."""
    from .provision.observe import observe
    from .provision.plan import plan_offering as plan_spec

    spec = render_offering(offering_file, templates=templates, store=store)
    return plan_spec(spec, observe(moodle, spec))


def apply_offering(moodle: Moodle, offering_file: PathLike, *, store: Store, templates: Sequence[PathLike] = (),
                   new_user_auth: str = "manual", reimport: Sequence[str] = ()) -> ApplyResult:
    """Make Moodle match the offering: plan as :func:`plan_offering` does, then execute the plan, and keep
    the offering and every write in ``store``. Nothing is deleted; one refusal never stops the rest
    (``result.failed`` lists Moodle's reasons, ``result.unknown`` the writes whose answer was lost: run it
    again to settle them by reading Moodle). ``reimport``: course keys whose unanswered content import may
    be sent again (only after checking the course). Offerings that adopt existing courses (``adopt:``) are
    recorded by the ``apply`` command.

    Raises :class:`~moodle_sync.exceptions.InputError` listing the plan's problems (then nothing is
    written), what :func:`render_offering` raises, :class:`~moodle_sync.store.locks.BusyError` while another
    run changes the offering (the offering's one-writer lock is held), and what stops every write (a bad
    token, an unreachable site)."""
    from .provision.apply import apply_plan
    from .provision.observe import observe
    from .provision.plan import plan_offering as plan_spec
    from .provision.spec import offering_summary
    from .store.locks import offering_lock

    spec = render_offering(offering_file, templates=templates, store=store)
    with offering_lock(store, spec.offering_id):
        plan = plan_spec(spec, observe(moodle, spec))
        if plan.problems:
            raise InputError("not applied: " + "; ".join(plan.problems), file=str(offering_file))
        store.save_offering(spec.offering_id, spec.template, spec.title, offering_summary(spec))
        return apply_plan(moodle, spec, plan, store=store, new_user_auth=new_user_auth, reimport=reimport)


def select_participants(offering_file: PathLike, registrations: Sequence[PathLike], *, store: Store,
                        mapping: PathLike | None = None, moodle: Moodle | None = None,
                        templates: Sequence[PathLike] = (), waitlist_size: int | None = None,
                        save: bool = True, force: bool = False) -> RosterResult:
    """Fill the offering's seats from the registration exports (CSV/XLSX, imported as
    :func:`import_registrations` does): eligibility and programme choice, never-trained teachers first
    (by the form, the ``store``'s earlier offerings and, with ``moodle``, Moodle's enrolments), a fair
    spread over regencies (or the offering's quotas), a ranked waitlist; the selected are put in classes.
    Deterministic. With ``save`` every applicant's status is saved in ``store`` for
    :func:`enrol_selected` (holding the offering's lock). Raises
    :class:`~moodle_sync.exceptions.InputError` for unreadable files, and, with ``save``, when
    participants are already enrolled (selecting again would reshuffle them) unless ``force``."""
    from .roster import build_roster, choice_names, moodle_history

    offering, template = _offering_and_template(offering_file, templates)
    applicants = list(import_registrations(registrations, mapping=mapping).accepted)
    history = store.training_history([a.email for a in applicants], [a.nuptk for a in applicants if a.nuptk],
                                     exclude_offering=offering.id)
    if moodle is not None:
        for email, evidence in moodle_history(moodle, store, offering.id, applicants).items():
            history.setdefault(email, evidence)
    spec = render_offering(offering_file, templates=templates, store=store)
    roster = build_roster(spec, applicants, previously_trained=history, waitlist_size=waitlist_size,
                          render=lambda counts: render_offering(offering_file, templates=templates, store=store,
                                                                classes=counts),
                          rules=offering.applicants,
                          choice=choice_names(spec, offering.applicants, template.title, template.aliases))
    if save:
        _save_roster(store, roster, force=force)
    return roster


def _save_roster(store: Store, roster: RosterResult, *, force: bool) -> None:
    """Save a selection (the offering and every applicant's status) under the offering's lock. Raises
    :class:`~moodle_sync.exceptions.InputError` when participants are already enrolled, unless ``force``."""
    from .provision.spec import offering_summary
    from .store.locks import offering_lock

    spec = roster.offering
    with offering_lock(store, spec.offering_id):
        enrolled = store.participants(spec.offering_id, status="enrolled")
        if enrolled and not force:
            raise InputError(f"{len(enrolled)} participants of {spec.offering_id} are already enrolled: "
                             "selecting again would reshuffle them (withdraw someone instead, or force)")
        store.save_offering(spec.offering_id, spec.template, spec.title, offering_summary(spec))
        store.save_participants(spec.offering_id, roster.records)


def enrol_selected(moodle: Moodle, offering_file: PathLike, *, store: Store, templates: Sequence[PathLike] = (),
                   auth: str = "manual", student_role_id: int = 5, dry_run: bool = False) -> EnrolResult:
    """Enrol the participants :func:`select_participants` saved: match Moodle users by e-mail (then NUPTK),
    create the missing ones (``auth``: ``manual`` or ``oauth2``), enrol them with ``student_role_id`` and
    add them to their class, in batches. A bad record fails alone (``result.failed``: e-mail and Moodle's
    reason); each participant's outcome is saved in ``store``; a rerun creates nobody and nothing twice.
    With ``dry_run`` only reads are made and the counts say what would happen. Raises
    :class:`~moodle_sync.exceptions.InputError` when nobody is selected, and
    :class:`~moodle_sync.store.locks.BusyError` while another run changes the offering."""
    from contextlib import nullcontext

    from .enrolment import enrol_participants
    from .store.locks import offering_lock
    from .store.records import ParticipantRecord

    offering_id = _offering_and_template(offering_file, templates)[0].id
    with nullcontext() if dry_run else offering_lock(store, offering_id):
        spec = render_offering(offering_file, templates=templates, store=store)   # the roster's classes, held
        people = [p for status in ("selected", "enrolled", "failed")
                  for p in store.participants(spec.offering_id, status=status)]
        if not people:
            raise InputError(f"no selected participants for {spec.offering_id}: select them first",
                             file=str(offering_file))

        def record(p: ParticipantRecord, user_id: int | None, reason: str | None) -> None:
            store.update_participant(spec.offering_id, p.email, status="failed" if reason else "enrolled",
                                     moodle_user_id=user_id, reason=reason or p.reason)

        return enrol_participants(moodle, spec, people, auth=auth, student_role_id=student_role_id,
                                  dry_run=dry_run, on_result=None if dry_run else record, write_log=store)


def pull_evidence(moodle: Moodle, store: Store, offering_ids: Sequence[str] = (), *, full: bool = False,
                  student_role_id: int = 5, report_id: int | None = None, grades: str = "always",
                  dry_run: bool = False) -> PullOutcome:
    """Pull completion, grades and course access of the offerings (default: every offering in ``store``)
    into ``store``, as one recorded run: incremental unless ``full`` (see the README's "Pulls").
    ``outcome.status`` is ``ok`` when every read was answered, ``partial`` when some were not (their last
    state is kept; ``outcome.errors`` names them). Raises :class:`~moodle_sync.store.locks.PullBusyError`
    while another pull into the store runs, :class:`~moodle_sync.exceptions.InputError` when there is no
    offering to pull, and what stopped a failed run (a bad token, an unreachable site)."""
    from .evidence.pull import pull_offerings
    from .store.locks import pull_lock

    ids = list(offering_ids) or [o.offering_id for o in store.offerings()]
    if not ids:
        raise InputError("no offerings in the store yet: apply one first")
    with pull_lock(store):
        if not dry_run:
            store.settle_dead_runs()   # runs a killed pull left 'running'
        return pull_offerings(moodle, store, ids, full=full, report_id=report_id, student_role_id=student_role_id,
                              grades=grades, dry_run=dry_run)


def offering_report(store: Store, offering_id: str, *, stalled_days: int = 14, now: float | None = None) -> Report:
    """The offering's report from the evidence in ``store`` (no Moodle call): per course, class, regency
    and school level, enrolled, withdrawn, started, completed, completion rate, grades, pre/post-test gain
    and effect size, and who to follow up (stalled: no course access for ``stalled_days``). Turn it into a
    JSON-ready document with :func:`moodle_sync.reports.report_document`, or files with
    :mod:`moodle_sync.reports.render`. Raises :class:`~moodle_sync.exceptions.InputError` when the store
    has no evidence of the offering (pull it first)."""
    from .reports.source import load_report

    built = load_report(store, offering_id, now=int(time.time() if now is None else now), stalled_days=stalled_days)
    if built is None:
        raise InputError(f"the store has no completion evidence of offering {offering_id!r} (pull it first)")
    return built


def stored_offering_file(store: Store, offering_id: str) -> Path:
    """The offering file the store last recorded for ``offering_id`` (``apply``, ``select`` and ``enrol``
    record it). Raises :class:`~moodle_sync.exceptions.InputError` when the store has no such offering,
    recorded no file for it, or the file is no longer there: then the offering's YAML file must be given."""
    record = store.get_offering(offering_id)
    recorded = record.data.get("file") if record is not None else None
    if not recorded:
        why = "is not in the store" if record is None else "was recorded without its file"
        raise InputError(f"offering {offering_id!r} {why}: give its YAML file instead of its id")
    if not Path(recorded).is_file():
        raise InputError(f"offering {offering_id!r} was applied from {recorded}, which is no longer there: "
                         "give its YAML file instead of its id")
    return Path(recorded)
