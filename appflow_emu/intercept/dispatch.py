"""One request, end to end, at the HTTP level: method, path, query and body in; status,
headers and body out. Nothing here is written per operation. The botocore hook answers through
it; an HTTP server can too."""
from __future__ import annotations

import hashlib
import json
import time
from email.utils import formatdate
from typing import Any, Dict, Optional, Tuple

from appflow_emu.aws.moto import NeighbourRefused
from appflow_emu.backend import HANDLERS
from appflow_emu.backend.handlers import PartlyEncoded, encode_answer, encode_json
from appflow_emu.backend.notifications import deliver
from appflow_emu.backend.runtime import Call, RegionState, Runtime
from appflow_emu.backend.schedules import catch_up
from appflow_emu.model.errors import AppFlowError, EmulatorError
from appflow_emu.model.json_body import JsonBodyError, read_json
from appflow_emu.model.operation_specs import OperationSpec, spec
from appflow_emu.model.service import error_statuses, route
from appflow_emu.model.validate import format_errors, format_path

Response = Tuple[int, Dict[str, str], bytes]

_dumps_sorted = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode


class _DateHeader:
    """The ``date`` header's text, made once per second (it changes no more often)."""

    second = -1.0
    text = ""


def _date() -> str:
    now = time.time()
    cached = _DateHeader
    if now // 1 != cached.second:
        cached.text, cached.second = formatdate(now, usegmt=True), now // 1
    return cached.text


def _headers(request_id: str, body: bytes) -> Dict[str, str]:
    return {
        "date": _date(),
        "content-type": "application/json",
        "content-length": str(len(body)),
        "x-amzn-requestid": request_id,
    }


def error_response(runtime: Runtime, code: str, message: str) -> Response:
    """An AWS-shaped error: a model error, or one of the protocol's own (model/service.PROTOCOL_ERRORS)."""
    try:
        body = encode_json({"message": message}).encode()
    except UnicodeEncodeError:  # a lone surrogate the message echoes: escaped, the text stays JSON
        body = json.dumps({"message": message}).encode()
    headers = _headers(runtime.new_request_id(), body)
    headers["x-amzn-errortype"] = code
    status = error_statuses().get(code)
    if status is None:
        raise EmulatorError(f"appflow_emu raised {code!r}, which the installed AppFlow model does not define")
    return status, headers, body


def neighbour_refusal(exc: NeighbourRefused) -> Tuple[str, str]:
    """The AppFlow error for a call that needed a neighbour which refused it (S3 denying the
    ListObjectsV2 of ListConnectorEntities on an S3 profile...): ConnectorServerException, the
    error AppFlow gives for a connector's own failure, with the neighbour's code and message [guess]."""
    on = f" on {exc.resource}" if exc.resource else ""
    return ("ConnectorServerException",
            f"{exc.service} refused {exc.operation}{on}: {exc.code}: {exc.message}".rstrip(": "))


def region_refused(runtime: Runtime, region: str) -> Response:
    """The answer to a request signed for a region where the emulator does not serve AppFlow
    (``Runtime.served_region``) that reached it anyway: the server, or a client with its own
    ``endpoint_url``. [guess] What an AWS endpoint answers a signature scoped to a region that is not
    one (IAM's SigV4 troubleshooting guide: "Credential should be scoped to a valid Region")."""
    return error_response(runtime, "InvalidSignatureException",
                          f"Credential should be scoped to a valid region, not '{region}'.")


IDEMPOTENCY_WINDOW = 8 * 3600  # [doc] "The token is active for 8 hours"


def _idempotent(state: Any, name: str, token: str, call: Call, params: Dict[str, Any], handler: Any) -> Any:
    """A retry with the same client token and the same request gets the first answer again;
    the same token with a different request is a ConflictException ([guess] code)."""
    key = (name, token)
    # A digest, not the request: requests carry credentials, which the handle must never show.
    digest = hashlib.sha256(_dumps_sorted(params).encode()).hexdigest()
    seen = state.client_tokens.get(key)
    if seen is not None and call.now - seen[0] < IDEMPOTENCY_WINDOW:
        if seen[1] == digest:
            return seen[2]
        raise AppFlowError(
            "ConflictException",
            f"The client token {token} was already used with a different {name} request.",
        )
    result = handler(call, params)
    tokens = state.client_tokens
    tokens.pop(key, None)
    tokens[key] = (call.now, digest, result)
    # Oldest first (insertion order): drop the tokens that are past the window.
    while tokens:
        oldest = next(iter(tokens))
        if call.now - tokens[oldest][0] < IDEMPOTENCY_WINDOW:
            break
        del tokens[oldest]
    return result


def _pruned(op: OperationSpec, result: Dict[str, Any]) -> Dict[str, Any]:
    """The answer without the members the installed model lacks (a partly encoded answer keeps
    its encoded text when nothing was dropped)."""
    if type(result) is PartlyEncoded:
        plain = dict(result)
        pruned = op.prune_output(plain)
        return result if pruned is plain else pruned  # type: ignore[no-any-return]
    return op.prune_output(result)  # type: ignore[no-any-return]


def serialization_message(exc: JsonBodyError) -> str:
    """The message of the SerializationException for a body ``read_json`` refused. [guess] AWS's
    text: a syntax error keeps the emulator's long-standing sentence; any other refusal (not
    UTF-8, too deep, a lone surrogate, a number no double holds) says why."""
    if exc.syntax:
        return "Could not parse the request body as JSON."
    return f"Could not parse the request body as JSON: {exc.reason}."


def find_operation(method: str, path: str) -> Optional[Tuple[OperationSpec, Dict[str, str]]]:
    found = route(method, path)
    if found is None:
        return None
    return spec(found[0]), found[1]


def handle(
    runtime: Runtime,
    op: OperationSpec,
    labels: Dict[str, str],
    query: Optional[Dict[str, Any]],
    body: bytes,
    account_id: str,
    region: str,
    prune: bool = True,
) -> Response:
    """Answer one request for ``op``. AppFlowError becomes an AWS-shaped error response; any
    other exception is a bug in the emulator and becomes an EmulatorError naming it.

    ``prune``: drop response members the installed model lacks (handlers answer in the newest
    model's shape; see model/prune.py). A caller whose client parses the answer with the installed
    model may skip it: botocore's parser reads only the members the model has, so what the user
    gets is the same either way. Strict mode always prunes, then checks.

    The flow notifications the operation published are put on EventBridge after the region's lock
    is released (``backend/notifications.deliver``)."""
    state: Optional[RegionState] = None
    try:
        if body and body != b"{}":
            try:
                params = read_json(body)
            except JsonBodyError as exc:  # not UTF-8, not JSON, too deep, a lone surrogate (model/json_body.py)
                raise AppFlowError("SerializationException", serialization_message(exc))
            if type(params) is not dict:
                raise AppFlowError("SerializationException", "The request body must be a JSON object.")
        else:
            params = {}
        if labels or query:
            params = op.params_from_wire(params, labels, query or {})
        check = op.check_input
        if check is not None:
            errors: list = []
            check(params, None, errors)
            if errors:
                raise AppFlowError("ValidationException", format_errors(errors))
        handler = HANDLERS.get(op.name)
        if handler is None:
            raise EmulatorError(
                f"appflow_emu does not implement {op.name}, which the installed botocore's AppFlow "
                "model has; please report it"
            )
        state = runtime.state(region, account_id)
        call = Call(runtime, state, op.name, account_id)
        with state.lock:
            if state.scheduled:
                catch_up(runtime, state, call.now)  # scheduled runs whose ticks the clock has passed
            token = params.get(op.idempotency_member) if op.idempotency_member else None
            if token is None:
                result = handler(call, params)
            else:
                result = _idempotent(state, op.name, token, call, params, handler)
        if prune or runtime.strict:
            result = _pruned(op, result)
        if runtime.strict and op.check_output is not None:
            errors = []
            op.check_output(dict(result) if type(result) is PartlyEncoded else result, None, errors)
            if errors:
                where = "; ".join(f"{format_path(p)}: {c}" for p, c, _, _ in errors)
                raise EmulatorError(f"appflow_emu produced an invalid {op.name} response: {where}")
        out = b"" if op.empty_body else encode_answer(result).encode()
    except AppFlowError as exc:
        answer = error_response(runtime, exc.code, exc.message)
    except NeighbourRefused as exc:  # S3 (or another neighbour) refused what the operation reads
        answer = error_response(runtime, *neighbour_refusal(exc))
    except EmulatorError:
        raise
    except Exception as exc:
        raise EmulatorError(
            f"appflow_emu failed while handling {op.name}: {type(exc).__name__}: {exc} "
            "(this is a bug in appflow_emu, not an AppFlow answer; please report it)"
        ) from exc
    else:
        answer = op.success_status, _headers(runtime.new_request_id(), out), out
    if state is not None and state.outbox:
        deliver(runtime, state)
    return answer
