"""pytest plugin (registered through the ``pytest11`` entry point): the ``appflow_mock`` fixture.

Loading it is cheap: it imports neither the emulator nor the service model (nor botocore), which
load on the first mock start, so test suites that never use AppFlow do not pay for it. Clients
created at a test module's import are intercepted all the same (see ``intercept/hook.py``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

from appflow_emu.mock import mock_appflow

if TYPE_CHECKING:
    from appflow_emu.emulator import Emulator


@pytest.fixture
def appflow_mock() -> Iterator["Emulator"]:
    """An active AppFlow emulator with empty state, torn down after the test."""
    with mock_appflow() as emulator:
        yield emulator
