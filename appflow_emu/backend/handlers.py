"""The handler table: each AppFlow operation's handler, by the model's operation name.

A resource family's module registers its handlers with ``@handles("CreateFlow")``; dispatch looks
them up in ``HANDLERS``. A handler takes the :class:`~appflow_emu.backend.runtime.Call` and the
request's parameters and returns the response as a plain dict shaped like the output.
"""
from __future__ import annotations

from typing import Any, Callable, Dict

Handler = Callable[[Any, Dict[str, Any]], Dict[str, Any]]
HANDLERS: Dict[str, Handler] = {}


def handles(operation: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[operation] = fn
        return fn

    return register
