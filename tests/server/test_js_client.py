"""The JavaScript SDK (``@aws-sdk/client-appflow`` from npm, on the machine's node) against a server
started by the test: tests/js/roundtrip.mjs does the round trip and prints its results as JSON.

tests/js holds package.json (the SDK pinned) and package-lock.json; ``npm ci`` there installs
node_modules (.ci/run). Without node or node_modules the test skips, or fails when
``APPFLOW_EMU_REQUIRE_CLIENTS=1``."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest

from appflow_emu.server import AppFlowServer

JS = Path(__file__).resolve().parents[1] / "js"
ACCOUNT = "123456789012"
FLOW_ARN = f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/accounts"


def _missing(reason: str) -> None:
    if os.environ.get("APPFLOW_EMU_REQUIRE_CLIENTS") == "1":
        pytest.fail(f"{reason} (APPFLOW_EMU_REQUIRE_CLIENTS=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if not path:
        _missing("node is not installed")
    assert path is not None
    if not (JS / "node_modules" / "@aws-sdk" / "client-appflow" / "package.json").is_file():
        _missing(f"the JavaScript SDK is not installed: run `npm ci` in {JS}")
    return path


@pytest.fixture(scope="module")
def results(node: str) -> Dict[str, Any]:
    """The round trip's printed results (one run for all the tests of this module)."""
    with AppFlowServer(port=0) as server:
        server.emulator.create_bucket("out-bucket")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
        done = subprocess.run([node, "roundtrip.mjs", server.url], cwd=JS, capture_output=True, text=True, env=env,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        out["_flows_left"] = sorted(server.emulator.state("us-east-1").flows)
        return out


def test_every_call_of_the_round_trip_succeeds(results) -> None:
    calls = {k: v for k, v in results.items() if isinstance(v, dict) and "status" in v}
    assert {k: v.get("error") for k, v in calls.items() if k != "describeMissingFlow"} == {
        k: None for k in calls if k != "describeMissingFlow"}
    assert {k: v["status"] for k, v in calls.items()} == {
        "createConnectorProfile": 200, "createFlow": 200, "describeFlow": 200, "startFlow": 200,
        "describeFlowExecutionRecords": 200, "listFlows": 200, "tagResource": 204, "listTagsForResource": 200,
        "describeMissingFlow": 404, "deleteFlow": 200, "listFlowsAfterDelete": 200,
        "create-page-a": 200, "create-page-b": 200, "create-page-c": 200}


def test_the_sdk_parses_every_timestamp_into_a_date(results) -> None:
    assert results["badDates"] == []
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", results["describeFlow"]["output"]["createdAt"])


def test_created_resources(results) -> None:
    assert results["createConnectorProfile"]["output"] == {
        "connectorProfileArn": f"arn:aws:appflow:us-east-1:{ACCOUNT}:connectorprofile/sf"}
    assert results["createFlow"]["output"] == {"flowArn": FLOW_ARN, "flowStatus": "Active"}
    flow = results["describeFlow"]["output"]
    assert (flow["flowName"], flow["description"], flow["sourceFlowConfig"]["connectorProfileName"],
            flow["tags"]) == ("accounts", "from the JavaScript SDK", "sf", {"env": "ci"})


def test_the_run_is_the_one_in_the_execution_records(results) -> None:
    started = results["startFlow"]["output"]
    assert (started["flowArn"], started["flowStatus"]) == (FLOW_ARN, "Active")
    (record,) = results["describeFlowExecutionRecords"]["output"]["flowExecutions"]
    assert record["executionId"] == started["executionId"]
    assert record["executionStatus"] == "Successful"
    (flow,) = results["listFlows"]["output"]["flows"]
    assert (flow["flowName"], flow["flowArn"], flow["lastRunExecutionDetails"]["mostRecentExecutionStatus"]) == (
        "accounts", FLOW_ARN, "Successful")


def test_tags(results) -> None:
    assert results["tagResource"] == {"status": 204, "output": {}}
    assert results["listTagsForResource"]["output"] == {"tags": {"env": "ci", "team": "data"}}


def test_a_missing_flow_is_a_resource_not_found_exception(results) -> None:
    assert results["describeMissingFlow"] == {"error": "ResourceNotFoundException", "status": 404,
                                              "message": "Flow with name missing does not exist.",
                                              "fault": "client"}


def test_delete_flow(results) -> None:
    assert results["deleteFlow"] == {"status": 200, "output": {}}
    assert results["listFlowsAfterDelete"]["output"] == {"flows": []}
    assert "accounts" not in results["_flows_left"]  # gone from the emulator too


def test_the_sdk_paginator_follows_next_tokens(results) -> None:
    assert results["paginatedListFlows"] == [["page-a"], ["page-b"], ["page-c"]]
