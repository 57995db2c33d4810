"""One table of connector facts, read by the catalog operations *and* by flow validation.

What the model knows is derived from it, never typed again: which connectors can be sources or
destinations, have profiles or credentials, their operators and write operations, the data transfer
APIs their properties accept, the scheduling frequencies and trigger types that exist, the members
of their connector metadata. The facts the model lacks are small tables of data below, each marked
[doc] or [guess] (listed in docs/catalog.md): minimum schedule intervals, which sources offer Event
triggers, where each source may write, PrivateLink support, OAuth scopes, supported regions, API
versions. Answers (DescribeConnectors, DescribeConnector) and checks (CreateFlow, UpdateFlow) both
read :func:`facts`, so they cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Optional, Tuple

from appflow_emu.catalog.operators import VALUE_FILTER_OPERATORS
from appflow_emu.model.service import service_model

# [doc] AppFlow User Guide, "Schedule-triggered flows": the minimum interval per source connector.
MINUTE, HOUR, DAY = 60, 3600, 86400
MIN_SCHEDULE_INTERVAL: Dict[str, int] = {
    "S3": MINUTE, "Salesforce": MINUTE, "Pardot": MINUTE, "Servicenow": MINUTE, "Slack": MINUTE,
    "Zendesk": MINUTE, "Datadog": MINUTE, "Dynatrace": MINUTE, "Infornexus": MINUTE, "Veeva": MINUTE,
    "Marketo": HOUR, "Singular": HOUR, "Trendmicro": HOUR,
    "Amplitude": DAY, "Googleanalytics": DAY,
}
DEFAULT_MIN_SCHEDULE_INTERVAL = MINUTE  # [guess] SAPOData, CustomConnector

# [guess] The period each ScheduleFrequencyType value stands for. A source offers the frequencies
# no shorter than its minimum interval; a value not listed here (ONCE, or one a newer model adds)
# is offered by every source.
FREQUENCY_PERIOD: Dict[str, int] = {
    "BYMINUTE": MINUTE, "HOURLY": HOUR, "DAILY": DAY, "WEEKLY": 7 * DAY, "MONTHLY": 28 * DAY,
}

# [doc] Event-triggered flows are offered for Salesforce (change events); [guess] custom connectors
# declare their own trigger types, so they are allowed here. Every source offers the model's other
# trigger types (Scheduled, OnDemand).
EVENT_SOURCES: FrozenSet[str] = frozenset({"Salesforce", "CustomConnector"})
TRIGGER_TYPE_SOURCES: Dict[str, FrozenSet[str]] = {"Event": EVENT_SOURCES}

# [guess] Where each source may write (supportedDestinationConnectors). Storage, warehouses and
# custom connectors take every source; SaaS applications as destinations take files from S3, not
# another SaaS application; the AWS services take the sources their own documentation lists
# ([doc] Customer Profiles: Salesforce, Zendesk, Marketo, ServiceNow, S3). Entries the installed
# model does not have as destinations are dropped; "*" is every destination of the model.
EVERY_DESTINATION = "*"
_STORES = ("S3", "Redshift", "Snowflake", "Upsolver", "CustomConnector")
_LOOKOUT = _STORES + ("LookoutMetrics",)
SUPPORTED_DESTINATIONS: Dict[str, Tuple[str, ...]] = {
    "S3": _STORES + ("Salesforce", "Zendesk", "Marketo", "SAPOData", "EventBridge", "LookoutMetrics",
                     "Honeycode", "CustomerProfiles"),
    "Salesforce": _LOOKOUT + ("EventBridge", "Honeycode", "CustomerProfiles"),
    "Zendesk": _LOOKOUT + ("Honeycode", "CustomerProfiles"),
    "Marketo": _LOOKOUT + ("CustomerProfiles",),
    "Servicenow": _LOOKOUT + ("CustomerProfiles",),
    "Slack": _STORES + ("Honeycode",),
    "Amplitude": _LOOKOUT,
    "Dynatrace": _LOOKOUT,
    "Googleanalytics": _LOOKOUT,
    "Infornexus": _LOOKOUT,
    "Singular": _LOOKOUT,
    "Trendmicro": _LOOKOUT,
    "Veeva": _LOOKOUT,
    "Datadog": _STORES,
    "Pardot": _STORES,
    "SAPOData": _STORES,
    # [seen: AWS's captured DescribeConnector of a registered custom connector, in this order]
    "CustomConnector": ("S3", "CustomConnector", "Salesforce"),
}
DEFAULT_DESTINATIONS = _STORES  # [guess] a source this table does not know yet

# [guess] Connectors that can connect through AWS PrivateLink (isPrivateLinkEnabled).
PRIVATE_LINK: FrozenSet[str] = frozenset({
    "Salesforce", "Servicenow", "SAPOData", "Snowflake", "Datadog", "Dynatrace", "Infornexus", "Veeva",
})

# [guess] connectorMetadata values the model cannot give. Members whose items are a model enum
# (Salesforce dataTransferApis, oauth2GrantTypesSupported) are the whole enum, derived; members the
# installed model lacks are dropped.
CONNECTOR_METADATA: Dict[str, Dict[str, Tuple[str, ...]]] = {
    "Salesforce": {"oAuthScopes": ("api", "refresh_token")},
    "Zendesk": {"oAuthScopes": ("read", "write")},
    "Slack": {"oAuthScopes": ("channels:read", "channels:history", "groups:read", "groups:history",
                              "im:read", "im:history", "mpim:read", "mpim:history", "users:read")},
    "Googleanalytics": {"oAuthScopes": ("https://www.googleapis.com/auth/analytics.readonly",)},
    "Honeycode": {"oAuthScopes": ("honeycode:read", "honeycode:write")},
    "Snowflake": {"supportedRegions": (
        "us-east-1", "us-east-2", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-central-1",
        "ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
    )},
}

# [guess] supportedApiVersions of the built-in connectors that version their API.
SUPPORTED_API_VERSIONS: Dict[str, Tuple[str, ...]] = {"Salesforce": ("v58.0",)}
# [guess] supportedDataTransferTypes: built-in connectors move records.
DATA_TRANSFER_TYPES: Dict[str, Tuple[str, ...]] = {}
DEFAULT_DATA_TRANSFER_TYPES: Tuple[str, ...] = ("RECORD",)
# [guess] The DataTransferApiType of each data transfer API a connector's properties accept (the
# names come from the model, e.g. Salesforce's AUTOMATIC, BULKV2, REST_SYNC).
DATA_TRANSFER_API_TYPE: Dict[str, str] = {"AUTOMATIC": "AUTOMATIC", "BULKV2": "ASYNC", "REST_SYNC": "SYNC"}

# [guess] Sources that apply no filter in their own query: an S3 source reads every object under
# its prefix (so every record it reads counts as processed). Every other source applies the value
# filters of its operator enum (comparisons, BETWEEN, CONTAINS... as the model lists them per
# connector) and the incremental pull window at the source [seen: a Salesforce run whose date
# filter matches nothing reports recordsProcessed 0], so only what the source returns counts.
READS_EVERY_RECORD: FrozenSet[str] = frozenset({"S3"})


@dataclass(frozen=True)
class ConnectorFacts:
    connector_type: str  # the ConnectorType enum value, e.g. "Servicenow"
    source_member: Optional[str]  # member of SourceConnectorProperties, e.g. "ServiceNow"
    destination_member: Optional[str]
    profile_member: Optional[str]  # member of ConnectorProfileProperties
    credentials_member: Optional[str]
    operator_member: Optional[str]  # member of ConnectorOperator
    operators: Tuple[str, ...]  # supportedOperators: the model's enum for the connector
    write_operations: Tuple[str, ...]  # supportedWriteOperations: the destination's writeOperationType enum
    supported_destinations: Tuple[str, ...] = ()  # in the model's ConnectorType order; () unless a source
    scheduling_frequencies: Tuple[str, ...] = ()  # ScheduleFrequencyType values; () unless a source
    trigger_types: Tuple[str, ...] = ()  # TriggerType values; () unless a source
    private_link: bool = False
    api_versions: Tuple[str, ...] = ()
    data_transfer_types: Tuple[str, ...] = ()
    data_transfer_apis: Tuple[Tuple[str, Optional[str]], ...] = ()  # (Name, Type)
    # {ConnectorMetadata member: {member: [values]}}, or {} when the model has no member for the type.
    connector_metadata: Dict[str, Dict[str, Tuple[str, ...]]] = field(default_factory=dict, hash=False,
                                                                     compare=False)
    schedule_interval: Optional[int] = None  # a registered custom connector's own, from its frequencies

    @property
    def can_be_source(self) -> bool:
        return self.source_member is not None

    @property
    def can_be_destination(self) -> bool:
        return self.destination_member is not None

    @property
    def needs_profile(self) -> bool:
        return self.profile_member is not None

    @property
    def filter_pushdown(self) -> FrozenSet[str]:
        """The Filter operators this source applies in its own query (docs/fidelity.md lists them)."""
        if not self.can_be_source or self.connector_type in READS_EVERY_RECORD:
            return frozenset()
        return frozenset(self.operators) & VALUE_FILTER_OPERATORS

    @property
    def min_schedule_interval(self) -> int:
        if self.schedule_interval is not None:
            return self.schedule_interval
        return MIN_SCHEDULE_INTERVAL.get(self.connector_type, DEFAULT_MIN_SCHEDULE_INTERVAL)

    @property
    def upper_name(self) -> str:
        return self.connector_type.upper()

    def writes_to(self, destination_type: str) -> bool:
        """Whether a flow from this source may write to ``destination_type``."""
        return destination_type in self.supported_destinations


def _match(members: Iterable[str], connector_type: str) -> Optional[str]:
    """The model spells members differently from the enum (ServiceNow vs Servicenow)."""
    lowered = connector_type.lower()
    for name in members:
        if name.lower() == lowered:
            return name
    return None


def _enum(shape_name: str) -> Tuple[str, ...]:
    model = service_model()
    if shape_name not in model.shape_names:
        return ()
    return tuple(getattr(model.shape_for(shape_name), "enum", ()) or ())


def _item_enum(shape: Any) -> Tuple[str, ...]:
    """The enum of a list shape's items (or of the shape itself), else ()."""
    target = getattr(shape, "member", shape)
    return tuple(getattr(target, "enum", ()) or ())


@lru_cache(maxsize=None)
def connector_types() -> Tuple[str, ...]:
    return _enum("ConnectorType")


def _members(shape_name: str) -> Dict[str, Any]:
    model = service_model()
    if shape_name not in model.shape_names:
        return {}
    return dict(model.shape_for(shape_name).members)  # type: ignore[attr-defined]


def _destinations_of(source: str, destination_types: Tuple[str, ...]) -> Tuple[str, ...]:
    wanted = SUPPORTED_DESTINATIONS.get(source, DEFAULT_DESTINATIONS)
    if EVERY_DESTINATION in wanted:
        return destination_types
    if source == "CustomConnector":  # reported in the recorded order
        return tuple(t for t in wanted if t in destination_types)
    return tuple(t for t in destination_types if t in wanted)


def _frequencies(min_interval: int) -> Tuple[str, ...]:
    return tuple(f for f in _enum("ScheduleFrequencyType") if FREQUENCY_PERIOD.get(f, min_interval) >= min_interval)


def _triggers(connector_type: str) -> Tuple[str, ...]:
    return tuple(t for t in _enum("TriggerType")
                 if t not in TRIGGER_TYPE_SOURCES or connector_type in TRIGGER_TYPE_SOURCES[t])


def _metadata(connector_type: str) -> Dict[str, Dict[str, Tuple[str, ...]]]:
    members = _members("ConnectorMetadata")
    name = _match(members, connector_type)
    if name is None:
        return {}
    guesses = CONNECTOR_METADATA.get(connector_type, {})
    out: Dict[str, Tuple[str, ...]] = {}
    for member, shape in members[name].members.items():
        values = _item_enum(shape) or guesses.get(member, ())
        if values:
            out[member] = values
    return {name: out}


def _data_transfer_apis(*property_shapes: Any) -> Tuple[Tuple[str, Optional[str]], ...]:
    """The data transfer APIs the connector's source/destination properties accept (an enum member
    ``dataTransferApi`` in the model), typed by DATA_TRANSFER_API_TYPE."""
    names: Dict[str, None] = {}
    for shape in property_shapes:
        member = getattr(shape, "members", {}).get("dataTransferApi") if shape is not None else None
        for value in _item_enum(member) if member is not None else ():
            names[value] = None
    api_types = _enum("DataTransferApiType")
    return tuple((n, DATA_TRANSFER_API_TYPE[n] if DATA_TRANSFER_API_TYPE.get(n) in api_types else None)
                 for n in names)


@lru_cache(maxsize=None)
def facts_table() -> Dict[str, ConnectorFacts]:
    sources = _members("SourceConnectorProperties")
    destinations = _members("DestinationConnectorProperties")
    profiles = _members("ConnectorProfileProperties")
    credentials = _members("ConnectorProfileCredentials")
    operators = _members("ConnectorOperator")
    destination_types = tuple(t for t in connector_types() if _match(destinations, t) is not None)
    transfer_types = _enum("SupportedDataTransferType")
    table: Dict[str, ConnectorFacts] = {}
    for ct in connector_types():
        op_member = _match(operators, ct)
        op_enum = _item_enum(operators[op_member]) if op_member is not None else ()
        source_member = _match(sources, ct)
        dest_member = _match(destinations, ct)
        dest_shape = destinations[dest_member] if dest_member is not None else None
        writes: Tuple[str, ...] = ()
        if dest_shape is not None and "writeOperationType" in dest_shape.members:
            writes = _item_enum(dest_shape.members["writeOperationType"])
        is_source = source_member is not None
        min_interval = MIN_SCHEDULE_INTERVAL.get(ct, DEFAULT_MIN_SCHEDULE_INTERVAL)
        table[ct] = ConnectorFacts(
            connector_type=ct,
            source_member=source_member,
            destination_member=dest_member,
            profile_member=_match(profiles, ct),
            credentials_member=_match(credentials, ct),
            operator_member=op_member,
            operators=op_enum,
            write_operations=writes,
            supported_destinations=_destinations_of(ct, destination_types) if is_source else (),
            scheduling_frequencies=_frequencies(min_interval) if is_source else (),
            trigger_types=_triggers(ct) if is_source else (),
            private_link=ct in PRIVATE_LINK,
            api_versions=SUPPORTED_API_VERSIONS.get(ct, ()),
            data_transfer_types=tuple(t for t in DATA_TRANSFER_TYPES.get(ct, DEFAULT_DATA_TRANSFER_TYPES)
                                      if t in transfer_types),
            data_transfer_apis=_data_transfer_apis(sources.get(source_member or ""), dest_shape),
            connector_metadata=_metadata(ct),
        )
    return table


def facts(connector_type: str) -> ConnectorFacts:
    return facts_table()[connector_type]


def registered_connector_facts(configuration: Mapping[str, Any]) -> ConnectorFacts:
    """The facts of a custom connector registered with its Lambda, from what its
    DescribeConnectorConfiguration answer declared (AppFlow's ConnectorConfiguration members):
    its modes, operators, write operations, trigger types and scheduling frequencies replace the
    generic CustomConnector ones, so DescribeConnector and flow validation read the same facts. A
    list the connector left out keeps the generic facts' (the SDK's defaults are every value)."""
    base = facts("CustomConnector")
    modes = tuple(configuration.get("connectorModes") or ())
    is_source = "SOURCE" in modes
    frequencies = tuple(configuration.get("supportedSchedulingFrequencies") or base.scheduling_frequencies)
    periods = [FREQUENCY_PERIOD[f] for f in frequencies if f in FREQUENCY_PERIOD]
    return replace(
        base,
        source_member=base.source_member if is_source else None,
        destination_member=base.destination_member if "DESTINATION" in modes else None,
        operators=tuple(configuration.get("supportedOperators") or base.operators),
        write_operations=tuple(configuration.get("supportedWriteOperations") or base.write_operations)
        if "DESTINATION" in modes else (),
        supported_destinations=base.supported_destinations if is_source else (),
        scheduling_frequencies=frequencies if is_source else (),
        trigger_types=tuple(configuration.get("supportedTriggerTypes") or base.trigger_types) if is_source else (),
        api_versions=tuple(configuration.get("supportedApiVersions") or ()),
        schedule_interval=min(periods) if periods else None,
    )


# [doc]/[guess] The timestamp field incremental pulls use when the flow names none
# (incrementalPullConfig.datetimeTypeFieldName). ServiceNow's is documented; the rest follow each
# SaaS's "last modified" field.
DEFAULT_TIMESTAMP_FIELD: Dict[str, str] = {
    "Salesforce": "LastModifiedDate", "Servicenow": "sys_updated_on", "Zendesk": "updated_at",
    "Marketo": "updatedAt", "Slack": "ts", "Pardot": "updated_at", "Veeva": "modified_date__v",
    "SAPOData": "LastChangeDateTime",
    # [guess] the timestamp fields of the entity catalog (catalog/entities.py) for these sources
    "Datadog": "timestamp", "Dynatrace": "startTime", "Amplitude": "event_time", "Infornexus": "lastModifiedDate",
}
FALLBACK_TIMESTAMP_FIELD = "updated_at"


def normalize_connector_type(name: str) -> str:
    """The ConnectorType enum spelling of a connector name, whatever its case (ServiceNow -> Servicenow)."""
    lowered = name.lower()
    for ct in connector_types():
        if ct.lower() == lowered:
            return ct
    raise ValueError(f"unknown connector type {name!r}; known: {', '.join(connector_types())}")


# -- which entity a flow's source or destination names ---------------------------------------------

# The members of a connector's source/destination properties that name its entity, by connector:
# ``object`` (most SaaS applications, warehouses, EventBridge), ``objectPath`` (SAPOData),
# ``entityName`` (custom connectors); Customer Profiles names a domain and an object type.
ENTITY_MEMBERS = ("object", "objectPath", "entityName")


def connector_properties(config: Mapping[str, Any]) -> Dict[str, Any]:
    """The properties of a flow's ``sourceFlowConfig`` or ``destinationFlowConfigList`` item for
    its connector type (the member named like the type, in any case; else the only member)."""
    all_props = config.get("sourceConnectorProperties") or config.get("destinationConnectorProperties") or {}
    ctype = str(config.get("connectorType", ""))
    if ctype in all_props:
        return all_props[ctype] or {}
    for name, value in all_props.items():
        if name.lower() == ctype.lower():
            return value or {}
    if len(all_props) == 1:
        return next(iter(all_props.values())) or {}
    return {}


def entity_of(config: Mapping[str, Any]) -> str:
    """The entity a flow's source or destination config names ("" when it names none: S3)."""
    props = connector_properties(config)
    if "domainName" in props or "objectTypeName" in props:  # CustomerProfiles
        domain = props.get("domainName", "")
        type_name = props.get("objectTypeName")
        return f"{domain}/{type_name}" if type_name else str(domain)
    for name in ENTITY_MEMBERS:
        if props.get(name):
            return str(props[name])
    return ""
