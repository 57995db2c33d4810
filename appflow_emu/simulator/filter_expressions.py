"""AppFlow's side of the custom connector SDK's filter language: a flow's Filter tasks and its
incremental window as the one ``filterExpression`` of a ``QueryDataRequest``.

The specification is the SDK's ``custom_connector_queryfilter`` package (its README and the ANTLR
grammar ``queryfilter/grammar/*.g4``); every text built here parses with the SDK's own
``parse_tree_builder.parse``. Tags: [doc] the SDK README says it; [guess] it does not (most of
these follow from the grammar, which only says what parses, not what AppFlow sends).

Which tasks count
* Filter tasks whose operator (the ``connectorOperator``'s only value, whatever its key; with
  several members, the one keyed ``CustomConnector``) is a value filter: LESS_THAN,
  LESS_THAN_OR_EQUAL_TO, GREATER_THAN, GREATER_THAN_OR_EQUAL_TO, EQUAL_TO, NOT_EQUAL_TO, CONTAINS,
  BETWEEN. PROJECTION, NO_OP and the other task types are not filters here. [guess]
* A counted task the language cannot carry goes to ``local``, for the emulator to apply after the
  read: its field (``sourceFields[0]``) cannot be named (below); or a string value of it that ends
  in a backslash cannot be closed where it stands (below); or it is malformed the way the task
  compiler rejects (no source field, no value, BETWEEN without both bounds, an ordering operator
  with several values), so the emulator's own compilation reports it. [guess]

Shape
* Conditions are joined with `` and `` [doc: the README's ``price > 100 and accountName contains
  "Alexa"``], in task order, then the window: ``ts between <start> and <end>`` [seen: a connector
  written against AWS documents the incremental pull it receives as ``created_at between
  2025-08-17T09:53:10.536Z and 2025-08-17T10:05:05.279Z``], or ``ts >= <start>`` / ``ts < <end>``
  when one bound is absent [guess]. The window is ``[start, end)``; a connector that reads
  ``between`` as AWS's example connector does (both bounds excluded) misses a record stamped
  exactly at the start, as it would on AWS. Nothing to filter: ``text`` is None [guess].
* Operators ``<``, ``<=``, ``>``, ``>=``, ``=``, ``!=``, ``contains``, ``between X and Y`` (from
  LOWER_BOUND / UPPER_BOUND) [doc], spelled in lower case as the README's examples are [doc].
  EQUAL_TO with several values (``VALUES``, comma-joined, not trimmed, as the task compiler splits
  them) is ``f in (v1, v2)`` [doc: IN; the mapping is a guess]; with one value ``f = v``.
  NOT_EQUAL_TO with several values is ``f != v1 and f != v2`` [guess]. CONTAINS with several
  values is ``(f contains "a" or f contains "b")`` (the task compiler keeps a record that contains
  any of them) [guess]. A boolean field's EQUAL_TO with several values is
  ``(f = true or f = false)``: the grammar's IN list takes values, and ``true``/``false`` are not
  values to it [guess].
* Identifiers: the grammar's IDENTIFIER ``[a-zA-Z][A-Za-z0-9_.-]*`` and none of the lexer's
  keywords (:data:`KEYWORDS`: ``AND and OR or NOT not TRUE True true FALSE False false CONTAINS
  contains BETWEEN between null IN in LIMIT limit``; ``NULL`` or ``In`` are identifiers) [guess:
  the grammar]. A window whose timestamp field cannot be named, or whose bound is not a time
  the grammar can write, or that has no timestamp field, is not written: ``window_local``. [guess]

Values, by the family of the field's type (``catalog.operators.type_family``; the type is the
connector's ``FieldDataType`` from ``field_types``, else the task's ``DATA_TYPE``, else string)
* temporal: a ``date`` field's value is the DATE token ``YYYY-MM-DD`` (its UTC day); any other
  temporal type's (datetime, timestamp, time, the SDK's DateTime) is the DATETIME token
  ``YYYY-MM-DDThh:mm:ss.sssZ`` in UTC, with six fraction digits when the instant has a part of a
  millisecond [doc: ISO date-time ``YYYY-MM-DDThh:mm:ss.sTZD``; the grammar's TIME ends in ``Z``].
  Task values are epoch milliseconds (numbers or numeric text, as the task compiler reads them) or
  ISO-8601 text (``values.to_epoch_ms``); the window's bounds are epoch seconds and always written
  as DATETIME, whatever the field's type. The grammar's year has exactly four digits: an instant
  outside years 0001-9999, or a value that is not a time, becomes a quoted string. [guess]
* numeric: a plain decimal for the DECIMAL / POS_INTEGER tokens (``-?[0-9]+(\\.[0-9]+)?``, never an
  exponent): the value as written when it is already one, else the number the task compiler
  reads (``values.to_number``) in plain notation (``1e3`` -> ``1000``, ``.5`` -> ``0.5``,
  ``1.5e-7`` -> ``0.00000015``). A value that is not a finite number becomes a quoted string. [guess]
* boolean: ``true`` / ``false`` for ``=`` and ``!=`` when the value is a boolean text (true/false
  in any case) [doc: booleans are written ``true``, ``True``, ``TRUE``...]; with another operator
  (the grammar takes booleans only after ``=`` and ``!=``) or another value, a quoted string. [guess]
* CONTAINS values are always quoted strings (the task compiler's CONTAINS is a substring test on
  the value's text) [guess].
* text and everything else: a double-quoted string [doc: strings in single or double quotes; the
  empty string ``""``]; inside it ``\\`` is ``\\\\``, ``"`` is ``\\"``, newline, carriage return and tab
  are ``\\n``, ``\\r``, ``\\t`` (the grammar's STR_ESC); any other character, non-ASCII included,
  stays as it is. [guess]

A trap in the lexer. A string token is ``'"' (~'"' | STR_ESC)+ '"'``: a backslash also matches
``~'"'``, so in ``"a\\\\"`` (the text ``a\\``) the lexer may read the last backslash and the closing
quote as an escaped quote and go on; ANTLR's lexer takes the longest match, so whenever any ``"``
follows later in the expression the string swallows text up to it and the expression no longer
parses (or parses as something else). Only a value ending in a backslash has the problem. Such
a value is written in double quotes when no ``"`` follows it, else in single quotes (``'``
escaped as ``\\'``, ``"`` as it is) when no ``'`` follows it, else its task goes to ``local``.
Conditions are therefore written from the last to the first. [guess]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple, Union

from appflow_emu.catalog.operators import BOOLEAN, NUMERIC, ORDERING, TEMPORAL, VALUE_FILTER_OPERATORS, type_family
from appflow_emu.simulator.values import to_epoch_ms, to_number

__all__ = ["KEYWORDS", "FilterExpression", "filter_expression", "is_identifier", "quote"]

# The lexer's keywords: as IDENTIFIER matches them at the same length and they are defined first,
# they are never identifiers. Other spellings (NULL, In, Contains) are.
KEYWORDS: FrozenSet[str] = frozenset({
    "AND", "and", "OR", "or", "NOT", "not", "TRUE", "True", "true", "FALSE", "False", "false",
    "CONTAINS", "contains", "BETWEEN", "between", "null", "IN", "in", "LIMIT", "limit"})
_IDENTIFIER = re.compile(r"[a-zA-Z][A-Za-z0-9_.-]*\Z")
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")
_COMPARATORS: Dict[str, str] = {**ORDERING, "EQUAL_TO": "=", "NOT_EQUAL_TO": "!="}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class FilterExpression:
    text: Optional[str]                 # the filterExpression to send; None when there is nothing to filter
    local: Tuple[Dict[str, Any], ...]   # the Filter tasks the language cannot carry, in task order
    window_local: bool                  # True when the window could not be expressed


def is_identifier(name: Any) -> bool:
    """Whether the language can name this field: the grammar's IDENTIFIER, and not a keyword."""
    return isinstance(name, str) and _IDENTIFIER.match(name) is not None and name not in KEYWORDS


def quote(content: str, quote_char: str = '"') -> str:
    """``content`` as a string token between ``quote_char`` (``"`` or ``'``), escaped as the module
    docstring says. Mind the trap it describes for content that ends in a backslash."""
    out = [quote_char]
    for ch in content:
        if ch == quote_char:
            out.append("\\" + ch)
        else:
            out.append(_ESCAPES.get(ch, ch))
    out.append(quote_char)
    return "".join(out)


class _Str:
    """A string value whose quotes are chosen once the text after it is known."""
    __slots__ = ("content",)

    def __init__(self, content: str) -> None:
        self.content = content


_Part = Union[str, _Str]


# -- values ------------------------------------------------------------------------------------------

def _instant(micros: Any) -> Optional[datetime]:
    """The UTC datetime ``micros`` microseconds after the epoch, or None outside years 1-9999."""
    try:
        return _EPOCH + timedelta(microseconds=int(micros))
    except (OverflowError, ValueError):
        return None


def _micros(value: Any, per_unit: int) -> Optional[int]:
    """A finite number of units (milliseconds: 1000, seconds: 1000000) as whole microseconds."""
    if value is None or isinstance(value, bool):
        return None
    try:
        exact = value if isinstance(value, Decimal) else Decimal(value)  # floats exactly, then rounded once
        if not exact.is_finite():
            return None
        return int((exact * per_unit).to_integral_value(ROUND_HALF_EVEN))
    except (InvalidOperation, TypeError, ValueError, OverflowError):
        return None


def _datetime_token(when: datetime, date_only: bool) -> str:
    day = f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
    if date_only:
        return day
    fraction = f"{when.microsecond // 1000:03d}" if when.microsecond % 1000 == 0 else f"{when.microsecond:06d}"
    return f"{day}T{when.hour:02d}:{when.minute:02d}:{when.second:02d}.{fraction}Z"


def _time_token(raw: str, date_only: bool) -> Optional[str]:
    """A task's temporal value (epoch milliseconds or ISO-8601 text, as the task compiler reads it)."""
    number = to_number(raw)
    ms = number if number is not None else to_epoch_ms(raw)
    micros = _micros(ms, 1000)
    when = None if micros is None else _instant(micros)
    return None if when is None else _datetime_token(when, date_only)


def _number_token(raw: str) -> Optional[str]:
    number = to_number(raw)
    if number is None:
        return None
    written = raw.strip()
    if _PLAIN_DECIMAL.match(written):
        return written
    exact = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
    if exact == exact.to_integral_value():
        return str(int(exact))
    text = format(exact, "f")
    return text if _PLAIN_DECIMAL.match(text) else None


def _value(raw: str, family: str, date_only: bool, op: str) -> _Part:
    if op == "CONTAINS":
        return _Str(raw)
    token: Optional[str] = None
    if family == NUMERIC:
        token = _number_token(raw)
    elif family == TEMPORAL:
        token = _time_token(raw, date_only)
    elif family == BOOLEAN and op in ("EQUAL_TO", "NOT_EQUAL_TO"):
        word = raw.strip().lower()
        token = word if word in ("true", "false") else None
    return _Str(raw) if token is None else token


# -- conditions ----------------------------------------------------------------------------------

def _operator(task: Mapping[str, Any]) -> Optional[str]:
    ops = task.get("connectorOperator")
    if not isinstance(ops, Mapping) or not ops:
        return None
    if len(ops) == 1:
        op = next(iter(ops.values()))
    else:
        matching = [v for k, v in ops.items() if str(k).lower() == "customconnector"]
        op = matching[0] if len(matching) == 1 else None
    return op if isinstance(op, str) else None


def _props(task: Mapping[str, Any]) -> Dict[str, str]:
    """taskProperties as the task compiler reads them: values as text, None as empty text."""
    props = task.get("taskProperties")
    if not isinstance(props, Mapping):
        return {}
    return {str(k): v if isinstance(v, str) else ("" if v is None else str(v)) for k, v in props.items()}


def _field_type(field: str, field_types: Mapping[str, str], props: Mapping[str, str]) -> str:
    ftype = field_types.get(field)
    if isinstance(ftype, str) and ftype.strip():
        return ftype
    dtype = props.get("DATA_TYPE", "")
    return dtype if dtype.strip() else "string"


def _condition(task: Mapping[str, Any], op: str, field_types: Mapping[str, str]) -> Optional[List[_Part]]:
    """The parts of one Filter task's condition, or None when the language cannot carry it."""
    sources = task.get("sourceFields")
    if not isinstance(sources, (list, tuple)) or not sources or not is_identifier(sources[0]):
        return None
    field: str = sources[0]
    props = _props(task)
    ftype = _field_type(field, field_types, props)
    family, date_only = type_family(ftype), ftype.strip().lower() == "date"

    if op == "BETWEEN":
        if "LOWER_BOUND" not in props or "UPPER_BOUND" not in props:
            return None
        lower = _value(props["LOWER_BOUND"], family, date_only, op)
        upper = _value(props["UPPER_BOUND"], family, date_only, op)
        return [f"{field} between ", lower, " and ", upper]
    if props.get("VALUES", "") != "":
        raws = props["VALUES"].split(",")
    elif "VALUE" in props:
        raws = [props["VALUE"]]
    else:
        return None
    if op in ORDERING and len(raws) != 1:
        return None
    values = [_value(raw, family, date_only, op) for raw in raws]
    if op == "CONTAINS":
        return _joined([[f"{field} contains ", v] for v in values], " or ", group=True)
    if len(values) == 1:
        return [f"{field} {_COMPARATORS[op]} ", values[0]]
    if op == "NOT_EQUAL_TO":
        return _joined([[f"{field} != ", v] for v in values], " and ", group=False)
    if family == BOOLEAN:
        return _joined([[f"{field} = ", v] for v in values], " or ", group=True)
    return _joined([values[:1], *([", ", v] for v in values[1:])], "", group=False, wrap=(f"{field} in (", ")"))


def _joined(items: List[List[_Part]], sep: str, group: bool,
            wrap: Optional[Tuple[str, str]] = None) -> List[_Part]:
    parts: List[_Part] = []
    for i, item in enumerate(items):
        if i and sep:
            parts.append(sep)
        parts.extend(item)
    if group and len(items) > 1:
        wrap = ("(", ")")
    return [wrap[0], *parts, wrap[1]] if wrap else parts


def _render(parts: Sequence[_Part], double_after: bool, single_after: bool) -> Optional[str]:
    """The condition's text, its strings quoted so that none runs on past its end (see the module
    docstring), given whether a ``"`` / ``'`` follows it; None when some string cannot be."""
    out: List[str] = []
    for part in reversed(parts):
        if isinstance(part, _Str):
            if not part.content.endswith("\\") or not double_after:
                text = quote(part.content, '"')
            elif not single_after:
                text = quote(part.content, "'")
            else:
                return None
        else:
            text = part
        out.append(text)
        double_after = double_after or '"' in text
        single_after = single_after or "'" in text
    return "".join(reversed(out))


def _window(window: Tuple[Optional[float], Optional[float]], timestamp_field: Optional[str]) -> Optional[List[str]]:
    """The window's conditions ([] when there is no window), or None when it cannot be written."""
    start, end = window
    if start is None and end is None:
        return []
    if timestamp_field is None or not is_identifier(timestamp_field):
        return None
    tokens: List[Optional[str]] = []
    for bound in (start, end):
        if bound is None:
            tokens.append(None)
            continue
        micros = _micros(bound, 1_000_000)
        when = None if micros is None else _instant(micros)
        if when is None:
            return None
        tokens.append(_datetime_token(when, False))
    low, high = tokens
    if low is not None and high is not None:
        return [f"{timestamp_field} between {low} and {high}"]
    if low is not None:
        return [f"{timestamp_field} >= {low}"]
    return [f"{timestamp_field} < {high}"]


def filter_expression(tasks: Sequence[Mapping[str, Any]], field_types: Mapping[str, str],
                      window: Tuple[Optional[float], Optional[float]] = (None, None),
                      timestamp_field: Optional[str] = None) -> FilterExpression:
    """The ``filterExpression`` of a flow's Filter tasks and incremental window ``[start, end)``
    (epoch seconds) on ``timestamp_field``; ``field_types``: field name -> the connector's data type.
    See the module docstring for the rules."""
    window_conditions = _window(window, timestamp_field)
    filters: List[Tuple[Mapping[str, Any], str]] = []
    for task in tasks:
        if isinstance(task, Mapping) and task.get("taskType") == "Filter":
            op = _operator(task)
            if op is not None and op in VALUE_FILTER_OPERATORS:
                filters.append((task, op))
    conditions: List[str] = []
    local: List[Dict[str, Any]] = []
    double_after = single_after = False  # the window has no quotes
    for task, op in reversed(filters):
        parts = _condition(task, op, field_types)
        text = None if parts is None else _render(parts, double_after, single_after)
        if text is None:
            local.append(task if isinstance(task, dict) else dict(task))
            continue
        conditions.append(text)
        double_after = double_after or '"' in text
        single_after = single_after or "'" in text
    conditions.reverse()
    local.reverse()
    conditions.extend(window_conditions or ())
    return FilterExpression(" and ".join(conditions) or None, tuple(local), window_conditions is None)
