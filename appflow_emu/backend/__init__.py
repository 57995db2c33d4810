"""State and operations: one module per resource family, each registering its handlers."""
from appflow_emu.backend import (  # noqa: F401  (each module registers its handlers)
    connectors,
    entities,
    executions,
    flows,
    profiles,
    registrations,
    tags,
)
from appflow_emu.backend.registry import HANDLERS
from appflow_emu.backend.state import Emulator, RegionState

__all__ = ["HANDLERS", "Emulator", "RegionState"]
