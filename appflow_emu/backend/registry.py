"""Operation handlers by model operation name: ``@operation("CreateFlow")``."""
from __future__ import annotations

from typing import Any, Callable, Dict

Handler = Callable[[Any, Dict[str, Any]], Dict[str, Any]]
HANDLERS: Dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register
