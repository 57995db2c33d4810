"""Custom connectors whose Lambda function was created in moto's Lambda from a zip of Python code:
the emulator imports and runs the handler in this process (moto would need Docker), each function in
a module namespace of its own, and nothing of it stays behind."""
from __future__ import annotations

import io
import json
import os
import sys
import textwrap
import zipfile
from typing import Dict

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import requires_enum_value, requires_operation

moto = pytest.importorskip("moto")
pytest.importorskip("custom_connector_sdk")
pytestmark = [requires_operation("RegisterConnector", "ListConnectors", "DescribeConnector"),
              requires_enum_value("ConnectorType", "CustomConnector")]

HANDLER = textwrap.dedent('''
    import os
    import custom_connector_sdk
    from handlers import NAME

    def describe(event, context):
        assert event == {"type": "DescribeConnectorConfigurationRequest", "locale": "en-US"}
        return {"isSuccess": True, "connectorOwner": os.environ.get("LAMBDA_TASK_ROOT"),
                "connectorName": NAME, "connectorVersion": getattr(custom_connector_sdk, "MARKER", "the real SDK"),
                "connectorModes": ["SOURCE"], "supportedApiVersions": [os.environ.get("GREETING", "no greeting"),
                                                                       context.function_name, context.memory_limit_in_mb,
                                                                       os.environ["AWS_REGION"]]}
''')


def package(files: Dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="connector", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
        yield boto3.client("lambda"), role


def create(aws, name: str, files: Dict[str, str], runtime: str = "python3.11", **extra) -> str:
    lam, role = aws
    return str(lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="main.describe",
                                   Code={"ZipFile": package(files)}, **extra)["FunctionArn"])


def register(client, label: str, arn: str) -> Dict[str, object]:
    client.register_connector(connectorLabel=label, connectorProvisioningType="LAMBDA",
                              connectorProvisioningConfig={"lambda": {"lambdaArn": arn}})
    return client.describe_connector(connectorType="CustomConnector", connectorLabel=label)["connectorConfiguration"]


def test_each_function_has_its_own_modules_and_leaves_none_behind(aws, appflow_mock):
    import custom_connector_sdk

    real_sdk = sys.modules["custom_connector_sdk"]
    path_before, modules_before = list(sys.path), set(sys.modules)
    alpha = create(aws, "alpha", {"main.py": HANDLER, "handlers/__init__.py": "NAME = 'alpha'\n"},
                   Environment={"Variables": {"GREETING": "hello"}}, MemorySize=512)
    # beta bundles a package of the same name as alpha's, and its own "custom_connector_sdk", which
    # this test process has imported too
    beta = create(aws, "beta", {"main.py": HANDLER, "handlers/__init__.py": "NAME = 'beta'\n",
                                "custom_connector_sdk/__init__.py": "MARKER = 'the bundled SDK'\n"})
    client = boto3.client("appflow", region_name="us-east-1")
    first = register(client, "alpha", alpha)
    second = register(client, "beta", beta)
    again = client.update_connector_registration(connectorLabel="alpha") and client.describe_connector(
        connectorType="CustomConnector", connectorLabel="alpha")["connectorConfiguration"]
    assert (first["connectorName"], second["connectorName"], again["connectorName"]) == ("alpha", "beta", "alpha")
    assert (first["connectorVersion"], second["connectorVersion"]) == ("the real SDK", "the bundled SDK")
    # Lambda's environment during the invocation only: the function's variables, its region, memory
    assert first["supportedApiVersions"] == ["hello", "alpha", "512", "us-east-1"]
    assert second["supportedApiVersions"][0] == "no greeting" and "GREETING" not in os.environ
    assert sys.modules["custom_connector_sdk"] is real_sdk is custom_connector_sdk
    assert "handlers" not in sys.modules and "main" not in sys.modules
    assert sys.path == path_before
    assert not [m for m in set(sys.modules) - modules_before if m.split(".")[0] in ("main", "handlers")]
    task_root = str(first["connectorOwner"])
    assert os.path.isdir(task_root)
    appflow_mock._close()  # what the mock's stop does: the extracted code goes
    assert not os.path.exists(task_root)


def test_a_function_registered_by_name_comes_before_moto(aws, appflow_mock):
    arn = create(aws, "gamma", {"main.py": HANDLER, "handlers/__init__.py": "NAME = 'from moto'\n"})

    def registered(event, context):
        return {"isSuccess": True, "connectorOwner": "me", "connectorName": "registered", "connectorVersion": "1",
                "connectorModes": ["SOURCE"], "supportedApiVersions": []}

    appflow_mock.register_lambda("gamma", registered)
    client = boto3.client("appflow", region_name="us-east-1")
    assert register(client, "gamma", arn)["connectorName"] == "registered"


@pytest.mark.parametrize("files, runtime, words", [
    ({"main.py": "def describe(event, context):\n    return 1/0\n"}, "python3.11",
     "returned an error: ZeroDivisionError: division by zero"),
    ({"other.py": ""}, "python3.11", "Runtime.ImportModuleError: Unable to import module 'main'"),
    ({"main.py": "def describe(:\n"}, "python3.11", "Runtime.UserCodeSyntaxError"),
    ({"main.py": "x = 1\n"}, "python3.11", "Runtime.HandlerNotFound: Handler 'describe' missing on module 'main'"),
    ({"main.py": HANDLER}, "nodejs20.x", "could not be invoked: Runtime.InvalidRuntime: the function's runtime is "
                                         "'nodejs20.x': only python3.x functions run in this process"),
])
def test_a_function_that_cannot_run_fails_the_call_as_lambda_reports_it(aws, appflow_mock, files, runtime, words):
    arn = create(aws, "broken", files, runtime=runtime)
    client = boto3.client("appflow", region_name="us-east-1")
    with pytest.raises(ClientError) as info:
        register(client, "broken", arn)
    assert info.value.response["Error"]["Code"] == "ConnectorServerException"
    assert words in info.value.response["Error"]["Message"]
    assert "main" not in sys.modules
