"""appflow_emu: Amazon AppFlow for boto3 tests, in process, without AWS, network or sleeping.

    from appflow_emu import mock_appflow

    @mock_appflow
    def test_flows():
        client = boto3.client("appflow", region_name="us-east-1")
        ...

Importing the package is cheap: the emulator, its backend and the service model load on the
first mock start.
"""
from typing import TYPE_CHECKING, Any

from appflow_emu.intercept import hook
from appflow_emu.mock import MockAppFlow, get_emulator, mock_appflow
from appflow_emu.model.errors import AmbiguousNameError, EmulatorError, InvalidStateError, NotFoundError

if TYPE_CHECKING:
    from appflow_emu.emulator import Emulator, RegionView
    from appflow_emu.simulator.custom_connectors import CustomConnectorImplementation, InMemoryConnector

__version__ = "0.1.0"

# Loaded on first use (PEP 562), so that importing the package does not import the backend.
_LAZY = {
    "Emulator": "appflow_emu.emulator",
    "RegionView": "appflow_emu.emulator",
    "CustomConnectorImplementation": "appflow_emu.simulator.custom_connectors",
    "InMemoryConnector": "appflow_emu.simulator.custom_connectors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'appflow_emu' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


# Sessions created from now on carry the (inactive) hook, like moto's handler; when botocore is not
# imported yet, the first mock start installs it (clients made before are reached then too).
hook.install_if_loaded()

__all__ = [
    "AmbiguousNameError",
    "CustomConnectorImplementation",
    "Emulator",
    "EmulatorError",
    "InMemoryConnector",
    "InvalidStateError",
    "MockAppFlow",
    "NotFoundError",
    "RegionView",
    "get_emulator",
    "mock_appflow",
]
