"""AppFlow's side of the custom connector Lambda protocol, through boto3 and the handle, with a
scripted Lambda function: what each AppFlow call sends (every event is read back with the SDK's own
request classes), what AppFlow does with each kind of answer, where credentials live, and how a
connector that fails is reported (the API's errors, a run's message) without anything half made."""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from appflow_emu import NotFoundError
from tests.conftest import requires_enum_value, requires_operation
from tests.helpers import expect_error

try:  # the SDK reads every event back where it can be imported (not on Python 3.13: see conftest)
    from custom_connector_sdk.lambda_handler import requests
except (ImportError, TypeError):
    requests = None

pytestmark = [requires_operation("RegisterConnector", "ListConnectors", "DescribeConnector"),
              requires_enum_value("ConnectorType", "CustomConnector")]

ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:scripted"
REQUEST_TYPES = ("DescribeConnectorConfigurationRequest", "ValidateConnectorRuntimeSettingsRequest",
                 "ValidateCredentialsRequest", "ListEntitiesRequest", "DescribeEntityRequest", "QueryDataRequest",
                 "RetrieveDataRequest", "WriteDataRequest")

CONFIGURATION = {
    "connectorOwner": "tests", "connectorName": "Scripted", "connectorVersion": "2.5",
    "connectorModes": ["SOURCE", "DESTINATION"], "supportedApiVersions": ["v2", "v1"], "isSuccess": True,
    "authenticationConfig": {"isApiKeyAuthSupported": True, "isOAuth2Supported": True,
                             "oAuth2Defaults": {"tokenURL": ["https://t"], "authURL": ["https://a"],
                                                "oAuth2GrantTypesSupported": ["CLIENT_CREDENTIALS"],
                                                "oAuthScopes": ["read"], "refreshURL": ["https://r"]},
                             "customAuthConfig": [{"authenticationType": "token",
                                                   "authParameters": [{"key": "tok", "required": True,
                                                                       "label": "Token", "description": "d",
                                                                       "sensitiveField": True}]}]},
    "connectorRuntimeSetting": [{"key": "instanceUrl", "dataType": "String", "required": True, "label": "URL",
                                 "description": "where", "scope": "CONNECTOR_PROFILE",
                                 "connectorSuppliedValueOptions": None}],
    "operatorsSupported": ["PROJECTION", "GREATER_THAN", "EQUAL_TO", "NO_OP"],
    "triggerFrequenciesSupported": ["HOURLY", "DAILY"],
    "supportedWriteOperations": ["UPSERT", "INSERT"],
    "supportedTriggerTypes": ["SCHEDULED", "ONDEMAND"],
    "logoURL": "https://logo",
}
FIELDS = [{"fieldName": "Id", "dataType": "String", "isPrimaryKey": True,
           "readProperties": {"isRetrievable": True, "isQueryable": True},
           "writeProperties": {"isCreatable": False, "supportedWriteOperations": ["UPSERT"]}},
          {"fieldName": "n", "dataType": "Integer", "filterOperators": ["GREATER_THAN", "EQUAL_TO"],
           "constraints": {"allowedValueRange": {"minRange": 0, "maxRange": 99}}},
          {"fieldName": "ts", "dataType": "DateTime", "readProperties": {"isTimestampFieldForIncrementalQueries": True}}]
RECORDS = [{"Id": "a", "n": 1, "ts": "2024-06-01T00:00:00Z"}, {"Id": "b", "n": 7, "ts": "2024-06-02T00:00:00Z"}]


class Scripted:
    """A Lambda handler answering each request type from ``answers`` (a dict, or a function of the
    event); it records every event, and reads each with the SDK's request class as a connector would."""

    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []
        self.secrets: List[str] = []
        self.answers: Dict[str, Any] = {
            "DescribeConnectorConfigurationRequest": CONFIGURATION,
            "ValidateCredentialsRequest": self.read_secret,
            "ValidateConnectorRuntimeSettingsRequest": {"isSuccess": True},
            "ListEntitiesRequest": {"isSuccess": True, "entities": [
                {"entityIdentifier": "Thing", "hasNestedEntities": False, "isWritable": True, "label": "Things"}]},
            "DescribeEntityRequest": {"isSuccess": True, "entityDefinition": {
                "entity": {"entityIdentifier": "Thing", "hasNestedEntities": False}, "fields": FIELDS}},
            "QueryDataRequest": {"isSuccess": True, "records": [json.dumps(r) for r in RECORDS]},
            "WriteDataRequest": lambda e: {"isSuccess": True, "writeRecordResults": [
                {"isSuccess": True, "recordId": str(i)} for i, _ in enumerate(e["records"])]},
        }

    def read_secret(self, event: Dict[str, Any]) -> Dict[str, Any]:
        secret = boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(
            SecretId=event["credentials"]["secretArn"])
        self.secrets.append(secret["SecretString"])
        return {"isSuccess": True}

    def __call__(self, event: Dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        assert event["type"] in REQUEST_TYPES
        if requests is not None:
            getattr(requests, event["type"]).from_dict(event)  # the SDK can read it
        assert context.invoked_function_arn == ARN and context.function_name == "scripted"
        assert context.get_remaining_time_in_millis() > 0 and context.aws_request_id
        answer = self.answers[event["type"]]
        return answer(event) if callable(answer) else answer

    def of(self, kind: str) -> List[Dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


@pytest.fixture
def scripted(appflow_mock) -> Scripted:
    handler = Scripted()
    appflow_mock.register_lambda(ARN, handler)
    return handler


@pytest.fixture
def appflow(appflow_mock):
    return boto3.client("appflow", region_name="us-east-1")


def register(client: Any, label: str = "scripted", arn: str = ARN) -> None:
    client.register_connector(connectorLabel=label, description="a scripted connector", connectorProvisioningType="LAMBDA",
                              connectorProvisioningConfig={"lambda": {"lambdaArn": arn}})


def create_profile(client: Any, name: str = "p1", api_key: str = "k-1", label: str = "scripted") -> None:
    client.create_connector_profile(
        connectorProfileName=name, connectorType="CustomConnector", connectorLabel=label, connectionMode="Public",
        connectorProfileConfig={
            "connectorProfileProperties": {"CustomConnector": {"profileProperties": {"instanceUrl": "https://i"}}},
            "connectorProfileCredentials": {"CustomConnector": {"authenticationType": "APIKEY",
                                                                "apiKey": {"apiKey": api_key, "apiSecretKey": "s"}}},
        })


def error(call: Callable[..., Any], **kwargs: Any) -> Dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return {"code": response["Error"]["Code"], "status": response["ResponseMetadata"]["HTTPStatusCode"],
            "message": response["Error"]["Message"]}


# -- registration --------------------------------------------------------------------------------------

def test_a_registered_connector_is_described_as_its_lambda_describes_itself(appflow, scripted):
    register(appflow)
    assert scripted.events == [{"type": "DescribeConnectorConfigurationRequest", "locale": "en-US"}]
    config = appflow.describe_connector(connectorType="CustomConnector", connectorLabel="scripted")[
        "connectorConfiguration"]
    config.pop("registeredAt")
    assert config.pop("supportedDataTransferTypes", ["RECORD"]) == ["RECORD"]
    assert config == {
        "canUseAsSource": True, "canUseAsDestination": True,
        "supportedDestinationConnectors": ["S3", "CustomConnector", "Salesforce"],
        "supportedSchedulingFrequencies": ["HOURLY", "DAILY"],
        "isPrivateLinkEnabled": False, "isPrivateLinkEndpointUrlRequired": False,
        "supportedTriggerTypes": ["OnDemand", "Scheduled"],
        "connectorType": "CUSTOMCONNECTOR", "connectorLabel": "scripted", "connectorDescription": "a scripted connector",
        "connectorOwner": "tests", "connectorName": "Scripted", "connectorVersion": "2.5",
        "connectorModes": ["SOURCE", "DESTINATION"],
        "authenticationConfig": {
            "isBasicAuthSupported": False, "isApiKeyAuthSupported": True, "isOAuth2Supported": True,
            "isCustomAuthSupported": False,
            "oAuth2Defaults": {"oauthScopes": ["read"], "tokenUrls": ["https://t"], "authCodeUrls": ["https://a"],
                               "oauth2GrantTypesSupported": ["CLIENT_CREDENTIALS"]},
            "customAuthConfigs": [{"customAuthenticationType": "token", "authParameters": [
                {"key": "tok", "isRequired": True, "label": "Token", "description": "d", "isSensitiveField": True}]}]},
        "connectorRuntimeSettings": [{"key": "instanceUrl", "dataType": "String", "isRequired": True, "label": "URL",
                                      "description": "where", "scope": "CONNECTOR_PROFILE"}],
        "supportedApiVersions": ["v2", "v1"],
        "supportedOperators": ["PROJECTION", "GREATER_THAN", "EQUAL_TO", "NO_OP"],
        "supportedWriteOperations": ["UPSERT", "INSERT"],
        "connectorProvisioningType": "LAMBDA", "connectorProvisioningConfig": {"lambda": {"lambdaArn": ARN}},
        "logoURL": "https://logo", "registeredBy": "CUSTOM",
    }
    listed = appflow.list_connectors()["connectors"][0]
    assert (listed["connectorName"], listed["connectorVersion"], listed["connectorOwner"]) == ("Scripted", "2.5", "tests")
    described = appflow.describe_connectors(connectorTypes=["CustomConnector"])["connectors"][0]
    assert described["connectorName"] == "Scripted"


@pytest.mark.parametrize("answer, words", [
    (RuntimeError("boom"), "Got error from connector. No valid response and error details found in the connector "
                           "response. The custom connector scripted failed DescribeConnectorConfigurationRequest: its "
                           f"Lambda function {ARN} returned an error: RuntimeError: boom"),
    ({"isSuccess": False, "errorDetails": {"errorCode": "ServerError", "errorMessage": "not today"}},
     "The custom connector scripted failed DescribeConnectorConfigurationRequest: not today"),
    ({"isSuccess": False}, "isSuccess is false"),
    ({1, 2}, "Runtime.MarshalError: Unable to marshal response: Object of type set is not JSON serializable"),
    ([1], "answered a list instead of a DescribeConnectorConfigurationResponse object"),
    ({**CONFIGURATION, "connectorModes": ["UPWARDS"]}, "its connectorModes must be SOURCE and/or DESTINATION"),
    ({k: v for k, v in CONFIGURATION.items() if k != "connectorName"}, "its answer has no connectorName"),
    ({**CONFIGURATION, "operatorsSupported": ["PROJECTION", "LIKE"]},
     "its answer declares supportedOperators that AppFlow does not know: LIKE"),
    ({**CONFIGURATION, "supportedTriggerTypes": ["HOURLY"]},
     "its answer declares supportedTriggerTypes that AppFlow does not know: HOURLY"),
])
def test_a_connector_that_cannot_describe_itself_is_not_registered(appflow, scripted, answer, words):
    def answering(event: Dict[str, Any]) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    scripted.answers["DescribeConnectorConfigurationRequest"] = answering
    failed = error(appflow.register_connector, connectorLabel="scripted", connectorProvisioningType="LAMBDA",
                   connectorProvisioningConfig={"lambda": {"lambdaArn": ARN}})
    assert (failed["code"], failed["status"]) == ("ConnectorServerException", 400)
    assert failed["message"].startswith("Error while communicating to connector: ")
    assert words in failed["message"]
    assert appflow.list_connectors()["connectors"] == []


def test_a_label_whose_lambda_nothing_answers_keeps_the_generic_configuration(appflow, appflow_mock):
    register(appflow, arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nobody")
    config = appflow.describe_connector(connectorType="CustomConnector", connectorLabel="scripted")[
        "connectorConfiguration"]
    assert config["connectorVersion"] == "1" and config["connectorName"] == "scripted"


def test_update_describes_the_connector_again(appflow, scripted, appflow_mock):
    register(appflow)
    scripted.answers["DescribeConnectorConfigurationRequest"] = {**CONFIGURATION, "connectorVersion": "3.0"}
    appflow.update_connector_registration(connectorLabel="scripted")
    assert appflow.list_connectors()["connectors"][0]["connectorVersion"] == "3.0"
    # A Lambda-backed connector whose function is gone cannot be updated, and says why.
    appflow_mock.register_lambda(ARN, None)
    failed = error(appflow.update_connector_registration, connectorLabel="scripted")
    assert failed["code"] == "ConnectorServerException"
    assert f"its Lambda function {ARN} could not be invoked: ResourceNotFoundException: Function not found" in \
        failed["message"]
    assert appflow.list_connectors()["connectors"][0]["connectorVersion"] == "3.0"


def test_flows_follow_what_the_connector_declared(appflow, scripted, appflow_mock):
    register(appflow)
    create_profile(appflow)
    appflow_mock.create_bucket("out-bucket")

    def flow(name: str, tasks: List[Dict[str, Any]], trigger: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        return dict(flowName=name, triggerConfig=trigger or {"triggerType": "OnDemand"},
                    sourceFlowConfig={"connectorType": "CustomConnector", "connectorProfileName": "p1",
                                      "sourceConnectorProperties": {"CustomConnector": {"entityName": "Thing"}}},
                    destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {
                        "S3": {"bucketName": "out-bucket"}}}], tasks=tasks)

    projection = {"taskType": "Filter", "sourceFields": ["Id"], "connectorOperator": {"CustomConnector": "PROJECTION"}}
    less = {"taskType": "Filter", "sourceFields": ["n"], "connectorOperator": {"CustomConnector": "LESS_THAN"},
            "taskProperties": {"DATA_TYPE": "integer", "VALUE": "3"}}
    text = expect_error(appflow.create_flow, "ValidationException", 400, **flow("f1", [projection, less]))
    assert "Operator LESS_THAN is not supported by source connector CustomConnector" in text
    minutely = {"triggerType": "Scheduled", "triggerProperties": {"Scheduled": {"scheduleExpression": "rate(5minutes)"}}}
    text = expect_error(appflow.create_flow, "ValidationException", 400, **flow("f1", [projection], minutely))
    assert "minimum interval of 60 minutes" in text  # the connector offers HOURLY at most
    text = expect_error(appflow.create_flow, "ValidationException", 400,
                        **flow("f1", [projection], {"triggerType": "Event"}))
    assert "Trigger type Event is not supported" in text
    appflow.create_flow(**flow("f1", [projection]))


# -- profiles and their credentials ------------------------------------------------------------------------

def test_a_profile_is_validated_by_the_connector_which_reads_its_secret(appflow, scripted):
    register(appflow)
    create_profile(appflow)
    profile = appflow.describe_connector_profiles()["connectorProfileDetails"][0]
    validations = [e["type"] for e in scripted.events[1:]]
    assert validations == ["ValidateCredentialsRequest", "ValidateConnectorRuntimeSettingsRequest"]
    credentials = scripted.of("ValidateCredentialsRequest")[0]
    assert credentials == {"type": "ValidateCredentialsRequest",
                           "credentials": {"secretArn": profile["credentialsArn"], "authenticationType": "ApiKey"},
                           "connectorRuntimeSettings": {"instanceUrl": "https://i"}}
    assert scripted.of("ValidateConnectorRuntimeSettingsRequest")[0] == {
        "type": "ValidateConnectorRuntimeSettingsRequest", "scope": "CONNECTOR_PROFILE",
        "connectorRuntimeSettings": {"instanceUrl": "https://i"}}
    assert json.loads(scripted.secrets[0]) == {"authenticationType": "APIKEY", "apiKey": "k-1", "apiSecretKey": "s"}
    assert "k-1" not in json.dumps(profile, default=str)


def test_rejected_credentials_leave_no_profile_and_no_secret(appflow, scripted, appflow_mock):
    register(appflow)
    scripted.answers["ValidateCredentialsRequest"] = {
        "isSuccess": False, "errorDetails": {"errorCode": "InvalidCredentials", "errorMessage": "bad key"}}
    failed = error(create_profile, client=appflow)
    assert (failed["code"], failed["status"]) == ("ConnectorAuthenticationException", 401)
    assert "The custom connector scripted failed ValidateCredentialsRequest: bad key" in failed["message"]
    assert appflow.describe_connector_profiles()["connectorProfileDetails"] == []
    assert appflow_mock.snapshot()["secrets"] == []


def test_rejected_runtime_settings_name_the_fields(appflow, scripted, appflow_mock):
    register(appflow)
    scripted.answers["ValidateConnectorRuntimeSettingsRequest"] = {
        "isSuccess": False, "errorsByInputField": {"instanceUrl": "must be https"},
        "errorDetails": {"errorCode": "InvalidArgument", "errorMessage": "invalid settings"}}
    failed = error(create_profile, client=appflow)
    assert failed["code"] == "ConnectorServerException"
    assert "failed ValidateConnectorRuntimeSettingsRequest: invalid settings (instanceUrl: must be https)" in \
        failed["message"]
    assert appflow_mock.snapshot()["secrets"] == []


def test_updating_a_profile_updates_its_secret_and_a_refusal_keeps_the_old(appflow, scripted):
    register(appflow)
    create_profile(appflow)
    arn = appflow.describe_connector_profiles()["connectorProfileDetails"][0]["credentialsArn"]
    secrets = boto3.client("secretsmanager", region_name="us-east-1")

    def update(key: str) -> None:
        appflow.update_connector_profile(connectorProfileName="p1", connectionMode="Public", connectorProfileConfig={
            "connectorProfileProperties": {"CustomConnector": {"profileProperties": {"instanceUrl": "https://i"}}},
            "connectorProfileCredentials": {"CustomConnector": {"authenticationType": "APIKEY",
                                                                "apiKey": {"apiKey": key}}}})

    update("k-2")
    assert json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["apiKey"] == "k-2"
    scripted.answers["ValidateCredentialsRequest"] = {"isSuccess": False}
    assert error(update, key="k-3")["code"] == "ConnectorAuthenticationException"
    assert json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["apiKey"] == "k-2"


def test_only_the_emulators_own_secrets_are_answered(appflow, scripted):
    register(appflow)
    create_profile(appflow)
    arn = appflow.describe_connector_profiles()["connectorProfileDetails"][0]["credentialsArn"]
    client = boto3.client("secretsmanager", region_name="us-east-1")
    assert client.get_secret_value(SecretId=arn)["ARN"] == arn
    with Stubber(client) as stub:  # what is not the emulator's goes on to Secrets Manager (here a stub)
        stub.add_response("get_secret_value", {"Name": "theirs", "SecretString": "{}"}, {"SecretId": "theirs"})
        assert client.get_secret_value(SecretId="theirs")["Name"] == "theirs"
        stub.assert_no_pending_responses()
    appflow.delete_connector_profile(connectorProfileName="p1")
    with Stubber(client) as stub:  # a deleted profile's secret is gone: the call goes on
        stub.add_client_error("get_secret_value", "ResourceNotFoundException", expected_params={"SecretId": arn})
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_secret_value(SecretId=arn)


def test_secrets_never_reach_a_snapshot_in_clear(appflow, scripted, appflow_mock):
    register(appflow)
    create_profile(appflow, api_key="very-secret-key")
    document = appflow_mock.snapshot()
    assert "very-secret-key" not in json.dumps(document)
    arn = appflow.describe_connector_profiles()["connectorProfileDetails"][0]["credentialsArn"]
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    appflow_mock.reset()
    assert appflow_mock.restore(document) == []  # this process holds the value: it comes back
    assert json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["apiKey"] == "very-secret-key"
    # A document saved by another process: its references mean nothing here.
    document["secrets"][0]["value_ref"] = "0" * 64
    with pytest.warns(UserWarning, match="secret"):
        not_kept = appflow_mock.restore(document)
    assert not_kept == [{"what": "secret", "account_id": ACCOUNT, "region": "us-east-1", "name": arn}]
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.get_secret_value(SecretId=arn)


# -- entities --------------------------------------------------------------------------------------------

def test_entities_come_from_the_connector(appflow, scripted):
    register(appflow)
    create_profile(appflow)
    page = {"n": 0}

    def listing(event: Dict[str, Any]) -> Dict[str, Any]:
        page["n"] += 1
        token = event.get("nextToken")
        if token is None:
            return {"isSuccess": True, "entities": [{"entityIdentifier": "A", "hasNestedEntities": True}],
                    "nextToken": "2"}
        return {"isSuccess": True, "entities": [{"entityIdentifier": "B", "hasNestedEntities": False, "label": "Bee"}]}

    scripted.answers["ListEntitiesRequest"] = listing
    listed = appflow.list_connector_entities(connectorProfileName="p1", entitiesPath="root")["connectorEntityMap"]
    assert listed == {"Objects": [{"name": "A", "label": "A", "hasNestedEntities": True},
                                  {"name": "B", "label": "Bee", "hasNestedEntities": False}]}
    events = scripted.of("ListEntitiesRequest")
    assert [e.get("nextToken") for e in events] == [None, "2"] and events[0]["entitiesPath"] == "root"
    assert events[0]["connectorContext"] == {"apiVersion": "v2", "connectorRuntimeSettings": {"instanceUrl": "https://i"},
                                             "credentials": {"secretArn": events[0]["connectorContext"]["credentials"][
                                                 "secretArn"], "authenticationType": "ApiKey"}}
    fields = appflow.describe_connector_entity(connectorProfileName="p1", connectorEntityName="Thing",
                                               apiVersion="v1")["connectorEntityFields"]
    assert scripted.of("DescribeEntityRequest")[0]["connectorContext"]["apiVersion"] == "v1"
    assert fields[0] == {
        "identifier": "Id", "isPrimaryKey": True, "isDeprecated": False,
        "supportedFieldTypeDetails": {"v1": {"fieldType": "String", "filterOperators": [], "supportedValues": []}},
        "sourceProperties": {"isRetrievable": True, "isQueryable": True, "isTimestampFieldForIncrementalQueries": False},
        "destinationProperties": {"isCreatable": False, "isNullable": False, "isUpsertable": False,
                                  "isUpdatable": False, "isDefaultedOnCreate": False,
                                  "supportedWriteOperations": ["UPSERT"]}}
    assert fields[1]["supportedFieldTypeDetails"]["v1"] == {
        "fieldType": "Integer", "filterOperators": ["GREATER_THAN", "EQUAL_TO"], "supportedValues": [],
        "fieldValueRange": {"minimum": 0.0, "maximum": 99.0}}
    scripted.answers["DescribeEntityRequest"] = {"isSuccess": False, "errorDetails": {
        "errorCode": "InvalidArgument", "errorMessage": "no such entity"}}
    failed = error(appflow.describe_connector_entity, connectorProfileName="p1", connectorEntityName="Nope")
    assert failed["code"] == "ConnectorServerException" and "DescribeEntityRequest: no such entity" in failed["message"]


# -- runs --------------------------------------------------------------------------------------------------

def source_flow(client: Any, name: str = "from-scripted", tasks: Optional[List[Dict[str, Any]]] = None,
                **source_props: Any) -> None:
    client.create_flow(
        flowName=name, triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "CustomConnector", "connectorProfileName": "p1", "apiVersion": "v1",
                          "sourceConnectorProperties": {"CustomConnector": {"entityName": "Thing", **source_props}}},
        destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {
            "S3": {"bucketName": "out-bucket", "s3OutputFormatConfig": {"fileType": "JSON"}}}}],
        tasks=tasks or [
            {"taskType": "Filter", "sourceFields": ["Id", "n"], "connectorOperator": {"CustomConnector": "PROJECTION"}},
            {"taskType": "Filter", "sourceFields": ["n"], "connectorOperator": {"CustomConnector": "GREATER_THAN"},
             "taskProperties": {"DATA_TYPE": "integer", "VALUE": "5"}},
            {"taskType": "Map", "sourceFields": ["Id"], "destinationField": "Id", "connectorOperator": {"S3": "NO_OP"}},
            {"taskType": "Map", "sourceFields": ["n"], "destinationField": "n",
             "connectorOperator": {"CustomConnector": "NO_OP"}}])


def last_run(client: Any, flow: str) -> Dict[str, Any]:
    return client.describe_flow_execution_records(flowName=flow)["flowExecutions"][0]


def test_a_run_queries_the_connector(appflow, scripted, appflow_mock):
    register(appflow)
    create_profile(appflow)
    appflow_mock.create_bucket("out-bucket")
    source_flow(appflow, customProperties={"pageSize": "10"})
    execution_id = appflow.start_flow(flowName="from-scripted")["executionId"]
    run = last_run(appflow, "from-scripted")
    assert run["executionStatus"] == "Successful"
    # What the connector returned is what was processed: AppFlow does not filter it again [guess].
    assert run["executionResult"]["recordsProcessed"] == 2
    assert run["executionResult"]["bytesProcessed"] == sum(len(json.dumps(r)) for r in RECORDS)
    assert appflow_mock.destination_records("from-scripted") == [{"Id": "a", "n": 1}, {"Id": "b", "n": 7}]
    query = scripted.of("QueryDataRequest")[0]
    context = query.pop("connectorContext")
    assert query == {"type": "QueryDataRequest", "entityIdentifier": "Thing", "maxResults": 1000,
                     "selectedFieldNames": ["Id", "n"], "filterExpression": "n > 5"}
    assert context["entityDefinition"]["fields"] == FIELDS  # the connector's own DescribeEntity answer
    assert context["apiVersion"] == "v1"
    assert context["connectorRuntimeSettings"] == {"instanceUrl": "https://i", "pageSize": "10"}
    assert (context["flowName"], context["executionId"], context["connectorProfileLabel"]) == \
        ("from-scripted", execution_id, "p1")


def test_a_query_follows_the_connectors_pages(appflow, scripted, appflow_mock):
    register(appflow)
    create_profile(appflow)
    appflow_mock.create_bucket("out-bucket")

    def pages(event: Dict[str, Any]) -> Dict[str, Any]:
        n = int(event.get("nextToken") or 0)
        answer: Dict[str, Any] = {"isSuccess": True, "records": [json.dumps({"Id": str(n), "n": n})]}
        if n < 4:
            answer["nextToken"] = str(n + 1)
        return answer

    scripted.answers["QueryDataRequest"] = pages
    source_flow(appflow)
    appflow.start_flow(flowName="from-scripted")
    assert last_run(appflow, "from-scripted")["executionResult"]["recordsProcessed"] == 5
    assert [e.get("nextToken") for e in scripted.of("QueryDataRequest")] == [None, "1", "2", "3", "4"]


@pytest.mark.parametrize("answer, words", [
    (RuntimeError("down"), "QueryDataRequest: its Lambda function " + ARN + " returned an error: RuntimeError: down"),
    ({"isSuccess": False, "errorDetails": {"errorCode": "ServerError", "errorMessage": "503 from the SaaS"}},
     "QueryDataRequest: 503 from the SaaS"),
    ({"isSuccess": True, "records": ["not json"]}, "QueryDataRequest: it returned a record that is not JSON"),
    ({"isSuccess": True, "records": [{"Id": "a"}]}, "QueryDataRequest: it returned a record that is an object, not "
                                                    "the JSON string of an object"),
    ({"isSuccess": True, "records": ["[1]"]}, "it returned a record that is a list, not an object"),
])
def test_a_failing_query_ends_the_run_naming_the_connector(appflow, scripted, appflow_mock, answer, words):
    register(appflow)
    create_profile(appflow)
    appflow_mock.create_bucket("out-bucket")

    def answering(event: Dict[str, Any]) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    scripted.answers["QueryDataRequest"] = answering
    source_flow(appflow)
    appflow.start_flow(flowName="from-scripted")
    run = last_run(appflow, "from-scripted")
    assert run["executionStatus"] == "Error"
    message = run["executionResult"]["errorInfo"]["executionMessage"]
    assert message.startswith("The custom connector scripted failed ")
    clean = " ".join("".join(c if c.isalnum() or c in "!@#-.?,_" else " " for c in words).split())
    assert clean in message


def test_a_function_gone_fails_runs_and_calls(appflow, scripted, appflow_mock):
    register(appflow)
    create_profile(appflow)
    appflow_mock.create_bucket("out-bucket")
    source_flow(appflow)
    appflow_mock.register_lambda(ARN, None)
    appflow.start_flow(flowName="from-scripted")
    message = last_run(appflow, "from-scripted")["executionResult"]["errorInfo"]["executionMessage"]
    assert "could not be invoked ResourceNotFoundException Function not found" in message
    failed = error(appflow.list_connector_entities, connectorProfileName="p1")
    assert failed["code"] == "ConnectorServerException" and "Function not found" in failed["message"]


def destination_flow(client: Any, appflow_mock: Any, name: str = "to-scripted", **props: Any) -> None:
    appflow_mock.put_object("in-bucket", "things.csv", "Id,n\nx,1\ny,2\nz,3\n")
    client.create_flow(
        flowName=name, triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {
            "S3": {"bucketName": "in-bucket", "bucketPrefix": "things.csv"}}},
        destinationFlowConfigList=[{"connectorType": "CustomConnector", "connectorProfileName": "p1",
                                    "destinationConnectorProperties": {"CustomConnector": {
                                        "entityName": "Thing", "writeOperationType": "UPSERT", "idFieldNames": ["Id"],
                                        "customProperties": {"dryRun": "false"}, **props}}}],
        tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"}, "taskProperties": {}}])


def test_a_run_writes_through_the_connector(appflow, scripted, appflow_mock):
    register(appflow)
    create_profile(appflow)
    destination_flow(appflow, appflow_mock)
    appflow.start_flow(flowName="to-scripted")
    run = last_run(appflow, "to-scripted")
    assert run["executionStatus"] == "Successful" and run["executionResult"]["recordsProcessed"] == 3
    write = scripted.of("WriteDataRequest")[0]
    context = write.pop("connectorContext")
    assert write == {"type": "WriteDataRequest", "entityIdentifier": "Thing", "operation": "UPSERT",
                     "records": ['{"Id":"x","n":"1"}', '{"Id":"y","n":"2"}', '{"Id":"z","n":"3"}'],
                     "allOrNone": False, "idFieldNames": ["Id"]}
    assert context["connectorRuntimeSettings"] == {"instanceUrl": "https://i", "dryRun": "false"}
    assert run["executionResult"]["bytesWritten"] == sum(len(r) for r in write["records"])


def test_failed_records_are_counted_and_go_to_the_error_bucket(appflow, scripted, appflow_mock):
    register(appflow)
    create_profile(appflow)
    appflow_mock.create_bucket("errors-bucket")
    scripted.answers["WriteDataRequest"] = lambda e: {
        "isSuccess": False, "errorDetails": {"errorCode": "PartialWriteFailure", "errorMessage": "some failed"},
        "writeRecordResults": [{"isSuccess": r != '{"Id":"y","n":"2"}', "errorMessage": "y is taken"}
                               for r in e["records"]]}
    destination_flow(appflow, appflow_mock, errorHandlingConfig={"bucketName": "errors-bucket",
                                                                 "bucketPrefix": "failed"})
    appflow.start_flow(flowName="to-scripted")
    run = last_run(appflow, "to-scripted")
    assert run["executionStatus"] == "Error"
    assert run["executionResult"]["errorInfo"]["putFailuresCount"] == 1
    assert "y is taken" in run["executionResult"]["errorInfo"]["executionMessage"]
    (key,) = appflow_mock.list_objects("errors-bucket")
    assert json.loads(appflow_mock.get_object("errors-bucket", key)) == {
        "errorMessage": "y is taken", "record": {"Id": "y", "n": "2"}}


def test_a_failed_write_without_results_fails_the_run(appflow, scripted, appflow_mock):
    register(appflow)
    create_profile(appflow)
    scripted.answers["WriteDataRequest"] = {"isSuccess": False, "errorDetails": {"errorCode": "ServerError",
                                                                                 "errorMessage": "SaaS is down"}}
    destination_flow(appflow, appflow_mock)
    appflow.start_flow(flowName="to-scripted")
    info = last_run(appflow, "to-scripted")["executionResult"]["errorInfo"]
    assert info["executionMessage"] == "The custom connector scripted failed WriteDataRequest SaaS is down"


def test_fail_on_first_destination_error_writes_one_record_a_call(appflow, scripted, appflow_mock):
    register(appflow)
    create_profile(appflow)
    scripted.answers["WriteDataRequest"] = lambda e: {"isSuccess": True, "writeRecordResults": [
        {"isSuccess": r != '{"Id":"y","n":"2"}', "errorMessage": "y is taken"} for r in e["records"]]}
    destination_flow(appflow, appflow_mock, errorHandlingConfig={"failOnFirstDestinationError": True})
    appflow.start_flow(flowName="to-scripted")
    writes = scripted.of("WriteDataRequest")
    assert [(w["records"], w["allOrNone"]) for w in writes] == [(['{"Id":"x","n":"1"}'], True),
                                                                (['{"Id":"y","n":"2"}'], True)]
    run = last_run(appflow, "to-scripted")
    assert run["executionStatus"] == "Error" and run["executionResult"]["bytesWritten"] == len('{"Id":"x","n":"1"}')


# -- the handle -----------------------------------------------------------------------------------------------

def test_register_lambda_is_loud_about_misuse(appflow_mock):
    with pytest.raises(ValueError, match="Lambda function ARN"):
        appflow_mock.register_lambda("not an arn", lambda e, c: None)
    with pytest.raises(ValueError, match="package.module:attribute"):
        appflow_mock.register_lambda("fn", "no_colon_here")
    with pytest.raises(TypeError, match="pass an instance's lambda_handler"):
        appflow_mock.register_lambda("fn", Scripted)
    with pytest.raises(TypeError, match="handler must be"):
        appflow_mock.register_lambda("fn", 42)
    with pytest.raises(ValueError, match="contradicts the ARN"):
        appflow_mock.register_lambda(ARN, lambda e, c: None, region="eu-west-1")
    with pytest.raises(ValueError, match="without a version"):
        appflow_mock.register_lambda(ARN + ":3", lambda e, c: None)
    with pytest.raises(NotFoundError, match="registered: 'fn2'"):
        appflow_mock.register_lambda("fn2", lambda e, c: None)
        appflow_mock.register_lambda("fn", None)


def test_a_handler_string_is_imported_on_first_use(appflow, appflow_mock):
    appflow_mock.register_lambda("scripted", "tests.connectors.test_lambda_protocol:module_handler", region="us-east-1")
    register(appflow)
    assert appflow.list_connectors()["connectors"][0]["connectorName"] == "Scripted"
    appflow_mock.register_lambda("other", "tests.connectors.no_such_module:handler")
    failed = error(appflow.register_connector, connectorLabel="other", connectorProvisioningType="LAMBDA",
                   connectorProvisioningConfig={"lambda": {"lambdaArn": ARN.replace("scripted", "other")}})
    assert "Runtime.ImportModuleError: Unable to import module 'tests.connectors.no_such_module'" in failed["message"]


def module_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    return Scripted()(event, context)


def test_a_profile_without_a_required_setting_is_refused_before_the_connector_is_asked(appflow, scripted,
                                                                                          appflow_mock):
    register(appflow)
    failed = error(appflow.create_connector_profile, connectorProfileName="p1", connectorType="CustomConnector",
                   connectorLabel="scripted", connectionMode="Public", connectorProfileConfig={
                       "connectorProfileProperties": {"CustomConnector": {"profileProperties": {"other": "x"}}},
                       "connectorProfileCredentials": {"CustomConnector": {"authenticationType": "APIKEY",
                                                                           "apiKey": {"apiKey": "k"}}}})
    assert (failed["code"], failed["status"]) == ("ValidationException", 400)
    assert "requires the connector profile properties instanceUrl" in failed["message"]
    assert [e["type"] for e in scripted.events] == ["DescribeConnectorConfigurationRequest"]
    assert appflow.describe_connector_profiles()["connectorProfileDetails"] == []
    assert appflow_mock.snapshot()["secrets"] == []


def test_without_a_projection_every_described_field_is_selected(appflow, scripted, appflow_mock):
    register(appflow)
    create_profile(appflow)
    appflow_mock.create_bucket("out-bucket")
    source_flow(appflow, tasks=[{"taskType": "Map_all", "sourceFields": [], "taskProperties": {},
                                 "connectorOperator": {"CustomConnector": "NO_OP"}}])
    appflow.start_flow(flowName="from-scripted")
    assert scripted.of("QueryDataRequest")[0]["selectedFieldNames"] == ["Id", "n", "ts"]


def test_a_server_takes_functions_by_module_string():
    import urllib.request

    from appflow_emu.server import AppFlowServer

    def post(url: str, verb: str, **kwargs: Any) -> Any:
        request = urllib.request.Request(f"{url}/_appflow_emu/{verb}", data=json.dumps(kwargs).encode(), method="POST")
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    with AppFlowServer(port=0, lambdas={"scripted": "tests.connectors.test_lambda_protocol:module_handler"}) as server:
        client = boto3.client("appflow", region_name="us-east-1", endpoint_url=server.url,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        register(client)  # answered by the function given at start
        assert post(server.url, "register_lambda", function="scripted", handler=None) == (200, {"result": None})
        register(client, label="unanswered")
        status, error_answer = post(server.url, "register_lambda", function="scripted", handler=42)
        assert status == 400 and "handler is a 'package.module:attribute' string" in error_answer["message"]
        assert post(server.url, "register_lambda", function="scripted",
                    handler="tests.connectors.test_lambda_protocol:module_handler") == (200, {"result": None})
        register(client, label="answered")
        names = {c["connectorLabel"]: c["connectorName"] for c in client.list_connectors()["connectors"]}
        assert names == {"scripted": "Scripted", "unanswered": "unanswered", "answered": "Scripted"}
