"""Validators compiled once from botocore shapes.

The real service checks what botocore's client-side validation does not: enums, ``max``
lengths and ranges, list and map sizes and patterns. Each shape compiles once into a closure
that checks a value and appends AWS-style messages; nothing is interpreted per call, which
is what keeps the hot path cheap (see docs/performance.md).

The same closures check responses (``strict`` mode, where unknown members are errors too).
Input checks change the request in one way: structure members that are JSON null are removed
(see ``_INPUT``).
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from botocore.model import Shape

from appflow_emu.model.javaregex import compile_java
from appflow_emu.model.service import REPORTED_OUTSIDE_ENUM, shape_metadata
from appflow_emu.model.timestamps import EARLIEST, EARLIEST_TEXT, LATEST, LATEST_TEXT

# A path is built lazily: (parent, name) tuples, formatted only when there is an error.
Path = Optional[Tuple[Any, str]]
Check = Callable[[Any, Path, List[Tuple[Path, str, Any, bool]]], None]

REDACTED = "*** Sensitive Data Redacted ***"
# Members under these names carry credentials even where the model does not flag them
# ``sensitive``; their values are never echoed in a message.
_SECRET_MEMBERS = frozenset({"connectorProfileCredentials", "credentials", "oAuthRequest"})


def format_path(path: Path) -> str:
    parts: List[str] = []
    while path is not None:
        path, name = path
        parts.append(name)
    return ".".join(reversed(parts))


class _Text(str):
    """A piece of ``java_repr``'s output already worded (a bracket, a separator, ``key=``)."""


_OPEN_LIST, _CLOSE_LIST, _OPEN_MAP, _CLOSE_MAP, _COMMA = (_Text(t) for t in ("[", "]", "{", "}", ", "))


def java_repr(value: Any) -> str:
    """How the service prints a value in a message (Java's toString). Iterative: a value nested
    however deep cannot overflow the stack while a message is worded."""
    out: List[str] = []
    todo: List[Any] = [value]  # popped from the end: pushed in reverse order
    while todo:
        item = todo.pop()
        if type(item) is _Text:
            out.append(item)
        elif item is None:
            out.append("null")
        elif isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, list):
            out.append(_OPEN_LIST)
            todo.append(_CLOSE_LIST)
            for i in range(len(item) - 1, -1, -1):
                todo.append(item[i])
                if i:
                    todo.append(_COMMA)
        elif isinstance(item, dict):
            out.append(_OPEN_MAP)
            todo.append(_CLOSE_MAP)
            pairs = list(item.items())
            for i in range(len(pairs) - 1, -1, -1):
                todo.append(pairs[i][1])
                todo.append(_Text(f"{pairs[i][0]}="))
                if i:
                    todo.append(_COMMA)
        else:
            out.append(str(item))
    return "".join(out)


def format_errors(errors: List[Tuple[Path, str, Any, bool]]) -> str:
    """``N validation error(s) detected: Value 'x' at 'a.b' failed to satisfy constraint: ...``"""
    parts = []
    for path, constraint, value, sensitive in errors:
        where = format_path(path)
        if value is _NULL:
            shown = "null"
        elif sensitive:
            shown = f"'{REDACTED}'"
        else:
            shown = f"'{java_repr(value)}'"
        parts.append(f"Value {shown} at '{where}' failed to satisfy constraint: {constraint}")
    n = len(parts)
    return f"{n} validation error{'s' if n != 1 else ''} detected: " + "; ".join(parts)


class _Null:
    pass


_NULL = _Null()


class Compiler:
    """Compiles shapes to checks; one instance per (model, strictness)."""

    def __init__(self, strict_unknown: bool, check_patterns: bool = True,
                 extra_enum_values: Optional[Dict[str, Tuple[str, ...]]] = None, drop_nulls: bool = False) -> None:
        self.strict_unknown = strict_unknown
        self.drop_nulls = drop_nulls
        self.check_patterns = check_patterns
        self.extra_enum_values = extra_enum_values or {}
        self._cache: Dict[Tuple[str, bool], Check] = {}
        self._pending: Dict[Tuple[str, bool], Check] = {}
        self._depth = 0
        self._lock = threading.RLock()

    def compile(self, shape: Shape, sensitive: bool = False) -> Check:
        sensitive = sensitive or bool(shape_metadata(shape).get("sensitive"))
        key = (shape.name, sensitive)
        check = self._cache.get(key)
        if check is not None:
            return check
        # The first requests of an operation may come from several threads at once. Checks
        # being compiled (including the forwarding placeholders that let recursive shapes
        # terminate) live in ``_pending``, seen only by the compiling thread; they are
        # published to ``_cache`` together, once the outermost compile has finished, so no
        # thread can call a placeholder that is not filled in yet.
        with self._lock:
            check = self._cache.get(key) or self._pending.get(key)
            if check is not None:
                return check
            holder: List[Check] = []
            self._pending[key] = lambda v, p, e: holder[0](v, p, e)
            self._depth += 1
            try:
                check = self._build(shape, sensitive)
                holder.append(check)
                self._pending[key] = check
            finally:
                self._depth -= 1
                if self._depth == 0:
                    if holder:
                        self._cache.update(self._pending)
                    self._pending.clear()
            return check

    # -- per type -------------------------------------------------------------------------
    def _build(self, shape: Shape, sensitive: bool) -> Check:
        builder = getattr(self, "_build_" + shape.type_name, None)
        if builder is None:
            return _accept
        return builder(shape, sensitive)  # type: ignore[no-any-return]

    def _build_string(self, shape: Shape, sensitive: bool) -> Check:
        meta = shape_metadata(shape)
        enum = frozenset(getattr(shape, "enum", None) or meta.get("enum") or ())
        if enum:
            enum |= frozenset(self.extra_enum_values.get(shape.name, ()))
        enum_text = "[" + ", ".join(getattr(shape, "enum", None) or meta.get("enum") or ()) + "]"
        lo = meta.get("min")
        hi = meta.get("max")
        pattern = meta.get("pattern") if self.check_patterns else None
        regex = compile_java(pattern) if pattern else None
        fullmatch = regex.fullmatch if regex is not None else None

        def check(value: Any, path: Path, errors: list) -> None:
            if type(value) is not str:
                errors.append((path, "Member must be of type string", value, sensitive))
                return
            if enum and value not in enum:
                errors.append((path, f"Member must satisfy enum value set: {enum_text}", value, sensitive))
                return
            n = len(value)
            if hi is not None and n > hi:
                errors.append((path, f"Member must have length less than or equal to {hi}", value, sensitive))
            if lo is not None and n < lo:
                errors.append((path, f"Member must have length greater than or equal to {lo}", value, sensitive))
            if fullmatch is not None and fullmatch(value) is None:
                errors.append(
                    (path, f"Member must satisfy regular expression pattern: {pattern}", value, sensitive)
                )

        return check

    def _build_number(self, shape: Shape, sensitive: bool, types: tuple, type_name: str) -> Check:
        meta = shape_metadata(shape)
        lo = meta.get("min")
        hi = meta.get("max")

        def check(value: Any, path: Path, errors: list) -> None:
            if type(value) not in types:
                errors.append((path, f"Member must be of type {type_name}", value, sensitive))
                return
            if hi is not None and value > hi:
                errors.append((path, f"Member must have value less than or equal to {hi}", value, sensitive))
            if lo is not None and value < lo:
                errors.append((path, f"Member must have value greater than or equal to {lo}", value, sensitive))

        return check

    def _build_integer(self, shape: Shape, sensitive: bool) -> Check:
        return self._build_number(shape, sensitive, (int,), "integer")

    def _build_long(self, shape: Shape, sensitive: bool) -> Check:
        return self._build_number(shape, sensitive, (int,), "long")

    def _build_double(self, shape: Shape, sensitive: bool) -> Check:
        return self._build_number(shape, sensitive, (int, float), "double")

    _build_float = _build_double

    def _build_boolean(self, shape: Shape, sensitive: bool) -> Check:
        def check(value: Any, path: Path, errors: list) -> None:
            if type(value) is not bool:
                errors.append((path, "Member must be of type boolean", value, sensitive))

        return check

    def _build_timestamp(self, shape: Shape, sensitive: bool) -> Check:
        def check(value: Any, path: Path, errors: list) -> None:
            if type(value) not in (int, float):
                errors.append((path, "Member must be a timestamp", value, sensitive))
            elif not EARLIEST <= value <= LATEST:  # no datetime (no botocore parser) shows it
                errors.append((path, f"Member must be a timestamp between {EARLIEST_TEXT} and {LATEST_TEXT}",
                               value, sensitive))

        return check

    def _build_blob(self, shape: Shape, sensitive: bool) -> Check:
        def check(value: Any, path: Path, errors: list) -> None:
            if type(value) is not str:
                errors.append((path, "Member must be of type blob", value, sensitive))

        return check

    def _build_list(self, shape: Shape, sensitive: bool) -> Check:
        meta = shape_metadata(shape)
        lo = meta.get("min")
        hi = meta.get("max")
        member = self.compile(shape.member, sensitive)  # type: ignore[attr-defined]

        def check(value: Any, path: Path, errors: list) -> None:
            if type(value) is not list:
                errors.append((path, "Member must be of type list", value, sensitive))
                return
            _check_size(len(value), lo, hi, path, value, sensitive, errors)
            for i, item in enumerate(value, 1):
                if item is None:
                    errors.append(((path, f"{i}.member"), "Member must not be null", _NULL, sensitive))
                else:
                    member(item, ((path, str(i)), "member"), errors)

        return check

    def _build_map(self, shape: Shape, sensitive: bool) -> Check:
        meta = shape_metadata(shape)
        lo = meta.get("min")
        hi = meta.get("max")
        key_check = self.compile(shape.key, sensitive)  # type: ignore[attr-defined]
        value_check = self.compile(shape.value, sensitive)  # type: ignore[attr-defined]

        def check(value: Any, path: Path, errors: list) -> None:
            if type(value) is not dict:
                errors.append((path, "Member must be of type map", value, sensitive))
                return
            _check_size(len(value), lo, hi, path, value, sensitive, errors)
            for k, v in value.items():
                sub: list = []
                key_check(k, path, sub)
                if sub:
                    for _, constraint, _, s in sub:
                        errors.append((path, "Map keys must satisfy constraint: " f"[{constraint}]", value, s))
                if v is None:
                    errors.append((path, "Map value must not be null", value, sensitive))
                else:
                    sub = []
                    value_check(v, path, sub)
                    for _, constraint, _, s in sub:
                        errors.append((path, "Map value must satisfy constraint: " f"[{constraint}]", value, s))

        return check

    def _build_structure(self, shape: Shape, sensitive: bool) -> Check:
        members: Dict[str, Check] = {}
        for name, member_shape in shape.members.items():  # type: ignore[attr-defined]
            members[name] = self.compile(member_shape, sensitive or name in _SECRET_MEMBERS)
        meta = shape_metadata(shape)
        required = tuple(meta.get("required") or ())
        strict_unknown = self.strict_unknown
        drop_nulls = self.drop_nulls
        is_union = bool(meta.get("union"))

        def check(value: Any, path: Path, errors: list) -> None:
            if type(value) is not dict:
                errors.append((path, "Member must be of type structure", value, sensitive))
                return
            if drop_nulls and None in value.values():
                for name in [k for k, v in value.items() if v is None]:
                    del value[name]
            for name in required:
                if value.get(name) is None:
                    errors.append(((path, name), "Member must not be null", _NULL, sensitive))
            for name, item in value.items():
                member = members.get(name)
                if member is None:
                    if strict_unknown:
                        errors.append(((path, name), "Member is not in the model", item, True))
                elif item is not None:
                    member(item, (path, name), errors)
            if is_union and len(value) > 1:
                errors.append((path, "Member must have exactly one member set", value, sensitive))

        return check


def _check_size(n: int, lo: Optional[int], hi: Optional[int], path: Path, value: Any, sensitive: bool,
                errors: list) -> None:
    """Length constraints, worded as the service words them (strings, lists and maps alike)."""
    if hi is not None and n > hi:
        errors.append((path, f"Member must have length less than or equal to {hi}", value, sensitive))
    if lo is not None and n < lo:
        errors.append((path, f"Member must have length greater than or equal to {lo}", value, sensitive))


def _accept(value: Any, path: Path, errors: list) -> None:
    return None


# Requests: a member that is JSON null is taken out, as if absent (then a required one is refused
# as missing): [doc] Smithy's protocol tests, "servers don't deserialize null structure values"
# ("null structure values are dropped"). botocore never sends one (its client-side validation
# refuses None), so only raw HTTP clients do. Lists and maps keep their nulls: those are refused.
_INPUT = Compiler(strict_unknown=False, drop_nulls=True)
# Responses: the service echoes what requests gave, and some input patterns admit what the
# matching output patterns do not (RegisterConnector's description), so patterns are not checked.
# Answers may also carry the enum values the real service is recorded to report outside the model.
_OUTPUT = Compiler(strict_unknown=True, check_patterns=False, extra_enum_values=REPORTED_OUTSIDE_ENUM)


def input_check(shape: Shape) -> Check:
    return _INPUT.compile(shape)


def output_check(shape: Shape) -> Check:
    return _OUTPUT.compile(shape)
