#!/usr/bin/env python
"""Saved-state and fixture benchmark for appflow_emu: restoring a snapshot against building the same
state through boto3, and the ``appflow_mock`` fixture's own cost against moto's ``mock_aws``, each
against a floor measured in the same process run, as medians of several repeats.

    python benchmarks/bench_state.py              # 1,000 flows x 10 runs, 3 repeats; fixture 5 x 2000 (~50 s)
    python benchmarks/bench_state.py --quick      # CI smoke run: 200 flows x 10 runs; fixture 3 x 400 (< 30 s)
    python benchmarks/bench_state.py --no-fail    # report only, always exit 0
    python benchmarks/bench_state.py --json out.json

Exit status 1 if any budget fails (unless --no-fail). See benchmarks/README.md for what each line
means and docs/performance.md for the figures.

Method
- Saved state. Each repeat builds, inside a fresh ``mock_appflow()``, an account with one Salesforce
  connector profile, a few seeded Salesforce records and F OnDemand Salesforce -> S3 (JSON) flows,
  each started R times (every run reads the records and writes an object to the embedded S3 store),
  all through boto3 calls on one client created before anything is timed; that build is the floor.
  Then, each timed alone: ``emu.snapshot()``, ``emu.save(path)`` (a temporary file), the document's
  ``json.dumps`` and ``json.loads`` (information), ``emu.restore(doc)`` into the emulator of a fresh
  ``mock_appflow()`` (the per-test pattern: a test starts empty and restores the document built
  once), and ``emu.load(path)`` into another fresh one. Sanity checks (outside the timing) compare
  what the restored and loaded emulators answer with what the built one answered.
  ``gc.collect()`` runs before each timed step and the garbage collector stays enabled during it:
  these steps make hundreds of thousands of objects, and what the collector costs them is part of
  what a test suite pays.
- Fixture. The ``appflow_mock`` fixture's own cost per test, without pytest's fixture machinery:
  the fixture's generator function itself (``appflow_emu.pytest_plugin.appflow_mock.__wrapped__``)
  is driven as pytest drives it (``next`` to set up, ``next`` again to tear down), with a stand-in
  request whose node carries no ``appflow`` marker. That is: look up the marker, start a
  ``mock_appflow()`` (a fresh, empty emulator: the fixture's reset), stop it. Against moto 5's
  ``m = mock_aws(); m.start(); m.stop()`` in the same process. Each repeat runs both in chunks
  interleaved round-robin (order reversed every other chunk), warm-up iterations first, then
  ``gc.collect(); gc.disable()`` around the timed iterations (as bench_core.py does).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import types
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from common import ROOT, Results, offline_environment  # noqa: E402  (benchmarks/common.py)

offline_environment(also_unset=("MOTO_ACCOUNT_ID",))

import boto3  # noqa: E402

from appflow_emu import mock_appflow  # noqa: E402
from appflow_emu.mock import get_emulator  # noqa: E402
from tests.helpers import profile_request, s3_destination  # noqa: E402

REGION = "us-east-1"
BUCKET = "out-bucket"
PROFILE = "sf"
ENTITY = "Deal__c"
FIELDS = ("Id", "Name", "LastModifiedDate")
RECORDS = [{"Id": str(i), "Name": f"Deal {i}", "LastModifiedDate": f"2026-01-0{i + 1}T00:00:00+00:00"}
           for i in range(5)]

RESTORE_BUDGET = 0.2   # restore <= 0.2 x build
FIXTURE_BUDGET = 0.02  # appflow_mock fixture <= 0.02 x moto mock_aws start + stop


# --------------------------------------------------------------------------------------------
# the state: F OnDemand Salesforce -> S3 flows, R runs each (tests/test_snapshots.py sf_flow)

def sf_tasks(*fields: str) -> List[Dict[str, Any]]:
    return [{"taskType": "Filter", "sourceFields": list(fields), "connectorOperator": {"Salesforce": "PROJECTION"},
             "taskProperties": {}}] + [
        {"taskType": "Map", "sourceFields": [f], "destinationField": f, "connectorOperator": {"Salesforce": "NO_OP"},
         "taskProperties": {}} for f in fields]


def flow_name(i: int) -> str:
    return f"flow-{i:05d}"


def flow_requests(flows: int) -> List[Dict[str, Any]]:
    return [{
        "flowName": flow_name(i),
        "triggerConfig": {"triggerType": "OnDemand"},
        "sourceFlowConfig": {"connectorType": "Salesforce", "connectorProfileName": PROFILE,
                             "sourceConnectorProperties": {"Salesforce": {"object": ENTITY}}},
        "destinationFlowConfigList": [s3_destination(BUCKET, "out", "JSON")],
        "tasks": sf_tasks(*FIELDS),
    } for i in range(flows)]


def build_state(client: Any, emu: Any, requests: Sequence[Dict[str, Any]], runs: int) -> None:
    """Everything through boto3, except what only the handle can do (the bucket, the SaaS records,
    the flow quota for more than 1,000 flows)."""
    emu.set_quota("flows", max(1000, len(requests)))
    emu.create_bucket(BUCKET)
    emu.add_source_records("Salesforce", ENTITY, RECORDS, check_fields=False)
    client.create_connector_profile(**profile_request(PROFILE, "Salesforce"))
    for request in requests:
        client.create_flow(**request)
    for request in requests:
        name = request["flowName"]
        for _ in range(runs):
            client.start_flow(flowName=name)


def _strip(answer: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def probe(client: Any, emu: Any, flows: int) -> Dict[str, Any]:
    """A few answers that tell a state apart (compared, never timed)."""
    first, last = flow_name(0), flow_name(flows - 1)
    out: Dict[str, Any] = {
        "page": _strip(client.list_flows(maxResults=100)),
        "first": _strip(client.describe_flow(flowName=first)),
        "first_runs": _strip(client.describe_flow_execution_records(flowName=first)),
        "last_runs": _strip(client.describe_flow_execution_records(flowName=last)),
        "objects": len(emu.list_objects(BUCKET)),
    }
    return out


def check_built(answers: Dict[str, Any], flows: int, runs: int) -> None:
    for key in ("first_runs", "last_runs"):
        executions = answers[key]["flowExecutions"]
        assert len(executions) == runs, (key, len(executions))
        for e in executions:
            assert e["executionStatus"] == "Successful", e
            assert e["executionResult"]["recordsProcessed"] == len(RECORDS), e
    assert answers["objects"] == flows * runs, answers["objects"]


# --------------------------------------------------------------------------------------------
# timing

def timed_once(call: Callable[[], Any]) -> Tuple[float, Any]:
    """Seconds for one ``call()`` after ``gc.collect()``, the collector enabled; and its result."""
    gc.collect()
    t0 = time.perf_counter()
    result = call()
    return time.perf_counter() - t0, result


def timed_loop(body: Callable[[], Any], count: int) -> float:
    """Seconds for ``count`` calls of ``body()``, gc disabled."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(count):
            body()
        t1 = time.perf_counter()
    finally:
        gc.enable()
    return t1 - t0


# --------------------------------------------------------------------------------------------
# part 1: restore vs build

STATE_LINES = [
    ("build", "build through boto3 (floor)"),
    ("snapshot", "emu.snapshot()"),
    ("save", "emu.save(path)"),
    ("dumps", "json.dumps(document)"),
    ("loads", "json.loads(text)"),
    ("restore", "emu.restore(document), fresh mock"),
    ("load", "emu.load(path), fresh mock"),
]


def state_repeat(res: Results, client: Any, requests: Sequence[Dict[str, Any]], runs: int,
                 path: str) -> Dict[str, Any]:
    """One repeat: build (the floor), snapshot, save; dumps, loads; restore and load into fresh
    mocks, each checked against what the built state answered. Everything it made is garbage when
    it returns."""
    labels = dict(STATE_LINES)
    flows = len(requests)
    with mock_appflow() as emu:
        seconds, _ = timed_once(partial(build_state, client, emu, requests, runs))
        res.add("build", labels["build"], seconds)
        built = probe(client, emu, flows)
        check_built(built, flows, runs)
        seconds, doc = timed_once(emu.snapshot)
        res.add("snapshot", labels["snapshot"], seconds)
        seconds, _ = timed_once(partial(emu.save, path))
        res.add("save", labels["save"], seconds)
    emu = None  # the built state is garbage from here on
    seconds, text = timed_once(partial(json.dumps, doc, separators=(",", ":"), allow_nan=False))
    res.add("dumps", labels["dumps"], seconds)
    seconds, _ = timed_once(partial(json.loads, text))
    res.add("loads", labels["loads"], seconds)
    info = {"document_bytes": len(text.encode("utf-8")), "file_bytes": os.path.getsize(path)}
    text = ""
    with mock_appflow() as fresh:
        seconds, _ = timed_once(partial(fresh.restore, doc))
        res.add("restore", labels["restore"], seconds)
        assert probe(client, fresh, flows) == built, "the restored state answers differently"
    fresh = None
    with mock_appflow() as loaded:
        seconds, _ = timed_once(partial(loaded.load, path))
        res.add("load", labels["load"], seconds)
        assert probe(client, loaded, flows) == built, "the loaded state answers differently"
    os.unlink(path)
    return info


def measure_state(res: Results, client: Any, flows: int, runs: int, repeats: int, workdir: str) -> Dict[str, Any]:
    requests = flow_requests(flows)
    path = os.path.join(workdir, "state.json")
    info: Dict[str, Any] = {}
    for rep in range(repeats):
        info = state_repeat(res, client, requests, runs, path)
        print(f"  state: repeat {rep + 1}/{repeats} done (build {res.samples['build'][-1]:.2f} s, "
              f"restore {res.samples['restore'][-1]:.3f} s)", flush=True)
    return info


# --------------------------------------------------------------------------------------------
# part 2: the fixture vs moto's mock_aws

class _Node:
    def get_closest_marker(self, name: str) -> None:
        return None  # a test without an @pytest.mark.appflow marker


# What a test environment without credentials has: the fixture (or the mock) then provides the fake
# ones and takes them back, its full work. Cleared for the fixture part only.
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")


def fixture_body() -> Callable[[], None]:
    """One test's worth of the ``appflow_mock`` fixture: its generator function (what
    ``@pytest.fixture`` wraps) set up and torn down the way pytest does it, with the fixtures it
    asks for: ``request`` (a stand-in whose node has no ``appflow`` marker) and, if it asks for it,
    ``monkeypatch`` (a ``pytest.MonkeyPatch`` per test, undone after the fixture's tear-down, as
    pytest's own ``monkeypatch`` fixture does)."""
    import inspect

    import pytest

    from appflow_emu.pytest_plugin import appflow_mock

    fixture_function = getattr(appflow_mock, "__wrapped__", appflow_mock)
    request = types.SimpleNamespace(node=_Node(), config=types.SimpleNamespace(rootpath=ROOT))
    wanted = list(inspect.signature(fixture_function).parameters)
    unknown = [name for name in wanted if name not in ("request", "monkeypatch")]
    if unknown:
        raise SystemExit(f"bench_state.py: the appflow_mock fixture asks for fixture(s) {', '.join(unknown)}, "
                         "which this benchmark does not provide: update fixture_body()")
    uses_monkeypatch = "monkeypatch" in wanted

    def set_up() -> Tuple[Any, Optional[Any], Any]:
        kwargs: Dict[str, Any] = {"request": request} if "request" in wanted else {}
        mp = pytest.MonkeyPatch() if uses_monkeypatch else None
        if mp is not None:
            kwargs["monkeypatch"] = mp
        gen = fixture_function(**kwargs)
        return gen, mp, next(gen)  # the test would run now

    def tear_down(gen: Any, mp: Optional[Any]) -> None:
        for _ in gen:  # pytest: next() until StopIteration
            raise AssertionError("the appflow_mock fixture yielded twice")
        if mp is not None:
            mp.undo()  # pytest's monkeypatch fixture is torn down after the fixtures that use it

    def body() -> None:
        gen, mp, _ = set_up()
        tear_down(gen, mp)

    # the stand-in must give what the fixture gives a test: an active, empty emulator, and leave
    # nothing behind (no mock running, the environment as it was)
    before = dict(os.environ)
    gen, mp, emulator = set_up()
    assert emulator is not None and get_emulator() is emulator, "the fixture's mock is not running"
    assert not emulator.states(), "the fixture's emulator is not empty"
    assert os.environ.get("AWS_ACCESS_KEY_ID"), "no credentials while the fixture is active"
    tear_down(gen, mp)
    assert get_emulator() is None, "the fixture left a mock running"
    assert dict(os.environ) == before, "the fixture left the environment changed"
    return body


def bare_mock_body() -> None:
    m = mock_appflow()
    m.start()
    m.stop()


def measure_fixture(res: Results, moto_mock_aws: Any, repeats: int, chunks: int, fixture_n: int,
                    moto_n: int) -> None:
    def moto_body() -> None:
        m = moto_mock_aws()
        m.start()
        m.stop()

    benches: List[Tuple[str, str, Callable[[], None], int]] = [
        ("fixture", "appflow_mock fixture: set up + tear down, no calls", fixture_body(), fixture_n),
        ("bare", "m = mock_appflow(); m.start(); m.stop()", bare_mock_body, fixture_n),
    ]
    if moto_mock_aws is not None:
        benches.append(("moto", "m = moto.mock_aws(); m.start(); m.stop()", moto_body, moto_n))
    for rep in range(repeats):
        seconds = {key: 0.0 for key, _, _, _ in benches}
        done = {key: 0 for key, _, _, _ in benches}
        for ci in range(chunks):
            order = benches if (rep * chunks + ci) % 2 == 0 else list(reversed(benches))
            for key, _, body, n in order:
                per_chunk = max(1, n // chunks)
                for _ in range(max(3 if key == "moto" else 10, per_chunk // 10)):  # warm-up
                    body()
                seconds[key] += timed_loop(body, per_chunk)
                done[key] += per_chunk
        for key, label, _, _ in benches:
            res.add(key, label, seconds[key] / done[key] * 1e6)
        print(f"  fixture: repeat {rep + 1}/{repeats} done", flush=True)


# --------------------------------------------------------------------------------------------

def limit(budget: float) -> str:
    return "<= " + format(budget, ".1f" if round(budget, 1) == budget else ".2f")


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fast smoke run (CI): 200 flows x 10 runs, fixture 3 x 400")
    ap.add_argument("--flows", type=int, help="flows in the saved state (default 1000; 200 with --quick)")
    ap.add_argument("--runs", type=int, help="runs per flow (default 10)")
    ap.add_argument("--state-repeats", type=int, help="builds and restores (default 3)")
    ap.add_argument("--repeats", type=int, help="fixture repeats (default 5; 3 with --quick)")
    ap.add_argument("-n", "--iterations", type=int,
                    help="fixture set-ups and tear-downs per repeat (default 2000; 400 with --quick)")
    ap.add_argument("--moto-iterations", type=int,
                    help="moto mock_aws starts and stops per repeat (default 100; 40 with --quick)")
    ap.add_argument("--chunks", type=int, help="interleaved chunks per fixture repeat (default 4; 2 with --quick)")
    ap.add_argument("--skip-moto", action="store_true", help="do not measure moto (its budget is then skipped)")
    ap.add_argument("--no-fail", action="store_true", help="always exit 0")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)

    flows = args.flows or (200 if args.quick else 1000)
    runs = args.runs or 10
    state_repeats = args.state_repeats or 3
    repeats = args.repeats or (3 if args.quick else 5)
    chunks = args.chunks or (2 if args.quick else 4)
    fixture_n = args.iterations or (400 if args.quick else 2000)
    moto_n = args.moto_iterations or (40 if args.quick else 100)
    started = time.time()

    # the client every build and check uses, created before moto's import (moto registers a
    # before-send handler on clients created after it)
    client = boto3.client("appflow", region_name=REGION)
    moto_mock_aws = None
    moto_version = None
    if not args.skip_moto:
        try:
            import moto
            from moto import mock_aws as moto_mock_aws
            moto_version = moto.__version__
        except ImportError:
            print("moto is not installed: its line and budget are skipped")

    res = Results()
    print(f"saved state: {flows:,} flows x {runs} runs, {state_repeats} repeats", flush=True)
    workdir = tempfile.mkdtemp(prefix="bench_state-")
    try:
        info = measure_state(res, client, flows, runs, state_repeats, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"fixture: {repeats} repeats x {fixture_n} set-ups/tear-downs"
          + (f", moto {moto_n} starts/stops" if moto_mock_aws is not None else ""), flush=True)
    saved = {name: os.environ.pop(name) for name in CREDENTIAL_VARIABLES if name in os.environ}
    try:
        measure_fixture(res, moto_mock_aws, repeats, chunks, fixture_n, moto_n)
    finally:
        os.environ.update(saved)

    # ---- report ------------------------------------------------------------------------------
    state_keys = [key for key, _ in STATE_LINES]
    fixture_keys = [key for key in res.order if key not in state_keys]
    width = max([50] + [len(label) for label in res.labels.values()])
    build = res.median("build")
    print()
    print(f"{f'saved state: {flows:,} flows x {runs} runs':<{width}} {'median ms':>10} {'min':>9} {'max':>9} "
          f"{'x build':>8}")
    print("-" * (width + 40))
    for key in state_keys:
        s = [v * 1e3 for v in res.samples[key]]
        print(f"{res.labels[key]:<{width}} {statistics.median(s):>10,.1f} {min(s):>9,.1f} {max(s):>9,.1f} "
              f"{res.median(key) / build:>8.3f}")
    print()
    print(f"{'fixture (per test)':<{width}} {'median µs':>10} {'min':>9} {'max':>9}"
          + (f" {'x moto':>8}" if "moto" in res.samples else ""))
    print("-" * (width + 40))
    for key in fixture_keys:
        s = res.samples[key]
        moto_col = f" {res.median(key) / res.median('moto'):>8.4f}" if "moto" in res.samples else ""
        print(f"{res.labels[key]:<{width}} {statistics.median(s):>10,.1f} {min(s):>9,.1f} {max(s):>9,.1f}{moto_col}")

    budgets: List[Tuple[str, str, str, float]] = [
        (f"restore / build ({flows:,} flows x {runs} runs)", "restore", "build", RESTORE_BUDGET),
    ]
    if "moto" in res.samples:
        budgets.append(("appflow_mock fixture / moto mock_aws start+stop", "fixture", "moto", FIXTURE_BUDGET))
    width = max([50] + [len(label) for label, _, _, _ in budgets])
    print()
    print(f"{'ratio':<{width}} {'median':>7} {'paired':>7} {'budget':>7}  verdict")
    print("-" * (width + 38))
    failed = []
    checks: List[Dict[str, Any]] = []
    for label, num, den, budget in budgets:
        ratio = res.median(num) / res.median(den)
        paired = res.paired_ratio(num, den)
        ok = ratio <= budget
        if not ok:
            failed.append(label)
        checks.append({"check": label, "num": num, "den": den, "ratio": ratio, "paired_ratio": paired,
                       "budget": budget, "pass": ok})
        print(f"{label:<{width}} {ratio:>7.3f} {paired:>7.3f} {limit(budget):>7}  {'PASS' if ok else 'FAIL'}")
    print()
    print(f"document: {info['document_bytes'] / 1e6:.1f} MB as compact JSON ({flows * runs:,} runs, "
          f"{flows * runs:,} S3 objects); whole run {time.time() - started:.0f} s")
    if failed:
        print(f"{len(failed)} budget(s) FAILED: " + "; ".join(failed))
    else:
        print("all budgets pass")

    if args.json:
        Path(args.json).write_text(json.dumps({
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "boto3": boto3.__version__, "moto": moto_version,
            "cpus": os.cpu_count(), "flows": flows, "runs": runs, "state_repeats": state_repeats,
            "repeats": repeats, "chunks": chunks, "fixture_iterations": fixture_n, "moto_iterations": moto_n,
            "state": {k: {"label": res.labels[k], "median_s": res.median(k), "samples_s": res.samples[k]}
                      for k in state_keys},
            "fixture": {k: {"label": res.labels[k], "median_us": res.median(k), "samples_us": res.samples[k]}
                        for k in fixture_keys},
            "document_bytes": info["document_bytes"], "file_bytes": info["file_bytes"],
            "checks": checks,
        }, indent=2))
    return 1 if failed and not args.no_fail else 0


if __name__ == "__main__":
    sys.exit(main())
