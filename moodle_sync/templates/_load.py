"""Loading a template: read ``template.yaml`` (and those it ``extends``), merge, validate, type.

The schema of ``template.yaml`` (all keys optional in an ``abstract`` template)::

    extends: base                     # another template by name; its keys are deep-merged under ours
    abstract: true                    # not renderable by itself (not inherited)
    title: Koding untuk Guru          # required
    aliases: [Koding, Coding]         # other names of the programme: default choice answers with the title
    description: ...
    fullname / shortname / idnumber:  # required; Jinja over offering, course, regency, variables
    summary: summary.html.j2          # a *.j2 file of this template or a parent; HTML is autoescaped
    format: topics                    # topics | weeks | social | singleactivity
    visible: true                     # the offering's `visible` overrides it
    lang: id
    enable_completion: true
    facilitator_role: editingteacher  # or teacher (non-editing)
    sections: [{number: 1, name: ..., summary: ...}, ...]   # required; numbers unique, 1..N without gaps
    master: {idnumber: MASTER-KODING} # required; exactly one of idnumber / shortname
    groups: {name: ..., idnumber: ..., description: ...}    # one group per class of the course
    grouping: {name: ..., idnumber: ..., description: ...}  # holds all the course's groups
    evidence: {pretest: pretest, posttest: posttest}        # activity idnumbers in the master course
    variables: {jp: 32, ...}          # defaults; the offering's `variables` override them

Merging: mappings merge key by key, the child wins; lists (sections) are replaced whole; ``master`` is
replaced whole; a child value of ``null`` removes the inherited key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence

from ..provision.spec import EvidenceSpec
from ._checks import Checker, check_variables, describe, join
from ._discovery import find_templates, template_source
from ._jinja import Renderer
from ._yaml import LocatedDict, deep_merge, display_path, load_located_yaml
from .model import (
    GroupTemplate,
    MasterTemplate,
    Pattern,
    SectionTemplate,
    Template,
    TemplateFile,
    TemplateSource,
)
from .problems import Problem, ProblemsError, TemplateError

TOP_KEYS = frozenset({
    "extends", "abstract", "title", "aliases", "description", "fullname", "shortname", "idnumber", "summary", "format",
    "visible", "lang", "enable_completion", "facilitator_role", "sections", "master", "groups", "grouping",
    "evidence", "variables"})
REQUIRED = ("title", "fullname", "shortname", "idnumber", "sections", "master")
NOT_INHERITED = ("extends", "abstract")
FORMATS = frozenset({"topics", "weeks", "social", "singleactivity"})
ROLES = frozenset({"editingteacher", "teacher"})
LANG_RE = re.compile(r"^[a-z]{2,3}(_[a-z0-9]+)*$")
ACTIVITY_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
FILE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.j2$")
MAX_EXTENDS_DEPTH = 10

PatternReader = Callable[[LocatedDict, str, str], "Pattern | None"]


def load_template(name: str, extra_dirs: Sequence[str | os.PathLike[str]] = (), *,
                  sources: Mapping[str, TemplateSource] | None = None,
                  where: tuple[str, int | None] | None = None) -> Template:
    """Load the template ``name`` (or a path to a template folder), with its ``extends`` chain merged.

    ``sources`` (from :func:`find_templates`) saves a second discovery; otherwise templates are found
    in ``extra_dirs``, installed packages and the shipped folder. A template may extend one of the same
    name: that means the next folder of that name (so a local folder can customise a shipped template).
    ``where``: the ``(file, line)`` the name was written at, named when no template has that name.
    Raises :class:`TemplateError` listing every problem (file:line: field: message).
    """
    if sources is None:
        sources = find_templates(extra_dirs)
    source = template_source(name, sources, where=where)
    chain = _read_chain(source, sources)
    child = chain[0][1]
    merged = deep_merge(LocatedDict(child.file, child.line), chain[-1][1])
    for _, raw in reversed(chain[:-1]):
        merged = deep_merge(merged, raw, atomic=frozenset({"master"}))
    for key in NOT_INHERITED:
        merged.pop(key, None)
        merged.key_lines.pop(key, None)
        if key in child:
            merged[key] = child[key]
            merged.key_lines[key] = child.where(key)
    files = _read_files([src for src, _ in chain])
    parents = tuple(src.name for src, _ in chain[1:])
    return build_template(source, merged, files, parents)


def _read_chain(source: TemplateSource,
                sources: Mapping[str, TemplateSource]) -> list[tuple[TemplateSource, LocatedDict]]:
    chain: list[tuple[TemplateSource, LocatedDict]] = []
    current = source
    while True:
        raw = _read_yaml(current)
        chain.append((current, raw))
        parent_name = raw.get("extends")
        if parent_name is None:
            return chain
        where, file = raw.where("extends"), display_path(current.file)
        if not isinstance(parent_name, str) or not parent_name.strip():
            raise TemplateError([Problem(file, where[1], "extends", "must be the name of a template")])
        if len(chain) > MAX_EXTENDS_DEPTH:
            raise TemplateError([Problem(file, where[1], "extends", f"more than {MAX_EXTENDS_DEPTH} levels")])
        parent = _parent_source(parent_name, current, sources)
        if parent is None:
            known = ", ".join(sorted(n for n in sources if n != current.name)) or "none"
            raise TemplateError([Problem(file, where[1], "extends",
                                         f"unknown template {parent_name!r} (known: {known})")])
        visited = [s.path.resolve() for s, _ in chain]
        if parent.path.resolve() in visited:
            cycle = " -> ".join([s.name for s, _ in chain] + [parent.name])
            raise TemplateError([Problem(file, where[1], "extends", f"extends itself: {cycle}")])
        current = parent


def _parent_source(name: str, current: TemplateSource,
                   sources: Mapping[str, TemplateSource]) -> TemplateSource | None:
    found = sources.get(name)
    if found is None:
        return None
    if name != current.name:
        return found
    folders = [found.path, *found.shadows]
    resolved = [f.resolve() for f in folders]
    here = current.path.resolve()
    if here in resolved and resolved.index(here) + 1 < len(folders):
        nxt = folders[resolved.index(here) + 1]
        return TemplateSource(name, nxt, f"{found.origin} (shadowed)", tuple(folders[resolved.index(here) + 2:]))
    return found  # the same folder again: reported as a cycle


def _read_yaml(source: TemplateSource) -> LocatedDict:
    try:
        raw = load_located_yaml(source.file)
    except ProblemsError as exc:
        raise TemplateError(exc.problems) from None
    if not isinstance(raw, LocatedDict):
        raise TemplateError([Problem(display_path(source.file), 1, "", "must be a YAML mapping of settings")])
    return raw


def _read_files(chain: list[TemplateSource]) -> dict[str, TemplateFile]:
    """Every ``*.j2`` file of the chain's folders; a child's file hides a parent's of the same name."""
    files: dict[str, TemplateFile] = {}
    for source in reversed(chain):
        for path in sorted(source.path.glob("*.j2")):
            display = display_path(path)
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise TemplateError([Problem(display, None, "", f"cannot read as UTF-8 text: {exc}")]) from None
            files[path.name] = TemplateFile(path.name, text, display)
    return files


def build_template(source: TemplateSource, data: LocatedDict, files: Mapping[str, TemplateFile],
                   parents: tuple[str, ...] = ()) -> Template:
    """Validate merged ``data`` and build the typed :class:`Template`; raises :class:`TemplateError`."""
    c = Checker()
    abstract = c.typed(data, "abstract", "", bool) or False
    c.keys(data, "", TOP_KEYS, () if abstract else REQUIRED)

    def pattern(mapping: LocatedDict, key: str, prefix: str) -> Pattern | None:
        value = c.text(mapping, key, prefix)
        if value is None:
            return None
        file, line = mapping.where(key)
        return Pattern(value, file, line, join(prefix, key))

    defaults = Template("", source, "")
    title = c.text(data, "title", "") or ""
    template = Template(
        name=source.name, source=source, title=title, aliases=_aliases(c, data),
        description=(c.typed(data, "description", "", str) or "").strip(), abstract=abstract,
        parents=parents,
        fullname=pattern(data, "fullname", ""), shortname=pattern(data, "shortname", ""),
        idnumber=pattern(data, "idnumber", ""), summary=_summary(c, data, files, abstract, pattern),
        format=c.text(data, "format", "", choices=FORMATS) or defaults.format,
        visible=_bool(c, data, "visible", defaults.visible), lang=c.text(
            data, "lang", "", pattern=LANG_RE, explain="is not a Moodle language code such as 'id' or 'en'")
        or defaults.lang,
        enable_completion=_bool(c, data, "enable_completion", defaults.enable_completion),
        facilitator_role=c.text(data, "facilitator_role", "", choices=ROLES) or defaults.facilitator_role,
        sections=_sections(c, data, pattern), master=_master(c, data, pattern),
        groups=_group(c, data, "groups", pattern), grouping=_group(c, data, "grouping", pattern),
        evidence=_evidence(c, data), variables=check_variables(c, data), files=dict(files),
    )
    renderer = Renderer(files)
    if not c.problems:
        c.problems += _syntax_problems(template, renderer)
    if c.problems:
        raise TemplateError(c.problems)
    return template


def _aliases(c: Checker, data: LocatedDict) -> tuple[str, ...]:
    """The template's ``aliases``: non-empty strings, each once (a problem names the item's line otherwise)."""
    items = c.sequence(data, "aliases", "")
    if items is None:
        return ()
    out: list[str] = []
    for index, item in enumerate(items):
        field = join("aliases", index)
        if not isinstance(item, str):
            c.add(items.where(index), field, f"must be a string, not {describe(item)}")
        elif not item.strip():
            c.add(items.where(index), field, "must not be empty")
        elif item.strip() in out:
            c.add(items.where(index), field, f"{item.strip()!r} is listed twice")
        else:
            out.append(item.strip())
    return tuple(out)


def _bool(c: Checker, data: LocatedDict, key: str, default: bool) -> bool:
    value = c.typed(data, key, "", bool)
    return default if value is None else value


def _summary(c: Checker, data: LocatedDict, files: Mapping[str, TemplateFile], abstract: bool,
             pattern: PatternReader) -> Pattern | None:
    summary = pattern(data, "summary", "")
    if summary is None:
        return None
    if not FILE_RE.match(summary.source):
        c.add(data.where("summary"), "summary", f"{summary.source!r} must name a *.j2 file in the template "
              "folder (e.g. summary.html.j2)")
        return None
    if summary.source not in files and not abstract:
        c.add(data.where("summary"), "summary", f"no file {summary.source!r} in the template folder "
              f"(or a parent's): found {', '.join(sorted(files)) or 'none'}")
        return None
    return summary


def _sections(c: Checker, data: LocatedDict, pattern: PatternReader) -> tuple[SectionTemplate, ...]:
    items = c.sequence(data, "sections", "")
    if items is None:
        return ()
    out: list[SectionTemplate] = []
    seen: dict[int, int] = {}
    for i, item in enumerate(items):
        prefix = join("sections", i)
        if not isinstance(item, LocatedDict):
            c.add(items.where(i), prefix, "must be a mapping with number and name")
            continue
        c.keys(item, prefix, ("number", "name", "summary"), ("number", "name"))
        number = c.typed(item, "number", prefix, int)
        name = pattern(item, "name", prefix)
        summary = pattern(item, "summary", prefix)
        if number is None or name is None:
            continue
        if number < 0:
            c.add(item.where("number"), join(prefix, "number"), "must be 0 or more (0 is the general section)")
            continue
        if number in seen:
            c.add(item.where("number"), join(prefix, "number"),
                  f"section {number} is already given by sections[{seen[number]}]")
            continue
        seen[number] = i
        out.append(SectionTemplate(number, name, summary))
    if not items:
        c.add(data.where("sections"), "sections", "must list at least one section")
    numbered = sorted(n for n in seen if n > 0)
    gaps = sorted(set(range(1, (numbered[-1] if numbered else 0) + 1)) - set(numbered))
    if gaps:
        c.add(data.where("sections"), "sections",
              f"section numbers must run 1..N without gaps (missing {', '.join(map(str, gaps))})")
    return tuple(sorted(out, key=lambda s: s.number))


def _master(c: Checker, data: LocatedDict, pattern: PatternReader) -> MasterTemplate | None:
    master = c.mapping(data, "master", "")
    if master is None:
        return None
    c.keys(master, "master", ("idnumber", "shortname"))
    given = [k for k in ("idnumber", "shortname") if master.get(k) is not None]
    if len(given) != 1:
        c.add(data.where("master"), "master", "give exactly one of idnumber or shortname "
              f"(got {' and '.join(given) if given else 'neither'})")
        return None
    value = pattern(master, given[0], "master")
    return MasterTemplate(given[0], value) if value is not None else None


def _group(c: Checker, data: LocatedDict, key: str, pattern: PatternReader) -> GroupTemplate | None:
    group = c.mapping(data, key, "")
    if group is None:
        return None
    c.keys(group, key, ("name", "idnumber", "description"), ("name", "idnumber"))
    name, idnumber = pattern(group, "name", key), pattern(group, "idnumber", key)
    description = pattern(group, "description", key)
    if name is None or idnumber is None:
        return None
    return GroupTemplate(name, idnumber, description)


def _evidence(c: Checker, data: LocatedDict) -> EvidenceSpec:
    evidence = c.mapping(data, "evidence", "")
    if evidence is None:
        return EvidenceSpec()
    c.keys(evidence, "evidence", ("pretest", "posttest"))
    explain = "is not an activity idnumber (letters, digits, '.', '_', '-')"
    return EvidenceSpec(
        pretest_idnumber=c.text(evidence, "pretest", "evidence", pattern=ACTIVITY_ID_RE, explain=explain),
        posttest_idnumber=c.text(evidence, "posttest", "evidence", pattern=ACTIVITY_ID_RE, explain=explain))


def _syntax_problems(template: Template, renderer: Renderer) -> list[Problem]:
    """Compile every Jinja string and file once, so syntax errors surface at load time."""
    problems: list[Problem] = []
    patterns: list[tuple[Pattern, bool]] = [
        (p, False) for p in (template.fullname, template.shortname, template.idnumber) if p is not None]
    for s in template.sections:
        patterns += [(s.name, False)] + ([(s.summary, True)] if s.summary else [])
    for g in (template.groups, template.grouping):
        if g is not None:
            patterns += [(g.name, False), (g.idnumber, False)] + ([(g.description, True)] if g.description else [])
    if template.master is not None:
        patterns.append((template.master.value, False))
    for p, html in patterns:
        try:
            renderer.compile(p, html=html)
        except TemplateError as exc:
            problems += exc.problems
    for name in sorted(template.files):
        problems += renderer.check_file(name)
    return problems
