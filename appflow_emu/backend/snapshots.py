"""Saved state: everything a :class:`~appflow_emu.backend.runtime.Runtime` holds, as one plain JSON
document, and back.

``snapshot(runtime)`` writes every account and region (profiles without their credentials, flows
with their schedule positions, incremental marks and executions, registrations, tags, armed faults,
client tokens), the entities tests added, the data plane (seeded records, warehouse tables,
events, Lookout records, what each run delivered), the embedded S3 store (not moto's buckets:
they are moto's to keep), the settings and quotas, the clock offset, and the id generators'
positions, so that ids after a restore continue as they would have. Python objects a test plugged
in (custom connector implementations, ``fail_records`` predicates) are not data: the document lists
them under ``not_kept``.

``restore(runtime, doc)`` checks the document (format, version, then the JSON Schema in
``backend/state_schema.py``, then every stored flow, connector profile and registration as the
request that made it was, ``backend/stored_definitions.py``), builds the whole state aside, and
only then swaps it in: a bad document raises
:class:`~appflow_emu.model.errors.InvalidStateError` and changes nothing.
Migrations from older format versions go in ``MIGRATIONS`` (version -> function to the next one).
"""
from __future__ import annotations

import base64
import datetime as dt
import math
from dataclasses import fields
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple

import botocore
import jsonschema

from appflow_emu.aws.secrets import secret_region
from appflow_emu.backend import clock, stored_definitions
from appflow_emu.backend.pagination import Index
from appflow_emu.backend.resources import ConnectorProfile, ConnectorRegistration, Execution, Flow
from appflow_emu.backend.runtime import FlowFaults, RegionState, Runtime
from appflow_emu.backend.state_schema import FORMAT, NOT_NAN, SCHEMA, VERSION, is_valid
from appflow_emu.catalog.entities import Entity, Field
from appflow_emu.model.errors import InvalidStateError
from appflow_emu.model.service import service_model
from appflow_emu.simulator.engine import DeliveredObjects

Doc = Dict[str, Any]

# version -> a function taking a document of that version and giving one of the next version.
MIGRATIONS: Dict[int, Callable[[Doc], Doc]] = {}

_TAG = "$emu"


# -- values that JSON cannot hold --------------------------------------------------------------------

def encode_value(value: Any, where: str = "$") -> Any:
    """A record's value as JSON (tagged where the JSON types cannot say it); TypeError naming the
    path for a value that cannot be written."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_TAG: "float", "value": repr(value)}
    if isinstance(value, dict):
        if all(type(k) is str for k in value) and _TAG not in value:
            return {k: encode_value(v, f"{where}.{k}") for k, v in value.items()}
        return {_TAG: "dict", "items": [[encode_value(k, where), encode_value(v, f"{where}[{k!r}]")]
                                        for k, v in value.items()]}
    if isinstance(value, list):
        return [encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "value": [encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dt.datetime):
        return {_TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, dt.date):
        return {_TAG: "date", "value": value.isoformat()}
    if isinstance(value, dt.time):
        return {_TAG: "time", "value": value.isoformat()}
    if isinstance(value, Decimal):
        return {_TAG: "decimal", "value": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {_TAG: "bytes", "value": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"cannot save the value at {where}: a {type(value).__name__} is not data "
                    f"(records hold JSON values, datetimes, dates, times, Decimals and bytes)")


_DECODERS: Dict[str, Callable[[Any], Any]] = {
    "float": float,
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "decimal": Decimal,
    "bytes": lambda text: base64.b64decode(text.encode("ascii"), validate=True),
}


def decode_value(value: Any, where: str = "$") -> Any:
    if isinstance(value, list):
        return [decode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if _TAG not in value:
        return {k: decode_value(v, f"{where}.{k}") for k, v in value.items()}
    kind = value[_TAG]
    try:
        if kind == "dict":
            return {_hashable(decode_value(k, where)): decode_value(v, where) for k, v in value["items"]}
        if kind == "tuple":
            return tuple(decode_value(v, where) for v in value["value"])
        return _DECODERS[kind](value["value"])
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise InvalidStateError(f"the state document has a bad value at {where}: {value!r:.120} "
                                f"({type(e).__name__}: {e})") from None


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


# -- resources ------------------------------------------------------------------------------------------

def _plain(obj: Any, skip: Tuple[str, ...] = ()) -> Doc:
    return {f.name: encode_value(getattr(obj, f.name), f.name) for f in fields(obj) if f.name not in skip}


def _flow_doc(flow: Flow) -> Doc:
    out = _plain(flow, ("executions", "active", "json_cache"))
    out["executions"] = [_plain(e) for e in flow.executions]
    out["active"] = [e.execution_id for e in flow.active]
    return out


def _flow_from(doc: Doc, where: str, place: str) -> Flow:
    values = {k: decode_value(v, k) for k, v in doc.items() if k != "active"}
    values["executions"] = [{k: decode_value(v, k) for k, v in e.items()} for e in values["executions"]]
    stored_definitions.check_flow(values, where, place)
    executions = [Execution(**e) for e in values.pop("executions")]
    by_id = {e.execution_id: e for e in executions}
    missing = [i for i in doc["active"] if i not in by_id]
    if missing:
        raise InvalidStateError(f"flow {doc['name']}: active runs {missing} are not among its executions")
    return Flow(**values, executions=executions, active=[by_id[i] for i in doc["active"]])


def _index_doc(index: Index, render: Callable[[Any], Doc]) -> Doc:
    entries, next_seq = index.entries()
    return {"items": [{"seq": seq, "item": render(item)} for _, seq, item in entries], "next_seq": next_seq}


def _index_from(doc: Doc, build: Callable[[Doc, str], Any], key: str, what: str, where: str) -> Index:
    entries = []
    for i, entry in enumerate(doc["items"]):
        item = build(entry["item"], f"{where}.items[{i}].item")
        entries.append((getattr(item, key), entry["seq"], item))
    try:
        return Index.from_entries(entries, doc["next_seq"])
    except ValueError as e:
        raise InvalidStateError(f"the state document's {what} are not in order: {e}") from None


def _region_doc(state: RegionState, not_kept: List[Doc]) -> Doc:
    faults = []
    for name, f in state.faults.items():
        faults.append({"flow": name, "failures": list(f.failures), "polls": f.polls})
        if f.record_predicate is not None:
            not_kept.append({"what": "fail_records_predicate", "account_id": state.account_id,
                             "region": state.region, "name": name})
    for label in state.connector_implementations:
        not_kept.append({"what": "connector_implementation", "account_id": state.account_id,
                         "region": state.region, "name": label})
    return {
        "account_id": state.account_id,
        "region": state.region,
        "kms_arn": state.kms_arn,
        "profiles": _index_doc(state.profiles, _plain),
        "flows": _index_doc(state.flows, _flow_doc),
        "registrations": _index_doc(state.registrations, _plain),
        "scheduled": sorted(state.scheduled),
        "next_due": [{"flow": name, "schema_version": key[0], "activated_at": key[1], "due": due}
                     for name, (key, due) in state.next_due.items()],
        "faults": faults,
        "rejected_credentials": sorted(state.rejected_credentials),
        "notifications": [dict(n) for n in state.notifications],
        "event_windows": [{"flow": name, "start": start, "count": count}
                          for name, (start, count) in sorted(state.event_windows.items())],
        "client_tokens": [{"operation": op, "token": token, "at": at, "digest": digest,
                           "answer": encode_value(dict(answer), "answer")}
                          for (op, token), (at, digest, answer) in state.client_tokens.items()],
    }


def _checked(doc: Doc, where: str, check: Callable[[Doc, str, str], None], place: str) -> Doc:
    values = {k: decode_value(v, k) for k, v in doc.items()}
    check(values, where, place)
    return values


def _region_from(doc: Doc, where: str) -> RegionState:
    """The region ``doc`` (at ``where`` in the document); every stored resource is checked as the
    request that made it was (``backend/stored_definitions.py``)."""
    state = RegionState(doc["account_id"], doc["region"])
    state.kms_arn = doc.get("kms_arn")
    place = f"account {state.account_id}, {state.region}"
    # A profile's credentials are its secret's (the document's "secrets", or moto's).
    state.profiles = _index_from(doc["profiles"], lambda p, at: ConnectorProfile(
        **_checked(p, at, stored_definitions.check_profile, place)), "name", "connector profiles", f"{where}.profiles")
    state.flows = _index_from(doc["flows"], lambda f, at: _flow_from(f, at, place), "name", "flows", f"{where}.flows")
    state.registrations = _index_from(doc["registrations"], lambda r, at: ConnectorRegistration(
        **_checked(r, at, stored_definitions.check_registration, place)), "label", "registrations",
        f"{where}.registrations")
    state.scheduled = set(doc.get("scheduled", ()))
    state.next_due = {d["flow"]: ((d["schema_version"], d["activated_at"]), d["due"]) for d in doc.get("next_due", ())}
    state.faults = {f["flow"]: FlowFaults(failures=list(f.get("failures", ())), polls=f.get("polls"))
                    for f in doc.get("faults", ())}
    state.rejected_credentials = set(doc.get("rejected_credentials", ()))
    state.notifications = [dict(n) for n in doc.get("notifications", ())]
    state.event_windows = {w["flow"]: (w["start"], w["count"]) for w in doc.get("event_windows", ())}
    state.client_tokens = {(t["operation"], t["token"]): (t["at"], t["digest"], decode_value(t["answer"], "answer"))
                           for t in doc.get("client_tokens", ())}
    unknown = [name for name in state.scheduled if name not in state.flows]
    if unknown:
        raise InvalidStateError(f"scheduled flows {unknown} do not exist in {doc['region']} "
                                f"(account {doc['account_id']})")
    return state


def _entity_doc(scope: Optional[Tuple[str, str]], connector_type: str, entity: Entity) -> Doc:
    out = _plain(entity, ("fields",))
    out["fields"] = [{**_plain(f, ("values",)), "values": list(f.values)} for f in entity.fields]
    return {"scope": list(scope) if scope is not None else None, "connector_type": connector_type, **out}


def _entity_from(doc: Doc) -> Tuple[Optional[Tuple[str, str]], str, Entity]:
    fields_ = tuple(Field(**{**f, "values": tuple(f.get("values", ()))}) for f in doc["fields"])
    entity = Entity(name=doc["name"], label=doc["label"], group=doc["group"], fields=fields_,
                    parent=doc.get("parent"), nested=doc.get("nested", False))
    scope = tuple(doc["scope"]) if doc["scope"] is not None else None
    return scope, doc["connector_type"], entity  # type: ignore[return-value]


# -- the document -------------------------------------------------------------------------------------

def _scope(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def snapshot(runtime: Runtime) -> Doc:
    """The whole state as a JSON-serialisable document (see the module docstring)."""
    with runtime.lock:
        not_kept: List[Doc] = []
        regions = []
        for state in runtime.region_states():
            with state.lock:
                regions.append(_region_doc(state, not_kept))
        data = runtime.data
        with data.lock:
            plane = data.contents()
            datasets = [{"connector_type": ct, "entity": entity, "scope": list(scope) if scope is not None else None,
                         "records": encode_value(records, f"records of {ct} {entity}")}
                        for (ct, entity, scope), records in plane["datasets"].items()]
            tables = [{"connector_type": ct, "scope": list(scope), "table": name,
                       "rows": encode_value(rows, f"rows of table {name}")}
                      for (ct, scope, name), rows in plane["tables"].items()]
            events = [{"account_id": a, "region": r, "records": encode_value(v, "events")}
                      for (a, r), v in plane["events"].items()]
            lookout = [{"account_id": a, "region": r, "records": encode_value(v, "lookout records")}
                       for (a, r), v in plane["lookout"].items()]
            delivered = []
            for (account, region, flow), runs in plane["delivered"].items():
                out_runs = []
                for execution_id, what in runs.items():
                    if isinstance(what, DeliveredObjects):
                        out_runs.append({"execution_id": execution_id, "objects": {
                            "bucket": what.bucket, "keys": list(what.keys), "format": what.file_format}})
                    else:
                        out_runs.append({"execution_id": execution_id,
                                         "records": encode_value(list(what), f"records delivered by {flow}")})
                delivered.append({"account_id": account, "region": region, "flow": flow, "runs": out_runs})
            objects = None
            if runtime.aws.s3_is_embedded():  # else the buckets are another S3's
                objects = {bucket: {key: base64.b64encode(body).decode("ascii") for key, body in keys.items()}
                           for bucket, keys in runtime.aws.s3_embedded.contents().items()}
        return {
            "format": FORMAT,
            "version": VERSION,
            "botocore": botocore.__version__,
            "model_api_version": str(service_model().api_version),
            "seed": runtime.seed,
            "settings": {
                "in_progress_polls": runtime.in_progress_polls,
                "conflict_on_concurrent_start": runtime.conflict_on_concurrent_start,
                "caller_arn": runtime.caller_arn,
                "quotas": dict(runtime.quotas),
            },
            "clock_offset": runtime.clock_offset,
            "ids": dict(zip(("ids", "requests"), map(_random_state, runtime.id_generators()))),
            "regions": regions,
            "entities": [_entity_doc(scope, ct, entity)
                         for scope, by_type in runtime.added_entities.items()
                         for ct, by_name in by_type.items() for entity in by_name.values()],
            "data": {"datasets": datasets, "tables": tables, "events": events, "lookout": lookout,
                     "delivered": delivered},
            "objects": objects,
            "secrets": runtime.aws.secrets_embedded.export(),
            "glue": runtime.aws.glue_embedded.export(),
            "not_kept": not_kept,
        }


def _random_state(generator: Any) -> List[Any]:
    version, internal, gauss = generator.getstate()
    return [version, list(internal), gauss]


def _schema_path(error: jsonschema.ValidationError) -> str:
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


_VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def check(doc: Any) -> Doc:
    """The document, migrated to the current version, if it can be restored; else InvalidStateError."""
    if not isinstance(doc, dict):
        raise InvalidStateError(f"a state document is a JSON object, got {type(doc).__name__}")
    if doc.get("format") != FORMAT:
        raise InvalidStateError(f"not an appflow_emu state document: its format is {doc.get('format')!r}, "
                                f"expected {FORMAT!r}")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidStateError(f"the state document's version must be an integer, got {version!r}")
    if version > VERSION:
        raise InvalidStateError(f"the state document is of format version {version}, made by a newer "
                                f"appflow_emu; this one reads versions up to {VERSION}")
    while version < VERSION:
        migrate = MIGRATIONS.get(version)
        if migrate is None:
            raise InvalidStateError(f"the state document is of format version {version}, which this "
                                    f"appflow_emu cannot migrate (it reads version {VERSION})")
        doc = migrate(doc)
        version = doc["version"]
    if is_valid(doc):  # the compiled check; jsonschema words what is wrong
        return doc
    errors = sorted(_VALIDATOR.iter_errors(doc), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = (f"{first.instance!r} is not a finite number" if first.validator == "not"
                   and first.validator_value == NOT_NAN else first.message)
        raise InvalidStateError(f"the state document does not match the schema at {_schema_path(first)}: "
                                f"{message:.300}{more}")
    raise InvalidStateError("the state document does not match the schema")  # the checks disagree: a bug


def restore(runtime: Runtime, doc: Any) -> List[Doc]:
    """Replace the runtime's state with the document's (nothing changes if it cannot be restored).
    Returns what the document could not keep: the objects to plug in again."""
    doc = check(doc)
    fresh = Runtime(seed=doc["seed"], strict=runtime.strict)
    try:
        settings = doc["settings"]
        fresh.in_progress_polls = settings["in_progress_polls"]
        fresh.conflict_on_concurrent_start = settings["conflict_on_concurrent_start"]
        fresh.caller_arn = settings["caller_arn"]
        fresh.quotas.update(settings["quotas"])
        try:
            fresh.clock_offset = clock.checked_offset(doc["clock_offset"], "the state document's clock_offset")
        except ValueError as bad:
            raise InvalidStateError(str(bad)) from None
        fresh.set_id_generators(_state_of(doc["ids"]["ids"], "$.ids.ids"), _state_of(doc["ids"]["requests"], "$.ids.requests"))
        for i, region_doc in enumerate(doc["regions"]):
            state = _region_from(region_doc, f"$.regions[{i}]")
            key = (state.account_id, state.region)
            if key in fresh.states:
                raise InvalidStateError(f"the state document holds account {key[0]} in {key[1]} twice")
            fresh.states[key] = state
        for entity_doc in doc["entities"]:
            scope, ct, entity = _entity_from(entity_doc)
            fresh.added_entities.setdefault(scope, {}).setdefault(ct, {})[entity.name] = entity
        data = doc["data"]
        contents = fresh.data.contents()
        for d in data["datasets"]:
            contents["datasets"][(d["connector_type"], d["entity"], _scope(d["scope"]))] = decode_value(
                d["records"], "records")
        for t in data["tables"]:
            contents["tables"][(t["connector_type"], _scope(t["scope"]), t["table"])] = decode_value(t["rows"], "rows")
        for kind in ("events", "lookout"):
            for e in data[kind]:
                contents[kind][(e["account_id"], e["region"])] = decode_value(e["records"], kind)
        for d in data["delivered"]:
            runs: Dict[str, Any] = {}
            for run in d["runs"]:
                if "objects" in run:
                    o = run["objects"]
                    runs[run["execution_id"]] = DeliveredObjects(fresh.store(d["account_id"]), o["bucket"],
                                                                 o["keys"], o["format"])
                else:
                    runs[run["execution_id"]] = decode_value(run["records"], "records")
            contents["delivered"][(d["account_id"], d["region"], d["flow"])] = runs
        objects = doc["objects"]
        buckets = {}
        if objects is not None:
            buckets = {bucket: {key: base64.b64decode(body.encode("ascii"), validate=True)
                                for key, body in keys.items()} for bucket, keys in objects.items()}
    except InvalidStateError:
        raise
    except (TypeError, ValueError, KeyError) as e:  # a value the schema admits but the state cannot take
        raise InvalidStateError(f"the state document cannot be restored: {type(e).__name__}: {e}") from None
    except RecursionError:  # a dict handed to restore may nest deeper than any state the emulator makes
        raise InvalidStateError("the state document cannot be restored: it nests values deeper than "
                                "Python's recursion limit") from None
    # Secret values are held by the process that saved them: elsewhere the secrets come back empty.
    missing = fresh.aws.secrets_embedded.replace(doc.get("secrets", []))
    try:
        fresh.aws.glue_embedded.replace(doc.get("glue", []))
    except (TypeError, ValueError, KeyError) as e:
        raise InvalidStateError(f"the state document's Glue Data Catalog cannot be restored: {e}") from None
    not_kept = list(doc["not_kept"])
    for arn in missing:
        account_id, region = secret_region(arn)
        not_kept.append({"what": "secret", "account_id": account_id, "region": region, "name": arn})
    with runtime.lock:
        fresh.aws.s3_embedded.replace_contents(buckets)
        runtime.take_state_of(fresh)
    return not_kept


_WORD = 2 ** 32  # a Mersenne Twister state: 624 words below it, then the position (0..624)


def _state_of(saved: List[Any], where: str) -> Tuple[Any, ...]:
    """``random.Random.getstate()`` as the document holds it; setstate would truncate a word past
    32 bits, and raise OverflowError past 64 or below 0, so every word is checked first."""
    version, internal, gauss = saved
    words = internal[:624]
    if (version != 3 or len(internal) != 625 or not all(0 <= w < _WORD for w in words)
            or not 0 <= internal[624] <= 624):
        raise InvalidStateError(f"the state document's id generator state at {where} is not a Mersenne "
                                "Twister state (version 3, 624 words of 32 bits, a position 0 to 624)")
    return (version, tuple(internal), gauss)
