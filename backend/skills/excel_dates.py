"""Excel dates: which number formats show a date or a time, and serial numbers <-> ISO 8601 text.

Excel stores a date as a serial number; the fraction is the time of day. In the 1900 date system (the default)
serial 1 is 1900-01-01, and serial 60 is 1900-02-29, a day that never was (Lotus 1-2-3's leap-year bug, kept for
compatibility), so a serial below 61 lies one day closer to the epoch than one from 61 on. In the 1904 date system
(old Mac workbooks) serial 0 is 1904-01-01 and there is no such day: every serial means the day 1462 days later than
in the 1900 system. Only a cell's number format says whether 45292 is a count or 2024-01-01, so the task pane sends
the formats of date cells beside the values, and the workbook's date system when it is 1904.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Literal

DateKind = Literal["date", "time", "datetime"]
DateSystem = Literal[1900, 1904]

DATE_SYSTEMS: tuple[DateSystem, ...] = (1900, 1904)

FICTITIOUS_LEAP_DAY = "1900-02-29"
LEAP_DAY_SERIAL = 60
MAX_SERIAL = 2958466  # 10000-01-01 in the 1900 date system: Excel's last date is 9999-12-31
# Serial n of a date system is the day of serial n + this in the 1900 one (1904-01-01 is serial 1462 there).
_DAYS_AFTER_1900_SYSTEM: dict[int, int] = {1900: 0, 1904: 1462}
SECONDS_PER_DAY = 86400
_BEFORE_LEAP_DAY_EPOCH = date(1899, 12, 31)  # serial 0 for serials 1..59
_EPOCH = date(1899, 12, 30)  # serial 0 for serials from 61 on

# Parts of a format code that are never date codes: "quoted text", \x (an escaped character), _x (a space as wide as
# x) and *x (x repeated to fill the cell).
_LITERALS = re.compile(r'"[^"]*"|\\.|_.|\*.')
_ELAPSED = re.compile(r"\[(?:h+|m+|s+)\]", re.IGNORECASE)  # [h]:mm is a duration, not a time of day
_BRACKETS = re.compile(r"\[[^\]]*\]")  # [Red], [$-409], [$€-407], [<100]
_AM_PM = re.compile(r"am/pm|a/p", re.IGNORECASE)
_CODES = re.compile(r"y+|m+|d+|h+|s+")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")
_ISO_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2}))?")
_ISO_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)")


@lru_cache(maxsize=512)
def format_kind(number_format: str) -> DateKind | None:
    """What a number format shows of a number: "date", "time", "datetime", or None (General, 0.00, @, currency,
    percent, durations such as [h]:mm). Only the first section counts: the one for positive numbers."""
    code = _LITERALS.sub(" ", number_format).split(";")[0]
    if _ELAPSED.search(code):
        return None
    code = _BRACKETS.sub(" ", code)
    twelve_hour = _AM_PM.search(code) is not None
    code = _AM_PM.sub(" ", code).lower().replace("general", " ")
    runs = [match.group() for match in _CODES.finditer(code)]
    has_date, has_time = False, twelve_hour
    for n, run in enumerate(runs):
        if run[0] != "m":
            has_date |= run[0] in "yd"
            has_time |= run[0] in "hs"
            continue
        # m is minutes right after an hour code or right before a seconds code (h:mm, mm:ss), else the month
        after_hour = n > 0 and runs[n - 1][0] == "h"
        before_seconds = n + 1 < len(runs) and runs[n + 1][0] == "s"
        minutes = len(run) <= 2 and (after_hour or before_seconds)
        has_time |= minutes
        has_date |= not minutes
    if has_date:
        return "datetime" if has_time else "date"
    return "time" if has_time else None


def is_date_format(number_format: Any) -> bool:
    """Whether a cell with this number format shows its number as a date or a time."""
    return isinstance(number_format, str) and format_kind(number_format) is not None


def serial_to_iso(serial: Any, kind: DateKind, date_system: DateSystem = 1900) -> str | None:
    """A serial number as Excel shows it with a format of that kind, in ISO 8601: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]
    (a time of day, or a date-time format), HH:MM[:SS] for a time alone; None for what is no date (text, a negative
    number, beyond 9999, or 0 under a date format in the 1900 date system, which Excel shows as the day 1900-01-00;
    in the 1904 date system 0 is 1904-01-01)."""
    offset = _DAYS_AFTER_1900_SYSTEM[date_system]
    if isinstance(serial, bool) or not isinstance(serial, int | float) or not 0 <= serial < MAX_SERIAL - offset:
        return None
    days, seconds = divmod(round(serial * SECONDS_PER_DAY), SECONDS_PER_DAY)
    if days >= MAX_SERIAL - offset:  # 9999-12-31T23:59:59.9 rounds past Excel's last day
        return None
    hours, rest = divmod(seconds, 3600)
    clock = f"{hours:02d}:{rest // 60:02d}" + (f":{rest % 60:02d}" if rest % 60 else "")
    if days == 0 and (kind == "time" or offset == 0):
        return clock if kind == "time" or seconds else None
    days += offset
    if days == LEAP_DAY_SERIAL:
        day = FICTITIOUS_LEAP_DAY
    else:
        day = ((_BEFORE_LEAP_DAY_EPOCH if days < LEAP_DAY_SERIAL else _EPOCH) + timedelta(days=days)).isoformat()
    return f"{day}T{clock}" if seconds or kind != "date" else day


def iso_to_serial(text: Any, date_system: DateSystem = 1900) -> int | float | None:
    """The serial number of ISO 8601 text (YYYY-MM-DD, with THH:MM[:SS] or " HH:MM[:SS]", or HH:MM[:SS] alone) in
    that date system; None for anything else, and for dates it cannot hold (before 1900, or before 1904 in the 1904
    date system; after 9999)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    match = _ISO.fullmatch(text)
    time_alone = match is None
    if match:
        year, month, day, hour, minute, second = (int(part) if part else 0 for part in match.groups())
        days = _day_serial(year, month, day, date_system)
    else:
        match = _ISO_TIME.fullmatch(text)
        if match is None:
            return None
        hour, minute, second = (int(part) if part else 0 for part in match.groups())
        days = 0
    if days is None or hour > 23 or minute > 59 or second > 59:
        return None
    seconds = hour * 3600 + minute * 60 + second
    return days + seconds / SECONDS_PER_DAY if seconds or time_alone else days


def _day_serial(year: int, month: int, day: int, date_system: DateSystem) -> int | None:
    """The serial of a calendar day in that date system (the 1900 system's 1900-02-29 included), or None."""
    if (year, month, day) == (1900, 2, 29):
        serial = LEAP_DAY_SERIAL
    else:
        try:
            when = date(year, month, day)
        except ValueError:
            return None
        if year < 1900:
            return None
        serial = (when - (_BEFORE_LEAP_DAY_EPOCH if when < date(1900, 3, 1) else _EPOCH)).days
    serial -= _DAYS_AFTER_1900_SYSTEM[date_system]
    return serial if serial >= 0 else None


def as_typed_text(value: Any) -> Any:
    """An ISO date-time string as Excel reads typed text ("2024-01-01 09:30": it does not read the "T" form as a
    date); any other value unchanged."""
    if isinstance(value, str):
        match = _ISO_DATE_TIME.fullmatch(value.strip())
        if match:
            return f"{match.group(1)} {match.group(2)}"
    return value
