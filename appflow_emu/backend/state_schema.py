"""The JSON Schema of a saved state document (``emu.snapshot()``, ``emu.save(path)``), version 1.

A document is checked against it before anything is restored (``backend/snapshots.py``); an error
names the first bad path. docs/state.md describes the document in words.

Values the JSON types cannot hold (datetimes, Decimals, bytes, non-finite floats, tuples, dicts
whose keys are not text) are written as ``{"$emu": kind, "value": ...}``; a dict that has a key
``"$emu"`` of its own is written as ``{"$emu": "dict", "items": [[key, value]...]}``.

Every number the schema takes is finite (``finite_numbers``): JSON has no NaN or Infinity, but
Python's ``json`` reads them, and a dict handed to ``restore`` may hold them. Timestamps lie within
``model/timestamps.EARLIEST``..``LATEST`` (1970 to the end of 9999), the clock offset keeps the clock
before ``clock.CLOCK_LIMIT`` (``backend/clock.py``).
"""
from __future__ import annotations

import re
import sys
from typing import Any, Callable, Dict, List, Optional

from appflow_emu.aws.glue import EXPORT_SCHEMA as GLUE_EXPORT_SCHEMA
from appflow_emu.backend.clock import CLOCK_LIMIT
from appflow_emu.model.timestamps import EARLIEST, LATEST

FORMAT = "appflow_emu/state"
VERSION = 1

_ID = {"type": "string", "minLength": 1}
_TIME = {"type": "number", "minimum": EARLIEST, "maximum": LATEST}
_OPT_TIME = {"type": ["number", "null"], "minimum": EARLIEST, "maximum": LATEST}
_OPT_TEXT = {"type": ["string", "null"]}
_OBJECT = {"type": "object"}
_ANY: Dict[str, Any] = {}
_SCOPE = {"type": "array", "items": [_ID, _ID, {"type": ["string", "null"]}], "minItems": 3, "maxItems": 3}
_REGION = {"type": "array", "items": [_ID, _ID], "minItems": 2, "maxItems": 2}
_RECORDS = {"type": "array", "items": _ANY}
_RANDOM_STATE = {"type": "array", "items": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}},
                                            {"type": ["number", "null"]}], "minItems": 3, "maxItems": 3}


def _index(item: Dict[str, Any]) -> Dict[str, Any]:
    """An insertion-ordered collection with its sequence numbers (page tokens refer to them)."""
    return {
        "type": "object",
        "required": ["items", "next_seq"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": {
                "type": "object", "required": ["seq", "item"], "additionalProperties": False,
                "properties": {"seq": {"type": "integer", "minimum": 1}, "item": item}}},
            "next_seq": {"type": "integer", "minimum": 1},
        },
    }


_EXECUTION = {
    "type": "object",
    "required": ["execution_id", "status", "started_at", "last_updated_at", "result"],
    "properties": {
        "execution_id": _ID, "status": _ID, "started_at": _TIME, "last_updated_at": _TIME,
        "result": _OBJECT, "data_pull_start": _OPT_TIME, "data_pull_end": _OPT_TIME, "trigger": _ID,
        "polls_left": {"type": "integer", "minimum": 0}, "final_status": _OPT_TEXT,
        "final_result": {"type": ["object", "null"]}, "records_written": {"type": "integer", "minimum": 0},
        "catalog_details": {"type": ["array", "null"], "items": _OBJECT},
    },
    "additionalProperties": False,
}

_FLOW = {
    "type": "object",
    "required": ["name", "arn", "status", "trigger_config", "source", "destinations", "tasks", "kms_arn",
                 "created_at", "last_updated_at", "created_by", "last_updated_by", "executions", "active"],
    "properties": {
        "name": _ID, "arn": _ID, "status": _ID, "trigger_config": _OBJECT, "source": _OBJECT,
        "destinations": {"type": "array", "items": _OBJECT, "minItems": 1}, "tasks": {"type": "array"},
        "kms_arn": _ID, "created_at": _TIME, "last_updated_at": _TIME, "created_by": _ID, "last_updated_by": _ID,
        "description": _OPT_TEXT, "metadata_catalog_config": {"type": ["object", "null"]},
        "status_message": _OPT_TEXT, "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "schema_version": {"type": "integer", "minimum": 1}, "activated_at": _OPT_TIME, "last_tick": _OPT_TIME,
        "incremental_mark": _OPT_TIME, "consecutive_failures": {"type": "integer", "minimum": 0},
        "source_label": _OPT_TEXT, "destination_label": _OPT_TEXT,
        "executions": {"type": "array", "items": _EXECUTION},
        "records_dropped": {"type": "integer", "minimum": 0},
        "active": {"type": "array", "items": _ID},
    },
    "additionalProperties": False,
}

_PROFILE = {
    "type": "object",
    "required": ["name", "arn", "connector_type", "connection_mode", "properties", "credentials_arn",
                 "created_at", "last_updated_at"],
    "properties": {
        "name": _ID, "arn": _ID, "connector_type": _ID, "connection_mode": _ID, "properties": _OBJECT,
        "credentials_arn": _ID, "created_at": _TIME, "last_updated_at": _TIME, "connector_label": _OPT_TEXT,
        "private_state": {"type": ["object", "null"]}, "authentication_type": _OPT_TEXT,
    },
    "additionalProperties": False,  # credentials are never written (they are a secret: see "secrets")
}

_REGISTRATION = {
    "type": "object",
    "required": ["label", "arn", "provisioning_type", "provisioning_config", "registered_at", "version"],
    "properties": {
        "label": _ID, "arn": _ID, "description": _OPT_TEXT, "provisioning_type": _ID,
        "provisioning_config": _OBJECT, "registered_at": _TIME, "version": {"type": "integer", "minimum": 1},
        "configuration": {"type": ["object", "null"]},
    },
    "additionalProperties": False,
}

_REGION_STATE = {
    "type": "object",
    "required": ["account_id", "region", "profiles", "flows", "registrations"],
    "properties": {
        "account_id": {"type": "string", "pattern": "^[0-9]{12}$"},
        "region": _ID,
        "kms_arn": _OPT_TEXT,
        "profiles": _index(_PROFILE),
        "flows": _index(_FLOW),
        "registrations": _index(_REGISTRATION),
        "scheduled": {"type": "array", "items": _ID},
        "next_due": {"type": "array", "items": {
            "type": "object", "required": ["flow", "schema_version", "activated_at", "due"],
            "additionalProperties": False,
            "properties": {"flow": _ID, "schema_version": {"type": "integer"}, "activated_at": _OPT_TIME,
                           "due": _TIME}}},
        "faults": {"type": "array", "items": {
            "type": "object", "required": ["flow"], "additionalProperties": False,
            "properties": {"flow": _ID, "failures": {"type": "array", "items": {"type": "string"}},
                           "polls": {"type": ["integer", "null"], "minimum": 0}}}},
        "rejected_credentials": {"type": "array", "items": _ID},
        "notifications": {"type": "array", "items": _OBJECT},
        "event_windows": {"type": "array", "items": {
            "type": "object", "required": ["flow", "start", "count"], "additionalProperties": False,
            "properties": {"flow": _ID, "start": _TIME, "count": {"type": "integer", "minimum": 0}}}},
        "client_tokens": {"type": "array", "items": {
            "type": "object", "required": ["operation", "token", "at", "digest", "answer"],
            "additionalProperties": False,
            "properties": {"operation": _ID, "token": {"type": "string"}, "at": _TIME, "digest": _ID,
                           "answer": _OBJECT}}},
    },
    "additionalProperties": False,
}

_FIELD = {
    "type": "object",
    "required": ["identifier", "label"],
    "properties": {
        "identifier": {"type": "string"}, "label": {"type": "string"}, "field_type": {"type": "string"},
        "primary_key": {"type": "boolean"}, "timestamp": {"type": "boolean"}, "read_only": {"type": "boolean"},
        "values": {"type": "array", "items": {"type": "string"}}, "nullable": {"type": "boolean"},
        "description": _OPT_TEXT,
    },
    "additionalProperties": False,
}

_ENTITY = {
    "type": "object",
    "required": ["scope", "connector_type", "name", "label", "group", "fields"],
    "properties": {
        "scope": {"oneOf": [{"type": "null"}, _REGION]}, "connector_type": _ID, "name": _ID, "label": {"type": "string"},
        "group": {"type": "string"}, "fields": {"type": "array", "items": _FIELD}, "parent": _OPT_TEXT,
        "nested": {"type": "boolean"},
    },
    "additionalProperties": False,
}

_DELIVERED_RUN = {
    "type": "object",
    "required": ["execution_id"],
    "properties": {
        "execution_id": _ID,
        "records": _RECORDS,
        "objects": {"type": "object", "required": ["bucket", "keys", "format"], "additionalProperties": False,
                    "properties": {"bucket": _ID, "keys": {"type": "array", "items": {"type": "string"}},
                                   "format": _ID}},
    },
    "oneOf": [{"required": ["records"]}, {"required": ["objects"]}],
    "additionalProperties": False,
}


# -- finite numbers ----------------------------------------------------------------------------------------
# No number is both 1 or more and 0 or less, except NaN: every comparison with NaN is false, so
# jsonschema's "minimum"/"maximum" (which refuse a number below/above the bound) let it through.
NOT_NAN = {"type": "number", "minimum": 1, "maximum": 0}
_LARGEST = sys.float_info.max


def finite_numbers(schema: Any) -> Any:
    """``schema`` with every node that takes numbers refusing NaN and the infinities: bounded by the
    largest float (when it has no tighter bound) and ``"not": NOT_NAN``."""
    if isinstance(schema, list):
        return [finite_numbers(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: Dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: finite_numbers(s) for name, s in value.items()}
        elif key in ("items", "additionalProperties", "oneOf", "not"):
            out[key] = finite_numbers(value)
        else:
            out[key] = value
    types = schema.get("type", ())
    if "number" in (types if isinstance(types, list) else [types]):
        out.setdefault("minimum", -_LARGEST)
        out.setdefault("maximum", _LARGEST)
        if "not" in out:
            raise ValueError("finite_numbers cannot add its NaN check to a schema with a 'not' of its own")
        out["not"] = NOT_NAN
    return out


SCHEMA: Dict[str, Any] = finite_numbers({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "appflow_emu saved state",
    "type": "object",
    "required": ["format", "version", "botocore", "seed", "settings", "clock_offset", "ids", "regions",
                 "entities", "data", "objects", "not_kept"],
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "botocore": {"type": "string"},
        "model_api_version": {"type": "string"},
        "seed": {"type": "integer"},
        "settings": {
            "type": "object",
            "required": ["in_progress_polls", "conflict_on_concurrent_start", "caller_arn", "quotas"],
            "additionalProperties": False,
            "properties": {
                "in_progress_polls": {"type": "integer", "minimum": 0},
                "conflict_on_concurrent_start": {"type": "boolean"},
                "caller_arn": _ID,
                "quotas": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            },
        },
        "clock_offset": {"type": "number", "minimum": 0, "maximum": CLOCK_LIMIT},
        "ids": {"type": "object", "required": ["ids", "requests"], "additionalProperties": False,
                "properties": {"ids": _RANDOM_STATE, "requests": _RANDOM_STATE}},
        "regions": {"type": "array", "items": _REGION_STATE},
        "entities": {"type": "array", "items": _ENTITY},
        "data": {
            "type": "object",
            "required": ["datasets", "tables", "events", "lookout", "delivered"],
            "additionalProperties": False,
            "properties": {
                "datasets": {"type": "array", "items": {
                    "type": "object", "required": ["connector_type", "entity", "scope", "records"],
                    "additionalProperties": False,
                    "properties": {"connector_type": _ID, "entity": {"type": "string"},
                                   "scope": {"oneOf": [{"type": "null"}, _SCOPE]}, "records": _RECORDS}}},
                "tables": {"type": "array", "items": {
                    "type": "object", "required": ["connector_type", "scope", "table", "rows"],
                    "additionalProperties": False,
                    "properties": {"connector_type": _ID, "scope": _SCOPE, "table": {"type": "string"},
                                   "rows": _RECORDS}}},
                "events": {"type": "array", "items": {
                    "type": "object", "required": ["account_id", "region", "records"], "additionalProperties": False,
                    "properties": {"account_id": _ID, "region": _ID, "records": _RECORDS}}},
                "lookout": {"type": "array", "items": {
                    "type": "object", "required": ["account_id", "region", "records"], "additionalProperties": False,
                    "properties": {"account_id": _ID, "region": _ID, "records": _RECORDS}}},
                "delivered": {"type": "array", "items": {
                    "type": "object", "required": ["account_id", "region", "flow", "runs"],
                    "additionalProperties": False,
                    "properties": {"account_id": _ID, "region": _ID, "flow": _ID,
                                   "runs": {"type": "array", "items": _DELIVERED_RUN}}}},
            },
        },
        # The embedded S3 store: bucket -> key -> base64 body; null while moto is active (moto's
        # buckets are moto's to keep).
        "objects": {"oneOf": [{"type": "null"}, {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": {"type": "string", "contentEncoding": "base64"}}}]},
        # The embedded Glue Data Catalog (aws/glue.py, EmbeddedGlue.export)
        "glue": GLUE_EXPORT_SCHEMA,
        # The embedded Secrets Manager's secrets (connector profile credentials): never their values,
        # only a reference this process resolves (aws/secrets.py, VAULT).
        "secrets": {"type": "array", "items": {
            "type": "object", "required": ["arn", "name", "created_at", "version_id", "value_ref"],
            "additionalProperties": False,
            "properties": {"arn": _ID, "name": _ID, "created_at": _TIME, "version_id": _ID,
                           "value_ref": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"}}}},
        "not_kept": {"type": "array", "items": {
            "type": "object", "required": ["what", "account_id", "region", "name"], "additionalProperties": False,
            "properties": {"what": {"enum": ["connector_implementation", "fail_records_predicate", "secret"]},
                           "account_id": _ID, "region": _ID, "name": _ID}}},
    },
    "additionalProperties": False,
})


# -- a compiled check of the schema ----------------------------------------------------------------------
# jsonschema interprets the schema node by node, about 0.3 ms per saved run: restoring 10,000 runs
# would cost seconds. ``compiled_check(SCHEMA)`` turns the keywords this schema uses into closures
# that only answer "valid or not"; a document it refuses is then checked with jsonschema, which
# words the error and names the path (tests/test_snapshots.py compares the two on many documents).

Check = Callable[[Any], bool]

_TYPES: Dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_EXACT: Dict[str, tuple] = {"object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
                            "number": (int, float), "boolean": (bool,), "null": (type(None),)}
_ANNOTATIONS = frozenset({"$schema", "title", "description", "contentEncoding"})


def _same(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema has it: 1 == 1.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def compiled_check(schema: Dict[str, Any]) -> Check:
    """A function telling whether a value is valid against ``schema`` (the draft-07 keywords
    used above; any other keyword is refused when compiling, so the two cannot drift apart)."""
    unknown = set(schema) - _ANNOTATIONS - {
        "type", "const", "enum", "required", "properties", "additionalProperties", "items", "minItems",
        "maxItems", "minimum", "maximum", "minLength", "pattern", "oneOf", "not"}
    if unknown:
        raise ValueError(f"compiled_check does not know the keywords {sorted(unknown)}")
    checks: List[Check] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        tests = [_TYPES[n] for n in names]
        exact = frozenset(t for n in names for t in _EXACT[n])  # what JSON gives: no subclass, no bool as int

        def check_type(v: Any) -> bool:
            return type(v) in exact or any(t(v) for t in tests)
        checks.append(check_type)
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v: _same(v, const))
    if "enum" in schema:
        allowed = list(schema["enum"])
        checks.append(lambda v: any(_same(v, a) for a in allowed))
    # jsonschema refuses a number below "minimum" (above "maximum"): NaN, never below nor above, passes
    if "minimum" in schema:
        low = schema["minimum"]
        checks.append(lambda v: not _TYPES["number"](v) or not v < low)
    if "maximum" in schema:
        high = schema["maximum"]
        checks.append(lambda v: not _TYPES["number"](v) or not v > high)
    if "minLength" in schema:
        shortest = schema["minLength"]
        checks.append(lambda v: not isinstance(v, str) or len(v) >= shortest)
    if "pattern" in schema:
        search = re.compile(schema["pattern"]).search
        checks.append(lambda v: not isinstance(v, str) or search(v) is not None)
    if "required" in schema:
        required = tuple(schema["required"])
        checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in required))
    if "properties" in schema or "additionalProperties" in schema:
        props = {k: compiled_check(s) for k, s in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties", True)
        extra_check: Optional[Check] = None if extra is True else (
            (lambda v: False) if extra is False else compiled_check(extra))

        get = props.get

        def check_object(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for k, item in v.items():
                c = get(k, extra_check)
                if c is not None and not c(item):
                    return False
            return True
        checks.append(check_object)
    if "items" in schema:
        items = schema["items"]
        if isinstance(items, list):
            positional = [compiled_check(s) for s in items]
            checks.append(lambda v: not isinstance(v, list) or all(c(x) for c, x in zip(positional, v)))
        elif items:
            each = compiled_check(items)

            def check_items(v: Any) -> bool:
                if not isinstance(v, list):
                    return True
                for x in v:
                    if not each(x):
                        return False
                return True
            checks.append(check_items)
    if "minItems" in schema:
        fewest = schema["minItems"]
        checks.append(lambda v: not isinstance(v, list) or len(v) >= fewest)
    if "maxItems" in schema:
        most = schema["maxItems"]
        checks.append(lambda v: not isinstance(v, list) or len(v) <= most)
    if "oneOf" in schema:
        options = [compiled_check(s) for s in schema["oneOf"]]
        checks.append(lambda v: sum(1 for c in options if c(v)) == 1)
    if "not" in schema:
        refused = compiled_check(schema["not"])
        checks.append(lambda v: not refused(v))
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    first, rest = checks[0], tuple(checks[1:])

    def check_all(v: Any) -> bool:
        if not first(v):
            return False
        for c in rest:
            if not c(v):
                return False
        return True
    return check_all


is_valid = compiled_check(SCHEMA)
