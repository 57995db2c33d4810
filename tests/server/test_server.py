"""Server mode through real HTTP: boto3 with endpoint_url (in process and in a subprocess, compared
with the in-process mock), the wire protocol's own errors, the control API, and the CLI."""
from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, List

import boto3
import pytest
from botocore.exceptions import ClientError

from appflow_emu import mock_appflow
from appflow_emu.server import AppFlowServer
from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/appflow/aws4_request, "
                         "SignedHeaders=host, Signature=0"}


@pytest.fixture
def server():
    with AppFlowServer(port=0) as running:
        yield running


def client_for(url: str, region: str = "us-east-1") -> Any:
    return boto3.client("appflow", endpoint_url=url, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def raw(server: AppFlowServer, method: str, path: str, body: bytes = b"", headers: Dict[str, str] = AUTH) -> Any:
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


# The scripted sequence run both ways (the differential test).
SCRIPT = '''
import json, sys, boto3
from botocore.exceptions import ClientError

def run(client):
    out = []
    def call(name, **kwargs):
        try:
            answer = getattr(client, name)(**kwargs)
            answer.pop("ResponseMetadata")
            out.append([name, "ok", answer])
        except ClientError as e:
            out.append([name, e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"],
                        e.response["Error"]["Message"]])
    call("list_flows")
    call("create_connector_profile", connectorProfileName="sf", connectorType="Salesforce", connectionMode="Public",
         connectorProfileConfig={"connectorProfileProperties": {"Salesforce": {"instanceUrl": "https://x.my.salesforce.com"}},
                                 "connectorProfileCredentials": {"Salesforce": {"accessToken": "at-secret"}}})
    call("create_flow", flowName="accounts", triggerConfig={"triggerType": "OnDemand"},
         sourceFlowConfig={"connectorType": "Salesforce", "connectorProfileName": "sf",
                           "sourceConnectorProperties": {"Salesforce": {"object": "Account"}}},
         destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {"S3": {"bucketName": "out-bucket"}}}],
         tasks=[{"taskType": "Filter", "sourceFields": ["Id", "Name"], "connectorOperator": {"Salesforce": "PROJECTION"}},
                {"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"Salesforce": "NO_OP"}, "taskProperties": {}}])
    call("create_flow", flowName="accounts", triggerConfig={"triggerType": "OnDemand"},
         sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {"S3": {"bucketName": "inb"}}},
         destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {"S3": {"bucketName": "out"}}}],
         tasks=[])
    call("describe_flow", flowName="accounts")
    call("start_flow", flowName="accounts")
    call("describe_flow_execution_records", flowName="accounts")
    call("list_flows", maxResults=1)
    call("tag_resource", resourceArn="arn:aws:appflow:us-east-1:123456789012:flow/accounts", tags={"team": "data"})
    call("list_tags_for_resource", resourceArn="arn:aws:appflow:us-east-1:123456789012:flow/accounts")
    call("untag_resource", resourceArn="arn:aws:appflow:us-east-1:123456789012:flow/accounts", tagKeys=["team"])
    call("describe_connector_profiles")
    call("describe_connectors", connectorTypes=["Salesforce"])
    call("list_connector_entities", connectorProfileName="sf")
    call("stop_flow", flowName="accounts")
    call("describe_flow", flowName="missing")
    call("delete_flow", flowName="accounts")
    call("list_flows")
    return out
'''


def _normal(answers: List[Any]) -> str:
    """The answers without what differs between runs: dates (and request ids, already dropped)."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()
                    if k not in ("createdAt", "lastUpdatedAt", "startedAt", "mostRecentExecutionTime",
                                 "dataPullStartTime", "dataPullEndTime", "registeredAt")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    text = json.dumps(strip(answers), default=str, sort_keys=True)
    return re.sub(r"-\d{13}-", "-<creation ms>-", text)  # the secret ARN's creation time


def test_a_scripted_sequence_answers_the_same_over_http_in_a_subprocess_and_in_process(server) -> None:
    namespace: Dict[str, Any] = {}
    exec(SCRIPT, namespace)
    server.emulator.create_bucket("out-bucket")
    code = SCRIPT + f'''
client = boto3.client("appflow", endpoint_url={server.url!r}, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
print(json.dumps(run(client), default=str))
'''
    env = subprocess_env()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    over_http = json.loads(done.stdout)
    with mock_appflow() as emu:
        emu.create_bucket("out-bucket")
        in_process = namespace["run"](boto3.client("appflow", region_name="us-east-1"))
    assert _normal(over_http) == _normal(json.loads(json.dumps(in_process, default=str)))
    assert [a[1] for a in over_http].count("ok") >= 14  # the sequence really ran
    assert "at-secret" not in done.stdout


def test_region_comes_from_the_signature_and_account_from_the_server(server) -> None:
    client_for(server.url, "eu-west-1").create_connector_profile(
        connectorProfileName="sf", connectorType="Salesforce", connectionMode="Public",
        connectorProfileConfig={"connectorProfileProperties": {"Salesforce": {"instanceUrl": "https://x.my.salesforce.com"}},
                                "connectorProfileCredentials": {"Salesforce": {"accessToken": "t"}}})
    assert list(server.emulator.state("eu-west-1").connector_profiles) == ["sf"]
    assert client_for(server.url, "us-east-1").describe_connector_profiles()["connectorProfileDetails"] == []
    with AppFlowServer(port=0, account_id="111122223333") as other:
        arn = client_for(other.url).create_flow(
            flowName="f1", triggerConfig={"triggerType": "OnDemand"},
            sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {"S3": {"bucketName": "inb"}}},
            destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {
                "S3": {"bucketName": "out"}}}],
            tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"}, "taskProperties": {}}],
        )["flowArn"]
        assert ":111122223333:" in arn


def test_tag_resource_answers_204_over_http(server) -> None:
    client = client_for(server.url)
    client.create_flow(
        flowName="f1", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {"S3": {"bucketName": "inb"}}},
        destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {"S3": {"bucketName": "out"}}}],
        tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"}, "taskProperties": {}}])
    arn = "arn:aws:appflow:us-east-1:123456789012:flow/f1"
    status, _, body = raw(server, "POST", "/tags/" + arn.replace(":", "%3A").replace("/", "%2F"),
                          b'{"tags": {"a": "b"}}', {**AUTH, "Authorization": AUTH["Authorization"].replace("eu-west-1", "us-east-1")})
    assert (status, body) == (204, b"")
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "b"}


@pytest.mark.parametrize("method, path, body, headers, status, code", [
    ("POST", "/list-flows", b"{}", {}, 403, "MissingAuthenticationTokenException"),
    ("POST", "/list-flows", b"{not json", AUTH, 400, "SerializationException"),
    ("POST", "/list-flows", b"[1, 2]", AUTH, 400, "SerializationException"),
    ("POST", "/list-flows", b"\xff\xfe", AUTH, 400, "SerializationException"),
    ("GET", "/list-flows", b"", AUTH, 404, "UnknownOperationException"),
    ("POST", "/no-such-operation", b"{}", AUTH, 404, "UnknownOperationException"),
    ("POST", "/describe-flow", b'{"flowName": 1}', AUTH, 400, "ValidationException"),
    ("POST", "/describe-flow", b'{"flowName": "nope"}', {**AUTH, "Content-Type": "text/plain"}, 404,
     "ResourceNotFoundException"),
])
def test_bad_requests_get_aws_shaped_errors_and_the_server_keeps_serving(server, method, path, body, headers,
                                                                          status, code) -> None:
    got_status, got_headers, got_body = raw(server, method, path, body, headers)
    assert (got_status, got_headers.get("x-amzn-errortype")) == (status, code)
    assert "message" in json.loads(got_body)
    assert client_for(server.url).list_flows()["flows"] == []


def test_an_oversized_body_is_413(server) -> None:
    from appflow_emu.intercept.http_wire import MAX_BODY

    status, headers, _ = raw(server, "POST", "/create-flow", b"x" * (MAX_BODY + 1), AUTH)
    assert status == 413
    assert client_for(server.url).list_flows()["flows"] == []


def test_keep_alive_and_chunked_bodies(server) -> None:
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    for _ in range(3):  # one connection, three requests
        conn.request("POST", "/list-flows", body=b"{}", headers=AUTH)
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("Connection") != "close"
        response.read()
    conn.request("POST", "/describe-flow", body=iter([b'{"flowName":', b' "nope"}']),
                 headers={**AUTH, "Transfer-Encoding": "chunked"}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 404 and b"nope" in response.read()


def test_concurrent_clients_see_consistent_state(server) -> None:
    errors: List[BaseException] = []

    def work(n: int) -> None:
        try:
            client = client_for(server.url)
            for i in range(15):
                client.create_flow(
                    flowName=f"w{n}-{i}", triggerConfig={"triggerType": "OnDemand"},
                    sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {"S3": {"bucketName": "inb"}}},
                    destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {
                        "S3": {"bucketName": "out"}}}],
                    tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"},
                            "taskProperties": {}}])
        except BaseException as e:  # noqa: B036 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    names, token = [], None
    client = client_for(server.url)
    while True:
        page = client.list_flows(maxResults=7, **({"nextToken": token} if token else {}))
        names += [f["flowName"] for f in page["flows"]]
        token = page.get("nextToken")
        if not token:
            break
    assert sorted(names) == sorted(f"w{n}-{i}" for n in range(4) for i in range(15))


def test_control_api_mirrors_the_handle(server) -> None:
    def post(verb: str, **kwargs: Any) -> Any:
        status, _, body = raw(server, "POST", f"/_appflow_emu/{verb}", json.dumps(kwargs).encode(),
                              {"Content-Type": "application/json"})
        return status, json.loads(body)

    assert raw(server, "GET", "/_appflow_emu/health", headers={})[0] == 200
    assert post("put_object", bucket="inb", key="data/a.csv", body="id,name\n1,x\n") == (200, {"result": None})
    assert post("list_objects", bucket="inb") == (200, {"result": ["data/a.csv"]})
    status, answer = post("fail_next_execution", flow="missing")
    assert status == 404 and answer["error"] == "NotFoundError" and "missing" in answer["message"]
    status, answer = post("advance", delta=-1)
    assert status == 400 and answer["error"] == "ValueError"
    assert post("no_such_verb")[0] == 404
    status, answer = post("snapshot")
    assert status == 200 and answer["result"]["format"] == "appflow_emu/state"
    assert post("reset") == (200, {"result": None})
    assert post("list_objects", bucket="inb")[0] == 404
    assert post("restore", document=answer["result"])[0] == 200
    assert post("list_objects", bucket="inb") == (200, {"result": ["data/a.csv"]})
    assert post("restore", document={"format": "x"})[0] == 400


def test_the_cli_serves_until_sigterm_and_saves_its_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    env = subprocess_env()
    process = subprocess.Popen([sys.executable, "-m", "appflow_emu", "serve", "--port", "0", "--state", str(state)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("appflow_emu listening on http://127.0.0.1:"), line
        url = line.split(" on ", 1)[1].strip()
        client_for(url).create_flow(
            flowName="kept", triggerConfig={"triggerType": "OnDemand"},
            sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {"S3": {"bucketName": "inb"}}},
            destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {"S3": {"bucketName": "out"}}}],
            tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"}, "taskProperties": {}}])
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    with mock_appflow(state=state):
        assert [f["flowName"] for f in boto3.client("appflow", region_name="us-east-1").list_flows()["flows"]] == ["kept"]


def test_a_wide_host_warns(tmp_path: Path) -> None:
    env = subprocess_env()
    process = subprocess.Popen([sys.executable, "-m", "appflow_emu", "serve", "--host", "0.0.0.0", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert process.stdout.readline().startswith("appflow_emu listening on http://0.0.0.0:")  # type: ignore[union-attr]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "warning" in err and "0.0.0.0" in err


def test_clients_raise_aws_errors(server) -> None:
    with pytest.raises(ClientError) as err:
        client_for(server.url).describe_flow(flowName="nope")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_the_appflow_server_fixture(appflow_server) -> None:
    client = client_for(appflow_server.url)
    assert client.list_flows()["flows"] == []
    appflow_server.emulator.put_object("inb", "k", b"v")
    assert appflow_server.emulator.list_objects("inb") == ["k"]


def test_s3_sources_and_destinations_use_the_s3_endpoint_given() -> None:
    """--s3-endpoint: a moto_server next to the emulator holds the buckets (the interplay mock_aws
    gives in process)."""
    moto_server = pytest.importorskip("moto.server")
    s3_server = moto_server.ThreadedMotoServer(port=0, verbose=False)
    s3_server.start()
    try:
        host, port = s3_server.get_host_and_port()
        s3_url = f"http://{host}:{port}"
        s3 = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="in-bucket")
        s3.create_bucket(Bucket="out-bucket")
        s3.put_object(Bucket="in-bucket", Key="data/a.csv", Body=b"id,name\n1,Acme\n2,Globex\n")
        with AppFlowServer(port=0, s3_endpoint=s3_url) as server:
            client = client_for(server.url)
            client.create_flow(
                flowName="copy", triggerConfig={"triggerType": "OnDemand"},
                sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {"S3": {
                    "bucketName": "in-bucket", "bucketPrefix": "data"}}},
                destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {"S3": {
                    "bucketName": "out-bucket", "bucketPrefix": "out",
                    "s3OutputFormatConfig": {"fileType": "JSON"}}}}],
                tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"},
                        "taskProperties": {}}])
            execution_id = client.start_flow(flowName="copy")["executionId"]
            assert server.emulator.snapshot()["objects"] is None  # the buckets are the other S3's
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="out-bucket")["Contents"]]
        assert keys == [f"out/copy/{execution_id}/part-00000"]
        body = s3.get_object(Bucket="out-bucket", Key=keys[0])["Body"].read()
        assert [json.loads(line) for line in body.splitlines()] == [{"id": "1", "name": "Acme"},
                                                                     {"id": "2", "name": "Globex"}]
    finally:
        s3_server.stop()


def test_a_client_that_disconnects_midway_does_no_harm(server) -> None:
    import socket

    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    for partial in (b"POST /create-flow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n",  # headers cut
                    b"POST /create-flow HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH["Authorization"].encode()
                    + b"\r\nContent-Length: 1000\r\n\r\n{\"flowName\": \"half"):  # body cut
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(partial)
    assert client_for(server.url).list_flows()["flows"] == []  # still serving; nothing half made
