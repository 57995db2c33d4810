"""The handle (``Emulator``) as users see it: what the package exports, which verbs the handle has,
how a verb finds the flow, profile or connector label it names (``region=``/``account_id=``, or
the one place the name exists), the delivered-results verbs, where seeded SaaS records are seen,
argument checks, and errors in the user's own callbacks blamed on the user."""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Dict, Iterable, List, Optional

import boto3
import pytest
from freezegun import freeze_time

import appflow_emu
from appflow_emu import AmbiguousNameError, Emulator, NotFoundError
from tests.catalog.test_custom_connectors import profile as custom_profile
from tests.conftest import requires_enum_value, requires_operation
from tests.helpers import flow_request, profile_request, projection_tasks, s3_destination, s3_source, salesforce_source

EAST, WEST = "us-east-1", "eu-west-1"
ACCOUNT, OTHER_ACCOUNT = "123456789012", "111122223333"

VERBS = {
    "seed", "strict", "caller_arn", "in_progress_polls", "conflict_on_concurrent_start", "extra_regions",
    "set_quota", "state", "states", "reset", "add_source_records", "source_records", "add_entity", "create_bucket", "put_object",
    "get_object", "list_objects", "destination_records", "warehouse_rows", "events", "lookout_records",
    "fail_next_execution", "fail_records", "set_in_progress_polls", "invalidate_credentials",
    "register_connector_implementation", "now", "advance", "tick", "snapshot", "restore", "save", "load",
    "s3_endpoint", "aws_endpoint", "lambda_endpoint", "register_lambda", "events_endpoint", "notifications",
    "create_glue_database", "glue_tables",
}


def needs_custom_connectors(test: Callable[..., Any]) -> Callable[..., Any]:
    """Skip where the installed botocore's AppFlow model has no custom connectors."""
    return requires_enum_value("ConnectorType", "CustomConnector")(
        requires_operation("RegisterConnector", "UnregisterConnector")(test))


# -- helpers ---------------------------------------------------------------------------------------

def appflow(region: str = EAST) -> Any:
    return boto3.client("appflow", region_name=region)


def jsonl(rows: Iterable[Dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def start(client: Any, name: str) -> Dict[str, Any]:
    """Run the flow now; its execution record."""
    execution_id = client.start_flow(flowName=name)["executionId"]
    runs = client.describe_flow_execution_records(flowName=name)["flowExecutions"]
    [record] = [r for r in runs if r["executionId"] == execution_id]
    return dict(record)


def message_of(record: Dict[str, Any]) -> str:
    return str(record["executionResult"]["errorInfo"]["executionMessage"])


def run_ids(client: Any, name: str) -> List[str]:
    return [r["executionId"] for r in client.describe_flow_execution_records(flowName=name)["flowExecutions"]]


def sf_flow(client: Any, name: str, profile: str = "sf", entity: str = "Account", trigger: str = "OnDemand") -> None:
    """A Salesforce -> S3 flow over ``Id`` (the profile must exist)."""
    client.create_flow(**flow_request(name, trigger=trigger, source=salesforce_source(profile, entity),
                                      destination=s3_destination("out-bucket", name),
                                      tasks=projection_tasks("Salesforce", ["Id"])))


def saas_out(connector_type: str, profile: Optional[str] = "dest", **props: Any) -> Dict[str, Any]:
    """A destination of this connector type (through ``profile``) with these properties."""
    out: Dict[str, Any] = {"connectorType": connector_type, "destinationConnectorProperties": {connector_type: props}}
    if profile is not None:
        out["connectorProfileName"] = profile
    return out


def make_profile(client: Any, connector_type: str, name: str) -> None:
    client.create_connector_profile(**profile_request(name, connector_type))


def register_connector(client: Any, label: str) -> None:
    """Register a Lambda custom connector ``label`` (the lambda is never called)."""
    client.register_connector(connectorLabel=label, connectorProvisioningType="LAMBDA", connectorProvisioningConfig={
        "lambda": {"lambdaArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{label}-connector"}})


def ids_delivered(emu: Emulator, flow: str, **where: Any) -> List[str]:
    return [r["Id"] for r in emu.destination_records(flow, **where)]


@pytest.fixture
def west(client: Any) -> Any:
    """An AppFlow client in eu-west-1 (same account as ``client``)."""
    return appflow(WEST)


@pytest.fixture
def f_in_two_regions(client: Any, west: Any) -> None:
    """An S3 -> S3 flow named ``f1`` in us-east-1 and in eu-west-1."""
    client.create_flow(**flow_request("f1"))
    west.create_flow(**flow_request("f1"))


# -- what the package exports ------------------------------------------------------------------------

def test_every_exported_name_resolves():
    assert sorted(appflow_emu.__all__) == sorted([
        "AmbiguousNameError", "CustomConnectorImplementation", "Emulator", "EmulatorError", "InMemoryConnector",
        "InvalidStateError", "MockAppFlow", "NotFoundError", "RegionView", "get_emulator", "mock_appflow"])
    for name in appflow_emu.__all__:
        assert getattr(appflow_emu, name) is not None, name
    namespace: Dict[str, Any] = {}
    exec("from appflow_emu import *", namespace)
    assert set(appflow_emu.__all__) <= set(namespace)
    assert issubclass(appflow_emu.NotFoundError, KeyError)


def test_app_flow_error_is_not_exported():
    assert "AppFlowError" not in appflow_emu.__all__
    assert not hasattr(appflow_emu, "AppFlowError")
    with pytest.raises(ImportError):
        exec("from appflow_emu import AppFlowError", {})


def test_the_handle_has_only_the_documented_verbs(appflow_mock):
    public = {name for name in dir(appflow_mock) if not name.startswith("_")}
    assert public == VERBS
    assert {name for name in dir(Emulator) if not name.startswith("_")} == VERBS
    for internal in ("polls_for", "take_forced_failure", "new_uuid", "random_chars", "new_request_id",
                     "caller_for", "added_entities", "check_source_fields", "data"):
        assert not hasattr(appflow_mock, internal), internal


# -- which flow, profile or label a verb names --------------------------------------------------------

def test_a_fault_armed_in_one_region_is_not_used_by_the_same_name_in_another(client, west, appflow_mock,
                                                                                f_in_two_regions):
    appflow_mock.fail_next_execution("f1", "us-east-1 f1 is down", region=EAST)
    assert start(west, "f1")["executionStatus"] == "Successful"
    east_run = start(client, "f1")
    assert east_run["executionStatus"] == "Error"
    assert message_of(east_run) == "us-east-1 f1 is down"
    assert start(client, "f1")["executionStatus"] == "Successful"  # armed once
    assert start(west, "f1")["executionStatus"] == "Successful"


def test_a_fault_armed_in_one_account_is_not_used_by_the_same_name_in_another(client, appflow_mock, monkeypatch):
    client.create_flow(**flow_request("f1"))
    monkeypatch.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)
    appflow_mock.create_bucket("in-bucket")
    appflow_mock.create_bucket("out-bucket")
    client.create_flow(**flow_request("f1"))
    with pytest.raises(AmbiguousNameError) as info:
        appflow_mock.fail_next_execution("f1", "other account", region=EAST)
    assert ACCOUNT in str(info.value) and OTHER_ACCOUNT in str(info.value)
    appflow_mock.fail_next_execution("f1", "other account", region=EAST, account_id=OTHER_ACCOUNT)
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    assert start(client, "f1")["executionStatus"] == "Successful"
    monkeypatch.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)
    failed = start(client, "f1")
    assert (failed["executionStatus"], message_of(failed)) == ("Error", "other account")


AMBIGUOUS_FLOW_VERBS: Dict[str, Callable[[Emulator, Any], Any]] = {
    "fail_next_execution": lambda emu, name: emu.fail_next_execution(name),
    "fail_records": lambda emu, name: emu.fail_records(name, lambda r: True),
    "set_in_progress_polls": lambda emu, name: emu.set_in_progress_polls(name, 2),
    "destination_records": lambda emu, name: emu.destination_records(name),
}


@pytest.mark.parametrize("verb", list(AMBIGUOUS_FLOW_VERBS))
def test_a_flow_name_in_two_regions_asks_for_region(client, west, appflow_mock, f_in_two_regions, verb):
    with pytest.raises(AmbiguousNameError) as info:
        AMBIGUOUS_FLOW_VERBS[verb](appflow_mock, "f1")
    message = str(info.value)
    assert "'f1'" in message and EAST in message and WEST in message and "region=" in message
    # nothing was armed: both flows run as before
    assert start(client, "f1")["executionStatus"] == "Successful"
    assert start(west, "f1")["executionStatus"] == "Successful"
    assert client.describe_flow(flowName="f1")["lastRunExecutionDetails"]["mostRecentExecutionStatus"] == "Successful"


def test_region_picks_one_of_two_flows(client, west, appflow_mock, f_in_two_regions):
    appflow_mock.put_object("in-bucket", "data/rows.json", jsonl([{"id": "1", "name": "Ada"}, {"id": "2", "name": "Bo"}]))
    appflow_mock.fail_records("f1", lambda r: r["id"] == "2", region=WEST)
    east_run, west_run = start(client, "f1"), start(west, "f1")
    assert east_run["executionResult"]["recordsProcessed"] == 2
    assert "errorInfo" not in east_run["executionResult"]
    assert west_run["executionResult"]["errorInfo"]["putFailuresCount"] == 1
    assert appflow_mock.destination_records("f1", region=EAST) == [{"id": "1", "name": "Ada"}, {"id": "2", "name": "Bo"}]
    assert appflow_mock.destination_records("f1", region=WEST) == [{"id": "1", "name": "Ada"}]


def test_a_name_in_one_place_needs_no_region(client, west, appflow_mock):
    west.create_flow(**flow_request("only-west"))
    appflow_mock.fail_next_execution("only-west", "west is down")
    failed = start(west, "only-west")
    assert message_of(failed) == "west is down"
    with pytest.raises(NotFoundError) as info:
        appflow_mock.fail_next_execution("only-west", region=EAST)
    assert "'only-west'" in str(info.value) and EAST in str(info.value)


UNKNOWN_FLOW_VERBS: Dict[str, Callable[[Emulator, str], Any]] = {
    "destination_records": lambda emu, name: emu.destination_records(name),
    "fail_next_execution": lambda emu, name: emu.fail_next_execution(name),
    "fail_records": lambda emu, name: emu.fail_records(name, lambda r: True),
    "set_in_progress_polls": lambda emu, name: emu.set_in_progress_polls(name, 1),
}


@pytest.mark.parametrize("verb", list(UNKNOWN_FLOW_VERBS))
def test_an_unknown_flow_name_is_not_found_and_the_flows_are_named(client, appflow_mock, verb):
    client.create_flow(**flow_request("orders"))
    client.create_flow(**flow_request("customers"))
    with pytest.raises(NotFoundError) as info:
        UNKNOWN_FLOW_VERBS[verb](appflow_mock, "typo")
    error = info.value
    assert isinstance(error, KeyError)
    message = str(error)
    assert message == error.args[0]  # the plain message, not KeyError's quoted repr
    assert message.startswith("no flow named 'typo'")
    assert "'customers'" in message and "'orders'" in message
    assert appflow_mock.state(EAST).flows.keys() == {"orders", "customers"}
    assert start(client, "orders")["executionStatus"] == "Successful"


UNKNOWN_PROFILE_VERBS: Dict[str, Callable[[Emulator, str], Any]] = {
    "invalidate_credentials": lambda emu, name: emu.invalidate_credentials(name),
    "warehouse_rows": lambda emu, name: emu.warehouse_rows(name, "public.people"),
}


@pytest.mark.parametrize("verb", list(UNKNOWN_PROFILE_VERBS))
def test_an_unknown_profile_name_is_not_found_and_the_profiles_are_named(client, appflow_mock, verb):
    make_profile(client, "Redshift", "warehouse")
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    with pytest.raises(NotFoundError) as info:
        UNKNOWN_PROFILE_VERBS[verb](appflow_mock, "typo")
    message = str(info.value)
    assert message.startswith("no connector profile named 'typo'")
    assert "'sf'" in message and "'warehouse'" in message


@pytest.mark.parametrize("verb", list(UNKNOWN_PROFILE_VERBS))
def test_a_profile_name_in_two_regions_asks_for_region(client, west, appflow_mock, verb):
    make_profile(client, "Redshift", "p")
    make_profile(west, "Redshift", "p")
    with pytest.raises(AmbiguousNameError) as info:
        UNKNOWN_PROFILE_VERBS[verb](appflow_mock, "p")
    assert EAST in str(info.value) and WEST in str(info.value) and "region=" in str(info.value)


def test_invalidate_credentials_is_for_the_profile_in_the_region_named(client, west, appflow_mock):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    west.create_connector_profile(**profile_request("sf", "Salesforce"))
    appflow_mock.invalidate_credentials("sf", region=WEST)
    with pytest.raises(west.exceptions.ConnectorAuthenticationException):
        west.list_connector_entities(connectorProfileName="sf")
    assert client.list_connector_entities(connectorProfileName="sf")["connectorEntityMap"]
    appflow_mock.invalidate_credentials("sf", invalid=False, region=WEST)
    assert west.list_connector_entities(connectorProfileName="sf")["connectorEntityMap"]


@needs_custom_connectors
def test_an_unknown_connector_label_is_not_found_and_the_labels_are_named(client, appflow_mock):
    register_connector(client, "shop")
    register_connector(client, "crm")
    connector = appflow_emu.InMemoryConnector({"orders": [{"id": "1"}]})
    with pytest.raises(NotFoundError) as info:
        appflow_mock.register_connector_implementation("typo", connector)
    message = str(info.value)
    assert message.startswith("no registered connector named 'typo'")
    assert "'crm'" in message and "'shop'" in message
    # the labels that exist are plugged in as asked, the one in another region asks for region=
    appflow_mock.register_connector_implementation("shop", connector)
    register_connector(appflow(WEST), "shop")
    with pytest.raises(AmbiguousNameError):
        appflow_mock.register_connector_implementation("shop", None)
    appflow_mock.register_connector_implementation("shop", None, region=WEST)


def test_faults_are_forgotten_with_the_flow(client, appflow_mock):
    appflow_mock.put_object("in-bucket", "data/rows.json", jsonl([{"id": "1", "name": "Ada"}]))
    client.create_flow(**flow_request("f1"))
    appflow_mock.fail_next_execution("f1", "armed for the old f")
    appflow_mock.fail_records("f1", lambda r: True)
    appflow_mock.set_in_progress_polls("f1", 5)
    client.delete_flow(flowName="f1")
    client.create_flow(**flow_request("f1"))
    record = start(client, "f1")
    assert record["executionStatus"] == "Successful"  # neither failed nor InProgress
    assert "errorInfo" not in record["executionResult"]
    assert appflow_mock.destination_records("f1") == [{"id": "1", "name": "Ada"}]


# -- delivered results ----------------------------------------------------------------------------------

def test_destination_records_before_any_run_and_of_an_unknown_execution(client, appflow_mock):
    appflow_mock.put_object("in-bucket", "data/rows.json", jsonl([{"id": "1", "name": "Ada"}]))
    client.create_flow(**flow_request("f1"))
    assert appflow_mock.destination_records("f1") == []
    first = start(client, "f1")["executionId"]
    appflow_mock.put_object("in-bucket", "data/more.json", jsonl([{"id": "2", "name": "Bo"}]))
    second = start(client, "f1")["executionId"]
    assert appflow_mock.destination_records("f1", first) == [{"id": "1", "name": "Ada"}]
    assert len(appflow_mock.destination_records("f1")) == 2  # the newest run
    assert appflow_mock.destination_records("f1", execution_id=second) == appflow_mock.destination_records("f1")
    with pytest.raises(NotFoundError) as info:
        appflow_mock.destination_records("f1", "not-a-run")
    message = str(info.value)
    assert "'not-a-run'" in message and repr(first) in message and repr(second) in message


def test_warehouse_rows_are_per_profile_table_and_region(client, west, appflow_mock):
    rows = [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bo"}]
    appflow_mock.put_object("in-bucket", "data/rows.json", jsonl(rows))
    appflow_mock.create_bucket("stage-bucket")
    for c in (client, west):
        make_profile(c, "Redshift", "wh")
    client.create_flow(**flow_request("load", source=s3_source(), tasks=projection_tasks("S3", ["id", "name"]),
                                      destination=saas_out("Redshift", "wh", object="public.people",
                                                           intermediateBucketName="stage-bucket")))
    assert start(client, "load")["executionStatus"] == "Successful"
    assert appflow_mock.warehouse_rows("wh", "public.people", region=EAST) == [
        {"id": "1", "name": "Ada"}, {"id": "2", "name": "Bo"}]
    assert appflow_mock.warehouse_rows("wh", "public.people", region=WEST) == []
    assert appflow_mock.warehouse_rows("wh", "public.never_loaded", region=EAST) == []
    with pytest.raises(AmbiguousNameError):
        appflow_mock.warehouse_rows("wh", "public.people")


def test_warehouse_rows_of_a_profile_that_is_no_warehouse_is_an_error(client, appflow_mock):
    client.create_connector_profile(**profile_request("zd", "Zendesk"))
    with pytest.raises(ValueError) as info:
        appflow_mock.warehouse_rows("zd", "tickets")
    assert "'zd'" in str(info.value) and "Zendesk" in str(info.value)


def test_snowflake_rows_through_the_one_profile(client, appflow_mock):
    make_profile(client, "Snowflake", "snow")
    appflow_mock.create_bucket("stage-bucket")
    appflow_mock.put_object("in-bucket", "data/rows.json", jsonl([{"id": "7", "name": "Cy"}]))
    client.create_flow(**flow_request("load", destination=saas_out("Snowflake", "snow", object="DB.PUBLIC.T",
                                                                   intermediateBucketName="stage-bucket")))
    assert start(client, "load")["executionStatus"] == "Successful"
    assert appflow_mock.warehouse_rows("snow", "DB.PUBLIC.T") == [{"id": "7", "name": "Cy"}]


def _eventbridge_flow(client: Any, name: str) -> None:
    client.create_flow(**flow_request(name, destination=saas_out(
        "EventBridge", profile=None, object=f"aws.partner/appflow/test/{ACCOUNT}/{name}")))


def _lookout_flow(client: Any, name: str) -> None:
    client.create_flow(**flow_request(name, destination={
        "connectorType": "LookoutMetrics", "destinationConnectorProperties": {"LookoutMetrics": {}}}))


def test_events_are_read_per_region(client, west, appflow_mock):
    appflow_mock.put_object("in-bucket", "data/rows.json", jsonl([{"id": "1", "name": "Ada"}]))
    _eventbridge_flow(west, "to-events")
    assert start(west, "to-events")["executionStatus"] == "Successful"
    assert appflow_mock.events(region=EAST) == []
    [event] = appflow_mock.events(region=WEST)
    assert event["source"] == f"aws.partner/appflow/test/{ACCOUNT}/to-events"
    assert event["detail"] == {"id": "1", "name": "Ada"} and event["detail-type"]
    assert appflow_mock.events() == [event]
    assert appflow_mock.events(region=WEST, account_id=ACCOUNT) == [event]
    assert appflow_mock.events(region=WEST, account_id=OTHER_ACCOUNT) == []
    assert appflow_mock.events(account_id=OTHER_ACCOUNT) == []


def test_lookout_records_are_read_per_region(client, west, appflow_mock):
    appflow_mock.put_object("in-bucket", "data/rows.json", jsonl([{"id": "1", "name": "Ada"}]))
    _lookout_flow(client, "to-lookout")
    assert start(client, "to-lookout")["executionStatus"] == "Successful"
    assert appflow_mock.lookout_records(region=WEST) == []
    assert appflow_mock.lookout_records(region=EAST) == [{"id": "1", "name": "Ada"}]
    assert appflow_mock.lookout_records() == [{"id": "1", "name": "Ada"}]
    assert appflow_mock.lookout_records(account_id=OTHER_ACCOUNT) == []


# -- where seeded SaaS records are seen ---------------------------------------------------------------

@pytest.fixture
def sf_everywhere(client: Any, west: Any) -> None:
    """Salesforce profile ``sf`` and OnDemand flow ``read`` in both regions."""
    for c in (client, west):
        c.create_connector_profile(**profile_request("sf", "Salesforce"))
        sf_flow(c, "read")


def test_records_without_a_scope_are_seen_from_every_region(client, west, appflow_mock, sf_everywhere):
    appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "a1"}])
    start(client, "read")
    start(west, "read")
    assert ids_delivered(appflow_mock, "read", region=EAST) == ["a1"]
    assert ids_delivered(appflow_mock, "read", region=WEST) == ["a1"]
    assert appflow_mock.source_records("Salesforce", "Account") == [{"Id": "a1"}]
    assert appflow_mock.source_records("Salesforce", "Account", region=WEST) == [{"Id": "a1"}]


def test_records_for_a_region_are_seen_only_there(client, west, appflow_mock, sf_everywhere, monkeypatch):
    appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "w1"}], region=WEST)
    start(client, "read")
    start(west, "read")
    assert ids_delivered(appflow_mock, "read", region=EAST) == []
    assert ids_delivered(appflow_mock, "read", region=WEST) == ["w1"]
    assert appflow_mock.source_records("Salesforce", "Account", region=WEST) == [{"Id": "w1"}]
    assert appflow_mock.source_records("Salesforce", "Account", region=EAST) == []
    assert appflow_mock.source_records("Salesforce", "Account") == []
    # another account in the same region does not see them either
    assert appflow_mock.source_records("Salesforce", "Account", region=WEST, account_id=OTHER_ACCOUNT) == []
    appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "o1"}], region=WEST, account_id=OTHER_ACCOUNT)
    assert appflow_mock.source_records("Salesforce", "Account", region=WEST) == [{"Id": "w1"}]
    monkeypatch.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)
    assert appflow_mock.source_records("Salesforce", "Account", region=WEST) == [{"Id": "o1"}]


def test_records_for_a_profile_are_seen_only_through_it(client, appflow_mock):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    client.create_connector_profile(**profile_request("sf-other", "Salesforce"))
    sf_flow(client, "through-sf", "sf")
    sf_flow(client, "through-other", "sf-other")
    appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "p1"}], profile="sf")
    start(client, "through-sf")
    start(client, "through-other")
    assert ids_delivered(appflow_mock, "through-sf") == ["p1"]
    assert ids_delivered(appflow_mock, "through-other") == []
    assert appflow_mock.source_records("Salesforce", "Account", profile="sf") == [{"Id": "p1"}]
    assert appflow_mock.source_records("Salesforce", "Account", profile="sf-other") == []
    assert appflow_mock.source_records("Salesforce", "Account") == []


def test_scope_arguments_are_checked_and_nothing_is_seeded(client, appflow_mock):
    client.create_connector_profile(**profile_request("zd", "Zendesk"))
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    with pytest.raises(NotFoundError) as info:
        appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "1"}], profile="missing")
    assert "'missing'" in str(info.value) and "'sf'" in str(info.value)
    with pytest.raises(ValueError) as wrong_type:
        appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "1"}], profile="zd")
    assert "Zendesk" in str(wrong_type.value) and "Salesforce" in str(wrong_type.value)
    with pytest.raises(ValueError) as no_region:
        appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "1"}], account_id=ACCOUNT)
    assert "region=" in str(no_region.value)
    with pytest.raises(NotFoundError):
        appflow_mock.source_records("Salesforce", "Account", profile="missing")
    with pytest.raises(ValueError):
        appflow_mock.source_records("Salesforce", "Account", account_id=ACCOUNT)
    assert appflow_mock.source_records("Salesforce", "Account") == []
    assert appflow_mock.source_records("Salesforce", "Account", profile="sf") == []
    assert appflow_mock.source_records("Salesforce", "Account", region=EAST) == []


def _event_flow(client: Any, name: str, profile: str = "sf") -> None:
    sf_flow(client, name, profile, entity="Contact", trigger="Event")
    client.start_flow(flowName=name)  # an Event flow runs only once Active


def test_event_flows_run_only_where_the_records_are_seen(client, west, appflow_mock):
    for c in (client, west):
        c.create_connector_profile(**profile_request("sf", "Salesforce"))
        _event_flow(c, "on-change")
    appflow_mock.add_source_records("Salesforce", "Contact", [{"Id": "w1"}], region=WEST)
    assert run_ids(client, "on-change") == []
    assert len(run_ids(west, "on-change")) == 1
    assert ids_delivered(appflow_mock, "on-change", region=WEST) == ["w1"]
    appflow_mock.add_source_records("Salesforce", "Contact", [{"Id": "e1"}], region=EAST)
    assert len(run_ids(client, "on-change")) == 1 and len(run_ids(west, "on-change")) == 1
    assert ids_delivered(appflow_mock, "on-change", region=EAST) == ["e1"]


def test_event_flows_run_only_through_the_profile_that_sees_the_records(client, appflow_mock):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    client.create_connector_profile(**profile_request("sf-other", "Salesforce"))
    _event_flow(client, "via-sf", "sf")
    _event_flow(client, "via-other", "sf-other")
    appflow_mock.add_source_records("Salesforce", "Contact", [{"Id": "p1"}], profile="sf")
    assert len(run_ids(client, "via-sf")) == 1
    assert run_ids(client, "via-other") == []


def test_event_flows_do_not_run_on_records_they_do_not_see(client, west, appflow_mock):
    """Records seeded for the SaaS as a whole are hidden where a region has its own records (a source
    there reads those): an Event flow there must not run on them."""
    for c in (client, west):
        c.create_connector_profile(**profile_request("sf", "Salesforce"))
        _event_flow(c, "on-change")
        sf_flow(c, "read", entity="Contact")
    appflow_mock.add_source_records("Salesforce", "Contact", [{"Id": "east-only"}], region=EAST)
    assert len(run_ids(client, "on-change")) == 1
    appflow_mock.add_source_records("Salesforce", "Contact", [{"Id": "everyone"}])
    start(client, "read")
    assert ids_delivered(appflow_mock, "read", region=EAST) == ["east-only"]  # what us-east-1 sees
    assert len(run_ids(client, "on-change")) == 1  # so its Event flow did not run on "everyone"
    assert len(run_ids(west, "on-change")) == 1  # eu-west-1 has no records of its own: it sees them
    assert ids_delivered(appflow_mock, "on-change", region=WEST) == ["everyone"]


def test_event_flows_do_not_run_on_region_records_hidden_by_their_profiles_own(client, appflow_mock):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    client.create_connector_profile(**profile_request("sf-other", "Salesforce"))
    _event_flow(client, "via-sf", "sf")
    _event_flow(client, "via-other", "sf-other")
    appflow_mock.add_source_records("Salesforce", "Contact", [{"Id": "sf-only"}], profile="sf")
    appflow_mock.add_source_records("Salesforce", "Contact", [{"Id": "region"}], region=EAST)
    assert appflow_mock.source_records("Salesforce", "Contact", profile="sf") == [{"Id": "sf-only"}]
    assert len(run_ids(client, "via-sf")) == 1  # only the run on its own record
    assert ids_delivered(appflow_mock, "via-sf") == ["sf-only"]
    assert len(run_ids(client, "via-other")) == 1
    assert ids_delivered(appflow_mock, "via-other") == ["region"]


# -- argument checks ------------------------------------------------------------------------------------

def test_add_source_records_wants_a_list_not_one_dict(appflow_mock):
    with pytest.raises(TypeError) as info:
        appflow_mock.add_source_records("Salesforce", "Account", {"Id": "1"})  # type: ignore[arg-type]
    assert "[record]" in str(info.value)
    assert appflow_mock.source_records("Salesforce", "Account") == []


def test_add_source_records_names_the_record_that_is_not_a_dict(appflow_mock):
    with pytest.raises(TypeError) as info:
        appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "1"}, ("Id", "2")])  # type: ignore[list-item]
    assert "record 1" in str(info.value) and "tuple" in str(info.value)
    assert appflow_mock.source_records("Salesforce", "Account") == []  # not even record 0


def test_add_source_records_with_unknown_fields_seeds_nothing(appflow_mock):
    with pytest.raises(ValueError) as info:
        appflow_mock.add_source_records("Salesforce", "Account", [{"Id": "1"}, {"Id": "2", "Nope": "x"}])
    assert "record 1" in str(info.value) and "'Nope'" in str(info.value)
    assert appflow_mock.source_records("Salesforce", "Account") == []


NAMED_VERBS: Dict[str, Callable[[Emulator, Any], Any]] = {
    "fail_next_execution": lambda emu, name: emu.fail_next_execution(name),
    "fail_records": lambda emu, name: emu.fail_records(name, None),
    "set_in_progress_polls": lambda emu, name: emu.set_in_progress_polls(name, 1),
    "destination_records": lambda emu, name: emu.destination_records(name),
    "invalidate_credentials": lambda emu, name: emu.invalidate_credentials(name),
    "warehouse_rows": lambda emu, name: emu.warehouse_rows(name, "t"),
    "register_connector_implementation": lambda emu, name: emu.register_connector_implementation(name, None),
}


@pytest.mark.parametrize("name", [42, None, b"f1", ["f1"]], ids=["int", "None", "bytes", "list"])
@pytest.mark.parametrize("verb", list(NAMED_VERBS))
def test_names_must_be_strings(client, appflow_mock, verb, name):
    client.create_flow(**flow_request("f1"))
    with pytest.raises(TypeError) as info:
        NAMED_VERBS[verb](appflow_mock, name)
    assert "must be a string" in str(info.value)


def test_set_in_progress_polls_rejects_a_negative_count(client, appflow_mock):
    client.create_flow(**flow_request("f1"))
    with pytest.raises(ValueError) as info:
        appflow_mock.set_in_progress_polls("f1", -1)
    assert "-1" in str(info.value)
    with pytest.raises(TypeError):
        appflow_mock.set_in_progress_polls("f1", "2")  # type: ignore[arg-type]
    assert start(client, "f1")["executionStatus"] == "Successful"  # nothing was set


def test_set_quota_names_the_known_quotas(client, appflow_mock):
    with pytest.raises(NotFoundError) as info:
        appflow_mock.set_quota("flow", 1)
    message = str(info.value)
    assert "'flow'" in message
    assert all(f"'{q}'" in message for q in ("flows", "connector_profiles", "custom_connectors"))
    with pytest.raises(ValueError):
        appflow_mock.set_quota("flows", -1)
    client.create_flow(**flow_request("one"))
    client.create_flow(**flow_request("two"))  # the quota was not changed by the rejected calls
    appflow_mock.set_quota("flows", 2)
    with pytest.raises(client.exceptions.ServiceQuotaExceededException):
        client.create_flow(**flow_request("three"))


def test_fail_records_wants_a_function(client, appflow_mock):
    client.create_flow(**flow_request("f1"))
    with pytest.raises(TypeError) as info:
        appflow_mock.fail_records("f1", True)  # type: ignore[arg-type]
    assert "predicate" in str(info.value)
    appflow_mock.put_object("in-bucket", "data/rows.json", jsonl([{"id": "1", "name": "Ada"}]))
    assert "errorInfo" not in start(client, "f1")["executionResult"]


def test_put_object_wants_bytes_or_text(appflow_mock):
    with pytest.raises(TypeError) as info:
        appflow_mock.put_object("new-bucket", "k", 42)  # type: ignore[arg-type]
    assert "bytes or str" in str(info.value) and "int" in str(info.value)
    with pytest.raises(NotFoundError):
        appflow_mock.list_objects("new-bucket")  # the bucket was not created either
    with pytest.raises(TypeError) as bad_key:
        appflow_mock.put_object("new-bucket", 42, b"x")  # type: ignore[arg-type]
    assert "key" in str(bad_key.value)
    with pytest.raises(NotFoundError):
        appflow_mock.list_objects("new-bucket")  # a rejected put creates no bucket
    appflow_mock.put_object("new-bucket", "k", "text")
    assert appflow_mock.get_object("new-bucket", "k") == b"text"


def test_get_object_and_list_objects_name_what_exists(appflow_mock):
    appflow_mock.put_object("bucket-a", "data/one.json", b"{}")
    appflow_mock.create_bucket("bucket-b")
    with pytest.raises(NotFoundError) as no_bucket:
        appflow_mock.get_object("bucket-c", "data/one.json")
    assert "'bucket-c'" in str(no_bucket.value)
    assert "'bucket-a'" in str(no_bucket.value) and "'bucket-b'" in str(no_bucket.value)
    with pytest.raises(NotFoundError) as no_list:
        appflow_mock.list_objects("bucket-c")
    assert "'bucket-a'" in str(no_list.value)
    with pytest.raises(NotFoundError) as no_key:
        appflow_mock.get_object("bucket-a", "data/two.json")
    assert "'data/two.json'" in str(no_key.value) and "'data/one.json'" in str(no_key.value)
    assert isinstance(no_key.value, KeyError)
    assert appflow_mock.list_objects("bucket-b") == []


def test_advance_wants_a_forward_duration(appflow_mock):
    with freeze_time("2026-01-05 12:00:00"):
        before = appflow_mock.now()
        with pytest.raises(ValueError):
            appflow_mock.advance(-1)
        with pytest.raises(TypeError):
            appflow_mock.advance("x")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            appflow_mock.advance(True)
        for endless in (float("inf"), float("nan")):
            with pytest.raises(ValueError):
                appflow_mock.advance(endless)
        assert appflow_mock.now() == before
        appflow_mock.advance(90)
        assert appflow_mock.now() == before + 90


# -- errors in the user's own code are the user's --------------------------------------------------------

def test_a_failing_fail_records_predicate_is_named_in_the_run_error(client, appflow_mock):
    appflow_mock.put_object("in-bucket", "data/rows.json", jsonl([{"id": "1", "name": "Ada"}]))
    client.create_flow(**flow_request("f1"))

    def reject_unpaid(record: Dict[str, Any]) -> bool:
        return bool(record["unpaid"])  # KeyError: the records have no such field

    appflow_mock.fail_records("f1", reject_unpaid)
    record = start(client, "f1")
    assert record["executionStatus"] == "Error"
    message = message_of(record)
    assert re.sub(r"[^\w!@#\-.?,\s]", " ", reject_unpaid.__qualname__) in message
    assert "KeyError" in message and "unpaid" in message
    assert "EmulatorError" not in message and "bug in appflow_emu" not in message
    appflow_mock.fail_records("f1", None)
    assert start(client, "f1")["executionStatus"] == "Successful"


class _BrokenShop:
    def read_records(self, entity: str, fields: Any, filters: Any = None) -> Iterable[Dict[str, Any]]:
        raise KeyError("orders endpoint")


@needs_custom_connectors
def test_a_failing_custom_connector_is_named_in_the_run_error(client, appflow_mock):
    register_connector(client, "shop")
    custom_profile(client, "shop-profile", "shop")
    appflow_mock.register_connector_implementation("shop", _BrokenShop())
    source = {"connectorType": "CustomConnector", "connectorProfileName": "shop-profile",
              "sourceConnectorProperties": {"CustomConnector": {"entityName": "orders"}}}
    map_all = [{"sourceFields": [], "connectorOperator": {"CustomConnector": "NO_OP"}, "taskType": "Map_all",
                "taskProperties": {"EXCLUDE_SOURCE_FIELDS_LIST": "[]"}}]
    client.create_flow(**flow_request("read", source=source, destination=s3_destination("out-bucket", "r"),
                                      tasks=map_all))
    record = start(client, "read")
    assert record["executionStatus"] == "Error"
    message = message_of(record)
    assert "shop" in message and "read_records" in message and "KeyError" in message
    assert "bug in appflow_emu" not in message
