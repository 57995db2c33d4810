"""Scheduled flows: activation, deactivation, and the runs the clock has made due.

Scheduled runs materialise lazily: whenever a region's state is consulted (every AppFlow call,
``emu.advance``), every tick of every active schedule between the last consult and now runs, at
its own tick time. When a schedule fires is ``schedule_expressions.fire_times``'s answer; the
rule at activation is written there once.
"""
from __future__ import annotations

from typing import Any, Dict

from appflow_emu.backend import notifications, runs, schedule_expressions
from appflow_emu.backend.resources import Flow
from appflow_emu.backend.runtime import RegionState, Runtime

LOOKBACK = 30 * 86400  # [doc] the first incremental run looks back 30 days


def activate(state: RegionState, flow: Flow, now: float) -> None:
    flow.activated_at = now
    flow.last_tick = None
    flow.consecutive_failures = 0
    if flow.trigger_type == "Scheduled":
        state.scheduled.add(flow.name)


def deactivate(state: RegionState, flow: Flow) -> None:
    state.scheduled.discard(flow.name)
    state.next_due.pop(flow.name, None)


def _anchor(flow: Flow, props: Dict[str, Any]) -> float:
    """When the schedule starts: its scheduleStartTime if later than the activation, else the
    activation itself."""
    assert flow.activated_at is not None
    start = props.get("scheduleStartTime")
    if start is not None and start > flow.activated_at:
        return float(start)
    return flow.activated_at


def catch_up(runtime: Runtime, state: RegionState, now: float) -> None:
    """Run every tick of every active schedule in this region that the clock has passed (and report
    the event-triggered flows' five-minute intervals the clock has passed)."""
    notifications.flush_event_reports(runtime, state, now)
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
        parsed = schedule_expressions.parse(props["scheduleExpression"])
        anchor = _anchor(flow, props)
        after = flow.last_tick if flow.last_tick is not None else anchor - 1e-6
        until = now
        end = props.get("scheduleEndTime")
        if end is not None:
            until = min(until, float(end))
        for tick in schedule_expressions.fire_times(parsed, anchor, after, until):
            _scheduled_run(runtime, state, flow, props, tick)
            flow.last_tick = tick
            if flow.status != "Active":
                break
        state.next_due[name] = (key, schedule_expressions.next_possible_tick(parsed, anchor, now))


def _scheduled_run(runtime: Runtime, state: RegionState, flow: Flow, props: Dict[str, Any], tick: float) -> None:
    window = None
    offset = float(props.get("scheduleOffset") or 0)
    if props.get("dataPullMode") == "Incremental":
        end = tick - offset
        start = flow.incremental_mark
        if start is None:
            first = props.get("firstExecutionFrom")
            start = float(first) if first is not None else end - LOOKBACK
        window = (start, end)
    execution = runs.execute(runtime, state, flow, tick, "Scheduled", window=window)
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
            notifications.flow_deactivated(runtime, state, flow, flow.status_message, tick)
