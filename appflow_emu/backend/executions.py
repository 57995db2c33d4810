"""Flow executions: records, newest-first listing, cancel.

Until the simulator lands (it moves real data), a started run completes at once, Successful,
having moved nothing; the records, their listing and cancel semantics are already the service's.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from appflow_emu.backend.models import Execution, Flow
from appflow_emu.backend.pagination import decode_token, encode_token
from appflow_emu.backend.registry import operation
from appflow_emu.backend.state import Call

DEFAULT_PAGE = 20  # [seen] describe_flow_execution_records' default page
ACTIVE_STATUSES = ("InProgress", "CancelStarted")


def in_progress(flow: Flow) -> bool:
    return any(e.status == "InProgress" for e in flow.executions)


def start_run(call: Call, flow: Flow) -> Execution:
    result: Dict[str, Any] = {"bytesProcessed": 0, "bytesWritten": 0, "recordsProcessed": 0}
    status = "Successful"
    missing = [n for n in flow.profile_names() if n not in call.state.connector_profiles]
    if missing:
        # [guess] the run starts and fails: the connector cannot be reached without its profile.
        status = "Error"
        result["errorInfo"] = {
            "putFailuresCount": 0,
            "executionMessage": f"Connector Profile with name {missing[0]} does not exist.",
        }
    execution = Execution(
        execution_id=call.state.emulator.new_uuid(),
        status=status,
        started_at=call.now,
        last_updated_at=call.now,
        result=result,
    )
    flow.executions.append(execution)
    return execution


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
    return out


def last_run_details(flow: Flow) -> Optional[Dict[str, Any]]:
    if not flow.executions:
        return None
    e = flow.executions[-1]
    out: Dict[str, Any] = {"mostRecentExecutionTime": e.started_at, "mostRecentExecutionStatus": e.status}
    message = (e.result.get("errorInfo") or {}).get("executionMessage")
    if message:
        out["mostRecentExecutionMessage"] = message
    return out


@operation("DescribeFlowExecutionRecords")
def describe_flow_execution_records(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    from appflow_emu.backend.flows import get_flow

    flow = get_flow(call.state, p["flowName"])
    runs = flow.executions
    # Tokens carry the 1-based ordinal of the oldest run returned: new runs never shift a page.
    # A token belongs to one flow's listing: a flow deleted and created again under the same
    # name is another flow ('/' cannot occur in a flow name; the ARN alone would repeat).
    kind = f"executions/{flow.name}/{call.state._flows.seq(flow.name)}"
    before = decode_token(kind, p.get("nextToken")) if p.get("nextToken") else len(runs) + 1
    limit = p.get("maxResults") or DEFAULT_PAGE
    end = min(before - 1, len(runs))
    start = max(end - limit, 0)
    page: List[Execution] = runs[start:end][::-1]
    out: Dict[str, Any] = {"flowExecutions": [record(e) for e in page]}
    if start > 0:
        out["nextToken"] = encode_token(kind, start + 1)
    return out


@operation("CancelFlowExecutions")
def cancel_flow_executions(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    from appflow_emu.backend.flows import get_flow

    flow = get_flow(call.state, p["flowName"])
    ids = p.get("executionIds")
    by_id = {e.execution_id: e for e in flow.executions}
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
        targets = [e for e in flow.executions if e.status == "InProgress"]
    for e in targets:
        e.status = "CancelStarted"
        e.last_updated_at = call.now
    return {"invalidExecutions": invalid}
