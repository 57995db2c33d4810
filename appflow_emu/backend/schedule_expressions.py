"""Schedule expressions: ``rate(5minutes)``, ``rate(1 days)`` and six-field ``cron(0 1 * * ? *)``.

Parsing, the shortest interval an expression allows (checked against each source connector's
minimum at create/update), and when a schedule fires (:func:`fire_times`). Running the due ticks
is ``backend/schedules.py``'s part.

The rule at activation, in one place: a schedule's first possible run is its anchor, the moment
it was activated (or its ``scheduleStartTime`` when that is later). A rate schedule runs at the
anchor and every period after it. A cron schedule runs at each UTC minute its fields match, from
the anchor on: at the anchor itself only when the anchor falls exactly on such a minute (activated
at 12:00:00.000 with ``cron(0/15 * * * ? *)``: runs at 12:00, 12:15, ...; activated at 12:00:00.500:
first at 12:15). [guess]
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterator, List, Optional, Tuple

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


@lru_cache(maxsize=1024)
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


# -- when a schedule fires -------------------------------------------------------------------------
# Times are UTC epoch seconds; AppFlow's ``timezone`` member is kept as a label only.

def _expand(field: str, index: int) -> Optional[set]:
    """The plain numeric values of a field (None for ``?``; special day tokens are handled apart)."""
    if field == "?":
        return None
    lo, hi = _RANGES[index]
    names = _MONTHS if index == 3 else _WEEKDAYS if index == 4 else None
    out: set = set()
    for part in field.split(","):
        if part in ("L", "LW") or part.endswith(("W", "L")) or "#" in part:
            continue
        base, slash, step_text = part.partition("/")
        step = int(step_text) if slash else 1
        if base == "*":
            first, last = lo, hi
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _number(a, lo, hi, names), _number(b, lo, hi, names)  # type: ignore[assignment]
        else:
            first = _number(base, lo, hi, names)  # type: ignore[assignment]
            last = hi if slash else first
        out.update(range(first, last + 1, step))
    return out


def _day_matches(fields: List[str], day: date) -> bool:
    dom_field, month_field, dow_field, year_field = fields[2], fields[3], fields[4], fields[5]
    years = _expand(year_field, 5)
    if years is not None and day.year not in years:
        return False
    months = _expand(month_field, 3)
    if months is not None and day.month not in months:
        return False
    last_day = calendar.monthrange(day.year, day.month)[1]
    aws_dow = (day.isoweekday() % 7) + 1  # SUN=1 .. SAT=7
    if dom_field != "?":
        days = _expand(dom_field, 2) or set()
        for part in dom_field.split(","):
            if part == "L" and day.day == last_day:
                return True
            if part == "LW" and day.day == _last_weekday(day.year, day.month, last_day):
                return True
            if part.endswith("W") and part[:-1].isdigit() and day.day == _nearest_weekday(day, int(part[:-1]), last_day):
                return True
        return day.day in days
    for part in dow_field.split(","):
        if part == "L" and aws_dow == 7:
            return True
        if part.endswith("L") and len(part) > 1:
            wanted = _number(part[:-1], 1, 7, _WEEKDAYS)
            if wanted == aws_dow and day.day + 7 > last_day:
                return True
        if "#" in part:
            d, _, nth = part.partition("#")
            if _number(d, 1, 7, _WEEKDAYS) == aws_dow and (day.day - 1) // 7 + 1 == int(nth):
                return True
    dows = _expand(dow_field, 4) or set()
    return aws_dow in dows


def _last_weekday(year: int, month: int, last_day: int) -> int:
    d = last_day
    while date(year, month, d).isoweekday() > 5:
        d -= 1
    return d


def _nearest_weekday(day: date, wanted: int, last_day: int) -> int:
    wanted = min(wanted, last_day)
    wd = date(day.year, day.month, wanted).isoweekday()
    if wd == 6:
        return wanted - 1 if wanted > 1 else wanted + 2
    if wd == 7:
        return wanted + 1 if wanted < last_day else wanted - 2
    return wanted


def fire_times(schedule: Schedule, anchor: float, after: float, until: float) -> List[float]:
    """Tick times t with after < t <= until and t >= anchor (the rule in the module docstring).
    Rate schedules tick at anchor + k*period (the anchor is the first run); cron schedules at every
    matching UTC minute."""
    if until <= after:
        return []
    if schedule.rate_seconds is not None:
        period = schedule.rate_seconds
        lo = max(after, anchor - 1e-9)
        k = max(0, int((lo - anchor) // period))
        ticks: List[float] = []
        t = anchor + k * period
        while t <= until:
            if t > after and t >= anchor:
                ticks.append(t)
            k += 1
            t = anchor + k * period
        return ticks
    assert schedule.cron_fields is not None
    fields = schedule.cron_fields
    minutes = sorted(_expand(fields[0], 0) or ())
    hours = sorted(_expand(fields[1], 1) or ())
    start = max(after, anchor - 1e-9)
    day = datetime.fromtimestamp(start, tz=timezone.utc).date()
    last = datetime.fromtimestamp(until, tz=timezone.utc).date()
    out: List[float] = []
    while day <= last:
        if _day_matches(fields, day):
            midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()
            for h in hours:
                for m in minutes:
                    t = midnight + h * 3600 + m * 60
                    if t > after and t >= anchor and t <= until:
                        out.append(t)
        day += timedelta(days=1)
    return out


def _rate_range(period: int, anchor: float, after: float, until: float) -> Tuple[int, int]:
    """The first and last k whose tick ``anchor + k*period`` :func:`fire_times` lists for (after,
    until], by the same arithmetic (an empty range when first > last)."""
    lo = max(after, anchor - 1e-9)
    first = max(0, int((lo - anchor) // period))
    while anchor + first * period <= after:
        first += 1
    last = max(first - 1, int((until - anchor) // period))
    while anchor + (last + 1) * period <= until:
        last += 1
    while last >= first and anchor + last * period > until:
        last -= 1
    return first, last


def _cron_days(schedule: Schedule, anchor: float, after: float, until: float
               ) -> Iterator[Tuple[float, List[int], List[int]]]:
    """Each day that can hold a tick of (after, until], oldest first: its midnight and the hours
    and minutes of its ticks."""
    assert schedule.cron_fields is not None
    fields = schedule.cron_fields
    minutes = sorted(_expand(fields[0], 0) or ())
    hours = sorted(_expand(fields[1], 1) or ())
    if not minutes or not hours:
        return
    start = max(after, anchor - 1e-9)
    day = datetime.fromtimestamp(start, tz=timezone.utc).date()
    last = datetime.fromtimestamp(until, tz=timezone.utc).date()
    while day <= last:
        if _day_matches(fields, day):
            yield datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp(), hours, minutes
        day += timedelta(days=1)


def next_fire_time(schedule: Schedule, anchor: float, after: float, until: float) -> Optional[float]:
    """The first tick :func:`fire_times` lists for (after, until], without listing the others."""
    if until <= after:
        return None
    if schedule.rate_seconds is not None:
        first, last = _rate_range(schedule.rate_seconds, anchor, after, until)
        return anchor + first * schedule.rate_seconds if first <= last else None
    for midnight, hours, minutes in _cron_days(schedule, anchor, after, until):
        for h in hours:
            for m in minutes:
                t = midnight + h * 3600 + m * 60
                if t > after and t >= anchor and t <= until:
                    return t
    return None


def count_fire_times(schedule: Schedule, anchor: float, after: float, until: float) -> Tuple[int, Optional[float]]:
    """How many ticks :func:`fire_times` lists for (after, until], and the last of them, without
    listing them: O(1) for rate schedules, O(days) for cron."""
    if until <= after:
        return 0, None
    if schedule.rate_seconds is not None:
        first, last = _rate_range(schedule.rate_seconds, anchor, after, until)
        return (last - first + 1, anchor + last * schedule.rate_seconds) if first <= last else (0, None)
    count, final = 0, None
    for midnight, hours, minutes in _cron_days(schedule, anchor, after, until):
        first_t = midnight + hours[0] * 3600 + minutes[0] * 60
        last_t = midnight + hours[-1] * 3600 + minutes[-1] * 60
        if first_t > after and first_t >= anchor and last_t <= until:  # the whole day: counted, not listed
            count += len(hours) * len(minutes)
            final = last_t
            continue
        for h in hours:
            for m in minutes:
                t = midnight + h * 3600 + m * 60
                if t > after and t >= anchor and t <= until:
                    count += 1
                    final = t
    return count, final


def next_possible_tick(schedule: Schedule, anchor: float, now: float) -> float:
    """A time before which the schedule cannot fire again (exact for rate, the next minute for cron)."""
    if now < anchor:
        return anchor
    if schedule.rate_seconds is not None:
        k = int((now - anchor) // schedule.rate_seconds) + 1
        return anchor + k * schedule.rate_seconds
    return (now // 60 + 1) * 60  # cron fires on whole minutes at most once each
