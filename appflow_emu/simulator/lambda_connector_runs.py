"""Runs through a custom connector on AWS's Lambda protocol: reading (QueryDataRequest) and writing
(WriteDataRequest), the events of ``simulator/lambda_protocol.py``.

Reading: AppFlow asks the connector to describe the source entity (its definition goes back in every
``connectorContext``), builds one ``filterExpression`` from the flow's Filter tasks and the
incremental window (``simulator/filter_expressions.py``), selects the fields the tasks read, and
follows the connector's ``nextToken`` until it gives none. What the connector returns is what counts
as processed, and it is not filtered again [guess: AppFlow trusts the connector's query, as it
trusts a SaaS connector's]; only the conditions the filter language cannot express (a field name it
cannot spell) are applied here, after the read.

Writing: records go as JSON strings in batches (``WRITE_BATCH`` records, at most ``BATCH_BYTES``
of them: Lambda's 6 MB payload limit) with the destination's operation and ``idFieldNames``; the
connector's ``writeRecordResults`` fail single records, which the sink counts as for every
destination. A connector that fails ends the run in Error with its message.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from appflow_emu.catalog.connectors import connector_properties, entity_of
from appflow_emu.catalog.operators import VALUE_FILTER_OPERATORS
from appflow_emu.simulator.filter_expressions import filter_expression
from appflow_emu.simulator.lambda_protocol import (
    WRITE_BATCH,
    ConnectorError,
    LambdaConnector,
    field_types,
    record_of,
    timestamp_field,
)
from appflow_emu.simulator.plan import Record, RunFailure, RunPlan, Tally
from appflow_emu.simulator.tasks import compile_tasks
from appflow_emu.simulator.values import json_text

BATCH_BYTES = 5 * 1024 * 1024  # [guess] below Lambda's 6 MB synchronous payload limit [doc]


def _failure(error: ConnectorError) -> RunFailure:
    return RunFailure(error.message)


def _settings(config: Dict[str, Any]) -> Dict[str, Any]:
    """A flow's ``customProperties`` for the connector: the runtime settings of the source's or
    the destination's scope."""
    return dict(connector_properties(config).get("customProperties") or {})


def _definition(connector: LambdaConnector, entity: str, api_version: Optional[str]) -> Dict[str, Any]:
    try:
        return connector.describe_entity(entity, api_version)
    except ConnectorError as e:
        raise _failure(e) from None


def read(plan: RunPlan, tally: Tally) -> Tuple[Iterator[Record], bool]:
    """The source records (counted as the connector returns them), and whether the incremental
    window is left to the caller (the filter language cannot name its field)."""
    connector: LambdaConnector = plan.source_lambda
    entity = entity_of(plan.source)
    api_version = plan.source.get("apiVersion") or connector.api_version
    definition = _definition(connector, entity, api_version)
    configured = (plan.source.get("incrementalPullConfig") or {}).get("datetimeTypeFieldName")
    windowed = plan.window_start is not None or plan.window_end is not None
    ts_field = configured or timestamp_field(definition) or plan.timestamp_field
    expression = filter_expression(plan.task_list, field_types(definition),
                                   (plan.window_start, plan.window_end) if windowed else (None, None), ts_field)
    if plan.tasks is not None and plan.tasks.fields_read is not None:
        selected = list(plan.tasks.fields_read)
        if windowed and ts_field not in selected:
            selected.append(ts_field)
    else:  # [guess] no projection (a Map_all): every field the connector described; AWS's example needs names
        selected = list(field_types(definition))
    pages = connector.query(entity, api_version, definition, _settings(plan.source), selected, expression.text)
    records = _counted(connector, tally, pages)
    if expression.local:
        local = compile_tasks(list(expression.local), "CustomConnector", VALUE_FILTER_OPERATORS).source_filter
        if local is not None:
            records = local(records)
    return records, windowed and expression.window_local


def _counted(connector: LambdaConnector, tally: Tally, pages: Iterator[Any]) -> Iterator[Record]:
    while True:
        try:
            text = next(pages)
        except StopIteration:
            return
        except ConnectorError as e:
            raise _failure(e) from None
        try:
            record = record_of(connector, text)
        except ConnectorError as e:
            raise _failure(e) from None
        tally.records_read += 1
        tally.bytes_read += len(text.encode("utf-8"))
        yield record


class LambdaWriter:
    """Writes a destination's records through the connector, batch by batch (see the module
    docstring). ``write(records)`` returns one entry per record: None (written) or a message."""

    def __init__(self, plan: RunPlan, fail_fast: bool) -> None:
        self.connector: LambdaConnector = plan.destination_lambda
        self.props = connector_properties(plan.destination)
        self.entity = entity_of(plan.destination)
        self.api_version = plan.destination.get("apiVersion") or self.connector.api_version
        self.operation = str(self.props.get("writeOperationType") or "INSERT").upper()
        self.id_fields = list(self.props.get("idFieldNames") or [])
        self.settings = _settings(plan.destination)
        # [guess] failOnFirstDestinationError asks the connector for allOrNone, one record a call
        self.all_or_none = fail_fast
        self.batch_size = 1 if fail_fast else WRITE_BATCH
        self.definition = _definition(self.connector, self.entity, self.api_version)

    def batches(self, records: Iterable[Record], flush: Callable[[List[Record], List[str]], None]) -> None:
        """Group ``records`` into batches and hand each, with its JSON texts, to ``flush``."""
        batch: List[Record] = []
        texts: List[str] = []
        size = 0
        for record in records:
            text = json_text(record)
            if batch and size + len(text) > BATCH_BYTES:
                flush(batch, texts)
                batch, texts, size = [], [], 0
            batch.append(record)
            texts.append(text)
            size += len(text)
            if len(batch) >= self.batch_size:  # at once: a record failing later comes after it
                flush(batch, texts)
                batch, texts, size = [], [], 0
        if batch:
            flush(batch, texts)

    def write(self, texts: List[str]) -> List[Optional[str]]:
        try:
            return self.connector.write(self.entity, self.api_version, self.definition, self.settings,
                                        self.operation, self.id_fields, texts, self.all_or_none)
        except ConnectorError as e:
            raise _failure(e) from None
