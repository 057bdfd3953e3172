"""``moodle-sync templates``: list, show, render and check course templates.

Templates are looked for in ``--templates DIR`` (repeatable), then ``templates_dir`` from the settings
(``MOODLE_SYNC_TEMPLATES``), then installed packages (entry-point group ``moodle_sync.templates``), then
the templates shipped with moodle-sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from ..offerings import load_offering
from ..provision.spec import CourseSpec
from ..templates import check_templates, find_templates, load_template, render_offering, template_dirs
from ..templates._discovery import discover
from ..templates.problems import ProblemsError
from .app import App, pass_app
from .common import output_options

_DIRS_KEY = "moodle_sync.templates.dirs"


def _dirs(app: App) -> list[str]:
    """``--templates`` directories, then the ``templates_dir`` setting."""
    cli_dirs: Sequence[str] = click.get_current_context().meta.get(_DIRS_KEY, ())
    return template_dirs(cli_dirs, app.settings.templates_dir)


def _table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """A table whose cells are plain text (never read as rich markup: names may hold brackets)."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*[Text("" if v is None else str(v)) for v in row])
    return table


def _plain(app: App, line: str = "") -> None:
    app.out.print(line, markup=False, highlight=False)


@click.group("templates")
@click.option("--templates", "templates_dirs", multiple=True, metavar="DIR",
              help="A folder of templates (<name>/template.yaml); repeatable; searched before the others.")
@click.pass_context
def templates(ctx: click.Context, templates_dirs: tuple[str, ...]) -> None:
    """List, show, render and check course templates."""
    ctx.meta[_DIRS_KEY] = templates_dirs


@templates.command("list")
@output_options
@pass_app
def list_command(app: App) -> int:
    """List the templates found, with where each comes from."""
    sources = find_templates(_dirs(app))
    entries = []
    for name, source in sources.items():
        entry: dict[str, Any] = {"name": name, "path": str(source.path), "origin": source.origin,
                                 "shadows": [str(p) for p in source.shadows]}
        try:
            template = load_template(name, sources=sources)
            entry.update(title=template.title, extends=list(template.parents), abstract=template.abstract,
                         valid=True)
        except ProblemsError as exc:
            entry.update(title=None, extends=[], abstract=False, valid=False, problem=str(exc.problems[0]))
        entries.append(entry)

    def human() -> None:
        rows = [[e["name"], e["title"] or f"INVALID: {e['problem']}", " > ".join(e["extends"]),
                 "abstract" if e["abstract"] else "", e["origin"], e["path"]] for e in entries]
        app.out.print(_table("Course templates", ["name", "title", "extends", "", "origin", "path"], rows))

    app.emit({"templates": entries}, human)
    return 0


@templates.command("show")
@click.argument("name")
@output_options
@pass_app
def show_command(app: App, name: str) -> int:
    """Show one template with its `extends` chain merged."""
    template = load_template(name, _dirs(app))
    document = template.describe()

    def human() -> None:
        chain = " > ".join((template.name, *template.parents))
        _plain(app, f"{template.title}  [{chain}]{'  (abstract)' if template.abstract else ''}")
        _plain(app, f"  {template.source.path}")
        if template.description:
            _plain(app, f"  {template.description}")
        _plain(app)
        for key in ("fullname", "shortname", "idnumber", "summary", "format", "visible", "lang",
                    "enable_completion", "facilitator_role", "master", "groups", "grouping", "evidence",
                    "variables"):
            if document[key] not in (None, {}, []):
                _plain(app, f"{key:>18}: {document[key]}")
        if template.sections:
            app.out.print(_table("Sections", ["#", "name"], [[s.number, s.name.source] for s in template.sections]))

    app.emit(document, human)
    return 0


@templates.command("render")
@click.argument("name", required=False)
@click.option("--offering", "offering_file", required=True, metavar="FILE", type=click.Path(dir_okay=False),
              help="The offering file (YAML) to render.")
@click.option("--course", "course_key", metavar="KEY", help="Show this course in full (a regency slug or main).")
@output_options
@pass_app
def render_command(app: App, name: str | None, offering_file: str, course_key: str | None) -> int:
    """Render an offering through a template (default: the offering's own) and print the course specs."""
    offering = load_offering(offering_file)
    template = load_template(name or offering.template, _dirs(app), where=None if name else offering.template_where)
    spec = render_offering(offering, template)
    if course_key is not None and course_key not in offering.course_keys:
        raise click.BadParameter(f"{course_key!r} is not a course of this offering "
                                 f"({', '.join(offering.course_keys)})", param_hint="--course")
    courses = [spec.course(course_key)] if course_key else list(spec.courses)
    document = {**asdict(spec), "courses": [asdict(c) for c in courses]}

    def human() -> None:
        _plain(app, f"{spec.title} ({spec.batch}) - template {spec.template}, {len(spec.courses)} course(s)")
        if course_key:
            _course_detail(app, courses[0], f"{offering.start} .. {offering.end} (00:00 WIB)")
            return
        rows = [[c.key, c.shortname, c.idnumber, len(c.groups), len(c.facilitators)] for c in courses]
        app.out.print(_table(None, ["key", "shortname", "idnumber", "classes", "facilitators"], rows))
        _plain(app, "Use --course KEY for one course in full, or --json for everything.")

    app.emit(document, human)
    return 0


def _course_detail(app: App, course: CourseSpec, dates: str) -> None:
    master = f"{course.master_course.field}={course.master_course.value}" if course.master_course else "-"
    for label, value in (("fullname", course.fullname), ("shortname", course.shortname),
                         ("idnumber", course.idnumber), ("category", " / ".join(course.category_path)),
                         ("dates", f"{dates}: {course.start_date} .. {course.end_date}"), ("visible", course.visible),
                         ("master", master), ("facilitator role", course.facilitator_role),
                         ("evidence", (f"pretest={course.evidence.pretest_idnumber} "
                                       f"posttest={course.evidence.posttest_idnumber}"))):
        _plain(app, f"{label:>17}: {value}")
    app.out.print(_table("Sections", ["#", "name"], [[s.number, s.name] for s in course.sections]))
    app.out.print(_table("Classes", ["name", "idnumber"], [[g.name, g.idnumber] for g in course.groups]))
    if course.facilitators:
        app.out.print(_table("Facilitators", ["email", "name", "classes"],
                             [[f.email, f.firstname if f.lastname == "-" else f"{f.firstname} {f.lastname}",
                               ", ".join(f.groups) or "(whole course)"]
                              for f in course.facilitators]))
    _plain(app, "Summary (HTML):")
    _plain(app, course.summary)


@templates.command("check")
@click.option("--offering", "offering_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also render every template with this offering file.")
@output_options
@pass_app
def check_command(app: App, offering_file: str | None) -> int:
    """Validate every template (and try rendering each); exit 1 listing the problems."""
    dirs = _dirs(app)
    offering = load_offering(offering_file) if offering_file else None
    problems = check_templates(dirs, offering=offering)
    count = len(discover(dirs)[0])

    def human() -> None:
        if not problems:
            _plain(app, f"All {count} templates are valid.")
            return
        for problem in problems:
            _plain(app, str(problem))
        _plain(app, f"{len(problems)} problem(s) found.")

    app.emit({"ok": not problems, "templates": count, "problems": [p.to_dict() for p in problems]}, human)
    return 1 if problems else 0


COMMANDS = [templates]
