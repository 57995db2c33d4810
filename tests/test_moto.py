"""appflow_emu side by side with moto's mock_aws: moto serves S3/STS, we serve AppFlow."""
from __future__ import annotations

import os

import boto3
import pytest

from appflow_emu import get_emulator, mock_appflow
from tests.helpers import flow_request, s3_destination, s3_source

mock_aws = pytest.importorskip("moto", reason="moto is not installed").mock_aws

REGION = "us-east-1"
AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN",
            "AWS_PROFILE", "AWS_DEFAULT_PROFILE")

def _clear_aws_env(monkeypatch):
    """Remove the AWS_* variables; setenv first so that monkeypatch restores each one exactly
    (absent or not) whatever the code under test leaves behind."""
    for name in AWS_VARS:
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)



def _exercise(s3, appflow, sts, emu):
    s3.create_bucket(Bucket="in-bucket")
    s3.create_bucket(Bucket="out-bucket")
    s3.put_object(Bucket="in-bucket", Key="data/a.csv", Body=b"id,name\n1,x\n")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="in-bucket")["Contents"]]
    assert keys == ["data/a.csv"]
    assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["in-bucket", "out-bucket"]

    arn = appflow.create_flow(**flow_request("m1", source=s3_source("in-bucket", "data"),
                                             destination=s3_destination("out-bucket")))["flowArn"]
    assert arn == f"arn:aws:appflow:{REGION}:123456789012:flow/m1"
    assert [f["flowName"] for f in appflow.list_flows()["flows"]] == ["m1"]
    assert "m1" in emu.state(REGION).flows

    ident = sts.get_caller_identity()
    assert ident["Account"] == "123456789012"
    assert ident["Arn"].startswith("arn:aws:sts::123456789012:")


def _clients():
    return (boto3.client("s3", region_name=REGION), boto3.client("appflow", region_name=REGION),
            boto3.client("sts", region_name=REGION))


def test_moto_outside_appflow_inside():
    with mock_aws():
        with mock_appflow() as emu:
            _exercise(*_clients(), emu)
        # appflow mock gone, moto still serves S3
        assert boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]
    assert get_emulator() is None


def test_appflow_outside_moto_inside():
    with mock_appflow() as emu:
        with mock_aws():
            _exercise(*_clients(), emu)
        # moto gone; our state survives
        assert [f["flowName"] for f in boto3.client("appflow", region_name=REGION).list_flows()["flows"]] == ["m1"]


def test_clients_created_under_moto_before_appflow_starts():
    with mock_aws():
        clients = _clients()
        clients[0].list_buckets()
        with mock_appflow() as emu:
            _exercise(*clients, emu)


def test_moto_and_appflow_decorators():
    @mock_aws
    @mock_appflow
    def body():
        _exercise(*_clients(), get_emulator())

    body()
    assert get_emulator() is None


def test_moto_does_not_see_appflow_state_and_vice_versa():
    with mock_aws(), mock_appflow() as emu:
        s3, appflow, _ = _clients()
        appflow.create_flow(**flow_request("only-appflow"))
        s3.create_bucket(Bucket="only-s3")
        assert emu.state(REGION).flows.keys() == {"only-appflow"}
    with mock_aws(), mock_appflow():
        s3, appflow, _ = _clients()
        assert s3.list_buckets()["Buckets"] == []
        assert appflow.list_flows()["flows"] == []


@pytest.mark.parametrize("appflow_first", [True, False])
def test_environment_restored_with_both(monkeypatch, appflow_first):
    _clear_aws_env(monkeypatch)
    before = dict(os.environ)
    outer, inner = (mock_appflow(), mock_aws()) if appflow_first else (mock_aws(), mock_appflow())
    with outer:
        with inner:
            s3, appflow, sts = _clients()
            s3.create_bucket(Bucket="env-bucket")
            appflow.list_flows()
            sts.get_caller_identity()
    assert dict(os.environ) == before


def test_moto_keeps_working_when_appflow_mock_stops_first(monkeypatch):
    """Non-nested use: appflow started, moto started, appflow stopped while moto is still
    active. Our stop must not take away the credentials moto put in place."""
    _clear_aws_env(monkeypatch)
    af, moto = mock_appflow(), mock_aws()
    af.start()
    moto.start()
    try:
        af.stop()
        assert get_emulator() is None
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="still-mocked")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["still-mocked"]
    finally:
        af.stop()
        moto.stop()
