"""Entity catalogs through boto3 and the handle: ListConnectorEntities (groups, nesting with
entitiesPath, pagination, apiVersion), DescribeConnectorEntity (fields, operators, primary keys,
incremental timestamp fields, destination flags), ResetConnectorMetadataCache, S3 buckets and
prefixes as entities (embedded store and moto), ``emu.add_entity`` and the field check of
``emu.add_source_records``; and the consistency of advertised operators with create_flow.
"""
from __future__ import annotations

import itertools
from typing import Any, Dict, Iterator, List, Optional, Tuple

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from appflow_emu import mock_appflow
from appflow_emu.catalog.connectors import DEFAULT_TIMESTAMP_FIELD, connector_types, facts
from appflow_emu.model.service import service_model
from tests.conftest import enum_params, has_member, requires_member, requires_operation
from tests.helpers import expect_error

REGION = "us-east-1"
needs_entity_paging = requires_member("ListConnectorEntitiesRequest", "maxResults", "nextToken")
needs_reset_cache = requires_operation("ResetConnectorMetadataCache")

# Entities each catalogued connector lists at the top level (the list).
EXPECTED_ENTITIES: Dict[str, set] = {
    "Salesforce": {"Account", "Contact", "Lead", "Opportunity", "Case"},
    "Servicenow": {"incident", "problem", "sys_user"},
    "Zendesk": {"tickets", "users", "organizations"},
    "Slack": {"conversations"},
    "Marketo": {"leads", "activities"},
    "Googleanalytics": {"reports"},
    "Datadog": {"logs"},
    "Dynatrace": {"problems"},
    "Singular": {"reporting"},
    "Amplitude": {"events"},
    "Trendmicro": {"computers"},
    "Infornexus": {"OrderDetail"},
    "Veeva": {"documents"},
    "Pardot": {"prospects"},
    "SAPOData": {"/sap/opu/odata/sap/API_SALES_ORDER_SRV", "/sap/opu/odata/sap/API_BUSINESS_PARTNER"},
}
CATALOGUED = [t for t in EXPECTED_ENTITIES if t in connector_types()]


def raw_client() -> Any:
    """A client that sends what it is given: the emulator, not botocore, decides."""
    return boto3.client("appflow", region_name=REGION, config=Config(parameter_validation=False))


# -- building requests for any connector type, from the installed model ------------------------------

_VALUES = {"instanceUrl": "https://example.test", "applicationHostUrl": "https://sap.example.test",
           "clientNumber": "100", "portNumber": 443, "roleArn": "arn:aws:iam::123456789012:role/r",
           "applicationServicePath": "/sap/opu/odata"}


def _fill(shape: Any, name: str = "") -> Any:
    t = shape.type_name
    if t == "structure":
        members = shape.members
        wanted = list(shape.required_members) or list(members)[:1]
        return {m: _fill(members[m], m) for m in wanted}
    if t == "integer":
        return _VALUES.get(name, 1)
    if t == "boolean":
        return False
    if t == "list":
        return [_fill(shape.member)]
    if t == "map":
        return {"k": "v"}
    if getattr(shape, "enum", None):
        return shape.enum[0]
    return _VALUES.get(name, "secret-or-name")


def make_profile(client: Any, ctype: str, name: str = "p") -> Optional[str]:
    f = facts(ctype)
    if not f.needs_profile:
        return None
    model = service_model()
    config: Dict[str, Any] = {}
    props = model.shape_for("ConnectorProfileProperties").members[f.profile_member]
    config["connectorProfileProperties"] = {f.profile_member: _fill(props)}
    if f.credentials_member:
        creds = model.shape_for("ConnectorProfileCredentials").members[f.credentials_member]
        config["connectorProfileCredentials"] = {f.credentials_member: _fill(creds)}
    client.create_connector_profile(connectorProfileName=name, connectorType=ctype, connectionMode="Public",
                                    connectorProfileConfig=config)
    return name


def source_config(ctype: str, entity: str, profile: Optional[str]) -> Dict[str, Any]:
    f = facts(ctype)
    if ctype == "S3":
        bucket, _, prefix = entity.partition("/")
        props: Dict[str, Any] = {"bucketName": bucket, "bucketPrefix": prefix}
    elif ctype == "SAPOData":
        props = {"objectPath": entity}
    else:
        props = {"object": entity}
    out: Dict[str, Any] = {"connectorType": ctype, "sourceConnectorProperties": {f.source_member: props}}
    if profile:
        out["connectorProfileName"] = profile
    return out


FILTER_FAMILY = {"PROJECTION", "LESS_THAN", "GREATER_THAN", "CONTAINS", "BETWEEN", "LESS_THAN_OR_EQUAL_TO",
                 "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO", "NOT_EQUAL_TO", "NO_OP"}
ARITHMETIC = {"ADDITION", "MULTIPLICATION", "DIVISION", "SUBTRACTION"}
MASKS = {"MASK_ALL", "MASK_FIRST_N", "MASK_LAST_N"}
VALIDATIONS = {"VALIDATE_NON_NULL", "VALIDATE_NON_ZERO", "VALIDATE_NON_NEGATIVE", "VALIDATE_NUMERIC"}
ALL_OPERATORS: List[str] = list(service_model().shape_for("Operator").enum)  # type: ignore[attr-defined]


def _constant(field_type: str) -> str:
    t = field_type.lower()
    if t in ("datetime", "date", "timestamp"):
        return "1700000000000"
    if t == "boolean":
        return "true"
    if t in ("integer", "long", "double", "decimal", "currency", "percent"):
        return "10"
    return "abc"


def operator_task(ctype: str, op: str, field: str, field_type: str) -> Dict[str, Any]:
    """A task using ``op`` on ``field``, in the task type of the operator's family."""
    member = facts(ctype).operator_member
    task: Dict[str, Any] = {"sourceFields": [field], "connectorOperator": {member: op}, "taskProperties": {}}
    if op in FILTER_FAMILY:
        task["taskType"] = "Filter"
        if op == "BETWEEN":
            task["taskProperties"] = {"DATA_TYPE": field_type, "LOWER_BOUND": _constant(field_type),
                                      "UPPER_BOUND": _constant(field_type)}
        elif op not in ("PROJECTION", "NO_OP"):
            task["taskProperties"] = {"DATA_TYPE": field_type, "VALUE": _constant(field_type)}
    elif op in ARITHMETIC:
        task.update(taskType="Arithmetic", sourceFields=[field, field], destinationField="result",
                    taskProperties={"MATH_OPERATION_FIELDS_ORDER": f"{field},{field}"})
    elif op in MASKS:
        props = {"MASK_VALUE": "*"} if op == "MASK_ALL" else {"MASK_VALUE": "*", "MASK_LENGTH": "2"}
        task.update(taskType="Mask", destinationField=field, taskProperties=props)
    else:
        task.update(taskType="Validate", taskProperties={"VALIDATION_ACTION": "DropRecord"})
    return task


def flow_with(ctype: str, entity: str, profile: Optional[str], field: str, task: Dict[str, Any],
              name: str) -> Dict[str, Any]:
    f = facts(ctype)
    if "PROJECTION" in f.operators:
        base = [{"taskType": "Filter", "sourceFields": [field], "connectorOperator": {f.operator_member: "PROJECTION"},
                 "taskProperties": {}}]
    else:  # Amplitude has no PROJECTION operator: Map_all reads every field
        base = [{"taskType": "Map_all", "sourceFields": [], "taskProperties": {}}]
    return {
        "flowName": name,
        "triggerConfig": {"triggerType": "OnDemand"},
        "sourceFlowConfig": source_config(ctype, entity, profile),
        "destinationFlowConfigList": [{"connectorType": "S3", "destinationConnectorProperties": {
            "S3": {"bucketName": "out-bucket", "bucketPrefix": "x"}}}],
        "tasks": base + ([] if task == base[0] else [task]),
    }


def walk(client: Any, **kwargs: Any) -> Iterator[Dict[str, Any]]:
    """Every entity (depth first, nested ones after their parent), through entitiesPath."""
    for entities in client.list_connector_entities(**kwargs)["connectorEntityMap"].values():
        for e in entities:
            yield e
            if e.get("hasNestedEntities"):
                yield from walk(client, **{**kwargs, "entitiesPath": e["name"]})


def fields_of(client: Any, ctype: str, entity: str, profile: Optional[str]) -> List[Dict[str, Any]]:
    kwargs = {"connectorProfileName": profile} if profile else {"connectorType": ctype}
    return list(client.describe_connector_entity(connectorEntityName=entity, **kwargs)["connectorEntityFields"])


def ops_of(field: Dict[str, Any]) -> List[str]:
    return list(field["supportedFieldTypeDetails"]["v1"].get("filterOperators", []))


def _seed_s3(emu: Any) -> None:
    emu.put_object("entity-bucket", "csv/2024/a.csv", "id,name,amount\n1,x,2\n")
    emu.put_object("entity-bucket", "json/b.jsonl", '{"id": 1, "ok": true, "price": 1.5, "note": "n"}\n')


def describable(client: Any, emu: Any, ctype: str, profile: Optional[str]) -> List[Tuple[str, List[Dict[str, Any]]]]:
    """(entity, fields) of every entity of the connector that has fields."""
    if ctype == "S3":
        _seed_s3(emu)
        names = ["entity-bucket/csv", "entity-bucket/json"]
    else:
        kwargs = {"connectorProfileName": profile} if profile else {"connectorType": ctype}
        names = [e["name"] for e in walk(client, **kwargs)]
    out = [(n, fields_of(client, ctype, n, profile)) for n in names]
    return [(n, fs) for n, fs in out if fs]


_flow_names = (f"consistency-{n}" for n in itertools.count())


def _accepted(client: Any, request: Dict[str, Any]) -> Tuple[bool, str]:
    try:
        client.create_flow(**request)
    except ClientError as e:
        return False, str(e.response["Error"]["Message"])
    except ParamValidationError as e:  # pragma: no cover - raw clients do not validate
        return False, str(e)
    client.delete_flow(flowName=request["flowName"], forceDelete=True)
    return True, ""


# -- the consistency test ------------------------------------------------------------------------------

@pytest.mark.parametrize("ctype", enum_params(CATALOGUED + ["S3"]))
def test_every_advertised_operator_is_accepted_by_create_flow(client, appflow_mock, ctype):
    profile = make_profile(client, ctype)
    entities = describable(client, appflow_mock, ctype, profile)
    assert entities
    checked = 0
    for entity, fields in entities:
        for field in fields:
            field_type = field["supportedFieldTypeDetails"]["v1"]["fieldType"]
            for op in ops_of(field):
                task = operator_task(ctype, op, field["identifier"], field_type)
                ok, message = _accepted(client, flow_with(ctype, entity, profile, field["identifier"], task,
                                                          next(_flow_names)))
                assert ok, (ctype, entity, field["identifier"], op, message)
                checked += 1
    assert checked


@pytest.mark.parametrize("ctype", enum_params(CATALOGUED + ["S3"]))
def test_no_operator_create_flow_rejects_is_advertised(client, appflow_mock, ctype):
    profile = make_profile(client, ctype)
    entities = describable(client, appflow_mock, ctype, profile)
    advertised = {op for _, fields in entities for f in fields for op in ops_of(f)}
    entity, fields = entities[0]
    raw = raw_client()
    rejected = []
    for op in ALL_OPERATORS:
        # the field the operator suits best, so that only the operator can be what is rejected
        numeric = [f for f in fields if f["supportedFieldTypeDetails"]["v1"]["fieldType"]
                   in ("integer", "long", "double", "decimal", "currency", "percent")]
        field = (numeric or fields)[0] if op in ARITHMETIC | VALIDATIONS else fields[0]
        field_type = field["supportedFieldTypeDetails"]["v1"]["fieldType"]
        ok, _ = _accepted(raw, flow_with(ctype, entity, profile, field["identifier"],
                                         operator_task(ctype, op, field["identifier"], field_type),
                                         next(_flow_names)))
        if not ok:
            rejected.append(op)
    assert "NO_OP" in rejected  # a Filter task with NO_OP is rejected: the check has teeth
    assert not advertised & set(rejected), (ctype, sorted(advertised & set(rejected)))
    assert set(rejected) >= set(ALL_OPERATORS) - set(facts(ctype).operators)


# -- listing -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ctype", enum_params(list(EXPECTED_ENTITIES)))
def test_each_catalogued_connector_lists_its_entities(client, ctype):
    profile = make_profile(client, ctype)
    by_type = client.list_connector_entities(connectorType=ctype)["connectorEntityMap"]
    names = {e["name"] for entities in by_type.values() for e in entities}
    assert names == EXPECTED_ENTITIES[ctype]
    for entities in by_type.values():
        for e in entities:
            assert e["label"] and isinstance(e["hasNestedEntities"], bool)
    if profile:
        assert client.list_connector_entities(connectorProfileName=profile)["connectorEntityMap"] == by_type


@pytest.mark.parametrize("ctype", enum_params(CATALOGUED))
def test_every_entity_describes_with_realistic_fields(client, ctype):
    f = facts(ctype)
    for e in walk(client, connectorType=ctype):
        fields = fields_of(client, ctype, e["name"], None)
        if e["hasNestedEntities"] and not fields:
            continue  # a container (SAPOData service): its entity sets have the fields
        assert fields, (ctype, e["name"])
        ids = [x["identifier"] for x in fields]
        assert len(ids) == len(set(ids))
        for x in fields:
            details = x["supportedFieldTypeDetails"]["v1"]
            assert x["label"] and details["fieldType"]
            assert set(details["filterOperators"]) <= set(f.operators), (ctype, x["identifier"])
            if "PROJECTION" in f.operators:
                assert "PROJECTION" in details["filterOperators"]
            if f.can_be_destination:
                dest = x["destinationProperties"]
                assert dest["isCreatable"] == dest["isUpdatable"] == dest["isUpsertable"]
                if f.write_operations:
                    assert dest["supportedWriteOperations"] == (list(f.write_operations) if dest["isCreatable"] else [])
            else:
                assert "destinationProperties" not in x
        if has_member("SourceFieldProperties", "isTimestampFieldForIncrementalQueries"):
            stamps = [x["identifier"] for x in fields if x["sourceProperties"]["isTimestampFieldForIncrementalQueries"]]
            # The flagged field is the one incremental pulls use when a flow names none.
            assert stamps in ([], [DEFAULT_TIMESTAMP_FIELD.get(ctype)]), (ctype, e["name"], stamps)
        if has_member("ConnectorEntityField", "isPrimaryKey") and ctype not in ("Googleanalytics", "Singular"):
            assert any(x["isPrimaryKey"] for x in fields), (ctype, e["name"])


def test_operators_follow_the_field_type(client):
    fields = {x["identifier"]: ops_of(x) for x in fields_of(client, "Salesforce", "Opportunity", None)}
    assert {"ADDITION", "VALIDATE_NUMERIC", "BETWEEN", "LESS_THAN"} <= set(fields["Amount"])
    assert not {"MASK_ALL", "CONTAINS"} & set(fields["Amount"])
    assert {"CONTAINS", "MASK_LAST_N", "EQUAL_TO"} <= set(fields["Name"])
    assert not {"ADDITION", "LESS_THAN", "VALIDATE_NUMERIC"} & set(fields["Name"])
    assert {"BETWEEN", "GREATER_THAN_OR_EQUAL_TO"} <= set(fields["CloseDate"])
    assert set(fields["IsWon"]) == {"PROJECTION", "EQUAL_TO", "NOT_EQUAL_TO", "VALIDATE_NON_NULL"}
    # Connectors with fewer operators advertise fewer: Zendesk filters with GREATER_THAN only.
    zd = {x["identifier"]: ops_of(x) for x in fields_of(client, "Zendesk", "tickets", None)}
    assert "GREATER_THAN" in zd["updated_at"] and "LESS_THAN" not in zd["updated_at"]


@pytest.mark.parametrize("ctype, container, child, field", [
    pytest.param("Slack", "conversations", "conversations/C0123ABCD", "ts", id="Slack"),
    pytest.param("SAPOData", "/sap/opu/odata/sap/API_SALES_ORDER_SRV",
                 "/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder", "SalesOrder", id="SAPOData",
                 marks=enum_params(["SAPOData"])[0].marks),
])
def test_nested_entities_through_entities_path(client, ctype, container, child, field):
    top = {e["name"]: e for es in client.list_connector_entities(connectorType=ctype)["connectorEntityMap"].values()
           for e in es}
    assert top[container]["hasNestedEntities"] is True
    nested = client.list_connector_entities(connectorType=ctype, entitiesPath=container)["connectorEntityMap"]
    names = [e["name"] for entities in nested.values() for e in entities]
    assert child in names and all(n.startswith(container + "/") for n in names)
    assert all(e["hasNestedEntities"] is False for entities in nested.values() for e in entities)
    assert field in [x["identifier"] for x in fields_of(client, ctype, child, None)]
    # A leaf has nothing nested; an unknown path is not found.
    assert client.list_connector_entities(connectorType=ctype, entitiesPath=child)["connectorEntityMap"] == {}
    msg = expect_error(client.list_connector_entities, "ResourceNotFoundException", 404,
                       connectorType=ctype, entitiesPath=container + "/nope")
    assert "nope" in msg


@needs_entity_paging
@pytest.mark.parametrize("kwargs", [
    pytest.param({"connectorType": "Salesforce"}, id="top"),
    pytest.param({"connectorType": "Slack", "entitiesPath": "conversations"}, id="nested"),
])
def test_pagination_walks_every_entity_once(client, kwargs):
    everything = [e["name"] for es in client.list_connector_entities(**kwargs)["connectorEntityMap"].values()
                  for e in es]
    assert len(everything) >= 3
    seen: List[str] = []
    page_kwargs: Dict[str, Any] = dict(kwargs, maxResults=2)
    while True:
        page = client.list_connector_entities(**page_kwargs)
        names = [e["name"] for es in page["connectorEntityMap"].values() for e in es]
        assert 1 <= len(names) <= 2
        seen += names
        if "nextToken" not in page:
            break
        page_kwargs["nextToken"] = page["nextToken"]
    assert seen == everything
    expect_error(client.list_connector_entities, "ValidationException", 400, nextToken="forged", **kwargs)


@requires_member("ListConnectorEntitiesRequest", "apiVersion")
@requires_member("ConnectorConfiguration", "supportedApiVersions")
def test_api_version_is_checked_against_the_supported_versions(client):
    config = client.describe_connectors(connectorTypes=["Salesforce"])["connectorConfigurations"]["Salesforce"]
    versions = config.get("supportedApiVersions") or []
    expected = client.list_connector_entities(connectorType="Salesforce")["connectorEntityMap"]
    for version in versions:
        assert client.list_connector_entities(connectorType="Salesforce", apiVersion=version)[
            "connectorEntityMap"] == expected
        assert fields_of(client, "Salesforce", "Account", None) == client.describe_connector_entity(
            connectorType="Salesforce", connectorEntityName="Account", apiVersion=version)["connectorEntityFields"]
    if versions:
        msg = expect_error(client.list_connector_entities, "ValidationException", 400,
                           connectorType="Salesforce", apiVersion="v0.1")
        assert "v0.1" in msg
    # A connector without versions takes any.
    assert client.list_connector_entities(connectorType="Zendesk", apiVersion="v2")["connectorEntityMap"]


def test_describe_unknown_entity_is_not_found(client):
    msg = expect_error(client.describe_connector_entity, "ResourceNotFoundException", 404,
                       connectorType="Slack", connectorEntityName="conversations/CNOPE")
    assert "conversations/CNOPE" in msg


# -- reset cache ----------------------------------------------------------------------------------------

@needs_reset_cache
def test_reset_metadata_cache_checks_what_it_names(client, appflow_mock):
    make_profile(client, "Salesforce", "sf")
    client.reset_connector_metadata_cache(connectorProfileName="sf", connectorEntityName="Account")
    client.reset_connector_metadata_cache(connectorType="Slack", entitiesPath="conversations")
    msg = expect_error(client.reset_connector_metadata_cache, "ResourceNotFoundException", 404,
                       connectorProfileName="sf", connectorEntityName="Nope__c")
    assert "Nope__c" in msg
    expect_error(client.reset_connector_metadata_cache, "ResourceNotFoundException", 404,
                 connectorType="Slack", entitiesPath="nowhere")
    appflow_mock.put_object("cache-bucket", "a/b.csv", "x\n1\n")
    client.reset_connector_metadata_cache(connectorType="S3", connectorEntityName="cache-bucket/a")
    msg = expect_error(client.reset_connector_metadata_cache, "ResourceNotFoundException", 404,
                       connectorType="S3", connectorEntityName="no-such-bucket/a")
    assert "no-such-bucket" in msg


# -- S3 --------------------------------------------------------------------------------------------------

def _s3_checks(client: Any) -> None:
    buckets = client.list_connector_entities(connectorType="S3")["connectorEntityMap"]
    listed = {e["name"]: e for es in buckets.values() for e in es}
    assert "entity-bucket" in listed and listed["entity-bucket"]["hasNestedEntities"] is True
    prefixes = client.list_connector_entities(connectorType="S3", entitiesPath="entity-bucket")["connectorEntityMap"]
    by_name = {e["name"]: e for es in prefixes.values() for e in es}
    assert sorted(by_name) == ["entity-bucket/csv", "entity-bucket/json"]
    assert by_name["entity-bucket/csv"]["hasNestedEntities"] is True  # csv/2024/
    assert by_name["entity-bucket/json"]["hasNestedEntities"] is False
    deeper = client.list_connector_entities(connectorType="S3", entitiesPath="entity-bucket/csv")["connectorEntityMap"]
    assert [e["name"] for es in deeper.values() for e in es] == ["entity-bucket/csv/2024"]

    csv_fields = fields_of(client, "S3", "entity-bucket/csv", None)
    assert [(x["identifier"], x["supportedFieldTypeDetails"]["v1"]["fieldType"]) for x in csv_fields] == [
        ("id", "string"), ("name", "string"), ("amount", "string")]
    json_fields = fields_of(client, "S3", "entity-bucket/json", None)
    assert [(x["identifier"], x["supportedFieldTypeDetails"]["v1"]["fieldType"]) for x in json_fields] == [
        ("id", "integer"), ("ok", "boolean"), ("price", "double"), ("note", "string")]
    assert all("destinationProperties" not in x for x in csv_fields + json_fields)
    # The whole bucket: the union of its objects' fields.
    assert {x["identifier"] for x in fields_of(client, "S3", "entity-bucket", None)} == {
        "id", "name", "amount", "ok", "price", "note"}
    msg = expect_error(client.describe_connector_entity, "ResourceNotFoundException", 404,
                       connectorType="S3", connectorEntityName="missing-bucket")
    assert "missing-bucket" in msg
    expect_error(client.list_connector_entities, "ResourceNotFoundException", 404,
                 connectorType="S3", entitiesPath="missing-bucket")


def test_s3_entities_are_buckets_and_prefixes_of_the_embedded_store(client, appflow_mock):
    _seed_s3(appflow_mock)
    _s3_checks(client)


def test_s3_entities_come_from_motos_s3_when_moto_is_active():
    moto = pytest.importorskip("moto", reason="moto is not installed")
    with moto.mock_aws(), mock_appflow() as emu:
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="entity-bucket")
        s3.put_object(Bucket="entity-bucket", Key="csv/2024/a.csv", Body=b"id,name,amount\n1,x,2\n")
        s3.put_object(Bucket="entity-bucket", Key="json/b.jsonl",
                      Body=b'{"id": 1, "ok": true, "price": 1.5, "note": "n"}\n')
        client = boto3.client("appflow", region_name=REGION)
        _s3_checks(client)
        assert emu.list_objects("entity-bucket") == ["csv/2024/a.csv", "json/b.jsonl"]
    with mock_appflow():  # without moto, the embedded store: moto's bucket is not there
        client = boto3.client("appflow", region_name=REGION)
        assert client.list_connector_entities(connectorType="S3")["connectorEntityMap"] == {}


def test_unreadable_s3_object_is_reported(client, appflow_mock):
    appflow_mock.put_object("bad-bucket", "x.json", "{not json\n")
    msg = expect_error(client.describe_connector_entity, "ValidationException", 400,
                       connectorType="S3", connectorEntityName="bad-bucket")
    assert "s3://bad-bucket/x.json" in msg


# -- the handle: add_entity --------------------------------------------------------------------------------

def test_add_entity_adds_a_custom_object(client, appflow_mock):
    appflow_mock.add_entity("Salesforce", "Invoice__c", [
        {"name": "Id", "type": "id", "primary_key": True, "read_only": True},
        {"name": "Amount__c", "type": "currency", "label": "Amount"},
        {"name": "Status__c", "type": "picklist", "values": ["Draft", "Paid"]},
        {"name": "LastModifiedDate", "type": "datetime", "timestamp": True, "read_only": True},
        "Notes__c",
    ], label="Invoice")
    listed = client.list_connector_entities(connectorType="Salesforce")["connectorEntityMap"]
    [invoice] = [e for es in listed.values() for e in es if e["name"] == "Invoice__c"]
    assert invoice == {"name": "Invoice__c", "label": "Invoice", "hasNestedEntities": False}
    assert "Invoice__c" in [e["name"] for e in listed["Objects"]]  # the connector's group by default
    fields = {x["identifier"]: x for x in fields_of(client, "Salesforce", "Invoice__c", None)}
    assert list(fields) == ["Id", "Amount__c", "Status__c", "LastModifiedDate", "Notes__c"]
    assert fields["Amount__c"]["label"] == "Amount"
    assert "ADDITION" in ops_of(fields["Amount__c"]) and "CONTAINS" in ops_of(fields["Notes__c"])
    assert fields["Status__c"]["supportedFieldTypeDetails"]["v1"]["supportedValues"] == ["Draft", "Paid"]
    assert fields["Id"]["destinationProperties"]["isCreatable"] is False
    assert fields["Notes__c"]["destinationProperties"]["isCreatable"] is True
    if has_member("ConnectorEntityField", "isPrimaryKey"):
        assert fields["Id"]["isPrimaryKey"] is True and fields["Notes__c"]["isPrimaryKey"] is False
    if has_member("SourceFieldProperties", "isTimestampFieldForIncrementalQueries"):
        assert fields["LastModifiedDate"]["sourceProperties"]["isTimestampFieldForIncrementalQueries"] is True
    # Seen in every region, forgotten by reset().
    west = boto3.client("appflow", region_name="us-west-2")
    assert fields_of(west, "Salesforce", "Invoice__c", None)
    appflow_mock.reset()
    expect_error(client.describe_connector_entity, "ResourceNotFoundException", 404,
                 connectorType="Salesforce", connectorEntityName="Invoice__c")


def test_add_entity_overrides_a_catalogued_one(client, appflow_mock):
    appflow_mock.add_entity("Zendesk", "tickets", {"id": "integer", "subject": "string", "custom_field": "string"})
    assert [x["identifier"] for x in fields_of(client, "Zendesk", "tickets", None)] == ["id", "subject", "custom_field"]
    listed = client.list_connector_entities(connectorType="Zendesk")["connectorEntityMap"]
    assert [e["name"] for e in listed["Objects"]] == ["tickets", "users", "organizations"]  # same place
    assert [e["label"] for e in listed["Objects"]][0] == "Tickets"
    appflow_mock.add_source_records("Zendesk", "tickets", [{"id": 1, "custom_field": "x"}])
    with pytest.raises(ValueError, match="status"):
        appflow_mock.add_source_records("Zendesk", "tickets", [{"id": 2, "status": "open"}])


def test_add_entity_nested_under_a_parent(client, appflow_mock):
    appflow_mock.add_entity("Slack", "conversations/C999", ["ts", "text"], label="#eng", parent="conversations")
    nested = client.list_connector_entities(connectorType="Slack", entitiesPath="conversations")["connectorEntityMap"]
    assert {"name": "conversations/C999", "label": "#eng", "hasNestedEntities": False} in [
        e for es in nested.values() for e in es]
    # A new parent becomes a container.
    appflow_mock.add_entity("Marketo", "leads/archived", ["id"], parent="leads")
    top = client.list_connector_entities(connectorType="Marketo")["connectorEntityMap"]
    assert {e["name"]: e["hasNestedEntities"] for es in top.values() for e in es}["leads"] is True
    assert "leads/archived" not in [e["name"] for es in top.values() for e in es]


@pytest.mark.parametrize("args, message", [
    (("S3", "bucket", ["a"]), "put objects"),
    (("Salesforce", "Has Space", ["a"]), "whitespace"),
    (("Salesforce", "X__c", [{"name": "a", "colour": "red"}]), "unknown field key 'colour'"),
    (("Salesforce", "X__c", [{"type": "string"}]), "needs a 'name'"),
    (("Salesforce", "X__c", ["a", {"identifier": "a"}]), "given twice"),
    (("Salesforce", "X__c", "a,b"), "not a string"),
    (("Nope", "X", ["a"]), "unknown connector type"),
])
def test_add_entity_rejects_bad_input(appflow_mock, args, message):
    with pytest.raises(ValueError, match=message):
        appflow_mock.add_entity(*args)


# -- the handle: add_source_records checks fields -------------------------------------------------------

def test_seeded_records_are_checked_against_the_entity(client, appflow_mock):
    appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "1", "Name": "Acme", "Phone": "1"}])
    with pytest.raises(ValueError) as info:
        appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "2"}, {"Id": "3", "Nmae": "typo"}])
    text = str(info.value)
    assert "'Account'" in text and "'Nmae'" in text and "record 1" in text and "Name" in text
    # Nothing of the rejected batch was seeded.
    assert appflow_mock.source_records("Salesforce", "Account") == [{"Id": "1", "Name": "Acme", "Phone": "1"}]
    # The connector type may be spelled in any case; nested entities are checked too.
    with pytest.raises(ValueError, match="'colour'"):
        appflow_mock.add_source_records("SALESFORCE", "Contact", [{"colour": "red"}])
    with pytest.raises(ValueError, match="conversations/C0123ABCD"):
        appflow_mock.add_source_records("Slack", "conversations/C0123ABCD", [{"ts": "1", "reactions": 3}])
    # Unknown entities (custom objects) take anything; check_fields=False skips the check.
    appflow_mock.add_source_records("Salesforce", "Anything__c", [{"whatever": 1}])
    appflow_mock.add_source_records("Salesforce", "Account", [{"Extra__c": 1}], check_fields=False)
    assert appflow_mock.source_records("Salesforce", "Account")[-1] == {"Extra__c": 1}


def test_seeded_records_of_an_added_entity_are_checked(appflow_mock):
    appflow_mock.add_entity("Servicenow", "u_custom_table", ["sys_id", "u_value"])
    appflow_mock.add_source_records("Servicenow", "u_custom_table", [{"sys_id": "1", "u_value": "v"}])
    with pytest.raises(ValueError, match="u_other"):
        appflow_mock.add_source_records("ServiceNow", "u_custom_table", [{"u_other": 1}])


def test_discovered_fields_build_a_flow_that_runs(client, appflow_mock):
    """Discovery drives a real flow: describe Datadog logs, project every field, run incrementally-free."""
    profile = make_profile(client, "Datadog", "dd")
    fields = [x["identifier"] for x in fields_of(client, "Datadog", "logs", profile)]
    appflow_mock.add_source_records("Datadog", "logs", [{"id": "a", "host": "h1", "status": "error"}])
    member = facts("Datadog").operator_member
    client.create_flow(
        flowName="dd-logs", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig=source_config("Datadog", "logs", profile),
        destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {
            "S3": {"bucketName": "out-bucket", "bucketPrefix": "dd"}}}],
        tasks=[{"taskType": "Filter", "sourceFields": fields, "connectorOperator": {member: "PROJECTION"},
                "taskProperties": {}}]
        + [{"taskType": "Map", "sourceFields": [f], "destinationField": f, "connectorOperator": {member: "NO_OP"},
            "taskProperties": {}} for f in ("id", "host")])
    run = client.start_flow(flowName="dd-logs")
    assert appflow_mock.destination_records("dd-logs", run["executionId"]) == [{"id": "a", "host": "h1"}]
