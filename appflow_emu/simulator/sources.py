"""Sources: where a run's records come from.

- SaaS connectors read the data plane's dataset for the source's entity, as seen through the
  flow's profile (``plan.source_scope``); an entity nobody seeded yields no records, not an error.
- A custom connector on AWS's Lambda protocol reads through its function
  (``simulator/lambda_connector_runs.py``); one with a Python implementation plugged in reads through
  it (``simulator/custom_connectors.py``).
- S3 reads every object under ``bucketName/bucketPrefix``: CSV with a header row or JSON lines
  (``s3InputFormatConfig.s3InputFileType``, else guessed from the first byte), from the plan's
  object store (moto's S3 when moto is active, else the embedded store). A missing bucket fails
  the run.
- Incremental pulls keep the records whose timestamp field lies in [window start, window end).
- ``recordsProcessed`` / ``bytesProcessed`` count what the source returned (see :func:`read`).
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterator, Optional

from appflow_emu.catalog.connectors import (
    DEFAULT_TIMESTAMP_FIELD,
    FALLBACK_TIMESTAMP_FIELD,
    connector_properties,
    entity_of,
)
from appflow_emu.model.errors import source_bucket_missing_text
from appflow_emu.simulator import custom_connectors, formats, lambda_connector_runs
from appflow_emu.simulator.plan import Record, RunFailure, RunPlan, Tally
from appflow_emu.simulator.values import to_epoch_seconds


def timestamp_field(source: Dict[str, Any]) -> str:
    """The field incremental pulls filter on: the flow's ``datetimeTypeFieldName``, else the
    connector's own."""
    configured = (source.get("incrementalPullConfig") or {}).get("datetimeTypeFieldName")
    if configured:
        return str(configured)
    return DEFAULT_TIMESTAMP_FIELD.get(source["connectorType"], FALLBACK_TIMESTAMP_FIELD)


def read(plan: RunPlan, tally: Tally) -> Iterator[Record]:
    """The run's records, streamed; ``plan.changed`` (event-triggered runs) replaces the dataset.

    What counts as processed (``tally``) is what the source returned:
    - a SaaS source (and a custom connector with nothing plugged in) applies the incremental window
      and the pushed-down filters (``plan.tasks.source_filter``) in its query, so only the records
      that pass are counted;
    - a plugged-in custom connector was told the filters and the window as hints: what it returns
      is counted, then the window and the filters are applied here anyway;
    - an S3 source reads every object under its prefix: every record read is counted.
    """
    source_filter = plan.tasks.source_filter if plan.tasks is not None else None
    if plan.source_lambda is not None and plan.changed is None:  # a custom connector on the Lambda protocol
        records, window_left = lambda_connector_runs.read(plan, tally)
        return _windowed(plan, records) if window_left else records
    if plan.source["connectorType"] == "S3":
        records = _read_s3(plan, tally)
    elif plan.source_connector is not None and plan.changed is None:  # a Python implementation is plugged in
        records = custom_connectors.read_records(plan, tally, plan.source_connector, entity_of(plan.source))
    else:
        return _counted(tally, _source_query(plan, source_filter))
    records = _windowed(plan, records)
    return source_filter(records) if source_filter is not None else records


def _windowed(plan: RunPlan, records: Iterator[Record]) -> Iterator[Record]:
    if plan.window_start is None and plan.window_end is None:
        return records
    return _in_window(plan, records)


def _in_window(plan: RunPlan, records: Iterator[Record]) -> Iterator[Record]:
    field = plan.timestamp_field
    lo, hi = plan.window_start, plan.window_end
    for record in records:
        t = to_epoch_seconds(record.get(field))
        if t is None:
            continue
        if (lo is None or t >= lo) and (hi is None or t < hi):
            yield record


def _source_query(plan: RunPlan, source_filter: Optional[Callable[[Iterator[Record]], Iterator[Record]]]
                  ) -> Iterator[Record]:
    """What a SaaS source's query returns: its dataset's records in the window that pass the
    pushed-down filters."""
    changed: Optional[list] = plan.changed
    rows = changed if changed is not None else plan.data.dataset(
        plan.source["connectorType"], entity_of(plan.source), plan.source_scope)
    # A snapshot: a SaaS destination may write the same dataset.
    records = _windowed(plan, iter([dict(row) for row in rows]))
    return source_filter(records) if source_filter is not None else records


def _counted(tally: Tally, records: Iterator[Record]) -> Iterator[Record]:
    dumps = json.dumps
    for record in records:
        tally.records_read += 1
        tally.bytes_read += len(dumps(record, default=str))
        yield record


def _read_s3(plan: RunPlan, tally: Tally) -> Iterator[Record]:
    props = connector_properties(plan.source)
    bucket = props.get("bucketName") or ""  # a restored flow may lack it: no bucket, the run fails
    prefix = props.get("bucketPrefix") or ""
    store = plan.store
    if not store.bucket_exists(bucket):
        raise RunFailure(source_bucket_missing_text(bucket))
    file_type = ((props.get("s3InputFormatConfig") or {}).get("s3InputFileType") or "").upper()
    for key in store.list(bucket, prefix):
        if key.endswith("/"):
            continue
        body = store.get(bucket, key)
        tally.bytes_read += len(body)
        rows = formats.read_jsonl(body) if formats.looks_like_json(body, file_type) else formats.read_csv(body)
        for row in rows:
            tally.records_read += 1
            yield row
