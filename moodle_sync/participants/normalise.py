"""Normalising and validating the values of one registration row.

Each function takes the text of a cell and returns the clean value (``None`` where the value is optional
and absent) or raises :class:`InvalidValue` (a ``ValueError``) whose text is the reason, in English, fit for
a rejects file. The regency lives in :mod:`.regency_names`, names in :mod:`.names`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from ..localtime import WIB

__all__ = [
    "InvalidValue",
    "detect_dayfirst",
    "normalise_email",
    "normalise_npsn",
    "normalise_nuptk",
    "normalise_phone",
    "normalise_school_level",
    "parse_timestamp",
    "parse_yes_no",
]


class InvalidValue(ValueError):
    """A cell's value cannot be used; ``str()`` is the reason."""


def _text(value: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", value or "").split())


_PLACEHOLDERS = {"", "-", "--", "0", "tidak ada", "tdk ada", "belum ada", "belum punya", "blm ada",
                 "tidak punya", "n/a", "na", "none", "null", "kosong", "x", "nihil", "."}

# --- e-mail -----------------------------------------------------------------------------------------
_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"
_EMAIL = re.compile(rf"^{_LOCAL}@{_DOMAIN}$")
_TYPO_DOMAINS = {
    "gmail.con": "gmail.com", "gmail.co": "gmail.com", "gmial.com": "gmail.com", "gamil.com": "gmail.com",
    "gmai.com": "gmail.com", "gmail.cm": "gmail.com", "gmail.om": "gmail.com", "gmil.com": "gmail.com",
    "gmail.co.id": "gmail.com", "yahoo.con": "yahoo.com", "yaho.com": "yahoo.com", "yahoo.co": "yahoo.co.id",
    "yahoo.cm": "yahoo.com",
}
MOODLE_EMAIL_MAX = 100


def normalise_email(value: str | None) -> str:
    """The e-mail address trimmed and lower-cased; raises :class:`InvalidValue` if it is missing, not a valid
    address, longer than Moodle's 100 characters, or on a misspelt well-known domain ("gmail.con")."""
    shown = _text(value)
    text = shown.strip("<>\"' ")
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.lower()
    if not text:
        raise InvalidValue("the e-mail address is empty")
    if " " in text:
        raise InvalidValue(f"the e-mail address {shown!r} contains a space")
    if not _EMAIL.match(text):
        raise InvalidValue(f"{shown!r} is not a valid e-mail address")
    if len(text) > MOODLE_EMAIL_MAX:
        raise InvalidValue(f"the e-mail address is longer than Moodle's {MOODLE_EMAIL_MAX} characters")
    domain = text.rsplit("@", 1)[1]
    if domain in _TYPO_DOMAINS:
        raise InvalidValue(f"{text!r}: the domain looks like a typo of {_TYPO_DOMAINS[domain]}")
    return text


# --- identity numbers -----------------------------------------------------------------------------------
def _number(value: str | None, *, name: str, digits: int, pad: bool = False) -> str | None:
    text = _text(value)
    if text.lower() in _PLACEHOLDERS:
        return None
    if re.fullmatch(r"\d(?:[.,]\d+)?[eE]\+?\d+", text):
        raise InvalidValue(f"{name} {text!r} was turned into a number by a spreadsheet (digits lost); "
                           f"enter it as text")
    compact = re.sub(r"[\s.\-]", "", text)
    if not compact.isdigit() or not compact.isascii():
        raise InvalidValue(f"{name} {text!r} must be {digits} digits")
    if pad and len(compact) == digits - 1 and compact.isdigit():
        compact = "0" + compact        # the leading zero a spreadsheet dropped from a number
    if len(compact) != digits:
        raise InvalidValue(f"{name} {text!r} must be {digits} digits (it has {len(compact)})")
    if set(compact) == {"0"}:
        raise InvalidValue(f"{name} {text!r} is all zeros")
    return compact


def normalise_nuptk(value: str | None) -> str | None:
    """The 16-digit NUPTK (spaces, dots and dashes removed), or ``None`` if absent ("-", "tidak ada"...).

    Raises :class:`InvalidValue` for anything else that is not 16 digits (including a value a spreadsheet
    turned into ``1.23E+15``)."""
    return _number(value, name="NUPTK", digits=16)


def normalise_npsn(value: str | None) -> str | None:
    """The 8-digit NPSN of the school, or ``None`` if absent; 7 digits are an NPSN whose leading zero a
    spreadsheet dropped (``1234567`` -> ``01234567``). Raises :class:`InvalidValue` otherwise."""
    return _number(value, name="NPSN", digits=8, pad=True)


# --- school level ---------------------------------------------------------------------------------------
_LEVEL_PHRASES = (
    ("sekolah luar biasa", "SLB"), ("luar biasa", "SLB"), ("taman kanak kanak", "PAUD"),
    ("kelompok bermain", "PAUD"), ("pendidikan anak usia dini", "PAUD"), ("raudhatul athfal", "PAUD"),
    ("sekolah dasar", "SD"), ("madrasah ibtidaiyah", "SD"), ("sekolah menengah pertama", "SMP"),
    ("madrasah tsanawiyah", "SMP"), ("sekolah menengah kejuruan", "SMK"), ("madrasah aliyah kejuruan", "SMK"),
    ("sekolah menengah atas", "SMA"), ("madrasah aliyah", "SMA"),
)
_LEVEL_WORDS = {
    "paud": "PAUD", "tk": "PAUD", "kb": "PAUD", "ra": "PAUD", "tpa": "PAUD", "sps": "PAUD",
    "sd": "SD", "mi": "SD", "smp": "SMP", "mts": "SMP", "sltp": "SMP", "sma": "SMA", "ma": "SMA",
    "slta": "SMA", "smk": "SMK", "mak": "SMK", "stm": "SMK", "smea": "SMK",
    "slb": "SLB", "sdlb": "SLB", "smplb": "SLB", "smalb": "SLB", "smlb": "SLB", "tklb": "SLB",
}


def normalise_school_level(value: str | None) -> str | None:
    """One of PAUD, SD, SMP, SMA, SMK, SLB, or ``None`` if empty.

    Madrasah levels map onto their equivalents (MI -> SD, MTs -> SMP, MA -> SMA, MAK -> SMK); TK, KB, RA
    -> PAUD; SDLB/SMPLB/SMALB -> SLB. "SD/MI" is SD. Raises :class:`InvalidValue` when the text names no
    level or two different ones ("SMA/SMK").
    """
    text = _text(value).lower()
    if not text:
        return None
    words_text = " ".join(re.split(r"[^a-z0-9]+", text)).strip()
    found: list[str] = []
    for phrase, level in _LEVEL_PHRASES:
        if f" {phrase} " in f" {words_text} ":
            found.append(level)
            words_text = f" {words_text} ".replace(f" {phrase} ", " ").strip()
    found += [_LEVEL_WORDS[w] for w in words_text.split() if w in _LEVEL_WORDS]
    levels = sorted(set(found))
    if not levels:
        raise InvalidValue(f"{_text(value)!r} is not a school level "
                           f"(PAUD/TK, SD/MI, SMP/MTs, SMA/MA, SMK, SLB)")
    if len(levels) > 1:
        raise InvalidValue(f"{_text(value)!r} names more than one school level ({', '.join(levels)})")
    return levels[0]


# --- yes / no ---------------------------------------------------------------------------------------------
_YES = ("ya", "iya", "y", "yes", "sudah", "sdh", "udah", "pernah", "true", "benar")
_NO = ("tidak", "tdk", "gak", "nggak", "ga", "belum", "blm", "no", "n", "never", "bukan", "false", "tak")


def parse_yes_no(value: str | None) -> bool | None:
    """``True`` for "Ya", "Sudah", "Sudah pernah", "Pernah", "Yes"...; ``False`` for "Tidak", "Belum",
    "Belum pernah", "Tidak pernah", "No"...; ``None`` when empty or not recognisable (decided by the first
    word, so "Pernah, tahun 2024" is yes and "Belum pernah" is no)."""
    words = re.findall(r"[a-z]+", _text(value).lower())
    if not words:
        return None
    if words[0] in _NO:
        return False
    if words[0] in _YES:
        return True
    return None


# --- phone -----------------------------------------------------------------------------------------------
def normalise_phone(value: str | None) -> str | None:
    """The number in international form ``+62...`` (digits only after the plus), or ``None`` if empty.

    Accepts 0812-3456-7890, 62812..., +62 812..., +62 (0)812..., 812... (the 0 a spreadsheet dropped), and
    landlines such as (0721) 123456. Of several numbers ("0812... / 0813...") the first is taken.
    Raises :class:`InvalidValue` when it is not an Indonesian number of plausible length.
    """
    text = _text(value)
    if text.lower() in _PLACEHOLDERS:
        return None
    first = re.split(r"[/,;]|\s(?:atau|or|dan)\s", text)[0]
    digits = re.sub(r"[\s.\-()]", "", first)
    plus = digits.startswith("+")
    digits = digits.lstrip("+")
    if not digits.isdigit() or not digits.isascii():
        raise InvalidValue(f"{text!r} is not a phone number")
    if digits.startswith("62"):
        national = digits[2:].lstrip("0")
    elif plus:
        raise InvalidValue(f"{text!r} is not an Indonesian phone number")
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        national = digits
    if not 8 <= len(national) <= 12 or national.startswith("0"):
        raise InvalidValue(f"{text!r} is not a phone number of plausible length")
    return "+62" + national


# --- timestamps ------------------------------------------------------------------------------------------
_TIME = (r"(?:[ T,]+(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?(?:[.,]\d+)?"
         r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
         r"(?:\s*(?:(?P<gmt>GMT|UTC)\s*(?:(?P<sign>[+-])(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?)?"
         r"|(?P<zone>WIB|WITA|WIT)))?$")
_DMY = re.compile(r"^(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})" + _TIME, re.IGNORECASE)
_YMD = re.compile(r"^(?P<y>\d{4})[/.\-](?P<b>\d{1,2})[/.\-](?P<a>\d{1,2})" + _TIME, re.IGNORECASE)
_ZONES = {"wib": 7, "wita": 8, "wit": 9}
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _from_match(m: re.Match[str], text: str, *, day: int, month: int) -> datetime:
    hour, minute, second = (int(m.group(g) or 0) for g in ("h", "mi", "s"))
    ampm = (m.group("ampm") or "").replace(".", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise InvalidValue(f"{text!r} is not a valid time")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        year = int(m.group("y"))
        result = datetime(year + 2000 if year < 100 else year, month, day, hour, minute, second)
    except ValueError as exc:
        raise InvalidValue(f"{text!r} is not a valid date and time ({exc})") from exc
    if m.group("zone") or m.group("gmt"):
        if m.group("zone"):
            offset = timedelta(hours=_ZONES[m.group("zone").lower()])
        else:
            offset = timedelta(hours=int(m.group("oh") or 0), minutes=int(m.group("om") or 0))
            offset = -offset if m.group("sign") == "-" else offset
        result = result.replace(tzinfo=timezone(offset)).astimezone(WIB).replace(tzinfo=None)
    return result


def detect_dayfirst(values: Iterable[str]) -> bool:
    """Whether ``a/b/yyyy`` dates in this column are day first (Indonesian forms) or month first (a form
    exported with US settings): month first only if some value has ``b > 12`` and none has ``a > 12``."""
    day_first_seen = month_first_seen = False
    for v in values:
        m = _DMY.match(_text(v))
        if m:
            a, b = int(m.group("a")), int(m.group("b"))
            day_first_seen |= a > 12
            month_first_seen |= b > 12
    return not (month_first_seen and not day_first_seen)


def parse_timestamp(value: str | None, *, dayfirst: bool = True) -> datetime:
    """A naive datetime (form time zone) from the formats Google Forms and spreadsheets produce.

    Accepts ``27/11/2026 14:03:12`` (also ``.`` as time separator, ``-`` or ``.`` in the date, seconds
    optional, AM/PM, a two-digit year as Excel writes it: ``6/1/26 8:03`` is 2026), ``2026/11/27 2:03:12 PM GMT+7`` (Google Forms' own CSV download), ISO 8601, a date
    alone (midnight) and Excel serial dates (``46353.585``). A time zone (``GMT+7``, ``UTC``, ``WIB``,
    ``WITA``, ``WIT``, ``+07:00``, ``Z``) is converted to WIB. ``dayfirst`` decides ``a/b/yyyy`` only
    when both ``a`` and ``b`` are at most 12.
    Raises :class:`InvalidValue` when empty, unreadable, or outside the years 2000-2100.
    """
    text = _text(value)
    if not text:
        raise InvalidValue("the timestamp is empty")
    result: datetime | None = None
    m = _DMY.match(text)
    ymd = _YMD.match(text)
    if m:
        a, b = int(m.group("a")), int(m.group("b"))
        day, month = (a, b) if (a > 12 or (dayfirst and b <= 12)) else (b, a)
        result = _from_match(m, text, day=day, month=month)
    elif ymd:
        result = _from_match(ymd, text, day=int(ymd.group("a")), month=int(ymd.group("b")))
    elif re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        result = _EXCEL_EPOCH + timedelta(days=float(text))
        result = result.replace(microsecond=0) + timedelta(seconds=round(result.microsecond / 1e6))
    else:
        try:
            result = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidValue(f"{text!r} is not a date and time we can read") from exc
        if result.tzinfo is not None:
            result = result.astimezone(WIB).replace(tzinfo=None)
    if not 2000 <= result.year <= 2100:
        raise InvalidValue(f"{text!r} is not a plausible registration time")
    return result


# --- years of service ------------------------------------------------------------------------------------
YEARS_BANDS: tuple[str, ...] = ("< 5", "5-10", "> 10")
"""The years-of-service bands reports use (what a centre quotes: "teachers with > 10 years")."""

_MORE = ("lebih", "diatas", "di atas", "atas", ">", "over", "more than")
_LESS = ("kurang", "dibawah", "di bawah", "<", "under", "less than", "belum")
_MONTHS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:bulan|bln|bl|months?|mo)\b")


def parse_years_of_service(value: str | None) -> int | None:
    """Whole years of service from a number ("12", "12 tahun", "10 tahun 3 bulan" -> 10, "8 bulan" -> 0)
    or a band ("> 10 tahun", "lebih dari 10 tahun", "20 tahun lebih", "6 - 10 tahun", "< 5 tahun",
    "belum 1 tahun"): the band's lowest whole year (``> 10`` -> 11, ``< 5`` -> 0, ``6-10`` -> 6). ``None``
    when empty. Raises :class:`InvalidValue` when no number can be read or the number is implausible
    (over 50)."""
    text = _text(value).lower().replace(",", ".")
    if not text:
        return None
    months = [float(n) for n in _MONTHS.findall(text)]
    rest = _MONTHS.sub(" ", text)
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", rest)]
    if not numbers and months:
        return int(sum(months) // 12)
    if not numbers or max(numbers) > 50:
        raise InvalidValue(f"{_text(value)!r} is not a number of years of service")
    words = f" {re.sub(r'[^a-z<>+]+', ' ', rest)} "
    if any(f" {m} " in words or (not m.isalpha() and m in rest) for m in _MORE) or "+" in rest:
        return int(numbers[0]) + 1
    if any(f" {m} " in words or (not m.isalpha() and m in rest) for m in _LESS):
        return 0
    return int(min(numbers))


def years_band(years: int | None) -> str:
    """The band of ``years`` (one of :data:`YEARS_BANDS`), ``"?"`` when unknown."""
    if years is None:
        return "?"
    return YEARS_BANDS[0] if years < 5 else YEARS_BANDS[1] if years <= 10 else YEARS_BANDS[2]
