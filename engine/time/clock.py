"""Clocks: where the runtime gets "now" from, injected so tests and `--now` can set it.

All times inside are timezone-aware UTC (DESIGN §4.7). The engine keeps two clocks: the
effective clock (what the event says happened when; the CLI's `--now`) and the wall
clock (when it was really recorded). History keeps both.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    """Anything with `now()` returning an aware UTC datetime."""

    def now(self) -> dt.datetime: ...


_UTC = dt.UTC
_datetime_now = dt.datetime.now


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> dt.datetime:
        return _datetime_now(_UTC)


class FixedClock:
    """A clock that says what it is told; `advance` moves it on. For tests and simulations."""

    def __init__(self, moment: dt.datetime) -> None:
        self._now = _utc(moment)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, moment: dt.datetime) -> None:
        self._now = _utc(moment)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self._now = self._now + delta
        return self._now


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError(f"a clock needs an aware datetime (with a zone), got {moment!r}")
    return moment.astimezone(dt.UTC)
