"""The botocore hook: ``before-call.appflow`` claims every AppFlow client call while a mock is active.

It is registered once, at import, for every botocore session created afterwards (the way moto
registers its handler), and on boto3's default session when a mock starts; so clients created
before the mock starts are intercepted too. Clients created even before appflow_emu was imported
are reached through a wrapper of ``BaseClient._make_api_call`` installed while a mock is active. It answers before the request is signed or sent, so
no AppFlow request can reach the network whatever ``endpoint_url`` the client has. The answer is
a real HTTP-shaped response parsed by botocore's own rest-json parser: datetimes,
``ResponseMetadata`` and ``ClientError``/modelled exceptions are botocore's, exactly as with AWS.
Other services are never touched (the event name is scoped to AppFlow).
"""
from __future__ import annotations

import threading
from typing import Any, Dict, Optional, Tuple

from botocore import handlers as botocore_handlers
from botocore.awsrequest import AWSResponse
from botocore.endpoint import convert_to_response_dict
from botocore.parsers import create_parser

from appflow_emu.backend.state import Emulator, current_account_id
from appflow_emu.intercept.dispatch import find_operation, handle
from appflow_emu.model.operations import spec

EVENT = "before-call.appflow"
UNIQUE_ID = "appflow_emu.before-call"


class _Active:
    """The emulator answering calls right now (None when no mock is active)."""

    emulator: Optional[Emulator] = None


ACTIVE = _Active()
_parser_local = threading.local()


class _Body:
    __slots__ = ("_body",)

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self._body


def _parser() -> Any:
    parser = getattr(_parser_local, "parser", None)
    if parser is None:
        parser = _parser_local.parser = create_parser("rest-json")
    return parser


def before_call(model: Any = None, params: Optional[Dict[str, Any]] = None, context: Any = None,
                request_signer: Any = None, **kwargs: Any) -> Optional[Tuple[AWSResponse, Dict[str, Any]]]:
    emulator = ACTIVE.emulator
    if emulator is None or model is None or params is None:
        return None
    # botocore names the operation; only URI labels (the tags operations) need the path.
    op = spec(model.name)
    labels: Dict[str, str] = {}
    if op.uri_members:
        found = find_operation(params.get("method", "POST"), params.get("url_path", "/"))
        if found is not None and found[0].name == model.name:
            labels = found[1]
    region = (context or {}).get("client_region") or getattr(request_signer, "region_name", None) or "us-east-1"
    status, headers, body = handle(
        emulator, op, labels, params.get("query_string"), params.get("body") or b"",
        current_account_id(), region,
    )
    http = AWSResponse(params.get("url", "https://appflow.amazonaws.com/"), status, headers, _Body(body))
    parsed = _parser().parse(convert_to_response_dict(http, model), model.output_shape)
    if "ResponseMetadata" in parsed:
        parsed["ResponseMetadata"]["RetryAttempts"] = 0
    return http, parsed


_SPEC = (EVENT, before_call)


def install() -> None:
    """Register for sessions created from now on, and on boto3's default session if it exists."""
    if _SPEC not in botocore_handlers.BUILTIN_HANDLERS:
        botocore_handlers.BUILTIN_HANDLERS.append(_SPEC)
    try:
        import boto3
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return
    session = getattr(boto3, "DEFAULT_SESSION", None)
    if session is not None:
        # unique_id makes this idempotent when the session already has the built-in handler.
        session._session.register(EVENT, before_call, unique_id=UNIQUE_ID)


# -- clients created before appflow_emu was imported ------------------------------------------
# Such clients copied their session's handlers before ours existed, so the event above never
# reaches them; left alone, their calls would go to the network (to AWS, with whatever
# credentials are around). While a mock is active, BaseClient._make_api_call is wrapped: the
# first AppFlow call of each client registers the hook on that client's own emitter. The
# wrapper is removed again when the last mock stops, unless something patched over it since.
_HOOKED_ATTR = "_appflow_emu_hooked"
_patch_lock = threading.Lock()
_original_make_api_call: Any = None


def _hook_client(client: Any) -> None:
    try:
        if client.meta.service_model.service_name != "appflow":
            return
        client.meta.events.register(EVENT, before_call, unique_id=UNIQUE_ID)
        setattr(client, _HOOKED_ATTR, True)
    except AttributeError:  # not a regular botocore client
        return


def _make_api_call(self: Any, operation_name: str, api_params: Dict[str, Any]) -> Any:
    original = _original_make_api_call
    if ACTIVE.emulator is not None and not getattr(self, _HOOKED_ATTR, False):
        _hook_client(self)
    return original(self, operation_name, api_params)


def patch_clients() -> None:
    """Make every botocore client, whenever created, reach the hook (called when a mock starts)."""
    global _original_make_api_call
    from botocore.client import BaseClient

    with _patch_lock:
        current = BaseClient.__dict__.get("_make_api_call")
        if current is _make_api_call or current is None:
            return
        _original_make_api_call = current
        BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


def unpatch_clients() -> None:
    """Undo :func:`patch_clients` (called when the last mock stops)."""
    from botocore.client import BaseClient

    with _patch_lock:
        if BaseClient.__dict__.get("_make_api_call") is _make_api_call and _original_make_api_call is not None:
            BaseClient._make_api_call = _original_make_api_call  # type: ignore[method-assign]
