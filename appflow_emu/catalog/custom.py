"""Custom connectors in process: a Python object plays the custom connector's Lambda.

On AWS a custom connector is a Lambda built with the AppFlow custom connector SDK: its metadata
handler lists and describes entities, its record handler reads (``query_data``/``retrieve_data``)
and writes (``write_data``) records. Here any Python object with the same four abilities can be
plugged in for a registered label with ``emu.register_connector_implementation(label, impl)``:

- runs whose source profile is a CustomConnector profile of that label read through
  ``impl.read_records`` (simulator/sources.py);
- runs whose destination is one write through ``impl.write_records`` (simulator/sinks.py), in
  batches; per-record errors are counted in ``putFailuresCount``;
- ListConnectorEntities / DescribeConnectorEntity on such a profile ask ``impl.list_entities`` /
  ``impl.describe_entity`` (through :func:`custom_entities` / :func:`custom_entity_fields`).

A label with nothing plugged in behaves like :class:`DatasetConnector`: the emulator's datasets for
connector type ``CustomConnector`` (``emu.add_source_records("CustomConnector", entity, rows)``).
"""
from __future__ import annotations

import json
import threading
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Protocol, Tuple, runtime_checkable

Record = Dict[str, Any]

WRITE_BATCH = 100  # records per write_records call [guess: the SDK leaves the batch size to AppFlow]
METHODS = ("list_entities", "describe_entity", "read_records", "write_records")


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

def _field_type(values: Iterable[Any]) -> str:
    kinds = set()
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            kinds.add("boolean")
        elif isinstance(v, int):
            kinds.add("integer")
        elif isinstance(v, float):
            kinds.add("double")
        elif isinstance(v, (dict, list)):
            kinds.add("struct")
        else:
            kinds.add("string")
    if kinds == {"integer", "double"}:
        return "double"
    return kinds.pop() if len(kinds) == 1 else "string"


class InMemoryConnector:
    """A custom connector that keeps its records in memory: ``records`` maps entity names to lists
    of dicts, ``fields`` (optional) maps entity names to field lists in ``describe_entity``'s
    forms; without one an entity's fields are inferred from its records' keys and values.

    Writes follow AppFlow's write operations: INSERT appends; UPSERT updates the record whose
    ``id_fields`` values match (merging the written fields) or appends; UPDATE and DELETE fail the
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
        return [{"identifier": k, "label": k, "type": _field_type(v)} for k, v in columns.items()]

    # the SDK's record handler
    def read_records(self, entity: str, fields: Optional[List[str]],
                     filters: Optional[List[Dict[str, Any]]] = None) -> Iterable[Record]:
        rows = list(self.dataset(entity))  # a snapshot: a flow may write the entity it reads
        if fields is None:
            return [dict(r) for r in rows]
        return [{f: r[f] for f in fields if f in r} for r in rows]

    def write_records(self, entity: str, operation: str, records: List[Record],
                      id_fields: Optional[List[str]] = None) -> Optional[List[Optional[str]]]:
        ids = list(id_fields or [])
        op = operation.upper()
        with self.lock:
            dataset = self.dataset(entity)
            index: Dict[Tuple[Any, ...], Record] = {}
            if ids:
                for stored in dataset:
                    index.setdefault(_key(stored, ids), stored)
            out: List[Optional[str]] = []
            for record in records:
                if op == "INSERT":
                    stored = dict(record)
                    dataset.append(stored)
                    if ids:
                        index.setdefault(_key(stored, ids), stored)
                    out.append(None)
                    continue
                if not ids:
                    out.append(f"{op} needs idFieldNames")
                    continue
                key = _key(record, ids)
                if all(v is None for v in key):
                    out.append(f"{op} needs a value for {', '.join(ids)}")
                    continue
                existing = index.get(key)
                if existing is None and op == "UPSERT":
                    stored = dict(record)
                    dataset.append(stored)
                    index[key] = stored
                elif existing is None:
                    where = ", ".join(f"{f}={record.get(f)!r}" for f in ids)
                    out.append(f"No {entity} record with {where} to {op.lower()}")
                    continue
                elif op == "DELETE":
                    del index[key]
                    dataset.remove(existing)
                else:  # UPSERT or UPDATE of an existing record
                    existing.update(record)
                out.append(None)
        return out if any(m is not None for m in out) else None


def _key(record: Record, ids: List[str]) -> Tuple[Any, ...]:
    return tuple(json.dumps(v, sort_keys=True, default=str) if isinstance(v, (dict, list)) else v
                 for v in (record.get(f) for f in ids))


class DatasetConnector(InMemoryConnector):
    """The default: the emulator's datasets for connector type ``CustomConnector`` (what
    ``emu.add_source_records("CustomConnector", entity, rows, profile=None)`` seeds and
    ``emu.source_records`` shows), seen through one connector profile."""

    def __init__(self, plane: Any, profile: Optional[str] = None) -> None:
        super().__init__()
        self.plane = plane
        self.profile = profile
        self.lock = plane.lock

    def dataset(self, entity: str) -> List[Record]:
        return self.plane.dataset("CustomConnector", entity, self.profile)  # the live list

    def entity_names(self) -> List[str]:
        with self.plane.lock:
            keys = list(getattr(self.plane, "_datasets", {}))
        return sorted({e for (ct, e, p) in keys if ct == "CustomConnector" and p in (None, self.profile)
                       and self.plane.dataset(ct, e, self.profile)})


# -- the plugged implementations -----------------------------------------------------------------

def plug(emulator: Any, label: str, implementation: Any) -> None:
    """``emu.register_connector_implementation``: None unplugs."""
    if not isinstance(label, str) or not label:
        raise ValueError("the connector label must be a non-empty string")
    if implementation is not None and not any(callable(getattr(implementation, m, None)) for m in METHODS):
        raise TypeError(f"a custom connector implementation needs at least one of {', '.join(METHODS)}")
    if implementation is None:
        emulator.connector_implementations.pop(label, None)
    else:
        emulator.connector_implementations[label] = implementation


def implementation(emulator: Any, label: str) -> Optional[Any]:
    """The object plugged in for ``label``, or None."""
    return emulator.connector_implementations.get(label)


def _implementation_or_default(state: Any, label: str, profile: Optional[str]) -> Any:
    found = implementation(state.emulator, label)
    return found if found is not None else DatasetConnector(state.emulator.data, profile)


# -- discovery: ListConnectorEntities / DescribeConnectorEntity ------------------------------------

def _registered(state: Any, label: Optional[str]) -> str:
    from appflow_emu.errors import not_found

    if not label or label not in state.registered_connectors:
        raise not_found(f"Connector with label {label} does not exist.")  # [guess] text
    return label


def _connector_error(label: str, what: str, error: Exception) -> Exception:
    from appflow_emu.errors import AppFlowError

    return AppFlowError("ConnectorServerException",
                        f"The custom connector {label} failed to {what}: {type(error).__name__}: {error}")


def custom_entities(state: Any, label: Optional[str], entities_path: Optional[str] = None,
                    profile: Optional[str] = None) -> List[Dict[str, Any]]:
    """ListConnectorEntities for a CustomConnector profile: ``ConnectorEntity`` dicts (name, label,
    hasNestedEntities) from the implementation's ``list_entities(entities_path)``.
    Raises AppFlowError: ResourceNotFoundException for an unregistered label,
    ConnectorServerException when the implementation fails."""
    label = _registered(state, label)
    impl = _implementation_or_default(state, label, profile)
    method = getattr(impl, "list_entities", None)
    if method is None:
        return []
    try:
        raw = list(method(entities_path) if entities_path else method())
    except Exception as e:  # the connector's own code failed
        raise _connector_error(label, "list entities", e) from None
    return [_entity(item) for item in raw]


def custom_entity_map(state: Any, label: Optional[str], entities_path: Optional[str] = None,
                      profile: Optional[str] = None) -> Dict[str, List[Dict[str, Any]]]:
    """``connectorEntityMap`` for :func:`custom_entities`: one group, named after the entities path
    (``"Objects"`` at the top level) [guess]."""
    return {entities_path or "Objects": custom_entities(state, label, entities_path, profile)}


def custom_entity_fields(state: Any, label: Optional[str], entity: str,
                         profile: Optional[str] = None) -> List[Dict[str, Any]]:
    """DescribeConnectorEntity for a CustomConnector profile: ``ConnectorEntityField`` dicts from
    the implementation's ``describe_entity(entity)``. Raises AppFlowError:
    ResourceNotFoundException for an unregistered label or an entity the implementation does not
    know (it raised KeyError), ConnectorServerException when it fails otherwise."""
    from appflow_emu.errors import not_found

    label = _registered(state, label)
    impl = _implementation_or_default(state, label, profile)
    method = getattr(impl, "describe_entity", None)
    if method is None:
        return []
    try:
        raw = list(method(entity))
    except KeyError:
        raise not_found(f"Entity {entity} does not exist for connector {label}.") from None  # [guess] text
    except Exception as e:
        raise _connector_error(label, f"describe entity {entity}", e) from None
    return [entity_field(item) for item in raw]


def _entity(item: Any) -> Dict[str, Any]:
    if isinstance(item, str):
        return {"name": item, "label": item, "hasNestedEntities": False}
    name = str(item.get("name") or item.get("entityIdentifier") or item.get("entity_identifier") or "")
    nested = item.get("hasNestedEntities", item.get("has_nested_entities", False))
    return {"name": name, "label": str(item.get("label") or name), "hasNestedEntities": bool(nested)}


_ORDERED_TYPES = frozenset({"integer", "int", "long", "short", "double", "float", "decimal", "number", "currency",
                            "percent", "date", "datetime", "timestamp"})
_TEXT_OPERATORS = ("PROJECTION", "EQUAL_TO", "NOT_EQUAL_TO", "CONTAINS")
_ORDERED_OPERATORS = ("PROJECTION", "LESS_THAN", "GREATER_THAN", "BETWEEN", "LESS_THAN_OR_EQUAL_TO",
                      "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO", "NOT_EQUAL_TO")


def _pick(item: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    for n in names:
        if n in item and item[n] is not None:
            return item[n]
    return default


def entity_field(item: Mapping[str, Any]) -> Dict[str, Any]:
    """One field from ``describe_entity`` in AppFlow's ``ConnectorEntityField`` shape."""
    from appflow_emu.catalog.connectors import facts

    accepted = set(facts("CustomConnector").operators)
    identifier = str(_pick(item, "identifier", "name", "fieldName", "field_name", default=""))
    given_details = (item.get("supportedFieldTypeDetails") or {}).get("v1") or {}
    field_type = str(_pick(given_details, "fieldType", default=None)
                     or _pick(item, "type", "fieldType", "dataType", "data_type", default="string"))
    operators = _pick(given_details, "filterOperators", default=None)
    if operators is None:
        operators = _pick(item, "filterOperators", "filter_operators", default=None)
    if operators is None:
        wanted = _ORDERED_OPERATORS if field_type.lower() in _ORDERED_TYPES else _TEXT_OPERATORS
        operators = [op for op in wanted if op in accepted]
    # Only operators create_flow accepts for a CustomConnector source are advertised.
    operators = [op for op in operators if op in accepted]
    details: Dict[str, Any] = {**given_details, "fieldType": field_type, "filterOperators": operators}
    values = _pick(item, "supportedValues", "supported_values")
    if values is not None:
        details["supportedValues"] = [str(v) for v in values]
    out: Dict[str, Any] = {
        "identifier": identifier,
        "label": str(_pick(item, "label", default=identifier)),
        "isPrimaryKey": bool(_pick(item, "isPrimaryKey", "is_primary_key", default=False)),
        "isDeprecated": bool(_pick(item, "isDeprecated", "is_deprecated", default=False)),
        "supportedFieldTypeDetails": {"v1": details},
    }
    for name in ("description", "defaultValue", "parentIdentifier", "customProperties"):
        if item.get(name) is not None:
            out[name] = item[name]
    source = dict(item.get("sourceProperties") or {})
    source.setdefault("isRetrievable", bool(_pick(item, "isRetrievable", default=True)))
    source.setdefault("isQueryable", bool(_pick(item, "isQueryable", default=True)))
    source.setdefault("isTimestampFieldForIncrementalQueries",
                      bool(_pick(item, "isTimestampFieldForIncrementalQueries", "isTimestamp", default=False)))
    out["sourceProperties"] = source
    dest = dict(item.get("destinationProperties") or {})
    writable = not bool(_pick(item, "readOnly", "read_only", default=False))
    for name in ("isCreatable", "isNullable", "isUpsertable", "isUpdatable"):
        dest.setdefault(name, bool(_pick(item, name, default=writable)))
    dest.setdefault("isDefaultedOnCreate", bool(_pick(item, "isDefaultedOnCreate", default=False)))
    dest.setdefault("supportedWriteOperations",
                    list(_pick(item, "supportedWriteOperations", default=["INSERT", "UPSERT", "UPDATE", "DELETE"]
                               if writable else [])))
    out["destinationProperties"] = dest
    return out


# -- runs ---------------------------------------------------------------------------------------

class RunBinding:
    """A run's custom connector side: its label and the implementation plugged in for it."""

    def __init__(self, label: str, implementation: Any, flow: Any) -> None:
        self.label = label
        self.implementation = implementation
        self.flow = flow


def binding(ctx: Any, config: Mapping[str, Any]) -> Optional[RunBinding]:
    """The custom connector behind ``config`` (the run's source or destination config): None when
    nothing is plugged in for its label (the run uses the datasets). A label that is no longer
    registered (unregistered with forceDelete) fails the run."""
    from appflow_emu.simulator.core import RunFailure

    emulator = getattr(ctx, "emulator", None)
    if emulator is None:
        return None
    state = emulator.state(ctx.region, ctx.account_id)
    name = config.get("connectorProfileName")
    profile = state.connector_profiles.get(name) if name else None
    label = profile.connector_label if profile is not None else None
    if label is None:
        return None
    if label not in state.registered_connectors:
        raise RunFailure(f"The custom connector {label} of connector profile {name} is not registered.")
    found = implementation(emulator, label)
    if found is None:
        return None
    return RunBinding(label, found, state.flows.get(ctx.flow_name))


def _run_failure(label: str, what: str, error: Exception) -> Exception:
    from appflow_emu.simulator.core import RunFailure

    return RunFailure(f"The custom connector {label} failed to {what}: {type(error).__name__}: {error}")


def read_filters(tasks: List[Dict[str, Any]], window: Tuple[Optional[float], Optional[float]],
                 timestamp_field: str) -> List[Dict[str, Any]]:
    """The flow's filter conditions and the incremental window as ``read_records`` hints."""
    out: List[Dict[str, Any]] = []
    for task in tasks:
        op = next(iter((task.get("connectorOperator") or {}).values()), None)
        if task.get("taskType") != "Filter" or op in (None, "PROJECTION", "NO_OP") or not task.get("sourceFields"):
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


def read_records(ctx: Any, bound: RunBinding, entity: str, timestamp_field: str) -> Iterator[Record]:
    """The run's source records from the implementation (counted in the run's numbers)."""
    from appflow_emu.simulator.core import RunFailure
    from appflow_emu.simulator.tasks import compile_tasks

    method = getattr(bound.implementation, "read_records", None)
    if method is None:
        raise RunFailure(f"The custom connector {bound.label} cannot be used as a source: it does not read records.")
    tasks = list(bound.flow.tasks) if bound.flow is not None else []
    fields = compile_tasks(tasks, "CustomConnector").fields_read if tasks else None
    windowed = ctx.window_start is not None or ctx.window_end is not None
    if fields is not None and windowed and timestamp_field not in fields:
        fields = fields + [timestamp_field]
    filters = read_filters(tasks, (ctx.window_start, ctx.window_end), timestamp_field)
    try:
        rows = iter(method(entity, None if fields is None else list(fields), filters))
    except Exception as e:
        raise _run_failure(bound.label, f"read {entity}", e) from None
    dumps = json.dumps
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as e:
            raise _run_failure(bound.label, f"read {entity}", e) from None
        if not isinstance(row, Mapping):
            raise RunFailure(f"The custom connector {bound.label} returned a {type(row).__name__} "
                             f"instead of a record for {entity}.")
        ctx.records_read += 1
        ctx.bytes_read += len(dumps(row, default=str))
        yield dict(row)


def write_batch(bound: RunBinding, entity: str, operation: str, records: List[Record],
                id_fields: List[str]) -> List[Optional[str]]:
    """Write one batch through the implementation: one message (or None) per record."""
    from appflow_emu.simulator.core import RunFailure

    method = getattr(bound.implementation, "write_records", None)
    if method is None:
        raise RunFailure(f"The custom connector {bound.label} cannot be used as a destination: "
                         "it does not write records.")
    try:
        answer = method(entity, operation, [dict(r) for r in records], list(id_fields) or None)
    except Exception as e:
        raise _run_failure(bound.label, f"write to {entity}", e) from None
    if answer is None:
        return [None] * len(records)
    answer = list(answer)
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
