"""Flow executions: starting runs (on demand, on schedule, on events), their records, cancel.

A run is executed by the simulator when it starts (simulator/engine.py): records really move
from the source through the tasks to the destination, and the record's numbers come from them.
With ``in_progress_polls=N`` an on-demand run then shows ``InProgress`` for N describe polls
(describe_flow / describe_flow_execution_records) before it reports how it ended.
Scheduled runs materialise lazily: whenever a region's state is consulted, every tick of every
active schedule between the last consult and now runs, at its own tick time.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from appflow_emu.backend.models import Execution, Flow
from appflow_emu.backend.pagination import decode_token, encode_token
from appflow_emu.backend.registry import operation
from appflow_emu.backend.state import Call, RegionState
from appflow_emu.simulator import engine, schedule

DEFAULT_PAGE = 20  # [seen] describe_flow_execution_records' default page
ACTIVE_STATUSES = ("InProgress", "CancelStarted")
LOOKBACK = 30 * 86400  # [doc] the first incremental run looks back 30 days


def in_progress(flow: Flow) -> bool:
    return any(e.status == "InProgress" for e in flow.active)


def _missing_profile(state: RegionState, flow: Flow) -> Optional[str]:
    for name in flow.profile_names():
        if name not in state.connector_profiles:
            # [guess] the run starts and fails: the connector cannot be reached without its profile.
            return f"Connector Profile with name {name} does not exist."
        if name in state.emulator.invalid_credentials:
            return (f"The credentials of connector profile {name} were rejected by the connector. "
                    "Update the connector profile with valid credentials.")
    return None


def execute(state: RegionState, flow: Flow, at: float, trigger: str,
            window: Optional[tuple] = None, changed: Optional[list] = None) -> Execution:
    """Run ``flow`` now (at ``at``) and record the execution."""
    emulator = state.emulator
    execution_id = emulator.new_uuid()
    forced = emulator.take_forced_failure(flow.name) or _missing_profile(state, flow)
    ctx = engine.context(flow, execution_id, state.account_id, state.region, at, emulator,
                         *(window or (None, None)))
    outcome = engine.run(ctx, flow.tasks, changed=changed, forced_failure=forced)
    polls = emulator.polls_for(flow.name) if trigger == "OnDemand" else 0
    execution = Execution(
        execution_id=execution_id,
        status="InProgress" if polls else outcome.status,
        started_at=at,
        last_updated_at=at,
        result=outcome.result if not polls else {"bytesProcessed": 0, "bytesWritten": 0, "recordsProcessed": 0},
        trigger=trigger,
        polls_left=polls,
        final_status=outcome.status,
        final_result=outcome.result,
    )
    if polls:
        flow.active.append(execution)
    if window is not None:
        execution.data_pull_start, execution.data_pull_end = window
    flow.executions.append(execution)
    with emulator.data.lock:
        emulator.data.delivered.setdefault((state.account_id, state.region, flow.name), {})[execution_id] = (
            outcome.delivered)
    return execution


def start_run(call: Call, flow: Flow) -> Execution:
    return execute(call.state, flow, call.now, "OnDemand")


def observe(flow: Flow, now: float) -> None:
    """One describe poll: runs still InProgress use up a poll; those out of polls finish, and
    cancellations complete (CancelStarted -> Canceled)."""
    if not flow.active:
        return
    still: List[Execution] = []
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
    flow.active = still


# -- schedules ---------------------------------------------------------------------------------------

def activate(state: RegionState, flow: Flow, now: float) -> None:
    flow.activated_at = now
    flow.last_tick = None
    flow.consecutive_failures = 0
    if flow.trigger_type == "Scheduled":
        state.scheduled.add(flow.name)


def deactivate(state: RegionState, flow: Flow) -> None:
    state.scheduled.discard(flow.name)
    state.next_due.pop(flow.name, None)


def _anchor(flow: Flow, props: Dict[str, Any], parsed: schedule.Schedule) -> float:
    assert flow.activated_at is not None
    start = props.get("scheduleStartTime")
    if start is not None and start > flow.activated_at:
        return float(start)
    return flow.activated_at


def catch_up(state: RegionState, now: float) -> None:
    """Run every tick of every active schedule in this region that the clock has passed."""
    if not state.scheduled:
        return
    for name in sorted(state.scheduled):
        flow = state.flows.get(name)
        if flow is None or flow.status != "Active" or flow.trigger_type != "Scheduled":
            state.scheduled.discard(name)
            continue
        key = (flow.schema_version, flow.activated_at)
        due = state.next_due.get(name)
        if due is not None and due[0] == key and now < due[1]:
            continue  # nothing can fire before this flow's next possible tick
        props = flow.trigger_config["triggerProperties"]["Scheduled"]
        parsed = schedule.parse(props["scheduleExpression"])
        anchor = _anchor(flow, props, parsed)
        after = flow.last_tick if flow.last_tick is not None else anchor - 1e-6
        until = now
        end = props.get("scheduleEndTime")
        if end is not None:
            until = min(until, float(end))
        for tick in schedule.fire_times(parsed, anchor, after, until):
            _scheduled_run(state, flow, props, tick)
            flow.last_tick = tick
            if flow.status != "Active":
                break
        state.next_due[name] = (key, _next_possible_tick(parsed, anchor, now))


def _next_possible_tick(parsed: schedule.Schedule, anchor: float, now: float) -> float:
    """A time before which the schedule cannot fire again (exact for rate, the next minute for cron)."""
    if now < anchor:
        return anchor
    if parsed.rate_seconds is not None:
        k = int((now - anchor) // parsed.rate_seconds) + 1
        return anchor + k * parsed.rate_seconds
    return (now // 60 + 1) * 60  # cron fires on whole minutes at most once each


def _scheduled_run(state: RegionState, flow: Flow, props: Dict[str, Any], tick: float) -> None:
    window = None
    offset = float(props.get("scheduleOffset") or 0)
    if props.get("dataPullMode") == "Incremental":
        end = tick - offset
        start = flow.incremental_mark
        if start is None:
            first = props.get("firstExecutionFrom")
            start = float(first) if first is not None else end - LOOKBACK
        window = (start, end)
    execution = execute(state, flow, tick, "Scheduled", window=window)
    if execution.final_status == "Successful":
        flow.consecutive_failures = 0
        if window is not None:
            flow.incremental_mark = window[1]
    else:
        flow.consecutive_failures += 1
        threshold = props.get("flowErrorDeactivationThreshold")
        if threshold and flow.consecutive_failures >= int(threshold):
            flow.status = "Suspended"
            flow.status_message = (
                f"The flow was deactivated after {flow.consecutive_failures} consecutive failed runs"
            )
            deactivate(state, flow)


def run_event_flows(state: RegionState, connector_type: str, entity: str, profile: Optional[str],
                    changed: List[Dict[str, Any]], now: float) -> None:
    """Event-triggered flows whose source is this entity run on the changed records."""
    from appflow_emu.simulator.sources import entity_of, source_properties

    for flow in list(state.flows.values()):
        if flow.trigger_type != "Event" or flow.status != "Active":
            continue
        if flow.source_type != connector_type or entity_of(source_properties(flow.source)) != entity:
            continue
        if profile is not None and flow.source.get("connectorProfileName") != profile:
            continue
        execute(state, flow, now, "Event", changed=changed)


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
    observe(flow, call.now)
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
