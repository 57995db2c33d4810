"""Connectors: DescribeConnectors and DescribeConnector, answered from the one table of connector
facts (``catalog/connectors.py``) that flow validation also reads; and the custom connector
registrations (RegisterConnector, UpdateConnectorRegistration, UnregisterConnector, ListConnectors).
A connector's entities are in ``backend/entity_discovery.py``.

Registering a custom connector whose Lambda ARN a function answers (``backend/lambda_connectors.py``)
asks the function for its configuration (DescribeConnectorConfigurationRequest); the connector is
then described as it described itself, and flows are checked against the same facts
(:func:`connector_facts`). A registration no function answers keeps the generic CustomConnector
configuration.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from appflow_emu.backend.handlers import handles
from appflow_emu.backend.lambda_connectors import api_error, connector_at, lambda_arn, unreachable
from appflow_emu.backend.pagination import decode_token, encode_token, listing
from appflow_emu.backend.resources import ConnectorRegistration
from appflow_emu.backend.runtime import Call, RegionState
from appflow_emu.catalog.connectors import ConnectorFacts, connector_types, facts, registered_connector_facts
from appflow_emu.model.errors import AppFlowError, conflict, validation
from appflow_emu.model.service import CUSTOM_CONNECTOR_REGISTERED_BY, CUSTOM_CONNECTOR_REPORTED_TYPE, has_member
from appflow_emu.simulator.lambda_protocol import DESCRIBE_CONNECTOR_CONFIGURATION, ConnectorError

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


def connector_facts(state: RegionState, config: Dict[str, Any]) -> ConnectorFacts:
    """The facts a flow's source or destination config is checked against: a custom connector's
    own when its profile's connector was registered with a Lambda that described itself."""
    f = facts(config["connectorType"])
    if f.connector_type != "CustomConnector":
        return f
    name = config.get("connectorProfileName")
    profile = state.profiles.get(name) if name else None
    registration = state.registrations.get(profile.connector_label) if profile and profile.connector_label else None
    if registration is None or registration.configuration is None:
        return f
    return registered_connector_facts(registration.configuration)


def _data_transfer_types() -> Dict[str, Any]:
    """[guess] A registered custom connector moves records."""
    return {"supportedDataTransferTypes": ["RECORD"]} if has_member("ConnectorConfiguration",
                                                                      "supportedDataTransferTypes") else {}


def _lambda_configuration(r: ConnectorRegistration, c: Dict[str, Any]) -> Dict[str, Any]:
    """[seen: AWS's captured DescribeConnector of a custom connector] What the connector described,
    with AppFlow's members around it: no connectorArn, no connectorMetadata."""
    f = registered_connector_facts(c)
    out: Dict[str, Any] = {
        "canUseAsSource": f.can_be_source,
        "canUseAsDestination": f.can_be_destination,
        "supportedDestinationConnectors": list(f.supported_destinations),
        "supportedSchedulingFrequencies": list(f.scheduling_frequencies),
        "isPrivateLinkEnabled": False,
        "isPrivateLinkEndpointUrlRequired": False,
        "supportedTriggerTypes": list(f.trigger_types),
        "connectorType": CUSTOM_CONNECTOR_REPORTED_TYPE,
        "connectorLabel": r.label,
        **({"connectorDescription": r.description} if r.description is not None else {}),
        "connectorOwner": c["connectorOwner"],
        "connectorName": c["connectorName"],
        "connectorVersion": c["connectorVersion"],
        "connectorModes": list(c["connectorModes"]),
        "authenticationConfig": c.get("authenticationConfig") or {},
        **({"connectorRuntimeSettings": c["connectorRuntimeSettings"]} if c.get("connectorRuntimeSettings") else {}),
        "supportedApiVersions": list(c.get("supportedApiVersions") or []),
        "supportedOperators": list(f.operators),
        **({"supportedWriteOperations": list(f.write_operations)} if f.can_be_destination else {}),
        "connectorProvisioningType": r.provisioning_type,
        "connectorProvisioningConfig": r.provisioning_config,
        **({"logoURL": c["logoURL"]} if c.get("logoURL") else {}),
        "registeredAt": r.registered_at,
        "registeredBy": CUSTOM_CONNECTOR_REGISTERED_BY,
        **_data_transfer_types(),
    }
    return out


def registration_configuration(r: ConnectorRegistration) -> Dict[str, Any]:
    if r.configuration is not None:
        return _lambda_configuration(r, r.configuration)
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
        "connectorType": CUSTOM_CONNECTOR_REPORTED_TYPE,
        "connectorLabel": r.label,
        "connectorArn": r.arn,
        "connectorVersion": str(r.version),
        "connectorProvisioningType": r.provisioning_type,
        "connectorProvisioningConfig": r.provisioning_config,
        "registeredAt": r.registered_at,
        "registeredBy": CUSTOM_CONNECTOR_REGISTERED_BY,
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
    c = r.configuration or {}
    out: Dict[str, Any] = {
        "connectorName": c.get("connectorName", r.label),
        "connectorVersion": c.get("connectorVersion", str(r.version)),
        "connectorType": CUSTOM_CONNECTOR_REPORTED_TYPE,
        "connectorLabel": r.label,
        "registeredAt": r.registered_at,
        "registeredBy": CUSTOM_CONNECTOR_REGISTERED_BY,
        "connectorProvisioningType": r.provisioning_type,
        "applicationType": "CustomConnector",
        "connectorOwner": c.get("connectorOwner", _owner(r)),
        "connectorModes": list(c.get("connectorModes", CUSTOM_CONNECTOR_MODES)),
    }
    if r.description is not None:
        out["connectorDescription"] = r.description
    if has_member("ConnectorDetail", "supportedDataTransferTypes"):
        out["supportedDataTransferTypes"] = ["RECORD"]
    return out


@handles("DescribeConnectors")
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
        registrations, last = call.state.registrations.page(after, room)
        if last is not None:
            next_token = encode_token("connector-registrations", last)
    elif with_customs and call.state.registrations.page(after, 1)[0]:
        # The page ended exactly after the last built-in: continue from there.
        next_token = encode_token("connectors", len(builtins))
    out["connectors"] = [detail(r) for r in registrations]
    if next_token is not None:
        out["nextToken"] = next_token
    return out


@handles("DescribeConnector")
def describe_connector(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    ctype = p["connectorType"]
    label = p.get("connectorLabel")
    if ctype == "CustomConnector":
        if not label:
            raise validation("connectorLabel is required for connector type CustomConnector.")
        return {"connectorConfiguration": registration_configuration(call.state.registration(label))}
    return {"connectorConfiguration": configuration(facts(ctype))}


# -- custom connector registrations -------------------------------------------------------------

@handles("ListConnectors")
def list_connectors(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    return listing(call.state.registrations, "registrations", p, "connectors", detail, DEFAULT_PAGE)


def _lambda_arn(p: Dict[str, Any]) -> Dict[str, Any]:
    config = p.get("connectorProvisioningConfig") or {}
    if not (config.get("lambda") or {}).get("lambdaArn"):
        raise validation("connectorProvisioningConfig.lambda.lambdaArn is required.")
    return config


def _described(call: Call, label: str, arn: str) -> Optional[Dict[str, Any]]:
    """The configuration the function answering ``arn`` describes, or None when no function answers
    it. A connector that fails fails the call (ConnectorServerException, its message)."""
    connector = connector_at(call.runtime, label, arn)
    if connector is None:
        return None
    try:
        configuration = connector.describe_configuration()
        _check_declared(label, configuration)
    except ConnectorError as e:
        raise api_error(e) from None
    return configuration


def _check_declared(label: str, configuration: Dict[str, Any]) -> None:
    """[guess] A configuration naming values AppFlow does not have (an operator, a write operation, a
    frequency or a trigger type outside the model's enums) is refused like an unreadable answer."""
    f = facts("CustomConnector")
    known = {"supportedOperators": f.operators, "supportedWriteOperations": f.write_operations,
             "supportedSchedulingFrequencies": f.scheduling_frequencies, "supportedTriggerTypes": f.trigger_types}
    for member, allowed in known.items():
        unknown = [v for v in configuration.get(member) or () if v not in allowed]
        if unknown:
            raise ConnectorError(label, DESCRIBE_CONNECTOR_CONFIGURATION,
                                 f"its answer declares {member} that AppFlow does not know: {', '.join(unknown)}")


@handles("RegisterConnector")
def register_connector(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    label = p.get("connectorLabel")
    if not label:
        raise validation("connectorLabel is required.")
    if label in state.registrations:
        raise conflict(f"Connector with label {label} is already registered.")
    config = _lambda_arn(p)
    if len(state.registrations) >= call.runtime.quotas["custom_connectors"]:
        raise AppFlowError("ServiceQuotaExceededException",
                           "The number of registered connectors has reached the limit.")
    configuration = _described(call, label, config["lambda"]["lambdaArn"])
    r = ConnectorRegistration(
        label=label,
        arn=f"arn:aws:appflow:{state.region}:{state.account_id}:connector/{label}",
        description=p.get("description"),
        provisioning_type=p.get("connectorProvisioningType") or "LAMBDA",
        provisioning_config=config,
        registered_at=call.now,
        configuration=configuration,
    )
    state.registrations.add(label, r)
    return {"connectorArn": r.arn}


@handles("UpdateConnectorRegistration")
def update_connector_registration(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    """[doc] The registration takes the Lambda's latest configuration: the connector is described
    again (with the new ARN when one is given). A Lambda-backed registration whose function no
    longer answers cannot be updated."""
    r = call.state.registration(p["connectorLabel"])
    config = _lambda_arn(p) if p.get("connectorProvisioningConfig") else None
    arn = config["lambda"]["lambdaArn"] if config is not None else lambda_arn(r)
    configuration = _described(call, r.label, arn)
    if configuration is None and r.configuration is not None:
        raise api_error(unreachable(r.label, arn, DESCRIBE_CONNECTOR_CONFIGURATION))
    if config is not None:
        r.provisioning_config = config
    if "description" in p:
        r.description = p["description"]
    r.configuration = configuration
    r.version += 1
    return {"connectorArn": r.arn}


@handles("UnregisterConnector")
def unregister_connector(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    r = state.registration(p["connectorLabel"])
    users = [x.name for x in state.profiles if x.connector_label == r.label]
    if users and not p.get("forceDelete"):
        raise conflict(
            f"Connector {r.label} is in use by connector profiles: {', '.join(sorted(users))}. "
            "Use forceDelete to unregister it."
        )
    state.registrations.remove(r.label)
    state.connector_implementations.pop(r.label, None)  # a label registered again starts with nothing plugged in
    return {}
