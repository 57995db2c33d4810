"""A run's plan, and what a run reports: the simulator's vocabulary.

The backend builds a :class:`RunPlan` before the run starts: the flow's configs, its compiled
tasks, the incremental window, the object store, the data plane scopes, the plugged-in custom
connector implementations, the record-failure rule a test armed and any failure decided in
advance. The run reads nothing else; in particular it never reaches back into control-plane state
(flows, profiles, registrations).

A run streams records (plain dicts) from a source, through the compiled tasks, into a sink:

    sources.read(plan, tally) -> Iterator[Record]     (simulator/sources.py)
    plan.tasks(records) -> Iterator[Record]           (simulator/tasks.py)
    sink_for(plan.destination).write(plan, records)   (simulator/sinks.py)

``RunFailure`` ends the run in Error with its message (DropDataset, a missing bucket, a record
that cannot be converted when AppFlow fails the run, the user's callback failing); ``RecordFailure``
fails one record, which the sink counts in ``putFailuresCount`` (and writes to the error bucket
when configured). A neighbour that refuses a call the run makes (S3 denying ``PutObject`` under a
bucket policy...) raises :class:`~appflow_emu.aws.moto.NeighbourRefused` from its port; the engine
ends the run in Error with :func:`refusal_text`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from appflow_emu.aws.moto import NeighbourRefused
from appflow_emu.model.errors import callable_name

Record = Dict[str, Any]
Scope = Tuple[str, str, Optional[str]]  # (account, region, profile or None): see dataplane.py


class RunFailure(Exception):
    """Ends the run in Error; the message becomes errorInfo.executionMessage."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RecordFailure(Exception):
    """One record could not be converted or written."""

    def __init__(self, message: str, record: Optional[Record] = None) -> None:
        super().__init__(message)
        self.message = message
        self.record = record


_S3_WRITES = frozenset({"PutObject", "DeleteObject", "CreateBucket"})


def refusal_text(refused: NeighbourRefused) -> str:
    """A run's executionMessage when a neighbour refused one of its calls. [guess: AppFlow's exact
    wording is not published; it names the bucket and passes S3's error code and message on, in the
    form of the emulator's other S3 messages (``destination_bucket_missing_text``)]"""
    if refused.service == "S3":
        bucket = refused.resource.split("/", 1)[0]
        verb = "write to" if refused.operation in _S3_WRITES else "read from"
        return (f"Amazon AppFlow could not {verb} the S3 bucket {bucket}, S3 error {refused.code}. "
                f"{refused.message}")
    return (f"Amazon AppFlow could not complete {refused.service} {refused.operation}, error {refused.code}. "
            f"{refused.message}")


def callback_failure(what: str, fn: Any, error: BaseException) -> RunFailure:
    """The user's own code failed inside a run: the run ends in Error with a message that names
    the callback (``what``, e.g. ``The fail_records predicate of flow f``) and the exception."""
    return RunFailure(f"{what} ({callable_name(fn)}) raised {type(error).__name__}: {error}")


@dataclass(frozen=True)
class ConnectorBinding:
    """A custom connector label and the Python object plugged in for it."""

    label: str
    implementation: Any


def accept_record(record: Record) -> Optional[str]:
    """The record-failure rule when a test armed none: every record is accepted."""
    return None


@dataclass
class RunPlan:
    """Everything one run needs, decided before it starts (see the module docstring)."""

    flow_name: str
    execution_id: str
    account_id: str
    region: str
    started_at: float  # epoch seconds
    schema_version: int  # the flow's schemaVersion (S3 pathPrefixHierarchy SCHEMA_VERSION)
    source: Dict[str, Any]  # the flow's sourceFlowConfig
    destination: Dict[str, Any]  # the flow's destinationFlowConfigList[0]
    task_list: List[Dict[str, Any]]  # the flow's tasks, as the API took them
    tasks: Any  # the compiled tasks (simulator.tasks.CompiledTasks); None when ``failure`` is set
    data: Any  # the emulator's DataPlane
    store: Any  # the ObjectStore S3 sources and destinations use
    source_scope: Scope  # where the source's SaaS data lives in the data plane
    destination_scope: Scope
    timestamp_field: str  # the field incremental pulls filter on
    window_start: Optional[float] = None  # incremental pulls: records with timestamp in [start, end)
    window_end: Optional[float] = None
    changed: Optional[List[Record]] = None  # an event-triggered run: the records that changed
    failure: Optional[str] = None  # the run ends in Error with this message before it reads anything
    fail_record: Callable[[Record], Optional[str]] = accept_record  # a message for records that must fail
    source_connector: Optional[ConnectorBinding] = None  # a plugged-in custom connector source
    destination_connector: Optional[ConnectorBinding] = None
    # a custom connector on the Lambda protocol (simulator/lambda_protocol.LambdaConnector)
    source_lambda: Any = None
    destination_lambda: Any = None


@dataclass
class Tally:
    """What a source has read so far (the run's recordsProcessed and bytesProcessed)."""

    records_read: int = 0
    bytes_read: int = 0


@dataclass
class SinkResult:
    records_written: int = 0
    bytes_written: int = 0
    put_failures: int = 0
    failure_messages: List[str] = field(default_factory=list)
    delivered: List[Record] = field(default_factory=list)  # what the destination received
    objects: List[str] = field(default_factory=list)  # keys written (S3-like destinations)
    # S3-like destinations keep no copy of the records (memory stays flat as data grows): what
    # they delivered is read back from these objects when a test asks for it.
    object_bucket: Optional[str] = None
    object_format: Optional[str] = None
