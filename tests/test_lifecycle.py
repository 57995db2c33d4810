"""mock_appflow's lifecycle: decorator forms, context manager, start/stop, nesting,
credentials, interception of existing clients, determinism, isolation, emulator errors."""
from __future__ import annotations

import asyncio
import inspect
import os
import unittest

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

import appflow_emu
from appflow_emu import EmulatorError, get_emulator, mock_appflow
from appflow_emu.backend import handlers
from tests.helpers import flow_request, profile_request

REGION = "us-east-1"
AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN",
            "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
DEAD_ENDPOINT = "http://127.0.0.1:9"

def _clear_aws_env(monkeypatch):
    """Remove the AWS_* variables; setenv first so that monkeypatch restores each one exactly
    (absent or not) whatever the code under test leaves behind."""
    for name in AWS_VARS:
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)



def _client(region: str = REGION, **kwargs):
    return boto3.client("appflow", region_name=region, **kwargs)


def _flow_names(client) -> list:
    names, token = [], None
    while True:
        page = client.list_flows(**({"nextToken": token} if token else {}))
        names += [f["flowName"] for f in page["flows"]]
        token = page.get("nextToken")
        if not token:
            return names


def _dead_endpoint_client():
    return boto3.client(
        "appflow", region_name=REGION, endpoint_url=DEAD_ENDPOINT,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=0.2, read_timeout=0.2),
    )


@pytest.fixture(autouse=True)
def _no_leftover_mock():
    assert get_emulator() is None, "a mock leaked from an earlier test"
    yield
    assert get_emulator() is None, "this test left a mock active"


# -- decorator forms --------------------------------------------------------------------------

@mock_appflow
def _bare_decorated(name):
    client = _client()
    client.create_flow(**flow_request(name))
    return _flow_names(client), get_emulator()


def test_bare_decorator_runs_inside_a_fresh_mock():
    names, emu = _bare_decorated("f1")
    assert names == ["f1"]
    assert emu is not None and emu.seed == 0
    # a second call starts empty again
    names2, emu2 = _bare_decorated("f2")
    assert names2 == ["f2"]
    assert emu2 is not emu
    assert _bare_decorated.__name__ == "_bare_decorated"


@mock_appflow(seed=7)
def _decorated_with_args(x, *, y):
    emu = get_emulator()
    return x + y, emu.seed if emu else None, _flow_names(_client())


def test_decorator_with_arguments_passes_args_and_result():
    assert _decorated_with_args(1, y=2) == (3, 7, [])


def test_decorated_function_stops_mock_when_it_raises():
    @mock_appflow
    def boom():
        assert get_emulator() is not None
        raise KeyError("inside")

    with pytest.raises(KeyError):
        boom()
    assert get_emulator() is None


@mock_appflow
class TestPlainClassDecorated:
    def test_first(self):
        client = _client()
        assert _flow_names(client) == []
        client.create_flow(**flow_request("shared-in-class"))
        assert _flow_names(client) == ["shared-in-class"]

    def test_second(self):
        client = _client()
        assert _flow_names(client) == []
        client.create_flow(**flow_request("shared-in-class"))
        assert get_emulator() is not None


class _UndecoratedBase:
    def test_inherited(self):
        assert get_emulator() is not None
        assert _flow_names(_client()) == []


@mock_appflow(seed=11)
class TestClassDecoratorKinds(_UndecoratedBase):
    @staticmethod
    def test_static():
        emu = get_emulator()
        assert emu is not None and emu.seed == 11

    @classmethod
    def test_classmethod(cls):
        assert cls is TestClassDecoratorKinds
        assert get_emulator() is not None

    test_values = [1, 2]  # not a method: left alone

    def test_plain(self):
        assert self.test_values == [1, 2]
        assert get_emulator().seed == 11


def test_undecorated_base_left_alone():
    assert _UndecoratedBase.__dict__["test_inherited"].__name__ == "test_inherited"
    assert not hasattr(_UndecoratedBase.__dict__["test_inherited"], "__wrapped__")


@mock_appflow
class UnitTestCaseDecorated(unittest.TestCase):
    def setUp(self):
        self.client = _client()
        self.client.create_flow(**flow_request("from-setup"))

    def tearDown(self):
        # still inside the mock
        self.client.delete_flow(flowName="from-setup")

    def test_setup_state_visible(self):
        self.assertEqual(self.client.describe_flow(flowName="from-setup")["flowName"], "from-setup")
        self.assertEqual(_flow_names(self.client), ["from-setup"])

    def test_each_test_has_its_own_state(self):
        self.client.create_flow(**flow_request("only-here"))
        self.assertEqual(sorted(_flow_names(self.client)), ["from-setup", "only-here"])


def test_unittest_case_runs_outside_pytest_too():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(UnitTestCaseDecorated)
    result = unittest.TestResult()
    suite.run(result)
    assert result.testsRun == 2
    assert result.errors == [] and result.failures == []
    assert get_emulator() is None


@mock_appflow
async def _async_body():
    client = _client()
    client.create_flow(**flow_request("async-flow"))
    await asyncio.sleep(0)
    assert get_emulator() is not None
    return _flow_names(client)


def test_async_function_decorated():
    assert inspect.iscoroutinefunction(_async_body)
    assert asyncio.run(_async_body()) == ["async-flow"]
    assert get_emulator() is None


# -- context manager and start/stop -----------------------------------------------------------

def test_context_manager_yields_the_handle():
    with mock_appflow() as emu:
        assert get_emulator() is emu
        assert isinstance(emu, appflow_emu.Emulator)
        _client().create_flow(**flow_request("cm"))
        assert "cm" in emu.state(REGION).flows
    assert get_emulator() is None


def test_start_stop():
    m = mock_appflow()
    emu = m.start()
    try:
        assert get_emulator() is emu
        assert m.emulator is emu
        _client().create_flow(**flow_request("ss"))
        assert list(emu.state(REGION).flows) == ["ss"]
    finally:
        m.stop()
    assert get_emulator() is None
    assert m.emulator is None


def test_stop_without_start_is_harmless():
    mock_appflow().stop()
    assert get_emulator() is None
    with mock_appflow() as emu:
        mock_appflow().stop()  # an unstarted mock must not stop the active one
        assert get_emulator() is emu
        _client().list_flows()


def test_stop_twice_is_harmless():
    outer = mock_appflow()
    inner = mock_appflow()
    emu = outer.start()
    try:
        inner.start()
        inner.stop()
        inner.stop()  # must not count as a second stop that ends `outer`
        assert get_emulator() is emu
        _client().list_flows()
    finally:
        outer.stop()
    outer.stop()
    assert get_emulator() is None


def test_nested_mocks_share_state_and_outer_survives():
    client = _client()
    with mock_appflow(seed=3) as outer:
        client.create_flow(**flow_request("outer-flow"))
        with mock_appflow() as inner:
            assert inner is outer
            assert _flow_names(client) == ["outer-flow"]
            client.create_flow(**flow_request("inner-flow"))
        assert get_emulator() is outer
        assert _flow_names(client) == ["outer-flow", "inner-flow"]
    assert get_emulator() is None
    with mock_appflow() as again:
        assert again is not outer
        assert _flow_names(client) == []


def test_nested_start_stop_out_of_order():
    a, b = mock_appflow(), mock_appflow()
    emu = a.start()
    b.start()
    a.stop()  # the first one started stops first; b keeps the emulator alive
    try:
        assert get_emulator() is emu
        _client().create_flow(**flow_request("still-on"))
    finally:
        b.stop()
    assert get_emulator() is None


def test_start_twice_on_one_mock_then_one_stop():
    m = mock_appflow()
    e1 = m.start()
    e2 = m.start()
    assert e1 is e2
    m.stop()
    assert get_emulator() is None


# -- credentials ------------------------------------------------------------------------------

def test_fake_credentials_when_none_set_and_env_restored(monkeypatch):
    _clear_aws_env(monkeypatch)
    before = dict(os.environ)
    with mock_appflow():
        assert os.environ.get("AWS_ACCESS_KEY_ID")
        assert os.environ.get("AWS_SECRET_ACCESS_KEY")
        # a client created inside works without any real credentials
        _client().create_flow(**flow_request("creds"))
    assert dict(os.environ) == before


def test_existing_credentials_untouched(monkeypatch):
    _clear_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    before = dict(os.environ)
    with mock_appflow():
        assert dict(os.environ) == before
        assert "AWS_SESSION_TOKEN" not in os.environ
        _client().list_flows()
    assert dict(os.environ) == before


def test_partial_credentials_restored_exactly(monkeypatch):
    """Only a session token set: the mock provides keys and afterwards the token is back as it was."""
    _clear_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "user-token")
    before = dict(os.environ)
    with mock_appflow():
        _client().list_flows()
    assert dict(os.environ) == before


def test_nested_mocks_restore_credentials_once(monkeypatch):
    _clear_aws_env(monkeypatch)
    before = dict(os.environ)
    with mock_appflow():
        inside = dict(os.environ)
        with mock_appflow():
            assert dict(os.environ) == inside
        assert dict(os.environ) == inside
    assert dict(os.environ) == before


# -- interception -----------------------------------------------------------------------------

def test_client_created_before_start_is_intercepted():
    client = _client()
    session_client = boto3.session.Session().client("appflow", region_name=REGION)
    with mock_appflow():
        client.create_flow(**flow_request("early"))
        assert _flow_names(session_client) == ["early"]


def test_endpoint_url_client_answered_without_network():
    with mock_appflow():
        client = _dead_endpoint_client()
        out = client.create_flow(**flow_request("no-net"))
        assert out["flowArn"].endswith(":flow/no-net")
        assert client.describe_flow(flowName="no-net")["flowStatus"] == "Active"


def test_hook_inactive_after_stop(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    client = _dead_endpoint_client()
    with mock_appflow():
        client.list_flows()
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        client.list_flows()


def test_stubber_still_works_without_mock(monkeypatch):
    from botocore.stub import Stubber

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("list_flows", {"flows": [{"flowName": "stubbed"}]})
        assert client.list_flows()["flows"] == [{"flowName": "stubbed"}]


# -- determinism, handle, isolation -----------------------------------------------------------

def _id_trace(seed):
    with mock_appflow(seed=seed):
        client = _client()
        rids = [client.list_flows()["ResponseMetadata"]["RequestId"]]
        client.create_connector_profile(**profile_request("p1"))
        arn = client.describe_connector_profiles()["connectorProfileDetails"][0]["credentialsArn"]
        rids.append(client.list_flows()["ResponseMetadata"]["RequestId"])
        return rids, arn.rsplit("-", 1)[1]


def test_same_seed_same_ids():
    first = _id_trace(7)
    second = _id_trace(7)
    assert first == second
    assert len(set(first[0])) == len(first[0])
    assert _id_trace(8) != first


def test_get_emulator_and_reset():
    assert appflow_emu.get_emulator() is None
    with mock_appflow() as emu:
        assert appflow_emu.get_emulator() is emu
        client = _client()
        client.create_flow(**flow_request("before-reset"))
        client.create_connector_profile(**profile_request("p"))
        emu.reset()
        assert _flow_names(client) == []
        assert client.describe_connector_profiles()["connectorProfileDetails"] == []
        client.create_flow(**flow_request("before-reset"))  # no conflict after reset
    assert appflow_emu.get_emulator() is None


def test_fixture_state_empty_a(client, appflow_mock):
    assert _flow_names(client) == []
    client.create_flow(**flow_request("fixture-shared"))
    assert get_emulator() is appflow_mock


def test_fixture_state_empty_b(client, appflow_mock):
    assert _flow_names(client) == []
    client.create_flow(**flow_request("fixture-shared"))
    assert get_emulator() is appflow_mock


def test_moto_account_id_in_arns(monkeypatch, appflow_mock):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111122223333")
    client = _client()
    arn = client.create_flow(**flow_request("acct"))["flowArn"]
    assert arn == f"arn:aws:appflow:{REGION}:111122223333:flow/acct"
    prof = client.create_connector_profile(**profile_request("pp"))["connectorProfileArn"]
    assert prof == f"arn:aws:appflow:{REGION}:111122223333:connectorprofile/pp"
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "444455556666")
    assert _flow_names(client) == []  # another account sees nothing


def test_regions_isolated(appflow_mock):
    east, west = _client("us-east-1"), _client("eu-west-1")
    a = east.create_flow(**flow_request("same-name"))["flowArn"]
    assert _flow_names(west) == []
    b = west.create_flow(**flow_request("same-name"))["flowArn"]
    assert ":us-east-1:" in a and ":eu-west-1:" in b
    east.delete_flow(flowName="same-name")
    assert _flow_names(west) == ["same-name"]
    assert _flow_names(east) == []


def test_emulator_bug_surfaces_as_emulator_error(monkeypatch, appflow_mock):
    calls = []

    def broken(call, params):
        calls.append(params)
        raise ZeroDivisionError("oops")

    monkeypatch.setitem(handlers.HANDLERS, "ListFlows", broken)
    client = _client(config=Config(retries={"total_max_attempts": 5, "mode": "standard"}))
    with pytest.raises(EmulatorError) as info:
        client.list_flows()
    assert "ListFlows" in str(info.value)
    assert not isinstance(info.value, botocore.exceptions.ClientError)
    assert len(calls) == 1  # no retry
    # the emulator keeps working for other operations
    client.create_flow(**flow_request("after-bug"))


PRE_IMPORT_SCRIPT = r'''
import os
for k in list(os.environ):
    if k.startswith("AWS_"):
        del os.environ[k]
os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y", AWS_DEFAULT_REGION="us-east-1")
import boto3
from botocore.config import Config
cfg = Config(retries={"total_max_attempts": 1}, connect_timeout=0.2, read_timeout=0.2)
default_client = boto3.client("appflow", endpoint_url="http://127.0.0.1:9", config=cfg)
session_client = boto3.session.Session().client("appflow", endpoint_url="http://127.0.0.1:9", config=cfg)
from appflow_emu import mock_appflow
with mock_appflow():
    default_client.create_flow(flowName="pre", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "S3", "sourceConnectorProperties": {"S3": {"bucketName": "in-bucket"}}},
        destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {"S3": {"bucketName": "out-bucket"}}}],
        tasks=[{"sourceFields": ["a"], "taskType": "Map", "destinationField": "a", "connectorOperator": {"S3": "NO_OP"}}])
    print("names", [f["flowName"] for f in session_client.list_flows()["flows"]])
try:
    session_client.list_flows()
    print("after: answered")
except Exception as exc:
    print("after:", type(exc).__name__)
'''


def test_clients_created_before_appflow_emu_import_are_intercepted(tmp_path):
    """Without the pytest plugin (a plain script or unittest run) a client may exist before
    appflow_emu is imported; its AppFlow calls must still never reach the network."""
    import subprocess
    import sys

    script = tmp_path / "pre_import.py"
    script.write_text(PRE_IMPORT_SCRIPT)
    from tests.conftest import subprocess_env

    env = subprocess_env({k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"})
    env["PYTEST_PLUGINS"] = ""
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "names ['pre']" in out.stdout, out.stdout + out.stderr
    assert "after: EndpointConnectionError" in out.stdout


def test_no_patch_left_behind_and_user_patches_respected():
    from unittest import mock as umock

    from botocore.client import BaseClient

    original = BaseClient.__dict__["_make_api_call"]
    client = _client()
    with mock_appflow():
        with umock.patch("botocore.client.BaseClient._make_api_call", return_value={"patched": True}):
            assert client.list_flows() == {"patched": True}
        assert client.list_flows()["flows"] == []
    assert BaseClient.__dict__["_make_api_call"] is original
    with umock.patch("botocore.client.BaseClient._make_api_call", return_value={"user": 1}):
        with mock_appflow():
            client.list_flows()
        assert client.list_flows() == {"user": 1}  # our stop did not undo the user's patch
    assert BaseClient.__dict__["_make_api_call"] is original


def test_invalid_response_is_an_emulator_error_in_strict_mode(monkeypatch):
    def bad_output(call, params):
        return {"flows": [{"flowName": 42}]}  # flowName must be a string

    monkeypatch.setitem(handlers.HANDLERS, "ListFlows", bad_output)
    with mock_appflow(strict=True):
        with pytest.raises(EmulatorError, match="ListFlows"):
            _client().list_flows()
    with mock_appflow(strict=False) as emu:
        assert emu.strict is False
        _client().list_flows()  # not checked; botocore parses what it gets


def test_unmodelled_error_code_is_an_emulator_error(monkeypatch, appflow_mock):
    from appflow_emu.model.errors import AppFlowError

    def raises_unknown(call, params):
        raise AppFlowError("NoSuchThingException", "not in the model")

    monkeypatch.setitem(handlers.HANDLERS, "DescribeFlow", raises_unknown)
    with pytest.raises(EmulatorError, match="NoSuchThingException"):
        _client().describe_flow(flowName="some-flow")


def test_modelled_errors_are_client_errors_with_status(appflow_mock):
    client = _client()
    with pytest.raises(client.exceptions.ResourceNotFoundException) as info:
        client.describe_flow(flowName="missing")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    with pytest.raises(client.exceptions.ValidationException):
        client.describe_flow(flowName="has space")


def test_uri_labels_with_special_characters_and_endpoint_prefix():
    """Tag operations carry the ARN in the URL path: '#', '@' and '/' in it survive the round
    trip, also behind an endpoint_url with a path prefix."""
    with mock_appflow():
        client = _client(endpoint_url=DEAD_ENDPOINT + "/some/prefix")
        arn = client.create_flow(**flow_request("f.1@x#y"))["flowArn"]
        assert arn.endswith(":flow/f.1@x#y")
        client.tag_resource(resourceArn=arn, tags={"a": "b", "c/d": "e f"})
        assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "b", "c/d": "e f"}
        client.untag_resource(resourceArn=arn, tagKeys=["a", "missing"])
        assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"c/d": "e f"}
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.list_tags_for_resource(resourceArn=arn.replace("f.1@x#y", "f.1@x"))
