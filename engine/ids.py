"""Identifiers: UUIDv7 (RFC 9562), time-ordered and never sequential.

Built by hand from the time and `os.urandom`, since Python 3.11's `uuid` has no version 7.
Within one millisecond (or when the clock stands still or goes back, as a `FixedClock` does)
the 12-bit `rand_a` field counts up from a random start (RFC 9562 §6.2, method 1), so ids
made by one process sort in the order they were made.
"""

from __future__ import annotations

import datetime as dt
import os
import threading

_lock = threading.Lock()
_last_ms = -1
_counter = 0


def new_id(moment: dt.datetime | None = None) -> str:
    """A fresh UUIDv7 in its text form (`0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2f`)."""
    global _last_ms, _counter
    stamp = moment or dt.datetime.now(dt.UTC)
    millis = int(stamp.timestamp() * 1000)
    rand = os.urandom(10)
    with _lock:
        if millis <= _last_ms:
            millis = _last_ms
            _counter += 1
            if _counter > 0xFFF:  # 4096 ids in one millisecond: borrow the next one
                millis += 1
                _counter = rand[0] & 0x3FF
        else:
            _counter = int.from_bytes(rand[:2], "big") & 0x3FF  # leave room to count up
        _last_ms = millis
        rand_a = _counter
    rand_b = int.from_bytes(rand[2:], "big") & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
