"""Catch-up of scheduled flows over long clock jumps (issue 16, bug 8): the runs a test can observe
(the run history's retention, the last notified ticks, every run that delivers data) are the same
whether the clock jumps at once or moves in small steps; the runs no answer can show are counted.

Cost is shown without timing: a jump's observable runs (execution records) are bounded by the
retention, not by the ticks passed."""
from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Tuple

import boto3
import pytest
import time_machine

from appflow_emu import mock_appflow
from tests.conftest import requires_member
from tests.helpers import flow_request, profile_request, projection_tasks, s3_destination, salesforce_source

T0 = datetime(2024, 1, 1, 0, 0, tzinfo=timezone.utc)
JUMP = timedelta(days=300)
RETENTION = timedelta(days=90)  # executions.RECORD_RETENTION [guess]
END_REPORT = "AppFlow End Flow Run Report"

# Records across the jump: the first window's lookback, one in a long silent stretch past the run
# history (day 100), one inside it (day 250), one at its very end.
SEEDED = {"lookback": T0 - timedelta(days=2), "early": T0 + timedelta(days=5, minutes=7),
          "silent-middle": T0 + timedelta(days=100, minutes=30), "retained": T0 + timedelta(days=250),
          "last": T0 + JUMP - timedelta(hours=3)}


def _pages(client, flow: str, page: int = 100) -> List[Dict[str, Any]]:
    out, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        got = client.describe_flow_execution_records(flowName=flow, maxResults=page, **kw)
        out += got["flowExecutions"]
        token = got.get("nextToken")
        if not token:
            return out


def _incremental_flow(client, emu, name: str = "incr", **props: Any) -> str:
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    req = flow_request(name, trigger="Scheduled", schedule="rate(2hours)",
                       source=salesforce_source("sf", "Account"),
                       tasks=projection_tasks("Salesforce", ["Id", "LastModifiedDate"]),
                       destination=s3_destination(file_type="JSON"))
    req["triggerConfig"]["triggerProperties"]["Scheduled"].update({"dataPullMode": "Incremental", **props})
    client.create_flow(**req)
    emu.add_source_records("Salesforce", "Account",
                           [{"Id": k, "LastModifiedDate": t.isoformat()} for k, t in SEEDED.items()])
    client.start_flow(flowName=name)
    return name


def _delivered(emu, flow: str) -> Dict[str, List[str]]:
    """Execution id -> the Ids it delivered, for every run that delivered something (such runs
    always publish their End Flow Run Report)."""
    out = {}
    for n in emu.notifications(flow, detail_type=END_REPORT):
        eid = n["detail"]["execution-id"]
        ids = [r["Id"] for r in emu.destination_records(flow, eid)]
        if ids:
            out[eid] = ids
    return out


def _scenario(steps: int, setup=_incremental_flow, jump: timedelta = JUMP, **props: Any
              ) -> Tuple[List[Dict[str, Any]], Dict[str, List[str]], Dict[str, Any], List[str]]:
    """Create the flow at T0 and move the clock by ``jump`` in ``steps`` equal steps; the flow's
    execution records, what its runs delivered, describe_flow, and the warnings raised."""
    with time_machine.travel(T0, tick=False), mock_appflow(seed=5) as emu:
        emu.create_bucket("out-bucket")
        client = boto3.client("appflow", region_name="us-east-1")
        flow = setup(client, emu, **props)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(steps):
                emu.advance(jump / steps)
                client.describe_flow(flowName=flow)
        described = client.describe_flow(flowName=flow)
        described.pop("ResponseMetadata")
        return _pages(client, flow), _delivered(emu, flow), described, [str(w.message) for w in caught]


def test_one_jump_and_small_steps_agree():
    pages, delivered, described, said = _scenario(1)
    step_pages, step_delivered, step_described, step_said = _scenario(60)  # 5-day steps: nothing counted
    assert step_said == []
    assert pages == step_pages  # ids, statuses, times, windows of the whole retained history
    assert delivered == step_delivered
    assert described == step_described
    # what the test can see is the run history, not the 3,600 ticks
    assert len(pages) == RETENTION // timedelta(hours=2)
    assert pages[-1]["startedAt"] > T0 + JUMP - RETENTION
    (warning,) = said
    assert "counted, not made" in warning and "'incr'" in warning and "90 days" in warning


def test_every_record_is_delivered_once_in_its_window():
    pages, delivered, _, _ = _scenario(1)
    ids = [i for run in delivered.values() for i in run]
    assert sorted(ids) == sorted(SEEDED)  # each exactly once, the silent stretch's too
    retained = {p["executionId"]: p for p in pages}
    for eid, got in delivered.items():
        if eid in retained:
            window = retained[eid]
            for key in got:
                assert window["dataPullStartTime"] <= SEEDED[key] < window["dataPullEndTime"] or \
                    SEEDED[key] == window["dataPullEndTime"]
    # the retained runs that read the retained records are in the history
    assert {k for eid in delivered if eid in retained for k in delivered[eid]} == {"retained", "last"}


def test_schedule_end_time_bounds_the_catch_up():
    end = (T0 + timedelta(days=150)).replace(microsecond=0)
    one = _scenario(1, scheduleEndTime=end)
    steps = _scenario(30, scheduleEndTime=end)
    assert one[:3] == steps[:3]
    pages = one[0]
    assert pages[0]["startedAt"] <= end  # nothing after the end time
    assert len(pages) == 1  # every run ended past retention: only the newest is kept


def _failing_flow(client, emu, **props: Any) -> str:
    flow = _incremental_flow(client, emu, **props)
    emu.invalidate_credentials("sf")
    return flow


def test_credential_failures_over_a_jump_agree():
    one = _scenario(1, setup=_failing_flow)
    steps = _scenario(60, setup=_failing_flow)
    assert one[:3] == steps[:3]
    assert {p["executionStatus"] for p in one[0]} == {"Error"}


@requires_member("ScheduledTriggerProperties", "flowErrorDeactivationThreshold")
def test_deactivation_threshold_over_a_jump():
    one = _scenario(1, setup=_failing_flow, flowErrorDeactivationThreshold=3)
    steps = _scenario(60, setup=_failing_flow, flowErrorDeactivationThreshold=3)
    assert one[:3] == steps[:3]
    pages, _, described, said = one
    assert described["flowStatus"] == "Suspended"
    assert "3 consecutive failed runs" in described["flowStatusMessage"]
    # the activation run succeeded, the next three ticks failed; only the newest is left in the history
    assert [(p["executionStatus"], p["startedAt"]) for p in pages] == [("Error", T0 + timedelta(hours=6))]
    assert said == []  # nothing counted: every run before the deactivation is made


def test_armed_failure_and_a_jump():
    def armed(client, emu, **props):
        flow = _incremental_flow(client, emu, **props)
        emu.fail_next_execution(flow, "boom")
        return flow
    one = _scenario(1, setup=armed)
    steps = _scenario(60, setup=armed)
    assert one[:3] == steps[:3]


def test_a_run_in_a_long_silent_stretch_delivers():
    _, delivered, _, _ = _scenario(1)
    assert any(ids == ["silent-middle"] for ids in delivered.values())


def test_paging_tokens_survive_pruning_and_saved_state(tmp_path):
    with time_machine.travel(T0, tick=False), mock_appflow(seed=5) as emu:
        emu.create_bucket("out-bucket")
        client = boto3.client("appflow", region_name="us-east-1")
        flow = _incremental_flow(client, emu)
        emu.advance(timedelta(days=60))
        first = client.describe_flow_execution_records(flowName=flow, maxResults=100)
        token = first["nextToken"]
        second = client.describe_flow_execution_records(flowName=flow, maxResults=100, nextToken=token)
        emu.advance(timedelta(days=40))  # the oldest 10 days' runs leave the history
        again = client.describe_flow_execution_records(flowName=flow, maxResults=100, nextToken=token)
        assert again["flowExecutions"] == second["flowExecutions"]  # no shift
        oldest = _pages(client, flow)[-1]
        assert oldest["startedAt"] > T0 + timedelta(days=10)
        for restore in ("snapshot", "file"):
            before = _pages(client, flow, page=37)
            if restore == "snapshot":
                emu.restore(emu.snapshot())
            else:
                emu.save(tmp_path / "s.json")
                emu.load(tmp_path / "s.json")
            got = client.describe_flow_execution_records(flowName=flow, maxResults=100, nextToken=token)
            assert (got["flowExecutions"], got.get("nextToken")) == (again["flowExecutions"], again.get("nextToken"))
            assert _pages(client, flow, page=37) == before
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            emu.advance(timedelta(days=200))  # the token's runs are all gone
        assert client.describe_flow_execution_records(flowName=flow, maxResults=100,
                                                      nextToken=token)["flowExecutions"] == []


def _empty_complete_flow(client, emu, **props: Any) -> str:
    emu.create_bucket("in-bucket")
    req = flow_request("every1", trigger="Scheduled", schedule="rate(1minutes)")
    client.create_flow(**req)
    client.start_flow(flowName="every1")
    return "every1"


def test_the_last_thousand_ticks_are_notified():
    pages, _, _, said = _scenario(1, setup=_empty_complete_flow, jump=timedelta(days=2))
    assert len(pages) == 2 * 1440 + 1  # every run in the history is made
    with time_machine.travel(T0, tick=False), mock_appflow(seed=5) as emu:
        emu.create_bucket("out-bucket")
        client = boto3.client("appflow", region_name="us-east-1")
        _empty_complete_flow(client, emu)
        with pytest.warns(UserWarning, match="published no Start/End Flow Run Reports"):
            emu.advance(timedelta(days=2))
        pages = _pages(client, "every1")
        ended = {n["detail"]["execution-id"] for n in emu.notifications("every1", detail_type=END_REPORT)}
        newest = {p["executionId"] for p in pages[:1000]}
        assert newest <= ended
        assert len(ended) < len(pages)
    (warning,) = said
    assert "last 1,000 ticks" in warning


def test_cron_schedule_one_jump_and_small_steps_agree():
    cron = "cron(0 */3 * * ? *)"
    one = _scenario(1, scheduleExpression=cron)
    steps = _scenario(60, scheduleExpression=cron)
    assert one[:3] == steps[:3]
    assert sorted(i for ids in one[1].values() for i in ids) == sorted(SEEDED)
    assert len(one[0]) == RETENTION // timedelta(hours=3)
