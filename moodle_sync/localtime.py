"""The centre's local time: WIB (Asia/Jakarta, UTC+7, no daylight saving), defined once.

Dates in offering files, registration forms and reports are WIB. ``zoneinfo`` needs the system's (or the
``tzdata`` package's) time-zone database; where it has none (some Windows installs) the fixed UTC+7 offset
is the same clock, since Indonesia keeps no daylight saving.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    WIB: dt.tzinfo = ZoneInfo("Asia/Jakarta")
except ZoneInfoNotFoundError:   # pragma: no cover - depends on the machine's tz database
    WIB = dt.timezone(dt.timedelta(hours=7), "WIB")

__all__ = ["WIB"]
