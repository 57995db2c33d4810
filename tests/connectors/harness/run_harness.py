"""Run AWS's integration harness for custom connectors, ``custom_connector_integ_test`` (shipped in
``custom-connector-sdk``), unchanged, against the emulator, for the SDK connector of
``tests/connectors/memory_connector.py``; moto holds S3 and Secrets Manager.

    python -m tests.connectors.harness.run_harness in-process    # register_lambda (a small launcher)
    python -m tests.connectors.harness.run_harness moto-lambda   # the connector zipped into moto's Lambda

Run from the repository's root (the harness's configuration names its files from there). The third
way, against ``serve`` with environment variables only, is driven by tests/connectors/test_aws_harness.py.
Exit status 0 only when all six of the harness's test cases ran and passed: none failed, none was
skipped (the harness skips what depends on a connector or profile it failed to create).
"""
from __future__ import annotations

import io
import json
import os
import sys
import unittest
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "test-config.json"
FUNCTION = "memory-connector"
ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
BUCKET = "memory-connector-harness"
OAUTH_SECRET = "memory-connector-oauth"
# The OAuth2 credentials the harness reads from Secrets Manager and gives create_connector_profile.
OAUTH_CREDENTIALS = {"accessToken": "harness-access-token", "refreshToken": "harness-refresh-token",
                     "clientId": "harness-client", "clientSecret": "harness-client-secret"}
TEST_CASES = 6


def environment() -> None:
    os.environ["TEST_CONFIG"] = str(CONFIG.relative_to(Path.cwd())) if CONFIG.is_relative_to(Path.cwd()) else str(CONFIG)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")


def prepare_aws(session: Any) -> None:
    """What the harness expects to exist in the account: the test bucket and the OAuth2 secret."""
    session.client("s3").create_bucket(Bucket=BUCKET)
    session.client("secretsmanager").create_secret(Name=OAUTH_SECRET, SecretString=json.dumps(OAUTH_CREDENTIALS))


def run_harness() -> bool:
    """The harness's six test cases, unchanged; True when all ran and passed."""
    from custom_connector_integ_test.appflow_test.test_case import AppflowTestCase

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(AppflowTestCase)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    ok = result.wasSuccessful() and result.testsRun == TEST_CASES and not result.skipped
    print(f"harness: {result.testsRun} test cases, {len(result.failures)} failed, {len(result.errors)} errors, "
          f"{len(result.skipped)} skipped: {'PASSED' if ok else 'FAILED'}")
    return ok


def deployment_package() -> bytes:
    """A Lambda deployment package as a connector author builds one: the connector module at the
    root and its dependencies beside it (the SDK and the ANTLR runtime its filter parser needs)."""
    import antlr4
    import custom_connector_queryfilter
    import custom_connector_sdk

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(HERE.parent / "memory_connector.py", "memory_connector.py")
        for package in (custom_connector_sdk, custom_connector_queryfilter, antlr4):
            root = Path(package.__file__).resolve().parent
            for path in sorted(root.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".interp", ".tokens"):
                    archive.write(path, f"{root.name}/{path.relative_to(root)}")
    return buffer.getvalue()


def create_moto_function(session: Any) -> str:
    iam = session.client("iam")
    role = iam.create_role(RoleName="memory-connector-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    function = session.client("lambda").create_function(
        FunctionName=FUNCTION, Runtime="python3.11", Role=role, Handler="memory_connector.lambda_handler",
        Code={"ZipFile": deployment_package()}, Timeout=30, MemorySize=256)
    return str(function["FunctionArn"])


def main(way: str) -> int:
    import boto3
    from moto import mock_aws

    from appflow_emu import mock_appflow

    environment()
    with mock_aws(), mock_appflow() as emu:
        session = boto3.session.Session(region_name="us-east-1")
        prepare_aws(session)
        if way == "in-process":
            emu.register_lambda(ARN, "tests.connectors.memory_connector:lambda_handler")
        elif way == "moto-lambda":
            arn = create_moto_function(session)
            assert arn == ARN, arn
        else:
            raise SystemExit(f"unknown way {way!r}: in-process or moto-lambda")
        modules_before = set(sys.modules)
        ok = run_harness()
        if way == "moto-lambda":
            leaked = sorted(m for m in set(sys.modules) - modules_before if m.split(".")[0] == "memory_connector")
            if leaked:
                print(f"the function's modules stayed in sys.modules: {leaked}")
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "in-process"))
