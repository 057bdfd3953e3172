"""What a loaded course template is: typed, validated, with ``extends`` already merged.

Every Jinja string keeps the file, line and field it came from (:class:`Pattern`), so a rendering error
can name them. Template files (``*.j2``) are read at load time, so rendering does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..provision.spec import EvidenceSpec

TEMPLATE_FILE = "template.yaml"


@dataclass(frozen=True)
class TemplateSource:
    """Where a template lives: ``path`` is its folder (holding ``template.yaml``)."""

    name: str
    path: Path
    origin: str                                    # "directory", "entry point <dist>:<name>", "shipped"
    shadows: tuple[Path, ...] = ()                 # folders of the same name that this one hides

    @property
    def file(self) -> Path:
        return self.path / TEMPLATE_FILE


@dataclass(frozen=True)
class Pattern:
    """A Jinja string from a template file, with where it was written."""

    source: str
    file: str
    line: int | None
    field: str

    @property
    def where(self) -> str:
        return ":".join(str(p) for p in (self.file, self.line) if p is not None)


@dataclass(frozen=True)
class TemplateFile:
    """A ``*.j2`` file of a template (or of one it extends), read into memory."""

    name: str          # file name inside the template folder, e.g. "summary.html.j2"
    source: str
    filename: str      # shown in errors

    @property
    def is_html(self) -> bool:
        return self.name.endswith((".html.j2", ".htm.j2"))


@dataclass(frozen=True)
class SectionTemplate:
    number: int
    name: Pattern
    summary: Pattern | None = None


@dataclass(frozen=True)
class GroupTemplate:
    """How to name a course's classes (groups) or its grouping."""

    name: Pattern
    idnumber: Pattern
    description: Pattern | None = None


@dataclass(frozen=True)
class MasterTemplate:
    """The master course to import content from: ``field`` is ``idnumber`` or ``shortname``."""

    field: str
    value: Pattern


@dataclass(frozen=True)
class Template:
    """A course template ready to render. Abstract templates (``base``) may lack course fields."""

    name: str
    source: TemplateSource
    title: str
    description: str = ""
    aliases: tuple[str, ...] = ()                  # other names people give the programme (choice answers)
    abstract: bool = False
    parents: tuple[str, ...] = ()                  # the extends chain, nearest first
    fullname: Pattern | None = None
    shortname: Pattern | None = None
    idnumber: Pattern | None = None
    summary: Pattern | None = None                 # names a file in ``files``
    format: str = "topics"
    visible: bool = True
    lang: str = "id"
    enable_completion: bool = True
    facilitator_role: str = "editingteacher"
    sections: tuple[SectionTemplate, ...] = ()
    master: MasterTemplate | None = None
    groups: GroupTemplate | None = None
    grouping: GroupTemplate | None = None
    evidence: EvidenceSpec = field(default_factory=EvidenceSpec)
    variables: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, TemplateFile] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """A JSON-safe description (what ``templates show --json`` prints)."""

        def pat(p: Pattern | None) -> str | None:
            return p.source if p is not None else None

        def group(g: GroupTemplate | None) -> dict[str, Any] | None:
            if g is None:
                return None
            return {"name": g.name.source, "idnumber": g.idnumber.source, "description": pat(g.description)}

        return {
            "name": self.name, "title": self.title, "aliases": list(self.aliases),
            "description": self.description,
            "abstract": self.abstract, "extends": list(self.parents), "path": str(self.source.path),
            "origin": self.source.origin, "fullname": pat(self.fullname), "shortname": pat(self.shortname),
            "idnumber": pat(self.idnumber), "summary": pat(self.summary), "format": self.format,
            "visible": self.visible, "lang": self.lang, "enable_completion": self.enable_completion,
            "facilitator_role": self.facilitator_role,
            "sections": [{"number": s.number, "name": s.name.source, "summary": pat(s.summary)}
                         for s in self.sections],
            "master": {self.master.field: self.master.value.source} if self.master else None,
            "groups": group(self.groups), "grouping": group(self.grouping),
            "evidence": {"pretest": self.evidence.pretest_idnumber, "posttest": self.evidence.posttest_idnumber},
            "variables": dict(self.variables), "files": sorted(self.files),
        }
