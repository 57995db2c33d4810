"""Value conversions: the one place that says how a record's value becomes text, a number, a
boolean, a point in time or JSON. Sources, tasks, file writers and sinks all call these.

- Text (:func:`to_text`): ``None`` stays ``None``; strings as they are; booleans ``true``/``false``;
  ints and Decimals as digits; floats in their shortest round-trip form, NaN and infinities as
  ``None`` (JSON has no spelling for them [guess: AppFlow writes null]); datetimes ISO-8601 with UTC
  written ``Z`` (a naive datetime is UTC); dates and times ISO-8601; dicts, lists and tuples compact
  JSON; bytes base64 (as JSON writers spell binary); anything else ``str()``.
- Numbers (:func:`to_number`): ints, finite floats, finite Decimals and numeric strings (no ``_``
  separators, no NaN/inf); booleans are not numbers.
- Booleans (:func:`to_bool`): booleans, ``true``/``false``/``1``/``0`` in any case, the numbers 1 and 0.
- Points in time (:func:`to_epoch_ms`, :func:`to_epoch_seconds`): datetimes (naive = UTC), dates
  (midnight UTC), times (milliseconds since midnight), ISO-8601 text, and epoch numbers or numeric
  strings, read as **milliseconds when** ``|n| >= 1e11`` (after March 1973 in milliseconds; before
  5138 in seconds) and as seconds below.
- JSON (:func:`json_text`): compact, field order kept, NaN and infinities as ``null``; datetimes,
  dates, times and bytes as their text above; Decimals as integers when integral, else as floats
  (one too long for an integer's text or too large for a double: its text).

ISO-8601 text is parsed the same on every supported Python (``datetime.fromisoformat`` accepts
less before 3.11): ``2024-06-01``, ``2024-06-01T13:05``, ``2024-06-01 13:05:07.5`` (a fraction of
any length, cut to microseconds), a time with ``Z``, ``+00:00``, ``+0000`` or ``+00``.
"""
from __future__ import annotations

import base64
import json
import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, Optional

MS_THRESHOLD = 1e11  # epoch numbers at least this large are milliseconds, smaller are seconds
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)
_MAX_SAFE = 9007199254740992.0  # 2**53: beyond it a float cannot hold every integer
_INT_DIGITS = 4000  # integral Decimals with more digits are not written as ints (Python limits int text to 4300)


# -- text ------------------------------------------------------------------------------------------

def iso(value: Any) -> str:
    """ISO-8601 for datetimes (UTC, or naive, as ``...Z``), dates and times."""
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is None or offset == timedelta(0):
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    return str(value.isoformat())


def json_default(value: Any) -> Any:
    """What a JSON writer does with a value JSON has no type for."""
    if isinstance(value, (datetime, date, time)):
        return iso(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return float(value)  # json_text writes null
        if value == value.to_integral_value() and value.adjusted() < _INT_DIGITS:
            return int(value)
        as_float = float(value)
        # finite, but too long for an int's text (Python's limit) or too large for a double: its text
        return as_float if as_float - as_float == 0.0 else str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


_ENCODER = json.JSONEncoder(default=json_default, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if value - value == 0.0 else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def json_text(value: Any) -> str:
    """Compact JSON (field order kept); NaN and infinities become null."""
    try:
        return _ENCODER.encode(value)
    except ValueError:  # NaN or infinity somewhere (one encoder, built once, for speed)
        return _ENCODER.encode(_finite(value))


def json_line(record: Any) -> bytes:
    """One record as a compact JSON object, UTF-8, with a trailing newline."""
    return (json_text(record) + "\n").encode("utf-8")


def _float_text(value: float) -> Optional[str]:
    return repr(value) if value - value == 0.0 else None


def _slow_text(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return iso(value)
    if isinstance(value, (dict, list, tuple)):
        return json_text(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


# The common types by exact type: one dict lookup on the hot path (CSV cells, Map to string).
TEXT_BY_TYPE: Dict[type, Callable[[Any], Optional[str]]] = {
    str: lambda v: v,
    int: int.__repr__,
    bool: lambda v: "true" if v else "false",
    float: _float_text,
    type(None): lambda v: None,
}


def to_text(value: Any) -> Optional[str]:
    """A value as text (see the module docstring); None stays None."""
    convert = TEXT_BY_TYPE.get(type(value))
    if convert is not None:
        return convert(value)
    return _slow_text(value)


# -- numbers and booleans ------------------------------------------------------------------------------

def to_number(v: Any) -> Any:
    """A finite int, float or Decimal for numeric values and numeric strings, else None."""
    cls = v.__class__
    if cls is int:
        return v
    if cls is float:
        return v if v - v == 0.0 else None  # inf - inf and nan - nan are nan
    if cls is str:
        s = v.strip()
        if not s or "_" in s:
            return None
        try:
            f = float(s)
        except ValueError:
            return None
        if f - f != 0.0:
            return None
        if -_MAX_SAFE < f < _MAX_SAFE:
            return f
        try:
            return int(s)  # big integers compare exactly
        except ValueError:
            return f
    if cls is bool or v is None:
        return None
    if isinstance(v, Decimal):
        return v if v.is_finite() else None
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return to_number(float(v))
    return None


def to_bool(v: Any) -> Optional[bool]:
    cls = v.__class__
    if cls is bool:
        return v  # type: ignore[no-any-return]
    if cls is str:
        s = v.strip().lower()
        if s in ("true", "1"):
            return True
        if s in ("false", "0"):
            return False
        return None
    if cls is int or cls is float:
        if v == 1:
            return True
        if v == 0:
            return False
    return None


# -- points in time --------------------------------------------------------------------------------

# A zone designator belongs to a time: "2024-06-01+02:00" is not a date in zone +02:00 (Python's
# fromisoformat reads it as 02:00 with "+" for "T"), so it is rejected. ASCII digits only.
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?)?\Z",
    re.IGNORECASE | re.ASCII,
)
_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\Z", re.ASCII)


def _offset(text: Optional[str]) -> timezone:
    if not text or text.upper() == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _micros(fraction: Optional[str]) -> int:
    return int((fraction or "0")[:6].ljust(6, "0"))


def parse_iso(text: str) -> Optional[datetime]:
    """A datetime (aware; naive text is UTC) from ISO-8601 date or date-time text, else None."""
    m = _ISO.match(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                        _micros(fraction), tzinfo=_offset(offset))
    except ValueError:  # month 13, hour 25, ...
        return None


def _time_ms(hour: int, minute: int, second: int, micros: int) -> Optional[float]:
    if hour > 23 or minute > 59 or second > 59:
        return None
    return ((hour * 60 + minute) * 60 + second) * 1000.0 + micros / 1000.0


def to_epoch_ms(v: Any) -> Optional[float]:
    """Epoch milliseconds (see the module docstring), else None."""
    if v is None or v.__class__ is bool:
        return None
    if isinstance(v, datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        return (v - _EPOCH) / _MS
    if isinstance(v, date):
        return (datetime(v.year, v.month, v.day, tzinfo=timezone.utc) - _EPOCH) / _MS
    if isinstance(v, time):
        return _time_ms(v.hour, v.minute, v.second, v.microsecond)
    n = to_number(v)
    if n is not None:
        n = float(n)
        return n if abs(n) >= MS_THRESHOLD else n * 1000.0
    if isinstance(v, str):
        parsed = parse_iso(v)
        if parsed is not None:
            return (parsed - _EPOCH) / _MS
        m = _TIME.match(v.strip())
        if m is not None:
            return _time_ms(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), _micros(m.group(4)))
    return None


def to_epoch_seconds(v: Any) -> Optional[float]:
    """Epoch seconds: :func:`to_epoch_ms` / 1000."""
    ms = to_epoch_ms(v)
    return None if ms is None else ms / 1000.0


# -- field types of values -------------------------------------------------------------------------

def field_type_of(value: Any) -> Optional[str]:
    """The AppFlow ``fieldType`` a Python value suggests (None for None): ``boolean``, ``integer``,
    ``double``, ``struct`` (dicts), ``list``, else ``string``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dict):
        return "struct"
    if isinstance(value, (list, tuple)):
        return "list"
    return "string"


def common_field_type(values: Iterable[Any]) -> str:
    """One ``fieldType`` for a column's values: theirs when they agree (integers and doubles make
    ``double``), else ``string``."""
    kinds = {t for t in map(field_type_of, values) if t is not None}
    if kinds == {"integer", "double"}:
        return "double"
    return kinds.pop() if len(kinds) == 1 else "string"
