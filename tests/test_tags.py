"""Tags on flows through boto3: TagResource, UntagResource, ListTagsForResource.

Tags are always a dict ({} once all are removed), unknown or foreign ARNs are
ResourceNotFoundException (404), and the model's limits (50 tags, key and value patterns and
lengths) are enforced server-side with AWS-style messages, leaving the tags unchanged.
"""
from __future__ import annotations

from typing import Any, Dict

import boto3
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import member_meta
from tests.helpers import expect_error, flow_request, profile_request

ARN_PATTERN = member_meta("TagResourceRequest", "resourceArn", "pattern")
ARN_MAX = member_meta("TagResourceRequest", "resourceArn", "max")

ACCOUNT = "123456789012"
KEY_PATTERN = "^(?!aws:)[a-zA-Z+-=._:/]+$"
VALUE_PATTERN = r"[\s\w+-=\.:/@]*"


def make_flow(client: Any, name: str = "tagged", **extra: Any) -> str:
    return str(client.create_flow(**flow_request(name, **extra))["flowArn"])


def tags_of(client: Any, arn: str) -> Dict[str, str]:
    out = client.list_tags_for_resource(resourceArn=arn)
    assert set(out) == {"tags", "ResponseMetadata"}
    return dict(out["tags"])


# -- success paths -----------------------------------------------------------------------------

def test_new_flow_has_an_empty_tag_dict(client):
    arn = make_flow(client)
    assert tags_of(client, arn) == {}
    assert client.describe_flow(flowName="tagged")["tags"] == {}


def test_tag_list_untag_round_trip(client):
    arn = make_flow(client)
    out = client.tag_resource(resourceArn=arn, tags={"env": "prod", "team": "data"})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204  # [seen] 204, empty body
    assert tags_of(client, arn) == {"env": "prod", "team": "data"}
    assert client.describe_flow(flowName="tagged")["tags"] == {"env": "prod", "team": "data"}

    client.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert tags_of(client, arn) == {"team": "data"}

    client.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert tags_of(client, arn) == {}
    assert client.describe_flow(flowName="tagged")["tags"] == {}


def test_tags_given_at_create_are_listed_and_merged(client):
    arn = make_flow(client, tags={"owner": "alice"})
    assert tags_of(client, arn) == {"owner": "alice"}
    client.tag_resource(resourceArn=arn, tags={"cost-center": "42"})
    assert tags_of(client, arn) == {"owner": "alice", "cost-center": "42"}


def test_tagging_an_existing_key_overwrites_its_value(client):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"env": "dev", "keep": "me"})
    client.tag_resource(resourceArn=arn, tags={"env": "prod"})
    assert tags_of(client, arn) == {"env": "prod", "keep": "me"}


def test_keys_are_case_sensitive(client):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"Env": "a", "env": "b"})
    client.untag_resource(resourceArn=arn, tagKeys=["ENV"])
    assert tags_of(client, arn) == {"Env": "a", "env": "b"}


def test_untag_of_missing_keys_is_a_no_op(client):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"a": "1"})
    client.untag_resource(resourceArn=arn, tagKeys=["b", "c"])
    client.untag_resource(resourceArn=arn, tagKeys=[])
    assert tags_of(client, arn) == {"a": "1"}


def test_empty_tag_map_and_empty_value_are_allowed(client):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={})
    assert tags_of(client, arn) == {}
    client.tag_resource(resourceArn=arn, tags={"flag": ""})
    assert tags_of(client, arn) == {"flag": ""}


def test_exactly_fifty_tags_are_allowed(client):
    arn = make_flow(client)
    tags = {f"k{i}": f"v{i}" for i in range(50)}
    client.tag_resource(resourceArn=arn, tags=tags)
    assert tags_of(client, arn) == tags
    # Re-tagging existing keys does not count twice.
    client.tag_resource(resourceArn=arn, tags={"k0": "new"})
    assert tags_of(client, arn)["k0"] == "new"


def test_every_allowed_key_and_value_character(client):
    arn = make_flow(client)
    key = "a+b-c=d.e_f:g/h9"
    value = "x y_z+1-2=3.4:5/6@7"
    client.tag_resource(resourceArn=arn, tags={key: value, "K" * 128: "v" * 256})
    assert tags_of(client, arn) == {key: value, "K" * 128: "v" * 256}
    client.untag_resource(resourceArn=arn, tagKeys=[key])
    assert tags_of(client, arn) == {"K" * 128: "v" * 256}


def test_flow_name_with_special_characters_in_the_arn(client):
    arn = make_flow(client, name="odd@name#1.x-y!z")
    client.tag_resource(resourceArn=arn, tags={"a": "b"})
    assert tags_of(client, arn) == {"a": "b"}
    assert client.describe_flow(flowName="odd@name#1.x-y!z")["tags"] == {"a": "b"}


def test_tags_are_per_flow(client):
    a = make_flow(client, "flow-a")
    b = make_flow(client, "flow-b")
    client.tag_resource(resourceArn=a, tags={"x": "1"})
    assert tags_of(client, b) == {}
    client.untag_resource(resourceArn=b, tagKeys=["x"])
    assert tags_of(client, a) == {"x": "1"}


def test_flow_recreated_under_the_same_name_starts_without_tags(client):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"x": "1"})
    client.delete_flow(flowName="tagged")
    assert make_flow(client) == arn
    assert tags_of(client, arn) == {}


# -- not found ---------------------------------------------------------------------------------

@pytest.mark.parametrize("arn", [
    f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/ghost",
    f"arn:aws:appflow:us-west-2:{ACCOUNT}:flow/tagged",      # the right name in another region
    "arn:aws:appflow:us-east-1:999999999999:flow/tagged",      # ... in another account
    f"arn:aws:appflow:us-east-1:{ACCOUNT}:connectorprofile/tagged",
    f"arn:aws:s3:us-east-1:{ACCOUNT}:flow/tagged",
    f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/tagged/extra",
])
def test_unknown_arns_are_not_found(client, arn):
    make_flow(client)
    client.create_connector_profile(**profile_request("tagged"))
    expect_error(client.list_tags_for_resource, "ResourceNotFoundException", 404, resourceArn=arn)
    expect_error(client.tag_resource, "ResourceNotFoundException", 404, resourceArn=arn, tags={"a": "b"})
    expect_error(client.untag_resource, "ResourceNotFoundException", 404, resourceArn=arn, tagKeys=["a"])
    assert tags_of(client, f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/tagged") == {}


def test_deleted_flow_is_not_found(client):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"a": "b"})
    client.delete_flow(flowName="tagged")
    msg = expect_error(client.list_tags_for_resource, "ResourceNotFoundException", 404, resourceArn=arn)
    assert arn in msg
    expect_error(client.tag_resource, "ResourceNotFoundException", 404, resourceArn=arn, tags={"a": "b"})


# -- validation --------------------------------------------------------------------------------

def test_more_than_fifty_tags_in_one_request(client):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"keep": "me"})
    tags = {f"k{i}": "v" for i in range(51)}
    msg = expect_error(client.tag_resource, "ValidationException", 400, resourceArn=arn, tags=tags)
    assert msg.startswith("1 validation error detected: Value '{")
    assert msg.endswith("at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
    assert tags_of(client, arn) == {"keep": "me"}


def test_more_than_fifty_tags_in_total(client):
    arn = make_flow(client)
    first = {f"a{i}": "v" for i in range(30)}
    client.tag_resource(resourceArn=arn, tags=first)
    expect_error(client.tag_resource, "ValidationException", 400, resourceArn=arn,
                 tags={f"b{i}": "v" for i in range(21)})
    assert tags_of(client, arn) == first
    # 20 more reach exactly 50.
    client.tag_resource(resourceArn=arn, tags={f"b{i}": "v" for i in range(20)})
    assert len(tags_of(client, arn)) == 50


@pytest.mark.parametrize("tags, constraint", [
    ({"aws:x": "v"}, f"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: {KEY_PATTERN}]"),
    ({"has space": "v"}, f"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: {KEY_PATTERN}]"),
    ({"k" * 129: "v"}, "Map keys must satisfy constraint: [Member must have length less than or equal to 128]"),
    # An empty key breaks both the length and the pattern: two errors, both reported.
    ({"": "v"}, "Map keys must satisfy constraint: [Member must have length greater than or equal to 1]; "
                "Value '{fine=ok, =v}' at 'tags' failed to satisfy constraint: "
                f"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: {KEY_PATTERN}]"),
    ({"k": "v" * 257}, "Map value must satisfy constraint: [Member must have length less than or equal to 256]"),
    ({"k": "bad#value"}, f"Map value must satisfy constraint: [Member must satisfy regular expression pattern: {VALUE_PATTERN}]"),
    ({"k": "caf\u00e9"}, f"Map value must satisfy constraint: [Member must satisfy regular expression pattern: {VALUE_PATTERN}]"),
])
def test_bad_tags_are_rejected_with_aws_message(client, tags, constraint):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"keep": "me"})
    # botocore itself rejects an empty key (min 1), so skip its checks to reach the service.
    raw = boto3.client("appflow", region_name="us-east-1", config=Config(parameter_validation=False))
    msg = expect_error(raw.tag_resource, "ValidationException", 400, resourceArn=arn,
                       tags={"fine": "ok", **tags})
    count = constraint.count("; Value ") + 1
    assert msg.startswith(f"{count} validation error{'s' if count > 1 else ''} detected: Value '{{")
    assert msg.endswith(f"at 'tags' failed to satisfy constraint: {constraint}")
    assert tags_of(client, arn) == {"keep": "me"}


def test_aws_prefix_is_rejected_with_the_exact_message(client):
    arn = make_flow(client)
    msg = expect_error(client.tag_resource, "ValidationException", 400, resourceArn=arn, tags={"aws:x": "1"})
    assert msg == ("1 validation error detected: Value '{aws:x=1}' at 'tags' failed to satisfy constraint: "
                   f"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: {KEY_PATTERN}]")
    assert tags_of(client, arn) == {}


def test_untag_validation(client):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"a": "1"})
    msg = expect_error(client.untag_resource, "ValidationException", 400, resourceArn=arn, tagKeys=["a", "aws:x"])
    assert msg == ("1 validation error detected: Value 'aws:x' at 'tagKeys.2.member' failed to satisfy constraint: "
                   f"Member must satisfy regular expression pattern: {KEY_PATTERN}")
    msg = expect_error(client.untag_resource, "ValidationException", 400, resourceArn=arn,
                       tagKeys=[f"k{i}" for i in range(50)] + ["a"])
    assert "at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50" in msg
    msg = expect_error(client.untag_resource, "ValidationException", 400, resourceArn=arn, tagKeys=["k" * 129])
    assert "Member must have length less than or equal to 128" in msg
    assert tags_of(client, arn) == {"a": "1"}


@pytest.mark.parametrize("arn, constraint", [
    ("not-an-arn", f"Member must satisfy regular expression pattern: {ARN_PATTERN}"),
    ("arn:aws:appflow:us-east-1:acct:flow/x", f"Member must satisfy regular expression pattern: {ARN_PATTERN}"),
    (f"arn:aws:appflow:us-east-1:{ACCOUNT}:flow/" + "x" * 500, f"Member must have length less than or equal to {ARN_MAX}"),
])
def test_malformed_arns_are_validation_errors(client, arn, constraint):
    for call, extra in ((client.list_tags_for_resource, {}),
                        (client.tag_resource, {"tags": {"a": "b"}}),
                        (client.untag_resource, {"tagKeys": ["a"]})):
        msg = expect_error(call, "ValidationException", 400, resourceArn=arn, **extra)
        assert msg == f"1 validation error detected: Value '{arn}' at 'resourceArn' failed to satisfy constraint: {constraint}"


def test_missing_required_members_server_side(client):
    arn = make_flow(client)
    raw = boto3.client("appflow", region_name="us-east-1", config=Config(parameter_validation=False))
    msg = expect_error(raw.tag_resource, "ValidationException", 400, resourceArn=arn)
    assert msg == "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"
    msg = expect_error(raw.untag_resource, "ValidationException", 400, resourceArn=arn)
    assert msg == "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"
    msg = expect_error(raw.tag_resource, "ValidationException", 400, resourceArn=arn, tags={"a": 5})
    assert "Map value must satisfy constraint: [Member must be of type string]" in msg
    assert tags_of(client, arn) == {}


# -- isolation ---------------------------------------------------------------------------------

def test_regions_are_isolated(client):
    west = boto3.client("appflow", region_name="us-west-2")
    east_arn = make_flow(client)
    west_arn = make_flow(west)
    assert east_arn != west_arn and ":us-west-2:" in west_arn
    client.tag_resource(resourceArn=east_arn, tags={"region": "east"})
    west.tag_resource(resourceArn=west_arn, tags={"region": "west"})
    assert tags_of(client, east_arn) == {"region": "east"}
    assert tags_of(west, west_arn) == {"region": "west"}
    # A client can only reach its own region's flows.
    expect_error(west.list_tags_for_resource, "ResourceNotFoundException", 404, resourceArn=east_arn)


def test_accounts_are_isolated(client, monkeypatch):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"a": "b"})
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111122223333")
    other = boto3.client("appflow", region_name="us-east-1")
    expect_error(other.list_tags_for_resource, "ResourceNotFoundException", 404, resourceArn=arn)
    other_arn = make_flow(other)
    assert other_arn == "arn:aws:appflow:us-east-1:111122223333:flow/tagged"
    assert tags_of(other, other_arn) == {}
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    assert tags_of(client, arn) == {"a": "b"}


def test_handle_shows_the_tags(client, appflow_mock):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"a": "b"})
    assert dict(appflow_mock.state("us-east-1").flows["tagged"].tags) == {"a": "b"}


def test_keys_with_query_string_characters(client):
    arn = make_flow(client)
    client.tag_resource(resourceArn=arn, tags={"a,b": "1", "a": "2", "c+d": "3", "e=f": "4", "g/h": "5"})
    client.untag_resource(resourceArn=arn, tagKeys=["a,b", "c+d", "e=f"])
    assert tags_of(client, arn) == {"a": "2", "g/h": "5"}


# -- properties ---------------------------------------------------------------------------------


_keys = st.from_regex(r"[a-zA-Z][a-zA-Z+,\-./:=_]{0,20}", fullmatch=True).filter(lambda k: not k.startswith("aws:"))
_values = st.from_regex(r"[ a-zA-Z0-9_+\-=.:/@]{0,30}", fullmatch=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.tuples(st.dictionaries(_keys, _values, max_size=8),
                                  st.lists(_keys, max_size=5)), max_size=6))
def test_tags_behave_like_a_dict(client, appflow_mock, batches):
    appflow_mock.reset()
    arn = make_flow(client)
    model: Dict[str, str] = {}
    for add, remove in batches:
        client.tag_resource(resourceArn=arn, tags=add)
        model.update(add)
        client.untag_resource(resourceArn=arn, tagKeys=remove)
        for k in remove:
            model.pop(k, None)
        assert tags_of(client, arn) == model
    assert client.describe_flow(flowName="tagged")["tags"] == model


def test_tags_survive_flow_updates_and_runs(client):
    arn = make_flow(client, tags={"owner": "alice"})
    client.tag_resource(resourceArn=arn, tags={"env": "prod"})
    update = flow_request("tagged")
    del update["flowName"]
    client.update_flow(flowName="tagged", **update)
    client.start_flow(flowName="tagged")
    assert tags_of(client, arn) == {"owner": "alice", "env": "prod"}
    assert client.describe_flow(flowName="tagged")["tags"] == {"owner": "alice", "env": "prod"}
    listed = [f for f in client.list_flows()["flows"] if f["flowName"] == "tagged"]
    assert listed[0]["tags"] == {"owner": "alice", "env": "prod"}
