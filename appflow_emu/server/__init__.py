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

import os
import threading
import time
from typing import Any, Mapping, Optional, Union

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server

from appflow_emu.backend.runtime import current_account_id
from appflow_emu.emulator import Emulator
from appflow_emu.intercept import hook
from appflow_emu.server.waitress_layer import CHANNEL_TIMEOUT, MAX_DRAIN, MAX_HEADER, answer_errors_as_the_application
from appflow_emu.server.wsgi import ServerApp

__all__ = ["AppFlowServer"]


THREADS = 8  # requests served at once (more wait in the queue)
GRACE = 10.0  # seconds the requests in flight get to finish when the server stops


def _never() -> bool:
    return False


def state_folder_problem(state: Optional[str]) -> Optional[str]:
    """Why ``state`` (``--state``) could not be saved at shutdown (its folder missing or not writable), else None."""
    if state is None:
        return None
    folder = os.path.dirname(os.path.abspath(state))
    if not os.path.isdir(folder):
        return f"the folder {folder} does not exist: the state could not be saved there"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable: the state could not be saved there"
    return None


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
        problem = state_folder_problem(self.state)
        if problem is not None:  # found now, not at stop, when the state would be lost
            raise ValueError(f"state={self.state!r}: {problem}")
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
        answer_errors_as_the_application(self._server, app)
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
