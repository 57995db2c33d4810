"""Load the installed botocore AppFlow model once; routes and error statuses come from it, and
the few places where recorded answers of the real service differ from it are written down here."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote

import botocore.loaders
from botocore.model import OperationModel, ServiceModel, Shape

SERVICE_NAME = "appflow"


@lru_cache(maxsize=None)
def service_model() -> ServiceModel:
    """The AppFlow model shipped with the installed botocore (loaded once per process)."""
    loader = botocore.loaders.create_loader()
    data = loader.load_service_model(SERVICE_NAME, "service-2")
    return ServiceModel(data, service_name=SERVICE_NAME)


def operation_names() -> List[str]:
    return list(service_model().operation_names)


@lru_cache(maxsize=None)
def operation_model(name: str) -> OperationModel:
    return service_model().operation_model(name)


# [doc] Errors of the AWS wire protocol itself, answered before an operation is known (AWS
# "Common Errors"; the status of an oversized body is [guess]; InvalidSignatureException answers a
# signature scoped to a region the endpoint does not serve, dispatch.region_refused, or to another
# service; IncompleteSignatureException an Authorization header that is not SigV4, http_wire). They are
# not in the model.
PROTOCOL_ERRORS: Dict[str, int] = {
    "MissingAuthenticationTokenException": 403,
    "InvalidSignatureException": 403,
    "IncompleteSignatureException": 403,
    "SerializationException": 400,
    "UnknownOperationException": 404,
    "RequestEntityTooLargeException": 413,
    "MalformedHttpRequestException": 400,  # a request that is not HTTP/1.1 as sent (server mode)
}


@lru_cache(maxsize=None)
def error_statuses() -> Dict[str, int]:
    """Error code -> HTTP status, from the model's error shapes, and the protocol's own errors."""
    model = service_model()
    statuses: Dict[str, int] = dict(PROTOCOL_ERRORS)
    for name in model.shape_names:
        shape = model.shape_for(name)
        if shape.metadata.get("exception"):
            error = shape.metadata.get("error") or {}
            statuses[error.get("code", name)] = int(error.get("httpStatusCode", 400))
    return statuses


# [seen] The status of a successful call when the model's ``http`` trait gives no ``responseCode``
# (the AppFlow model gives none): Cloud Custodian's recordings of real calls show TagResource and
# UntagResource answering 204 with an empty body, and DeleteFlow, ListFlows, DescribeFlow answering
# 200. Every other operation is taken to answer 200 ([guess] for those not recorded; the table in
# docs/fidelity.md says which is which).
RECORDED_SUCCESS_STATUS: Dict[str, int] = {"TagResource": 204, "UntagResource": 204}
NO_CONTENT = 204


# [seen*] How answers spell a registered (custom) connector: DescribeConnector's
# connectorConfiguration and ListConnectors' / DescribeConnectors' ConnectorDetail items report
# connectorType "CUSTOMCONNECTOR" (not the enum's "CustomConnector") and registeredBy "CUSTOM"
# (two captures of describe_connector, and the ListConnectors example of the API reference).
# Requests take only the enum's spelling: "CUSTOMCONNECTOR" as input is a ValidationException like
# any value outside the enum [guess]. Answers may carry these values outside their enum.
CUSTOM_CONNECTOR_REPORTED_TYPE = "CUSTOMCONNECTOR"
CUSTOM_CONNECTOR_REGISTERED_BY = "CUSTOM"
REPORTED_OUTSIDE_ENUM: Dict[str, Tuple[str, ...]] = {"ConnectorType": (CUSTOM_CONNECTOR_REPORTED_TYPE,)}


@lru_cache(maxsize=None)
def success_status(name: str) -> int:
    """The HTTP status of a successful ``name`` call: the model's, else the recorded one, else 200."""
    declared = operation_model(name).http.get("responseCode")
    if declared is not None:
        return int(declared)
    return RECORDED_SUCCESS_STATUS.get(name, 200)


class _Routes:
    """(method, path) -> operation, built from each operation's ``http`` trait."""

    def __init__(self) -> None:
        self.static: Dict[Tuple[str, str], str] = {}
        self.templated: List[Tuple[str, "re.Pattern[str]", str]] = []
        for name in operation_names():
            http = operation_model(name).http
            method, uri = http["method"], http["requestUri"].split("?", 1)[0]
            if "{" not in uri:
                self.static[(method, uri)] = name
            else:
                regex = re.sub(
                    r"\\\{(\w+)(\\\+)?\\\}",
                    lambda m: "(?P<%s>%s)" % (m.group(1), ".+" if m.group(2) else "[^/]+"),
                    re.escape(uri),
                )
                self.templated.append((method, re.compile(regex + r"\Z"), name))

    def find(self, method: str, path: str) -> Optional[Tuple[str, Dict[str, str]]]:
        name = self.static.get((method, path))
        if name is not None:
            return name, {}
        for m, regex, name in self.templated:
            if m == method:
                match = regex.match(path)
                if match:
                    return name, {k: unquote(v) for k, v in match.groupdict().items()}
        return None


@lru_cache(maxsize=None)
def _routes() -> _Routes:
    return _Routes()


def route(method: str, path: str) -> Optional[Tuple[str, Dict[str, str]]]:
    """Find the operation for an HTTP method and (still percent-encoded) path."""
    return _routes().find(method.upper(), path)


@lru_cache(maxsize=None)
def has_member(shape_name: str, member: str) -> bool:
    """Whether the installed model's shape has this member (older botocores have fewer)."""
    model = service_model()
    if shape_name not in model.shape_names:
        return False
    return member in getattr(model.shape_for(shape_name), "members", {})


@lru_cache(maxsize=None)
def requires_members(shape_name: str, member: str) -> bool:
    """Whether the structure ``shape_name.member`` targets has required members of its own."""
    if not has_member(shape_name, member):
        return False
    target = service_model().shape_for(shape_name).members[member]  # type: ignore[attr-defined]
    return bool(shape_metadata(target).get("required"))


# Traits a shape's ``metadata`` may carry. Older botocores expose fewer of them through
# ``Shape.metadata`` (1.20 has no ``pattern`` and no ``union``) although the model JSON they ship
# defines them; the emulator must enforce what the installed model says, so read them raw.
_CONSTRAINT_KEYS = ("required", "min", "max", "pattern", "sensitive", "enum", "idempotencyToken",
                    "error", "exception", "union", "document")


def shape_metadata(shape: Shape) -> Dict[str, Any]:
    """``shape.metadata`` plus any constraint the installed botocore's Shape does not surface."""
    meta = shape.metadata
    raw = getattr(shape, "_shape_model", None) or {}
    missing = [k for k in _CONSTRAINT_KEYS if k in raw and k not in meta]
    if not missing:
        return meta  # type: ignore[no-any-return]
    meta = dict(meta)
    for key in missing:
        meta[key] = raw[key]
    return meta
