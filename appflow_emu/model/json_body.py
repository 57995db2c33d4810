"""Reading a request body as JSON, with the limits a hostile body needs: one home for the AppFlow
wire (``intercept/dispatch.py``) and the server's control API (``server/control.py``).

:func:`read_json` refuses, with :class:`JsonBodyError` (a ``ValueError`` whose ``reason`` says why):

- bytes that are not UTF-8, and text that is not JSON;
- JSON nested deeper than ``max_depth`` arrays and objects (``MAX_DEPTH``): Python's decoder, and
  everything that walks the value after it, recurses, so a few thousand ``[`` would otherwise
  overflow the stack. The deepest request the AppFlow model admits nests 8 levels (CreateFlow);
- a string holding a lone UTF-16 surrogate (``"\\ud800"`` unpaired): valid JSON text, but no
  Unicode text, so nothing can encode it back (an error message echoing it could not be sent);
- unless ``allow_nan``: the non-standard ``NaN``/``Infinity`` tokens, and numbers too large for a
  double (``1e400``, which Python would read as infinity).

Costs: a body with fewer than ``max_depth`` brackets (almost every request) is never scanned for
depth; the surrogate walk runs only when the text holds a ``\\uD8xx``-``\\uDFxx`` escape (a raw
surrogate is no UTF-8, refused by the decoding).
"""
from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any, List

MAX_DEPTH = 64  # [guess] arrays and objects, outermost included; AWS's parser allows far more

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonBodyError(ValueError):
    """A body :func:`read_json` refuses; ``reason`` says why (a fragment: "the body is not UTF-8
    text"). ``syntax``: the text is no JSON at all, and ``reason`` is the decoder's own words."""

    def __init__(self, reason: str, syntax: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.syntax = syntax


def _no_constant(token: str) -> Any:
    raise JsonBodyError(f"{token} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise JsonBodyError(f"the number {text[:40]} is too large for a double")
    return value


_strict_decode = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite).decode
_lenient_decode = json.JSONDecoder().decode


def depth_exceeds(text: str, max_depth: int) -> bool:
    """True when ``text`` (JSON or not) opens more than ``max_depth`` arrays/objects at once;
    brackets inside strings do not count."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii")
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > max_depth


def lone_surrogate(value: Any) -> str:
    """The first string (key or value) in ``value`` that holds a lone surrogate, else ""
    (iterative: no recursion however deep ``value`` is)."""
    stack: List[Any] = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
        elif type(item) is str and not item.isascii():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item
    return ""


def read_json(body: bytes, max_depth: int = MAX_DEPTH, allow_nan: bool = False) -> Any:
    """The JSON value of ``body``, or :class:`JsonBodyError` (see the module docstring)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonBodyError("the body is not UTF-8 text") from None
    if depth_exceeds(text, max_depth):
        raise JsonBodyError(f"the body nests arrays and objects more than {max_depth} levels deep")
    try:
        value = (_lenient_decode if allow_nan else _strict_decode)(text)
    except JsonBodyError:
        raise
    except (ValueError, RecursionError) as e:  # RecursionError: cannot happen under the depth bound
        raise JsonBodyError(str(e), syntax=True) from None
    if _SURROGATE_ESCAPE.search(text) is not None:
        found = lone_surrogate(value)
        if found:
            shown = found[:80].encode("ascii", "backslashreplace").decode("ascii")
            raise JsonBodyError(f"the string '{shown}' holds a lone UTF-16 surrogate, which is no Unicode text")
    return value
