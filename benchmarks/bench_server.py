"""Server mode over HTTP: requests per second against moto_server, and latency under mixed load.

In the same run: our server (``python -m appflow_emu serve --port 0``, a subprocess) answering
``list_flows`` and ``describe_flow``, and ``moto_server`` (``python -m moto.server``, a subprocess)
answering lambda ``list_functions``, both driven by the same client code: raw ``http.client``
connections kept alive, a fixed request per target, several client threads. Then the p50/p99
latency of our server under 8 clients sending a mix of calls that includes runs.

    python benchmarks/bench_server.py              # full (~2.5 min here)
    python benchmarks/bench_server.py --quick      # CI smoke run (< 30 s)
    python benchmarks/bench_server.py --no-fail    # print only; exit 0 even if a budget fails
    python benchmarks/bench_server.py --json results.json

See benchmarks/README.md for what each line means.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote

from common import ROOT, offline_environment  # noqa: E402  (benchmarks/common.py)

offline_environment()

from tests.helpers import flow_request, projection_tasks  # noqa: E402

REGION = "us-east-1"
HANDFUL = 5  # flows in the account for list_flows (one of them the 10-task flow)
DESCRIBE_FIELDS = [f"field_{i}" for i in range(9)]  # 1 projection + 9 map tasks = 10 tasks
RPS_BUDGET = 1.0  # ours / moto_server, requests per second: at least


def auth(service: str) -> Dict[str, str]:
    """What the servers read of a signature: the credential scope (region, service). Neither
    server checks the signature itself, so a fixed one is sent."""
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/{service}/aws4_request, "
                             "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
            "X-Amz-Date": "20260101T000000Z"}


def appflow_headers() -> Dict[str, str]:
    return {**auth("appflow"), "Content-Type": "application/json"}


class Request:
    def __init__(self, method: str, path: str, body: bytes = b"", headers: Optional[Dict[str, str]] = None) -> None:
        self.method, self.path, self.body = method, path, body
        self.headers = dict(headers or {})
        if body:
            self.headers["Content-Length"] = str(len(body))


def appflow(op_path: str, **params: Any) -> Request:
    return Request("POST", op_path, json.dumps(params).encode(), appflow_headers())


# --------------------------------------------------------------------------------------------
# the servers (subprocesses)

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, process: "subprocess.Popen[str]", what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


def start_ours() -> Tuple["subprocess.Popen[str]", int]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    process = subprocess.Popen([sys.executable, "-m", "appflow_emu", "serve", "--port", "0"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith("appflow_emu listening on "):
        process.kill()
        raise RuntimeError(f"appflow_emu serve said {line!r}")
    return process, int(line.rsplit(":", 1)[1])


def start_moto() -> Tuple["subprocess.Popen[str]", int]:
    """moto 5's ``moto_server`` (werkzeug's threaded server; its request log goes to stderr, which
    is discarded), on a free port."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    wait_listening(port, process, "moto_server")
    return process, port


FLOOR_APP = """
import json, sys
from waitress.server import create_server
status, headers, body = json.loads(sys.argv[1])
body = body.encode()
headers = [(k, v) for k, v in headers if k.lower() not in ("date", "server", "content-length")]
headers.append(("Content-Length", str(len(body))))
status = f"{status} OK"

def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response(status, headers)
    return [body]

server = create_server(app, host="127.0.0.1", port=0, threads=8, ident="floor")
print(f"floor listening on {server.effective_port}", flush=True)
server.run()
"""


def start_floor(status: int, headers: List[Tuple[str, str]], body: bytes) -> Tuple["subprocess.Popen[str]", int]:
    """Floor W: waitress (same version and thread count as ours) with a WSGI app that reads the
    body and answers fixed bytes (ours' list_flows answer): the HTTP server's own cost."""
    process = subprocess.Popen([sys.executable, "-c", FLOOR_APP, json.dumps([status, headers, body.decode()])],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith("floor listening on "):
        process.kill()
        raise RuntimeError(f"the floor said {line!r}")
    return process, int(line.rsplit(" ", 1)[1])


def stop(process: "subprocess.Popen[str]") -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --------------------------------------------------------------------------------------------
# the client: keep-alive http.client connections, one per thread

def send(conn: http.client.HTTPConnection, request: Request) -> Tuple[int, bytes]:
    conn.request(request.method, request.path, body=request.body or None, headers=request.headers)
    response = conn.getresponse()
    return response.status, response.read()


def throughput(port: int, request: Request, connections: int, per_connection: int, warm: int) -> float:
    """Requests per second: ``connections`` threads, each on its own kept-alive connection, send
    ``per_connection`` requests after ``warm`` untimed ones; wall time from all ready to all done."""
    ready = threading.Barrier(connections + 1)
    done = threading.Barrier(connections + 1)
    failures: List[str] = []

    def work() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(warm):
                status, body = send(conn, request)
                if status != 200:
                    failures.append(f"{status} {body[:200]!r}")
            ready.wait()
            for _ in range(per_connection):
                status, _ = send(conn, request)
                if status != 200:
                    failures.append(str(status))
        except Exception as e:  # reported below
            failures.append(repr(e))
            ready.abort()
        finally:
            conn.close()
            try:
                done.wait()
            except threading.BrokenBarrierError:
                pass

    threads = [threading.Thread(target=work, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        done.abort()
        raise RuntimeError(f"{request.path}: {failures[:3]}") from None
    started = time.perf_counter()
    done.wait()
    elapsed = time.perf_counter() - started
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"{request.path}: {len(failures)} failures, e.g. {failures[:3]}")
    return connections * per_connection / elapsed


# --------------------------------------------------------------------------------------------
# the mixed load (latency)

def mixed_load(port: int, clients: int, rounds: int) -> Dict[str, List[float]]:
    """``clients`` threads, each on its own kept-alive connection, ``rounds`` rounds of 10 calls:
    create_flow, start_flow, describe_flow, describe_flow_execution_records, list_flows (a page of
    25), tag_resource, list_flows, describe_flow, delete_flow of its flow of the round before (every
    other round; describe_flow otherwise), describe_flow. Seconds per call, by operation."""
    latencies: Dict[str, List[float]] = {}
    lock = threading.Lock()
    failures: List[str] = []
    ready = threading.Barrier(clients)
    headers = appflow_headers()

    def work(n: int) -> None:
        mine: Dict[str, List[float]] = {}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def call(op: str, request: Request, expect: int = 200) -> bytes:
            t = time.perf_counter()
            status, body = send(conn, request)
            mine.setdefault(op, []).append(time.perf_counter() - t)
            if status != expect:
                failures.append(f"{op}: {status} {body[:200]!r}")
            return body

        try:
            ready.wait()
            token: Optional[str] = None
            for i in range(rounds):
                name = f"load-{n}-{i}"
                arn = json.loads(call("create_flow", appflow("/create-flow", **flow_request(name))))["flowArn"]
                call("start_flow", appflow("/start-flow", flowName=name))
                call("describe_flow", appflow("/describe-flow", flowName=name))
                runs = json.loads(call("describe_flow_execution_records",
                                       appflow("/describe-flow-execution-records", flowName=name)))
                if [r["executionStatus"] for r in runs["flowExecutions"]] != ["Successful"]:
                    failures.append(f"run of {name}: {runs}")
                for page_no in range(2):
                    page = json.loads(call("list_flows", appflow("/list-flows", maxResults=25,
                                                                 **({"nextToken": token} if token else {}))))
                    token = page.get("nextToken")
                    if page_no == 0:
                        call("tag_resource", Request("POST", "/tags/" + quote(arn, safe=""),
                                                     json.dumps({"tags": {"n": str(n)}}).encode(), headers),
                             expect=204)
                call("describe_flow", appflow("/describe-flow", flowName=name))
                if i % 2:
                    call("delete_flow", appflow("/delete-flow", flowName=f"load-{n}-{i - 1}", forceDelete=True))
                else:
                    call("describe_flow", appflow("/describe-flow", flowName=name))
                call("describe_flow", appflow("/describe-flow", flowName=name))
        except Exception as e:  # reported below
            failures.append(repr(e))
        finally:
            conn.close()
        with lock:
            for op, values in mine.items():
                latencies.setdefault(op, []).extend(values)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"mixed load: {len(failures)} failures, e.g. {failures[:3]}")
    return latencies


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]


# --------------------------------------------------------------------------------------------

def control(port: int, verb: str, **kwargs: Any) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        status, body = send(conn, Request("POST", f"/_appflow_emu/{verb}", json.dumps(kwargs).encode(),
                                          {"Content-Type": "application/json"}))
    finally:
        conn.close()
    if status != 200:
        raise RuntimeError(f"control {verb}: {status} {body[:200]!r}")
    return json.loads(body)["result"]


def prepare_ours(port: int) -> None:
    """A handful of flows (one with 10 tasks, for describe_flow), the S3 data runs read."""
    control(port, "set_quota", name="flows", value=100_000)
    control(port, "create_bucket", bucket="out-bucket")
    control(port, "put_object", bucket="in-bucket", key="data/a.csv", body="id,name\n1,x\n2,y\n")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        requests = [flow_request("bench-describe", tasks=projection_tasks("S3", DESCRIBE_FIELDS))]
        requests += [flow_request(f"bench-handful-{i}") for i in range(HANDFUL - 1)]
        for r in requests:
            status, body = send(conn, appflow("/create-flow", **r))
            if status != 200:
                raise RuntimeError(f"create_flow: {status} {body[:200]!r}")
        status, body = send(conn, appflow("/describe-flow", flowName="bench-describe"))
        assert status == 200 and len(json.loads(body)["tasks"]) == 10, body[:200]
        status, body = send(conn, appflow("/list-flows"))
        assert status == 200 and len(json.loads(body)["flows"]) == HANDFUL, body[:200]
    finally:
        conn.close()


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fast smoke run (CI, < 30 s)")
    ap.add_argument("--repeats", type=int, help="repeats (default 5; 3 with --quick)")
    ap.add_argument("-n", "--requests", type=int, help="requests per connection per repeat (default 1000; 200 with --quick)")
    ap.add_argument("-c", "--connections", type=int, default=4, help="client threads (connections) per target (default 4)")
    ap.add_argument("--load-clients", type=int, default=8, help="clients in the mixed load (default 8)")
    ap.add_argument("--load-rounds", type=int, help="rounds of 10 calls per client in the mixed load "
                                                    "(default 50, i.e. 8 x 500 calls; 10 with --quick)")
    ap.add_argument("--skip-moto", action="store_true", help="do not start moto_server (its budget is then skipped)")
    ap.add_argument("--no-fail", action="store_true", help="always exit 0")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)

    repeats = args.repeats or (3 if args.quick else 5)
    per_conn = args.requests or (200 if args.quick else 1000)
    conns = args.connections
    warm = max(5, per_conn // 10)
    rounds = args.load_rounds or (10 if args.quick else 50)
    started = time.time()

    processes: List["subprocess.Popen[str]"] = []
    try:
        ours, port = start_ours()
        processes.append(ours)
        prepare_ours(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/list-flows", body=b"{}", headers=appflow_headers())
        answer = conn.getresponse()
        floor_process, floor_port = start_floor(answer.status, answer.getheaders(), answer.read())
        conn.close()
        processes.append(floor_process)
        targets: List[Tuple[str, str, int, Request]] = [
            ("floor", "W  waitress, fixed answer (ours' list_flows bytes)", floor_port, appflow("/list-flows")),
            ("ours_list", "ours list_flows (5 flows)", port, appflow("/list-flows")),
            ("ours_describe", "ours describe_flow (10 tasks)", port, appflow("/describe-flow", flowName="bench-describe")),
        ]
        if not args.skip_moto:
            try:
                import moto  # noqa: F401
            except ImportError:
                print("moto is not installed: its line and budget are skipped")
            else:
                moto_process, moto_port = start_moto()
                processes.append(moto_process)
                targets.append(("moto_list", "moto_server lambda list_functions (empty)", moto_port,
                                Request("GET", "/2015-03-31/functions/", b"", auth("lambda"))))
        for _key, label, p, request in targets:  # sanity: each target answers 200 with JSON
            conn = http.client.HTTPConnection("127.0.0.1", p, timeout=30)
            status, body = send(conn, request)
            conn.close()
            if status != 200:
                raise RuntimeError(f"{label}: {status} {body[:300]!r}")
            json.loads(body)

        # ---- throughput: repeats, targets interleaved, order reversed every other repeat ------
        samples: Dict[str, List[float]] = {key: [] for key, *_ in targets}
        for r in range(repeats):
            order = targets if r % 2 == 0 else targets[::-1]
            for key, _label, p, request in order:
                samples[key].append(throughput(p, request, conns, per_conn, warm))

        # ---- latency under the mixed load --------------------------------------------------
        load_started = time.perf_counter()
        latencies = mixed_load(port, args.load_clients, rounds)
        load_elapsed = time.perf_counter() - load_started
    finally:
        for process in processes:
            stop(process)

    # ---- report -------------------------------------------------------------------------------
    print(f"bench_server: Python {platform.python_version()}, {os.cpu_count()} CPUs, {repeats} repeats x "
          f"{conns} connections x {per_conn} requests (keep-alive http.client), "
          f"mixed load {args.load_clients} clients x {rounds * 10} calls")
    print()
    width = max(len(label) for _, label, *_ in targets)
    print(f"{'requests per second':<{width}}  {'median':>8}  {'min':>8}  {'max':>8}")
    for key, label, *_ in targets:
        s = samples[key]
        print(f"{label:<{width}}  {statistics.median(s):>8,.0f}  {min(s):>8,.0f}  {max(s):>8,.0f}")
    print()

    checks: List[Dict[str, Any]] = []
    failed = False
    if "moto_list" in samples:
        moto_med = statistics.median(samples["moto_list"])
        print(f"{'check':<58}  {'budget':>7}  {'ratio':>6}  {'paired':>6}  verdict")
        for key, what in (("ours_list", "list_flows"), ("ours_describe", "describe_flow")):
            ratio = statistics.median(samples[key]) / moto_med
            paired = statistics.median(a / b for a, b in zip(samples[key], samples["moto_list"]))
            ok = ratio >= RPS_BUDGET
            failed |= not ok
            label = f"rps: ours {what} / moto_server list_functions"
            checks.append({"check": label, "budget": f">= {RPS_BUDGET}", "ratio": ratio, "paired_ratio": paired,
                           "ok": ok})
            print(f"{label:<58}  {'>= ' + str(RPS_BUDGET):>7}  {ratio:>6.2f}  {paired:>6.2f}  "
                  f"{'ok' if ok else 'FAIL'}")
        print()

    floor_med = statistics.median(samples["floor"])
    for key, what in (("ours_list", "list_flows"), ("ours_describe", "describe_flow")):
        label = f"rps: ours {what} / floor W (information)"
        ratio = statistics.median(samples[key]) / floor_med
        checks.append({"check": label, "budget": None, "ratio": ratio,
                       "paired_ratio": statistics.median(a / b for a, b in zip(samples[key], samples["floor"])),
                       "ok": True})
        print(f"{label:<58}  {'-':>7}  {ratio:>6.2f}  {checks[-1]['paired_ratio']:>6.2f}")
    print()

    every = [v for values in latencies.values() for v in values]
    print(f"mixed load: {len(every)} calls in {load_elapsed:.1f} s ({len(every) / load_elapsed:,.0f} calls/s), "
          f"latency in ms (no budget)")
    print(f"{'operation':<34}  {'calls':>6}  {'p50':>7}  {'p99':>7}  {'max':>7}")
    rows: Dict[str, Dict[str, float]] = {}
    for op in sorted(latencies) + ["all"]:
        values = every if op == "all" else latencies[op]
        row = {"calls": len(values), "p50_ms": percentile(values, 50) * 1e3, "p99_ms": percentile(values, 99) * 1e3,
               "max_ms": max(values) * 1e3}
        rows[op] = row
        print(f"{op:<34}  {row['calls']:>6}  {row['p50_ms']:>7.1f}  {row['p99_ms']:>7.1f}  {row['max_ms']:>7.1f}")
    print()
    print(f"total {time.time() - started:.1f} s")

    if args.json:
        Path(args.json).write_text(json.dumps({
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(), "python": platform.python_version(),
            "repeats": repeats, "connections": conns, "requests_per_connection": per_conn,
            "rps": {key: {"label": label, "samples": samples[key], "median": statistics.median(samples[key])}
                    for key, label, *_ in targets},
            "checks": checks, "mixed_load": {"clients": args.load_clients, "calls_per_client": rounds * 10,
                                             "seconds": load_elapsed, "latency": rows},
        }, indent=2))
    if failed and not args.no_fail:
        print("a budget failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

