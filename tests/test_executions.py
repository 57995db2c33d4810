"""Runs of a flow as boto3 users see them: start_flow, describe_flow_execution_records
(newest first, paginated by hand), lastRunExecutionDetails, cancel_flow_executions."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config

from tests.conftest import requires_operation
from tests.helpers import expect_error, flow_request

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FINISHED = ("Successful", "Error", "Canceled")


def records(client, name: str, **kwargs) -> list:
    return client.describe_flow_execution_records(flowName=name, **kwargs)["flowExecutions"]


def all_records(client, name: str, page: int) -> list:
    out, token = [], None
    for _ in range(1000):
        kwargs = {"maxResults": page}
        if token:
            kwargs["nextToken"] = token
        resp = client.describe_flow_execution_records(flowName=name, **kwargs)
        assert len(resp["flowExecutions"]) <= page
        out += resp["flowExecutions"]
        token = resp.get("nextToken")
        if not token:
            return out
        assert resp["flowExecutions"], "a page with a nextToken must not be empty"
    raise AssertionError("pagination did not end")


def start_runs(client, name: str, n: int) -> list:
    return [client.start_flow(flowName=name)["executionId"] for _ in range(n)]


def wait_like_airflow(client, name: str, execution_id: str, max_polls: int = 20) -> str:
    """Airflow's waiter: flowExecutions[?executionId=='<id>'].executionStatus | [0]."""
    for _ in range(max_polls):
        page = records(client, name)
        matches = [r["executionStatus"] for r in page if r["executionId"] == execution_id]
        assert len(matches) <= 1, "an execution id seen twice"
        if matches and matches[0] in ("Successful", "Error"):
            return matches[0]
    raise AssertionError("run did not finish within the polls")


@pytest.fixture
def flow(client):
    client.create_flow(**flow_request("runs"))
    return "runs"


# -- records ---------------------------------------------------------------------------------
def test_never_run_flow_has_no_records(client, flow):
    out = client.describe_flow_execution_records(flowName=flow)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["flowExecutions"] == []
    assert "nextToken" not in out
    d = client.describe_flow(flowName=flow)
    assert "lastRunExecutionDetails" not in d


def test_scheduled_flow_runs_once_at_activation(client, appflow_mock):
    appflow_mock.create_bucket("out-bucket")
    appflow_mock.create_bucket("in-bucket")
    client.create_flow(**flow_request("s1", trigger="Scheduled"))
    assert client.describe_flow_execution_records(flowName="s1")["flowExecutions"] == []  # Draft: no runs
    assert "executionId" not in client.start_flow(flowName="s1")  # activates; no run id is returned
    # [seen] a rate schedule without a start time runs once at activation
    (run,) = client.describe_flow_execution_records(flowName="s1")["flowExecutions"]
    assert run["executionStatus"] == "Successful"
    assert client.describe_flow(flowName="s1")["lastRunExecutionDetails"]["mostRecentExecutionStatus"] == "Successful"


def test_record_fields(client, flow):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    eid = client.start_flow(flowName=flow)["executionId"]
    assert UUID.fullmatch(eid)
    assert wait_like_airflow(client, flow, eid) == "Successful"
    (rec,) = records(client, flow)
    assert rec["executionId"] == eid
    assert rec["executionStatus"] == "Successful"
    result = rec["executionResult"]
    assert "errorInfo" not in result
    for key in ("bytesProcessed", "bytesWritten", "recordsProcessed"):
        assert isinstance(result[key], int) and result[key] >= 0
    assert rec["startedAt"].tzinfo is not None
    assert rec["startedAt"] >= before
    assert rec["lastUpdatedAt"] >= rec["startedAt"]


def test_records_are_newest_first(client, flow):
    ids = start_runs(client, flow, 5)
    assert len(set(ids)) == 5
    assert [r["executionId"] for r in records(client, flow)] == ids[::-1]
    latest = records(client, flow, maxResults=1)
    assert [r["executionId"] for r in latest] == [ids[-1]]


def test_default_page_is_twenty(client, flow):
    ids = start_runs(client, flow, 25)
    first = client.describe_flow_execution_records(flowName=flow)
    assert [r["executionId"] for r in first["flowExecutions"]] == ids[::-1][:20]
    second = client.describe_flow_execution_records(flowName=flow, nextToken=first["nextToken"])
    assert [r["executionId"] for r in second["flowExecutions"]] == ids[::-1][20:]
    assert "nextToken" not in second


@pytest.mark.parametrize("page", [1, 3, 10, 12, 100])
def test_walk_all_pages(client, flow, page):
    ids = start_runs(client, flow, 12)
    assert [r["executionId"] for r in all_records(client, flow, page)] == ids[::-1]


def test_full_last_page_has_no_token(client, flow):
    start_runs(client, flow, 4)
    out = client.describe_flow_execution_records(flowName=flow, maxResults=4)
    assert len(out["flowExecutions"]) == 4
    assert "nextToken" not in out


def test_new_runs_between_pages_do_not_shift_pages(client, flow):
    ids = start_runs(client, flow, 9)
    first = client.describe_flow_execution_records(flowName=flow, maxResults=4)
    seen = [r["executionId"] for r in first["flowExecutions"]]
    newer = start_runs(client, flow, 3)
    token = first["nextToken"]
    while token:
        resp = client.describe_flow_execution_records(flowName=flow, maxResults=4, nextToken=token)
        seen += [r["executionId"] for r in resp["flowExecutions"]]
        token = resp.get("nextToken")
    assert seen == ids[::-1]
    assert [r["executionId"] for r in records(client, flow, maxResults=3)] == newer[::-1]


def test_max_results_bounds(client, flow):
    start_runs(client, flow, 2)
    expect_error(client.describe_flow_execution_records, "ValidationException", 400, flowName=flow, maxResults=101)
    raw = boto3.client("appflow", region_name="us-east-1", config=Config(parameter_validation=False))
    expect_error(raw.describe_flow_execution_records, "ValidationException", 400, flowName=flow, maxResults=0)
    assert len(records(client, flow, maxResults=100)) == 2


def test_bad_token(client, flow):
    start_runs(client, flow, 3)
    expect_error(client.describe_flow_execution_records, "ValidationException", 400,
                 flowName=flow, nextToken="not-a-token")
    token = client.describe_flow_execution_records(flowName=flow, maxResults=1)["nextToken"]
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x", token[::-1]):
        expect_error(client.describe_flow_execution_records, "ValidationException", 400,
                     flowName=flow, maxResults=1, nextToken=forged)


def test_token_of_another_listing_rejected(client, flow):
    for i in range(3):
        client.create_flow(**flow_request(f"other{i}"))
    start_runs(client, flow, 3)
    list_token = client.list_flows(maxResults=1)["nextToken"]
    expect_error(client.describe_flow_execution_records, "ValidationException", 400,
                 flowName=flow, nextToken=list_token)
    run_token = client.describe_flow_execution_records(flowName=flow, maxResults=1)["nextToken"]
    expect_error(client.list_flows, "ValidationException", 400, nextToken=run_token)


def test_token_of_another_flow_rejected(client, flow):
    client.create_flow(**flow_request("second"))
    start_runs(client, flow, 3)
    start_runs(client, "second", 3)
    token = client.describe_flow_execution_records(flowName=flow, maxResults=1)["nextToken"]
    expect_error(client.describe_flow_execution_records, "ValidationException", 400,
                 flowName="second", maxResults=1, nextToken=token)


def test_records_of_missing_flow(client):
    expect_error(client.describe_flow_execution_records, "ResourceNotFoundException", 404, flowName="ghost")


def test_runs_are_per_flow(client, flow):
    client.create_flow(**flow_request("second"))
    a = start_runs(client, flow, 2)
    b = start_runs(client, "second", 1)
    assert [r["executionId"] for r in records(client, flow)] == a[::-1]
    assert [r["executionId"] for r in records(client, "second")] == b


# -- lastRunExecutionDetails ------------------------------------------------------------------
def test_last_run_details(client, flow):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    start_runs(client, flow, 2)
    details = client.describe_flow(flowName=flow)["lastRunExecutionDetails"]
    assert details["mostRecentExecutionStatus"] == "Successful"
    assert details["mostRecentExecutionTime"].tzinfo is not None
    assert details["mostRecentExecutionTime"] >= before
    assert details["mostRecentExecutionTime"] == records(client, flow, maxResults=1)[0]["startedAt"]
    assert "mostRecentExecutionMessage" not in details or details["mostRecentExecutionMessage"]
    item = client.list_flows()["flows"][0]
    assert item["lastRunExecutionDetails"] == details


def test_last_run_details_follow_the_newest_run(client, flow, monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    client.start_flow(flowName=flow)
    now[0] += 120
    client.start_flow(flowName=flow)
    details = client.describe_flow(flowName=flow)["lastRunExecutionDetails"]
    assert details["mostRecentExecutionTime"] == datetime.fromtimestamp(1_800_000_120, tz=timezone.utc)


# -- cancel ----------------------------------------------------------------------------------
needs_cancel = requires_operation("CancelFlowExecutions")


@needs_cancel
def test_cancel_finished_and_unknown_ids(client, flow):
    ids = start_runs(client, flow, 2)
    wait_like_airflow(client, flow, ids[-1])
    before = records(client, flow)
    unknown = "00000000-0000-4000-8000-000000000000"
    out = client.cancel_flow_executions(flowName=flow, executionIds=[ids[0], unknown])
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["invalidExecutions"] == [ids[0], unknown]
    assert records(client, flow) == before


@needs_cancel
def test_cancel_without_ids_when_nothing_runs(client, flow):
    start_runs(client, flow, 1)
    before = records(client, flow)
    out = client.cancel_flow_executions(flowName=flow)
    assert out["invalidExecutions"] == []
    assert records(client, flow) == before


@needs_cancel
def test_cancel_on_never_run_flow(client, flow):
    assert client.cancel_flow_executions(flowName=flow)["invalidExecutions"] == []
    assert client.cancel_flow_executions(flowName=flow, executionIds=["nope"])["invalidExecutions"] == ["nope"]


@needs_cancel
def test_cancel_ids_of_another_flow_are_invalid(client, flow):
    client.create_flow(**flow_request("second"))
    other = start_runs(client, "second", 1)
    assert client.cancel_flow_executions(flowName=flow, executionIds=other)["invalidExecutions"] == other


@needs_cancel
def test_cancel_missing_flow(client):
    expect_error(client.cancel_flow_executions, "ResourceNotFoundException", 404, flowName="ghost")


@needs_cancel
def test_cancel_too_many_ids(client, flow):
    expect_error(client.cancel_flow_executions, "ValidationException", 400,
                 flowName=flow, executionIds=[f"id-{i}" for i in range(101)])


@needs_cancel
def test_finished_runs_stay_finished(client, flow):
    ids = start_runs(client, flow, 3)
    for eid in ids:
        assert wait_like_airflow(client, flow, eid) == "Successful"
    client.cancel_flow_executions(flowName=flow, executionIds=ids)
    assert {r["executionStatus"] for r in records(client, flow)} == {"Successful"}


def test_deleting_flow_with_finished_runs(client, flow):
    start_runs(client, flow, 2)
    client.delete_flow(flowName=flow)
    expect_error(client.describe_flow_execution_records, "ResourceNotFoundException", 404, flowName=flow)


def test_token_of_a_deleted_flow_refused_after_recreation(client, flow, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)  # all in the same instant
    start_runs(client, flow, 5)
    token = client.describe_flow_execution_records(flowName=flow, maxResults=1)["nextToken"]
    client.delete_flow(flowName=flow)
    client.create_flow(**flow_request(flow))
    start_runs(client, flow, 2)
    expect_error(client.describe_flow_execution_records, "ValidationException", 400,
                 flowName=flow, maxResults=1, nextToken=token)


def test_airflow_waiter_jmespath(client, flow):
    import jmespath

    eid = client.start_flow(flowName=flow)["executionId"]
    expr = f"flowExecutions[?executionId=='{eid}'].executionStatus | [0]"
    for _ in range(10):
        status = jmespath.search(expr, client.describe_flow_execution_records(flowName=flow))
        if status == "Successful":
            break
        assert status in (None, "InProgress"), status
    else:
        raise AssertionError("the run never reached Successful")
    latest = client.describe_flow_execution_records(flowName=flow, maxResults=1)["flowExecutions"][0]
    assert latest["executionId"] == eid


def test_run_time_is_never_before_the_caller_time(client, flow, monkeypatch):
    t = 1_800_000_000.0004
    monkeypatch.setattr(time, "time", lambda: t)
    before = datetime.fromtimestamp(t, tz=timezone.utc)
    client.start_flow(flowName=flow)
    details = client.describe_flow(flowName=flow)["lastRunExecutionDetails"]
    assert details["mostRecentExecutionTime"] >= before
    assert records(client, flow)[0]["startedAt"] >= before
