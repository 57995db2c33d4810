"""Every event the emulator sends a custom connector is one AWS's SDK reads: a property test over
generated flows (Filter tasks of every operator and type, values with quotes, backslashes and
non-ASCII text, runtime settings, write operations), run through the SDK connector of
tests/connectors/memory_connector.py. Each event passes the matching ``*Request.from_dict`` of
``custom_connector_sdk.lambda_handler.requests``, and each ``filterExpression`` parses with the SDK's
own parser, its lexer included."""
from __future__ import annotations

import json
import string
from typing import Any, Dict, List

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appflow_emu import mock_appflow
from tests.conftest import require_custom_connector_sdk, requires_enum_value, requires_operation

require_custom_connector_sdk()
requests = pytest.importorskip("custom_connector_sdk.lambda_handler.requests")
parse_tree_builder = pytest.importorskip("custom_connector_queryfilter.queryfilter.parse_tree_builder")
memory = pytest.importorskip("tests.connectors.memory_connector")
pytestmark = [requires_operation("RegisterConnector", "ListConnectors", "DescribeConnector"),
              requires_enum_value("ConnectorType", "CustomConnector")]

ARN = "arn:aws:lambda:us-east-1:123456789012:function:memory"
TYPES = {"Name": "string", "Industry": "string", "Employees": "integer", "AnnualRevenue": "double",
         "IsActive": "boolean", "CreatedDate": "date", "LastModified": "datetime"}
OPERATORS = {"string": ["EQUAL_TO", "NOT_EQUAL_TO", "CONTAINS"],
             "boolean": ["EQUAL_TO", "NOT_EQUAL_TO"],
             "integer": ["LESS_THAN", "GREATER_THAN", "LESS_THAN_OR_EQUAL_TO", "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO",
                         "NOT_EQUAL_TO", "BETWEEN"]}
OPERATORS["double"] = OPERATORS["date"] = OPERATORS["datetime"] = OPERATORS["integer"]

# no line breaks: AppFlow's model takes taskProperties values matching .+ (Java's dot stops at them)
TEXT = st.text(alphabet=st.sampled_from(list(string.ascii_letters + string.digits + " '\"\\,\t-_.") +
                                        ["é", "ß", "日", "😀"]), max_size=12)
NONEMPTY = TEXT.filter(bool)  # taskProperties values match .+ (the model)
VALUES = {"string": NONEMPTY, "boolean": st.sampled_from(["true", "false", "TRUE", "yes"]),
          "integer": st.one_of(st.integers(-10**6, 10**6).map(str), NONEMPTY),
          "double": st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr), NONEMPTY),
          "date": st.integers(0, 4102444800000).map(str),
          "datetime": st.one_of(st.integers(-62135596800000, 253402300799000).map(str),
                                st.sampled_from(["2024-06-01T00:00:00Z", "not a time"]))}


@st.composite
def filter_task(draw: Any) -> Dict[str, Any]:
    field = draw(st.sampled_from(sorted(TYPES)))
    kind = TYPES[field]
    op = draw(st.sampled_from(OPERATORS[kind]))
    props: Dict[str, str] = {"DATA_TYPE": kind}
    if op == "BETWEEN":
        props["LOWER_BOUND"], props["UPPER_BOUND"] = draw(VALUES[kind]), draw(VALUES[kind])
    elif op in ("EQUAL_TO", "NOT_EQUAL_TO", "CONTAINS") and draw(st.booleans()):
        props["VALUES"] = ",".join(draw(st.lists(VALUES[kind].filter(lambda v: "," not in v and v.strip()),
                                                 min_size=1, max_size=3)))
    else:
        props["VALUE"] = draw(VALUES[kind])
    return {"taskType": "Filter", "sourceFields": [field], "connectorOperator": {"CustomConnector": op},
            "taskProperties": props}


class Recording:
    """The connector's Lambda handler, recording every event after checking it as the SDK reads it."""

    def __init__(self) -> None:
        self.connector = memory.MemoryConnector()
        self.events: List[Dict[str, Any]] = []
        self.problems: List[str] = []  # a handler's exception only fails a run: collected, then asserted

    def __call__(self, event: Dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        try:
            getattr(requests, event["type"]).from_dict(event)
            expression = event.get("filterExpression")
            if expression is not None:
                parse_strictly(expression)
        except Exception as e:  # noqa: BLE001 - reported below, with the event
            self.problems.append(f"{type(e).__name__}: {e} in {json.dumps(event)[:500]}")
        return self.connector.lambda_handler(event, context)


def parse_strictly(expression: str) -> None:
    """The SDK's ``parse`` reports parser errors only; the lexer's go to stderr: fail on both."""
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.error.ErrorListener import ErrorListener
    from custom_connector_queryfilter.queryfilter.antlr.CustomConnectorQueryFilterLexer import (
        CustomConnectorQueryFilterLexer,
    )

    class Fail(ErrorListener):
        def syntaxError(self, *args: Any) -> None:  # noqa: N802 - ANTLR's name
            raise AssertionError(f"the lexer refused {expression!r}: {args[-2]}")

    lexer = CustomConnectorQueryFilterLexer(InputStream(expression))
    lexer.removeErrorListeners()
    lexer.addErrorListener(Fail())
    CommonTokenStream(lexer).fill()
    parse_tree_builder.parse(expression)


def profile(client: Any) -> None:
    client.create_connector_profile(
        connectorProfileName="memory", connectorType="CustomConnector", connectorLabel="memory",
        connectionMode="Public", connectorProfileConfig={
            "connectorProfileProperties": {"CustomConnector": {"profileProperties": {"instanceUrl": "https://m"}}},
            "connectorProfileCredentials": {"CustomConnector": {"authenticationType": "APIKEY",
                                                                "apiKey": {"apiKey": "k"}}}})


PROPERTY_KEYS = st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=8)
# customProperties values match \S+ (the model): no whitespace
PROPERTIES = st.dictionaries(PROPERTY_KEYS, TEXT.map(lambda v: "".join(v.split())).filter(bool), max_size=3)


def test_every_event_is_one_the_sdk_reads() -> None:
    """One emulator (and connector) for every generated example; each example creates its flows
    under new names."""
    handler = Recording()
    with mock_appflow() as emu:
        emu.register_lambda(ARN, handler)
        emu.create_bucket("out-bucket")
        emu.put_object("out-bucket", "in/accounts.jsonl", "\n".join(json.dumps(
            {"Id": f"A00{i}", "Name": f"N{i}'\"\\é", "Employees": str(i)}) for i in range(1, 4)))
        client = boto3.client("appflow", region_name="us-east-1")
        client.register_connector(connectorLabel="memory", connectorProvisioningType="LAMBDA",
                                  connectorProvisioningConfig={"lambda": {"lambdaArn": ARN}})
        profile(client)
        client.list_connector_entities(connectorProfileName="memory")
        client.describe_connector_entity(connectorProfileName="memory", connectorEntityName="Contact")
        examples = iter(range(10**6))

        @settings(max_examples=30, deadline=None, database=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(filters=st.lists(filter_task(), max_size=4), source_properties=PROPERTIES,
               destination_properties=PROPERTIES, operation=st.sampled_from(["INSERT", "UPSERT", "UPDATE", "DELETE"]),
               fail_fast=st.booleans())
        def runs(filters: List[Dict[str, Any]], source_properties: Dict[str, str],
                 destination_properties: Dict[str, str], operation: str, fail_fast: bool) -> None:
            n = next(examples)
            fields = sorted(TYPES)
            client.create_flow(
                flowName=f"out{n}", triggerConfig={"triggerType": "OnDemand"},
                sourceFlowConfig={"connectorType": "CustomConnector", "connectorProfileName": "memory",
                                  "sourceConnectorProperties": {"CustomConnector": {
                                      "entityName": "Account", "customProperties": source_properties}}},
                destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {
                    "S3": {"bucketName": "out-bucket"}}}],
                tasks=[{"taskType": "Filter", "sourceFields": fields,
                        "connectorOperator": {"CustomConnector": "PROJECTION"}},
                       *filters, *[{"taskType": "Map", "sourceFields": [f], "destinationField": f,
                                    "connectorOperator": {"CustomConnector": "NO_OP"}} for f in fields]])
            client.start_flow(flowName=f"out{n}")
            client.create_flow(
                flowName=f"back{n}", triggerConfig={"triggerType": "OnDemand"},
                sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {"S3": {
                    "bucketName": "out-bucket", "bucketPrefix": "in"}}},
                destinationFlowConfigList=[{"connectorType": "CustomConnector", "connectorProfileName": "memory",
                                            "destinationConnectorProperties": {"CustomConnector": {
                                                "entityName": "Account", "writeOperationType": operation,
                                                **({"idFieldNames": ["Id"]} if operation != "INSERT" else {}),
                                                "errorHandlingConfig": {"failOnFirstDestinationError": fail_fast},
                                                "customProperties": destination_properties}}}],
                tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"},
                        "taskProperties": {}}])
            client.start_flow(flowName=f"back{n}")
            assert not handler.problems, handler.problems[0]

        runs()
    kinds = {e["type"] for e in handler.events}
    assert {"DescribeConnectorConfigurationRequest", "ValidateCredentialsRequest", "ValidateConnectorRuntimeSettingsRequest",
            "ListEntitiesRequest", "DescribeEntityRequest", "QueryDataRequest", "WriteDataRequest"} <= kinds
    assert any(e.get("filterExpression") for e in handler.events)
