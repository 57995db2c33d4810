"""Scheduled flows: activation, deactivation, and the runs the clock has made due.

Scheduled runs materialise lazily: whenever a region's state is consulted (every AppFlow call,
``emu.advance``), every tick of every active schedule between the last consult and now runs, at
its own tick time. When a schedule fires is ``schedule_expressions.fire_times``'s answer; the
rule at activation is written there once.

A catch-up costs what a test can observe, not the ticks the clock passed (docs/simulator.md,
"Schedules"). Every run that reads or writes data, fails otherwise, or follows an armed failure is
simulated. A run that would end exactly as the flow's last run did, having read and written
nothing (``runs.Template``), is:

- counted, not made, when it started before the run history's retention
  (``executions.RECORD_RETENTION``): no answer can show it. Its id is drawn all the same, and the
  schedule, the incremental window and the count of consecutive failures move as it would move them.
  The last of a counted stretch is made (without notifications): it may stay the flow's newest run;
- made as a copy of that run when it is in the run history, with its notifications only among
  the last :data:`NOTIFIED_TICKS` ticks of the catch-up.

When a catch-up counts runs or makes some without their notifications, one UserWarning says so.
"""
from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from appflow_emu.backend import executions, notifications, runs, schedule_expressions
from appflow_emu.backend.resources import Execution, Flow
from appflow_emu.backend.runtime import RegionState, Runtime

LOOKBACK = 30 * 86400  # [doc] the first incremental run looks back 30 days
# [guess: a choice] The copied runs (read nothing, like the run before) of one catch-up that publish
# their Start/End Flow Run Reports: those of its last 1,000 ticks. Runs that read or write data or
# fail otherwise always publish theirs.
NOTIFIED_TICKS = 1000
_NEVER = -math.inf  # the clone bound without a template: no tick can be a copy


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


@dataclass
class _Tally:
    """What one catch-up did with one flow's ticks."""

    flow: str
    ticks: int = 0
    first: Optional[float] = None
    last: Optional[float] = None
    counted: int = 0  # runs past the run history that read nothing: counted, not made
    silent: int = 0  # runs in the history made without their notifications

    def passed(self, tick: float, n: int = 1) -> None:
        if self.first is None:
            self.first = tick
        self.last = tick
        self.ticks += n


def catch_up(runtime: Runtime, state: RegionState, now: float) -> None:
    """Run every tick of every active schedule in this region that the clock has passed (and report
    the event-triggered flows' five-minute intervals the clock has passed)."""
    notifications.flush_event_reports(runtime, state, now)
    if not state.scheduled:
        return
    bounded: List[_Tally] = []
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
        tally = _run_ticks(runtime, state, flow, props, parsed, anchor, after, until, now)
        executions.prune(flow, now)
        if tally.counted or tally.silent:
            bounded.append(tally)
        state.next_due[name] = (key, schedule_expressions.next_possible_tick(parsed, anchor, now))
    if bounded:
        _warn(bounded)


def _run_ticks(runtime: Runtime, state: RegionState, flow: Flow, props: Dict[str, Any],
               parsed: schedule_expressions.Schedule, anchor: float, after: float, until: float,
               now: float) -> _Tally:
    """The runs of the flow's ticks in (after, until], oldest first, until one deactivates it."""
    tally = _Tally(flow.name)
    template: Optional[runs.Template] = None
    bound = _NEVER  # ticks up to this time may be copies of the template
    threshold = int(props.get("flowErrorDeactivationThreshold") or 0)
    # 1. Ticks past the run history: the runs that read nothing like the last one are counted.
    older = min(until, now - executions.RECORD_RETENTION)
    while flow.status == "Active" and after < older:
        if template is not None and not runs.armed_failure(state, flow) \
                and (template.execution.final_status == "Successful" or not threshold):
            stop = min(older, bound)
            n, last = schedule_expressions.count_fire_times(parsed, anchor, after, stop)
            if n and last is not None:
                # all but the last are counted; the last is made (without notifications), for it
                # stays the flow's newest run (lastRunExecutionDetails) when no later tick follows
                m, before = schedule_expressions.count_fire_times(parsed, anchor, after, last - 1e-6)
                if m and before is not None:
                    _count(runtime, flow, props, template, m, before)
                    tally.passed(before, m)
                window = _window(flow, props, last)
                _after_run(runtime, state, flow, props,
                           runs.clone(runtime, state, flow, template, last, window, False), window, last)
                tally.passed(last)
                tally.counted += n
                after = last
            if stop >= older:
                break
        tick = schedule_expressions.next_fire_time(parsed, anchor, after, older)
        if tick is None:
            break
        template, bound = _simulate(runtime, state, flow, props, tick)
        tally.passed(tick)
        after = tick
    if flow.status != "Active":
        return tally
    # 2. Ticks in the run history: every run is made; those like the last one are copies of it.
    ticks = schedule_expressions.fire_times(parsed, anchor, after, until)
    notify_from = len(ticks) - NOTIFIED_TICKS
    for i, tick in enumerate(ticks):
        if template is not None and tick <= bound and not runs.armed_failure(state, flow):
            window = _window(flow, props, tick)
            notify = i >= notify_from
            _after_run(runtime, state, flow, props, runs.clone(runtime, state, flow, template, tick, window, notify),
                       window, tick)
            tally.silent += not notify
        else:
            template, bound = _simulate(runtime, state, flow, props, tick)
        tally.passed(tick)
        if flow.status != "Active":
            break
    return tally


def _window(flow: Flow, props: Dict[str, Any], tick: float) -> Optional[Tuple[float, float]]:
    """The incremental window of the run at ``tick`` (None for a complete pull)."""
    if props.get("dataPullMode") != "Incremental":
        return None
    end = tick - float(props.get("scheduleOffset") or 0)
    start = flow.incremental_mark
    if start is None:
        first = props.get("firstExecutionFrom")
        start = float(first) if first is not None else end - LOOKBACK
    return (start, end)


def _simulate(runtime: Runtime, state: RegionState, flow: Flow, props: Dict[str, Any],
              tick: float) -> Tuple[Optional[runs.Template], float]:
    """Run the tick in full; the template it makes for the next ticks, and the last tick that may
    be a copy of it."""
    window = _window(flow, props, tick)
    execution, template = runs.execute_scheduled(runtime, state, flow, tick, window)
    _after_run(runtime, state, flow, props, execution, window, tick)
    if template is None:
        return None, _NEVER
    if window is None:  # a complete pull reads what the last one read, and it read nothing
        return template, math.inf
    # Each later window starts at or after this one: they read nothing until one ends past the
    # source's next record (a little before, so a rounding never copies a run that reads it).
    found = runs.next_record_time(template, window[0])
    offset = float(props.get("scheduleOffset") or 0)
    return template, math.inf if found is None else found + offset - 1e-6


def _after_run(runtime: Runtime, state: RegionState, flow: Flow, props: Dict[str, Any], execution: Execution,
               window: Optional[Tuple[float, float]], tick: float) -> None:
    """What a run's end does to its schedule: the incremental mark, the count of consecutive
    failures, and the deactivation past flowErrorDeactivationThreshold."""
    flow.last_tick = tick
    if execution.final_status == "Successful":
        flow.consecutive_failures = 0
        if window is not None:
            flow.incremental_mark = window[1]
        return
    flow.consecutive_failures += 1
    threshold = props.get("flowErrorDeactivationThreshold")
    if threshold and flow.consecutive_failures >= int(threshold):
        flow.status = "Suspended"
        flow.status_message = (
            f"The flow was deactivated after {flow.consecutive_failures} consecutive failed runs"
        )
        deactivate(state, flow)
        notifications.flow_deactivated(runtime, state, flow, flow.status_message, tick)


def _count(runtime: Runtime, flow: Flow, props: Dict[str, Any], template: runs.Template, n: int,
           last: float) -> None:
    """``n`` runs ending as ``template``, the last at ``last``, counted: their ids are drawn and the
    schedule moves as they would move it (no threshold is set when they fail: see _run_ticks)."""
    runs.skip_ids(runtime, n)
    flow.last_tick = last
    if template.execution.final_status == "Successful":
        flow.consecutive_failures = 0
        window = _window(flow, props, last)
        if window is not None:
            flow.incremental_mark = window[1]
    else:
        flow.consecutive_failures += n


def _warn(tallies: List[_Tally]) -> None:
    days = executions.RECORD_RETENTION // 86400
    parts = []
    for t in tallies:
        text = (f"the clock passed {t.ticks:,} ticks of scheduled flow {t.flow!r} at once "
                f"({_time(t.first)} to {_time(t.last)})")
        said = []
        if t.counted:
            said.append(f"{t.counted:,} runs that read nothing, like the run before them, started more than "
                        f"{days} days ago, past the run history: they were counted, not made (no execution "
                        f"records, no notifications; their ids were drawn and the schedule and incremental "
                        f"window moved)")
        if t.silent:
            said.append(f"{t.silent:,} runs in the run history that read nothing, like the run before them, "
                        f"published no Start/End Flow Run Reports (a catch-up publishes those of its last "
                        f"{NOTIFIED_TICKS:,} ticks, and those of every run that read or wrote data or failed "
                        f"otherwise)")
        parts.append(f"{text}: " + "; ".join(said))
    warnings.warn("appflow_emu: " + ". ".join(parts) + ". Stop the mock before leaving a frozen clock, or move "
                  "the clock in smaller steps (docs/simulator.md, \"Schedules\").", UserWarning,
                  stacklevel=notifications.caller_level())


def _time(t: Optional[float]) -> str:
    if t is None:
        return "-"
    return dt.datetime.fromtimestamp(t, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
