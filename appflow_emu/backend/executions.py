"""Flow executions as the API shows them: DescribeFlowExecutionRecords, CancelFlowExecutions, and
the polls that take an on-demand run from InProgress to how it ended.

Runs themselves are started in ``backend/runs.py`` (on demand, on events) and
``backend/schedules.py`` (scheduled). With ``in_progress_polls=N`` an on-demand run shows
``InProgress`` for N describe polls (describe_flow / describe_flow_execution_records) before it
reports how it ended.

The run history is bounded: a run that started :data:`RECORD_RETENTION` or longer before now is
dropped from it (:func:`prune`), except the flow's newest run (``lastRunExecutionDetails``) and
runs still in progress. Page tokens count the dropped runs, so a page never shifts.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from appflow_emu.backend import notifications
from appflow_emu.backend.handlers import handles
from appflow_emu.backend.pagination import decode_token, encode_token
from appflow_emu.backend.resources import Execution, Flow
from appflow_emu.backend.runtime import Call, RegionState, Runtime
from appflow_emu.model.service import has_member

DEFAULT_PAGE = 20  # [seen] describe_flow_execution_records' default page
ACTIVE_STATUSES = ("InProgress", "CancelStarted")
# [guess] How long DescribeFlowExecutionRecords keeps a run: no AWS source says; 90 days is what
# AWS's other run histories keep (Step Functions executions, Glue job runs).
RECORD_RETENTION = 90 * 86400


def retained(started_at: float, now: float) -> bool:
    """Whether a run that started at ``started_at`` is still in the run history at ``now``."""
    return started_at > now - RECORD_RETENTION


def prune(flow: Flow, now: float) -> None:
    """Drop the oldest runs past retention (never the newest, nor one still in progress)."""
    runs = flow.executions
    horizon = now - RECORD_RETENTION
    n = 0
    last = len(runs) - 1
    while n < last and runs[n].started_at <= horizon and runs[n].status not in ACTIVE_STATUSES:
        n += 1
    if n:
        del runs[:n]
        flow.records_dropped += n


def in_progress(flow: Flow) -> bool:
    return any(e.status == "InProgress" for e in flow.active)


def observe(runtime: Runtime, state: RegionState, flow: Flow, now: float) -> None:
    """One describe poll: runs still InProgress use up a poll; those out of polls finish, and
    cancellations complete (CancelStarted -> Canceled). A run that ends sends its End Flow Run Report."""
    if not flow.active:
        return
    still: List[Execution] = []
    ended: List[Execution] = []
    for e in flow.active:
        if e.status == "CancelStarted":
            e.status = "Canceled"
            e.result = {k: v for k, v in (e.final_result or e.result).items() if k != "errorInfo"}
            e.last_updated_at = now
        elif e.polls_left > 0:
            e.polls_left -= 1
        else:
            e.status = e.final_status or "Successful"
            if e.final_result is not None:
                e.result = e.final_result
            e.last_updated_at = now
        if e.status in ACTIVE_STATUSES:
            still.append(e)
        else:
            ended.append(e)
    flow.active = still
    for e in ended:
        notifications.run_ended(runtime, state, flow, e)


def record(e: Execution) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "executionId": e.execution_id,
        "executionStatus": e.status,
        "executionResult": e.result,
        "startedAt": e.started_at,
        "lastUpdatedAt": e.last_updated_at,
    }
    if e.data_pull_start is not None:
        out["dataPullStartTime"] = e.data_pull_start
    if e.data_pull_end is not None:
        out["dataPullEndTime"] = e.data_pull_end
    if e.catalog_details is not None and e.status not in ACTIVE_STATUSES \
            and has_member("ExecutionRecord", "metadataCatalogDetails"):
        out["metadataCatalogDetails"] = e.catalog_details
    return out


def last_catalog_details(flow: Flow) -> Optional[List[Dict[str, Any]]]:
    """[doc] lastRunMetadataCatalogDetails: the catalog registration of the flow's newest ended run
    that made one."""
    for e in reversed(flow.executions):
        if e.catalog_details is not None and e.status not in ACTIVE_STATUSES:
            return e.catalog_details
    return None


def last_run_details(flow: Flow) -> Optional[Dict[str, Any]]:
    if not flow.executions:
        return None
    e = flow.executions[-1]
    out: Dict[str, Any] = {"mostRecentExecutionTime": e.started_at, "mostRecentExecutionStatus": e.status}
    message = (e.result.get("errorInfo") or {}).get("executionMessage")
    if message:
        out["mostRecentExecutionMessage"] = message
    return out


@handles("DescribeFlowExecutionRecords")
def describe_flow_execution_records(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    flow = call.state.flow(p["flowName"])
    observe(call.runtime, call.state, flow, call.now)
    prune(flow, call.now)
    runs = flow.executions
    # Tokens carry the 1-based ordinal of the oldest run returned, counting the runs dropped past
    # retention: new runs never shift a page, nor do dropped ones.
    # A token belongs to one flow's listing: a flow deleted and created again under the same
    # name is another flow ('/' cannot occur in a flow name; the ARN alone would repeat).
    kind = f"executions/{flow.name}/{call.state.flows.seq(flow.name)}"
    dropped = flow.records_dropped
    total = dropped + len(runs)
    before = decode_token(kind, p.get("nextToken")) if p.get("nextToken") else total + 1
    limit = p.get("maxResults") or DEFAULT_PAGE
    end = max(min(before - 1, total), dropped)
    start = max(end - limit, dropped)
    page: List[Execution] = runs[start - dropped:end - dropped][::-1]
    out: Dict[str, Any] = {"flowExecutions": [record(e) for e in page]}
    if start > dropped:
        out["nextToken"] = encode_token(kind, start + 1)
    return out


@handles("CancelFlowExecutions")
def cancel_flow_executions(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    flow = call.state.flow(p["flowName"])
    ids = p.get("executionIds")
    by_id = {e.execution_id: e for e in flow.active}
    invalid: List[str] = []
    targets: List[Execution] = []
    if ids:
        for execution_id in ids:
            e = by_id.get(execution_id)
            if e is None or e.status != "InProgress":
                invalid.append(execution_id)
            else:
                targets.append(e)
    else:
        targets = [e for e in flow.active if e.status == "InProgress"]
    for e in targets:
        # Data already written stays; the run reports Canceled from the next poll on.
        e.status = "CancelStarted"
        e.final_status = "Canceled"
        e.last_updated_at = call.now
    return {"invalidExecutions": invalid}
