"""Date and time arithmetic for expressions, on the Europe/London wall clock (DESIGN §3.5).

Datetimes are aware UTC values. Calendar parts of a duration (months, days, working days)
move the London wall-clock date and keep the wall-clock time; a wall time that does not
exist or happens twice resolves with `fold=0`. Hours and minutes are exact elapsed time,
added after the calendar parts. Dates ignore hours and minutes (`engine.time.durations`).

Working days are counted one day at a time by the calendar, so the number of working days
and the span counted are bounded here: nothing an expression says can loop for long.
"""

from __future__ import annotations

import datetime as dt

from engine.expressions.values import ExpressionRuntimeError
from engine.time.calendars import LONDON, Calendar
from engine.time.durations import Duration, add_to_date

MAX_WORKING_DAYS = 10_000  # about 40 years
MAX_COUNTED_SPAN = dt.timedelta(days=36_600)  # about 100 years


def london_date(moment: dt.date) -> dt.date:
    """The Europe/London date of a datetime; a date is itself."""
    if isinstance(moment, dt.datetime):
        return moment.astimezone(LONDON).date()
    return moment


def check_working_days(count: int) -> None:
    if abs(count) > MAX_WORKING_DAYS:
        raise ExpressionRuntimeError(f"{count} working days is too many (at most {MAX_WORKING_DAYS})")


def shift(moment: dt.date, duration: Duration, calendar: Calendar, sign: int) -> dt.date:
    """`moment + duration` (sign 1) or `moment - duration` (sign -1), for a date or a datetime."""
    check_working_days(duration.working_days)
    try:
        if not isinstance(moment, dt.datetime):
            return add_to_date(moment, duration, calendar, sign)
        result = moment
        if duration.months or duration.days or duration.working_days:
            local = moment.astimezone(LONDON)
            calendar_part = Duration(duration.months, duration.days, duration.working_days)
            day = add_to_date(local.date(), calendar_part, calendar, sign)
            result = _at_london_time(day, local)
        if duration.seconds:
            result = result + dt.timedelta(seconds=sign * duration.seconds)
        return result.astimezone(dt.UTC)
    except (OverflowError, ValueError) as exc:
        raise ExpressionRuntimeError("the date is out of range") from exc


def add_working_days(moment: dt.date, count: int, calendar: Calendar) -> dt.date:
    """The Nth working day after the moment's London date; a datetime keeps its London wall time."""
    check_working_days(count)
    try:
        if not isinstance(moment, dt.datetime):
            return calendar.add_working_days(moment, count)
        local = moment.astimezone(LONDON)
        day = calendar.add_working_days(local.date(), count)
        return _at_london_time(day, local).astimezone(dt.UTC)
    except (OverflowError, ValueError) as exc:
        raise ExpressionRuntimeError("the date is out of range") from exc


def working_days_between(start: dt.date, end: dt.date, calendar: Calendar) -> int:
    if abs(end - start) > MAX_COUNTED_SPAN:
        raise ExpressionRuntimeError(f"{start} and {end} are too far apart to count working days")
    return calendar.working_days_between(start, end)


def _at_london_time(day: dt.date, local: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(day, local.time(), tzinfo=LONDON).replace(fold=0)
