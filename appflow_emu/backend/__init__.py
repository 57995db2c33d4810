"""State and operations: one module per resource family, each registering its handlers."""
from appflow_emu.backend import connectors, executions, flows, profiles, tags  # noqa: F401  (register)
from appflow_emu.backend.registry import HANDLERS
from appflow_emu.backend.state import Emulator, RegionState

__all__ = ["HANDLERS", "Emulator", "RegionState"]
