"""AppFlow's flow notifications: the events AppFlow publishes to the account's default EventBridge bus.

[doc: AppFlow user guide, "Flow notifications"] AppFlow publishes ``AppFlow Start Flow Run Report``
when a run starts, ``AppFlow End Flow Run Report`` when it ends (whatever its status), ``AppFlow
Event Flow Report`` every five minutes for an event-triggered flow (the count of triggers), and
``AppFlow Scheduled Flow Deactivated`` / ``AppFlow Event Flow Deactivated`` when AppFlow
deactivates a flow after failures.

Every notification is kept in its account and region's state, oldest first (``emu.notifications()``,
``GET /_appflow_emu/notifications``), as a rule's target receives it; and it is put on the
EventBridge that ``aws/neighbours.py`` picks (moto's while ``mock_aws`` is active, the one at
``--aws-endpoint``/``--events-endpoint`` in server mode), so the user's rules and their targets fire
as on AWS. A publication that fails never fails the run: the notification stays in the state and
the problem is a warning.

The shape follows three real End Flow Run Report events (2021, 2023, 2024) [seen]: ``version "0"``,
``resources`` holding one 32-hex id (a per-flow id, not the flow ARN), every ``detail`` value a
string, times as ``2023-08-29T12:55:23.835Z[UTC]``, ``source``/``destination`` ``S3`` or
``<TYPE>/<profile>``, ``source-object``/``destination-object`` ``s3://bucket/prefix`` or the object.
docs/fidelity.md tags each field.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import sys
import uuid
import warnings
from typing import Any, Dict, List, Mapping, Optional

from appflow_emu.aws.events import EventsUnavailable
from appflow_emu.backend.resources import Execution, Flow
from appflow_emu.backend.runtime import RegionState, Runtime
from appflow_emu.catalog.connectors import connector_properties, entity_of

SOURCE = "aws.appflow"
START_REPORT = "AppFlow Start Flow Run Report"
END_REPORT = "AppFlow End Flow Run Report"
EVENT_FLOW_REPORT = "AppFlow Event Flow Report"
EVENT_FLOW_DEACTIVATED = "AppFlow Event Flow Deactivated"
SCHEDULED_FLOW_DEACTIVATED = "AppFlow Scheduled Flow Deactivated"
DETAIL_TYPES = (START_REPORT, END_REPORT, EVENT_FLOW_REPORT, EVENT_FLOW_DEACTIVATED, SCHEDULED_FLOW_DEACTIVATED)

EVENT_REPORT_INTERVAL = 300  # [doc] every five minutes
# [seen] "Execution Successful"; [guess] the others, parallel to it (code written against AWS
# matches "Execution Failed")
RUN_STATUS = {"Successful": "Execution Successful", "Error": "Execution Failed", "Canceled": "Execution Canceled"}
TRIGGER_TYPE = {"OnDemand": "ONDEMAND", "Scheduled": "SCHEDULED", "Event": "EVENT"}  # [seen] ONDEMAND; [guess] others
_LIBRARIES = ("appflow_emu", "botocore", "boto3")  # frames a warning looks past, to the user's code
_IDS = uuid.UUID("6f1c2a4e-9a7d-4f57-8c42-7b2f0d1e5a3c")  # namespace of the notifications' event ids


def appflow_time(t: float) -> str:
    """[seen] ``2023-08-29T12:55:23.835Z[UTC]``."""
    when = dt.datetime.fromtimestamp(t, tz=dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z[UTC]"


def event_time(t: float) -> str:
    """[seen] The envelope's ``time``: whole seconds, ``2023-08-29T12:55:32Z``, the report's time
    rounded to the nearest second (``end-time`` 12:55:32.049 → 32Z, 12:55:12.917 → 13Z,
    20.871 → 21Z in the three real events)."""
    return dt.datetime.fromtimestamp(math.floor(t + 0.5), tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def flow_resource(flow: Flow) -> str:
    """[seen] ``resources`` holds one 32-hex id, not the flow ARN; [guess] a per-flow id: the same
    for every notification of one flow (one created again under its name gets another)."""
    return hashlib.sha256(f"{flow.arn}|{flow.created_at!r}".encode()).hexdigest()[:32]


def _connector(config: Mapping[str, Any]) -> str:
    """[seen] ``S3``, ``VEEVA/veeva-appflow-connection``, ``CUSTOMCONNECTOR/<profile>``: the type in
    capitals, and the profile when the connector has one."""
    kind = str(config.get("connectorType", "")).upper()
    profile = config.get("connectorProfileName")
    return f"{kind}/{profile}" if profile and kind != "S3" else kind


def _object(config: Mapping[str, Any]) -> str:
    """[seen] ``s3://bucket/prefix`` as configured (``s3://bucket`` without a prefix); a SaaS
    connector's object."""
    if config.get("connectorType") in ("S3", "Upsolver"):
        props = connector_properties(config)
        prefix = props.get("bucketPrefix") or ""
        return f"s3://{props.get('bucketName', '')}" + (f"/{prefix}" if prefix else "")
    return entity_of(config)


def flow_detail(flow: Flow) -> Dict[str, str]:
    """The fields every flow notification carries [doc], in the order the real events have them."""
    return {
        "flow-name": flow.name,
        "created-by": flow.created_by,
        "flow-arn": flow.arn,
        "source": _connector(flow.source),
        "destination": _connector(flow.destinations[0]),
        "source-object": _object(flow.source),
        "destination-object": _object(flow.destinations[0]),
        "trigger-type": TRIGGER_TYPE.get(flow.trigger_type, flow.trigger_type.upper()),
    }


def _time_range(execution: Execution) -> Dict[str, str]:
    """[doc] ``incremental-transfer-time-range``, schedule-triggered flows only; [guess] its text."""
    if execution.trigger != "Scheduled" or execution.data_pull_start is None or execution.data_pull_end is None:
        return {}
    return {"incremental-transfer-time-range":
            f"{appflow_time(execution.data_pull_start)} - {appflow_time(execution.data_pull_end)}"}


def publish(runtime: Runtime, state: RegionState, detail_type: str, detail: Dict[str, str], at: float,
            resources: List[str], key: str) -> Dict[str, Any]:
    """Record the notification in the state and put it on the EventBridge that answers (if any).
    ``key`` makes its id: the same notification always has the same id."""
    envelope: Dict[str, Any] = {
        "version": "0",
        "id": str(uuid.uuid5(_IDS, f"{state.account_id}/{state.region}/{detail_type}/{key}")),
        "detail-type": detail_type,
        "source": SOURCE,
        "account": state.account_id,
        "time": event_time(at),
        "region": state.region,
        "resources": list(resources),
        "detail": detail,
    }
    state.notifications.append(envelope)
    state.outbox.append(envelope)
    return envelope


def deliver(runtime: Runtime, state: RegionState) -> None:
    """Put the notifications published since the last delivery on the EventBridge that answers (if
    any). Called once the operation that published them has committed and released the region's
    lock (``intercept/dispatch.py``, the handle's verbs that start runs): a put never holds the lock,
    and a failed put, a warning, cannot undo or interrupt the run. Deliveries of one region are
    serialised, so the bus gets the notifications in the order they were published."""
    if not state.outbox:
        return
    with state.delivery_lock:
        with state.lock:
            envelopes, state.outbox = state.outbox, []
        if not envelopes:
            return
        bus = runtime.aws.events(state.account_id, state.region)
        if bus is None:
            return
        try:
            ids = bus.put(envelopes)
        except EventsUnavailable as e:
            kinds = ", ".join(sorted({f"{n['detail-type']} of flow {n['detail'].get('flow-name')}" for n in envelopes}))
            warnings.warn(f"appflow_emu: {len(envelopes)} flow notification(s) ({kinds}) could not be put on "
                          f"EventBridge ({e}); they are in emu.notifications()", UserWarning,
                          stacklevel=caller_level())
            return
        with state.lock:  # EventBridge gives each event its own id: the one the rules' targets receive
            for envelope, event_id in zip(envelopes, ids):
                if event_id:
                    envelope["id"] = event_id


def caller_level() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside appflow_emu, botocore and
    boto3: the user's call."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in _LIBRARIES:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def run_started(runtime: Runtime, state: RegionState, flow: Flow, execution: Execution) -> None:
    """[doc] Start Flow Run Report: the flow's fields and ``start-time`` [guess: and ``execution-id``,
    as the End report has it]."""
    detail = {**flow_detail(flow), "execution-id": execution.execution_id,
              "start-time": appflow_time(execution.started_at), **_time_range(execution)}
    publish(runtime, state, START_REPORT, detail, execution.started_at, [flow_resource(flow)], execution.execution_id)


def run_ended(runtime: Runtime, state: RegionState, flow: Flow, execution: Execution) -> None:
    """[seen] End Flow Run Report, once the run has ended (after its in-progress polls)."""
    result = execution.result
    info = result.get("errorInfo") or {}
    processed = int(result.get("recordsProcessed") or 0)
    failures = int(info.get("putFailuresCount") or 0)
    filtered = max(0, processed - execution.records_written - failures)  # [guess] what the flow's filters dropped
    detail = {
        **flow_detail(flow),
        "num-of-records-processed": str(processed),
        "execution-id": execution.execution_id,
        "num-of-records-filtered": str(filtered),
        "start-time": appflow_time(execution.started_at),
        "num-of-documents-processed": "0",  # [seen] 0 for records; documents are Veeva's
        "end-time": appflow_time(execution.last_updated_at),
        "num-of-record-failures": str(failures),
        "data-processed": str(int(result.get("bytesProcessed") or 0)),
        "status": RUN_STATUS.get(execution.status, f"Execution {execution.status}"),
        **_time_range(execution),
    }
    if execution.status == "Error" and info.get("executionMessage"):
        detail["error"] = str(info["executionMessage"])  # [doc] the reason of a failed run
    publish(runtime, state, END_REPORT, detail, execution.last_updated_at, [flow_resource(flow)],
            execution.execution_id)


def flow_deactivated(runtime: Runtime, state: RegionState, flow: Flow, reason: str, at: float) -> None:
    """[doc] Scheduled / Event Flow Deactivated, with ``deactivation-reason`` and ``deactivation-time``."""
    detail_type = SCHEDULED_FLOW_DEACTIVATED if flow.trigger_type == "Scheduled" else EVENT_FLOW_DEACTIVATED
    detail = {**flow_detail(flow), "deactivation-reason": reason, "deactivation-time": appflow_time(at)}
    publish(runtime, state, detail_type, detail, at, [flow_resource(flow)], f"{flow.arn}/{at!r}")


# -- Event Flow Report: triggers counted per five-minute interval ------------------------------------

def event_triggered(runtime: Runtime, state: RegionState, flow: Flow, at: float) -> None:
    """An event-triggered run started at ``at``: count it in its five-minute interval (an interval
    that ended before is reported first)."""
    start = at - at % EVENT_REPORT_INTERVAL
    open_window = state.event_windows.get(flow.name)
    if open_window is not None and open_window[0] != start:
        _report(runtime, state, flow, *open_window)
        open_window = None
    state.event_windows[flow.name] = (start, (open_window[1] if open_window else 0) + 1)


def flush_event_reports(runtime: Runtime, state: RegionState, now: float) -> None:
    """Report every interval the clock has passed [guess: only intervals with triggers are reported]."""
    if not state.event_windows:
        return
    for name, (start, count) in sorted(state.event_windows.items()):
        if now < start + EVENT_REPORT_INTERVAL:
            continue
        flow = state.flows.get(name)
        if flow is not None:
            _report(runtime, state, flow, start, count)
        del state.event_windows[name]


def _report(runtime: Runtime, state: RegionState, flow: Flow, start: float, count: int) -> None:
    end = start + EVENT_REPORT_INTERVAL
    detail = {**flow_detail(flow),
              # [doc] "the count of event triggers ... and the timestamp of the five minute interval";
              # [guess] its text
              "status-report": f"{count} event triggers from {appflow_time(start)} to {appflow_time(end)}"}
    publish(runtime, state, EVENT_FLOW_REPORT, detail, end, [flow_resource(flow)], f"{flow.arn}/{start!r}")


def matching(notifications: List[Dict[str, Any]], flow: Optional[str], detail_type: Optional[str]) -> List[Dict[str, Any]]:
    return [n for n in notifications
            if (flow is None or n["detail"].get("flow-name") == flow)
            and (detail_type is None or n["detail-type"] == detail_type)]
