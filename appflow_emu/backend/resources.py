"""The resources the backend keeps: plain dataclasses, one per AppFlow resource kind.

A resource's members are replaced when they change, never changed in place (a new tags dict, a
new definition on update_flow, a new result for an execution): answers encoded once per version
of their parts (``backend/handlers.encoded_once``) rely on it. The handle shows these records
read-only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple


@dataclass
class ConnectorProfile:
    name: str
    arn: str
    connector_type: str
    connection_mode: str
    properties: Dict[str, Any]
    credentials_arn: str
    created_at: float
    last_updated_at: float
    connector_label: Optional[str] = None
    private_state: Optional[Dict[str, Any]] = None
    # A custom connector profile's authentication type (OAUTH2, APIKEY, BASIC, CUSTOM). The
    # credentials themselves are a secret in Secrets Manager (``credentials_arn``), never here.
    authentication_type: Optional[str] = None


@dataclass
class Execution:
    execution_id: str
    status: str
    started_at: float
    last_updated_at: float
    result: Dict[str, Any] = field(default_factory=dict)
    data_pull_start: Optional[float] = None
    data_pull_end: Optional[float] = None
    trigger: str = "OnDemand"  # what started it: OnDemand, Scheduled or Event
    polls_left: int = 0  # describe polls it still shows InProgress for
    final_status: Optional[str] = None  # what it reports once the polls are used up
    final_result: Optional[Dict[str, Any]] = None
    records_written: int = 0  # what the destination took (a notification's num-of-records-filtered)
    catalog_details: Optional[List[Dict[str, Any]]] = None  # its Glue Data Catalog registration (MetadataCatalogDetail)


@dataclass
class Flow:
    name: str
    arn: str
    status: str
    trigger_config: Dict[str, Any]
    source: Dict[str, Any]
    destinations: List[Dict[str, Any]]
    tasks: List[Dict[str, Any]]
    kms_arn: str
    created_at: float
    last_updated_at: float
    created_by: str
    last_updated_by: str
    description: Optional[str] = None
    metadata_catalog_config: Optional[Dict[str, Any]] = None
    status_message: Optional[str] = None
    tags: Dict[str, str] = field(default_factory=dict)
    schema_version: int = 1
    # schedules: when the flow was last activated, the last tick materialised, the end of the
    # last successful incremental window, and the count of consecutive failed scheduled runs
    activated_at: Optional[float] = None
    last_tick: Optional[float] = None
    incremental_mark: Optional[float] = None
    consecutive_failures: int = 0
    source_label: Optional[str] = None  # custom connector labels, from the profiles
    destination_label: Optional[str] = None
    executions: List[Execution] = field(default_factory=list)  # oldest first, within the run history's retention
    records_dropped: int = 0  # runs dropped from the front of ``executions`` (past retention): pages' ordinals count them
    active: List[Execution] = field(default_factory=list)  # runs InProgress or CancelStarted
    # JSON text of parts of the flow's answers, encoded once per version (backend/handlers.encoded_once)
    json_cache: Dict[str, Tuple[Tuple[Any, ...], str]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def trigger_type(self) -> str:
        return str(self.trigger_config["triggerType"])

    @property
    def source_type(self) -> str:
        return str(self.source["connectorType"])

    @property
    def destination_type(self) -> str:
        return str(self.destinations[0]["connectorType"])

    def profile_names(self) -> List[str]:
        names = [self.source.get("connectorProfileName")]
        names += [d.get("connectorProfileName") for d in self.destinations]
        return [n for n in names if n]


@dataclass
class ConnectorRegistration:
    label: str
    arn: str
    description: Optional[str]
    provisioning_type: str
    provisioning_config: Dict[str, Any]
    registered_at: float
    version: int = 1
    # What the connector's Lambda described (DescribeConnectorConfiguration, in AppFlow's
    # ConnectorConfiguration members); None when no function answered its ARN at registration.
    configuration: Optional[Dict[str, Any]] = None
