"""Entities of a connector: ListConnectorEntities, DescribeConnectorEntity, ResetConnectorMetadataCache.

``_ENTITY_TABLE`` below is a small, fixed slice of the Salesforce, ServiceNow and Zendesk schemas
so that discovery code (list entities, then describe one) has something to walk; other
connectors (S3, custom connectors, ...) still list no entities.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from appflow_emu.backend.pagination import decode_token, encode_token
from appflow_emu.backend.profiles import get_profile
from appflow_emu.backend.registry import operation
from appflow_emu.backend.state import Call
from appflow_emu.catalog.connectors import ConnectorFacts, facts
from appflow_emu.errors import AppFlowError, not_found, validation

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
