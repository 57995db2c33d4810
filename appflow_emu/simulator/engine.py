"""One run: source -> compiled tasks -> sink, and the execution record's numbers from what moved.

Nothing here raises: a RunFailure ends the run in Error with its message; records that fail to
convert or write are counted in ``putFailuresCount`` (the run then ends in Error too); anything
unexpected is a bug in the emulator and surfaces as EmulatorError.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, List, Optional

from appflow_emu.simulator.core import Record, RecordFailure, RunContext, RunFailure, SinkResult
from appflow_emu.simulator.dataplane import RunData


def _guarded(compiled: Any, records: Iterable[Record], failures: List[str]) -> Iterator[Record]:
    """Run the compiled tasks; a RecordFailure fails that record only and the stream goes on."""
    it = iter(records)
    while True:
        try:
            for out in compiled(it):
                yield out
            return
        except RecordFailure as failure:
            failures.append(failure.message)


class Outcome:
    def __init__(self, status: str, result: Dict[str, Any], delivered: List[Record]) -> None:
        self.status = status
        self.result = result
        self.delivered = delivered


def run(ctx: RunContext, tasks: List[Dict[str, Any]], changed: Optional[list] = None,
        forced_failure: Optional[str] = None) -> Outcome:
    from appflow_emu.simulator import sources
    from appflow_emu.simulator.sinks import sink_for
    from appflow_emu.simulator.tasks import compile_tasks

    task_failures: List[str] = []
    result: Dict[str, Any]
    try:
        if forced_failure is not None:
            raise RunFailure(forced_failure)
        compiled = compile_tasks(tasks, ctx.source["connectorType"])
        sink = sink_for(ctx.destination)
        records = _guarded(compiled, sources.read(ctx, changed), task_failures)
        written: SinkResult = sink.write(ctx, records, list(getattr(compiled, "partition_keys", []) or []))
    except RunFailure as failure:
        # What a sink wrote before the run failed stays written (the sink attaches it).
        partial: Optional[SinkResult] = getattr(failure, "result", None)
        result = {
            "bytesProcessed": ctx.bytes_read,
            "bytesWritten": partial.bytes_written if partial is not None else 0,
            "recordsProcessed": ctx.records_read,
            "errorInfo": {
                "putFailuresCount": len(task_failures) + (partial.put_failures if partial is not None else 0),
                "executionMessage": _clean(failure.message),
            },
        }
        return Outcome("Error", result, _delivered(partial, ctx) if partial is not None else [])
    failures = written.put_failures + len(task_failures)
    result = {
        "bytesProcessed": ctx.bytes_read,
        "bytesWritten": written.bytes_written,
        "recordsProcessed": ctx.records_read,
    }
    if failures:
        messages = written.failure_messages + task_failures
        result["errorInfo"] = {
            "putFailuresCount": failures,
            "executionMessage": _clean(f"{failures} records failed to be processed. First failure: {messages[0]}"
                                       if messages else f"{failures} records failed to be written."),
        }
        return Outcome("Error", result, _delivered(written, ctx))
    return Outcome("Successful", result, _delivered(written, ctx))


class DeliveredObjects:
    """What an S3-like destination delivered: read back from its objects on demand."""

    def __init__(self, store: Any, bucket: str, keys: List[str], file_format: str) -> None:
        self.store, self.bucket, self.keys, self.file_format = store, bucket, list(keys), file_format

    def records(self) -> List[Record]:
        from appflow_emu.simulator import formats

        out: List[Record] = []
        for key in self.keys:
            body = self.store.get(self.bucket, key)
            if self.file_format == "PARQUET":
                import io

                import pyarrow.parquet as pq  # present: it wrote the file

                out.extend(pq.read_table(io.BytesIO(body)).to_pylist())
            elif self.file_format == "CSV":
                out.extend(formats.read_csv(body))
            else:
                out.extend(formats.read_jsonl(body))
        return out


def _delivered(written: SinkResult, ctx: RunContext) -> Any:
    if written.object_bucket is not None and not written.delivered:
        return DeliveredObjects(ctx.data.store(), written.object_bucket, written.objects, written.object_format or "JSON")
    return written.delivered


def _clean(message: str) -> str:
    """executionMessage must fit the model's pattern ``[\\w!@#\\-.?,\\s]*``: other characters become spaces."""
    allowed = set("!@#-.?,")
    return "".join(c if (c.isascii() and (c.isalnum() or c == "_" or c.isspace() or c in allowed)) else " "
                   for c in message)


def context(flow: Any, execution_id: str, account_id: str, region: str, started_at: float,
            emulator: Any, window_start: Optional[float] = None, window_end: Optional[float] = None) -> RunContext:
    return RunContext(
        flow_name=flow.name,
        execution_id=execution_id,
        account_id=account_id,
        region=region,
        started_at=started_at,
        source=flow.source,
        destination=flow.destinations[0],
        data=RunData(emulator.data, flow.name),
        window_start=window_start,
        window_end=window_end,
        schema_version=flow.schema_version,
        emulator=emulator,
    )
