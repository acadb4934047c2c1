"""Durations as QA leads write them: `28 days`, `5 working days`, `6 months`, or ISO 8601 (`P28D`).

A `Duration` keeps its parts apart (months, days, working days, exact seconds) because each
part follows its own rule (DESIGN §3.5): months clamp to the month's end, days move the
Europe/London wall clock, working days skip weekends and holidays, hours and minutes are
exact elapsed time. Dates are added here; moments (datetimes) in
`engine.expressions.timemath`.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import DurationError
from engine.suggest import did_you_mean

if TYPE_CHECKING:
    from engine.time.calendars import Calendar


@dataclass(frozen=True)
class Duration:
    """A length of time in separate parts; weeks are stored as days."""

    months: int = 0
    days: int = 0
    working_days: int = 0
    seconds: int = 0

    def __str__(self) -> str:
        parts = []
        for amount, unit in (
            (self.months, "month"),
            (self.days, "day"),
            (self.working_days, "working day"),
            (self.seconds // 3600, "hour"),
            (self.seconds % 3600 // 60, "minute"),
            (self.seconds % 60, "second"),
        ):
            if amount:
                parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
        return " ".join(parts) or "0 days"

    def canonical(self) -> str:
        """A stable text form for hashing and JSON."""
        return f"P{self.months}M{self.days}D{self.working_days}WDT{self.seconds}S"

    @staticmethod
    def from_canonical(text: str) -> Duration:
        """The inverse of `canonical`.

        Raises:
            ValueError: `text` is not a canonical duration.
        """
        match = _CANONICAL.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not a canonical duration")
        months, days, working_days, seconds = (int(part) for part in match.groups())
        return Duration(months=months, days=days, working_days=working_days, seconds=seconds)


_CANONICAL = re.compile(r"P(\d+)M(\d+)D(\d+)WDT(\d+)S")


# unit word -> (Duration field, multiplier)
_UNITS: dict[str, tuple[str, int]] = {
    "minute": ("seconds", 60),
    "minutes": ("seconds", 60),
    "hour": ("seconds", 3600),
    "hours": ("seconds", 3600),
    "day": ("days", 1),
    "days": ("days", 1),
    "week": ("days", 7),
    "weeks": ("days", 7),
    "month": ("months", 1),
    "months": ("months", 1),
    "working day": ("working_days", 1),
    "working days": ("working_days", 1),
}
_WORDS = re.compile(r"^(\s*)(\S+)(\s+)(.*?)\s*$", re.DOTALL)
_ISO = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_MAX_AMOUNT = 100_000  # nobody means a longer duration; keeps arithmetic bounded


def parse_duration(text: str) -> Duration:
    """Parse one duration string.

    Raises:
        DurationError: with an offset inside `text` and a message naming the fix.
    """
    if not isinstance(text, str):
        raise DurationError(f"expected a duration such as '28 days', got {text!r}")
    stripped = text.strip()
    if stripped.startswith("P"):
        return _parse_iso(text)
    match = _WORDS.match(text)
    if not match:
        raise DurationError(f"expected a duration such as '28 days' or 'P28D', got {text!r}")
    lead, number, gap, unit = match.groups()
    if not number.isdigit():
        raise DurationError(f"expected a whole number before the unit, got {number!r}", len(lead))
    amount = int(number)
    if amount > _MAX_AMOUNT:
        raise DurationError(f"{amount} is too long a duration (at most {_MAX_AMOUNT})", len(lead))
    unit_text = " ".join(unit.split())
    if unit_text not in _UNITS:
        offset = len(lead) + len(number) + len(gap)
        # suggest the plural after any number but 1 ("28 dayz" -> "days", "1 dya" -> "day")
        units = [u for u in _UNITS if u.endswith("s") != (amount == 1)]
        hint = did_you_mean(unit_text, units)
        raise DurationError(
            f"unknown unit {unit_text!r}: use minutes, hours, days, weeks, months or working days{hint}",
            offset,
        )
    part, multiplier = _UNITS[unit_text]
    return Duration(**{part: amount * multiplier})


def _parse_iso(text: str) -> Duration:
    offset = len(text) - len(text.lstrip())
    match = _ISO.match(text.strip())
    if not match or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise DurationError(f"{text.strip()!r} is not an ISO 8601 duration such as 'P28D' or 'PT2H'", offset)
    parts = {key: int(value) for key, value in match.groupdict().items() if value}
    if any(value > _MAX_AMOUNT for value in parts.values()):
        raise DurationError(f"{text.strip()!r} is too long a duration", offset)
    return Duration(
        months=parts.get("years", 0) * 12 + parts.get("months", 0),
        days=parts.get("weeks", 0) * 7 + parts.get("days", 0),
        seconds=parts.get("hours", 0) * 3600 + parts.get("minutes", 0) * 60 + parts.get("seconds", 0),
    )


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def add_to_date(day: dt.date, duration: Duration, calendar: Calendar, sign: int = 1) -> dt.date:
    """Add (sign=1) or subtract (sign=-1) a duration from a date.

    Order: months, then days, then working days. Hours and minutes don't move a date.
    """
    result = add_months(day, sign * duration.months) if duration.months else day
    if duration.days:
        result += dt.timedelta(days=sign * duration.days)
    if duration.working_days:
        result = calendar.add_working_days(result, sign * duration.working_days)
    return result
