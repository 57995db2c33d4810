"""Schedule expressions: ``rate(5minutes)``, ``rate(1 days)`` and six-field ``cron(0 1 * * ? *)``.

Parsing and the shortest interval an expression allows (checked against each source
connector's minimum at create/update). Ticking schedules is the simulator's part.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

_RATE = re.compile(r"rate\(\s*(\d+)\s*(minute|minutes|hour|hours|day|days)\s*\)\Z", re.IGNORECASE)
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_CRON = re.compile(r"cron\(\s*(.+?)\s*\)\Z", re.IGNORECASE)
_CRON_FIELD = re.compile(r"[0-9A-Za-z*?/,#LW-]+\Z")
_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199)]


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    expression: str
    kind: str  # "rate" | "cron"
    rate_seconds: Optional[int] = None
    cron_fields: Optional[List[str]] = None

    @property
    def min_interval(self) -> int:
        """The shortest time between two runs this expression can produce (seconds)."""
        if self.rate_seconds is not None:
            return self.rate_seconds
        assert self.cron_fields is not None
        minutes, hours = self.cron_fields[0], self.cron_fields[1]
        minute_gap = _smallest_gap(minutes, 0, 59)
        if minute_gap is not None:
            return minute_gap * 60
        hour_gap = _smallest_gap(hours, 0, 23)
        if hour_gap is not None:
            return hour_gap * 3600
        return 86400


def _values(field: str, lo: int, hi: int) -> Optional[List[int]]:
    """The values a simple numeric cron field takes, or None when it names no numbers we expand."""
    out: set = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                return None
            step = int(step_text)
        if part == "*":
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            if not (a.isdigit() and b.isdigit()):
                return None
            start, end = int(a), int(b)
        elif part.isdigit():
            start = int(part)
            end = hi if step != 1 else start
        else:
            return None
        out.update(range(start, end + 1, step))
    return sorted(out)


def _smallest_gap(field: str, lo: int, hi: int) -> Optional[int]:
    values = _values(field, lo, hi)
    if not values or len(values) < 2:
        return None
    gaps = [b - a for a, b in zip(values, values[1:])]
    gaps.append(values[0] + (hi - lo + 1) - values[-1])
    return min(gaps)


_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_WEEKDAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
_FIELD_NAMES = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")


def _number(text: str, lo: int, hi: int, names: Optional[dict] = None) -> Optional[int]:
    """A field value: digits in range, or (month, day-of-week) a three-letter name."""
    if text.isdigit() and text.isascii():
        n = int(text)
        return n if lo <= n <= hi else None
    if names is not None:
        return names.get(text.upper())
    return None


def _valid_part(part: str, index: int, lo: int, hi: int) -> bool:
    """One comma-separated item of a cron field, following EventBridge's cron grammar."""
    names = _MONTHS if index == 3 else _WEEKDAYS if index == 4 else None
    if index == 2:  # day-of-month: L, LW, nW
        if part in ("L", "LW"):
            return True
        if part.endswith("W"):
            return _number(part[:-1], lo, hi) is not None
    if index == 4:  # day-of-week: L, nL, n#k
        if part == "L":
            return True
        if part.endswith("L"):
            return _number(part[:-1], lo, hi, names) is not None
        if "#" in part:
            day, _, nth = part.partition("#")
            return _number(day, lo, hi, names) is not None and _number(nth, 1, 5) is not None
    base, slash, step = part.partition("/")
    if slash and _number(step, 1, hi) is None:
        return False
    if base == "*":
        return True
    if "-" in base:
        a, _, b = base.partition("-")
        first, last = _number(a, lo, hi, names), _number(b, lo, hi, names)
        return first is not None and last is not None and first <= last
    return _number(base, lo, hi, names) is not None


def _valid_field(field: str, index: int) -> bool:
    if field == "?":
        return index in (2, 4)
    lo, hi = _RANGES[index]
    return all(part and _valid_part(part, index, lo, hi) for part in field.split(","))


def parse(expression: str) -> Schedule:
    text = expression.strip()
    m = _RATE.match(text)
    if m:
        n = int(m.group(1))
        if n < 1:
            raise ScheduleError(f"Invalid rate expression: {expression}")
        unit = m.group(2).lower().rstrip("s")
        return Schedule(expression, "rate", rate_seconds=n * _UNIT[unit])
    m = _CRON.match(text)
    if m:
        fields = m.group(1).split()
        if len(fields) != 6 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ScheduleError(f"Invalid cron expression: {expression}")
        if (fields[2] == "?") == (fields[4] == "?"):
            raise ScheduleError(
                f"Invalid cron expression: {expression}. Exactly one of day-of-month and day-of-week must be ?"
            )
        for index, field in enumerate(fields):
            if not _valid_field(field, index):
                raise ScheduleError(
                    f"Invalid cron expression: {expression}. Invalid {_FIELD_NAMES[index]} field: {field}"
                )
        return Schedule(expression, "cron", cron_fields=fields)
    raise ScheduleError(f"Invalid schedule expression: {expression}")
