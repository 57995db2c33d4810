"""The AWS CLI (the ``awscli`` package) against a server started by the test, in a subprocess with
``--endpoint-url``: the JSON it prints and its exit codes.

The CLI is ``$APPFLOW_EMU_AWS_CLI`` if set, else ``aws`` on PATH. awscli pins its botocore, so CI
installs it in a virtualenv of its own and points ``APPFLOW_EMU_AWS_CLI`` there (.ci/run). Without a
working CLI the tests skip, or fail when ``APPFLOW_EMU_REQUIRE_CLIENTS=1``."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import pytest

from appflow_emu.server import AppFlowServer

ACCOUNT = "123456789012"
FLOW_ARN = f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/accounts"
PROFILE_CONFIG = {
    "connectorProfileProperties": {"Salesforce": {"instanceUrl": "https://x.my.salesforce.com"}},
    "connectorProfileCredentials": {"Salesforce": {"accessToken": "at-secret"}},
}
FLOW = {
    "flowName": "accounts",
    "description": "from the AWS CLI",
    "triggerConfig": {"triggerType": "OnDemand"},
    "sourceFlowConfig": {"connectorType": "Salesforce", "connectorProfileName": "sf",
                         "sourceConnectorProperties": {"Salesforce": {"object": "Account"}}},
    "destinationFlowConfigList": [{"connectorType": "S3",
                                   "destinationConnectorProperties": {"S3": {"bucketName": "out-bucket"}}}],
    "tasks": [{"taskType": "Filter", "sourceFields": ["Id", "Name"], "connectorOperator": {"Salesforce": "PROJECTION"}},
              {"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"Salesforce": "NO_OP"},
               "taskProperties": {}}],
    "tags": {"env": "ci"},
}


def _missing(reason: str) -> None:
    if os.environ.get("APPFLOW_EMU_REQUIRE_CLIENTS") == "1":
        pytest.fail(f"{reason} (APPFLOW_EMU_REQUIRE_CLIENTS=1)", pytrace=False)
    pytest.skip(reason)


def _clean_env() -> Dict[str, str]:
    """The environment without anything that would point the CLI elsewhere (profiles, config files,
    endpoint overrides) or change its Python (PYTHONPATH: the CLI's venv has its own botocore)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_PAGER": ""})
    return env


@pytest.fixture(scope="module")
def aws_cli() -> Tuple[str, int]:
    """The CLI's path and its major version. A pyenv shim is on PATH even where no selected Python
    has awscli, so the CLI must also answer ``--version``."""
    path: Optional[str] = os.environ.get("APPFLOW_EMU_AWS_CLI") or shutil.which("aws")
    if not path:
        _missing("the AWS CLI is not installed (set APPFLOW_EMU_AWS_CLI or put aws on PATH)")
    assert path is not None
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, env=_clean_env(), timeout=60)
    except OSError as e:
        _missing(f"the AWS CLI at {path} does not run: {e}")
    version = re.search(r"aws-cli/(\d+)\.", done.stdout + done.stderr)
    if done.returncode != 0 or not version:
        _missing(f"the AWS CLI at {path} does not run: {(done.stdout + done.stderr).strip()[:300]}")
    assert version is not None
    return path, int(version.group(1))


@pytest.fixture
def server():
    with AppFlowServer(port=0) as running:
        running.emulator.create_bucket("out-bucket")
        yield running


class Cli:
    def __init__(self, path: str, url: str) -> None:
        self.path, self.url = path, url

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.path, "appflow", *args, "--endpoint-url", self.url, "--region", "us-east-1",
                               "--output", "json"], capture_output=True, text=True, env=_clean_env(), timeout=120)

    def ok(self, *args: str) -> Any:
        """Run, expect exit 0; the parsed JSON output (None if it printed nothing)."""
        done = self.run(*args)
        assert done.returncode == 0, f"aws appflow {args[0]}: {done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.fixture
def cli(aws_cli, server) -> Cli:
    return Cli(aws_cli[0], server.url)


def test_the_aws_cli_round_trip(cli: Cli, server: AppFlowServer, tmp_path: Path) -> None:
    created = cli.ok("create-connector-profile", "--connector-profile-name", "sf", "--connector-type", "Salesforce",
                     "--connection-mode", "Public", "--connector-profile-config", json.dumps(PROFILE_CONFIG))
    assert created == {"connectorProfileArn": f"arn:aws:appflow:us-east-1:{ACCOUNT}:connectorprofile/sf"}

    flow_file = tmp_path / "flow.json"
    flow_file.write_text(json.dumps(FLOW))
    assert cli.ok("create-flow", "--cli-input-json", flow_file.as_uri()) == {"flowArn": FLOW_ARN,
                                                                            "flowStatus": "Active"}

    started = cli.ok("start-flow", "--flow-name", "accounts")
    assert (started["flowArn"], started["flowStatus"]) == (FLOW_ARN, "Active")
    assert re.fullmatch(r"[0-9a-f-]{36}", started["executionId"])

    records = cli.ok("describe-flow-execution-records", "--flow-name", "accounts")["flowExecutions"]
    assert [(r["executionId"], r["executionStatus"]) for r in records] == [(started["executionId"], "Successful")]
    assert isinstance(records[0]["startedAt"], (int, float))  # epoch seconds, as the CLI prints them
    assert records[0]["executionResult"]["recordsProcessed"] == 0

    flows = cli.ok("list-flows")["flows"]
    assert [(f["flowName"], f["flowArn"], f["flowStatus"], f["sourceConnectorType"], f["destinationConnectorType"],
             f["tags"], f["lastRunExecutionDetails"]["mostRecentExecutionStatus"]) for f in flows] == [
        ("accounts", FLOW_ARN, "Active", "Salesforce", "S3", {"env": "ci"}, "Successful")]

    assert cli.ok("tag-resource", "--resource-arn", FLOW_ARN, "--tags", "team=data,owner=ops") is None  # 204
    assert cli.ok("list-tags-for-resource", "--resource-arn", FLOW_ARN) == {
        "tags": {"env": "ci", "team": "data", "owner": "ops"}}
    assert server.emulator.state("us-east-1").flows["accounts"].tags == {"env": "ci", "team": "data", "owner": "ops"}

    assert cli.ok("delete-flow", "--flow-name", "accounts") is None  # {} prints nothing
    assert cli.ok("list-flows") == {"flows": []}


def test_the_aws_cli_keeps_credentials_out_of_its_output(cli: Cli) -> None:
    cli.ok("create-connector-profile", "--connector-profile-name", "sf", "--connector-type", "Salesforce",
           "--connection-mode", "Public", "--connector-profile-config", json.dumps(PROFILE_CONFIG))
    done = cli.run("describe-connector-profiles")
    assert done.returncode == 0
    (profile,) = json.loads(done.stdout)["connectorProfileDetails"]
    assert profile["connectorProfileName"] == "sf"
    assert "at-secret" not in done.stdout + done.stderr


@pytest.mark.parametrize("args, code, operation, message", [
    (("describe-flow", "--flow-name", "missing"), "ResourceNotFoundException", "DescribeFlow",
     "Flow with name missing does not exist."),
    (("start-flow", "--flow-name", "missing"), "ResourceNotFoundException", "StartFlow",
     "Flow with name missing does not exist."),
    (("tag-resource", "--resource-arn", FLOW_ARN, "--tags", "a=b"), "ResourceNotFoundException", "TagResource", None),
    (("describe-flow", "--flow-name", "bad name!"), "ValidationException", "DescribeFlow", None),
])
def test_aws_cli_errors_exit_with_the_service_error(aws_cli, cli: Cli, args, code, operation, message) -> None:
    """A service error: awscli v1 exits 255, v2 254, and prints AWS's error code on stderr."""
    done = cli.run(*args)
    assert done.returncode == (255 if aws_cli[1] == 1 else 254), done.stderr
    assert done.stdout == ""
    prefix = f"An error occurred ({code}) when calling the {operation} operation: "
    if message is not None:
        assert done.stderr.strip() == prefix + message
    else:
        assert done.stderr.strip().startswith(prefix)


def test_a_cli_usage_error_exits_2_without_a_request(cli: Cli, server: AppFlowServer) -> None:
    done = cli.run("describe-flow")  # --flow-name is required: the CLI refuses before sending
    assert done.returncode == 2
    assert "--flow-name" in done.stderr


def test_the_aws_cli_pages_with_next_tokens(cli: Cli) -> None:
    """list-flows by hand, one per page: --max-results and the nextToken the server gives."""
    names = ["page-a", "page-b", "page-c"]
    for name in names:
        cli.ok("create-flow", "--flow-name", name, "--trigger-config", '{"triggerType": "OnDemand"}',
               "--source-flow-config", json.dumps({"connectorType": "S3", "sourceConnectorProperties": {
                   "S3": {"bucketName": "in-bucket"}}}),
               "--destination-flow-config-list", json.dumps(FLOW["destinationFlowConfigList"]),
               "--tasks", json.dumps([{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"},
                                       "taskProperties": {}}]))
    pages, token = [], None
    while True:
        page = cli.ok("list-flows", "--max-results", "1", *(["--next-token", token] if token else []))
        pages.append([f["flowName"] for f in page["flows"]])
        token = page.get("nextToken")
        if not token:
            break
    assert pages == [[n] for n in names]
