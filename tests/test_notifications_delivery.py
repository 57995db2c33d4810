"""AppFlow's flow notifications delivered to EventBridge rules and their targets, as user code
receives them: moto's EventBridge while ``mock_aws`` is active (SQS queues behind rules receive the
Start and End Flow Run Reports of an on-demand run, a failed run and scheduled runs, field by field,
and a rule matching ``anything-but`` "Execution Successful" only the failed one), a moto server's
EventBridge in server mode (with ``GET /_appflow_emu/notifications``), a PutEvents that fails (a
warning; the run is unharmed), and a consumer written from aws-samples' ada-appflow-extension that
finds a run's files from its End report. What the emulator publishes, with no EventBridge at all,
is in tests/test_notifications.py.
"""
from __future__ import annotations

import functools
import json
import re
import urllib.parse
import urllib.request
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Optional, Tuple

import boto3
import pytest

from tests.conftest import requires_member

REGION = "us-east-1"
ACCOUNT = "123456789012"
START = "AppFlow Start Flow Run Report"
END = "AppFlow End Flow Run Report"
T0 = datetime(2024, 6, 1, tzinfo=timezone.utc)
# The flows read CSV files: the model must have S3SourceProperties.s3InputFormatConfig (botocore 1.20 lacks it).
needs_input_format = requires_member("S3SourceProperties", "s3InputFormatConfig")
FAKE = {"region_name": REGION, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# The fields of the real End Flow Run Reports, in their order (docs/fidelity.md, "Flow notifications").
FLOW_FIELDS = ["flow-name", "created-by", "flow-arn", "source", "destination", "source-object", "destination-object",
               "trigger-type"]
END_FIELDS = FLOW_FIELDS + ["num-of-records-processed", "execution-id", "num-of-records-filtered", "start-time",
                            "num-of-documents-processed", "end-time", "num-of-record-failures", "data-processed",
                            "status"]
START_FIELDS = FLOW_FIELDS + ["execution-id", "start-time"]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

ORDERS_CSV = "id,name,amount\n1,Acme,120\n2,Globex,75\n3,Initech,9\n"


@pytest.fixture
def clock() -> Iterator[Any]:
    """The clock frozen at T0 (freezegun), for the whole test. Requested first, so that the mocks
    stop while it is still frozen: no AppFlow call runs the ticks of years of real time, and moto's
    SQS (which drops messages older than its four days' retention) keeps the messages sent."""
    with pytest.importorskip("freezegun").freeze_time(T0) as frozen:
        yield frozen


@pytest.fixture
def fast_moto_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto renders every event for every target through its input template, parsing the same eight
    JSONPath expressions with a freshly built parser each time (~0.1 s an event): parse each once."""
    ext = pytest.importorskip("jsonpath_ng.ext")  # moto[events]/moto[server]: EventBridge's targets need it
    monkeypatch.setattr(ext, "parse", functools.lru_cache(maxsize=None)(ext.parse))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, fast_moto_events: None) -> Iterator[None]:
    """moto's ``mock_aws`` with fake credentials and region (through monkeypatch, as tests/test_moto.py);
    requested before ``appflow_mock``, so that the AppFlow mock starts inside it."""
    moto = pytest.importorskip("moto", reason="moto is not installed")
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with moto.mock_aws():
        yield


# -- EventBridge rules with SQS targets ----------------------------------------------------------------

def rule_to_queue(events: Any, sqs: Any, name: str, pattern: Dict[str, Any]) -> str:
    """A rule on the default bus whose one target is a new SQS queue; the queue's URL."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def drain(sqs: Any, url: str) -> List[Dict[str, Any]]:
    """Every message waiting in the queue, as the events they carry (deleted once read)."""
    bodies: List[Dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def comparable(event: Dict[str, Any]) -> Dict[str, Any]:
    """An event without ``account``, which moto's default target input leaves out. (EventBridge
    gives every event it takes its own ``id``; the emulator keeps that id, so ids compare.)"""
    return {k: v for k, v in event.items() if k != "account"}


class Pipeline:
    """moto's S3 with the flows' buckets, and three rules with SQS queues: End reports, Start reports,
    and the runs that did not succeed."""

    def __init__(self) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.appflow = boto3.client("appflow", region_name=REGION)
        for bucket in ("in-bucket", "out-bucket"):
            self.s3.create_bucket(Bucket=bucket)
        self.s3.put_object(Bucket="in-bucket", Key="data/orders.csv", Body=ORDERS_CSV.encode())
        self.ends = rule_to_queue(self.events, self.sqs, "run-ends",
                                  {"source": ["aws.appflow"], "detail-type": [END]})
        self.starts = rule_to_queue(self.events, self.sqs, "run-starts",
                                    {"source": ["aws.appflow"], "detail-type": [START]})
        self.unsuccessful = rule_to_queue(self.events, self.sqs, "run-problems",
                                          {"detail": {"status": [{"anything-but": "Execution Successful"}]}})

    def output_records(self, flow: str, execution_id: str, prefix: str = "exports") -> int:
        """The records a run wrote (JSON lines) under its folder of out-bucket."""
        folder = "/".join(p for p in (prefix, flow, execution_id) if p) + "/"
        count = 0
        for obj in self.s3.list_objects_v2(Bucket="out-bucket", Prefix=folder).get("Contents", []):
            body = self.s3.get_object(Bucket="out-bucket", Key=obj["Key"])["Body"].read()
            count += sum(1 for line in body.splitlines() if line.strip())
        return count


@pytest.fixture
def pipeline(aws: None, appflow_mock: Any) -> Pipeline:
    return Pipeline()


def s3_flow(name: str, *, trigger: str = "OnDemand", prefix: Optional[str] = "exports",
            keep_amount_over: Optional[int] = None, incremental: bool = False) -> Dict[str, Any]:
    """An S3 -> S3 flow: CSV from s3://in-bucket/data, JSON lines to s3://out-bucket[/prefix]."""
    tasks: List[Dict[str, Any]] = [{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"},
                                    "taskProperties": {}}]
    if keep_amount_over is not None:
        tasks.append({"taskType": "Filter", "sourceFields": ["amount"], "connectorOperator": {"S3": "GREATER_THAN"},
                      "taskProperties": {"DATA_TYPE": "integer", "VALUE": str(keep_amount_over)}})
    trigger_config: Dict[str, Any] = {"triggerType": trigger}
    source: Dict[str, Any] = {"connectorType": "S3", "sourceConnectorProperties": {"S3": {
        "bucketName": "in-bucket", "bucketPrefix": "data", "s3InputFormatConfig": {"s3InputFileType": "CSV"}}}}
    if trigger == "Scheduled":
        trigger_config["triggerProperties"] = {"Scheduled": {
            "scheduleExpression": "rate(1hours)", "dataPullMode": "Incremental" if incremental else "Complete"}}
        if incremental:
            source["incrementalPullConfig"] = {"datetimeTypeFieldName": "updated_at"}
    destination: Dict[str, Any] = {"bucketName": "out-bucket", "s3OutputFormatConfig": {"fileType": "JSON"}}
    if prefix:
        destination["bucketPrefix"] = prefix
    return {"flowName": name, "triggerConfig": trigger_config, "sourceFlowConfig": source,
            "destinationFlowConfigList": [{"connectorType": "S3", "destinationConnectorProperties": {"S3": destination}}],
            "tasks": tasks}


def the_run(appflow: Any, flow: str, execution_id: str) -> Dict[str, Any]:
    runs = appflow.describe_flow_execution_records(flowName=flow, maxResults=100)["flowExecutions"]
    [run] = [r for r in runs if r["executionId"] == execution_id]
    return run


def check_envelope(event: Dict[str, Any], detail_type: str, time: str) -> None:
    assert (event["version"], event["detail-type"], event["source"], event["region"], event["time"]) == (
        "0", detail_type, "aws.appflow", REGION, time)
    assert len(event["resources"]) == 1 and re.fullmatch(r"[0-9a-f]{32}", event["resources"][0])
    assert UUID.fullmatch(event["id"])
    assert all(isinstance(value, str) for value in event["detail"].values()), event["detail"]


def flow_fields(appflow: Any, flow: str, trigger_type: str, prefix: Optional[str] = "exports") -> Dict[str, str]:
    """The fields every notification of an ``s3_flow`` carries, from DescribeFlow."""
    described = appflow.describe_flow(flowName=flow)
    return {"flow-name": flow, "created-by": described["createdBy"], "flow-arn": described["flowArn"],
            "source": "S3", "destination": "S3", "source-object": "s3://in-bucket/data",
            "destination-object": "s3://out-bucket" + (f"/{prefix}" if prefix else ""), "trigger-type": trigger_type}


def end_counts(run: Dict[str, Any], written: int) -> Dict[str, str]:
    """The End report's figures, from the execution record and the files the run wrote."""
    result = run["executionResult"]
    failures = int(result.get("errorInfo", {}).get("putFailuresCount", 0))
    return {"num-of-records-processed": str(result["recordsProcessed"]),
            "num-of-records-filtered": str(result["recordsProcessed"] - written - failures),
            "num-of-documents-processed": "0", "num-of-record-failures": str(failures),
            "data-processed": str(result["bytesProcessed"])}


# -- (a) an on-demand run ----------------------------------------------------------------------------------

def test_an_on_demand_runs_reports_reach_the_rules_queues(clock: Any, pipeline: Pipeline, appflow_mock: Any) -> None:
    appflow = pipeline.appflow
    appflow.create_flow(**s3_flow("orders", keep_amount_over=10))
    appflow_mock.set_in_progress_polls("orders", 1)  # the run ends at the second poll
    execution_id = appflow.start_flow(flowName="orders")["executionId"]

    [started] = drain(pipeline.sqs, pipeline.starts)
    assert drain(pipeline.sqs, pipeline.ends) == []  # not before the run has ended
    clock.tick(timedelta(seconds=12, milliseconds=345))
    assert the_run(appflow, "orders", execution_id)["executionStatus"] == "InProgress"
    clock.tick(timedelta(seconds=30))
    run = the_run(appflow, "orders", execution_id)
    assert run["executionStatus"] == "Successful"

    [ended] = drain(pipeline.sqs, pipeline.ends)
    assert drain(pipeline.sqs, pipeline.starts) == [] and drain(pipeline.sqs, pipeline.unsuccessful) == []

    common = flow_fields(appflow, "orders", "ONDEMAND")
    check_envelope(started, START, "2024-06-01T00:00:00Z")
    assert list(started["detail"]) == START_FIELDS
    assert started["detail"] == {**common, "execution-id": execution_id, "start-time": "2024-06-01T00:00:00.000Z[UTC]"}

    check_envelope(ended, END, "2024-06-01T00:00:42Z")
    assert list(ended["detail"]) == END_FIELDS  # the real events' fields, in their order
    written = pipeline.output_records("orders", execution_id)
    assert written == 2  # amount > 10: Acme and Globex
    assert ended["detail"] == {
        **common, **end_counts(run, written), "execution-id": execution_id,
        "start-time": "2024-06-01T00:00:00.000Z[UTC]", "end-time": "2024-06-01T00:00:42.345Z[UTC]",
        "status": "Execution Successful"}
    assert (ended["detail"]["num-of-records-processed"], ended["detail"]["num-of-records-filtered"]) == ("3", "1")
    assert int(ended["detail"]["data-processed"]) > 0
    assert ended["resources"] == started["resources"]
    assert ended["resources"][0] not in (ended["detail"]["flow-arn"], execution_id.replace("-", ""))

    # The same events, envelope and detail, are what the handle kept.
    kept = appflow_mock.notifications("orders")
    assert [comparable(n) for n in kept] == [comparable(started), comparable(ended)]
    assert [n["account"] for n in kept] == [ACCOUNT, ACCOUNT]


# -- (b) a failed run ----------------------------------------------------------------------------------------

def test_a_failed_run_is_the_only_one_that_passes_anything_but_successful(clock: Any, pipeline: Pipeline,
                                                                          appflow_mock: Any) -> None:
    appflow = pipeline.appflow
    appflow.create_flow(**s3_flow("orders"))
    appflow.create_flow(**s3_flow("other"))
    ok = appflow.start_flow(flowName="orders")["executionId"]
    clock.tick(timedelta(minutes=5))
    appflow_mock.fail_next_execution("orders", "The source system refused the request.")
    failed = appflow.start_flow(flowName="orders")["executionId"]
    clock.tick(timedelta(minutes=5))
    appflow.start_flow(flowName="other")

    first, second, other = drain(pipeline.sqs, pipeline.ends)
    [problem] = drain(pipeline.sqs, pipeline.unsuccessful)
    assert [e["detail"]["execution-id"] for e in (first, second)] == [ok, failed]
    assert comparable(problem) == comparable(second)

    run = the_run(appflow, "orders", failed)
    assert run["executionStatus"] == "Error"
    check_envelope(second, END, "2024-06-01T00:05:00Z")
    assert list(second["detail"]) == END_FIELDS + ["error"]
    assert second["detail"] == {
        **flow_fields(appflow, "orders", "ONDEMAND"), **end_counts(run, 0),
        "execution-id": failed, "start-time": "2024-06-01T00:05:00.000Z[UTC]",
        "end-time": "2024-06-01T00:05:00.000Z[UTC]", "status": "Execution Failed",
        "error": "The source system refused the request."}
    assert run["executionResult"]["errorInfo"]["executionMessage"] == second["detail"]["error"]
    assert first["detail"]["status"] == "Execution Successful" and "error" not in first["detail"]

    # resources: one id per flow, the same for each of its runs; another flow's differs
    assert first["resources"] == second["resources"] != other["resources"]
    kept = appflow_mock.notifications(detail_type=END)
    assert [comparable(n) for n in kept] == [comparable(e) for e in (first, second, other)]


# -- (c) scheduled runs made by moving the clock ---------------------------------------------------------------

def test_scheduled_runs_report_as_the_clock_moves(clock: Any, pipeline: Pipeline, appflow_mock: Any) -> None:
    appflow = pipeline.appflow
    pipeline.s3.put_object(Bucket="in-bucket", Key="data/orders.csv", Body=(
        "id,name,updated_at\n1,Acme,2024-05-31T22:00:00Z\n2,Globex,2024-06-01T00:30:00Z\n"
        "3,Initech,2024-06-01T01:15:00Z\n").encode())
    appflow.create_flow(**s3_flow("hourly", trigger="Scheduled", incremental=True))
    appflow.start_flow(flowName="hourly")  # activates; rate() runs once now, then every hour
    clock.tick(timedelta(hours=1, minutes=5))
    appflow.describe_flow(flowName="hourly")  # an AppFlow call runs the 01:00 tick
    clock.move_to(T0 + timedelta(hours=2, minutes=1))
    appflow_mock.tick()  # so does the handle's tick: 02:00

    ends = drain(pipeline.sqs, pipeline.ends)
    starts = drain(pipeline.sqs, pipeline.starts)
    assert drain(pipeline.sqs, pipeline.unsuccessful) == []
    runs = list(reversed(appflow.describe_flow_execution_records(flowName="hourly")["flowExecutions"]))
    assert len(runs) == 3
    assert [e["detail"]["execution-id"] for e in ends] == [r["executionId"] for r in runs]
    assert [s["detail"]["execution-id"] for s in starts] == [r["executionId"] for r in runs]

    windows = ["2024-05-02T00:00:00.000Z[UTC] - 2024-06-01T00:00:00.000Z[UTC]",
               "2024-06-01T00:00:00.000Z[UTC] - 2024-06-01T01:00:00.000Z[UTC]",
               "2024-06-01T01:00:00.000Z[UTC] - 2024-06-01T02:00:00.000Z[UTC]"]
    common = flow_fields(appflow, "hourly", "SCHEDULED")
    for hour, (started, ended, run, window) in enumerate(zip(starts, ends, runs, windows)):
        at = f"2024-06-01T{hour:02d}:00:00.000Z[UTC]"
        check_envelope(started, START, f"2024-06-01T{hour:02d}:00:00Z")
        check_envelope(ended, END, f"2024-06-01T{hour:02d}:00:00Z")
        assert started["detail"] == {**common, "execution-id": run["executionId"], "start-time": at,
                                     "incremental-transfer-time-range": window}
        assert list(ended["detail"]) == END_FIELDS + ["incremental-transfer-time-range"]
        written = pipeline.output_records("hourly", run["executionId"])
        assert written == 1  # one row changed in each window
        assert ended["detail"] == {
            **common, **end_counts(run, written), "execution-id": run["executionId"],
            "start-time": at, "end-time": at, "status": "Execution Successful",
            "incremental-transfer-time-range": window}
        # the window is the run's dataPullStartTime - dataPullEndTime
        pulled = [run[k].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z[UTC]")
                  for k in ("dataPullStartTime", "dataPullEndTime")]
        assert window == " - ".join(pulled)
    assert len({e["resources"][0] for e in starts + ends}) == 1
    kept = appflow_mock.notifications("hourly")
    assert [comparable(n) for n in kept] == [comparable(e) for pair in zip(starts, ends) for e in pair]


def test_a_complete_scheduled_run_has_no_transfer_window(clock: Any, pipeline: Pipeline) -> None:
    pipeline.appflow.create_flow(**s3_flow("full", trigger="Scheduled"))
    pipeline.appflow.start_flow(flowName="full")
    [started] = drain(pipeline.sqs, pipeline.starts)
    [ended] = drain(pipeline.sqs, pipeline.ends)
    assert list(started["detail"]) == START_FIELDS and list(ended["detail"]) == END_FIELDS
    assert ended["detail"]["trigger-type"] == "SCHEDULED"


# -- server mode: a moto server's EventBridge --------------------------------------------------------------

@pytest.fixture
def moto_url(moto_endpoint: str, fast_moto_events: None) -> str:
    return moto_endpoint


def test_server_mode_puts_the_reports_on_the_aws_endpoints_eventbridge(moto_url: str) -> None:
    from appflow_emu.server import AppFlowServer

    s3 = boto3.client("s3", endpoint_url=moto_url, **FAKE)
    sqs = boto3.client("sqs", endpoint_url=moto_url, **FAKE)
    events = boto3.client("events", endpoint_url=moto_url, **FAKE)
    for bucket in ("in-bucket", "out-bucket"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="in-bucket", Key="data/orders.csv", Body=ORDERS_CSV.encode())
    queue = rule_to_queue(events, sqs, "server-run-ends", {"source": ["aws.appflow"], "detail-type": [END]})

    with AppFlowServer(port=0, aws_endpoint=moto_url) as server:
        appflow = boto3.client("appflow", endpoint_url=server.url, **FAKE)
        appflow.create_flow(**s3_flow("served"))
        execution_id = appflow.start_flow(flowName="served")["executionId"]
        query = urllib.parse.urlencode({"detail_type": END}, quote_via=urllib.parse.quote)
        assert query == "detail_type=AppFlow%20End%20Flow%20Run%20Report"
        with urllib.request.urlopen(f"{server.url}/_appflow_emu/notifications?{query}", timeout=10) as answer:
            assert answer.status == 200 and answer.headers["Content-Type"].startswith("application/json")
            listed = json.loads(answer.read())
        assert listed == {"result": server.emulator.notifications(detail_type=END)}
        flow_arn = appflow.describe_flow(flowName="served")["flowArn"]

    [ended] = drain(sqs, queue)
    [kept] = listed["result"]
    assert comparable(ended) == comparable(kept)
    assert kept["account"] == ACCOUNT
    check_envelope(ended, END, kept["time"])
    assert list(ended["detail"]) == END_FIELDS
    assert (ended["detail"]["execution-id"], ended["detail"]["flow-arn"], ended["detail"]["status"]) == (
        execution_id, flow_arn, "Execution Successful")
    assert ended["detail"]["num-of-records-processed"] == "3"
    # the run's files are in the moto server's S3, where the event says
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="out-bucket")["Contents"]]
    assert keys and all(k.startswith(f"exports/served/{execution_id}/") for k in keys)


# -- a notification that cannot be put ----------------------------------------------------------------------

@needs_input_format
def test_a_put_that_fails_warns_and_the_run_still_succeeds(appflow_mock: Any) -> None:
    appflow_mock.create_bucket("in-bucket")
    appflow_mock.create_bucket("out-bucket")
    appflow_mock.put_object("in-bucket", "data/orders.csv", ORDERS_CSV)
    appflow_mock.events_endpoint = "http://127.0.0.1:9"  # nothing listens there (moto is not active)
    appflow = boto3.client("appflow", region_name=REGION)
    appflow.create_flow(**s3_flow("unheard"))
    with pytest.warns(UserWarning, match=r"could not be put on EventBridge") as caught:
        execution_id = appflow.start_flow(flowName="unheard")["executionId"]
    [said] = [w for w in caught if issubclass(w.category, UserWarning)]  # one warning for the call's two reports
    assert str(said.message).startswith(
        "appflow_emu: 2 flow notification(s) (AppFlow End Flow Run Report of flow unheard, "
        "AppFlow Start Flow Run Report of flow unheard) could not be put on EventBridge (PutEvents failed: ")
    assert "127.0.0.1:9" in str(said.message) and str(said.message).endswith("they are in emu.notifications()")
    assert said.filename == __file__  # it points at the user's call, not inside appflow_emu or botocore
    assert the_run(appflow, "unheard", execution_id)["executionStatus"] == "Successful"
    started, ended = appflow_mock.notifications("unheard")
    assert (started["detail-type"], ended["detail-type"]) == (START, END)
    assert ended["detail"]["execution-id"] == execution_id and ended["detail"]["status"] == "Execution Successful"
    assert appflow_mock.list_objects("out-bucket", prefix=f"exports/unheard/{execution_id}/")


@needs_input_format
def test_a_put_that_fails_where_warnings_are_errors_leaves_a_whole_run(appflow_mock: Any) -> None:
    appflow_mock.create_bucket("in-bucket")
    appflow_mock.create_bucket("out-bucket")
    appflow_mock.events_endpoint = "http://127.0.0.1:9"
    appflow = boto3.client("appflow", region_name=REGION)
    appflow.create_flow(**s3_flow("strict-warnings"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # the warning, an error here, reaches the caller as itself, once the run is whole
        with pytest.raises(UserWarning, match="could not be put on EventBridge"):
            appflow.start_flow(flowName="strict-warnings")
    [run] = appflow.describe_flow_execution_records(flowName="strict-warnings")["flowExecutions"]
    assert run["executionStatus"] == "Successful"
    assert [(n["detail-type"], n["detail"]["execution-id"]) for n in appflow_mock.notifications()] == [
        (START, run["executionId"]), (END, run["executionId"])]


# -- a consumer written against AWS: aws-samples/ada-appflow-extension -----------------------------------------

# Its rule (ada_appflow_extension/ada_appflow_extension_stack.py) and the few lines of its
# update_flow_metadata handler (lambdas/update_flow_metadata/lambda_function.py) that read the event,
# re-implemented here: the fields it stores, and the output prefix it derives from destination-object,
# <bucketPrefix>/<flow-name> (its target is a Step Functions state machine; an SQS queue stands in).
ADA_RULE = {"source": ["aws.appflow"], "detail-type": [END],
            "detail": {"destination": ["S3"], "status": ["Execution Successful"]}}
ADA_STORED = ("flow-name", "flow-arn", "source", "destination", "source-object", "destination-object",
              "trigger-type", "status")


def ada_handle(event: Dict[str, Any]) -> Tuple[Dict[str, str], str, str]:
    detail = event["detail"]
    flow_name = detail["flow-name"]
    stored = {name: detail[name] for name in ADA_STORED}
    destination = detail["destination-object"]
    if "s3://" not in destination:
        raise ValueError("Destination object is not an S3 URI")
    bucket, _, key = destination.replace("s3://", "").partition("/")
    key = flow_name if key == "" else f"{key}/{flow_name}"
    return stored, bucket, key


@pytest.mark.parametrize("prefix", ["landing/appflow", None], ids=["with-bucketPrefix", "without"])
def test_ada_appflow_extensions_handler_finds_the_runs_files(pipeline: Pipeline, appflow_mock: Any,
                                                              prefix: Optional[str]) -> None:
    queue = rule_to_queue(pipeline.events, pipeline.sqs, "ada-flow-run-report", ADA_RULE)
    appflow = pipeline.appflow
    appflow.create_flow(**s3_flow("ada-orders", prefix=prefix))
    appflow_mock.fail_next_execution("ada-orders", "Failed, not for the rule.")
    appflow.start_flow(flowName="ada-orders")
    execution_id = appflow.start_flow(flowName="ada-orders")["executionId"]

    [event] = drain(pipeline.sqs, queue)  # the rule lets the successful run's report through only
    stored, bucket, key = ada_handle(event)
    fields = {**flow_fields(appflow, "ada-orders", "ONDEMAND", prefix), "status": "Execution Successful"}
    assert stored == {name: fields[name] for name in ADA_STORED}
    assert (bucket, key) == ("out-bucket", f"{prefix}/ada-orders" if prefix else "ada-orders")

    everything = [o["Key"] for o in pipeline.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    under = [o["Key"] for o in pipeline.s3.list_objects_v2(Bucket=bucket, Prefix=f"{key}/").get("Contents", [])]
    assert under and under == everything  # every file of the flow is under the prefix it derives
    assert all(k.startswith(f"{key}/{event['detail']['execution-id']}/") for k in under)
    assert event["detail"]["execution-id"] == execution_id
