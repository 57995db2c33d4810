"""Custom connectors in process: a Python object plays the custom connector's Lambda.

On AWS a custom connector is a Lambda built with the AppFlow custom connector SDK: its metadata
handler lists and describes entities, its record handler reads (``query_data``/``retrieve_data``)
and writes (``write_data``) records. Here any Python object with the same four abilities
(:class:`CustomConnectorImplementation`) can be plugged in for a registered label with
``emu.register_connector_implementation(label, impl)``:

- runs whose source profile is a CustomConnector profile of that label read through
  ``impl.read_records`` (:func:`read_records`, called by simulator/sources.py);
- runs whose destination is one write through ``impl.write_records`` (:func:`write_batch`, called
  by simulator/sinks.py), in batches; per-record errors are counted in ``putFailuresCount``;
- ListConnectorEntities / DescribeConnectorEntity on such a profile ask ``impl.list_entities`` /
  ``impl.describe_entity`` (backend/entity_discovery.py).

A label with nothing plugged in behaves like :class:`DatasetConnector`: the emulator's datasets for
connector type ``CustomConnector`` (``emu.add_source_records("CustomConnector", entity, rows)``).
An exception raised by the implementation ends the run in Error with a message naming the
connector and the method: the fault is the connector's, not the emulator's.
"""
from __future__ import annotations

import json
import threading
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Protocol, Tuple, runtime_checkable

from appflow_emu.catalog.operators import NO_OP, PROJECTION
from appflow_emu.model.errors import connector_failed_text
from appflow_emu.simulator.plan import ConnectorBinding, Record, RunFailure, RunPlan, Scope, Tally, callback_failure
from appflow_emu.simulator.values import common_field_type
from appflow_emu.simulator.writes import apply_write

WRITE_BATCH = 100  # records per write_records call [guess: the SDK leaves the batch size to AppFlow]
METHODS = ("list_entities", "describe_entity", "read_records", "write_records")


def check_implementation(implementation: Any) -> None:
    """TypeError unless the object offers at least one of the protocol's methods."""
    if not any(callable(getattr(implementation, m, None)) for m in METHODS):
        raise TypeError(f"a custom connector implementation needs at least one of {', '.join(METHODS)} "
                        f"(see appflow_emu.CustomConnectorImplementation), got {type(implementation).__name__}")


@runtime_checkable
class CustomConnectorImplementation(Protocol):
    """What a plugged-in custom connector offers (every method is optional: a connector without
    ``write_records`` cannot be a destination, one without ``read_records`` cannot be a source).

    ``list_entities(entities_path=None)``
        The entities at ``entities_path`` (the top level when None): dicts with ``name``, optional
        ``label`` (defaults to the name) and ``hasNestedEntities`` (defaults to False). Plain
        strings are accepted as names.
    ``describe_entity(entity)``
        The entity's fields. Either AppFlow's ``ConnectorEntityField`` shape (``identifier``,
        ``supportedFieldTypeDetails``...) or a short form: ``identifier`` (or ``name``), ``label``,
        ``type`` (AppFlow's ``fieldType``: string, integer, double, boolean, date, datetime...),
        ``filterOperators`` (default: the CustomConnector operators that suit the type),
        ``isPrimaryKey``, ``isTimestampFieldForIncrementalQueries``, ``isCreatable``,
        ``isUpdatable``, ``isUpsertable``, ``isNullable``, ``supportedValues``, ``description``.
        Raise ``KeyError`` for an unknown entity (ResourceNotFoundException).
    ``read_records(entity, fields, filters=None)``
        An iterable of dicts. ``fields`` lists the fields the flow reads (None: all of them);
        ``filters`` lists the flow's filter conditions and the incremental window as dicts
        ``{"field", "operator", "values", "dataType"}`` (datetime values are epoch milliseconds as
        text). Both are hints, like the SDK's ``selectedFieldNames`` and ``filterExpression``:
        the flow's tasks filter and project what comes back anyway.
    ``write_records(entity, operation, records, id_fields=None)``
        Write one batch (``operation``: INSERT, UPSERT, UPDATE or DELETE). Return None when every
        record was written, else a list with one entry per record: None (written) or an error
        message (that record failed). An exception fails the whole run.
    """

    def list_entities(self, entities_path: Optional[str] = None) -> List[Dict[str, Any]]: ...

    def describe_entity(self, entity: str) -> List[Dict[str, Any]]: ...

    def read_records(self, entity: str, fields: Optional[List[str]],
                     filters: Optional[List[Dict[str, Any]]] = None) -> Iterable[Record]: ...

    def write_records(self, entity: str, operation: str, records: List[Record],
                      id_fields: Optional[List[str]] = None) -> Optional[List[Optional[str]]]: ...


# -- the default implementation ------------------------------------------------------------------

class InMemoryConnector:
    """A custom connector that keeps its records in memory: ``records`` maps entity names to lists
    of dicts, ``fields`` (optional) maps entity names to field lists in ``describe_entity``'s
    forms; without one an entity's fields are inferred from its records' keys and values.

    Writes follow AppFlow's write operations, exactly as SaaS destinations apply them
    (``simulator/writes.py``): INSERT appends; UPSERT updates the record whose ``id_fields``
    values match (merging the written fields) or appends; UPDATE and DELETE fail the
    record when none matches. Subclass it and override a method to test one behaviour."""

    def __init__(self, records: Optional[Mapping[str, Iterable[Record]]] = None,
                 fields: Optional[Mapping[str, List[Dict[str, Any]]]] = None) -> None:
        self.records: Dict[str, List[Record]] = {k: [dict(r) for r in v] for k, v in (records or {}).items()}
        self.fields: Dict[str, List[Dict[str, Any]]] = {k: list(v) for k, v in (fields or {}).items()}
        self.lock = threading.RLock()

    # storage: where an entity's records live
    def dataset(self, entity: str) -> List[Record]:
        with self.lock:
            return self.records.setdefault(entity, [])

    def entity_names(self) -> List[str]:
        with self.lock:
            return sorted(set(self.records) | set(self.fields))

    # the SDK's metadata handler
    def list_entities(self, entities_path: Optional[str] = None) -> List[Dict[str, Any]]:
        if entities_path:
            return []
        return [{"name": e, "label": e, "hasNestedEntities": False} for e in self.entity_names()]

    def describe_entity(self, entity: str) -> List[Dict[str, Any]]:
        if entity in self.fields:
            return list(self.fields[entity])
        if entity not in self.entity_names():
            raise KeyError(entity)
        columns: Dict[str, List[Any]] = {}
        for record in list(self.dataset(entity)):
            for key, value in record.items():
                columns.setdefault(key, []).append(value)
        return [{"identifier": k, "label": k, "type": common_field_type(v)} for k, v in columns.items()]

    # the SDK's record handler
    def read_records(self, entity: str, fields: Optional[List[str]],
                     filters: Optional[List[Dict[str, Any]]] = None) -> Iterable[Record]:
        rows = list(self.dataset(entity))  # a snapshot: a flow may write the entity it reads
        if fields is None:
            return [dict(r) for r in rows]
        return [{f: r[f] for f in fields if f in r} for r in rows]

    def write_records(self, entity: str, operation: str, records: List[Record],
                      id_fields: Optional[List[str]] = None) -> Optional[List[Optional[str]]]:
        with self.lock:
            out = apply_write(self.dataset(entity), entity, operation, records, id_fields or ())
        return out if any(m is not None for m in out) else None


class DatasetConnector(InMemoryConnector):
    """The default: the emulator's datasets for connector type ``CustomConnector`` (what
    ``emu.add_source_records("CustomConnector", entity, rows)`` seeds and ``emu.source_records``
    shows), as seen through one connector profile (``scope``, see simulator/dataplane.py)."""

    def __init__(self, plane: Any, scope: Optional[Scope] = None) -> None:
        super().__init__()
        self.plane = plane
        self.scope = scope
        self.lock = plane.lock

    def dataset(self, entity: str) -> List[Record]:
        return self.plane.dataset("CustomConnector", entity, self.scope)  # type: ignore[no-any-return]

    def entity_names(self) -> List[str]:
        return self.plane.entities_with_data("CustomConnector", self.scope)  # type: ignore[no-any-return]


# -- runs ---------------------------------------------------------------------------------------

def _connector_failure(bound: ConnectorBinding, method: Any, what: str, error: Exception) -> RunFailure:
    """The implementation raised: the run ends in Error, naming the connector and its method."""
    return RunFailure(connector_failed_text(bound.label, what, error, method))


def read_filters(tasks: List[Dict[str, Any]], window: Tuple[Optional[float], Optional[float]],
                 timestamp_field: str) -> List[Dict[str, Any]]:
    """The flow's filter conditions and the incremental window as ``read_records`` hints."""
    out: List[Dict[str, Any]] = []
    for task in tasks:
        op = next(iter((task.get("connectorOperator") or {}).values()), None)
        if task.get("taskType") != "Filter" or op in (None, PROJECTION, NO_OP) or not task.get("sourceFields"):
            continue
        props = task.get("taskProperties") or {}
        values: List[Any]
        if op == "BETWEEN":
            values = [props.get("LOWER_BOUND"), props.get("UPPER_BOUND")]
        elif props.get("VALUES") is not None:
            values = list(str(props["VALUES"]).split(","))
        elif props.get("VALUE") is not None:
            values = [props["VALUE"]]
        else:
            values = []
        out.append({"field": task["sourceFields"][0], "operator": op,
                    "values": [str(v) for v in values if v is not None], "dataType": props.get("DATA_TYPE")})
    start, end = window
    if start is not None:
        out.append({"field": timestamp_field, "operator": "GREATER_THAN_OR_EQUAL_TO",
                    "values": [str(int(start * 1000))], "dataType": "datetime"})
    if end is not None:
        out.append({"field": timestamp_field, "operator": "LESS_THAN",
                    "values": [str(int(end * 1000))], "dataType": "datetime"})
    return out


def read_records(plan: RunPlan, tally: Tally, bound: ConnectorBinding, entity: str) -> Iterator[Record]:
    """The run's source records from the implementation (counted in the run's numbers). The
    implementation is told the fields the compiled tasks read and the flow's filters as hints."""
    method = getattr(bound.implementation, "read_records", None)
    if method is None:
        raise RunFailure(f"The custom connector {bound.label} cannot be used as a source: it does not read records.")
    fields = plan.tasks.fields_read if plan.task_list else None
    windowed = plan.window_start is not None or plan.window_end is not None
    if fields is not None and windowed and plan.timestamp_field not in fields:
        fields = fields + [plan.timestamp_field]
    filters = read_filters(plan.task_list, (plan.window_start, plan.window_end), plan.timestamp_field)
    try:
        rows = iter(method(entity, None if fields is None else list(fields), filters))
    except Exception as e:
        raise _connector_failure(bound, method, f"read {entity}", e) from None
    dumps = json.dumps
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as e:
            raise _connector_failure(bound, method, f"read {entity}", e) from None
        if not isinstance(row, Mapping):
            raise RunFailure(f"The custom connector {bound.label} returned a {type(row).__name__} "
                             f"instead of a record for {entity}.")
        tally.records_read += 1
        tally.bytes_read += len(dumps(row, default=str))
        yield dict(row)


def write_batch(bound: ConnectorBinding, entity: str, operation: str, records: List[Record],
                id_fields: List[str]) -> List[Optional[str]]:
    """Write one batch through the implementation: one message (or None) per record."""
    method = getattr(bound.implementation, "write_records", None)
    if method is None:
        raise RunFailure(f"The custom connector {bound.label} cannot be used as a destination: "
                         "it does not write records.")
    try:
        answer = method(entity, operation, [dict(r) for r in records], list(id_fields) or None)
    except Exception as e:
        raise _connector_failure(bound, method, f"write to {entity}", e) from None
    if answer is None:
        return [None] * len(records)
    try:
        answer = list(answer)
    except TypeError as e:
        raise callback_failure(f"The custom connector {bound.label}'s write_records", method, e) from None
    if len(answer) != len(records):
        raise RunFailure(f"The custom connector {bound.label} returned {len(answer)} results "
                         f"for {len(records)} records written to {entity}.")
    return [_message(item) for item in answer]


_GENERIC = "The custom connector rejected the record."


def _message(item: Any) -> Optional[str]:
    """A write result: None/True/"" (written), a message, False, or a dict/object with
    ``isSuccess``/``is_success`` and ``errorMessage``/``error_message`` (the SDK's WriteRecordResult)."""
    if item is None or item is True or item == "":
        return None
    if item is False:
        return _GENERIC
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        ok = item.get("isSuccess", item.get("is_success", False))
        message = item.get("errorMessage") or item.get("error_message")
    else:
        ok = getattr(item, "is_success", False)
        message = getattr(item, "error_message", None)
    return None if ok else str(message or _GENERIC)
