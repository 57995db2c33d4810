"""Unit tests of the SDK-written memory connector alone: events built as AppFlow sends them, each checked
against the SDK's own ``*Request.from_dict``, answered by ``MemoryConnector(Store(...)).lambda_handler``,
with the credentials' secret in moto's Secrets Manager."""
import json
import threading

import pytest

from tests.conftest import require_custom_connector_sdk  # noqa: E402

require_custom_connector_sdk()
pytest.importorskip("moto")

import boto3  # noqa: E402
import custom_connector_sdk.lambda_handler.requests as sdk_requests  # noqa: E402
from custom_connector_sdk.connector.context import EntityDefinition  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.connectors import memory_connector as mc  # noqa: E402
from tests.connectors.memory_connector import MemoryConnector, Store, seed_records  # noqa: E402

REQUEST_CLASSES = {
    "DescribeConnectorConfigurationRequest": sdk_requests.DescribeConnectorConfigurationRequest,
    "ValidateCredentialsRequest": sdk_requests.ValidateCredentialsRequest,
    "ValidateConnectorRuntimeSettingsRequest": sdk_requests.ValidateConnectorRuntimeSettingsRequest,
    "ListEntitiesRequest": sdk_requests.ListEntitiesRequest,
    "DescribeEntityRequest": sdk_requests.DescribeEntityRequest,
    "QueryDataRequest": sdk_requests.QueryDataRequest,
    "WriteDataRequest": sdk_requests.WriteDataRequest,
    "RetrieveDataRequest": sdk_requests.RetrieveDataRequest,
}

OAUTH_SECRET = {"authenticationType": "OAUTH2", "accessToken": "token-1", "refreshToken": "refresh-1",
                "clientId": "client", "clientSecret": "shh"}
API_KEY_SECRET = {"authenticationType": "APIKEY", "apiKey": "key-1", "apiSecretKey": "secret-1"}


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws():
    """Moto's Secrets Manager for the module (one mock: starting one per test costs more than the tests).
    Returns a function making a secret (payload dict or raw text) -> ARN."""
    # moto outside: it restores the credentials variables it set last, after monkeypatch undid its own
    with mock_aws(), pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        client = boto3.client("secretsmanager")
        count = iter(range(100000))

        def make(payload):
            text = payload if isinstance(payload, str) else json.dumps(payload)
            return client.create_secret(Name=f"appflow/memory-{next(count)}", SecretString=text)["ARN"]
        make.client = client
        yield make


@pytest.fixture
def secrets(aws):
    return aws


@pytest.fixture(scope="module")
def good_arn(aws):
    return aws(OAUTH_SECRET)


@pytest.fixture
def arn(good_arn):
    return good_arn


@pytest.fixture
def connector():
    return MemoryConnector(Store(seed_records()))


def invoke(connector, event):
    """What AppFlow gets back: the event is checked against the SDK's request class, the answer must be JSON."""
    REQUEST_CLASSES[event["type"]].from_dict(event)
    return json.loads(json.dumps(connector.lambda_handler(event, None)))


def context(arn, auth="OAuth2", settings=None, definition=None):
    ctx = {"apiVersion": "v1.0", "credentials": {"secretArn": arn, "authenticationType": auth},
           "connectorRuntimeSettings": settings or {"instanceUrl": "https://memory.example"}}
    if definition is not None:
        ctx["entityDefinition"] = definition
    return ctx


def query_event(arn, expression=None, entity="Account", **extra):
    event = {"type": "QueryDataRequest", "entityIdentifier": entity, "connectorContext": context(arn)}
    if expression is not None:
        event["filterExpression"] = expression
    event.update(extra)
    return event


def write_event(arn, operation, records, entity="Account", id_field_names=None, all_or_none=None, settings=None):
    event = {"type": "WriteDataRequest", "entityIdentifier": entity,
             "connectorContext": context(arn, settings=settings),
             "records": [record if isinstance(record, str) else json.dumps(record) for record in records]}
    if operation is not None:
        event["operation"] = operation
    if id_field_names is not None:
        event["idFieldNames"] = id_field_names
    if all_or_none is not None:
        event["allOrNone"] = all_or_none
    return event


def ids(answer):
    assert answer["isSuccess"] is True, answer
    return [json.loads(record)["Id"] for record in answer["records"]]


def query_ids(connector, arn, expression, entity="Account"):
    return ids(invoke(connector, query_event(arn, expression, entity)))


def error_of(answer):
    assert answer["isSuccess"] is False, answer
    return answer["errorDetails"]["errorCode"], answer["errorDetails"]["errorMessage"]


def stored(connector, entity="Account"):
    return {row["Id"]: row for row in connector.store.records(entity)}


# --- module surface and configuration ----------------------------------------------------------


def test_module_surface_and_seed():
    assert mc.CONNECTOR.store is mc.STORE
    assert isinstance(mc.CONNECTOR, MemoryConnector)
    data = seed_records()
    assert [row["Id"] for row in data["Account"]] == ["A001", "A002", "A003", "A004", "A005"]
    assert [row["Id"] for row in data["Contact"]] == ["C001", "C002", "C003", "C004"]
    own = MemoryConnector()
    assert own.store is not mc.STORE and own.store.snapshot() == data
    data["Account"].clear()  # a copy
    assert len(seed_records()["Account"]) == 5
    answer = mc.lambda_handler({"type": "DescribeConnectorConfigurationRequest"}, None)
    assert answer["connectorName"] == "MemoryConnector"


def test_unknown_request_type_is_an_sdk_error(connector):
    with pytest.raises(RuntimeError):
        connector.lambda_handler({"type": "NoSuchRequest"}, None)


def test_describe_connector_configuration(connector):
    answer = invoke(connector, {"type": "DescribeConnectorConfigurationRequest", "locale": "en-US"})
    assert answer["isSuccess"] is True
    assert (answer["connectorOwner"], answer["connectorName"], answer["connectorVersion"]) == \
        ("appflow-emu-tests", "MemoryConnector", "1.0")
    assert answer["connectorModes"] == ["SOURCE", "DESTINATION"]
    assert answer["supportedApiVersions"] == ["v1.0"]
    assert answer["supportedWriteOperations"] == ["INSERT", "UPDATE", "UPSERT", "DELETE"]
    assert "BETWEEN" in answer["operatorsSupported"] and "ONDEMAND" in answer["supportedTriggerTypes"]
    assert "BYMINUTE" in answer["triggerFrequenciesSupported"]
    auth = answer["authenticationConfig"]
    assert auth["isOAuth2Supported"] is True and auth["isApiKeyAuthSupported"] is True
    defaults = auth["oAuth2Defaults"]
    assert defaults["oAuth2GrantTypesSupported"] == ["CLIENT_CREDENTIALS", "AUTHORIZATION_CODE"]
    assert defaults["oAuthScopes"] == ["read", "write"]
    assert defaults["tokenURL"] and defaults["authURL"] and defaults["oAuth2CustomProperties"] is None
    settings = {setting["key"]: setting for setting in answer["connectorRuntimeSetting"]}
    assert {key: (s["dataType"], s["required"], s["scope"]) for key, s in settings.items()} == {
        "instanceUrl": ("String", True, "CONNECTOR_PROFILE"),
        "region": ("String", False, "CONNECTOR_PROFILE"),
        "pageSize": ("Integer", False, "SOURCE"),
        "dryRun": ("Boolean", False, "DESTINATION"),
    }
    assert settings["region"]["connectorSuppliedValueOptions"] == ["us-east-1", "us-west-2", "eu-west-1"]


# --- runtime settings --------------------------------------------------------------------------


def settings_event(scope, settings):
    return {"type": "ValidateConnectorRuntimeSettingsRequest", "scope": scope, "connectorRuntimeSettings": settings}


@pytest.mark.parametrize("scope, settings", [
    ("CONNECTOR_PROFILE", {"instanceUrl": "https://memory.example"}),
    ("CONNECTOR_PROFILE", {"instanceUrl": "https://memory.example", "region": "eu-west-1"}),
    ("SOURCE", {}),
    ("SOURCE", {"pageSize": "25"}),
    ("SOURCE", {"pageSize": 25}),
    ("DESTINATION", {"dryRun": "true"}),
    ("DESTINATION", {"dryRun": False}),
    ("SOURCE_AND_DESTINATION", {"pageSize": "2", "dryRun": "false"}),
])
def test_valid_runtime_settings(connector, scope, settings):
    answer = invoke(connector, settings_event(scope, settings))
    assert answer == {"isSuccess": True, "errorsByInputField": None, "errorDetails": None}


@pytest.mark.parametrize("scope, settings, errors", [
    ("CONNECTOR_PROFILE", {}, {"instanceUrl": "instanceUrl is required"}),
    ("CONNECTOR_PROFILE", {"instanceUrl": "http://memory.example"},
     {"instanceUrl": "instanceUrl must start with https://"}),
    ("CONNECTOR_PROFILE", {"instanceUrl": "https://memory.example", "region": "mars-1"},
     {"region": "region must be one of us-east-1, us-west-2, eu-west-1"}),
    ("SOURCE", {"pageSize": "0"}, {"pageSize": "pageSize must be a positive integer, got '0'"}),
    ("DESTINATION", {"dryRun": "maybe"}, {"dryRun": "dryRun must be true or false, got 'maybe'"}),
])
def test_invalid_runtime_settings(connector, scope, settings, errors):
    answer = invoke(connector, settings_event(scope, settings))
    assert answer["isSuccess"] is False
    assert answer["errorsByInputField"] == errors
    code, message = error_of(answer)
    assert code == "InvalidArgument" and message.startswith("Invalid connector runtime settings: ")


# --- credentials -------------------------------------------------------------------------------


def credentials_event(arn, auth="OAuth2"):
    return {"type": "ValidateCredentialsRequest", "credentials": {"secretArn": arn, "authenticationType": auth},
            "connectorRuntimeSettings": {"instanceUrl": "https://memory.example"}}


def test_validate_oauth2_credentials(connector, arn):
    assert invoke(connector, credentials_event(arn)) == {"isSuccess": True, "errorDetails": None}


def test_validate_api_key_credentials(connector, secrets):
    answer = invoke(connector, credentials_event(secrets(API_KEY_SECRET), "ApiKey"))
    assert answer["isSuccess"] is True


@pytest.mark.parametrize("payload, auth, message", [
    ({**OAUTH_SECRET, "accessToken": "invalid"}, "OAuth2", "the accessToken was rejected"),
    ({**OAUTH_SECRET, "accessToken": ""}, "OAuth2", "the secret has no accessToken"),
    ({"authenticationType": "OAUTH2"}, "OAuth2", "the secret has no accessToken"),
    ({**API_KEY_SECRET, "apiKey": "invalid"}, "ApiKey", "the apiKey was rejected"),
    (API_KEY_SECRET, "OAuth2", "holds APIKEY credentials, not OAuth2"),
    ("not json", "OAuth2", "does not hold a JSON object"),
    (OAUTH_SECRET, "BasicAuth", "Authentication type BasicAuth is not supported"),
    (OAUTH_SECRET, "CustomAuth", "Authentication type CustomAuth is not supported"),
])
def test_rejected_credentials(connector, secrets, payload, auth, message):
    code, text = error_of(invoke(connector, credentials_event(secrets(payload), auth)))
    assert code == "InvalidCredentials" and message in text


def test_missing_secret(connector, secrets):
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nothing-AbCdEf"
    code, text = error_of(invoke(connector, credentials_event(missing)))
    assert code == "ResourceNotFoundError" and missing in text


def test_credentials_are_read_on_every_call(connector, secrets):
    arn = secrets(OAUTH_SECRET)
    assert invoke(connector, credentials_event(arn))["isSuccess"] is True
    secrets.client.put_secret_value(SecretId=arn, SecretString=json.dumps({**OAUTH_SECRET, "accessToken": "invalid"}))
    assert error_of(invoke(connector, query_event(arn)))[0] == "InvalidCredentials"
    secrets.client.put_secret_value(SecretId=arn, SecretString=json.dumps(OAUTH_SECRET))
    assert invoke(connector, query_event(arn))["isSuccess"] is True


BAD_CREDENTIAL_EVENTS = {
    "ListEntitiesRequest": lambda ctx: {"type": "ListEntitiesRequest", "connectorContext": ctx},
    "DescribeEntityRequest": lambda ctx: {"type": "DescribeEntityRequest", "entityIdentifier": "Account",
                                          "connectorContext": ctx},
    "QueryDataRequest": lambda ctx: {"type": "QueryDataRequest", "entityIdentifier": "Account",
                                     "connectorContext": ctx},
    "RetrieveDataRequest": lambda ctx: {"type": "RetrieveDataRequest", "entityIdentifier": "Account",
                                        "connectorContext": ctx, "idFieldName": "Id", "ids": ["A001"]},
    "WriteDataRequest": lambda ctx: {"type": "WriteDataRequest", "entityIdentifier": "Account",
                                     "connectorContext": ctx, "operation": "DELETE", "idFieldNames": ["Id"],
                                     "records": [json.dumps({"Id": "A001"})]},
}


@pytest.mark.parametrize("request_type", sorted(BAD_CREDENTIAL_EVENTS))
def test_every_call_checks_credentials(connector, secrets, request_type):
    bad = secrets({**OAUTH_SECRET, "accessToken": "invalid"})
    answer = invoke(connector, BAD_CREDENTIAL_EVENTS[request_type](context(bad)))
    assert error_of(answer) == ("InvalidCredentials", "Invalid credentials: the accessToken was rejected")
    assert "A001" in stored(connector)


def test_a_context_without_credentials_is_refused(connector, secrets):
    event = {"type": "ListEntitiesRequest", "connectorContext": {"apiVersion": "v1.0"}}
    assert error_of(invoke(connector, event))[0] == "InvalidCredentials"


def test_api_key_credentials_serve_record_calls(connector, secrets):
    key = secrets(API_KEY_SECRET)
    event = query_event(key)
    event["connectorContext"] = context(key, auth="ApiKey")
    assert len(ids(invoke(connector, event))) == 5


# --- metadata ----------------------------------------------------------------------------------


def test_list_entities(connector, arn):
    answer = invoke(connector, {"type": "ListEntitiesRequest", "connectorContext": context(arn)})
    assert answer["isSuccess"] is True and answer["nextToken"] is None
    assert answer["entities"] == [
        {"entityIdentifier": "Account", "hasNestedEntities": False, "isWritable": True, "label": "Account",
         "description": "Companies that are customers or prospects"},
        {"entityIdentifier": "Contact", "hasNestedEntities": False, "isWritable": True, "label": "Contact",
         "description": "People who work for an account"},
    ]


def test_list_entities_paginates(connector, arn):
    event = {"type": "ListEntitiesRequest", "connectorContext": context(arn), "maxResult": 1}
    first = invoke(connector, event)
    assert [e["entityIdentifier"] for e in first["entities"]] == ["Account"] and first["nextToken"]
    second = invoke(connector, {**event, "nextToken": first["nextToken"]})
    assert [e["entityIdentifier"] for e in second["entities"]] == ["Contact"] and second["nextToken"] is None


def test_list_entities_under_an_entity_lists_nothing(connector, arn):
    event = {"type": "ListEntitiesRequest", "connectorContext": context(arn), "entitiesPath": "Account"}
    answer = invoke(connector, event)
    assert answer["isSuccess"] is True and answer["entities"] == [] and answer["nextToken"] is None


@pytest.mark.parametrize("extra, message", [
    ({"entitiesPath": "Lead"}, "Entity path Lead does not exist"),
    ({"nextToken": "garbage"}, "Invalid nextToken: garbage"),
    ({"maxResult": 0}, "maxResult must be a positive integer, got 0"),
])
def test_list_entities_refusals(connector, arn, extra, message):
    event = {"type": "ListEntitiesRequest", "connectorContext": context(arn), **extra}
    assert error_of(invoke(connector, event)) == ("InvalidArgument", message)


def describe(connector, arn, name):
    return invoke(connector, {"type": "DescribeEntityRequest", "entityIdentifier": name,
                              "connectorContext": context(arn)})


def test_describe_account(connector, arn):
    answer = describe(connector, arn, "Account")
    assert answer["isSuccess"] is True
    definition = answer["entityDefinition"]
    assert definition["entity"]["entityIdentifier"] == "Account"
    fields = {field["fieldName"]: field for field in definition["fields"]}
    assert {name: field["dataType"] for name, field in fields.items()} == {
        "Id": "String", "Name": "String", "Industry": "String", "Employees": "Integer", "AnnualRevenue": "Double",
        "IsActive": "Boolean", "CreatedDate": "Date", "LastModified": "DateTime"}
    assert fields["Id"]["isPrimaryKey"] is True
    assert fields["Id"]["writeProperties"]["isCreatable"] is False
    assert fields["Id"]["writeProperties"]["supportedWriteOperations"] == ["UPDATE", "UPSERT", "DELETE"]
    assert fields["LastModified"]["readProperties"]["isTimestampFieldForIncrementalQueries"] is True
    assert fields["Name"]["readProperties"]["isTimestampFieldForIncrementalQueries"] is False
    assert "Technology" in fields["Industry"]["constraints"]["allowedValues"]
    assert "BETWEEN" in fields["Employees"]["filterOperators"]
    assert fields["Name"]["filterOperators"] == ["CONTAINS", "EQUAL_TO", "NOT_EQUAL_TO"]
    parsed = EntityDefinition.from_dict(definition)  # what AppFlow hands back in a run's context
    assert [field.field_name for field in parsed.fields][:2] == ["Id", "Name"]


def test_describe_contact(connector, arn):
    fields = {f["fieldName"]: f for f in describe(connector, arn, "Contact")["entityDefinition"]["fields"]}
    assert list(fields) == ["Id", "AccountId", "Email", "FirstName", "LastName", "LastModified"]
    assert fields["LastModified"]["dataType"] == "DateTime"
    assert fields["Email"]["writeProperties"]["supportedWriteOperations"] == ["UPSERT"]


def test_describe_unknown_entity(connector, arn):
    assert error_of(describe(connector, arn, "Lead")) == ("InvalidArgument", "Entity Lead does not exist")


# --- query: filters ----------------------------------------------------------------------------

ALL = ["A001", "A002", "A003", "A004", "A005"]


@pytest.mark.parametrize("expression, expected", [
    (None, ALL),
    ("", ALL),
    ("Employees > 250", ["A002", "A004"]),
    ("Employees >= 250", ["A001", "A002", "A004"]),
    ("Employees < 45", ["A005"]),
    ("Employees <= 45", ["A003", "A005"]),
    ("Employees = 1200", ["A002"]),
    ("Employees != 1200", ["A001", "A003", "A004", "A005"]),
    ('Employees = "250"', ["A001"]),
    ("AnnualRevenue = 98000000.50", ["A002"]),
    ("AnnualRevenue > 850000.7", ALL),
    ("AnnualRevenue > 850000.75", ["A001", "A002", "A003", "A004"]),
    ("AnnualRevenue < -1", []),
    ("Employees between 12 and 250", ["A003"]),
    ('Name contains "Acme"', ["A001"]),
    ('Name contains "acme"', []),
    ("Name contains 'Brien & \"Sons'", ["A005"]),
    ('Name = ""', []),
    ('Industry = "Technology"', ["A001"]),
    ('Industry != "Technology"', ["A002", "A003", "A004", "A005"]),
    ("Industry = null", ["A003"]),
    ("Industry != null", ["A001", "A002", "A004", "A005"]),
    ('Industry > "A"', ["A001", "A002", "A004", "A005"]),
    ('Industry contains "e"', ["A001", "A004", "A005"]),
    ('Industry in ("Retail", "Healthcare")', ["A004", "A005"]),
    ("Industry in ('Retail', null)", ["A003", "A005"]),
    ("Employees in (12, 45, 46)", ["A003", "A005"]),
    ("IsActive = true", ["A001", "A002", "A004"]),
    ("IsActive = False", ["A003", "A005"]),
    ("IsActive != TRUE", ["A003", "A005"]),
    ('IsActive = "true"', ["A001", "A002", "A004"]),
    ("IsActive", ["A001", "A002", "A004"]),
    ("CreatedDate = 2024-01-31", ["A005"]),
    ("CreatedDate < 2021-12-01", ["A003", "A004"]),
    ("CreatedDate >= 2024-01-31T00:00:00Z", ["A005"]),
    ("CreatedDate between 2020-03-03 and 2023-01-15", ["A002", "A003"]),
    ("LastModified = 2024-01-10T09:30:00.000Z", ["A001"]),
    ("LastModified > 2024-01-20T14:00:00.001Z", ["A004", "A005"]),
    ("LastModified <= 2024-01-10T09:30:00Z", ["A001", "A003"]),
    ("LastModified between 2024-01-10T09:30:00.000Z and 2024-02-01T00:00:00.000Z", ["A002"]),
    ("LastModified between 2024-01-10T09:29:59.999Z and 2024-02-01T00:00:00.001Z", ["A001", "A002", "A005"]),
    ("LastModified between 2024-01-01 and 2024-02-02", ["A001", "A002", "A005"]),
    ('LastModified < "2024-01-01T00:00:00Z"', ["A003"]),
    ("not Employees > 100", ["A003", "A005"]),
    ("NOT (IsActive = true or Employees < 20)", ["A003"]),
    ('IsActive = true and (Industry = "Technology" or Employees > 5000)', ["A001", "A004"]),
    ('Employees > 100 and IsActive = true or Industry = "Retail"', ["A001", "A002", "A004", "A005"]),
    ("Industry = 'Retail' or Employees > 100 and IsActive = false", ["A005"]),
    ("((Employees > 10)) AND ((NOT (Industry = null)))", ["A001", "A002", "A004", "A005"]),
    ("limit 10", ALL),
    ("Employees > 5 limit 10", ALL),
])
def test_filter_expressions(connector, arn, expression, expected):
    assert query_ids(connector, arn, expression) == expected


@pytest.mark.parametrize("expression", [
    r'''Name = "O\'Brien & \"Sons\" Retail"''',
    r"""Name = 'O\'Brien & "Sons" Retail'""",
    r'''Name in ("Initech", "O'Brien & \"Sons\" Retail")''',
])
def test_filter_quote_escapes(connector, arn, expression):
    assert query_ids(connector, arn, expression)[-1] == "A005"


def test_filter_control_character_escapes(secrets):
    arn = secrets(OAUTH_SECRET)
    names = {"E1": "line1\nline2", "E2": "tab\there", "E3": "back\\slash", "E4": "cr\rx", "E5": "plain n"}
    connector = MemoryConnector(Store({"Account": [{"Id": key, "Name": name} for key, name in names.items()]}))
    assert query_ids(connector, arn, r'Name = "line1\nline2"') == ["E1"]
    assert query_ids(connector, arn, r"Name = 'tab\there'") == ["E2"]
    assert query_ids(connector, arn, r'Name = "back\\slash"') == ["E3"]
    assert query_ids(connector, arn, r'Name = "cr\rx"') == ["E4"]
    assert query_ids(connector, arn, r'Name contains "\n"') == ["E1"]


def test_filter_on_contacts(connector, arn):
    assert query_ids(connector, arn, 'AccountId = "A001"', "Contact") == ["C001", "C002"]
    assert query_ids(connector, arn, "LastModified > 2024-01-20T00:00:00Z", "Contact") == ["C003", "C004"]
    assert query_ids(connector, arn, 'Email contains "@acme." and FirstName != "Ada"', "Contact") == ["C002"]


def test_limit_caps_matches_before_pagination(secrets):
    arn = secrets(OAUTH_SECRET)
    rows = [{"Id": f"L{n:02d}", "Name": f"n{n}", "Employees": n} for n in range(15)]
    connector = MemoryConnector(Store({"Account": rows}))
    assert query_ids(connector, arn, "limit 10") == [f"L{n:02d}" for n in range(10)]
    assert query_ids(connector, arn, "Employees >= 3 LIMIT 10") == [f"L{n:02d}" for n in range(3, 13)]
    event = query_event(arn, "Employees >= 3 limit 10", maxResults=4)
    pages, token = [], None
    while True:
        answer = invoke(connector, {**event, **({"nextToken": token} if token else {})})
        pages.append(ids(answer))
        token = answer["nextToken"]
        if token is None:
            break
    assert [len(page) for page in pages] == [4, 4, 2]


def test_a_one_digit_limit_is_a_syntax_error_of_the_grammar(connector, arn):
    code, message = error_of(invoke(connector, query_event(arn, "Employees > 5 limit 5")))
    assert code == "InvalidArgument" and "expecting POS_INTEGER" in message


def test_field_types_come_from_the_request_definition(connector, arn):
    definition = describe(connector, arn, "Account")["entityDefinition"]
    assert query_ids(connector, arn, 'Employees < "3"') == []
    for field in definition["fields"]:
        if field["fieldName"] == "Employees":
            field["dataType"] = "String"
    event = query_event(arn, 'Employees < "3"')
    event["connectorContext"] = context(arn, definition=definition)
    assert ids(invoke(connector, event)) == ["A001", "A002", "A005"]  # "250" < "3" as text


@pytest.mark.parametrize("expression, message", [
    ("Employees > 1 and", "Filter expression has the following syntax errors : line 1:17"),
    ("Foo = 1", "Filter attribute Foo does not exist in entity Account"),
    ('Employees > "many"', "Value many is not valid for Integer field Employees"),
    ("IsActive = 5", "Value 5 is not valid for Boolean field IsActive"),
    ('CreatedDate > "yesterday"', "Value yesterday is not valid for Date field CreatedDate"),
    ("LastModified > 2024-02-30", "2024-02-30 is not a valid date or date-time"),
    ("Name", "Field Name alone is not a condition (only a Boolean field is)"),
    ("5", "A value alone is not a condition: 5"),
])
def test_filter_errors(connector, arn, expression, message):
    code, text = error_of(invoke(connector, query_event(arn, expression)))
    assert code == "InvalidArgument" and text.startswith(message)
    assert "0x" not in text


def test_parse_error_keeps_the_parsers_message(connector, arn):
    _, text = error_of(invoke(connector, query_event(arn, "Employees > 1 and")))
    assert text == ("Filter expression has the following syntax errors : "
                    "line 1:17 at [@4,17:16='<EOF>',<-1>,1:17]:no viable alternative at input 'Employees>1and'")


# --- query: projection and pagination ----------------------------------------------------------


def test_projection(connector, arn):
    answer = invoke(connector, query_event(arn, "Employees = 45", selectedFieldNames=["Name", "Id"]))
    assert [json.loads(record) for record in answer["records"]] == [{"Name": "Initech", "Id": "A003"}]
    assert answer["records"] == [json.dumps({"Name": "Initech", "Id": "A003"})]


def test_full_records(connector, arn):
    answer = invoke(connector, query_event(arn, 'Industry = "Retail"'))
    assert [json.loads(record) for record in answer["records"]] == [seed_records()["Account"][4]]


def test_pagination_by_max_results(connector, arn):
    event = query_event(arn, maxResults=2)
    first = invoke(connector, event)
    second = invoke(connector, {**event, "nextToken": first["nextToken"]})
    third = invoke(connector, {**event, "nextToken": second["nextToken"]})
    assert [ids(first), ids(second), ids(third)] == [["A001", "A002"], ["A003", "A004"], ["A005"]]
    assert first["nextToken"] != second["nextToken"] and third["nextToken"] is None


@pytest.mark.parametrize("max_results, page_size, first_page", [(3, "2", 2), (2, "10", 2), (1000, 4, 4), (1000, None, 5)])
def test_page_size_setting(connector, arn, max_results, page_size, first_page):
    settings = {"instanceUrl": "https://memory.example"}
    if page_size is not None:
        settings["pageSize"] = page_size
    event = query_event(arn, maxResults=max_results)
    event["connectorContext"] = context(arn, settings=settings)
    assert len(ids(invoke(connector, event))) == first_page


@pytest.mark.parametrize("extra, settings, message", [
    ({"nextToken": "not-a-token"}, None, "Invalid nextToken: not-a-token"),
    ({"maxResults": 0}, None, "maxResults must be a positive integer, got 0"),
    ({}, {"pageSize": "lots"}, "pageSize must be a positive integer, got 'lots'"),
    ({"selectedFieldNames": ["Id", "Phone"]}, None, "Field Phone does not exist in entity Account"),
])
def test_query_refusals(connector, arn, extra, settings, message):
    event = query_event(arn, **extra)
    if settings:
        event["connectorContext"] = context(arn, settings=settings)
    assert error_of(invoke(connector, event)) == ("InvalidArgument", message)


def test_query_unknown_entity(connector, arn):
    assert error_of(invoke(connector, query_event(arn, entity="Lead"))) == \
        ("InvalidArgument", "Entity Lead does not exist")


# --- retrieve ----------------------------------------------------------------------------------


def retrieve_event(arn, entity="Account", **extra):
    return {"type": "RetrieveDataRequest", "entityIdentifier": entity, "connectorContext": context(arn), **extra}


def test_retrieve_by_id(connector, arn):
    answer = invoke(connector, retrieve_event(arn, idFieldName="Id", ids=["A004", "A002", "A999"],
                                              selectedFieldNames=["Id", "Employees"]))
    assert [json.loads(r) for r in answer["records"]] == [{"Id": "A002", "Employees": 1200},
                                                          {"Id": "A004", "Employees": 5400}]


def test_retrieve_by_other_field_and_default_id_field(connector, arn):
    answer = invoke(connector, retrieve_event(arn, "Contact", idFieldName="Email", ids=["alan@globex.example"]))
    assert ids(answer) == ["C003"]
    assert ids(invoke(connector, retrieve_event(arn, ids=["A001"]))) == ["A001"]
    assert ids(invoke(connector, retrieve_event(arn))) == []


@pytest.mark.parametrize("entity, extra, message", [
    ("Lead", {"ids": ["x"]}, "Entity Lead does not exist"),
    ("Account", {"idFieldName": "Phone", "ids": ["x"]}, "Field Phone does not exist in entity Account"),
    ("Account", {"ids": ["A001"], "selectedFieldNames": ["Nope"]}, "Field Nope does not exist in entity Account"),
])
def test_retrieve_refusals(connector, arn, entity, extra, message):
    assert error_of(invoke(connector, retrieve_event(arn, entity, **extra))) == ("InvalidArgument", message)


# --- write -------------------------------------------------------------------------------------


def results(answer):
    return [(r["isSuccess"], r["recordId"], r["errorMessage"]) for r in answer["writeRecordResults"]]


def test_insert(connector, arn):
    answer = invoke(connector, write_event(arn, "INSERT", [
        {"Name": "Hooli", "Employees": "42", "IsActive": "true", "AnnualRevenue": 10,
         "LastModified": "2024-03-01T00:00:00Z"},
        {"Name": "Pied Piper"},
        {"Id": "X1", "Name": "Given Id"},
    ]))
    assert answer["isSuccess"] is True and answer["errorDetails"] is None
    assert results(answer) == [(True, "A006", None), (True, "A007", None), (True, "X1", None)]
    rows = stored(connector)
    assert list(rows) == ALL + ["A006", "A007", "X1"]
    assert rows["A006"] == {"Id": "A006", "Name": "Hooli", "Industry": None, "Employees": 42, "AnnualRevenue": 10.0,
                            "IsActive": True, "CreatedDate": None, "LastModified": "2024-03-01T00:00:00Z"}
    assert query_ids(connector, arn, "LastModified > 2024-02-20T00:00:00Z") == ["A006"]


@pytest.mark.parametrize("record, message", [
    ({"Id": "A001", "Name": "Again"}, "duplicate Id A001"),
    ({"Name": "X", "Phone": "1"}, "Field Phone does not exist in entity Account"),
    ({"Name": "X", "Employees": "many"}, "Field Employees expects Integer, got 'many'"),
    ({"Name": "X", "Employees": 1.5}, "Field Employees expects Integer, got 1.5"),
    ({"Name": "X", "Employees": -1}, "Field Employees must be between 0 and 10000000"),
    ({"Name": "X", "IsActive": "yes"}, "Field IsActive expects Boolean, got 'yes'"),
    ({"Name": "X", "CreatedDate": "2024-01-01T00:00:00Z"}, "Field CreatedDate expects Date, got '2024-01-01T00:00:00Z'"),
    ({"Name": "X", "LastModified": "yesterday"}, "Field LastModified expects DateTime, got 'yesterday'"),
    ({"Name": "X", "Industry": "Piracy"}, "Value 'Piracy' is not allowed for field Industry"),
    ({"Name": ""}, "Field Name must be 1 to 255 characters long"),
    ({"Name": None}, "Field Name cannot be null"),
    ({"Industry": "Retail"}, "Required field Name is missing"),
    ("{not json", "Record is not valid JSON"),
    ("[1, 2]", "Record is not a JSON object"),
])
def test_insert_failures_are_partial(connector, arn, record, message):
    answer = invoke(connector, write_event(arn, "INSERT", [{"Name": "Fine"}, record]))
    assert error_of(answer) == ("PartialWriteFailure", "1 of 2 records failed")
    (ok, first_id, _), (failed, _, text) = results(answer)
    assert ok is True and first_id == "A006" and failed is False and text.startswith(message)
    assert list(stored(connector)) == ALL + ["A006"]  # the good record is written


def test_contact_email_pattern(connector, arn):
    answer = invoke(connector, write_event(arn, "INSERT", [{"LastName": "X", "Email": "nope"}], entity="Contact"))
    assert results(answer)[0][2].startswith("Value 'nope' of field Email does not match")


def test_upsert_by_id(connector, arn):
    answer = invoke(connector, write_event(arn, "UPSERT", [
        {"Id": "A001", "Name": "Acme Corp", "Employees": 260},
        {"Id": "A100", "Name": "Newco"},
    ], id_field_names=["Id"]))
    assert results(answer) == [(True, "A001", None), (True, "A100", None)]
    rows = stored(connector)
    assert rows["A001"]["Name"] == "Acme Corp" and rows["A001"]["Employees"] == 260
    assert rows["A001"]["Industry"] == "Technology"  # untouched
    assert rows["A100"]["Name"] == "Newco"


def test_upsert_contact_by_email(connector, arn):
    answer = invoke(connector, write_event(arn, "UPSERT", [
        {"Email": "ada@acme.example", "FirstName": "Augusta", "LastName": "Lovelace"},
        {"Email": "barbara@acme.example", "FirstName": "Barbara", "LastName": "Liskov", "AccountId": "A001"},
    ], entity="Contact", id_field_names=["Email"]))
    assert results(answer) == [(True, "C001", None), (True, "C005", None)]
    rows = stored(connector, "Contact")
    assert rows["C001"]["FirstName"] == "Augusta" and rows["C005"]["Email"] == "barbara@acme.example"


def test_update(connector, arn):
    answer = invoke(connector, write_event(arn, "UPDATE", [
        {"Id": "A002", "Employees": 1300, "Industry": None},
        {"Id": "A999", "Name": "Ghost"},
        {"Name": "No id"},
    ], id_field_names=["Id"]))
    assert error_of(answer) == ("PartialWriteFailure", "2 of 3 records failed")
    assert results(answer) == [(True, "A002", None), (False, "A999", "No Account record with Id = A999"),
                               (False, None, "Missing value for id field Id")]
    assert stored(connector)["A002"]["Employees"] == 1300 and stored(connector)["A002"]["Industry"] is None
    assert "A999" not in stored(connector)


def test_update_cannot_change_id_or_null_a_required_field(connector, arn):
    answer = invoke(connector, write_event(arn, "UPDATE", [
        {"Email": "ada@acme.example", "Id": "C999"},
        {"Email": "grace@acme.example", "LastName": None},
    ], entity="Contact", id_field_names=["Email"]))
    assert [r[2] for r in results(answer)] == ["Field Id is not updatable", "Field LastName cannot be null"]
    assert stored(connector, "Contact")["C002"]["LastName"] == "Hopper"


def test_delete(connector, arn):
    answer = invoke(connector, write_event(arn, "DELETE", [{"Id": "A003"}, {"Id": "A404"}], id_field_names=["Id"]))
    assert results(answer) == [(True, "A003", None), (False, "A404", "No Account record with Id = A404")]
    assert list(stored(connector)) == ["A001", "A002", "A004", "A005"]


def test_delete_by_a_non_unique_field(connector, arn):
    answer = invoke(connector, write_event(arn, "DELETE", [{"AccountId": "A001"}], entity="Contact",
                                           id_field_names=["AccountId"]))
    assert results(answer) == [(True, "C001,C002", None)]
    assert list(stored(connector, "Contact")) == ["C003", "C004"]


@pytest.mark.parametrize("operation, id_field_names, message", [
    ("UPDATE", None, "idFieldNames is required for UPDATE"),
    ("DELETE", [], "idFieldNames is required for DELETE"),
    ("UPSERT", None, "idFieldNames is required for UPSERT"),
    ("UPDATE", ["Phone"], "Id field Phone does not exist in entity Account"),
    (None, None, "operation is required"),
])
def test_write_refusals(connector, arn, operation, id_field_names, message):
    answer = invoke(connector, write_event(arn, operation, [{"Id": "A001", "Name": "Changed"}],
                                           id_field_names=id_field_names))
    assert error_of(answer) == ("InvalidArgument", message)
    assert answer["writeRecordResults"] is None
    assert connector.store.snapshot() == seed_records()


def test_write_unknown_entity(connector, arn):
    assert error_of(invoke(connector, write_event(arn, "INSERT", [{"Name": "x"}], entity="Lead"))) == \
        ("InvalidArgument", "Entity Lead does not exist")


def test_write_nothing(connector, arn):
    answer = invoke(connector, write_event(arn, "INSERT", []))
    assert answer["isSuccess"] is True and answer["writeRecordResults"] == []


def test_all_or_none_applies_nothing_when_a_record_fails(connector, arn):
    answer = invoke(connector, write_event(arn, "UPDATE", [
        {"Id": "A001", "Name": "Changed"},
        {"Id": "A404", "Name": "Missing"},
    ], id_field_names=["Id"], all_or_none=True))
    code, message = error_of(answer)
    assert code == "PartialWriteFailure" and message == "1 of 2 records failed; allOrNone is set, so no record was written"
    assert results(answer) == [(False, "A001", mc.ALL_OR_NONE_MESSAGE),
                               (False, "A404", "No Account record with Id = A404")]
    assert connector.store.snapshot() == seed_records()


def test_all_or_none_applies_a_good_batch(connector, arn):
    answer = invoke(connector, write_event(arn, "INSERT", [{"Name": "One"}, {"Name": "Two"}], all_or_none=True))
    assert answer["isSuccess"] is True and [r[1] for r in results(answer)] == ["A006", "A007"]
    assert len(stored(connector)) == 7


@pytest.mark.parametrize("dry_run", ["true", True, "TRUE"])
def test_dry_run_writes_nothing(connector, arn, dry_run):
    settings = {"instanceUrl": "https://memory.example", "dryRun": dry_run}
    answer = invoke(connector, write_event(arn, "INSERT", [{"Name": "One"}], settings=settings))
    assert answer["isSuccess"] is True and results(answer) == [(True, "A006", None)]
    answer = invoke(connector, write_event(arn, "DELETE", [{"Id": "A001"}, {"Id": "A404"}], id_field_names=["Id"],
                                           settings=settings))
    assert error_of(answer) == ("PartialWriteFailure", "1 of 2 records failed (dry run)")
    assert connector.store.snapshot() == seed_records()


def test_dry_run_false_and_invalid(connector, arn):
    settings = {"instanceUrl": "https://memory.example", "dryRun": "false"}
    assert invoke(connector, write_event(arn, "INSERT", [{"Name": "One"}], settings=settings))["isSuccess"]
    assert "A006" in stored(connector)
    settings["dryRun"] = "maybe"
    assert error_of(invoke(connector, write_event(arn, "INSERT", [{"Name": "Two"}], settings=settings))) == \
        ("InvalidArgument", "dryRun must be true or false, got 'maybe'")


def test_concurrent_inserts_get_distinct_ids(connector, arn):
    errors = []

    def insert(n):
        try:
            for i in range(3):
                answer = connector.lambda_handler(write_event(arn, "INSERT", [{"Name": f"t{n}-{i}"}]), None)
                assert answer["isSuccess"] is True
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = stored(connector)
    assert len(rows) == 5 + 12 and len({row["Name"] for row in rows.values()}) == 17
