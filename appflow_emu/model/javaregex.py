"""Translate the model's Java regular expressions to Python ones.

Java's ``matches()`` is a whole-value match and its ``\\w``, ``\\d`` and ``\\s`` are ASCII-only,
so patterns compile with ``re.ASCII`` and are applied with ``fullmatch``. Java writes
supplementary characters as UTF-16 surrogate pairs, which Python's ``re`` rejects as a range;
the pair range becomes ``\\U00010000-\\U0010FFFF``. Java's ``.`` (without DOTALL) matches
anything but a line terminator (``\\n``, ``\\r``, U+0085, U+2028, U+2029), where Python's
excludes only ``\\n``; outside character classes it becomes the explicit class.
"""
from __future__ import annotations

import re
from functools import lru_cache

_SURROGATE_RANGE = re.compile(r"\\u[dD]800\\u[dD][cC]00-\\u[dD][bB][fF][fF]\\u[dD][fF][fF][fF]")
_JAVA_DOT = r"[^\n\r\x85\u2028\u2029]"


def _translate_dots(pattern: str) -> str:
    out = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            # a ']' (or '^]') right after the opening bracket is a literal
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                out.append(pattern[i:j + 1])
                i = j + 1
                continue
        elif c == ".":
            out.append(_JAVA_DOT)
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def translate(pattern: str) -> str:
    return _translate_dots(_SURROGATE_RANGE.sub(r"\\U00010000-\\U0010FFFF", pattern))


@lru_cache(maxsize=None)
def compile_java(pattern: str) -> "re.Pattern[str]":
    return re.compile(translate(pattern), re.ASCII)
