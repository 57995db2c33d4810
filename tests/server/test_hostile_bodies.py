"""Hostile request bodies (issue 17, items 1-4): a lone surrogate, JSON nested thousands deep, JSON
null where the model wants a structure. Each gets an AWS-shaped 4xx (never a 500), and a flow that
was stored can always run. Through raw HTTP against ``serve``, and through boto3 in process where
a client can send it (botocore refuses nested values and nulls itself, so those are HTTP only)."""
from __future__ import annotations

import http.client
import json
from typing import Any, Dict, Tuple

import pytest
from botocore.exceptions import ParamValidationError

from appflow_emu.model.json_body import MAX_DEPTH
from appflow_emu.server import AppFlowServer
from appflow_emu.server.control import CONTROL_MAX_DEPTH
from tests.helpers import expect_error, flow_request, map_all, s3_destination, s3_source, salesforce_source

SCOPE = "Credential=AKID/20260101/us-east-1/appflow/aws4_request, SignedHeaders=host, Signature=0"
SIGV4 = {"Authorization": f"AWS4-HMAC-SHA256 {SCOPE}", "X-Amz-Date": "20260101T000000Z",
         "Content-Type": "application/json"}
ARN = "arn:aws:appflow:us-east-1:123456789012:flow/flow1"
SERIALIZATION = "Could not parse the request body as JSON"


@pytest.fixture(scope="module")
def running():
    with AppFlowServer(port=0) as server:
        yield server


@pytest.fixture
def server(running):
    call(running, "POST", "/_appflow_emu/reset", b"{}")
    for bucket in ("in-bucket", "out-bucket"):
        call(running, "POST", "/_appflow_emu/create_bucket", json.dumps({"bucket": bucket}).encode())
    return running


def call(server: AppFlowServer, method: str, path: str, body: bytes, headers: Dict[str, str] = SIGV4
         ) -> Tuple[int, Dict[str, str], Any]:
    """Status, lower-cased headers, and the body parsed as JSON (a test fails on a body that is not)."""
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        status, out = response.status, response.read()
        return status, {k.lower(): v for k, v in response.getheaders()}, json.loads(out) if out else None
    finally:
        conn.close()


def aws_error(answer: Tuple[int, Dict[str, str], Any]) -> Tuple[int, str, str]:
    status, headers, body = answer
    return status, headers.get("x-amzn-errortype", ""), body["message"]


def nested(depth: int) -> bytes:
    """``depth`` arrays, one inside the other."""
    return b"[" * depth + b"]" * depth


# -- 1. a lone surrogate -------------------------------------------------------------------------

SURROGATE_BODIES = [
    ("/describe-flow", b'{"flowName": "\\ud800"}'),
    ("/describe-flow", b'{"flowName": "ok\\udc00"}'),  # a lone low surrogate
    ("/describe-flow", b'{"flowName": "\\ud800\\u0041"}'),  # a high surrogate not followed by a low one
    ("/list-flows", b'{"maxResults": "\\ud800"}'),
    (f"/tags/{ARN.replace(':', '%3A').replace('/', '%2F')}", b'{"tags": {"k": "\\ud800"}}'),
    (f"/tags/{ARN.replace(':', '%3A').replace('/', '%2F')}", b'{"tags": {"\\udfff": "v"}}'),
    ("/list-flows", b'{"\\ud800": 1}'),  # an unknown member's name
]


@pytest.mark.parametrize("path, body", SURROGATE_BODIES)
def test_a_lone_surrogate_is_400_serialization_exception_over_http(server, path, body) -> None:
    status, kind, message = aws_error(call(server, "POST", path, body))
    assert (status, kind) == (400, "SerializationException")
    assert message.startswith(f"{SERIALIZATION}: the string '") and "lone UTF-16 surrogate" in message


def test_a_surrogate_pair_is_a_character_not_an_error(server) -> None:
    status, kind, message = aws_error(call(server, "POST", "/describe-flow", b'{"flowName": "\\ud83d\\ude00"}'))
    assert (status, kind) == (400, "ValidationException")
    assert message.startswith("1 validation error detected: Value '\U0001F600' at 'flowName'")


def test_a_lone_surrogate_through_boto3_is_a_serialization_exception(client) -> None:
    # botocore writes JSON with ensure_ascii: the surrogate reaches the service as an escape.
    expect_error(client.describe_flow, "SerializationException", 400, flowName="\ud800")
    expect_error(client.tag_resource, "SerializationException", 400, resourceArn=ARN, tags={"k": "\ud800"})


# -- 2. deep nesting -------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b'{"x": ' + nested(983) + b"}",
    b'{"x": ' + nested(100_000) + b"}",
    b'{"maxResults": ' + nested(329) + b"}",
    b'{"maxResults": ' + nested(MAX_DEPTH) + b"}",  # one level over: the object is the first
    b'{"x": "' + b"[" * 5000 + b'", "y": ' + nested(MAX_DEPTH) + b"}",
], ids=["983-unknown-member", "100000", "329-maxResults", "limit+1", "brackets-in-a-string-do-not-count"])
def test_json_nested_past_the_limit_is_400_serialization_exception(server, body) -> None:
    assert aws_error(call(server, "POST", "/list-flows", body)) == (
        400, "SerializationException",
        f"{SERIALIZATION}: the body nests arrays and objects more than {MAX_DEPTH} levels deep.")


def test_json_nested_to_the_limit_is_read(server) -> None:
    status, _, body = call(server, "POST", "/list-flows", b'{"x": ' + nested(MAX_DEPTH - 1) + b"}")
    assert (status, body["flows"]) == (200, [])
    # Brackets inside strings are text: thousands of them are a (long) string like any other.
    status, kind, message = aws_error(call(server, "POST", "/describe-flow",
                                           b'{"flowName": "' + b"[{" * 3000 + b'"}'))
    assert (status, kind) == (400, "ValidationException") and "at 'flowName'" in message


def test_a_value_nested_to_the_limit_is_worded_in_the_message(server) -> None:
    status, kind, message = aws_error(call(server, "POST", "/list-flows",
                                           b'{"maxResults": ' + nested(MAX_DEPTH - 1) + b"}"))
    inner = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert (status, kind, message) == (400, "ValidationException", (
        f"1 validation error detected: Value '{inner}' at 'maxResults' failed to satisfy constraint: "
        "Member must be of type integer"))


@pytest.mark.parametrize("body", [b'{"document": ' + nested(10_000) + b"}", b"[" * 100_000])
def test_the_control_api_reads_with_the_same_bound(server, body) -> None:
    status, _, answer = call(server, "POST", "/_appflow_emu/restore", body, {})
    assert status == 400 and answer["error"] == "SerializationException"
    assert f"more than {CONTROL_MAX_DEPTH} levels deep" in answer["message"]


def test_the_control_api_takes_records_nested_deeper_than_the_wire(server) -> None:
    """Seeded records are the user's data: the control API's bound is deeper than AppFlow's wire."""
    record = {"Id": "1", "Deep": json.loads(nested(MAX_DEPTH + 20).decode())}
    status, _, answer = call(server, "POST", "/_appflow_emu/add_source_records", json.dumps(
        {"connector_type": "Salesforce", "entity": "Account", "records": [record], "check_fields": False}).encode(), {})
    assert status == 200, answer


@pytest.mark.parametrize("body", [b'{"maxResults": NaN}', b'{"maxResults": 1e400}', b"\xff\xfe{}"])
def test_text_that_is_no_json_number_or_no_utf8_is_400_serialization_exception(server, body) -> None:
    status, kind, message = aws_error(call(server, "POST", "/list-flows", body))
    assert (status, kind) == (400, "SerializationException") and message.startswith(SERIALIZATION)


# -- 3 and 4. JSON null where the model wants a structure ---------------------------------------

def nulled(request: Dict[str, Any], *path: Any) -> bytes:
    """The request's JSON with the member at ``path`` set to null."""
    target = request
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = None
    return json.dumps(request).encode()


S3_ONLY = "Create Flow request failed: [{} must contain properties for connector type {} only]"


@pytest.mark.parametrize("request_body, message", [
    (nulled(flow_request("flow1", tasks=map_all()), "sourceFlowConfig", "sourceConnectorProperties", "S3"),
     S3_ONLY.format("sourceConnectorProperties", "S3")),
    (nulled(flow_request("flow1", source=salesforce_source("sf")), "sourceFlowConfig", "sourceConnectorProperties",
            "Salesforce"), S3_ONLY.format("sourceConnectorProperties", "Salesforce")),
    (nulled(flow_request("flow1", tasks=map_all()), "destinationFlowConfigList", 0, "destinationConnectorProperties",
            "S3"), S3_ONLY.format("destinationConnectorProperties", "S3")),
], ids=["s3-source", "salesforce-source", "s3-destination"])
def test_null_connector_properties_are_absent_and_refused(server, request_body, message) -> None:
    assert aws_error(call(server, "POST", "/create-flow", request_body)) == (400, "ValidationException", message)
    assert call(server, "POST", "/list-flows", b"{}")[2]["flows"] == []  # nothing stored


@pytest.mark.parametrize("request_body, where", [
    (nulled(flow_request("flow1", tasks=map_all()), "sourceFlowConfig", "sourceConnectorProperties"),
     "sourceFlowConfig.sourceConnectorProperties"),
    (nulled(flow_request("flow1", tasks=map_all()), "triggerConfig"), "triggerConfig"),
    (nulled(flow_request("flow1", tasks=map_all()), "flowName"), "flowName"),
])
def test_a_required_member_sent_as_null_is_missing(server, request_body, where) -> None:
    assert aws_error(call(server, "POST", "/create-flow", request_body)) == (
        400, "ValidationException",
        f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: Member must not be null")


def test_a_null_s3_output_format_is_absent_and_the_flow_runs(server) -> None:
    request = flow_request("flow1", tasks=map_all(), destination=s3_destination())
    request["destinationFlowConfigList"][0]["destinationConnectorProperties"]["S3"]["s3OutputFormatConfig"] = {
        "fileType": "CSV", "prefixConfig": None, "aggregationConfig": None}
    status, _, _ = call(server, "POST", "/create-flow", json.dumps(request).encode())
    assert status == 200
    request = flow_request("flow2", tasks=map_all())
    status, _, _ = call(server, "POST", "/create-flow", nulled(
        request, "destinationFlowConfigList", 0, "destinationConnectorProperties", "S3", "s3OutputFormatConfig"))
    assert status == 200
    described = call(server, "POST", "/describe-flow", b'{"flowName": "flow2"}')[2]
    s3 = described["destinationFlowConfigList"][0]["destinationConnectorProperties"]["S3"]
    assert s3["s3OutputFormatConfig"] == {"prefixConfig": {}, "aggregationConfig": {"aggregationType": "None"}}
    assert call(server, "POST", "/describe-flow", b'{"flowName": "flow1"}')[2]["destinationFlowConfigList"][0][
        "destinationConnectorProperties"]["S3"]["s3OutputFormatConfig"] == {
        "fileType": "CSV", "prefixConfig": {}, "aggregationConfig": {"aggregationType": "None"}}
    for name in (b"flow1", b"flow2"):
        status, _, started = call(server, "POST", "/start-flow", b'{"flowName": "' + name + b'"}')
        assert status == 200 and started["executionId"]


def test_a_restored_s3_source_without_a_bucket_fails_its_run_not_the_call(server) -> None:
    """A state document may hold a flow no request could create; running it ends in Error."""
    request = flow_request("flow1", tasks=map_all(), source=s3_source())
    assert call(server, "POST", "/create-flow", json.dumps(request).encode())[0] == 200
    document = call(server, "POST", "/_appflow_emu/snapshot", b"{}", {})[2]["result"]
    (region,) = document["regions"]
    (entry,) = region["flows"]["items"]
    entry["item"]["source"]["sourceConnectorProperties"]["S3"] = None
    status, _, answer = call(server, "POST", "/_appflow_emu/restore", json.dumps({"document": document}).encode(), {})
    assert status == 200, answer
    status, _, started = call(server, "POST", "/start-flow", b'{"flowName": "flow1"}')
    assert status == 200
    records = call(server, "POST", "/describe-flow-execution-records", b'{"flowName": "flow1"}')[2]
    (execution,) = records["flowExecutions"]
    assert execution["executionId"] == started["executionId"]
    assert execution["executionStatus"] == "Error"
    assert "does not exist" in execution["executionResult"]["errorInfo"]["executionMessage"]


def test_boto3_cannot_send_a_null(client) -> None:
    """Why the null cases above are HTTP only: botocore refuses None before anything is sent."""
    with pytest.raises(ParamValidationError):
        client.create_flow(**{**flow_request("flow1", tasks=map_all()),
                              "sourceFlowConfig": {"connectorType": "S3", "sourceConnectorProperties": {"S3": None}}})


@pytest.mark.parametrize("moment", [1e30, -5, 253402300800])
def test_a_timestamp_no_datetime_can_show_is_refused(server, moment) -> None:
    """botocore cannot send it (a datetime holds years 1 to 9999) and could not read it back in
    DescribeFlow: a raw client's CreateFlow gets a ValidationException, and nothing is stored."""
    request = flow_request("flow1", source=s3_source("in-bucket", "data"), destination=s3_destination("out-bucket"),
                           trigger="Scheduled", schedule="rate(1hours)")
    request["triggerConfig"]["triggerProperties"]["Scheduled"]["scheduleStartTime"] = moment
    status, kind, message = aws_error(call(server, "POST", "/create-flow", json.dumps(request).encode()))
    assert (status, kind) == (400, "ValidationException")
    assert message.endswith("at 'triggerConfig.triggerProperties.Scheduled.scheduleStartTime' failed to satisfy "
                            "constraint: Member must be a timestamp between 1970-01-01T00:00:00Z and "
                            "9999-12-31T23:59:59.999Z")
    assert call(server, "POST", "/list-flows", b"{}")[2]["flows"] == []


def test_loading_a_file_nested_past_the_decoder_is_invalid_state(tmp_path) -> None:
    from appflow_emu import InvalidStateError, mock_appflow

    path = tmp_path / "deep.json"
    path.write_text('{"version": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with mock_appflow() as emu, pytest.raises(InvalidStateError, match="deeper than Python's JSON decoder"):
        emu.load(path)
