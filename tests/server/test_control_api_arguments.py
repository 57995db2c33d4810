"""The control API checks every argument as the handle does in process (issue 17, items 5-7): an
argument of the wrong JSON type, NaN or Infinity anywhere in a body, a clock moved past what
timestamps hold, is a 400 naming it, and nothing it accepts breaks a later read (the state page,
its JSON, snapshot -> restore, describe/list through boto3)."""
from __future__ import annotations

import http.client
import inspect
import json
from typing import Any, Dict, List, Tuple, Union

import boto3
import pytest

from appflow_emu import Emulator
from appflow_emu.server import AppFlowServer
from appflow_emu.server.control import VERBS
from tests.helpers import profile_request

REGION, ACCOUNT = "us-east-1", "123456789012"
CLOCK_LIMIT = 32503680000.0  # 3000-01-01T00:00:00Z


@pytest.fixture(scope="module")
def server():
    with AppFlowServer(port=0) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return boto3.client("appflow", endpoint_url=server.url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def call(server: AppFlowServer, method: str, path: str, body: bytes = b"") -> Tuple[int, bytes]:
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def post(server: AppFlowServer, verb: str, body: Union[bytes, Dict[str, Any]]) -> Tuple[int, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, answer = call(server, "POST", f"/_appflow_emu/{verb}", raw)
    return status, json.loads(answer)


def build(server: AppFlowServer, client: Any) -> None:
    assert post(server, "reset", {})[0] == 200
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    client.create_connector_profile(**profile_request("wh", "Snowflake"))
    client.create_flow(
        flowName="accounts", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "Salesforce", "connectorProfileName": "sf",
                          "sourceConnectorProperties": {"Salesforce": {"object": "Account"}}},
        destinationFlowConfigList=[{"connectorType": "S3",
                                    "destinationConnectorProperties": {"S3": {"bucketName": "out"}}}],
        tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"Salesforce": "NO_OP"},
                "taskProperties": {}}])
    for verb, kwargs in [("create_bucket", {"bucket": "out"}), ("put_object", {"bucket": "in", "key": "k", "body": "x"}),
                         ("create_glue_database", {"database": "db"})]:
        assert post(server, verb, kwargs)[0] == 200


def assert_reads_work(server: AppFlowServer, client: Any) -> None:
    """What the fuzzing found broken after an accepted call: the page, its JSON, a snapshot and its
    restore, and boto3 reading (and parsing) what the server holds."""
    assert call(server, "GET", "/_appflow_emu/")[0] == 200
    assert call(server, "GET", "/_appflow_emu/page-data")[0] == 200
    status, snapshot = post(server, "snapshot", {})
    assert status == 200, snapshot
    status, restored = post(server, "restore", {"document": snapshot["result"]})
    assert status == 200, restored
    for verb, kwargs in [("now", {}), ("events", {}), ("notifications", {}), ("glue_tables", {}),
                         ("source_records", {"connector_type": "Salesforce", "entity": "Account"})]:
        status, answer = post(server, verb, kwargs)
        assert status == 200, (verb, answer)
    assert [f["flowName"] for f in client.list_flows()["flows"]] == ["accounts"]
    assert client.describe_flow(flowName="accounts")["createdAt"].year < 3000
    client.describe_connector_profiles()
    client.start_flow(flowName="accounts")
    client.describe_flow_execution_records(flowName="accounts")


PLACE = {"region": REGION, "account_id": ACCOUNT}
# A valid call of every verb: each argument in turn is given every wrong value.
CALLS: List[Tuple[str, Dict[str, Any]]] = [
    ("reset", {}), ("snapshot", {}), ("restore", {"document": {}}),
    ("add_source_records", {"connector_type": "Salesforce", "entity": "Account", "records": [{"Name": "Acme"}],
                            "profile": "sf", "check_fields": True, **PLACE}),
    ("add_source_records", {"connector_type": "Salesforce", "entity": "Account", "records": [], **PLACE}),
    ("source_records", {"connector_type": "Salesforce", "entity": "Account", "profile": "sf", **PLACE}),
    ("source_records", {"connector_type": "Salesforce", "entity": "Account", **PLACE}),
    ("add_entity", {"connector_type": "Salesforce", "entity": "Widget", "fields": ["Id", {"name": "Size", "type": "double"}],
                    "group": "Objects", "label": "Widget", "parent": "Account", **PLACE}),
    ("create_bucket", {"bucket": "other"}),
    ("put_object", {"bucket": "in", "key": "k2", "body": "x"}),
    ("put_object", {"bucket": "in", "key": "k3", "body_base64": "eA=="}),
    ("get_object", {"bucket": "in", "key": "k"}),
    ("list_objects", {"bucket": "in", "prefix": ""}),
    ("destination_records", {"flow": "accounts", "execution_id": None, **PLACE}),
    ("warehouse_rows", {"profile": "wh", "table": "T", **PLACE}),
    ("events", PLACE), ("lookout_records", PLACE),
    ("fail_next_execution", {"flow": "accounts", "message": "boom", **PLACE}),
    ("set_in_progress_polls", {"flow": "accounts", "polls": 0, **PLACE}),
    ("invalidate_credentials", {"profile": "sf", "invalid": False, **PLACE}),
    ("advance", {"delta": 60}), ("tick", {}), ("now", {}),
    ("set_quota", {"name": "flows", "value": 50}),
    ("register_lambda", {"function": "fn", "handler": "json:loads", **PLACE}),
    ("notifications", {"flow": "accounts", "detail_type": None, **PLACE}),
    ("create_glue_database", {"database": "db2", **PLACE}),
    ("glue_tables", {"database": "db", **PLACE}),
]
WRONG = [True, False, 0, 1.5, -1, 10 ** 30, 1e300, "", "a b", "\u00e9", [], [1], ["x"], {}, {"a": 1}, None]


def test_every_verb_has_a_call_here() -> None:
    assert {verb for verb, _ in CALLS} == set(VERBS)


@pytest.mark.parametrize("verb, kwargs", CALLS, ids=[f"{verb}-{n}" for n, (verb, _) in enumerate(CALLS)])
def test_no_wrong_argument_gets_a_500_or_breaks_a_later_read(server, client, verb, kwargs) -> None:
    build(server, client)
    for name in kwargs:
        for wrong in WRONG:
            status, answer = post(server, verb, {**kwargs, name: wrong})
            assert status < 500, (name, wrong, answer)
            if status >= 400:
                assert set(answer) == {"error", "message"}, answer
    assert_reads_work(server, client)


PLACED_VERBS = [verb for verb in VERBS if "region" in inspect.signature(getattr(Emulator, verb)).parameters]


@pytest.mark.parametrize("verb", PLACED_VERBS)
@pytest.mark.parametrize("name, wrong", [
    ("region", True), ("region", 0), ("region", 1.5), ("region", []), ("region", {}), ("region", ""),
    ("region", "us east 1"), ("account_id", True), ("account_id", 123456789012), ("account_id", "abc"),
    ("account_id", "12345678901"), ("account_id", ["123456789012"]),
])
def test_a_region_or_account_of_the_wrong_kind_is_a_400_naming_it_and_changes_nothing(server, client, verb, name,
                                                                                      wrong) -> None:
    build(server, client)
    kwargs = dict(next(k for v, k in CALLS if v == verb))
    before = post(server, "snapshot", {})
    status, answer = post(server, verb, {**kwargs, name: wrong})
    assert status == 400 and answer["error"] in ("TypeError", "ValueError"), answer
    assert answer["message"].startswith(f"{name}"), answer
    assert post(server, "snapshot", {}) == before
    assert_reads_work(server, client)


@pytest.mark.parametrize("verb, body, where", [
    ("add_source_records", '{"connector_type": "Salesforce", "entity": "Account", "records": [], "region": NaN}',
     "region"),
    ("add_source_records", '{"connector_type": "Salesforce", "entity": "Account", "check_fields": false, '
                           '"records": [{"Name": "a"}, {"Amount": Infinity}]}', "records[1].Amount"),
    ("advance", '{"delta": Infinity}', "delta"),
    ("advance", '{"delta": -Infinity}', "delta"),
    ("advance", '{"delta": 1e400}', "delta"),
    ("set_quota", '{"name": "flows", "value": NaN}', "value"),
    ("restore", '{"document": {"clock_offset": NaN}}', "document.clock_offset"),
])
def test_nan_or_infinity_anywhere_in_a_body_is_a_400_naming_where(server, client, verb, body, where) -> None:
    build(server, client)
    before = post(server, "snapshot", {})
    status, answer = post(server, verb, body.encode())
    assert (status, answer["error"]) == (400, "SerializationException"), answer
    assert where in answer["message"], answer
    assert post(server, "snapshot", {}) == before
    assert_reads_work(server, client)


def test_advance_past_year_3000_is_a_400_naming_the_bound_and_up_to_it_every_read_works(server, client) -> None:
    build(server, client)
    for delta in (1e30, CLOCK_LIMIT, 10 ** 400):
        status, answer = post(server, "advance", {"delta": delta})
        assert (status, answer["error"]) == (400, "ValueError"), answer
        assert "3000-01-01T00:00:00Z" in answer["message"], answer
    assert_reads_work(server, client)
    now = post(server, "now", {})[1]["result"]
    assert post(server, "advance", {"delta": CLOCK_LIMIT - now - 86400})[0] == 200
    assert_reads_work(server, client)
    assert client.describe_flow(flowName="accounts")["lastRunExecutionDetails"]["mostRecentExecutionTime"].year == 2999
    status, answer = post(server, "advance", {"delta": 2 * 86400})
    assert status == 400 and "3000-01-01T00:00:00Z" in answer["message"], answer


@pytest.mark.parametrize("offset", [1e30, CLOCK_LIMIT, -1, "1"])
def test_a_restored_clock_offset_past_the_bound_is_refused_and_changes_nothing(server, client, offset) -> None:
    build(server, client)
    before = post(server, "snapshot", {})
    document = dict(before[1]["result"], clock_offset=offset)
    status, answer = post(server, "restore", {"document": document})
    assert (status, answer["error"]) == (400, "InvalidStateError"), answer
    assert "clock_offset" in answer["message"], answer
    assert post(server, "snapshot", {}) == before
    assert_reads_work(server, client)
