"""A flow's task list, compiled once per run into one fast streaming function.

``compile_tasks(tasks, source_connector_type)`` reads the flow's ``tasks`` exactly as the AppFlow
API takes them and returns a :class:`CompiledTasks`:

* ``compiled(records, on_failure=None)`` -- a generator over the output records;
* ``compiled.partition_keys`` -- the Partition task's ``ORDERED_PARTITION_KEYS_LIST`` (or ``[]``);
* ``compiled.fields_read`` -- the fields read from the source: the PROJECTION's source fields, then
  the other source fields the tasks name (``None``: no projection, every field is read);
* ``compiled.source_filter`` -- the Filter tasks whose operators the source applies in its own
  query (``compile_tasks(..., pushdown=...)``, from the connector facts table), compiled apart:
  the source runs them before it counts what it returns (simulator/sources.py), so they come
  before every phase below; ``compiled(records)`` leaves them out. None when nothing is pushed down.

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
  3. value filters   -- Filter tasks other than PROJECTION that the source did not apply (all of
                        them for an S3 source), ANDed together, in list order.
  4. transforms      -- Mask, Truncate, Merge, Arithmetic in list order; each sees the results of
                        the ones before it.
  5. output          -- Map_all (if any) is the base, then Map / Passthrough in list order on top.
  Partition only sets ``partition_keys``.

Semantics chosen (each [guess] unless the fact sheet says otherwise). Which type names form which
family is ``catalog/operators.py``'s table; how a value becomes a number, a boolean, a point in
time or text is ``simulator/values.py``'s.
* A field that is missing from a record reads as null.
* Filters on ``sourceFields[0]``; null never passes.  By the family of ``DATA_TYPE``:
  - numeric: record values int/float/Decimal or numeric strings; a non-numeric value or NaN does
    not pass.  Constants parsed once (a bad constant -> RunFailure).
  - boolean: true/false (strings case-insensitive, 1/0).
  - temporal: constants are epoch milliseconds (as strings) or ISO-8601 text; record values are
    read as points in time (``values.to_epoch_ms``).  Unparseable -> does not pass.
  - text and other types: the value's text, compared as Python strings (code points).
  - absent: numeric when every constant is a number, else text.
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
* Map: ``output[destinationField or sourceFields[0]] = value`` converted by the family of
  DESTINATION_DATA_TYPE: text -> text; 32-bit and 64-bit integer types -> int (integral floats and
  strings like "1e3" accepted, out of range fails); floating types -> float (non-finite fails);
  boolean -> bool; temporal and other types -> kept as given; null stays null.  A value that
  cannot be converted fails the record.  SOURCE_DATA_TYPE is informational.  Passthrough: the
  value as is.
  Map_all: every visible source field (in place transforms applied) except EXCLUDE_SOURCE_FIELDS_LIST
  (a JSON array string); fields missing from a record stay missing.  INCLUDE_NEW_FIELDS and
  SUBFIELD_CATEGORY_MAP are accepted and ignored.  Without any Map/Map_all/Passthrough the output
  records are empty objects.
* Partition: ORDERED_PARTITION_KEYS_LIST (JSON array of strings; several Partition tasks append).
* The operator comes from ``connectorOperator``: its only value, or the member named like the
  source connector type (case-insensitive) when there are several.  A missing operator means NO_OP.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, Callable, Dict, FrozenSet, Iterable, Iterator, List, Optional, Tuple

from appflow_emu.catalog.operators import (
    ARITHMETIC,
    BOOLEAN,
    FLOAT_TYPES,
    INT32_TYPES,
    MASK_OPERATORS,
    NUMERIC,
    ORDERING,
    TEMPORAL,
    TEXT,
    VALIDATE_OPERATORS,
    VALUE_FILTER_OPERATORS,
    type_family,
)
from appflow_emu.simulator.plan import Record, RecordFailure, RunFailure
from appflow_emu.simulator.values import to_bool, to_epoch_ms, to_number, to_text

__all__ = ["CompiledTasks", "compile_tasks"]

FailureCallback = Callable[[RecordFailure], None]

_NO_ACTION = frozenset({"", "no action", "noaction", "none", "no_action"})
_INT32 = (-(2 ** 31), 2 ** 31 - 1)
_INT64 = (-(2 ** 63), 2 ** 63 - 1)
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


# --- value helpers: the generated code calls these (values.py says what each conversion does) ----

_num = to_number
_bool = to_bool
_to_ms = to_epoch_ms
_text = to_text


# --- Map conversions: closures that know the field names for their messages --------------------

def _converter(dtype: str, src: str, dest: str) -> Optional[Callable[[Any], Any]]:
    """None: keep the value as is.  Otherwise a function value -> converted (None -> None)."""
    t = dtype.strip().lower()
    family = type_family(t)

    def fail(v: Any, what: str) -> RecordFailure:
        return RecordFailure(
            f"Cannot convert value {_short(v)} of field {src} to {what} for destination field "
            f"{dest}, DESTINATION_DATA_TYPE {dtype}")

    if family == TEXT:
        return _text
    if family == NUMERIC and t not in FLOAT_TYPES:
        lo, hi = _INT32 if t in INT32_TYPES else _INT64

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
    if family == NUMERIC:
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
    if family == BOOLEAN:
        def to_boolean(v: Any) -> Any:
            if v is None:
                return None
            b = _bool(v)
            if b is None:
                raise fail(v, "a boolean")
            return b
        return to_boolean
    return None  # temporal and other types: kept as given


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
        if op in ORDERING and len(raw) != 1:
            raise _bad(task, f"{op} takes exactly one value, got {len(raw)}")
    if op == "CONTAINS":
        family = TEXT
    elif dtype:
        family = type_family(dtype)
        if family not in (NUMERIC, BOOLEAN, TEMPORAL):
            family = TEXT
    else:
        family = NUMERIC if all(_num(x) is not None for x in raw) else TEXT

    consts: List[Any]
    if family == NUMERIC:
        consts = [_num(x) for x in raw]
        norm = "_num({})"
    elif family == BOOLEAN:
        consts = [_bool(x) for x in raw]
        norm = "_bool({})"
    elif family == TEMPORAL:
        # Constants are epoch milliseconds [seen]; ISO-8601 text is accepted too.
        consts = [float(n) if (n := _num(x)) is not None else _to_ms(x) for x in raw]
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
    if family == NUMERIC:
        src.emit(f"{x} = {value} if {value}.__class__ is int else _num({value})")
    elif family == TEXT:
        src.emit(f"{x} = {value} if {value}.__class__ is str else _text({value})")
    else:
        src.emit(f"{x} = {norm.format(value)}")
    if op == "BETWEEN":
        lo, hi = src.const(consts[0]), src.const(consts[1])
        src.emit(f"if {x} is None or not ({lo} < {x} < {hi}): continue")
    elif op in ORDERING:
        c = src.const(consts[0])
        src.emit(f"if {x} is None or not ({x} {ORDERING[op]} {c}): continue")
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
            s = v if v.__class__ is str else _text(v)
            return None if s is None else ch * len(s)
        return mask_all
    n = _int_prop(task, "MASK_LENGTH")
    assert n is not None
    if task.op == "MASK_FIRST_N":
        def mask_first(v: Any) -> Any:
            s = v if v.__class__ is str else _text(v)
            if s is None:
                return None
            k = n if n < len(s) else len(s)
            return ch * k + s[k:]
        return mask_first

    def mask_last(v: Any) -> Any:
        s = v if v.__class__ is str else _text(v)
        if s is None:
            return None
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
    return _text(v) or ""


class CompiledTasks:
    """A flow's tasks, ready to apply to a stream of records (see the module docstring)."""

    def __init__(self, run: Callable[[Iterable[Record], FailureCallback], Iterator[Record]],
                 partition_keys: List[str], fields_read: Optional[List[str]], source: str,
                 source_filter: Optional[Callable[[Iterable[Record]], Iterator[Record]]] = None) -> None:
        self._run = run
        self.partition_keys = partition_keys
        self.fields_read = fields_read
        self.source = source  # the generated Python text (the source filter's too), for debugging
        # The filters pushed down to the source (None: none): the source applies them before it
        # counts what it returns (see simulator/sources.py); ``compiled(records)`` does not.
        self.source_filter = source_filter

    def __call__(self, records: Iterable[Record],
                 on_failure: Optional[FailureCallback] = None) -> Iterator[Record]:
        """Output records, lazily.  A record that fails goes to ``on_failure`` and the stream goes
        on; without a callback its RecordFailure is raised out of the generator (the engine then
        calls again with the same iterator, which resumes after the failed record)."""
        return self._run(records, on_failure or _reraise)


def _reraise(failure: RecordFailure) -> None:
    raise failure


def compile_tasks(tasks: List[Dict[str, Any]], source_connector_type: str,
                  pushdown: FrozenSet[str] = frozenset()) -> CompiledTasks:
    """Compile the flow's task list; a task list that cannot run raises RunFailure.

    ``pushdown``: the filter operators the source connector applies in its own query
    (``ConnectorFacts.filter_pushdown``). Filter tasks with those operators are compiled apart,
    into ``compiled.source_filter``, and ``compiled(records)`` leaves them out."""
    try:
        return _compile(tasks, source_connector_type, pushdown)
    except RunFailure:
        raise
    except Exception as exc:  # never a raw exception out of the simulator
        raise RunFailure(f"Task Validation Error: the task list cannot be run "
                         f"({exc.__class__.__name__}: {exc})") from exc


def _compile(tasks: List[Dict[str, Any]], source_connector_type: str, pushdown: FrozenSet[str]) -> CompiledTasks:
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
            elif t.op in VALUE_FILTER_OPERATORS:
                filters.append(t)
            else:
                raise _bad(t, f"operator {t.op} cannot filter")
        elif t.type == "Validate":
            if t.op not in VALIDATE_OPERATORS:
                raise _bad(t, f"operator {t.op} is not a validation")
            validations.append(t)
        elif t.type in ("Mask", "Truncate", "Merge", "Arithmetic"):
            if t.type == "Mask" and t.op not in MASK_OPERATORS:
                raise _bad(t, f"operator {t.op} is not a mask")
            if t.type == "Arithmetic" and t.op not in ARITHMETIC:
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
    pushed = [t for t in filters if t.op in pushdown]
    src = _Source(projection if has_projection else None, visible if has_projection else None)
    for t in validations:
        _validate(src, t)
    for t in filters:
        if t.op not in pushdown:
            _filter(src, t)
    for t in transforms:
        _transform(src, t)
    out_expr = _output(src, outputs, map_all)

    helpers = {"_RecordFailure": RecordFailure, "_RunFailure": RunFailure, "_num": _num, "_text": _text,
               "_bool": _bool, "_to_ms": _to_ms, "_fail_unexpected": _fail_unexpected, "_merge_text": _merge_text}
    text = (
        f"def _make({_params(helpers, src)}):\n"
        f"    def _run(records, on_failure):\n"
        f"        for r in records:\n"
        f"            try:\n"
        f"{_body(src)}\n"
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
    run = _instantiate(text, "<appflow_emu tasks>", helpers, src)
    source_filter = None
    if pushed:
        source_filter, filter_text = _compile_source_filter(pushed)
        text += "\n\n" + filter_text
    return CompiledTasks(run, partition_keys, visible if has_projection else None, text, source_filter)


def _compile_source_filter(filters: List[_Task]) -> Tuple[Callable[[Iterable[Record]], Iterator[Record]], str]:
    """The pushed-down filters as one generator over the source's records: the records that pass
    every one of them, unchanged. A record the filters cannot read (not an object) passes, and
    the flow's other tasks fail it as they would without pushdown."""
    src = _Source(None, None)
    for t in filters:
        _filter(src, t)
    helpers = {"_num": _num, "_text": _text, "_bool": _bool, "_to_ms": _to_ms}
    text = (
        f"def _make({_params(helpers, src)}):\n"
        f"    def _source_filter(records):\n"
        f"        for r in records:\n"
        f"            try:\n"
        f"{_body(src)}\n"
        f"            except Exception:\n"
        f"                pass\n"
        f"            yield r\n"
        f"    return _source_filter\n"
    )
    return _instantiate(text, "<appflow_emu source filter>", helpers, src), text


# -- the generated text: a factory ``_make(helpers..., constants...)`` returning the generator ------

def _params(helpers: Dict[str, Any], src: _Source) -> str:
    return ", ".join([*helpers, *src.consts])


def _body(src: _Source) -> str:
    return "\n".join("                " + line for line in src.lines)


def _instantiate(text: str, filename: str, helpers: Dict[str, Any], src: _Source) -> Any:
    """Compile the factory's text and call it with the helpers and the closure constants."""
    namespace: Dict[str, Any] = {}
    exec(compile(text, filename, "exec"), namespace)
    return namespace["_make"](*helpers.values(), *src.consts.values())


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
                s = v if v.__class__ is str else _text(v)
                return None if s is None else s[:n]
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
        sym = ARITHMETIC[t.op]
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
