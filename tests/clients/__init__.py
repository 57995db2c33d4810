"""Real clients other than botocore against server mode, and the package as users get it: capo-appflow (its
own HTTP stack and deserializers), aws-list-all (an inventory CLI, in a virtualenv of its own), and mypy with
boto3-stubs over docs/examples.

A client that is not installed makes its tests skip, or fail when ``APPFLOW_EMU_REQUIRE_CLIENTS=1``
(.ci/run sets it and installs them all)."""
from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing_client(reason: str) -> NoReturn:
    """Skip the test because a client is not installed, or fail it when CI requires the clients."""
    if os.environ.get("APPFLOW_EMU_REQUIRE_CLIENTS") == "1":
        pytest.fail(f"{reason} (APPFLOW_EMU_REQUIRE_CLIENTS=1)", pytrace=False)
    pytest.skip(reason)
