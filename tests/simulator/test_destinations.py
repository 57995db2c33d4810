"""Destinations, end to end through boto3 and the handle: S3 layouts and formats, SaaS writes,
warehouses, events, error handling, moto's S3; plus the object stores and file formats alone."""
from __future__ import annotations

import copy
import io
import json
import sys
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

import boto3
import pytest

from appflow_emu import mock_appflow
from appflow_emu.aws.moto import moto_active
from appflow_emu.aws.s3 import EmbeddedStore, MotoStore, store_for
from appflow_emu.simulator import formats
from appflow_emu.simulator.dataplane import DataPlane
from appflow_emu.simulator.plan import RunFailure, RunPlan
from tests.conftest import enum_params, requires_enum_value, requires_member, requires_operation, shape_meta, when
from tests.helpers import flow_request, map_all, partition, profile_request, s3_source

# Features newer than mid-2021 AppFlow models (see tox.ini's botocore120 environment).
needs_hierarchy = requires_member("PrefixConfig", "pathPrefixHierarchy")
needs_partitions = requires_enum_value("TaskType", "Partition")

REGION = "us-east-1"
ACCOUNT = "123456789012"

MORE_PROFILES: Dict[str, Dict[str, Any]] = {
    "SAPOData": {
        "connectorProfileProperties": {"SAPOData": {
            "applicationHostUrl": "https://sap.example.com", "applicationServicePath": "/sap/opu/odata/sap/API",
            "portNumber": 443, "clientNumber": "100"}},
        "connectorProfileCredentials": {"SAPOData": {"basicAuthCredentials": {"username": "u", "password": "sap-secret"}}},
    },
    "Honeycode": {
        "connectorProfileProperties": {"Honeycode": {}},
        "connectorProfileCredentials": {"Honeycode": {"accessToken": "hc-secret"}},
    },
}


# -- helpers ---------------------------------------------------------------------------------------

def s3_out(bucket: str = "out-bucket", prefix: Optional[str] = "exports", **fmt: Any) -> Dict[str, Any]:
    props: Dict[str, Any] = {"bucketName": bucket}
    if prefix is not None:
        props["bucketPrefix"] = prefix
    if fmt:
        props["s3OutputFormatConfig"] = fmt
    return {"connectorType": "S3", "destinationConnectorProperties": {"S3": props}}


def saas_out(connector_type: str, profile: Optional[str] = "dest", **props: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {"connectorType": connector_type,
                           "destinationConnectorProperties": {connector_type: props}}
    if profile is not None:
        out["connectorProfileName"] = profile
    return out


def make_profile(client: Any, connector_type: str, name: str = "dest") -> None:
    if connector_type in MORE_PROFILES:
        req = {"connectorProfileName": name, "connectorType": connector_type, "connectionMode": "Public",
               "connectorProfileConfig": copy.deepcopy(MORE_PROFILES[connector_type])}
    else:
        req = profile_request(name, connector_type)
    client.create_connector_profile(**req)


def seed(emu: Any, rows: List[Dict[str, Any]], bucket: str = "in-bucket", key: str = "data/rows.json") -> None:
    emu.put_object(bucket, key, b"".join(json.dumps(r).encode() + b"\n" for r in rows))


def create(client: Any, name: str, destination: Dict[str, Any], tasks: Optional[List[Dict[str, Any]]] = None) -> None:
    """Create an OnDemand S3-sourced flow."""
    client.create_flow(**flow_request(name, source=s3_source("in-bucket", "data"), destination=destination,
                                      tasks=tasks if tasks is not None else map_all()))


def start(client: Any, name: str) -> Dict[str, Any]:
    """Run the flow; its execution record."""
    execution_id = client.start_flow(flowName=name)["executionId"]
    runs = client.describe_flow_execution_records(flowName=name)["flowExecutions"]
    record = next(r for r in runs if r["executionId"] == execution_id)
    return record


def run(client: Any, name: str, destination: Dict[str, Any], tasks: Optional[List[Dict[str, Any]]] = None
        ) -> Dict[str, Any]:
    """Create an OnDemand S3-sourced flow, run it, return its execution record."""
    create(client, name, destination, tasks)
    return start(client, name)


ROWS = [{"id": 1, "name": "Ada", "region": "eu", "score": 9.5, "active": True},
        {"id": 2, "name": "Bob", "region": "us", "score": None, "active": False},
        {"id": 3, "name": "Cy", "region": "eu", "extra": "x"}]


def lines(body: bytes) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in body.decode().splitlines()]


# -- S3: layout and formats ------------------------------------------------------------------------

def test_s3_default_json_lines_under_prefix_flow_and_execution(client, appflow_mock):
    emu = appflow_mock
    seed(emu, ROWS)
    rec = run(client, "to-s3", s3_out())
    eid = rec["executionId"]
    assert rec["executionStatus"] == "Successful"
    keys = emu.list_objects("out-bucket")
    assert keys == [f"exports/to-s3/{eid}/part-00000"]
    body = emu.get_object("out-bucket", keys[0])
    assert lines(body) == ROWS
    assert rec["executionResult"]["bytesWritten"] == len(body)
    assert rec["executionResult"]["recordsProcessed"] == 3
    assert "errorInfo" not in rec["executionResult"]
    assert emu.destination_records("to-s3") == ROWS
    assert emu.destination_records("to-s3", eid) == ROWS


def test_s3_without_prefix_starts_with_the_flow_name(client, appflow_mock):
    seed(appflow_mock, ROWS)
    rec = run(client, "noprefix", s3_out(prefix=None, fileType="JSON"))
    assert appflow_mock.list_objects("out-bucket") == [f"noprefix/{rec['executionId']}/part-00000"]


def test_s3_csv_header_is_the_union_of_fields_and_none_is_empty(client, appflow_mock):
    seed(appflow_mock, ROWS)
    rec = run(client, "csv", s3_out(fileType="CSV"))
    (key,) = appflow_mock.list_objects("out-bucket")
    body = appflow_mock.get_object("out-bucket", key).decode()
    assert body == ("id,name,region,score,active,extra\n"
                    "1,Ada,eu,9.5,true,\n"
                    "2,Bob,us,,false,\n"
                    "3,Cy,eu,,,x\n")
    assert rec["executionResult"]["bytesWritten"] == len(body)


def test_s3_csv_from_csv_source_round_trips(client, appflow_mock):
    appflow_mock.put_object("in-bucket", "data/a.csv", b'id,name\n1,"Smith, J"\n2,"say ""hi"""\n')
    run(client, "csv2", s3_out(fileType="CSV"))
    (key,) = appflow_mock.list_objects("out-bucket")
    body = appflow_mock.get_object("out-bucket", key)
    assert list(formats.read_csv(body)) == [{"id": "1", "name": "Smith, J"}, {"id": "2", "name": 'say "hi"'}]


@pytest.mark.parametrize("preserve", [True, False])
def test_s3_parquet_read_back_with_pyarrow(client, appflow_mock, preserve):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    seed(appflow_mock, ROWS)
    rec = run(client, "pq", s3_out(fileType="PARQUET", preserveSourceDataTyping=preserve))
    assert rec["executionStatus"] == "Successful"
    (key,) = appflow_mock.list_objects("out-bucket")
    assert "." not in key.rsplit("/", 1)[1]  # no extension
    body = appflow_mock.get_object("out-bucket", key)
    assert body[:4] == b"PAR1"
    table = pq.read_table(pa.BufferReader(body))
    assert table.column_names == ["id", "name", "region", "score", "active", "extra"]
    rows = table.to_pylist()
    if preserve:
        assert table.schema.field("id").type == pa.int64()
        assert table.schema.field("score").type == pa.float64()
        assert table.schema.field("active").type == pa.bool_()
        assert rows[0] == {"id": 1, "name": "Ada", "region": "eu", "score": 9.5, "active": True, "extra": None}
    else:
        assert all(f.type == pa.string() for f in table.schema)
        assert rows[0] == {"id": "1", "name": "Ada", "region": "eu", "score": "9.5", "active": "true", "extra": None}
    assert rows[2]["extra"] == "x"
    assert rec["executionResult"]["bytesWritten"] == len(body)


def test_s3_parquet_without_pyarrow_fails_the_run_clearly(client, appflow_mock, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    seed(appflow_mock, ROWS)
    rec = run(client, "nopq", s3_out(fileType="PARQUET"))
    assert rec["executionStatus"] == "Error"
    message = rec["executionResult"]["errorInfo"]["executionMessage"]
    assert "Parquet output needs the optional dependency pyarrow" in message
    assert "pip install" in message
    assert appflow_mock.list_objects("out-bucket") == []


@pytest.mark.parametrize("file_type", ["CSV", "JSON", "PARQUET"])
def test_output_bytes_are_deterministic(client, appflow_mock, file_type):
    if file_type == "PARQUET":
        pytest.importorskip("pyarrow")
    seed(appflow_mock, ROWS)
    a = run(client, "det-a", s3_out(fileType=file_type))
    b = run(client, "det-b", s3_out(fileType=file_type))
    body_a = appflow_mock.get_object("out-bucket", f"exports/det-a/{a['executionId']}/part-00000")
    body_b = appflow_mock.get_object("out-bucket", f"exports/det-b/{b['executionId']}/part-00000")
    assert body_a == body_b


def _started(rec: Dict[str, Any]) -> datetime:
    return rec["startedAt"].astimezone(timezone.utc)


PATH_FORMATS = {"YEAR": "%Y", "MONTH": "%Y/%m", "DAY": "%Y/%m/%d", "HOUR": "%Y/%m/%d/%H", "MINUTE": "%Y/%m/%d/%H/%M"}
NAME_FORMATS = {"YEAR": "%Y", "MONTH": "%Y-%m", "DAY": "%Y-%m-%d", "HOUR": "%Y-%m-%dT%H", "MINUTE": "%Y-%m-%dT%H:%M"}


@pytest.mark.parametrize("prefix_format", list(PATH_FORMATS))
@pytest.mark.parametrize("prefix_type", ["PATH", "FILENAME", "PATH_AND_FILENAME"])
def test_s3_prefix_config(client, appflow_mock, prefix_type, prefix_format):
    seed(appflow_mock, ROWS)
    rec = run(client, "pfx", s3_out(fileType="JSON", prefixConfig={"prefixType": prefix_type,
                                                                   "prefixFormat": prefix_format}))
    eid, started = rec["executionId"], _started(rec)
    folder = "exports/pfx/"
    if prefix_type != "FILENAME":
        folder += started.strftime(PATH_FORMATS[prefix_format]) + "/"
    folder += eid + "/"
    name = "part-00000" if prefix_type == "PATH" else f"{eid}-{started.strftime(NAME_FORMATS[prefix_format])}-00000"
    assert appflow_mock.list_objects("out-bucket") == [folder + name]


@pytest.mark.parametrize("hierarchy, expected", [
    (["EXECUTION_ID"], "exports/hier/{eid}/part-00000"),
    (["SCHEMA_VERSION"], "exports/hier/schemaVersion_1/{eid}-00000"),
    (["SCHEMA_VERSION", "EXECUTION_ID"], "exports/hier/schemaVersion_1/{eid}/part-00000"),
])
@needs_hierarchy
def test_s3_path_prefix_hierarchy(client, appflow_mock, hierarchy, expected):
    seed(appflow_mock, ROWS)
    rec = run(client, "hier", s3_out(prefixConfig={"pathPrefixHierarchy": hierarchy}))
    assert appflow_mock.list_objects("out-bucket") == [expected.format(eid=rec["executionId"])]


@needs_hierarchy
@needs_partitions
def test_s3_time_folders_with_hierarchy_and_partitions(client, appflow_mock):
    seed(appflow_mock, ROWS)
    rec = run(client, "all", s3_out(fileType="CSV", prefixConfig={
        "prefixType": "PATH", "prefixFormat": "DAY", "pathPrefixHierarchy": ["SCHEMA_VERSION", "EXECUTION_ID"]}),
        tasks=map_all() + [partition("region")])
    eid, day = rec["executionId"], _started(rec).strftime("%Y/%m/%d")
    # [doc] the user guide's tree: .../schemaVersion_2/2022/11/10/<executionId>/Industry=Apparel/
    assert appflow_mock.list_objects("out-bucket") == [
        f"exports/all/schemaVersion_1/{day}/{eid}/region=eu/part-00000",
        f"exports/all/schemaVersion_1/{day}/{eid}/region=us/part-00000",
    ]


@needs_partitions
def test_s3_partition_keys_make_field_value_folders(client, appflow_mock):
    seed(appflow_mock, ROWS)
    rec = run(client, "part", s3_out(), tasks=map_all() + [partition("region", "active")])
    eid = rec["executionId"]
    keys = appflow_mock.list_objects("out-bucket")
    assert keys == [
        f"exports/part/{eid}/region=eu/active=null/part-00000",
        f"exports/part/{eid}/region=eu/active=true/part-00000",
        f"exports/part/{eid}/region=us/active=false/part-00000",
    ]
    assert lines(appflow_mock.get_object("out-bucket", keys[0])) == [ROWS[2]]
    total = sum(len(appflow_mock.get_object("out-bucket", k)) for k in keys)
    assert rec["executionResult"]["bytesWritten"] == total


def _many(n: int, pad: int = 0) -> List[Dict[str, Any]]:
    return [{"id": i, "region": "eu" if i % 2 else "us", "pad": "p" * pad} for i in range(n)]


def test_s3_aggregation_none_splits_every_1000_records(client, appflow_mock):
    seed(appflow_mock, _many(2500))
    rec = run(client, "agg-none", s3_out(aggregationConfig={"aggregationType": "None"}))
    keys = appflow_mock.list_objects("out-bucket")
    eid = rec["executionId"]
    assert keys == [f"exports/agg-none/{eid}/part-0000{i}" for i in range(3)]
    counts = [len(lines(appflow_mock.get_object("out-bucket", k))) for k in keys]
    assert counts == [1000, 1000, 500]
    assert rec["executionResult"]["recordsProcessed"] == 2500


@needs_partitions
def test_s3_single_file_per_partition(client, appflow_mock):
    seed(appflow_mock, _many(2500))
    rec = run(client, "agg-one", s3_out(fileType="CSV", aggregationConfig={"aggregationType": "SingleFile"}),
              tasks=map_all() + [partition("region")])
    eid = rec["executionId"]
    keys = appflow_mock.list_objects("out-bucket")
    assert keys == [f"exports/agg-one/{eid}/region=eu/part-00000", f"exports/agg-one/{eid}/region=us/part-00000"]
    assert [len(list(formats.read_csv(appflow_mock.get_object("out-bucket", k)))) for k in keys] == [1250, 1250]


@requires_member("AggregationConfig", "targetFileSize")
def test_s3_target_file_size_splits_at_about_that_size(client, appflow_mock):
    rows = _many(3000, pad=1000)  # ~3 MB of JSON
    seed(appflow_mock, rows)
    run(client, "agg-size", s3_out(aggregationConfig={"aggregationType": "SingleFile", "targetFileSize": 1}))
    keys = appflow_mock.list_objects("out-bucket")
    sizes = [len(appflow_mock.get_object("out-bucket", k)) for k in keys]
    assert len(keys) in (3, 4)
    assert all(s <= 1024 * 1024 + 1100 for s in sizes)
    assert all(s >= 1024 * 1024 for s in sizes[:-1])
    got = [r for k in keys for r in lines(appflow_mock.get_object("out-bucket", k))]
    assert got == rows


def test_s3_missing_destination_bucket_fails_the_run(client, appflow_mock):
    seed(appflow_mock, ROWS)
    rec = run(client, "nobucket", s3_out(bucket="no-such-bucket"))
    assert rec["executionStatus"] == "Error"
    message = rec["executionResult"]["errorInfo"]["executionMessage"]
    assert "no-such-bucket" in message and "does not exist" in message
    assert rec["executionResult"]["bytesWritten"] == 0


def test_s3_empty_source_writes_no_file(client, appflow_mock):
    appflow_mock.put_object("in-bucket", "data/empty.csv", b"id,name\n")
    rec = run(client, "empty", s3_out())
    assert rec["executionStatus"] == "Successful"
    assert rec["executionResult"]["bytesWritten"] == 0
    assert appflow_mock.list_objects("out-bucket") == []
    assert appflow_mock.destination_records("empty") == []


def test_s3_records_marked_to_fail_are_put_failures(client, appflow_mock):
    seed(appflow_mock, ROWS)
    create(client, "s3fail", s3_out())
    appflow_mock.fail_records("s3fail", lambda r: r["id"] == 2 and "rejected id 2")
    rec = start(client, "s3fail")
    assert rec["executionResult"]["errorInfo"]["putFailuresCount"] == 1
    (key,) = appflow_mock.list_objects("out-bucket")
    assert [r["id"] for r in lines(appflow_mock.get_object("out-bucket", key))] == [1, 3]


def test_upsolver_writes_like_s3(client, appflow_mock):
    appflow_mock.create_bucket("upsolver-appflow-data")
    seed(appflow_mock, ROWS)
    dest = {"connectorType": "Upsolver", "destinationConnectorProperties": {"Upsolver": {
        "bucketName": "upsolver-appflow-data", "bucketPrefix": "up",
        "s3OutputFormatConfig": {"fileType": "JSON", "prefixConfig": {}, "aggregationConfig": {}}}}}
    rec = run(client, "ups", dest)
    assert appflow_mock.list_objects("upsolver-appflow-data") == [f"up/ups/{rec['executionId']}/part-00000"]


# -- moto's S3 --------------------------------------------------------------------------------------

def test_with_moto_the_output_lands_in_motos_bucket():
    mock_aws = pytest.importorskip("moto").mock_aws
    with mock_appflow() as emu, mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="in-bucket")
        s3.create_bucket(Bucket="out-bucket")
        s3.put_object(Bucket="in-bucket", Key="data/a.csv", Body=b"id,name\n1,x\n2,y\n")
        appflow = boto3.client("appflow", region_name=REGION)
        rec = run(appflow, "moto-flow", s3_out(fileType="CSV"))
        assert rec["executionStatus"] == "Successful"
        key = f"exports/moto-flow/{rec['executionId']}/part-00000"
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket="out-bucket", Prefix="exports/moto-flow/")["Contents"]]
        assert listed == [key]
        assert s3.get_object(Bucket="out-bucket", Key=key)["Body"].read() == b"id,name\n1,x\n2,y\n"
        assert emu.list_objects("out-bucket") == [key]  # the handle sees moto's S3 too
    assert not moto_active()


def test_with_moto_a_missing_bucket_fails_the_run():
    mock_aws = pytest.importorskip("moto").mock_aws
    with mock_appflow(), mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="in-bucket")
        s3.put_object(Bucket="in-bucket", Key="data/a.csv", Body=b"id\n1\n")
        rec = run(boto3.client("appflow", region_name=REGION), "moto-missing", s3_out(bucket="not-in-moto"))
        assert rec["executionStatus"] == "Error"
        assert "not-in-moto" in rec["executionResult"]["errorInfo"]["executionMessage"]


def test_moto_outside_parquet_and_error_bucket_in_moto():
    mock_aws = pytest.importorskip("moto").mock_aws
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    with mock_aws(), mock_appflow() as emu:
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in ("in-bucket", "out-bucket", "err-bucket"):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket="in-bucket", Key="data/rows.json",
                      Body=b"".join(json.dumps(r).encode() + b"\n" for r in ROWS))
        appflow = boto3.client("appflow", region_name=REGION)
        rec = run(appflow, "moto-pq", s3_out(fileType="PARQUET", preserveSourceDataTyping=True))
        body = s3.get_object(Bucket="out-bucket", Key=f"exports/moto-pq/{rec['executionId']}/part-00000")["Body"].read()
        assert pq.read_table(pa.BufferReader(body)).column("id").to_pylist() == [1, 2, 3]

        make_profile(appflow, "Zendesk")
        create(appflow, "moto-err", saas_out("Zendesk", object="tickets",
                                             errorHandlingConfig={"bucketName": "err-bucket"}))
        emu.fail_records("moto-err", lambda r: r["id"] == 3)
        rec = start(appflow, "moto-err")
        key = f"moto-err/{rec['executionId']}/errors"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="err-bucket")["Contents"]] == [key]
        assert lines(s3.get_object(Bucket="err-bucket", Key=key)["Body"].read())[0]["record"]["id"] == 3
        assert [r["id"] for r in emu.source_records("Zendesk", "tickets")] == [1, 2]


# -- SaaS destinations ------------------------------------------------------------------------------

SAAS_CASES = [
    ("Salesforce", {"object": "Account"}, "Account"),
    ("Zendesk", {"object": "tickets"}, "tickets"),
    ("Marketo", {"object": "leads"}, "leads"),
    ("SAPOData", {"objectPath": "/sap/opu/odata/sap/API_BP/A_BP"}, "/sap/opu/odata/sap/API_BP/A_BP"),
    ("Honeycode", {"object": "table-1"}, "table-1"),
]


@pytest.mark.parametrize("connector_type, props, entity", [
    pytest.param(*case, marks=requires_member("DestinationConnectorProperties", case[0])) for case in SAAS_CASES])
def test_saas_insert_appends_to_the_entity(client, appflow_mock, connector_type, props, entity):
    make_profile(client, connector_type)
    appflow_mock.add_source_records(connector_type, entity, [{"id": 0, "name": "existing"}], profile="dest", check_fields=False)
    seed(appflow_mock, ROWS)
    rec = run(client, "ins", saas_out(connector_type, **props))
    assert rec["executionStatus"] == "Successful"
    assert appflow_mock.source_records(connector_type, entity, profile="dest") == [{"id": 0, "name": "existing"}] + ROWS
    assert appflow_mock.destination_records("ins") == ROWS
    expected_bytes = sum(len(json.dumps(r, separators=(",", ":"))) for r in ROWS)
    assert rec["executionResult"]["bytesWritten"] == expected_bytes


def test_customer_profiles_writes_domain_and_object_type(client, appflow_mock):
    seed(appflow_mock, ROWS)
    rec = run(client, "cp", saas_out("CustomerProfiles", profile=None, domainName="dom", objectTypeName="Orders"))
    assert rec["executionStatus"] == "Successful"
    assert appflow_mock.source_records("CustomerProfiles", "dom/Orders") == ROWS


@requires_operation("RegisterConnector")
def test_custom_connector_writes_its_entity(client, appflow_mock):
    client.register_connector(connectorLabel="mylabel", connectorProvisioningType="LAMBDA",
                              connectorProvisioningConfig={"lambda": {
                                  "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:conn"}})
    client.create_connector_profile(
        connectorProfileName="dest", connectorType="CustomConnector", connectorLabel="mylabel",
        connectionMode="Public", connectorProfileConfig={
            "connectorProfileProperties": {"CustomConnector": {"profileProperties": {"k": "v"}}},
            "connectorProfileCredentials": {"CustomConnector": {"authenticationType": "APIKEY",
                                                                "apiKey": {"apiKey": "key-secret"}}}})
    appflow_mock.add_source_records("CustomConnector", "orders", [{"oid": "1", "v": 1}])
    seed(appflow_mock, [{"oid": "1", "v": 2}, {"oid": "2", "v": 3}])
    rec = run(client, "cc", saas_out("CustomConnector", entityName="orders", writeOperationType="UPSERT",
                                     idFieldNames=["oid"]))
    assert rec["executionStatus"] == "Successful"
    assert appflow_mock.source_records("CustomConnector", "orders") == [{"oid": "1", "v": 2}, {"oid": "2", "v": 3}]


def _salesforce(client: Any, emu: Any, existing: List[Dict[str, Any]]) -> None:
    make_profile(client, "Salesforce")
    emu.add_source_records("Salesforce", "Account", existing)


def test_salesforce_upsert_updates_matches_and_inserts_the_rest(client, appflow_mock):
    _salesforce(client, appflow_mock, [{"Id": "1", "Name": "old", "Phone": "123"}, {"Id": "9", "Name": "keep"}])
    seed(appflow_mock, [{"Id": "1", "Name": "new"}, {"Id": "2", "Name": "two"}])
    rec = run(client, "ups", saas_out("Salesforce", object="Account", writeOperationType="UPSERT",
                                      idFieldNames=["Id"]))
    assert rec["executionStatus"] == "Successful"
    assert appflow_mock.source_records("Salesforce", "Account") == [
        {"Id": "1", "Name": "new", "Phone": "123"}, {"Id": "9", "Name": "keep"}, {"Id": "2", "Name": "two"}]


def test_salesforce_update_of_a_missing_id_fails_that_record(client, appflow_mock):
    _salesforce(client, appflow_mock, [{"Id": "1", "Name": "old"}])
    seed(appflow_mock, [{"Id": "1", "Name": "new"}, {"Id": "7", "Name": "ghost"}])
    rec = run(client, "upd", saas_out("Salesforce", object="Account", writeOperationType="UPDATE",
                                      idFieldNames=["Id"]))
    info = rec["executionResult"]["errorInfo"]
    assert info["putFailuresCount"] == 1
    assert "7" in info["executionMessage"]
    assert appflow_mock.source_records("Salesforce", "Account") == [{"Id": "1", "Name": "new"}]
    assert appflow_mock.destination_records("upd") == [{"Id": "1", "Name": "new"}]


@requires_enum_value("WriteOperationType", "DELETE")
def test_salesforce_delete_removes_by_id(client, appflow_mock):
    _salesforce(client, appflow_mock, [{"Id": "1"}, {"Id": "2"}, {"Id": "3"}])
    seed(appflow_mock, [{"Id": "1"}, {"Id": "3"}])
    rec = run(client, "del", saas_out("Salesforce", object="Account", writeOperationType="DELETE",
                                      idFieldNames=["Id"]))
    assert rec["executionStatus"] == "Successful"
    assert appflow_mock.source_records("Salesforce", "Account") == [{"Id": "2"}]


@when((shape_meta("IdFieldNameList", "max") or 2) > 1, "idFieldNames holds at most one field")
def test_zendesk_upsert_with_a_composite_id(client, appflow_mock):
    make_profile(client, "Zendesk")
    appflow_mock.add_source_records("Zendesk", "users", [{"org": "a", "email": "x@a", "n": 1}], check_fields=False)
    seed(appflow_mock, [{"org": "a", "email": "x@a", "n": 2}, {"org": "b", "email": "x@a", "n": 3}])
    run(client, "zd", saas_out("Zendesk", object="users", writeOperationType="UPSERT", idFieldNames=["org", "email"]))
    assert appflow_mock.source_records("Zendesk", "users") == [
        {"org": "a", "email": "x@a", "n": 2}, {"org": "b", "email": "x@a", "n": 3}]


@pytest.mark.parametrize("operation", enum_params(["UPSERT", "UPDATE", "DELETE"], "WriteOperationType"))
def test_write_operations_other_than_insert_need_id_fields(client, appflow_mock, operation):
    make_profile(client, "Salesforce")
    seed(appflow_mock, ROWS)
    rec = run(client, "noid", saas_out("Salesforce", object="Account", writeOperationType=operation))
    assert rec["executionStatus"] == "Error"
    assert "idFieldNames" in rec["executionResult"]["errorInfo"]["executionMessage"]
    assert appflow_mock.source_records("Salesforce", "Account") == []


def test_saas_output_feeds_another_flow(client, appflow_mock):
    make_profile(client, "Salesforce")
    seed(appflow_mock, [{"Id": "1", "Name": "Ada"}, {"Id": "2", "Name": "Bob"}])
    run(client, "to-sf", saas_out("Salesforce", object="Contact"))
    client.create_flow(**flow_request(
        "from-sf", source={"connectorType": "Salesforce", "connectorProfileName": "dest",
                           "sourceConnectorProperties": {"Salesforce": {"object": "Contact"}}},
        destination=s3_out(fileType="CSV"),
        tasks=[{"sourceFields": [], "connectorOperator": {"Salesforce": "NO_OP"}, "taskType": "Map_all",
                "taskProperties": {}}]))
    eid = client.start_flow(flowName="from-sf")["executionId"]
    body = appflow_mock.get_object("out-bucket", f"exports/from-sf/{eid}/part-00000")
    assert body == b"Id,Name\n1,Ada\n2,Bob\n"


def test_error_bucket_receives_failed_records_as_json_lines(client, appflow_mock):
    make_profile(client, "Salesforce")
    appflow_mock.create_bucket("err-bucket")
    seed(appflow_mock, ROWS)
    create(client, "errs", saas_out("Salesforce", object="Account", errorHandlingConfig={
        "failOnFirstDestinationError": False, "bucketName": "err-bucket", "bucketPrefix": "failed"}))
    appflow_mock.fail_records("errs", lambda r: "INVALID_FIELD: bad name" if r["name"] == "Bob" else None)
    rec = start(client, "errs")
    eid = rec["executionId"]
    assert rec["executionResult"]["errorInfo"]["putFailuresCount"] == 1
    assert appflow_mock.list_objects("err-bucket") == [f"failed/errs/{eid}/errors"]
    assert lines(appflow_mock.get_object("err-bucket", f"failed/errs/{eid}/errors")) == [
        {"errorMessage": "INVALID_FIELD: bad name", "record": ROWS[1]}]
    assert [r["id"] for r in appflow_mock.source_records("Salesforce", "Account")] == [1, 3]
    assert [r["id"] for r in appflow_mock.destination_records("errs")] == [1, 3]


def test_fail_on_first_destination_error_ends_the_run(client, appflow_mock):
    make_profile(client, "Salesforce")
    appflow_mock.create_bucket("err-bucket")
    seed(appflow_mock, ROWS)
    create(client, "first", saas_out("Salesforce", object="Account", errorHandlingConfig={
        "failOnFirstDestinationError": True, "bucketName": "err-bucket"}))
    appflow_mock.fail_records("first", lambda r: r["id"] == 2)
    rec = start(client, "first")
    assert rec["executionStatus"] == "Error"
    assert "failOnFirstDestinationError" in rec["executionResult"]["errorInfo"]["executionMessage"]
    # the record before the failure was written; the one after it never was
    assert [r["id"] for r in appflow_mock.source_records("Salesforce", "Account")] == [1]
    (key,) = appflow_mock.list_objects("err-bucket")
    assert [e["record"]["id"] for e in lines(appflow_mock.get_object("err-bucket", key))] == [2]


def test_missing_error_bucket_fails_the_run(client, appflow_mock):
    make_profile(client, "Zendesk")
    seed(appflow_mock, ROWS)
    rec = run(client, "noerr", saas_out("Zendesk", object="tickets", errorHandlingConfig={"bucketName": "missing-errs"}))
    assert rec["executionStatus"] == "Error"
    assert "missing-errs" in rec["executionResult"]["errorInfo"]["executionMessage"]


# -- warehouses, events, Lookout -------------------------------------------------------------------

@pytest.mark.parametrize("connector_type", ["Redshift", "Snowflake"])
def test_warehouses_stage_csv_then_append_rows(client, appflow_mock, connector_type):
    make_profile(client, connector_type)
    appflow_mock.create_bucket("stage-bucket")
    seed(appflow_mock, ROWS)
    rec = run(client, "wh", saas_out(connector_type, object="public.people", intermediateBucketName="stage-bucket",
                                     bucketPrefix="tmp"))
    eid = rec["executionId"]
    assert rec["executionStatus"] == "Successful"
    key = f"tmp/wh/{eid}/part-00000"
    assert appflow_mock.list_objects("stage-bucket") == [key]
    staged = appflow_mock.get_object("stage-bucket", key)
    assert staged.decode().splitlines()[0] == "id,name,region,score,active,extra"
    assert rec["executionResult"]["bytesWritten"] == len(staged)
    assert appflow_mock.warehouse_rows("dest", "public.people") == ROWS
    assert appflow_mock.destination_records("wh") == ROWS


def test_warehouse_without_its_intermediate_bucket_fails(client, appflow_mock):
    make_profile(client, "Redshift")
    seed(appflow_mock, ROWS)
    rec = run(client, "whx", saas_out("Redshift", object="t", intermediateBucketName="no-stage"))
    assert rec["executionStatus"] == "Error"
    assert "no-stage" in rec["executionResult"]["errorInfo"]["executionMessage"]
    assert appflow_mock.warehouse_rows("dest", "t") == []


def test_eventbridge_gets_one_event_per_record(client, appflow_mock):
    seed(appflow_mock, ROWS[:2])
    source_name = "aws.partner/appflow/test/123456789012/events"
    rec = run(client, "eb", saas_out("EventBridge", profile=None, object=source_name))
    assert rec["executionStatus"] == "Successful"
    events = appflow_mock.events()
    assert [e["detail"] for e in events] == ROWS[:2]
    assert all(e["source"] == source_name and e["detail-type"] for e in events)


def test_eventbridge_rejects_events_over_256kb(client, appflow_mock):
    seed(appflow_mock, [{"id": 1, "blob": "x" * (300 * 1024)}, {"id": 2}])
    rec = run(client, "ebig", saas_out("EventBridge", profile=None, object="aws.partner/appflow/x"))
    assert rec["executionResult"]["errorInfo"]["putFailuresCount"] == 1
    assert [e["detail"] for e in appflow_mock.events()] == [{"id": 2}]


def test_lookout_metrics_receives_the_records(client, appflow_mock):
    seed(appflow_mock, ROWS)
    rec = run(client, "lm", {"connectorType": "LookoutMetrics", "destinationConnectorProperties": {"LookoutMetrics": {}}})
    assert rec["executionStatus"] == "Successful"
    assert appflow_mock.lookout_records() == ROWS


# -- object stores ----------------------------------------------------------------------------------

def test_embedded_store_basics():
    store = EmbeddedStore()
    assert not store.bucket_exists("b")
    store.create_bucket("b")
    store.create_bucket("b")  # idempotent
    store.put("b", "x/2", b"two")
    store.put("b", "x/1", bytearray(b"one"))
    store.put("b", "y", b"")
    assert store.list("b") == ["x/1", "x/2", "y"]
    assert store.list("b", "x/") == ["x/1", "x/2"]
    assert store.get("b", "x/1") == b"one" and isinstance(store.get("b", "x/1"), bytes)
    with pytest.raises(KeyError):
        store.get("b", "nope")
    with pytest.raises(KeyError):
        store.put("missing", "k", b"")
    store.delete("b", "x/1")
    store.delete("b", "x/1")
    assert store.list("b") == ["x/2", "y"]


def test_store_for_follows_moto():
    mock_aws = pytest.importorskip("moto").mock_aws
    embedded = EmbeddedStore()
    assert store_for(ACCOUNT, embedded) is embedded
    with mock_aws():
        store = store_for(ACCOUNT, embedded)
        assert isinstance(store, MotoStore)
        store.create_bucket("moto-bucket")
        store.put("moto-bucket", "k/1", b"v")
        assert store.bucket_exists("moto-bucket") and not store.bucket_exists("other-bucket")
        s3 = boto3.client("s3", region_name=REGION)
        assert s3.get_object(Bucket="moto-bucket", Key="k/1")["Body"].read() == b"v"
        assert store.list("moto-bucket", "k/") == ["k/1"]
        with pytest.raises(KeyError):
            store.get("moto-bucket", "k/2")
        store.delete("moto-bucket", "k/1")
        assert store.list("moto-bucket") == []
        assert MotoStore.client_for(store.account_id) is MotoStore.client_for(store.account_id)
    assert store_for(ACCOUNT, embedded) is embedded


def test_moto_store_lists_past_one_page():
    mock_aws = pytest.importorskip("moto").mock_aws
    with mock_aws():
        store = store_for(ACCOUNT, EmbeddedStore())
        store.create_bucket("many-bucket")
        for i in range(1005):
            store.put("many-bucket", f"k/{i:04d}", b"")
        assert store.list("many-bucket") == [f"k/{i:04d}" for i in range(1005)]


# -- formats ----------------------------------------------------------------------------------------

def test_read_csv_header_bom_quotes_and_blank_lines():
    body = b'\xef\xbb\xbfid,name\r\n1,"a,b"\r\n\r\n2,"multi\nline"\r\n3\r\n'
    assert list(formats.read_csv(body)) == [{"id": "1", "name": "a,b"}, {"id": "2", "name": "multi\nline"},
                                            {"id": "3"}]


def test_read_jsonl_and_json_array():
    assert list(formats.read_jsonl(b'{"a":1}\n\n{"a":2,"b":null}\n')) == [{"a": 1}, {"a": 2, "b": None}]
    assert list(formats.read_jsonl(b' [{"a":1},{"a":2}]')) == [{"a": 1}, {"a": 2}]
    with pytest.raises(RunFailure, match="line 2"):
        list(formats.read_jsonl(b'{"a":1}\n{oops\n'))
    with pytest.raises(RunFailure, match="not a JSON object"):
        list(formats.read_jsonl(b"[1, 2]\n"))


def test_writers_render_values():
    from decimal import Decimal

    when = datetime(2024, 6, 1, 13, 5, 7, tzinfo=timezone.utc)
    records = [{"t": when, "d": Decimal("1.50"), "n": None, "nested": {"a": [1, 2]}, "f": float("nan")},
               {"late": 1}]
    assert formats.write_jsonl(records) == (
        b'{"t":"2024-06-01T13:05:07Z","d":1.5,"n":null,"nested":{"a":[1,2]},"f":null}\n{"late":1}\n')
    assert formats.write_csv(records) == (
        b't,d,n,nested,f,late\n2024-06-01T13:05:07Z,1.50,,"{""a"":[1,2]}",,\n,,,,,1\n')


def test_parquet_mixed_column_falls_back_to_strings():
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    body = formats.write_parquet([{"v": 1}, {"v": "x"}, {"v": None}], preserve_types=True)
    table = pq.read_table(pa.BufferReader(body))
    assert table.schema.field("v").type == pa.string()
    assert table.column("v").to_pylist() == ["1", "x", None]
    assert formats.write_parquet([{"v": 1}], True) == formats.write_parquet([{"v": 1}], True)
    assert pq.read_table(io.BytesIO(formats.write_parquet([]))).num_rows == 0


# -- properties ---------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_names = st.text(st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=8)
_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
_values = st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | _text


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(_names, _values, min_size=1, max_size=5), max_size=8))
def test_json_lines_round_trip(records):
    body = formats.write_jsonl(records)
    assert list(formats.read_jsonl(body)) == records
    assert formats.write_jsonl(records) == body


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(_names, _text, min_size=1, max_size=5), min_size=1, max_size=8))
def test_csv_round_trip_fills_missing_fields_with_empty_text(records):
    body = formats.write_csv(records)
    header: List[str] = []
    for r in records:
        header.extend(k for k in r if k not in header)
    assert list(formats.read_csv(body)) == [{k: r.get(k, "") for k in header} for r in records]
    assert formats.write_csv(records) == body


# -- the sinks alone ----------------------------------------------------------------------------------

def _plan(destination: Dict[str, Any], data: DataPlane, store: Any = None) -> RunPlan:
    return RunPlan(flow_name="f", execution_id="e", account_id=ACCOUNT, region=REGION, started_at=1717247100.0,
                   schema_version=1, source={}, destination=destination, task_list=[], tasks=None, data=data,
                   store=store if store is not None else EmbeddedStore(), source_scope=(ACCOUNT, REGION, None),
                   destination_scope=(ACCOUNT, REGION, destination.get("connectorProfileName")),
                   timestamp_field="updated_at")


def test_s3_sink_uploads_files_as_they_fill():
    from appflow_emu.simulator.sinks import sink_for

    data, store = DataPlane(), EmbeddedStore()
    store.create_bucket("out-bucket")
    seen: List[List[str]] = []

    def records():
        for i in range(2001):
            if i in (999, 1000, 2000):
                seen.append(store.list("out-bucket"))
            yield {"i": i}

    dest = s3_out()
    result = sink_for(dest).write(_plan(dest, data, store), records())
    assert seen == [[], ["exports/f/e/part-00000"], ["exports/f/e/part-00000", "exports/f/e/part-00001"]]
    assert result.objects == [f"exports/f/e/part-0000{i}" for i in range(3)]
    assert result.records_written == 2001


def test_a_run_failure_mid_stream_carries_what_was_written():
    from appflow_emu.simulator.sinks import sink_for

    data = DataPlane()

    def records():
        yield {"Id": "1"}
        raise RunFailure("Validation failed: DropDataset")

    dest = saas_out("Salesforce", object="Account")
    with pytest.raises(RunFailure) as caught:
        sink_for(dest).write(_plan(dest, data), records())
    assert caught.value.result.records_written == 1  # type: ignore[attr-defined]
    assert caught.value.result.delivered == [{"Id": "1"}]  # type: ignore[attr-defined]
    assert data.dataset("Salesforce", "Account") == [{"Id": "1"}]
