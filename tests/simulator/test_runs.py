"""Runs as real clients see them: polling, schedules under a moving clock, incremental windows,
cancel, faults and determinism. Everything through boto3 and the handle; no sleeping."""
from datetime import datetime, timedelta, timezone

import boto3
import pytest
import time_machine
from freezegun import freeze_time

from appflow_emu import mock_appflow
from tests.conftest import requires_member, requires_operation
from tests.helpers import flow_request, profile_request, projection_tasks, s3_destination, salesforce_source

T0 = datetime(2024, 6, 3, 12, 0, tzinfo=timezone.utc)


def _sf_flow(client, name="sf-flow", trigger="OnDemand", **kw):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    req = flow_request(name, trigger=trigger, source=salesforce_source("sf", "Account"),
                       tasks=projection_tasks("Salesforce", ["Id", "Name", "LastModifiedDate"]),
                       destination=s3_destination(file_type="JSON"), **kw)
    client.create_flow(**req)
    return name


def _records(n, start=T0):
    return [{"Id": str(i), "Name": f"acct {i}",
             "LastModifiedDate": (start + timedelta(minutes=i)).isoformat()} for i in range(n)]


# -- what a run reports -------------------------------------------------------------------------------

def test_run_moves_the_seeded_records_and_reports_numbers(client, appflow_mock):
    flow = _sf_flow(client)
    appflow_mock.add_source_records("Salesforce", "Account", _records(5))
    eid = client.start_flow(flowName=flow)["executionId"]
    (rec,) = client.describe_flow_execution_records(flowName=flow)["flowExecutions"]
    assert rec["executionId"] == eid and rec["executionStatus"] == "Successful"
    result = rec["executionResult"]
    assert result["recordsProcessed"] == 5
    assert result["bytesProcessed"] > 0 and result["bytesWritten"] > 0
    assert "errorInfo" not in result
    delivered = appflow_mock.destination_records(flow, eid)
    assert [r["Id"] for r in delivered] == ["0", "1", "2", "3", "4"]
    assert appflow_mock.destination_records(flow) == delivered  # newest run by default


def test_unseeded_entity_gives_an_empty_successful_run(client, appflow_mock):
    flow = _sf_flow(client)
    client.start_flow(flowName=flow)
    (rec,) = client.describe_flow_execution_records(flowName=flow)["flowExecutions"]
    assert rec["executionStatus"] == "Successful"
    assert rec["executionResult"]["recordsProcessed"] == 0
    assert appflow_mock.destination_records(flow) == []


def test_missing_source_bucket_fails_the_run_clearly(client, appflow_mock):
    client.create_flow(**flow_request("from-s3", source={
        "connectorType": "S3", "sourceConnectorProperties": {"S3": {"bucketName": "nowhere", "bucketPrefix": "x"}}}))
    client.start_flow(flowName="from-s3")
    (rec,) = client.describe_flow_execution_records(flowName="from-s3")["flowExecutions"]
    assert rec["executionStatus"] == "Error"
    assert "nowhere" in rec["executionResult"]["errorInfo"]["executionMessage"]
    details = client.describe_flow(flowName="from-s3")["lastRunExecutionDetails"]
    assert details["mostRecentExecutionStatus"] == "Error"
    assert "nowhere" in details["mostRecentExecutionMessage"]


def test_fail_next_execution(client, appflow_mock):
    flow = _sf_flow(client)
    appflow_mock.fail_next_execution(flow, "Salesforce API limit exceeded")
    client.start_flow(flowName=flow)
    client.start_flow(flowName=flow)
    newest, oldest = client.describe_flow_execution_records(flowName=flow)["flowExecutions"]
    assert oldest["executionStatus"] == "Error"
    assert oldest["executionResult"]["errorInfo"]["executionMessage"] == "Salesforce API limit exceeded"
    assert newest["executionStatus"] == "Successful"


def test_invalid_credentials_fail_runs_and_flow_creation(client, appflow_mock):
    flow = _sf_flow(client)
    appflow_mock.invalidate_credentials("sf")
    client.start_flow(flowName=flow)
    (rec,) = client.describe_flow_execution_records(flowName=flow)["flowExecutions"]
    assert rec["executionStatus"] == "Error"
    assert "credentials" in rec["executionResult"]["errorInfo"]["executionMessage"]
    with pytest.raises(client.exceptions.ConnectorAuthenticationException) as err:
        client.create_flow(**flow_request("another", source=salesforce_source("sf"),
                                          tasks=projection_tasks("Salesforce", ["Id"])))
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert "another" not in appflow_mock.state().flows


# -- polling the way real clients do ------------------------------------------------------------------

def _airflow_wait(client, flow, execution_id, max_polls=20):
    """Airflow's waiter: first page of records, match the id; Successful ends, Error fails."""
    for poll in range(1, max_polls + 1):
        page = client.describe_flow_execution_records(flowName=flow)["flowExecutions"]
        statuses = [r["executionStatus"] for r in page if r["executionId"] == execution_id]
        assert len(statuses) <= 1
        if statuses and statuses[0] == "Successful":
            return poll
        assert not statuses or statuses[0] in ("InProgress",), statuses
    raise AssertionError("the run never finished")


@pytest.fixture(params=[0, 3], ids=["polls=0", "polls=3"])
def polled(request):
    """(client, flow, polls): a Salesforce flow in a mock whose runs stay InProgress for ``polls`` polls."""
    with mock_appflow(in_progress_polls=request.param) as emu:
        emu.create_bucket("out-bucket")
        client = boto3.client("appflow", region_name="us-east-1")
        yield client, _sf_flow(client), request.param


def test_airflow_style_polling_by_execution_id(polled):
    client, flow, polls = polled
    eid = client.start_flow(flowName=flow)["executionId"]
    assert _airflow_wait(client, flow, eid) == polls + 1


def test_newest_first_polling(polled):
    client, flow, polls = polled
    eid = client.start_flow(flowName=flow)["executionId"]
    seen = []
    for _ in range(polls + 5):
        latest = client.describe_flow_execution_records(flowName=flow, maxResults=1)["flowExecutions"][0]
        assert latest["executionId"] == eid
        seen.append(latest["executionStatus"])
        if latest["executionStatus"] != "InProgress":
            break
    assert seen == ["InProgress"] * polls + ["Successful"]


def test_last_run_details_polling_with_a_time_guard(polled):
    client, flow, polls = polled
    before = datetime.now(timezone.utc)
    client.start_flow(flowName=flow)
    n = 0
    while True:
        n += 1
        details = client.describe_flow(flowName=flow)["lastRunExecutionDetails"]
        assert details["mostRecentExecutionTime"].tzinfo is not None
        if details["mostRecentExecutionTime"] >= before and details["mostRecentExecutionStatus"] != "InProgress":
            break
        assert n <= polls
    assert details["mostRecentExecutionStatus"] == "Successful"
    assert n == polls + 1


def test_in_progress_polls_per_flow_and_concurrent_start_switch(client, appflow_mock):
    flow = _sf_flow(client)
    appflow_mock.set_in_progress_polls(flow, 2)
    first = client.start_flow(flowName=flow)["executionId"]
    second = client.start_flow(flowName=flow)["executionId"]  # overlapping runs are allowed by default
    assert first != second
    appflow_mock.conflict_on_concurrent_start = True
    with pytest.raises(client.exceptions.ConflictException):
        client.start_flow(flowName=flow)
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_flow(flowName=flow)  # a run is in progress
    client.delete_flow(flowName=flow, forceDelete=True)
    assert flow not in appflow_mock.state().flows


# -- cancel ---------------------------------------------------------------------------------------------

@requires_operation("CancelFlowExecutions")
def test_cancel_in_progress_runs(client, appflow_mock):
    flow = _sf_flow(client)
    appflow_mock.add_source_records("Salesforce", "Account", _records(3))
    appflow_mock.set_in_progress_polls(flow, 5)
    running = client.start_flow(flowName=flow)["executionId"]
    out = client.cancel_flow_executions(flowName=flow, executionIds=[running, "not-a-run"])
    assert out["invalidExecutions"] == ["not-a-run"]
    first, = client.describe_flow_execution_records(flowName=flow)["flowExecutions"]
    assert first["executionStatus"] in ("CancelStarted", "Canceled")
    (rec,) = client.describe_flow_execution_records(flowName=flow)["flowExecutions"]
    assert rec["executionStatus"] == "Canceled"
    assert appflow_mock.destination_records(flow, running)  # data already written stays
    again = client.cancel_flow_executions(flowName=flow, executionIds=[running])
    assert again["invalidExecutions"] == [running]


@requires_operation("CancelFlowExecutions")
def test_cancel_without_ids_cancels_every_run_in_progress(client, appflow_mock):
    flow = _sf_flow(client)
    appflow_mock.set_in_progress_polls(flow, 5)
    ids = {client.start_flow(flowName=flow)["executionId"] for _ in range(3)}
    assert client.cancel_flow_executions(flowName=flow)["invalidExecutions"] == []
    client.describe_flow_execution_records(flowName=flow)
    statuses = {r["executionId"]: r["executionStatus"]
                for r in client.describe_flow_execution_records(flowName=flow)["flowExecutions"]}
    assert statuses == {i: "Canceled" for i in ids}


# -- schedules ------------------------------------------------------------------------------------------

def _scheduled(client, expression="rate(5minutes)", **props):
    req = flow_request("every5", trigger="Scheduled", schedule=expression)
    req["triggerConfig"]["triggerProperties"]["Scheduled"].update(props)
    client.create_flow(**req)
    return "every5"


def _run_times(client, flow):
    runs, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        page = client.describe_flow_execution_records(flowName=flow, maxResults=100, **kw)
        runs += page["flowExecutions"]
        token = page.get("nextToken")
        if not token:
            return [r["startedAt"] for r in reversed(runs)]


def test_scheduled_flow_under_freezegun():
    with freeze_time(T0) as frozen, mock_appflow() as emu:
        emu.create_bucket("in-bucket")
        emu.create_bucket("out-bucket")
        client = boto3.client("appflow", region_name="us-east-1")
        flow = _scheduled(client)
        frozen.tick(timedelta(hours=1))
        assert _run_times(client, flow) == []  # Draft: nothing runs
        client.start_flow(flowName=flow)
        frozen.tick(timedelta(hours=1))
        times = _run_times(client, flow)
        # one run at activation, then the 12 ticks of the hour
        assert len(times) == 13
        assert times[0] == T0 + timedelta(hours=1)
        assert all(b - a == timedelta(minutes=5) for a, b in zip(times, times[1:]))
        client.stop_flow(flowName=flow)
        frozen.tick(timedelta(hours=1))
        assert len(_run_times(client, flow)) == 13  # Suspended: no more runs


def test_scheduled_flow_under_time_machine():
    with time_machine.travel(T0, tick=False) as traveller, mock_appflow() as emu:
        emu.create_bucket("in-bucket")
        emu.create_bucket("out-bucket")
        client = boto3.client("appflow", region_name="us-east-1")
        flow = _scheduled(client, "cron(0 * * * ? *)")
        traveller.shift(timedelta(seconds=30))
        client.start_flow(flowName=flow)
        traveller.shift(timedelta(hours=3))
        times = _run_times(client, flow)
        assert times == [T0 + timedelta(hours=h) for h in (1, 2, 3)]  # cron: on the hour, none at activation


def test_handle_advance_and_schedule_bounds(client, appflow_mock):
    now = datetime.fromtimestamp(appflow_mock.now(), tz=timezone.utc)
    start = (now + timedelta(minutes=30)).replace(microsecond=0)  # the wire carries whole seconds
    flow = _scheduled(client, "rate(10minutes)", scheduleStartTime=start, scheduleEndTime=start + timedelta(minutes=25))
    client.start_flow(flowName=flow)
    assert _run_times(client, flow) == []  # the first run waits for the start time
    appflow_mock.advance(timedelta(hours=2))
    times = _run_times(client, flow)
    assert len(times) == 3  # start, +10, +20; nothing after the end time
    assert times[0] == start


@requires_member("ScheduledTriggerProperties", "flowErrorDeactivationThreshold")
def test_consecutive_failures_deactivate_the_flow(client, appflow_mock):
    flow = _scheduled(client, "rate(1minutes)", flowErrorDeactivationThreshold=3)
    for _ in range(5):
        appflow_mock.fail_next_execution(flow, "boom")
    client.start_flow(flowName=flow)  # first failure at activation
    appflow_mock.advance(timedelta(minutes=10))
    described = client.describe_flow(flowName=flow)
    assert described["flowStatus"] == "Suspended"
    assert "3" in described["flowStatusMessage"]
    assert len(_run_times(client, flow)) == 3


def test_incremental_windows(client, appflow_mock):
    start = datetime.fromtimestamp(appflow_mock.now(), tz=timezone.utc)
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    req = flow_request("incr", trigger="Scheduled", schedule="rate(1hours)",
                       source=salesforce_source("sf", "Account"),
                       tasks=projection_tasks("Salesforce", ["Id", "LastModifiedDate"]))
    req["triggerConfig"]["triggerProperties"]["Scheduled"]["dataPullMode"] = "Incremental"
    client.create_flow(**req)
    appflow_mock.add_source_records("Salesforce", "Account", [
        {"Id": "old", "LastModifiedDate": (start - timedelta(days=40)).isoformat()},
        {"Id": "recent", "LastModifiedDate": (start - timedelta(days=2)).isoformat()},
        {"Id": "later", "LastModifiedDate": (start + timedelta(minutes=30)).isoformat()},
    ])
    client.start_flow(flowName="incr")
    appflow_mock.advance(timedelta(hours=1, minutes=1))
    runs = client.describe_flow_execution_records(flowName="incr")["flowExecutions"]
    second, first = runs
    assert [r["Id"] for r in appflow_mock.destination_records("incr", first["executionId"])] == ["recent"]
    assert [r["Id"] for r in appflow_mock.destination_records("incr", second["executionId"])] == ["later"]
    assert first["dataPullEndTime"] == second["dataPullStartTime"]
    assert first["dataPullEndTime"] - first["dataPullStartTime"] == timedelta(days=30)


def test_event_flow_runs_when_records_arrive(client, appflow_mock):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    client.create_flow(**flow_request("on-change", trigger="Event", source=salesforce_source("sf", "Contact"),
                                      tasks=projection_tasks("Salesforce", ["Id"])))
    appflow_mock.add_source_records("Salesforce", "Contact", [{"Id": "c0"}])
    assert client.describe_flow_execution_records(flowName="on-change")["flowExecutions"] == []  # Draft
    client.start_flow(flowName="on-change")
    appflow_mock.add_source_records("Salesforce", "Contact", [{"Id": "c1"}, {"Id": "c2"}])
    (run,) = client.describe_flow_execution_records(flowName="on-change")["flowExecutions"]
    assert [r["Id"] for r in appflow_mock.destination_records("on-change", run["executionId"])] == ["c1", "c2"]


# -- determinism ----------------------------------------------------------------------------------------

def _scenario(seed):
    with freeze_time(T0), mock_appflow(seed=seed) as emu:
        emu.create_bucket("out-bucket")
        client = boto3.client("appflow", region_name="us-east-1")
        flow = _sf_flow(client)
        emu.add_source_records("Salesforce", "Account", _records(20))
        ids = [client.start_flow(flowName=flow)["executionId"] for _ in range(3)]
        files = {k: emu.get_object("out-bucket", k) for k in emu.list_objects("out-bucket")}
        return ids, files


def test_same_seed_same_ids_and_bytes():
    ids_a, files_a = _scenario(7)
    ids_b, files_b = _scenario(7)
    assert ids_a == ids_b
    assert files_a == files_b and files_a
    ids_c, _ = _scenario(8)
    assert ids_c != ids_a


def test_invalid_credentials_reject_entity_discovery(client, appflow_mock):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    assert client.list_connector_entities(connectorProfileName="sf")["connectorEntityMap"]
    appflow_mock.invalidate_credentials("sf")
    with pytest.raises(client.exceptions.ConnectorAuthenticationException) as err:
        client.list_connector_entities(connectorProfileName="sf")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    with pytest.raises(client.exceptions.ConnectorAuthenticationException):
        client.describe_connector_entity(connectorProfileName="sf", connectorEntityName="Account")
    appflow_mock.invalidate_credentials("sf", invalid=False)
    assert client.list_connector_entities(connectorProfileName="sf")["connectorEntityMap"]


@pytest.mark.parametrize("moto_first", [True, False])
def test_s3_source_reads_motos_bucket(moto_first):
    moto = pytest.importorskip("moto")
    mocks = [moto.mock_aws(), mock_appflow()]
    if not moto_first:
        mocks.reverse()
    for m in mocks:
        m.start()
    try:
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="in-bucket")
        s3.create_bucket(Bucket="out-bucket")
        s3.put_object(Bucket="in-bucket", Key="data/a.csv", Body=b"id,name\n1,one\n2,two\n")
        s3.put_object(Bucket="in-bucket", Key="data/b.json", Body=b'{"id": 3, "name": "three"}\n')
        client = boto3.client("appflow", region_name="us-east-1")
        client.create_flow(**flow_request("from-moto", destination=s3_destination(file_type="CSV")))
        eid = client.start_flow(flowName="from-moto")["executionId"]
        (rec,) = client.describe_flow_execution_records(flowName="from-moto")["flowExecutions"]
        assert rec["executionStatus"] == "Successful"
        assert rec["executionResult"]["recordsProcessed"] == 3
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="out-bucket")["Contents"]]
        assert keys and all(k.startswith(f"exports/from-moto/{eid}/") for k in keys)
        body = b"".join(s3.get_object(Bucket="out-bucket", Key=k)["Body"].read() for k in keys).decode()
        assert body.splitlines()[0] == "id,name"
        assert sorted(body.splitlines()[1:]) == ["1,one", "2,two", "3,three"]
    finally:
        for m in reversed(mocks):
            m.stop()


def test_changing_an_active_schedule_takes_effect_at_once(client, appflow_mock):
    req = flow_request("resched", trigger="Scheduled", schedule="rate(1hours)")
    client.create_flow(**req)
    client.start_flow(flowName="resched")  # one run at activation
    appflow_mock.advance(timedelta(minutes=10))
    assert len(_run_times(client, "resched")) == 1
    req["triggerConfig"]["triggerProperties"]["Scheduled"]["scheduleExpression"] = "rate(5minutes)"
    client.update_flow(**{k: v for k, v in req.items() if k != "flowName"}, flowName="resched")
    appflow_mock.advance(timedelta(minutes=10))
    times = _run_times(client, "resched")
    # the new period counts from activation, from the change on: +15 and +20 minutes
    assert len(times) == 3
    assert times[2] - times[1] == timedelta(minutes=5)
    for _ in range(3):  # consulting again at the same time runs nothing more
        assert len(_run_times(client, "resched")) == 3
