"""A neighbour's refusal is a failed run, not a crash (issue 17, item 10).

With moto active, S3 judges bucket policies: a policy that denies AppFlow ``s3:PutObject`` on the
destination (or ``s3:GetObject`` on the source) ends the run in Error with S3's code, as AWS
reports it; StartFlow still answers with the run's id. A policy S3 would not apply to AppFlow's
request (the data lake's "deny insecure transport": AppFlow reaches S3 over TLS) fails nothing,
though moto, which ignores conditions, denies it. The same through ``serve --aws-endpoint``.
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Dict, List, Optional

import boto3
import pytest

from appflow_emu import mock_appflow
from appflow_emu.server import AppFlowServer
from tests.conftest import requires_member
from tests.helpers import flow_request, s3_destination, s3_source

moto = pytest.importorskip("moto", reason="moto is not installed")

REGION = "us-east-1"
ACCOUNT = "123456789012"
CSV = b"id,name\n1,Acme\n2,Globex\n"


def policy(bucket: str, effect: str, action: Any, principal: Any = "*",
           condition: Optional[Dict[str, Any]] = None) -> str:
    statement: Dict[str, Any] = {"Sid": "S", "Effect": effect, "Principal": principal, "Action": action,
                                 "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def deny_insecure_transport(bucket: str) -> str:
    """The data lake's usual guard (AWS Security Hub's S3.5)."""
    return policy(bucket, "Deny", "s3:*", condition={"Bool": {"aws:SecureTransport": "false"}})


@pytest.fixture
def aws():
    """moto's S3 with the source bucket's one CSV file and an empty destination bucket, and an
    AppFlow client, the emulator active."""
    with moto.mock_aws(), mock_appflow() as emu:
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="in-bucket")
        s3.create_bucket(Bucket="out-bucket")
        s3.put_object(Bucket="in-bucket", Key="data/a.csv", Body=CSV)
        yield s3, boto3.client("appflow", region_name=REGION), emu


def run(appflow: Any, name: str = "copy", **extra: Any) -> Dict[str, Any]:
    """Create the S3 -> S3 flow, start it, and answer its execution record."""
    appflow.create_flow(**flow_request(name, source=s3_source("in-bucket", "data"),
                                       destination=s3_destination("out-bucket"), **extra))
    execution_id = appflow.start_flow(flowName=name)["executionId"]
    records = appflow.describe_flow_execution_records(flowName=name)["flowExecutions"]
    assert [r["executionId"] for r in records] == [execution_id]
    return records[0]


def output_keys(s3: Any, bucket: str = "out-bucket") -> List[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", ())]


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"Service": "appflow.amazonaws.com"}])
def test_a_destination_policy_denying_put_object_ends_the_run_in_error(aws, principal) -> None:
    s3, appflow, _ = aws
    s3.put_bucket_policy(Bucket="out-bucket", Policy=policy("out-bucket", "Deny", "s3:PutObject", principal))
    record = run(appflow)
    assert record["executionStatus"] == "Error"
    error = record["executionResult"]["errorInfo"]
    assert error["executionMessage"] == ("Amazon AppFlow could not write to the S3 bucket out-bucket, "
                                         "S3 error AccessDenied. Access Denied")
    assert error["putFailuresCount"] == 0
    assert record["executionResult"]["bytesWritten"] == 0
    assert record["executionResult"]["recordsProcessed"] == 2
    assert output_keys(s3) == []
    flow = appflow.describe_flow(flowName="copy")
    assert flow["lastRunExecutionDetails"]["mostRecentExecutionStatus"] == "Error"


def test_a_source_policy_denying_get_object_ends_the_run_in_error(aws) -> None:
    s3, appflow, _ = aws
    s3.put_bucket_policy(Bucket="in-bucket", Policy=policy("in-bucket", "Deny", "s3:GetObject"))
    record = run(appflow)
    assert record["executionStatus"] == "Error"
    assert record["executionResult"]["errorInfo"]["executionMessage"] == (
        "Amazon AppFlow could not read from the S3 bucket in-bucket, S3 error AccessDenied. Access Denied")
    assert record["executionResult"]["recordsProcessed"] == 0
    assert output_keys(s3) == []


@pytest.mark.parametrize("where", ["destination", "source", "both"])
def test_a_deny_insecure_transport_policy_does_not_fail_the_run(aws, where) -> None:
    """AppFlow reaches S3 over TLS: the guard does not apply to it (moto, which ignores conditions,
    would deny every request; the emulator judges the policy as S3 does)."""
    s3, appflow, _ = aws
    for bucket in {"destination": ["out-bucket"], "source": ["in-bucket"], "both": ["in-bucket", "out-bucket"]}[where]:
        s3.put_bucket_policy(Bucket=bucket, Policy=deny_insecure_transport(bucket))
    record = run(appflow)
    assert record["executionStatus"] == "Successful", record
    assert record["executionResult"]["recordsProcessed"] == 2
    s3.delete_bucket_policy(Bucket="out-bucket")  # moto would deny the test's own read
    keys = output_keys(s3)
    assert keys == [f"exports/copy/{record['executionId']}/part-00000"]
    body = s3.get_object(Bucket="out-bucket", Key=keys[0])["Body"].read()
    assert [json.loads(line) for line in body.splitlines()] == [{"id": "1", "name": "Acme"},
                                                                 {"id": "2", "name": "Globex"}]


@pytest.mark.parametrize("condition, fails", [
    ({"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}, False),  # confused-deputy guard: AppFlow is ours
    ({"StringNotEquals": {"aws:SourceAccount": "111122223333"}}, True),
    ({"StringNotEquals": {"aws:SourceVpce": "vpce-1234"}}, True),  # AppFlow does not come through the VPC
    ({"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1234"}}, True),  # a key not there: IfExists holds
    ({"StringEquals": {"aws:SourceVpce": "vpce-1234"}}, False),  # a key not there matches no positive operator
    ({"Bool": {"aws:SecureTransport": "true"}}, True),
    ({"Null": {"aws:SourceVpce": "true"}}, True),
])
def test_conditions_are_judged_for_appflows_request(aws, condition, fails) -> None:
    s3, appflow, _ = aws
    s3.put_bucket_policy(Bucket="out-bucket", Policy=policy("out-bucket", "Deny", "s3:PutObject", condition=condition))
    record = run(appflow)
    assert record["executionStatus"] == ("Error" if fails else "Successful"), record


def test_a_refused_scheduled_source_fails_every_run_and_the_catch_up_holds(aws) -> None:
    s3, appflow, emu = aws
    s3.put_bucket_policy(Bucket="in-bucket", Policy=policy("in-bucket", "Deny", "s3:GetObject"))
    request = flow_request("sched", trigger="Scheduled", source=s3_source("in-bucket", "data"),
                           destination=s3_destination("out-bucket"))
    # an incremental pull: the catch-up reads the source to find when a window next has records
    request["triggerConfig"]["triggerProperties"]["Scheduled"]["dataPullMode"] = "Incremental"
    appflow.create_flow(**request)
    appflow.start_flow(flowName="sched")
    emu.advance(timedelta(minutes=31))
    records = appflow.describe_flow_execution_records(flowName="sched")["flowExecutions"]
    assert len(records) >= 5
    assert {r["executionStatus"] for r in records} == {"Error"}
    assert {r["executionResult"]["errorInfo"]["executionMessage"] for r in records} == {
        "Amazon AppFlow could not read from the S3 bucket in-bucket, S3 error AccessDenied. Access Denied"}


@requires_member("CreateFlowRequest", "metadataCatalogConfig")
def test_a_write_only_destination_still_registers_or_reports_the_registration(aws) -> None:
    """A destination that denies GetObject (write only): the run succeeds; the catalog registration
    reads the run's first file to name the columns, and reports S3's refusal as a failed
    registration instead of failing the call."""
    s3, appflow, _ = aws
    boto3.client("glue", region_name=REGION).create_database(DatabaseInput={"Name": "lake"})
    s3.put_bucket_policy(Bucket="out-bucket", Policy=policy("out-bucket", "Deny", "s3:GetObject"))
    catalog = {"glueDataCatalog": {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/glue", "databaseName": "lake",
                                   "tablePrefix": "t"}}
    record = run(appflow, metadataCatalogConfig=catalog)
    assert record["executionStatus"] == "Successful"
    detail = record["metadataCatalogDetails"][0]
    assert detail["tableRegistrationOutput"]["status"] == "Error"
    assert "AccessDenied" in detail["tableRegistrationOutput"]["message"]


def test_the_embedded_store_has_no_policies() -> None:
    """Without moto nothing judges a policy: the embedded S3 refuses nothing (docs/fidelity.md)."""
    with mock_appflow() as emu:
        emu.create_bucket("in-bucket")
        emu.create_bucket("out-bucket")
        emu.put_object("in-bucket", "data/a.csv", CSV)
        record = run(boto3.client("appflow", region_name=REGION))
    assert record["executionStatus"] == "Successful"


def test_through_serve_with_an_aws_endpoint(moto_endpoint) -> None:
    """``serve --aws-endpoint`` at a moto server: its S3 refuses, the run ends in Error."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="in-bucket")
    s3.create_bucket(Bucket="out-bucket")
    s3.put_object(Bucket="in-bucket", Key="data/a.csv", Body=CSV)
    s3.put_bucket_policy(Bucket="out-bucket", Policy=policy("out-bucket", "Deny", "s3:PutObject"))
    try:
        with AppFlowServer(port=0, aws_endpoint=moto_endpoint) as server:
            appflow = boto3.client("appflow", endpoint_url=server.url, region_name=REGION,
                                   aws_access_key_id="testing", aws_secret_access_key="testing")
            record = run(appflow)
    finally:
        s3.delete_bucket_policy(Bucket="out-bucket")
    assert record["executionStatus"] == "Error"
    assert record["executionResult"]["errorInfo"]["executionMessage"] == (
        "Amazon AppFlow could not write to the S3 bucket out-bucket, S3 error AccessDenied. Access Denied")
    assert output_keys(s3) == []


def test_a_bucket_policy_refusing_entity_discovery_is_a_connector_server_exception(aws) -> None:
    """S3 refusing what DescribeConnectorEntity reads (the objects whose header gives the fields)
    is AppFlow's ConnectorServerException naming S3's error [guess], not an emulator bug. (moto
    judges policies on object requests only: ListObjectsV2 is not refused, so ListConnectorEntities
    still answers.)"""
    s3, appflow, _ = aws
    s3.put_bucket_policy(Bucket="in-bucket", Policy=policy("in-bucket", "Deny", "s3:GetObject"))
    with pytest.raises(appflow.exceptions.ConnectorServerException) as raised:
        appflow.describe_connector_entity(connectorType="S3", connectorEntityName="in-bucket/data")
    assert raised.value.response["Error"]["Message"] == \
        "S3 refused GetObject on in-bucket/data/a.csv: AccessDenied: Access Denied"
    assert appflow.list_connector_entities(connectorType="S3", entitiesPath="in-bucket")["connectorEntityMap"]
