"""Time as the emulator sees it: ``time.time()``, which freezegun and time-machine both move, plus
the offset ``advance`` adds; and the bounds of both.

A timestamp the emulator keeps lies between 1970 and the end of year 9999 (model/timestamps.py: what a datetime, and
so botocore's parser of AWS timestamps, can hold). The emulator's own clock stays before year 3000
[guess: a choice]: far from 9999, so that the times computed from it (schedule ticks, expiries) and
the real time that passes while a server runs stay readable, and within what every platform's
``time.gmtime`` takes (Windows' ends in year 3000). ``advance`` and a restored ``clock_offset``
that would move it further are refused (``checked_offset``).
"""
from __future__ import annotations

import math
import time
from typing import Any

CLOCK_LIMIT = 32503680000.0  # 3000-01-01T00:00:00Z: the emulator's clock stays before it
CLOCK_LIMIT_TEXT = "3000-01-01T00:00:00Z"


def now() -> float:
    """Epoch seconds at millisecond precision like AppFlow's timestamps, rounded *up* so a time
    the emulator records is never before a time the caller read just before calling."""
    return math.ceil(time.time() * 1000) / 1000


def checked_offset(offset: Any, what: str, already: float = 0.0) -> float:
    """``already + offset``, the seconds the emulator's clock is ahead of the process clock, as a
    float, if ``offset`` is a number and the sum is finite, 0 or more, and keeps the emulator's
    clock before :data:`CLOCK_LIMIT`; else a TypeError or ValueError saying what broke which bound."""
    if isinstance(offset, bool) or not isinstance(offset, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, got {type(offset).__name__}: {offset!r:.80}")
    # float() of a huge int would overflow: any int past the limit is as good as infinity here
    seconds = already + (math.inf if isinstance(offset, int) and offset > CLOCK_LIMIT else float(offset))
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"{what} must be 0 or more seconds, got {offset!r:.80}")
    if now() + seconds >= CLOCK_LIMIT:
        raise ValueError(f"{what} would move the emulator's clock to or past {CLOCK_LIMIT_TEXT} "
                         f"({CLOCK_LIMIT:.0f} epoch seconds), the latest it shows")
    return seconds
