"""aws-list-all (PyPI), an inventory CLI that lists every resource of an account, against a server started by
the test: ``aws-list-all query --service appflow`` finds AppFlow's listing operations in its botocore's model
(DescribeConnectorProfiles and ListFlows), calls them through boto3 at ``AWS_ENDPOINT_URL``, saves what it
found as JSON files, and ``aws-list-all show`` prints them.

The CLI is ``$APPFLOW_EMU_AWS_LIST_ALL`` if set, else ``aws-list-all`` on PATH. It needs a botocore that
reads ``AWS_ENDPOINT_URL`` (1.31 and later) and a boto3 newer than tox's botocore120 env has, so CI installs
it in a virtualenv of its own (.ci/run). Without it the tests skip, or fail when
``APPFLOW_EMU_REQUIRE_CLIENTS=1``. A proxy that does not exist stands in front of every other host, so an
old botocore that ignored ``AWS_ENDPOINT_URL`` would fail the test rather than reach AWS."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import boto3
import pytest

from appflow_emu.server import AppFlowServer
from tests.clients import missing_client

ACCOUNT = "123456789012"
PROFILE_CONFIG = {
    "connectorProfileProperties": {"Salesforce": {"instanceUrl": "https://x.my.salesforce.com"}},
    "connectorProfileCredentials": {"Salesforce": {"accessToken": "at-secret"}},
}
S3_OUT = [{"connectorType": "S3", "destinationConnectorProperties": {"S3": {"bucketName": "out-bucket"}}}]


@pytest.fixture(scope="module")
def aws_list_all() -> str:
    path: Optional[str] = os.environ.get("APPFLOW_EMU_AWS_LIST_ALL") or shutil.which("aws-list-all")
    if not path:
        missing_client("aws-list-all is not installed (set APPFLOW_EMU_AWS_LIST_ALL or put aws-list-all on PATH)")
    assert path is not None
    try:
        done = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=60)
    except OSError as e:
        missing_client(f"aws-list-all at {path} does not run: {e}")
    if done.returncode != 0 or "query" not in done.stdout:
        missing_client(f"aws-list-all at {path} does not run: {(done.stdout + done.stderr).strip()[:300]}")
    return path


@pytest.fixture
def server() -> Iterator[AppFlowServer]:
    with AppFlowServer(port=0) as running:
        yield running


class ListAll:
    def __init__(self, path: str, url: str, home: Path) -> None:
        self.path, self.home = path, home
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_") and k.upper() not in ("PYTHONPATH", "PYTHONHOME", "HTTP_PROXY", "HTTPS_PROXY",
                                                                  "ALL_PROXY", "NO_PROXY")}
        env.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                    "AWS_EC2_METADATA_DISABLED": "true",
                    # Its caches go to the user's cache directory: keep them in the test's.
                    "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"),
                    # Only the server is reachable: anything else goes to a proxy that is not there.
                    "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
                    "NO_PROXY": "127.0.0.1,localhost"})
        self.env = env

    def query(self, directory: str) -> List[str]:
        """``aws-list-all query`` for AppFlow in us-east-1: its summary lines (``+++``, ``---``, ``!!!``)."""
        done = subprocess.run([self.path, "query", "--service", "appflow", "--region", "us-east-1", "--parallel", "2",
                               "--directory", str(self.home / directory)],
                              capture_output=True, text=True, env=self.env, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "at-secret" not in done.stdout + done.stderr
        return sorted(line for line in done.stdout.splitlines() if re.match(r"(\+\+\+|---|!!!|>:\|) appflow ", line))

    def show(self, *files: Path) -> str:
        done = subprocess.run([self.path, "show", "--verbose", *map(str, files)], capture_output=True, text=True,
                              env=self.env, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


def _appflow(url: str):
    return boto3.client("appflow", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def test_aws_list_all_finds_the_profiles_and_flows(aws_list_all: str, server: AppFlowServer, tmp_path: Path) -> None:
    tool = ListAll(aws_list_all, server.url, tmp_path)
    assert tool.query("empty") == ["--- appflow us-east-1 DescribeConnectorProfiles None connectorProfileDetails",
                                   "--- appflow us-east-1 ListFlows None flows"]
    assert not list((tmp_path / "empty").iterdir())  # nothing found, nothing saved

    client = _appflow(server.url)
    for name in ("crm", "crm-sandbox"):
        client.create_connector_profile(connectorProfileName=name, connectorType="Salesforce", connectionMode="Public",
                                        connectorProfileConfig=PROFILE_CONFIG)
    for name in ("accounts", "contacts", "leads"):
        client.create_flow(flowName=name, triggerConfig={"triggerType": "OnDemand"},
                           sourceFlowConfig={"connectorType": "S3",
                                             "sourceConnectorProperties": {"S3": {"bucketName": "in-bucket"}}},
                           destinationFlowConfigList=S3_OUT, tags={"owner": "inventory"},
                           tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"},
                                   "taskProperties": {}}])

    assert tool.query("found") == ["+++ appflow us-east-1 DescribeConnectorProfiles None connectorProfileDetails",
                                   "+++ appflow us-east-1 ListFlows None flows"]
    saved: Dict[str, dict] = {path.name: json.loads(path.read_text()) for path in (tmp_path / "found").iterdir()}
    assert sorted(saved) == ["appflow_DescribeConnectorProfiles_us-east-1_None.json",
                             "appflow_ListFlows_us-east-1_None.json"]
    flows = saved["appflow_ListFlows_us-east-1_None.json"]["response"]["flows"]
    assert [(f["flowName"], f["flowArn"], f["tags"]) for f in flows] == [
        (name, f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/{name}", {"owner": "inventory"})
        for name in ("accounts", "contacts", "leads")]
    profiles = saved["appflow_DescribeConnectorProfiles_us-east-1_None.json"]["response"]["connectorProfileDetails"]
    assert sorted(p["connectorProfileName"] for p in profiles) == ["crm", "crm-sandbox"]
    assert "at-secret" not in json.dumps(saved)

    shown = tool.show(*sorted((tmp_path / "found").iterdir()))
    assert [line for line in shown.splitlines() if line] == [
        "appflow us-east-1 DescribeConnectorProfiles connectorProfileDetails 2", "    -  crm", "    -  crm-sandbox",
        "appflow us-east-1 ListFlows flows 3", "    -  accounts", "    -  contacts", "    -  leads"]
