"""Server mode: AppFlow on localhost for the AWS CLI, any SDK, and a page to look at.

    from appflow_emu.server import AppFlowServer

    with AppFlowServer(port=0) as server:      # in a thread; port 0 picks a free port
        client = boto3.client("appflow", endpoint_url=server.url, region_name="us-east-1")
        server.emulator                        # the same handle as in process

``python -m appflow_emu serve`` runs one from the command line (``appflow_emu/__main__.py``).
HTTP is waitress's (a production WSGI server: HTTP/1.1 keep-alive, chunked bodies, a pool of
threads); requests and responses are werkzeug's. Both come with ``pip install "appflow_emu[server]"``.
See docs/server.md.
"""
from __future__ import annotations

import http
import io
import os
import re
import threading
import time
from typing import Any, Mapping, Optional, Union

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask
from waitress.utilities import (
    BadRequest,
    Error,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    ServerNotImplemented,
    find_double_newline,
)

from appflow_emu.backend.runtime import current_account_id
from appflow_emu.emulator import Emulator
from appflow_emu.intercept import hook
from appflow_emu.intercept.http_wire import MAX_BODY
from appflow_emu.server.wsgi import ServerApp

__all__ = ["AppFlowServer"]


THREADS = 8  # requests served at once (more wait in the queue)
GRACE = 10.0  # seconds the requests in flight get to finish when the server stops


def _never() -> bool:
    return False


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


def _answer_errors_as_the_application(server: Any, app: ServerApp) -> None:
    """Every listening socket of ``server`` (one per address its host names) makes :class:`_Channel` s,
    whose errors ``app`` words."""
    for listener in list(server._map.values()) if hasattr(server, "_map") else list(server.map.values()):
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class, listener.appflow_app = _Channel, app


class AppFlowServer:
    """The emulator behind an HTTP server in a background thread (see the module docstring).

    ``state``: a file in the snapshot format, loaded at start if it exists and saved (atomically)
    at stop. ``account_id``: the account requests act in (default ``MOTO_ACCOUNT_ID`` or
    123456789012). ``aws_endpoint``: where AppFlow's neighbours are (S3, Secrets Manager, Lambda:
    a ``moto_server`` or LocalStack; EventBridge and Glue too); ``s3_endpoint``, ``lambda_endpoint``
    and ``events_endpoint`` override it for one service; by default the embedded stand-ins, which the control API exposes. ``lambdas``:
    ``{function ARN or name: "package.module:attribute"}``, the custom connectors' Lambda functions
    run in this process (``emu.register_lambda``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5055, seed: int = 0,
                 state: Optional[Union[str, "os.PathLike[str]"]] = None, account_id: Optional[str] = None,
                 emulator: Optional[Emulator] = None, s3_endpoint: Optional[str] = None,
                 aws_endpoint: Optional[str] = None, lambda_endpoint: Optional[str] = None,
                 lambdas: Optional[Mapping[str, str]] = None, events_endpoint: Optional[str] = None) -> None:
        self.host = host
        self.port = port
        self.state = os.fspath(state) if state is not None else None
        self.account_id = account_id or current_account_id()
        self.emulator = emulator if emulator is not None else Emulator(seed=seed)
        if aws_endpoint is not None:
            self.emulator.aws_endpoint = aws_endpoint
        if s3_endpoint is not None:
            self.emulator.s3_endpoint = s3_endpoint
        if lambda_endpoint is not None:
            self.emulator.lambda_endpoint = lambda_endpoint
        if events_endpoint is not None:
            self.emulator.events_endpoint = events_endpoint
        for function, handler in (lambdas or {}).items():
            self.emulator.register_lambda(function, handler)
        self._server: Any = None
        self._thread: Optional[threading.Thread] = None
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self._server.effective_port}"

    def start(self) -> "AppFlowServer":
        if self._server is not None:
            return self
        if self.state is not None and os.path.exists(self.state):
            self.emulator.load(self.state)
        # The parser refuses a body over MAX_BODY itself (_Parser); waitress's own limit is how much
        # of one is read before the refusal (MAX_DRAIN).
        app = ServerApp(self.emulator, self.account_id)
        self._server = create_server(app, host=self.host, port=self.port,
                                     threads=THREADS, ident="appflow_emu", clear_untrusted_proxy_headers=True,
                                     max_request_body_size=MAX_DRAIN + 1,
                                     max_request_header_size=MAX_HEADER,
                                     channel_timeout=CHANNEL_TIMEOUT)  # raises OSError: the port is taken
        _answer_errors_as_the_application(self._server, app)
        # A custom connector served here reads its profile's secret with GetSecretValue: the secrets
        # this emulator keeps itself are answered in this process (intercept/hook.py).
        hook.add_secrets(self.emulator._secrets_responder)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, args=(self._server,), name="appflow_emu server",
                                        daemon=True)
        self._thread.start()
        return self

    def _serve(self, server: Any) -> None:
        """waitress's event loop, until :meth:`stop`; then stop accepting, let the requests in
        flight finish and their answers go out (at most ``GRACE`` seconds), and close."""
        loop, channels = server.asyncore.loop, server._map
        while not self._stopping.is_set():
            loop(timeout=0.05, map=channels, count=1)
        server.accepting = False
        # The listening socket only (server.close() would also close the trigger the worker threads
        # pull when an answer is ready: each would log EBADF and its answer wait for the next poll).
        wasyncore.dispatcher.close(server)
        for channel in list(channels.values()):
            if isinstance(channel, HTTPChannel):  # kept-alive connections: no new requests read
                channel.readable = _never
        dispatcher = server.task_dispatcher
        deadline = time.monotonic() + GRACE
        while time.monotonic() < deadline and (dispatcher.active_count or dispatcher.queue or any(
                getattr(c, "requests", None) or getattr(c, "total_outbufs_len", 0) for c in list(channels.values()))):
            loop(timeout=0.05, map=channels, count=1)
        for channel in list(channels.values()):
            channel.close()
        dispatcher.shutdown(cancel_pending=True, timeout=GRACE)

    def serve_forever(self) -> None:
        """Start and serve in the calling thread until :meth:`stop` is called from another."""
        self.start()
        assert self._thread is not None
        self._thread.join()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        hook.remove_secrets(self.emulator._secrets_responder)
        if self.state is not None:
            self.emulator.save(self.state)
        self.emulator._close()

    def __enter__(self) -> "AppFlowServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
