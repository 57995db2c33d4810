#!/usr/bin/env python
"""Where an emulator call spends its time: cProfile over N calls of one operation, reported as
shares of total time by area (botocore client machinery, botocore parser, appflow_emu hook,
dispatch, backend, json, ...) and the top functions by own time and by cumulative time.

    python benchmarks/profile_emulator.py list_flows          # 5 flows in the account
    python benchmarks/profile_emulator.py describe_flow       # 10-task flow
    python benchmarks/profile_emulator.py create_flow
    python benchmarks/profile_emulator.py list_flows_100      # page of 100 out of 10,000 flows
    python benchmarks/profile_emulator.py list_flows -n 5000 --top 30

cProfile inflates the cost of many small calls, so shares are indicative; use bench_core.py for
the real per-call numbers.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_core  # noqa: E402  (sets up the same environment as the benchmark)
import boto3  # noqa: E402

from appflow_emu import mock_appflow  # noqa: E402
from tests.helpers import flow_request  # noqa: E402

AREAS = [  # first match wins: (substring of the function's file path or name, area)
    ("appflow_emu/intercept/hook", "appflow_emu hook (before-call)"),
    ("appflow_emu/intercept/botocore_call", "appflow_emu botocore answer (response, parse)"),
    ("appflow_emu/intercept/dispatch", "appflow_emu dispatch"),
    ("appflow_emu/model", "appflow_emu model (routing, params, validation)"),
    ("appflow_emu/backend", "appflow_emu backend (handlers, state)"),
    ("appflow_emu/", "appflow_emu other"),
    ("botocore/parsers", "botocore parser"),
    ("botocore/validate", "botocore param validation"),
    ("botocore/serialize", "botocore serializer"),
    ("botocore/hooks", "botocore events (emit)"),
    ("botocore/endpoint_provider", "botocore endpoint rules"),
    ("botocore/regions", "botocore endpoint rules"),
    ("botocore/client", "botocore client (_make_api_call)"),
    ("botocore/handlers", "botocore built-in handlers"),
    ("botocore/awsrequest", "botocore AWSRequest/Response"),
    ("botocore/utils", "botocore utils"),
    ("botocore/useragent", "botocore user agent"),
    ("botocore/endpoint.py", "botocore endpoint"),
    ("botocore/context", "botocore context"),
    ("botocore/model", "botocore model"),
    ("botocore/", "botocore other"),
    ("json/", "json"),
    ("{built-in method _json", "json"),
    ("email/", "email.utils (date header)"),
    ("uuid", "uuid"),
    ("random", "random"),
    ("dateutil", "dateutil (timestamp parsing)"),
    ("_strptime", "strptime"),
    ("copy.py", "copy"),
    ("threading", "threading (locks)"),
]


def area_of(func: tuple) -> str:
    filename, _, name = func
    key = f"{filename}:{name}"
    for needle, area in AREAS:
        if needle in key:
            return area
    if filename == "~":
        return f"builtins ({name})"
    return "other"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("operation", choices=["list_flows", "describe_flow", "create_flow", "list_flows_100"])
    ap.add_argument("-n", "--calls", type=int, default=2000)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--out", help="also dump raw pstats here")
    args = ap.parse_args()

    client = boto3.client("appflow", region_name=bench_core.REGION)
    with mock_appflow() as emu:
        emu.set_quota("flows", 10 * args.calls + 20000)
        client.create_flow(**bench_core.describe_flow_request("bench-describe"))
        bench_core.populate(client, "bench-handful", bench_core.HANDFUL - 1)
        if args.operation == "list_flows":
            reqs = [{}] * args.calls
            call = client.list_flows
        elif args.operation == "list_flows_100":
            bench_core.populate(client, "big", 10000)
            reqs = [{"maxResults": 100}] * args.calls
            call = client.list_flows
        elif args.operation == "describe_flow":
            reqs = [{"flowName": "bench-describe"}] * args.calls
            call = client.describe_flow
        else:
            reqs = [flow_request(f"p-{i}") for i in range(args.calls)]
            call = client.create_flow
            for i in range(50):
                call(**flow_request(f"warm-{i}"))
        for kw in reqs[:50] if args.operation != "create_flow" else []:
            call(**kw)
        prof = cProfile.Profile()
        prof.enable()
        for kw in reqs:
            call(**kw)
        prof.disable()

    stats = pstats.Stats(prof)
    if args.out:
        stats.dump_stats(args.out)
    total = stats.total_tt
    by_area: dict = defaultdict(float)
    for func, st in stats.stats.items():  # type: ignore[attr-defined]
        by_area[area_of(func)] += st[2]  # own time
    print(f"{args.operation}: {args.calls} calls, {total / args.calls * 1e6:.1f} µs/call under cProfile\n")
    print(f"{'area (own time)':<52} {'share':>6} {'µs/call':>8}")
    for area, tt in sorted(by_area.items(), key=lambda kv: -kv[1]):
        if tt / total >= 0.005:
            print(f"{area:<52} {tt / total:>6.1%} {tt / args.calls * 1e6:>8.1f}")

    # phases: cumulative time of the functions that delimit the steps of one call; a caller given
    # as (file part, name) counts only the time of calls made from that caller.
    handler = {"list_flows": "list_flows", "list_flows_100": "list_flows", "describe_flow": "describe_flow",
               "create_flow": "create_flow"}[args.operation]
    dispatch = ("appflow_emu/intercept/dispatch.py", "handle")
    phases = [
        ("whole call (BaseClient._make_api_call)", "botocore/client.py", "_make_api_call", None),
        ("  request: validate + serialize (_convert_to_request_dict)", "botocore/client.py", "_convert_to_request_dict", None),
        ("  endpoint resolution (_resolve_endpoint_ruleset)", "botocore/client.py", "_resolve_endpoint_ruleset", None),
        ("  appflow_emu before-call hook (before_call)", "appflow_emu/intercept/hook.py", "before_call", None),
        ("    dispatch.handle (json in/out, routing, checks, handler)", *dispatch, None),
        ("      json.loads of the request body", "json/__init__.py", "loads", dispatch),
        ("      JSON encoding of the response body", "json/encoder.py", "encode", dispatch),
        ("      params_from_wire", "appflow_emu/model/operation_specs.py", "params_from_wire", dispatch),
        ("      input validation (op.check_input, compiled validator)", "appflow_emu/model/validate.py", "", dispatch),
        ("      _headers (date, request id)", "appflow_emu/intercept/dispatch.py", "_headers", dispatch),
        ("      _idempotent (client token store + handler)", "appflow_emu/intercept/dispatch.py", "_idempotent", dispatch),
        (f"      backend handler ({handler})", "appflow_emu/backend/flows.py", handler, None),
        ("        of which copy.deepcopy", "copy.py", "deepcopy", ("appflow_emu/backend/flows.py", handler)),
        ("    botocore rest-json parse of the answer (parse)", "botocore/parsers.py", "parse", None),
    ]
    print(f"\n{'phase (cumulative time; nested lines are parts of the line above)':<66} {'share':>6} {'µs/call':>8}")
    found: dict = {}

    def line(label: str, ct: float) -> None:
        print(f"{label:<66} {ct / total:>6.1%} {ct / args.calls * 1e6:>8.1f}")

    for label, file_part, name, caller in phases:
        ct = 0.0
        for func, st in stats.stats.items():  # type: ignore[attr-defined]
            if (name and func[2] != name) or file_part not in func[0]:
                continue
            if caller is None:
                ct += st[3]
            else:
                ct += sum(c[3] for cf, c in st[4].items() if cf[2] == caller[1] and caller[0] in cf[0])
        found[label] = ct
        if ct and "parse of the answer" in label:
            parts = [v for k, v in found.items() if k.startswith("      ") and not k.startswith("        ")
                     and "backend handler" not in k or (k.startswith("      backend") and not found.get(
                         "      _idempotent (client token store + handler)"))]
            rest = found.get("    dispatch.handle (json in/out, routing, checks, handler)", 0.0) - sum(parts)
            line("      rest of handle (state lookup, lock, Call, clock)", rest)
        if ct:
            line(label, ct)

    def show(sort_index: int, title: str) -> None:
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][sort_index])[: args.top]  # type: ignore[attr-defined]
        print(f"\n{title}")
        print(f"{'share':>6} {'µs/call':>8} {'ncalls/call':>11}  function")
        for func, st in rows:
            filename, line, name = func
            short = filename.split("site-packages/")[-1].split("/work/main/")[-1]
            print(f"{st[sort_index] / total:>6.1%} {st[sort_index] / args.calls * 1e6:>8.1f} "
                  f"{st[1] / args.calls:>11.1f}  {name} ({short}:{line})")

    show(2, "top functions by own time")
    show(3, "top functions by cumulative time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
