"""The server's WSGI application: AppFlow's wire protocol, and the control API and page under
``/_appflow_emu/``. werkzeug parses HTTP (keep-alive, chunked bodies); nothing here is written
per AppFlow operation: requests go to the emulator's ``HttpResponder`` (``intercept/http_wire.py``),
the same dispatch as the in-process hook."""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Optional
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from appflow_emu.emulator import Emulator
from appflow_emu.intercept.dispatch import Response as Answer
from appflow_emu.intercept.dispatch import error_response
from appflow_emu.intercept.http_wire import MAX_BODY
from appflow_emu.server.control import CONTROL_PREFIX, ControlAPI


def _raw_path(environ: dict) -> str:
    """The request path as the client sent it (still percent-encoded: an ARN in the tags path
    holds ``%2F``, which PATH_INFO has already decoded)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw).split("?", 1)[0]
    return quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")


def is_control_path(path: str) -> bool:
    """Whether ``path`` is the control API's or its page's (``/_appflow_emu`` and under it)."""
    return path == CONTROL_PREFIX.rstrip("/") or path.startswith(CONTROL_PREFIX)


class ServerApp:
    def __init__(self, emulator: Emulator, account_id: str) -> None:
        self.emulator = emulator
        self.account_id = account_id
        self.wire = emulator._http_responder(account_id)
        self.control = ControlAPI(emulator, account_id)

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        path = _raw_path(environ)
        body = self._body(request)
        if body is None:  # one limit and one answer on every path, AppFlow's and the control API's
            response = _response(*self.protocol_error(path, self.wire.too_large()))
        elif is_control_path(path):
            response = self.control.dispatch(request, path[len(CONTROL_PREFIX):], body)
        else:
            status, headers, out = self.wire(request.method, path, request.args.to_dict(flat=False),
                                             request.headers, body)
            response = _response(status, headers, out)
        return response(environ, start_response)

    def protocol_error(self, path: str, answer: Answer) -> Answer:
        """An error of the HTTP layer, answered before any operation or verb (the body limit here; a
        malformed request, from waitress, server/__init__.py): ``answer`` is AppFlow's error
        (``dispatch.error_response``). On the control API's paths the body takes the control API's
        shape, ``{"error": code, "message": ...}``, with the same headers (``x-amzn-ErrorType``
        included), so that either kind of client reads it."""
        status, headers, body = answer
        if not is_control_path(path):
            return answer
        code = headers["x-amzn-errortype"]
        body = json.dumps({"error": code, "message": json.loads(body)["message"]}).encode()
        return status, {**headers, "content-length": str(len(body))}, body

    def http_error(self, path: str, code: str, message: str) -> Answer:
        """:meth:`protocol_error` for a protocol error ``code`` (``model/service.PROTOCOL_ERRORS``)."""
        return self.protocol_error(path, error_response(self.wire.runtime, code, message))

    @staticmethod
    def _body(request: Request) -> Optional[bytes]:
        """The request body, or None when it is over ``MAX_BODY`` bytes (a declared length over it
        is not read). Under waitress the parser has already refused those (server/__init__.py):
        this holds the limit under any other WSGI server."""
        length = request.content_length
        if length is not None and length > MAX_BODY:
            return None
        body = request.stream.read(MAX_BODY + 1)
        return None if len(body) > MAX_BODY else body


def _response(status: int, headers: dict, body: bytes) -> Response:
    """The answer as werkzeug sends it (which adds its own ``Date``)."""
    response = Response(body, status=status)
    for name, value in headers.items():
        if name != "date":
            response.headers[name] = value
    return response
