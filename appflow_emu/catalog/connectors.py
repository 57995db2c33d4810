"""One table of connector facts, read by the catalog operations *and* by flow validation.

What the model knows (which connectors can be sources or destinations, have profiles or
credentials, their operators and write operations) is derived from it, never typed again; the
few facts the model lacks (trigger types, minimum schedule intervals) are in small tables below,
marked in docs/fidelity.md as documented or guessed.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, FrozenSet, List, Optional, Tuple

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

# [doc] Event-triggered flows are offered for Salesforce (change events); [guess] custom connectors
# declare their own trigger types, so they are allowed here.
EVENT_SOURCES: FrozenSet[str] = frozenset({"Salesforce", "CustomConnector"})

FILTER_OPERATORS: FrozenSet[str] = frozenset({
    "PROJECTION", "LESS_THAN", "GREATER_THAN", "CONTAINS", "BETWEEN", "LESS_THAN_OR_EQUAL_TO",
    "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO", "NOT_EQUAL_TO",
})
ARITHMETIC_OPERATORS: FrozenSet[str] = frozenset({"ADDITION", "MULTIPLICATION", "DIVISION", "SUBTRACTION"})
MASK_OPERATORS: FrozenSet[str] = frozenset({"MASK_ALL", "MASK_FIRST_N", "MASK_LAST_N"})
VALIDATE_OPERATORS: FrozenSet[str] = frozenset({
    "VALIDATE_NON_NULL", "VALIDATE_NON_ZERO", "VALIDATE_NON_NEGATIVE", "VALIDATE_NUMERIC",
})
# Which operators each task type takes. Task types not listed take any operator of the source.
TASK_OPERATORS: Dict[str, FrozenSet[str]] = {
    "Filter": FILTER_OPERATORS,
    "Arithmetic": ARITHMETIC_OPERATORS,
    "Mask": MASK_OPERATORS,
    "Validate": VALIDATE_OPERATORS,
}


@dataclass(frozen=True)
class ConnectorFacts:
    connector_type: str  # the ConnectorType enum value, e.g. "Servicenow"
    source_member: Optional[str]  # member of SourceConnectorProperties, e.g. "ServiceNow"
    destination_member: Optional[str]
    profile_member: Optional[str]  # member of ConnectorProfileProperties
    credentials_member: Optional[str]
    operator_member: Optional[str]  # member of ConnectorOperator
    operators: Tuple[str, ...]
    write_operations: Tuple[str, ...]

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
    def trigger_types(self) -> List[str]:
        if not self.can_be_source:
            return []
        types = ["Scheduled", "OnDemand"]
        if self.connector_type in EVENT_SOURCES:
            types.insert(0, "Event")
        return types

    @property
    def min_schedule_interval(self) -> int:
        return MIN_SCHEDULE_INTERVAL.get(self.connector_type, DEFAULT_MIN_SCHEDULE_INTERVAL)

    @property
    def upper_name(self) -> str:
        return self.connector_type.upper()


def _match(members: Dict[str, object], connector_type: str) -> Optional[str]:
    """The model spells members differently from the enum (ServiceNow vs Servicenow)."""
    lowered = connector_type.lower()
    for name in members:
        if name.lower() == lowered:
            return name
    return None


@lru_cache(maxsize=None)
def connector_types() -> Tuple[str, ...]:
    return tuple(service_model().shape_for("ConnectorType").enum)  # type: ignore[attr-defined]


def _members(shape_name: str) -> Dict[str, object]:
    model = service_model()
    if shape_name not in model.shape_names:
        return {}
    return dict(model.shape_for(shape_name).members)  # type: ignore[attr-defined]


@lru_cache(maxsize=None)
def facts_table() -> Dict[str, ConnectorFacts]:
    sources = _members("SourceConnectorProperties")
    destinations = _members("DestinationConnectorProperties")
    profiles = _members("ConnectorProfileProperties")
    credentials = _members("ConnectorProfileCredentials")
    operators = _members("ConnectorOperator")
    table: Dict[str, ConnectorFacts] = {}
    for ct in connector_types():
        op_member = _match(operators, ct)
        op_enum: Tuple[str, ...] = ()
        if op_member is not None:
            op_enum = tuple(getattr(operators[op_member], "enum", ()) or ())
        dest_member = _match(destinations, ct)
        writes: Tuple[str, ...] = ()
        if dest_member is not None:
            dest_shape = destinations[dest_member]
            if "writeOperationType" in getattr(dest_shape, "members", {}):
                writes = tuple(dest_shape.members["writeOperationType"].enum)  # type: ignore[attr-defined]
        table[ct] = ConnectorFacts(
            connector_type=ct,
            source_member=_match(sources, ct),
            destination_member=dest_member,
            profile_member=_match(profiles, ct),
            credentials_member=_match(credentials, ct),
            operator_member=op_member,
            operators=op_enum,
            write_operations=writes,
        )
    return table


def facts(connector_type: str) -> ConnectorFacts:
    return facts_table()[connector_type]


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
