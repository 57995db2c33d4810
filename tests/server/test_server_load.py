"""Server mode under load (issue 10): 8 concurrent boto3 clients x 500 mixed calls, a stop while
requests are in flight (they finish; the state file is saved whole), and a SIGKILL during the
save of a big state (the previous file stays intact)."""
from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import boto3
import pytest
from botocore.config import Config

from appflow_emu import mock_appflow
from appflow_emu.emulator import Emulator
from appflow_emu.server import AppFlowServer
from tests.conftest import subprocess_env
from tests.helpers import flow_request

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
AUTH = {"Authorization": f"AWS4-HMAC-SHA256 Credential=AKID/20260101/{REGION}/appflow/aws4_request, "
                         "SignedHeaders=host, Signature=0", "Content-Type": "application/json"}
CLIENTS = 8
CALLS = 500  # per client
ROUNDS = CALLS // 10  # 10 calls a round


def client_for(url: str) -> Any:
    return boto3.client("appflow", endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}))


def flow_names_in(emulator: Emulator) -> Set[str]:
    return set(emulator.state(REGION).flows)


def test_8_clients_x_500_mixed_calls_lose_nothing_and_duplicate_nothing() -> None:
    with AppFlowServer(port=0) as server:
        server.emulator.set_quota("flows", 10_000)
        server.emulator.put_object("in-bucket", "data/a.csv", "id,name\n1,x\n2,y\n")
        server.emulator.create_bucket("out-bucket")
        errors: List[str] = []
        calls = [0] * CLIENTS
        kept: Dict[int, Set[str]] = {}
        barrier = threading.Barrier(CLIENTS)

        def work(n: int) -> None:
            client = client_for(server.url)
            mine: Set[str] = set()
            walk_token: Optional[str] = None
            walk_seen: Set[str] = set()

            def call(name: str, **kwargs: Any) -> Any:
                calls[n] += 1
                return getattr(client, name)(**kwargs)

            def list_page() -> None:
                # one page of an ongoing walk through list_flows; a walk never sees a name twice
                nonlocal walk_token, walk_seen
                page = call("list_flows", maxResults=17, **({"nextToken": walk_token} if walk_token else {}))
                names = [f["flowName"] for f in page["flows"]]
                if len(set(names)) != len(names) or walk_seen & set(names):
                    errors.append(f"client {n}: a list_flows walk saw a flow twice: {sorted(walk_seen & set(names))}")
                walk_seen |= set(names)
                walk_token = page.get("nextToken")
                if not walk_token:
                    walk_seen = set()

            try:
                barrier.wait()
                for i in range(ROUNDS):
                    name = f"c{n}-{i}"
                    arn = call("create_flow", **flow_request(name))["flowArn"]
                    mine.add(name)
                    execution = call("start_flow", flowName=name)["executionId"]
                    if call("describe_flow", flowName=name)["flowName"] != name:
                        errors.append(f"client {n}: describe_flow {name} answered another flow")
                    runs = call("describe_flow_execution_records", flowName=name)["flowExecutions"]
                    if [(r["executionId"], r["executionStatus"]) for r in runs] != [(execution, "Successful")]:
                        errors.append(f"client {n}: runs of {name}: {runs}")
                    list_page()
                    call("tag_resource", resourceArn=arn, tags={"client": str(n), "round": str(i)})
                    if call("list_tags_for_resource", resourceArn=arn)["tags"] != {"client": str(n), "round": str(i)}:
                        errors.append(f"client {n}: tags of {name}")
                    list_page()
                    if i % 2:  # delete the flow of the round before: the odd rounds' flows stay
                        call("delete_flow", flowName=f"c{n}-{i - 1}", forceDelete=True)
                        mine.discard(f"c{n}-{i - 1}")
                    else:
                        call("describe_flow", flowName=f"c{n}-{i}")
                    detail = call("describe_flow", flowName=name)
                    if detail["lastRunExecutionDetails"]["mostRecentExecutionStatus"] != "Successful":
                        errors.append(f"client {n}: last run of {name}: {detail['lastRunExecutionDetails']}")
                kept[n] = mine
            except Exception as e:  # reported below
                errors.append(f"client {n}: {type(e).__name__}: {e}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert calls == [CALLS] * CLIENTS
        expected = {f"c{n}-{i}" for n in range(CLIENTS) for i in range(1, ROUNDS, 2)}
        assert set().union(*kept.values()) == expected

        names: List[str] = []
        token = None
        client = client_for(server.url)
        while True:
            page = client.list_flows(maxResults=23, **({"nextToken": token} if token else {}))
            names += [f["flowName"] for f in page["flows"]]
            token = page.get("nextToken")
            if not token:
                break
        assert len(names) == len(set(names))
        assert set(names) == expected
        assert flow_names_in(server.emulator) == expected


def create_body(name: str) -> bytes:
    return json.dumps(flow_request(name)).encode()


def test_stopping_under_load_finishes_the_requests_in_flight_and_saves_them_all(tmp_path: Path, caplog: Any) -> None:
    """Each client sends create_flow over its own keep-alive connection until the server goes
    away. Every request either got its whole 200 answer, or got no answer at all (refused, or the
    connection closed before the request was read) and then its flow is not in the saved state:
    nothing answered 500, nothing truncated, nothing created without an answer. The stop does not
    wait out its grace period serving new requests on the kept-alive connections, and logs no error."""
    state = tmp_path / "state.json"
    server = AppFlowServer(port=0, state=state).start()
    server.emulator.set_quota("flows", 10_000)
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    answered: List[Set[str]] = [set() for _ in range(CLIENTS)]
    unanswered: List[Set[str]] = [set() for _ in range(CLIENTS)]
    bad: List[str] = []
    started = threading.Barrier(CLIENTS + 1)

    def work(n: int) -> None:
        conn: Optional[http.client.HTTPConnection] = None
        started.wait()
        for i in range(100_000):
            name = f"s{n}-{i}"
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=30)
                    conn.connect()
            except OSError:  # refused: the server no longer accepts
                return
            try:
                conn.request("POST", "/create-flow", body=create_body(name), headers=AUTH)
                response = conn.getresponse()
            except (OSError, http.client.HTTPException):  # closed before an answer began
                unanswered[n].add(name)
                conn.close()
                conn = None
                continue
            try:
                body = response.read()
            except (OSError, http.client.HTTPException) as e:
                bad.append(f"{name}: answer cut short: {e!r}")
                return
            if response.status != 200 or json.loads(body).get("flowArn", "").rsplit("/", 1)[-1] != name:
                bad.append(f"{name}: {response.status} {body[:200]!r}")
                return
            answered[n].add(name)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(1.0)
    stopping = time.monotonic()
    server.stop()
    assert time.monotonic() - stopping < 5.0
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive()
    assert bad == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    done = set().union(*answered)
    assert len(done) > CLIENTS  # the load ran
    saved = Emulator()
    saved.load(state)
    assert flow_names_in(saved) == done  # every answered create is saved, no unanswered one is
    assert flow_names_in(server.emulator) == done
    assert not set().union(*unanswered) & flow_names_in(saved)


def big_state(path: Path, flows: int) -> Set[str]:
    with mock_appflow() as emu:
        emu.set_quota("flows", flows + 100)
        client = boto3.client("appflow", region_name=REGION, aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        request = flow_request("x")
        for i in range(flows):
            request["flowName"] = f"big-{i:05d}"
            request["description"] = "d" * 200
            client.create_flow(**request)
        emu.save(path)
        return flow_names_in(emu)


def temporaries(directory: Path) -> List[str]:
    return [name for name in os.listdir(directory) if name.startswith(".appflow_emu-")]


def test_a_sigkill_during_the_save_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    """``serve --state`` saves at SIGTERM; SIGKILL it while it saves: right after SIGTERM, and as
    soon as its temporary file appears (then a little later, into the write and the fsync). The
    state file is always one complete version, the previous one or the new one."""
    state = tmp_path / "state.json"
    before = big_state(state, 2000)
    previous = state.read_bytes()
    env = subprocess_env()
    outcomes: List[str] = []
    # (seconds after SIGTERM, or None: wait for the temporary file, then this many seconds)
    plans = [(0.0, None), (None, 0.0), (None, 0.002), (None, 0.005), (None, 0.02)]
    for attempt, (after_term, after_temporary) in enumerate(plans):
        name = f"new-{attempt}"
        process = subprocess.Popen([sys.executable, "-m", "appflow_emu", "serve", "--port", "0", "--state", str(state)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        try:
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line.startswith("appflow_emu listening on http://127.0.0.1:"), line
            client_for(line.split(" on ", 1)[1].strip()).create_flow(**flow_request(name))
            process.send_signal(signal.SIGTERM)
            if after_term is not None:
                time.sleep(after_term)
            else:
                deadline = time.monotonic() + 30
                while not temporaries(tmp_path) and process.poll() is None and time.monotonic() < deadline:
                    pass
                if after_temporary:
                    time.sleep(after_temporary)
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.communicate(timeout=30)
        left = temporaries(tmp_path)
        loaded = Emulator()
        loaded.load(state)  # valid, complete JSON: never a truncated file
        names = flow_names_in(loaded)
        if names == before:
            assert state.read_bytes() == previous
            outcomes.append("previous" + (" (killed mid-write)" if left else ""))
        else:
            assert names == before | {name}
            outcomes.append("new")
            before, previous = names, state.read_bytes()
        for leftover in left:  # what a killed save leaves behind
            os.unlink(tmp_path / leftover)
    print("outcomes:", outcomes)
    assert any("mid-write" in outcome for outcome in outcomes), outcomes  # the kill did land in a save


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q", "-s"]))
