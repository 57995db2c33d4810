"""capo-appflow (PyPI) against a server started by the test: an AppFlow SDK generated from AWS's Smithy
model, with its own HTTP stack (zapros) and its own restJson1 deserializers and error mapping, no botocore.

Every answer of the round trip goes through capo's deserializer (which raises on a missing required
member), and is then checked twice:
- against the TypedDict capo declares for it: member types (datetimes for timestamps, ints for longs,
  enum values among the Literal's), nested all the way down;
- against the wire: capo's serializer gives back exactly the JSON the server sent, so no member of
  ours is one capo's model does not know (its deserializers drop unknown names without a word).

capo-appflow is in the test extra (pure Python, 3.10 and later); without it the tests skip, or fail
when ``APPFLOW_EMU_REQUIRE_CLIENTS=1``."""
from __future__ import annotations

import datetime
import importlib
import inspect
import json
import math
import os
import types
import typing
from typing import Any, Iterator, List, Optional, Tuple

import pytest
import typing_extensions

from appflow_emu.server import AppFlowServer
from tests.clients import missing_client
from tests.conftest import has_operation

try:
    import capo_appflow
except ImportError:  # pragma: no cover - in the test extra
    capo_appflow = None

# capo checks every answer against its own (2023 or later) model: members a mid-2021 botocore's model does not
# have, which the emulator rightly does not send under it (tox env botocore120), would read as "not sent".
pytestmark = pytest.mark.skipif(not has_operation("CancelFlowExecutions"),
                                reason="the installed botocore's AppFlow model is older than capo-appflow's")

ACCOUNT = "123456789012"
FLOW_ARN = f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/accounts"
CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}
PROFILE_CONFIG = {
    "connector_profile_properties": {"salesforce": {"instance_url": "https://x.my.salesforce.com"}},
    "connector_profile_credentials": {"salesforce": {"access_token": "at-secret"}},
}
SOURCE = {"connector_type": "Salesforce", "connector_profile_name": "sf",
          "source_connector_properties": {"salesforce": {"object": "Account"}}}
DESTINATIONS = [{"connector_type": "S3", "destination_connector_properties": {"s3": {"bucket_name": "out-bucket"}}}]
TASKS = [{"task_type": "Filter", "source_fields": ["Id", "Name"], "connector_operator": {"salesforce": "PROJECTION"}},
         {"task_type": "Map_all", "source_fields": [], "connector_operator": {"salesforce": "NO_OP"},
          "task_properties": {}}]


# --- what capo declares ------------------------------------------------------------------------

def _resolve(annotation: Any) -> Any:
    """capo's annotations name their types as strings ("capo_appflow.types.date.Date"), imported
    only under TYPE_CHECKING: import the module and take the attribute."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        module, _, name = annotation.rpartition(".")
        return getattr(importlib.import_module(module), name)
    return annotation


def mismatches(value: Any, annotation: Any, path: str = "$") -> List[str]:
    """Where ``value`` does not fit ``annotation`` (a type of capo's): empty when it fits. An
    annotation this does not know is itself a mismatch, so that nothing passes unchecked."""
    annotation = _resolve(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing_extensions.NotRequired, typing_extensions.Required):
        return mismatches(value, args[0], path)
    if annotation is typing.Any:
        return []
    if origin is typing.Literal:
        return [] if value in args else [f"{path}: {value!r} is not one of {args}"]
    if origin in (typing.Union, types.UnionType):
        fits = [arg for arg in args if not mismatches(value, arg, path)]
        return [] if fits else [f"{path}: {value!r} fits none of {args}"]
    if typing_extensions.is_typeddict(annotation):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not {annotation.__name__}"]
        hints = annotation.__annotations__
        found = [f"{path}: unknown member {key!r} of {annotation.__name__}" for key in value if key not in hints]
        found += [f"{path}: {annotation.__name__} lacks {key!r}" for key in annotation.__required_keys__
                  if key not in value]
        for key, member in value.items():
            if key in hints:
                found += mismatches(member, hints[key], f"{path}.{key}")
        return found
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"]
        return [m for i, item in enumerate(value) for m in mismatches(item, args[0], f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not a map"]
        return [m for key, item in value.items()
                for m in mismatches(key, args[0], f"{path} key") + mismatches(item, args[1], f"{path}[{key!r}]")]
    if annotation is datetime.datetime:
        if not isinstance(value, datetime.datetime) or value.tzinfo is None:
            return [f"{path}: {value!r} is not an aware datetime"]
        return []
    if annotation is bool:
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a bool"]
    if annotation is int:
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: {value!r} is not an int"]
    if annotation is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not a number"]
    if annotation in (str, bytes):
        return [] if isinstance(value, annotation) else [f"{path}: {value!r} is not {annotation.__name__}"]
    return [f"{path}: unsupported annotation {annotation!r}"]


def same_json(sent: Any, again: Any, path: str = "$") -> List[str]:
    """Where the JSON capo serializes back differs from the JSON the server sent (timestamps as
    epoch seconds may differ in the last bits of the float)."""
    if isinstance(sent, dict) and isinstance(again, dict):
        found = [f"{path}.{k}: sent, dropped by capo" for k in sent if k not in again]
        found += [f"{path}.{k}: not sent" for k in again if k not in sent]
        return found + [m for k in sent if k in again for m in same_json(sent[k], again[k], f"{path}.{k}")]
    if isinstance(sent, list) and isinstance(again, list) and len(sent) == len(again):
        return [m for i, (a, b) in enumerate(zip(sent, again)) for m in same_json(a, b, f"{path}[{i}]")]
    if isinstance(sent, float) or isinstance(again, float):
        ok = isinstance(sent, (int, float)) and isinstance(again, (int, float)) and math.isclose(sent, again, abs_tol=1e-6)
        return [] if ok else [f"{path}: sent {sent!r}, capo has {again!r}"]
    return [] if sent == again and type(sent) is type(again) else [f"{path}: sent {sent!r}, capo has {again!r}"]


# --- the client ----------------------------------------------------------------------------------

class Capo:
    """capo's synchronous client on the server, with every answer checked (module docstring)."""

    def __init__(self, url: str) -> None:
        self.client = capo_appflow.AppflowClient(region="us-east-1", endpoint=url, credentials=CREDENTIALS,
                                                 retry_max_attempts=1, operation_interceptors=[self._keep_wire])
        self.wire: Optional[Tuple[int, bytes]] = None

    def _keep_wire(self, request: Any, next_call: Any) -> Any:
        answer = next_call(request)
        self.wire = (answer.response.status, answer.response.read())
        return answer

    def __call__(self, operation: str, **kwargs: Any) -> Any:
        self.wire = None
        output = getattr(self.client, operation)(**kwargs)
        assert self.wire is not None
        status, body = self.wire
        module = importlib.import_module(f"capo_appflow.types.{operation}_response")
        declared = inspect.signature(module.deserialize_json).return_annotation
        assert mismatches(output, declared) == [], operation
        # AWS answers TagResource and UntagResource 204 with no body, DeleteFlow 200 with no body.
        assert status == (204 if operation in ("tag_resource", "untag_resource") else 200), operation
        if body:
            assert same_json(json.loads(body), module.serialize_json(output)) == [], operation
        else:
            assert output == {}, operation
        return output


@pytest.fixture
def server() -> Iterator[AppFlowServer]:
    with AppFlowServer(port=0) as running:
        running.emulator.create_bucket("out-bucket")
        running.emulator.add_source_records("Salesforce", "Account", [{"Id": "001", "Name": "Acme"},
                                                                      {"Id": "002", "Name": "Globex"}])
        yield running


@pytest.fixture
def capo(server: AppFlowServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Capo]:
    if capo_appflow is None:
        missing_client("capo-appflow is not installed (pip install capo-appflow)")
    # capo reads ~/.aws/config and AWS_* variables for what the client does not say (region, endpoint).
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    capo = Capo(server.url)
    with capo.client:
        yield capo


def _error(error_module: str) -> Any:
    """capo's exception class of that module (capo_appflow.errors.conflict_exception.ConflictException)."""
    return getattr(importlib.import_module(f"capo_appflow.errors.{error_module}"),
                   "".join(part.capitalize() for part in error_module.split("_")))


def test_the_capo_round_trip(capo: Capo, server: AppFlowServer) -> None:
    created = capo("create_connector_profile", connector_profile_name="sf", connector_type="Salesforce",
                   connection_mode="Public", connector_profile_config=PROFILE_CONFIG)
    assert created == {"connector_profile_arn": f"arn:aws:appflow:us-east-1:{ACCOUNT}:connectorprofile/sf"}
    (profile,) = capo("describe_connector_profiles", connector_profile_names=["sf"])["connector_profile_details"]
    assert (profile["connector_profile_name"], profile["connection_mode"]) == ("sf", "Public")
    assert profile["connector_profile_properties"]["salesforce"]["instance_url"] == "https://x.my.salesforce.com"
    assert "at-secret" not in repr(profile)

    assert capo("create_flow", flow_name="accounts", description="from capo", trigger_config={"trigger_type": "OnDemand"},
                source_flow_config=SOURCE, destination_flow_config_list=DESTINATIONS, tasks=TASKS,
                tags={"env": "ci"}) == {"flow_arn": FLOW_ARN, "flow_status": "Active"}
    flow = capo("describe_flow", flow_name="accounts")
    assert (flow["flow_status"], flow["description"], flow["tags"]) == ("Active", "from capo", {"env": "ci"})
    assert flow["source_flow_config"]["source_connector_properties"]["salesforce"]["object"] == "Account"
    assert flow["tasks"] == TASKS
    assert flow["created_at"].tzinfo is not None and "last_run_execution_details" not in flow  # never run

    started = capo("start_flow", flow_name="accounts")
    assert (started["flow_arn"], started["flow_status"]) == (FLOW_ARN, "Active")
    records = capo("describe_flow_execution_records", flow_name="accounts")["flow_executions"]
    assert [(r["execution_id"], r["execution_status"]) for r in records] == [(started["execution_id"], "Successful")]
    assert records[0]["execution_result"]["records_processed"] == 2
    assert records[0]["started_at"] <= records[0]["last_updated_at"]
    assert capo("describe_flow", flow_name="accounts")["last_run_execution_details"][
        "most_recent_execution_status"] == "Successful"

    assert capo("tag_resource", resource_arn=FLOW_ARN, tags={"team": "data", "owner": "ops"}) == {}
    assert capo("list_tags_for_resource", resource_arn=FLOW_ARN) == {
        "tags": {"env": "ci", "team": "data", "owner": "ops"}}
    assert capo("untag_resource", resource_arn=FLOW_ARN, tag_keys=["env", "owner"]) == {}
    assert capo("list_tags_for_resource", resource_arn=FLOW_ARN) == {"tags": {"team": "data"}}
    assert server.emulator.state("us-east-1").flows["accounts"].tags == {"team": "data"}

    (listed,) = capo("list_flows")["flows"]
    assert (listed["flow_name"], listed["source_connector_type"], listed["destination_connector_type"]) == (
        "accounts", "Salesforce", "S3")

    assert capo("delete_flow", flow_name="accounts") == {}
    assert capo("list_flows") == {"flows": []}


def test_capo_pages_flows_with_max_results_and_next_tokens(capo: Capo) -> None:
    names = ["page-a", "page-b", "page-c"]
    capo("create_connector_profile", connector_profile_name="sf", connector_type="Salesforce",
         connection_mode="Public", connector_profile_config=PROFILE_CONFIG)
    for name in names:
        capo("create_flow", flow_name=name, trigger_config={"trigger_type": "OnDemand"}, source_flow_config=SOURCE,
             destination_flow_config_list=DESTINATIONS, tasks=TASKS)
    pages, token = [], None
    while True:
        page = capo("list_flows", max_results=2, **({"next_token": token} if token else {}))
        pages.append([f["flow_name"] for f in page["flows"]])
        token = page.get("next_token")
        if token is None:
            break
    assert pages == [names[:2], names[2:]]
    # capo's own paginator follows the same tokens.
    assert [[f["flow_name"] for f in p["flows"]] for p in capo.client.iter_list_flows(max_results=2)] == pages


@pytest.mark.parametrize("operation, kwargs, error_module, status, message", [
    ("describe_flow", {"flow_name": "missing"}, "resource_not_found_exception", 404,
     "Flow with name missing does not exist."),
    ("start_flow", {"flow_name": "missing"}, "resource_not_found_exception", 404,
     "Flow with name missing does not exist."),
    ("list_tags_for_resource", {"resource_arn": f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/missing"},
     "resource_not_found_exception", 404, None),
    ("describe_flow_execution_records", {"flow_name": "bad name!"}, "validation_exception", 400,
     "1 validation error detected: Value 'bad name!' at 'flowName' failed to satisfy constraint: "),
    ("list_flows", {"max_results": 0}, "validation_exception", 400, None),
    ("delete_connector_profile", {"connector_profile_name": "missing"}, "resource_not_found_exception", 404, None),
])
def test_capo_raises_its_own_modelled_errors(capo: Capo, operation: str, kwargs: Any, error_module: str,
                                             status: int, message: Optional[str]) -> None:
    """Each error as the exception class capo's model gives the operation (``message``: how its text starts)."""
    error = _error(error_module)
    with pytest.raises(error) as raised:
        getattr(capo.client, operation)(**kwargs)
    assert type(raised.value) is error  # not capo's UnknownServiceError: the code is one its model has
    assert raised.value.response.status == status
    assert raised.value.code == error.code
    assert raised.value.message and raised.value.message.startswith(message or "")


def test_capo_conflicts_and_unsupported_operations(capo: Capo) -> None:
    capo("create_connector_profile", connector_profile_name="sf", connector_type="Salesforce",
         connection_mode="Public", connector_profile_config=PROFILE_CONFIG)
    flow = {"flow_name": "once", "trigger_config": {"trigger_type": "OnDemand"}, "source_flow_config": SOURCE,
            "destination_flow_config_list": DESTINATIONS, "tasks": TASKS}
    capo("create_flow", **flow)
    with pytest.raises(_error("conflict_exception")) as conflict:
        capo.client.create_flow(**flow)
    assert conflict.value.response.status == 409
    with pytest.raises(_error("unsupported_operation_exception")) as unsupported:
        capo.client.stop_flow(flow_name="once")  # an OnDemand flow cannot be stopped
    assert unsupported.value.response.status == 400


def test_capo_reads_the_connector_catalog(capo: Capo) -> None:
    """The large answers (connector configurations, entities, fields) through capo's deserializers."""
    capo("create_connector_profile", connector_profile_name="sf", connector_type="Salesforce",
         connection_mode="Public", connector_profile_config=PROFILE_CONFIG)
    configurations = capo("describe_connectors", connector_types=["Salesforce", "S3"])["connector_configurations"]
    assert set(configurations) == {"Salesforce", "S3"}
    assert configurations["Salesforce"]["can_use_as_source"] is True
    entities = capo("list_connector_entities", connector_profile_name="sf")["connector_entity_map"]
    assert "Account" in [e["name"] for group in entities.values() for e in group]
    fields = capo("describe_connector_entity", connector_entity_name="Account", connector_profile_name="sf")
    assert {"Id", "Name"} <= {f["identifier"] for f in fields["connector_entity_fields"]}
    if has_operation("ListConnectors"):  # not in a mid-2021 botocore's model (tox env botocore120)
        capo("list_connectors")
        capo("describe_connector", connector_type="Salesforce")


def test_the_type_check_finds_a_wrong_member_type() -> None:
    """The checker itself: a long sent as a string, an unknown enum value, a naive datetime."""
    if capo_appflow is None:
        missing_client("capo-appflow is not installed (pip install capo-appflow)")
    module = importlib.import_module("capo_appflow.types.describe_flow_execution_records_response")
    declared = inspect.signature(module.deserialize_json).return_annotation
    good = module.deserialize_json({"flowExecutions": [{"executionId": "e", "executionStatus": "Successful",
                                                        "executionResult": {"recordsProcessed": 2},
                                                        "startedAt": 1700000000.5}]})
    assert mismatches(good, declared) == []
    bad = module.deserialize_json({"flowExecutions": [{"executionStatus": "Done",
                                                       "executionResult": {"recordsProcessed": "2"}}]})
    bad["flow_executions"][0]["started_at"] = datetime.datetime(2024, 1, 1)
    assert mismatches(bad, declared) == [
        "$.flow_executions[0].execution_status: 'Done' is not one of "
        "('InProgress', 'Successful', 'Error', 'CancelStarted', 'Canceled')",
        "$.flow_executions[0].execution_result.records_processed: '2' is not an int",
        "$.flow_executions[0].started_at: datetime.datetime(2024, 1, 1, 0, 0) is not an aware datetime"]
    assert same_json({"a": 1, "b": 2.0}, {"a": 1, "c": 2.0}) == ["$.b: sent, dropped by capo", "$.c: not sent"]
