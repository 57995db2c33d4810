"""Flow lifecycle through boto3: create, describe, update, delete, list, start, stop.

Every expectation is on what a boto3 user sees: response members, error codes, HTTP statuses,
and the state other calls report afterwards.
"""
from __future__ import annotations

import copy
import re
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from tests.conftest import has_member, is_required, requires_member, requires_operation, when
from tests.helpers import (
    expect_error,
    flow_request,
    profile_request,
    projection_tasks,
    s3_destination,
    s3_source,
    salesforce_source,
)

ACCOUNT = "123456789012"
CREATE_KEYS = ("flowName", "description", "kmsArn", "triggerConfig", "sourceFlowConfig",
               "destinationFlowConfigList", "tasks", "tags", "metadataCatalogConfig")
UPDATE_KEYS = ("flowName", "description", "triggerConfig", "sourceFlowConfig",
               "destinationFlowConfigList", "tasks", "metadataCatalogConfig")


# -- helpers ---------------------------------------------------------------------------------
def describe(client, name: str) -> dict:
    out = client.describe_flow(flowName=name)
    out.pop("ResponseMetadata")
    return out


def snapshot(client) -> dict:
    """Everything the flow API shows: each flow's description and its run records."""
    names = [f["flowName"] for f in client.list_flows(maxResults=100)["flows"]]
    return {
        n: (describe(client, n), client.describe_flow_execution_records(flowName=n)["flowExecutions"])
        for n in names
    }


def as_create_input(desc: dict, name: str) -> dict:
    req = {k: copy.deepcopy(desc[k]) for k in CREATE_KEYS if k in desc}
    req["flowName"] = name
    return req


def as_update_input(desc: dict) -> dict:
    return {k: copy.deepcopy(desc[k]) for k in UPDATE_KEYS if k in desc}


@pytest.fixture
def fake_time(monkeypatch):
    """A clock the test moves by hand (the way freezegun moves ``time.time``)."""
    now = [1_750_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


@pytest.fixture
def profiles(client):
    for name, ctype in (("sf", "Salesforce"), ("zd", "Zendesk"), ("sl", "Slack"), ("mk", "Marketo")):
        client.create_connector_profile(**profile_request(name, ctype))
    return client


# -- create: statuses and response ----------------------------------------------------------
@pytest.mark.parametrize("trigger,status", [("OnDemand", "Active"), ("Scheduled", "Draft")])
def test_create_status_by_trigger(client, trigger, status):
    out = client.create_flow(**flow_request("f1", trigger=trigger))
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["flowStatus"] == status
    assert out["flowArn"] == f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/f1"
    assert describe(client, "f1")["flowStatus"] == status


def test_event_flow_is_draft(profiles):
    client = profiles
    req = flow_request("ev", trigger="Event", source=salesforce_source("sf"),
                       tasks=projection_tasks("Salesforce", ["Id", "Name"]))
    assert client.create_flow(**req)["flowStatus"] == "Draft"
    d = describe(client, "ev")
    assert d["flowStatus"] == "Draft"
    assert d["triggerConfig"]["triggerType"] == "Event"


def test_create_duplicate_name_conflict(client):
    client.create_flow(**flow_request("dup"))
    before = snapshot(client)
    expect_error(client.create_flow, "ConflictException", 409, **flow_request("dup", trigger="Scheduled"))
    assert snapshot(client) == before


def test_create_with_missing_profile(client):
    expect_error(client.create_flow, "ResourceNotFoundException", 404,
                 "Connector Profile with name nope does not exist.",
                 **flow_request("f1", source=salesforce_source("nope"),
                                tasks=projection_tasks("Salesforce", ["Id"])))
    expect_error(client.describe_flow, "ResourceNotFoundException", 404, flowName="f1")
    assert client.list_flows()["flows"] == []


def test_create_with_missing_destination_profile(client):
    dest = {"connectorType": "Salesforce", "connectorProfileName": "gone",
            "destinationConnectorProperties": {"Salesforce": {"object": "Account"}}}
    expect_error(client.create_flow, "ResourceNotFoundException", 404,
                 "Connector Profile with name gone does not exist.",
                 **flow_request("f1", destination=dest))
    assert client.list_flows()["flows"] == []


def test_create_quota(client, appflow_mock):
    appflow_mock.set_quota("flows", 2)
    client.create_flow(**flow_request("q1"))
    client.create_flow(**flow_request("q2"))
    before = snapshot(client)
    expect_error(client.create_flow, "ServiceQuotaExceededException", 402, **flow_request("q3"))
    assert snapshot(client) == before
    client.delete_flow(flowName="q1")
    client.create_flow(**flow_request("q3"))
    assert sorted(f["flowName"] for f in client.list_flows()["flows"]) == ["q2", "q3"]


def test_duplicate_name_wins_over_quota(client, appflow_mock):
    appflow_mock.set_quota("flows", 1)
    client.create_flow(**flow_request("q1"))
    expect_error(client.create_flow, "ConflictException", 409, **flow_request("q1"))


def test_flows_are_per_region(client):
    client.create_flow(**flow_request("f1"))
    west = boto3.client("appflow", region_name="us-west-2")
    assert west.list_flows()["flows"] == []
    expect_error(west.describe_flow, "ResourceNotFoundException", 404, flowName="f1")
    out = west.create_flow(**flow_request("f1"))
    assert out["flowArn"] == f"arn:aws:appflow:us-west-2:{ACCOUNT}:flow/f1"


# -- describe ------------------------------------------------------------------------------
def test_describe_ondemand_shape(client):
    client.create_flow(**flow_request("f1"))
    d = describe(client, "f1")
    assert d["flowName"] == "f1"
    assert d["flowArn"] == f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/f1"
    assert d["triggerConfig"] == {"triggerType": "OnDemand", "triggerProperties": {}}
    assert d["tags"] == {}
    assert d["sourceFlowConfig"] == s3_source()
    assert d["tasks"] == projection_tasks("S3", ["id", "name"])
    for absent in ("description", "flowStatusMessage", "lastRunExecutionDetails"):
        assert absent not in d
    assert isinstance(d["createdAt"], datetime) and d["createdAt"].tzinfo is not None
    assert d["createdAt"] == d["lastUpdatedAt"]


def test_describe_missing_flow(client):
    expect_error(client.describe_flow, "ResourceNotFoundException", 404, flowName="nothere")


def test_s3_destination_defaults(client):
    client.create_flow(**flow_request("f1"))
    dest = describe(client, "f1")["destinationFlowConfigList"]
    assert dest == [{
        "connectorType": "S3",
        "destinationConnectorProperties": {"S3": {
            "bucketName": "out-bucket",
            "bucketPrefix": "exports",
            "s3OutputFormatConfig": {"prefixConfig": {}, "aggregationConfig": {"aggregationType": "None"}},
        }},
    }]


def test_s3_destination_keeps_given_output_settings(client):
    dest = s3_destination(file_type="JSON")
    fmt = dest["destinationConnectorProperties"]["S3"]["s3OutputFormatConfig"]
    fmt["prefixConfig"] = {"prefixType": "PATH", "prefixFormat": "DAY"}
    fmt["aggregationConfig"] = {"aggregationType": "SingleFile"}
    client.create_flow(**flow_request("f1", destination=dest))
    got = describe(client, "f1")["destinationFlowConfigList"][0]
    assert got["destinationConnectorProperties"]["S3"]["s3OutputFormatConfig"] == {
        "fileType": "JSON",
        "prefixConfig": {"prefixType": "PATH", "prefixFormat": "DAY"},
        "aggregationConfig": {"aggregationType": "SingleFile"},
    }


def test_kms_arn_is_one_managed_key_per_region(client):
    client.create_flow(**flow_request("f1"))
    client.create_flow(**flow_request("f2", trigger="Scheduled"))
    k1 = describe(client, "f1")["kmsArn"]
    k2 = describe(client, "f2")["kmsArn"]
    assert k1 == k2
    assert re.fullmatch(rf"arn:aws:kms:us-east-1:{ACCOUNT}:key/[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}", k1)
    west = boto3.client("appflow", region_name="us-west-2")
    west.create_flow(**flow_request("f1"))
    kw = west.describe_flow(flowName="f1")["kmsArn"]
    assert kw.startswith(f"arn:aws:kms:us-west-2:{ACCOUNT}:key/")
    assert kw != k1


def test_given_kms_arn_is_kept(client):
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    client.create_flow(**flow_request("f1", kmsArn=key))
    client.create_flow(**flow_request("f2"))
    assert describe(client, "f1")["kmsArn"] == key
    assert describe(client, "f2")["kmsArn"] != key


def test_description_and_tags(client):
    client.create_flow(**flow_request("f1", description="nightly copy", tags={"team": "data", "env": "test"}))
    d = describe(client, "f1")
    assert d["description"] == "nightly copy"
    assert d["tags"] == {"team": "data", "env": "test"}
    item = client.list_flows()["flows"][0]
    assert item["description"] == "nightly copy"
    assert item["tags"] == {"team": "data", "env": "test"}


def test_tags_become_empty_dict_after_untag(client):
    arn = client.create_flow(**flow_request("f1", tags={"a": "1"}))["flowArn"]
    client.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert describe(client, "f1")["tags"] == {}
    assert client.list_flows()["flows"][0]["tags"] == {}


def test_created_by_is_caller_arn(client):
    client.create_flow(**flow_request("f1"))
    d = describe(client, "f1")
    caller = re.compile(rf"arn:aws:(iam::{ACCOUNT}:user/.+|sts::{ACCOUNT}:assumed-role/.+/.+)")
    assert caller.fullmatch(d["createdBy"])
    assert d["lastUpdatedBy"] == d["createdBy"]
    item = client.list_flows()["flows"][0]
    assert item["createdBy"] == d["createdBy"]
    assert item["lastUpdatedBy"] == d["lastUpdatedBy"]


def test_update_moves_last_updated_by_not_created_by(client, appflow_mock):
    client.create_flow(**flow_request("f1"))
    creator = describe(client, "f1")["createdBy"]
    appflow_mock.caller_arn = "arn:aws:sts::{account}:assumed-role/Editor/session-1"
    client.update_flow(**as_update_input(describe(client, "f1")))
    d = describe(client, "f1")
    assert d["createdBy"] == creator
    assert d["lastUpdatedBy"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Editor/session-1"


def test_timestamps(client, fake_time):
    fake_time[0] = 1_750_000_000.0
    client.create_flow(**flow_request("f1"))
    d = describe(client, "f1")
    created = datetime.fromtimestamp(1_750_000_000, tz=timezone.utc)
    assert d["createdAt"] == created
    assert d["lastUpdatedAt"] == created
    fake_time[0] += 90.5
    client.update_flow(**as_update_input(d))
    d2 = describe(client, "f1")
    assert d2["createdAt"] == created
    assert d2["lastUpdatedAt"] == created + timedelta(seconds=90.5)
    item = client.list_flows()["flows"][0]
    assert item["createdAt"] == created
    assert item["lastUpdatedAt"] == d2["lastUpdatedAt"]


# -- round trips -----------------------------------------------------------------------------
def test_describe_output_is_valid_create_input(client):
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    req = flow_request("orig", trigger="Scheduled", description="d", tags={"k": "v"})
    req["triggerConfig"]["triggerProperties"]["Scheduled"].update(
        {"scheduleStartTime": start, "timezone": "Europe/Paris", "scheduleOffset": 60})
    client.create_flow(**req)
    d = describe(client, "orig")
    out = client.create_flow(**as_create_input(d, "copy"))
    assert out["flowStatus"] == "Draft"
    c = describe(client, "copy")
    for key in ("sourceFlowConfig", "destinationFlowConfigList", "triggerConfig", "tasks",
                "description", "tags", "kmsArn"):
        assert c[key] == d[key], key
    assert c["triggerConfig"]["triggerProperties"]["Scheduled"]["scheduleStartTime"] == start


def test_describe_output_is_valid_update_input_unchanged(client):
    client.create_flow(**flow_request("f1", trigger="Scheduled", description="keep"))
    client.start_flow(flowName="f1")
    d = describe(client, "f1")
    out = client.update_flow(**as_update_input(d))
    assert out["flowStatus"] == "Active"
    d2 = describe(client, "f1")
    for key in ("sourceFlowConfig", "destinationFlowConfigList", "triggerConfig", "tasks",
                "description", "tags", "kmsArn", "flowStatus", "createdAt", "flowArn"):
        assert d2[key] == d[key], key


def test_airflow_update_flow_filter(profiles):
    """Airflow's AppflowHook.update_flow_filter, step by step."""
    client = profiles
    client.create_flow(**flow_request("sf-flow", source=salesforce_source("sf"),
                                      tasks=projection_tasks("Salesforce", ["Id", "LastModifiedDate"])))
    response = client.describe_flow(flowName="sf-flow")
    connector_type = response["sourceFlowConfig"]["connectorType"]
    tasks = []
    for task in response["tasks"]:
        if task["taskType"] == "Filter" and task.get("connectorOperator", {}).get(connector_type) != "PROJECTION":
            continue
        tasks.append(task)
    new_filter = {
        "taskType": "Filter",
        "connectorOperator": {connector_type: "GREATER_THAN"},
        "sourceFields": ["LastModifiedDate"],
        "taskProperties": {"DATA_TYPE": "datetime", "VALUE": "1700000000000"},
    }
    tasks.append(new_filter)
    del response["triggerConfig"]["triggerProperties"]
    out = client.update_flow(
        flowName=response["flowName"],
        destinationFlowConfigList=response["destinationFlowConfigList"],
        sourceFlowConfig=response["sourceFlowConfig"],
        triggerConfig=response["triggerConfig"],
        description=response.get("description", "Flow description."),
        tasks=tasks,
    )
    assert out["flowStatus"] == "Active"
    d = describe(client, "sf-flow")
    assert d["tasks"][-1] == new_filter
    assert d["tasks"][:-1] == projection_tasks("Salesforce", ["Id", "LastModifiedDate"])
    assert d["description"] == "Flow description."
    assert d["triggerConfig"] == {"triggerType": "OnDemand", "triggerProperties": {}}


def test_create_or_update_wrapper(client):
    """describe -> ResourceNotFoundException means create; otherwise update; then start."""
    def upsert(req):
        try:
            client.describe_flow(flowName=req["flowName"])
        except client.exceptions.ResourceNotFoundException:
            client.create_flow(**req)
        else:
            client.update_flow(**{k: v for k, v in req.items() if k in UPDATE_KEYS})
        return client.start_flow(flowName=req["flowName"])

    first = upsert(flow_request("w1"))
    second = upsert(flow_request("w1", description="now described"))
    assert first["executionId"] != second["executionId"]
    assert describe(client, "w1")["description"] == "now described"


# -- update ----------------------------------------------------------------------------------
def test_update_changes_definition(client):
    client.create_flow(**flow_request("f1"))
    new_tasks = projection_tasks("S3", ["id", "name", "email"])
    out = client.update_flow(**{k: v for k, v in flow_request(
        "f1", source=s3_source(bucket="other-bucket"), tasks=new_tasks, description="v2").items()
        if k in UPDATE_KEYS})
    assert out["flowStatus"] == "Active"
    d = describe(client, "f1")
    assert d["tasks"] == new_tasks
    assert d["sourceFlowConfig"]["sourceConnectorProperties"]["S3"]["bucketName"] == "other-bucket"
    assert d["description"] == "v2"


def test_update_keeps_status(client):
    client.create_flow(**flow_request("draft", trigger="Scheduled"))
    client.create_flow(**flow_request("active", trigger="Scheduled"))
    client.start_flow(flowName="active")
    client.create_flow(**flow_request("susp", trigger="Scheduled"))
    client.start_flow(flowName="susp")
    client.stop_flow(flowName="susp")
    for name, status in (("draft", "Draft"), ("active", "Active"), ("susp", "Suspended")):
        req = flow_request(name, trigger="Scheduled", schedule="rate(1 hours)")
        out = client.update_flow(**{k: v for k, v in req.items() if k in UPDATE_KEYS})
        assert out["flowStatus"] == status
        d = describe(client, name)
        assert d["flowStatus"] == status
        assert d["triggerConfig"]["triggerProperties"]["Scheduled"]["scheduleExpression"] == "rate(1 hours)"


def test_update_missing_flow(client):
    req = flow_request("ghost")
    expect_error(client.update_flow, "ResourceNotFoundException", 404,
                 **{k: v for k, v in req.items() if k in UPDATE_KEYS})
    expect_error(client.describe_flow, "ResourceNotFoundException", 404, flowName="ghost")


def test_update_cannot_change_destination_object(profiles):
    client = profiles
    dest = {"connectorType": "Salesforce", "connectorProfileName": "sf",
            "destinationConnectorProperties": {"Salesforce": {"object": "Account"}}}
    client.create_flow(**flow_request("f1", destination=dest))
    before = snapshot(client)
    d = as_update_input(describe(client, "f1"))
    d["destinationFlowConfigList"][0]["destinationConnectorProperties"]["Salesforce"]["object"] = "Contact"
    expect_error(client.update_flow, "ValidationException", 400,
                 "Update Flow request failed due to:[Destination object for the destination connector can not be updated]",
                 **d)
    assert snapshot(client) == before


def test_update_cannot_change_destination_connector(client):
    client.create_flow(**flow_request("f1"))
    before = snapshot(client)
    req = flow_request("f1", destination={"connectorType": "EventBridge",
                                          "destinationConnectorProperties": {"EventBridge": {"object": "bus"}}})
    expect_error(client.update_flow, "ValidationException", 400,
                 "Update Flow request failed due to:[Destination object for the destination connector can not be updated]",
                 **{k: v for k, v in req.items() if k in UPDATE_KEYS})
    assert snapshot(client) == before


def test_update_destination_settings_other_than_object(profiles):
    client = profiles
    dest = {"connectorType": "Salesforce", "connectorProfileName": "sf",
            "destinationConnectorProperties": {"Salesforce": {"object": "Account"}}}
    client.create_flow(**flow_request("f1", destination=dest))
    d = as_update_input(describe(client, "f1"))
    d["destinationFlowConfigList"][0]["destinationConnectorProperties"]["Salesforce"].update(
        {"writeOperationType": "UPSERT", "idFieldNames": ["Id"]})
    client.update_flow(**d)
    got = describe(client, "f1")["destinationFlowConfigList"][0]["destinationConnectorProperties"]["Salesforce"]
    assert got == {"object": "Account", "writeOperationType": "UPSERT", "idFieldNames": ["Id"]}


def test_update_validation_errors_use_update_style(profiles):
    client = profiles
    zsrc = {"connectorType": "Zendesk", "connectorProfileName": "zd",
            "sourceConnectorProperties": {"Zendesk": {"object": "tickets"}}}
    client.create_flow(**flow_request("f1", source=zsrc, tasks=projection_tasks("Zendesk", ["id"])))
    before = snapshot(client)
    d = as_update_input(describe(client, "f1"))
    d["tasks"] = [t for t in d["tasks"] if t["taskType"] == "Map"]
    expect_error(client.update_flow, "ValidationException", 400,
                 "Update Flow request failed due to:[Task Validation Error: You must specify a projection task or a MAP_ALL task]",
                 **d)
    assert snapshot(client) == before


def test_update_with_missing_profile_changes_nothing(client):
    client.create_flow(**flow_request("f1"))
    before = snapshot(client)
    req = flow_request("f1", source=salesforce_source("nope"), tasks=projection_tasks("Salesforce", ["Id"]))
    expect_error(client.update_flow, "ResourceNotFoundException", 404,
                 "Connector Profile with name nope does not exist.",
                 **{k: v for k, v in req.items() if k in UPDATE_KEYS})
    assert snapshot(client) == before


def test_update_bad_schedule_changes_nothing(client):
    client.create_flow(**flow_request("f1", trigger="Scheduled"))
    client.start_flow(flowName="f1")
    before = snapshot(client)
    req = flow_request("f1", trigger="Scheduled", schedule="every five minutes")
    expect_error(client.update_flow, "ValidationException", 400,
                 **{k: v for k, v in req.items() if k in UPDATE_KEYS})
    assert snapshot(client) == before


# -- start / stop ----------------------------------------------------------------------------
def test_start_ondemand_runs(client):
    client.create_flow(**flow_request("f1"))
    out = client.start_flow(flowName="f1")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["flowStatus"] == "Active"
    assert out["flowArn"] == f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/f1"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", out["executionId"])
    assert describe(client, "f1")["flowStatus"] == "Active"
    again = client.start_flow(flowName="f1")
    assert again["executionId"] != out["executionId"]


def test_scheduled_lifecycle(client):
    client.create_flow(**flow_request("s1", trigger="Scheduled"))
    out = client.start_flow(flowName="s1")
    assert out["flowStatus"] == "Active"
    assert "executionId" not in out
    assert describe(client, "s1")["flowStatus"] == "Active"

    before = snapshot(client)
    expect_error(client.start_flow, "ConflictException", 409, flowName="s1")
    assert snapshot(client) == before

    out = client.stop_flow(flowName="s1")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["flowStatus"] == "Suspended"
    assert out["flowArn"] == f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/s1"
    assert describe(client, "s1")["flowStatus"] == "Suspended"
    assert client.list_flows()["flows"][0]["flowStatus"] == "Suspended"

    out = client.start_flow(flowName="s1")
    assert out["flowStatus"] == "Active"
    assert describe(client, "s1")["flowStatus"] == "Active"


def test_event_flow_lifecycle(profiles):
    client = profiles
    client.create_flow(**flow_request("ev", trigger="Event", source=salesforce_source("sf"),
                                      tasks=projection_tasks("Salesforce", ["Id"])))
    out = client.start_flow(flowName="ev")
    assert out["flowStatus"] == "Active" and "executionId" not in out
    expect_error(client.start_flow, "ConflictException", 409, flowName="ev")
    assert client.stop_flow(flowName="ev")["flowStatus"] == "Suspended"
    assert client.start_flow(flowName="ev")["flowStatus"] == "Active"


def test_stop_ondemand_unsupported(client):
    client.create_flow(**flow_request("f1"))
    client.start_flow(flowName="f1")
    before = snapshot(client)
    expect_error(client.stop_flow, "UnsupportedOperationException", 400, flowName="f1")
    assert snapshot(client) == before


def test_stop_draft_flow_is_refused(client):
    client.create_flow(**flow_request("s1", trigger="Scheduled"))
    before = snapshot(client)
    expect_error(client.stop_flow, "ConflictException", 409, flowName="s1")
    assert snapshot(client) == before
    assert describe(client, "s1")["flowStatus"] == "Draft"


@pytest.mark.parametrize("op", ["start_flow", "stop_flow"])
def test_start_stop_missing_flow(client, op):
    expect_error(getattr(client, op), "ResourceNotFoundException", 404, flowName="ghost")


# -- delete ----------------------------------------------------------------------------------
def test_delete_flow(client):
    client.create_flow(**flow_request("f1"))
    client.create_flow(**flow_request("f2"))
    client.start_flow(flowName="f1")
    out = client.delete_flow(flowName="f1")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    expect_error(client.describe_flow, "ResourceNotFoundException", 404, flowName="f1")
    expect_error(client.describe_flow_execution_records, "ResourceNotFoundException", 404, flowName="f1")
    assert [f["flowName"] for f in client.list_flows()["flows"]] == ["f2"]
    expect_error(client.delete_flow, "ResourceNotFoundException", 404, flowName="f1")


def test_delete_then_recreate_is_a_new_flow(client):
    client.create_flow(**flow_request("f1", tags={"old": "1"}))
    client.start_flow(flowName="f1")
    client.delete_flow(flowName="f1")
    client.create_flow(**flow_request("f1"))
    d = describe(client, "f1")
    assert d["tags"] == {}
    assert "lastRunExecutionDetails" not in d
    assert client.describe_flow_execution_records(flowName="f1")["flowExecutions"] == []


def test_delete_active_scheduled_needs_force(client):
    client.create_flow(**flow_request("s1", trigger="Scheduled"))
    client.start_flow(flowName="s1")
    before = snapshot(client)
    expect_error(client.delete_flow, "ConflictException", 409, flowName="s1")
    expect_error(client.delete_flow, "ConflictException", 409, flowName="s1", forceDelete=False)
    assert snapshot(client) == before
    client.delete_flow(flowName="s1", forceDelete=True)
    expect_error(client.describe_flow, "ResourceNotFoundException", 404, flowName="s1")
    assert client.list_flows()["flows"] == []


@pytest.mark.parametrize("prepare", ["draft", "suspended"])
def test_delete_inactive_scheduled_without_force(client, prepare):
    client.create_flow(**flow_request("s1", trigger="Scheduled"))
    if prepare == "suspended":
        client.start_flow(flowName="s1")
        client.stop_flow(flowName="s1")
    client.delete_flow(flowName="s1")
    expect_error(client.describe_flow, "ResourceNotFoundException", 404, flowName="s1")


def test_delete_frees_the_name_and_tag_arn(client):
    arn = client.create_flow(**flow_request("f1"))["flowArn"]
    client.delete_flow(flowName="f1")
    expect_error(client.list_tags_for_resource, "ResourceNotFoundException", 404, resourceArn=arn)


# -- list_flows items ------------------------------------------------------------------------
def test_list_flows_items(profiles):
    client = profiles
    client.create_flow(**flow_request("a1"))
    client.create_flow(**flow_request("b1", trigger="Scheduled", source=salesforce_source("sf"),
                                      tasks=projection_tasks("Salesforce", ["Id"]),
                                      destination={"connectorType": "EventBridge",
                                                   "destinationConnectorProperties": {"EventBridge": {"object": "bus"}}}))
    client.start_flow(flowName="a1")
    out = client.list_flows()
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "nextToken" not in out
    items = {f["flowName"]: f for f in out["flows"]}
    assert set(items) == {"a1", "b1"}
    a, b = items["a1"], items["b1"]
    assert a["flowArn"] == f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/a1"
    assert (a["sourceConnectorType"], a["destinationConnectorType"], a["triggerType"], a["flowStatus"]) == \
        ("S3", "S3", "OnDemand", "Active")
    assert (b["sourceConnectorType"], b["destinationConnectorType"], b["triggerType"], b["flowStatus"]) == \
        ("Salesforce", "EventBridge", "Scheduled", "Draft")
    assert a["lastRunExecutionDetails"]["mostRecentExecutionStatus"] == "Successful"
    assert "lastRunExecutionDetails" not in b
    assert "description" not in a
    for item in (a, b):
        assert item["createdAt"] == describe(client, item["flowName"])["createdAt"]


def test_list_flows_empty(client):
    out = client.list_flows()
    assert out["flows"] == []
    assert "nextToken" not in out


# -- round trips over many shapes of flow ------------------------------------------------------
def _round_trip_cases():
    sf_dest = {"connectorType": "Salesforce", "connectorProfileName": "sf",
               "destinationConnectorProperties": {"Salesforce": {
                   "object": "Contact", "writeOperationType": "UPSERT", "idFieldNames": ["Email"],
                   "errorHandlingConfig": {"failOnFirstDestinationError": False, "bucketName": "err-bucket",
                                           "bucketPrefix": "errors"}}}}
    zd_src = {"connectorType": "Zendesk", "connectorProfileName": "zd",
              "sourceConnectorProperties": {"Zendesk": {"object": "tickets"}}}
    full_schedule = {
        "scheduleExpression": "cron(0 2 * * ? *)", "dataPullMode": "Incremental",
        "scheduleStartTime": datetime(2031, 1, 1, tzinfo=timezone.utc),
        "scheduleEndTime": datetime(2032, 1, 1, tzinfo=timezone.utc),
        "timezone": "America/New_York", "scheduleOffset": 300,
        "firstExecutionFrom": datetime(2030, 6, 1, tzinfo=timezone.utc),
    }
    if has_member("ScheduledTriggerProperties", "flowErrorDeactivationThreshold"):  # not in mid-2021 models
        full_schedule["flowErrorDeactivationThreshold"] = 5
    map_all = [{"sourceFields": [], "connectorOperator": {"Salesforce": "NO_OP"}, "taskType": "Map_all",
                "taskProperties": {"EXCLUDE_SOURCE_FIELDS_LIST": '["Secret__c"]'}}]
    return {
        "s3-s3-ondemand": flow_request("orig"),
        "s3-s3-parquet": flow_request("orig", destination=s3_destination(file_type="PARQUET")),
        "s3-salesforce-upsert": flow_request("orig", destination=sf_dest),
        "zendesk-s3-scheduled": flow_request("orig", trigger="Scheduled", source=zd_src,
                                             tasks=projection_tasks("Zendesk", ["id", "subject"])),
        "salesforce-s3-event-mapall": flow_request("orig", trigger="Event", source=salesforce_source("sf"),
                                                   tasks=map_all, description="cdc"),
        "s3-s3-full-schedule": {**flow_request("orig", trigger="Scheduled"),
                                "triggerConfig": {"triggerType": "Scheduled",
                                                  "triggerProperties": {"Scheduled": full_schedule}}},
    }


@pytest.mark.parametrize("case", sorted(_round_trip_cases()))
@pytest.mark.parametrize("via_json", [False, True])
def test_round_trip(profiles, case, via_json):
    import json

    client = profiles
    client.create_flow(**_round_trip_cases()[case])
    d = describe(client, "orig")
    if via_json:  # clone tools dump the description as JSON (datetimes become strings)
        d = json.loads(json.dumps(d, default=str))
    client.create_flow(**as_create_input(d, "clone"))
    orig, clone = describe(client, "orig"), describe(client, "clone")
    for key in ("sourceFlowConfig", "destinationFlowConfigList", "triggerConfig", "tasks", "tags", "kmsArn",
                "flowStatus"):
        assert clone[key] == orig[key], key
    assert clone.get("description") == orig.get("description")
    out = client.update_flow(**as_update_input(d))
    assert out["flowStatus"] == orig["flowStatus"]
    again = describe(client, "orig")
    for key in ("sourceFlowConfig", "destinationFlowConfigList", "triggerConfig", "tasks", "createdAt"):
        assert again[key] == orig[key], key


@when(not is_required("UpdateFlowRequest", "sourceFlowConfig"),
      "UpdateFlow requires sourceFlowConfig (optional only in mid-2021 models)")
def test_update_without_source_keeps_the_source(client):
    client.create_flow(**flow_request("orig", source=s3_source("in-bucket", "first")))
    before = describe(client, "orig")
    req = as_update_input(before)
    del req["sourceFlowConfig"]
    req["description"] = "no source given"
    client.update_flow(**req)
    after = describe(client, "orig")
    assert after["sourceFlowConfig"] == before["sourceFlowConfig"]
    assert after["description"] == "no source given"


# -- a failed request changes nothing, whatever it is --------------------------------------------
def _failing_calls():
    upd = lambda req: {k: v for k, v in req.items() if k in UPDATE_KEYS}  # noqa: E731
    sf_dest = {"connectorType": "Salesforce", "connectorProfileName": "sf",
               "destinationConnectorProperties": {"Salesforce": {"object": "Lead"}}}
    return [
        ("create_flow", "ConflictException", 409, flow_request("od")),
        ("create_flow", "ResourceNotFoundException", 404,
         flow_request("new1", source=salesforce_source("nope"), tasks=projection_tasks("Salesforce", ["Id"]))),
        ("create_flow", "ValidationException", 400, flow_request("new2", trigger="Scheduled", schedule="nope")),
        ("create_flow", "ServiceQuotaExceededException", 402, flow_request("new3")),
        ("update_flow", "ValidationException", 400, upd(flow_request("od", destination=sf_dest))),
        ("update_flow", "ValidationException", 400, upd(flow_request("act", trigger="Scheduled", schedule="rate(0 minutes)"))),
        ("update_flow", "ResourceNotFoundException", 404, upd(flow_request("ghost"))),
        ("update_flow", "ResourceNotFoundException", 404,
         upd(flow_request("od", source=salesforce_source("nope"), tasks=projection_tasks("Salesforce", ["Id"])))),
        ("delete_flow", "ConflictException", 409, {"flowName": "act"}),
        ("delete_flow", "ResourceNotFoundException", 404, {"flowName": "ghost", "forceDelete": True}),
        ("start_flow", "ConflictException", 409, {"flowName": "act"}),
        ("start_flow", "ResourceNotFoundException", 404, {"flowName": "ghost"}),
        ("stop_flow", "UnsupportedOperationException", 400, {"flowName": "od"}),
        ("stop_flow", "ConflictException", 409, {"flowName": "draft"}),
        ("list_flows", "ValidationException", 400, {"nextToken": "forged"}),
        ("describe_flow_execution_records", "ValidationException", 400, {"flowName": "od", "nextToken": "forged"}),
        ("cancel_flow_executions", "ResourceNotFoundException", 404, {"flowName": "ghost"}),
    ]


def _operation_of(method: str) -> str:
    return "".join(word.title() for word in method.split("_"))


@pytest.mark.parametrize("op,code,status,kwargs", [
    pytest.param(*c, id=f"{c[0]}-{c[1]}-{i}", marks=requires_operation(_operation_of(c[0])))
    for i, c in enumerate(_failing_calls())])
def test_failed_request_changes_nothing(profiles, appflow_mock, op, code, status, kwargs):
    client = profiles
    client.create_flow(**flow_request("od", destination={
        "connectorType": "Salesforce", "connectorProfileName": "sf",
        "destinationConnectorProperties": {"Salesforce": {"object": "Account"}}}))
    client.start_flow(flowName="od")
    client.create_flow(**flow_request("act", trigger="Scheduled"))
    client.start_flow(flowName="act")
    client.create_flow(**flow_request("draft", trigger="Scheduled"))
    appflow_mock.set_quota("flows", 3)
    before = snapshot(client)
    expect_error(getattr(client, op), code, status, **kwargs)
    assert snapshot(client) == before


# -- client tokens on start/update ------------------------------------------------------------
@requires_member("StartFlowRequest", "clientToken")
def test_start_flow_retry_with_client_token_is_one_run(client):
    client.create_flow(**flow_request("f1"))
    first = client.start_flow(flowName="f1", clientToken="retry-1")
    again = client.start_flow(flowName="f1", clientToken="retry-1")
    assert again["executionId"] == first["executionId"]
    runs = client.describe_flow_execution_records(flowName="f1")["flowExecutions"]
    assert [r["executionId"] for r in runs] == [first["executionId"]]
    other = client.start_flow(flowName="f1", clientToken="retry-2")
    assert other["executionId"] != first["executionId"]
    assert len(client.describe_flow_execution_records(flowName="f1")["flowExecutions"]) == 2


@requires_member("StartFlowRequest", "clientToken")
def test_start_scheduled_retry_with_client_token_is_not_a_conflict(client):
    client.create_flow(**flow_request("s1", trigger="Scheduled"))
    assert client.start_flow(flowName="s1", clientToken="t-1")["flowStatus"] == "Active"
    assert client.start_flow(flowName="s1", clientToken="t-1")["flowStatus"] == "Active"
    expect_error(client.start_flow, "ConflictException", 409, flowName="s1", clientToken="t-2")
