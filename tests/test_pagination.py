"""ListFlows pagination by hand (botocore ships no AppFlow paginators): maxResults 1..100,
nextToken walking every page, stability while flows come and go, and refused tokens."""
from __future__ import annotations

import base64

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import appflow_emu
from tests.helpers import expect_error, flow_request

TOKEN_ERROR = "The nextToken provided is invalid or has expired."


def walk(client, page: int | None) -> list:
    names, token = [], None
    for _ in range(10_000):
        kwargs = {}
        if page is not None:
            kwargs["maxResults"] = page
        if token:
            kwargs["nextToken"] = token
        resp = client.list_flows(**kwargs)
        assert len(resp["flows"]) <= (page or 100)
        names += [f["flowName"] for f in resp["flows"]]
        token = resp.get("nextToken")
        if not token:
            return names
        assert resp["flows"], "a page with a nextToken must not be empty"
    raise AssertionError("pagination did not end")


def make(client, *names: str) -> None:
    for n in names:
        client.create_flow(**flow_request(n))


def test_no_paginator_for_appflow(client):
    assert client.can_paginate("list_flows") is False


@pytest.mark.parametrize("page", [1, 2, 3, 7, 10, 11, 100, None])
def test_walk_every_page(client, page):
    names = [f"flow-{i:02d}" for i in range(23)]
    make(client, *names)
    got = walk(client, page)
    assert sorted(got) == names
    assert len(got) == len(set(got))


def test_default_page_size(client):
    make(client, *[f"f{i:02d}" for i in range(25)])
    first = client.list_flows()
    assert len(first["flows"]) == 20
    second = client.list_flows(nextToken=first["nextToken"])
    assert len(second["flows"]) == 5
    assert "nextToken" not in second


def test_exact_page_has_no_token(client):
    make(client, "a1", "a2", "a3")
    out = client.list_flows(maxResults=3)
    assert len(out["flows"]) == 3
    assert "nextToken" not in out
    out = client.list_flows(maxResults=100)
    assert len(out["flows"]) == 3 and "nextToken" not in out


def test_max_results_bounds(client):
    make(client, "a1")
    expect_error(client.list_flows, "ValidationException", 400, maxResults=101)
    raw = boto3.client("appflow", region_name="us-east-1", config=Config(parameter_validation=False))
    msg = expect_error(raw.list_flows, "ValidationException", 400, maxResults=0)
    assert "maxResults" in msg
    expect_error(raw.list_flows, "ValidationException", 400, maxResults=-5)
    assert len(client.list_flows(maxResults=1)["flows"]) == 1
    assert len(client.list_flows(maxResults=100)["flows"]) == 1


def test_max_results_zero_is_refused_by_botocore_itself(client):
    from botocore.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        client.list_flows(maxResults=0)


def test_garbage_tokens(client):
    make(client, "a1", "a2", "a3")
    for bad in ("garbage", "!!!!", "x" * 2048, "Zmxvd3M6MQ", "Zmxvd3M6MA"):
        expect_error(client.list_flows, "ValidationException", 400, TOKEN_ERROR, nextToken=bad)


def test_tokens_never_issued_are_refused(client):
    make(client, *[f"f{i}" for i in range(6)])
    guesses = ["flows:1", "flows:0", "flows:3", "flows:-1", "flows:999", "1", "3", "flows"]
    for text in guesses:
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            token = enc(text.encode()).decode()
            expect_error(client.list_flows, "ValidationException", 400, TOKEN_ERROR, nextToken=token)
            expect_error(client.list_flows, "ValidationException", 400, TOKEN_ERROR, nextToken=token.rstrip("="))


def test_tampered_token_refused(client):
    make(client, *[f"f{i}" for i in range(6)])
    token = client.list_flows(maxResults=2)["nextToken"]
    tampered = set()
    for i in range(len(token)):
        for ch in "AQgw0-_z":
            if token[i] != ch:
                tampered.add(token[:i] + ch + token[i + 1:])
    for bad in sorted(tampered):
        try:
            client.list_flows(maxResults=2, nextToken=bad)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ValidationException"
        else:
            # Only a token that decodes to the very same bytes may be accepted.
            assert base64.urlsafe_b64decode(bad + "==") == base64.urlsafe_b64decode(token + "==")


def test_token_survives_and_is_reusable(client):
    make(client, *[f"f{i}" for i in range(5)])
    token = client.list_flows(maxResults=2)["nextToken"]
    once = client.list_flows(maxResults=2, nextToken=token)["flows"]
    twice = client.list_flows(maxResults=2, nextToken=token)["flows"]
    assert [f["flowName"] for f in once] == [f["flowName"] for f in twice]


def test_token_with_different_page_size(client):
    names = [f"f{i}" for i in range(10)]
    make(client, *names)
    first = client.list_flows(maxResults=3)
    rest = client.list_flows(maxResults=100, nextToken=first["nextToken"])
    got = [f["flowName"] for f in first["flows"] + rest["flows"]]
    assert sorted(got) == names and len(got) == 10


def test_token_from_profile_listing_refused(client):
    from tests.helpers import profile_request

    for i in range(3):
        client.create_connector_profile(**profile_request(f"p{i}"))
    make(client, "a1", "a2")
    token = client.describe_connector_profiles(maxResults=1)["nextToken"]
    expect_error(client.list_flows, "ValidationException", 400, TOKEN_ERROR, nextToken=token)


def test_stable_across_creates_and_deletes(client):
    names = [f"f{i:02d}" for i in range(12)]
    make(client, *names)
    first = client.list_flows(maxResults=4)
    seen = [f["flowName"] for f in first["flows"]]
    # delete one already seen, one not yet seen, and the very last item returned; add new ones
    client.delete_flow(flowName=seen[0])
    unseen = [n for n in names if n not in seen]
    client.delete_flow(flowName=unseen[0])
    client.delete_flow(flowName=seen[-1])
    make(client, "new-1", "new-2")
    token = first["nextToken"]
    while token:
        resp = client.list_flows(maxResults=4, nextToken=token)
        seen += [f["flowName"] for f in resp["flows"]]
        token = resp.get("nextToken")
        if token:
            make(client, f"later-{len(seen)}")
    survivors = set(names) - {seen[0], unseen[0], first["flows"][-1]["flowName"]}
    for n in survivors:
        assert seen.count(n) == 1, n
    assert unseen[0] not in seen
    assert len(seen) == len(set(seen))


def test_deleting_everything_mid_walk(client):
    make(client, *[f"f{i}" for i in range(6)])
    first = client.list_flows(maxResults=2)
    for f in client.list_flows(maxResults=100)["flows"]:
        client.delete_flow(flowName=f["flowName"])
    rest = client.list_flows(maxResults=2, nextToken=first["nextToken"])
    assert rest["flows"] == []
    assert "nextToken" not in rest


def test_region_isolation_of_listing(client):
    make(client, "east-1", "east-2")
    west = boto3.client("appflow", region_name="eu-west-1")
    west.create_flow(**flow_request("west-1"))
    assert sorted(walk(client, 1)) == ["east-1", "east-2"]
    assert walk(west, 1) == ["west-1"]


# -- property: nothing that existed throughout is skipped or repeated --------------------------
_op = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 10_000)),
    st.tuples(st.just("delete"), st.integers(0, 10_000)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(initial=st.integers(0, 15), page=st.integers(1, 5),
       between=st.lists(st.lists(_op, max_size=4), max_size=8))
def test_walk_is_stable_under_concurrent_changes(initial, page, between):
    with appflow_emu.mock_appflow():
        client = boto3.client("appflow", region_name="us-east-1")
        existing = [f"init-{i}" for i in range(initial)]
        make(client, *existing)
        touched = set()
        counter = 0
        seen, token, step = [], None, 0
        while True:
            kwargs = {"maxResults": page}
            if token:
                kwargs["nextToken"] = token
            resp = client.list_flows(**kwargs)
            assert len(resp["flows"]) <= page
            seen += [f["flowName"] for f in resp["flows"]]
            token = resp.get("nextToken")
            if not token:
                break
            for kind, n in (between[step] if step < len(between) else []):
                current = [f["flowName"] for f in client.list_flows(maxResults=100)["flows"]]
                if kind == "create":
                    counter += 1
                    name = f"new-{counter}"
                    client.create_flow(**flow_request(name))
                    touched.add(name)
                elif current:
                    victim = current[n % len(current)]
                    client.delete_flow(flowName=victim)
                    touched.add(victim)
            step += 1
            assert step < 1000
        throughout = set(existing) - touched
        for name in throughout:
            assert seen.count(name) == 1, (name, seen)
        assert len(seen) == len(set(seen)), seen
