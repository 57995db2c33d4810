"""Flows: create, describe, update, delete, list, start, stop.

Every check runs before anything is written, so a failed request changes no state.
Texts of errors follow the styles users have quoted from the real service
(``Create Flow request failed: [...]``, ``Update Flow request failed due to:[...]``).
"""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Tuple

from appflow_emu.backend import executions, glue_catalog, runs, schedule_expressions, schedules
from appflow_emu.backend.connectors import connector_facts
from appflow_emu.backend.handlers import PartlyEncoded, encode_json, encoded_once, handles, members_text
from appflow_emu.backend.pagination import listing
from appflow_emu.backend.resources import Flow
from appflow_emu.backend.runtime import Call, RegionState
from appflow_emu.catalog.connectors import ConnectorFacts
from appflow_emu.catalog.operators import NO_OP, PROJECTION, TASK_OPERATORS
from appflow_emu.model.errors import AppFlowError, conflict, credentials_rejected, validation
from appflow_emu.model.service import has_member

DEFAULT_PAGE = 20  # [guess] list_flows page size when maxResults is absent
S3_LIKE = ("S3", "Upsolver")


class _Failure:
    """Formats definition errors the way the operation reports them."""

    def __init__(self, operation_name: str) -> None:
        self.creating = operation_name == "CreateFlow"

    def __call__(self, text: str) -> AppFlowError:
        if self.creating:
            return validation(f"Create Flow request failed: [{text}]")
        return validation(f"Update Flow request failed due to:[{text}]")


def _one_member(props: Dict[str, Any], f: ConnectorFacts, member: Optional[str], where: str,
                fail: _Failure) -> None:
    others = [k for k in props if k != member]
    if member is None or member not in props or others:
        raise fail(f"{where} must contain properties for connector type {f.connector_type} only")


def _check_profile(state: RegionState, config: Dict[str, Any], f: ConnectorFacts, fail: _Failure) -> None:
    name = config.get("connectorProfileName")
    if not f.needs_profile:
        return
    if not name:
        raise fail(f"Connector Profile Name is required for connector type {f.connector_type}")
    profile = state.profile(name)
    if name in state.rejected_credentials:
        raise credentials_rejected(name)
    if profile.connector_type != f.connector_type:
        raise fail(
            f"Connector Profile {name} is of connector type {profile.connector_type}, "
            f"not {f.connector_type}"
        )


def _check_trigger(trigger: Dict[str, Any], source: ConnectorFacts, fail: _Failure) -> Dict[str, Any]:
    ttype = trigger["triggerType"]
    if ttype not in source.trigger_types:
        raise fail(f"Trigger type {ttype} is not supported for source connector {source.connector_type}")
    props = trigger.get("triggerProperties") or {}
    if ttype != "Scheduled":
        return {"triggerType": ttype, "triggerProperties": {}}
    scheduled = props.get("Scheduled")
    if not scheduled:
        raise fail("Scheduled trigger properties are required for a Scheduled flow")
    try:
        parsed = schedule_expressions.parse(scheduled["scheduleExpression"])
    except schedule_expressions.ScheduleError as exc:
        raise fail(str(exc))
    if parsed.min_interval < source.min_schedule_interval:
        raise fail(
            f"Schedule expression {scheduled['scheduleExpression']} runs more often than the minimum "
            f"interval of {source.min_schedule_interval // 60} minutes for source connector {source.connector_type}"
        )
    start, end = scheduled.get("scheduleStartTime"), scheduled.get("scheduleEndTime")
    if start is not None and end is not None and end <= start:
        raise fail("Schedule end time must be after schedule start time")
    return {"triggerType": ttype, "triggerProperties": {"Scheduled": copy.deepcopy(scheduled)}}


def _check_tasks(tasks: List[Dict[str, Any]], source: ConnectorFacts, fail: _Failure) -> None:
    has_projection = False
    for task in tasks:
        ttype = task["taskType"]
        operator_config = task.get("connectorOperator") or {}
        if operator_config:
            keys = list(operator_config)
            # [seen] AWS's own integration harnesses for custom connectors (Python and Java) key the
            # Map tasks of a CustomConnector -> S3 flow by S3 ({"S3": "NO_OP"}) and AWS runs them;
            # cdk-appflow lets a task name another connector too. [guess] Any one connector's key is
            # accepted; the operator must be one the source connector supports.
            if len(keys) != 1:
                raise fail(
                    f"Task Validation Error: connectorOperator must name one operator for the source connector "
                    f"{source.connector_type}, got {', '.join(keys)}"
                )
            op = operator_config[keys[0]]
            if op not in source.operators:
                raise fail(f"Task Validation Error: Operator {op} is not supported by source connector "
                           f"{source.connector_type}")
            allowed = TASK_OPERATORS.get(ttype)
            if ttype == "Filter" and op == NO_OP:
                raise fail("Task Validation Error: A Filter task cannot use the NO_OP operator")
            if allowed is not None and op not in allowed:
                raise fail(f"Task Validation Error: Operator {op} is not valid for task type {ttype}")
            if ttype == "Filter" and op == PROJECTION:
                has_projection = True
        if ttype == "Map_all":
            has_projection = True
    if source.connector_type not in S3_LIKE and not has_projection:
        raise fail("Task Validation Error: You must specify a projection task or a MAP_ALL task")


def _normalize_destination(dest: Dict[str, Any]) -> Dict[str, Any]:
    """Untouched S3 output settings come back filled in, as AppFlow describes them."""
    dest = copy.deepcopy(dest)
    props = dest.get("destinationConnectorProperties") or {}
    for member in S3_LIKE:
        s3 = props.get(member)
        if s3 is not None:  # members sent as JSON null arrive absent (model/validate.py); None is absent here too
            if s3.get("s3OutputFormatConfig") is None:
                s3["s3OutputFormatConfig"] = {}
            fmt = s3["s3OutputFormatConfig"]
            if fmt.get("prefixConfig") is None:
                fmt["prefixConfig"] = {}
            if fmt.get("aggregationConfig") is None:
                fmt["aggregationConfig"] = {"aggregationType": "None"}
    return dest


def _check_definition(call: Call, p: Dict[str, Any], existing: Optional[Flow]
                      ) -> Tuple[Dict[str, Any], List[Dict[str, Any]], Dict[str, Any]]:
    state = call.state
    fail = _Failure(call.operation)
    source_cfg = p.get("sourceFlowConfig")
    if source_cfg is None:
        # Only UpdateFlow can get here, where the installed model makes the source optional
        # (mid-2021 models): the flow keeps the source it has.
        assert existing is not None, "the model requires sourceFlowConfig on CreateFlow"
        source_cfg = existing.source
    source = connector_facts(state, source_cfg)
    if not source.can_be_source:
        raise fail(f"Connector type {source.connector_type} cannot be used as a source")
    _one_member(source_cfg["sourceConnectorProperties"], source, source.source_member,
                "sourceConnectorProperties", fail)
    _check_profile(state, source_cfg, source, fail)
    if source.connector_type == "CustomConnector":
        label = _profile_label(state, source_cfg)
        if label is None:
            raise fail("A custom connector source needs a connector profile")
    destinations = p["destinationFlowConfigList"]
    if len(destinations) != 1:
        raise fail("Exactly one destination is supported per flow")
    dest_cfg = destinations[0]
    dest = connector_facts(state, dest_cfg)
    if not dest.can_be_destination:
        raise fail(f"Connector type {dest.connector_type} cannot be used as a destination")
    if not source.writes_to(dest.connector_type):
        raise fail(
            f"Destination connector type {dest.connector_type} is not supported for source connector type "
            f"{source.connector_type}"
        )
    _one_member(dest_cfg["destinationConnectorProperties"], dest, dest.destination_member,
                "destinationConnectorProperties", fail)
    _check_profile(state, dest_cfg, dest, fail)
    if existing is not None:
        old = existing.destinations[0]
        old_props = old["destinationConnectorProperties"].get(dest.destination_member or "", {})
        new_props = dest_cfg["destinationConnectorProperties"][dest.destination_member]
        if old["connectorType"] != dest.connector_type or old_props.get("object") != new_props.get("object"):
            raise fail("Destination object for the destination connector can not be updated")
    trigger = _check_trigger(p["triggerConfig"], source, fail)
    _check_tasks(p["tasks"], source, fail)
    catalog = p["metadataCatalogConfig"] if "metadataCatalogConfig" in p else (
        existing.metadata_catalog_config if existing is not None else None)
    refused = glue_catalog.check(call.runtime, state, catalog, dest.connector_type)
    if refused is not None:
        raise fail(refused)
    return copy.deepcopy(source_cfg), [_normalize_destination(dest_cfg)], trigger


def _profile_label(state: RegionState, config: Dict[str, Any]) -> Optional[str]:
    name = config.get("connectorProfileName")
    profile = state.profiles.get(name) if name else None
    return profile.connector_label if profile is not None else None


_DEFINITION = ("sourceFlowConfig", "destinationFlowConfigList", "triggerConfig", "tasks")


def _definition_text(flow: Flow) -> str:
    """The JSON text of the flow's definition members, encoded once per definition: create and
    update give a flow new definition objects, and nothing changes them in place."""
    parts = (flow.source, flow.destinations, flow.trigger_config, flow.tasks)
    return encoded_once(flow.json_cache, "definition", parts, lambda: members_text(dict(zip(_DEFINITION, parts))))


def describe(flow: Flow) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "flowArn": flow.arn,
        "flowName": flow.name,
        "kmsArn": flow.kms_arn,
        "flowStatus": flow.status,
        "sourceFlowConfig": flow.source,
        "destinationFlowConfigList": flow.destinations,
        "triggerConfig": flow.trigger_config,
        "tasks": flow.tasks,
        "createdAt": flow.created_at,
        "lastUpdatedAt": flow.last_updated_at,
        "createdBy": flow.created_by,
        "lastUpdatedBy": flow.last_updated_by,
        "tags": flow.tags,
    }
    if has_member("DescribeFlowResponse", "schemaVersion"):
        out["schemaVersion"] = flow.schema_version
    if flow.description is not None:
        out["description"] = flow.description
    if flow.status_message is not None:
        out["flowStatusMessage"] = flow.status_message
    if flow.metadata_catalog_config is not None:
        out["metadataCatalogConfig"] = flow.metadata_catalog_config
    elif has_member("DescribeFlowResponse", "metadataCatalogConfig"):
        out["metadataCatalogConfig"] = {}  # [seen] present and empty when no catalog is configured
    last = executions.last_run_details(flow)
    if last is not None:
        out["lastRunExecutionDetails"] = last
    catalog = executions.last_catalog_details(flow)
    if catalog is not None and has_member("DescribeFlowResponse", "lastRunMetadataCatalogDetails"):
        out["lastRunMetadataCatalogDetails"] = catalog
    return PartlyEncoded(out, _DEFINITION, _definition_text(flow))


def summary(flow: Flow) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "flowArn": flow.arn,
        "flowName": flow.name,
        "flowStatus": flow.status,
        "sourceConnectorType": flow.source_type,
        "destinationConnectorType": flow.destination_type,
        "triggerType": flow.trigger_type,
        "createdAt": flow.created_at,
        "lastUpdatedAt": flow.last_updated_at,
        "createdBy": flow.created_by,
        "lastUpdatedBy": flow.last_updated_by,
        "tags": flow.tags,
    }
    if flow.description is not None:
        out["description"] = flow.description
    if flow.source_label is not None:
        out["sourceConnectorLabel"] = flow.source_label
    if flow.destination_label is not None:
        out["destinationConnectorLabel"] = flow.destination_label
    last = executions.last_run_details(flow)
    if last is not None:
        out["lastRunExecutionDetails"] = last
    return out


def summary_text(flow: Flow) -> str:
    """:func:`summary`'s JSON text, encoded once per version of what it shows."""
    last = flow.executions[-1] if flow.executions else None
    parts = (flow.status, flow.last_updated_at, flow.last_updated_by, flow.description, flow.tags,
             flow.source_label, flow.destination_label, flow.source, flow.destinations, flow.trigger_config,
             last, last.status if last else None, last.result if last else None)
    return encoded_once(flow.json_cache, "summary", parts, lambda: encode_json(summary(flow)))


@handles("CreateFlow")
def create_flow(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    name = p["flowName"]
    if name in state.flows:
        raise conflict(f"Flow with name {name} already exists.")  # [guess] text
    source, destinations, trigger = _check_definition(call, p, None)
    quota = call.runtime.quotas["flows"]
    if len(state.flows) >= quota:
        raise AppFlowError(
            "ServiceQuotaExceededException",
            f"The number of flows in this account and region has reached the limit of {quota}.",
        )
    flow = Flow(
        name=name,
        arn=state.arn("flow", name),
        status="Active" if trigger["triggerType"] == "OnDemand" else "Draft",
        trigger_config=trigger,
        source=source,
        destinations=destinations,
        tasks=copy.deepcopy(p["tasks"]),
        kms_arn=p.get("kmsArn") or call.runtime.managed_kms_arn(state),
        created_at=call.now,
        last_updated_at=call.now,
        created_by=call.caller_arn,
        last_updated_by=call.caller_arn,
        description=p.get("description"),
        metadata_catalog_config=copy.deepcopy(p.get("metadataCatalogConfig")),
        tags=dict(p.get("tags") or {}),
        source_label=_profile_label(state, source),
        destination_label=_profile_label(state, destinations[0]),
    )
    state.flows.add(name, flow)
    return {"flowArn": flow.arn, "flowStatus": flow.status}


@handles("DescribeFlow")
def describe_flow(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    flow = call.state.flow(p["flowName"])
    executions.observe(call.runtime, call.state, flow, call.now)
    return describe(flow)


@handles("ListFlows")
def list_flows(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    return listing(call.state.flows, "flows", p, "flows", summary, DEFAULT_PAGE, encoded=summary_text)


@handles("UpdateFlow")
def update_flow(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    flow = state.flow(p["flowName"])
    source, destinations, trigger = _check_definition(call, p, flow)
    if trigger["triggerType"] != flow.trigger_type:
        # [guess] a flow keeps its status; changing the trigger type starts it over as new.
        flow.status = "Active" if trigger["triggerType"] == "OnDemand" else "Draft"
        schedules.deactivate(state, flow)
    if flow.status == "Active" and trigger != flow.trigger_config and flow.last_tick is not None:
        # [guess] a changed schedule applies from now on: ticks already passed are not run again
        flow.last_tick = max(flow.last_tick, call.now)
    flow.trigger_config = trigger
    flow.source = source
    flow.destinations = destinations
    flow.tasks = copy.deepcopy(p["tasks"])
    flow.source_label = _profile_label(state, source)
    flow.destination_label = _profile_label(state, destinations[0])
    if "description" in p:
        flow.description = p["description"]
    if "metadataCatalogConfig" in p:
        flow.metadata_catalog_config = copy.deepcopy(p["metadataCatalogConfig"])
    flow.last_updated_at = call.now
    flow.last_updated_by = call.caller_arn
    flow.schema_version += 1
    return {"flowStatus": flow.status}


@handles("DeleteFlow")
def delete_flow(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    flow = state.flow(p["flowName"])
    if not p.get("forceDelete"):
        if flow.trigger_type != "OnDemand" and flow.status == "Active":
            raise conflict(
                f"Flow {flow.name} is active. Deactivate the flow before deleting it, or use forceDelete."
            )
        if executions.in_progress(flow):
            raise conflict(f"Flow {flow.name} has a run in progress. Use forceDelete to delete it.")
    state.flows.remove(flow.name)
    schedules.deactivate(state, flow)
    state.faults.pop(flow.name, None)  # what a test armed was for this flow
    state.event_windows.pop(flow.name, None)  # [guess] a deleted flow's open interval is not reported
    return {}


@handles("StartFlow")
def start_flow(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    flow = state.flow(p["flowName"])
    if flow.trigger_type == "OnDemand":
        if call.runtime.conflict_on_concurrent_start and executions.in_progress(flow):
            raise conflict(f"Flow {flow.name} has a run in progress.")  # [guess] text
        execution = runs.execute(call.runtime, state, flow, call.now, "OnDemand")
        return {"flowArn": flow.arn, "flowStatus": flow.status, "executionId": execution.execution_id}
    if flow.status == "Active":
        raise conflict(f"Flow {flow.name} is already active.")  # [seen] an error; [guess] the code
    flow.status = "Active"
    flow.status_message = None
    schedules.activate(state, flow, call.now)
    schedules.catch_up(call.runtime, state, call.now)  # a schedule due at activation runs now
    return {"flowArn": flow.arn, "flowStatus": flow.status}


@handles("StopFlow")
def stop_flow(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    flow = call.state.flow(p["flowName"])
    if flow.trigger_type == "OnDemand":
        raise AppFlowError(
            "UnsupportedOperationException",
            f"Stop flow is not supported for flow {flow.name} with trigger type OnDemand.",
        )
    if flow.status != "Active":
        raise conflict(f"Flow {flow.name} is not active; its status is {flow.status}.")
    flow.status = "Suspended"
    schedules.deactivate(call.state, flow)
    return {"flowArn": flow.arn, "flowStatus": flow.status}
