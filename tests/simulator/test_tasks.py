"""Tasks, end to end: Salesforce records seeded through the handle, a flow created and started
through boto3, the records an S3 (JSON) destination received read back through the handle.

Every task type and every operator of the model's SalesforceConnectorOperator enum is exercised
by at least one run; a few compile-level checks (odd inputs, speed of the generated code) call
``compile_tasks`` directly.  The filter semantics are also checked differentially, with hypothesis,
against a tiny independent reference implementation.
"""
from __future__ import annotations

import itertools
import json
import math
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appflow_emu import mock_appflow
from appflow_emu.simulator.plan import RecordFailure, RunFailure
from appflow_emu.simulator.tasks import compile_tasks
from tests.conftest import requires_enum_value, requires_member
from tests.helpers import profile_request, s3_destination, salesforce_source

SF = "Salesforce"
_names = itertools.count(1)


# -- building tasks ----------------------------------------------------------------------------

def task(task_type: str, op: str, sources: List[str], dest: Optional[str] = None, **props: str) -> Dict[str, Any]:
    t: Dict[str, Any] = {"sourceFields": list(sources), "connectorOperator": {SF: op}, "taskType": task_type,
                         "taskProperties": dict(props)}
    if dest is not None:
        t["destinationField"] = dest
    return t


def projection(*fields: str) -> Dict[str, Any]:
    return task("Filter", "PROJECTION", list(fields))


def map_(src: str, dest: Optional[str] = None, dtype: Optional[str] = None) -> Dict[str, Any]:
    props = {"DESTINATION_DATA_TYPE": dtype} if dtype else {}
    return task("Map", "NO_OP", [src], dest or src, **props)


def maps(*fields: str) -> List[Dict[str, Any]]:
    return [projection(*fields)] + [map_(f) for f in fields]


# -- running flows through boto3 and the handle -------------------------------------------------

class Runner:
    def __init__(self, emu: Any, client: Any) -> None:
        self.emu, self.client = emu, client
        client.create_connector_profile(**profile_request("sf", SF))
        emu.create_bucket("out-bucket")

    def run(self, tasks: List[Dict[str, Any]], records: List[Dict[str, Any]],
            entity: Optional[str] = None) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
        """One OnDemand run over ``records`` (seeded into a fresh custom object unless ``entity``
        names one seeded before)."""
        n = next(_names)
        name = f"tasks-flow-{n}"
        if entity is None:
            entity = f"Tasks{n}__c"
            self.emu.add_source_records(SF, entity, records)
        self.last_entity = entity
        self.client.create_flow(
            flowName=name, triggerConfig={"triggerType": "OnDemand"},
            sourceFlowConfig=salesforce_source("sf", entity),
            destinationFlowConfigList=[s3_destination("out-bucket", "exports", "JSON")], tasks=tasks)
        execution_id = self.client.start_flow(flowName=name)["executionId"]
        executions = self.client.describe_flow_execution_records(flowName=name)["flowExecutions"]
        execution = next(e for e in executions if e["executionId"] == execution_id)
        self.last_flow = name
        return self.emu.destination_records(name, execution_id), execution


@pytest.fixture
def runner(appflow_mock: Any) -> Runner:
    return Runner(appflow_mock, boto3.client("appflow", region_name="us-east-1"))


def ids(records: List[Dict[str, Any]]) -> List[Any]:
    return [r["Id"] for r in records]


def ok(execution: Dict[str, Any]) -> None:
    assert execution["executionStatus"] == "Successful", execution.get("executionResult")
    assert "errorInfo" not in execution["executionResult"]


def failed_records(execution: Dict[str, Any]) -> Tuple[int, str]:
    assert execution["executionStatus"] == "Error"
    info = execution["executionResult"]["errorInfo"]
    return info["putFailuresCount"], info["executionMessage"]


ACCOUNTS = [
    {"Id": "1", "Name": "Acme", "Amount": 50, "Phone": "555-0101", "Active": True, "Stage": "Open"},
    {"Id": "2", "Name": "Globex", "Amount": "150.5", "Phone": "555-0102", "Active": "false", "Stage": "Closed Won"},
    {"Id": "3", "Name": "Initech", "Amount": 100.0, "Phone": None, "Active": False, "Stage": "Closed Lost"},
    {"Id": "4", "Name": "Umbrella", "Amount": None, "Phone": "555-0104", "Active": True, "Stage": "Open"},
    {"Id": "5", "Name": "Hooli", "Amount": -20, "Phone": "555-0105", "Stage": "Prospect"},
]


# -- projection, Map, Map_all, Passthrough ------------------------------------------------------

def test_projection_and_map_deliver_only_mapped_fields(runner: Runner) -> None:
    delivered, execution = runner.run(maps("Id", "Name"), ACCOUNTS)
    ok(execution)
    assert delivered == [{"Id": r["Id"], "Name": r["Name"]} for r in ACCOUNTS]
    assert execution["executionResult"]["recordsProcessed"] == len(ACCOUNTS)


def test_the_projection_limits_map_all_to_the_projected_fields(runner: Runner) -> None:
    tasks = [projection("Id", "Stage"), task("Map_all", "NO_OP", [], "", EXCLUDE_SOURCE_FIELDS_LIST="[]")]
    delivered, execution = runner.run(tasks, ACCOUNTS[:2])
    ok(execution)
    assert delivered == [{"Id": "1", "Stage": "Open"}, {"Id": "2", "Stage": "Closed Won"}]


def test_fields_that_tasks_name_are_read_even_outside_the_projection(runner: Runner) -> None:
    # What cdk-appflow synthesizes for Mapping.concat and Mapping.add: only Map and Filter source
    # fields are projected (here the temporary "First,Last" / "A,B"), the Merge/Arithmetic inputs are
    # not, and the concat's Map has no destinationField.
    records = [{"Id": "1", "First": "Ada", "Last": "Lovelace", "A": 2, "B": 3}]
    tasks = [projection("Id", "First,Last", "A,B"), map_("Id"),
             task("Merge", "NO_OP", ["First", "Last"], "First,Last", CONCAT_FORMAT="${First} ${Last}"),
             {"sourceFields": ["First,Last"], "connectorOperator": {SF: "NO_OP"}, "taskType": "Map",
              "taskProperties": {"DESTINATION_DATA_TYPE": "string", "SOURCE_DATA_TYPE": "string"}},
             task("Arithmetic", "ADDITION", ["A", "B"], "A,B", MATH_OPERATION_FIELDS_ORDER="A,B"),
             map_("A,B", "Total", "double")]
    delivered, execution = runner.run(tasks, records)
    ok(execution)
    assert delivered == [{"Id": "1", "First,Last": "Ada Lovelace", "Total": 5.0}]
    assert compile_tasks(tasks, SF).fields_read == ["Id", "First,Last", "A,B", "First", "Last", "A", "B"]


def test_map_renames_and_converts(runner: Runner) -> None:
    records = [{"Id": 7, "Amount": "12", "Ratio": "0.25", "Flag": "TRUE", "When": "2024-01-02T03:04:05Z"}]
    tasks = [projection("Id", "Amount", "Ratio", "Flag", "When"),
             map_("Id", "account_id", "string"), map_("Amount", "amount", "integer"),
             map_("Ratio", "ratio", "double"), map_("Flag", "flag", "boolean"),
             map_("When", "when", "datetime")]
    delivered, execution = runner.run(tasks, records)
    ok(execution)
    assert delivered == [{"account_id": "7", "amount": 12, "ratio": 0.25, "flag": True,
                          "when": "2024-01-02T03:04:05Z"}]


@pytest.mark.parametrize("dtype, value, expected", [
    ("long", "9007199254740993", 9007199254740993),
    ("integer", 3.0, 3),
    ("integer", "1e3", 1000),
    ("decimal", "1.5", 1.5),
    ("currency", 2, 2.0),
    ("boolean", 0, False),
    ("string", False, "false"),
    ("string", 1.5, "1.5"),
    ("picklist", 12, "12"),
    ("date", "2024-01-02", "2024-01-02"),
])
def test_map_conversions(runner: Runner, dtype: str, value: Any, expected: Any) -> None:
    delivered, execution = runner.run([projection("Id", "V"), map_("V", "v", dtype)], [{"Id": "1", "V": value}])
    ok(execution)
    assert delivered == [{"v": expected}]
    assert type(delivered[0]["v"]) is type(expected)


@pytest.mark.parametrize("dtype, value", [
    ("integer", "abc"), ("integer", "4.5"), ("integer", 2 ** 31), ("long", 2 ** 63), ("double", "x1"),
    ("double", "NaN"), ("boolean", "maybe"), ("integer", "1_000"),
])
def test_a_value_that_cannot_be_converted_fails_that_record_only(runner: Runner, dtype: str, value: Any) -> None:
    records = [{"Id": "1", "V": "1"}, {"Id": "2", "V": value}, {"Id": "3", "V": "0"}]
    delivered, execution = runner.run([projection("Id", "V"), map_("Id"), map_("V", "v", dtype)], records)
    assert ids(delivered) == ["1", "3"]
    count, message = failed_records(execution)
    assert count == 1
    assert "Cannot convert value" in message and "field V" in message and f"DESTINATION_DATA_TYPE {dtype}" in message


def test_map_all_copies_everything_but_the_excluded_fields(runner: Runner) -> None:
    tasks = [task("Map_all", "NO_OP", [], "", EXCLUDE_SOURCE_FIELDS_LIST='["Phone","Active"]')]
    delivered, execution = runner.run(tasks, ACCOUNTS)
    ok(execution)
    assert delivered == [{k: v for k, v in r.items() if k not in ("Phone", "Active")} for r in ACCOUNTS]


def test_map_all_with_in_place_transforms_and_extra_maps(runner: Runner) -> None:
    tasks = [task("Map_all", "NO_OP", [], "", EXCLUDE_SOURCE_FIELDS_LIST="[]"),
             task("Mask", "MASK_ALL", ["Phone"], "Phone"),
             task("Merge", "NO_OP", ["Id", "Name"], "Id,Name", CONCAT_FORMAT="${Id}-${Name}"),
             map_("Id,Name", "Key")]
    delivered, execution = runner.run(tasks, ACCOUNTS[:3])
    ok(execution)
    assert delivered[0] == {**ACCOUNTS[0], "Phone": "********", "Key": "1-Acme"}
    assert delivered[2]["Phone"] is None  # null stays null
    assert "Id,Name" not in delivered[0]  # temporary fields appear only when mapped


@requires_enum_value("TaskType", "Passthrough")
def test_passthrough_copies_the_value_unchanged(runner: Runner) -> None:
    records = [{"Id": "1", "Nested": {"a": [1, 2]}, "N": 5}]
    tasks = [projection("Id", "Nested", "N"), map_("Id"), task("Passthrough", "NO_OP", ["Nested"], "nested"),
             task("Passthrough", "NO_OP", ["N"], "N")]
    delivered, execution = runner.run(tasks, records)
    ok(execution)
    assert delivered == [{"Id": "1", "nested": {"a": [1, 2]}, "N": 5}]


# -- value filters ------------------------------------------------------------------------------

def filtered(runner: Runner, op: str, field: str = "Amount", **props: str) -> List[Any]:
    tasks = [projection("Id", field), task("Filter", op, [field], **props), map_("Id")]
    delivered, execution = runner.run(tasks, ACCOUNTS)
    ok(execution)
    return ids(delivered)


@pytest.mark.parametrize("op, value, expected", [
    ("LESS_THAN", "100", ["1", "5"]),
    ("GREATER_THAN", "100", ["2"]),
    ("LESS_THAN_OR_EQUAL_TO", "100", ["1", "3", "5"]),
    ("GREATER_THAN_OR_EQUAL_TO", "100", ["2", "3"]),
    ("EQUAL_TO", "100", ["3"]),
    ("NOT_EQUAL_TO", "100", ["1", "2", "5"]),  # null Amount (4) never passes
])
def test_numeric_comparisons(runner: Runner, op: str, value: str, expected: List[str]) -> None:
    assert filtered(runner, op, DATA_TYPE="double", VALUE=value) == expected


def test_between_is_exclusive(runner: Runner) -> None:
    assert filtered(runner, "BETWEEN", DATA_TYPE="double", LOWER_BOUND="50", UPPER_BOUND="150.5") == ["3"]


def test_equal_to_with_values_matches_any(runner: Runner) -> None:
    assert filtered(runner, "EQUAL_TO", DATA_TYPE="integer", VALUES="50,-20") == ["1", "5"]
    assert filtered(runner, "NOT_EQUAL_TO", DATA_TYPE="integer", VALUES="50,-20") == ["2", "3"]


def test_string_filters(runner: Runner) -> None:
    assert filtered(runner, "EQUAL_TO", "Stage", DATA_TYPE="string", VALUE="Open") == ["1", "4"]
    assert filtered(runner, "EQUAL_TO", "Stage", DATA_TYPE="picklist", VALUES="Open,Prospect") == ["1", "4", "5"]
    assert filtered(runner, "CONTAINS", "Stage", DATA_TYPE="string", VALUE="Closed") == ["2", "3"]
    assert filtered(runner, "CONTAINS", "Stage", DATA_TYPE="string", VALUE="closed") == []  # case-sensitive
    assert filtered(runner, "LESS_THAN", "Stage", DATA_TYPE="string", VALUE="D") == ["2", "3"]


def test_boolean_filter(runner: Runner) -> None:
    # Active: True, "false", False, True, missing
    assert filtered(runner, "EQUAL_TO", "Active", DATA_TYPE="boolean", VALUE="true") == ["1", "4"]
    assert filtered(runner, "NOT_EQUAL_TO", "Active", DATA_TYPE="boolean", VALUE="true") == ["2", "3"]


def test_datetime_filter_normalises_record_values(runner: Runner) -> None:
    cut = datetime(2024, 6, 1, tzinfo=timezone.utc)
    cut_ms = str(int(cut.timestamp() * 1000))
    records = [
        {"Id": "iso-before", "Created": "2024-05-31T23:59:59Z"},
        {"Id": "iso-after", "Created": "2024-06-01T00:00:01.000+0000"},
        {"Id": "dt-after", "Created": datetime(2024, 7, 1, 12, 0)},  # naive: UTC
        {"Id": "ms-after", "Created": int(cut.timestamp() * 1000) + 1},
        {"Id": "s-before", "Created": cut.timestamp() - 1},
        {"Id": "str-ms-after", "Created": str(int(cut.timestamp() * 1000) + 5)},
        {"Id": "bad", "Created": "yesterday"},
        {"Id": "none", "Created": None},
    ]
    tasks = [projection("Id", "Created"), task("Filter", "GREATER_THAN", ["Created"], DATA_TYPE="datetime", VALUE=cut_ms),
             map_("Id")]
    delivered, execution = runner.run(tasks, records)
    ok(execution)
    assert ids(delivered) == ["iso-after", "dt-after", "ms-after", "str-ms-after"]

    day = 24 * 3600 * 1000
    tasks[1] = task("Filter", "BETWEEN", ["Created"], DATA_TYPE="date", LOWER_BOUND=str(int(cut_ms) - day),
                    UPPER_BOUND=str(int(cut_ms) + day))
    delivered, _ = runner.run(tasks, [], entity=runner.last_entity)
    assert ids(delivered) == ["iso-before", "iso-after", "ms-after", "s-before", "str-ms-after"]


def test_filters_and_together_and_missing_fields_never_pass(runner: Runner) -> None:
    tasks = [projection("Id", "Amount", "Stage"),
             task("Filter", "GREATER_THAN", ["Amount"], DATA_TYPE="double", VALUE="0"),
             task("Filter", "NOT_EQUAL_TO", ["Stage"], DATA_TYPE="string", VALUE="Closed Lost"),
             map_("Id")]
    delivered, execution = runner.run(tasks, ACCOUNTS + [{"Id": "6"}])
    ok(execution)
    assert ids(delivered) == ["1", "2"]


def test_filter_without_data_type_compares_numbers_when_the_value_is_numeric(runner: Runner) -> None:
    assert filtered(runner, "GREATER_THAN", VALUE="99") == ["2", "3"]  # "150.5" and 100.0 as numbers
    assert filtered(runner, "EQUAL_TO", "Name", VALUE="Acme") == ["1"]


# -- validations --------------------------------------------------------------------------------

@pytest.mark.parametrize("op, expected", [
    ("VALIDATE_NON_NULL", ["1", "2", "3", "5"]),
    ("VALIDATE_NON_NEGATIVE", ["1", "2", "3", "4"]),
    ("VALIDATE_NUMERIC", ["1", "2", "3", "4", "5"]),
    ("VALIDATE_NON_ZERO", ["1", "2", "3", "4", "5"]),
])
def test_validate_drop_record(runner: Runner, op: str, expected: List[str]) -> None:
    tasks = [projection("Id", "Amount"), task("Validate", op, ["Amount"], "Amount", VALIDATION_ACTION="DropRecord"),
             map_("Id")]
    delivered, execution = runner.run(tasks, ACCOUNTS)
    ok(execution)
    assert ids(delivered) == expected


def test_validate_numeric_and_non_zero_drop_what_they_should(runner: Runner) -> None:
    records = [{"Id": "a", "V": "12"}, {"Id": "b", "V": "twelve"}, {"Id": "c", "V": 0}, {"Id": "d", "V": "0.0"},
               {"Id": "e", "V": True}]
    base = [projection("Id", "V"), None, map_("Id")]
    base[1] = task("Validate", "VALIDATE_NUMERIC", ["V"], "V", VALIDATION_ACTION="DropRecord")
    assert ids(runner.run(base, records)[0]) == ["a", "c", "d"]
    base[1] = task("Validate", "VALIDATE_NON_ZERO", ["V"], "V", VALIDATION_ACTION="DropRecord")
    assert ids(runner.run(base, [], entity=runner.last_entity)[0]) == ["a", "b", "e"]


def test_validate_drop_dataset_ends_the_run_in_error(runner: Runner) -> None:
    tasks = [projection("Id", "Amount"),
             task("Validate", "VALIDATE_NON_NULL", ["Amount"], "Amount", VALIDATION_ACTION="DropDataset"),
             map_("Id")]
    delivered, execution = runner.run(tasks, ACCOUNTS)
    assert execution["executionStatus"] == "Error"
    message = execution["executionResult"]["errorInfo"]["executionMessage"]
    assert "Amount" in message and "VALIDATE_NON_NULL" in message and "DropDataset" in message
    assert delivered == []


def test_validate_without_action_keeps_the_record(runner: Runner) -> None:
    tasks = [projection("Id", "Amount"), task("Validate", "VALIDATE_NON_NULL", ["Amount"], "Amount"),
             task("Validate", "VALIDATE_NON_NEGATIVE", ["Amount"], "Amount", VALIDATION_ACTION="No action"),
             map_("Id")]
    delivered, execution = runner.run(tasks, ACCOUNTS)
    ok(execution)
    assert len(delivered) == len(ACCOUNTS)


def test_filters_pushed_to_the_source_run_before_validations(runner: Runner) -> None:
    # Salesforce applies GREATER_THAN in its query: the null Amount never comes back, so the
    # validation never sees it (an S3 source, which filters nothing itself, validates first:
    # tests/test_records_processed.py).
    tasks = [projection("Id", "Amount"),
             task("Filter", "GREATER_THAN", ["Amount"], DATA_TYPE="double", VALUE="0"),
             task("Validate", "VALIDATE_NON_NULL", ["Amount"], "Amount", VALIDATION_ACTION="DropDataset"),
             map_("Id")]
    delivered, execution = runner.run(tasks, ACCOUNTS)
    ok(execution)
    assert ids(delivered) == ["1", "2", "3"]  # "150.5" is a number to a double filter
    assert execution["executionResult"]["recordsProcessed"] == 3


# -- Mask, Truncate, Merge, Arithmetic -----------------------------------------------------------

def test_masks(runner: Runner) -> None:
    records = [{"Id": "1", "Card": "4111222233334444", "Ssn": "123-45-6789", "Pin": 4321, "Short": "ab"}]
    tasks = [projection("Id", "Card", "Ssn", "Pin", "Short"),
             task("Mask", "MASK_FIRST_N", ["Card"], "Card", MASK_LENGTH="12", MASK_VALUE="X"),
             task("Mask", "MASK_LAST_N", ["Ssn"], "Ssn", MASK_LENGTH="4", MASK_VALUE="#"),
             task("Mask", "MASK_ALL", ["Pin"], "Pin"),
             task("Mask", "MASK_LAST_N", ["Short"], "Short", MASK_LENGTH="10"),
             map_("Card"), map_("Ssn"), map_("Pin"), map_("Short")]
    delivered, execution = runner.run(tasks, records)
    ok(execution)
    assert delivered == [{"Card": "XXXXXXXXXXXX4444", "Ssn": "123-45-####", "Pin": "****", "Short": "**"}]


def test_truncate(runner: Runner) -> None:
    records = [{"Id": "1", "Desc": "abcdefghij"}, {"Id": "2", "Desc": "abc"}, {"Id": "3", "Desc": None}]
    tasks = [projection("Id", "Desc"), task("Truncate", "NO_OP", ["Desc"], "Desc", TRUNCATE_LENGTH="5"),
             map_("Desc")]
    delivered, execution = runner.run(tasks, records)
    ok(execution)
    assert delivered == [{"Desc": "abcde"}, {"Desc": "abc"}, {"Desc": None}]


def test_merge_concatenates_into_a_temporary_field_that_a_map_reads(runner: Runner) -> None:
    records = [{"Id": "1", "First": "Ada", "Last": "Lovelace"}, {"Id": "2", "First": "Plato", "Last": None}]
    tasks = [projection("Id", "First", "Last"),
             task("Merge", "NO_OP", ["First", "Last"], "First,Last", CONCAT_FORMAT="${First} ${Last}"),
             map_("Id"), map_("First,Last", "FullName", "string")]
    delivered, execution = runner.run(tasks, records)
    ok(execution)
    assert delivered == [{"Id": "1", "FullName": "Ada Lovelace"}, {"Id": "2", "FullName": "Plato "}]


def test_merge_sees_earlier_in_place_transforms(runner: Runner) -> None:
    records = [{"Id": "1", "First": "Ada", "Last": "Lovelace"}]
    tasks = [projection("Id", "First", "Last"),
             task("Truncate", "NO_OP", ["Last"], "Last", TRUNCATE_LENGTH="1"),
             task("Merge", "NO_OP", ["First", "Last"], "First,Last", CONCAT_FORMAT="${First} ${Last}."),
             map_("First,Last", "Short")]
    assert runner.run(tasks, records)[0] == [{"Short": "Ada L."}]


@pytest.mark.parametrize("op, order, expected", [
    ("ADDITION", "A,B", 13),
    ("SUBTRACTION", "A,B", 7),
    ("SUBTRACTION", "B,A", -7),
    ("MULTIPLICATION", "A,B", 30),
    ("DIVISION", "A,B", 10 / 3),
    ("DIVISION", "B,A", 0.3),
])
def test_arithmetic(runner: Runner, op: str, order: str, expected: Any) -> None:
    records = [{"Id": "1", "A": 10, "B": "3"}]
    tasks = [projection("Id", "A", "B"),
             task("Arithmetic", op, ["A", "B"], "A,B", MATH_OPERATION_FIELDS_ORDER=order),
             map_("A,B", "Result")]
    delivered, execution = runner.run(tasks, records)
    ok(execution)
    assert delivered[0]["Result"] == pytest.approx(expected)


def test_arithmetic_failures_fail_the_record(runner: Runner) -> None:
    records = [{"Id": "1", "A": 10, "B": 2}, {"Id": "2", "A": 10, "B": 0}, {"Id": "3", "A": "ten", "B": 1},
               {"Id": "4", "A": 1, "B": None}]
    tasks = [projection("Id", "A", "B"),
             task("Arithmetic", "DIVISION", ["A", "B"], "A,B", MATH_OPERATION_FIELDS_ORDER="A,B"),
             map_("Id"), map_("A,B", "Q", "double")]
    delivered, execution = runner.run(tasks, records)
    assert delivered == [{"Id": "1", "Q": 5.0}]
    count, message = failed_records(execution)
    assert count == 3
    assert "division by zero" in message


# -- Partition ----------------------------------------------------------------------------------

@requires_enum_value("TaskType", "Partition")
def test_partition_keys_leave_records_unchanged_and_partition_the_output(runner: Runner) -> None:
    tasks = maps("Id", "Stage") + [task("Partition", "NO_OP", [], "", ORDERED_PARTITION_KEYS_LIST='["Stage"]')]
    delivered, execution = runner.run(tasks, ACCOUNTS)
    ok(execution)
    assert sorted(delivered, key=lambda r: r["Id"]) == [{"Id": r["Id"], "Stage": r["Stage"]} for r in ACCOUNTS]
    keys = runner.emu.list_objects("out-bucket", "exports/")
    assert any("Stage=Open/" in k for k in keys), keys


# -- an S3 source: CSV text values, Map tasks alone (no projection needed) ----------------------

@requires_member("S3SourceProperties", "s3InputFormatConfig")
def test_s3_csv_source_with_map_tasks_only(runner: Runner) -> None:
    runner.emu.put_object("in-bucket", "data/part-1.csv", "id,amount,active\n1,10,true\n2,250,false\n3,x,true\n")
    s3 = "S3"
    tasks = [{"sourceFields": ["amount"], "connectorOperator": {s3: "GREATER_THAN"}, "taskType": "Filter",
              "taskProperties": {"DATA_TYPE": "integer", "VALUE": "5"}},
             {"sourceFields": ["id"], "connectorOperator": {s3: "NO_OP"}, "destinationField": "id", "taskType": "Map",
              "taskProperties": {"DESTINATION_DATA_TYPE": "integer"}},
             {"sourceFields": ["amount"], "connectorOperator": {s3: "NO_OP"}, "destinationField": "amount",
              "taskType": "Map", "taskProperties": {"DESTINATION_DATA_TYPE": "double"}},
             {"sourceFields": ["active"], "connectorOperator": {s3: "NO_OP"}, "destinationField": "active",
              "taskType": "Map", "taskProperties": {"DESTINATION_DATA_TYPE": "boolean"}}]
    runner.client.create_flow(
        flowName="s3-tasks", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {
            "S3": {"bucketName": "in-bucket", "bucketPrefix": "data", "s3InputFormatConfig": {"s3InputFileType": "CSV"}}}},
        destinationFlowConfigList=[s3_destination("out-bucket", "exports", "JSON")], tasks=tasks)
    execution_id = runner.client.start_flow(flowName="s3-tasks")["executionId"]
    ok(runner.client.describe_flow_execution_records(flowName="s3-tasks")["flowExecutions"][0])
    assert runner.emu.destination_records("s3-tasks", execution_id) == [
        {"id": 1, "amount": 10.0, "active": True}, {"id": 2, "amount": 250.0, "active": False}]


# -- compile level: the attributes, odd inputs, failures -----------------------------------------

def test_compiled_attributes() -> None:
    compiled = compile_tasks(maps("Id", "Name") + [
        task("Partition", "NO_OP", [], "", ORDERED_PARTITION_KEYS_LIST='["Name", "Id"]')], SF)
    assert compiled.fields_read == ["Id", "Name"]
    assert compiled.partition_keys == ["Name", "Id"]
    compiled = compile_tasks([task("Map_all", "NO_OP", [], "", EXCLUDE_SOURCE_FIELDS_LIST="[]")], SF)
    assert compiled.fields_read is None and compiled.partition_keys == []


@pytest.mark.parametrize("tasks, fragment", [
    ([task("Filter", "LESS_THAN", ["A"], DATA_TYPE="double")], "needs VALUE"),
    ([task("Filter", "LESS_THAN", ["A"], DATA_TYPE="double", VALUE="abc")], "not a valid double"),
    ([task("Filter", "LESS_THAN", ["A"], DATA_TYPE="double", VALUES="1,2")], "exactly one value"),
    ([task("Filter", "BETWEEN", ["A"], DATA_TYPE="double", LOWER_BOUND="1")], "UPPER_BOUND"),
    ([task("Filter", "NO_OP", ["A"])], "cannot filter"),
    ([task("Validate", "VALIDATE_NUMERIC", ["A"], VALIDATION_ACTION="Explode")], "VALIDATION_ACTION"),
    ([task("Mask", "MASK_FIRST_N", ["A"])], "MASK_LENGTH is required"),
    ([task("Mask", "MASK_ALL", ["A"], MASK_VALUE="ab")], "one character"),
    ([task("Truncate", "NO_OP", ["A"], TRUNCATE_LENGTH="-1")], "non-negative"),
    ([task("Arithmetic", "ADDITION", ["A"], "A")], "two source fields"),
    ([task("Map_all", "NO_OP", [], EXCLUDE_SOURCE_FIELDS_LIST="not json")], "JSON array"),
    ([task("Partition", "NO_OP", [], ORDERED_PARTITION_KEYS_LIST='{"a": 1}')], "JSON array"),
    ([task("Teleport", "NO_OP", ["A"])], "unknown task type"),
    ([{"taskType": "Map", "sourceFields": [1]}], "list of strings"),
    (["not a task"], "not an object"),
    ("not a list", "must be a list"),
    ([{"taskType": "Map", "sourceFields": ["A"], "connectorOperator": {"S3": "NO_OP", "Zendesk": "NO_OP"}}],
     "several members"),
])
def test_task_lists_that_cannot_run_raise_run_failure(tasks: Any, fragment: str) -> None:
    with pytest.raises(RunFailure) as info:
        compile_tasks(tasks, SF)
    assert fragment in info.value.message


def test_bad_task_list_ends_the_run_in_error(runner: Runner) -> None:
    tasks = maps("Id") + [task("Mask", "MASK_ALL", ["Id"], "Id", MASK_VALUE="**")]
    delivered, execution = runner.run(tasks, ACCOUNTS)
    assert execution["executionStatus"] == "Error"
    assert "MASK_VALUE must be one character" in execution["executionResult"]["errorInfo"]["executionMessage"]
    assert delivered == []


def test_odd_records_fail_alone_and_the_stream_goes_on() -> None:
    compiled = compile_tasks(maps("Id") + [task("Mask", "MASK_ALL", ["Id"], "Id")], SF)
    failures: List[RecordFailure] = []
    out = list(compiled([{"Id": "ab"}, "junk", None, {"Id": 12}, {"Id": None}], failures.append))
    assert out == [{"Id": "**"}, {"Id": "**"}, {"Id": None}]
    assert len(failures) == 2 and all("not an object" in f.message for f in failures)


def test_without_a_callback_a_failure_is_raised_and_calling_again_resumes() -> None:
    compiled = compile_tasks([projection("V"), map_("V", "v", "integer")], SF)
    it = iter([{"V": "1"}, {"V": "x"}, {"V": "3"}])
    gen = compiled(it)
    assert next(gen) == {"v": 1}
    with pytest.raises(RecordFailure) as info:
        next(gen)
    assert info.value.record == {"V": "x"}
    assert list(compiled(it)) == [{"v": 3}]


def test_records_are_not_mutated_and_field_names_are_data_not_code() -> None:
    weird = "x'); import os; ('"
    compiled = compile_tasks([projection(weird, "B"), task("Mask", "MASK_ALL", [weird], weird),
                              map_(weird, "out\n'\"")], SF)
    record = {weird: "secret", "B": 1}
    assert list(compiled([record])) == [{"out\n'\"": "******"}]
    assert record == {weird: "secret", "B": 1}


def test_decimal_values() -> None:
    compiled = compile_tasks([projection("V"), task("Filter", "GREATER_THAN", ["V"], DATA_TYPE="currency", VALUE="1.5"),
                              map_("V", "v", "double")], SF)
    assert list(compiled([{"V": Decimal("1.25")}, {"V": Decimal("2.5")}])) == [{"v": 2.5}]


# -- differential: numeric filters against a tiny reference ---------------------------------------

def reference_passes(op: str, value: Any, c: float, lo: float, hi: float) -> bool:
    """Independent spelling of the numeric filter rules: null / non-numeric never passes."""
    if value is None or isinstance(value, bool):
        return False
    try:
        x = float(value)
    except (TypeError, ValueError):
        return False
    if math.isnan(x) or math.isinf(x):
        return False
    return {"EQUAL_TO": x == c, "NOT_EQUAL_TO": x != c, "LESS_THAN": x < c, "GREATER_THAN": x > c,
            "LESS_THAN_OR_EQUAL_TO": x <= c, "GREATER_THAN_OR_EQUAL_TO": x >= c, "BETWEEN": lo < x < hi}[op]


SMALL = st.integers(-50, 50)
NUMBERS = st.one_of(SMALL, SMALL.map(lambda n: n / 4), st.floats(-60, 60, allow_nan=False))
VALUES = st.one_of(NUMBERS, NUMBERS.map(str), st.none(), st.just("abc"), st.just(""), st.booleans(),
                   st.just(float("nan")))
OPS = st.sampled_from(["EQUAL_TO", "NOT_EQUAL_TO", "LESS_THAN", "GREATER_THAN", "LESS_THAN_OR_EQUAL_TO",
                       "GREATER_THAN_OR_EQUAL_TO", "BETWEEN"])


@settings(max_examples=200, deadline=None, database=None)
@given(op=OPS, c=SMALL, lo=SMALL, hi=SMALL, dtype=st.sampled_from(["double", "integer", "long", "number"]),
       values=st.lists(VALUES, max_size=12))
def test_numeric_filters_match_the_reference(op: str, c: int, lo: int, hi: int, dtype: str,
                                             values: List[Any]) -> None:
    props = {"DATA_TYPE": dtype, "LOWER_BOUND": str(lo), "UPPER_BOUND": str(hi)} if op == "BETWEEN" else \
        {"DATA_TYPE": dtype, "VALUE": str(c)}
    compiled = compile_tasks([projection("i", "v"), task("Filter", op, ["v"], **props), map_("i")], SF)
    records = [{"i": i, "v": v} for i, v in enumerate(values)]
    got = [r["i"] for r in compiled(records)]
    want = [i for i, v in enumerate(values) if reference_passes(op, v, c, lo, hi)]
    assert got == want


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(op=OPS, c=SMALL, values=st.lists(st.one_of(SMALL, SMALL.map(str), st.none()), min_size=1, max_size=6))
def test_numeric_filters_match_the_reference_end_to_end(op: str, c: int, values: List[Any]) -> None:
    lo, hi = c - 10, c + 10
    props = {"DATA_TYPE": "double", "LOWER_BOUND": str(lo), "UPPER_BOUND": str(hi)} if op == "BETWEEN" else \
        {"DATA_TYPE": "double", "VALUE": str(c)}
    with mock_appflow() as emu:
        runner = Runner(emu, boto3.client("appflow", region_name="us-east-1"))
        records = [{"Id": str(i), "V": v} for i, v in enumerate(values)]
        delivered, execution = runner.run([projection("Id", "V"), task("Filter", op, ["V"], **props), map_("Id")],
                                          records)
    ok(execution)
    assert ids(delivered) == [str(i) for i, v in enumerate(values) if reference_passes(op, v, c, lo, hi)]


# -- speed: the generated code against a hand-written loop ---------------------------------------

def test_compiled_tasks_match_a_hand_written_loop() -> None:
    fields = ["Id", "Name", "Amount", "Phone", "Industry", "City"]
    tasks = [projection(*fields), task("Filter", "GREATER_THAN", ["Amount"], DATA_TYPE="double", VALUE="100"),
             task("Mask", "MASK_LAST_N", ["Phone"], "Phone", MASK_LENGTH="4")]
    tasks += [map_(f, f, "double" if f == "Amount" else "string") for f in fields]
    compiled = compile_tasks(tasks, SF)
    records = [{"Id": str(i), "Name": f"n{i}", "Amount": float(i % 1000), "Phone": "555-%04d" % (i % 10000),
                "Industry": "x", "City": "y", "Other": 1} for i in range(20000)]

    def hand(rs: Any) -> Any:
        for r in rs:
            a = r.get("Amount")
            if a is None:
                continue
            if type(a) is not float and type(a) is not int:
                try:
                    a = float(a)
                except ValueError:
                    continue
            if not a > 100:
                continue
            p = r.get("Phone")
            if p is not None:
                p = str(p)
                k = min(4, len(p))
                p = p[:len(p) - k] + "*" * k
            yield {"Id": r.get("Id"), "Name": r.get("Name"), "Amount": float(a), "Phone": p,
                   "Industry": r.get("Industry"), "City": r.get("City")}

    assert list(compiled(records)) == list(hand(records))

    assert json.dumps(next(iter(compiled(records))))  # output is plain JSON-able data


# -- never a raw exception: random task lists over random records --------------------------------

FIELD_NAMES = st.sampled_from(["A", "B", "C", "A,B", "", "x y", "${A}"])
PROP_VALUES = st.one_of(st.sampled_from(["1", "-2.5", "0", "abc", "", "true", '["A"]', "[]", "A,B", "${A}-${B}",
                                         "DropRecord", "DropDataset", "No action", "*", "##", "1700000000000",
                                         "2024-01-01T00:00:00Z", "string", "double", "integer", "boolean",
                                         "datetime", "{", "1e400", "nan"]),
                        st.text(max_size=5))
PROPS = st.dictionaries(st.sampled_from(["VALUE", "VALUES", "DATA_TYPE", "UPPER_BOUND", "LOWER_BOUND",
                                         "DESTINATION_DATA_TYPE", "VALIDATION_ACTION", "MASK_VALUE", "MASK_LENGTH",
                                         "TRUNCATE_LENGTH", "MATH_OPERATION_FIELDS_ORDER", "CONCAT_FORMAT",
                                         "EXCLUDE_SOURCE_FIELDS_LIST", "ORDERED_PARTITION_KEYS_LIST"]),
                        PROP_VALUES, max_size=4)
OPERATORS = st.sampled_from(["PROJECTION", "LESS_THAN", "GREATER_THAN", "CONTAINS", "BETWEEN", "LESS_THAN_OR_EQUAL_TO",
                             "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO", "NOT_EQUAL_TO", "ADDITION", "MULTIPLICATION",
                             "DIVISION", "SUBTRACTION", "MASK_ALL", "MASK_FIRST_N", "MASK_LAST_N", "VALIDATE_NON_NULL",
                             "VALIDATE_NON_ZERO", "VALIDATE_NON_NEGATIVE", "VALIDATE_NUMERIC", "NO_OP"])
TASK_TYPES = st.sampled_from(["Arithmetic", "Filter", "Map", "Map_all", "Mask", "Merge", "Passthrough", "Truncate",
                              "Validate", "Partition"])
TASKS = st.lists(st.builds(lambda tt, op, src, dest, props: task(tt, op, src, dest, **props),
                           TASK_TYPES, OPERATORS, st.lists(FIELD_NAMES, max_size=3), st.none() | FIELD_NAMES, PROPS),
                 max_size=6)
RECORD_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6),
                          st.datetimes(), st.decimals(allow_nan=True), st.lists(st.integers(), max_size=2),
                          st.just(Decimal("sNaN")))
RECORDS = st.lists(st.one_of(st.dictionaries(FIELD_NAMES, RECORD_VALUES, max_size=4), st.none(), st.integers()),
                   max_size=5)


@settings(max_examples=300, deadline=None, database=None)
@given(tasks=TASKS, records=RECORDS)
def test_random_task_lists_never_raise_anything_but_the_simulator_failures(tasks: List[Dict[str, Any]],
                                                                           records: List[Any]) -> None:
    try:
        compiled = compile_tasks(tasks, SF)
    except RunFailure as failure:
        assert failure.message.startswith("Task Validation Error")
        return
    failures: List[RecordFailure] = []
    try:
        out = list(compiled(records, failures.append))
    except RunFailure as failure:
        assert "DropDataset" in failure.message
        return
    assert all(isinstance(r, dict) for r in out)
    assert len(out) + len(failures) <= len(records)
