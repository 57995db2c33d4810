"""Task definitions are compiled into Python source and run with ``exec`` (simulator/tasks.py). In
server mode any local process can send one, so no field name, value or task property may reach
the generated code except as a literal (a string constant, or a closure constant ``_kN``).

The property: for task lists built from hostile text (quotes, backslashes, newlines, ``__import__``,
format braces, code fragments), the generated source parses, its every name, attribute and call is
the compiler's own vocabulary, every piece of user text in it sits inside a string constant, and
running it on records imports nothing and has no side effect.
"""
from __future__ import annotations

import ast
import builtins
import io
import json
import tokenize
from typing import Any, Dict, List

from hypothesis import example, given, settings
from hypothesis import strategies as st

from appflow_emu.catalog.operators import VALUE_FILTER_OPERATORS
from appflow_emu.simulator.plan import RunFailure
from appflow_emu.simulator.tasks import compile_tasks

ATTACKS = ["'", '"', "\\", "\n", "\r", "'''", '"""', "__import__('os').system('echo pwned')", "{0}", "{r}",
           "${x}", "}{", "%s", "\\x00", "\x00", "); import os; (", "#", "lambda: 1", "r.get", "_k0", "v1",
           "\u2028", "é", "' + __import__('os').getcwd() + '"]
TEXT = st.one_of(st.sampled_from(ATTACKS),
                 st.lists(st.sampled_from(ATTACKS + ["a", "b", " ", "_", "1"]), min_size=1, max_size=4).map("".join),
                 st.text(max_size=12))

NAMES = {"_make", "_run", "_source_filter", "records", "on_failure", "r", "out", "k", "e", "_RecordFailure", "_RunFailure", "_num",
         "_text", "_bool", "_to_ms", "_fail_unexpected", "_merge_text", "None", "True", "False"}
ATTRIBUTES = {"get", "__class__", "record", "pop"}
BUILTIN_CALLS = {"str", "int", "float", "bool", "dict", "len", "Exception"}


def _is_generated_name(name: str) -> bool:
    return name in NAMES or name in BUILTIN_CALLS or (name[:1] in ("v", "_") and name.lstrip("v_k").isdigit())


def _check_source(source: str, user_texts: List[str]) -> None:
    tree = ast.parse(source)
    string_constants = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            assert _is_generated_name(node.id), f"user text became the name {node.id!r}"
        elif isinstance(node, ast.Attribute):
            assert node.attr in ATTRIBUTES, f"user text became the attribute {node.attr!r}"
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                string_constants.append(node.value)
            else:
                assert node.value in (None, True, False, 0, 0.0, 1), f"unexpected literal {node.value!r}"
        elif isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Lambda)):
            raise AssertionError(f"the generated code holds a {type(node).__name__}")
    code = _outside_string_literals(source)
    for text in user_texts:
        if len(text) >= 3 and text in code:
            # Text in the code itself must be the compiler's own (a keyword, a generated name) that
            # the user's text happens to equal: the user's text is then a string constant too.
            assert any(text in c for c in string_constants), f"{text!r} is in the code outside a string literal"


def _outside_string_literals(source: str) -> str:
    """``source`` with the text of every string literal blanked out (each character replaced by a
    NUL), so that user text found in the result sits in the code itself, not inside a literal (a
    literal may spell another text's characters: the literal '\\x00' holds the text \\x00)."""
    blanked = [list(line) for line in source.split("\n")]  # tokenize counts lines by "\n" alone
    string_tokens = {tokenize.STRING} | {getattr(tokenize, name) for name in ("FSTRING_MIDDLE",)
                                         if hasattr(tokenize, name)}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in string_tokens:
            continue
        (row, col), (end_row, end_col) = token.start, token.end
        for r in range(row, end_row + 1):
            first = col if r == row else 0
            last = end_col if r == end_row else len(blanked[r - 1])
            for c in range(first, last):
                blanked[r - 1][c] = "\0"
    return "\n".join("".join(line) for line in blanked)


def _tasks(field: str, other: str, value: str, dest: str, fmt: str, mask: str, operator: str) -> List[Dict[str, Any]]:
    props = {"DATA_TYPE": "string"}
    if operator == "BETWEEN":
        props.update(LOWER_BOUND=value, UPPER_BOUND=value + "z")
    else:
        props["VALUES" if operator in ("EQUAL_TO", "NOT_EQUAL_TO") else "VALUE"] = value
    return [
        {"taskType": "Filter", "sourceFields": [field, other], "connectorOperator": {"S3": "PROJECTION"}},
        {"taskType": "Filter", "sourceFields": [field], "connectorOperator": {"S3": operator}, "taskProperties": props},
        {"taskType": "Validate", "sourceFields": [other], "connectorOperator": {"S3": "VALIDATE_NON_NULL"},
         "taskProperties": {"VALIDATION_ACTION": "DropRecord"}},
        {"taskType": "Merge", "sourceFields": [field, other], "destinationField": dest,
         "connectorOperator": {"S3": "NO_OP"}, "taskProperties": {"CONCAT_FORMAT": fmt}},
        {"taskType": "Mask", "sourceFields": [other], "destinationField": other, "connectorOperator": {"S3": "MASK_FIRST_N"},
         "taskProperties": {"MASK_LENGTH": "2", "MASK_VALUE": mask[:1] or "*"}},
        {"taskType": "Truncate", "sourceFields": [field], "destinationField": field,
         "connectorOperator": {"S3": "NO_OP"}, "taskProperties": {"TRUNCATE_LENGTH": "5"}},
        {"taskType": "Arithmetic", "sourceFields": [other, other], "destinationField": dest + "#sum",
         "connectorOperator": {"S3": "ADDITION"}, "taskProperties": {"MATH_OPERATION_FIELDS_ORDER": f"{other},{other}"}},
        {"taskType": "Map", "sourceFields": [dest], "destinationField": value, "connectorOperator": {"S3": "NO_OP"},
         "taskProperties": {"DESTINATION_DATA_TYPE": "string", "SOURCE_DATA_TYPE": mask}},
        {"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"},
         "taskProperties": {"EXCLUDE_SOURCE_FIELDS_LIST": json.dumps([mask])}},
        {"taskType": "Partition", "sourceFields": [field], "connectorOperator": {"S3": "NO_OP"},
         "taskProperties": {"ORDERED_PARTITION_KEYS_LIST": json.dumps([field, value])}},
    ]


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
# A literal may spell another text: '\x00' (a NUL's literal) holds the four characters \x00.
@example(field="'", other="'", value="\x00", dest="\\x00", fmt="", mask="'", operator="BETWEEN", pushed=False)
@given(field=TEXT, other=TEXT, value=TEXT, dest=TEXT, fmt=TEXT, mask=TEXT,
       operator=st.sampled_from(sorted(VALUE_FILTER_OPERATORS)), pushed=st.booleans())
def test_user_text_reaches_the_generated_code_only_as_literals(field: str, other: str, value: str, dest: str,
                                                              fmt: str, mask: str, operator: str, pushed: bool) -> None:
    if not field or not other or not dest:
        return
    tasks = _tasks(field, other, value, dest, fmt, mask, operator)
    try:
        compiled = compile_tasks(tasks, "S3", frozenset(VALUE_FILTER_OPERATORS) if pushed else frozenset())
    except RunFailure:
        return  # refused: nothing was generated
    _check_source(compiled.source, [field, other, value, dest, fmt, mask])
    imported: List[str] = []
    real_import = builtins.__import__

    def spy(name: str, *args: Any, **kwargs: Any) -> Any:
        imported.append(name)
        return real_import(name, *args, **kwargs)

    records = [{field: value, other: "abc"}, {field: fmt, other: None}, {other: 12}, {field: "zz", other: "q"}]
    builtins.__import__ = spy
    try:
        failures: List[Any] = []
        stream = compiled.source_filter(iter(records)) if compiled.source_filter is not None else iter(records)
        out = list(compiled(stream, failures.append))
    finally:
        builtins.__import__ = real_import
    assert imported == [], f"running the tasks imported {imported}"
    assert all(isinstance(o, dict) for o in out)


def test_the_check_catches_code_made_from_text() -> None:
    """The property's own check fails on generated code that pasted user text as code."""
    hostile = "__import__('os').getcwd()"
    bad = f"def _make():\n    def _run(records, on_failure):\n        x = {hostile}\n    return _run\n"
    try:
        _check_source(bad, [hostile])
    except AssertionError:
        return
    raise AssertionError("the check did not notice user text as code")
