"""What a state document stores of AppFlow's own resources, checked as AppFlow checked them.

The JSON Schema (``backend/state_schema.py``) says a flow's ``trigger_config`` is an object; what
an object AppFlow could have stored is the service model's to say. So ``backend/snapshots.restore``
runs :func:`check_flow`, :func:`check_profile` and :func:`check_registration` on every stored
resource of a document the schema admitted (its values decoded), and each is checked as the
request that made it was:

- a flow's definition (name, description, KMS key, trigger, source, destinations, tasks, tags,
  Glue catalog settings) with CreateFlow's input check (``model/validate.py``, compiled once from
  the installed botocore's model: required members, types, enums, lengths, patterns); its
  trigger's timestamps within what a timestamp holds (``EARLIEST``..``LATEST``); a
  Scheduled trigger with a schedule expression AppFlow can read (``backend/schedule_expressions``);
- a flow's status, and each run's id, status and result, with the checks of the answers that show
  them (DescribeFlow, DescribeFlowExecutionRecords);
- a connector profile with CreateConnectorProfile's input check (without credentials: a document
  never holds them);
- a custom connector registration with RegisterConnector's input check, and what its Lambda
  described with the check of DescribeConnector's ``connectorConfiguration``;
- in all of them: JSON values only, no NaN or infinity, no string holding a lone UTF-16 surrogate
  (what AppFlow's wire, ``model/json_body.py``, never lets in).

A member stored as null is read as absent, as a request's is (``model/validate.py``). The first
failure raises InvalidStateError naming the resource and the path in the document
(``$.regions[0].flows.items[2].item.trigger_config.triggerType``).

A flow may name a connector profile the document does not hold: AppFlow deletes a profile in use
when asked with ``forceDelete``, and the flow stays (its runs then end in Error). Connector types
need no check of their own: the model's enum is the catalog's list (``catalog/connectors.py``).
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from appflow_emu.backend import schedule_expressions
from appflow_emu.model.errors import InvalidStateError
from appflow_emu.model.json_body import lone_surrogate
from appflow_emu.model.operation_specs import spec
from appflow_emu.model.service import service_model
from appflow_emu.model.timestamps import EARLIEST, LATEST
from appflow_emu.model.validate import Check, Path, format_path, java_repr, output_check

Doc = Dict[str, Any]

# Where each stored field came from in the request that made it (backend/flows.create_flow,
# backend/profiles, backend/connectors): stored field -> the request's member (a dotted path).
FLOW_REQUEST = {"name": "flowName", "description": "description", "kms_arn": "kmsArn",
                "trigger_config": "triggerConfig", "source": "sourceFlowConfig",
                "destinations": "destinationFlowConfigList", "tasks": "tasks", "tags": "tags",
                "metadata_catalog_config": "metadataCatalogConfig"}
PROFILE_REQUEST = {"name": "connectorProfileName", "connector_type": "connectorType",
                   "connector_label": "connectorLabel", "connection_mode": "connectionMode",
                   "properties": "connectorProfileConfig.connectorProfileProperties"}
REGISTRATION_REQUEST = {"label": "connectorLabel", "description": "description",
                        "provisioning_type": "connectorProvisioningType",
                        "provisioning_config": "connectorProvisioningConfig"}
# Where a run's stored fields show in its ExecutionRecord (backend/executions.record), and what it
# will show once the polls it still shows InProgress are used up.
RUN_RECORD = {"execution_id": "executionId", "status": "executionStatus", "result": "executionResult",
              "catalog_details": "metadataCatalogDetails"}
RUN_FINAL = {"final_status": "executionStatus", "final_result": "executionResult"}
# What the emulator needs of a Lambda's described configuration (simulator/lambda_protocol.py
# refuses an answer without them at registration).
DESCRIBED_REQUIRED = ("connectorOwner", "connectorName", "connectorVersion", "connectorModes")

Errors = List[Tuple[Path, str, Any, bool]]


def _request(stored: Doc, table: Dict[str, str]) -> Doc:
    """The request members ``stored`` came from (absent where it holds None, as AppFlow drops a null)."""
    out: Doc = {}
    for field, member in table.items():
        value = stored.get(field)
        if value is not None:
            *parents, last = member.split(".")
            into = out
            for parent in parents:
                into = into.setdefault(parent, {})
            into[last] = value
    return out


def _stored_path(path: Path, table: Dict[str, str]) -> str:
    """A request check's path (``destinationFlowConfigList.1.member.connectorType``) as the stored
    resource's (``destinations[0].connectorType``)."""
    text = re.sub(r"\.(\d+)\.member", lambda m: f"[{int(m.group(1)) - 1}]", "." + format_path(path))[1:]
    for field, member in sorted(table.items(), key=lambda fm: -len(fm[1])):
        if text == member or text.startswith((member + ".", member + "[")):
            return field + text[len(member):]
    return text


def _not_held(what: str, at: str, why: str) -> InvalidStateError:
    return InvalidStateError(f"the state document's {what} is not one AppFlow could hold, at {at}: {why}")


def _checked(check: Optional[Check], value: Any, where: str, what: str, table: Dict[str, str]) -> None:
    """``value`` (a request, or an answer's part) checked; the first error names the stored path."""
    if check is None:
        return
    errors: Errors = []
    check(value, None, errors)
    if errors:
        path, constraint, got, sensitive = errors[0]
        plain = isinstance(got, (str, int, float, list, dict))  # not the model's stand-in for a missing member
        shown = f" (got {java_repr(got)[:80]!r})" if plain and not sensitive else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise _not_held(what, f"{where}.{_stored_path(path, table)}", f"{constraint}{shown}{more}")


@lru_cache(maxsize=None)
def _shape_check(shape_name: str) -> Optional[Check]:
    """The check of an answer's shape (None when the installed model has no such shape)."""
    try:
        return output_check(service_model().shape_for(shape_name))
    except Exception:  # botocore's NoShapeFoundError: a model older than the shape
        return None


@lru_cache(maxsize=None)
def _input_check(operation: str) -> Optional[Check]:
    try:
        return spec(operation).check_input
    except Exception:  # botocore's OperationNotFoundError: a model without custom connectors
        return None


@lru_cache(maxsize=None)
def _members(shape_name: str) -> Dict[str, str]:
    """The members of a structure of the installed model, with their types' names."""
    try:
        shape = service_model().shape_for(shape_name)
    except Exception:  # a model older than the shape
        return {}
    return {n: s.type_name for n, s in shape.members.items()}  # type: ignore[attr-defined]


def _plain(item: Doc, where: str, what: str) -> None:
    """JSON values only: no NaN or infinity, no lone surrogate, nothing but dicts, lists, text,
    numbers, booleans and null (a dict handed to ``restore`` may hold anything)."""
    try:
        json.dumps(item, allow_nan=False, ensure_ascii=False).encode("utf-8")
        return
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        pass
    stack: List[Tuple[str, Any]] = [(where, item)]
    seen = set()  # a dict or list met again is walked once (and a cycle ends the walk)
    while stack:
        path, value = stack.pop()
        if isinstance(value, (dict, list)):
            if id(value) in seen:
                continue
            seen.add(id(value))
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}", v) for k, v in value.items())
            bad_keys = [k for k in value if type(k) is not str or lone_surrogate(k)]
            if bad_keys:
                raise InvalidStateError(f"the state document's {what} has a key that is not Unicode text at "
                                        f"{path}: {bad_keys[0]!r:.80}")
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidStateError(f"the state document's {what} has a number JSON has not at {path}: {value!r}")
        elif isinstance(value, str):
            if lone_surrogate(value):
                raise InvalidStateError(f"the state document's {what} has a string holding a lone UTF-16 "
                                        f"surrogate at {path}: {value[:80]!r}")
        elif value is not None and not isinstance(value, (bool, int, float)):
            raise InvalidStateError(f"the state document's {what} has a value that is not JSON at {path}: "
                                    f"a {type(value).__name__}")
    raise InvalidStateError(f"the state document's {what} at {where} is not JSON: it holds itself")


def _answer_part(value: Any, shape_name: str, member: str, where: str, field: str, what: str) -> None:
    """``value``, the stored ``field``, checked as ``member`` of the answer shape ``shape_name``
    (the answer that shows it)."""
    if value is not None:
        _checked(_shape_check(shape_name), {member: value}, where, what, {field: member})


def _trigger(trigger: Doc, where: str, what: str) -> None:
    """What CreateFlow checks of a trigger beyond the model (backend/flows.py), what a run needs: a
    Scheduled one has Scheduled properties with a schedule expression AppFlow reads; its timestamps
    are ones a timestamp holds."""
    if trigger["triggerType"] != "Scheduled":
        return
    at = f"{where}.trigger_config.triggerProperties.Scheduled"
    scheduled = (trigger.get("triggerProperties") or {}).get("Scheduled")
    if scheduled is None:
        raise _not_held(what, at, "a Scheduled flow has Scheduled trigger properties")
    for member in (n for n, t in _members("ScheduledTriggerProperties").items() if t == "timestamp"):
        moment = scheduled.get(member)
        if moment is not None and not EARLIEST <= moment <= LATEST:
            raise _not_held(what, f"{at}.{member}", f"{moment!r} is not a timestamp between {EARLIEST:.0f} and "
                                                    f"{LATEST} epoch seconds (1970 to the end of 9999)")
    try:
        schedule_expressions.parse(scheduled["scheduleExpression"])
    except schedule_expressions.ScheduleError as e:
        raise _not_held(what, f"{at}.scheduleExpression", str(e)) from None


def check_flow(flow: Doc, where: str, place: str) -> None:
    """``flow``: a stored flow (its values and its runs' decoded, ``backend/snapshots``) at ``where``
    in the document, in ``place`` (its account and region)."""
    what = f"flow {flow['name']!r} ({place})"
    _plain(flow, where, what)
    _checked(_input_check("CreateFlow"), _request(flow, FLOW_REQUEST), where, what, FLOW_REQUEST)
    _trigger(flow["trigger_config"], where, what)
    _answer_part(flow["status"], "DescribeFlowResponse", "flowStatus", where, "status", what)
    record = _shape_check("ExecutionRecord")
    catalog = "metadataCatalogDetails" in _members("ExecutionRecord")
    for i, e in enumerate(flow["executions"]):  # one check a run: a document may hold thousands
        run = f"{where}.executions[{i}]"
        shown = {"executionId": e["execution_id"], "executionStatus": e["status"], "executionResult": e["result"]}
        if catalog and e.get("catalog_details") is not None:
            shown["metadataCatalogDetails"] = e["catalog_details"]
        _checked(record, shown, run, what, RUN_RECORD)
        final = _request(e, RUN_FINAL)  # a run still in progress: what it shows once it ends
        if final:
            _checked(record, final, run, what, RUN_FINAL)


def check_profile(profile: Doc, where: str, place: str) -> None:
    what = f"connector profile {profile['name']!r} ({place})"
    _plain(profile, where, what)
    request = _request(profile, PROFILE_REQUEST)
    # A document never holds credentials: none is what the model may require, and an empty set passes.
    request["connectorProfileConfig"]["connectorProfileCredentials"] = {}
    _checked(_input_check("CreateConnectorProfile"), request, where, what, PROFILE_REQUEST)


def check_registration(registration: Doc, where: str, place: str) -> None:
    what = f"connector registration {registration['label']!r} ({place})"
    _plain(registration, where, what)
    _checked(_input_check("RegisterConnector"), _request(registration, REGISTRATION_REQUEST), where, what,
             REGISTRATION_REQUEST)
    described = registration.get("configuration")
    if described is None:
        return
    for member in DESCRIBED_REQUIRED:
        if described.get(member) is None:
            raise _not_held(what, f"{where}.configuration.{member}", "what a connector describes has one")
    _checked(_shape_check("ConnectorConfiguration"), described, f"{where}.configuration", what, {})
