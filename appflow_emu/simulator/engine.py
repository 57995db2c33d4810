"""One run: source -> compiled tasks -> sink, and the execution record's numbers from what moved.

``run(plan)`` reads only its :class:`~appflow_emu.simulator.plan.RunPlan`. Nothing here raises: a
RunFailure ends the run in Error with its message, and so does a neighbour's refusal
(``NeighbourRefused``: S3 denying an object under a bucket policy..., worded by
:func:`~appflow_emu.simulator.plan.refusal_text`); records that fail to convert or write are
counted in ``putFailuresCount`` (the run then ends in Error too); anything unexpected is a bug in
the emulator and surfaces as EmulatorError (intercept/dispatch.py).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, List, Optional

from appflow_emu.aws.moto import NeighbourRefused
from appflow_emu.model.errors import counted
from appflow_emu.simulator import formats, sources
from appflow_emu.simulator.plan import Record, RecordFailure, RunFailure, RunPlan, SinkResult, Tally, refusal_text
from appflow_emu.simulator.sinks import sink_for


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
    """How a run ended: its status, its ``executionResult``, and what it delivered."""

    def __init__(self, status: str, result: Dict[str, Any], delivered: Any, written: Optional[SinkResult] = None) -> None:
        self.status = status
        self.result = result
        self.delivered = delivered
        self.written = written  # the destination's account of the run (None when nothing was written)


def run(plan: RunPlan) -> Outcome:
    tally = Tally()
    task_failures: List[str] = []
    result: Dict[str, Any]
    try:
        if plan.failure is not None:
            raise RunFailure(plan.failure)
        records = _guarded(plan.tasks, sources.read(plan, tally), task_failures)
        written: SinkResult = sink_for(plan.destination).write(plan, records)
    except (RunFailure, NeighbourRefused) as error:
        failure = error if isinstance(error, RunFailure) else RunFailure(refusal_text(error))
        # What a sink wrote before the run failed stays written (the sink attaches it).
        partial: Optional[SinkResult] = getattr(error, "result", None)
        result = {
            "bytesProcessed": tally.bytes_read,
            "bytesWritten": partial.bytes_written if partial is not None else 0,
            "recordsProcessed": tally.records_read,
            "errorInfo": {
                "putFailuresCount": len(task_failures) + (partial.put_failures if partial is not None else 0),
                "executionMessage": _clean(failure.message),
            },
        }
        return Outcome("Error", result, _delivered(partial, plan) if partial is not None else [], partial)
    failures = written.put_failures + len(task_failures)
    result = {
        "bytesProcessed": tally.bytes_read,
        "bytesWritten": written.bytes_written,
        "recordsProcessed": tally.records_read,
    }
    if failures:
        messages = written.failure_messages + task_failures
        result["errorInfo"] = {
            "putFailuresCount": failures,
            "executionMessage": _clean(f"{counted(failures, 'record')} failed to be processed. First failure: "
                                       f"{messages[0]}" if messages else f"{counted(failures, 'record')} failed to be written."),
        }
        return Outcome("Error", result, _delivered(written, plan), written)
    return Outcome("Successful", result, _delivered(written, plan), written)


class DeliveredObjects:
    """What an S3-like destination delivered: read back from its objects on demand."""

    def __init__(self, store: Any, bucket: str, keys: List[str], file_format: str) -> None:
        self.store, self.bucket, self.keys, self.file_format = store, bucket, list(keys), file_format

    def records(self) -> List[Record]:
        out: List[Record] = []
        for key in self.keys:
            body = self.store.get(self.bucket, key)
            if self.file_format == "PARQUET":
                out.extend(formats.read_parquet(body))
            elif self.file_format == "CSV":
                out.extend(formats.read_csv(body))
            else:
                out.extend(formats.read_jsonl(body))
        return out


def _delivered(written: SinkResult, plan: RunPlan) -> Any:
    if written.object_bucket is not None and not written.delivered:
        return DeliveredObjects(plan.store, written.object_bucket, written.objects, written.object_format or "JSON")
    return written.delivered


_ALLOWED_PUNCTUATION = frozenset("!@#-.?,_")


def _clean(message: str) -> str:
    """executionMessage must fit the model's pattern ``[\\w!@#\\-.?,\\s]*``: other characters
    become spaces, and the text is single-spaced and trimmed, as AppFlow's messages are [seen]."""
    allowed = _ALLOWED_PUNCTUATION
    kept = "".join(c if (c.isascii() and (c.isalnum() or c in allowed)) else " " for c in message)
    return " ".join(kept.split())
