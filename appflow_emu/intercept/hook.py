"""The botocore hook: ``before-call.appflow`` claims every AppFlow client call while a mock is active.

This module is cheap to import (it imports nothing of the emulator, and nothing of botocore until
:func:`install`): the pytest plugin and ``import appflow_emu`` load it at start-up. The handler
does nothing until a mock starts and :func:`activate` hands it the active emulator's responder
(``intercept/botocore_call.py``), which answers before the request is signed or sent, so no
AppFlow request can reach the network whatever ``endpoint_url`` the client has.

Registration, like moto's: in botocore's ``BUILTIN_HANDLERS`` for every session created afterwards,
and on boto3's default session when it exists. Clients created before that (even before appflow_emu
was imported) are reached through a wrapper of ``BaseClient._make_api_call`` that exists only while
a mock is active: the first AppFlow call of each such client registers the hook on its own emitter.
Other services are never touched (the event name is scoped to AppFlow), but for one call: while an
emulator is active (a mock, or a server in this process), ``GetSecretValue`` of a secret that
emulator keeps itself (a connector profile's credentials in its embedded Secrets Manager) is answered
by it (``intercept/secrets_call.py``), so that a custom connector reads its credentials as on AWS;
any other secret's call goes on untouched.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Dict, List, Optional

EVENT = "before-call.appflow"
UNIQUE_ID = "appflow_emu.before-call"
SECRETS_EVENT = "before-call.secrets-manager.GetSecretValue"
SECRETS_UNIQUE_ID = "appflow_emu.secrets.before-call"
_SERVICE_EVENTS = {"appflow": (EVENT, UNIQUE_ID), "secretsmanager": (SECRETS_EVENT, SECRETS_UNIQUE_ID)}

Responder = Callable[[Any, Dict[str, Any], Any, Any], Any]


class _Active:
    """What answers calls right now (None / empty when no mock or server is active)."""

    responder: Optional[Responder] = None
    secrets: List[Responder] = []  # every active emulator's: a mock's, servers' in this process


ACTIVE = _Active()


def before_call(model: Any = None, params: Optional[Dict[str, Any]] = None, context: Any = None,
                request_signer: Any = None, **kwargs: Any) -> Any:
    responder = ACTIVE.responder
    if responder is None or model is None or params is None:
        return None
    return responder(model, params, context, request_signer)


def before_secrets_call(model: Any = None, params: Optional[Dict[str, Any]] = None, context: Any = None,
                        request_signer: Any = None, **kwargs: Any) -> Any:
    if model is None or params is None:
        return None
    for responder in list(ACTIVE.secrets):
        answer = responder(model, params, context, request_signer)
        if answer is not None:
            return answer
    return None


_SPEC = (EVENT, before_call)
_SECRETS_SPEC = (SECRETS_EVENT, before_secrets_call)


class _Installed:
    """What :func:`install` has done already (every mock start calls it: it must be cheap)."""

    builtin: Any = None  # the BUILTIN_HANDLERS list our spec was added to
    default_session: Any = None  # the boto3 default session registered on


class _Botocore:
    """botocore's pieces the hook touches, imported on the first mock start (importing appflow_emu
    does not import botocore) and kept: a mock start and stop in every test must stay cheap."""

    handlers: Any = None  # botocore.handlers
    base_client: Any = None  # botocore.client.BaseClient

    @classmethod
    def load(cls) -> None:
        if cls.base_client is None:
            from botocore import handlers
            from botocore.client import BaseClient

            cls.handlers, cls.base_client = handlers, BaseClient


def install() -> None:
    """Register for sessions created from now on, and on boto3's default session if it exists."""
    _Botocore.load()
    builtin = _Botocore.handlers.BUILTIN_HANDLERS
    if _Installed.builtin is not builtin:  # once per list (a scan of ~200 handlers)
        for spec in (_SPEC, _SECRETS_SPEC):
            if spec not in builtin:
                builtin.append(spec)
        _Installed.builtin = builtin
    boto3 = sys.modules.get("boto3")  # no boto3 yet: no default session to register on
    session = getattr(boto3, "DEFAULT_SESSION", None)
    if session is not None and session is not _Installed.default_session:
        # unique_id makes this idempotent when the session already has the built-in handler.
        session._session.register(EVENT, before_call, unique_id=UNIQUE_ID)
        session._session.register(SECRETS_EVENT, before_secrets_call, unique_id=SECRETS_UNIQUE_ID)
        _Installed.default_session = session


def install_if_loaded() -> None:
    """:func:`install` if botocore is already imported (it is free then); else nothing, and the
    first mock start installs it."""
    if "botocore.handlers" in sys.modules:
        install()


def activate(responder: Responder, secrets: Optional[Responder] = None) -> None:
    """Claim AppFlow calls: install, reach clients made earlier, and answer with ``responder``
    (and ``GetSecretValue`` of the emulator's own secrets with ``secrets``)."""
    install()
    patch_clients()
    ACTIVE.responder = responder
    if secrets is not None:
        with _patch_lock:
            ACTIVE.secrets = [*ACTIVE.secrets, secrets]


def deactivate(secrets: Optional[Responder] = None) -> None:
    ACTIVE.responder = None
    if secrets is not None:
        with _patch_lock:
            ACTIVE.secrets = [r for r in ACTIVE.secrets if r is not secrets]
    if not ACTIVE.secrets:
        unpatch_clients()


def add_secrets(responder: Responder) -> None:
    """Answer ``GetSecretValue`` for one more emulator's own secrets (a server in this process)."""
    install()
    patch_clients()
    with _patch_lock:
        ACTIVE.secrets = [*ACTIVE.secrets, responder]


def remove_secrets(responder: Responder) -> None:
    with _patch_lock:
        ACTIVE.secrets = [r for r in ACTIVE.secrets if r is not responder]
        idle = ACTIVE.responder is None and not ACTIVE.secrets
    if idle:
        unpatch_clients()


# -- clients created before the hook was registered ----------------------------------------------
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
        event = _SERVICE_EVENTS.get(client.meta.service_model.service_name)
        if event is not None:
            handler = before_call if event[0] == EVENT else before_secrets_call
            client.meta.events.register(event[0], handler, unique_id=event[1])
        setattr(client, _HOOKED_ATTR, True)
    except AttributeError:  # not a regular botocore client
        return


def _make_api_call(self: Any, operation_name: str, api_params: Dict[str, Any]) -> Any:
    original = _original_make_api_call
    if (ACTIVE.responder is not None or ACTIVE.secrets) and not getattr(self, _HOOKED_ATTR, False):
        _hook_client(self)
    return original(self, operation_name, api_params)


def patch_clients() -> None:
    """Make every botocore client, whenever created, reach the hook (called when a mock starts)."""
    global _original_make_api_call
    _Botocore.load()
    BaseClient = _Botocore.base_client
    with _patch_lock:
        current = BaseClient.__dict__.get("_make_api_call")
        if current is _make_api_call or current is None:
            return
        _original_make_api_call = current
        BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


def unpatch_clients() -> None:
    """Undo :func:`patch_clients` (called when the last mock stops)."""
    _Botocore.load()
    BaseClient = _Botocore.base_client
    with _patch_lock:
        if BaseClient.__dict__.get("_make_api_call") is _make_api_call and _original_make_api_call is not None:
            BaseClient._make_api_call = _original_make_api_call  # type: ignore[method-assign]
