"""A custom connector written with AWS's custom connector SDK, tested end to end without AWS.

On AWS a custom connector is a Lambda function built with `custom-connector-sdk`
(`pip install custom-connector-sdk antlr4-python3-runtime==4.9.3`): AppFlow invokes it with the
SDK's events to describe it, validate a profile's credentials (which the connector reads from
Secrets Manager), list and describe entities, and read and write records in flows. Here
`appflow_mock.register_lambda(arn, handler)` makes your handler that Lambda function, unchanged:
the emulator sends it the same events (through JSON, as Lambda does), keeps profile credentials in a
secret it answers GetSecretValue for, and runs real flows through it.

The connector below serves a made-up order system: one entity, API-key authentication, filters
read from the filterExpression AppFlow builds from a flow's Filter tasks (with the SDK's own
parser), pagination, and inserts.
"""
import json

import boto3
import pytest
from custom_connector_queryfilter.queryfilter.antlr.CustomConnectorQueryFilterParserVisitor import (
    CustomConnectorQueryFilterParserVisitor,
)
from custom_connector_queryfilter.queryfilter.parse_tree_builder import parse
from custom_connector_sdk.connector.auth import AuthenticationConfig
from custom_connector_sdk.connector.configuration import ConnectorModes
from custom_connector_sdk.connector.context import Entity, EntityDefinition
from custom_connector_sdk.connector.fields import FieldDataType, FieldDefinition, WriteOperationType
from custom_connector_sdk.lambda_handler import responses
from custom_connector_sdk.lambda_handler.handlers import ConfigurationHandler, MetadataHandler, RecordHandler
from custom_connector_sdk.lambda_handler.lambda_handler import BaseLambdaConnectorHandler

REGION = "us-east-1"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders-connector"
ORDERS = Entity(entity_identifier="Order", has_nested_entities=False, is_writable=True, label="Orders")
FIELDS = [FieldDefinition("id", FieldDataType.String, is_primary_key=True),
          FieldDefinition("customer", FieldDataType.String),
          FieldDefinition("amount", FieldDataType.Integer)]


# -- the connector, as you would deploy it to Lambda ---------------------------------------------

def api_key(credentials):
    """The connector reads its profile's credentials from Secrets Manager itself, as on AWS."""
    secret = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=credentials.secret_arn)
    return json.loads(secret["SecretString"])["apiKey"]


class GreaterThan(CustomConnectorQueryFilterParserVisitor):
    """Reads `field > number` conditions joined with `and` (all this small connector supports)."""

    def __init__(self):
        self.conditions = []

    def visitGreaterThanComparatorExpression(self, ctx):  # noqa: N802 - the SDK's name
        self.conditions.append((ctx.left.getText(), int(ctx.right.getText())))


class Configuration(ConfigurationHandler):
    def describe_connector_configuration(self, request):
        return responses.DescribeConnectorConfigurationResponse(
            is_success=True, connector_owner="Example Corp", connector_name="OrdersConnector", connector_version="1.0",
            connector_modes=[ConnectorModes.SOURCE, ConnectorModes.DESTINATION], supported_api_versions=["v1"],
            authentication_config=AuthenticationConfig(is_api_key_auth_supported=True),
            supported_write_operations=[WriteOperationType.INSERT])

    def validate_credentials(self, request):
        if api_key(request.credentials) != "orders-api-key":
            return responses.ValidateCredentialsResponse(is_success=False, error_details=responses.ErrorDetails(
                responses.ErrorCode.InvalidCredentials, "The orders API refused the API key."))
        return responses.ValidateCredentialsResponse(is_success=True)

    def validate_connector_runtime_settings(self, request):
        return responses.ValidateConnectorRuntimeSettingsResponse(is_success=True)


class Metadata(MetadataHandler):
    def list_entities(self, request):
        return responses.ListEntitiesResponse(is_success=True, entities=[ORDERS])

    def describe_entity(self, request):
        return responses.DescribeEntityResponse(is_success=True,
                                                entity_definition=EntityDefinition(entity=ORDERS, fields=FIELDS))


class Records(RecordHandler):
    def __init__(self, orders):
        self.orders = orders
        self.queries = []  # what AppFlow asked for, to look at in the tests

    def query_data(self, request):
        api_key(request.connector_context.credentials)
        self.queries.append(request.filter_expression)
        rows = self.orders
        if request.filter_expression:
            visitor = GreaterThan()
            visitor.visit(parse(request.filter_expression))
            rows = [r for r in rows if all(r[f] > v for f, v in visitor.conditions)]
        start = int(request.next_token or 0)
        end = start + 2  # small pages, to show that AppFlow follows nextToken
        page = [json.dumps({f: r[f] for f in request.selected_field_names}) for r in rows[start:end]]
        return responses.QueryDataResponse(is_success=True, records=page,
                                           next_token=str(end) if end < len(rows) else None)

    def write_data(self, request):
        results = []
        for text in request.records:
            self.orders.append(json.loads(text))
            results.append(responses.WriteRecordResult(is_success=True, record_id=json.loads(text)["id"]))
        return responses.WriteDataResponse(is_success=True, write_record_results=results)

    def retrieve_data(self, request):
        return responses.RetrieveDataResponse(is_success=False)


class OrdersConnector(BaseLambdaConnectorHandler):
    def __init__(self, orders):
        self.records = Records(orders)
        super().__init__(Metadata(), self.records, Configuration())


# -- the tests ---------------------------------------------------------------------------------------

@pytest.fixture
def connector(appflow_mock):
    connector = OrdersConnector([{"id": "o-1", "customer": "Acme", "amount": 50},
                                 {"id": "o-2", "customer": "Globex", "amount": 250},
                                 {"id": "o-3", "customer": "Initech", "amount": 700},
                                 {"id": "o-4", "customer": "Umbrella", "amount": 900}])
    appflow_mock.register_lambda(LAMBDA_ARN, connector.lambda_handler)  # the Lambda function is your handler
    appflow = boto3.client("appflow", region_name=REGION)
    appflow.register_connector(connectorLabel="orders", connectorProvisioningType="LAMBDA",
                               connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_ARN}})
    appflow.create_connector_profile(
        connectorProfileName="orders-prod", connectorType="CustomConnector", connectorLabel="orders",
        connectionMode="Public", connectorProfileConfig={
            "connectorProfileProperties": {"CustomConnector": {"profileProperties": {}}},
            "connectorProfileCredentials": {"CustomConnector": {"authenticationType": "APIKEY",
                                                                "apiKey": {"apiKey": "orders-api-key"}}}})
    return connector


def test_the_connector_is_registered_validated_and_read_by_a_flow(appflow_mock, connector):
    appflow = boto3.client("appflow", region_name=REGION)
    described = appflow.describe_connector(connectorType="CustomConnector", connectorLabel="orders")
    assert described["connectorConfiguration"]["connectorName"] == "OrdersConnector"
    assert appflow.list_connector_entities(connectorProfileName="orders-prod")["connectorEntityMap"] == {
        "Objects": [{"name": "Order", "label": "Orders", "hasNestedEntities": False}]}

    appflow_mock.create_bucket("orders-export")
    appflow.create_flow(
        flowName="big-orders", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "CustomConnector", "connectorProfileName": "orders-prod",
                          "sourceConnectorProperties": {"CustomConnector": {"entityName": "Order"}}},
        destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {
            "S3": {"bucketName": "orders-export", "s3OutputFormatConfig": {"fileType": "JSON"}}}}],
        tasks=[{"taskType": "Filter", "sourceFields": ["id", "amount"], "connectorOperator": {"CustomConnector": "PROJECTION"}},
               {"taskType": "Filter", "sourceFields": ["amount"], "connectorOperator": {"CustomConnector": "GREATER_THAN"},
                "taskProperties": {"DATA_TYPE": "integer", "VALUE": "100"}},
               {"taskType": "Map", "sourceFields": ["id"], "destinationField": "id",
                "connectorOperator": {"CustomConnector": "NO_OP"}},
               {"taskType": "Map", "sourceFields": ["amount"], "destinationField": "amount",
                "connectorOperator": {"CustomConnector": "NO_OP"}}])
    execution_id = appflow.start_flow(flowName="big-orders")["executionId"]

    run = appflow.describe_flow_execution_records(flowName="big-orders")["flowExecutions"][0]
    assert run["executionId"] == execution_id and run["executionStatus"] == "Successful"
    assert run["executionResult"]["recordsProcessed"] == 3  # what the connector returned, over two pages
    assert connector.records.queries == ["amount > 100", "amount > 100"]  # the filter reached the connector
    assert appflow_mock.destination_records("big-orders") == [
        {"id": "o-2", "amount": 250}, {"id": "o-3", "amount": 700}, {"id": "o-4", "amount": 900}]


def test_a_flow_writes_through_the_connector_and_bad_credentials_are_refused(appflow_mock, connector):
    appflow = boto3.client("appflow", region_name=REGION)
    appflow_mock.put_object("orders-import", "new/orders.csv", "id,customer,amount\no-5,Hooli,120\n")
    appflow.create_flow(
        flowName="import-orders", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {"S3": {
            "bucketName": "orders-import", "bucketPrefix": "new"}}},
        destinationFlowConfigList=[{"connectorType": "CustomConnector", "connectorProfileName": "orders-prod",
                                    "destinationConnectorProperties": {"CustomConnector": {
                                        "entityName": "Order", "writeOperationType": "INSERT"}}}],
        tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"}, "taskProperties": {}}])
    appflow.start_flow(flowName="import-orders")
    assert connector.records.orders[-1] == {"id": "o-5", "customer": "Hooli", "amount": "120"}  # CSV: text

    with pytest.raises(appflow.exceptions.ConnectorAuthenticationException) as refused:
        appflow.create_connector_profile(
            connectorProfileName="orders-wrong-key", connectorType="CustomConnector", connectorLabel="orders",
            connectionMode="Public", connectorProfileConfig={
                "connectorProfileProperties": {"CustomConnector": {"profileProperties": {}}},
                "connectorProfileCredentials": {"CustomConnector": {"authenticationType": "APIKEY",
                                                                    "apiKey": {"apiKey": "wrong"}}}})
    assert "The orders API refused the API key." in refused.value.response["Error"]["Message"]
