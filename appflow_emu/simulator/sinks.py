"""Destinations: where a run's records go.

``sink_for(destination)`` takes a flow's ``destinationFlowConfigList[0]`` as the AppFlow API takes
it and returns a :class:`Sink`; ``sink.write(plan, records)`` consumes the record stream and
returns a :class:`~appflow_emu.simulator.plan.SinkResult`.

- **S3, Upsolver**: files in the object store (moto's S3 when active), laid out as AppFlow does
  (see ``S3Sink`` and docs/simulator.md); CSV, JSON lines or Parquet.
- **Salesforce, Zendesk, Marketo, SAPOData, CustomConnector, Honeycode, CustomerProfiles** (and
  any other SaaS type): INSERT / UPSERT / UPDATE / DELETE (``simulator/writes.py``) against the
  emulator's dataset for the object, the same list sources read; failed records are counted,
  optionally written to the error bucket, and ``failOnFirstDestinationError`` ends the run.
- **Redshift, Snowflake**: rows staged as CSV in the intermediate bucket, then appended to the table.
- **EventBridge**: one event per record; **LookoutMetrics**: the records.

Streaming: S3 files are uploaded as they fill, so a sink holds at most the output of the files it
has open, as encoded bytes (``simulator/formats.py``), handed to the object store without a copy
(plus ``delivered``, the records the destination received, which the handle reads).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Optional

from appflow_emu.catalog.connectors import connector_properties, entity_of
from appflow_emu.model.errors import destination_bucket_missing_text
from appflow_emu.simulator import custom_connectors, lambda_connector_runs
from appflow_emu.simulator.formats import FileWriter, JsonLinesWriter, writer_for
from appflow_emu.simulator.plan import Record, RunFailure, RunPlan, SinkResult
from appflow_emu.simulator.values import json_line, to_text
from appflow_emu.simulator.writes import DatasetWriter

RECORDS_PER_FILE = 1000  # aggregationType None: a new file every this many records [guess]
MB = 1024 * 1024
EVENT_MAX_BYTES = 256 * 1024  # EventBridge's PutEvents entry limit [doc]


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def _bucket_missing(what: str, bucket: str) -> RunFailure:
    return RunFailure(destination_bucket_missing_text(what, bucket))


class Sink:
    """Consumes a run's records."""

    connector_type = ""

    def __init__(self, destination: Dict[str, Any]) -> None:
        self.destination = destination
        self.connector_type = destination.get("connectorType", "")
        self.props = connector_properties(destination)

    def write(self, plan: RunPlan, records: Iterable[Record]) -> SinkResult:
        raise NotImplementedError


# -- failed records ------------------------------------------------------------------------------

class FailureLog:
    """Counts failed records, writes them to the error bucket, fails the run when asked to.

    ``errorHandlingConfig``: ``failOnFirstDestinationError`` ends the run at the first failure
    (records written before it stay); ``bucketName``/``bucketPrefix`` receive the failed records as
    JSON lines ``{"errorMessage": ..., "record": {...}}`` in one object
    ``{bucketPrefix}/{flowName}/{executionId}/errors`` [guess: AppFlow's exact layout].
    """

    def __init__(self, plan: RunPlan, config: Optional[Dict[str, Any]], result: SinkResult,
                 what: str) -> None:
        config = config or {}
        self.plan = plan
        self.result = result
        self.what = what
        self.fail_fast = bool(config.get("failOnFirstDestinationError"))
        self.bucket: Optional[str] = config.get("bucketName") or None
        self.prefix: str = config.get("bucketPrefix") or ""
        self._writer: Optional[JsonLinesWriter] = None
        self.store = None
        if self.bucket:
            self.store = plan.store
            if not self.store.bucket_exists(self.bucket):
                raise _bucket_missing("The error handling", self.bucket)

    def record(self, record: Record, message: str) -> None:
        self.result.put_failures += 1
        if len(self.result.failure_messages) < 100:
            self.result.failure_messages.append(message)
        if self.bucket:
            if self._writer is None:
                self._writer = JsonLinesWriter()
            self._writer.add({"errorMessage": message, "record": record})
        if self.fail_fast:
            self.flush()
            raise RunFailure(f"{self.what}: {message} (failOnFirstDestinationError is set; "
                             f"{self.result.records_written} records were written before it)")

    @property
    def key(self) -> str:
        return _join(self.prefix, self.plan.flow_name, self.plan.execution_id, "errors")

    def flush(self) -> None:
        if self._writer is None or self.store is None or not self.bucket:
            return
        body = self._writer.finish()
        self._writer = None
        self.store.put(self.bucket, self.key, body)


def _attach(error: RunFailure, result: SinkResult) -> RunFailure:
    """A run failure carries what was written before it (``error.result``) for the engine."""
    error.result = result  # type: ignore[attr-defined]
    return error


# -- S3 and Upsolver -------------------------------------------------------------------------------

_TIME_FOLDERS = {"YEAR": "%Y", "MONTH": "%Y/%m", "DAY": "%Y/%m/%d", "HOUR": "%Y/%m/%d/%H",
                 "MINUTE": "%Y/%m/%d/%H/%M"}
_TIME_NAMES = {"YEAR": "%Y", "MONTH": "%Y-%m", "DAY": "%Y-%m-%d", "HOUR": "%Y-%m-%dT%H",
               "MINUTE": "%Y-%m-%dT%H:%M"}


def partition_value(value: Any) -> str:
    """A partition folder's value: the value as text; None is ``null``; ``%`` and ``/`` escaped."""
    text = to_text(value)
    if text is None:
        return "null"
    return text.replace("%", "%25").replace("/", "%2F")


class _OpenFile:
    __slots__ = ("folder", "writer", "index")

    def __init__(self, folder: str, writer: FileWriter, index: int) -> None:
        self.folder = folder
        self.writer = writer
        self.index = index


class S3Sink(Sink):
    """Files in ``bucketName``:

    ``{bucketPrefix}/{flowName}/[schemaVersion_N/][time folders/][executionId/][Field=value/...]{name}``
    [doc: the user guide's example tree, ``example-flow/schemaVersion_1/<executionId>/Account Rating=Warm/``]

    - time folders (prefixType PATH or PATH_AND_FILENAME, with prefixFormat): the run's UTC start
      time, ``2024`` / ``2024/06`` / ``2024/06/01`` / ``2024/06/01/13`` / ``2024/06/01/13/05``;
    - ``schemaVersion_N`` when pathPrefixHierarchy holds SCHEMA_VERSION;
    - the execution id folder unless pathPrefixHierarchy is given without EXECUTION_ID;
    - ``Field=value`` folders for the flow's partition keys, below the execution id folder;
    - file names: ``part-00000``, ``part-00001``... in the execution id folder; outside it, and
      with prefixType FILENAME or PATH_AND_FILENAME, ``{executionId}[-{time}]-00000`` where time is
      ``2024-06-01T13:05`` cut to prefixFormat. No extension.

    Aggregation: ``None`` starts a new file every 1000 records; ``SingleFile`` writes one file per
    partition folder; ``targetFileSize`` (MB) starts a new file once a file reaches that size.
    fileType CSV / JSON (the default) / PARQUET.
    """

    def __init__(self, destination: Dict[str, Any]) -> None:
        super().__init__(destination)
        self.bucket: str = self.props.get("bucketName", "")
        self.prefix: str = self.props.get("bucketPrefix") or ""
        fmt = self.props.get("s3OutputFormatConfig") or {}
        self.file_type: str = (fmt.get("fileType") or "JSON").upper()
        self.preserve_types = bool(fmt.get("preserveSourceDataTyping", False))
        prefix_config = fmt.get("prefixConfig") or {}
        self.prefix_type: Optional[str] = prefix_config.get("prefixType")
        self.prefix_format: Optional[str] = prefix_config.get("prefixFormat")
        self.hierarchy: Optional[List[str]] = prefix_config.get("pathPrefixHierarchy")
        aggregation = fmt.get("aggregationConfig") or {}
        self.aggregation: str = aggregation.get("aggregationType") or "None"
        size = aggregation.get("targetFileSize")
        self.target_bytes: Optional[int] = int(size) * MB if size else None

    # -- layout ---------------------------------------------------------------------------------
    def _time(self, plan: RunPlan, table: Dict[str, str]) -> str:
        fmt = table.get(self.prefix_format or "")
        if not fmt:
            return ""
        return datetime.fromtimestamp(plan.started_at, tz=timezone.utc).strftime(fmt)

    def base_folder(self, plan: RunPlan) -> str:
        parts = [self.prefix, plan.flow_name]
        if self.hierarchy and "SCHEMA_VERSION" in self.hierarchy:
            parts.append(f"schemaVersion_{plan.schema_version}")
        if self.prefix_type in ("PATH", "PATH_AND_FILENAME"):
            parts.append(self._time(plan, _TIME_FOLDERS))
        return _join(*parts)

    @property
    def execution_folder(self) -> bool:
        return not self.hierarchy or "EXECUTION_ID" in self.hierarchy

    def file_stem(self, plan: RunPlan) -> str:
        if self.prefix_type in ("FILENAME", "PATH_AND_FILENAME"):
            stamp = self._time(plan, _TIME_NAMES)
            return f"{plan.execution_id}-{stamp}" if stamp else plan.execution_id
        return "part" if self.execution_folder else plan.execution_id

    def _full(self, writer: FileWriter) -> bool:
        if self.target_bytes is not None:
            return writer.size >= self.target_bytes
        if self.aggregation == "SingleFile":
            return False
        return writer.records >= RECORDS_PER_FILE

    # -- writing --------------------------------------------------------------------------------
    def write(self, plan: RunPlan, records: Iterable[Record]) -> SinkResult:
        result = SinkResult()
        store = plan.store
        if not self.bucket or not store.bucket_exists(self.bucket):
            raise _bucket_missing("The destination", self.bucket)
        writer_for(self.file_type, self.preserve_types)  # fails now (pyarrow missing), not mid-run
        base = self.base_folder(plan)
        stem = self.file_stem(plan)
        keys = list(plan.tasks.partition_keys) if plan.tasks is not None else []
        # A record's partition: its folder values joined by "/" (escaped in the values), a key
        # that needs no tuple per record (CPython keeps up to 2000 freed tuples of a size).
        open_files: Dict[str, _OpenFile] = {}
        next_index: Dict[str, int] = {}
        first_key = keys[0] if len(keys) == 1 else None

        def flush(handle: _OpenFile) -> None:
            body = handle.writer.finish()
            key = _join(handle.folder, f"{stem}-{handle.index:05d}")
            store.put(self.bucket, key, body)
            result.bytes_written += len(body)
            result.objects.append(key)

        fail = plan.fail_record
        failures = FailureLog(plan, None, result, f"Failed to write a record to s3://{self.bucket}")
        try:
            for record in records:
                message = fail(record)
                if message is not None:
                    failures.record(record, message)
                    continue
                if first_key is not None:
                    values = partition_value(record.get(first_key))
                elif keys:
                    values = "/".join([partition_value(record.get(k)) for k in keys])
                else:
                    values = ""
                handle = open_files.get(values)
                if handle is None:
                    # [doc: "Partitioning and aggregating"] .../<executionId>/<field>=<value>/
                    folder_parts = [base] + ([plan.execution_id] if self.execution_folder else [])
                    folder_parts += [f"{k}={v}" for k, v in zip(keys, values.split("/"))]
                    index = next_index.get(values, 0)
                    next_index[values] = index + 1
                    handle = open_files[values] = _OpenFile(
                        _join(*folder_parts), writer_for(self.file_type, self.preserve_types), index)
                handle.writer.add(record)
                result.records_written += 1
                if self._full(handle.writer):
                    flush(handle)
                    del open_files[values]
            for handle in open_files.values():
                flush(handle)
        except RunFailure as e:
            raise _attach(e, result) from None
        result.objects.sort()
        result.object_bucket = self.bucket
        result.object_format = self.file_type
        return result


# -- SaaS applications -----------------------------------------------------------------------------

class DatasetSink(Sink):
    """Writes into the data plane's dataset for the destination's entity, as seen through its
    profile (``plan.destination_scope``), with the write operation's semantics (simulator/writes.py).
    UPSERT, UPDATE and DELETE need idFieldNames, else the run fails."""

    def __init__(self, destination: Dict[str, Any]) -> None:
        super().__init__(destination)
        self.entity = entity_of(destination)
        self.operation: str = (self.props.get("writeOperationType") or "INSERT").upper()
        self.id_fields: List[str] = list(self.props.get("idFieldNames") or [])

    def _label(self) -> str:
        return f"{self.connector_type} {self.entity}".strip()

    def _check_ids(self) -> None:
        if self.operation != "INSERT" and not self.id_fields:
            raise RunFailure(f"Write operation {self.operation} to {self._label()} needs idFieldNames "
                             f"(the fields that identify the records to {self.operation.lower()})")

    def write(self, plan: RunPlan, records: Iterable[Record]) -> SinkResult:
        result = SinkResult()
        self._check_ids()
        failures = FailureLog(plan, self.props.get("errorHandlingConfig"), result,
                              f"Failed to write a record to {self._label()}")
        dataset: List[Record] = plan.data.dataset(self.connector_type, self.entity, plan.destination_scope)
        writer = DatasetWriter(dataset, self.entity, self.operation, self.id_fields)
        fail = plan.fail_record
        try:
            for record in records:
                message = fail(record)
                if message is None:
                    message = writer.apply(record)
                if message is not None:
                    failures.record(record, message)
                    continue
                result.records_written += 1
                result.bytes_written += len(json_line(record)) - 1
                result.delivered.append(dict(record))
        except RunFailure as e:
            raise _attach(e, result) from None
        finally:
            writer.finish()
            failures.flush()
        return result


class CustomConnectorSink(DatasetSink):
    """A custom connector destination: through the Python implementation plugged in for the
    profile's label (``emu.register_connector_implementation``), whose ``write_records`` takes the
    records in batches and answers per record; failed records are counted (and go to the error
    bucket) as for any SaaS destination. With nothing plugged in: the ``CustomConnector`` datasets."""

    def write(self, plan: RunPlan, records: Iterable[Record]) -> SinkResult:
        if plan.destination_lambda is not None:
            return self._write_lambda(plan, records)
        bound = plan.destination_connector
        if bound is None:
            return super().write(plan, records)
        result = SinkResult()
        self._check_ids()
        failures = FailureLog(plan, self.props.get("errorHandlingConfig"), result,
                              f"Failed to write a record to {self._label()}")
        # One record a call when the first failure must stop the run, so nothing after it is written.
        size = 1 if failures.fail_fast else custom_connectors.WRITE_BATCH
        batch: List[Record] = []

        def flush() -> None:
            answers = custom_connectors.write_batch(bound, self.entity, self.operation, batch, self.id_fields)
            pending = list(zip(batch, answers))
            batch.clear()
            for record, message in pending:
                if message is not None:
                    failures.record(record, message)
                    continue
                result.records_written += 1
                result.bytes_written += len(json_line(record)) - 1
                result.delivered.append(dict(record))

        fail = plan.fail_record
        try:
            for record in records:
                message = fail(record)
                if message is not None:
                    if batch:
                        flush()
                    failures.record(record, message)
                    continue
                batch.append(record)
                if len(batch) >= size:
                    flush()
            if batch:
                flush()
        except RunFailure as e:
            raise _attach(e, result) from None
        finally:
            failures.flush()
        return result


    def _write_lambda(self, plan: RunPlan, records: Iterable[Record]) -> SinkResult:
        """Through a custom connector on the Lambda protocol (WriteDataRequest batches)."""
        result = SinkResult()
        self._check_ids()
        failures = FailureLog(plan, self.props.get("errorHandlingConfig"), result,
                              f"Failed to write a record to {self._label()}")
        fail = plan.fail_record

        def flush(batch: List[Record], texts: List[str]) -> None:
            answers = writer.write(texts)
            for record, text, message in zip(batch, texts, answers):
                if message is not None:
                    failures.record(record, message)
                    continue
                result.records_written += 1
                result.bytes_written += len(text.encode("utf-8"))
                result.delivered.append(dict(record))

        def passing() -> Iterable[Record]:
            for record in records:
                message = fail(record)
                if message is not None:
                    failures.record(record, message)
                    continue
                yield record

        try:
            writer = lambda_connector_runs.LambdaWriter(plan, failures.fail_fast)
            writer.batches(passing(), flush)
        except RunFailure as e:
            raise _attach(e, result) from None
        finally:
            failures.flush()
        return result


# -- warehouses ------------------------------------------------------------------------------------

class WarehouseSink(Sink):
    """Redshift and Snowflake: AppFlow stages the rows in ``intermediateBucketName`` (under
    ``bucketPrefix``) and copies them into the table. Here: one CSV object
    ``{bucketPrefix}/{flowName}/{executionId}/part-00000`` (CSV with a header row), and the rows
    appended to the data plane's table (``emu.warehouse_rows(profile, table)``)."""

    def __init__(self, destination: Dict[str, Any]) -> None:
        super().__init__(destination)
        self.table_name: str = self.props.get("object", "")
        self.bucket: str = self.props.get("intermediateBucketName", "")
        self.prefix: str = self.props.get("bucketPrefix") or ""

    def write(self, plan: RunPlan, records: Iterable[Record]) -> SinkResult:
        result = SinkResult()
        store = plan.store
        if not self.bucket or not store.bucket_exists(self.bucket):
            raise _bucket_missing(f"The {self.connector_type} intermediate", self.bucket)
        failures = FailureLog(plan, self.props.get("errorHandlingConfig"), result,
                              f"Failed to load a row into {self.connector_type} table {self.table_name}")
        table: List[Record] = plan.data.table(self.connector_type, plan.destination_scope, self.table_name)
        writer = writer_for("CSV")
        fail = plan.fail_record
        try:
            for record in records:
                message = fail(record)
                if message is not None:
                    failures.record(record, message)
                    continue
                writer.add(record)
                table.append(dict(record))
                result.records_written += 1
                result.delivered.append(dict(record))
        except RunFailure as e:
            raise _attach(e, result) from None
        finally:
            failures.flush()
            if writer.records:
                body = writer.finish()
                key = _join(self.prefix, plan.flow_name, plan.execution_id, "part-00000")
                store.put(self.bucket, key, body)
                result.bytes_written += len(body)
                result.objects.append(key)
        return result


# -- events ----------------------------------------------------------------------------------------

class EventBridgeSink(Sink):
    """One event per record, in the account and region's events (``emu.events()``):
    ``{"source": <object, the partner event source>, "detail-type": "<source type> <source
    object>", "detail": record}`` [guess: AppFlow's detail-type]. An event over 256 KB fails."""

    def write(self, plan: RunPlan, records: Iterable[Record]) -> SinkResult:
        result = SinkResult()
        source_name: str = self.props.get("object", "")
        detail_type = f"{plan.source.get('connectorType', 'AppFlow')} {entity_of(plan.source)}".strip()
        failures = FailureLog(plan, self.props.get("errorHandlingConfig"), result,
                              f"Failed to put an event to {source_name}")
        events: List[Dict[str, Any]] = plan.data.events(plan.account_id, plan.region)
        fail = plan.fail_record
        try:
            for record in records:
                message = fail(record)
                size = len(json_line(record)) - 1
                if message is None and size > EVENT_MAX_BYTES:
                    message = f"Event size {size} bytes exceeds the EventBridge limit of {EVENT_MAX_BYTES} bytes"
                if message is not None:
                    failures.record(record, message)
                    continue
                event = {"source": source_name, "detail-type": detail_type, "detail": dict(record)}
                events.append(event)
                result.records_written += 1
                result.bytes_written += size
                result.delivered.append(dict(record))
        except RunFailure as e:
            raise _attach(e, result) from None
        finally:
            failures.flush()
        return result


class LookoutMetricsSink(Sink):
    """Records appended to the account and region's Lookout for Metrics records (``emu.lookout_records()``)."""

    def write(self, plan: RunPlan, records: Iterable[Record]) -> SinkResult:
        result = SinkResult()
        lookout: List[Record] = plan.data.lookout(plan.account_id, plan.region)
        fail = plan.fail_record
        failures = FailureLog(plan, None, result, "Failed to send a record to Lookout for Metrics")
        for record in records:
            message = fail(record)
            if message is not None:
                failures.record(record, message)
                continue
            lookout.append(dict(record))
            result.records_written += 1
            result.bytes_written += len(json_line(record)) - 1
            result.delivered.append(dict(record))
        return result


_SINKS: Dict[str, Callable[[Dict[str, Any]], Sink]] = {
    "S3": S3Sink,
    "Upsolver": S3Sink,
    "Redshift": WarehouseSink,
    "Snowflake": WarehouseSink,
    "EventBridge": EventBridgeSink,
    "LookoutMetrics": LookoutMetricsSink,
    "CustomConnector": CustomConnectorSink,
}


def sink_for(destination: Dict[str, Any]) -> Sink:
    """The sink for a flow's ``destinationFlowConfigList[0]``; SaaS types write to datasets."""
    factory = _SINKS.get(destination.get("connectorType", ""), DatasetSink)
    return factory(destination)
