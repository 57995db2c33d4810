"""Operations: one module per resource family, each registering its handlers in ``HANDLERS``.

``runtime.py`` holds the state they act on (per account and region); ``runs.py`` and
``schedules.py`` start runs, whose plans the simulator executes.
"""
from appflow_emu.backend import (  # noqa: F401  (each module registers its handlers)
    connectors,
    entity_discovery,
    executions,
    flows,
    profiles,
    tags,
)
from appflow_emu.backend.handlers import HANDLERS

__all__ = ["HANDLERS"]
