"""The simulator's shared vocabulary: records, run context, results and the two kinds of failure.

A run streams records (plain dicts) from a source, through a compiled task list, into a sink:

    source.read(ctx) -> Iterator[Record]          (simulator/sources.py)
    compile_tasks(tasks, source_type) -> Transform (simulator/tasks.py)
    sink.write(ctx, records) -> SinkResult          (simulator/sinks.py)

``RunFailure`` ends the run in Error with its message (DropDataset, a missing bucket, a record
that cannot be converted when AppFlow fails the run); ``RecordFailure`` fails one record, which
the sink counts in ``putFailuresCount`` (and writes to the error bucket when configured).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

Record = Dict[str, Any]


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


@dataclass
class RunContext:
    """What a source and a sink need to know about the run."""

    flow_name: str
    execution_id: str
    account_id: str
    region: str
    started_at: float  # epoch seconds
    source: Dict[str, Any]  # the flow's sourceFlowConfig
    destination: Dict[str, Any]  # the flow's destinationFlowConfigList[0]
    data: Any  # the emulator's DataPlane (datasets, object store, delivered records)
    window_start: Optional[float] = None  # incremental pulls: records with timestamp in [start, end)
    window_end: Optional[float] = None
    bytes_read: int = 0  # sources add what they read
    records_read: int = 0
    schema_version: int = 1  # the flow's schemaVersion (S3 pathPrefixHierarchy SCHEMA_VERSION)
    emulator: Any = None  # the Emulator running it (profiles, custom connector implementations)


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


Transform = Callable[[Iterable[Record]], Iterator[Record]]
