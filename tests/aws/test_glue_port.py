"""aws/glue.py: EmbeddedGlue and moto's Glue (MotoGlue, EndpointGlue) answer the same sequence of
operations alike; the embedded catalog's saved state round-trips; it is thread-safe."""
from __future__ import annotations

import json
import threading
from typing import Any, Callable, Dict, List

import pytest

from appflow_emu.aws.glue import (
    EXPORT_SCHEMA,
    MAX_PARTITIONS_PER_BATCH,
    DatabaseNotFound,
    EmbeddedGlue,
    EndpointGlue,
    GlueCatalog,
    GlueUnavailable,
    MotoGlue,
    TableNotFound,
)

moto = pytest.importorskip("moto")

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def storage(location: str, columns: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"Columns": columns, "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
                          "Parameters": {"paths": "id,name"}}}


def table(name: str, columns: List[Dict[str, Any]], **extra: Any) -> Dict[str, Any]:
    return {"Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "json"},
            "StorageDescriptor": storage(f"s3://out/{name.lower()}/", columns),
            "PartitionKeys": [{"Name": "year", "Type": "string"}, {"Name": "day", "Type": "string"}], **extra}


def partition(year: str, day: str) -> Dict[str, Any]:
    return {"Values": [year, day], "StorageDescriptor": {"Location": f"s3://out/flow/{year}/{day}/",
                                                         "Columns": [{"Name": "id", "Type": "string"}]}}


COLUMNS = [{"Name": "id", "Type": "string"}, {"Name": "Name", "Type": "string", "Comment": "the name"}]
TABLE_MEMBERS = ("Name", "DatabaseName", "TableType", "Parameters", "StorageDescriptor", "PartitionKeys")


def compared_tables(tables: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    for t in tables:
        assert isinstance(t["CreateTime"], float) and isinstance(t["UpdateTime"], float), t
        assert t["UpdateTime"] >= t["CreateTime"]
    return [{k: t[k] for k in TABLE_MEMBERS if k in t} for t in tables]


def compared_partitions(partitions: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    for p in partitions:
        assert isinstance(p["CreationTime"], float), p
    return [{k: v for k, v in p.items() if k != "CreationTime"} for p in partitions]


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("ok", call())
    except GlueUnavailable as e:
        return ("error", type(e).__name__, e.code)


def scenario(catalog: GlueCatalog) -> List[Any]:
    """The same operations, each with what it answered (times set aside: they are checked apart)."""
    said: List[Any] = []
    said.append(catalog.databases())
    said.append(catalog.database_exists("AppFlow_DB"))
    said.append(outcome(lambda: catalog.put_table("appflow_db", table("t", COLUMNS))))  # no database yet
    said.append(outcome(lambda: catalog.tables("appflow_db")))
    catalog.create_database("AppFlow_DB")
    catalog.create_database("appflow_db")  # the same one: nothing
    catalog.create_database("other")
    said.append(catalog.databases())
    said.append([catalog.database_exists(n) for n in ("appflow_db", "APPFLOW_DB", "missing")])
    said.append(catalog.put_table("AppFlow_DB", table("Flow_Latest", COLUMNS, Description="latest run")))
    said.append(catalog.put_table("appflow_db", table("flow_v1", COLUMNS)))
    said.append(catalog.put_table("other", table("zeta", COLUMNS[:1])))
    said.append(catalog.put_table("appflow_db", table("FLOW_LATEST", [*COLUMNS, {"Name": "extra", "Type": "int"}])))
    first = [partition("2024", f"{d:02d}") for d in range(1, 4)]
    said.append(catalog.add_partitions("appflow_db", "flow_latest", first))
    overlapping = [partition("2024", f"{d:02d}") for d in range(2, 6)] + [partition("2023", "31")]
    said.append(catalog.add_partitions("APPFLOW_DB", "Flow_Latest", [*overlapping, partition("2023", "31")]))
    said.append(catalog.add_partitions("appflow_db", "flow_latest", []))
    said.append(catalog.add_partitions("appflow_db", "flow_v1",
                                       [partition("2025", f"{n:03d}") for n in range(MAX_PARTITIONS_PER_BATCH + 7)]))
    said.append(outcome(lambda: catalog.add_partitions("appflow_db", "no_table", [partition("2024", "01")])))
    said.append(outcome(lambda: catalog.add_partitions("no_db", "flow_latest", [partition("2024", "01")])))
    said.append(outcome(lambda: catalog.add_partitions("appflow_db", "no_table", [])))
    said.append(outcome(lambda: catalog.partitions("appflow_db", "no_table")))
    said.append(outcome(lambda: catalog.partitions("no_db", "no_table")))
    said.append(outcome(lambda: catalog.tables("no_db")))
    said.append(compared_tables(catalog.tables("appflow_db")))
    said.append(compared_tables(catalog.tables()))
    said.append(compared_partitions(catalog.partitions("appflow_db", "flow_latest")))
    said.append(len(catalog.partitions("Appflow_Db", "FLOW_V1")))
    said.append(catalog.tables("other")[0]["Name"])
    with pytest.raises(ValueError):
        catalog.put_table("appflow_db", {"TableType": "EXTERNAL_TABLE"})
    return said


def test_embedded_and_moto_answer_alike() -> None:
    embedded = scenario(EmbeddedGlue().in_region(ACCOUNT, REGION))
    with moto.mock_aws():
        catalog = MotoGlue(ACCOUNT, REGION)
        moto_said = scenario(catalog)
        # what moto holds is folded too: a plain client finds the tables by Glue's names
        glue = catalog._client
        assert sorted(t["Name"] for t in glue.get_tables(DatabaseName="appflow_db")["TableList"]) == [
            "flow_latest", "flow_v1"]
    assert moto_said == embedded
    # and what they said is what Glue would say
    assert embedded[0] == [] and embedded[1] is False
    assert embedded[2] == ("error", "DatabaseNotFound", "EntityNotFoundException")
    assert embedded[3] == ("error", "DatabaseNotFound", "EntityNotFoundException")
    assert embedded[4] == ["appflow_db", "other"]
    assert embedded[5] == [True, True, False]
    assert embedded[6:10] == ["created", "created", "created", "updated"]
    assert embedded[10:14] == [3, 3, 0, MAX_PARTITIONS_PER_BATCH + 7]  # 04, 05 and 2023/31 new
    assert embedded[14] == ("error", "TableNotFound", "EntityNotFoundException")
    assert embedded[15] == ("error", "DatabaseNotFound", "EntityNotFoundException")
    assert embedded[16] == embedded[17] == embedded[14]
    assert embedded[18] == embedded[19] == embedded[15]
    latest, v1 = embedded[20]
    assert latest == {"Name": "flow_latest", "DatabaseName": "appflow_db", "TableType": "EXTERNAL_TABLE",
                      "Parameters": {"classification": "json"},
                      "StorageDescriptor": storage("s3://out/flow_latest/", [*COLUMNS, {"Name": "extra", "Type": "int"}]),
                      "PartitionKeys": [{"Name": "year", "Type": "string"}, {"Name": "day", "Type": "string"}]}
    assert v1["Name"] == "flow_v1"
    assert [(t["DatabaseName"], t["Name"]) for t in embedded[21]] == [
        ("appflow_db", "flow_latest"), ("appflow_db", "flow_v1"), ("other", "zeta")]
    values = [p["Values"] for p in embedded[22]]
    assert values == [["2023", "31"]] + [["2024", f"{d:02d}"] for d in range(1, 6)]
    assert embedded[22][0] == {"Values": ["2023", "31"], "DatabaseName": "appflow_db", "TableName": "flow_latest",
                               "StorageDescriptor": {"Location": "s3://out/flow/2023/31/",
                                                     "Columns": [{"Name": "id", "Type": "string"}]}}
    assert embedded[23] == MAX_PARTITIONS_PER_BATCH + 7 and embedded[24] == "zeta"


def test_what_the_tables_answer_holds() -> None:
    clock = iter([100.0, 200.0, 300.0, 400.0])
    glue = EmbeddedGlue(clock=lambda: next(clock))
    catalog = glue.in_region(ACCOUNT, REGION)
    catalog.create_database("db")  # 100
    given = table("T", COLUMNS)
    catalog.put_table("db", given)  # 200
    given["StorageDescriptor"]["Columns"].append({"Name": "changed", "Type": "int"})  # the catalog keeps a copy
    (answer,) = catalog.tables()
    assert (answer["CreateTime"], answer["UpdateTime"]) == (200.0, 200.0)
    answer["Parameters"]["x"] = "y"  # and answers copies
    assert catalog.tables()[0]["Parameters"] == {"classification": "json"}
    assert len(catalog.tables()[0]["StorageDescriptor"]["Columns"]) == 2
    catalog.put_table("db", table("t", COLUMNS))  # 300
    assert (catalog.tables()[0]["CreateTime"], catalog.tables()[0]["UpdateTime"]) == (200.0, 300.0)
    catalog.add_partitions("db", "t", [partition("2024", "01")])  # 400
    assert catalog.partitions("db", "t")[0]["CreationTime"] == 400.0
    # regions and accounts are apart
    assert glue.in_region(ACCOUNT, "eu-west-1").databases() == []
    assert glue.in_region("210987654321", REGION).databases() == []
    assert repr(glue) == "<EmbeddedGlue 1 databases>"


def test_moto_times_are_epoch_floats_and_update_time_follows_updates() -> None:
    with moto.mock_aws():
        catalog = MotoGlue(ACCOUNT, REGION)
        catalog.create_database("db")
        catalog.put_table("db", table("t", COLUMNS))
        (created,) = catalog.tables("db")
        assert isinstance(created["CreateTime"], float) and created["UpdateTime"] == created["CreateTime"]
        assert "CatalogId" not in created and "VersionId" not in created
        catalog.put_table("db", table("t", COLUMNS[:1]))
        (updated,) = catalog.tables("db")
        assert updated["UpdateTime"] >= updated["CreateTime"] == created["CreateTime"]
        assert updated["StorageDescriptor"]["Columns"] == COLUMNS[:1]


def filled() -> EmbeddedGlue:
    clock = iter(float(n) for n in range(1000))
    glue = EmbeddedGlue(clock=lambda: next(clock))
    for account, region in ((ACCOUNT, REGION), (ACCOUNT, "eu-west-1"), ("210987654321", REGION)):
        catalog = glue.in_region(account, region)
        catalog.create_database("db")
        catalog.create_database("empty")
        catalog.put_table("db", table("t", COLUMNS))
        catalog.put_table("db", table("u", COLUMNS[:1]))
        catalog.put_table("db", table("u", COLUMNS))
        catalog.add_partitions("db", "t", [partition("2024", "02"), partition("2024", "01")])
    return glue


def snapshot(glue: EmbeddedGlue) -> Any:
    places = [(ACCOUNT, REGION), (ACCOUNT, "eu-west-1"), ("210987654321", REGION)]
    return [(glue.in_region(*p).databases(), glue.in_region(*p).tables(), glue.in_region(*p).partitions("db", "t"))
            for p in places]


def test_export_and_replace_round_trip() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    glue = filled()
    document = json.loads(json.dumps(glue.export()))  # JSON-serialisable
    jsonschema.validate(document, EXPORT_SCHEMA)
    assert [(e["account_id"], e["region"], e["name"]) for e in document] == [
        (ACCOUNT, "eu-west-1", "db"), (ACCOUNT, "eu-west-1", "empty"), (ACCOUNT, REGION, "db"),
        (ACCOUNT, REGION, "empty"), ("210987654321", REGION, "db"), ("210987654321", REGION, "empty")]
    restored = EmbeddedGlue()
    restored.in_region(ACCOUNT, REGION).create_database("dropped by replace")
    restored.replace(document)
    assert snapshot(restored) == snapshot(glue)
    assert restored.export() == document
    # a document that does not fit changes nothing
    with pytest.raises((KeyError, TypeError, ValueError)):
        restored.replace([{"account_id": ACCOUNT, "region": REGION, "name": "x", "created_at": 1.0,
                           "tables": [{"table": {}, "created_at": 1.0, "updated_at": 1.0, "partitions": []}]}])
    assert restored.export() == document
    # take: another's contents, kept apart from it afterwards
    aside = EmbeddedGlue()
    aside.take(restored)
    restored.clear()
    assert restored.export() == [] and len(restored) == 0
    assert snapshot(aside) == snapshot(glue)


def test_concurrent_partitions_are_all_created_once() -> None:
    glue = EmbeddedGlue()
    catalog = glue.in_region(ACCOUNT, REGION)
    catalog.create_database("db")
    catalog.put_table("db", table("t", COLUMNS))
    created: List[int] = []
    errors: List[BaseException] = []
    start = threading.Barrier(8)

    def add(worker: int) -> None:
        try:
            start.wait()
            for n in range(50):  # every worker adds the same days and its own
                created.append(catalog.add_partitions("db", "t", [partition("2024", f"{n:02d}"),
                                                                  partition(f"w{worker}", f"{n:02d}")]))
                catalog.put_table("db", table("t", COLUMNS))
                catalog.tables("db")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=add, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(created) == 50 + 8 * 50
    assert len(catalog.partitions("db", "t")) == 50 + 8 * 50


def test_endpoint_glue_answers_like_the_embedded_one(moto_endpoint: str) -> None:
    catalog = EndpointGlue(ACCOUNT, "eu-central-1", moto_endpoint)
    assert moto_endpoint in repr(catalog)
    assert scenario(catalog) == scenario(EmbeddedGlue().in_region(ACCOUNT, "eu-central-1"))
    databases = catalog._client.get_databases()["DatabaseList"]  # what the moto_server holds
    assert [d["Name"] for d in databases] == ["appflow_db", "other"]


class Down:
    """A Glue client whose every call fails as ``error`` does."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        def call(**kwargs: Any) -> Any:
            raise self.error
        return call


def test_a_failed_call_raises_glue_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    down = Down(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    monkeypatch.setattr(MotoGlue, "_client", property(lambda self: down))
    catalog = EndpointGlue(ACCOUNT, REGION, "http://127.0.0.1:9")
    for call in (lambda: catalog.database_exists("db"), lambda: catalog.create_database("db"),
                 lambda: catalog.put_table("db", table("t", COLUMNS)), lambda: catalog.tables(),
                 lambda: catalog.add_partitions("db", "t", [partition("2024", "01")])):
        with pytest.raises(GlueUnavailable, match="Could not connect") as raised:
            call()
        assert not isinstance(raised.value, (DatabaseNotFound, TableNotFound)) and raised.value.code == ""
    down.error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetTables")
    with pytest.raises(GlueUnavailable, match="AccessDeniedException: no") as raised:
        catalog.tables("db")
    assert raised.value.code == "AccessDeniedException" and not isinstance(raised.value, DatabaseNotFound)


def test_a_partition_refused_for_another_reason_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    class Refusing:
        def batch_create_partition(self, **kwargs: Any) -> Any:
            return {"Errors": [
                {"PartitionValues": ["2024", "01"], "ErrorDetail": {"ErrorCode": "AlreadyExistsException"}},
                {"PartitionValues": ["2024", "02"], "ErrorDetail": {"ErrorCode": "InvalidInputException",
                                                                      "ErrorMessage": "bad location"}}]}

    refusing = Refusing()
    monkeypatch.setattr(MotoGlue, "_client", property(lambda self: refusing))
    with pytest.raises(GlueUnavailable, match=r"\['2024', '02'\]: InvalidInputException: bad location"):
        MotoGlue(ACCOUNT, REGION).add_partitions("db", "t", [partition("2024", "01"), partition("2024", "02")])
