"""S3 output written as it streams: the exact bytes of SingleFile CSV and JSON lines files, with and
without partition folders and targetFileSize, and the memory a run takes (writers keep the encoded
file, not a Python string per row: peak traced memory of a run stays under 1.5x bytesWritten)."""
from __future__ import annotations

import csv
import gc
import io
import json
import tracemalloc
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appflow_emu.simulator import formats
from appflow_emu.simulator.plan import RunFailure
from tests.conftest import requires_enum_value, requires_member
from tests.helpers import flow_request, map_all, partition, s3_source

needs_partitions = requires_enum_value("TaskType", "Partition")
needs_target_size = requires_member("AggregationConfig", "targetFileSize")

MIB = 1024 * 1024

ROWS = [{"id": 1, "name": "Ada", "region": "eu", "score": 9.5, "active": True},
        {"id": 2, "name": "Smith, J", "region": "us", "score": None, "active": False},
        {"id": 3, "name": 'say "hi"', "region": "eu", "note": "a field first seen late"}]

CSV_ALL = (b'id,name,region,score,active,note\n'
           b'1,Ada,eu,9.5,true,\n'
           b'2,"Smith, J",us,,false,\n'
           b'3,"say ""hi""",eu,,,a field first seen late\n')
JSON_ALL = (b'{"id":1,"name":"Ada","region":"eu","score":9.5,"active":true}\n'
            b'{"id":2,"name":"Smith, J","region":"us","score":null,"active":false}\n'
            b'{"id":3,"name":"say \\"hi\\"","region":"eu","note":"a field first seen late"}\n')
CSV_BY_REGION = {
    "eu": b'id,name,region,score,active,note\n1,Ada,eu,9.5,true,\n3,"say ""hi""",eu,,,a field first seen late\n',
    "us": b'id,name,region,score,active\n2,"Smith, J",us,,false\n',
}
JSON_BY_REGION = {
    "eu": (b'{"id":1,"name":"Ada","region":"eu","score":9.5,"active":true}\n'
           b'{"id":3,"name":"say \\"hi\\"","region":"eu","note":"a field first seen late"}\n'),
    "us": b'{"id":2,"name":"Smith, J","region":"us","score":null,"active":false}\n',
}


# -- helpers ---------------------------------------------------------------------------------------

def single_file(file_type: str, target_mb: Optional[int] = None) -> Dict[str, Any]:
    aggregation: Dict[str, Any] = {"aggregationType": "SingleFile"}
    if target_mb is not None:
        aggregation["targetFileSize"] = target_mb
    return {"connectorType": "S3", "destinationConnectorProperties": {"S3": {
        "bucketName": "out-bucket", "bucketPrefix": "exports",
        "s3OutputFormatConfig": {"fileType": file_type, "aggregationConfig": aggregation}}}}


def seed_json(emu: Any, rows: List[Dict[str, Any]]) -> None:
    emu.put_object("in-bucket", "data/rows.json", b"".join(json.dumps(r).encode() + b"\n" for r in rows))


def run(client: Any, name: str, destination: Dict[str, Any], tasks: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Create an OnDemand flow from in-bucket/data, run it, return its execution record."""
    client.create_flow(**flow_request(name, source=s3_source("in-bucket", "data"), destination=destination,
                                      tasks=tasks))
    execution_id = client.start_flow(flowName=name)["executionId"]
    runs = client.describe_flow_execution_records(flowName=name)["flowExecutions"]
    record = next(r for r in runs if r["executionId"] == execution_id)
    assert record["executionStatus"] == "Successful", record
    return record


def objects(emu: Any) -> Dict[str, bytes]:
    return {key: emu.get_object("out-bucket", key) for key in emu.list_objects("out-bucket")}


def csv_text(header: List[str], rows: List[Dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


# -- exact bytes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("file_type, expected", [("CSV", CSV_ALL), ("JSON", JSON_ALL)], ids=["CSV", "JSON"])
def test_single_file_bytes(client, appflow_mock, file_type, expected):
    seed_json(appflow_mock, ROWS)
    record = run(client, "single", single_file(file_type), map_all())
    eid = record["executionId"]
    assert objects(appflow_mock) == {f"exports/single/{eid}/part-00000": expected}
    assert record["executionResult"]["bytesWritten"] == len(expected)


@pytest.mark.parametrize("rows, expected", [
    ([{}, {"a": 1, "b": 2}], b'a,b\n,\n1,2\n'),
    ([{}, {"a": 1}], b'a\n""\n1\n'),
    ([{"a": 1}, {}], b'a\n1\n""\n'),
], ids=["empty-then-two", "empty-then-one", "one-then-empty"])
def test_a_record_with_no_fields_is_a_row_of_empty_cells(client, appflow_mock, rows, expected):
    """As many cells as the header has, wherever the empty record comes (not one cell too many)."""
    seed_json(appflow_mock, rows)
    record = run(client, "empties", single_file("CSV"), map_all())
    assert objects(appflow_mock) == {f"exports/empties/{record['executionId']}/part-00000": expected}
    assert [len(row) for row in csv.reader(io.StringIO(expected.decode()))] == [len(rows[-1] or rows[0])] * 3


@needs_partitions
@pytest.mark.parametrize("file_type, expected", [("CSV", CSV_BY_REGION), ("JSON", JSON_BY_REGION)],
                         ids=["CSV", "JSON"])
def test_single_file_per_partition_bytes(client, appflow_mock, file_type, expected):
    seed_json(appflow_mock, ROWS)
    record = run(client, "parts", single_file(file_type), map_all() + [partition("region")])
    eid = record["executionId"]
    assert objects(appflow_mock) == {f"exports/parts/{eid}/region={region}/part-00000": body
                                     for region, body in expected.items()}
    assert record["executionResult"]["bytesWritten"] == sum(len(b) for b in expected.values())


@needs_target_size
@pytest.mark.parametrize("file_type, expected", [("CSV", CSV_ALL), ("JSON", JSON_ALL)], ids=["CSV", "JSON"])
def test_target_file_size_small_output_is_one_file(client, appflow_mock, file_type, expected):
    seed_json(appflow_mock, ROWS)
    record = run(client, "target", single_file(file_type, target_mb=1), map_all())
    assert objects(appflow_mock) == {f"exports/target/{record['executionId']}/part-00000": expected}


@needs_target_size
def test_target_file_size_splits_a_csv_after_the_row_that_reaches_it(client, appflow_mock):
    rows = [{"id": i, "name": f"customer {i}", "email": f"user{i}@example.com", "note": "n" * 150}
            for i in range(8000)]
    seed_json(appflow_mock, rows)
    record = run(client, "split", single_file("CSV", target_mb=1), map_all())
    eid = record["executionId"]
    header = b"id,name,email,note\n"
    lines = [f"{r['id']},{r['name']},{r['email']},{r['note']}\n".encode() for r in rows]
    files, body = [], header
    for line in lines:  # a file closes once it holds a MiB (nothing here needs quoting: sizes are exact)
        body += line
        if len(body) >= MIB:
            files.append(body)
            body = header
    files.append(body)
    assert len(files) == 2
    assert objects(appflow_mock) == {f"exports/split/{eid}/part-{i:05d}": b for i, b in enumerate(files)}
    assert record["executionResult"]["bytesWritten"] == sum(map(len, files))


@needs_partitions
@needs_target_size
def test_target_file_size_with_partitions_keeps_each_folder_whole(client, appflow_mock):
    seed_json(appflow_mock, ROWS)
    record = run(client, "both", single_file("CSV", target_mb=1), map_all() + [partition("region")])
    eid = record["executionId"]
    assert objects(appflow_mock) == {f"exports/both/{eid}/region={region}/part-00000": body
                                     for region, body in CSV_BY_REGION.items()}


def test_csv_field_first_seen_after_many_rows_pads_the_rows_before_it(client, appflow_mock):
    """A field that appears once the file is large: earlier rows get an empty last cell."""
    rows: List[Dict[str, Any]] = [{"id": i, "name": f"name {i}" if i % 7 else f"Smith, {i}"} for i in range(8000)]
    for i in range(6000, 8000, 3):  # past the first 64 KB
        rows[i]["extra"] = f'x{i}' if i % 2 else f'say "{i}"'
    rows.append({"late": "\u00e9\u20ac"})
    seed_json(appflow_mock, rows)
    record = run(client, "late", single_file("CSV"), map_all())
    expected = csv_text(["id", "name", "extra", "late"], rows)
    assert objects(appflow_mock) == {f"exports/late/{record['executionId']}/part-00000": expected}
    assert record["executionResult"]["bytesWritten"] == len(expected)


# -- the writers and readers alone ----------------------------------------------------------------

_keys = st.sampled_from(["a", "b", "c,d", 'q"', "r\r", "\u00e9"])
_cells = st.none() | st.booleans() | st.integers() | st.text(st.sampled_from(list('ab ,"\r\n\u00e9')), max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(_keys, _cells, max_size=4), max_size=30))
def test_csv_bytes_do_not_depend_on_how_the_writer_buffers(records):
    """Rewriting the file at a new field, or padding segments at the end, gives the same bytes."""
    def write(batch: int, merge_limit: int) -> bytes:
        writer = formats.CsvWriter()
        writer._BATCH, writer._MERGE_LIMIT = batch, merge_limit
        for record in records:
            writer.add(dict(record))
        return writer.finish()

    expected = write(512, 1 << 30)
    assert write(1, 0) == expected
    assert write(2, 8) == expected
    assert write(512, 0) == expected
    assert formats.write_csv(records) == expected


def test_csv_reader_streams_across_decoding_blocks():
    """Rows read as the bytes are decoded (a few KB at a time) are the rows of the whole text:
    CRLF line ends and quoted line breaks that straddle a block boundary, a BOM, non-ASCII text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", "text"])
    for i in range(3000):
        writer.writerow([i, "line\r\nbreak \u20ac" * (i % 5) if i % 3 else "plain"])
    text = out.getvalue()
    body = b"\xef\xbb\xbf" + text.encode()
    header, *rows = csv.reader(io.StringIO(text, newline=""))
    assert list(formats.read_csv(body)) == [dict(zip(header, row)) for row in rows]


def test_read_failures_come_first_and_name_the_whole_file():
    body = b"id\n" + b"\xc3\xa9\n" * 50_000 + b"\xff\n"
    position = len(b"id\n" + b"\xc3\xa9\n" * 50_000)
    for read, what in ((formats.read_csv, "CSV"), (formats.read_jsonl, "JSON")):
        with pytest.raises(RunFailure) as info:
            next(read(body))  # before any record
        assert str(info.value) == (f"The {what} file is not UTF-8 text: 'utf-8' codec can't decode byte 0xff "
                                   f"in position {position}: invalid start byte")


def test_json_lines_reader_splits_only_at_newlines():
    body = '{"a":"x\u2028y\u0085z"}\r\n\n{"a":2}'.encode()
    assert list(formats.read_jsonl(body)) == [{"a": "x\u2028y\u0085z"}, {"a": 2}]
    assert list(formats.read_jsonl(b"\xef\xbb\xbf \n[{\"a\":1}]")) == [{"a": 1}]
    assert formats.looks_like_json(b" \n[{}]") and not formats.looks_like_json(b"\xef\xbb\xbf{}")


@pytest.mark.parametrize("writer_type", [formats.CsvWriter, formats.JsonLinesWriter], ids=["CSV", "JSON"])
def test_finish_hands_over_the_file_without_copying_it(writer_type):
    """finish() gives the bytes the writer built: it allocates nothing near the file's size."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        writer = writer_type()
        for i in range(20_000):
            writer.add({"id": i, "name": f"customer {i}"})
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        body = writer.finish()
        grew = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
    assert type(body) is bytes and len(body) > 300_000
    assert grew < len(body) // 10
    assert body == (formats.write_csv if writer_type is formats.CsvWriter else formats.write_jsonl)(
        [{"id": i, "name": f"customer {i}"} for i in range(20_000)])


# -- memory ----------------------------------------------------------------------------------------

def test_peak_memory_of_a_single_file_csv_run_stays_under_one_and_a_half_times_the_output(client, appflow_mock):
    """20,000 CSV rows -> Filter + Mask + Map -> one CSV file: the run's peak traced memory (the
    inputs exist before it) is at most 1.5x bytesWritten, the output objects it leaves included."""
    fields = ["id", "name", "email", "amount", "country"]
    for f in range(4):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(fields)
        for i in range(f * 5000, (f + 1) * 5000):
            writer.writerow([i, f"customer {i}", f"user{i}@example.com", f"{(i * 37) % 1000}.{i % 100:02d}",
                             ("DE", "FR", "US", "JP")[i % 4]])
        appflow_mock.put_object("in-bucket", f"data/part-{f}.csv", out.getvalue())
    tasks = [{"sourceFields": fields, "connectorOperator": {"S3": "PROJECTION"}, "taskType": "Filter"},
             {"sourceFields": ["amount"], "connectorOperator": {"S3": "GREATER_THAN"}, "taskType": "Filter",
              "taskProperties": {"DATA_TYPE": "double", "VALUE": "100"}},
             {"sourceFields": ["email"], "connectorOperator": {"S3": "MASK_LAST_N"}, "taskType": "Mask",
              "taskProperties": {"MASK_LENGTH": "4", "MASK_VALUE": "*"}}]
    tasks += [{"sourceFields": [f], "connectorOperator": {"S3": "NO_OP"}, "destinationField": f, "taskType": "Map",
               "taskProperties": {}} for f in fields]
    client.create_flow(**flow_request("mem", source=s3_source("in-bucket", "data"), destination=single_file("CSV"),
                                      tasks=tasks))
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        execution_id = client.start_flow(flowName="mem")["executionId"]
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
    record = client.describe_flow_execution_records(flowName="mem")["flowExecutions"][0]
    assert record["executionId"] == execution_id and record["executionStatus"] == "Successful"
    written = record["executionResult"]["bytesWritten"]
    assert written > 500_000
    assert peak <= 1.5 * written, f"peak {peak:,} bytes for {written:,} bytes written ({peak / written:.2f}x)"
