"""Reaching moto's services, or the services at an endpoint URL, with botocore clients.

``moto_active()`` is the one test of whether moto's ``mock_aws`` is active; ``client(service,
account_id, region, endpoint_url)`` is a botocore client, created once per (service, account,
region, endpoint) and cached, that acts in ``account_id`` (moto's ``x-moto-account-id`` header, so
it does not depend on the fake access key) and never retries. moto is never imported here: if the
test never imported it, it cannot be active.

What such a service answers with an error (a bucket policy that denies, a secret that is gone, an
endpoint that is down) is :class:`NeighbourRefused`, the one error every port raises for it
(:func:`refused` makes it from botocore's): the layers above turn it into a failed run, or a
failed call, as AppFlow reports it. It is never a bug of the emulator.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Dict, Optional, Tuple

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# moto's own fake credentials: only for signing, moto checks nothing
FAKE_KEY = "FOOBARKEY"
FAKE_SECRET = "FOOBARSECRET"


def moto_active() -> bool:
    """True while ``moto.mock_aws`` (moto 5; ``mock_s3`` etc. on moto 4) is active in this process.

    moto's ``BotocoreStubber`` (``moto.core.models.botocore_stubber``) is the switch moto itself
    flips in ``_enable_patching``/``_disable_patching``; server and proxy mode do not use it (their
    services live in another process: reach them with an endpoint URL instead).
    """
    models = sys.modules.get("moto.core.models")
    if models is None:
        return False
    stubber = getattr(models, "botocore_stubber", None)
    if stubber is not None:
        return bool(getattr(stubber, "enabled", False))
    mock_cls = getattr(models, "MockAWS", None)  # pragma: no cover - other moto layouts
    return bool(getattr(mock_cls, "_nested_count", 0))  # pragma: no cover


_clients: Dict[Tuple[str, str, str, Optional[str]], Any] = {}
_clients_lock = threading.Lock()


def client(service: str, account_id: str, region: str = "us-east-1", endpoint_url: Optional[str] = None) -> Any:
    """A cached botocore client of ``service`` acting in ``account_id`` and ``region``: through
    moto's stubber while moto is active (callers check :func:`moto_active` first), or at
    ``endpoint_url`` (path-style S3 addressing there, as a ``moto_server`` or MinIO needs)."""
    key = (service, account_id, region, endpoint_url)
    found = _clients.get(key)
    if found is not None:
        return found
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            # total_max_attempts 1: one attempt, no retry (legacy mode's max_attempts counts retries)
            config = Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"} if endpoint_url else None)
            found = botocore.session.Session().create_client(
                service, region_name=region, endpoint_url=endpoint_url,
                aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_SECRET, config=config,
            )

            def add_account(request: Any, **kwargs: Any) -> None:
                request.headers["x-moto-account-id"] = account_id  # moto's account; other services ignore it

            found.meta.events.register(f"before-sign.{found.meta.service_model.service_id.hyphenize()}", add_account)
            _clients[key] = found
    return found


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class NeighbourRefused(Exception):
    """A neighbour (S3, Secrets Manager, Lambda, EventBridge, Glue) answered ``operation`` with an
    error, or could not be reached: ``service`` (``S3``, ``Secrets Manager``...), ``operation``
    (the API operation, ``PutObject``), ``code`` (the service's error code, ``AccessDenied``; for a
    service that could not be reached, botocore's error class, ``EndpointConnectionError``),
    ``message`` (the service's message) and ``resource`` (what the call named: ``bucket/key``, a
    secret's ARN), ``""`` when none. ``str()`` says all of it."""

    def __init__(self, service: str, operation: str, code: str, message: str, resource: str = "") -> None:
        where = f" on {resource}" if resource else ""
        super().__init__(f"{service} {operation}{where} failed: {code}: {message}")
        self.service, self.operation, self.code, self.message, self.resource = \
            service, operation, code, message, resource


# A service's error answers without a body (S3's answers to HEAD, moto's to a denied object
# request) give botocore only the HTTP status: the code and message the service says for it.
_STATUS_ERRORS = {"403": ("AccessDenied", "Access Denied"), "404": ("NotFound", "Not Found")}


def refused(service: str, operation: str, error: Exception, resource: str = "") -> NeighbourRefused:
    """``error`` (botocore's ClientError, or a BotoCoreError: the endpoint unreachable, a timeout)
    as :class:`NeighbourRefused`."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {}) or {}
        code, message = str(details.get("Code", "")), str(details.get("Message", ""))
        if code in _STATUS_ERRORS and (not message or message in ("Forbidden", "Not Found")):
            code, message = _STATUS_ERRORS[code]
        return NeighbourRefused(service, operation, code or "UnknownError", message, resource)
    return NeighbourRefused(service, operation, type(error).__name__, str(error), resource)


CALL_ERRORS = (ClientError, BotoCoreError)
"""What a botocore call raises when the service answers with an error or cannot be reached."""
