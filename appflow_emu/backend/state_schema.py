"""The JSON Schema of a saved state document (``emu.snapshot()``, ``emu.save(path)``), version 1.

A document is checked against it before anything is restored (``backend/snapshots.py``); an error
names the first bad path. docs/state.md describes the document in words.

Values the JSON types cannot hold (datetimes, Decimals, bytes, non-finite floats, tuples, dicts
whose keys are not text) are written as ``{"$emu": kind, "value": ...}``; a dict that has a key
``"$emu"`` of its own is written as ``{"$emu": "dict", "items": [[key, value]...]}``.
"""
from __future__ import annotations

from typing import Any, Dict

FORMAT = "appflow_emu/state"
VERSION = 1

_ID = {"type": "string", "minLength": 1}
_TIME = {"type": "number"}
_OPT_TIME = {"type": ["number", "null"]}
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
        "final_result": {"type": ["object", "null"]},
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
        "private_state": {"type": ["object", "null"]},
    },
    "additionalProperties": False,  # credentials are never written
}

_REGISTRATION = {
    "type": "object",
    "required": ["label", "arn", "provisioning_type", "provisioning_config", "registered_at", "version"],
    "properties": {
        "label": _ID, "arn": _ID, "description": _OPT_TEXT, "provisioning_type": _ID,
        "provisioning_config": _OBJECT, "registered_at": _TIME, "version": {"type": "integer", "minimum": 1},
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

SCHEMA: Dict[str, Any] = {
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
        "clock_offset": {"type": "number", "minimum": 0},
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
        "not_kept": {"type": "array", "items": {
            "type": "object", "required": ["what", "account_id", "region", "name"], "additionalProperties": False,
            "properties": {"what": {"enum": ["connector_implementation", "fail_records_predicate"]},
                           "account_id": _ID, "region": _ID, "name": _ID}}},
    },
    "additionalProperties": False,
}
