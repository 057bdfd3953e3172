"""The desired state of an offering, as rendered from a template: pure, frozen data.

Templates render into an :class:`OfferingSpec`; the planner compares it with what Moodle has. Nothing
here does I/O. Times are Unix seconds (what Moodle takes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SectionSpec:
    number: int          # 0 is the general section at the top
    name: str
    summary: str = ""


@dataclass(frozen=True)
class GroupSpec:
    """A class: a Moodle group of participants with a facilitator."""

    name: str
    idnumber: str
    description: str = ""


@dataclass(frozen=True)
class GroupingSpec:
    name: str
    idnumber: str
    description: str = ""


@dataclass(frozen=True)
class FacilitatorSpec:
    email: str
    firstname: str
    lastname: str
    groups: tuple[str, ...] = ()   # group idnumbers this facilitator leads


@dataclass(frozen=True)
class MasterCourseRef:
    """The course whose content is imported into ours: looked up by ``field`` = shortname or idnumber."""

    field: str
    value: str


@dataclass(frozen=True)
class EvidenceSpec:
    """Which activities (by idnumber) are the pre-test and post-test used as evidence."""

    pretest_idnumber: str | None = None
    posttest_idnumber: str | None = None


@dataclass(frozen=True)
class CourseSpec:
    key: str                         # the course's key inside the offering: a regency slug, or "main"
    fullname: str
    shortname: str
    idnumber: str
    category_path: tuple[str, ...]   # e.g. ("BGTK Lampung", "2026", "Coding")
    summary: str = ""                # HTML
    format: str = "topics"
    start_date: int = 0
    end_date: int = 0
    visible: bool = True
    groupmode: int = 1               # 0 no groups, 1 separate groups (a facilitator sees their class), 2 visible
    lang: str = "id"
    enable_completion: bool = True
    sections: tuple[SectionSpec, ...] = ()
    master_course: MasterCourseRef | None = None
    groups: tuple[GroupSpec, ...] = ()
    grouping: GroupingSpec | None = None
    facilitators: tuple[FacilitatorSpec, ...] = ()
    facilitator_role: str = "editingteacher"
    facilitator_role_id: int | None = None   # the site's id of that role (None: Moodle's standard ids)
    regency: str | None = None       # regency slug when the course serves one regency
    evidence: EvidenceSpec = field(default_factory=EvidenceSpec)

    @property
    def numsections(self) -> int:
        """How many sections after section 0."""
        return max((s.number for s in self.sections), default=0)

    def spec_hash(self) -> str:
        """A stable hash of everything we would put into Moodle for this course."""
        text = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class OfferingSpec:
    offering_id: str
    title: str
    template: str
    batch: str
    courses: tuple[CourseSpec, ...]
    seats: int = 0                   # seats in the whole offering (0: no limit)
    class_size: int = 30
    min_per_regency: int = 0
    category_idnumber_prefix: str = "ms"
    variables: dict[str, Any] = field(default_factory=dict, compare=False)
    source: str | None = field(default=None, compare=False)   # the offering file it was rendered from

    def course(self, key: str) -> CourseSpec:
        for c in self.courses:
            if c.key == key:
                return c
        raise KeyError(key)

    @property
    def category_paths(self) -> list[tuple[str, ...]]:
        """Every category path the courses need, parents first, each once."""
        seen: list[tuple[str, ...]] = []
        for c in self.courses:
            for depth in range(1, len(c.category_path) + 1):
                p = c.category_path[:depth]
                if p not in seen:
                    seen.append(p)
        return seen


def offering_summary(offering: OfferingSpec) -> dict[str, Any]:
    """What the store keeps of a rendered offering: enough for enrolment, pulls and reports to run
    without the template (JSON-serialisable)."""
    return {
        "offering_id": offering.offering_id, "title": offering.title, "template": offering.template,
        "batch": offering.batch, "seats": offering.seats, "class_size": offering.class_size,
        "min_per_regency": offering.min_per_regency,
        "courses": [{"key": c.key, "idnumber": c.idnumber, "shortname": c.shortname, "fullname": c.fullname,
                     "regency": c.regency, "start_date": c.start_date, "end_date": c.end_date,
                     "pretest": c.evidence.pretest_idnumber, "posttest": c.evidence.posttest_idnumber,
                     "groups": [g.name for g in c.groups]}
                    for c in offering.courses],
        **({"file": offering.source} if offering.source else {}),   # lets OFFERING be given as its id
    }
