"""The connector catalog and custom connector registrations.

The catalog answers from the one table of connector facts (``appflow_emu.catalog``) that flow
validation also reads. ``_ENTITY_TABLE`` below is a small, fixed slice of the Salesforce, ServiceNow
and Zendesk schemas so that discovery code (list entities, then describe one) has something to
walk; other connectors (S3, custom connectors, ...) still list no entities.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

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
    f = facts("CustomConnector")
    return {
        "canUseAsSource": True,
        "canUseAsDestination": True,
        "supportedDestinationConnectors": [t for t in connector_types() if facts(t).can_be_destination],
        # [guess] the generic members a built-in configuration has too; what the connector's own
        # Lambda would describe (authentication, operators, API versions) is not emulated.
        "supportedSchedulingFrequencies": SCHEDULING_FREQUENCIES[f.min_schedule_interval],
        "isPrivateLinkEnabled": False,
        "isPrivateLinkEndpointUrlRequired": False,
        "connectorMetadata": {},
        "connectorName": r.label,
        "supportedTriggerTypes": f.trigger_types,
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


# [guess] A few well-known entities per SaaS connector: connector type -> group -> entity ->
# (label, fields). A field is (identifier, label, fieldType, flags); flags: "pk" primary key,
# "ts" timestamp usable for incremental pulls, "ro" read-only (system-set), and a last
# "values=a|b|c" lists the supported values of a picklist.
_ENTITY_TABLE: Dict[str, Dict[str, Dict[str, Tuple[str, List[Tuple[str, str, str, str]]]]]] = {
    "Salesforce": {"Objects": {
        "Account": ("Account", [
            ("Id", "Account ID", "id", "pk ro"), ("Name", "Account Name", "string", ""),
            ("Industry", "Industry", "picklist", "values=Agriculture|Banking|Technology|Other"),
            ("AnnualRevenue", "Annual Revenue", "currency", ""),
            ("CreatedDate", "Created Date", "datetime", "ro"),
            ("LastModifiedDate", "Last Modified Date", "datetime", "ts ro")]),
        "Contact": ("Contact", [
            ("Id", "Contact ID", "id", "pk ro"), ("FirstName", "First Name", "string", ""),
            ("LastName", "Last Name", "string", ""), ("Email", "Email", "email", ""),
            ("AccountId", "Account ID", "reference", ""),
            ("CreatedDate", "Created Date", "datetime", "ro"),
            ("LastModifiedDate", "Last Modified Date", "datetime", "ts ro")]),
        "Opportunity": ("Opportunity", [
            ("Id", "Opportunity ID", "id", "pk ro"), ("Name", "Name", "string", ""),
            ("Amount", "Amount", "currency", ""),
            ("StageName", "Stage", "picklist", "values=Prospecting|Qualification|Proposal|Negotiation|Closed"),
            ("CloseDate", "Close Date", "date", ""),
            ("CreatedDate", "Created Date", "datetime", "ro"),
            ("LastModifiedDate", "Last Modified Date", "datetime", "ts ro")]),
        "Lead": ("Lead", [
            ("Id", "Lead ID", "id", "pk ro"), ("FirstName", "First Name", "string", ""),
            ("LastName", "Last Name", "string", ""), ("Company", "Company", "string", ""),
            ("Status", "Status", "picklist", "values=Open|Working|Converted|Unqualified"),
            ("CreatedDate", "Created Date", "datetime", "ro"),
            ("LastModifiedDate", "Last Modified Date", "datetime", "ts ro")]),
        "Case": ("Case", [
            ("Id", "Case ID", "id", "pk ro"), ("Subject", "Subject", "string", ""),
            ("Status", "Status", "picklist", "values=New|Working|Escalated|Closed"),
            ("Priority", "Priority", "picklist", "values=High|Medium|Low"),
            ("CreatedDate", "Created Date", "datetime", "ro"),
            ("LastModifiedDate", "Last Modified Date", "datetime", "ts ro")]),
    }},
    "Servicenow": {"Tables": {
        "incident": ("Incident", [
            ("sys_id", "Sys ID", "string", "pk ro"), ("number", "Number", "string", ""),
            ("short_description", "Short description", "string", ""),
            ("state", "State", "integer", ""), ("priority", "Priority", "integer", ""),
            ("sys_created_on", "Created", "datetime", "ro"),
            ("sys_updated_on", "Updated", "datetime", "ts ro")]),
        "problem": ("Problem", [
            ("sys_id", "Sys ID", "string", "pk ro"), ("number", "Number", "string", ""),
            ("short_description", "Short description", "string", ""), ("state", "State", "integer", ""),
            ("sys_created_on", "Created", "datetime", "ro"),
            ("sys_updated_on", "Updated", "datetime", "ts ro")]),
        "sys_user": ("User", [
            ("sys_id", "Sys ID", "string", "pk ro"), ("user_name", "User ID", "string", ""),
            ("name", "Name", "string", ""), ("email", "Email", "string", ""),
            ("sys_created_on", "Created", "datetime", "ro"),
            ("sys_updated_on", "Updated", "datetime", "ts ro")]),
    }},
    "Zendesk": {"Objects": {
        "tickets": ("Tickets", [
            ("id", "Id", "integer", "pk ro"), ("subject", "Subject", "string", ""),
            ("status", "Status", "string", "values=new|open|pending|hold|solved|closed"),
            ("priority", "Priority", "string", "values=urgent|high|normal|low"),
            ("created_at", "Created At", "datetime", "ro"),
            ("updated_at", "Updated At", "datetime", "ts ro")]),
        "users": ("Users", [
            ("id", "Id", "integer", "pk ro"), ("name", "Name", "string", ""),
            ("email", "Email", "string", ""), ("role", "Role", "string", "values=end-user|agent|admin"),
            ("created_at", "Created At", "datetime", "ro"),
            ("updated_at", "Updated At", "datetime", "ts ro")]),
        "organizations": ("Organizations", [
            ("id", "Id", "integer", "pk ro"), ("name", "Name", "string", ""),
            ("created_at", "Created At", "datetime", "ro"),
            ("updated_at", "Updated At", "datetime", "ts ro")]),
    }},
}

_TEXT_OPERATORS = ("PROJECTION", "EQUAL_TO", "NOT_EQUAL_TO", "CONTAINS")
_ORDERED_OPERATORS = ("PROJECTION", "LESS_THAN", "GREATER_THAN", "BETWEEN", "LESS_THAN_OR_EQUAL_TO",
                      "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO", "NOT_EQUAL_TO")
_ORDERED_TYPES = frozenset({"datetime", "date", "integer", "double", "currency", "long", "percent"})


def _field(f: ConnectorFacts, identifier: str, label: str, field_type: str, flags: str) -> Dict[str, Any]:
    head, _, values = flags.partition("values=")
    words = head.split()
    wanted = _ORDERED_OPERATORS if field_type in _ORDERED_TYPES else _TEXT_OPERATORS
    details: Dict[str, Any] = {
        "fieldType": field_type,
        # Only operators the connector accepts (its model enum), e.g. Zendesk has no LESS_THAN.
        "filterOperators": [op for op in wanted if op in f.operators],
    }
    if values:
        details["supportedValues"] = values.split("|")
    out: Dict[str, Any] = {
        "identifier": identifier,
        "label": label,
        "isPrimaryKey": "pk" in words,
        "isDeprecated": False,
        "supportedFieldTypeDetails": {"v1": details},
        "sourceProperties": {"isRetrievable": True, "isQueryable": True,
                             "isTimestampFieldForIncrementalQueries": "ts" in words},
    }
    if f.can_be_destination:
        writable = "ro" not in words
        out["destinationProperties"] = {
            "isCreatable": writable, "isNullable": writable, "isUpsertable": writable, "isUpdatable": writable,
            "isDefaultedOnCreate": not writable,
            "supportedWriteOperations": list(f.write_operations) if writable else [],
        }
    return out


def _entity_connector(call: Call, p: Dict[str, Any]) -> str:
    """The connector type whose entities are asked for: the profile's, else connectorType."""
    name = p.get("connectorProfileName")
    if name:
        profile = get_profile(call.state, name)
        if name in call.state.emulator.invalid_credentials:
            raise AppFlowError(
                "ConnectorAuthenticationException",
                f"The connector rejected the credentials of connector profile {name}. "
                "Update the connector profile with valid credentials.",
            )
        return profile.connector_type
    if not p.get("connectorType"):
        raise validation("Either connectorProfileName or connectorType must be provided.")
    return str(p["connectorType"])


@operation("ListConnectorEntities")
def list_connector_entities(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    ctype = _entity_connector(call, p)
    flat = [(group, name, label)
            for group, entities in _ENTITY_TABLE.get(ctype, {}).items()
            for name, (label, _) in entities.items()]
    start = decode_token("entities", p.get("nextToken"))
    limit = p.get("maxResults") or len(flat) or 1
    page = flat[start:start + limit]
    grouped: Dict[str, List[Dict[str, Any]]] = {}
    for group, name, label in page:
        grouped.setdefault(group, []).append({"name": name, "label": label, "hasNestedEntities": False})
    out: Dict[str, Any] = {"connectorEntityMap": grouped}
    if start + limit < len(flat):
        out["nextToken"] = encode_token("entities", start + limit)
    return out


@operation("DescribeConnectorEntity")
def describe_connector_entity(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    ctype = _entity_connector(call, p)
    catalog = _ENTITY_TABLE.get(ctype)
    if catalog is None:
        return {"connectorEntityFields": []}
    name = p["connectorEntityName"]
    for entities in catalog.values():
        if name in entities:
            f = facts(ctype)
            return {"connectorEntityFields": [_field(f, *spec) for spec in entities[name][1]]}
    # [guess] code and text: the SaaS has no such object.
    raise not_found(f"Entity {name} does not exist for connector {ctype.upper()}.")


@operation("ResetConnectorMetadataCache")
def reset_connector_metadata_cache(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    _entity_connector(call, p)
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
