"""The Glue Data Catalog: a flow with ``metadataCatalogConfig`` registers its S3 output as tables and
partitions (the emulator's own catalog, moto's Glue while mock_aws is active), reports it in the
execution record and describe_flow, and is refused where AWS refuses it."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List

import boto3
import pytest
from freezegun import freeze_time

from appflow_emu import NotFoundError
from tests.conftest import requires_member
from tests.helpers import expect_error, flow_request, map_all, partition, profile_request

pytestmark = requires_member("CreateFlowRequest", "metadataCatalogConfig")

NOON = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
CATALOG = {"glueDataCatalog": {"roleArn": "arn:aws:iam::123456789012:role/appflow-glue", "databaseName": "lake",
                               "tablePrefix": "crm"}}


def s3_out(file_type: str = "CSV", **fmt: Any) -> Dict[str, Any]:
    return {"connectorType": "S3", "destinationConnectorProperties": {"S3": {
        "bucketName": "out-bucket", "bucketPrefix": "exports", "s3OutputFormatConfig": {"fileType": file_type, **fmt}}}}


@contextmanager
def moto_with_a_source(monkeypatch) -> Iterator[None]:
    """moto's mock_aws with the source bucket's one CSV file and an empty output bucket."""
    moto = pytest.importorskip("moto")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="in-bucket")
        s3.create_bucket(Bucket="out-bucket")
        s3.put_object(Bucket="in-bucket", Key="data/a.csv", Body=b"id,name\n1,a\n")
        yield


def by_name(tables: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    return {t["Name"]: t for t in tables}


def test_a_run_registers_its_output(client, appflow_mock):
    appflow_mock.put_object("in-bucket", "data/a.csv", "id,name,region\n1,Acme,eu\n2,Globex,us\n")
    appflow_mock.create_glue_database("lake")
    with freeze_time(NOON):
        client.create_flow(**flow_request("Sales-Daily", destination=s3_out(
            prefixConfig={"prefixType": "PATH", "prefixFormat": "DAY"}), tasks=map_all() + [partition("region")],
            metadataCatalogConfig=CATALOG))
        execution_id = client.start_flow(flowName="Sales-Daily")["executionId"]
    folder = f"exports/Sales-Daily/2024/06/01/{execution_id}"
    assert appflow_mock.list_objects("out-bucket") == [f"{folder}/region=eu/part-00000", f"{folder}/region=us/part-00000"]
    tables = by_name(appflow_mock.glue_tables("lake"))
    latest, version, run = f"crm_appflow_sales_daily_{int(NOON.timestamp())}_latest", "crm_appflow_sales_daily_1", \
        f"crm_appflow_sales_daily_1_{execution_id.replace('-', '_')}"
    assert sorted(tables) == sorted([latest, version, run])
    columns = [{"Name": "id", "Type": "string"}, {"Name": "name", "Type": "string"}]
    assert tables[version]["StorageDescriptor"]["Columns"] == columns
    assert tables[version]["StorageDescriptor"]["Location"] == "s3://out-bucket/exports/Sales-Daily/"
    assert [k["Name"] for k in tables[version]["PartitionKeys"]] == ["year", "month", "day", "execution_id", "region"]
    assert [p["Values"] for p in tables[version]["Partitions"]] == [
        ["2024", "06", "01", execution_id, "eu"], ["2024", "06", "01", execution_id, "us"]]
    assert tables[version]["Partitions"][0]["StorageDescriptor"]["Location"] == f"s3://out-bucket/{folder}/region=eu/"
    assert tables[latest]["StorageDescriptor"]["Location"] == f"s3://out-bucket/{folder}/"
    assert [p["Values"] for p in tables[latest]["Partitions"]] == [["eu"], ["us"]]
    assert tables[latest]["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == \
        "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
    assert tables[latest]["Parameters"]["classification"] == "csv"
    detail = {"catalogType": "GLUE", "tableName": latest,
              "tableRegistrationOutput": {"result": "3", "message": "3 tables created or updated in database lake",
                                          "status": "Successful"},
              "partitionRegistrationOutput": {"result": "6", "message": "6 partition(s) created", "status": "Successful"}}
    record = client.describe_flow_execution_records(flowName="Sales-Daily")["flowExecutions"][0]
    assert record["metadataCatalogDetails"] == [detail]
    assert client.describe_flow(flowName="Sales-Daily")["lastRunMetadataCatalogDetails"] == [detail]


def test_later_runs_update_the_same_tables(client, appflow_mock):
    appflow_mock.put_object("in-bucket", "data/a.json", '{"id": 1, "n": 2.5, "ok": true}\n')
    appflow_mock.create_glue_database("lake")
    with freeze_time(NOON) as frozen:
        client.create_flow(**flow_request("jsonl", destination=s3_out("JSON", prefixConfig={
            "pathPrefixHierarchy": ["SCHEMA_VERSION"]}), tasks=map_all(), metadataCatalogConfig=CATALOG))
        client.start_flow(flowName="jsonl")
        frozen.tick(3600)
        client.start_flow(flowName="jsonl")
    tables = by_name(appflow_mock.glue_tables())
    assert sorted(tables) == sorted([f"crm_appflow_jsonl_{int(NOON.timestamp())}_latest", "crm_appflow_jsonl_1"])
    version = tables["crm_appflow_jsonl_1"]
    assert version["StorageDescriptor"]["Location"] == "s3://out-bucket/exports/jsonl/schemaVersion_1/"
    assert version["PartitionKeys"] == [] and version["Parameters"]["classification"] == "json"
    assert version["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    second = client.describe_flow_execution_records(flowName="jsonl")["flowExecutions"][0]
    assert second["metadataCatalogDetails"][0]["tableRegistrationOutput"]["status"] == "Successful"


def test_parquet_keeps_its_types_when_asked(client, appflow_mock):
    pytest.importorskip("pyarrow")
    appflow_mock.put_object("in-bucket", "data/a.json", '{"id": 1, "n": 2.5, "ok": true, "name": "x"}\n')
    appflow_mock.create_glue_database("lake")
    client.create_flow(**flow_request("typed", destination=s3_out("PARQUET", preserveSourceDataTyping=True),
                                      tasks=map_all(), metadataCatalogConfig=CATALOG))
    client.start_flow(flowName="typed")
    (version,) = [t for t in appflow_mock.glue_tables("lake") if t["Name"] == "crm_appflow_typed_1"]
    assert version["StorageDescriptor"]["Columns"] == [
        {"Name": "id", "Type": "bigint"}, {"Name": "n", "Type": "double"}, {"Name": "ok", "Type": "boolean"},
        {"Name": "name", "Type": "string"}]
    assert version["StorageDescriptor"]["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"


def test_create_flow_refuses_a_catalog_it_cannot_use(client, appflow_mock):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    text = expect_error(client.create_flow, "ValidationException", 400, **flow_request("nodb", metadataCatalogConfig=CATALOG))
    assert text == "Create Flow request failed: [The Glue Data Catalog database lake does not exist]"
    appflow_mock.create_glue_database("lake")
    warehouse = {"connectorType": "Salesforce", "connectorProfileName": "sf",
                 "destinationConnectorProperties": {"Salesforce": {"object": "Account"}}}
    text = expect_error(client.create_flow, "ValidationException", 400,
                        **flow_request("to-sf", destination=warehouse, metadataCatalogConfig=CATALOG))
    assert "supported only for flows with an Amazon S3 destination, not Salesforce" in text
    client.create_flow(**flow_request("fine", metadataCatalogConfig=CATALOG))
    moved = dict(CATALOG["glueDataCatalog"], databaseName="elsewhere")
    text = expect_error(client.update_flow, "ValidationException", 400,
                        **{k: v for k, v in flow_request("fine", metadataCatalogConfig={"glueDataCatalog": moved}).items()
                           if k != "tags"})
    assert text == "Update Flow request failed due to:[The Glue Data Catalog database elsewhere does not exist]"
    assert client.describe_flow(flowName="fine")["metadataCatalogConfig"] == CATALOG


def test_a_database_gone_since_fails_the_registration_not_the_run(appflow_mock, monkeypatch):
    with moto_with_a_source(monkeypatch):
        glue = boto3.client("glue", region_name="us-east-1")
        glue.create_database(DatabaseInput={"Name": "lake"})
        client = boto3.client("appflow", region_name="us-east-1")
        client.create_flow(**flow_request("orphan", destination=s3_out(), tasks=map_all(), metadataCatalogConfig=CATALOG))
        glue.delete_database(Name="lake")  # behind AppFlow's back
        client.start_flow(flowName="orphan")
        record = client.describe_flow_execution_records(flowName="orphan")["flowExecutions"][0]
    assert record["executionStatus"] == "Successful"
    (detail,) = record["metadataCatalogDetails"]
    assert detail["tableRegistrationOutput"] == {"result": "0", "status": "Error",
                                                 "message": "The Glue Data Catalog database lake does not exist"}
    assert detail["partitionRegistrationOutput"]["status"] == "Error"


def test_the_verbs_are_loud(appflow_mock):
    with pytest.raises(NotFoundError, match="no Glue database named 'nope'; databases: 'lake'"):
        appflow_mock.create_glue_database("lake")
        appflow_mock.glue_tables("nope")
    with pytest.raises(TypeError):
        appflow_mock.create_glue_database(42)
    assert appflow_mock.glue_tables(region="eu-west-1") == []


def test_with_moto_the_tables_are_in_moto_glue(appflow_mock, monkeypatch):
    with moto_with_a_source(monkeypatch):
        glue = boto3.client("glue", region_name="us-east-1")
        client = boto3.client("appflow", region_name="us-east-1")
        expect_error(client.create_flow, "ValidationException", 400,
                     **flow_request("moto-flow", destination=s3_out(), tasks=map_all(), metadataCatalogConfig=CATALOG))
        glue.create_database(DatabaseInput={"Name": "lake"})
        client.create_flow(**flow_request("moto-flow", destination=s3_out(), tasks=map_all(), metadataCatalogConfig=CATALOG))
        execution_id = client.start_flow(flowName="moto-flow")["executionId"]
        names = {t["Name"] for t in glue.get_tables(DatabaseName="lake")["TableList"]}
        latest = [n for n in names if n.endswith("_latest")]
        assert names - set(latest) == {"crm_appflow_moto_flow_1", f"crm_appflow_moto_flow_1_{execution_id.replace('-', '_')}"}
        assert len(latest) == 1 and latest[0].startswith("crm_appflow_moto_flow_")
        table = glue.get_table(DatabaseName="lake", Name="crm_appflow_moto_flow_1")["Table"]
        assert table["StorageDescriptor"]["Location"] == "s3://out-bucket/exports/moto-flow/"
        partitions = glue.get_partitions(DatabaseName="lake", TableName="crm_appflow_moto_flow_1")["Partitions"]
        assert [p["Values"] for p in partitions] == [[execution_id]]
        assert appflow_mock.snapshot()["glue"] == []  # moto's catalog is moto's to keep
