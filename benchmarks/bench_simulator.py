#!/usr/bin/env python
"""Simulator throughput and memory: 100,000 records S3 CSV -> Filter + Mask + Map -> one S3 file
(``SingleFile``), CSV or JSON lines, with or without a Partition task (country: 4 partition
folders that stay open the whole run). Each case runs against a plain-Python loop doing the same
transformation on the same bytes into the same output, in the same process run.

    python benchmarks/bench_simulator.py            # 100,000 records, 5 repeats (about a minute here)
    python benchmarks/bench_simulator.py --quick    # 20,000 records, 3 repeats (CI smoke run, ~10 s)
    python benchmarks/bench_simulator.py --no-fail  # report only

Budgets, per case:
- time: the simulator's ``start_flow`` (the whole API call) takes at most 1.3x its loop (median
  of repeats, loop and simulator interleaved);
- memory: the peak traced memory of one run (tracemalloc; the input objects exist before it:
  ``reset_peak`` just before ``start_flow``, the peak less what was traced before it) stays at
  most 1.5x the run's ``bytesWritten``. The output objects the run leaves in the store count.

The input is split into 10 CSV objects, as AppFlow reads S3 sources file by file. The exit status
is 1 if a budget fails, unless ``--no-fail``.
"""
from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import os
import statistics
import sys
import time
import tracemalloc
from typing import Any, Dict, List, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

FIELDS = ["id", "name", "email", "amount", "country"]
COUNTRIES = ("DE", "FR", "US", "JP")
THRESHOLD = 500.0
FILES = 10
TIME_BUDGET = 1.3  # simulator / plain loop
MEMORY_BUDGET = 1.5  # peak traced memory of a run / its bytesWritten
CASES: List[Tuple[str, bool]] = [("CSV", False), ("CSV", True), ("JSON", False), ("JSON", True)]


def make_data(n: int) -> list:
    """FILES CSV objects (bytes) with a header row each."""
    parts = []
    per = n // FILES
    for f in range(FILES):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(FIELDS)
        for i in range(f * per, (f + 1) * per):
            w.writerow([i, f"customer {i}", f"user{i}@example.com", f"{(i * 37) % 1000}.{i % 100:02d}",
                        COUNTRIES[i % 4]])
        parts.append(buf.getvalue().encode())
    return parts


def plain_loop(parts: list, file_type: str = "CSV", partition: bool = False) -> Dict[str, bytes]:
    """The floor: read CSV, keep amount > THRESHOLD, mask the last 4 chars of email, write CSV
    (with a header) or JSON lines; one file, or one per country. Returns {country or "": bytes}."""
    outs: Dict[str, Any] = {}
    as_json = file_type == "JSON"
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for body in parts:
        for row in csv.DictReader(io.StringIO(body.decode())):
            if float(row["amount"]) > THRESHOLD:
                email = row["email"]
                row["email"] = email[:-4] + "****"
                key = row["country"] if partition else ""
                out = outs.get(key)
                if out is None:
                    buf = io.StringIO()
                    writer = None
                    if not as_json:
                        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
                        writer.writeheader()
                    out = outs[key] = (buf, writer)
                if as_json:
                    out[0].write(dumps({k: row[k] for k in FIELDS}) + "\n")
                else:
                    out[1].writerow({k: row[k] for k in FIELDS})
    return {k: buf.getvalue().encode() for k, (buf, _) in outs.items()}


def flow_request(name: str = "bench", file_type: str = "CSV", partition: bool = False) -> dict:
    tasks = [{"sourceFields": FIELDS, "connectorOperator": {"S3": "PROJECTION"}, "taskType": "Filter"},
             {"sourceFields": ["amount"], "connectorOperator": {"S3": "GREATER_THAN"}, "taskType": "Filter",
              "taskProperties": {"DATA_TYPE": "double", "VALUE": str(THRESHOLD)}},
             {"sourceFields": ["email"], "connectorOperator": {"S3": "MASK_LAST_N"}, "taskType": "Mask",
              "taskProperties": {"MASK_LENGTH": "4", "MASK_VALUE": "*"}}]
    tasks += [{"sourceFields": [f], "connectorOperator": {"S3": "NO_OP"}, "destinationField": f, "taskType": "Map",
               "taskProperties": {}} for f in FIELDS]
    if partition:
        tasks.append({"sourceFields": ["country"], "connectorOperator": {"S3": "NO_OP"}, "taskType": "Partition",
                      "taskProperties": {"ORDERED_PARTITION_KEYS_LIST": '["country"]'}})
    return {
        "flowName": name,
        "triggerConfig": {"triggerType": "OnDemand"},
        "sourceFlowConfig": {"connectorType": "S3", "sourceConnectorProperties": {
            "S3": {"bucketName": "bench-in", "bucketPrefix": "data"}}},
        "destinationFlowConfigList": [{"connectorType": "S3", "destinationConnectorProperties": {"S3": {
            "bucketName": "bench-out", "bucketPrefix": "out",
            "s3OutputFormatConfig": {"fileType": file_type,
                                     "aggregationConfig": {"aggregationType": "SingleFile"}}}}}],
        "tasks": tasks,
    }


def case_name(file_type: str, partition: bool) -> str:
    return f"SingleFile {file_type}" + (", 4 partitions" if partition else "")


def last_run(client: Any, name: str) -> Dict[str, Any]:
    record = client.describe_flow_execution_records(flowName=name)["flowExecutions"][0]
    assert record["executionStatus"] == "Successful", record
    return record


def check_output(emu: Any, client: Any, name: str, execution_id: str, n: int, expected: Dict[str, bytes],
                 partition: bool) -> None:
    """The run read every record and wrote exactly the loop's bytes, file by file."""
    record = last_run(client, name)
    assert record["executionId"] == execution_id
    assert record["executionResult"]["recordsProcessed"] == n
    keys = [k for k in emu.list_objects("bench-out", f"out/{name}/") if execution_id in k]
    produced = {}
    for key in keys:
        # out/{flow}/{executionId}/[Field=value/]file
        folders = [part for part in key.split("/")[:-1] if "=" in part]
        produced[folders[0].split("=", 1)[1] if partition else ""] = emu.get_object("bench-out", key)
    assert produced == expected, (sorted(produced), sorted(expected))
    assert record["executionResult"]["bytesWritten"] == sum(len(b) for b in expected.values())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-fail", action="store_true")
    parser.add_argument("--records", type=int)
    parser.add_argument("--repeats", type=int)
    args = parser.parse_args()
    n = args.records or (20_000 if args.quick else 100_000)
    repeats = args.repeats or (3 if args.quick else 5)

    import boto3

    from appflow_emu import mock_appflow

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    parts = make_data(n)
    data_bytes = sum(len(p) for p in parts)

    loop_times: Dict[Tuple[str, bool], List[float]] = {case: [] for case in CASES}
    sim_times: Dict[Tuple[str, bool], List[float]] = {case: [] for case in CASES}
    peaks: Dict[Tuple[str, bool], int] = {}
    written: Dict[Tuple[str, bool], int] = {}
    names = {case: f"bench-{case[0].lower()}{'-partitioned' if case[1] else ''}" for case in CASES}
    with mock_appflow() as emu:
        client = boto3.client("appflow", region_name="us-east-1")
        emu.create_bucket("bench-in")
        emu.create_bucket("bench-out")
        for i, body in enumerate(parts):
            emu.put_object("bench-in", f"data/part-{i:02d}.csv", body)
        for case in CASES:  # warm-up, and a correctness check
            file_type, partition = case
            client.create_flow(**flow_request(names[case], file_type, partition))
            run = client.start_flow(flowName=names[case])
            check_output(emu, client, names[case], run["executionId"], n, plain_loop(parts, file_type, partition),
                         partition)
        for _ in range(repeats):  # every case in every repeat, loop and simulator interleaved
            for case in CASES:
                gc.collect()
                t = time.perf_counter()
                plain_loop(parts, *case)
                loop_times[case].append(time.perf_counter() - t)
                gc.collect()
                t = time.perf_counter()
                client.start_flow(flowName=names[case])
                sim_times[case].append(time.perf_counter() - t)
        # Memory, for the run alone: the inputs (and earlier runs' outputs) exist before it.
        tracemalloc.start()
        for case in CASES:
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            client.start_flow(flowName=names[case])
            peaks[case] = tracemalloc.get_traced_memory()[1] - before
            written[case] = last_run(client, names[case])["executionResult"]["bytesWritten"]
        tracemalloc.stop()

    print(f"Simulator, {n:,} records in {FILES} CSV objects ({data_bytes / 1e6:.1f} MB): S3 -> Filter + Mask + Map "
          f"-> S3, median of {repeats}")
    print(f"  {'case':<28} {'loop':>8} {'simulator':>10} {'records/s':>10} {'x loop':>7} {'budget':>7}   "
          f"{'peak':>8} {'written':>8} {'x written':>9} {'budget':>7}")
    ok = True
    for case in CASES:
        loop, sim = statistics.median(loop_times[case]), statistics.median(sim_times[case])
        ratio = sim / loop
        mem_ratio = peaks[case] / written[case]
        ok = ok and ratio <= TIME_BUDGET and mem_ratio <= MEMORY_BUDGET
        print(f"  {case_name(*case):<28} {loop * 1000:>6.0f}ms {sim * 1000:>8.0f}ms {n / sim:>10,.0f} "
              f"{ratio:>6.2f}x {'<= ' + str(TIME_BUDGET):>7}   {peaks[case] / 1e6:>6.2f}MB {written[case] / 1e6:>6.2f}MB "
              f"{mem_ratio:>8.2f}x {'<= ' + str(MEMORY_BUDGET):>7}")
    print("PASS" if ok else "FAIL")
    return 0 if ok or args.no_fail else 1


if __name__ == "__main__":
    sys.exit(main())
