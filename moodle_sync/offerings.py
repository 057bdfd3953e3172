"""The offering file: one run of a programme — which template, for whom, when, how many seats.

An offering file is YAML (read safely, every error naming file:line: field)::

    id: koding-2026-a1              # slug: lower-case letters, digits, '-'; goes into course idnumbers
    template: koding-untuk-guru
    title: Koding untuk Guru 2026
    batch: Angkatan 1
    start: 2026-07-06               # YYYY-MM-DD, 00:00 WIB (Asia/Jakarta)
    end: 2026-09-30                 # after start
    category: BGTK Lampung / 2026 / Koding      # or a list of names
    courses: per-regency            # one course per regency, or: single (one course, key "main")
    regencies: [metro, Kota Bandar Lampung]     # optional subset (slug, name or BPS code); default all 15;
                                    # courses follow the official (BPS code) order
    seats: 450                      # seats in the whole offering (0 or absent: no limit)
    class_size: 30
    min_per_regency: 10
    classes_per_course: 2           # or {default: 1, bandar-lampung: 2}; default ceil(seats per course / class_size)
    facilitators: facilitators.csv  # relative to this file: email, name, course, class
    variables: {jp: 32}             # passed to templates (over the template's defaults)
    visible: true                   # overrides the template's visibility
    applicants: {choice: [...], eligible: {...}}   # who applies and who may take a seat, with
    model_schools: [...]            # model_schools and quotas: see moodle_sync/participants/eligibility.py
    quotas: {metro: 12}

The facilitators CSV (UTF-8, comma or semicolon separated) has a header row with ``email``, ``name``
(or ``firstname`` + ``lastname``), ``course`` (a regency slug/name, or ``main`` for a single course) and
optionally ``class`` (a class letter such as ``A``, or a class (group) name; empty: the whole course).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .localtime import WIB
from .participants.eligibility import ApplicantRules, parse_applicant_rules
from .regions import LAMPUNG, Regency
from .templates._checks import Checker, check_variables, describe, join
from .templates._yaml import LocatedDict, display_path, load_located_yaml
from .templates.problems import OfferingError, Problem, ProblemsError

KEYS = frozenset({"id", "template", "title", "batch", "start", "end", "category", "courses", "regencies",
                  "seats", "class_size", "min_per_regency", "classes_per_course", "facilitators", "variables",
                  "visible"})
KEYS = KEYS | {"applicants", "model_schools", "quotas"}   # who gets a seat: participants/eligibility.py
KEYS = KEYS | {"adopt"}   # existing courses pulled as they are, never provisioned: see Adoption
REQUIRED = ("id", "template", "title", "batch", "start", "end", "category", "courses")
MODES = ("per-regency", "single")
SINGLE_KEY = "main"
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_ID_LENGTH = 40
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$")
LETTER_RE = re.compile(r"^[A-Za-z]{1,2}$")

def wib_midnight(day: dt.date) -> int:
    """Unix seconds of 00:00 WIB (Asia/Jakarta, UTC+7) on ``day``."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=WIB).timestamp())


@dataclass(frozen=True)
class Facilitator:
    """One row of the facilitators CSV: a person leading a class (or a whole course)."""

    email: str
    firstname: str
    lastname: str
    course: str                    # course key: a regency slug, or "main"
    class_ref: str | None          # a class letter ("A") or a class (group) name; None: the whole course
    file: str = ""
    row: int = 0

    @property
    def name(self) -> str:
        """The full name as written (a lone ``-`` last name stands for "no last name")."""
        return self.firstname if self.lastname == "-" else f"{self.firstname} {self.lastname}"

    @property
    def class_letter(self) -> str | None:
        """The class letter when ``class_ref`` is one (upper-case), else ``None``."""
        if self.class_ref and LETTER_RE.match(self.class_ref):
            return self.class_ref.upper()
        return None


@dataclass(frozen=True)
class Offering:
    """A validated offering. ``mode`` is ``per-regency`` (a course per regency) or ``single``."""

    id: str
    template: str
    title: str
    batch: str
    start: dt.date
    end: dt.date
    category: tuple[str, ...]
    mode: str
    regencies: tuple[Regency, ...]
    seats: int = 0
    class_size: int = 30
    min_per_regency: int = 0
    classes_per_course: Mapping[str, int] = field(default_factory=dict)
    facilitators: tuple[Facilitator, ...] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)
    visible: bool | None = None
    file: str | None = None
    template_line: int | None = None   # where ``template:`` is written in ``file``
    applicants: ApplicantRules = field(default_factory=ApplicantRules)   # choice, eligible, model schools, quotas
    adopt: Adoption | None = None    # existing courses this offering pulls instead of provisioning

    @property
    def template_where(self) -> tuple[str, int | None]:
        """``(file, line)`` of the offering's ``template:``, for errors about the template it names."""
        return self.file or "<offering>", self.template_line

    @property
    def start_ts(self) -> int:
        """Start as Unix seconds, 00:00 WIB."""
        return wib_midnight(self.start)

    @property
    def end_ts(self) -> int:
        """End as Unix seconds, 00:00 WIB."""
        return wib_midnight(self.end)

    @property
    def course_keys(self) -> tuple[str, ...]:
        """The keys of the offering's courses: regency slugs, or ``("main",)``."""
        if self.mode == "single":
            return (SINGLE_KEY,)
        return tuple(r.slug for r in self.regencies)

    def seats_for(self, key: str) -> int:
        """Seats of one course: the offering's seats shared evenly (rounded up); 0 means no limit."""
        if self.seats <= 0:
            return 0
        return self.seats if self.mode == "single" else math.ceil(self.seats / len(self.regencies))

    def classes_for(self, key: str) -> int:
        """How many classes (groups) the course ``key`` has."""
        return self.classes_per_course.get(key, 1)


def load_offering(path: str | os.PathLike[str]) -> Offering:
    """Read and validate an offering file (and its facilitators CSV).

    Raises :class:`OfferingError` (an ``InputError``) listing every problem as file:line: field: message
    (file:row: field for the CSV).
    """
    path = Path(path)
    try:
        document = load_located_yaml(path)
    except ProblemsError as exc:
        raise OfferingError(exc.problems) from None
    return parse_offering(document, file=display_path(path), base_dir=path.parent)


def parse_offering(document: Any, *, file: str = "<offering>", base_dir: Path | None = None) -> Offering:
    """Validate an offering given as a mapping (Located from YAML, or a plain dict); see :func:`load_offering`.

    Raises :class:`OfferingError` listing every problem found (file, line, field).
    """
    document = _located(document, file)
    c = Checker()
    offering = _settings(c, document, file)
    if offering is None:
        raise OfferingError(c.problems)
    classes = _classes(c, document, offering)
    if c.problems:
        raise OfferingError(c.problems)
    base = base_dir or Path.cwd()
    rules = parse_applicant_rules(document, add=c.add, base_dir=base, offered=[r.slug for r in offering.regencies])
    offering = _replace(offering, classes_per_course=classes, applicants=rules, adopt=_adoption(c, document))
    csv_name = c.text(document, "facilitators", "")
    if csv_name is not None:
        offering = _replace(offering, facilitators=load_facilitators(base / csv_name, offering))
    if c.problems:
        raise OfferingError(c.problems)
    return offering


def _located(document: Any, file: str) -> LocatedDict:
    """``document`` as a :class:`LocatedDict` (a plain mapping gets no lines); raises :class:`OfferingError`
    for anything that is not a mapping."""
    if isinstance(document, LocatedDict):
        return document
    if not isinstance(document, Mapping):
        raise OfferingError([Problem(file, 1, "", "must be a YAML mapping of settings")])
    located = LocatedDict(file, None)
    located.update(document)
    return located


def _settings(c: Checker, document: LocatedDict, file: str) -> Offering | None:
    """The offering's own settings (not yet its classes, applicants, adoption or facilitators), checked:
    problems go to ``c`` and give ``None``."""
    c.keys(document, "", KEYS, REQUIRED if "adopt" not in document else ADOPT_REQUIRED)
    offering_id = c.text(document, "id", "", pattern=ID_RE, explain="must be a slug: lower-case letters, "
                         "digits and '-' (e.g. koding-2026-a1)")
    if offering_id and len(offering_id) > MAX_ID_LENGTH:
        c.add(document.where("id"), "id", f"longer than {MAX_ID_LENGTH} characters")
    template = c.text(document, "template", "")
    title = c.text(document, "title", "")
    batch = c.text(document, "batch", "")
    start, end = _date(c, document, "start"), _date(c, document, "end")
    if start and end and end <= start:
        c.add(document.where("end"), "end", f"{end.isoformat()} is not after start {start.isoformat()}")
    category = _category(c, document)
    mode = c.text(document, "courses", "", choices=MODES) or ("single" if "adopt" in document else None)
    regencies = _regencies(c, document)
    seats = _count(c, document, "seats", 0, minimum=0)
    class_size = _count(c, document, "class_size", 30, minimum=1)
    min_per_regency = _count(c, document, "min_per_regency", 0, minimum=0)
    if seats and min_per_regency * len(regencies) > seats:
        c.add(document.where("min_per_regency"), "min_per_regency",
              f"{min_per_regency} for each of {len(regencies)} regencies needs "
              f"{min_per_regency * len(regencies)} seats, but there are only {seats}")
    variables = check_variables(c, document)
    visible = c.typed(document, "visible", "", bool)
    if c.problems:
        return None
    assert offering_id and template and title and batch and start and end and mode  # checked above
    return Offering(id=offering_id, template=template, title=title, batch=batch, start=start, end=end,
                    category=category, mode=mode, regencies=regencies, seats=seats, class_size=class_size,
                    min_per_regency=min_per_regency, variables=variables, visible=visible, file=file,
                    template_line=document.where("template")[1])


def _replace(offering: Offering, **changes: Any) -> Offering:
    from dataclasses import replace

    return replace(offering, **changes)


def _date(c: Checker, document: LocatedDict, key: str) -> dt.date | None:
    if key not in document or document[key] is None:
        return None
    value = document[key]
    if isinstance(value, dt.datetime):
        c.add(document.where(key), key, "must be a date (YYYY-MM-DD) without a time")
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                return dt.date.fromisoformat(value.strip())
        except ValueError:
            c.add(document.where(key), key, f"{value!r} is not a real date")
            return None
    c.add(document.where(key), key, f"must be a date YYYY-MM-DD, not {describe(value)}")
    return None


def _category(c: Checker, document: LocatedDict) -> tuple[str, ...]:
    value = document.get("category")
    if value is None:
        return ()
    where = document.where("category")
    if isinstance(value, str):
        parts = [p.strip() for p in value.split("/")]
    elif isinstance(value, list) and all(isinstance(p, str) for p in value):
        parts = [p.strip() for p in value]
    else:
        c.add(where, "category", "must be a path such as 'BGTK Lampung / 2026 / Koding' or a list of names")
        return ()
    if not parts or any(not p for p in parts):
        c.add(where, "category", "has an empty category name")
        return ()
    if any(len(p) > 255 for p in parts):
        c.add(where, "category", "a category name is longer than 255 characters")
        return ()
    return tuple(parts)


def find_regency(text: str) -> Regency | None:
    """The regency named by ``text``: a slug, short or official name, or BPS code (case-insensitive)."""
    wanted = " ".join(str(text).split()).lower()
    for r in LAMPUNG:
        if wanted in (r.slug, r.short.lower(), r.name.lower(), r.code):
            return r
    return None


def _regencies(c: Checker, document: LocatedDict) -> tuple[Regency, ...]:
    value = document.get("regencies")
    if value is None:
        return LAMPUNG
    if not isinstance(value, list) or not value:
        c.add(document.where("regencies"), "regencies", "must be a non-empty list of regency slugs or names")
        return LAMPUNG
    found: list[Regency] = []
    for i, item in enumerate(value):
        where = value.where(i) if hasattr(value, "where") else document.where("regencies")
        regency = find_regency(str(item)) if isinstance(item, (str, int)) else None
        if regency is None:
            c.add(where, join("regencies", i), f"{item!r} is not one of Lampung's 15 regencies/cities "
                  f"({', '.join(r.slug for r in LAMPUNG)})")
        elif regency in found:
            c.add(where, join("regencies", i), f"{regency.slug} is listed twice")
        else:
            found.append(regency)
    return tuple(sorted(found, key=LAMPUNG.index)) if found else LAMPUNG


def _count(c: Checker, document: LocatedDict, key: str, default: int, *, minimum: int) -> int:
    value = c.typed(document, key, "", int)
    if value is None:
        return default
    if value < minimum:
        c.add(document.where(key), key, f"must be at least {minimum}")
        return default
    return value


def _classes(c: Checker, document: LocatedDict, offering: Offering) -> dict[str, int]:
    """Classes per course key: the given number (or mapping), else ceil(seats per course / class_size)."""
    keys = offering.course_keys
    derived = {k: max(1, math.ceil(offering.seats_for(k) / offering.class_size)) for k in keys}
    value = document.get("classes_per_course")
    if value is None:
        return derived
    where = document.where("classes_per_course")
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            c.add(where, "classes_per_course", "must be at least 1")
            return derived
        return {k: value for k in keys}
    if not isinstance(value, dict):
        c.add(where, "classes_per_course", f"must be a number or a mapping of course to number, "
              f"not {describe(value)}")
        return derived
    result = dict(derived)
    given = dict(value)
    if "default" in given:
        default = given.pop("default")
        if not isinstance(default, int) or isinstance(default, bool) or default < 1:
            c.add(_where(value, "default", where), "classes_per_course.default", "must be a number, at least 1")
        else:
            result = {k: default for k in keys}
    for key, number in given.items():
        field_name = join("classes_per_course", str(key))
        course = _course_key(str(key), offering)
        if course is None:
            c.add(_where(value, key, where), field_name, f"{key!r} is not a course of this offering "
                  f"({', '.join(keys)})")
        elif not isinstance(number, int) or isinstance(number, bool) or number < 1:
            c.add(_where(value, key, where), field_name, "must be a number, at least 1")
        else:
            result[course] = number
    return result


def _where(mapping: Any, key: Any, fallback: tuple[str, int | None]) -> tuple[str, int | None]:
    return mapping.where(key) if isinstance(mapping, LocatedDict) else fallback


def _course_key(text: str, offering: Offering) -> str | None:
    """The course key ``text`` names in this offering (a regency slug/name, or ``main``), or ``None``."""
    if offering.mode == "single":
        return SINGLE_KEY if text.strip().lower() in (SINGLE_KEY, "") else None
    regency = find_regency(text)
    return regency.slug if regency is not None and regency in offering.regencies else None


# Facilitators CSV --------------------------------------------------------------------------------------

COLUMN_ALIASES = {
    "email": ("email", "e-mail", "surel"),
    "name": ("name", "nama", "nama lengkap"),
    "firstname": ("firstname", "first name", "nama depan"),
    "lastname": ("lastname", "last name", "nama belakang"),
    "course": ("course", "kursus", "regency", "kabupaten", "kabupaten/kota"),
    "class": ("class", "kelas", "group"),
}


def split_name(name: str) -> tuple[str, str]:
    """Moodle's first and last name from one full name, so that ``first + " " + last`` is the name.

    The last word is the last name, with any academic titles written after a comma
    (``"Dra. Siti Aminah, M.Pd."`` -> ``"Dra. Siti"`` / ``"Aminah, M.Pd."``). A one-word name (common in
    Indonesia) keeps the titles, or ``"-"``, as the last name, since Moodle requires one: the same
    convention as the participants' names.
    """
    core, comma, suffix = " ".join(name.split()).partition(",")
    suffix = suffix.strip()
    words = core.strip().split(" ")
    if len(words) == 1:
        return words[0], suffix or "-"
    return " ".join(words[:-1]), words[-1] + (f", {suffix}" if comma and suffix else "")


def load_facilitators(path: Path, offering: Offering) -> tuple[Facilitator, ...]:
    """Read and validate the facilitators CSV of ``offering``.

    Raises :class:`OfferingError` listing every bad row as file:row: field: message.
    """
    file = display_path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise OfferingError([Problem(file, None, "", f"cannot read facilitators file: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise OfferingError([Problem(file, None, "", f"not UTF-8 text (byte {exc.start}); save the CSV as "
                                     "UTF-8")]) from None
    header_line = text.splitlines()[0] if text.strip() else ""
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise OfferingError([Problem(file, 1, "", "empty file: expected a header row with email, name, course, "
                                     "class")])
    columns, problems = _columns(header, file)
    if problems:
        raise OfferingError(problems)
    found: list[Facilitator] = []
    seen: dict[tuple[str, str, str], int] = {}
    names: dict[str, tuple[str, int]] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        cell = {key: (row[i].strip() if i < len(row) else "") for key, i in columns.items()}
        facilitator = _facilitator(cell, offering, file, line, problems)
        if facilitator is None:
            continue
        key = (facilitator.email, facilitator.course, (facilitator.class_ref or "").lower())
        if key in seen:
            problems.append(Problem(file, line, "email", f"{facilitator.email} is already given for this course "
                                    f"and class on row {seen[key]}"))
            continue
        seen[key] = line
        previous = names.get(facilitator.email)
        if previous and previous[0] != facilitator.name:
            problems.append(Problem(file, line, "name", f"{facilitator.email} is called {previous[0]!r} on row "
                                    f"{previous[1]}: one person, one name"))
            continue
        names[facilitator.email] = (facilitator.name, line)
        found.append(facilitator)
    if problems:
        raise OfferingError(problems)
    return tuple(found)


def _columns(header: list[str], file: str) -> tuple[dict[str, int], list[Problem]]:
    columns: dict[str, int] = {}
    for i, raw in enumerate(header):
        label = " ".join(raw.strip().lower().split())
        for key, aliases in COLUMN_ALIASES.items():
            if label in aliases and key not in columns:
                columns[key] = i
    problems = []
    has_name = "name" in columns or ("firstname" in columns and "lastname" in columns)
    for key in ("email", "course"):
        if key not in columns:
            problems.append(Problem(file, 1, key, f"missing column (header: {', '.join(header)})"))
    if not has_name:
        problems.append(Problem(file, 1, "name", "missing column: give name, or firstname and lastname"))
    return columns, problems


def _facilitator(cell: Mapping[str, str], offering: Offering, file: str, line: int,
                 problems: list[Problem]) -> Facilitator | None:
    before = len(problems)
    email = cell.get("email", "").lower()
    if not email:
        problems.append(Problem(file, line, "email", "required"))
    elif not EMAIL_RE.match(email):
        problems.append(Problem(file, line, "email", f"{email!r} is not an e-mail address"))
    first, last = cell.get("firstname", ""), cell.get("lastname", "")
    if not (first and last):
        name = cell.get("name", "")
        if not name:
            problems.append(Problem(file, line, "name", "required"))
        else:
            first, last = split_name(name)
    course_text = cell.get("course", "")
    course = _course_key(course_text, offering)
    if course is None:
        expected = "main" if offering.mode == "single" else "a regency slug or name of this offering"
        problems.append(Problem(file, line, "course", f"{course_text!r} is not a course of this offering "
                                f"(expected {expected})" if course_text else "required"))
    class_ref = cell.get("class", "") or None
    if class_ref and course is not None and LETTER_RE.match(class_ref):
        count = offering.classes_for(course)
        index = _letter_index(class_ref.upper())
        if index >= count:
            problems.append(Problem(file, line, "class", f"class {class_ref.upper()} does not exist: course "
                                    f"{course} has {count} class{'es' if count > 1 else ''}"))
    if len(problems) > before:
        return None
    assert course is not None
    return Facilitator(email, first, last, course, class_ref.upper() if class_ref and LETTER_RE.match(class_ref)
                       else class_ref, file, line)


def _letter_index(letters: str) -> int:
    """0-based index of a class letter: A -> 0, Z -> 25, AA -> 26."""
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - ord("A") + 1)
    return index - 1


# Pass rule and certificate numbers ----------------------------------------------------------------------
# Read from the rendered variables (the template's defaults, the offering's `variables` over them):
#   nilai_lulus: 70                  # post-test pass mark, percent of the post-test's maximum; null: no post-test
#   lulus_wajib_selesai: true        # the course must be complete (Moodle's course completion)
#   nomor_sertifikat: "{seq:04d}/BGTK-LPG/{year}"   # {seq} (required), {year} (the offering's start), {offering}

DEFAULT_PASS_MARK = 70.0
DEFAULT_CERTIFICATE_PATTERN = "{seq:04d}/BGTK-LPG/{year}"
CERTIFICATE_FIELDS = ("seq", "year", "offering")


@dataclass(frozen=True)
class PassRule:
    """Who passed: the course complete (when ``require_completion``) and the post-test at least
    ``posttest_min`` percent of its maximum (when not ``None``)."""

    posttest_min: float | None = DEFAULT_PASS_MARK
    require_completion: bool = True

    def passed(self, completed: bool, posttest_grade: float | None, posttest_max: float | None) -> bool:
        """Whether one participant passed; a missing post-test grade (or maximum) fails a post-test rule."""
        if self.require_completion and not completed:
            return False
        if self.posttest_min is None:
            return True
        if posttest_grade is None or not posttest_max:
            return False
        return posttest_grade * 100.0 >= self.posttest_min * posttest_max   # no float division at the edge

    def below(self, posttest_grade: float | None, posttest_max: float | None) -> bool:
        """Whether a post-test grade exists and is under the pass mark."""
        if self.posttest_min is None or posttest_grade is None or not posttest_max:
            return False
        return posttest_grade * 100.0 < self.posttest_min * posttest_max


@dataclass(frozen=True)
class CertificatePattern:
    """A certificate number pattern (``str.format`` fields: seq, year, offering). Numbers are counted per
    pattern and, when the pattern shows ``{year}``, per year."""

    text: str = DEFAULT_CERTIFICATE_PATTERN

    @property
    def yearly(self) -> bool:
        """Whether the sequence restarts each year (the pattern shows the year)."""
        return "year" in _format_fields(self.text)

    def number(self, seq: int, year: int, offering: str) -> str:
        """The certificate number of sequence ``seq``."""
        return self.text.format(seq=seq, year=year, offering=offering)


def _format_fields(pattern: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]


def pass_rule(variables: Mapping[str, Any], file: str = "<offering>") -> PassRule:
    """The pass rule from rendered variables; :class:`OfferingError` naming ``variables.<name>`` when bad."""
    mark = variables.get("nilai_lulus", DEFAULT_PASS_MARK)
    complete = variables.get("lulus_wajib_selesai", True)
    problems = []
    if mark is not None and (isinstance(mark, bool) or not isinstance(mark, (int, float)) or not 0 <= mark <= 100):
        problems.append(Problem(file, None, "variables.nilai_lulus", f"must be a number from 0 to 100 (percent of "
                                f"the post-test's maximum) or null, not {mark!r}"))
    if not isinstance(complete, bool):
        problems.append(Problem(file, None, "variables.lulus_wajib_selesai",
                                f"must be true or false, not {complete!r}"))
    if problems:
        raise OfferingError(problems)
    return PassRule(None if mark is None else float(mark), complete)


def training_hours(variables: Mapping[str, Any], file: str = "<offering>") -> int | float | None:
    """The certificate's training hours (JP) from rendered variables (``jp``): a positive number, also
    when written as text (``"40"``, ``"32,5"``); None when not set. :class:`OfferingError` naming
    ``variables.jp`` when it is set but not a positive number (never silently left off a certificate)."""
    value = variables.get("jp")
    if value is None:
        return None
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number <= 0:
        raise OfferingError([Problem(file, None, "variables.jp", f"must be the training hours (JP), a positive "
                                     f"number such as 40, not {value!r}")])
    return int(number) if number.is_integer() else number


def certificate_pattern(variables: Mapping[str, Any], file: str = "<offering>") -> CertificatePattern:
    """The certificate number pattern from rendered variables (``nomor_sertifikat``, default
    :data:`DEFAULT_CERTIFICATE_PATTERN`); :class:`OfferingError` when it is not a usable pattern."""
    text = variables.get("nomor_sertifikat", DEFAULT_CERTIFICATE_PATTERN)
    field_name = "variables.nomor_sertifikat"
    if not isinstance(text, str) or not text.strip():
        raise OfferingError([Problem(file, None, field_name, f"must be a text such as "
                                     f"{DEFAULT_CERTIFICATE_PATTERN!r}, not {text!r}")])
    pattern = CertificatePattern(text)
    try:
        names = _format_fields(text)
        if "seq" in names and set(names) <= set(CERTIFICATE_FIELDS):
            pattern.number(1, 2026, "x")
    except (ValueError, KeyError, IndexError) as exc:
        raise OfferingError([Problem(file, None, field_name, f"{text!r} is not a pattern: {exc}")]) from None
    if "seq" not in names or not set(names) <= set(CERTIFICATE_FIELDS):
        raise OfferingError([Problem(file, None, field_name, f"{text!r} must contain {{seq}} and only "
                                     f"{', '.join('{' + f + '}' for f in CERTIFICATE_FIELDS)}")])
    return pattern


# Adopted courses -----------------------------------------------------------------------------------------

ADOPT_REQUIRED = ("id", "template", "title", "batch", "start", "end")
ADOPT_KEYS = ("idnumbers", "category", "evidence")


@dataclass(frozen=True)
class Adoption:
    """Existing Moodle courses an offering takes as they are (a centre's past programmes), instead of
    provisioning its own: ``plan``/``apply`` never change them; ``pull`` and ``report`` read them.

    ``idnumbers``: course idnumbers, each with the regency slug it serves (or None); ``category``: a
    category path whose courses (not its subcategories') are all adopted; ``pretest``/``posttest``: the
    grade items (idnumber, else item name) that are the tests, over the template's evidence idnumbers."""

    idnumbers: tuple[tuple[str, str | None], ...] = ()
    category: tuple[str, ...] = ()
    pretest: str | None = None
    posttest: str | None = None


def _adoption(c: Checker, document: LocatedDict) -> Adoption | None:
    """The ``adopt:`` block: ``idnumbers`` (a list, or a mapping of idnumber to regency), ``category`` (a
    path, as ``category:``), ``evidence: {pretest, posttest}``; at least one of idnumbers and category."""
    block = c.mapping(document, "adopt", "")
    if block is None:
        return None
    if not isinstance(block, LocatedDict):
        located = LocatedDict(*document.where("adopt"))
        located.update(block)
        block = located
    c.keys(block, "adopt", ADOPT_KEYS)
    ids: list[tuple[str, str | None]] = []
    value = block.get("idnumbers")
    items = list(value.items()) if isinstance(value, dict) else [(v, None) for v in value] if isinstance(
        value, list) else None
    if value is not None and items is None:
        c.add(block.where("idnumbers"), "adopt.idnumbers", "must be a list of course idnumbers, or a mapping "
              "of course idnumber to regency")
    for idnumber, regency_text in items or []:
        regency = find_regency(str(regency_text)) if regency_text is not None else None
        if not isinstance(idnumber, (str, int)) or not str(idnumber).strip():
            c.add(block.where("idnumbers"), "adopt.idnumbers", f"{idnumber!r} is not a course idnumber")
        elif regency_text is not None and regency is None:
            c.add(block.where("idnumbers"), join("adopt.idnumbers", str(idnumber)),
                  f"{regency_text!r} is not one of Lampung's 15 regencies/cities")
        else:
            ids.append((str(idnumber).strip(), regency.slug if regency else None))
    category = _category(c, block) if "category" in block else ()
    if not ids and not category:
        c.add(document.where("adopt"), "adopt", "names no course: give idnumbers, a category, or both")
    evidence = c.mapping(block, "evidence", "adopt")
    tests: dict[str, str | None] = {"pretest": None, "posttest": None}
    if evidence is not None:
        located = evidence if isinstance(evidence, LocatedDict) else LocatedDict(*block.where("evidence"))
        located.update(evidence)
        c.keys(located, "adopt.evidence", tuple(tests))
        tests = {k: c.text(located, k, "adopt.evidence") for k in tests}
    return Adoption(tuple(ids), category, tests["pretest"], tests["posttest"])
