"""Who is an applicant for an offering, and who may take a seat: programme choice, eligibility, model schools.

The offering file says it (all optional)::

    applicants:
      choice: [Literasi Kelautan, Kelautan]    # answers of the form's choice column that mean this offering
                                               # (default: the offering's and its template's titles)
      eligible:                                # the target audience; every rule given must hold
        levels: [SD, SMP]                      # school levels (SD, SMP, SMA, SMK, SLB, PAUD)
        subjects: [Guru BK, Bahasa Inggris]    # subject taught or role: one must appear in the answer
        regencies: [pesisir-barat, tanggamus]  # slugs or names
        schools: sekolah-pesisir.csv           # NPSN list, or a CSV/XLSX with an NPSN column (relative path)
        years_of_service: {min: 10}            # whole years; min and/or max
    model_schools:                             # or a CSV/XLSX: NPSN, seats/kursi[, name/nama, facilitator]
      - {npsn: 10801234, seats: 6, name: SD Negeri 1 Kota Agung, facilitator: rina@guru.id}
    quotas: {bandar-lampung: 30, tanggamus: 20}   # seats per regency (see ``moodle-sync needs --propose``)
    #   or per level: {bandar-lampung: {SD: 12, SMP: 8}}: the regency's quota is the sum

Matching ignores case, spacing and punctuation; subjects and roles are also matched by their usual
abbreviations and other names (:func:`subject_key`). The rules here are pure; :func:`parse_applicant_rules`
reads the block (files relative to the offering) and reports problems as file:line: field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import InputError
from .model import SCHOOL_LEVELS, Applicant
from .normalise import InvalidValue, normalise_npsn, normalise_school_level
from .regency_names import InvalidRegency, normalise_regency

__all__ = [
    "ApplicantRules",
    "Eligibility",
    "ModelSchool",
    "choice_rank",
    "ineligible",
    "match_key",
    "parse_applicant_rules",
    "subject_key",
    "unmatched_rules",
]

RULE_LEVEL, RULE_SUBJECT, RULE_REGENCY, RULE_SCHOOL, RULE_YEARS = (
    "levels", "subjects", "regencies", "schools", "years_of_service")


def match_key(text: str) -> str:
    """``"Literasi  Kelautan!"`` -> ``"literasi kelautan"``: what choice and subject matching compares."""
    return " ".join(re.sub(r"[\W_]+", " ", str(text).casefold()).split())


_SUBJECT_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("bimbingan dan konseling", "bk"), ("bimbingan konseling", "bk"), ("bimbingan penyuluhan", "bk"),
    ("konselor", "bk"), ("bp bk", "bk"), ("english", "bahasa inggris"), ("bhs", "bahasa"),
    ("b inggris", "bahasa inggris"), ("b indonesia", "bahasa indonesia"), ("b ing", "bahasa inggris"),
    ("cakep", "calon kepala sekolah"), ("cks", "calon kepala sekolah"), ("kepsek", "kepala sekolah"),
    ("kasek", "kepala sekolah"), ("mata pelajaran", ""), ("mapel", ""), ("bidang studi", ""), ("guru", ""),
)


def subject_key(text: str) -> str:
    """What subject/role rules compare: :func:`match_key` with letters written apart joined ("B.K." ->
    "bk"), abbreviations and English names written out ("Bhs Inggris", "English" -> "bahasa inggris",
    "Bimbingan dan Konseling", "Konselor" -> "bk", "Cakep", "Calon Kepsek" -> "calon kepala sekolah")
    and the words "guru", "mapel", "mata pelajaran", "bidang studi" left out (unless nothing else is left)."""
    key = re.sub(r"\b(\w) (?=\w\b)", r"\1", match_key(text))    # "b k" -> "bk"
    key = f" {key} "
    for other, name in _SUBJECT_SYNONYMS:
        key = key.replace(f" {other} ", f" {name} " if name else " ")
    return " ".join(key.split()) or match_key(text)


@dataclass(frozen=True)
class Eligibility:
    """The target audience; an empty tuple / ``None`` means "no rule"."""

    levels: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    regencies: tuple[str, ...] = ()     # slugs
    schools: tuple[str, ...] = ()       # NPSN
    min_years: int | None = None
    max_years: int | None = None


@dataclass(frozen=True)
class ModelSchool:
    """A model school (sekolah model): seats reserved for its teachers, one class with its facilitator."""

    npsn: str
    seats: int
    name: str | None = None
    facilitator: str | None = None


@dataclass(frozen=True)
class ApplicantRules:
    """The ``applicants:``, ``model_schools:`` and ``quotas:`` of an offering, and the regencies it serves
    (an applicant from another is not selected, also when the offering has a single course)."""

    choice: tuple[str, ...] = ()
    eligible: Eligibility = field(default_factory=Eligibility)
    model_schools: tuple[ModelSchool, ...] = ()
    quotas: Mapping[str, int] = field(default_factory=dict)
    regencies: tuple[str, ...] = ()     # the regencies the offering serves (slugs); empty: not said
    level_quotas: Mapping[str, Mapping[str, int]] = field(default_factory=dict)   # regency -> level -> seats


def choice_rank(applicant: Applicant, names: Sequence[str]) -> int | None:
    """1 when the applicant's first choice is one of ``names``, 2 for the second choice, ``None`` when
    neither is. An applicant with no choice at all (no choice column) is a first-choice applicant. A
    multi-select answer ("Koding, Literasi Kelautan", also split on ``;`` and line breaks) names each
    programme ticked: it means this offering when the whole answer or one of its parts does, also
    without a bracketed note ("Koding untuk Guru (Angkatan 2)")."""
    if not applicant.choices:
        return 1
    wanted = {match_key(n) for n in names}
    for rank, answer in enumerate(applicant.choices, start=1):
        parts = [answer, *re.split(r"[;,\n]", answer)]
        parts += [re.sub(r"\([^)]*\)", " ", part) for part in parts]      # "Koding (5 Okt - 18 Des)"
        if any(match_key(part) in wanted for part in parts):
            return rank
    return None


def ineligible(applicant: Applicant, rules: Eligibility) -> tuple[str, str] | None:
    """``(rule, English reason)`` of the first rule the applicant fails, in the order levels, subjects,
    regencies, schools, years of service; ``None`` when eligible. A missing answer fails a rule that needs it."""
    a = applicant
    if rules.levels and a.school_level not in rules.levels:
        return RULE_LEVEL, (f"school level {a.school_level or '(not given)'} is not among "
                            f"{', '.join(rules.levels)}")
    if rules.subjects:
        answer = f" {subject_key(a.subject or '')} "
        if not a.subject or not any(f" {subject_key(s)} " in answer for s in rules.subjects):
            return RULE_SUBJECT, (f"subject/role {a.subject or '(not given)'!r} is none of "
                                  f"{', '.join(rules.subjects)}")
    if rules.regencies and a.regency not in rules.regencies:
        return RULE_REGENCY, f"{a.regency_name} is not a regency of the target audience"
    if rules.schools and a.npsn not in rules.schools:
        return RULE_SCHOOL, (f"school {a.school or '?'} (NPSN {a.npsn or 'not given'}) is not on the list of "
                             f"{len(rules.schools)} target schools")
    years = a.years_of_service
    if rules.min_years is not None and (years is None or years < rules.min_years):
        return RULE_YEARS, f"years of service {'not given' if years is None else years} < {rules.min_years}"
    if rules.max_years is not None and (years is None or years > rules.max_years):
        return RULE_YEARS, f"years of service {'not given' if years is None else years} > {rules.max_years}"
    return None


def unmatched_rules(applicants: Sequence[Applicant], rules: Eligibility) -> list[str]:
    """Warnings for the subjects and schools of ``rules`` that no applicant's answer matches (a rule
    spelled unlike the form, or a list nobody is on), each naming the rule and what the form says."""
    warnings: list[str] = []
    answers = sorted({a.subject for a in applicants if a.subject})
    keys = [f" {subject_key(x)} " for x in answers]
    for rule in rules.subjects:
        if not any(f" {subject_key(rule)} " in k for k in keys):
            seen = ", ".join(repr(x) for x in answers[:12]) + (", ..." if len(answers) > 12 else "")
            warnings.append(f"applicants.eligible.subjects: no applicant's answer matches {rule!r} "
                            f"(answers: {seen or 'none'})")
    if rules.schools and not any(a.npsn in rules.schools for a in applicants):
        warnings.append(f"applicants.eligible.schools: no applicant's NPSN is on the list of "
                        f"{len(rules.schools)} schools")
    return warnings


# --- reading the offering's block ----------------------------------------------------------------------

def _where(mapping: Any, key: Any, fallback: tuple[str, int | None]) -> tuple[str, int | None]:
    return mapping.where(key) if hasattr(mapping, "where") else fallback


_FILE_COLUMNS = (("npsn", ("npsn",)), ("seats", ("seats", "kursi", "kuota", "quota", "jumlah kursi")),
                 ("facilitator", ("facilitator", "fasilitator")), ("name", ("name", "nama", "sekolah", "school")))


def _file_rows(value: str, base: Path, add: Any, where: tuple[str, int | None], name: str,
               needed: Sequence[str]) -> list[dict[str, str]]:
    """The rows of a CSV/XLSX file named in the offering (any encoding and delimiter the registrations'
    reader takes), keyed npsn / seats / name / facilitator by their headers ("NPSN Sekolah", "Kursi",
    "Nama Sekolah", "Fasilitator"). A file that cannot be read, has no rows or lacks a ``needed`` column
    is reported through ``add`` and gives no rows."""
    from .columns import _has, _norm
    from .reader import read_table

    try:
        table = read_table(base / value)
    except InputError as exc:
        add(where, name, f"cannot read {value}: {exc}")
        return []
    keys: dict[int, str] = {}
    for i, header in enumerate(table.header):
        key = next((k for k, words in _FILE_COLUMNS if k not in keys.values() and _has(*words)(_norm(header))),
                   None)
        if key:
            keys[i] = key
    missing = [k for k in needed if k not in keys.values()]
    if missing or not table.rows:
        add(where, name, f"{value} has {'no rows' if not missing else 'no ' + ' or '.join(missing) + ' column'}"
            f" (headers: {', '.join(table.header)})")
        return []
    return [{k: (cells[i] if i < len(cells) else "") for i, k in keys.items()} for _, cells in table.rows]


def _npsn_list(value: Any, base: Path, add: Any, where: tuple[str, int | None], name: str) -> tuple[str, ...]:
    rows: list[Any]
    if isinstance(value, str) and not value.strip().isdigit():
        rows = [r["npsn"] for r in _file_rows(value, base, add, where, name, ("npsn",))]
        if not rows:
            return ()
    elif isinstance(value, list):
        rows = list(value)
    else:
        rows = [value]
    found: list[str] = []
    for i, item in enumerate(rows):
        try:
            npsn = normalise_npsn(str(item))
        except InvalidValue as exc:
            add(_where(value, i, where), f"{name}[{i}]", str(exc))
            continue
        if npsn and npsn not in found:
            found.append(npsn)
    return tuple(found)


def _texts(value: Any, add: Any, where: tuple[str, int | None], name: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(x, (str, int)) and str(x).strip() for x in items):
        add(where, name, "must be a list of names")
        return ()
    return tuple(str(x).strip() for x in items)


def _eligibility(value: Any, base: Path, add: Any, where: tuple[str, int | None]) -> Eligibility:
    if not isinstance(value, dict):
        add(where, "applicants.eligible", "must be a mapping (levels, subjects, regencies, schools, "
            "years_of_service)")
        return Eligibility()
    allowed = {"levels", "subjects", "regencies", "schools", "years_of_service"}
    for key in value:
        if key not in allowed:
            add(_where(value, key, where), f"applicants.eligible.{key}",
                f"unknown key (allowed: {', '.join(sorted(allowed))})")
    out: dict[str, Any] = {}
    for key in ("levels", "subjects", "regencies"):
        if value.get(key) is not None:
            out[key] = _texts(value[key], add, _where(value, key, where), f"applicants.eligible.{key}")
    levels = []
    for text in out.pop("levels", ()):
        try:
            levels.append(normalise_school_level(text))
        except InvalidValue:
            add(_where(value, "levels", where), "applicants.eligible.levels",
                f"{text!r} is not one of {', '.join(SCHOOL_LEVELS)}")
    slugs = []
    for text in out.pop("regencies", ()):
        try:
            slugs.append(normalise_regency(text))
        except InvalidRegency as exc:
            add(_where(value, "regencies", where), "applicants.eligible.regencies", str(exc))
    schools = (_npsn_list(value["schools"], base, add, _where(value, "schools", where),
                          "applicants.eligible.schools") if value.get("schools") is not None else ())
    years = value.get("years_of_service") or {}
    if not isinstance(years, dict) or not all(isinstance(years.get(k, 0), int) for k in ("min", "max")):
        add(_where(value, "years_of_service", where), "applicants.eligible.years_of_service",
            "must be {min: N} and/or {max: N} (whole years)")
        years = {}
    return Eligibility(tuple(str(x) for x in levels), out.get("subjects", ()), tuple(slugs), schools,
                       years.get("min"), years.get("max"))


def _model_schools(value: Any, base: Path, add: Any, where: tuple[str, int | None]) -> tuple[ModelSchool, ...]:
    rows: list[Any]
    if isinstance(value, str):
        rows = _file_rows(value, base, add, where, "model_schools", ("npsn", "seats"))
    elif isinstance(value, list):
        rows = list(value)
    else:
        add(where, "model_schools", "must be a list of {npsn, seats} or a CSV file name")
        return ()
    found: list[ModelSchool] = []
    for i, row in enumerate(rows):
        at, name = _where(value, i, where), f"model_schools[{i}]"
        if not isinstance(row, dict):
            add(at, name, "must be a mapping with npsn and seats")
            continue
        try:
            npsn = normalise_npsn(str(row.get("npsn") or ""))
            seats = int(str(row.get("seats", "")).strip())
        except (InvalidValue, ValueError) as exc:
            add(at, name, f"needs a valid npsn and a whole number of seats ({exc})")
            continue
        if npsn is None or seats < 1 or any(m.npsn == npsn for m in found):
            add(at, name, "needs an NPSN (listed once) and at least 1 seat")
            continue
        found.append(ModelSchool(npsn, seats, str(row.get("name") or "").strip() or None,
                                 str(row.get("facilitator") or "").strip().lower() or None))
    return tuple(found)


def _seats(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _level_quotas(value: Any, add: Any, where: tuple[str, int | None], field: str) -> dict[str, int] | None:
    """``{SD: 12, SMP: 8}`` (levels as people write them) -> seats per level; ``None`` with a problem
    (file:line, ``quotas.<regency>.<level>``) when a level or a number is wrong."""
    levels: dict[str, int] = {}
    ok = True
    for key, seats in value.items():
        at = _where(value, key, where)
        try:
            level = normalise_school_level(str(key))
        except InvalidValue:
            level = None
        if level is None:
            add(at, f"{field}.{key}", f"{key!r} is not one of {', '.join(SCHOOL_LEVELS)}")
        elif level in levels:
            add(at, f"{field}.{key}", f"{level} is given twice")
        elif not _seats(seats):
            add(at, f"{field}.{key}", "must be a whole number of seats, at least 0")
        else:
            levels[level] = seats
            continue
        ok = False
    return levels if ok else None


def _quotas(value: Any, add: Any, where: tuple[str, int | None], offered: Sequence[str]
            ) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """``quotas:`` -> (seats per regency, seats per level of the regencies split by level). A regency is
    ``seats`` or ``{level: seats, ...}`` (its quota then being the sum)."""
    if not isinstance(value, dict):
        add(where, "quotas", "must be a mapping of regency: seats")
        return {}, {}
    quotas: dict[str, int] = {}
    by_level: dict[str, dict[str, int]] = {}
    for key, seats in value.items():
        at = _where(value, key, where)
        try:
            slug = normalise_regency(str(key))
        except InvalidRegency as exc:
            add(at, f"quotas.{key}", str(exc))
            continue
        if slug not in offered:
            add(at, f"quotas.{key}", f"{slug} is not a regency of this offering")
        elif isinstance(seats, dict):
            levels = _level_quotas(seats, add, at, f"quotas.{key}")
            if levels is not None:
                quotas[slug], by_level[slug] = sum(levels.values()), levels
        elif not _seats(seats):
            add(at, f"quotas.{key}", "must be a whole number of seats (or a mapping of level: seats), at least 0")
        else:
            quotas[slug] = seats
    return quotas, by_level


def parse_applicant_rules(document: Mapping[str, Any], *, add: Any, base_dir: Path,
                          offered: Sequence[str]) -> ApplicantRules:
    """Read ``applicants:``, ``model_schools:`` and ``quotas:`` from an offering mapping (Located or plain).

    ``add(where, field, message)`` receives every problem (``where`` = (file, line)); ``offered`` are the
    offering's regency slugs. Returns the rules read (a wrong part left out)."""
    where = ("<offering>", None)
    block = document.get("applicants") or {}
    at = _where(document, "applicants", where)
    if not isinstance(block, dict):
        add(at, "applicants", "must be a mapping (choice, eligible)")
        block = {}
    for key in block:
        if key not in ("choice", "eligible"):
            add(_where(block, key, at), f"applicants.{key}", "unknown key (allowed: choice, eligible)")
    choice = (_texts(block["choice"], add, _where(block, "choice", at), "applicants.choice")
              if block.get("choice") is not None else ())
    eligible = (_eligibility(block["eligible"], base_dir, add, _where(block, "eligible", at))
                if block.get("eligible") is not None else Eligibility())
    model = (_model_schools(document["model_schools"], base_dir, add, _where(document, "model_schools", where))
             if document.get("model_schools") is not None else ())
    quotas, level_quotas = (_quotas(document["quotas"], add, _where(document, "quotas", where), offered)
                            if document.get("quotas") is not None else ({}, {}))
    return ApplicantRules(choice, eligible, model, quotas, tuple(offered), level_quotas)
