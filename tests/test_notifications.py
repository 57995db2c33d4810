"""AppFlow's flow notifications (EventBridge events), as the emulator keeps them: what each run, poll,
cancellation, schedule, deactivation and event trigger publishes, the fields and their spellings
(the real events' [seen], docs/fidelity.md), the clock they follow, and the handle's verb. Delivery to
moto's and a server's EventBridge is in tests/test_notifications_delivery.py."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import boto3
import pytest
from freezegun import freeze_time

from appflow_emu import NotFoundError, mock_appflow
from tests.conftest import requires_member, requires_operation
from tests.helpers import flow_request, profile_request, projection_tasks, salesforce_source

END = "AppFlow End Flow Run Report"
START = "AppFlow Start Flow Run Report"
APPFLOW_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\[UTC\]$")
NOON = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


def seeded(emu: Any) -> None:
    emu.put_object("in-bucket", "data/a.csv", "id,name\n1,Acme\n2,Globex\n3,Initech\n")
    emu.create_bucket("out-bucket")


def details(emu: Any, detail_type: str = END, flow: Any = None) -> List[Dict[str, str]]:
    return [n["detail"] for n in emu.notifications(flow, detail_type=detail_type)]


def test_an_on_demand_run_publishes_its_start_and_end(client, appflow_mock):
    client.create_flow(**flow_request("nightly", destination={"connectorType": "S3", "destinationConnectorProperties": {
        "S3": {"bucketName": "out-bucket", "bucketPrefix": "exports/"}}}))
    execution_id = client.start_flow(flowName="nightly")["executionId"]
    start, end = appflow_mock.notifications()
    assert [start["detail-type"], end["detail-type"]] == [START, END]
    record = client.describe_flow_execution_records(flowName="nightly")["flowExecutions"][0]
    flow = client.describe_flow(flowName="nightly")
    common = {"flow-name": "nightly", "created-by": flow["createdBy"], "flow-arn": flow["flowArn"], "source": "S3",
              "destination": "S3", "source-object": "s3://in-bucket/data", "destination-object": "s3://out-bucket/exports/",
              "trigger-type": "ONDEMAND"}
    started = record["startedAt"].astimezone(timezone.utc)
    stamp = started.strftime("%Y-%m-%dT%H:%M:%S.") + f"{started.microsecond // 1000:03d}Z[UTC]"
    assert start["detail"] == {**common, "execution-id": execution_id, "start-time": stamp}
    assert end["detail"] == {**common, "num-of-records-processed": "0", "execution-id": execution_id,
                             "num-of-records-filtered": "0", "start-time": stamp, "num-of-documents-processed": "0",
                             "end-time": stamp, "num-of-record-failures": "0", "data-processed": "0",
                             "status": "Execution Successful"}
    for event in (start, end):
        assert (event["version"], event["source"], event["account"], event["region"]) == (
            "0", "aws.appflow", "123456789012", "us-east-1")
        # whole seconds, rounded to the nearest (real events: end-time 12:55:32.049 -> 32Z, 20.871 -> 21Z)
        assert event["time"] == (started + timedelta(milliseconds=500)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert re.fullmatch(r"[0-9a-f]{32}", event["resources"][0]) and len(event["resources"]) == 1
        assert all(isinstance(v, str) for v in event["detail"].values())
    assert start["id"] != end["id"]


@pytest.mark.parametrize("at, time", [("12:55:32.049", "12:55:32Z"), ("12:55:12.917", "12:55:13Z"),
                                       ("12:55:20.500", "12:55:21Z"), ("23:59:59.871", "00:00:00Z")])
def test_the_envelope_time_is_the_report_time_to_the_nearest_second(client, appflow_mock, at, time):
    seeded(appflow_mock)
    client.create_flow(**flow_request("rounded"))
    with freeze_time(f"2023-08-29T{at}Z"):
        client.start_flow(flowName="rounded")
    day = "2023-08-30" if time == "00:00:00Z" else "2023-08-29"
    assert [n["time"] for n in appflow_mock.notifications("rounded")] == [f"{day}T{time}"] * 2
    assert details(appflow_mock, END, "rounded")[0]["end-time"] == f"2023-08-29T{at}Z[UTC]"


def test_counts_failures_and_the_error_of_a_failed_run(client, appflow_mock):
    seeded(appflow_mock)
    tasks = projection_tasks("S3", ["id", "name"]) + [
        {"sourceFields": ["id"], "connectorOperator": {"S3": "GREATER_THAN"}, "taskType": "Filter",
         "taskProperties": {"DATA_TYPE": "integer", "VALUE": "1"}}]
    client.create_flow(**flow_request("counted", tasks=tasks))
    appflow_mock.fail_records("counted", lambda r: r["id"] == "3")
    client.start_flow(flowName="counted")
    end = details(appflow_mock)[0]
    assert (end["num-of-records-processed"], end["num-of-records-filtered"], end["num-of-record-failures"]) == \
        ("3", "1", "1")
    assert end["status"] == "Execution Failed" and "1 record failed to be processed" in end["error"]
    assert int(end["data-processed"]) > 0
    appflow_mock.fail_records("counted", None)
    appflow_mock.fail_next_execution("counted", "The source is down.")
    client.start_flow(flowName="counted")
    assert details(appflow_mock)[-1]["error"] == "The source is down."
    first, second = appflow_mock.notifications("counted", detail_type=END)
    assert first["resources"] == second["resources"]  # one id per flow


def test_a_run_kept_in_progress_ends_when_its_polls_are_used_up(client, appflow_mock):
    with freeze_time(NOON) as frozen:
        client.create_flow(**flow_request("slow"))
        appflow_mock.set_in_progress_polls("slow", 2)
        client.start_flow(flowName="slow")
        assert [n["detail-type"] for n in appflow_mock.notifications()] == [START]
        frozen.tick(timedelta(seconds=30))
        client.describe_flow(flowName="slow")
        frozen.tick(timedelta(seconds=30))
        client.describe_flow(flowName="slow")
        assert [n["detail-type"] for n in appflow_mock.notifications()] == [START]
        frozen.tick(timedelta(seconds=30))
        client.describe_flow_execution_records(flowName="slow")
        end = details(appflow_mock)
        assert len(end) == 1
        assert (end[0]["start-time"], end[0]["end-time"]) == ("2024-06-01T12:00:00.000Z[UTC]", "2024-06-01T12:01:30.000Z[UTC]")
        assert appflow_mock.notifications(detail_type=END)[0]["time"] == "2024-06-01T12:01:30Z"


@requires_operation("CancelFlowExecutions")
def test_a_canceled_run_ends_canceled(client, appflow_mock):
    client.create_flow(**flow_request("canceled"))
    appflow_mock.set_in_progress_polls("canceled", 5)
    client.start_flow(flowName="canceled")
    client.cancel_flow_executions(flowName="canceled")
    client.describe_flow(flowName="canceled")
    assert details(appflow_mock)[0]["status"] == "Execution Canceled"


def test_scheduled_runs_publish_with_their_own_times_and_window(client, appflow_mock):
    with freeze_time(NOON) as frozen:
        request = flow_request("hourly", trigger="Scheduled", schedule="rate(1hours)")
        request["triggerConfig"]["triggerProperties"]["Scheduled"]["dataPullMode"] = "Incremental"
        client.create_flow(**request)
        client.start_flow(flowName="hourly")  # activates: the first run is now
        frozen.tick(timedelta(hours=2, minutes=5))
        appflow_mock.tick()
    ends = details(appflow_mock)
    assert [(e["trigger-type"], e["start-time"]) for e in ends] == [
        ("SCHEDULED", "2024-06-01T12:00:00.000Z[UTC]"), ("SCHEDULED", "2024-06-01T13:00:00.000Z[UTC]"),
        ("SCHEDULED", "2024-06-01T14:00:00.000Z[UTC]")]
    assert ends[1]["incremental-transfer-time-range"] == \
        "2024-06-01T12:00:00.000Z[UTC] - 2024-06-01T13:00:00.000Z[UTC]"
    starts = details(appflow_mock, START)
    assert [s["execution-id"] for s in starts] == [e["execution-id"] for e in ends]
    assert "incremental-transfer-time-range" in starts[0]


@requires_member("ScheduledTriggerProperties", "flowErrorDeactivationThreshold")
def test_a_schedule_deactivated_after_failures_says_why(client, appflow_mock):
    with freeze_time(NOON) as frozen:
        request = flow_request("fragile", trigger="Scheduled", schedule="rate(1hours)")
        request["triggerConfig"]["triggerProperties"]["Scheduled"]["flowErrorDeactivationThreshold"] = 2
        request["sourceFlowConfig"]["sourceConnectorProperties"]["S3"]["bucketName"] = "no-such-bucket"
        client.create_flow(**request)
        client.start_flow(flowName="fragile")
        frozen.tick(timedelta(hours=3))
        appflow_mock.tick()
    (deactivated,) = appflow_mock.notifications(detail_type="AppFlow Scheduled Flow Deactivated")
    flow = client.describe_flow(flowName="fragile")
    assert flow["flowStatus"] == "Suspended"
    assert deactivated["detail"]["deactivation-reason"] == flow["flowStatusMessage"]
    assert deactivated["detail"]["deactivation-time"] == "2024-06-01T13:00:00.000Z[UTC]"
    assert len(details(appflow_mock)) == 2  # no run after the deactivation


def test_event_triggered_runs_are_counted_per_five_minutes(client, appflow_mock):
    with freeze_time(NOON) as frozen:
        client.create_connector_profile(**profile_request("sf", "Salesforce"))
        client.create_flow(**flow_request("changes", trigger="Event", source=salesforce_source("sf"),
                                          tasks=projection_tasks("Salesforce", ["Id"])))
        client.start_flow(flowName="changes")
        for minute in (1, 2, 6):
            frozen.move_to(NOON + timedelta(minutes=minute))
            appflow_mock.add_source_records("Salesforce", "Account", [{"Id": str(minute)}])
        assert [d["status-report"] for d in details(appflow_mock, "AppFlow Event Flow Report")] == [
            "2 event triggers from 2024-06-01T12:00:00.000Z[UTC] to 2024-06-01T12:05:00.000Z[UTC]"]
        frozen.move_to(NOON + timedelta(minutes=11))
        appflow_mock.tick()
        reports = details(appflow_mock, "AppFlow Event Flow Report")
        assert reports[-1]["status-report"] == \
            "1 event triggers from 2024-06-01T12:05:00.000Z[UTC] to 2024-06-01T12:10:00.000Z[UTC]"
        assert reports[-1]["trigger-type"] == "EVENT" and reports[-1]["source"] == "SALESFORCE/sf"
        assert details(appflow_mock)[0]["source-object"] == "Account"


def test_the_verb_filters_and_is_loud(client, appflow_mock):
    client.create_flow(**flow_request("one"))
    client.create_flow(**flow_request("two"))
    client.start_flow(flowName="one")
    client.start_flow(flowName="two")
    assert [n["detail"]["flow-name"] for n in appflow_mock.notifications("two")] == ["two", "two"]
    assert len(appflow_mock.notifications(detail_type=START, region="us-east-1")) == 2
    assert appflow_mock.notifications(region="eu-west-1") == []
    with pytest.raises(ValueError, match="detail_type must be one of"):
        appflow_mock.notifications(detail_type="End Flow Run Report")
    with pytest.raises(NotFoundError, match="'one', 'two'"):
        appflow_mock.notifications("three")
    appflow_mock.notifications()[0]["detail"]["flow-name"] = "changed"  # a copy
    assert appflow_mock.notifications()[0]["detail"]["flow-name"] == "one"
    client.delete_flow(flowName="one")
    assert len(appflow_mock.notifications("one")) == 2  # a deleted flow's notifications stay


def test_notifications_are_saved_and_reproducible():
    def run() -> List[Dict[str, Any]]:
        with mock_appflow(seed=3) as emu:
            with freeze_time(NOON):
                client = boto3.client("appflow", region_name="us-east-1")
                client.create_flow(**flow_request("again"))
                client.start_flow(flowName="again")
                document = emu.snapshot()
                emu.reset()
                emu.restore(document)
                return emu.notifications()

    first = run()
    assert len(first) == 2 and first == run()
