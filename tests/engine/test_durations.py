"""Duration parsing and date arithmetic (the moment arithmetic comes with time)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.errors import DurationError
from engine.time.calendars import Calendar
from engine.time.durations import Duration, add_months, add_to_date, parse_duration


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("28 days", Duration(days=28)),
        ("1 day", Duration(days=1)),
        ("4 weeks", Duration(days=28)),
        ("1 week", Duration(days=7)),
        ("6 months", Duration(months=6)),
        ("1 month", Duration(months=1)),
        ("2 hours", Duration(seconds=7200)),
        ("30 minutes", Duration(seconds=1800)),
        ("5 working days", Duration(working_days=5)),
        ("1 working day", Duration(working_days=1)),
        ("  3   working   days ", Duration(working_days=3)),
        ("P28D", Duration(days=28)),
        ("PT2H", Duration(seconds=7200)),
        ("P1Y", Duration(months=12)),
        ("P2W", Duration(days=14)),
        ("P1M2DT3H4M", Duration(months=1, days=2, seconds=3 * 3600 + 240)),
    ],
)
def test_parse(text: str, duration: Duration) -> None:
    assert parse_duration(text) == duration


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("28 dayz", 3, "did you mean 'days'"),
        ("twenty days", 0, "whole number"),
        ("28", 0, "expected a duration"),
        ("1.5 days", 0, "whole number"),
        ("-3 days", 0, "whole number"),
        ("P", 0, "ISO 8601"),
        ("PT", 0, "ISO 8601"),
        ("P1H", 0, "ISO 8601"),
        ("28 working weeks", 3, "unknown unit"),
        ("999999999 days", 0, "too long"),
        ("", 0, "expected a duration"),
    ],
)
def test_errors_carry_a_position_and_a_fix(text: str, offset: int, fragment: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert caught.value.offset == offset
    assert fragment in caught.value.message


def test_month_arithmetic_clamps_to_the_month_end() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2026, 12, 15), 1) == dt.date(2027, 1, 15)
    assert add_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    calendar = Calendar.for_region("england-and-wales")
    friday = dt.date(2026, 12, 18)
    saturday = dt.date(2026, 12, 19)
    assert calendar.add_working_days(friday, 1) == dt.date(2026, 12, 21)
    assert calendar.add_working_days(saturday, 1) == dt.date(2026, 12, 21)
    # 25 and 28 Dec 2026 are bank holidays (Boxing Day falls on a Saturday)
    assert calendar.add_working_days(dt.date(2026, 12, 24), 1) == dt.date(2026, 12, 29)
    assert add_to_date(dt.date(2026, 12, 24), Duration(working_days=2), calendar) == dt.date(2026, 12, 30)
    assert calendar.working_days_between(dt.date(2026, 12, 24), dt.date(2026, 12, 29)) == 1
    assert calendar.working_days_between(dt.date(2026, 12, 29), dt.date(2026, 12, 24)) == -1


def test_regions_differ() -> None:
    # 2 January is a bank holiday in Scotland only; St Patrick's Day in Northern Ireland only.
    assert not Calendar.for_region("scotland").is_working_day(dt.date(2026, 1, 2))
    assert Calendar.for_region("england-and-wales").is_working_day(dt.date(2026, 1, 2))
    assert not Calendar.for_region("northern-ireland").is_working_day(dt.date(2026, 3, 17))


def test_closure_days_count_where_given() -> None:
    closures = frozenset({dt.date(2026, 12, 29), dt.date(2026, 12, 30)})
    calendar = Calendar.for_region("england-and-wales", closures)
    assert calendar.add_working_days(dt.date(2026, 12, 24), 1) == dt.date(2026, 12, 31)
