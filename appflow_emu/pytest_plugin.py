"""pytest plugin (registered through the ``pytest11`` entry point): the ``appflow_mock`` fixture.

Importing the package here, at pytest start-up, also registers the hook for every botocore
session created afterwards, so clients made at a test module's import are intercepted too.
"""
from __future__ import annotations

from typing import Iterator

import pytest

import appflow_emu
from appflow_emu.backend.state import Emulator


@pytest.fixture
def appflow_mock() -> Iterator[Emulator]:
    """An active AppFlow emulator with empty state, torn down after the test."""
    with appflow_emu.mock_appflow() as emulator:
        yield emulator
