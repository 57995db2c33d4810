"""Translate the model's Java regular expressions to Python ones.

Java's ``matches()`` is a whole-value match and its ``\\w``, ``\\d`` and ``\\s`` are ASCII-only,
so patterns compile with ``re.ASCII`` and are applied with ``fullmatch``. Java writes
supplementary characters as UTF-16 surrogate pairs, which Python's ``re`` rejects as a range;
the pair range becomes ``\\U00010000-\\U0010FFFF``.
"""
from __future__ import annotations

import re
from functools import lru_cache

_SURROGATE_RANGE = re.compile(r"\\u[dD]800\\u[dD][cC]00-\\u[dD][bB][fF][fF]\\u[dD][fF][fF][fF]")


def translate(pattern: str) -> str:
    return _SURROGATE_RANGE.sub(r"\\U00010000-\\U0010FFFF", pattern)


@lru_cache(maxsize=None)
def compile_java(pattern: str) -> "re.Pattern[str]":
    return re.compile(translate(pattern), re.ASCII)
