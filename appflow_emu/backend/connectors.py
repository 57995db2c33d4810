"""The connector catalog and custom connector registrations.

The catalog answers from the one table of connector facts (``appflow_emu.catalog``) that flow
validation also reads. Entity catalogs are still empty here (see docs/fidelity.md).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from appflow_emu.backend.models import ConnectorRegistration
from appflow_emu.backend.pagination import decode_token, encode_token
from appflow_emu.backend.profiles import get_profile
from appflow_emu.backend.registry import operation
from appflow_emu.backend.state import Call, RegionState
from appflow_emu.catalog.connectors import ConnectorFacts, connector_types, facts
from appflow_emu.errors import AppFlowError, conflict, not_found, validation

DEFAULT_PAGE = 20  # [doc] describe_connectors' default page
SCHEDULING_FREQUENCIES = {  # [guess] from the minimum interval
    60: ["BYMINUTE", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "ONCE"],
    3600: ["HOURLY", "DAILY", "WEEKLY", "MONTHLY", "ONCE"],
    86400: ["DAILY", "WEEKLY", "MONTHLY", "ONCE"],
}


def configuration(f: ConnectorFacts) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "canUseAsSource": f.can_be_source,
        "canUseAsDestination": f.can_be_destination,
        "supportedDestinationConnectors": (
            [t for t in connector_types() if facts(t).can_be_destination] if f.can_be_source else []
        ),
        "supportedSchedulingFrequencies": SCHEDULING_FREQUENCIES[f.min_schedule_interval] if f.can_be_source else [],
        "isPrivateLinkEnabled": False,
        "isPrivateLinkEndpointUrlRequired": False,
        "supportedTriggerTypes": f.trigger_types,
        "connectorMetadata": {},
        "connectorType": f.connector_type,
        "connectorName": f.connector_type,
        "connectorOwner": "AWS",
    }
    if f.operators:
        out["supportedOperators"] = list(f.operators)
    if f.write_operations:
        out["supportedWriteOperations"] = list(f.write_operations)
    return out


def registration_configuration(r: ConnectorRegistration) -> Dict[str, Any]:
    return {
        "canUseAsSource": True,
        "canUseAsDestination": True,
        "supportedDestinationConnectors": [t for t in connector_types() if facts(t).can_be_destination],
        "supportedTriggerTypes": facts("CustomConnector").trigger_types,
        "connectorType": "CustomConnector",
        "connectorLabel": r.label,
        "connectorArn": r.arn,
        "connectorVersion": str(r.version),
        "connectorProvisioningType": r.provisioning_type,
        "connectorProvisioningConfig": r.provisioning_config,
        "registeredAt": r.registered_at,
        "registeredBy": r.registered_by,
        **({"connectorDescription": r.description} if r.description is not None else {}),
    }


def detail(r: ConnectorRegistration) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "connectorName": r.label,
        "connectorVersion": str(r.version),
        "connectorType": "CustomConnector",
        "connectorLabel": r.label,
        "registeredAt": r.registered_at,
        "registeredBy": r.registered_by,
        "connectorProvisioningType": r.provisioning_type,
        "applicationType": "CustomConnector",
    }
    if r.description is not None:
        out["connectorDescription"] = r.description
    return out


@operation("DescribeConnectors")
def describe_connectors(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    wanted = p.get("connectorTypes") or None
    builtins: List[Any] = [t for t in connector_types() if t != "CustomConnector" and (wanted is None or t in wanted)]
    customs: List[Any] = []
    if wanted is None or "CustomConnector" in wanted:
        customs = list(call.state.registered_connectors.values())
    everything = builtins + customs
    start = decode_token("connectors", p.get("nextToken"))
    limit = p.get("maxResults") or DEFAULT_PAGE
    page = everything[start:start + limit]
    out: Dict[str, Any] = {
        "connectorConfigurations": {x: configuration(facts(x)) for x in page if isinstance(x, str)},
        "connectors": [detail(x) for x in page if isinstance(x, ConnectorRegistration)],
    }
    if start + limit < len(everything):
        out["nextToken"] = encode_token("connectors", start + limit)
    return out


@operation("ListConnectors")
def list_connectors(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    after = decode_token("registrations", p.get("nextToken"))
    items, last = call.state._connectors.page(after, p.get("maxResults") or DEFAULT_PAGE)
    out: Dict[str, Any] = {"connectors": [detail(r) for r in items]}
    if last is not None:
        out["nextToken"] = encode_token("registrations", last)
    return out


def _registration(state: RegionState, label: str) -> ConnectorRegistration:
    r = state.registered_connectors.get(label)
    if r is None:
        raise not_found(f"Connector with label {label} does not exist.")  # [guess] text
    return r


@operation("DescribeConnector")
def describe_connector(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    ctype = p["connectorType"]
    label = p.get("connectorLabel")
    if ctype == "CustomConnector":
        if not label:
            raise validation("connectorLabel is required for connector type CustomConnector.")
        return {"connectorConfiguration": registration_configuration(_registration(call.state, label))}
    return {"connectorConfiguration": configuration(facts(ctype))}


def _check_profile(call: Call, p: Dict[str, Any]) -> Optional[str]:
    name = p.get("connectorProfileName")
    if name:
        profile = get_profile(call.state, name)
        return profile.connector_type
    if not p.get("connectorType"):
        raise validation("Either connectorProfileName or connectorType must be provided.")
    return str(p["connectorType"])


@operation("ListConnectorEntities")
def list_connector_entities(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    _check_profile(call, p)
    return {"connectorEntityMap": {}}


@operation("DescribeConnectorEntity")
def describe_connector_entity(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    _check_profile(call, p)
    return {"connectorEntityFields": []}


@operation("ResetConnectorMetadataCache")
def reset_connector_metadata_cache(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    _check_profile(call, p)
    return {}


def _lambda_arn(p: Dict[str, Any]) -> Dict[str, Any]:
    config = p.get("connectorProvisioningConfig") or {}
    if not (config.get("lambda") or {}).get("lambdaArn"):
        raise validation("connectorProvisioningConfig.lambda.lambdaArn is required.")
    return config


@operation("RegisterConnector")
def register_connector(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    label = p.get("connectorLabel")
    if not label:
        raise validation("connectorLabel is required.")
    if label in state.registered_connectors:
        raise conflict(f"Connector with label {label} is already registered.")
    config = _lambda_arn(p)
    if len(state.registered_connectors) >= state.emulator.quotas["custom_connectors"]:
        raise AppFlowError("ServiceQuotaExceededException",
                           "The number of registered connectors has reached the limit.")
    r = ConnectorRegistration(
        label=label,
        arn=f"arn:aws:appflow:{state.region}:{state.account_id}:connector/{label}",
        description=p.get("description"),
        provisioning_type=p.get("connectorProvisioningType") or "LAMBDA",
        provisioning_config=config,
        registered_at=call.now,
        registered_by=call.caller_arn,
    )
    state._connectors.add(label, r)
    return {"connectorArn": r.arn}


@operation("UpdateConnectorRegistration")
def update_connector_registration(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    r = _registration(call.state, p["connectorLabel"])
    config = _lambda_arn(p) if p.get("connectorProvisioningConfig") else None
    if config is not None:
        r.provisioning_config = config
    if "description" in p:
        r.description = p["description"]
    r.version += 1
    return {"connectorArn": r.arn}


@operation("UnregisterConnector")
def unregister_connector(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    r = _registration(state, p["connectorLabel"])
    users = [x.name for x in state.connector_profiles.values() if x.connector_label == r.label]
    if users and not p.get("forceDelete"):
        raise conflict(
            f"Connector {r.label} is in use by connector profiles: {', '.join(sorted(users))}. "
            "Use forceDelete to unregister it."
        )
    state._connectors.remove(r.label)
    return {}
