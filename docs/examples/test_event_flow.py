"""An event-triggered Salesforce -> S3 flow: records added in Salesforce trigger a run.

On AWS an Event flow runs when Salesforce publishes change events. Here, adding records with
`appflow_mock.add_source_records` is the change: every active Event flow on that object runs at
once on just the added records.
"""
import boto3

REGION = "us-east-1"


def create_salesforce_profile(client, name):
    client.create_connector_profile(
        connectorProfileName=name,
        connectorType="Salesforce",
        connectionMode="Public",
        connectorProfileConfig={
            "connectorProfileProperties": {"Salesforce": {"instanceUrl": "https://example.my.salesforce.com"}},
            "connectorProfileCredentials": {
                "Salesforce": {"accessToken": "example-access-token", "refreshToken": "example-refresh-token"},
            },
        },
    )


def test_new_opportunities_trigger_runs(appflow_mock):
    appflow_mock.create_bucket("crm-events")
    client = boto3.client("appflow", region_name=REGION)
    create_salesforce_profile(client, "salesforce-prod")

    # 1. A flow triggered by Salesforce change events on Opportunity.
    client.create_flow(
        flowName="opportunity-changes",
        triggerConfig={"triggerType": "Event"},
        sourceFlowConfig={
            "connectorType": "Salesforce",
            "connectorProfileName": "salesforce-prod",
            "sourceConnectorProperties": {"Salesforce": {"object": "Opportunity"}},
        },
        destinationFlowConfigList=[{
            "connectorType": "S3",
            "destinationConnectorProperties": {"S3": {
                "bucketName": "crm-events",
                "bucketPrefix": "opportunities",
                "s3OutputFormatConfig": {"fileType": "JSON"},
            }},
        }],
        tasks=[
            {"taskType": "Filter", "sourceFields": ["Id", "Name", "StageName", "Amount"],
             "connectorOperator": {"Salesforce": "PROJECTION"}, "taskProperties": {}},
            {"taskType": "Map", "sourceFields": ["Id"], "destinationField": "Id",
             "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "id", "DESTINATION_DATA_TYPE": "string"}},
            {"taskType": "Map", "sourceFields": ["Name"], "destinationField": "Name",
             "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "string", "DESTINATION_DATA_TYPE": "string"}},
            {"taskType": "Map", "sourceFields": ["StageName"], "destinationField": "Stage",
             "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "picklist", "DESTINATION_DATA_TYPE": "string"}},
            {"taskType": "Map", "sourceFields": ["Amount"], "destinationField": "Amount",
             "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "currency", "DESTINATION_DATA_TYPE": "double"}},
        ],
    )

    # 2. An Event flow starts as Draft: changes made now trigger nothing.
    assert client.describe_flow(flowName="opportunity-changes")["flowStatus"] == "Draft"
    appflow_mock.add_source_records("Salesforce", "Opportunity", [
        {"Id": "006A", "Name": "Old deal", "StageName": "Closed", "Amount": 10},
    ])
    assert client.describe_flow_execution_records(flowName="opportunity-changes")["flowExecutions"] == []

    # 3. start_flow activates it (it does not run it).
    client.start_flow(flowName="opportunity-changes")
    assert client.describe_flow(flowName="opportunity-changes")["flowStatus"] == "Active"
    assert client.describe_flow_execution_records(flowName="opportunity-changes")["flowExecutions"] == []

    # 4. Two opportunities are created in Salesforce: one run, on just those two records.
    appflow_mock.add_source_records("Salesforce", "Opportunity", [
        {"Id": "006B", "Name": "Acme renewal", "StageName": "Proposal", "Amount": 5000},
        {"Id": "006C", "Name": "Globex pilot", "StageName": "Prospecting", "Amount": 1250.5},
    ])
    [run] = client.describe_flow_execution_records(flowName="opportunity-changes")["flowExecutions"]
    assert run["executionStatus"] == "Successful"
    assert appflow_mock.destination_records("opportunity-changes", run["executionId"]) == [
        {"Id": "006B", "Name": "Acme renewal", "Stage": "Proposal", "Amount": 5000.0},
        {"Id": "006C", "Name": "Globex pilot", "Stage": "Prospecting", "Amount": 1250.5},
    ]

    # 5. Another change: a second run, with only the new record; its file is in its own folder.
    appflow_mock.add_source_records("Salesforce", "Opportunity", [
        {"Id": "006D", "Name": "Initech upsell", "StageName": "Negotiation", "Amount": 800},
    ])
    latest, earlier = client.describe_flow_execution_records(flowName="opportunity-changes")["flowExecutions"]
    assert earlier["executionId"] == run["executionId"]
    assert [r["Id"] for r in appflow_mock.destination_records("opportunity-changes", latest["executionId"])] == ["006D"]
    assert appflow_mock.list_objects("crm-events", prefix=f"opportunities/opportunity-changes/{latest['executionId']}/")

    # 6. Other objects do not trigger the flow.
    appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "001A", "Name": "Acme"}])
    assert len(client.describe_flow_execution_records(flowName="opportunity-changes")["flowExecutions"]) == 2

    # 7. stop_flow deactivates it: changes trigger nothing until start_flow again.
    client.stop_flow(flowName="opportunity-changes")
    assert client.describe_flow(flowName="opportunity-changes")["flowStatus"] == "Suspended"
    appflow_mock.add_source_records("Salesforce", "Opportunity", [
        {"Id": "006E", "Name": "Missed while suspended", "StageName": "Qualification", "Amount": 1},
    ])
    assert len(client.describe_flow_execution_records(flowName="opportunity-changes")["flowExecutions"]) == 2
