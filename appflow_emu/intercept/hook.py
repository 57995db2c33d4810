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
Other services are never touched (the event name is scoped to AppFlow).
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Dict, Optional

EVENT = "before-call.appflow"
UNIQUE_ID = "appflow_emu.before-call"

Responder = Callable[[Any, Dict[str, Any], Any, Any], Any]


class _Active:
    """What answers calls right now (None when no mock is active)."""

    responder: Optional[Responder] = None


ACTIVE = _Active()


def before_call(model: Any = None, params: Optional[Dict[str, Any]] = None, context: Any = None,
                request_signer: Any = None, **kwargs: Any) -> Any:
    responder = ACTIVE.responder
    if responder is None or model is None or params is None:
        return None
    return responder(model, params, context, request_signer)


_SPEC = (EVENT, before_call)


class _Installed:
    """What :func:`install` has done already (every mock start calls it: it must be cheap)."""

    builtin: Any = None  # the BUILTIN_HANDLERS list our spec was added to
    default_session: Any = None  # the boto3 default session registered on


def install() -> None:
    """Register for sessions created from now on, and on boto3's default session if it exists."""
    from botocore import handlers as botocore_handlers

    builtin = botocore_handlers.BUILTIN_HANDLERS
    if _Installed.builtin is not builtin:  # once per list (a scan of ~200 handlers)
        if _SPEC not in builtin:
            builtin.append(_SPEC)
        _Installed.builtin = builtin
    boto3 = sys.modules.get("boto3")  # no boto3 yet: no default session to register on
    session = getattr(boto3, "DEFAULT_SESSION", None)
    if session is not None and session is not _Installed.default_session:
        # unique_id makes this idempotent when the session already has the built-in handler.
        session._session.register(EVENT, before_call, unique_id=UNIQUE_ID)
        _Installed.default_session = session


def install_if_loaded() -> None:
    """:func:`install` if botocore is already imported (it is free then); else nothing, and the
    first mock start installs it."""
    if "botocore.handlers" in sys.modules:
        install()


def activate(responder: Responder) -> None:
    """Claim AppFlow calls: install, reach clients made earlier, and answer with ``responder``."""
    install()
    patch_clients()
    ACTIVE.responder = responder


def deactivate() -> None:
    ACTIVE.responder = None
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
        if client.meta.service_model.service_name != "appflow":
            return
        client.meta.events.register(EVENT, before_call, unique_id=UNIQUE_ID)
        setattr(client, _HOOKED_ATTR, True)
    except AttributeError:  # not a regular botocore client
        return


def _make_api_call(self: Any, operation_name: str, api_params: Dict[str, Any]) -> Any:
    original = _original_make_api_call
    if ACTIVE.responder is not None and not getattr(self, _HOOKED_ATTR, False):
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
