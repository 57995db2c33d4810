"""Time as the emulator sees it: ``time.time()``, which freezegun and time-machine both move."""
from __future__ import annotations

import time
from datetime import datetime, timezone


def now() -> float:
    """Epoch seconds, rounded to the millisecond like AppFlow's timestamps."""
    return round(time.time(), 3)


def to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)
