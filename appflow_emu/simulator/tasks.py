"""A flow's task list, compiled once per run into one fast streaming function.

``compile_tasks(tasks, source_connector_type)`` reads the flow's ``tasks`` exactly as the AppFlow
API takes them and returns a :class:`CompiledTasks`:

* ``compiled(records, on_failure=None)`` -- a generator over the output records;
* ``compiled.partition_keys`` -- the Partition task's ``ORDERED_PARTITION_KEYS_LIST`` (or ``[]``);
* ``compiled.fields_read`` -- the fields read from the source: the PROJECTION's source fields, then
  the other source fields the tasks name (``None``: no projection, every field is read).

How it is fast: the whole task list is turned into the source text of ONE Python generator
(straight-line code per record, every field read once into a local variable, every constant and
converter bound as a closure variable, field names as literals via ``repr``) and compiled with
``compile()``.  The per-record path is what a hand-written loop would do; see docs/simulator.md.
No user text is ever pasted into the source except through ``repr`` of a ``str``.

Failures.  A record that fails (a value a Map cannot convert, a non-numeric Arithmetic operand,
division by zero, anything unexpected such as a record that is not a dict) fails alone: its
``RecordFailure`` (``.record`` = the source record) goes to ``on_failure`` and the stream goes on,
or, without a callback, is raised out of the generator after the failed record was consumed, so
that calling again with the same iterator resumes with the next record (the engine's protocol);
the engine counts those as put failures.  ``RunFailure`` (a DropDataset validation, or a task list that cannot
be compiled -- raised by ``compile_tasks`` itself) propagates and ends the run in Error.

Phases, per record, whatever the order of the tasks in the list:
  1. projection      -- Filter/PROJECTION: the fields read are its sourceFields (several PROJECTION
                        tasks: their union) plus every source field another task names (a Merge's or
                        an Arithmetic's inputs, CONCAT_FORMAT placeholders, MATH_OPERATION_FIELDS_ORDER,
                        validated, filtered, masked, mapped fields); nothing else is visible, which
                        matters for Map_all: it copies the projected fields only.  cdk-appflow projects
                        only Map and Filter source fields, so a strict projection would starve its
                        concat/arithmetic mappings.  Without a projection every field is visible.
  2. validations     -- Validate tasks, in list order.
  3. value filters   -- Filter tasks other than PROJECTION, ANDed together, in list order.
  4. transforms      -- Mask, Truncate, Merge, Arithmetic in list order; each sees the results of
                        the ones before it.
  5. output          -- Map_all (if any) is the base, then Map / Passthrough in list order on top.
  Partition only sets ``partition_keys``.

Semantics chosen (each [guess] unless the fact sheet says otherwise):
* A field that is missing from a record reads as null.
* Filters on ``sourceFields[0]``; null never passes.  ``DATA_TYPE``:
  - numeric (integer int long short byte bigint double float decimal number currency percent real
    numeric): record values int/float/Decimal or numeric strings; a non-numeric value or NaN does
    not pass.  Constants parsed once (a bad constant -> RunFailure).
  - boolean: true/false (strings case-insensitive, 1/0).
  - date datetime timestamp: constants are epoch milliseconds (as strings); record values may be
    datetime/date objects (naive = UTC), ISO-8601 strings, or epoch numbers (|n| >= 1e11 read as
    milliseconds, smaller as seconds; numeric strings alike).  Unparseable -> does not pass.
  - anything else (string, id, picklist, ...): the value's text (true/false for booleans),
    compared as Python strings (code points).
  - absent: numeric when every constant is a number, else string.
  ``VALUES`` (comma-joined, no trimming) is a list: EQUAL_TO matches any, NOT_EQUAL_TO none,
  CONTAINS any; the ordering operators take exactly one value.  BETWEEN: LOWER_BOUND < v <
  UPPER_BOUND (exclusive).  CONTAINS: case-sensitive substring of the value's text.
* Validate (every source field): VALIDATE_NON_NULL fails on null/missing; VALIDATE_NUMERIC on a present value that is
  not a finite number (numeric strings are numeric); VALIDATE_NON_ZERO on a numeric 0;
  VALIDATE_NON_NEGATIVE on a numeric value < 0 (null and non-numeric values pass the last three).
  VALIDATION_ACTION DropRecord drops the record (not a failure), DropDataset ends the run
  (RunFailure naming field and rule), absent / "No action" / "NoAction" / "None" keeps it.
* Mask: the value's text with MASK_VALUE (one character, default ``*``) over all characters
  (MASK_ALL), the first / last MASK_LENGTH (MASK_FIRST_N / MASK_LAST_N; longer than the value masks
  all), in place for each source field (and under destinationField too if it names another field).
  Truncate: the value's text cut to TRUNCATE_LENGTH, in place.  Nulls stay null.
* Merge: CONCAT_FORMAT with ``${field}`` placeholders (any field name; null -> empty text), default
  the source fields' texts joined with nothing; stored under destinationField (default the source
  fields comma-joined), a derived field that only appears in the output if a Map reads it.
* Arithmetic: operands in MATH_OPERATION_FIELDS_ORDER order (else sourceFields order), folded left
  with + * / -; ints stay ints except for division; a null / non-numeric operand or division by
  zero fails the record.  Result under destinationField (default the fields comma-joined).
* Map: ``output[destinationField or sourceFields[0]] = value`` converted by DESTINATION_DATA_TYPE:
  string family -> text; int/integer/short/byte (32-bit) and long/bigint (64-bit) -> int (integral
  floats and strings like "1e3" accepted, out of range fails); double/float/decimal/number/currency/
  percent/real -> float (non-finite fails); boolean -> bool; date/datetime/timestamp/time and
  unknown types -> kept as given; null stays null.  A value that cannot be converted fails the
  record.  SOURCE_DATA_TYPE is informational.  Passthrough: the value as is.
  Map_all: every visible source field (in place transforms applied) except EXCLUDE_SOURCE_FIELDS_LIST
  (a JSON array string); fields missing from a record stay missing.  INCLUDE_NEW_FIELDS and
  SUBFIELD_CATEGORY_MAP are accepted and ignored.  Without any Map/Map_all/Passthrough the output
  records are empty objects.
* Partition: ORDERED_PARTITION_KEYS_LIST (JSON array of strings; several Partition tasks append).
* The operator comes from ``connectorOperator``: its only value, or the member named like the
  source connector type (case-insensitive) when there are several.  A missing operator means NO_OP.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from decimal import Decimal
from typing import Any, Callable, Dict, FrozenSet, Iterable, Iterator, List, Optional, Tuple

from appflow_emu.simulator.core import Record, RecordFailure, RunFailure

__all__ = ["CompiledTasks", "compile_tasks"]

FailureCallback = Callable[[RecordFailure], None]

# --- type families ---------------------------------------------------------------------------

_INT32_TYPES = frozenset({"int", "integer", "short", "byte", "int32"})
_INT64_TYPES = frozenset({"long", "bigint", "int64"})
_FLOAT_TYPES = frozenset({"double", "float", "decimal", "number", "currency", "percent", "real",
                          "numeric"})
_NUMERIC_TYPES = _INT32_TYPES | _INT64_TYPES | _FLOAT_TYPES
_BOOL_TYPES = frozenset({"boolean", "bool"})
_DATE_TYPES = frozenset({"date", "datetime", "timestamp"})
_STRING_TYPES = frozenset({"string", "str", "text", "varchar", "char", "id", "reference", "picklist",
                           "multipicklist", "textarea", "email", "phone", "url", "combobox",
                           "encryptedstring"})

_FILTER_OPS = frozenset({"LESS_THAN", "GREATER_THAN", "CONTAINS", "BETWEEN", "LESS_THAN_OR_EQUAL_TO",
                         "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO", "NOT_EQUAL_TO"})
_ORDER_OPS = {"LESS_THAN": "<", "GREATER_THAN": ">", "LESS_THAN_OR_EQUAL_TO": "<=",
              "GREATER_THAN_OR_EQUAL_TO": ">="}
_ARITH_OPS = {"ADDITION": "+", "MULTIPLICATION": "*", "DIVISION": "/", "SUBTRACTION": "-"}
_MASK_OPS = frozenset({"MASK_ALL", "MASK_FIRST_N", "MASK_LAST_N"})
_VALIDATE_OPS = frozenset({"VALIDATE_NON_NULL", "VALIDATE_NON_ZERO", "VALIDATE_NON_NEGATIVE",
                           "VALIDATE_NUMERIC"})
_NO_ACTION = frozenset({"", "no action", "noaction", "none", "no_action"})
_INT32 = (-(2 ** 31), 2 ** 31 - 1)
_INT64 = (-(2 ** 63), 2 ** 63 - 1)
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MS_THRESHOLD = 1e11  # epoch numbers at least this large are milliseconds, smaller are seconds
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def _short(value: Any) -> str:
    """The value for a message: its text, at most 40 characters, empty text shown as ''."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:  # a value whose repr fails still gets a message
        text = object.__repr__(value)
    if text == "":
        return "''"
    return text if len(text) <= 40 else text[:37] + "..."


# --- value helpers (module level: shared, tight) ----------------------------------------------

def _text(v: Any) -> Optional[str]:
    """The value as text, the way a JSON/Java writer would spell it; None stays None."""
    if v is None:
        return None
    return _text_of(v)


def _text_of(v: Any) -> str:
    """The text of a value that is not None."""
    cls = v.__class__
    if cls is str:
        return v  # type: ignore[no-any-return]
    if cls is bool:
        return "true" if v else "false"
    if cls is int or cls is float or cls is Decimal:
        return str(v)
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        return v.isoformat()
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, default=str, separators=(",", ":"))
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    return str(v)


def _num(v: Any) -> Any:
    """A finite int/float/Decimal for numeric values and numeric strings, else None."""
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
        if -9007199254740992.0 < f < 9007199254740992.0:
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
        return _num(float(v))
    return None


def _to_ms(v: Any) -> Optional[float]:
    """Epoch milliseconds for datetime/date objects, ISO-8601 strings and epoch numbers."""
    if v is None or v.__class__ is bool:
        return None
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        return (v - _EPOCH) / _dt.timedelta(milliseconds=1)
    if isinstance(v, _dt.date):
        return _to_ms(_dt.datetime(v.year, v.month, v.day, tzinfo=_dt.timezone.utc))
    n = _num(v)
    if n is not None:
        n = float(n)
        return n if abs(n) >= _MS_THRESHOLD else n * 1000.0
    if isinstance(v, str):
        return _iso_ms(v)
    return None


def _iso_ms(s: str) -> Optional[float]:
    s = s.strip()
    if s.endswith(("z", "Z")):
        s = s[:-1] + "+00:00"
    try:
        d = _dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    return _to_ms(d)


def _bool(v: Any) -> Optional[bool]:
    cls = v.__class__
    if cls is bool:
        return v
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


# --- Map conversions: closures that know the field names for their messages --------------------

def _converter(dtype: str, src: str, dest: str) -> Optional[Callable[[Any], Any]]:
    """None: keep the value as is.  Otherwise a function value -> converted (None -> None)."""
    t = dtype.strip().lower()

    def fail(v: Any, what: str) -> RecordFailure:
        return RecordFailure(
            f"Cannot convert value {_short(v)} of field {src} to {what} for destination field "
            f"{dest}, DESTINATION_DATA_TYPE {dtype}")

    if t in _STRING_TYPES:
        return _text
    if t in _INT32_TYPES or t in _INT64_TYPES:
        lo, hi = _INT32 if t in _INT32_TYPES else _INT64

        def to_int(v: Any) -> Any:
            cls = v.__class__
            if cls is int:
                n = v
            elif v is None:
                return None
            elif cls is bool:
                n = int(v)
            else:
                if cls is str:
                    s = v.strip()
                    try:
                        n = int(s) if "_" not in s else None
                    except ValueError:
                        n = None
                    if n is None:
                        f = _num(s)
                        if f is None or f != int(f):
                            raise fail(v, "an integer")
                        n = int(f)
                else:
                    f = _num(v)
                    if f is None or f != int(f):
                        raise fail(v, "an integer")
                    n = int(f)
            if n < lo or n > hi:
                raise fail(v, f"an integer between {lo} and {hi}")
            return n
        return to_int
    if t in _FLOAT_TYPES:
        def to_float(v: Any) -> Any:
            cls = v.__class__
            if cls is float:
                if v - v == 0.0:
                    return v
                raise fail(v, "a finite number")
            if v is None:
                return None
            if cls is bool:
                return float(v)
            n = _num(v)
            if n is None:
                raise fail(v, "a number")
            try:
                f = float(n)
            except OverflowError:
                raise fail(v, "a finite number") from None
            if f - f != 0.0:
                raise fail(v, "a finite number")
            return f
        return to_float
    if t in _BOOL_TYPES:
        def to_bool(v: Any) -> Any:
            if v is None:
                return None
            b = _bool(v)
            if b is None:
                raise fail(v, "a boolean")
            return b
        return to_bool
    return None  # date/datetime/timestamp/time and unknown types: kept as given


# --- compiling --------------------------------------------------------------------------------

class _Task:
    __slots__ = ("index", "type", "op", "sources", "dest", "props")

    def __init__(self, index: int, ttype: str, op: str, sources: List[str], dest: Optional[str],
                 props: Dict[str, str]) -> None:
        self.index, self.type, self.op = index, ttype, op
        self.sources, self.dest, self.props = sources, dest, props

    def where(self) -> str:
        return f"task {self.index + 1} ({self.type} {self.op})"


def _bad(task: Optional[_Task], text: str) -> RunFailure:
    prefix = f"Task Validation Error: {task.where()}: " if task else "Task Validation Error: "
    return RunFailure(prefix + text)


def _normalize(tasks: Any, source_connector_type: str) -> List[_Task]:
    if not isinstance(tasks, (list, tuple)):
        raise _bad(None, "tasks must be a list")
    out: List[_Task] = []
    wanted = (source_connector_type or "").lower()
    for i, raw in enumerate(tasks):
        if not isinstance(raw, dict):
            raise _bad(None, f"task {i + 1} is not an object")
        ttype = raw.get("taskType")
        if not isinstance(ttype, str):
            raise _bad(None, f"task {i + 1} has no taskType")
        ops = raw.get("connectorOperator") or {}
        if not isinstance(ops, dict):
            raise _bad(None, f"task {i + 1}: connectorOperator must be an object")
        if not ops:
            op: Any = "NO_OP"
        elif len(ops) == 1:
            op = next(iter(ops.values()))
        else:
            matching = [v for k, v in ops.items() if str(k).lower() == wanted]
            if len(matching) != 1:
                raise _bad(None, f"task {i + 1}: connectorOperator has several members and none "
                                 f"for source connector {source_connector_type}")
            op = matching[0]
        if not isinstance(op, str):
            raise _bad(None, f"task {i + 1}: the connector operator must be a string")
        sources = raw.get("sourceFields") or []
        if not isinstance(sources, (list, tuple)) or not all(isinstance(s, str) for s in sources):
            raise _bad(None, f"task {i + 1}: sourceFields must be a list of strings")
        dest = raw.get("destinationField")
        if dest is not None and not isinstance(dest, str):
            raise _bad(None, f"task {i + 1}: destinationField must be a string")
        props = raw.get("taskProperties") or {}
        if not isinstance(props, dict):
            raise _bad(None, f"task {i + 1}: taskProperties must be an object")
        props = {str(k): v if isinstance(v, str) else ("" if v is None else str(v))
                 for k, v in props.items()}
        out.append(_Task(i, ttype, op, list(sources), dest or None, props))
    return out


def _json_list(task: _Task, key: str) -> List[str]:
    text = task.props.get(key, "").strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        raise _bad(task, f"{key} must be a JSON array of field names, got {_short(text)}") from None
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise _bad(task, f"{key} must be a JSON array of field names, got {_short(text)}")
    return value


def _int_prop(task: _Task, key: str, required: bool = True) -> Optional[int]:
    text = task.props.get(key)
    if text is None or not text.strip():
        if required:
            raise _bad(task, f"{key} is required")
        return None
    try:
        n = int(text.strip())
    except ValueError:
        raise _bad(task, f"{key} must be a non-negative integer, got {_short(text)}") from None
    if n < 0:
        raise _bad(task, f"{key} must be a non-negative integer, got {_short(text)}")
    return n


class _Source:
    """Builds the generator's source text."""

    def __init__(self, projection: Optional[List[str]], visible: Optional[List[str]]) -> None:
        self.projection_order: List[str] = list(projection or [])  # what Map_all copies
        self.projection: Optional[FrozenSet[str]] = None if visible is None else frozenset(visible)
        self.lines: List[str] = []
        self.consts: Dict[str, Any] = {}
        self.locals: Dict[str, str] = {}  # field name -> local variable holding its current value
        self.assigned: List[str] = []  # field names given a new value by a transform, in order
        self.counter = 0

    def const(self, value: Any) -> str:
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def fresh(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def emit(self, line: str) -> None:
        self.lines.append(line)

    def read(self, field: str) -> str:
        """An expression (a local or ``None``) holding the field's current value."""
        local = self.locals.get(field)
        if local is not None:
            return local
        if self.projection is not None and field not in self.projection:
            return "None"
        local = self.fresh()
        self.emit(f"{local} = r.get({field!r})")
        self.locals[field] = local
        return local

    def write(self, field: str, expr: str) -> None:
        """The field's value becomes ``expr`` from here on."""
        local = self.fresh()
        self.emit(f"{local} = {expr}")
        self.locals[field] = local
        if field not in self.assigned:
            self.assigned.append(field)


def _split_values(task: _Task) -> List[str]:
    if "VALUES" in task.props and task.props["VALUES"] != "":
        return task.props["VALUES"].split(",")
    if "VALUE" in task.props:
        return [task.props["VALUE"]]
    return []


def _filter(src: _Source, task: _Task) -> None:
    if not task.sources:
        raise _bad(task, "a filter needs a source field")
    field = task.sources[0]
    op = task.op
    dtype = task.props.get("DATA_TYPE", "").strip().lower()
    if op == "BETWEEN":
        if "LOWER_BOUND" not in task.props or "UPPER_BOUND" not in task.props:
            raise _bad(task, "BETWEEN needs LOWER_BOUND and UPPER_BOUND")
        raw = [task.props["LOWER_BOUND"], task.props["UPPER_BOUND"]]
    else:
        raw = _split_values(task)
        if not raw:
            raise _bad(task, f"{op} needs VALUE or VALUES")
        if op in _ORDER_OPS and len(raw) != 1:
            raise _bad(task, f"{op} takes exactly one value, got {len(raw)}")
    if op == "CONTAINS":
        family = "string"
    elif dtype in _NUMERIC_TYPES:
        family = "numeric"
    elif dtype in _BOOL_TYPES:
        family = "boolean"
    elif dtype in _DATE_TYPES:
        family = "date"
    elif dtype:
        family = "string"
    else:
        family = "numeric" if all(_num(x) is not None for x in raw) else "string"

    consts: List[Any]
    if family == "numeric":
        consts = [_num(x) for x in raw]
        norm = "_num({})"
    elif family == "boolean":
        consts = [_bool(x) for x in raw]
        norm = "_bool({})"
    elif family == "date":
        consts = []
        for x in raw:
            n = _num(x)
            consts.append(float(n) if n is not None else _iso_ms(x))
        norm = "_to_ms({})"
    else:
        consts = list(raw)
        norm = "_text({})"
    for text, c in zip(raw, consts):
        if c is None:
            raise _bad(task, f"value {_short(text)} is not a valid {dtype or family} value")

    value = src.read(field)
    if value == "None":  # cannot happen (named fields are read); kept: nothing passes
        src.emit("continue")
        return
    x = src.fresh()
    if family == "numeric":
        src.emit(f"{x} = {value} if {value}.__class__ is int else _num({value})")
    elif family == "string":
        src.emit(f"{x} = {value} if {value}.__class__ is str else _text({value})")
    else:
        src.emit(f"{x} = {norm.format(value)}")
    if op == "BETWEEN":
        lo, hi = src.const(consts[0]), src.const(consts[1])
        src.emit(f"if {x} is None or not ({lo} < {x} < {hi}): continue")
    elif op in _ORDER_OPS:
        c = src.const(consts[0])
        src.emit(f"if {x} is None or not ({x} {_ORDER_OPS[op]} {c}): continue")
    elif op == "CONTAINS":
        tests = " or ".join(f"{src.const(c)} in {x}" for c in consts)
        src.emit(f"if {x} is None or not ({tests}): continue")
    elif op in ("EQUAL_TO", "NOT_EQUAL_TO"):
        if len(consts) == 1:
            c = src.const(consts[0])
            test = f"{x} == {c}"
        else:
            c = src.const(frozenset(consts))
            test = f"{x} in {c}"
        if op == "EQUAL_TO":
            src.emit(f"if {x} is None or not ({test}): continue")
        else:
            src.emit(f"if {x} is None or {test}: continue")
    else:  # pragma: no cover - guarded by the caller
        raise _bad(task, "unsupported filter operator")


def _validate(src: _Source, task: _Task) -> None:
    if not task.sources:
        raise _bad(task, "a validation needs a source field")
    raw_action = task.props.get("VALIDATION_ACTION", "")
    action = raw_action.strip().lower()
    if action in _NO_ACTION:
        return
    if action not in ("droprecord", "dropdataset"):
        raise _bad(task, f"VALIDATION_ACTION {_short(raw_action)} is not one of DropRecord, "
                         f"DropDataset, No action")
    for field in task.sources:  # each source field is checked
        if action == "droprecord":
            act = "continue"
        else:
            msg = src.const(f"Validation failed for field {field}, rule {task.op}, "
                            f"VALIDATION_ACTION DropDataset. The flow run was stopped.")
            act = f"raise _RunFailure({msg})"
        v = src.read(field)
        if task.op == "VALIDATE_NON_NULL":
            src.emit(f"if {v} is None: {act}")
        elif v == "None":
            continue  # null passes the other rules
        elif task.op == "VALIDATE_NUMERIC":
            src.emit(f"if {v} is not None and {v}.__class__ is not int and _num({v}) is None: {act}")
        elif task.op == "VALIDATE_NON_ZERO":
            src.emit(f"if {v} is not None and _num({v}) == 0: {act}")
        elif task.op == "VALIDATE_NON_NEGATIVE":
            n = src.fresh()
            src.emit(f"{n} = _num({v})")
            src.emit(f"if {n} is not None and {n} < 0: {act}")


def _masker(task: _Task) -> Callable[[Any], Any]:
    ch = task.props.get("MASK_VALUE", "")
    if ch == "":
        ch = "*"
    if len(ch) != 1:
        raise _bad(task, f"MASK_VALUE must be one character, got {_short(ch)}")
    if task.op == "MASK_ALL":
        def mask_all(v: Any) -> Any:
            s = v if v.__class__ is str else _text_of(v)
            return ch * len(s)
        return mask_all
    n = _int_prop(task, "MASK_LENGTH")
    assert n is not None
    if task.op == "MASK_FIRST_N":
        def mask_first(v: Any) -> Any:
            s = v if v.__class__ is str else _text_of(v)
            k = n if n < len(s) else len(s)
            return ch * k + s[k:]
        return mask_first

    def mask_last(v: Any) -> Any:
        s = v if v.__class__ is str else _text_of(v)
        k = n if n < len(s) else len(s)
        return s[:len(s) - k] + ch * k
    return mask_last


def _operand(task: _Task, name: str, dest: str) -> Callable[[Any], Any]:
    """An Arithmetic operand: a finite int or float, else the record fails."""
    def operand(v: Any) -> Any:
        n = _num(v)
        if n is None:
            raise RecordFailure(f"Arithmetic {task.op} for {dest} failed, field {name} value "
                                f"{_short(v)} is not a number")
        if n.__class__ is Decimal:
            n = int(n) if n == n.to_integral_value() else float(n)
        return n
    return operand


def _merge_parts(task: _Task) -> List[Tuple[bool, str]]:
    """CONCAT_FORMAT as (is_field, text) parts; without one, the source fields back to back."""
    fmt = task.props.get("CONCAT_FORMAT")
    if fmt is None or fmt == "":
        return [(True, f) for f in task.sources]
    parts: List[Tuple[bool, str]] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(fmt):
        if m.start() > pos:
            parts.append((False, fmt[pos:m.start()]))
        parts.append((True, m.group(1)))
        pos = m.end()
    if pos < len(fmt):
        parts.append((False, fmt[pos:]))
    return parts


def _merge_text(v: Any) -> str:
    return "" if v is None else _text_of(v)


class CompiledTasks:
    """A flow's tasks, ready to apply to a stream of records (see the module docstring)."""

    def __init__(self, run: Callable[[Iterable[Record], FailureCallback], Iterator[Record]],
                 partition_keys: List[str], fields_read: Optional[List[str]], source: str) -> None:
        self._run = run
        self.partition_keys = partition_keys
        self.fields_read = fields_read
        self.source = source  # the generated Python text, for debugging

    def __call__(self, records: Iterable[Record],
                 on_failure: Optional[FailureCallback] = None) -> Iterator[Record]:
        """Output records, lazily.  A record that fails goes to ``on_failure`` and the stream goes
        on; without a callback its RecordFailure is raised out of the generator (the engine then
        calls again with the same iterator, which resumes after the failed record)."""
        return self._run(records, on_failure or _reraise)


def _reraise(failure: RecordFailure) -> None:
    raise failure


def compile_tasks(tasks: List[Dict[str, Any]], source_connector_type: str) -> CompiledTasks:
    """Compile the flow's task list; a task list that cannot run raises RunFailure."""
    try:
        return _compile(tasks, source_connector_type)
    except RunFailure:
        raise
    except Exception as exc:  # never a raw exception out of the simulator
        raise RunFailure(f"Task Validation Error: the task list cannot be run "
                         f"({exc.__class__.__name__}: {exc})") from exc


def _compile(tasks: List[Dict[str, Any]], source_connector_type: str) -> CompiledTasks:
    items = _normalize(tasks, source_connector_type)
    projection: List[str] = []
    has_projection = False
    validations: List[_Task] = []
    filters: List[_Task] = []
    transforms: List[_Task] = []
    outputs: List[_Task] = []
    map_all: List[_Task] = []
    partition_keys: List[str] = []

    for t in items:
        if t.type == "Filter":
            if t.op == "PROJECTION":
                has_projection = True
                projection.extend(f for f in t.sources if f not in projection)
            elif t.op in _FILTER_OPS:
                filters.append(t)
            else:
                raise _bad(t, f"operator {t.op} cannot filter")
        elif t.type == "Validate":
            if t.op not in _VALIDATE_OPS:
                raise _bad(t, f"operator {t.op} is not a validation")
            validations.append(t)
        elif t.type in ("Mask", "Truncate", "Merge", "Arithmetic"):
            if t.type == "Mask" and t.op not in _MASK_OPS:
                raise _bad(t, f"operator {t.op} is not a mask")
            if t.type == "Arithmetic" and t.op not in _ARITH_OPS:
                raise _bad(t, f"operator {t.op} is not arithmetic")
            transforms.append(t)
        elif t.type in ("Map", "Passthrough"):
            outputs.append(t)
        elif t.type == "Map_all":
            map_all.append(t)
        elif t.type == "Partition":
            partition_keys.extend(k for k in _json_list(t, "ORDERED_PARTITION_KEYS_LIST")
                                  if k not in partition_keys)
        else:
            raise _bad(t, f"unknown task type {t.type}")

    # Fields the tasks name are read too, projected or not: cdk-appflow, for one, projects only
    # Map and Filter source fields, so a Merge's or an Arithmetic's inputs are not in the PROJECTION.
    visible = list(projection)
    for t in validations + filters + transforms + outputs:
        named = list(t.sources)
        if t.type == "Merge":
            named += [text for is_field, text in _merge_parts(t) if is_field]
        elif t.type == "Arithmetic":
            named += [f.strip() for f in t.props.get("MATH_OPERATION_FIELDS_ORDER", "").split(",") if f.strip()]
        visible.extend(f for f in named if f not in visible)
    src = _Source(projection if has_projection else None, visible if has_projection else None)
    for t in validations:
        _validate(src, t)
    for t in filters:
        _filter(src, t)
    for t in transforms:
        _transform(src, t)
    out_expr = _output(src, outputs, map_all)

    body = "\n".join("                " + line for line in src.lines)
    params = ", ".join(["_RecordFailure", "_RunFailure", "_num", "_text", "_bool", "_to_ms",
                        "_fail_unexpected", "_merge_text"] + list(src.consts))
    text = (
        f"def _make({params}):\n"
        f"    def _run(records, on_failure):\n"
        f"        for r in records:\n"
        f"            try:\n"
        f"{body}\n"
        f"                yield {out_expr}\n"
        f"            except _RecordFailure as e:\n"
        f"                if e.record is None:\n"
        f"                    e.record = r\n"
        f"                on_failure(e)\n"
        f"            except _RunFailure:\n"
        f"                raise\n"
        f"            except Exception as e:\n"
        f"                on_failure(_fail_unexpected(e, r))\n"
        f"    return _run\n"
    )
    namespace: Dict[str, Any] = {}
    exec(compile(text, "<appflow_emu tasks>", "exec"), namespace)
    run = namespace["_make"](RecordFailure, RunFailure, _num, _text, _bool, _to_ms, _fail_unexpected,
                             _merge_text, *src.consts.values())
    return CompiledTasks(run, partition_keys, visible if has_projection else None, text)


def _fail_unexpected(exc: BaseException, record: Any) -> RecordFailure:
    if not isinstance(record, dict):
        return RecordFailure(f"The record is not an object, got {_short(record)}", None)
    return RecordFailure(f"The record could not be transformed, {exc.__class__.__name__} {exc}",
                         record)


def _transform(src: _Source, t: _Task) -> None:
    if t.type in ("Mask", "Truncate"):
        if not t.sources:
            raise _bad(t, "needs a source field")
        if t.type == "Mask":
            fn = src.const(_masker(t))
        else:
            n = _int_prop(t, "TRUNCATE_LENGTH")

            def truncate(v: Any, n: Optional[int] = n) -> Any:
                s = v if v.__class__ is str else _text_of(v)
                return s[:n]
            fn = src.const(truncate)
        for field in t.sources:
            v = src.read(field)
            if v == "None":
                continue
            src.write(field, f"None if {v} is None else {fn}({v})")
        if t.dest and t.dest not in t.sources and t.sources[0] in src.locals:
            src.write(t.dest, src.locals[t.sources[0]])
    elif t.type == "Merge":
        parts = _merge_parts(t)
        if not any(is_field for is_field, _ in parts):
            raise _bad(t, "a merge needs source fields or ${field} placeholders in CONCAT_FORMAT")
        exprs = []
        for is_field, text in parts:
            if not is_field:
                exprs.append(src.const(text))
                continue
            v = src.read(text)
            if v != "None":
                exprs.append(f"({v} if {v}.__class__ is str else _merge_text({v}))")
        src.write(t.dest or ",".join(t.sources), " + ".join(exprs) or "''")
    else:  # Arithmetic
        order_text = t.props.get("MATH_OPERATION_FIELDS_ORDER", "").strip()
        operands = [f.strip() for f in order_text.split(",")] if order_text else list(t.sources)
        if len(operands) < 2 or any(not f for f in operands):
            raise _bad(t, "arithmetic needs two source fields (MATH_OPERATION_FIELDS_ORDER \"a,b\")")
        dest = t.dest or ",".join(t.sources)
        values = []
        for name in operands:
            v = src.read(name)
            x = src.fresh()
            check = src.const(_operand(t, name, dest))
            src.emit(f"{x} = {v} if {v}.__class__ is int else {check}({v})")
            values.append(x)
        sym = _ARITH_OPS[t.op]
        acc = values[0]
        for name, x in zip(operands[1:], values[1:]):
            if sym == "/":
                msg = src.const(f"Arithmetic DIVISION for {dest} failed, division by zero, field {name} is 0")
                src.emit(f"if {x} == 0: raise _RecordFailure({msg})")
            nxt = src.fresh()
            src.emit(f"{nxt} = {acc} {sym} {x}")
            acc = nxt
        msg = src.const(f"Arithmetic {t.op} for {dest} failed, the result is not finite")
        src.emit(f"if {acc}.__class__ is float and {acc} - {acc} != 0.0: raise _RecordFailure({msg})")
        src.write(dest, acc)


def _output(src: _Source, outputs: List[_Task], map_all: List[_Task]) -> str:
    pairs: List[Tuple[str, str]] = []
    for t in outputs:
        if not t.sources:
            raise _bad(t, "needs a source field")
        field = t.sources[0]
        dest = t.dest or field
        v = src.read(field)
        if t.type == "Passthrough" or v == "None":
            pairs.append((dest, v))
            continue
        dtype = t.props.get("DESTINATION_DATA_TYPE", "")
        conv = _converter(dtype, field, dest) if dtype else None
        if conv is None:
            pairs.append((dest, v))
        elif conv is _text:
            pairs.append((dest, f"({v} if {v}.__class__ is str else _text({v}))"))
        else:
            pairs.append((dest, f"{src.const(conv)}({v})"))
    if not map_all:
        return "{" + ", ".join(f"{d!r}: {e}" for d, e in pairs) + "}"
    excluded: set = set()
    for t in map_all:
        excluded.update(_json_list(t, "EXCLUDE_SOURCE_FIELDS_LIST"))
    if src.projection is None:
        src.emit("out = dict(r)")
        for f in sorted(excluded):
            src.emit(f"out.pop({f!r}, None)")
    else:
        keys = tuple(f for f in src.projection_order if f not in excluded)
        src.emit(f"out = {{k: r[k] for k in {src.const(keys)} if k in r}}")
    for f in src.assigned:
        if f in excluded or (src.projection is not None and f not in src.projection_order):
            continue
        src.emit(f"if {f!r} in out: out[{f!r}] = {src.locals[f]}")
    for d, e in pairs:
        src.emit(f"out[{d!r}] = {e}")
    return "out"
