"""The HTTP layer of server mode: what waitress answers itself, shaped as the application's errors.

waitress (``server/__init__.py`` starts it) refuses a request that is not well-formed HTTP before
the application sees it; here its parser, error answer and channel are waitress's own classes with
the emulator's refusals and wording (docs/server.md, "What a malformed request gets").
"""
from __future__ import annotations

import http
import io
import re
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask
from waitress.utilities import (
    BadRequest,
    Error,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    ServerNotImplemented,
    find_double_newline,
)

from appflow_emu.intercept.http_wire import MAX_BODY
from appflow_emu.server.wsgi import ServerApp

# -- the HTTP layer: what waitress answers itself, shaped as the application's errors ---------------
# A request that is not HTTP/1.1 as sent (a bad Content-Length or chunk size, a malformed header or
# request line, a lowercase method, a non-ASCII path, an unsupported Transfer-Encoding, bare LF
# line endings) never reaches the application: waitress refuses it and closes the connection. Its
# answer is AWS's ([doc] "Common Errors": MalformedHttpRequestException 400, "Problems with the
# request at the HTTP level"; RequestEntityTooLargeException 413), with x-amzn-ErrorType and
# x-amzn-RequestId, in the control API's body shape on its paths (ServerApp.protocol_error).
# docs/server.md, "What a malformed request gets", lists them.

MAX_HEADER = 256 * 1024  # the request line and headers, in bytes (waitress's default) [guess: AWS's]
CHANNEL_TIMEOUT = 60  # seconds an idle or stalled connection is kept [guess: AWS load balancers' default idle timeout]
# A body over MAX_BODY is refused with one 413 on every path. Up to MAX_DRAIN bytes on the wire it
# is read to its end first (and thrown away, never held), so that a client that sends its whole
# body before it reads (most do) gets the 413 rather than a reset connection; a longer declared
# Content-Length, or one sent with "Expect: 100-continue", is refused at once. waitress counts a
# chunked body's framing (chunk sizes, extensions, trailer) against the same MAX_DRAIN.
MAX_DRAIN = 4 * MAX_BODY
_BARE_CR_OR_LF = re.compile(rb"\r(?=[^\n])|(?<!\r)\n")  # a line ending that is not CRLF
_LINE_END = re.compile(rb"[\r\n]")
INTERNAL_MESSAGE = "The server encountered an internal error."  # [guess] AWS's text


class _Discarded:
    """A request-body buffer that keeps nothing (the body of a request refused as too large)."""

    def __init__(self) -> None:
        self.length = 0

    def append(self, data: bytes) -> None:
        self.length += len(data)

    def __len__(self) -> int:
        return self.length

    def getfile(self) -> io.BytesIO:
        return io.BytesIO()

    def close(self) -> None:
        pass


class _Parser(HTTPRequestParser):
    """waitress's request parser, with the emulator's refusals made as soon as the bytes show them:
    a line ending that is not CRLF in the request line or headers (waitress would wait for a
    CRLF CRLF that never comes, until the connection times out), and a body over ``MAX_BODY``
    bytes, exactly (counting a chunked body's data, not its framing; see ``MAX_DRAIN``). It also
    keeps the request-target of the request line, so that an error found later (the headers too
    large) is still answered in the shape of its path."""

    target = ""
    too_large = False

    def received(self, data: bytes) -> int:
        if self.body_rcv is None and not self.completed:  # the request line and the headers
            head = self.header_plus + data
            if not self.target:
                self.target = _target_of(head)
            end = find_double_newline(head)
            if _BARE_CR_OR_LF.search(head if end < 0 else head[:end]):
                return self._refuse(BadRequest("Bare CR or LF found in HTTP message"), len(data))
        consumed = int(super().received(data))
        receiver = self.body_rcv
        if self.error is not None or receiver is None or self.too_large:
            if self.too_large and self.completed and self.error is None:  # drained to its end
                self._refuse(RequestEntityTooLarge(f"exceeds {MAX_BODY} bytes"), consumed)
            return consumed
        if (len(receiver) if self.chunked else self.content_length) > MAX_BODY:
            if self.expect_continue or self.completed:  # the client waits for a go-ahead, or sent it all
                return self._refuse(RequestEntityTooLarge(f"exceeds {MAX_BODY} bytes"), len(data))
            self.too_large = True  # read the rest of the body, keeping none of it
            receiver.getbuf().close()
            receiver.buf = _Discarded()
        return consumed

    def _refuse(self, error: Error, consumed: int) -> int:
        self.error, self.completed, self.expect_continue = error, True, False
        return consumed


def _target_of(head: bytes) -> str:
    """The path of the request line in ``head`` (the request's first bytes), once it is whole; else ""."""
    head = head.lstrip(b"\r\n")  # blank lines before a request are allowed
    found = _LINE_END.search(head)
    parts = head[:found.start()].split(b" ") if found else []
    if len(parts) < 2:
        return ""
    target = parts[1].split(b"?", 1)[0].split(b"#", 1)[0]
    if b"://" in target:  # the absolute form: http://host/path
        target = b"/" + target.split(b"/", 3)[3] if target.count(b"/") >= 3 else b"/"
    return target.decode("latin-1")


class _ErrorTask(ErrorTask):
    """waitress's answer to a request it refused, as the application answers errors (see above);
    the connection is then closed, as waitress does."""

    def execute(self) -> None:
        app = self.channel.server.appflow_app  # the ServerApp (not waitress's wrapping of it)
        error, path = self.request.error, self.channel.serving
        if isinstance(error, RequestEntityTooLarge):
            status, headers, body = app.protocol_error(path, app.wire.too_large())
        elif isinstance(error, (BadRequest, ServerNotImplemented)):  # RequestHeaderFieldsTooLarge too
            message = (f"The request line and headers are larger than {MAX_HEADER} bytes."
                       if isinstance(error, RequestHeaderFieldsTooLarge) else str(error.body)[:300])
            status, headers, body = app.http_error(path, "MalformedHttpRequestException", message)
        else:  # the application raised: waitress's 500, which the application never answers itself
            status, headers, body = app.http_error(path, "InternalServerException", INTERNAL_MESSAGE)
        self.status = f"{status} {http.HTTPStatus(status).phrase}"
        self.response_headers.extend((name, value) for name, value in headers.items()
                                     if name not in ("date", "content-length"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    parser_class = _Parser
    error_task_class = _ErrorTask
    serving = ""  # the path of the request being served (waitress's own 500 answers a new, blank one)

    def service(self) -> None:
        request = self.requests[0]
        self.serving = request.target or getattr(request, "path", "") or ""
        super().service()


def answer_errors_as_the_application(server: Any, app: ServerApp) -> None:
    """Every listening socket of ``server`` (one per address its host names) makes :class:`_Channel` s,
    whose errors ``app`` words."""
    for listener in list(server._map.values()) if hasattr(server, "_map") else list(server.map.values()):
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class, listener.appflow_app = _Channel, app
