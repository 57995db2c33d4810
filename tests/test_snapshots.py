"""Saved state through boto3 and the handle: ``emu.snapshot()``, ``restore``, ``save``, ``load``.

- ``restore(snapshot())`` gives the same answers to every read operation (pages, tokens, execution
  records) and the same handle reads; a later run or scheduled tick gives the same ids and bytes.
- Bad documents (wrong format, another version, wrong shape, truncated JSON) change nothing.
- Credentials are never written; plugged-in Python objects are listed as not kept.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import warnings
from decimal import Decimal
from typing import Any, Callable, Dict, List

import boto3
import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from appflow_emu import InMemoryConnector, InvalidStateError, mock_appflow
from tests.conftest import has_member, has_operation
from tests.helpers import profile_request, s3_destination

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
OTHER_ACCOUNT = "111122223333"
SECRETS = ("at-secret", "rt-secret", "zendesk-secret")
needs_registration = pytest.mark.skipif(not has_operation("RegisterConnector"),
                                        reason="the installed model has no custom connectors")


def sf_tasks(*fields: str) -> List[Dict[str, Any]]:
    return [{"taskType": "Filter", "sourceFields": list(fields), "connectorOperator": {"Salesforce": "PROJECTION"},
             "taskProperties": {}}] + [
        {"taskType": "Map", "sourceFields": [f], "destinationField": f, "connectorOperator": {"Salesforce": "NO_OP"},
         "taskProperties": {}} for f in fields]


def sf_flow(client: Any, name: str, trigger: Dict[str, Any], entity: str = "Deal__c", profile: str = "sf",
            destination: Any = None, **extra: Any) -> None:
    client.create_flow(
        flowName=name, triggerConfig=trigger,
        sourceFlowConfig={"connectorType": "Salesforce", "connectorProfileName": profile,
                          "sourceConnectorProperties": {"Salesforce": {"object": entity}}},
        destinationFlowConfigList=[destination or s3_destination("out-bucket", "out", "JSON")],
        tasks=sf_tasks("Id", "Name", "LastModifiedDate"), **extra)


def start_with_token(client: Any, flow: str, token: str) -> str:
    """start_flow with a client token where the installed model has one (retries replay)."""
    extra = {"clientToken": token} if has_member("StartFlowRequest", "clientToken") else {}
    return str(client.start_flow(flowName=flow, **extra)["executionId"])


HOURLY = {"triggerType": "Scheduled", "triggerProperties": {"Scheduled": {
    "scheduleExpression": "rate(1hours)", "dataPullMode": "Incremental"}}}


def build(emu: Any) -> None:
    """A state touching everything a snapshot keeps, in two regions and two accounts."""
    client = boto3.client("appflow", region_name=REGION)
    emu.create_bucket("out-bucket")
    emu.put_object("in-bucket", "data/a.csv", "id,name\n1,x\n")
    now = dt.datetime.fromtimestamp(emu.now(), tz=dt.timezone.utc)
    emu.add_source_records("Salesforce", "Deal__c", [
        {"Id": "1", "Name": "Acme", "LastModifiedDate": (now - dt.timedelta(hours=3)).isoformat(),
         "Amount": Decimal("12.50"), "Blob": b"\x00\x01", "When": now, "Ratio": float("inf"), "Pair": (1, 2)},
        {"Id": "2", "Name": "Globex", "LastModifiedDate": (now - dt.timedelta(minutes=5)).isoformat()}],
        check_fields=False)
    emu.add_entity("Salesforce", "Widget__c", {"Id": "id", "Size": "double"})
    for n in range(3):
        client.create_connector_profile(**profile_request(f"sf{n}" if n else "sf", "Salesforce"))
    client.create_connector_profile(**profile_request("zd", "Zendesk"))
    emu.invalidate_credentials("zd")
    sf_flow(client, "on-demand", {"triggerType": "OnDemand"}, description="runs on demand")
    client.create_flow(
        flowName="to-salesforce", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {"S3": {
            "bucketName": "in-bucket", "bucketPrefix": "data"}}},
        destinationFlowConfigList=[{"connectorType": "Salesforce", "connectorProfileName": "sf1",
                                    "destinationConnectorProperties": {"Salesforce": {"object": "Copy__c"}}}],
        tasks=[{"taskType": "Map", "sourceFields": [f], "destinationField": f, "connectorOperator": {"S3": "NO_OP"},
                "taskProperties": {}} for f in ("id", "name")])
    sf_flow(client, "hourly", HOURLY)
    sf_flow(client, "events", {"triggerType": "Event"})
    client.start_flow(flowName="hourly")
    client.start_flow(flowName="events")
    for _ in range(3):
        client.start_flow(flowName="on-demand")
    client.start_flow(flowName="to-salesforce")
    emu.set_in_progress_polls("on-demand", 2)
    start_with_token(client, "on-demand", "token-1")
    emu.fail_next_execution("to-salesforce", "armed failure")
    emu.add_source_records("Salesforce", "Deal__c", [{"Id": "3", "Name": "Hooli",
                                                      "LastModifiedDate": now.isoformat()}], check_fields=False)
    emu.advance(2 * 3600 + 30)
    arn = client.describe_flow(flowName="on-demand")["flowArn"]
    client.tag_resource(resourceArn=arn, tags={"team": "data", "env": "test"})
    emu.set_quota("flows", 500)
    emu.in_progress_polls = 1
    emu.caller_arn = "arn:aws:sts::{account}:assumed-role/ci/session"
    other = boto3.client("appflow", region_name=OTHER_REGION)
    other.create_connector_profile(**profile_request("sf", "Salesforce"))
    sf_flow(other, "on-demand", {"triggerType": "OnDemand"})
    os.environ["MOTO_ACCOUNT_ID"] = OTHER_ACCOUNT
    try:
        third = boto3.client("appflow", region_name=REGION)
        third.create_connector_profile(**profile_request("sf", "Salesforce"))
        emu.add_source_records("Salesforce", "Deal__c", [{"Id": "9", "Name": "Own"}], region=REGION,
                               account_id=OTHER_ACCOUNT, check_fields=False)
    finally:
        del os.environ["MOTO_ACCOUNT_ID"]
    if has_operation("RegisterConnector"):
        client.register_connector(connectorLabel="shop", connectorProvisioningType="LAMBDA",
                                  connectorProvisioningConfig={"lambda": {
                                      "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:shop"}})
        client.update_connector_registration(connectorLabel="shop", description="v2")


def _strip(answer: Any) -> Any:
    answer = dict(answer)
    answer.pop("ResponseMetadata", None)
    return answer


def _pages(call: Callable[..., Any], member: str, **kwargs: Any) -> List[Any]:
    """Every page of a listing, one item per page (tokens included)."""
    pages, token = [], None
    while True:
        page = _strip(call(maxResults=1, **({"nextToken": token} if token else {}), **kwargs))
        pages.append(page)
        token = page.get("nextToken")
        if not token:
            return pages


def answers(emu: Any) -> Dict[str, Any]:
    """What every read operation and the handle's reads answer, everywhere."""
    out: Dict[str, Any] = {}
    for region in (REGION, OTHER_REGION):
        client = boto3.client("appflow", region_name=region)
        out[region, "flows"] = _pages(client.list_flows, "flows")
        out[region, "profiles"] = _pages(client.describe_connector_profiles, "connectorProfileDetails")
        for flow in [f["flowName"] for page in out[region, "flows"] for f in page["flows"]]:
            described = _strip(client.describe_flow(flowName=flow))
            out[region, flow] = described
            out[region, flow, "runs"] = _pages(client.describe_flow_execution_records, "flowExecutions",
                                               flowName=flow)
            out[region, flow, "tags"] = _strip(client.list_tags_for_resource(resourceArn=described["flowArn"]))
            out[region, flow, "delivered"] = [emu.destination_records(flow, e["executionId"], region=region)
                                              for page in out[region, flow, "runs"] for e in page["flowExecutions"]]
        if has_operation("ListConnectors"):
            out[region, "connectors"] = _strip(client.list_connectors())
        profiles = [p["connectorProfileName"] for page in out[region, "profiles"] for p in page["connectorProfileDetails"]]
        if "sf" in profiles:
            out[region, "entities"] = _strip(client.list_connector_entities(connectorType="Salesforce",
                                                                            connectorProfileName="sf"))
    out["records"] = emu.source_records("Salesforce", "Deal__c")
    if "sf1" in emu.state(REGION).connector_profiles:
        out["copied"] = emu.source_records("Salesforce", "Copy__c", profile="sf1", region=REGION)
    out["objects"] = {k: emu.get_object("out-bucket", k) for k in emu.list_objects("out-bucket")}
    out["inputs"] = emu.list_objects("in-bucket") if "sf1" in emu.state(REGION).connector_profiles else None
    out["settings"] = (emu.in_progress_polls, emu.caller_arn, emu.conflict_on_concurrent_start, emu.seed)
    return out


# -- round trips ----------------------------------------------------------------------------------------

@freeze_time("2026-03-01T12:00:00Z")
def test_restore_gives_the_same_answers_to_every_read() -> None:
    with mock_appflow(seed=5) as emu:
        build(emu)
        # Reads can change state (a describe poll moves an InProgress run on): snapshot first.
        document = json.loads(json.dumps(emu.snapshot(), allow_nan=False))  # plain JSON
        before = answers(emu)
        client = boto3.client("appflow", region_name=REGION)
        client.delete_flow(flowName="events", forceDelete=True)
        client.start_flow(flowName="on-demand")
        emu.put_object("out-bucket", "extra", b"x")
        assert answers(emu) != before
        emu.restore(document)
        assert answers(emu) == before
    with mock_appflow(seed=99) as fresh:  # another emulator, another seed: the document decides
        fresh.restore(document)
        assert answers(fresh) == before


@freeze_time("2026-03-01T12:00:00Z")
def test_tokens_given_before_a_snapshot_are_valid_after_the_restore() -> None:
    with mock_appflow() as emu:
        build(emu)
        client = boto3.client("appflow", region_name=REGION)
        first = client.list_flows(maxResults=2)
        runs = client.describe_flow_execution_records(flowName="on-demand", maxResults=2)
        second = _strip(client.list_flows(maxResults=2, nextToken=first["nextToken"]))
        second_runs = _strip(client.describe_flow_execution_records(flowName="on-demand", maxResults=2,
                                                                     nextToken=runs["nextToken"]))
        document = emu.snapshot()
        emu.reset()
        emu.restore(document)
        assert _strip(client.list_flows(maxResults=2, nextToken=first["nextToken"])) == second
        assert _strip(client.describe_flow_execution_records(
            flowName="on-demand", maxResults=2, nextToken=runs["nextToken"])) == second_runs


def _continue(emu: Any) -> Dict[str, Any]:
    """What happens after the snapshot: runs, scheduled ticks, new resources."""
    client = boto3.client("appflow", region_name=REGION)
    out = {"run": start_with_token(client, "on-demand", "token-1"),  # replayed where tokens exist
           "new": client.start_flow(flowName="on-demand")["executionId"]}
    client.create_connector_profile(**profile_request("late", "Salesforce"))
    out["secret"] = client.describe_connector_profiles(connectorProfileNames=["late"])[
        "connectorProfileDetails"][0]["credentialsArn"]
    emu.advance(3 * 3600)
    out["to-salesforce"] = client.start_flow(flowName="to-salesforce")["executionId"]
    out["answers"] = answers(emu)
    return out


@freeze_time("2026-03-01T12:00:00Z")
def test_later_runs_and_ticks_behave_as_without_the_round_trip() -> None:
    with mock_appflow(seed=3) as emu:
        build(emu)
        document = json.loads(json.dumps(emu.snapshot()))
        expected = _continue(emu)
    with mock_appflow(seed=3) as emu:
        emu.restore(document)
        assert _continue(emu) == expected


# -- round trips of random states (hypothesis) ---------------------------------------------------------

_ACTIONS = st.lists(st.sampled_from(["profile", "flow", "scheduled", "run", "tag", "untag", "seed", "advance",
                                     "delete", "fail", "polls"]), max_size=12)


@settings(max_examples=20, deadline=None)
@given(actions=_ACTIONS, seed=st.integers(0, 3))
def test_any_state_round_trips(actions: List[str], seed: int) -> None:
    with freeze_time("2026-03-01T12:00:00Z"), mock_appflow(seed=seed) as emu:
        client = boto3.client("appflow", region_name=REGION)
        emu.create_bucket("out-bucket")
        client.create_connector_profile(**profile_request("sf", "Salesforce"))
        flows: List[str] = []
        for n, action in enumerate(actions):
            if action == "profile":
                client.create_connector_profile(**profile_request(f"p{n}", "Salesforce"))
            elif action in ("flow", "scheduled"):
                sf_flow(client, f"flow{n}", HOURLY if action == "scheduled" else {"triggerType": "OnDemand"})
                if action == "scheduled":
                    client.start_flow(flowName=f"flow{n}")
                flows.append(f"flow{n}")
            elif action == "seed":
                emu.add_source_records("Salesforce", "Deal__c", [{"Id": str(n), "Name": f"n{n}", "LastModifiedDate":
                                       dt.datetime.fromtimestamp(emu.now(), dt.timezone.utc).isoformat()}],
                                       check_fields=False)
            elif action == "advance":
                emu.advance(3600)
            elif flows:
                flow = flows[n % len(flows)]
                arn = client.describe_flow(flowName=flow)["flowArn"]
                if action == "run" and client.describe_flow(flowName=flow)["triggerConfig"]["triggerType"] == "OnDemand":
                    client.start_flow(flowName=flow)
                elif action == "tag":
                    client.tag_resource(resourceArn=arn, tags={f"k{n}": "v"})
                elif action == "untag":
                    client.untag_resource(resourceArn=arn, tagKeys=[f"k{n - 1}"])
                elif action == "delete":
                    client.delete_flow(flowName=flow, forceDelete=True)
                    flows.remove(flow)
                elif action == "fail":
                    emu.fail_next_execution(flow, f"failure {n}")
                elif action == "polls":
                    emu.set_in_progress_polls(flow, n % 3)
        document = json.loads(json.dumps(emu.snapshot()))
        before = answers(emu)
        ids_after = [client.start_flow(flowName=f)["executionId"] for f in flows
                     if client.describe_flow(flowName=f)["triggerConfig"]["triggerType"] == "OnDemand"]
        emu.restore(document)
        assert answers(emu) == before
        assert [client.start_flow(flowName=f)["executionId"] for f in flows
                if client.describe_flow(flowName=f)["triggerConfig"]["triggerType"] == "OnDemand"] == ids_after


# -- what is never written, and what cannot be --------------------------------------------------------

def test_credentials_are_never_written_and_restored_profiles_work(tmp_path: Any) -> None:
    with mock_appflow() as emu:
        build(emu)
        path = tmp_path / "state.json"
        emu.save(path)
        text = path.read_text()
        for secret in SECRETS:
            assert secret not in text
        emu.reset()
        emu.load(path)
        client = boto3.client("appflow", region_name=REGION)
        run = client.start_flow(flowName="on-demand")["executionId"]
        for _ in range(3):
            runs = client.describe_flow_execution_records(flowName="on-demand")["flowExecutions"]
        assert [r["executionStatus"] for r in runs if r["executionId"] == run] == ["Successful"]
        # invalidate_credentials was kept: the Zendesk profile still rejects its credentials
        with pytest.raises(client.exceptions.ConnectorAuthenticationException):
            client.create_flow(
                flowName="zendesk", triggerConfig={"triggerType": "OnDemand"},
                sourceFlowConfig={"connectorType": "Zendesk", "connectorProfileName": "zd",
                                  "sourceConnectorProperties": {"Zendesk": {"object": "tickets"}}},
                destinationFlowConfigList=[s3_destination("out-bucket", "out", "JSON")],
                tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"Zendesk": "NO_OP"},
                        "taskProperties": {}}])


@needs_registration
def test_plugged_in_objects_are_listed_as_not_kept_and_restore_says_so() -> None:
    with mock_appflow() as emu:
        build(emu)
        emu.register_connector_implementation("shop", InMemoryConnector({"orders": [{"id": 1}]}))
        emu.fail_records("on-demand", lambda record: False, region=REGION)
        document = emu.snapshot()
        assert sorted((n["what"], n["name"]) for n in document["not_kept"]) == [
            ("connector_implementation", "shop"), ("fail_records_predicate", "on-demand")]
        with pytest.warns(UserWarning, match="plug them in again.*shop"):
            not_kept = emu.restore(document)
        assert len(not_kept) == 2
        client = boto3.client("appflow", region_name=REGION)
        # Nothing is plugged in after the restore: the label reads its datasets again.
        assert client.list_connector_entities(connectorType="Salesforce", connectorProfileName="sf")


def test_a_value_that_is_not_data_is_refused_with_its_path(tmp_path: Any) -> None:
    with mock_appflow() as emu:
        emu.add_source_records("Salesforce", "Deal__c", [{"Id": "1", "Obj": object()}], check_fields=False)
        path = tmp_path / "state.json"
        path.write_text("previous")
        with pytest.raises(TypeError, match=r"Obj.*object is not data"):
            emu.save(path)
        assert path.read_text() == "previous"  # the previous file is intact
        assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left


def test_with_moto_the_snapshot_holds_no_s3_objects() -> None:
    moto = pytest.importorskip("moto")
    with moto.mock_aws(), mock_appflow() as emu:
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="moto-bucket")
        s3.put_object(Bucket="moto-bucket", Key="k", Body=b"v")
        document = emu.snapshot()
        assert document["objects"] is None
        emu.restore(document)
        assert s3.get_object(Bucket="moto-bucket", Key="k")["Body"].read() == b"v"  # moto's to keep


def test_save_and_load_through_a_file_and_the_previous_file_survives_a_failed_save(tmp_path: Any) -> None:
    path = tmp_path / "state.json"
    with freeze_time("2026-03-01T12:00:00Z"):
        with mock_appflow() as emu:
            build(emu)
            emu.save(str(path))
            expected = answers(emu)
            assert path.stat().st_size > 0
        with mock_appflow() as emu:
            emu.load(path)
            assert answers(emu) == expected


# -- bad documents change nothing ----------------------------------------------------------------------

def _bad_documents(good: Dict[str, Any]) -> Dict[str, Any]:
    def edited(edit: Callable[[Dict[str, Any]], None]) -> Dict[str, Any]:
        doc = json.loads(json.dumps(good))
        edit(doc)
        return doc

    return {
        "not a dict": [],
        "another format": edited(lambda d: d.update(format="moto/state")),
        "a newer version": edited(lambda d: d.update(version=2)),
        "an older version": edited(lambda d: d.update(version=0)),
        "a string version": edited(lambda d: d.update(version="1")),
        "a flow without a name": edited(lambda d: d["regions"][0]["flows"]["items"][0]["item"].pop("name")),
        "a wrong type deep down": edited(lambda d: d["regions"][0]["flows"]["items"][0]["item"]["executions"][0]
                                         .update(started_at="yesterday")),
        "an unknown member": edited(lambda d: d.update(extra=1)),
        "credentials written in": edited(lambda d: d["regions"][0]["profiles"]["items"][0]["item"]
                                         .update(credentials={"accessToken": "x"})),
        "sequence out of order": edited(lambda d: d["regions"][0]["flows"]["items"][1].update(seq=1)),
        "a bad tagged value": edited(lambda d: d["data"]["datasets"][0]["records"][0].update(
            Amount={"$emu": "decimal", "value": "not a number"})),
        "an unknown active run": edited(lambda d: d["regions"][0]["flows"]["items"][0]["item"]["active"].append("x")),
        "a broken generator": edited(lambda d: d["ids"]["ids"][1].pop()),
    }


@pytest.mark.parametrize("case", [
    "not a dict", "another format", "a newer version", "an older version", "a string version",
    "a flow without a name", "a wrong type deep down", "an unknown member", "credentials written in",
    "sequence out of order", "a bad tagged value", "an unknown active run", "a broken generator"])
def test_a_bad_document_is_refused_and_changes_nothing(case: str) -> None:
    with freeze_time("2026-03-01T12:00:00Z"), mock_appflow() as emu:
        build(emu)
        bad = _bad_documents(emu.snapshot())[case]
        client = boto3.client("appflow", region_name=REGION)
        client.delete_flow(flowName="events", forceDelete=True)  # the state differs from the document's
        before = emu.snapshot()  # everything the emulator holds (reads through boto3 move polls on)
        with pytest.raises(InvalidStateError) as err:
            emu.restore(bad)
        assert emu.snapshot() == before
        assert "events" not in emu.state(REGION).flows
    message = str(err.value)
    where = {
        "a flow without a name": "at $.regions[0].flows.items[0].item:",
        "a wrong type deep down": "at $.regions[0].flows.items[0].item.executions[0].started_at:",
        "an unknown member": "at $:",
        "credentials written in": "at $.regions[0].profiles.items[0].item:",
        "a newer version": "made by a newer appflow_emu",
        "an older version": "cannot migrate",
        "another format": "not an appflow_emu state document",
    }.get(case)
    if where is not None:
        assert where in message, message


@pytest.mark.parametrize("text", ['{"format": "appflow_emu/state", "vers', "", "not json", "[1, 2"])
def test_a_truncated_or_broken_file_is_refused_and_changes_nothing(tmp_path: Any, text: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    with mock_appflow() as emu:
        build(emu)
        before = emu.snapshot()
        with pytest.raises(InvalidStateError, match="state.json is not a JSON state document"):
            emu.load(path)
        assert emu.snapshot() == before


def test_the_document_names_its_format_version_and_botocore() -> None:
    import botocore

    with mock_appflow() as emu:
        document = emu.snapshot()
    assert (document["format"], document["version"], document["botocore"]) == (
        "appflow_emu/state", 1, botocore.__version__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to plug in again: no warning
        with mock_appflow() as emu:
            assert emu.restore(document) == []


# -- the compiled schema check agrees with jsonschema (differential) ------------------------------------

def _paths(value: Any, path: tuple = ()) -> List[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, path + (i,))
    return out


# A fresh copy per draw: sampled_from hands out the same objects, and a later step may add to a list
# or dict put in the document, which would change the samples themselves, and with them what later
# examples generate from the same choices (hypothesis: "FlakyStrategyDefinition: Inconsistent data
# generation").
_SAMPLES = [None, True, False, 0, 1, -1, 1.0, 1.5, "", "x", "123456789012", [], {}, [1], {"a": 1},
            {"$emu": "decimal", "value": "1"}]
_PRISTINE = json.dumps(_SAMPLES)
_REPLACEMENTS = st.sampled_from(_SAMPLES).map(copy.deepcopy)


@pytest.fixture(scope="module")
def good_document() -> Dict[str, Any]:
    with freeze_time("2026-03-01T12:00:00Z"), mock_appflow() as emu:
        build(emu)
        return json.loads(json.dumps(emu.snapshot()))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_compiled_check_and_jsonschema_agree(good_document: Dict[str, Any], data: Any) -> None:
    import jsonschema

    from appflow_emu.backend.state_schema import SCHEMA, is_valid

    doc = json.loads(json.dumps(good_document))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace" or (action == "delete" and isinstance(parent, list)):
            parent[path[-1]] = data.draw(_REPLACEMENTS)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["extra", "seq", "name", "items"]))] = data.draw(_REPLACEMENTS)
        else:
            parent.append(data.draw(_REPLACEMENTS))
    assert is_valid(doc) == jsonschema.Draft7Validator(SCHEMA).is_valid(doc)
    assert json.dumps(_SAMPLES) == _PRISTINE  # what the next examples draw from is unchanged
