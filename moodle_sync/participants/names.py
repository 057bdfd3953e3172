"""People's names as Indonesian teachers write them, and how they go into Moodle.

A name is read as: title prefixes (Dr., Drs., Dra., Ir., Prof., H., Hj.), name words, and title suffixes
(S.Pd., M.Pd., Gr., A.Md. ...; written after a comma, or recognised at the end without one). Titles are
kept, in their usual spelling ("s.pd" -> "S.Pd."), and the suffixes are written after a comma as the
Indonesian spelling rules (PUEBI) want: ``"DRA. SITI AMINAH M.PD"`` -> ``"Dra. Siti Aminah, M.Pd."``.
Names typed all in capitals or all in small letters are capitalised word by word; mixed case is kept.

Moodle needs a first name and a last name (both required). Many Indonesians have no family name, so we
split so that ``firstname + " " + lastname`` is exactly the full name as written (certificates and reports
print it unchanged):

* two or more name words: the last name word and the suffix titles are the last name
  (``"Dra. Siti Aminah, M.Pd."`` -> ``"Dra. Siti"`` / ``"Aminah, M.Pd."``; ``"I Made Wirawan"`` ->
  ``"I Made"`` / ``"Wirawan"``; a Batak marga lands in the last name);
* one name word: the name (with prefix titles) is the first name, and the last name is the suffix titles
  if any, else ``"-"`` (``"Sukarno"`` -> ``"Sukarno"`` / ``"-"``). A dash is what Indonesian admins
  recognise as "no family name" and it keeps the name from being printed twice; pass
  ``single_word_lastname`` to choose something else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .normalise import InvalidValue

__all__ = ["MOODLE_NAME_MAX", "PersonName", "normalise_name", "parse_name", "split_name"]

MOODLE_NAME_MAX = 100
"""Moodle's firstname and lastname columns hold at most 100 characters each."""

_PREFIX_TITLES = {"prof": "Prof.", "dr": "Dr.", "drs": "Drs.", "dra": "Dra.", "ir": "Ir.", "h": "H.",
                  "hj": "Hj.", "kh": "K.H.", "drg": "drg.", "ust": "Ust.", "ustz": "Ustz.", "ns": "Ns."}
_SUFFIX_TITLES = {t.replace(".", "").lower(): t for t in (
    "S.Pd.", "S.Pd.I.", "S.Pd.SD", "S.Pd.Gr.", "S.Pd.K.", "M.Pd.", "M.Pd.I.", "Gr.", "S.Ag.", "M.Ag.",
    "S.Si.", "M.Si.", "S.Kom.", "M.Kom.", "S.E.", "M.E.", "S.H.", "M.H.", "S.H.I.", "S.Sos.", "S.S.",
    "M.Hum.", "S.Hum.", "S.T.", "M.T.", "S.Psi.", "M.Psi.", "S.IP.", "S.Th.I.", "S.Fil.I.", "S.Kep.",
    "S.Kes.", "S.Sn.", "S.P.", "M.P.", "S.Pt.", "S.Or.", "M.Or.", "S.Farm.", "S.Tr.", "M.M.", "M.A.",
    "M.Sc.", "M.Ed.", "Ph.D.", "B.A.", "B.Sc.", "Lc.", "A.Ma.", "A.Ma.Pd.", "A.Md.", "A.Md.Pd.", "A.Md.Kom.",
    "MBA", "S.Kom.I.", "S.Ud.", "S.Th.", "S.Mat.", "S.Stat.", "M.Pd.Mat.", "S.Inf.",
)}
# An unknown suffix title still looks like one: up to four dotted parts such as "S.Pd.Bio." or "M.Pd.Si".
_TITLE_SHAPE = re.compile(r"^(?:[A-Za-z]{1,4}\.){1,4}[A-Za-z]{0,4}\.?$")
_ALLOWED = re.compile(r"^[^\W\d_](?:[^\W\d_]|[\s.,'\u2019`\-])*$")


def _capitalise(word: str) -> str:
    return "-".join("'".join(p[:1].upper() + p[1:].lower() for p in part.split("'"))
                    for part in word.split("-"))


def _is_suffix(token: str, *, after_comma: bool = False) -> bool:
    """A title after the name: a known one (written without dots only if 3+ letters, like "SPd", or after a
    comma, so that names such as "Ma" stay names), or anything dotted in the shape of one ("S.Pd.Bio")."""
    key = token.replace(".", "").lower()
    if key in _SUFFIX_TITLES:
        return "." in token or len(key) >= 3 or after_comma
    return "." in token.rstrip(".") and bool(_TITLE_SHAPE.match(token))


def _suffix_form(token: str) -> str:
    return _SUFFIX_TITLES.get(token.replace(".", "").lower(), token)


_PREFIX_WITHOUT_DOT = {"dr", "drs", "dra", "prof", "hj"}   # never names, so "Drs Sukarno" is a title too


def _is_prefix(token: str) -> bool:
    key = token.replace(".", "").lower()
    return key in _PREFIX_TITLES and (token.endswith(".") or key in _PREFIX_WITHOUT_DOT)


@dataclass(frozen=True)
class PersonName:
    """A parsed name: ``prefixes`` (titles before), ``words`` (the name), ``suffixes`` (titles after)."""

    prefixes: tuple[str, ...]
    words: tuple[str, ...]
    suffixes: tuple[str, ...]
    note: str = field(default="", compare=False)   # text after a line break that is no name, left out

    @property
    def fullname(self) -> str:
        text = " ".join(self.prefixes + self.words)
        return f"{text}, {', '.join(self.suffixes)}" if self.suffixes else text

    def split(self, *, single_word_lastname: str = "-") -> tuple[str, str]:
        """``(firstname, lastname)`` for Moodle, as described in the module docstring."""
        if len(self.words) >= 2:
            first = " ".join(self.prefixes + self.words[:-1])
            last = ", ".join((self.words[-1],) + self.suffixes) if self.suffixes else self.words[-1]
            return first, last
        first = " ".join(self.prefixes + self.words)
        return first, ", ".join(self.suffixes) if self.suffixes else single_word_lastname


def _without_note(value: str) -> tuple[str, str]:
    """``(name, note)``: a form cell such as ``"Sri Siregar\n(wali kelas 5)"`` holds the name on its first
    line and a note after a line break. When the whole cell is no name but its first line is, the rest is
    the note; otherwise the note is empty (a name written over two lines stays one name)."""
    lines = [" ".join(line.split()) for line in value.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2 or _ALLOWED.match(" ".join(lines).strip(" ,")) or not _ALLOWED.match(lines[0].strip(" ,")):
        return value, ""
    return lines[0], " ".join(lines[1:])


def parse_name(value: str | None) -> PersonName:
    """Parse a full name as typed in a form.

    A note after a line break (``"Sri Siregar\n(wali kelas 5)"``) is left out and kept in
    :attr:`PersonName.note`, for the caller to warn about. Raises :class:`InvalidValue` when the name is
    empty, holds characters no name has (digits, ``=``, ``@``, brackets...), has only titles, or would not
    fit Moodle's 100-character first/last name fields.
    """
    value, note = _without_note(unicodedata.normalize("NFKC", value or ""))
    text = " ".join(value.split()).strip(" ,")
    if not text:
        raise InvalidValue("the name is empty")
    if not _ALLOWED.match(text):
        bad = sorted({c for c in text if not (c.isalpha() or c in " .,'\u2019`-")})
        shown = " ".join(repr(c) for c in bad) if bad else "its first character"
        raise InvalidValue(f"the name {text!r} contains characters a name does not have: {shown}")
    tokens = [t for t in re.split(r"[\s,]+", text) if t]
    prefixes: list[str] = []
    while tokens and _is_prefix(tokens[0]) and len(tokens) > 1:
        prefixes.append(_PREFIX_TITLES[tokens.pop(0).replace(".", "").lower()])
    comma_suffix = [t for t in re.split(r"[\s,]+", text.split(",", 1)[1]) if t] if "," in text else []
    suffixes: list[str] = []
    if comma_suffix and all(_is_suffix(t, after_comma=True) for t in comma_suffix):
        suffixes = [_suffix_form(t) for t in comma_suffix]
        tokens = tokens[: len(tokens) - len(comma_suffix)]
    while len(tokens) > 1 and _is_suffix(tokens[-1]):
        suffixes.insert(0, _suffix_form(tokens.pop()))
    if not tokens or all(_is_suffix(t) for t in tokens):
        raise InvalidValue(f"the name {text!r} has titles but no name")
    letters = "".join(c for w in tokens for c in w if c.isalpha())
    if len(letters) < 2:
        raise InvalidValue(f"the name {text!r} is too short")
    if letters.isupper() or letters.islower():
        tokens = [_capitalise(t) for t in tokens]
    name = PersonName(tuple(prefixes), tuple(tokens), tuple(suffixes), note)
    first, last = name.split()
    if max(len(first), len(last)) > MOODLE_NAME_MAX:
        raise InvalidValue(f"the name is longer than Moodle's {MOODLE_NAME_MAX} characters per part")
    return name


def normalise_name(value: str | None) -> str:
    """The full name with white space, capitals and titles tidied (see the module docstring)."""
    return parse_name(value).fullname


def split_name(fullname: str, *, single_word_lastname: str = "-") -> tuple[str, str]:
    """``(firstname, lastname)`` for Moodle; ``firstname + " " + lastname`` is the normalised full name."""
    return parse_name(fullname).split(single_word_lastname=single_word_lastname)
