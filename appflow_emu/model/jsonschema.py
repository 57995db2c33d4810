"""JSON Schema (draft 2020-12) generated from the model: the contract, an export, a test oracle.

The hot path never uses it (see performance.md: interpretive validation costs ~20x a compiled
check); tests use it as a second, independent implementation of the same rules.
"""
from __future__ import annotations

from typing import Any, Dict

from botocore.model import Shape

from appflow_emu.model.javaregex import translate
from appflow_emu.model.service import operation_model, shape_metadata


def _schema(shape: Shape, defs: Dict[str, Any]) -> Dict[str, Any]:
    ref = {"$ref": f"#/$defs/{shape.name}"}
    if shape.name in defs:
        return ref
    defs[shape.name] = {}  # reserve (recursive shapes)
    meta = shape_metadata(shape)
    t = shape.type_name
    s: Dict[str, Any]
    if t == "structure":
        s = {"type": "object", "properties": {}}
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            s["properties"][name] = _schema(member, defs)
        if meta.get("required"):
            s["required"] = list(meta["required"])
        if meta.get("union"):
            s["maxProperties"] = 1
    elif t == "list":
        s = {"type": "array", "items": _schema(shape.member, defs)}  # type: ignore[attr-defined]
        if "min" in meta:
            s["minItems"] = meta["min"]
        if "max" in meta:
            s["maxItems"] = meta["max"]
    elif t == "map":
        key = shape.key  # type: ignore[attr-defined]
        s = {"type": "object", "additionalProperties": _schema(shape.value, defs)}  # type: ignore[attr-defined]
        key_schema: Dict[str, Any] = {}
        key_meta = shape_metadata(key)
        if key_meta.get("pattern"):
            key_schema["pattern"] = _anchored(key_meta["pattern"])
        if key_meta.get("max") is not None:
            key_schema["maxLength"] = key_meta["max"]
        if key_meta.get("min") is not None:
            key_schema["minLength"] = key_meta["min"]
        if getattr(key, "enum", None):
            key_schema["enum"] = list(key.enum)
        if key_schema:
            s["propertyNames"] = key_schema
        if "min" in meta:
            s["minProperties"] = meta["min"]
        if "max" in meta:
            s["maxProperties"] = meta["max"]
    elif t == "string":
        s = {"type": "string"}
        if getattr(shape, "enum", None):
            s["enum"] = list(shape.enum)  # type: ignore[attr-defined]
        if "min" in meta:
            s["minLength"] = meta["min"]
        if "max" in meta:
            s["maxLength"] = meta["max"]
        if meta.get("pattern"):
            s["pattern"] = _anchored(meta["pattern"])
    elif t in ("integer", "long"):
        s = {"type": "integer"}
        if "min" in meta:
            s["minimum"] = meta["min"]
        if "max" in meta:
            s["maximum"] = meta["max"]
    elif t in ("double", "float"):
        s = {"type": "number"}
    elif t == "boolean":
        s = {"type": "boolean"}
    elif t == "timestamp":
        s = {"type": "number", "description": "epoch seconds"}
    else:
        s = {"type": "string"}
    if shape.documentation:
        pass  # documentation is HTML in the model; left out to keep the export small
    defs[shape.name] = s
    return ref


def _anchored(pattern: str) -> str:
    """JSON Schema patterns search; the service matches the whole value."""
    return "^(?:" + translate(pattern) + ")$"


def operation_schema(name: str, output: bool = False) -> Dict[str, Any]:
    op = operation_model(name)
    shape = op.output_shape if output else op.input_shape
    defs: Dict[str, Any] = {}
    root = _schema(shape, defs) if shape is not None else {"type": "object"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"AppFlow {name} {'response' if output else 'request'}",
        **root,
        "$defs": defs,
    }
