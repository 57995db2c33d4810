"""A run is planned when it starts and reads nothing else: changes made to the flow, its profiles,
its custom connector registrations or what is plugged in for them while the run is in progress do
not reach that run; the next run sees them."""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

import boto3
import pytest

from appflow_emu import InMemoryConnector
from tests.catalog.test_custom_connectors import custom_destination, custom_source, profile, projection, register
from tests.conftest import requires_enum_value, requires_operation

pytestmark = [
    requires_operation("RegisterConnector", "UnregisterConnector"),
    requires_enum_value("ConnectorType", "CustomConnector"),
]

ORDERS = [{"id": "o1", "total": 5}, {"id": "o2", "total": 25}, {"id": "o3", "total": 40}]


class MidRunChanges:
    """A source connector that changes the control plane after handing out its first record."""

    def __init__(self, change: Any) -> None:
        self.change = change
        self.reads: List[Optional[List[str]]] = []

    def read_records(self, entity: str, fields: Optional[List[str]],
                     filters: Optional[List[Dict[str, Any]]] = None) -> Iterator[Dict[str, Any]]:
        self.reads.append(fields)
        for n, record in enumerate(ORDERS):
            yield dict(record)
            if n == 0:
                self.change()


def _last_run(client: Any, flow: str) -> Dict[str, Any]:
    return dict(client.describe_flow_execution_records(flowName=flow)["flowExecutions"][0])


def test_changes_made_while_a_run_is_in_progress_reach_the_next_run_only(appflow_mock):
    client = boto3.client("appflow", region_name="us-east-1")
    register(client, "shop")
    profile(client, "shop-profile", "shop")
    register(client, "sink")
    profile(client, "sink-profile", "sink")
    sink = InMemoryConnector()
    appflow_mock.register_connector_implementation("sink", sink)

    def change() -> None:
        # Project one field only from now on, unplug the destination, then delete its profile.
        client.update_flow(flowName="ff", triggerConfig={"triggerType": "OnDemand"},
                           sourceFlowConfig=custom_source("orders", "shop-profile"),
                           destinationFlowConfigList=[custom_destination("orders", "sink-profile")],
                           tasks=projection("CustomConnector", ["id"]))
        appflow_mock.register_connector_implementation("sink", None)
        client.delete_connector_profile(connectorProfileName="sink-profile", forceDelete=True)

    source = MidRunChanges(change)
    appflow_mock.register_connector_implementation("shop", source)
    client.create_flow(flowName="ff", triggerConfig={"triggerType": "OnDemand"},
                       sourceFlowConfig=custom_source("orders", "shop-profile"),
                       destinationFlowConfigList=[custom_destination("orders", "sink-profile")],
                       tasks=projection("CustomConnector", ["id", "total"]))

    client.start_flow(flowName="ff")
    run = _last_run(client, "ff")
    # The run in progress kept its plan: both fields, the destination plugged in when it started.
    assert run["executionStatus"] == "Successful", run
    assert run["executionResult"]["recordsProcessed"] == 3
    assert sink.records["orders"] == ORDERS
    assert appflow_mock.destination_records("ff") == ORDERS
    assert source.reads == [["id", "total"]]

    # The next run sees the changes: its destination profile is gone.
    client.start_flow(flowName="ff")
    run = _last_run(client, "ff")
    assert run["executionStatus"] == "Error"
    assert "sink-profile" in run["executionResult"]["errorInfo"]["executionMessage"]
    assert source.reads == [["id", "total"]]  # it failed before reading anything
    assert sink.records["orders"] == ORDERS


def test_a_fault_armed_while_a_run_is_in_progress_is_for_the_next_run(appflow_mock):
    client = boto3.client("appflow", region_name="us-east-1")
    register(client, "shop")
    profile(client, "shop-profile", "shop")
    appflow_mock.create_bucket("out-bucket")
    source = MidRunChanges(lambda: appflow_mock.fail_next_execution("gg", "armed mid-run"))
    appflow_mock.register_connector_implementation("shop", source)
    client.create_flow(flowName="gg", triggerConfig={"triggerType": "OnDemand"},
                       sourceFlowConfig=custom_source("orders", "shop-profile"),
                       destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {
                           "S3": {"bucketName": "out-bucket"}}}],
                       tasks=projection("CustomConnector", ["id"]))
    client.start_flow(flowName="gg")
    assert _last_run(client, "gg")["executionStatus"] == "Successful"
    client.start_flow(flowName="gg")
    failed = _last_run(client, "gg")
    assert failed["executionStatus"] == "Error"
    assert failed["executionResult"]["errorInfo"]["executionMessage"] == "armed mid-run"


@pytest.mark.parametrize("seed_first", [True, False])
def test_records_seeded_while_a_run_reads_are_not_in_that_run(appflow_mock, seed_first):
    """A SaaS source reads a snapshot of the dataset taken when its read starts."""
    from tests.helpers import profile_request, projection_tasks, salesforce_source

    client = boto3.client("appflow", region_name="us-east-1")
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    appflow_mock.create_bucket("out-bucket")
    if seed_first:
        appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "1"}])
    client.create_flow(flowName="hh", triggerConfig={"triggerType": "OnDemand"},
                       sourceFlowConfig=salesforce_source("sf"),
                       destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {
                           "S3": {"bucketName": "out-bucket"}}}],
                       tasks=projection_tasks("Salesforce", ["Id"]))
    appflow_mock.fail_records("hh", lambda r: appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "x"}]))
    client.start_flow(flowName="hh")
    run = _last_run(client, "hh")
    assert run["executionResult"]["recordsProcessed"] == (1 if seed_first else 0)
    assert len(appflow_mock.source_records("Salesforce", "Account")) == (2 if seed_first else 0)
