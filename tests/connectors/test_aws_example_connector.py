"""AWS's own example connector, ``custom_connector_example`` (the Salesforce connector that ships with
``custom-connector-sdk``), run unchanged end to end through the emulator, in process.

The example's Lambda entry point is registered for a Lambda ARN (``emu.register_lambda``); boto3's
AppFlow client registers it, creates a profile (the connector validates its credentials against
Salesforce), lists and describes entities, and runs a flow CustomConnector (Account) -> S3 with
projection, value filters and maps. moto's ``mock_aws`` serves Secrets Manager (the profile's
credentials become a secret the connector reads with boto3) and S3 (the flow's output). Salesforce
itself is a ``responses`` double: every HTTP call the connector makes is answered (and checked) by it.

The key assertion is the SOQL the connector builds from the filterExpression the emulator sends: it
is worked out by hand from the example's ``query/builder.py`` and ``query/visitor.py`` (see
``EXPECTED_SOQL``), so the emulator's side of the filter language is checked against the one
real-world reader of it that AWS publishes.
"""
from __future__ import annotations

import copy
import json
import urllib.parse
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import require_custom_connector_sdk

require_custom_connector_sdk()
pytest.importorskip("custom_connector_example")
responses = pytest.importorskip("responses")
moto = pytest.importorskip("moto")

import requests  # noqa: E402 - the responses package depends on it: present when responses is
import urllib3  # noqa: E402
from custom_connector_example.handlers import client as example_client  # noqa: E402
from custom_connector_example.handlers.lambda_handler import salesforce_lambda_handler  # noqa: E402
from custom_connector_sdk.lambda_handler import requests as sdk_requests  # noqa: E402

from appflow_emu import mock_appflow  # noqa: E402
from tests.conftest import requires_enum_value, requires_operation  # noqa: E402

pytestmark = [requires_operation("RegisterConnector", "DescribeConnector", "ListConnectorEntities",
                                 "DescribeConnectorEntity", "StartFlow", "DescribeFlowExecutionRecords"),
              requires_enum_value("ConnectorType", "CustomConnector")]

REGION = "us-east-1"
ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:salesforce-example"
LABEL = "SalesforceExample"
PROFILE = "salesforce"
FLOW = "accounts-to-s3"
BUCKET = "salesforce-exports"
INSTANCE = "https://acme.my.salesforce.com"
API = f"{INSTANCE}/services/data/v51.0"
USERINFO = "https://login.salesforce.com/services/oauth2/userinfo"
ACCESS_TOKEN = "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog.39AsX.LVpxezPwuX5VAIrrbbHMuol7GQxnMeYMN7cj8EoWr78nh"
AWS_ENV = {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing"}

# -- what Salesforce answers (the keys the example reads; shapes as Salesforce's REST API gives them) --

SOBJECTS = {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
    {"name": "Account", "label": "Account", "createable": True, "hasSubtypes": False},
    {"name": "Contact", "label": "Contact", "createable": True, "hasSubtypes": False},
]}


def sf_field(name: str, type_: str, label: str, **flags: Any) -> Dict[str, Any]:
    field = {"name": name, "type": type_, "label": label, "filterable": True, "externalId": False,
             "idLookup": False, "createable": True, "updateable": True, "nillable": True,
             "defaultedOnCreate": False, "defaultValue": None, "unique": False}
    field.update(flags)
    return field


ACCOUNT_DESCRIBE = {
    "name": "Account", "label": "Account", "createable": True, "hasSubtypes": False, "childRelationships": [],
    "fields": [
        sf_field("Id", "id", "Account ID", idLookup=True, createable=False, updateable=False, nillable=False,
                 defaultedOnCreate=True, unique=True),
        sf_field("Name", "string", "Account Name", idLookup=True, nillable=False),
        sf_field("Industry", "string", "Industry"),
        sf_field("AnnualRevenue", "double", "Annual Revenue"),
        sf_field("LastModifiedDate", "datetime", "Last Modified Date", createable=False, updateable=False,
                 nillable=False, defaultedOnCreate=True),
        sf_field("NumberOfEmployees", "int", "Employees", filterable=False),
    ],
}


def sf_account(record_id: str, name: str, industry: str, revenue: float, modified: str) -> Dict[str, Any]:
    return {"attributes": {"type": "Account", "url": f"/services/data/v51.0/sobjects/Account/{record_id}"},
            "Id": record_id, "Name": name, "Industry": industry, "AnnualRevenue": revenue,
            "LastModifiedDate": modified}


ACCOUNTS = [
    sf_account("0015g00000AcmeEAA", "Acme Energy", "Energy", 2500000.0, "2024-06-02T08:00:00.000+0000"),
    sf_account("0015g00000AcmeMAA", "Acme Media", "Media", 4000.0, "2024-06-03T09:30:15.000+0000"),
    sf_account("0015g00000AcmeHAA", "Acme Holdings", "Energy", 1200.5, "2024-06-01T12:45:08.000+0000"),
]

# -- the flow -------------------------------------------------------------------------------------------

PROJECTED = ["Id", "Name", "Industry", "AnnualRevenue", "LastModifiedDate"]
CUTOFF_MS = "1717245907000"  # 2024-06-01T12:45:07Z: 19875 days * 86400 s + 12:45:07, in milliseconds


def filter_task(field: str, operator: str, **props: str) -> Dict[str, Any]:
    return {"taskType": "Filter", "sourceFields": [field], "connectorOperator": {"CustomConnector": operator},
            "taskProperties": props}


def map_task(source: str, destination: str, source_type: str, destination_type: str) -> Dict[str, Any]:
    return {"taskType": "Map", "sourceFields": [source], "destinationField": destination,
            "connectorOperator": {"CustomConnector": "NO_OP"},
            "taskProperties": {"SOURCE_DATA_TYPE": source_type, "DESTINATION_DATA_TYPE": destination_type}}


TASKS = [
    {"taskType": "Filter", "sourceFields": PROJECTED, "connectorOperator": {"CustomConnector": "PROJECTION"},
     "taskProperties": {}},
    filter_task("LastModifiedDate", "GREATER_THAN", DATA_TYPE="datetime", VALUE=CUTOFF_MS),
    filter_task("Industry", "EQUAL_TO", DATA_TYPE="string", VALUES="Energy,Media"),
    filter_task("Name", "CONTAINS", DATA_TYPE="string", VALUE="Acme"),
    filter_task("AnnualRevenue", "BETWEEN", DATA_TYPE="double", LOWER_BOUND="1000", UPPER_BOUND="5000000"),
    map_task("Id", "account_id", "id", "string"),
    map_task("Name", "account_name", "string", "string"),
    map_task("Industry", "industry", "string", "string"),
    map_task("AnnualRevenue", "annual_revenue", "double", "double"),
    map_task("LastModifiedDate", "last_modified", "datetime", "string"),
]

# What the emulator sends (simulator/filter_expressions.py): the Filter tasks in task order, joined
# with ``and``; the datetime's epoch-ms VALUE as a DATETIME token; EQUAL_TO with VALUES as ``in (...)``;
# CONTAINS with a quoted string; BETWEEN with plain decimals for a Double field.
EXPECTED_FILTER = ('LastModifiedDate > 2024-06-01T12:45:07.000Z and Industry in ("Energy", "Media") '
                   'and Name contains "Acme" and AnnualRevenue between 1000 and 5000000')

# What the example builds from it (query/builder.py build_query, query/visitor.py), worked out by hand:
# * ``select`` + the selectedFieldNames joined with ", " (the PROJECTION's fields, in its order),
#   ``from Account``, then ``where`` + the visitor's text (no ``limit``: the expression has none).
# * The parser reads ``a and b and c and d`` as ((a and b) and c) and d; the visitor writes, in tree
#   order, each node it overrides followed by a space, and ``get_result`` strips the last one.
# * ``LastModifiedDate > <DATETIME>``: visitIdentifier, visitGtComparator, then visitIsoDateTime writes
#   salesforce_datetime_format(dateutil.parser.parse(...)): %Y-%m-%dT%H:%M:%S, the microseconds cut to
#   milliseconds (".000"), and %z of dateutil's UTC ("+0000").
# * ``and``: visitAndBinary writes the token as it is.
# * ``Industry in ("Energy", "Media")``: visitInExpression writes ``IN`` in upper case and the values
#   formatted for the field's type (String: in STRING_TYPES, so the custom double quotes become single
#   quotes), joined with "," and no space.
# * ``Name contains "Acme"``: visitLikeComparator writes ``LIKE``; visitStringValueExpression, seeing
#   the operator ``contains`` and a String field, writes ``'%Acme%'``.
# * ``AnnualRevenue between 1000 and 5000000``: visitBetweenExpression writes two exclusive comparisons
#   ``> lower and < upper``; a Double's values are left as they are.
EXPECTED_SOQL = ("select Id, Name, Industry, AnnualRevenue, LastModifiedDate from Account "
                 "where LastModifiedDate > 2024-06-01T12:45:07.000+0000 and Industry IN ('Energy','Media') "
                 "and Name LIKE '%Acme%' and AnnualRevenue > 1000 and AnnualRevenue < 5000000")


# -- the shim between the example's HTTP client and the responses double ----------------------------

class _Answer:
    """What the example reads of a urllib3 response: ``status``, ``data`` (bytes), ``reason``."""

    def __init__(self, answer: requests.Response) -> None:
        self.status = answer.status_code
        self.data = answer.content
        self.reason = answer.reason


class _PoolManagerViaRequests:
    """Stands in for ``urllib3.PoolManager`` inside the example's ``handlers/client.py`` only.

    Why it exists: the example's HttpsClient calls ``urllib3.PoolManager().request(...)`` directly,
    and ``responses`` intercepts only what goes through ``requests`` (it patches requests' HTTPAdapter),
    so without this the connector would try to reach the real Salesforce. This sends the same method,
    URL, headers and body through ``requests`` instead, so that the ``responses`` double answers (and
    checks) every Salesforce call; the connector's own code runs unchanged. Only the example's module
    sees it: urllib3 itself (botocore, moto) is untouched."""

    def __init__(self, timeout: Optional[urllib3.Timeout] = None, **_: Any) -> None:
        self.timeout = (timeout.connect_timeout, timeout.read_timeout) if timeout is not None else None

    def request(self, method: str, url: str, headers: Optional[Dict[str, str]] = None, body: Any = None,
                **_: Any) -> _Answer:
        return _Answer(requests.request(method, url, headers=headers, data=body, timeout=self.timeout,
                                        allow_redirects=False))


# -- fixtures -------------------------------------------------------------------------------------------

class Connector:
    """The example's Lambda entry point, unchanged, behind a recorder of the events AppFlow sent."""

    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []

    def __call__(self, event: Dict[str, Any], context: Any) -> Any:
        self.events.append(copy.deepcopy(event))
        return salesforce_lambda_handler(event, context)

    def of(self, kind: str) -> List[Dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """moto (Secrets Manager, S3) outside, the emulator inside, the Salesforce double innermost (it
    must be the last to patch requests: moto keeps a ``responses`` mock of its own)."""
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):  # the connector's boto3 must not look for a profile
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(example_client, "urllib3",
                        SimpleNamespace(PoolManager=_PoolManagerViaRequests, Timeout=urllib3.Timeout))
    connector = Connector()
    with moto.mock_aws(), mock_appflow() as emu, \
            responses.RequestsMock(assert_all_requests_are_fired=True) as salesforce:
        emu.register_lambda(ARN, connector)
        yield SimpleNamespace(emu=emu, salesforce=salesforce, connector=connector,
                              appflow=boto3.client("appflow", region_name=REGION),
                              s3=boto3.client("s3", region_name=REGION),
                              secrets=boto3.client("secretsmanager", region_name=REGION))


def register(world: SimpleNamespace) -> None:
    world.appflow.register_connector(connectorLabel=LABEL, description="The example Salesforce connector of AWS",
                                     connectorProvisioningType="LAMBDA",
                                     connectorProvisioningConfig={"lambda": {"lambdaArn": ARN}})


def create_profile(world: SimpleNamespace) -> None:
    world.appflow.create_connector_profile(
        connectorProfileName=PROFILE, connectorType="CustomConnector", connectorLabel=LABEL, connectionMode="Public",
        connectorProfileConfig={
            "connectorProfileProperties": {"CustomConnector": {
                "profileProperties": {"instanceUrl": INSTANCE, "is_sandbox_account": "false"},
                "oAuth2Properties": {"tokenUrl": "https://login.salesforce.com/services/oauth2/token",
                                     "oAuth2GrantType": "AUTHORIZATION_CODE"}}},
            "connectorProfileCredentials": {"CustomConnector": {
                "authenticationType": "OAUTH2",
                "oauth2": {"accessToken": ACCESS_TOKEN, "refreshToken": "5Aep861refresh", "clientId": "3MVG9client",
                           "clientSecret": "client-secret"}}},
        })


def userinfo_ok(world: SimpleNamespace) -> None:
    world.salesforce.add(responses.GET, USERINFO, json={
        "sub": "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS", "user_id": "005xx000001SwiUAAS",
        "organization_id": "00Dxx0000001gPLEAY", "preferred_username": "admin@acme.example"})


def describe_ok(world: SimpleNamespace) -> None:
    world.salesforce.add(responses.GET, f"{API}/sobjects/Account/describe", json=ACCOUNT_DESCRIBE)


def create_flow(world: SimpleNamespace, trigger: Optional[Dict[str, Any]] = None, **source: Any) -> None:
    world.s3.create_bucket(Bucket=BUCKET)
    world.appflow.create_flow(
        flowName=FLOW, triggerConfig=trigger or {"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "CustomConnector", "connectorProfileName": PROFILE,
                          "sourceConnectorProperties": {"CustomConnector": {"entityName": "Account"}}, **source},
        destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {"S3": {
            "bucketName": BUCKET, "bucketPrefix": "accounts", "s3OutputFormatConfig": {"fileType": "JSON"}}}}],
        tasks=TASKS)


def answer_queries(world: SimpleNamespace, *pages: List[Dict[str, Any]]) -> List[str]:
    """Salesforce's query endpoint, answering ``pages`` in turn; the SOQL of each call (``q`` decoded)."""
    soql: List[str] = []

    def query(request: Any) -> Tuple[int, Dict[str, str], str]:
        (text,) = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)["q"]
        records = pages[len(soql)]
        soql.append(text)
        return 200, {}, json.dumps({"totalSize": len(records), "done": True, "records": records})

    world.salesforce.add_callback(responses.GET, f"{API}/query", callback=query, content_type="application/json")
    return soql


def last_run(world: SimpleNamespace) -> Dict[str, Any]:
    return world.appflow.describe_flow_execution_records(flowName=FLOW)["flowExecutions"][0]


def client_error(call: Any, **kwargs: Any) -> Tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    error = info.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]


def assert_bearer(world: SimpleNamespace) -> None:
    """Every Salesforce call carried the profile's access token, which the connector read from the
    secret in moto's Secrets Manager."""
    assert world.salesforce.calls
    assert {call.request.headers["Authorization"] for call in world.salesforce.calls} == {f"Bearer {ACCESS_TOKEN}"}


# -- tests ----------------------------------------------------------------------------------------------

def test_describe_connector_reports_what_the_example_declares(world):
    register(world)
    assert world.connector.events == [{"type": "DescribeConnectorConfigurationRequest", "locale": "en-US"}]
    config = world.appflow.describe_connector(connectorType="CustomConnector", connectorLabel=LABEL)[
        "connectorConfiguration"]
    # handlers/configuration.py: describe_connector_configuration
    assert (config["connectorName"], config["connectorOwner"], config["connectorVersion"]) == \
        ("SamplePythonSalesforceConnector", "SampleConnector", "1.0")
    assert config["connectorType"] == "CUSTOMCONNECTOR" and config["connectorLabel"] == LABEL
    assert config["connectorModes"] == ["SOURCE", "DESTINATION"]
    assert (config["canUseAsSource"], config["canUseAsDestination"]) == (True, True)
    assert config["authenticationConfig"] == {
        "isBasicAuthSupported": False, "isApiKeyAuthSupported": False, "isOAuth2Supported": True,
        "isCustomAuthSupported": False,
        "oAuth2Defaults": {
            "oauthScopes": ["api", "refresh_token"],
            "tokenUrls": ["https://login.salesforce.com/services/oauth2/token",
                          "https://test.salesforce.com/services/oauth2/token"],
            "authCodeUrls": ["https://login.salesforce.com/services/oauth2/authorize",
                             "https://test.salesforce.com/services/oauth2/authorize"],
            "oauth2GrantTypesSupported": ["AUTHORIZATION_CODE"]}}
    assert config["connectorRuntimeSettings"] == [
        {"key": "instanceUrl", "dataType": "String", "isRequired": True, "label": "Salesforce Instance URL",
         "description": "URL of the instance where user wants to run the operations", "scope": "CONNECTOR_PROFILE"},
        {"key": "is_sandbox_account", "dataType": "Boolean", "isRequired": True,
         "label": "Type of salesforce account", "description": "Is Salesforce account a sandbox account",
         "scope": "CONNECTOR_PROFILE"}]
    assert config["supportedApiVersions"] == ["v51.0"]
    assert config["supportedWriteOperations"] == ["INSERT", "UPDATE", "UPSERT"]  # constants.SUPPORTED_WRITE_OPERATIONS
    assert config["supportedTriggerTypes"] == ["OnDemand", "Scheduled"]  # the SDK's default, as AppFlow spells it
    # The example declares no operators: the SDK's default is every one of them.
    assert {"PROJECTION", "GREATER_THAN", "EQUAL_TO", "CONTAINS", "BETWEEN", "NO_OP"} <= \
        set(config["supportedOperators"])
    assert config["connectorProvisioningType"] == "LAMBDA"
    assert config["connectorProvisioningConfig"] == {"lambda": {"lambdaArn": ARN}}
    assert len(world.salesforce.calls) == 0  # describing itself needs no Salesforce


def test_a_profile_is_validated_against_salesforce_and_its_secret_is_in_moto(world):
    register(world)
    userinfo_ok(world)
    create_profile(world)
    assert [c.request.url for c in world.salesforce.calls] == [USERINFO]
    assert_bearer(world)
    validate = sdk_requests.ValidateCredentialsRequest.from_dict(world.connector.of("ValidateCredentialsRequest")[0])
    assert validate.credentials.authentication_type.name == "OAuth2"
    assert validate.connector_runtime_settings == {"instanceUrl": INSTANCE, "is_sandbox_account": "false"}
    (profile,) = world.appflow.describe_connector_profiles()["connectorProfileDetails"]
    assert profile["credentialsArn"] == validate.credentials.secret_arn
    secret = json.loads(world.secrets.get_secret_value(SecretId=profile["credentialsArn"])["SecretString"])
    assert secret["accessToken"] == ACCESS_TOKEN
    assert [s["ARN"] for s in world.secrets.list_secrets()["SecretList"]] == [profile["credentialsArn"]]


def test_entities_come_from_salesforce(world):
    register(world)
    userinfo_ok(world)
    create_profile(world)
    world.salesforce.add(responses.GET, f"{API}/sobjects", json=SOBJECTS)
    describe_ok(world)
    listed = world.appflow.list_connector_entities(connectorProfileName=PROFILE)["connectorEntityMap"]
    assert listed == {"Objects": [{"name": "Account", "label": "Account", "hasNestedEntities": False},
                                  {"name": "Contact", "label": "Contact", "hasNestedEntities": False}]}
    fields = world.appflow.describe_connector_entity(connectorProfileName=PROFILE, connectorEntityName="Account")[
        "connectorEntityFields"]
    assert [(f["identifier"], f["supportedFieldTypeDetails"]["v1"]["fieldType"]) for f in fields] == [
        ("Id", "String"), ("Name", "String"), ("Industry", "String"), ("AnnualRevenue", "Double"),
        ("LastModifiedDate", "DateTime"), ("NumberOfEmployees", "Integer")]
    by_name = {f["identifier"]: f for f in fields}
    # handlers/metadata.py build_field_definition: unique -> primary key, filterable -> queryable,
    # idLookup -> UPDATE and UPSERT; label and description are Salesforce's label.
    identifier = by_name["Id"]
    assert (identifier["isPrimaryKey"], identifier["label"], identifier["description"]) == \
        (True, "Account ID", "Account ID")
    assert identifier["sourceProperties"] == {"isRetrievable": True, "isQueryable": True,
                                              "isTimestampFieldForIncrementalQueries": False}
    assert identifier["destinationProperties"]["isCreatable"] is False
    assert sorted(identifier["destinationProperties"]["supportedWriteOperations"]) == ["UPDATE", "UPSERT"]
    assert by_name["NumberOfEmployees"]["sourceProperties"]["isQueryable"] is False
    assert by_name["AnnualRevenue"]["destinationProperties"]["isUpdatable"] is True
    assert [c.request.url for c in world.salesforce.calls[1:]] == [f"{API}/sobjects", f"{API}/sobjects/Account/describe"]
    assert_bearer(world)


def test_a_flow_runs_through_the_example_connector_and_its_soql(world):
    register(world)
    userinfo_ok(world)
    create_profile(world)
    create_flow(world)
    describe_ok(world)
    soql = answer_queries(world, ACCOUNTS)
    execution_id = world.appflow.start_flow(flowName=FLOW)["executionId"]

    # The event reached the SDK's QueryDataRequest, complete enough for the connector to build its query.
    (event,) = world.connector.of("QueryDataRequest")
    assert event["filterExpression"] == EXPECTED_FILTER
    request = sdk_requests.QueryDataRequest.from_dict(event)
    assert request.entity_identifier == "Account"
    assert request.selected_field_names == PROJECTED
    assert request.filter_expression == EXPECTED_FILTER
    assert request.max_results == 1000 and request.next_token is None
    context = request.connector_context
    assert context.api_version == "v51.0"
    assert context.connector_runtime_settings == {"instanceUrl": INSTANCE, "is_sandbox_account": "false"}
    assert context.credentials.authentication_type.name == "OAuth2"
    assert context.credentials.secret_arn == \
        world.appflow.describe_connector_profiles()["connectorProfileDetails"][0]["credentialsArn"]
    assert [(f.field_name, f.data_type.name) for f in context.entity_definition.fields] == [
        ("Id", "String"), ("Name", "String"), ("Industry", "String"), ("AnnualRevenue", "Double"),
        ("LastModifiedDate", "DateTime"), ("NumberOfEmployees", "Integer")]

    # The key assertion: the SOQL the example built from the emulator's filterExpression.
    assert soql == [EXPECTED_SOQL]
    assert_bearer(world)

    run = last_run(world)
    assert run["executionId"] == execution_id
    assert run["executionStatus"] == "Successful"
    # What the connector returned is what was processed: the emulator does not filter it again.
    assert run["executionResult"]["recordsProcessed"] == len(ACCOUNTS)
    assert run["executionResult"]["bytesProcessed"] == sum(len(json.dumps(a)) for a in ACCOUNTS)

    keys = [o["Key"] for o in world.s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys and all(k.startswith(f"accounts/{FLOW}/") for k in keys)
    written = [json.loads(line) for k in keys
               for line in world.s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode().splitlines() if line]
    # Projected (Salesforce's ``attributes`` is gone) and mapped (renamed, converted).
    assert written == [{"account_id": a["Id"], "account_name": a["Name"], "industry": a["Industry"],
                        "annual_revenue": a["AnnualRevenue"], "last_modified": a["LastModifiedDate"]}
                       for a in ACCOUNTS]


T0 = datetime(2024, 6, 3, 12, 0, tzinfo=timezone.utc)  # when the scheduled flow is activated


@pytest.fixture
def frozen_clock() -> Iterator[Callable[[float], None]]:
    """The clock stands still at T0 (before ``world``: the emulator's clock is the process's); the
    fixture's value moves it by so many seconds."""
    time_machine = pytest.importorskip("time_machine")
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller.shift


def test_incremental_windows_reach_the_soql(frozen_clock, world):
    register(world)
    userinfo_ok(world)
    create_profile(world)
    create_flow(world, {"triggerType": "Scheduled", "triggerProperties": {"Scheduled": {
        "scheduleExpression": "rate(1hours)", "dataPullMode": "Incremental"}}},
        incrementalPullConfig={"datetimeTypeFieldName": "LastModifiedDate"})
    for _ in range(2):  # each run describes Account first
        describe_ok(world)
    soql = answer_queries(world, ACCOUNTS, [])
    world.appflow.start_flow(flowName=FLOW)  # activation runs at once: the window reaches 30 days back
    frozen_clock(3600)
    world.appflow.describe_flow(flowName=FLOW)  # any call runs the ticks the clock has passed
    # The window [start, end) follows the Filter tasks as ``LastModifiedDate between <start> and <end>``;
    # the example reads ``between`` as two exclusive comparisons (visitBetweenExpression).
    assert [e["filterExpression"] for e in world.connector.of("QueryDataRequest")] == [
        f"{EXPECTED_FILTER} and LastModifiedDate between 2024-05-04T12:00:00.000Z and 2024-06-03T12:00:00.000Z",
        f"{EXPECTED_FILTER} and LastModifiedDate between 2024-06-03T12:00:00.000Z and 2024-06-03T13:00:00.000Z"]
    assert soql == [
        f"{EXPECTED_SOQL} and LastModifiedDate > 2024-05-04T12:00:00.000+0000 "
        "and LastModifiedDate < 2024-06-03T12:00:00.000+0000",
        f"{EXPECTED_SOQL} and LastModifiedDate > 2024-06-03T12:00:00.000+0000 "
        "and LastModifiedDate < 2024-06-03T13:00:00.000+0000"]
    runs = world.appflow.describe_flow_execution_records(flowName=FLOW)["flowExecutions"]
    assert [(r["executionStatus"], r["executionResult"]["recordsProcessed"]) for r in reversed(runs)] == [
        ("Successful", len(ACCOUNTS)), ("Successful", 0)]


def test_rejected_credentials_leave_no_profile_and_no_secret(world):
    register(world)
    world.salesforce.add(responses.GET, USERINFO, status=401,
                         json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    code, status, message = client_error(create_profile, world=world)
    assert (code, status) == ("ConnectorAuthenticationException", 401)
    # The connector's own text (handlers/salesforce.py check_for_errors_in_salesforce_response),
    # naming the connector and the request.
    assert message == (
        f"Error while communicating to connector: The custom connector {LABEL} failed ValidateCredentialsRequest: "
        "Request failed with status code 401 error reason Unauthorized and Salesforce response is "
        '[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]')
    assert world.appflow.describe_connector_profiles()["connectorProfileDetails"] == []
    assert world.secrets.list_secrets()["SecretList"] == []
    (event,) = world.connector.of("ValidateCredentialsRequest")
    with pytest.raises(world.secrets.exceptions.ResourceNotFoundException):
        world.secrets.get_secret_value(SecretId=event["credentials"]["secretArn"])


def test_a_salesforce_error_on_the_query_ends_the_run_in_error(world):
    register(world)
    userinfo_ok(world)
    create_profile(world)
    create_flow(world)
    describe_ok(world)
    world.salesforce.add(responses.GET, f"{API}/query", status=500,
                         json=[{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}])
    world.appflow.start_flow(flowName=FLOW)
    run = last_run(world)
    assert run["executionStatus"] == "Error"
    # The connector's message, with what executionMessage's pattern does not allow turned into spaces.
    assert run["executionResult"]["errorInfo"]["executionMessage"] == (
        f"The custom connector {LABEL} failed QueryDataRequest Request failed with status code 500 error reason "
        "Internal Server Error and Salesforce response is message An unexpected error occurred , "
        "errorCode UNKNOWN_EXCEPTION")
    assert run["executionResult"].get("recordsProcessed", 0) == 0
    assert world.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
