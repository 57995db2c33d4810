"""Failure injection: make runs and calls fail the ways AppFlow's do, and test how your code copes.

The handle's fault verbs:
- fail_next_execution(flow, message): the flow's next run ends in Error with that message;
- fail_records(flow, predicate): records for which predicate(record) is true (or returns a message)
  fail to write; the run ends in Error and counts them in putFailuresCount;
- set_in_progress_polls(flow, n): each on-demand run stays InProgress for n polls;
- conflict_on_concurrent_start = True: start_flow during a run in progress is a ConflictException;
- invalidate_credentials(profile): the connector rejects the profile's credentials.
Faults are armed on a flow or profile that exists: create it first.
"""
import boto3
import pytest

REGION = "us-east-1"
FLOW = "accounts-to-s3"


@pytest.fixture
def client(appflow_mock):
    """An AppFlow client, a Salesforce profile, an OnDemand Salesforce -> S3 flow and two accounts."""
    appflow_mock.create_bucket("crm-exports")
    appflow_mock.add_source_records("Salesforce", "Account", [
        {"Id": "001A", "Name": "Acme"},
        {"Id": "001B", "Name": "Globex"},
    ])
    client = boto3.client("appflow", region_name=REGION)
    client.create_connector_profile(
        connectorProfileName="salesforce-prod",
        connectorType="Salesforce",
        connectionMode="Public",
        connectorProfileConfig={
            "connectorProfileProperties": {"Salesforce": {"instanceUrl": "https://example.my.salesforce.com"}},
            "connectorProfileCredentials": {
                "Salesforce": {"accessToken": "example-access-token", "refreshToken": "example-refresh-token"},
            },
        },
    )
    client.create_flow(**flow_request(FLOW))
    return client


def flow_request(name):
    """The create_flow request: Salesforce Account (Id, Name) -> JSON lines in s3://crm-exports/salesforce/."""
    return dict(
        flowName=name,
        triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={
            "connectorType": "Salesforce",
            "connectorProfileName": "salesforce-prod",
            "sourceConnectorProperties": {"Salesforce": {"object": "Account"}},
        },
        destinationFlowConfigList=[{
            "connectorType": "S3",
            "destinationConnectorProperties": {"S3": {
                "bucketName": "crm-exports",
                "bucketPrefix": "salesforce",
                "s3OutputFormatConfig": {"fileType": "JSON"},
            }},
        }],
        tasks=[
            {"taskType": "Filter", "sourceFields": ["Id", "Name"],
             "connectorOperator": {"Salesforce": "PROJECTION"}, "taskProperties": {}},
            {"taskType": "Map", "sourceFields": ["Id"], "destinationField": "Id",
             "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "id", "DESTINATION_DATA_TYPE": "string"}},
            {"taskType": "Map", "sourceFields": ["Name"], "destinationField": "Name",
             "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "string", "DESTINATION_DATA_TYPE": "string"}},
        ],
    )


def run_record(client, execution_id):
    """The execution record of one run."""
    runs = client.describe_flow_execution_records(flowName=FLOW)["flowExecutions"]
    [run] = [r for r in runs if r["executionId"] == execution_id]
    return run


def test_a_failing_run(client, appflow_mock):
    # Arm one failure: only the next run fails.
    appflow_mock.fail_next_execution(FLOW, "Salesforce API request limit exceeded")

    failed = run_record(client, client.start_flow(flowName=FLOW)["executionId"])
    assert failed["executionStatus"] == "Error"
    assert failed["executionResult"]["errorInfo"]["executionMessage"] == "Salesforce API request limit exceeded"
    assert appflow_mock.destination_records(FLOW, failed["executionId"]) == []  # nothing delivered
    # describe_flow reports the last run too, as AppFlow does.
    last = client.describe_flow(flowName=FLOW)["lastRunExecutionDetails"]
    assert last["mostRecentExecutionStatus"] == "Error"

    # The retry succeeds.
    retried = run_record(client, client.start_flow(flowName=FLOW)["executionId"])
    assert retried["executionStatus"] == "Successful"
    assert "errorInfo" not in retried["executionResult"]
    assert [r["Id"] for r in appflow_mock.destination_records(FLOW, retried["executionId"])] == ["001A", "001B"]


def test_failing_records(client, appflow_mock):
    # Records the predicate picks fail to write (it sees the record as the destination gets it);
    # a returned string is the record's error message.
    appflow_mock.fail_records(FLOW, lambda record: "Name is reserved" if record["Name"] == "Globex" else None)

    run = run_record(client, client.start_flow(flowName=FLOW)["executionId"])
    # A run with failed records ends in Error, counts them, and names the first failure.
    assert run["executionStatus"] == "Error"
    assert run["executionResult"]["errorInfo"]["putFailuresCount"] == 1
    assert "Name is reserved" in run["executionResult"]["errorInfo"]["executionMessage"]
    # The other records were written.
    assert appflow_mock.destination_records(FLOW, run["executionId"]) == [{"Id": "001A", "Name": "Acme"}]

    # None removes the rule.
    appflow_mock.fail_records(FLOW, None)
    run = run_record(client, client.start_flow(flowName=FLOW)["executionId"])
    assert run["executionStatus"] == "Successful"


def test_a_run_in_progress(client, appflow_mock):
    # Each run of the flow stays InProgress for 2 polls (describe_flow_execution_records or
    # describe_flow calls for the flow), then shows its outcome.
    appflow_mock.set_in_progress_polls(FLOW, 2)
    execution_id = client.start_flow(flowName=FLOW)["executionId"]

    # AppFlow allows a second start while a run is in progress; this makes it a ConflictException.
    appflow_mock.conflict_on_concurrent_start = True
    with pytest.raises(client.exceptions.ConflictException):
        client.start_flow(flowName=FLOW)

    statuses = [run_record(client, execution_id)["executionStatus"] for _ in range(3)]
    assert statuses == ["InProgress", "InProgress", "Successful"]
    # The run is over: starting again is allowed.
    assert client.start_flow(flowName=FLOW)["executionId"] != execution_id


def test_rejected_credentials(client, appflow_mock):
    # The Salesforce org rejects the profile's tokens (revoked, or the refresh token expired).
    appflow_mock.invalidate_credentials("salesforce-prod")

    # Runs through the profile fail.
    run = run_record(client, client.start_flow(flowName=FLOW)["executionId"])
    assert run["executionStatus"] == "Error"
    assert run["executionResult"]["errorInfo"]["executionMessage"]
    # AppFlow refuses new flows that use it.
    with pytest.raises(client.exceptions.ConnectorAuthenticationException):
        client.create_flow(**flow_request("another-flow"))

    # Fixed credentials: runs succeed again.
    appflow_mock.invalidate_credentials("salesforce-prod", invalid=False)
    assert run_record(client, client.start_flow(flowName=FLOW)["executionId"])["executionStatus"] == "Successful"
