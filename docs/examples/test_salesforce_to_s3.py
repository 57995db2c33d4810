"""Salesforce -> S3, on demand: a connector profile, a flow, a run, polling, and the output.

Copy this file into your tests and run it with pytest (appflow_emu installed: `pip install appflow_emu`).
The `appflow_mock` fixture (registered by appflow_emu's pytest plugin) starts the emulator for the test
and yields its handle; every `boto3.client("appflow")` call made meanwhile is answered in process.
"""
import json

import boto3

REGION = "us-east-1"


def wait_for_run(client, flow_name, execution_id, max_polls=10):
    """Poll the flow's execution records until the run with this id has finished."""
    for _ in range(max_polls):
        runs = client.describe_flow_execution_records(flowName=flow_name)["flowExecutions"]
        for run in runs:
            if run["executionId"] == execution_id and run["executionStatus"] != "InProgress":
                return run
        # On AWS you would sleep here; the emulator never needs it.
    raise AssertionError(f"run {execution_id} of {flow_name} did not finish in {max_polls} polls")


def test_salesforce_accounts_land_in_s3(appflow_mock):
    # 1. What Salesforce holds: records of the Account object. The field names must be fields of the
    #    emulator's Account entity (docs/catalog.md); pass check_fields=False to seed others.
    appflow_mock.add_source_records("Salesforce", "Account", [
        {"Id": "0015g00000A1", "Name": "Acme", "Industry": "Technology", "AnnualRevenue": 1200000,
         "Phone": "+1 555 0100", "LastModifiedDate": "2024-06-01T08:30:00.000+0000"},
        {"Id": "0015g00000A2", "Name": "Globex", "Industry": "Banking", "AnnualRevenue": 560000,
         "Phone": "+1 555 0199", "LastModifiedDate": "2024-06-02T17:05:00.000+0000"},
    ])

    # 2. The destination bucket. Without moto it lives in the emulator's own S3 store, which the handle
    #    reads and writes (create_bucket, put_object, get_object, list_objects). See
    #    test_s3_to_s3_with_moto.py for moto's S3 instead.
    appflow_mock.create_bucket("crm-exports")

    client = boto3.client("appflow", region_name=REGION)

    # 3. The connector profile: how AppFlow reaches the Salesforce org. Credentials are accepted and
    #    never returned, as on AWS.
    client.create_connector_profile(
        connectorProfileName="salesforce-prod",
        connectorType="Salesforce",
        connectionMode="Public",
        connectorProfileConfig={
            "connectorProfileProperties": {
                "Salesforce": {"instanceUrl": "https://example.my.salesforce.com", "isSandboxEnvironment": False},
            },
            "connectorProfileCredentials": {
                "Salesforce": {"accessToken": "example-access-token", "refreshToken": "example-refresh-token"},
            },
        },
    )

    # 4. The flow: read Account, keep three fields, mask the phone number, write JSON lines to S3 as
    #    one file per run. Every member AppFlow requires is here; the emulator validates the request
    #    as AppFlow does (a ValidationException names what is wrong).
    client.create_flow(
        flowName="accounts-to-s3",
        description="Salesforce accounts to the data lake",
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
                "s3OutputFormatConfig": {
                    "fileType": "JSON",
                    "aggregationConfig": {"aggregationType": "SingleFile"},
                },
            }},
        }],
        tasks=[
            # Read only these fields from Salesforce.
            {"taskType": "Filter", "sourceFields": ["Id", "Name", "Phone"],
             "connectorOperator": {"Salesforce": "PROJECTION"}, "taskProperties": {}},
            # Write each field, converted to the destination type.
            {"taskType": "Map", "sourceFields": ["Id"], "destinationField": "Id",
             "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "id", "DESTINATION_DATA_TYPE": "string"}},
            {"taskType": "Map", "sourceFields": ["Name"], "destinationField": "Name",
             "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "string", "DESTINATION_DATA_TYPE": "string"}},
            {"taskType": "Map", "sourceFields": ["Phone"], "destinationField": "Phone",
             "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "phone", "DESTINATION_DATA_TYPE": "string"}},
            # Mask all but the last 4 characters of the phone number.
            {"taskType": "Mask", "sourceFields": ["Phone"], "destinationField": "Phone",
             "connectorOperator": {"Salesforce": "MASK_FIRST_N"},
             "taskProperties": {"MASK_LENGTH": "7", "MASK_VALUE": "*"}},
        ],
    )
    # An OnDemand flow is Active from the start.
    assert client.describe_flow(flowName="accounts-to-s3")["flowStatus"] == "Active"

    # 5. Run it and wait for the run, matching its execution id.
    execution_id = client.start_flow(flowName="accounts-to-s3")["executionId"]
    run = wait_for_run(client, "accounts-to-s3", execution_id)
    assert run["executionStatus"] == "Successful"
    assert run["executionResult"]["recordsProcessed"] == 2  # no value filter: every record read counts

    # 6. Read the output from S3: s3://crm-exports/salesforce/accounts-to-s3/<executionId>/<file>
    keys = appflow_mock.list_objects("crm-exports", prefix=f"salesforce/accounts-to-s3/{execution_id}/")
    assert len(keys) == 1  # SingleFile: one object for the run
    lines = appflow_mock.get_object("crm-exports", keys[0]).decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"Id": "0015g00000A1", "Name": "Acme", "Phone": "*******0100"},
        {"Id": "0015g00000A2", "Name": "Globex", "Phone": "*******0199"},
    ]

    # The same records, whatever the destination, without parsing files:
    assert appflow_mock.destination_records("accounts-to-s3", execution_id) == [
        {"Id": "0015g00000A1", "Name": "Acme", "Phone": "*******0100"},
        {"Id": "0015g00000A2", "Name": "Globex", "Phone": "*******0199"},
    ]
