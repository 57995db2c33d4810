"""A custom connector with a Python implementation plugged in.

On AWS a custom connector is a Lambda built with the AppFlow custom connector SDK, registered with
register_connector. Here the Lambda is replaced by a Python object: plug it in for the registered
label with `appflow_mock.register_connector_implementation(label, impl)`, and flows through
CustomConnector profiles of that label read with its `read_records` and write with its
`write_records`; list_connector_entities / describe_connector_entity ask its `list_entities` /
`describe_entity`. Every method is optional (see appflow_emu.CustomConnectorImplementation);
appflow_emu.InMemoryConnector is a ready one that keeps records in memory.
"""
import boto3
import pytest

from appflow_emu import InMemoryConnector

REGION = "us-east-1"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:ticketdesk-connector"


class TicketDeskConnector:
    """A read-only connector for a made-up help desk API, written from scratch. It remembers what
    AppFlow asked it for."""

    def __init__(self, tickets):
        self.tickets = tickets
        self.reads = []

    def list_entities(self, entities_path=None):
        return [{"name": "tickets", "label": "Tickets", "hasNestedEntities": False}]

    def describe_entity(self, entity):
        if entity != "tickets":
            raise KeyError(entity)  # AppFlow answers ResourceNotFoundException
        return [
            {"identifier": "id", "type": "string", "isPrimaryKey": True},
            {"identifier": "subject", "type": "string"},
            {"identifier": "priority", "type": "integer"},
            {"identifier": "updated_at", "type": "datetime", "isTimestampFieldForIncrementalQueries": True},
        ]

    def read_records(self, entity, fields, filters=None):
        # fields: what the flow reads (its projection); filters: the flow's filter conditions as hints.
        self.reads.append({"entity": entity, "fields": fields})
        return [{f: t[f] for f in fields} if fields else dict(t) for t in self.tickets]


@pytest.fixture
def client(appflow_mock):
    client = boto3.client("appflow", region_name=REGION)
    # 1. Register the connector, as its deployment would (the Lambda is never called).
    client.register_connector(
        connectorLabel="ticketdesk",
        description="TicketDesk connector",
        connectorProvisioningType="LAMBDA",
        connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_ARN}},
    )
    # 2. A connector profile of that label (connectorLabel names the registered connector).
    client.create_connector_profile(
        connectorProfileName="ticketdesk-prod",
        connectorType="CustomConnector",
        connectorLabel="ticketdesk",
        connectionMode="Public",
        connectorProfileConfig={
            "connectorProfileProperties": {"CustomConnector": {"profileProperties": {"region": "eu"}}},
            "connectorProfileCredentials": {"CustomConnector": {
                "authenticationType": "APIKEY",
                "apiKey": {"apiKey": "example-api-key"},
            }},
        },
    )
    return client


def test_a_custom_connector_as_source(client, appflow_mock):
    # 3. Plug the implementation in for the label.
    desk = TicketDeskConnector([
        {"id": "T-1", "subject": "Printer on fire", "priority": 1, "updated_at": "2024-06-01T10:00:00Z"},
        {"id": "T-2", "subject": "Password reset", "priority": 3, "updated_at": "2024-06-02T09:30:00Z"},
    ])
    appflow_mock.register_connector_implementation("ticketdesk", desk)

    # Entity discovery through boto3 is answered by the implementation.
    entities = client.list_connector_entities(connectorProfileName="ticketdesk-prod")["connectorEntityMap"]
    assert [e["name"] for group in entities.values() for e in group] == ["tickets"]
    described = client.describe_connector_entity(connectorProfileName="ticketdesk-prod", connectorEntityName="tickets")
    assert [f["identifier"] for f in described["connectorEntityFields"]] == ["id", "subject", "priority", "updated_at"]

    # 4. A flow from the connector to S3 (the embedded S3 store; the handle reads it).
    appflow_mock.create_bucket("support-lake")
    client.create_flow(
        flowName="tickets-to-s3",
        triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={
            "connectorType": "CustomConnector",
            "connectorProfileName": "ticketdesk-prod",
            "sourceConnectorProperties": {"CustomConnector": {"entityName": "tickets"}},
        },
        destinationFlowConfigList=[{
            "connectorType": "S3",
            "destinationConnectorProperties": {"S3": {
                "bucketName": "support-lake",
                "bucketPrefix": "tickets",
                "s3OutputFormatConfig": {"fileType": "JSON"},
            }},
        }],
        tasks=[
            {"taskType": "Filter", "sourceFields": ["id", "subject"],
             "connectorOperator": {"CustomConnector": "PROJECTION"}, "taskProperties": {}},
            {"taskType": "Map", "sourceFields": ["id"], "destinationField": "ticket_id",
             "connectorOperator": {"CustomConnector": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "string", "DESTINATION_DATA_TYPE": "string"}},
            {"taskType": "Map", "sourceFields": ["subject"], "destinationField": "subject",
             "connectorOperator": {"CustomConnector": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "string", "DESTINATION_DATA_TYPE": "string"}},
        ],
    )

    # 5. Run it: the run reads through desk.read_records, asking for the projected fields.
    execution_id = client.start_flow(flowName="tickets-to-s3")["executionId"]
    [run] = client.describe_flow_execution_records(flowName="tickets-to-s3")["flowExecutions"]
    assert (run["executionId"], run["executionStatus"]) == (execution_id, "Successful")
    assert desk.reads == [{"entity": "tickets", "fields": ["id", "subject"]}]
    assert appflow_mock.destination_records("tickets-to-s3", execution_id) == [
        {"ticket_id": "T-1", "subject": "Printer on fire"},
        {"ticket_id": "T-2", "subject": "Password reset"},
    ]


def test_a_custom_connector_as_destination(client, appflow_mock):
    # 3. InMemoryConnector: a ready implementation that keeps its records in memory and applies
    #    AppFlow's write operations (INSERT, UPSERT, UPDATE, DELETE by id fields).
    desk = InMemoryConnector({"tickets": [{"id": "T-1", "subject": "Printer on fire", "priority": 1}]})
    appflow_mock.register_connector_implementation("ticketdesk", desk)

    # 4. A JSON-lines file in S3 with one changed ticket and one new ticket.
    appflow_mock.put_object("support-import", "updates/batch-1.json",
                            '{"id": "T-1", "priority": 2}\n{"id": "T-3", "subject": "VPN down", "priority": 1}\n')

    # 5. A flow from S3 into the connector, upserting by id.
    client.create_flow(
        flowName="s3-to-tickets",
        triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={
            "connectorType": "S3",
            "sourceConnectorProperties": {"S3": {
                "bucketName": "support-import",
                "bucketPrefix": "updates",
                "s3InputFormatConfig": {"s3InputFileType": "JSON"},
            }},
        },
        destinationFlowConfigList=[{
            "connectorType": "CustomConnector",
            "connectorProfileName": "ticketdesk-prod",
            "destinationConnectorProperties": {"CustomConnector": {
                "entityName": "tickets",
                "writeOperationType": "UPSERT",
                "idFieldNames": ["id"],
            }},
        }],
        tasks=[
            # Map_all: every field of each input record, as it is.
            {"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"},
             "taskProperties": {}},
        ],
    )

    # 6. Run it: T-1 is updated (the written fields merged in), T-3 is added.
    client.start_flow(flowName="s3-to-tickets")
    [run] = client.describe_flow_execution_records(flowName="s3-to-tickets")["flowExecutions"]
    assert run["executionStatus"] == "Successful"
    assert desk.records["tickets"] == [
        {"id": "T-1", "subject": "Printer on fire", "priority": 2},
        {"id": "T-3", "subject": "VPN down", "priority": 1},
    ]
