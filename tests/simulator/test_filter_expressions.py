"""The custom connector SDK's filter language, as AppFlow writes it (simulator/filter_expressions.py).

1. Examples: exact texts for each operator and each family of types, the window, IN lists,
   escaping, what goes to ``local``.
2. A property: whatever the tasks, field names, types, values and window, the text parses with the
   SDK's own parser (and its lexer reports nothing), and a task goes to ``local`` when its field
   cannot be named (the one other reason, a string value ending in a backslash that cannot be closed
   where it stands, is checked apart).
3. A differential check: an evaluator of parse trees (a ``CustomConnectorQueryFilterParserVisitor``,
   like the SDK example's visitor) keeps, together with the ``local`` tasks, the records the
   emulator's own Filter tasks (``compile_tasks``) keep.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

pytest.importorskip("custom_connector_queryfilter")

from antlr4 import CommonTokenStream, InputStream, Token  # noqa: E402
from antlr4.error.ErrorListener import ErrorListener  # noqa: E402
from custom_connector_queryfilter.queryfilter.antlr.CustomConnectorQueryFilterLexer import (  # noqa: E402
    CustomConnectorQueryFilterLexer as Lexer,
)
from custom_connector_queryfilter.queryfilter.antlr.CustomConnectorQueryFilterParserVisitor import (  # noqa: E402
    CustomConnectorQueryFilterParserVisitor,
)
from custom_connector_queryfilter.queryfilter.errors import InvalidFilterExpressionError  # noqa: E402
from custom_connector_queryfilter.queryfilter.parse_tree_builder import parse  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from appflow_emu.simulator.filter_expressions import KEYWORDS, FilterExpression, filter_expression  # noqa: E402
from appflow_emu.simulator.tasks import compile_tasks  # noqa: E402

CC = "CustomConnector"
VALUE_OPS = ["LESS_THAN", "LESS_THAN_OR_EQUAL_TO", "GREATER_THAN", "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO",
             "NOT_EQUAL_TO", "CONTAINS", "BETWEEN"]
ORDERING_OPS = VALUE_OPS[:4]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
JUNE_1 = 1717200000  # 2024-06-01T00:00:00Z, epoch seconds


def flt(op: str, field: str, key: str = CC, **props: Any) -> Dict[str, Any]:
    return {"taskType": "Filter", "sourceFields": [field], "connectorOperator": {key: op},
            "taskProperties": dict(props)}


def text_of(*tasks: Dict[str, Any], types: Optional[Dict[str, str]] = None, **kw: Any) -> Optional[str]:
    result = filter_expression(list(tasks), types or {}, **kw)
    assert result.local == ()
    return result.text


# -- the SDK's parser, strictly ------------------------------------------------------------------

class _Collect(ErrorListener):  # type: ignore[misc]
    def __init__(self) -> None:
        self.errors: List[str] = []

    def syntaxError(self, recognizer: Any, offending: Any, line: int, column: int, msg: str, e: Any) -> None:
        self.errors.append(f"{column}: {msg}")


def tokens(text: str) -> List[Tuple[str, str]]:
    """The SDK lexer's tokens (name, text); a lexer error fails the test (the SDK's parse only prints them)."""
    lexer = Lexer(InputStream(text))
    lexer.removeErrorListeners()
    errors = _Collect()
    lexer.addErrorListener(errors)
    stream = CommonTokenStream(lexer)
    stream.fill()
    assert not errors.errors, (text, errors.errors)
    return [(Lexer.symbolicNames[t.type], t.text) for t in stream.tokens if t.type != Token.EOF]


def strict_parse(text: str) -> Any:
    tokens(text)
    return parse(text)  # raises InvalidFilterExpressionError on a syntax error


def nameable(name: str) -> bool:
    """Whether the SDK's lexer reads ``name`` as one IDENTIFIER, and nothing else."""
    lexer = Lexer(InputStream(name))
    lexer.removeErrorListeners()
    errors = _Collect()
    lexer.addErrorListener(errors)
    stream = CommonTokenStream(lexer)
    stream.fill()
    found = [t for t in stream.tokens if t.type != Token.EOF]
    return not errors.errors and len(found) == 1 and found[0].type == Lexer.IDENTIFIER and found[0].text == name


# == 1. examples ===================================================================================

@pytest.mark.parametrize("op, expected", [
    ("LESS_THAN", "price < 5"), ("LESS_THAN_OR_EQUAL_TO", "price <= 5"), ("GREATER_THAN", "price > 5"),
    ("GREATER_THAN_OR_EQUAL_TO", "price >= 5"), ("EQUAL_TO", "price = 5"), ("NOT_EQUAL_TO", "price != 5"),
])
def test_comparisons(op: str, expected: str) -> None:
    assert text_of(flt(op, "price", DATA_TYPE="integer", VALUE="5")) == expected


def test_between_contains_and_lists() -> None:
    assert text_of(flt("BETWEEN", "price", DATA_TYPE="double", LOWER_BOUND="1", UPPER_BOUND="10.5")) == \
        "price between 1 and 10.5"
    assert text_of(flt("CONTAINS", "accountName", DATA_TYPE="string", VALUE="Alexa")) == \
        'accountName contains "Alexa"'
    assert text_of(flt("CONTAINS", "a", VALUES="x,y")) == '(a contains "x" or a contains "y")'
    assert text_of(flt("EQUAL_TO", "name", DATA_TYPE="string", VALUES="a,b,")) == 'name in ("a", "b", "")'
    assert text_of(flt("EQUAL_TO", "n", DATA_TYPE="long", VALUES="1,20,x")) == 'n in (1, 20, "x")'
    assert text_of(flt("NOT_EQUAL_TO", "name", DATA_TYPE="string", VALUES="a,b")) == 'name != "a" and name != "b"'
    assert text_of(flt("EQUAL_TO", "name", VALUES="only")) == 'name = "only"'  # one value: =
    assert text_of(flt("EQUAL_TO", "name", VALUES="", VALUE="v")) == 'name = "v"'  # empty VALUES: VALUE
    assert text_of(flt("EQUAL_TO", "name", VALUE="a,b")) == 'name = "a,b"'  # VALUE is not split


def test_conditions_join_in_task_order_then_the_window() -> None:
    tasks = [
        flt("PROJECTION", "x"),
        flt("GREATER_THAN", "price", DATA_TYPE="integer", VALUE="100"),
        {"taskType": "Map", "sourceFields": ["price"], "connectorOperator": {CC: "NO_OP"}, "taskProperties": {}},
        flt("NO_OP", "price"),
        flt("CONTAINS", "accountName", key="Salesforce", VALUE="Alexa"),  # whatever the key
        {"taskType": "Filter", "sourceFields": ["x"], "connectorOperator": {}, "taskProperties": {"VALUE": "1"}},
    ]
    result = filter_expression(tasks, {}, (JUNE_1, JUNE_1 + 86400), "LastModifiedDate")
    assert result == FilterExpression(
        'price > 100 and accountName contains "Alexa" and LastModifiedDate between 2024-06-01T00:00:00.000Z and '
        "2024-06-02T00:00:00.000Z", (), False)


def test_nothing_to_filter() -> None:
    assert filter_expression([], {}) == FilterExpression(None, (), False)
    assert filter_expression([flt("PROJECTION", "a")], {}, (None, None), "ts") == FilterExpression(None, (), False)


def test_window() -> None:
    assert text_of(window=(JUNE_1, None), timestamp_field="ts") == "ts >= 2024-06-01T00:00:00.000Z"
    assert text_of(window=(None, JUNE_1 + 0.25), timestamp_field="ts") == "ts < 2024-06-01T00:00:00.250Z"
    assert text_of(window=(JUNE_1 + 1e-6, None), timestamp_field="ts") == "ts >= 2024-06-01T00:00:00.000001Z"
    # The window is a time whatever the field's type; the bounds are seconds.
    # [seen] both bounds: BETWEEN, as a connector written against AWS documents its incremental pulls
    assert text_of(window=(0, 1), timestamp_field="d", types={"d": "Date"}) == \
        "d between 1970-01-01T00:00:00.000Z and 1970-01-01T00:00:01.000Z"
    for field in ("Last Modified", "in", "1ts", None):
        result = filter_expression([flt("EQUAL_TO", "a", VALUE="1")], {}, (JUNE_1, JUNE_1 + 60), field)
        assert result == FilterExpression('a = "1"', (), True), field
    # A bound the grammar cannot write (its year has four digits) is not written either.
    assert filter_expression([], {}, (JUNE_1, 1e12), "ts") == FilterExpression(None, (), True)
    assert filter_expression([], {}, (float("nan"), None), "ts").window_local


def test_datetimes() -> None:
    def one(value: Any, ftype: str = "datetime", op: str = "GREATER_THAN") -> Optional[str]:
        return text_of(flt(op, "d", DATA_TYPE=ftype, VALUE=value))

    assert one("1717245907000") == "d > 2024-06-01T12:45:07.000Z"  # epoch milliseconds
    assert one(1717245907123) == "d > 2024-06-01T12:45:07.123Z"  # a number, not text
    assert one("1717245907000.5") == "d > 2024-06-01T12:45:07.000500Z"
    assert one("2024-06-01T13:05:07.5+02:00") == "d > 2024-06-01T11:05:07.500Z"  # ISO text, to UTC
    assert one("2024-06-01") == "d > 2024-06-01T00:00:00.000Z"
    assert one("1717245907000", "timestamp") == "d > 2024-06-01T12:45:07.000Z"
    assert one("1717245907000", "DateTime") == "d > 2024-06-01T12:45:07.000Z"
    assert one("1717245907000", "Date") == "d > 2024-06-01"
    assert one("1717286399999", "date", "EQUAL_TO") == "d = 2024-06-01"  # the UTC day
    assert one("-62135596800000") == "d > 0001-01-01T00:00:00.000Z"
    assert one("253402300799999") == "d > 9999-12-31T23:59:59.999Z"
    assert one("253402300800000") == 'd > "253402300800000"'  # year 10000: four digits only
    assert one("-62135596800001", "date") == 'd > "-62135596800001"'
    assert one("soon") == 'd > "soon"'
    assert text_of(flt("BETWEEN", "d", DATA_TYPE="datetime", LOWER_BOUND="0", UPPER_BOUND="1000")) == \
        "d between 1970-01-01T00:00:00.000Z and 1970-01-01T00:00:01.000Z"
    assert text_of(flt("EQUAL_TO", "d", DATA_TYPE="date", VALUES="0,86400000")) == "d in (1970-01-01, 1970-01-02)"


def test_numbers() -> None:
    def one(value: Any, ftype: str = "double") -> Optional[str]:
        return text_of(flt("LESS_THAN", "n", DATA_TYPE=ftype, VALUE=value))

    assert one("-0.50") == "n < -0.50"  # a plain decimal as written
    assert one(" 7 ") == "n < 7"
    assert one("1e3") == "n < 1000"  # never an exponent
    assert one("1.5E-7") == "n < 0.00000015"
    assert one("+5") == "n < 5"
    assert one(".5") == "n < 0.5"
    assert one("12345678901234567890") == "n < 12345678901234567890"
    assert one(2.5) == "n < 2.5"
    for bad in ("1e400", "nan", "inf", "abc", "1_000", ""):  # not a finite number
        assert one(bad) == f'n < "{bad}"', bad
    for sdk_type in ("Integer", "Float", "Double", "Long", "Short", "BigInteger", "BigDecimal"):
        assert one("3", sdk_type) == "n < 3", sdk_type


def test_booleans() -> None:
    assert text_of(flt("EQUAL_TO", "flag", DATA_TYPE="boolean", VALUE="TRUE")) == "flag = true"
    assert text_of(flt("NOT_EQUAL_TO", "flag", DATA_TYPE="boolean", VALUE=" False ")) == "flag != false"
    assert text_of(flt("EQUAL_TO", "flag", DATA_TYPE="boolean", VALUE="1")) == 'flag = "1"'
    assert text_of(flt("GREATER_THAN", "flag", DATA_TYPE="boolean", VALUE="true")) == 'flag > "true"'
    assert text_of(flt("CONTAINS", "flag", DATA_TYPE="boolean", VALUE="true")) == 'flag contains "true"'
    # The grammar's IN list takes no booleans.
    assert text_of(flt("EQUAL_TO", "flag", DATA_TYPE="boolean", VALUES="true,FALSE")) == \
        "(flag = true or flag = false)"
    assert text_of(flt("NOT_EQUAL_TO", "flag", DATA_TYPE="Boolean", VALUES="true,x")) == 'flag != true and flag != "x"'


def test_field_types_come_first_then_data_type_then_string() -> None:
    task = flt("EQUAL_TO", "n", DATA_TYPE="integer", VALUE="5")
    assert text_of(task) == "n = 5"
    assert text_of(task, types={"n": "String"}) == 'n = "5"'
    assert text_of(task, types={"other": "String"}) == "n = 5"
    assert text_of(flt("EQUAL_TO", "n", VALUE="5")) == 'n = "5"'
    for other in ("ByteArray", "Struct", "Map", "List", "geolocation"):
        assert text_of(task, types={"n": other}) == 'n = "5"', other


def test_strings_are_escaped() -> None:
    assert text_of(flt("EQUAL_TO", "s", VALUE='a"b\\c\nd\re\tf')) == r's = "a\"b\\c\nd\re\tf"'
    assert text_of(flt("EQUAL_TO", "s", VALUE="")) == 's = ""'
    assert text_of(flt("EQUAL_TO", "s", VALUE="Zoë 😀 'q'")) == "s = \"Zoë 😀 'q'\""
    assert text_of(flt("EQUAL_TO", "s", VALUE="null")) == 's = "null"'


def test_a_string_ending_in_a_backslash_is_closed_where_it_stands() -> None:
    # Alone, or with no '"' after it: double quotes.
    assert text_of(flt("EQUAL_TO", "s", VALUE="a\\")) == r's = "a\\"'
    assert text_of(flt("EQUAL_TO", "s", VALUE="a\\"), flt("LESS_THAN", "n", DATA_TYPE="integer", VALUE="3")) == \
        r's = "a\\" and n < 3'
    # A '"' after it would extend the token (the lexer takes the longest match): single quotes.
    tasks = [flt("EQUAL_TO", "s", VALUE="it's \"x\"\\"), flt("EQUAL_TO", "t", VALUE="b")]
    assert text_of(*tasks) == r"""s = 'it\'s "x"\\' and t = "b" """.strip()
    assert text_of(flt("EQUAL_TO", "s", VALUES="a\\,b")) == r"""s in ('a\\', "b")"""
    # Both kinds of quote after it: the task is left to the emulator.
    tasks = [flt("EQUAL_TO", "s", VALUE="a\\"), flt("EQUAL_TO", "t", VALUE="it's")]
    assert filter_expression(tasks, {}) == FilterExpression('t = "it\'s"', (tasks[0],), False)
    # What the rule avoids: the first string runs on to the next '"'.
    with pytest.raises(InvalidFilterExpressionError):
        parse(r's = "a\\" and t = "b"')
    with pytest.raises(AssertionError, match="token recognition error"):
        tokens(r's = "a\\" and t = "b"')


def test_fields_the_language_cannot_name_are_left_to_the_emulator() -> None:
    bad = ["and", "TRUE", "contains", "null", "in", "limit", "Last Name", "1st", "_x", "é", "", "a\n", "x=1"]
    good = ["NULL", "In", "Contains", "andy", "a.b-c_d", "T", "x1"]
    tasks = [flt("EQUAL_TO", name, VALUE="v") for name in bad + good]
    tasks.append({"taskType": "Filter", "sourceFields": [], "connectorOperator": {CC: "EQUAL_TO"},
                  "taskProperties": {"VALUE": "v"}})
    result = filter_expression(tasks, {})
    assert result.local == tuple(tasks[:len(bad)]) + (tasks[-1],)
    assert result.text == " and ".join(f'{name} = "v"' for name in good)
    strict_parse(result.text)


def test_malformed_tasks_are_left_to_the_emulator() -> None:
    tasks = [flt("BETWEEN", "a", LOWER_BOUND="1"), flt("EQUAL_TO", "a"), flt("LESS_THAN", "a", VALUES="1,2")]
    assert filter_expression(tasks, {}) == FilterExpression(None, tuple(tasks), False)


def test_keywords_are_the_lexers() -> None:
    for word in KEYWORDS:
        assert not nameable(word), word
        for variant in {word.lower(), word.upper(), word.title(), word.swapcase()} - KEYWORDS:
            assert nameable(variant), variant
    assert {"AND", "or", "True", "CONTAINS", "between", "null", "in", "LIMIT"} <= KEYWORDS


# == 2. every expression parses ======================================================================

IDENTIFIERS = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,6}", fullmatch=True)
NAMES = st.one_of(
    IDENTIFIERS, IDENTIFIERS,
    st.sampled_from(sorted(KEYWORDS) + ["NULL", "In", "And", "a b", "1st", "9", "é", "naïve", "", " a", "a\n",
                                        "x-1", "a.b", "_a", "-a", "T", "a\"b", "a'b"]),
    st.text(max_size=5),
)
DATA_TYPES = st.sampled_from([
    "String", "Integer", "Float", "Double", "Long", "Short", "BigInteger", "BigDecimal", "ByteArray", "Boolean",
    "Date", "DateTime", "Struct", "Map", "List",
    "string", "integer", "double", "long", "boolean", "date", "datetime", "timestamp", "time", "bigint", "id",
    "picklist", "struct", "",
])
TRICKY = ["", "\\", "a\\", "\\\\", '"', "'", '\\"', "a\"b'c\\", "x\ny", "\ttab\r", "Zoë", "😀", "\x00", "1e3",
          "-1.5E-7", "1e400", "nan", "-inf", "١٢", " 5 ", ".5", "-0", "007", "1717245907000", "-62135596800000",
          "253402300800000", "2024-06-01", "2024-06-01T13:05:07.5+02:00", "13:05", "true", "FALSE", "0", "1",
          "null", "and", "(", ")", " or x = 1"]
VALUE_TEXT = st.one_of(
    st.sampled_from(TRICKY),
    st.sampled_from(TRICKY).map(lambda v: v + "\\"),  # see test_a_string_ending_in_a_backslash_...
    st.text(alphabet=st.sampled_from(list("ab\"'\\\n\r\t é😀,()=")), max_size=6),
    st.text(max_size=4),
    st.integers(-10 ** 20, 10 ** 20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-62135596800000 - 10, 253402300799999 + 10).map(str),
)
NON_VALUE_OPS = ["PROJECTION", "NO_OP", "ADDITION", "MASK_ALL"]


@st.composite
def any_task(draw: Any) -> Dict[str, Any]:
    op = draw(st.sampled_from(VALUE_OPS + NON_VALUE_OPS))
    task_type = draw(st.sampled_from(["Filter"] * 6 + ["Map", "Mask", "Arithmetic"]))
    props: Dict[str, Any] = {}
    dtype = draw(st.one_of(st.none(), DATA_TYPES))
    if dtype is not None:
        props["DATA_TYPE"] = dtype
    if op == "BETWEEN":
        props["LOWER_BOUND"], props["UPPER_BOUND"] = draw(VALUE_TEXT), draw(VALUE_TEXT)
    elif op in ORDERING_OPS or draw(st.booleans()):
        props["VALUE"] = draw(VALUE_TEXT)
    else:
        props["VALUES"] = ",".join(draw(st.lists(VALUE_TEXT, min_size=1, max_size=4)))
        if props["VALUES"] == "":
            props["VALUE"] = ""
    key = draw(st.sampled_from([CC, "Salesforce", "whatever"]))
    return {"taskType": task_type, "sourceFields": [draw(NAMES)], "connectorOperator": {key: op},
            "taskProperties": props}


BOUNDS = st.one_of(st.none(), st.integers(-10 ** 11, 10 ** 11), st.floats(-1e12, 1e12, allow_nan=False),
                   st.sampled_from([float("nan"), float("inf"), 0, JUNE_1, -62135596800, 253402300799.999]))


def values_of(task: Dict[str, Any]) -> List[str]:
    props = task["taskProperties"]
    if "LOWER_BOUND" in props:
        return [props["LOWER_BOUND"], props["UPPER_BOUND"]]
    if props.get("VALUES"):
        return str(props["VALUES"]).split(",")
    return [props["VALUE"]]


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(tasks=st.lists(any_task(), max_size=5), types=st.dictionaries(NAMES, DATA_TYPES, max_size=4),
       window=st.tuples(BOUNDS, BOUNDS), timestamp_field=st.one_of(st.none(), NAMES))
def test_every_expression_parses(tasks: List[Dict[str, Any]], types: Dict[str, str],
                                 window: Tuple[Optional[float], Optional[float]],
                                 timestamp_field: Optional[str]) -> None:
    result = filter_expression(tasks, types, window, timestamp_field)
    if result.text is not None:
        strict_parse(result.text)
    counted = [t for t in tasks if t["taskType"] == "Filter" and next(iter(t["connectorOperator"].values()))
               in VALUE_OPS]
    local_ids = [id(t) for t in result.local]
    assert local_ids == [id(t) for t in counted if id(t) in local_ids]  # a subsequence, in task order
    no_trailing_backslash = not any(v.endswith("\\") for t in counted for v in values_of(t))
    for t in counted:
        is_local = id(t) in local_ids
        if nameable(t["sourceFields"][0]):
            # The one other reason: a string ending in a backslash with both quotes after it.
            assert not is_local or any(v.endswith("\\") for v in values_of(t)), t
        else:
            assert is_local, t
    if no_trailing_backslash:
        assert [id(t) for t in counted if not nameable(t["sourceFields"][0])] == local_ids
    has_window = window != (None, None)
    in_range = all(b is None or -62135596800 <= b < 253402300800 for b in window)
    writable = timestamp_field is not None and nameable(timestamp_field) and in_range
    assert result.window_local == (has_window and not writable)
    # The text names exactly the fields of the tasks it carries, and the window's.
    named = {t["sourceFields"][0] for t in counted if id(t) not in local_ids}
    if has_window and writable:
        named.add(timestamp_field)
    assert {text for kind, text in tokens(result.text or "") if kind == "IDENTIFIER"} == named
    assert (result.text is None) == (not named)


# == 3. the expression keeps what the emulator's Filter keeps =======================================

ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def unescape(token: str) -> str:
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in ESCAPES:
            out.append(ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def micros(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - EPOCH) // timedelta(microseconds=1)


def instant(v: Any) -> Optional[int]:
    """A record's datetime or ISO-8601 text as microseconds since the epoch, else None."""
    if isinstance(v, datetime):
        return micros(v)
    try:
        return micros(datetime.fromisoformat(str(v).replace("Z", "+00:00")))
    except ValueError:
        return None


class Evaluator(CustomConnectorQueryFilterParserVisitor):  # type: ignore[misc]
    """Whether a record passes an expression. Each comparison reads the record's value by the kind
    of the constant: strings as text (escapes undone), decimals as Decimal, dates and date-times as
    instants, booleans as booleans. A null or unreadable value passes no comparison. BETWEEN is
    exclusive, as the SDK example's translation (``> lower and < upper``) is."""

    def __init__(self, record: Dict[str, Any]) -> None:
        self.record = record

    def visitQueryfilter(self, ctx: Any) -> bool:
        return bool(self.visit(ctx.expression()))

    def visitParenExpression(self, ctx: Any) -> bool:
        return bool(self.visit(ctx.expression()))

    def visitNotExpression(self, ctx: Any) -> bool:
        return not self.visit(ctx.expression())

    def visitANDBinaryExpression(self, ctx: Any) -> bool:
        return bool(self.visit(ctx.left) and self.visit(ctx.right))

    def visitORBinaryExpression(self, ctx: Any) -> bool:
        return bool(self.visit(ctx.left) or self.visit(ctx.right))

    # values: (kind, constant)
    def visitStringValueExpression(self, ctx: Any) -> Tuple[str, Any]:
        text = ctx.getText()
        return ("null", None) if text == "null" else ("text", unescape(text))

    def visitDecimalValueExpression(self, ctx: Any) -> Tuple[str, Any]:
        return "number", Decimal(ctx.getText())

    def visitIsoDate(self, ctx: Any) -> Tuple[str, Any]:
        return "time", micros(datetime.combine(date.fromisoformat(ctx.getText()), datetime.min.time()))

    def visitIsoDateTime(self, ctx: Any) -> Tuple[str, Any]:
        return "time", micros(datetime.fromisoformat(ctx.getText().replace("Z", "+00:00")))

    def read(self, ident: Any, kind: str) -> Any:
        v = self.record.get(ident.getText())
        if v is None or kind == "null":
            return None
        if kind == "text":
            return ("true" if v else "false") if isinstance(v, bool) else str(v)
        if kind == "number":
            if isinstance(v, bool):
                return None
            try:
                n = Decimal(repr(v)) if isinstance(v, float) else Decimal(v.strip() if isinstance(v, str) else v)
            except (InvalidOperation, TypeError):
                return None
            return n if n.is_finite() else None
        if kind == "time":
            return instant(v)
        if kind == "boolean":
            if isinstance(v, bool):
                return v
            return {"true": True, "false": False}.get(str(v).lower()) if isinstance(v, str) else None
        raise AssertionError(kind)

    def compare(self, ctx: Any, test: Any) -> bool:
        kind, c = self.visit(ctx.right)
        v = self.read(ctx.left, kind)
        return v is not None and bool(test(v, c))

    def visitLesserThanComparatorExpression(self, ctx: Any) -> bool:
        return self.compare(ctx, lambda v, c: v < c)

    def visitLesserThanEqualToComparatorExpression(self, ctx: Any) -> bool:
        return self.compare(ctx, lambda v, c: v <= c)

    def visitGreaterThanComparatorExpression(self, ctx: Any) -> bool:
        return self.compare(ctx, lambda v, c: v > c)

    def visitGreaterThanEqualToComparatorExpression(self, ctx: Any) -> bool:
        return self.compare(ctx, lambda v, c: v >= c)

    def visitEqualToComparatorExpression(self, ctx: Any) -> bool:
        return self.compare(ctx, lambda v, c: v == c)

    def visitNotEqualToComparatorExpression(self, ctx: Any) -> bool:
        return self.compare(ctx, lambda v, c: v != c)

    def visitLikeComparatorExpression(self, ctx: Any) -> bool:
        return self.compare(ctx, lambda v, c: c in v)

    def visitBoolean(self, ctx: Any) -> Tuple[str, Any]:
        return "boolean", ctx.getText().lower() == "true"

    def visitBooleanEqualToComparatorExpression(self, ctx: Any) -> bool:
        return self.compare(ctx, lambda v, c: v == c)

    def visitBooleanNotEqualToComparatorExpression(self, ctx: Any) -> bool:
        return self.compare(ctx, lambda v, c: v != c)

    def visitBetweenExpression(self, ctx: Any) -> bool:
        (kind, lo), (kind_hi, hi) = self.visit(ctx.l1), self.visit(ctx.right)
        assert kind == kind_hi
        v = self.read(ctx.left, kind)
        return v is not None and bool(lo < v < hi)

    def visitInExpression(self, ctx: Any) -> bool:
        for value in ctx.value():
            kind, c = self.visit(value)
            v = self.read(ctx.identifier(), kind)
            if v is not None and v == c:
                return True
        return False


def passes(tree: Any, record: Dict[str, Any]) -> bool:
    return bool(Evaluator(record).visit(tree))


def test_the_evaluator() -> None:
    tree = strict_parse(r'(s = "a\"b" or s contains "\\") and n between 1 and 3.5 and d < 2024-06-01 and f != false')
    base = {"s": 'a"b', "n": "2", "d": "2024-05-31T23:59:59.999Z", "f": True}
    assert passes(tree, base)
    for change in ({"s": "x"}, {"n": 3.5}, {"n": None}, {"d": "2024-06-01T00:00:00+00:00"}, {"f": "FALSE"}):
        assert not passes(tree, {**base, **change}), change
    assert passes(tree, {**base, "s": "x\\y"})
    assert passes(strict_parse('s in ("a", "b")'), {"s": "b"})


# Differential cases. Restricted where the two differ by design:
# - numbers: moderate magnitudes and at most 15 significant digits, so a constant is the double the
#   task compiler compares with (it compares doubles; the language carries decimals);
# - times: whole milliseconds in years the grammar can write (the task compiler compares any
#   millisecond, the language writes years 0001-9999);
# - booleans: records hold booleans or true/false text (the task compiler also reads 1/0 as booleans);
# - CONTAINS on text fields only (the task compiler's CONTAINS is a substring test on any value's text);
# - every task has a DATA_TYPE (without one the task compiler guesses numeric from the constants;
#   the language writes a string).
# Small pools, so that records often equal the constants.
TEXTS = ["", "a", "b", "ab", 'a"b', "a\\", "\\", "a\\\"", "it's", "x\ny", "t\tab", "Zoë", "😀"]
TEXT_VALUES = st.one_of(st.sampled_from(TEXTS), st.text(alphabet=st.sampled_from(list("ab\"'\\\né")), max_size=2))
NUMBER_CONSTS = st.one_of(
    st.integers(-5, 5).map(str),
    st.decimals(-5, 5, places=1, allow_nan=False, allow_infinity=False).map(str),
    st.decimals(-10 ** 6, 10 ** 6, places=4, allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["1e1", "2.5E0", "-1.25e-1", " 7 ", "+3", ".5", "007", "-0"]),
)
NUMBER_RECORDS = st.one_of(st.none(), st.integers(-5, 10), st.sampled_from([2.5, -0.5, 10.0, 0.1, -0.125, 1e6]),
                           st.sampled_from(["7", " 2 ", "2.50", "x", "", "1e1", "-0"]), st.just(True))
MS = st.one_of(st.sampled_from([0, 1000, 1717200000000, 1717200000001, 1717286400000]),
               st.integers(0, 4102444800000))  # 1970 to 2100
MS_RECORDS = st.one_of(st.none(), st.just("garbage"),
                       MS.map(lambda ms: (EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds")),
                       MS.map(lambda ms: EPOCH + timedelta(milliseconds=ms)))
DAY_MS = st.integers(19870, 19880).map(lambda d: d * 86400000)


def ms_const(ms: int, iso: bool) -> str:
    return (EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds") if iso else str(ms)


@st.composite
def checked_task(draw: Any) -> Dict[str, Any]:
    field = draw(st.sampled_from(["s", "n", "d", "b", "day"]))
    if field == "s":
        op, dtype = draw(st.sampled_from(VALUE_OPS)), draw(st.sampled_from(["string", "String", "id", "Struct"]))
        consts = TEXT_VALUES
    elif field == "n":
        op = draw(st.sampled_from([o for o in VALUE_OPS if o != "CONTAINS"]))
        dtype = draw(st.sampled_from(["double", "integer", "long", "BigDecimal", "BigInteger", "Float"]))
        consts = NUMBER_CONSTS
    elif field == "d":
        op = draw(st.sampled_from([o for o in VALUE_OPS if o != "CONTAINS"]))
        dtype = draw(st.sampled_from(["datetime", "timestamp", "DateTime"]))
        iso = draw(st.booleans())
        consts = MS.map(lambda ms: ms_const(ms, iso))
    elif field == "day":
        op = draw(st.sampled_from([o for o in VALUE_OPS if o != "CONTAINS"]))
        dtype, consts = "date", DAY_MS.map(str)
    else:
        op, dtype = draw(st.sampled_from(["EQUAL_TO", "NOT_EQUAL_TO"])), "boolean"
        consts = st.sampled_from(["true", "false", "TRUE", "False"])
    props = {"DATA_TYPE": dtype}
    if op == "BETWEEN":
        props["LOWER_BOUND"], props["UPPER_BOUND"] = draw(consts), draw(consts)
    elif op in ORDERING_OPS or draw(st.booleans()):
        props["VALUE"] = draw(consts)
    else:  # VALUES is comma-joined: its values hold no comma
        props["VALUES"] = ",".join(draw(st.lists(consts.filter(lambda v: "," not in v), min_size=1, max_size=3)))
        if props["VALUES"] == "":
            props["VALUE"] = ""
    return flt(op, field, **props)


RECORD = st.fixed_dictionaries({
    "s": st.one_of(st.none(), TEXT_VALUES, st.just(5)),
    "n": NUMBER_RECORDS,
    "d": MS_RECORDS,
    "b": st.sampled_from([None, True, False, "true", "FALSE", "x"]),
    "day": st.one_of(st.none(), DAY_MS.map(lambda ms: (EPOCH + timedelta(milliseconds=ms)).date().isoformat())),
})
FIELDS = ["id", "s", "n", "d", "b", "day"]
HEAD = [flt("PROJECTION", FIELDS[0]) | {"sourceFields": FIELDS},
        {"taskType": "Map", "sourceFields": ["id"], "destinationField": "id", "connectorOperator": {CC: "NO_OP"},
         "taskProperties": {}}]


def kept_ids(tasks: Sequence[Dict[str, Any]], records: List[Dict[str, Any]]) -> List[int]:
    return [r["id"] for r in compile_tasks([*HEAD, *tasks], CC)(records)]


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(tasks=st.lists(checked_task(), min_size=1, max_size=3),
       records=st.lists(RECORD, min_size=1, max_size=12),
       window=st.one_of(st.just((None, None)), st.tuples(st.one_of(st.none(), MS.map(lambda ms: ms / 1000)),
                                                         st.one_of(st.none(), MS.map(lambda ms: ms // 1000)))))
def test_the_expression_keeps_what_the_emulator_keeps(tasks: List[Dict[str, Any]], records: List[Dict[str, Any]],
                                                      window: Tuple[Optional[float], Optional[float]]) -> None:
    records = [{"id": i, **r} for i, r in enumerate(records)]
    for one in tasks:  # each task alone (a conjunction often keeps nothing), then all with the window
        check_same_records([one], records, (None, None))
    check_same_records(tasks, records, window)


def check_same_records(tasks: List[Dict[str, Any]], records: List[Dict[str, Any]],
                       window: Tuple[Optional[float], Optional[float]]) -> None:
    result = filter_expression(tasks, {}, window, "d")
    assert not result.window_local
    # The emulator: its Filter tasks, then the window [start, end) on d; with both bounds the window
    # is sent as BETWEEN, which this connector (like AWS's example) reads with both bounds excluded.
    start, end = window
    expected = []
    for i in kept_ids(tasks, records):
        if start is not None or end is not None:
            t = None if records[i]["d"] is None else instant(records[i]["d"])
            if t is None or (start is not None and t < start * 1e6) or (end is not None and t >= end * 1e6):
                continue
            if start is not None and end is not None and t == start * 1e6:
                continue
        expected.append(i)
    # The connector: the expression; then the emulator applies the local tasks.
    tree = strict_parse(result.text) if result.text is not None else None
    read = [r for r in records if tree is None or passes(tree, r)]
    got = kept_ids(list(result.local), read)
    assert got == expected, (result.text, result.local)


def test_semantics_on_a_fixed_case() -> None:
    tasks = [flt("CONTAINS", "s", DATA_TYPE="string", VALUE='"'),
             flt("BETWEEN", "n", DATA_TYPE="double", LOWER_BOUND="1", UPPER_BOUND="1e1"),
             flt("NOT_EQUAL_TO", "b", DATA_TYPE="boolean", VALUES="false")]
    records = [{"id": 0, "s": 'a"', "n": 5, "b": True}, {"id": 1, "s": "a", "n": 5, "b": True},
               {"id": 2, "s": 'a"', "n": 10, "b": True}, {"id": 3, "s": 'a"', "n": "9.5", "b": "FALSE"},
               {"id": 4, "s": 'x"', "n": "9.5", "b": None}]
    result = filter_expression(tasks, {})
    assert result.text == r's contains "\"" and n between 1 and 10 and b != false'
    tree = strict_parse(result.text)
    assert [r["id"] for r in records if passes(tree, r)] == kept_ids(tasks, records) == [0]


def test_semantics_with_a_local_task() -> None:
    tasks = [flt("EQUAL_TO", "s", DATA_TYPE="string", VALUES="a\\,b"),
             flt("NOT_EQUAL_TO", "t", DATA_TYPE="string", VALUE="it's")]
    records = [{"id": 0, "s": "a\\", "t": "x"}, {"id": 1, "s": "b", "t": "it's"}, {"id": 2, "s": "a", "t": "x"},
               {"id": 3, "s": "b", "t": None}, {"id": 4, "s": "b", "t": "x"}]
    result = filter_expression(tasks, {})
    assert result == FilterExpression("t != \"it's\"", (tasks[0],), False)
    assert result.text is not None
    tree = strict_parse(result.text)
    read = [r for r in records if passes(tree, r)]
    assert kept_ids(result.local, read) == kept_ids(tasks, records) == [0, 4]
