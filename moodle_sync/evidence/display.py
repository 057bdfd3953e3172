"""Reading the values a Moodle 4.5 custom report (report builder) shows, in English or Bahasa Indonesia.

``core_reportbuilder_retrieve_report`` answers values formatted for display in the token user's
language. The "Course participants" source formats them with ``core_reportbuilder\\local\\helpers\\format``:

- booleans (completion:completed): ``get_string('yes')`` / ``get_string('no')`` — "Yes"/"No", "Ya"/"Tidak";
  empty when the user has no course completion record yet;
- percentages (completion:progresspercent): ``get_string('percents', 'moodle', format_float($value))`` —
  one decimal with the language's decimal separator: "37.5%", "37,5%";
- times (completion:timecompleted, access:timeaccess): ``userdate()`` with the language's
  ``strftimedaydatetime`` — English "%A, %d %B %Y, %I:%M %p" ("Monday, 3 August 2026, 9:05 AM"),
  Indonesian "%A, %d %B %Y, %H:%M" ("Senin, 3 Agustus 2026, 09:05"; some packs print "09.05"), with the
  day's leading zero removed; empty for no time, ``get_string('never')`` ("Never", "Tidak pernah") for a
  course never accessed.

Anything else raises :class:`DisplayValueError`: a value read wrongly would silently become evidence.
"""

from __future__ import annotations

import datetime as dt
import re

from ..exceptions import MoodleSyncError

YES = {"yes", "ya"}
NO = {"no", "tidak"}
NEVER = {"never", "tidak pernah"}
MONTHS = {name: i % 12 + 1 for i, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december",
     "januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september", "oktober",
     "november", "desember"])}
MONTHS["pebruari"] = 2   # older Indonesian spelling
WEEKDAYS = {name: i % 7 for i, name in enumerate(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
     "senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu"])}
WEEKDAYS["jum'at"] = 4
_TIME = re.compile(r"^(?:([^\W\d_][^\W\d_']*),\s*)?(\d{1,2})\s+([^\W\d_]+)\s+(\d{4}),?\s+(\d{1,2})[:.](\d{2})"
                   r"(?:\s*([ap])\.?\s*m\.?)?$", re.IGNORECASE)
_PERCENT = re.compile(r"^(\d{1,3}(?:[.,]\d+)?)\s*%$")


class DisplayValueError(MoodleSyncError):
    """A report value that is neither English nor Indonesian display text of the expected kind."""


def parse_yes_no(text: str) -> bool | None:
    """True for Yes/Ya, False for No/Tidak, None for empty. Raises :class:`DisplayValueError`."""
    value = text.strip().lower()
    if not value:
        return None
    if value in YES or value in NO:
        return value in YES
    raise DisplayValueError(f"{text!r} is not yes or no (Yes/No, Ya/Tidak)")


def parse_percent(text: str) -> float | None:
    """"37.5%" or "37,5%" as 37.5; None for empty. Raises :class:`DisplayValueError`."""
    value = text.strip()
    if not value:
        return None
    found = _PERCENT.match(value)
    if found is None or float(found.group(1).replace(",", ".")) > 100:
        raise DisplayValueError(f"{text!r} is not a percentage (such as 37.5% or 37,5%)")
    return float(found.group(1).replace(",", "."))


def parse_time(text: str, tz: dt.tzinfo) -> int | None:
    """A displayed date and time in ``tz`` as Unix seconds; None for empty or never. Raises
    :class:`DisplayValueError` for anything else (an unknown month name, a time that does not exist)."""
    value = " ".join(text.split())
    if not value or value.lower() in NEVER:
        return None
    found = _TIME.match(value)
    month = MONTHS.get(found.group(3).lower()) if found else None
    weekday = found.group(1) if found else None
    if found is None or month is None or (weekday is not None and weekday.lower() not in WEEKDAYS):
        raise DisplayValueError(f"{text!r} is not a date and time as Moodle shows it in English or "
                                "Indonesian (such as 'Monday, 3 August 2026, 9:05 AM' or "
                                "'Senin, 3 Agustus 2026, 09.05')")
    day, year, hour, minute, half = int(found.group(2)), int(found.group(4)), int(found.group(5)), \
        int(found.group(6)), (found.group(7) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise DisplayValueError(f"{text!r}: hour {hour} does not go with AM/PM")
        hour = hour % 12 + (12 if half == "p" else 0)
    try:
        when = dt.datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError as exc:
        raise DisplayValueError(f"{text!r} is not a real date and time ({exc})") from None
    if weekday is not None and WEEKDAYS[weekday.lower()] != when.weekday():
        raise DisplayValueError(f"{text!r}: that date is not a {weekday}")
    return int(when.timestamp())
