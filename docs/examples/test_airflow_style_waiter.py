"""Waiting for a run the way Apache Airflow does, against runs that really take several polls.

Airflow's AppFlow operators start a run, then poll describe_flow_execution_records with a botocore
waiter ("run_complete") whose acceptors read
    flowExecutions[?executionId=='<id>'].executionStatus | [0]
"Successful" succeeds, "Error" fails, the id listed twice fails, and anything else (InProgress, the
run not listed yet, CancelStarted, Canceled) means poll again. `set_in_progress_polls(flow, n)`
keeps each run InProgress for n polls, so the loop really loops; nothing sleeps.
"""
import boto3
import jmespath  # ships with botocore
import pytest
from botocore.exceptions import WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

REGION = "us-east-1"
FLOW = "accounts-to-s3"


class FlowRunFailed(Exception):
    pass


def wait_for_run(client, flow_name, execution_id, max_attempts=60):
    """Airflow's waiter logic as a loop; returns the number of polls it took."""
    status_path = f"flowExecutions[?executionId=='{execution_id}'].executionStatus | [0]"
    listed_twice_path = f"length(flowExecutions[?executionId=='{execution_id}']) > `1`"
    for attempt in range(1, max_attempts + 1):
        response = client.describe_flow_execution_records(flowName=flow_name)
        status = jmespath.search(status_path, response)
        if status == "Successful":
            return attempt
        if status == "Error" or jmespath.search(listed_twice_path, response):
            raise FlowRunFailed(f"run {execution_id} of {flow_name} failed: {response['flowExecutions']}")
        # Anything else: poll again. Production code sleeps between polls; against the emulator
        # there is nothing to wait for.
    raise TimeoutError(f"run {execution_id} of {flow_name} still not finished after {max_attempts} polls")


# Airflow's waiter definition (airflow/providers/amazon/aws/waiters/appflow.json), with the
# execution id filled in, for botocore's own waiter machinery.
def run_complete_waiter(client, execution_id):
    path = f"flowExecutions[?executionId=='{execution_id}']"
    model = WaiterModel({
        "version": 2,
        "waiters": {"run_complete": {
            "operation": "DescribeFlowExecutionRecords",
            "delay": 15,
            "maxAttempts": 60,
            "acceptors": [
                {"expected": "Successful", "matcher": "path", "state": "success",
                 "argument": f"{path}.executionStatus | [0]"},
                {"expected": "Error", "matcher": "path", "state": "failure",
                 "argument": f"{path}.executionStatus | [0]"},
                {"expected": True, "matcher": "path", "state": "failure",
                 "argument": f"length({path}) > `1`"},
            ],
        }},
    })
    return create_waiter_with_client("run_complete", model, client)


@pytest.fixture
def client(appflow_mock):
    """A Salesforce profile, an OnDemand Salesforce -> S3 flow and two accounts."""
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
    client.create_flow(
        flowName=FLOW,
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
            {"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {}},
        ],
    )
    return client


def test_the_waiter_polls_until_the_run_succeeds(client, appflow_mock):
    # Each run of the flow stays InProgress for 3 polls; the 4th poll sees it Successful.
    appflow_mock.set_in_progress_polls(FLOW, 3)

    execution_id = client.start_flow(flowName=FLOW)["executionId"]
    assert wait_for_run(client, FLOW, execution_id) == 4

    # The run's data was delivered: the next step of the pipeline can read it.
    assert [r["Id"] for r in appflow_mock.destination_records(FLOW, execution_id)] == ["001A", "001B"]


def test_the_waiter_matches_its_own_execution_id(client, appflow_mock):
    # A finished run is listed too; the waiter must wait for the one it started, not the newest finished.
    earlier = client.start_flow(flowName=FLOW)["executionId"]
    appflow_mock.set_in_progress_polls(FLOW, 2)
    execution_id = client.start_flow(flowName=FLOW)["executionId"]
    assert execution_id != earlier
    assert wait_for_run(client, FLOW, execution_id) == 3


def test_the_waiter_fails_when_the_run_fails(client, appflow_mock):
    appflow_mock.set_in_progress_polls(FLOW, 2)
    appflow_mock.fail_next_execution(FLOW, "Salesforce API request limit exceeded")

    execution_id = client.start_flow(flowName=FLOW)["executionId"]
    with pytest.raises(FlowRunFailed, match="Salesforce API request limit exceeded"):
        wait_for_run(client, FLOW, execution_id)


def test_the_waiter_gives_up_after_max_attempts(client, appflow_mock):
    appflow_mock.set_in_progress_polls(FLOW, 5)
    execution_id = client.start_flow(flowName=FLOW)["executionId"]
    with pytest.raises(TimeoutError):
        wait_for_run(client, FLOW, execution_id, max_attempts=5)
    assert wait_for_run(client, FLOW, execution_id) == 1  # the 6th poll sees the outcome


def test_botocores_waiter_with_airflows_definition(client, appflow_mock):
    # What Airflow runs: botocore's Waiter with the definition above. With Delay 0 botocore's
    # time.sleep(0) between polls returns at once.
    appflow_mock.set_in_progress_polls(FLOW, 3)
    execution_id = client.start_flow(flowName=FLOW)["executionId"]
    waiter = run_complete_waiter(client, execution_id)

    # Three polls see InProgress, so a waiter allowed three attempts gives up.
    with pytest.raises(WaiterError, match="Max attempts exceeded"):
        waiter.wait(flowName=FLOW, WaiterConfig={"Delay": 0, "MaxAttempts": 3})
    # The fourth poll sees the run Successful.
    waiter.wait(flowName=FLOW, WaiterConfig={"Delay": 0, "MaxAttempts": 1})

    # A failed run is the waiter's failure state.
    appflow_mock.fail_next_execution(FLOW, "Salesforce API request limit exceeded")
    failed_id = client.start_flow(flowName=FLOW)["executionId"]
    with pytest.raises(WaiterError, match="terminal failure state"):
        run_complete_waiter(client, failed_id).wait(flowName=FLOW, WaiterConfig={"Delay": 0, "MaxAttempts": 10})
