"""Entity catalogs of the built-in SaaS connectors, as data.

``CATALOG`` is a small, fixed slice of each SaaS's schema (connector type -> group -> entities),
enough for discovery code (list entities, walk ``entitiesPath``, describe one) and for flows built
from what was discovered. Entity and field names follow each SaaS's public API; everything else
(groups, labels, which fields, primary keys) is [guess] — see docs/catalog.md, "Entities".

A field is written ``(identifier, label, fieldType, flags)``; flags are words: ``pk`` primary key,
``ro`` read-only (set by the SaaS), ``ts`` the timestamp field incremental pulls use (it must be
the connector's ``DEFAULT_TIMESTAMP_FIELD``, which the simulator reads when a flow names none), and
a last ``values=a|b|c`` lists a picklist's supported values. An entity with ``children`` has nested
entities, listed with ``entitiesPath=<entity name>``; a child is named ``<parent>/<child>`` and has
the parent's fields unless it brings its own.

Which filter operators a field advertises is derived, not typed: the operators that suit its
type's family (``catalog/operators.py``), kept to the operators the connector's model enum has.

Tests add or override entities through the handle (``emu.add_entity``); ``field_from_user``
turns the friendly form into a :class:`Field`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from appflow_emu.catalog.connectors import connector_types


@dataclass(frozen=True)
class Field:
    identifier: str
    label: str
    field_type: str = "string"
    primary_key: bool = False
    timestamp: bool = False  # isTimestampFieldForIncrementalQueries
    read_only: bool = False
    values: Tuple[str, ...] = ()  # picklist values (supportedValues)
    nullable: bool = True
    description: Optional[str] = None


@dataclass(frozen=True)
class Entity:
    name: str  # full name: what connectorEntityName / object take ("conversations/C0123ABCD")
    label: str
    group: str  # the connectorEntityMap key it is listed under
    fields: Tuple[Field, ...] = ()
    parent: Optional[str] = None  # the entitiesPath that lists it; None = top level
    nested: bool = False  # hasNestedEntities

    @property
    def field_names(self) -> FrozenSet[str]:
        return frozenset(f.identifier for f in self.fields)


# -- the data ---------------------------------------------------------------------------------------

RawField = Tuple[str, str, str, str]
RawEntity = Dict[str, Any]  # name, label, fields, [children, child_group]

_SF_AUDIT: List[RawField] = [
    ("CreatedDate", "Created Date", "datetime", "ro"),
    ("LastModifiedDate", "Last Modified Date", "datetime", "ts ro"),
]
_SN_AUDIT: List[RawField] = [
    ("sys_created_on", "Created", "datetime", "ro"),
    ("sys_updated_on", "Updated", "datetime", "ts ro"),
]
_ZD_AUDIT: List[RawField] = [
    ("created_at", "Created At", "datetime", "ro"),
    ("updated_at", "Updated At", "datetime", "ts ro"),
]


def _e(name: str, label: str, fields: Sequence[RawField], children: Sequence[Any] = (),
       child_group: str = "") -> RawEntity:
    return {"name": name, "label": label, "fields": list(fields), "children": list(children),
            "child_group": child_group}


CATALOG: Dict[str, Dict[str, List[RawEntity]]] = {
    "Salesforce": {"Objects": [
        _e("Account", "Account", [
            ("Id", "Account ID", "id", "pk ro"), ("Name", "Account Name", "string", ""),
            ("Industry", "Industry", "picklist", "values=Agriculture|Banking|Technology|Other"),
            ("AnnualRevenue", "Annual Revenue", "currency", ""),
            ("NumberOfEmployees", "Employees", "integer", ""),
            ("Phone", "Account Phone", "phone", ""), ("Website", "Website", "url", ""),
            ("IsDeleted", "Deleted", "boolean", "ro"), *_SF_AUDIT]),
        _e("Contact", "Contact", [
            ("Id", "Contact ID", "id", "pk ro"), ("FirstName", "First Name", "string", ""),
            ("LastName", "Last Name", "string", ""), ("Email", "Email", "email", ""),
            ("Phone", "Business Phone", "phone", ""), ("AccountId", "Account ID", "reference", ""),
            *_SF_AUDIT]),
        _e("Lead", "Lead", [
            ("Id", "Lead ID", "id", "pk ro"), ("FirstName", "First Name", "string", ""),
            ("LastName", "Last Name", "string", ""), ("Company", "Company", "string", ""),
            ("Email", "Email", "email", ""),
            ("Status", "Status", "picklist", "values=Open|Working|Converted|Unqualified"),
            ("IsConverted", "Converted", "boolean", ""), *_SF_AUDIT]),
        _e("Opportunity", "Opportunity", [
            ("Id", "Opportunity ID", "id", "pk ro"), ("Name", "Name", "string", ""),
            ("AccountId", "Account ID", "reference", ""), ("Amount", "Amount", "currency", ""),
            ("Probability", "Probability (%)", "percent", ""),
            ("StageName", "Stage", "picklist", "values=Prospecting|Qualification|Proposal|Negotiation|Closed"),
            ("CloseDate", "Close Date", "date", ""), ("IsWon", "Won", "boolean", "ro"), *_SF_AUDIT]),
        _e("Case", "Case", [
            ("Id", "Case ID", "id", "pk ro"), ("CaseNumber", "Case Number", "string", "ro"),
            ("Subject", "Subject", "string", ""), ("Description", "Description", "textarea", ""),
            ("Status", "Status", "picklist", "values=New|Working|Escalated|Closed"),
            ("Priority", "Priority", "picklist", "values=High|Medium|Low"),
            ("Origin", "Case Origin", "picklist", "values=Phone|Email|Web"),
            ("AccountId", "Account ID", "reference", ""), ("ContactId", "Contact ID", "reference", ""),
            *_SF_AUDIT]),
    ]},
    "Servicenow": {"Tables": [
        _e("incident", "Incident", [
            ("sys_id", "Sys ID", "string", "pk ro"), ("number", "Number", "string", "ro"),
            ("short_description", "Short description", "string", ""),
            ("state", "State", "integer", ""), ("priority", "Priority", "integer", ""),
            ("impact", "Impact", "integer", ""), ("assigned_to", "Assigned to", "reference", ""),
            ("active", "Active", "boolean", ""), *_SN_AUDIT]),
        _e("problem", "Problem", [
            ("sys_id", "Sys ID", "string", "pk ro"), ("number", "Number", "string", "ro"),
            ("short_description", "Short description", "string", ""), ("state", "State", "integer", ""),
            ("known_error", "Known error", "boolean", ""), *_SN_AUDIT]),
        _e("sys_user", "User", [
            ("sys_id", "Sys ID", "string", "pk ro"), ("user_name", "User ID", "string", ""),
            ("name", "Name", "string", ""), ("email", "Email", "string", ""),
            ("active", "Active", "boolean", ""), *_SN_AUDIT]),
    ]},
    "Zendesk": {"Objects": [
        _e("tickets", "Tickets", [
            ("id", "Id", "integer", "pk ro"), ("subject", "Subject", "string", ""),
            ("description", "Description", "string", ""),
            ("status", "Status", "string", "values=new|open|pending|hold|solved|closed"),
            ("priority", "Priority", "string", "values=urgent|high|normal|low"),
            ("requester_id", "Requester Id", "integer", ""), ("assignee_id", "Assignee Id", "integer", ""),
            ("organization_id", "Organization Id", "integer", ""), *_ZD_AUDIT]),
        _e("users", "Users", [
            ("id", "Id", "integer", "pk ro"), ("name", "Name", "string", ""),
            ("email", "Email", "string", ""), ("role", "Role", "string", "values=end-user|agent|admin"),
            ("organization_id", "Organization Id", "integer", ""), *_ZD_AUDIT]),
        _e("organizations", "Organizations", [
            ("id", "Id", "integer", "pk ro"), ("name", "Name", "string", ""),
            ("details", "Details", "string", ""), *_ZD_AUDIT]),
    ]},
    "Slack": {"Objects": [
        # Messages of a conversation; each channel (listed with entitiesPath=conversations) has them.
        _e("conversations", "Conversations", [
            ("ts", "Timestamp", "datetime", "pk ts ro"), ("type", "Type", "string", "ro"),
            ("subtype", "Subtype", "string", "ro"), ("user", "User", "string", "ro"),
            ("text", "Text", "string", ""), ("thread_ts", "Thread Timestamp", "string", "ro"),
            ("reply_count", "Reply Count", "integer", "ro")],
           children=[("C0123ABCD", "#general"), ("C0456EFGH", "#random"), ("C0789IJKL", "#support")],
           child_group="Channels"),
    ]},
    "Marketo": {"Objects": [
        _e("leads", "Leads", [
            ("id", "Id", "integer", "pk ro"), ("email", "Email", "email", ""),
            ("firstName", "First Name", "string", ""), ("lastName", "Last Name", "string", ""),
            ("company", "Company Name", "string", ""), ("leadScore", "Lead Score", "integer", ""),
            ("createdAt", "Created At", "datetime", "ro"), ("updatedAt", "Updated At", "datetime", "ts ro")]),
        _e("activities", "Activities", [
            ("id", "Id", "integer", "pk ro"), ("marketoGUID", "Marketo GUID", "string", "ro"),
            ("leadId", "Lead Id", "integer", ""), ("activityDate", "Activity Date", "datetime", ""),
            ("activityTypeId", "Activity Type Id", "integer", ""),
            ("primaryAttributeValue", "Primary Attribute Value", "string", ""),
            ("campaignId", "Campaign Id", "integer", "")]),
    ]},
    "Googleanalytics": {"Reports": [
        _e("reports", "Core Reporting", [
            ("ga:date", "Date", "date", ""), ("ga:source", "Source", "string", ""),
            ("ga:medium", "Medium", "string", ""), ("ga:country", "Country", "string", ""),
            ("ga:sessions", "Sessions", "integer", ""), ("ga:users", "Users", "integer", ""),
            ("ga:pageviews", "Pageviews", "integer", ""), ("ga:bounceRate", "Bounce Rate", "percent", "")]),
    ]},
    "Datadog": {"Objects": [
        _e("logs", "Logs", [
            ("id", "Id", "string", "pk ro"), ("timestamp", "Timestamp", "datetime", "ts ro"),
            ("host", "Host", "string", ""), ("service", "Service", "string", ""),
            ("status", "Status", "string", "values=emergency|alert|critical|error|warn|info|debug"),
            ("message", "Message", "string", ""), ("http.status_code", "HTTP Status Code", "integer", "")]),
    ]},
    "Dynatrace": {"Objects": [
        _e("problems", "Problems", [
            ("problemId", "Problem Id", "string", "pk ro"), ("displayId", "Display Id", "string", "ro"),
            ("title", "Title", "string", ""),
            ("severityLevel", "Severity Level", "string",
             "values=AVAILABILITY|ERROR|PERFORMANCE|RESOURCE_CONTENTION|CUSTOM_ALERT"),
            ("status", "Status", "string", "values=OPEN|CLOSED"),
            ("affectedEntityCount", "Affected Entities", "integer", ""),
            ("startTime", "Start Time", "datetime", "ts ro"), ("endTime", "End Time", "datetime", "ro")]),
    ]},
    "Singular": {"Reports": [
        _e("reporting", "Campaign Reporting", [
            ("date", "Date", "date", ""), ("app", "App", "string", ""), ("source", "Source", "string", ""),
            ("os", "OS", "string", ""), ("adn_campaign_name", "Campaign Name", "string", ""),
            ("adn_cost", "Cost", "currency", ""), ("adn_impressions", "Impressions", "integer", ""),
            ("custom_installs", "Installs", "integer", "")]),
    ]},
    "Amplitude": {"Objects": [
        _e("events", "Events", [
            ("uuid", "UUID", "string", "pk ro"), ("event_time", "Event Time", "datetime", "ts ro"),
            ("event_type", "Event Type", "string", ""), ("user_id", "User Id", "string", ""),
            ("device_id", "Device Id", "string", ""), ("country", "Country", "string", ""),
            ("platform", "Platform", "string", ""), ("session_id", "Session Id", "long", "")]),
    ]},
    "Trendmicro": {"Objects": [
        _e("computers", "Computers", [
            ("ID", "ID", "integer", "pk ro"), ("hostName", "Host Name", "string", ""),
            ("displayName", "Display Name", "string", ""), ("platform", "Platform", "string", ""),
            ("policyID", "Policy ID", "integer", ""), ("lastIPUsed", "Last IP Used", "string", "ro"),
            ("lastAgentCommunication", "Last Agent Communication", "datetime", "ro")]),
    ]},
    "Infornexus": {"Objects": [
        _e("OrderDetail", "Order Detail", [
            ("orderUid", "Order UID", "string", "pk ro"), ("orderNumber", "Order Number", "string", ""),
            ("status", "Status", "string", ""), ("buyerParty", "Buyer", "string", ""),
            ("sellerParty", "Seller", "string", ""), ("totalAmount", "Total Amount", "double", ""),
            ("issueDate", "Issue Date", "date", ""),
            ("lastModifiedDate", "Last Modified Date", "datetime", "ts ro")]),
    ]},
    "Veeva": {"Objects": [
        _e("documents", "Documents", [
            ("id", "Id", "integer", "pk ro"), ("name__v", "Name", "string", ""),
            ("type__v", "Type", "string", ""), ("status__v", "Status", "string", ""),
            ("major_version_number__v", "Major Version", "integer", "ro"),
            ("created_date__v", "Created Date", "datetime", "ro"),
            ("modified_date__v", "Last Modified Date", "datetime", "ts ro")]),
    ]},
    "Pardot": {"Objects": [
        _e("prospects", "Prospects", [
            ("id", "Id", "integer", "pk ro"), ("email", "Email", "email", ""),
            ("first_name", "First Name", "string", ""), ("last_name", "Last Name", "string", ""),
            ("company", "Company", "string", ""), ("score", "Score", "integer", ""),
            ("created_at", "Created At", "datetime", "ro"), ("updated_at", "Updated At", "datetime", "ts ro")]),
    ]},
    "SAPOData": {"Services": [
        _e("/sap/opu/odata/sap/API_SALES_ORDER_SRV", "Sales Order (A2X)", [], child_group="EntitySets", children=[
            ("A_SalesOrder", "Sales Order Header", [
                ("SalesOrder", "Sales Order", "string", "pk ro"),
                ("SalesOrderType", "Sales Order Type", "string", ""),
                ("SoldToParty", "Sold-To Party", "string", ""),
                ("TotalNetAmount", "Net Value", "decimal", "ro"),
                ("TransactionCurrency", "Currency", "string", ""),
                ("CreationDate", "Created On", "datetime", "ro"),
                ("LastChangeDateTime", "Last Changed On", "datetime", "ts ro")]),
            ("A_SalesOrderItem", "Sales Order Item", [
                ("SalesOrder", "Sales Order", "string", "pk ro"),
                ("SalesOrderItem", "Item", "string", "pk ro"), ("Material", "Material", "string", ""),
                ("RequestedQuantity", "Requested Quantity", "decimal", ""),
                ("NetAmount", "Net Value", "decimal", "ro"),
                ("LastChangeDateTime", "Last Changed On", "datetime", "ts ro")]),
        ]),
        _e("/sap/opu/odata/sap/API_BUSINESS_PARTNER", "Business Partner (A2X)", [], child_group="EntitySets",
           children=[
               ("A_BusinessPartner", "Business Partner", [
                   ("BusinessPartner", "Business Partner", "string", "pk ro"),
                   ("BusinessPartnerFullName", "Full Name", "string", ""),
                   ("BusinessPartnerCategory", "Category", "string", "values=1|2|3"),
                   ("IsNaturalPerson", "Natural Person", "boolean", ""),
                   ("CreationDate", "Created On", "datetime", "ro"),
                   ("LastChangeDateTime", "Last Changed On", "datetime", "ts ro")]),
           ]),
    ]},
}

# -- names the catalog does not list -----------------------------------------------------------------
# The catalog is a slice of each SaaS's schema. Where the SaaS's entities are open-ended, a name it
# does not list may still be real; elsewhere such a name is most likely a typo, which the handle
# refuses (emu.add_entity adds an entity). [guess] which connectors are open and their conventions.
OPEN_CATALOGS: FrozenSet[str] = frozenset({"SAPOData"})  # any OData service of the SAP system
# Names of a SaaS's own custom objects: a regular expression (whole name) and how to say it.
CUSTOM_ENTITY_NAMES: Dict[str, Tuple[str, str]] = {
    # [doc: Salesforce] custom objects Foo__c, platform events __e, metadata types __mdt, ...
    "Salesforce": (r"\w+__\w+", "custom objects are named like Invoice__c"),
    # [doc: Veeva Vault] object names end in __v (standard), __c (custom), __sys (system)
    "Veeva": (r"\w+__\w+", "objects are named like product__v or custom__c"),
    # [doc: ServiceNow] custom tables start with u_, tables of scoped applications with x_
    "Servicenow": (r"[ux]_\w+", "custom tables are named like u_thing or x_scope_thing"),
    # [doc: Slack] every channel id is an entity under conversations
    "Slack": (r"conversations/\w+", "channels are named like conversations/C0123ABCD"),
}


def has_closed_catalog(connector_type: str) -> bool:
    """Whether a name the connector's catalog does not list is refused by the handle (unless it
    follows the connector's custom-object convention, :func:`follows_custom_convention`): the connector
    has a catalog here and its SaaS's entities are not open-ended (S3 buckets, custom connectors,
    SAP OData services and connectors with no catalog are open)."""
    return bool(builtin_entities(connector_type)) and connector_type not in OPEN_CATALOGS


def follows_custom_convention(connector_type: str, entity: str) -> bool:
    """Whether ``entity`` is named as the connector's SaaS names its custom objects."""
    convention = CUSTOM_ENTITY_NAMES.get(connector_type)
    return convention is not None and re.fullmatch(convention[0], entity) is not None


def custom_entity_convention(connector_type: str) -> Optional[str]:
    """How the connector names its SaaS's custom objects (for a message), or None."""
    convention = CUSTOM_ENTITY_NAMES.get(connector_type)
    return convention[1] if convention is not None else None


# -- building entities ------------------------------------------------------------------------------

def _raw_field(spec: RawField) -> Field:
    identifier, label, field_type, flags = spec
    head, _, values = flags.partition("values=")
    words = head.split()
    return Field(identifier=identifier, label=label, field_type=field_type, primary_key="pk" in words,
                 timestamp="ts" in words, read_only="ro" in words,
                 values=tuple(values.split("|")) if values else (), nullable="pk" not in words)


@lru_cache(maxsize=None)
def builtin_entities(connector_type: str) -> Tuple[Entity, ...]:
    """The catalogued entities of a connector, parents before their children, in table order
    (empty for connector types the installed model lacks or that have no catalog)."""
    if connector_type not in connector_types():
        return ()
    out: List[Entity] = []
    for group, entities in CATALOG.get(connector_type, {}).items():
        for raw in entities:
            fields = tuple(_raw_field(s) for s in raw["fields"])
            out.append(Entity(raw["name"], raw["label"], group, fields, None, bool(raw["children"])))
            for child in raw["children"]:
                name, label = child[0], child[1]
                child_fields = tuple(_raw_field(s) for s in child[2]) if len(child) > 2 else fields
                out.append(Entity(f"{raw['name']}/{name}", label, raw["child_group"] or group,
                                  child_fields, raw["name"], False))
    return tuple(out)


def merged(connector_type: str, added: Optional[Mapping[str, Entity]] = None) -> Dict[str, Entity]:
    """The connector's entities by name: the catalog's, overridden and extended by ``added``
    (entities a test added through the handle). A parent an added entity names is marked as
    having nested entities."""
    out: Dict[str, Entity] = {e.name: e for e in builtin_entities(connector_type)}
    if added:
        out.update(added)
        for entity in added.values():
            parent = out.get(entity.parent or "")
            if parent is not None and not parent.nested:
                out[parent.name] = Entity(parent.name, parent.label, parent.group, parent.fields,
                                          parent.parent, True)
    return out


# -- the handle's friendly form ------------------------------------------------------------------------

FieldSpec = Union[str, Mapping[str, Any]]
_KEYS = {
    "name": "identifier", "identifier": "identifier", "label": "label", "type": "field_type",
    "fieldType": "field_type", "field_type": "field_type",
    "primary_key": "primary_key", "isPrimaryKey": "primary_key", "pk": "primary_key",
    "timestamp": "timestamp", "isTimestampFieldForIncrementalQueries": "timestamp",
    "read_only": "read_only", "values": "values", "supportedValues": "values",
    "nullable": "nullable", "isNullable": "nullable", "description": "description",
}


def field_from_user(spec: FieldSpec) -> Field:
    """A field from the handle's friendly form: a name (a string field), or a dict with ``name``
    (or ``identifier``) and any of ``type`` (default ``"string"``), ``label``, ``primary_key``,
    ``timestamp``, ``read_only``, ``values``, ``nullable``, ``description`` (the API's member
    names ``fieldType``, ``isPrimaryKey``, ``supportedValues``... are accepted too)."""
    if isinstance(spec, str):
        return Field(identifier=spec, label=spec)
    if not isinstance(spec, Mapping):
        raise ValueError(f"a field is a name or a dict with 'name' and 'type', not {spec!r}")
    kwargs: Dict[str, Any] = {}
    for key, value in spec.items():
        target = _KEYS.get(key)
        if target is None:
            raise ValueError(f"unknown field key {key!r}; known: {', '.join(sorted(_KEYS))}")
        kwargs[target] = value
    if not kwargs.get("identifier"):
        raise ValueError(f"a field needs a 'name' (or 'identifier'): {dict(spec)!r}")
    identifier = str(kwargs["identifier"])
    if any(c.isspace() for c in identifier):
        raise ValueError(f"field name {identifier!r} must not contain whitespace (AppFlow's pattern \\S+)")
    kwargs["identifier"] = identifier
    kwargs.setdefault("label", identifier)
    for key in ("label", "field_type", "description"):  # text (a description may be None)
        value = kwargs.get(key, "")
        if not isinstance(value, str) and not (key == "description" and value is None):
            raise TypeError(f"field {identifier!r}: its {key} must be a string, got {type(value).__name__}: "
                            f"{value!r:.80}")
    kwargs["values"] = tuple(str(v) for v in kwargs.get("values") or ())
    for flag in ("primary_key", "timestamp", "read_only", "nullable"):
        if flag in kwargs:
            kwargs[flag] = bool(kwargs[flag])
    return Field(**kwargs)


def fields_from_user(fields: Union[Iterable[FieldSpec], Mapping[str, str]]) -> Tuple[Field, ...]:
    """Fields from a list of names/dicts, or from a ``{name: type}`` mapping."""
    if isinstance(fields, Mapping):
        specs: List[FieldSpec] = [{"name": k, "type": v} for k, v in fields.items()]
    elif isinstance(fields, (str, bytes)):
        raise ValueError("fields is a list of names or dicts (or a {name: type} dict), not a string")
    else:
        specs = list(fields)
    out = tuple(field_from_user(s) for s in specs)
    seen = set()
    for f in out:
        if f.identifier in seen:
            raise ValueError(f"field {f.identifier!r} is given twice")
        seen.add(f.identifier)
    return out
