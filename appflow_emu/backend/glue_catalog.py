"""The Glue Data Catalog: a flow with ``metadataCatalogConfig.glueDataCatalog`` registers its S3
output as tables and partitions for Athena (``aws/glue.py``: the emulator's own catalog, moto's
while ``mock_aws`` is active, or the one at an endpoint; ``aws/neighbours.py`` picks).

[doc: GlueDataCatalogConfig] The configuration is accepted only for an S3 destination, and its
database must already exist. [doc: user guide, "Cataloging the data output"] After every successful
run AppFlow creates or updates:

- ``{prefix}_appflow_{flow}_{epoch}_latest``: the most recent run's output (``epoch`` is when the
  table was first created);
- ``{prefix}_appflow_{flow}_{schemaVersion}``: every run of the flow's schema version, partitioned
  by the output's folders;
- ``{prefix}_appflow_{flow}_{schemaVersion}_{executionId}``: one run's output, when the execution id
  is part of the path.

The execution record's ``metadataCatalogDetails`` and ``describe_flow``'s
``lastRunMetadataCatalogDetails`` report the latest table and the two registrations (status,
result, message). A registration that fails (the database was deleted since) reports Error there
and does not fail the data transfer [guess].

[guess] Everything the documentation leaves out: table names lower-cased with characters other than
letters, digits and ``_`` in the flow name turned into ``_``; columns are the fields of the run's
first file, typed ``string`` (Parquet with ``preserveSourceDataTyping``: the file's own types);
the SerDe and formats Glue's crawlers use for CSV, JSON lines and Parquet; partition columns
``year``, ``month``, ``day``, ``hour``, ``minute`` for time folders, ``execution_id`` for the run's
folder, and the field's name for a ``Field=value`` folder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from appflow_emu.aws.glue import DatabaseNotFound, GlueCatalog, GlueUnavailable
from appflow_emu.aws.moto import NeighbourRefused
from appflow_emu.backend.runtime import RegionState, Runtime
from appflow_emu.catalog.connectors import connector_properties
from appflow_emu.simulator import formats
from appflow_emu.simulator.plan import SinkResult

CATALOG_TYPE = "GLUE"
TIME_COLUMNS = ("year", "month", "day", "hour", "minute")  # [guess]
TIME_DEPTH = {"YEAR": 1, "MONTH": 2, "DAY": 3, "HOUR": 4, "MINUTE": 5}  # folders of each prefixFormat
EXECUTION_COLUMN = "execution_id"  # [guess]
# [guess] Glue crawlers' classification, formats and SerDe of each file type
FORMATS: Dict[str, Dict[str, Any]] = {
    "CSV": {"classification": "csv", "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                          "Parameters": {"field.delim": ",", "skip.header.line.count": "1"}}},
    "JSON": {"classification": "json", "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
             "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
             "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe", "Parameters": {}}},
    "PARQUET": {"classification": "parquet",
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                              "Parameters": {}}},
}


def config_of(metadata_catalog_config: Optional[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    """The flow's ``glueDataCatalog`` settings, or None."""
    glue = (metadata_catalog_config or {}).get("glueDataCatalog")
    return glue if glue else None


def catalog_for(runtime: Runtime, state: RegionState) -> GlueCatalog:
    return runtime.aws.glue(state.account_id, state.region)


def check(runtime: Runtime, state: RegionState, metadata_catalog_config: Optional[Mapping[str, Any]],
          destination_type: str) -> Optional[str]:
    """Why a flow's catalog configuration is refused (None: it is fine) [doc: S3 destinations only,
    an existing database; guess: the texts]."""
    glue = config_of(metadata_catalog_config)
    if glue is None:
        return None
    if destination_type != "S3":
        return (f"The Glue Data Catalog configuration is supported only for flows with an Amazon S3 destination, "
                f"not {destination_type}")
    database = str(glue.get("databaseName", ""))
    try:
        exists = catalog_for(runtime, state).database_exists(database)
    except GlueUnavailable as e:
        return f"The Glue Data Catalog could not be reached to check database {database}: {e}"
    if not exists:
        return f"The Glue Data Catalog database {database} does not exist"
    return None


def table_name(*parts: str) -> str:
    """Glue's table names: lower case; the flow name's other characters become ``_`` [guess]."""
    return "_".join(parts).lower()


def _flow_part(flow_name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", flow_name.lower())


@dataclass
class Output:
    """What a successful run wrote to S3, as the catalog needs it."""

    flow_name: str
    execution_id: str
    started_at: float
    schema_version: int
    destination: Dict[str, Any]
    written: SinkResult


def _folders(output: Output) -> Tuple[str, str, List[str], List[str]]:
    """(bucket, the schema version's folder, the partition columns between that folder and the
    files, the folder of the run) of the run's output."""
    props = connector_properties(output.destination)
    fmt = props.get("s3OutputFormatConfig") or {}
    prefix_config = fmt.get("prefixConfig") or {}
    hierarchy = prefix_config.get("pathPrefixHierarchy")
    base = [p for p in ((props.get("bucketPrefix") or "").strip("/"), output.flow_name) if p]
    if hierarchy and "SCHEMA_VERSION" in hierarchy:
        base.append(f"schemaVersion_{output.schema_version}")
    columns: List[str] = []
    if prefix_config.get("prefixType") in ("PATH", "PATH_AND_FILENAME"):
        columns.extend(TIME_COLUMNS[:TIME_DEPTH.get(prefix_config.get("prefixFormat") or "", 0)])
    if not hierarchy or "EXECUTION_ID" in hierarchy:
        columns.append(EXECUTION_COLUMN)
    return str(props.get("bucketName", "")), "/".join(base), columns, hierarchy or []


def _columns(runtime: Runtime, account_id: str, output: Output, bucket: str, fmt: Mapping[str, Any],
             partition_columns: Sequence[str]) -> List[Dict[str, str]]:
    """The fields of the run's first file (Parquet: with its types when source types are kept)."""
    if not output.written.objects:
        return []
    body = runtime.store(account_id).get(bucket, output.written.objects[0])
    file_type = str(fmt.get("fileType") or "JSON").upper()
    types: Dict[str, str] = {}
    if file_type == "PARQUET":
        types = formats.parquet_column_types(body)
        names = list(types)
        if not fmt.get("preserveSourceDataTyping"):
            types = {}
    else:
        rows = formats.read_csv(body) if file_type == "CSV" else formats.read_jsonl(body)
        names = []
        for row in rows:
            names.extend(k for k in row if k not in names)
            break
    return [{"Name": n, "Type": types.get(n, "string")} for n in names if n not in partition_columns]


def register(runtime: Runtime, state: RegionState, glue: Mapping[str, Any], output: Output) -> Dict[str, Any]:
    """Create or update the run's tables and partitions; the run's ``MetadataCatalogDetail``."""
    props = connector_properties(output.destination)
    fmt = props.get("s3OutputFormatConfig") or {}
    file_type = str(fmt.get("fileType") or "JSON").upper()
    bucket, base, time_and_run, _ = _folders(output)
    prefix = str(glue.get("tablePrefix", ""))
    flow = _flow_part(output.flow_name)
    database = str(glue.get("databaseName", ""))
    catalog = catalog_for(runtime, state)
    # The run's folders: each written object's folders below the schema version's folder
    folders: Dict[str, List[str]] = {}
    for key in output.written.objects:
        relative = key[len(base) + 1:] if base and key.startswith(base + "/") else key
        folders.setdefault(relative.rsplit("/", 1)[0] if "/" in relative else "", []).append(key)
    field_columns: List[str] = []
    for folder in folders:
        for part in folder.split("/"):
            if "=" in part and part.split("=", 1)[0] not in field_columns:
                field_columns.append(part.split("=", 1)[0])
    partition_columns = [*time_and_run, *field_columns]
    try:
        columns = _columns(runtime, state.account_id, output, bucket, fmt, partition_columns)
        latest = _latest_name(catalog, database, prefix, flow, output.started_at)
        run_folder = _run_folder(base, time_and_run, folders)
        version_table = table_name(prefix, "appflow", flow, str(output.schema_version))
        tables = [(latest, run_folder, field_columns), (version_table, base, partition_columns)]
        if EXECUTION_COLUMN in time_and_run:
            tables.append((table_name(prefix, "appflow", flow, str(output.schema_version),
                                      _flow_part(output.execution_id)), run_folder, field_columns))
        for name, location, keys in tables:
            catalog.put_table(database, _table_input(name, bucket, location, columns, keys, file_type))
        created = 0
        for name, location, keys in tables:
            created += catalog.add_partitions(database, name, _partitions(bucket, location, keys, folders, base,
                                                                          columns, file_type))
    except DatabaseNotFound:
        failure = f"The Glue Data Catalog database {database} does not exist"
        return _detail(table_name(prefix, "appflow", flow), "Error", "0", failure, "Error", "0", failure)
    except NeighbourRefused as e:  # Glue refused, or S3 refused reading the run's first file
        failure = f"The Glue Data Catalog registration failed: {e}"
        return _detail(table_name(prefix, "appflow", flow), "Error", "0", failure, "Error", "0", failure)
    return _detail(latest, "Successful", str(len(tables)), f"{len(tables)} tables created or updated in database "
                   f"{database}", "Successful", str(created), f"{created} partition(s) created")


def _detail(table: str, table_status: str, table_result: str, table_message: str, partition_status: str,
            partition_result: str, partition_message: str) -> Dict[str, Any]:
    return {"catalogType": CATALOG_TYPE, "tableName": table,
            "tableRegistrationOutput": {"result": table_result, "message": table_message, "status": table_status},
            "partitionRegistrationOutput": {"result": partition_result, "message": partition_message,
                                            "status": partition_status}}


def _latest_name(catalog: GlueCatalog, database: str, prefix: str, flow: str, now: float) -> str:
    """The ``_latest`` table: the one the flow has, else a new one named with this time."""
    head = table_name(prefix, "appflow", flow) + "_"
    pattern = re.compile(re.escape(head) + r"\d+_latest$")
    for table in catalog.tables(database):
        if pattern.match(str(table.get("Name", ""))):
            return str(table["Name"])
    return f"{head}{int(now)}_latest"


def _run_folder(base: str, time_and_run: Sequence[str], folders: Mapping[str, List[str]]) -> str:
    """The folder holding the run's output: the schema version's folder and the time and run folders."""
    depth = len(time_and_run)
    for folder in folders:
        parts = folder.split("/") if folder else []
        return "/".join([p for p in (base, *parts[:depth]) if p])
    return base


def _location(bucket: str, folder: str) -> str:
    return f"s3://{bucket}/{folder}/" if folder else f"s3://{bucket}/"


def _storage(bucket: str, folder: str, columns: List[Dict[str, str]], file_type: str) -> Dict[str, Any]:
    spec = FORMATS.get(file_type, FORMATS["JSON"])
    return {"Columns": [dict(c) for c in columns], "Location": _location(bucket, folder),
            "InputFormat": spec["InputFormat"], "OutputFormat": spec["OutputFormat"],
            "SerdeInfo": {"SerializationLibrary": spec["SerdeInfo"]["SerializationLibrary"],
                          "Parameters": dict(spec["SerdeInfo"]["Parameters"])}}


def _table_input(name: str, bucket: str, folder: str, columns: List[Dict[str, str]], keys: Sequence[str],
                 file_type: str) -> Dict[str, Any]:
    spec = FORMATS.get(file_type, FORMATS["JSON"])
    return {"Name": name, "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": spec["classification"]},
            "StorageDescriptor": _storage(bucket, folder, columns, file_type),
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in keys]}


def _partitions(bucket: str, location: str, keys: Sequence[str], folders: Mapping[str, List[str]], base: str,
                columns: List[Dict[str, str]], file_type: str) -> List[Dict[str, Any]]:
    """One partition per folder of the run below the table's location (none without keys)."""
    if not keys:
        return []
    below = location[len(base) + 1:] if location.startswith(base + "/") else ""
    depth = len(below.split("/")) if below else 0
    out: Dict[Tuple[str, ...], Dict[str, Any]] = {}
    for folder in folders:
        parts = folder.split("/")[depth:] if folder else []
        if len(parts) != len(keys):
            continue
        values = tuple(p.split("=", 1)[1] if "=" in p else p for p in parts)
        out.setdefault(values, {"Values": list(values),
                                "StorageDescriptor": _storage(bucket, "/".join([location, *parts]), columns, file_type)})
    return list(out.values())
