#!/usr/bin/env python
"""A custom connector on AWS's Lambda protocol against the same records from the plug-in shortcut:
100,000 records read from a custom connector source, PROJECTION + Map tasks, one S3 JSON-lines file.

- floor: ``InMemoryConnector`` plugged in with ``emu.register_connector_implementation`` (the
  emulator calls Python methods, records are dicts);
- Lambda: a connector written with AWS's ``custom-connector-sdk`` (``BaseLambdaConnectorHandler``)
  holding the same records, registered with ``emu.register_lambda``: AppFlow sends a
  DescribeEntityRequest, then QueryDataRequests page after page (1,000 records a page, as the SDK
  asks by default); the connector answers records as JSON strings; every event and answer goes
  through ``json.dumps``/``json.loads`` as the Lambda service carries them.

    python benchmarks/bench_custom_connector.py            # 100,000 records, 5 repeats
    python benchmarks/bench_custom_connector.py --quick    # 20,000 records, 3 repeats (CI smoke run)
    python benchmarks/bench_custom_connector.py --no-fail  # report only

Budget: the Lambda run's ``start_flow`` (the whole API call) takes at most 1.5x the floor's (median
of the paired ratios, runs interleaved). The JSON round trips are the real protocol's cost: the
connector's ``json.dumps`` of each record, the answer's trip through JSON, AppFlow's ``json.loads``
of each record; nothing else should add. The exit status is 1 if the budget fails, unless ``--no-fail``.
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from typing import Any, Dict, List

from common import Results, offline_environment

BUDGET = 1.5
PAGE = 1000
FIELDS = ["id", "name", "email", "amount", "country"]
ARN = "arn:aws:lambda:us-east-1:123456789012:function:bench-connector"


def make_records(n: int) -> List[Dict[str, Any]]:
    countries = ("DE", "FR", "US", "JP")
    return [{"id": str(i), "name": f"customer {i}", "email": f"user{i}@example.com",
             "amount": (i * 37) % 1000 + (i % 100) / 100, "country": countries[i % 4]} for i in range(n)]


def sdk_connector(records: List[Dict[str, Any]]) -> Any:
    """A connector as an author writes it with the SDK: one entity, pages of ``max_results``."""
    from custom_connector_sdk.connector.auth import AuthenticationConfig
    from custom_connector_sdk.connector.configuration import ConnectorModes
    from custom_connector_sdk.connector.context import Entity, EntityDefinition
    from custom_connector_sdk.connector.fields import FieldDataType, FieldDefinition
    from custom_connector_sdk.lambda_handler import responses
    from custom_connector_sdk.lambda_handler.handlers import ConfigurationHandler, MetadataHandler, RecordHandler
    from custom_connector_sdk.lambda_handler.lambda_handler import BaseLambdaConnectorHandler

    types = {"amount": FieldDataType.Double}
    definition = EntityDefinition(Entity("Customer", False, True, "Customer"),
                                  [FieldDefinition(f, types.get(f, FieldDataType.String)) for f in FIELDS])

    class Configuration(ConfigurationHandler):
        def validate_connector_runtime_settings(self, request: Any) -> Any:
            return responses.ValidateConnectorRuntimeSettingsResponse(is_success=True)

        def validate_credentials(self, request: Any) -> Any:
            return responses.ValidateCredentialsResponse(is_success=True)

        def describe_connector_configuration(self, request: Any) -> Any:
            return responses.DescribeConnectorConfigurationResponse(
                connector_owner="bench", connector_name="Bench", connector_version="1.0",
                connector_modes=[ConnectorModes.SOURCE], supported_api_versions=["v1"], is_success=True,
                authentication_config=AuthenticationConfig(is_api_key_auth_supported=True))

    class Metadata(MetadataHandler):
        def list_entities(self, request: Any) -> Any:
            return responses.ListEntitiesResponse(is_success=True, entities=[definition.entity])

        def describe_entity(self, request: Any) -> Any:
            return responses.DescribeEntityResponse(is_success=True, entity_definition=definition)

    class Records(RecordHandler):
        def query_data(self, request: Any) -> Any:
            start = int(request.next_token or 0)
            end = start + request.max_results
            page = [json.dumps({f: r[f] for f in request.selected_field_names}) for r in records[start:end]]
            return responses.QueryDataResponse(is_success=True, records=page,
                                               next_token=str(end) if end < len(records) else None)

        def retrieve_data(self, request: Any) -> Any:
            raise NotImplementedError

        def write_data(self, request: Any) -> Any:
            raise NotImplementedError

    class Connector(BaseLambdaConnectorHandler):
        def __init__(self) -> None:
            super().__init__(Metadata(), Records(), Configuration())

    return Connector()


def flow_request(name: str, profile: str) -> Dict[str, Any]:
    tasks = [{"taskType": "Filter", "sourceFields": FIELDS, "connectorOperator": {"CustomConnector": "PROJECTION"}}]
    tasks += [{"taskType": "Map", "sourceFields": [f], "destinationField": f,
               "connectorOperator": {"CustomConnector": "NO_OP"}} for f in FIELDS]
    return dict(flowName=name, triggerConfig={"triggerType": "OnDemand"},
                sourceFlowConfig={"connectorType": "CustomConnector", "connectorProfileName": profile,
                                  "sourceConnectorProperties": {"CustomConnector": {"entityName": "Customer"}}},
                destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {"S3": {
                    "bucketName": "bench-out", "s3OutputFormatConfig": {
                        "fileType": "JSON", "aggregationConfig": {"aggregationType": "SingleFile"}}}}}],
                tasks=tasks)


def set_up(emu: Any, client: Any, label: str, lambda_arn: str) -> None:
    client.register_connector(connectorLabel=label, connectorProvisioningType="LAMBDA",
                              connectorProvisioningConfig={"lambda": {"lambdaArn": lambda_arn}})
    client.create_connector_profile(
        connectorProfileName=label, connectorType="CustomConnector", connectorLabel=label, connectionMode="Public",
        connectorProfileConfig={"connectorProfileProperties": {"CustomConnector": {"profileProperties": {}}},
                                "connectorProfileCredentials": {"CustomConnector": {
                                    "authenticationType": "APIKEY", "apiKey": {"apiKey": "k"}}}})
    client.create_flow(**flow_request(label, label))


def timed_run(client: Any, flow: str, n: int) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        client.start_flow(flowName=flow)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    record = client.describe_flow_execution_records(flowName=flow, maxResults=1)["flowExecutions"][0]
    if record["executionStatus"] != "Successful" or record["executionResult"]["recordsProcessed"] != n:
        raise SystemExit(f"the {flow} run did not move {n} records: {record}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-n", "--records", type=int)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--no-fail", action="store_true")
    args = parser.parse_args()
    n = args.records or (20_000 if args.quick else 100_000)
    repeats = args.repeats or (3 if args.quick else 5)
    offline_environment()

    import boto3

    from appflow_emu import InMemoryConnector, mock_appflow

    records = make_records(n)
    results = Results()
    with mock_appflow() as emu:
        client = boto3.client("appflow", region_name="us-east-1")
        emu.create_bucket("bench-out")
        emu.register_lambda(ARN, sdk_connector(records))
        set_up(emu, client, "lambda", ARN)
        set_up(emu, client, "plugged", ARN.replace("bench-connector", "no-function"))
        emu.register_connector_implementation("plugged", InMemoryConnector({"Customer": records}))
        timed_run(client, "lambda", n), timed_run(client, "plugged", n)  # warm up both paths
        for repeat in range(repeats):
            order = [("plugged", "floor: InMemoryConnector (plug-in)"), ("lambda", "SDK connector over the Lambda protocol")]
            for flow, label in order if repeat % 2 == 0 else reversed(order):
                results.add(flow, label, timed_run(client, flow, n))
    print(f"A custom connector source, {n:,} records, pages of {PAGE:,} (median of {repeats} runs):")
    for key in results.order:
        values = results.samples[key]
        print(f"  {results.labels[key]:<42} {statistics.median(values) * 1000:9.1f} ms "
              f"({n / statistics.median(values):,.0f} records/s)")
    ratio = results.paired_ratio("lambda", "plugged")
    ok = ratio <= BUDGET
    print(f"  Lambda / plug-in: {ratio:.2f}x (budget {BUDGET}x) {'ok' if ok else 'OVER BUDGET'}")
    return 0 if ok or args.no_fail else 1


if __name__ == "__main__":
    sys.exit(main())
