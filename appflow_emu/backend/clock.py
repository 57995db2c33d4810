"""Time as the emulator sees it: ``time.time()``, which freezegun and time-machine both move."""
from __future__ import annotations

import math
import time


def now() -> float:
    """Epoch seconds at millisecond precision like AppFlow's timestamps, rounded *up* so a time
    the emulator records is never before a time the caller read just before calling."""
    return math.ceil(time.time() * 1000) / 1000

