"""Regions (issue 16, bug 7): AppFlow answers where the installed botocore lists an AppFlow
endpoint, and in the regions a test adds with ``emu.extra_regions``; elsewhere a client gets
botocore's ``EndpointConnectionError`` at once (no retries, no sleeps), and the server answers a
signature scoped to such a region with a 403 [guess]."""
from __future__ import annotations

import http.client
import json
import time
from typing import Any, Dict, List, Optional, Tuple

import boto3
import botocore
import botocore.loaders
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from appflow_emu import mock_appflow
from appflow_emu.server import AppFlowServer
from tests.helpers import flow_request


def listed_endpoints() -> Dict[str, Optional[str]]:
    """AppFlow's endpoints in the installed botocore's endpoints.json (read here independently):
    name -> the region of its credential scope (an alias), or None (a region)."""
    data = botocore.loaders.create_loader().load_data("endpoints")
    names: Dict[str, Optional[str]] = {}
    for partition in data["partitions"]:
        for name, endpoint in partition["services"].get("appflow", {}).get("endpoints", {}).items():
            names[name] = (endpoint or {}).get("credentialScope", {}).get("region")
    return names


def listed_regions() -> List[str]:
    return [name for name, scope in listed_endpoints().items() if scope is None]


def listed_aliases() -> List[Tuple[str, str]]:
    """(alias, region), e.g. ("fips-us-east-1", "us-east-1") in botocore 1.43; none in 1.20."""
    return [(name, scope) for name, scope in listed_endpoints().items() if scope is not None and scope != name]


def test_an_unknown_region_raises_what_botocore_raises_for_a_host_that_does_not_resolve() -> None:
    with mock_appflow():
        client = boto3.client("appflow", region_name="us-east-9")
        with pytest.raises(EndpointConnectionError) as raised:
            client.list_flows()
        # botocore's own text (checked against a real client sent to the unresolvable host)
        assert str(raised.value) == \
            'Could not connect to the endpoint URL: "https://appflow.us-east-9.amazonaws.com/list-flows"'
        # urllib3's error for a name that does not resolve (urllib3 2 names the host, 1.26 does not)
        assert "Name or service not known" in str(raised.value.kwargs["error"])
        with pytest.raises(EndpointConnectionError, match="describe-flow"):
            client.describe_flow(flowName="f")


@pytest.mark.parametrize("mode", ["standard", "legacy", "adaptive"])
def test_the_unknown_region_call_is_not_retried_and_nothing_sleeps(monkeypatch, mode: str) -> None:
    # On AWS botocore's retry handler would retry the connection error (asking needs-retry after
    # each attempt) and sleep between attempts; the emulator raises before any attempt is sent.
    sleeps: List[float] = []
    retry_checks: List[Any] = []
    errors: List[Any] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    with mock_appflow():
        client = boto3.client("appflow", region_name="us-east-9",
                              config=Config(retries={"mode": mode, "max_attempts": 5}))
        client.meta.events.register("needs-retry.appflow.ListFlows", lambda **kw: retry_checks.append(kw))
        client.meta.events.register("after-call-error.appflow.ListFlows",
                                    lambda exception, **kw: errors.append(exception))
        with pytest.raises(EndpointConnectionError):
            client.list_flows()
    assert sleeps == [] and retry_checks == []
    assert len(errors) == 1 and isinstance(errors[0], EndpointConnectionError)


def test_extra_regions_answer_and_keep_their_own_state() -> None:
    with mock_appflow() as emu:
        assert emu.extra_regions == frozenset()
        emu.extra_regions = ["us-east-9"]
        assert emu.extra_regions == frozenset({"us-east-9"})
        new = boto3.client("appflow", region_name="us-east-9")
        new.create_flow(**flow_request("in-new-region"))
        assert [f["flowName"] for f in new.list_flows()["flows"]] == ["in-new-region"]
        assert ":us-east-9:" in new.describe_flow(flowName="in-new-region")["flowArn"]
        assert boto3.client("appflow", region_name="us-east-1").list_flows()["flows"] == []
        emu.extra_regions = []
        with pytest.raises(EndpointConnectionError):
            new.list_flows()


@pytest.mark.parametrize("value, error", [
    ("us-east-9", TypeError), ([9], TypeError), (["us east 9"], ValueError), ([""], ValueError),
])
def test_a_bad_extra_regions_value_is_refused_and_changes_nothing(value: Any, error: type) -> None:
    with mock_appflow() as emu:
        emu.extra_regions = ["eu-north-9"]
        with pytest.raises(error, match="extra_regions"):
            emu.extra_regions = value
        assert emu.extra_regions == frozenset({"eu-north-9"})


def test_extra_regions_is_a_setting_not_state() -> None:
    with mock_appflow() as emu:
        emu.extra_regions = ["us-east-9"]
        saved = emu.snapshot()
        emu.extra_regions = ["eu-north-9"]
        emu.restore(saved)
        assert emu.extra_regions == frozenset({"eu-north-9"})
        assert "us-east-9" not in json.dumps(saved) and "eu-north-9" not in json.dumps(emu.snapshot())
        emu.reset()
        assert emu.extra_regions == frozenset({"eu-north-9"})


@pytest.mark.parametrize("region", listed_regions())
def test_every_region_botocore_lists_for_appflow_answers(region: str) -> None:
    with mock_appflow():
        assert boto3.client("appflow", region_name=region).list_flows()["flows"] == []


def test_botocore_lists_fips_aliases_where_botocore_does() -> None:
    # botocore 1.43 lists fips-us-east-1 etc.; botocore 1.20 lists none (then a fips-us-east-1
    # client sends to appflow.fips-us-east-1.amazonaws.com, which does not resolve).
    aliases = dict(listed_aliases())
    if tuple(int(part) for part in botocore.__version__.split(".")[:2]) >= (1, 43):
        assert aliases.get("fips-us-east-1") == "us-east-1"


@pytest.mark.parametrize("alias, region", listed_aliases() or [pytest.param("-", "-", marks=pytest.mark.skip(
    reason="the installed botocore lists no AppFlow alias"))])
def test_an_alias_reaches_its_region(alias: str, region: str) -> None:
    with mock_appflow():
        boto3.client("appflow", region_name=alias).create_flow(**flow_request(f"via-{alias}"))
        flows = boto3.client("appflow", region_name=region).list_flows()["flows"]
        assert [f["flowName"] for f in flows] == [f"via-{alias}"]
        assert f":{region}:" in flows[0]["flowArn"]


def test_a_client_with_its_own_endpoint_url_gets_the_servers_answer() -> None:
    with mock_appflow():
        client = boto3.client("appflow", region_name="us-east-9", endpoint_url="http://appflow.example.test")
        with pytest.raises(ClientError) as raised:
            client.list_flows()
        assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def _post(server: AppFlowServer, region: str) -> Any:
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    auth = (f"AWS4-HMAC-SHA256 Credential=AKID/20260101/{region}/appflow/aws4_request, "
            "SignedHeaders=host, Signature=0")
    conn.request("POST", "/list-flows", body=b"{}", headers={"Authorization": auth})
    response = conn.getresponse()
    headers = {k.lower(): v for k, v in response.getheaders()}
    return response.status, headers, json.loads(response.read())


def test_the_server_answers_a_scope_naming_an_unknown_region_with_a_403() -> None:
    with AppFlowServer(port=0) as server:
        status, headers, body = _post(server, "us-east-9")
        assert status == 403
        assert headers["x-amzn-errortype"] == "InvalidSignatureException"
        assert "us-east-9" in body["message"]
        # an alias is a client setting, not a scope a signature names
        assert _post(server, "fips-us-east-1")[0] == 403
        assert _post(server, "eu-west-1")[0] == 200
        server.emulator.extra_regions = ["us-east-9"]
        status, _, body = _post(server, "us-east-9")
        assert (status, body) == (200, {"flows": []})
