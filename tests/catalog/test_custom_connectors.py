"""Custom connectors: the registration life cycle through boto3, profiles of registered labels, and
Python implementations plugged in with ``emu.register_connector_implementation`` that flows read
from and write to."""
from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any, Dict, Iterable, List, Optional

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from appflow_emu import CustomConnectorImplementation, InMemoryConnector
from tests.conftest import requires_enum_value, requires_operation
from tests.helpers import s3_destination, s3_source

pytestmark = [
    requires_operation("RegisterConnector", "UpdateConnectorRegistration", "UnregisterConnector", "ListConnectors",
                       "DescribeConnector"),
    requires_enum_value("ConnectorType", "CustomConnector"),
]

ACCOUNT = "123456789012"
LAMBDA = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:shop-connector"
LAMBDA_2 = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:shop-connector-v2"


def error_of(call: Any, **kwargs: Any) -> Dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response
    return {"code": err["Error"]["Code"], "status": err["ResponseMetadata"]["HTTPStatusCode"],
            "message": err["Error"]["Message"]}


def register(client: Any, label: str = "shop", lambda_arn: str = LAMBDA, **extra: Any) -> str:
    return str(client.register_connector(connectorLabel=label, connectorProvisioningType="LAMBDA",
                                         connectorProvisioningConfig={"lambda": {"lambdaArn": lambda_arn}},
                                         **extra)["connectorArn"])


def profile(client: Any, name: str = "shop-profile", label: str = "shop") -> None:
    client.create_connector_profile(
        connectorProfileName=name, connectorType="CustomConnector", connectorLabel=label, connectionMode="Public",
        connectorProfileConfig={
            "connectorProfileProperties": {"CustomConnector": {"profileProperties": {"region": "eu"}}},
            "connectorProfileCredentials": {"CustomConnector": {"authenticationType": "APIKEY",
                                                                "apiKey": {"apiKey": "shop-secret"}}},
        })


def custom_source(entity: str, profile_name: str = "shop-profile") -> Dict[str, Any]:
    return {"connectorType": "CustomConnector", "connectorProfileName": profile_name,
            "sourceConnectorProperties": {"CustomConnector": {"entityName": entity}}}


def custom_destination(entity: str, profile_name: str = "shop-profile", **props: Any) -> Dict[str, Any]:
    return {"connectorType": "CustomConnector", "connectorProfileName": profile_name,
            "destinationConnectorProperties": {"CustomConnector": {"entityName": entity, **props}}}


def projection(member: str, fields: List[str], *filters: Dict[str, Any]) -> List[Dict[str, Any]]:
    tasks: List[Dict[str, Any]] = [{"sourceFields": list(fields), "connectorOperator": {member: "PROJECTION"},
                                    "taskType": "Filter", "taskProperties": {}}]
    tasks += list(filters)
    tasks += [{"sourceFields": [f], "connectorOperator": {member: "NO_OP"}, "destinationField": f,
               "taskType": "Map", "taskProperties": {}} for f in fields]
    return tasks


def map_all(member: str) -> List[Dict[str, Any]]:
    return [{"sourceFields": [], "connectorOperator": {member: "NO_OP"}, "taskType": "Map_all",
             "taskProperties": {"EXCLUDE_SOURCE_FIELDS_LIST": "[]"}}]


def run(client: Any, name: str, source: Dict[str, Any], destination: Dict[str, Any],
        tasks: List[Dict[str, Any]]) -> Dict[str, Any]:
    client.create_flow(flowName=name, triggerConfig={"triggerType": "OnDemand"}, sourceFlowConfig=source,
                       destinationFlowConfigList=[destination], tasks=tasks)
    execution_id = client.start_flow(flowName=name)["executionId"]
    [record] = [r for r in client.describe_flow_execution_records(flowName=name)["flowExecutions"]
                if r["executionId"] == execution_id]
    return dict(record)


def jsonl(rows: Iterable[Dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


class ShopConnector:
    """A connector written against the protocol (no base class), recording what AppFlow asked."""

    def __init__(self) -> None:
        self.orders = [{"id": "o1", "total": 5, "note": "small"},
                       {"id": "o2", "total": 25, "note": "big"},
                       {"id": "o3", "total": 40, "note": "bigger"}]
        self.written: List[Dict[str, Any]] = []
        self.reads: List[Dict[str, Any]] = []
        self.writes: List[Dict[str, Any]] = []

    def list_entities(self, entities_path: Optional[str] = None) -> List[Dict[str, Any]]:
        return [{"name": "orders", "label": "Orders", "hasNestedEntities": False}]

    def describe_entity(self, entity: str) -> List[Dict[str, Any]]:
        if entity != "orders":
            raise KeyError(entity)
        return [{"identifier": "id", "type": "string", "isPrimaryKey": True},
                {"identifier": "total", "type": "integer"}]

    def read_records(self, entity: str, fields: Optional[List[str]],
                     filters: Optional[List[Dict[str, Any]]] = None) -> Iterable[Dict[str, Any]]:
        self.reads.append({"entity": entity, "fields": fields, "filters": filters})
        return iter(self.orders)

    def write_records(self, entity: str, operation: str, records: List[Dict[str, Any]],
                      id_fields: Optional[List[str]] = None) -> Optional[List[Optional[str]]]:
        self.writes.append({"entity": entity, "operation": operation, "count": len(records), "ids": id_fields})
        errors: List[Optional[str]] = []
        for r in records:
            if str(r.get("total", "")).startswith("-"):
                errors.append(f"total must not be negative: {r['total']}")
            else:
                self.written.append(r)
                errors.append(None)
        return errors


# -- registration life cycle -----------------------------------------------------------------------

def test_registration_life_cycle(client, monkeypatch):
    assert client.list_connectors()["connectors"] == []
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)
    arn = register(client, description="Shop API")
    assert arn == f"arn:aws:appflow:us-east-1:{ACCOUNT}:connector/shop"

    [listed] = client.list_connectors()["connectors"]
    assert {k: listed[k] for k in ("connectorLabel", "connectorType", "connectorVersion", "connectorOwner",
                                   "connectorProvisioningType", "connectorDescription", "registeredBy")} == {
        "connectorLabel": "shop", "connectorType": "CUSTOMCONNECTOR", "connectorVersion": "1",
        "connectorOwner": ACCOUNT, "connectorProvisioningType": "LAMBDA", "connectorDescription": "Shop API",
        "registeredBy": "CUSTOM"}
    assert listed["registeredAt"] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    assert listed["connectorModes"] == ["SOURCE", "DESTINATION"]
    described = client.describe_connectors(connectorTypes=["CustomConnector"])["connectors"]
    assert described == [listed]

    config = client.describe_connector(connectorType="CustomConnector", connectorLabel="shop")["connectorConfiguration"]
    assert config["connectorArn"] == arn and config["connectorLabel"] == "shop"
    assert config["connectorType"] == "CUSTOMCONNECTOR" and config["connectorOwner"] == ACCOUNT
    assert config["connectorProvisioningConfig"] == {"lambda": {"lambdaArn": LAMBDA}}
    assert config["connectorVersion"] == "1"

    monkeypatch.setattr(time, "time", lambda: 1_700_000_600.0)
    again = client.update_connector_registration(connectorLabel="shop",
                                                 connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_2}})
    assert again["connectorArn"] == arn
    config = client.describe_connector(connectorType="CustomConnector", connectorLabel="shop")["connectorConfiguration"]
    assert config["connectorVersion"] == "2"
    assert config["connectorProvisioningConfig"] == {"lambda": {"lambdaArn": LAMBDA_2}}
    assert config["connectorDescription"] == "Shop API"  # not given: kept
    assert config["registeredAt"] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    client.update_connector_registration(connectorLabel="shop", description="Shop API v3")
    [listed] = client.list_connectors()["connectors"]
    assert (listed["connectorVersion"], listed["connectorDescription"]) == ("3", "Shop API v3")

    client.unregister_connector(connectorLabel="shop")
    assert client.list_connectors()["connectors"] == []
    assert client.describe_connectors(connectorTypes=["CustomConnector"])["connectors"] == []
    assert register(client) == arn  # the label is free again, at version 1
    assert client.list_connectors()["connectors"][0]["connectorVersion"] == "1"


def test_registration_errors(client):
    register(client)
    assert error_of(client.register_connector, connectorLabel="shop", connectorProvisioningType="LAMBDA",
                    connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_2}}) == {
        "code": "ConflictException", "status": 409, "message": "Connector with label shop is already registered."}
    # The duplicate changed nothing.
    config = client.describe_connector(connectorType="CustomConnector", connectorLabel="shop")["connectorConfiguration"]
    assert config["connectorProvisioningConfig"] == {"lambda": {"lambdaArn": LAMBDA}}

    missing = error_of(client.register_connector, connectorLabel="other", connectorProvisioningType="LAMBDA")
    assert (missing["code"], missing["status"]) == ("ValidationException", 400)
    raw = boto3.client("appflow", region_name="us-east-1", config=Config(parameter_validation=False))
    assert error_of(raw.register_connector, connectorLabel="bad label", connectorProvisioningType="LAMBDA",
                    connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA}})["status"] == 400

    for call, kwargs in [
        (client.describe_connector, {"connectorType": "CustomConnector", "connectorLabel": "ghost"}),
        (client.update_connector_registration, {"connectorLabel": "ghost", "description": "x"}),
        (client.unregister_connector, {"connectorLabel": "ghost"}),
    ]:
        err = error_of(call, **kwargs)
        assert (err["code"], err["status"]) == ("ResourceNotFoundException", 404)
        assert "ghost" in err["message"]
    assert [c["connectorLabel"] for c in client.list_connectors()["connectors"]] == ["shop"]


def test_registration_quota(client, appflow_mock):
    appflow_mock.set_quota("custom_connectors", 1)
    register(client, "one")
    err = error_of(client.register_connector, connectorLabel="two", connectorProvisioningType="LAMBDA",
                   connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA}})
    assert (err["code"], err["status"]) == ("ServiceQuotaExceededException", 402)


def test_unregister_while_profiles_use_it(client):
    register(client)
    profile(client, "p1")
    profile(client, "p2")
    err = error_of(client.unregister_connector, connectorLabel="shop")
    assert (err["code"], err["status"]) == ("ConflictException", 409)
    assert "p1" in err["message"] and "p2" in err["message"]
    assert [c["connectorLabel"] for c in client.list_connectors()["connectors"]] == ["shop"]
    client.unregister_connector(connectorLabel="shop", forceDelete=True)
    assert client.list_connectors()["connectors"] == []
    # The profiles stay, pointing at a label that no longer exists.
    assert client.describe_connector_profiles(connectorProfileNames=["p1"])["connectorProfileDetails"][0][
        "connectorLabel"] == "shop"


def test_profile_for_an_unregistered_label(client):
    err = error_of(profile, client=client, name="p", label="ghost")
    assert err == {"code": "ResourceNotFoundException", "status": 404,  # [seen] the status
                   "message": "Connector:ghost is not registered. Please register it first before creating "
                              "ConnectorProfile."}
    register(client, "ghost")
    profile(client, "p", "ghost")
    assert client.describe_connector_profiles(connectorLabel="ghost")["connectorProfileDetails"][0][
        "connectorProfileName"] == "p"


# -- implementations plugged in ---------------------------------------------------------------------

def test_recipe_read_from_and_write_to_a_python_connector(client, appflow_mock):
    register(client)
    profile(client)
    shop = ShopConnector()
    assert isinstance(shop, CustomConnectorImplementation)
    appflow_mock.register_connector_implementation("shop", shop)

    # From the connector to S3: the implementation is asked for the projected fields and the filter.
    over_ten = {"sourceFields": ["total"], "connectorOperator": {"CustomConnector": "GREATER_THAN"},
                "taskType": "Filter", "taskProperties": {"DATA_TYPE": "integer", "VALUE": "10"}}
    out = run(client, "orders-out", custom_source("orders"), s3_destination("out-bucket", "orders"),
              projection("CustomConnector", ["id", "total"], over_ten))
    assert out["executionStatus"] == "Successful"
    assert out["executionResult"]["recordsProcessed"] == 3
    assert appflow_mock.destination_records("orders-out") == [{"id": "o2", "total": 25}, {"id": "o3", "total": 40}]
    [read] = shop.reads
    assert read["entity"] == "orders" and read["fields"] == ["id", "total"]
    assert read["filters"] == [{"field": "total", "operator": "GREATER_THAN", "values": ["10"], "dataType": "integer"}]

    # From S3 into the connector: each record goes through write_records; a rejected one is a put failure.
    appflow_mock.put_object("in-bucket", "data/new.json", jsonl([
        {"id": "n1", "total": 7}, {"id": "n2", "total": -1}, {"id": "n3", "total": 3}]))
    into = run(client, "orders-in", s3_source("in-bucket", "data"), custom_destination("orders"), map_all("S3"))
    assert into["executionStatus"] == "Error"
    assert into["executionResult"]["errorInfo"]["putFailuresCount"] == 1
    assert "total must not be negative" in into["executionResult"]["errorInfo"]["executionMessage"]
    assert shop.written == [{"id": "n1", "total": 7}, {"id": "n3", "total": 3}]
    assert shop.writes == [{"entity": "orders", "operation": "INSERT", "count": 3, "ids": None}]
    assert appflow_mock.destination_records("orders-in") == shop.written
    # The datasets were not touched: the implementation is the connector.
    assert appflow_mock.source_records("CustomConnector", "orders") == []


def test_failed_writes_go_to_the_error_bucket(client, appflow_mock):
    register(client)
    profile(client)
    appflow_mock.register_connector_implementation("shop", ShopConnector())
    appflow_mock.create_bucket("errors")
    appflow_mock.put_object("in-bucket", "data/new.json", jsonl([{"id": "n1", "total": -5}, {"id": "n2", "total": 1}]))
    rec = run(client, "flow1", s3_source("in-bucket", "data"),
              custom_destination("orders", errorHandlingConfig={"bucketName": "errors", "bucketPrefix": "bad"}),
              map_all("S3"))
    assert rec["executionResult"]["errorInfo"]["putFailuresCount"] == 1
    [key] = appflow_mock.list_objects("errors", "bad/")
    [line] = appflow_mock.get_object("errors", key).decode().splitlines()
    assert json.loads(line) == {"errorMessage": "total must not be negative: -5", "record": {"id": "n1", "total": -5}}


def test_in_memory_connector_upserts_and_deletes(client, appflow_mock):
    register(client)
    profile(client)
    shop = InMemoryConnector({"customers": [{"cid": "c1", "name": "Ada"}, {"cid": "c2", "name": "Bob"}]})
    appflow_mock.register_connector_implementation("shop", shop)
    appflow_mock.put_object("in-bucket", "data/c.json", jsonl([{"cid": "c2", "name": "Bobby"}, {"cid": "c3", "name": "Cy"}]))
    rec = run(client, "upsert", s3_source("in-bucket", "data"),
              custom_destination("customers", writeOperationType="UPSERT", idFieldNames=["cid"]), map_all("S3"))
    assert rec["executionStatus"] == "Successful"
    assert shop.records["customers"] == [{"cid": "c1", "name": "Ada"}, {"cid": "c2", "name": "Bobby"},
                                         {"cid": "c3", "name": "Cy"}]
    appflow_mock.put_object("in-bucket", "gone/c.json", jsonl([{"cid": "c1"}, {"cid": "c9"}]))
    rec = run(client, "delete", s3_source("in-bucket", "gone"),
              custom_destination("customers", writeOperationType="DELETE", idFieldNames=["cid"]), map_all("S3"))
    assert rec["executionResult"]["errorInfo"]["putFailuresCount"] == 1  # c9 does not exist
    assert [c["cid"] for c in shop.records["customers"]] == ["c2", "c3"]
    # And it is a source too: a flow reads what the others wrote.
    out = run(client, "read", custom_source("customers"), s3_destination("out-bucket", "c"), map_all("CustomConnector"))
    assert out["executionStatus"] == "Successful"
    assert appflow_mock.destination_records("read") == [{"cid": "c2", "name": "Bobby"}, {"cid": "c3", "name": "Cy"}]


def test_incremental_window_reaches_the_implementation(client, appflow_mock):
    register(client)
    profile(client)
    shop = ShopConnector()
    now = time.time()
    shop.orders = [{"id": "old", "updated": (now - 40 * 86400) * 1000}, {"id": "new", "updated": (now - 3600) * 1000}]
    appflow_mock.register_connector_implementation("shop", shop)
    source = dict(custom_source("orders"), incrementalPullConfig={"datetimeTypeFieldName": "updated"})
    client.create_flow(flowName="inc", sourceFlowConfig=source,
                       triggerConfig={"triggerType": "Scheduled", "triggerProperties": {"Scheduled": {
                           "scheduleExpression": "rate(1hours)", "dataPullMode": "Incremental"}}},
                       destinationFlowConfigList=[s3_destination("out-bucket", "inc")],
                       tasks=projection("CustomConnector", ["id"]))
    client.start_flow(flowName="inc")  # a rate schedule runs once at activation
    [read] = shop.reads
    assert read["fields"] == ["id", "updated"]  # the timestamp field is read for the window
    ops = [(f["field"], f["operator"], f["dataType"]) for f in read["filters"]]
    assert ops == [("updated", "GREATER_THAN_OR_EQUAL_TO", "datetime"), ("updated", "LESS_THAN", "datetime")]
    assert appflow_mock.destination_records("inc") == [{"id": "new"}]


class Broken:
    def read_records(self, entity: str, fields: Any, filters: Any = None) -> Iterable[Dict[str, Any]]:
        yield {"id": "1"}
        raise ConnectionError("the shop API timed out")


def test_connector_failures_end_the_run(client, appflow_mock):
    register(client)
    profile(client)
    appflow_mock.register_connector_implementation("shop", Broken())
    rec = run(client, "read", custom_source("orders"), s3_destination("out-bucket", "r"), map_all("CustomConnector"))
    assert rec["executionStatus"] == "Error"
    message = rec["executionResult"]["errorInfo"]["executionMessage"]
    assert "shop failed to read orders" in message and "the shop API timed out" in message
    appflow_mock.put_object("in-bucket", "data/x.json", jsonl([{"id": "1"}]))
    rec = run(client, "write", s3_source("in-bucket", "data"), custom_destination("orders"), map_all("S3"))
    assert rec["executionStatus"] == "Error"
    assert "cannot be used as a destination" in rec["executionResult"]["errorInfo"]["executionMessage"]


def test_without_an_implementation_the_datasets_are_the_connector(client, appflow_mock):
    register(client)
    profile(client)
    appflow_mock.add_source_records("CustomConnector", "orders", [{"id": "d1"}])
    rec = run(client, "plain", custom_source("orders"), s3_destination("out-bucket", "p"), map_all("CustomConnector"))
    assert rec["executionStatus"] == "Successful"
    assert appflow_mock.destination_records("plain") == [{"id": "d1"}]
    # Plugged in, the implementation answers instead; unplugged, the datasets again.
    appflow_mock.register_connector_implementation("shop", InMemoryConnector({"orders": [{"id": "m1"}]}))
    client.start_flow(flowName="plain")
    assert appflow_mock.destination_records("plain") == [{"id": "m1"}]
    appflow_mock.register_connector_implementation("shop", None)
    client.start_flow(flowName="plain")
    assert appflow_mock.destination_records("plain") == [{"id": "d1"}]


def test_runs_of_a_force_unregistered_connector_fail(client, appflow_mock):
    register(client)
    profile(client)
    appflow_mock.register_connector_implementation("shop", ShopConnector())
    run(client, "flow1", custom_source("orders"), s3_destination("out-bucket", "f"), map_all("CustomConnector"))
    client.unregister_connector(connectorLabel="shop", forceDelete=True)
    execution_id = client.start_flow(flowName="flow1")["executionId"]
    [rec] = [r for r in client.describe_flow_execution_records(flowName="flow1")["flowExecutions"]
             if r["executionId"] == execution_id]
    assert rec["executionStatus"] == "Error"
    assert "shop" in rec["executionResult"]["errorInfo"]["executionMessage"]
    assert "not registered" in rec["executionResult"]["errorInfo"]["executionMessage"]


def test_register_connector_implementation_checks_its_argument(appflow_mock):
    with pytest.raises(TypeError):
        appflow_mock.register_connector_implementation("shop", object())
    with pytest.raises(ValueError):
        appflow_mock.register_connector_implementation("", InMemoryConnector())


# -- discovery: ListConnectorEntities / DescribeConnectorEntity on custom profiles --------------------

def test_entities_come_from_the_implementation(client, appflow_mock):
    register(client)
    profile(client)
    appflow_mock.register_connector_implementation("shop", ShopConnector())
    listed = client.list_connector_entities(connectorProfileName="shop-profile")["connectorEntityMap"]
    assert listed == {"Objects": [{"name": "orders", "label": "Orders", "hasNestedEntities": False}]}
    fields = client.describe_connector_entity(connectorProfileName="shop-profile",
                                              connectorEntityName="orders")["connectorEntityFields"]
    assert [(f["identifier"], f["isPrimaryKey"], f["supportedFieldTypeDetails"]["v1"]["fieldType"]) for f in fields] == [
        ("id", True, "string"), ("total", False, "integer")]
    assert fields[0]["supportedFieldTypeDetails"]["v1"]["filterOperators"] == [
        "PROJECTION", "EQUAL_TO", "NOT_EQUAL_TO", "CONTAINS"]
    assert "BETWEEN" in fields[1]["supportedFieldTypeDetails"]["v1"]["filterOperators"]
    err = error_of(client.describe_connector_entity, connectorProfileName="shop-profile", connectorEntityName="ghosts")
    assert (err["code"], err["status"]) == ("ResourceNotFoundException", 404)


class Flaky(InMemoryConnector):
    def list_entities(self, entities_path: Optional[str] = None) -> List[Dict[str, Any]]:
        raise ConnectionError("metadata endpoint down")


def test_failing_discovery_is_a_connector_server_error(client, appflow_mock):
    register(client)
    profile(client)
    appflow_mock.register_connector_implementation("shop", Flaky())
    err = error_of(client.list_connector_entities, connectorProfileName="shop-profile")
    assert (err["code"], err["status"]) == ("ConnectorServerException", 400)
    assert "metadata endpoint down" in err["message"]


def test_entities_of_the_default_connector_are_the_datasets(client, appflow_mock):
    register(client)
    profile(client)
    assert client.list_connector_entities(connectorProfileName="shop-profile")["connectorEntityMap"] == {}
    appflow_mock.add_source_records("CustomConnector", "orders", [{"id": "1", "total": 2.5, "paid": True}])
    listed = client.list_connector_entities(connectorProfileName="shop-profile")["connectorEntityMap"]
    assert [e["name"] for e in listed["Objects"]] == ["orders"]
    fields = client.describe_connector_entity(connectorProfileName="shop-profile",
                                              connectorEntityName="orders")["connectorEntityFields"]
    assert {f["identifier"]: f["supportedFieldTypeDetails"]["v1"]["fieldType"] for f in fields} == {
        "id": "string", "total": "double", "paid": "boolean"}


def test_reset_forgets_plugged_implementations_and_added_entities(client, appflow_mock):
    register(client)
    profile(client)
    shop = ShopConnector()
    appflow_mock.register_connector_implementation("shop", shop)
    appflow_mock.add_entity("Zendesk", "widgets", {"id": "integer"})
    assert client.describe_connector_entity(connectorType="Zendesk", connectorEntityName="widgets")[
        "connectorEntityFields"]
    appflow_mock.reset()
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_connector_entity(connectorType="Zendesk", connectorEntityName="widgets")
    # The label registered again, with nothing plugged in, reads the CustomConnector datasets.
    register(client)
    profile(client)
    appflow_mock.create_bucket("out-bucket")
    out = run(client, "after-reset", custom_source("orders"), s3_destination("out-bucket", "orders"),
              projection("CustomConnector", ["id", "total"]))
    assert out["executionStatus"] == "Successful"
    assert out["executionResult"]["recordsProcessed"] == 0
    assert shop.reads == []
