"""Starting a run: its plan is built from control-plane state before it starts, then the
simulator executes it (``simulator/engine.py``) and the execution is recorded.

The plan (``simulator/plan.py``) carries everything the run needs: the flow's configs and its
compiled tasks, the object store, the data plane scopes of its profiles, the custom connector
implementations plugged in for their labels, the record-failure rule and the failure a test armed,
and any failure decided before the run starts (a missing profile, rejected credentials, an
unregistered custom connector, a task list that cannot run). The run never reads flows, profiles
or registrations itself.

A run that read nothing and wrote nothing (:class:`Template`) is how every later run of the same
flow ends while its source still yields nothing and no test armed a failure: the schedules' catch-up
makes such runs as copies of it (:func:`clone`), with their own ids, times and windows, instead of
simulating each (``backend/schedules.py``).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, List, Mapping, Optional, Tuple

from appflow_emu.aws.moto import NeighbourRefused
from appflow_emu.backend import glue_catalog, notifications
from appflow_emu.backend.lambda_connectors import profile_connector
from appflow_emu.backend.resources import Execution, Flow
from appflow_emu.backend.runtime import RegionState, Runtime, profile_scope
from appflow_emu.catalog.connectors import entity_of, facts
from appflow_emu.model.errors import credentials_rejected_text, label_not_registered_text, profile_not_found_text
from appflow_emu.simulator import engine
from appflow_emu.simulator.lambda_protocol import QUERY_DATA, WRITE_DATA, ConnectorError, LambdaConnector
from appflow_emu.simulator.plan import (
    ConnectorBinding,
    Record,
    RunFailure,
    RunPlan,
    Tally,
    accept_record,
    callback_failure,
)
from appflow_emu.simulator.sources import read as read_source
from appflow_emu.simulator.sources import timestamp_field
from appflow_emu.simulator.tasks import compile_tasks
from appflow_emu.simulator.values import to_epoch_seconds

REJECTED_RECORD = "The record was rejected by the destination connector."
EMPTY_RESULT = {"bytesProcessed": 0, "bytesWritten": 0, "recordsProcessed": 0}


def _profile_failure(state: RegionState, flow: Flow) -> Optional[str]:
    for name in flow.profile_names():
        if name not in state.profiles:
            # [guess] the run starts and fails: the connector cannot be reached without its profile.
            return profile_not_found_text(name)
        if name in state.rejected_credentials:
            return credentials_rejected_text(name)
    return None


def _binding(state: RegionState, config: Mapping[str, Any]) -> Optional[ConnectorBinding]:
    """The Python implementation plugged in for the custom connector behind ``config`` (None:
    nothing plugged in, the run uses the datasets). A label no longer registered (unregistered
    with forceDelete) fails the run."""
    name = config.get("connectorProfileName")
    profile = state.profiles.get(name) if name else None
    label = profile.connector_label if profile is not None else None
    if label is None:
        return None
    if label not in state.registrations:
        raise RunFailure(label_not_registered_text(label, str(name)))
    found = state.connector_implementations.get(label)
    return ConnectorBinding(label, found) if found is not None else None


def _lambda(runtime: Runtime, state: RegionState, flow: Flow, execution_id: str, config: Mapping[str, Any],
            request_type: str) -> Optional[LambdaConnector]:
    """The custom connector on the Lambda protocol behind ``config`` (None when it is not one). A
    label no longer registered is left to :func:`_binding`; a function that no longer answers fails
    the run."""
    if config.get("connectorType") != "CustomConnector":
        return None
    name = config.get("connectorProfileName")
    profile = state.profiles.get(name) if name else None
    if profile is None or profile.connector_label not in state.registrations:
        return None
    try:
        connector = profile_connector(runtime, state, profile, request_type)
    except ConnectorError as e:
        raise RunFailure(e.message) from None
    if connector is not None:
        connector.run_context = {"flowName": flow.name, "executionId": execution_id,
                                 "connectorProfileLabel": profile.name}
    return connector


def _record_rule(flow_name: str, predicate: Optional[Callable[[Record], Any]]) -> Callable[[Record], Optional[str]]:
    """The test's ``fail_records`` predicate as the sinks call it: a message for a record that
    must fail, else None. An exception in the predicate ends the run, naming the predicate."""
    if predicate is None:
        return accept_record
    what = f"The fail_records predicate of flow {flow_name}"

    def fail_record(record: Record) -> Optional[str]:
        try:
            verdict = predicate(record)
        except Exception as e:  # the test's own code failed
            raise callback_failure(what, predicate, e) from e
        if not verdict:
            return None
        return verdict if isinstance(verdict, str) else REJECTED_RECORD

    return fail_record


def plan_run(runtime: Runtime, state: RegionState, flow: Flow, execution_id: str, at: float,
             window: Optional[Tuple[float, float]] = None, changed: Optional[List[Record]] = None) -> RunPlan:
    """Everything the run of ``flow`` will need, decided now. Takes an armed failure."""
    faults = state.faults.get(flow.name)
    failure = faults.failures.pop(0) if faults is not None and faults.failures else None
    failure = failure or _profile_failure(state, flow)
    source_connector = destination_connector = None
    source_lambda = destination_lambda = None
    if failure is None:
        try:
            source_lambda = _lambda(runtime, state, flow, execution_id, flow.source, QUERY_DATA)
            destination_lambda = _lambda(runtime, state, flow, execution_id, flow.destinations[0], WRITE_DATA)
            source_connector = _binding(state, flow.source) if source_lambda is None else None
            destination_connector = _binding(state, flow.destinations[0]) if destination_lambda is None else None
        except RunFailure as e:
            failure = e.message
    tasks = None
    if failure is None:
        try:
            tasks = compile_tasks(flow.tasks, flow.source_type, facts(flow.source_type).filter_pushdown)
        except RunFailure as e:
            failure = e.message
    return RunPlan(
        flow_name=flow.name,
        execution_id=execution_id,
        account_id=state.account_id,
        region=state.region,
        started_at=at,
        schema_version=flow.schema_version,
        source=flow.source,
        destination=flow.destinations[0],
        task_list=flow.tasks,
        tasks=tasks,
        data=runtime.data,
        store=runtime.store(state.account_id),
        source_scope=profile_scope(state, flow.source.get("connectorProfileName")),
        destination_scope=profile_scope(state, flow.destinations[0].get("connectorProfileName")),
        timestamp_field=timestamp_field(flow.source),
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        changed=changed,
        failure=failure,
        source_connector=source_connector,
        destination_connector=destination_connector,
        source_lambda=source_lambda,
        destination_lambda=destination_lambda,
        fail_record=_record_rule(flow.name, faults.record_predicate if faults is not None else None),
    )


@dataclasses.dataclass(frozen=True)
class Template:
    """A run that read nothing and wrote nothing, and the plan it ran: how the flow's next runs end
    while its source yields nothing (see :func:`template_of`)."""

    execution: Execution
    plan: RunPlan
    delivered: Any  # what it delivered (nothing), as destination_records reads it


def execute(runtime: Runtime, state: RegionState, flow: Flow, at: float, trigger: str,
            window: Optional[Tuple[float, float]] = None, changed: Optional[List[Record]] = None) -> Execution:
    """Run ``flow`` now (at ``at``) and record the execution; its Start Flow Run Report goes out
    before the run, its End Flow Run Report when it has ended (now, or after its in-progress polls)."""
    return _execute(runtime, state, flow, at, trigger, window, changed)[0]


def execute_scheduled(runtime: Runtime, state: RegionState, flow: Flow, at: float,
                      window: Optional[Tuple[float, float]]) -> Tuple[Execution, Optional[Template]]:
    """A scheduled run, as :func:`execute`; and the :class:`Template` it makes for the next runs
    when it read nothing and wrote nothing (None otherwise)."""
    execution, plan, delivered = _execute(runtime, state, flow, at, "Scheduled", window, None)
    return execution, template_of(flow, execution, plan, delivered)


def template_of(flow: Flow, execution: Execution, plan: RunPlan, delivered: Any) -> Optional[Template]:
    """The run as a template, when a copy of it is exactly the run the flow would make next with
    the same state: it ended (no polls), read nothing, wrote nothing, failed no record, registered no
    table, and no user code took part (a custom connector reads and writes through the user's
    function or object, which may answer otherwise next time)."""
    if execution.polls_left or execution.final_status not in ("Successful", "Error"):
        return None
    if "CustomConnector" in (flow.source_type, flow.destination_type) or flow.metadata_catalog_config:
        return None
    result = execution.result
    if result.get("recordsProcessed") or result.get("bytesProcessed") or result.get("bytesWritten"):
        return None
    if (result.get("errorInfo") or {}).get("putFailuresCount") or execution.records_written:
        return None
    if execution.catalog_details is not None:
        return None
    return Template(execution, plan, delivered)


def armed_failure(state: RegionState, flow: Flow) -> bool:
    """Whether a test armed a failure for the flow's next run (``emu.fail_next_execution``)."""
    faults = state.faults.get(flow.name)
    return faults is not None and bool(faults.failures)


def next_record_time(template: Template, start: float) -> Optional[float]:
    """The earliest timestamp, at or after ``start``, of a record the template's source would
    return to an incremental pull (None when there is none): every window that ends at or before
    it, and starts at or after ``start``, reads nothing. The source's own query decides, as in a
    run (``simulator/sources.py``: the window, the filters it applies itself)."""
    plan = dataclasses.replace(template.plan, window_start=start, window_end=None, changed=None)
    field = plan.timestamp_field
    earliest: Optional[float] = None
    try:
        for found in read_source(plan, Tally()):
            t = to_epoch_seconds(found.get(field))
            if t is not None and (earliest is None or t < earliest):
                earliest = t
    except (RunFailure, NeighbourRefused):  # the source cannot be read (a missing bucket, a bucket policy
        return None  # that denies): every run fails as the template did
    return earliest


def clone(runtime: Runtime, state: RegionState, flow: Flow, template: Template, at: float,
          window: Optional[Tuple[float, float]], notify: bool) -> Execution:
    """Record a run of ``flow`` at ``at`` that ends as ``template`` did, with its own id (drawn as a
    simulated run draws it), time and window; its Start and End Flow Run Reports go out when
    ``notify``."""
    model = template.execution
    execution = Execution(
        execution_id=runtime.new_uuid(), status=model.status, started_at=at, last_updated_at=at,
        result=model.result, trigger=model.trigger, final_status=model.final_status,
        final_result=model.final_result,
        data_pull_start=window[0] if window else None, data_pull_end=window[1] if window else None)
    if notify:
        notifications.run_started(runtime, state, flow, execution)
    flow.executions.append(execution)
    if notify:
        notifications.run_ended(runtime, state, flow, execution)
    data = runtime.data
    with data.lock:
        data.delivered.setdefault((state.account_id, state.region, flow.name), {})[execution.execution_id] = \
            template.delivered
    return execution


def skip_ids(runtime: Runtime, count: int) -> None:
    """Draw the ids of ``count`` runs that are counted, not made, so that the runs after them get
    the ids they would have had (one 128-bit draw per run, as :meth:`Runtime.new_uuid`; a draw of
    128*n bits takes the same words as n draws of 128)."""
    with runtime.lock:
        ids, _ = runtime.id_generators()
        while count > 0:
            n = min(count, 1 << 16)
            ids.getrandbits(128 * n)
            count -= n


def _execute(runtime: Runtime, state: RegionState, flow: Flow, at: float, trigger: str,
             window: Optional[Tuple[float, float]], changed: Optional[List[Record]]
             ) -> Tuple[Execution, RunPlan, Any]:
    execution_id = runtime.new_uuid()
    plan = plan_run(runtime, state, flow, execution_id, at, window, changed)
    started = Execution(execution_id=execution_id, status="InProgress", started_at=at, last_updated_at=at,
                        trigger=trigger, data_pull_start=window[0] if window else None,
                        data_pull_end=window[1] if window else None)
    notifications.run_started(runtime, state, flow, started)
    if trigger == "Event":
        notifications.event_triggered(runtime, state, flow, at)
    outcome = engine.run(plan)
    polls = 0
    if trigger == "OnDemand":
        faults = state.faults.get(flow.name)
        polls = faults.polls if faults is not None and faults.polls is not None else runtime.in_progress_polls
    execution = Execution(
        execution_id=execution_id,
        status="InProgress" if polls else outcome.status,
        started_at=at,
        last_updated_at=at,
        result=outcome.result if not polls else dict(EMPTY_RESULT),
        trigger=trigger,
        polls_left=polls,
        final_status=outcome.status,
        final_result=outcome.result,
        records_written=outcome.written.records_written if outcome.written is not None else 0,
    )
    if polls:
        flow.active.append(execution)
    if window is not None:
        execution.data_pull_start, execution.data_pull_end = window
    glue = glue_catalog.config_of(flow.metadata_catalog_config)
    if glue is not None and outcome.status == "Successful" and outcome.written is not None \
            and flow.destination_type == "S3":
        execution.catalog_details = [glue_catalog.register(runtime, state, glue, glue_catalog.Output(
            flow.name, execution_id, at, flow.schema_version, flow.destinations[0], outcome.written))]
    flow.executions.append(execution)
    if not polls:
        notifications.run_ended(runtime, state, flow, execution)
    data = runtime.data
    with data.lock:
        data.delivered.setdefault((state.account_id, state.region, flow.name), {})[execution_id] = outcome.delivered
    return execution, plan, outcome.delivered


def run_event_flows(runtime: Runtime, state: RegionState, connector_type: str, entity: str,
                    seeded: List[Record], changed: List[Record], now: float) -> None:
    """Records were just added to the dataset ``seeded``: the active Event-triggered flows of this
    account and region whose source reads that very dataset (see simulator/dataplane.py: a flow
    reads the most specific one that exists for its profile) run on the changed records."""
    data = runtime.data
    for flow in list(state.flows):
        if flow.trigger_type != "Event" or flow.status != "Active":
            continue
        if flow.source_type != connector_type or entity_of(flow.source) != entity:
            continue
        reads = data.dataset(connector_type, entity, profile_scope(state, flow.source.get("connectorProfileName")))
        if reads is seeded:
            execute(runtime, state, flow, now, "Event", changed=changed)
