"""AWS's own integration harness for custom connectors, ``custom_connector_integ_test`` (in
``custom-connector-sdk``), runs unchanged and green against the emulator, three ways, for the SDK
connector of ``tests/connectors/memory_connector.py``:

1. in process: moto's ``mock_aws`` for S3 and Secrets Manager, ``mock_appflow``, and
   ``emu.register_lambda`` (tests/connectors/harness/run_harness.py, a small launcher);
2. the connector zipped (with its dependencies) into a function of moto's Lambda, which the emulator
   imports and runs in process (no register_lambda);
3. against ``python -m appflow_emu serve`` with environment variables only: ``AWS_ENDPOINT_URL_APPFLOW``
   for the emulator, ``AWS_ENDPOINT_URL`` for a moto server holding S3 and Secrets Manager.

Each way runs in a process of its own (the harness keeps clients and names in module globals).
The describe-connector validation file was written by hand from what the connector declares
(tests/connectors/harness/describe-connector-validation.json).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict

import boto3
import pytest

from tests.conftest import require_custom_connector_sdk, requires_enum_value, requires_operation, subprocess_env
from tests.connectors.harness.run_harness import ARN, prepare_aws

require_custom_connector_sdk()
pytest.importorskip("custom_connector_integ_test")
pytest.importorskip("moto")
pytestmark = [requires_operation("RegisterConnector", "ListConnectors", "DescribeConnector"),
              requires_enum_value("ConnectorType", "CustomConnector")]

ROOT = Path(__file__).resolve().parents[2]
FAKE = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def clean_env() -> Dict[str, str]:
    env = {k: v for k, v in subprocess_env().items()
           if not k.startswith(("AWS_", "MOTO_", "TEST_CONFIG")) and k != "APPFLOW_EMU_STRICT"}
    env.update(FAKE, APPFLOW_EMU_STRICT="1")
    return env


def harness(*args: str, env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("way", ["in-process", "moto-lambda"])
def test_the_harness_passes_in_process(way: str) -> None:
    done = harness("-m", "tests.connectors.harness.run_harness", way, env=clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "harness: 6 test cases, 0 failed, 0 errors, 0 skipped: PASSED" in done.stdout


def test_the_harness_passes_against_serve_with_environment_variables_only(moto_endpoint: str) -> None:
    serve_env = clean_env()
    serve_env["AWS_ENDPOINT_URL"] = moto_endpoint  # where the connector reads its profile's secret
    server = subprocess.Popen(
        [sys.executable, "-m", "appflow_emu", "serve", "--port", "0", "--aws-endpoint", moto_endpoint,
         "--lambda", f"{ARN}=tests.connectors.memory_connector:lambda_handler"],
        cwd=ROOT, env=serve_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("appflow_emu listening on "), line + server.stderr.read()  # type: ignore[union-attr]
        url = line.split(" on ", 1)[1].strip()
        session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="testing",
                                        aws_secret_access_key="testing")

        class AtMoto:
            def client(self, service: str) -> object:
                return session.client(service, endpoint_url=moto_endpoint)

        prepare_aws(AtMoto())
        env = clean_env()
        env.update(AWS_ENDPOINT_URL=moto_endpoint, AWS_ENDPOINT_URL_APPFLOW=url,
                   TEST_CONFIG=os.path.join("tests", "connectors", "harness", "test-config.json"))
        done = harness("-m", "unittest", "-v", "custom_connector_integ_test.appflow_test.test_case.AppflowTestCase",
                       env=env)
    finally:
        server.send_signal(signal.SIGTERM)
        _, server_err = server.communicate(timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr + server_err
    assert "Ran 6 tests" in done.stderr and done.stderr.rstrip().endswith("OK"), done.stderr
    assert server.returncode == 0, server_err
    # S3 and Secrets Manager were moto's: the flows' files and the profile's secret went there.
    s3 = session.client("s3", endpoint_url=moto_endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="memory-connector-harness").get("Contents", [])]
    assert any(k.startswith("integ-test-errors/Integ_Flow_emufromMemory") for k in keys), keys
