"""Every test runs the emulator in strict mode: each response is checked against its output
shape, and a response that does not fit the model fails the test."""
import os

import boto3
import pytest

os.environ["APPFLOW_EMU_STRICT"] = "1"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def client(appflow_mock):
    """An AppFlow client inside an active mock (the plugin's appflow_mock fixture)."""
    return boto3.client("appflow", region_name="us-east-1")
