"""Concurrent clients: 8 threads creating, updating, tagging and deleting flows, some names
contended. The final state must be exactly what the successful calls imply."""
from __future__ import annotations

import threading
import traceback
from collections import Counter, defaultdict
from typing import Any, Dict, List

import boto3
import pytest
from botocore.exceptions import ClientError

from appflow_emu import mock_appflow
from tests.helpers import flow_request

REGION = "us-east-1"
THREADS = 8
ROUNDS = 12
SHARED = [f"shared-{k}" for k in range(3)]  # created by all, never deleted
RACE = [f"race-{k}" for k in range(3)]  # created and deleted by all


def _list_all(client, page_size=7) -> List[Dict[str, Any]]:
    out, token = [], None
    while True:
        kwargs: Dict[str, Any] = {"maxResults": page_size}
        if token:
            kwargs["nextToken"] = token
        page = client.list_flows(**kwargs)
        out += page["flows"]
        token = page.get("nextToken")
        if not token:
            return out


def _describe(exc: BaseException) -> str:
    cause = exc.__cause__
    where = "".join(traceback.format_exception(cause)) if cause is not None else ""
    return f"{type(exc).__name__}: {exc}\n{where}"


def _code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


class Recorder:
    def __init__(self, tid: int) -> None:
        self.tid = tid
        self.created: Counter = Counter()
        self.deleted: Counter = Counter()
        self.descriptions: Dict[str, List[str]] = defaultdict(list)  # successful updates, in order
        self.tags: Dict[str, Dict[str, str]] = defaultdict(dict)  # successful tag calls, merged
        self.errors: List[str] = []  # unexpected


def _worker(client, rec: Recorder, barrier: threading.Barrier) -> None:
    try:
        _work(client, rec, barrier)
    except Exception as exc:  # anything but an expected ClientError fails the test
        rec.errors.append(_describe(exc))


def _work(client, rec: Recorder, barrier: threading.Barrier) -> None:
    t = rec.tid
    barrier.wait()

    def attempt(fn, expected_codes, name, **kw):
        try:
            fn(**kw)
            return True
        except ClientError as exc:
            if _code(exc) not in expected_codes:
                rec.errors.append(f"{fn.__name__} {name}: {_code(exc)} {exc}")
            return False

    for i in range(ROUNDS):
        own = f"own-{t}-{i}"
        contested = [SHARED[(t + i) % len(SHARED)], RACE[(t * 3 + i) % len(RACE)]]
        # own flow: always succeeds
        if attempt(client.create_flow, (), own, **flow_request(own, description="v0")):
            rec.created[own] += 1
        for name in contested:
            if attempt(client.create_flow, ("ConflictException",), name, **flow_request(name)):
                rec.created[name] += 1
        # updates
        desc = f"t{t}-r{i}"
        for name in [own] + contested:
            req = flow_request(name, description=desc)
            req.pop("flowName")
            if attempt(client.update_flow, ("ResourceNotFoundException",), name, flowName=name, **req):
                rec.descriptions[name].append(desc)
        # tags
        for name in [own] + contested:
            arn = f"arn:aws:appflow:{REGION}:123456789012:flow/{name}"
            tags = {f"t{t}": str(i), "last": f"{t}-{i}"} if name != own else {"owner": str(t), "round": str(i)}
            if attempt(client.tag_resource, ("ResourceNotFoundException",), name, resourceArn=arn, tags=tags):
                rec.tags[name].update(tags)
        # deletes: every other own flow, and the race flow
        if i % 2 == 0 and attempt(client.delete_flow, (), own, flowName=own):
            rec.deleted[own] += 1
        race = contested[1]
        if attempt(client.delete_flow, ("ResourceNotFoundException",), race, flowName=race):
            rec.deleted[race] += 1


@pytest.mark.parametrize("run", range(3))
def test_concurrent_clients_consistent(run):
    with mock_appflow(seed=run):
        main_client = boto3.session.Session().client("appflow", region_name=REGION)
        clients = [boto3.session.Session().client("appflow", region_name=REGION) for _ in range(THREADS)]
        recs = [Recorder(t) for t in range(THREADS)]
        barrier = threading.Barrier(THREADS)
        threads = [threading.Thread(target=_worker, args=(c, r, barrier)) for c, r in zip(clients, recs)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

        problems = [e for r in recs for e in r.errors]
        assert problems == []

        created: Counter = sum((r.created for r in recs), Counter())
        deleted: Counter = sum((r.deleted for r in recs), Counter())
        expected = set()
        for name in set(created) | set(deleted):
            balance = created[name] - deleted[name]
            assert balance in (0, 1), (name, created[name], deleted[name])
            if balance == 1:
                expected.add(name)
        for name in SHARED:
            assert created[name] == 1, name  # exactly one winner of each conflict
            assert name in expected

        listed = _list_all(main_client)
        names = [f["flowName"] for f in listed]
        assert len(names) == len(set(names)), "a flow listed twice"
        assert set(names) == expected

        for summary in listed:
            name = summary["flowName"]
            out = main_client.describe_flow(flowName=name)
            assert out["flowName"] == name
            assert out["flowArn"] == summary["flowArn"] == f"arn:aws:appflow:{REGION}:123456789012:flow/{name}"
            assert out["tags"] == summary["tags"] == main_client.list_tags_for_resource(
                resourceArn=out["flowArn"])["tags"]
            assert out["lastUpdatedAt"] >= out["createdAt"]
            assert out["flowStatus"] == summary["flowStatus"] == "Active"
            if name.startswith("own-"):
                owner = recs[int(name.split("-")[1])]
                assert out["tags"] == owner.tags[name]
                assert out["description"] == owner.descriptions[name][-1]
            else:
                written = {d for r in recs for d in r.descriptions[name]}
                if name in SHARED:
                    assert out["description"] in written
                    tagged = {k for r in recs for k in r.tags[name] if k.startswith("t")}
                    assert set(out["tags"]) == tagged | ({"last"} if tagged else set())
                else:
                    # a race flow that survives was (re)created after its last delete
                    assert out.get("description") is None or out["description"] in written


def test_pages_stable_while_others_write():
    """Flows that exist throughout are listed exactly once by every paging pass, while other
    threads create and delete flows around them."""
    with mock_appflow():
        reader = boto3.session.Session().client("appflow", region_name=REGION)
        writers = [boto3.session.Session().client("appflow", region_name=REGION) for _ in range(4)]
        stable = {f"stable-{i}" for i in range(15)}
        for i, name in enumerate(sorted(stable)):
            writers[0].create_flow(**flow_request(name))
            writers[0].create_flow(**flow_request(f"churn-pre-{i}"))
        done = threading.Event()
        failures: List[str] = []

        def churn(client, w):
            for i in range(40):
                try:
                    client.create_flow(**flow_request(f"churn-{w}-{i}"))
                    client.delete_flow(flowName=f"churn-pre-{(w * 40 + i) % 15}")
                except ClientError as exc:
                    if _code(exc) != "ResourceNotFoundException":
                        failures.append(str(exc))
                except Exception as exc:
                    failures.append(_describe(exc))

        def read():
            try:
                _read()
            except Exception as exc:
                failures.append("reader: " + _describe(exc))

        def _read():
            passes = 0
            while not done.is_set() or passes < 3:
                names = [f["flowName"] for f in _list_all(reader, page_size=4)]
                if len(names) != len(set(names)):
                    failures.append(f"duplicates in a pass: {names}")
                if not stable <= set(names):
                    failures.append(f"missing stable flows: {sorted(stable - set(names))}")
                passes += 1

        r = threading.Thread(target=read)
        ws = [threading.Thread(target=churn, args=(c, w)) for w, c in enumerate(writers)]
        r.start()
        for w in ws:
            w.start()
        for w in ws:
            w.join()
        done.set()
        r.join()
        assert failures == []
        final = {f["flowName"] for f in _list_all(reader)}
        assert final == stable | {f"churn-{w}-{i}" for w in range(4) for i in range(40)}


def test_first_calls_of_a_process_from_many_threads(monkeypatch):
    """The model's validators are compiled on first use; when that first use comes from several
    threads at once, no thread may see a half-compiled validator (this used to fail with an
    EmulatorError wrapping an IndexError). Simulate a fresh process by dropping the compiled
    state, several times."""
    from appflow_emu.model import operation_specs, validate

    failures: List[str] = []
    clients = [boto3.session.Session().client("appflow", region_name=REGION) for _ in range(THREADS)]
    for round_ in range(20):
        monkeypatch.setattr(validate, "_INPUT", validate.Compiler(strict_unknown=False))
        monkeypatch.setattr(validate, "_OUTPUT", validate.Compiler(strict_unknown=True))
        operation_specs.spec.cache_clear()
        with mock_appflow(seed=round_):
            barrier = threading.Barrier(THREADS)

            def first_calls(client, t, barrier=barrier):
                barrier.wait()
                try:
                    client.create_flow(**flow_request(f"first-{t}"))
                    client.describe_flow(flowName=f"first-{t}")
                    client.list_flows()
                except Exception as exc:
                    failures.append(_describe(exc))

            threads = [threading.Thread(target=first_calls, args=(c, t)) for t, c in enumerate(clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
    operation_specs.spec.cache_clear()
    assert failures == []
