"""Entities of a connector: ListConnectorEntities, DescribeConnectorEntity, ResetConnectorMetadataCache.

- SaaS connectors answer from the entity catalog (``appflow_emu.catalog.entities``), overridden and
  extended by what a test added with ``emu.add_entity``; nested entities (Slack channels, SAPOData
  entity sets) are listed with ``entitiesPath`` set to their parent's name.
- S3: the entities are the buckets (top level) and their prefixes (``entitiesPath`` = a bucket or
  ``bucket/prefix``); fields come from the CSV header or JSON keys of the objects under the prefix,
  read from moto's S3 while moto is active, else from the embedded store.
- Connector types without a catalog (destination-only ones, custom connectors) list nothing.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from appflow_emu.backend.pagination import decode_token, encode_token
from appflow_emu.backend.profiles import get_profile
from appflow_emu.backend.registry import operation
from appflow_emu.backend.state import Call
from appflow_emu.catalog.connectors import ConnectorFacts, facts
from appflow_emu.catalog.entities import Entity, Field, merged, operators_for
from appflow_emu.errors import AppFlowError, not_found, validation
from appflow_emu.model.service import has_member

S3_OBJECTS_READ = 20  # [guess] objects read to learn an S3 entity's fields
S3_RECORDS_READ = 100  # records read per object
DATE_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"  # [guess] supportedDateFormat of datetime fields


@lru_cache(maxsize=None)
def _members() -> Dict[str, bool]:
    return {
        "isPrimaryKey": has_member("ConnectorEntityField", "isPrimaryKey"),
        "isDeprecated": has_member("ConnectorEntityField", "isDeprecated"),
        "supportedDateFormat": has_member("FieldTypeDetails", "supportedDateFormat"),
        "isTimestamp": has_member("SourceFieldProperties", "isTimestampFieldForIncrementalQueries"),
        "isDefaultedOnCreate": has_member("DestinationFieldProperties", "isDefaultedOnCreate"),
    }


def describe_field(f: ConnectorFacts, spec: Field, destination: Optional[bool] = None) -> Dict[str, Any]:
    """One ConnectorEntityField, with only the members the installed model has."""
    has = _members()
    details: Dict[str, Any] = {"fieldType": spec.field_type, "filterOperators": operators_for(f, spec.field_type)}
    if spec.values:
        details["supportedValues"] = list(spec.values)
    if has["supportedDateFormat"] and spec.field_type.lower() in ("datetime", "timestamp"):
        details["supportedDateFormat"] = DATE_FORMAT
    out: Dict[str, Any] = {"identifier": spec.identifier, "label": spec.label}
    if has["isPrimaryKey"]:
        out["isPrimaryKey"] = spec.primary_key
    if has["isDeprecated"]:
        out["isDeprecated"] = False
    out["supportedFieldTypeDetails"] = {"v1": details}
    if spec.description:
        out["description"] = spec.description
    source: Dict[str, Any] = {"isRetrievable": True, "isQueryable": bool(details["filterOperators"])}
    if has["isTimestamp"]:
        source["isTimestampFieldForIncrementalQueries"] = spec.timestamp
    out["sourceProperties"] = source
    if f.can_be_destination if destination is None else destination:
        writable = not spec.read_only
        dest: Dict[str, Any] = {
            "isCreatable": writable, "isNullable": writable and spec.nullable,
            "isUpsertable": writable, "isUpdatable": writable,
        }
        if has["isDefaultedOnCreate"]:
            dest["isDefaultedOnCreate"] = not writable
        if f.write_operations:
            dest["supportedWriteOperations"] = list(f.write_operations) if writable else []
        out["destinationProperties"] = dest
    return out


def _entity_connector(call: Call, p: Dict[str, Any]) -> str:
    """The connector type whose entities are asked for: the profile's, else connectorType."""
    name = p.get("connectorProfileName")
    if name:
        profile = get_profile(call.state, name)
        if name in call.state.emulator.invalid_credentials:
            raise AppFlowError(
                "ConnectorAuthenticationException",
                f"The connector rejected the credentials of connector profile {name}. "
                "Update the connector profile with valid credentials.",
            )
        return profile.connector_type
    if not p.get("connectorType"):
        raise validation("Either connectorProfileName or connectorType must be provided.")
    return str(p["connectorType"])


def _check_api_version(ctype: str, p: Dict[str, Any]) -> None:
    """apiVersion must be one the connector supports when it lists any (supportedApiVersions);
    the catalog holds one version of each schema, so a supported version changes nothing. [guess]"""
    version = p.get("apiVersion")
    supported = getattr(facts(ctype), "api_versions", ())
    if version and supported and version not in supported:
        raise validation(f"API version {version} is not supported for connector {ctype.upper()}. "
                         f"Supported versions: {', '.join(supported)}")


def catalog(call: Call, ctype: str) -> Dict[str, Entity]:
    return merged(ctype, call.state.emulator.added_entities(ctype))


def _custom(call: Call, p: Dict[str, Any], function: str, arg: Any) -> Any:
    """A custom connector's entities come from its implementation (``appflow_emu.catalog.custom``),
    asked through the profile's connector label; without a profile there is nothing to ask."""
    empty: Any = {} if function == "custom_entity_map" else []
    name = p.get("connectorProfileName")
    try:
        from appflow_emu.catalog import custom
    except ImportError:  # pragma: no cover - custom connector implementations not installed
        return empty
    if not name or not hasattr(custom, function):
        return empty
    profile = get_profile(call.state, name)
    return getattr(custom, function)(call.state, profile.connector_label, arg, name)


def _entity_not_found(name: str, ctype: str) -> AppFlowError:
    # [guess] code and text: the SaaS has no such object.
    return not_found(f"Entity {name} does not exist for connector {ctype.upper()}.")


def _path_not_found(path: str, ctype: str) -> AppFlowError:
    return not_found(f"Entities path {path} does not exist for connector {ctype.upper()}.")  # [guess]


def _page(p: Dict[str, Any], items: List[Tuple[str, Dict[str, Any]]]) -> Dict[str, Any]:
    start = decode_token("entities", p.get("nextToken"))
    limit = p.get("maxResults") or len(items) or 1
    grouped: Dict[str, List[Dict[str, Any]]] = {}
    for group, entry in items[start:start + limit]:
        grouped.setdefault(group, []).append(entry)
    out: Dict[str, Any] = {"connectorEntityMap": grouped}
    if start + limit < len(items):
        out["nextToken"] = encode_token("entities", start + limit)
    return out


@operation("ListConnectorEntities")
def list_connector_entities(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    ctype = _entity_connector(call, p)
    path = (p.get("entitiesPath") or "").strip("/") if ctype == "S3" else (p.get("entitiesPath") or "")
    _check_api_version(ctype, p)
    if ctype == "S3":
        return _page(p, _s3_list(call, path))
    if ctype == "CustomConnector":
        return _page(p, [(group, e) for group, es in _custom(call, p, "custom_entity_map", path or None).items()
                         for e in es])
    entities = catalog(call, ctype)
    if path and path not in entities:
        raise _path_not_found(path, ctype)
    level = [e for e in entities.values() if (e.parent or "") == path]
    return _page(p, [(e.group, {"name": e.name, "label": e.label, "hasNestedEntities": e.nested})
                     for e in level])


@operation("DescribeConnectorEntity")
def describe_connector_entity(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    ctype = _entity_connector(call, p)
    _check_api_version(ctype, p)
    name = p["connectorEntityName"]
    f = facts(ctype)
    if ctype == "S3":
        return {"connectorEntityFields": [describe_field(f, spec, destination=False)
                                          for spec in s3_fields(call, name)]}
    if ctype == "CustomConnector":
        return {"connectorEntityFields": _custom(call, p, "custom_entity_fields", name)}
    entities = catalog(call, ctype)
    if not entities:
        return {"connectorEntityFields": []}
    entity = entities.get(name)
    if entity is None:
        raise _entity_not_found(name, ctype)
    return {"connectorEntityFields": [describe_field(f, spec) for spec in entity.fields]}


@operation("ResetConnectorMetadataCache")
def reset_connector_metadata_cache(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    """Nothing is cached, so nothing to reset; what it names must exist. [guess]"""
    ctype = _entity_connector(call, p)
    name, path = p.get("connectorEntityName"), p.get("entitiesPath")
    if ctype == "S3":
        for target in (name, path):
            if target:
                _s3_bucket(call, target)
        return {}
    entities = catalog(call, ctype)
    if not entities:
        return {}
    if name and name not in entities:
        raise _entity_not_found(name, ctype)
    if path and path not in entities:
        raise _path_not_found(path, ctype)
    return {}


# -- S3 ---------------------------------------------------------------------------------------------

def _s3_bucket(call: Call, name: str) -> Tuple[Any, str, str]:
    """(store, bucket, prefix) of an S3 entity name ``bucket[/prefix]``; the bucket must exist."""
    bucket, _, prefix = name.strip("/").partition("/")
    store = call.state.emulator.data.store()
    if not bucket or not store.bucket_exists(bucket):
        raise not_found(f"The S3 bucket {bucket or name} does not exist or is not accessible.")  # [guess]
    return store, bucket, prefix


def _bucket_names(store: Any) -> List[str]:
    names = getattr(store, "buckets", None)
    if callable(names):  # a store that can list its buckets
        return sorted(names())
    client = getattr(store, "_client", None)
    if client is not None:  # moto's S3
        return sorted(b["Name"] for b in client.list_buckets().get("Buckets", ()))
    lock, buckets = getattr(store, "_lock", None), getattr(store, "_buckets", {})
    if lock is None:
        return sorted(buckets)
    with lock:
        return sorted(buckets)


def _s3_list(call: Call, path: str) -> List[Tuple[str, Dict[str, Any]]]:
    if not path:
        store = call.state.emulator.data.store()
        return [("Buckets", {"name": b, "label": b, "hasNestedEntities": True})  # [guess] group names
                for b in _bucket_names(store)]
    store, bucket, prefix = _s3_bucket(call, path)
    below = f"{prefix}/" if prefix else ""
    folders: Dict[str, bool] = {}
    for key in store.list(bucket, below):
        rest = key[len(below):]
        head, slash, tail = rest.partition("/")
        if slash and head:
            folders[head] = folders.get(head, False) or "/" in tail
    return [("Prefixes", {"name": f"{bucket}/{below}{folder}", "label": folder, "hasNestedEntities": deeper})
            for folder, deeper in sorted(folders.items())]


def _json_type(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, (dict, list)):
        return "struct" if isinstance(value, dict) else "list"
    return "string"


def s3_fields(call: Call, name: str) -> List[Field]:
    """The fields of the objects under ``bucket/prefix``: CSV headers (all strings, as AppFlow reads
    CSV) or JSON keys (typed from their first non-null value), in first-seen order."""
    from appflow_emu.simulator import formats
    from appflow_emu.simulator.core import RunFailure

    store, bucket, prefix = _s3_bucket(call, name)
    types: Dict[str, Optional[str]] = {}
    keys = [k for k in store.list(bucket, prefix) if not k.endswith("/")][:S3_OBJECTS_READ]
    for key in keys:
        body = store.get(bucket, key)
        is_json = body.lstrip()[:1] in (b"{", b"[")
        try:
            rows = formats.read_jsonl(body) if is_json else formats.read_csv(body)
            for n, row in enumerate(rows):
                if n >= S3_RECORDS_READ:
                    break
                for field_name, value in row.items():
                    if types.get(field_name) is None:
                        types[field_name] = _json_type(value) if is_json else "string"
        except RunFailure as e:
            raise validation(f"The S3 object s3://{bucket}/{key} cannot be read: {e}") from None
    return [Field(identifier=n, label=n, field_type=t or "string") for n, t in types.items()
            if n and not any(c.isspace() for c in n)]

