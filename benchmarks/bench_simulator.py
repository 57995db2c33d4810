#!/usr/bin/env python
"""Simulator throughput: 100,000 records S3 CSV -> Filter + Map + Mask -> S3 CSV, against a
plain-Python loop doing the same transformation on the same bytes in the same process run.

    python benchmarks/bench_simulator.py            # 100,000 records, 3 repeats
    python benchmarks/bench_simulator.py --quick    # 20,000 records (CI smoke run)
    python benchmarks/bench_simulator.py --no-fail  # report only

Budgets: the simulator's run takes at most 2x the loop's time (median of repeats), and its peak
traced memory (tracemalloc, allocations made during the run) stays under 2x the size of the data.
The input is split into 10 CSV objects, as AppFlow reads S3 sources file by file.
"""
from __future__ import annotations

import argparse
import csv
import gc
import io
import os
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

FIELDS = ["id", "name", "email", "amount", "country"]
THRESHOLD = 500.0
FILES = 10


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
                        ("DE", "FR", "US", "JP")[i % 4]])
        parts.append(buf.getvalue().encode())
    return parts


def plain_loop(parts: list) -> bytes:
    """The floor: read CSV, keep amount > THRESHOLD, mask the last 4 chars of email, write CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for body in parts:
        for row in csv.DictReader(io.StringIO(body.decode())):
            if float(row["amount"]) > THRESHOLD:
                email = row["email"]
                row["email"] = email[:-4] + "****"
                writer.writerow({k: row[k] for k in FIELDS})
    return out.getvalue().encode()


def flow_request() -> dict:
    tasks = [{"sourceFields": FIELDS, "connectorOperator": {"S3": "PROJECTION"}, "taskType": "Filter"},
             {"sourceFields": ["amount"], "connectorOperator": {"S3": "GREATER_THAN"}, "taskType": "Filter",
              "taskProperties": {"DATA_TYPE": "double", "VALUE": str(THRESHOLD)}},
             {"sourceFields": ["email"], "connectorOperator": {"S3": "MASK_LAST_N"}, "taskType": "Mask",
              "taskProperties": {"MASK_LENGTH": "4", "MASK_VALUE": "*"}}]
    tasks += [{"sourceFields": [f], "connectorOperator": {"S3": "NO_OP"}, "destinationField": f, "taskType": "Map",
               "taskProperties": {}} for f in FIELDS]
    return {
        "flowName": "bench",
        "triggerConfig": {"triggerType": "OnDemand"},
        "sourceFlowConfig": {"connectorType": "S3", "sourceConnectorProperties": {
            "S3": {"bucketName": "bench-in", "bucketPrefix": "data"}}},
        "destinationFlowConfigList": [{"connectorType": "S3", "destinationConnectorProperties": {"S3": {
            "bucketName": "bench-out", "bucketPrefix": "out",
            "s3OutputFormatConfig": {"fileType": "CSV", "aggregationConfig": {"aggregationType": "SingleFile"}}}}}],
        "tasks": tasks,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-fail", action="store_true")
    parser.add_argument("--records", type=int)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = args.records or (20_000 if args.quick else 100_000)

    import boto3

    from appflow_emu import mock_appflow

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    parts = make_data(n)
    data_bytes = sum(len(p) for p in parts)
    expected = plain_loop(parts)

    loop_times, sim_times, peaks = [], [], []
    with mock_appflow() as emu:
        client = boto3.client("appflow", region_name="us-east-1")
        emu.create_bucket("bench-in")
        emu.create_bucket("bench-out")
        for i, body in enumerate(parts):
            emu.put_object("bench-in", f"data/part-{i:02d}.csv", body)
        client.create_flow(**flow_request())
        run = client.start_flow(flowName="bench")  # warm-up, and a correctness check
        out_keys = [k for k in emu.list_objects("bench-out") if run["executionId"] in k]
        produced = b"".join(emu.get_object("bench-out", k) for k in out_keys)
        record = client.describe_flow_execution_records(flowName="bench")["flowExecutions"][0]
        assert record["executionStatus"] == "Successful", record
        assert record["executionResult"]["recordsProcessed"] == n
        produced_rows = produced.decode().splitlines()
        expected_rows = expected.decode().splitlines()
        assert len(produced_rows) == len(expected_rows), (len(produced_rows), len(expected_rows))
        for _ in range(args.repeats):
            gc.collect()
            t = time.perf_counter()
            plain_loop(parts)
            loop_times.append(time.perf_counter() - t)
            gc.collect()
            t = time.perf_counter()
            client.start_flow(flowName="bench")
            sim_times.append(time.perf_counter() - t)
        gc.collect()
        tracemalloc.start()
        client.start_flow(flowName="bench")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks.append(peak)

    loop, sim = statistics.median(loop_times), statistics.median(sim_times)
    ratio = sim / loop
    mem_ratio = max(peaks) / data_bytes
    rows = [
        ("plain-Python loop", f"{loop * 1000:.0f} ms", f"{n / loop:,.0f} rec/s", "", ""),
        ("simulator start_flow", f"{sim * 1000:.0f} ms", f"{n / sim:,.0f} rec/s", f"{ratio:.2f}x loop", "<= 2.0"),
        ("peak traced memory", f"{max(peaks) / 1e6:.1f} MB", f"data {data_bytes / 1e6:.1f} MB",
         f"{mem_ratio:.2f}x data", "< 2.0"),
    ]
    print(f"Simulator throughput, {n:,} records (S3 CSV -> Filter + Map + Mask -> S3 CSV), median of {args.repeats}")
    for r in rows:
        print(f"  {r[0]:<24} {r[1]:>10} {r[2]:>18} {r[3]:>12} {r[4]:>8}")
    ok = ratio <= 2.0 and mem_ratio < 2.0
    print("PASS" if ok else "FAIL")
    return 0 if ok or args.no_fail else 1


if __name__ == "__main__":
    sys.exit(main())
