"""Each fact in one place (issue 7, "What to build" 2): differential and property tests between the
places that use each fact, of the kind that would have caught the disagreements the issue lists.

- Field types (``catalog/operators.py``): entity discovery and the task compiler agree on each
  type's family (``bigint`` was numeric to one and text to the other).
- Value to text (``simulator/values.py``'s ``to_text``): CSV cells, Map to string, Mask, Truncate,
  Merge and partition folders spell a value the same way (datetimes, bytes and NaN disagreed).
- Epoch seconds versus milliseconds (``values.MS_THRESHOLD``): the incremental window and a
  temporal Filter classify numbers around 1e11 the same way (``>`` against ``>=``).
- ISO-8601 text (``values.parse_iso``) parses the same on every Python.
- Write semantics (``simulator/writes.py``): SaaS destinations and ``InMemoryConnector`` store the
  same records and fail the same records, as an independent reference model says.
- Entity naming (``catalog/connectors.entity_of``): a destination writes to the entity a source
  with the same properties reads.

Runs go through boto3 and the handle; the pure functions are tested directly where a run per
example would cost too much.
"""
from __future__ import annotations

import base64
import copy
import itertools
import json
import math
import sys
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

import boto3
import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from appflow_emu import InMemoryConnector, mock_appflow
from appflow_emu.catalog.connectors import ENTITY_MEMBERS, entity_of
from appflow_emu.catalog.operators import (
    BOOLEAN_TYPES,
    NUMERIC_TYPES,
    TEMPORAL_TYPES,
    TEXT_TYPES,
    VALUE_FILTER_OPERATORS,
)
from appflow_emu.simulator import formats
from appflow_emu.simulator.sinks import partition_value
from appflow_emu.simulator.tasks import compile_tasks
from appflow_emu.simulator.values import MS_THRESHOLD, parse_iso, to_epoch_ms, to_epoch_seconds, to_text
from appflow_emu.simulator.writes import apply_write
from tests.conftest import _model, enum_values, requires_enum_value, requires_operation
from tests.helpers import profile_request, s3_destination, s3_source, salesforce_source
from tests.simulator.test_tasks import map_, projection, task  # the task builders of the task tests

SF = "Salesforce"
_names = itertools.count(1)
RUNS = settings(max_examples=30, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PURE = settings(max_examples=150, deadline=None, database=None)


# -- flows through boto3 and the handle -------------------------------------------------------------

def map_all(member: str = SF) -> Dict[str, Any]:
    return {"sourceFields": [], "connectorOperator": {member: "NO_OP"}, "taskType": "Map_all",
            "taskProperties": {"EXCLUDE_SOURCE_FIELDS_LIST": "[]"}}


class Flows:
    """OnDemand runs of Salesforce records (a fresh custom object per run) into S3."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.client = boto3.client("appflow", region_name="us-east-1")
        self.client.create_connector_profile(**profile_request("sf", SF))
        emu.create_bucket("out-bucket")

    def run(self, records: List[Dict[str, Any]], tasks: List[Dict[str, Any]], file_type: str = "JSON",
            entity: Optional[str] = None) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
        n = next(_names)
        name = f"one-home-{n}"
        if entity is None:
            entity = f"OneHome{n}__c"
            self.emu.add_source_records(SF, entity, records)
        self.client.create_flow(
            flowName=name, triggerConfig={"triggerType": "OnDemand"},
            sourceFlowConfig=salesforce_source("sf", entity),
            destinationFlowConfigList=[s3_destination("out-bucket", "exports", file_type)], tasks=tasks)
        return self.start(name)

    def start(self, name: str) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
        execution_id = self.client.start_flow(flowName=name)["executionId"]
        [execution] = [e for e in self.client.describe_flow_execution_records(flowName=name)["flowExecutions"]
                       if e["executionId"] == execution_id]
        return self.emu.destination_records(name, execution_id), execution


def message(execution: Dict[str, Any]) -> str:
    return str(execution["executionResult"].get("errorInfo", {}).get("executionMessage", ""))


@pytest.fixture
def flows(appflow_mock: Any) -> Flows:
    return Flows(appflow_mock)


# == field types: one table for discovery and the task compiler ========================================

ORDERED = ("LESS_THAN", "GREATER_THAN", "BETWEEN", "LESS_THAN_OR_EQUAL_TO", "GREATER_THAN_OR_EQUAL_TO")
ARITHMETIC = ("ADDITION", "SUBTRACTION", "MULTIPLICATION", "DIVISION")
# Every name of the table, some in other cases (names are compared lower-cased), and types it does
# not list (text to a Filter, kept as given by a Map).
TYPE_NAMES = sorted(NUMERIC_TYPES | BOOLEAN_TYPES | TEMPORAL_TYPES | TEXT_TYPES) + [
    "BigInt", "LONG", "Double", "DateTime", "Boolean", "String", "struct", "list", "map", "geolocation"]


def advertised(client: Any, entity: str) -> Dict[str, List[str]]:
    fields = client.describe_connector_entity(connectorType=SF, connectorEntityName=entity)["connectorEntityFields"]
    return {f["identifier"]: f["supportedFieldTypeDetails"]["v1"]["filterOperators"] for f in fields}


def test_bigint_is_a_number_to_discovery_and_to_the_filter(flows: Flows) -> None:
    flows.emu.add_entity(SF, "Big__c", {"Id": "id", "n": "bigint"})
    ops = advertised(flows.client, "Big__c")["n"]
    assert set(ORDERED) <= set(ops) and set(ARITHMETIC) <= set(ops)
    assert "CONTAINS" not in ops and "MASK_ALL" not in ops, ops
    records = [{"Id": str(i), "n": n} for i, n in enumerate(["9", "10", "100", "8", "x", None])]
    flows.emu.add_source_records(SF, "Big__c", records)
    delivered, execution = flows.run([], [projection("Id", "n"), map_("n"),
                                          task("Filter", "GREATER_THAN", ["n"], DATA_TYPE="bigint", VALUE="9")],
                                     entity="Big__c")
    assert execution["executionStatus"] == "Successful", message(execution)
    assert delivered == [{"n": "10"}, {"n": "100"}]  # as numbers: "10" > "9" (as text it is not)


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_what_discovery_advertises_is_what_the_compiler_does(flows: Flows, type_name: str) -> None:
    """For a field of each type: every value filter discovery advertises runs with that DATA_TYPE;
    ordered filters are advertised exactly when the Filter compares by order ("10" > "9"); arithmetic
    exactly when a Map to the type makes a number; CONTAINS and masks exactly when it does not."""
    flows.emu.add_entity(SF, "Typed__c", {"Id": "id", "f": type_name})
    ops = advertised(flows.client, "Typed__c")["f"]
    filters = [op for op in ops if op in VALUE_FILTER_OPERATORS]
    assert filters, f"{type_name}: no value filter advertised ({ops})"

    # Every advertised filter, with this DATA_TYPE, compiles and runs. "1" suits every family.
    tasks = [projection("Id", "f"), map_("Id")]
    for op in filters:
        props = {"LOWER_BOUND": "0", "UPPER_BOUND": "2"} if op == "BETWEEN" else {"VALUE": "1"}
        tasks.append(task("Filter", op, ["f"], DATA_TYPE=type_name, **props))
    _, execution = flows.run([{"Id": "1", "f": "1"}], tasks)
    assert execution["executionStatus"] == "Successful", f"{type_name} {filters}: {message(execution)}"

    # Ordered: 1e12 > 3e11 > 2e11 as numbers, and as times (epoch milliseconds, as the constant is);
    # not as text ("1000000000000" < "300000000000"); booleans have no order (the constant is no
    # boolean: the task list cannot run).
    delivered, execution = flows.run(
        [{"Id": "a", "f": "200000000000"}, {"Id": "b", "f": "1000000000000"}],
        [projection("Id", "f"), map_("Id"),
         task("Filter", "GREATER_THAN", ["f"], DATA_TYPE=type_name, VALUE="300000000000")])
    compares_in_order = execution["executionStatus"] == "Successful" and [r["Id"] for r in delivered] == ["b"]
    assert compares_in_order == all(op in ops for op in ORDERED), (type_name, ops, delivered)

    # A Map to the type: numbers for numeric types, booleans for boolean ones (the other value fails).
    delivered, _ = flows.run([{"Id": "a", "f": "10"}, {"Id": "b", "f": "true"}],
                             [projection("Id", "f"), map_("Id"), map_("f", dtype=type_name)])
    kinds = {type(r["f"]) for r in delivered}
    makes_a_number, makes_a_boolean = bool(kinds & {int, float}), bool(kinds & {bool})
    assert makes_a_number == all(op in ops for op in ARITHMETIC) == ("VALIDATE_NUMERIC" in ops), \
        (type_name, ops, delivered)
    # Text operators exactly for what is neither a number, a time nor a boolean.
    text_like = not (compares_in_order or makes_a_number or makes_a_boolean)
    assert ("CONTAINS" in ops) == ("MASK_ALL" in ops) == text_like, (type_name, ops, delivered)


# == value to text: one rule ===============================================================================

UTC_OFFSETS = st.sampled_from([timezone.utc, timezone(timedelta(0), "GMT"), timezone(timedelta(hours=2)),
                               timezone(timedelta(hours=-5, minutes=-30)), timezone(timedelta(hours=14))])
DATETIMES = st.one_of(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=UTC_OFFSETS),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2 ** 70), 2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e300]),
    st.decimals(allow_nan=True, allow_infinity=True, places=None), st.sampled_from([Decimal("1.50"), Decimal("1E+2"), Decimal("1E+5000"), Decimal("1" * 400 + ".5"), Decimal("-0")]),
    st.text(max_size=12), st.sampled_from(["", " a ", "x,y", 'say "hi"', "two\nlines", "cr\rhere", "naïve ✓", "%/"]),
    st.binary(max_size=8), DATETIMES, st.dates(), st.times(), st.times(timezones=UTC_OFFSETS),
)
NESTED = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                                st.text(max_size=5), DATETIMES, st.binary(max_size=4), st.decimals(places=2)),
                      lambda inner: st.one_of(st.lists(inner, max_size=3),
                                              st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                      max_leaves=6)
VALUES = st.one_of(SCALARS, NESTED)


def test_the_rule_spells_the_values_the_old_copies_disagreed_on() -> None:
    when = datetime(2024, 6, 1, 13, 5, 7, tzinfo=timezone.utc)
    assert to_text(when) == to_text(when.replace(tzinfo=None)) == "2024-06-01T13:05:07Z"
    assert to_text(when.astimezone(timezone(timedelta(hours=2)))) == "2024-06-01T15:05:07+02:00"
    assert to_text(b"hi \xff") == base64.b64encode(b"hi \xff").decode()
    assert [to_text(x) for x in (math.nan, math.inf, -math.inf, Decimal("NaN"))] == [None] * 4
    assert [to_text(x) for x in (True, 3, 2.5, Decimal("1.50"), "s", None)] == ["true", "3", "2.5", "1.50", "s", None]
    assert to_text({"a": [1, None, when, math.nan]}) == '{"a":[1,null,"2024-06-01T13:05:07Z",null]}'
    assert to_text(date(2024, 6, 1)) == "2024-06-01" and to_text(time(13, 5)) == "13:05:00"


def _compiled_text(task_: Dict[str, Any], value: Any) -> Any:
    """The ``out`` field after the task (a transform's result shows through a Map that reads it)."""
    tasks = [task_] if task_["taskType"] == "Map" else [task_, task("Map", "NO_OP", ["out"], "out")]
    [record] = list(compile_tasks(tasks, SF)([{"v": value}]))
    return record["out"]


@PURE
@given(value=VALUES)
def test_every_text_conversion_is_to_text(value: Any) -> None:
    text = to_text(value)
    assert text is None or isinstance(text, str)
    # a CSV cell (None is an empty cell)
    [row] = list(formats.read_csv(formats.write_csv([{"k": "x", "v": value}])))
    assert row["v"] == ("" if text is None else text)
    # Map to a text type
    assert _compiled_text(task("Map", "NO_OP", ["v"], "out", DESTINATION_DATA_TYPE="string"), value) == text
    # Mask, Truncate and Merge work on the same text
    masked = _compiled_text(task("Mask", "MASK_ALL", ["v"], "out", MASK_VALUE="#"), value)
    assert masked == (None if text is None else "#" * len(text))
    assert _compiled_text(task("Truncate", "NO_OP", ["v"], "out", TRUNCATE_LENGTH="5"), value) == \
        (None if text is None else text[:5])
    assert _compiled_text(task("Merge", "NO_OP", ["v"], "out", CONCAT_FORMAT="<${v}>"), value) == f"<{text or ''}>"
    # a partition folder's value
    assert partition_value(value) == ("null" if text is None else text.replace("%", "%25").replace("/", "%2F"))


@RUNS
@given(values=st.lists(VALUES, min_size=1, max_size=6))
@example(values=[datetime(2024, 6, 1, 13, 5, tzinfo=timezone.utc), datetime(2024, 6, 1, 13, 5), b"\xff\x00", math.nan,
                 Decimal("1E+5000"), Decimal("1" * 400 + ".5"), {"when": date(2024, 6, 1), "n": [math.inf]}])
def test_a_value_mapped_to_string_and_a_csv_cell_read_the_same(values: List[Any]) -> None:
    """Through runs: Map to string into JSON, and unmapped into CSV, give the same text; a value
    JSON has no type for is written by the JSON writer with that text too."""
    records = [{"id": str(i), "v": v} for i, v in enumerate(values)]
    with mock_appflow() as emu:
        flows = Flows(emu)
        as_string, execution = flows.run(records, [projection("id", "v"), map_("id"), map_("v", dtype="string")])
        assert execution["executionStatus"] == "Successful", message(execution)
        as_csv, execution = flows.run(records, [map_all()], "CSV")
        assert execution["executionStatus"] == "Successful", message(execution)
        unmapped, execution = flows.run(records, [map_all()], "JSON")
        assert execution["executionStatus"] == "Successful", message(execution)
    assert [r["id"] for r in as_string] == [r["id"] for r in as_csv] == [r["id"] for r in records]
    for value, mapped, cell, raw in zip(values, as_string, as_csv, unmapped):
        text = to_text(value)
        assert mapped["v"] == text, value
        assert cell["v"] == ("" if text is None else text), value
        if isinstance(value, (datetime, date, time, bytes)):
            assert raw["v"] == text, value


# == epoch seconds versus milliseconds: one threshold ======================================================

def reference_epoch_ms(n: float) -> float:
    """Numbers of at least 1e11 in size are milliseconds, smaller ones seconds (written independently)."""
    return n if abs(n) >= 100_000_000_000 else n * 1000


BOUNDARY = 100_000_000_000
EPOCH_NUMBERS = st.one_of(
    st.integers(BOUNDARY - 3, BOUNDARY + 3), st.integers(-BOUNDARY - 3, -BOUNDARY + 3),
    st.integers(-10 ** 14, 10 ** 14), st.floats(-1e14, 1e14),
    st.sampled_from([99_999_999_999, 100_000_000_000, 99_999_999_999.999, -99_999_999_999, -100_000_000_000, 0]),
)


def test_the_threshold_is_1e11_inclusive() -> None:
    assert MS_THRESHOLD == 1e11
    assert to_epoch_seconds(100_000_000_000) == 100_000_000 and to_epoch_ms(100_000_000_000) == 1e11
    assert to_epoch_seconds(99_999_999_999) == 99_999_999_999 and to_epoch_ms(99_999_999_999) == 99_999_999_999_000
    assert to_epoch_seconds(-100_000_000_000) == -100_000_000 and to_epoch_seconds(-99_999_999_999) == -99_999_999_999
    assert to_epoch_seconds("100000000000") == 100_000_000 and to_epoch_seconds(" 99999999999 ") == 99_999_999_999
    assert to_epoch_seconds("1e11") == 100_000_000


@PURE
@given(n=EPOCH_NUMBERS, spelling=st.sampled_from(["number", "text", "padded text", "float text"]))
def test_seconds_and_milliseconds_classify_numbers_alike(n: float, spelling: str) -> None:
    value: Any = {"number": n, "text": str(n), "padded text": f" {n} ", "float text": repr(float(n))}[spelling]
    expected_ms = reference_epoch_ms(float(n))
    assert to_epoch_ms(value) == expected_ms
    assert to_epoch_seconds(value) == expected_ms / 1000
    # the window (seconds) and the filter (milliseconds) agree on every value
    assert math.isclose(to_epoch_seconds(value) * 1000, to_epoch_ms(value), rel_tol=1e-12, abs_tol=1e-6)


# 1e11 milliseconds and 1e8 seconds are one moment: 1973-03-03T09:46:40Z.
MOMENT = datetime(1973, 3, 3, 9, 46, 40, tzinfo=timezone.utc)
EPOCH_RECORDS = [
    {"Id": "seconds", "t": 100_000_000},
    {"Id": "ms", "t": 100_000_000_000},
    {"Id": "ms-text", "t": "100000000000"},
    {"Id": "ms-float", "t": 100_000_000_000.0},
    {"Id": "iso", "t": "1973-03-03T09:46:40Z"},
    {"Id": "seconds-below", "t": 99_999_999_999},  # seconds: the year 5138
    {"Id": "seconds-below-text", "t": "99999999999"},
    {"Id": "ms-far", "t": 100_000_000_000_000},  # milliseconds: the year 5138
]
AT_THE_MOMENT = ["seconds", "ms", "ms-text", "ms-float", "iso"]


def test_the_incremental_window_and_a_temporal_filter_pick_the_same_records() -> None:
    with freeze_time(MOMENT + timedelta(days=7)), mock_appflow() as emu:
        flows = Flows(emu)
        emu.add_source_records(SF, "Stamped__c", EPOCH_RECORDS)
        # The incremental pull's first window: [activation - 30 days, activation), around MOMENT.
        flows.client.create_flow(
            flowName="window", triggerConfig={"triggerType": "Scheduled", "triggerProperties": {"Scheduled": {
                "scheduleExpression": "rate(1hours)", "dataPullMode": "Incremental"}}},
            sourceFlowConfig={**salesforce_source("sf", "Stamped__c"),
                              "incrementalPullConfig": {"datetimeTypeFieldName": "t"}},
            destinationFlowConfigList=[s3_destination("out-bucket", "exports", "JSON")],
            tasks=[projection("Id", "t"), map_("Id")])
        flows.client.start_flow(flowName="window")  # activation: the first scheduled run
        [execution] = flows.client.describe_flow_execution_records(flowName="window")["flowExecutions"]
        windowed = emu.destination_records("window", execution["executionId"])
        assert execution["executionStatus"] == "Successful", message(execution)
        assert execution["dataPullStartTime"] < MOMENT < execution["dataPullEndTime"]
        # A temporal Filter: constants are epoch milliseconds; 1e11 lies strictly between these.
        filtered, execution = flows.run([], [projection("Id", "t"), map_("Id"), task(
            "Filter", "BETWEEN", ["t"], DATA_TYPE="datetime", LOWER_BOUND="99999999999", UPPER_BOUND="100000000001")],
            entity="Stamped__c")
        assert execution["executionStatus"] == "Successful", message(execution)
    assert [r["Id"] for r in windowed] == AT_THE_MOMENT
    assert [r["Id"] for r in filtered] == AT_THE_MOMENT


# == ISO-8601: the same on every Python ====================================================================

UTC = timezone.utc


@pytest.mark.parametrize("text, expected", [
    ("2024-06-01T00:00:01.000+0000", datetime(2024, 6, 1, 0, 0, 1, tzinfo=UTC)),
    ("2024-06-01T13:05:07Z", datetime(2024, 6, 1, 13, 5, 7, tzinfo=UTC)),
    ("2024-06-01T13:05:07z", datetime(2024, 6, 1, 13, 5, 7, tzinfo=UTC)),
    ("2024-06-01 13:05", datetime(2024, 6, 1, 13, 5, tzinfo=UTC)),
    ("2024-06-01", datetime(2024, 6, 1, tzinfo=UTC)),
    ("2024-06-01T13:05:07.5", datetime(2024, 6, 1, 13, 5, 7, 500000, tzinfo=UTC)),
    ("2024-06-01T13:05:07.123456789Z", datetime(2024, 6, 1, 13, 5, 7, 123456, tzinfo=UTC)),
    ("2024-06-01T13:05:07,25+02:00", datetime(2024, 6, 1, 13, 5, 7, 250000, tzinfo=timezone(timedelta(hours=2)))),
    ("2024-06-01T13:05-0530", datetime(2024, 6, 1, 13, 5, tzinfo=timezone(-timedelta(hours=5, minutes=30)))),
    ("2024-06-01T13:05:07+05", datetime(2024, 6, 1, 13, 5, 7, tzinfo=timezone(timedelta(hours=5)))),
    (" 2024-06-01T13:05:07Z ", datetime(2024, 6, 1, 13, 5, 7, tzinfo=UTC)),
    ("2024-02-29T23:59:59.999999Z", datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)),
])
def test_parse_iso_accepts(text: str, expected: datetime) -> None:
    parsed = parse_iso(text)
    assert parsed == expected and parsed is not None and parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", [
    "", "junk", "2024", "2024-06", "2024-6-01", "2024-06-1", "24-06-01", "2024/06/01", "2024-06-01T",
    "2024-06-01T13", "2024-06-01T1:05", "2024-13-01", "2023-02-29", "2024-06-31", "2024-06-01T24:00",
    "2024-06-01T13:60", "2024-06-01T13:05:60", "2024-06-01T13:05:07.", "2024-06-01T13:05:07Zjunk",
    "2024-06-01T13:05:07+25:00", "2024-06-01T13:05:07+05:7", "2024-06-01T13:05.5", "13:05:07", "1717200000",
    "2024-06-01T13:05:07 Z", "2024-06-01X13:05", "2024-06-01Z", "2024-06-01+02:00", "２０２４-06-01",
    "2024-06-01T13:05:07+٠٢:00",
])
def test_parse_iso_rejects(text: str) -> None:
    assert parse_iso(text) is None


@st.composite
def iso_texts(draw: Any) -> Tuple[str, datetime]:
    """ISO-8601 text in the forms parse_iso documents, and the datetime it means."""
    day = draw(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
    text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    hour = minute = second = micro = 0
    if draw(st.booleans()):
        hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
        text += draw(st.sampled_from(["T", " "])) + f"{hour:02d}:{minute:02d}"
        if draw(st.booleans()):
            second = draw(st.integers(0, 59))
            text += f":{second:02d}"
            if draw(st.booleans()):
                digits = draw(st.text("0123456789", min_size=1, max_size=9))
                text += draw(st.sampled_from([".", ","])) + digits
                micro = int(digits[:6].ljust(6, "0"))
    tz = UTC
    zone = draw(st.sampled_from(["", "Z", "+hh:mm", "+hhmm", "+hh"])) if "T" in text or " " in text else ""
    if zone == "Z":
        text += "Z"
    elif zone:
        sign = draw(st.sampled_from([1, -1]))
        h, m = draw(st.integers(0, 23)), (0 if zone == "+hh" else draw(st.integers(0, 59)))
        tz = timezone(sign * timedelta(hours=h, minutes=m))
        body = {"+hh:mm": f"{h:02d}:{m:02d}", "+hhmm": f"{h:02d}{m:02d}", "+hh": f"{h:02d}"}[zone]
        text += ("+" if sign > 0 else "-") + body
    return text, datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=tz)


@PURE
@given(case=iso_texts())
def test_parse_iso_reads_every_documented_form(case: Tuple[str, datetime]) -> None:
    text, expected = case
    parsed = parse_iso(text)
    assert parsed == expected and parsed is not None and parsed.utcoffset() == expected.utcoffset()
    if sys.version_info >= (3, 11):  # fromisoformat reads ISO-8601 in full from 3.11 on
        try:
            theirs = datetime.fromisoformat(text.strip())
        except ValueError:
            return
        if theirs.tzinfo is None:
            theirs = theirs.replace(tzinfo=UTC)
        assert parsed == theirs and parsed.utcoffset() == theirs.utcoffset()


@PURE
@given(when=DATETIMES)
def test_to_text_of_a_datetime_parses_back(when: datetime) -> None:
    text = to_text(when)
    assert text is not None
    assert parse_iso(text) == (when if when.tzinfo else when.replace(tzinfo=UTC))


# == write semantics: one apply_write, an independent reference ============================================

def _same_id(a: Any, b: Any) -> bool:
    """Id values compare as they are; nested values by their JSON text (never equal to a string)."""
    nested_a, nested_b = isinstance(a, (dict, list)), isinstance(b, (dict, list))
    if nested_a or nested_b:
        return nested_a and nested_b and json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    return bool(a == b)


def reference_write(stored: List[Dict[str, Any]], entity: str, operation: str, records: List[Dict[str, Any]],
                    id_fields: List[str]) -> List[Optional[str]]:
    """What simulator/writes.py's docstring says, written plainly: a list scan, no index."""
    out: List[Optional[str]] = []
    for record in records:
        if operation == "INSERT":
            stored.append(dict(record))
            out.append(None)
            continue
        if not id_fields:
            out.append(f"{operation} needs idFieldNames")
            continue
        key = [record.get(f) for f in id_fields]
        if all(v is None for v in key):
            out.append(f"{operation} needs a value for {', '.join(id_fields)}")
            continue
        at = next((i for i, s in enumerate(stored)
                   if all(_same_id(s.get(f), k) for f, k in zip(id_fields, key))), None)
        if at is None:
            if operation == "UPSERT":
                stored.append(dict(record))
                out.append(None)
            else:
                where = ", ".join(f"{f}={record.get(f)!r}" for f in id_fields)
                out.append(f"No {entity} record with {where} to {operation.lower()}")
            continue
        if operation == "DELETE":
            del stored[at]
        else:
            stored[at].update(record)
        out.append(None)
    return out


IDS = st.sampled_from([None, 1, 2, "1", "a", [1], "[1]", {"k": 1}, '{"k": 1}'])
WRITE_RECORDS = st.lists(
    st.fixed_dictionaries({"v": st.integers(0, 9)}, optional={"id": IDS, "k": st.sampled_from(["x", "y", None]),
                                                              "w": st.integers(0, 9)}),
    max_size=5)
BATCHES = st.lists(st.tuples(st.sampled_from(["INSERT", "UPSERT", "UPDATE", "DELETE"]), WRITE_RECORDS),
                   min_size=1, max_size=8)


@PURE
@given(batches=BATCHES, id_fields=st.sampled_from([["id"], ["id", "k"], []]))
def test_in_memory_connector_apply_write_and_the_reference_agree(batches: List[Tuple[str, List[Dict[str, Any]]]],
                                                                 id_fields: List[str]) -> None:
    connector = InMemoryConnector()
    direct: List[Dict[str, Any]] = []
    reference: List[Dict[str, Any]] = []
    for operation, records in batches:
        answer = connector.write_records("things", operation, copy.deepcopy(records), list(id_fields) or None)
        through_connector = answer if answer is not None else [None] * len(records)
        through_apply = apply_write(direct, "things", operation, copy.deepcopy(records), id_fields)
        expected = reference_write(reference, "things", operation, copy.deepcopy(records), id_fields)
        assert through_apply == expected, (operation, records)
        assert list(through_connector) == expected, (operation, records)
        assert direct == reference, (operation, records)
        assert connector.records.get("things", []) == reference, (operation, records)


def test_deleting_one_of_two_records_with_the_same_id_leaves_the_other_findable() -> None:
    # INSERT may store two records with one id; a DELETE batch then meets both, one after the other.
    stored = [{"id": 1, "v": "first"}, {"id": 1, "v": "second"}, {"id": 2, "v": "other"}]
    assert apply_write(stored, "things", "DELETE", [{"id": 1}, {"id": 1}], ["id"]) == [None, None]
    assert stored == [{"id": 2, "v": "other"}]
    stored = [{"id": 1, "v": "first"}, {"id": 1, "v": "second"}]
    assert apply_write(stored, "things", "DELETE", [{"id": 1}], ["id"]) == [None]
    assert apply_write(stored, "things", "UPSERT", [{"id": 1, "w": 0}], ["id"]) == [None]
    assert stored == [{"id": 1, "v": "second", "w": 0}]


def test_a_text_id_never_matches_a_nested_id_with_that_json_text() -> None:
    stored = [{"id": [1], "v": "list"}, {"id": {"k": 1}, "v": "dict"}]
    assert apply_write(stored, "things", "UPDATE", [{"id": "[1]", "v": "x"}, {"id": '{"k": 1}', "v": "y"}],
                       ["id"]) == ["No things record with id='[1]' to update",
                                   """No things record with id='{"k": 1}' to update"""]
    assert apply_write(stored, "things", "UPDATE", [{"id": [1], "v": "x"}, {"id": {"k": 1}, "v": "y"}],
                       ["id"]) == [None, None]
    assert stored == [{"id": [1], "v": "x"}, {"id": {"k": 1}, "v": "y"}]


LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:members"
EXISTING = [{"Id": "1", "Name": "old", "n": 1}, {"Id": "9", "Name": "keep", "n": 9}]
INCOMING = [{"Id": "1", "Name": "new"}, {"Id": "2", "Name": "two", "n": 2}, {"Id": "2", "n": 3},
            {"Name": "no id"}, {"Id": "9", "n": None}]


@requires_operation("RegisterConnector")
@requires_enum_value("WriteOperationType", "UPSERT")
@requires_enum_value("ConnectorType", "CustomConnector")
def test_a_salesforce_upsert_and_an_in_memory_connector_upsert_store_the_same(client: Any, appflow_mock: Any) -> None:
    emu = appflow_mock
    emu.put_object("in-bucket", "data/rows.json", "".join(json.dumps(r) + "\n" for r in INCOMING))
    client.create_connector_profile(**profile_request("dest", SF))
    emu.add_source_records(SF, "Member__c", EXISTING)
    client.register_connector(connectorLabel="members", connectorProvisioningType="LAMBDA",
                              connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA}})
    client.create_connector_profile(
        connectorProfileName="cc", connectorType="CustomConnector", connectorLabel="members", connectionMode="Public",
        connectorProfileConfig={
            "connectorProfileProperties": {"CustomConnector": {"profileProperties": {"k": "v"}}},
            "connectorProfileCredentials": {"CustomConnector": {"authenticationType": "APIKEY",
                                                                "apiKey": {"apiKey": "secret"}}}})
    connector = InMemoryConnector({"members": EXISTING})
    emu.register_connector_implementation("members", connector)
    destinations = {
        "to-salesforce": {"connectorType": SF, "connectorProfileName": "dest", "destinationConnectorProperties": {
            SF: {"object": "Member__c", "writeOperationType": "UPSERT", "idFieldNames": ["Id"]}}},
        "to-connector": {"connectorType": "CustomConnector", "connectorProfileName": "cc",
                         "destinationConnectorProperties": {"CustomConnector": {
                             "entityName": "members", "writeOperationType": "UPSERT", "idFieldNames": ["Id"]}}},
    }
    executions = {}
    for name, destination in destinations.items():
        client.create_flow(flowName=name, triggerConfig={"triggerType": "OnDemand"},
                           sourceFlowConfig=s3_source("in-bucket", "data"), destinationFlowConfigList=[destination],
                           tasks=[map_all("S3")])
        _, executions[name] = _start(client, emu, name)
    expected = copy.deepcopy(EXISTING)
    messages = reference_write(expected, "Member__c", "UPSERT", copy.deepcopy(INCOMING), ["Id"])
    assert emu.source_records(SF, "Member__c") == expected
    assert connector.records["members"] == expected
    failures = [e["executionResult"].get("errorInfo", {}).get("putFailuresCount", 0) for e in executions.values()]
    assert failures == [sum(m is not None for m in messages)] * 2 == [1, 1]
    assert executions["to-salesforce"]["executionStatus"] == executions["to-connector"]["executionStatus"]


def _start(client: Any, emu: Any, name: str) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    execution_id = client.start_flow(flowName=name)["executionId"]
    [execution] = [e for e in client.describe_flow_execution_records(flowName=name)["flowExecutions"]
                   if e["executionId"] == execution_id]
    return emu.destination_records(name, execution_id), execution


# == entity naming: a destination writes where a source with the same properties reads ====================

NO_ENTITY = {"S3", "Upsolver", "LookoutMetrics"}  # buckets, or nothing to name


def _connector_type(member: str) -> str:
    for ct in enum_values("ConnectorType"):
        if ct.lower() == member.lower():
            return str(ct)
    return member


def _property_shapes(side: str) -> Dict[str, Any]:
    shape = f"{side.capitalize()}ConnectorProperties"
    return dict(_model().shape_for(shape).members)


def _config(side: str, member: str, props: Dict[str, Any]) -> Dict[str, Any]:
    return {"connectorType": _connector_type(member), f"{side}ConnectorProperties": {member: props}}


@pytest.mark.parametrize("side", ["source", "destination"])
def test_every_connector_properties_shape_names_its_entity(side: str) -> None:
    found = {}
    for member, shape in _property_shapes(side).items():
        names = [n for n in ENTITY_MEMBERS if n in shape.members]
        if member == "CustomerProfiles":
            assert entity_of(_config(side, member, {"domainName": "dom", "objectTypeName": "Orders"})) == "dom/Orders"
            assert entity_of(_config(side, member, {"domainName": "dom"})) == "dom"
            continue
        if not names:
            assert member in NO_ENTITY, (f"{side} properties of {member} ({sorted(shape.members)}) name no entity "
                                         f"that catalog/connectors.py ENTITY_MEMBERS knows")
            assert entity_of(_config(side, member, {})) == ""
            continue
        assert len(names) == 1, (member, names)
        found[member] = names[0]
        props = {names[0]: f"Thing-of-{member}"}
        # with the other members present too, and under the member's name in another case
        props.update({m: "x" for m in shape.members if m not in props and shape.members[m].type_name == "string"})
        assert entity_of(_config(side, member, props)) == f"Thing-of-{member}"
        lowered = {"connectorType": _connector_type(member), f"{side}ConnectorProperties": {member.lower(): props}}
        assert entity_of(lowered) == f"Thing-of-{member}"
    assert found  # the model has connectors with entities


def test_a_source_and_a_destination_with_the_same_properties_name_the_same_entity() -> None:
    sources, destinations = _property_shapes("source"), _property_shapes("destination")
    both = sorted(set(sources) & set(destinations))
    assert "Salesforce" in both  # (and SAPOData, CustomConnector... where the installed model has them)
    for member in both:
        for name in ENTITY_MEMBERS:
            if name in sources[member].members and name in destinations[member].members:
                props = {name: "/sap/opu/odata/sap/API_BP/A_BP" if name == "objectPath" else "Shared"}
                assert entity_of(_config("source", member, props)) == entity_of(_config("destination", member, props))
                assert entity_of(_config("source", member, props)) == props[name]


SAP_PROFILE = {
    "connectorProfileProperties": {"SAPOData": {
        "applicationHostUrl": "https://sap.example.com", "applicationServicePath": "/sap/opu/odata/sap/API",
        "portNumber": 443, "clientNumber": "100"}},
    "connectorProfileCredentials": {"SAPOData": {"basicAuthCredentials": {"username": "u", "password": "sap-secret"}}},
}


@requires_enum_value("ConnectorType", "SAPOData")
def test_what_one_flow_writes_to_an_sap_object_path_another_reads(client: Any, appflow_mock: Any) -> None:
    path = "/sap/opu/odata/sap/API_BP/A_BusinessPartner"
    rows = [{"BusinessPartner": "1", "Name": "Ada"}, {"BusinessPartner": "2", "Name": "Bob"}]
    appflow_mock.put_object("in-bucket", "data/bp.json", "".join(json.dumps(r) + "\n" for r in rows))
    client.create_connector_profile(connectorProfileName="sap", connectorType="SAPOData", connectionMode="Public",
                                    connectorProfileConfig=copy.deepcopy(SAP_PROFILE))
    client.create_flow(flowName="write-sap", triggerConfig={"triggerType": "OnDemand"},
                       sourceFlowConfig=s3_source("in-bucket", "data"),
                       destinationFlowConfigList=[{"connectorType": "SAPOData", "connectorProfileName": "sap",
                                                   "destinationConnectorProperties": {"SAPOData": {"objectPath": path}}}],
                       tasks=[map_all("S3")])
    _, written = _start(client, appflow_mock, "write-sap")
    assert written["executionStatus"] == "Successful", message(written)
    client.create_flow(flowName="read-sap", triggerConfig={"triggerType": "OnDemand"},
                       sourceFlowConfig={"connectorType": "SAPOData", "connectorProfileName": "sap",
                                         "sourceConnectorProperties": {"SAPOData": {"objectPath": path}}},
                       destinationFlowConfigList=[s3_destination("out-bucket", "exports", "JSON")],
                       tasks=[map_all("SAPOData")])
    delivered, read = _start(client, appflow_mock, "read-sap")
    assert read["executionStatus"] == "Successful", message(read)
    assert delivered == rows
    assert read["executionResult"]["recordsProcessed"] == len(rows)
