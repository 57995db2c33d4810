"""Sources: where a run's records come from.

- SaaS connectors read the data plane's dataset for (connector type, entity, profile); an entity
  nobody seeded yields no records, not an error.
- S3 reads every object under ``bucketName/bucketPrefix``: CSV with a header row or JSON lines
  (``s3InputFormatConfig.s3InputFileType``, else guessed from the first byte), from moto's S3 when
  moto is active, else the embedded store. A missing bucket fails the run.
- Incremental pulls keep the records whose timestamp field lies in [window start, window end).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, Optional

from appflow_emu.catalog.connectors import DEFAULT_TIMESTAMP_FIELD, FALLBACK_TIMESTAMP_FIELD
from appflow_emu.simulator.core import Record, RunContext, RunFailure

ENTITY_MEMBERS = ("object", "objectPath", "entityName")


def entity_of(properties: Dict[str, Any]) -> str:
    for name in ENTITY_MEMBERS:
        if properties.get(name):
            return str(properties[name])
    return ""


def source_properties(source: Dict[str, Any]) -> Dict[str, Any]:
    props = source.get("sourceConnectorProperties") or {}
    return next(iter(props.values()), {}) if props else {}


def timestamp_field(source: Dict[str, Any]) -> str:
    configured = (source.get("incrementalPullConfig") or {}).get("datetimeTypeFieldName")
    if configured:
        return str(configured)
    return DEFAULT_TIMESTAMP_FIELD.get(source["connectorType"], FALLBACK_TIMESTAMP_FIELD)


def to_epoch(value: Any) -> Optional[float]:
    """Seconds since the epoch from a datetime, an epoch number (s or ms) or an ISO-8601 string."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    if isinstance(value, (int, float)):
        return value / 1000.0 if abs(value) > 1e11 else float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            return number / 1000.0 if abs(number) > 1e11 else number
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    return None


def read(ctx: RunContext, changed: Optional[list] = None) -> Iterator[Record]:
    """The run's records, streamed; ``changed`` (event-triggered runs) replaces the dataset."""
    if ctx.source["connectorType"] == "S3":
        records = _read_s3(ctx)
    else:
        records = _read_dataset(ctx, changed)
    if ctx.window_start is None and ctx.window_end is None:
        return records
    return _windowed(ctx, records)


def _windowed(ctx: RunContext, records: Iterator[Record]) -> Iterator[Record]:
    field = timestamp_field(ctx.source)
    lo, hi = ctx.window_start, ctx.window_end
    for record in records:
        t = to_epoch(record.get(field))
        if t is None:
            continue
        if (lo is None or t >= lo) and (hi is None or t < hi):
            yield record


def _read_dataset(ctx: RunContext, changed: Optional[list]) -> Iterator[Record]:
    props = source_properties(ctx.source)
    entity = entity_of(props)
    if ctx.source["connectorType"] == "CustomConnector":
        from appflow_emu.catalog import custom

        bound = custom.binding(ctx, ctx.source)  # fails the run if the label was unregistered
        if bound is not None and changed is None:  # a Python implementation is plugged in
            yield from custom.read_records(ctx, bound, entity, timestamp_field(ctx.source))
            return
    rows = changed if changed is not None else ctx.data.dataset(
        ctx.source["connectorType"], entity, ctx.source.get("connectorProfileName"))
    dumps = json.dumps
    for row in list(rows):  # a snapshot: a SaaS destination may write the same dataset
        ctx.records_read += 1
        ctx.bytes_read += len(dumps(row, default=str))
        yield dict(row)


def _read_s3(ctx: RunContext) -> Iterator[Record]:
    from appflow_emu.simulator import formats

    props = source_properties(ctx.source)
    bucket = props["bucketName"]
    prefix = props.get("bucketPrefix") or ""
    store = ctx.data.store()
    if not store.bucket_exists(bucket):
        raise RunFailure(f"The S3 bucket {bucket} does not exist or is not accessible.")
    file_type = ((props.get("s3InputFormatConfig") or {}).get("s3InputFileType") or "").upper()
    for key in store.list(bucket, prefix):
        if key.endswith("/"):
            continue
        body = store.get(bucket, key)
        ctx.bytes_read += len(body)
        kind = file_type or ("JSON" if body.lstrip()[:1] in (b"{", b"[") else "CSV")
        rows = formats.read_jsonl(body) if kind == "JSON" else formats.read_csv(body)
        for row in rows:
            ctx.records_read += 1
            yield row
