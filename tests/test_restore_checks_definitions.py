"""A state document's stored AppFlow resources are checked as the requests that made them were
(issue 17: no request leaves state that later calls cannot read).

A flow's definition is checked with CreateFlow's input check, a connector profile with
CreateConnectorProfile's, a registration with RegisterConnector's (and what its Lambda described
with DescribeConnector's answer shape), a flow's status and runs with the answers that show them,
a trigger's timestamps within 1970..9999 and its schedule expression as CreateFlow reads it. A
document holding anything else is refused with InvalidStateError naming the path, through the
handle and over ``POST /_appflow_emu/restore``, and changes nothing. A flow naming a connector
profile the document lacks is one AWS can have (the profile force-deleted): it restores, and its
run ends in Error.
"""
from __future__ import annotations

import copy
import http.client
import json
import math
from typing import Any, Callable, Dict, List, Tuple

import boto3
import pytest
from freezegun import freeze_time

from appflow_emu import InvalidStateError, mock_appflow
from appflow_emu.server import AppFlowServer
from tests.conftest import has_operation
from tests.helpers import profile_request, s3_destination, s3_source

REGION = "us-east-1"
Doc = Dict[str, Any]

HOURLY = {"triggerType": "Scheduled", "triggerProperties": {"Scheduled": {
    "scheduleExpression": "rate(1hours)", "dataPullMode": "Incremental"}}}
SF_TASKS = [{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"Salesforce": "NO_OP"},
             "taskProperties": {}}]


def build(client: Any) -> None:
    """A profile, three flows (on demand and run once, scheduled, S3 to S3), a registration."""
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    for name, trigger in (("on-demand", {"triggerType": "OnDemand"}), ("hourly", HOURLY)):
        client.create_flow(
            flowName=name, triggerConfig=trigger,
            sourceFlowConfig={"connectorType": "Salesforce", "connectorProfileName": "sf",
                              "sourceConnectorProperties": {"Salesforce": {"object": "Account"}}},
            destinationFlowConfigList=[s3_destination("out-bucket", "out", "JSON")], tasks=SF_TASKS)
    client.create_flow(flowName="copy", triggerConfig={"triggerType": "OnDemand"}, sourceFlowConfig=s3_source(),
                       destinationFlowConfigList=[s3_destination()],
                       tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"},
                               "taskProperties": {}}])
    client.start_flow(flowName="on-demand")
    if has_operation("RegisterConnector"):
        client.register_connector(connectorLabel="shop", connectorProvisioningType="LAMBDA",
                                  connectorProvisioningConfig={"lambda": {
                                      "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:shop"}})


def _find(doc: Doc, kind: str, name: str) -> Tuple[str, Doc]:
    """The stored resource ``name`` of ``kind`` (flows, profiles, registrations) and its path."""
    key = "label" if kind == "registrations" else "name"
    for r, region in enumerate(doc["regions"]):
        for i, entry in enumerate(region[kind]["items"]):
            if entry["item"][key] == name:
                return f"$.regions[{r}].{kind}.items[{i}].item", entry["item"]
    raise KeyError(name)


def _flow(name: str, edit: Callable[[Doc], Any], suffix: str) -> Tuple[str, str, Callable[[Doc], Any], str]:
    return ("flows", name, edit, suffix)


def _scheduled(doc: Doc) -> Doc:
    return doc["trigger_config"]["triggerProperties"]["Scheduled"]


def _registration_described(doc: Doc) -> None:
    doc["configuration"] = {"connectorName": "shop", "connectorVersion": "1.0", "connectorModes": ["SOURCE"]}


# case -> (kind, name, edit of the stored resource, path under it the refusal names)
CASES: Dict[str, Tuple[str, str, Callable[[Doc], Any], str]] = {
    "a flow without its trigger type": _flow("on-demand", lambda f: f["trigger_config"].pop("triggerType"),
                                             "trigger_config.triggerType"),
    "a flow without its source connector type": _flow("on-demand", lambda f: f["source"].pop("connectorType"),
                                                      "source.connectorType"),
    "a schedule starting past year 9999": _flow("hourly", lambda f: _scheduled(f).update(scheduleStartTime=1e30),
                                                "trigger_config.triggerProperties.Scheduled.scheduleStartTime"),
    "a schedule starting before 1970": _flow("hourly", lambda f: _scheduled(f).update(scheduleEndTime=-1),
                                             "trigger_config.triggerProperties.Scheduled.scheduleEndTime"),
    "a schedule start that is text": _flow("hourly", lambda f: _scheduled(f).update(scheduleStartTime="tomorrow"),
                                           "trigger_config.triggerProperties.Scheduled.scheduleStartTime"),
    "a schedule expression AppFlow cannot read": _flow(
        "hourly", lambda f: _scheduled(f).update(scheduleExpression="every hour"),
        "trigger_config.triggerProperties.Scheduled.scheduleExpression"),
    "a Scheduled flow without its schedule": _flow("hourly", lambda f: f["trigger_config"].update(triggerProperties={}),
                                                   "trigger_config.triggerProperties.Scheduled"),
    "a connector type AppFlow does not have": _flow(
        "copy", lambda f: f["destinations"][0].update(connectorType="Mainframe"), "destinations[0].connectorType"),
    "a task without its type": _flow("copy", lambda f: f["tasks"][0].pop("taskType"), "tasks[0].taskType"),
    "a flow name CreateFlow refuses": _flow("copy", lambda f: f.update(name="no spaces allowed"), "name"),
    "a flow status AppFlow does not have": _flow("copy", lambda f: f.update(status="Running"), "status"),
    "a run result of the wrong type": _flow(
        "on-demand", lambda f: f["executions"][0]["result"].update(bytesProcessed="many"),
        "executions[0].result.bytesProcessed"),
    "a run status AppFlow does not have": _flow("on-demand", lambda f: f["executions"][0].update(status="Done"),
                                                "executions[0].status"),
    "a profile property of the wrong type": (
        "profiles", "sf", lambda p: p["properties"]["Salesforce"].update(instanceUrl=5),
        "properties.Salesforce.instanceUrl"),
    "a profile connection mode AppFlow does not have": ("profiles", "sf", lambda p: p.update(connection_mode="VPN"),
                                                        "connection_mode"),
    "a registration's Lambda ARN of the wrong type": (
        "registrations", "shop", lambda r: r["provisioning_config"]["lambda"].update(lambdaArn=5),
        "provisioning_config.lambda.lambdaArn"),
    "a described connector without its owner": ("registrations", "shop", _registration_described,
                                                "configuration.connectorOwner"),
}
# What only a dict handed to restore in process can hold (JSON text cannot; the server refuses it).
IN_PROCESS_CASES = {
    "a label holding a lone surrogate": _flow("copy", lambda f: f.update(destination_label="shop\ud800"),
                                              "destination_label"),
    "NaN in a trigger": _flow("hourly", lambda f: _scheduled(f).update(scheduleStartTime=math.nan),
                              "trigger_config.triggerProperties.Scheduled.scheduleStartTime"),
}


def _bad(good: Doc, case: Tuple[str, str, Callable[[Doc], Any], str]) -> Tuple[Doc, str]:
    kind, name, edit, suffix = case
    if kind == "registrations" and not has_operation("RegisterConnector"):
        pytest.skip("the installed model has no custom connectors")
    doc = copy.deepcopy(good)
    where, item = _find(doc, kind, name)
    edit(item)
    return doc, f"at {where}.{suffix}:"


@pytest.fixture(scope="module")
def good() -> Doc:
    with freeze_time("2026-03-01T12:00:00Z"), mock_appflow() as emu:
        build(boto3.client("appflow", region_name=REGION))
        return json.loads(json.dumps(emu.snapshot()))


@pytest.mark.parametrize("case", sorted({**CASES, **IN_PROCESS_CASES}))
def test_restore_refuses_a_stored_resource_appflow_could_not_hold(good: Doc, case: str) -> None:
    bad, where = _bad(good, {**CASES, **IN_PROCESS_CASES}[case])
    with freeze_time("2026-03-01T12:00:00Z"), mock_appflow() as emu:
        client = boto3.client("appflow", region_name=REGION)
        client.create_flow(flowName="already-here", triggerConfig={"triggerType": "OnDemand"},
                           sourceFlowConfig=s3_source(), destinationFlowConfigList=[s3_destination()],
                           tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"},
                                   "taskProperties": {}}])
        before = emu.snapshot()
        with pytest.raises(InvalidStateError) as refused:
            emu.restore(bad)
        assert where in str(refused.value), str(refused.value)
        assert emu.snapshot() == before
        assert [f["flowName"] for f in client.list_flows()["flows"]] == ["already-here"]


def test_the_document_a_snapshot_makes_restores_and_every_flow_reads_and_runs(good: Doc) -> None:
    with mock_appflow(strict=True) as emu:  # strict: every answer is checked against the model
        emu.restore(good)
        client = boto3.client("appflow", region_name=REGION)
        assert {f["flowName"] for f in client.list_flows()["flows"]} == {"on-demand", "hourly", "copy"}
        for name in ("on-demand", "hourly", "copy"):
            client.describe_flow(flowName=name)
            client.describe_flow_execution_records(flowName=name)


def test_a_flow_whose_profile_is_gone_restores_and_its_run_ends_in_error(good: Doc) -> None:
    """AppFlow deletes a profile in use when asked with forceDelete; the flow stays, and runs fail."""
    doc = copy.deepcopy(good)
    _, flow = _find(doc, "flows", "on-demand")
    flow["source"]["connectorProfileName"] = "deleted-profile"
    with mock_appflow(strict=True) as emu:
        emu.restore(doc)
        client = boto3.client("appflow", region_name=REGION)
        client.describe_flow(flowName="on-demand")
        execution_id = client.start_flow(flowName="on-demand")["executionId"]
        runs = {r["executionId"]: r for r in client.describe_flow_execution_records(flowName="on-demand")["flowExecutions"]}
        assert runs[execution_id]["executionStatus"] == "Error"
        assert "deleted-profile" in runs[execution_id]["executionResult"]["errorInfo"]["executionMessage"]


# -- over HTTP: POST /_appflow_emu/restore ---------------------------------------------------------------

@pytest.fixture(scope="module")
def server():
    with AppFlowServer(port=0) as running:
        yield running


def _post(server: AppFlowServer, verb: str, body: Doc) -> Tuple[int, Any]:
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("POST", f"/_appflow_emu/{verb}", body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(server: AppFlowServer) -> Tuple[Any, Doc]:
    """The server holding the state ``build`` makes, a client, and its snapshot."""
    client = boto3.client("appflow", endpoint_url=server.url, region_name=REGION,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    assert _post(server, "reset", {})[0] == 200
    build(client)
    status, answer = _post(server, "snapshot", {})
    assert status == 200, answer
    return client, answer["result"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_control_api_refuses_the_same_documents(server: AppFlowServer, served: Tuple[Any, Doc], case: str) -> None:
    client, good_doc = served
    bad, where = _bad(good_doc, CASES[case])
    before = _post(server, "snapshot", {})[1]["result"]
    status, answer = _post(server, "restore", {"document": bad})
    assert (status, answer["error"]) == (400, "InvalidStateError"), answer
    assert where in answer["message"], answer["message"]
    assert _post(server, "snapshot", {})[1]["result"] == before  # nothing changed
    flows: List[str] = sorted(f["flowName"] for f in client.list_flows()["flows"])
    assert flows == ["copy", "hourly", "on-demand"]
    for name in flows:
        client.describe_flow(flowName=name)


@pytest.mark.parametrize("generator", ["ids", "requests"])
@pytest.mark.parametrize("index, value", [(0, -1), (0, 2 ** 32), (0, 2 ** 64), (623, 10 ** 30), (624, 625), (624, -1)])
def test_restore_refuses_an_id_generator_word_out_of_range(good: Doc, generator: str, index: int, value: int) -> None:
    """A Mersenne Twister word is 32 bits and its position 0..624: random's setstate would raise
    OverflowError (a 500 over HTTP) or silently truncate the word."""
    bad = json.loads(json.dumps(good))
    bad["ids"][generator][1][index] = value
    with mock_appflow() as emu:
        before = emu.snapshot()
        with pytest.raises(InvalidStateError, match=rf"at \$\.ids\.{generator} is not a Mersenne Twister state"):
            emu.restore(bad)
        assert emu.snapshot() == before
