"""Entity discovery: ListConnectorEntities, DescribeConnectorEntity, ResetConnectorMetadataCache.

- SaaS connectors answer from the entity catalog (``catalog/entities.py``), overridden and
  extended by what a test added with ``emu.add_entity``; nested entities (Slack channels, SAPOData
  entity sets) are listed with ``entitiesPath`` set to their parent's name.
- S3: the entities are the buckets (top level) and their prefixes (``entitiesPath`` = a bucket or
  ``bucket/prefix``); fields come from the CSV header or JSON keys of the objects under the prefix,
  read from moto's S3 while moto is active, else from the embedded store.
- Custom connectors on AWS's Lambda protocol: the connector's function is asked (ListEntitiesRequest,
  following its ``nextToken``; DescribeEntityRequest); its entities are grouped under ``Objects``
  [seen] and its fields mapped as AWS maps them (``simulator/lambda_protocol.py``). Other custom
  connectors: the Python implementation plugged in for the profile's label is asked
  (``list_entities`` / ``describe_entity``); without one, the CustomConnector datasets are the
  entities. A connector that fails is a ConnectorServerException naming it.
- Connector types without a catalog (destination-only ones) list nothing.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Tuple

from appflow_emu.aws.s3 import ObjectStore
from appflow_emu.backend.handlers import handles
from appflow_emu.backend.lambda_connectors import api_error, profile_connector
from appflow_emu.backend.pagination import decode_token, encode_token
from appflow_emu.backend.resources import ConnectorProfile
from appflow_emu.backend.runtime import Call, profile_scope
from appflow_emu.catalog.connectors import ConnectorFacts, facts
from appflow_emu.catalog.entities import Entity, Field
from appflow_emu.catalog.operators import DATETIME_TYPES, field_operators
from appflow_emu.model.errors import (
    AppFlowError,
    connector_failed_text,
    credentials_rejected,
    not_found,
    source_bucket_missing_text,
    validation,
)
from appflow_emu.model.service import has_member
from appflow_emu.simulator import formats
from appflow_emu.simulator.custom_connectors import DatasetConnector
from appflow_emu.simulator.lambda_protocol import (
    DESCRIBE_ENTITY,
    LIST_ENTITIES,
    ConnectorError,
    LambdaConnector,
    entity_fields,
)
from appflow_emu.simulator.plan import RunFailure
from appflow_emu.simulator.values import field_type_of
from appflow_emu.simulator.writes import WRITE_OPERATIONS

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
    details: Dict[str, Any] = {"fieldType": spec.field_type,
                               "filterOperators": field_operators(spec.field_type, f.operators)}
    if spec.values:
        details["supportedValues"] = list(spec.values)
    if has["supportedDateFormat"] and spec.field_type.lower() in DATETIME_TYPES:
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


def _profile(call: Call, p: Dict[str, Any]) -> Optional[ConnectorProfile]:
    """The profile the request names (its credentials must be good), or None."""
    name = p.get("connectorProfileName")
    if not name:
        return None
    profile = call.state.profile(name)
    if name in call.state.rejected_credentials:
        raise credentials_rejected(name)
    return profile


def _entity_connector(call: Call, p: Dict[str, Any]) -> str:
    """The connector type whose entities are asked for: the profile's, else connectorType."""
    profile = _profile(call, p)
    if profile is not None:
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
    return call.runtime.entities(ctype, (call.state.account_id, call.state.region))


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


@handles("ListConnectorEntities")
def list_connector_entities(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    ctype = _entity_connector(call, p)
    path = (p.get("entitiesPath") or "").strip("/") if ctype == "S3" else (p.get("entitiesPath") or "")
    _check_api_version(ctype, p)
    if ctype == "S3":
        return _page(p, _s3_list(call, path))
    if ctype == "CustomConnector":
        connector = _lambda_connector(call, p, LIST_ENTITIES)
        if connector is not None:
            try:
                listed = connector.list_entities(path or None, p.get("apiVersion"))
            except ConnectorError as e:
                raise api_error(e) from None
            return _page(p, [(LAMBDA_ENTITY_GROUP, e) for e in listed])
        # One group, named after the entities path ("Objects" at the top level) [guess].
        return _page(p, [(path or "Objects", e) for e in _custom_entities(call, p, path or None)])
    entities = catalog(call, ctype)
    if path and path not in entities:
        raise _path_not_found(path, ctype)
    level = [e for e in entities.values() if (e.parent or "") == path]
    return _page(p, [(e.group, {"name": e.name, "label": e.label, "hasNestedEntities": e.nested})
                     for e in level])


@handles("DescribeConnectorEntity")
def describe_connector_entity(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    ctype = _entity_connector(call, p)
    _check_api_version(ctype, p)
    name = p["connectorEntityName"]
    f = facts(ctype)
    if ctype == "S3":
        return {"connectorEntityFields": [describe_field(f, spec, destination=False)
                                          for spec in s3_fields(call, name)]}
    if ctype == "CustomConnector":
        connector = _lambda_connector(call, p, DESCRIBE_ENTITY)
        if connector is not None:
            try:
                definition = connector.describe_entity(name, p.get("apiVersion"))
                return {"connectorEntityFields": entity_fields(connector, definition)}
            except ConnectorError as e:
                raise api_error(e) from None
        return {"connectorEntityFields": _custom_fields(call, p, name)}
    entities = catalog(call, ctype)
    if not entities:
        return {"connectorEntityFields": []}
    entity = entities.get(name)
    if entity is None:
        raise _entity_not_found(name, ctype)
    return {"connectorEntityFields": [describe_field(f, spec) for spec in entity.fields]}


@handles("ResetConnectorMetadataCache")
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

def _s3_bucket(call: Call, name: str) -> Tuple[ObjectStore, str, str]:
    """(store, bucket, prefix) of an S3 entity name ``bucket[/prefix]``; the bucket must exist."""
    bucket, _, prefix = name.strip("/").partition("/")
    store = call.runtime.store(call.state.account_id)
    if not bucket or not store.bucket_exists(bucket):
        raise not_found(source_bucket_missing_text(bucket or name))
    return store, bucket, prefix


def _s3_list(call: Call, path: str) -> List[Tuple[str, Dict[str, Any]]]:
    if not path:
        store = call.runtime.store(call.state.account_id)
        return [("Buckets", {"name": b, "label": b, "hasNestedEntities": True})  # [guess] group names
                for b in store.buckets()]
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


def s3_fields(call: Call, name: str) -> List[Field]:
    """The fields of the objects under ``bucket/prefix``: CSV headers (all strings, as AppFlow reads
    CSV) or JSON keys (typed from their first non-null value), in first-seen order."""
    store, bucket, prefix = _s3_bucket(call, name)
    types: Dict[str, Optional[str]] = {}
    keys = [k for k in store.list(bucket, prefix) if not k.endswith("/")][:S3_OBJECTS_READ]
    for key in keys:
        body = store.get(bucket, key)
        is_json = formats.looks_like_json(body)
        try:
            rows = formats.read_jsonl(body) if is_json else formats.read_csv(body)
            for n, row in enumerate(rows):
                if n >= S3_RECORDS_READ:
                    break
                for field_name, value in row.items():
                    if types.get(field_name) is None:
                        types[field_name] = field_type_of(value) if is_json else "string"
        except RunFailure as e:
            raise validation(f"The S3 object s3://{bucket}/{key} cannot be read: {e}") from None
    return [Field(identifier=n, label=n, field_type=t or "string") for n, t in types.items()
            if n and not any(c.isspace() for c in n)]


# -- custom connectors ------------------------------------------------------------------------------

# [seen: the ListConnectorEntities captures of AWS's integration tests] a custom connector's
# entities, at every level, are listed under one group
LAMBDA_ENTITY_GROUP = "Objects"


def _lambda_connector(call: Call, p: Dict[str, Any], request_type: str) -> Optional[LambdaConnector]:
    """The Lambda-backed connector behind the request's CustomConnector profile, or None."""
    profile = _profile(call, p)
    if profile is None:
        return None
    call.state.registration(str(profile.connector_label))  # ResourceNotFoundException if gone
    try:
        return profile_connector(call.runtime, call.state, profile, request_type)
    except ConnectorError as e:
        raise api_error(e) from None


def _implementation(call: Call, p: Dict[str, Any]) -> Tuple[Optional[str], Any]:
    """(label, implementation) behind the request's CustomConnector profile: the Python object
    plugged in for the label, else the CustomConnector datasets; (None, None) without a profile."""
    profile = _profile(call, p)
    if profile is None:
        return None, None
    state = call.state
    label = state.registration(str(profile.connector_label)).label  # ResourceNotFoundException if gone
    found = state.connector_implementations.get(label)
    if found is None:
        found = DatasetConnector(call.runtime.data, profile_scope(state, profile.name))
    return label, found


def _connector_error(label: str, method: Any, what: str, error: Exception) -> AppFlowError:
    return AppFlowError("ConnectorServerException", connector_failed_text(label, what, error, method))


def _custom_entities(call: Call, p: Dict[str, Any], entities_path: Optional[str]) -> List[Dict[str, Any]]:
    """ListConnectorEntities for a CustomConnector profile: ``ConnectorEntity`` dicts (name, label,
    hasNestedEntities) from the implementation's ``list_entities(entities_path)``."""
    label, impl = _implementation(call, p)
    method = getattr(impl, "list_entities", None)
    if label is None or method is None:
        return []
    try:
        raw = list(method(entities_path) if entities_path else method())
    except Exception as e:  # the connector's own code failed
        raise _connector_error(label, method, "list entities", e) from None
    return [_entity(item) for item in raw]


def _custom_fields(call: Call, p: Dict[str, Any], entity: str) -> List[Dict[str, Any]]:
    """DescribeConnectorEntity for a CustomConnector profile: ``ConnectorEntityField`` dicts from the
    implementation's ``describe_entity(entity)``; a KeyError from it is ResourceNotFoundException."""
    label, impl = _implementation(call, p)
    method = getattr(impl, "describe_entity", None)
    if label is None or method is None:
        return []
    try:
        raw = list(method(entity))
    except KeyError:
        raise not_found(f"Entity {entity} does not exist for connector {label}.") from None  # [guess] text
    except Exception as e:
        raise _connector_error(label, method, f"describe entity {entity}", e) from None
    return [_entity_field(item) for item in raw]


def _entity(item: Any) -> Dict[str, Any]:
    if isinstance(item, str):
        return {"name": item, "label": item, "hasNestedEntities": False}
    name = str(item.get("name") or item.get("entityIdentifier") or item.get("entity_identifier") or "")
    nested = item.get("hasNestedEntities", item.get("has_nested_entities", False))
    return {"name": name, "label": str(item.get("label") or name), "hasNestedEntities": bool(nested)}


def _pick(item: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    for n in names:
        if n in item and item[n] is not None:
            return item[n]
    return default


def _entity_field(item: Mapping[str, Any]) -> Dict[str, Any]:
    """One field from ``describe_entity`` in AppFlow's ``ConnectorEntityField`` shape. Without
    ``filterOperators`` a field advertises the filters that suit its type; only operators
    create_flow accepts for a CustomConnector source are advertised."""
    accepted = facts("CustomConnector").operators
    identifier = str(_pick(item, "identifier", "name", "fieldName", "field_name", default=""))
    given_details = (item.get("supportedFieldTypeDetails") or {}).get("v1") or {}
    field_type = str(_pick(given_details, "fieldType", default=None)
                     or _pick(item, "type", "fieldType", "dataType", "data_type", default="string"))
    operators = _pick(given_details, "filterOperators", default=None)
    if operators is None:
        operators = _pick(item, "filterOperators", "filter_operators", default=None)
    if operators is None:
        operators = field_operators(field_type, accepted, filters_only=True)
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
                    list(_pick(item, "supportedWriteOperations", default=list(WRITE_OPERATIONS) if writable else [])))
    out["destinationProperties"] = dest
    return out
