"""The emulator's clock stays where timestamps can show it, and a state document holds only finite
numbers (issue 17, items 6-7), through the handle in process: ``advance`` past 3000-01-01 is a
ValueError naming the bound, with freezegun and time-machine moving the process clock too; a
restored ``clock_offset`` that is NaN, infinite, negative or too far ahead is an InvalidStateError;
the schema and its compiled check both refuse NaN and the infinities wherever they take numbers."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Tuple

import boto3
import jsonschema
import pytest
import time_machine
from freezegun import freeze_time

from appflow_emu import InvalidStateError, mock_appflow
from appflow_emu.backend.state_schema import SCHEMA, is_valid
from tests.conftest import has_member
from tests.helpers import flow_request, map_all, s3_destination, s3_source
from tests.test_snapshots import build

LIMIT = dt.datetime(3000, 1, 1, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def make_flow(emu: Any, name: str = "f1") -> Any:
    client = boto3.client("appflow", region_name="us-east-1")
    emu.put_object("in-bucket", "data/rows.json", '{"id": "1"}\n')
    client.create_flow(**flow_request(name, source=s3_source(), destination=s3_destination(), tasks=map_all()))
    return client


@pytest.mark.parametrize("delta", [1e30, LIMIT.timestamp(), 10 ** 400, dt.timedelta.max])
def test_advance_past_the_bound_is_a_value_error_naming_it_and_moves_nothing(appflow_mock, delta) -> None:
    with freeze_time("2026-01-05 12:00:00"):
        before = appflow_mock.now()
        with pytest.raises(ValueError, match="3000-01-01T00:00:00Z"):
            appflow_mock.advance(delta)
        assert appflow_mock.now() == before


@pytest.mark.parametrize("travel", ["freezegun", "time-machine"])
def test_the_bound_holds_for_the_process_clock_plus_the_offset(appflow_mock, travel) -> None:
    start = LIMIT - 2 * DAY
    mover = freeze_time(start) if travel == "freezegun" else time_machine.travel(start, tick=False)
    with mover:
        client = make_flow(appflow_mock)
        appflow_mock.advance(DAY)  # the clock may go up to the bound
        assert appflow_mock.now() == (LIMIT - DAY).timestamp()
        with pytest.raises(ValueError, match="3000-01-01T00:00:00Z"):
            appflow_mock.advance(DAY)
        assert appflow_mock.now() == (LIMIT - DAY).timestamp()
        client.start_flow(flowName="f1")
        described = client.describe_flow(flowName="f1")  # botocore parses every timestamp
        assert described["lastRunExecutionDetails"]["mostRecentExecutionTime"] == LIMIT - DAY
        appflow_mock.restore(appflow_mock.snapshot())


def _restore_refused(emu: Any, document: Dict[str, Any], match: str) -> None:
    before = emu.snapshot()
    with pytest.raises(InvalidStateError, match=match):
        emu.restore(document)
    assert emu.snapshot() == before


@pytest.mark.parametrize("offset, match", [
    (float("nan"), "clock_offset: nan is not a finite number"),
    (float("inf"), "clock_offset: inf is greater than the maximum"),
    (float("-inf"), "clock_offset: -inf is less than the minimum"),
    (1e30, "clock_offset: 1e\\+30 is greater than the maximum"),
    (-1, "clock_offset: -1 is less than the minimum"),
    (10 ** 400, "clock_offset"),
    (LIMIT.timestamp() - 1, "clock_offset would move the emulator's clock to or past 3000-01-01T00:00:00Z"),
])
def test_a_restored_clock_offset_out_of_bounds_is_refused_and_later_reads_work(appflow_mock, offset, match) -> None:
    client = make_flow(appflow_mock)
    document = dict(appflow_mock.snapshot(), clock_offset=offset)
    _restore_refused(appflow_mock, document, match)
    json.dumps(appflow_mock.snapshot(), allow_nan=False)
    client.create_flow(**flow_request("f2", source=s3_source(), destination=s3_destination(), tasks=map_all()))
    assert client.describe_flow(flowName="f2")["createdAt"].year < 3000


# -- every number the schema takes is finite -------------------------------------------------------------

TIMES = {"created_at", "last_updated_at", "started_at", "data_pull_start", "data_pull_end", "activated_at",
         "last_tick", "incremental_mark", "registered_at", "due", "start", "at", "updated_at"}


def _numbers(value: Any, path: Tuple[Any, ...] = ()) -> List[Tuple[Any, ...]]:
    """One path to each place of the document holding a time (or the clock offset): not those
    inside records or AppFlow's own objects, which are data."""
    seen = set()
    out = []
    for found in _all_numbers(value, path):
        shape = tuple("*" if isinstance(part, int) else part for part in found)
        if shape not in seen:
            seen.add(shape)
            out.append(found)
    return out


def _all_numbers(value: Any, path: Tuple[Any, ...] = ()) -> List[Tuple[Any, ...]]:
    out: List[Tuple[Any, ...]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in TIMES or k == "clock_offset":
                out.append(path + (k,))
            elif k not in ("records", "rows", "result", "trigger_config", "source", "destinations", "tasks",
                           "answer", "notifications", "properties", "table", "partition", "final_result"):
                out += _all_numbers(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _all_numbers(v, path + (i,))
    return out


@pytest.fixture(scope="module")
def good_document() -> Dict[str, Any]:
    with freeze_time("2026-03-01T12:00:00Z"), mock_appflow() as emu:
        build(emu)
        emu.create_glue_database("db")
        return json.loads(json.dumps(emu.snapshot()))


def _with(document: Dict[str, Any], path: Tuple[Any, ...], value: Any) -> Dict[str, Any]:
    doc = json.loads(json.dumps(document))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return doc


def test_the_document_has_times_everywhere_the_schema_bounds_them(good_document) -> None:
    found = {path[-1] for path in _numbers(good_document)}
    expected = {"clock_offset", "created_at", "started_at", "due", "incremental_mark"}
    if has_member("CreateFlowRequest", "clientToken"):  # client tokens, kept with the time of their call
        expected.add("at")
    assert expected <= found


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 1e30, -1.0])
def test_both_checks_refuse_a_non_finite_or_out_of_range_time_at_every_place(good_document, value) -> None:
    validator = jsonschema.Draft7Validator(SCHEMA)
    paths = _numbers(good_document) + [("ids", "ids", 2), ("ids", "requests", 2)]  # the gaussian of random
    if value in (1e30, -1.0):  # in range for a gaussian; the embedded Glue's times are only finite
        paths = [p for p in paths if p[0] not in ("ids", "glue")]
    for path in paths:
        doc = _with(good_document, path, value)
        assert (is_valid(doc), validator.is_valid(doc)) == (False, False), path
    with mock_appflow() as emu:
        _restore_refused(emu, _with(good_document, paths[0], value), "does not match the schema")


@pytest.mark.parametrize("value", [0, 253402300799.999, None])
def test_both_checks_agree_on_finite_values_at_every_place(good_document, value) -> None:
    validator = jsonschema.Draft7Validator(SCHEMA)
    for path in _numbers(good_document) + [("ids", "ids", 2)]:
        doc = _with(good_document, path, value)
        assert is_valid(doc) == validator.is_valid(doc), path
