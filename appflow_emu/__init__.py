"""appflow_emu: Amazon AppFlow for boto3 tests, in process, without AWS, network or sleeping.

    from appflow_emu import mock_appflow

    @mock_appflow
    def test_flows():
        client = boto3.client("appflow", region_name="us-east-1")
        ...
"""
from typing import Optional

from appflow_emu.backend.state import Emulator, RegionState
from appflow_emu.errors import AppFlowError, EmulatorError
from appflow_emu.intercept import hook
from appflow_emu.mock import mock_appflow

__version__ = "0.1.0"

# Sessions created from now on carry the (inactive) hook, like moto's handler.
hook.install()


def get_emulator() -> Optional[Emulator]:
    """The active mock's handle (for code under ``@mock_appflow``), or None."""
    return hook.ACTIVE.emulator


__all__ = ["AppFlowError", "Emulator", "EmulatorError", "RegionState", "get_emulator", "mock_appflow"]
