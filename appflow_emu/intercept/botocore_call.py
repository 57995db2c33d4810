"""Answering one botocore AppFlow call: dispatch it, then build the ``AWSResponse`` and parse it
with botocore's own rest-json parser, exactly as botocore would parse AWS's answer (datetimes,
``ResponseMetadata``, ``ClientError`` and the modelled exceptions are all botocore's).

A client of a region where AppFlow does not exist (``model/regions.py``) and the test did not add
(``emu.extra_regions``) gets what botocore raises when the endpoint's host name does not resolve:
``EndpointConnectionError`` naming the URL it would have sent to, after ``after-call-error``, as
from a real send. botocore's retry handler would first retry it (legacy mode: 4 retries; standard
and adaptive: 2), sleeping between attempts; the emulator raises at once (nothing sleeps). A client
with an ``endpoint_url`` of its own (a host not named after the region) reaches a host that
answers: it gets what the server answers such a request (``dispatch.region_refused``)."""
from __future__ import annotations

import socket
import threading
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

from botocore.awsrequest import AWSHTTPConnection, AWSHTTPSConnection, AWSResponse
from botocore.endpoint import convert_to_response_dict
from botocore.exceptions import EndpointConnectionError
from botocore.parsers import create_parser
from urllib3.exceptions import NewConnectionError

try:  # urllib3 2 says a name did not resolve with its own subclass
    from urllib3.exceptions import NameResolutionError
except ImportError:  # urllib3 1.26 (botocore 1.20's)
    NameResolutionError = None  # type: ignore[assignment, misc]

from appflow_emu.backend.runtime import DEFAULT_REGION, Runtime, current_account_id
from appflow_emu.intercept.dispatch import find_operation, handle, region_refused
from appflow_emu.model.operation_specs import OperationSpec, spec

DEFAULT_URL = "https://appflow.amazonaws.com/"
_LOCAL_LOCK = threading.Lock()


class _Body:
    __slots__ = ("_body",)

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self._body


class Answering:
    """Answers as botocore reads a service's answer: an ``AWSResponse`` of the given bytes, parsed
    by botocore's own parser for the service's protocol (one parser per thread: they keep state)."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self._local: Any = None  # made on the first answer: a mock started for a test that makes no call pays nothing

    def _parser(self) -> Any:
        local = self._local
        if local is None:
            with _LOCAL_LOCK:
                local = self._local = self._local or threading.local()
        parser = getattr(local, "parser", None)
        if parser is None:
            parser = local.parser = create_parser(self.protocol)
        return parser

    def answer(self, url: str, status: int, headers: Dict[str, str], body: bytes,
               model: Any) -> Tuple[AWSResponse, Dict[str, Any]]:
        # botocore-stubs type the headers as HTTPHeaders; AWSResponse wraps any mapping (HeadersDict).
        http = AWSResponse(url, status, headers, _Body(body))  # type: ignore[arg-type]
        parsed = self._parser().parse(convert_to_response_dict(http, model), model.output_shape)
        if "ResponseMetadata" in parsed:
            parsed["ResponseMetadata"]["RetryAttempts"] = 0
        return http, parsed


class BotocoreResponder(Answering):
    """Callable the hook hands every claimed call to while a mock is active (one per emulator)."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__("rest-json")
        self.runtime = runtime
        self._specs: Dict[str, OperationSpec] = {}

    def __call__(self, model: Any, params: Dict[str, Any], context: Any,
                 request_signer: Any) -> Optional[Tuple[AWSResponse, Dict[str, Any]]]:
        # botocore names the operation; only URI labels (the tags operations) need the path.
        op = self._specs.get(model.name)
        if op is None:
            op = self._specs[model.name] = spec(model.name)
        labels: Dict[str, str] = {}
        if op.uri_members:
            found = find_operation(params.get("method", "POST"), params.get("url_path", "/"))
            if found is not None and found[0].name == model.name:
                labels = found[1]
        runtime = self.runtime
        region = (context.get("client_region") if context else None) or \
            getattr(request_signer, "region_name", None) or DEFAULT_REGION
        served = runtime.served_region(region)
        if served is None:
            url = params.get("url", DEFAULT_URL)
            if region not in (urlsplit(url).hostname or "").split("."):
                # The client names its own endpoint (endpoint_url): a host that answers. [guess] as
                # the server does, since the emulator stands for whatever that host is.
                return self.answer(url, *region_refused(runtime, region), model)
            raise unreachable(model, params, context, request_signer)
        status, headers, body = handle(
            runtime, op, labels, params.get("query_string"), params.get("body") or b"",
            current_account_id(), served, prune=False,  # botocore's parser reads only what the model has
        )
        return self.answer(params.get("url", DEFAULT_URL), status, headers, body, model)


def unreachable(model: Any, params: Dict[str, Any], context: Any, request_signer: Any) -> EndpointConnectionError:
    """What botocore raises for a request to a host that does not resolve: the URL the request
    would have gone to (the client's endpoint, path and query string, as botocore prepared them),
    with the resolver's error. Like ``BaseClient._make_request``, the client's ``after-call-error``
    event is emitted first (the request signer holds the client's event emitter)."""
    url = params.get("url", DEFAULT_URL)
    error = EndpointConnectionError(endpoint_url=url, error=_resolution_error(url))
    events = getattr(request_signer, "_event_emitter", None)
    if events is not None:
        service_id = model.service_model.service_id.hyphenize()
        events.emit(f"after-call-error.{service_id}.{model.name}", exception=error, context=context)
    return error


def _resolution_error(url: str) -> Exception:
    """urllib3's error for a host name that does not resolve, as botocore wraps it (the text of the
    resolver's error is Linux's)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme != "http"
    connection = (AWSHTTPSConnection if secure else AWSHTTPConnection)(host, parts.port or (443 if secure else 80))
    reason = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    if NameResolutionError is not None:
        return NameResolutionError(host, connection, reason)
    return NewConnectionError(connection, f"Failed to establish a new connection: {reason}")
