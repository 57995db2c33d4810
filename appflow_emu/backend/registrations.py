"""Custom connector registrations: RegisterConnector, UpdateConnectorRegistration,
UnregisterConnector and ListConnectors."""
from __future__ import annotations

from typing import Any, Dict

from appflow_emu.backend.connectors import DEFAULT_PAGE, _registration, detail
from appflow_emu.backend.models import ConnectorRegistration
from appflow_emu.backend.pagination import listing
from appflow_emu.backend.registry import operation
from appflow_emu.backend.state import Call
from appflow_emu.errors import AppFlowError, conflict, validation


@operation("ListConnectors")
def list_connectors(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    return listing(call.state._connectors, "registrations", p, "connectors", detail, DEFAULT_PAGE)


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
