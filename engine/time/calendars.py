"""Working-day calendars: weekdays that are not bank holidays of a UK region or closure days.

Bank holidays come from the `holidays` package (subdivisions ENG, SCT, NIR); closure days
(a Christmas shutdown, say) are the deployment's and are passed in. Calendars are cached per
(region, closures), since every event of every instance asks the same questions.

`holidays` is imported when a calendar first needs a bank holiday (a weekday outside the
closures), not when a workflow loads: most commands never count working days, and the
package takes a noticeable part of a command's start-up. The United Kingdom's class is
imported from its own module, because `holidays.country_holidays("GB")` imports every
country module that sorts before it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from holidays import HolidayBase

LONDON = ZoneInfo("Europe/London")

# Region names as written in workflows -> the `holidays` subdivision codes.
REGIONS: dict[str, str] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}


class Calendar:
    """Answers working-day questions for one region and one set of closure days."""

    def __init__(self, region: str = "england-and-wales", closures: frozenset[dt.date] = frozenset()) -> None:
        if region not in REGIONS:
            raise ValueError(f"unknown calendar region {region!r}; expected one of {', '.join(REGIONS)}")
        self.region = region
        self.closures = closures
        self._loaded: HolidayBase | None = None

    @staticmethod
    @lru_cache(maxsize=32)
    def for_region(region: str = "england-and-wales", closures: frozenset[dt.date] = frozenset()) -> Calendar:
        return Calendar(region, closures)

    @property
    def version(self) -> str:
        """Recorded with computed due times, so a later change of holidays can be traced."""
        import holidays

        package = getattr(holidays, "__version__", "unknown")
        return f"{self.region}/holidays-{package}/closures-{len(self.closures)}"

    @property
    def _bank_holidays(self) -> HolidayBase:
        if self._loaded is None:
            from holidays.countries.united_kingdom import UnitedKingdom

            self._loaded = UnitedKingdom(subdiv=REGIONS[self.region])  # type: ignore[no-untyped-call]  # holidays leaves it untyped
        return self._loaded

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self.closures and day not in self._bank_holidays

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The Nth working day after `day` (before it when n < 0); `day` itself never counts."""
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        while remaining:
            day += dt.timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end`; negative when end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count
