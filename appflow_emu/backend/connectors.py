"""The connector catalog: DescribeConnectors and DescribeConnector, answered from the one table
of connector facts (``appflow_emu.catalog``) that flow validation also reads. Entities are in
``backend/entities.py``; custom connector registrations in ``backend/registrations.py``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from appflow_emu.backend.models import ConnectorRegistration
from appflow_emu.backend.pagination import decode_token, encode_token
from appflow_emu.backend.registry import operation
from appflow_emu.backend.state import Call, RegionState
from appflow_emu.catalog.connectors import ConnectorFacts, connector_types, facts
from appflow_emu.errors import AppFlowError, not_found, validation
from appflow_emu.model.service import has_member

DEFAULT_PAGE = 20  # [doc] describe_connectors' default page


def _metadata(f: ConnectorFacts) -> Dict[str, Any]:
    return {name: {member: list(values) for member, values in members.items()}
            for name, members in f.connector_metadata.items()}


def configuration(f: ConnectorFacts) -> Dict[str, Any]:
    """A built-in connector's ConnectorConfiguration, every value read from its facts. Members the
    installed model lacks are left out (mid-2021 models have only the first eight)."""
    out: Dict[str, Any] = {
        "canUseAsSource": f.can_be_source,
        "canUseAsDestination": f.can_be_destination,
        "supportedDestinationConnectors": list(f.supported_destinations),
        "supportedSchedulingFrequencies": list(f.scheduling_frequencies),
        "isPrivateLinkEnabled": f.private_link,
        "isPrivateLinkEndpointUrlRequired": False,  # [guess]
        "supportedTriggerTypes": list(f.trigger_types),
        "connectorMetadata": _metadata(f),
    }
    optional: Dict[str, Any] = {
        "connectorType": f.connector_type,
        "connectorName": f.connector_type,
        "connectorOwner": "AWS",
        "supportedOperators": list(f.operators),
        "supportedWriteOperations": list(f.write_operations),
        "supportedApiVersions": list(f.api_versions),
        "supportedDataTransferTypes": list(f.data_transfer_types),
        "supportedDataTransferApis": [
            {"Name": name, **({"Type": kind} if kind is not None else {})} for name, kind in f.data_transfer_apis
        ],
    }
    for member, value in optional.items():
        if value and has_member("ConnectorConfiguration", member):
            out[member] = value
    return out


def registration_configuration(r: ConnectorRegistration) -> Dict[str, Any]:
    f = facts("CustomConnector")
    return {
        "canUseAsSource": True,
        "canUseAsDestination": True,
        "supportedDestinationConnectors": list(f.supported_destinations),
        # [guess] the generic members a built-in configuration has too, then what the connector's
        # Lambda would declare (modes, operators, write operations: the generic CustomConnector ones).
        "supportedSchedulingFrequencies": list(f.scheduling_frequencies),
        "isPrivateLinkEnabled": False,
        "isPrivateLinkEndpointUrlRequired": False,
        "connectorMetadata": {},
        "connectorName": r.label,
        "supportedTriggerTypes": list(f.trigger_types),
        "connectorType": "CustomConnector",
        "connectorLabel": r.label,
        "connectorArn": r.arn,
        "connectorVersion": str(r.version),
        "connectorProvisioningType": r.provisioning_type,
        "connectorProvisioningConfig": r.provisioning_config,
        "registeredAt": r.registered_at,
        "registeredBy": r.registered_by,
        "connectorOwner": _owner(r),
        "connectorModes": list(CUSTOM_CONNECTOR_MODES),
        "supportedOperators": list(f.operators),
        "supportedWriteOperations": list(f.write_operations),
        **({"connectorDescription": r.description} if r.description is not None else {}),
        **({"supportedDataTransferTypes": ["RECORD"]}
           if has_member("ConnectorConfiguration", "supportedDataTransferTypes") else {}),
    }


# [guess] What the connector's Lambda would declare (its DescribeConnectorConfiguration): the
# emulator does not call a Lambda, so a registered connector is a source and a destination.
CUSTOM_CONNECTOR_MODES = ("SOURCE", "DESTINATION")


def _owner(r: ConnectorRegistration) -> str:
    """The registering account (the real service reports the owner the Lambda declares)."""
    return r.arn.split(":")[4]


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
        "connectorOwner": _owner(r),
        "connectorModes": list(CUSTOM_CONNECTOR_MODES),
    }
    if r.description is not None:
        out["connectorDescription"] = r.description
    if has_member("ConnectorDetail", "supportedDataTransferTypes"):
        out["supportedDataTransferTypes"] = ["RECORD"]
    return out


@operation("DescribeConnectors")
def describe_connectors(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    """Built-in connectors first (a fixed list, paged by offset), then registered connectors
    (paged by key, so unregistering one between pages skips or repeats nothing)."""
    wanted = p.get("connectorTypes") or None
    builtins = [t for t in connector_types() if t != "CustomConnector" and (wanted is None or t in wanted)]
    with_customs = wanted is None or "CustomConnector" in wanted
    token = p.get("nextToken")
    start, after = 0, 0
    if token is not None:
        try:
            start, after = len(builtins), decode_token("connector-registrations", token)
        except AppFlowError:
            start = decode_token("connectors", token)
    limit = p.get("maxResults") or DEFAULT_PAGE
    page = builtins[start:start + limit]
    out: Dict[str, Any] = {"connectorConfigurations": {t: configuration(facts(t)) for t in page}}
    room = limit - len(page)
    registrations: List[ConnectorRegistration] = []
    next_token: Optional[str] = None
    if start + len(page) < len(builtins):
        next_token = encode_token("connectors", start + len(page))
    elif with_customs and room > 0:
        registrations, last = call.state._connectors.page(after, room)
        if last is not None:
            next_token = encode_token("connector-registrations", last)
    elif with_customs and call.state._connectors.page(after, 1)[0]:
        # The page ended exactly after the last built-in: continue from there.
        next_token = encode_token("connectors", len(builtins))
    out["connectors"] = [detail(r) for r in registrations]
    if next_token is not None:
        out["nextToken"] = next_token
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
