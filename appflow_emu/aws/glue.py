"""The Glue Data Catalog, AppFlow's neighbour for S3 destinations with catalog registration: one
port (:class:`GlueCatalog`, the slice of the catalog AppFlow needs, in one account and region) and
its three variants.

On AWS, a flow to S3 with a ``metadataCatalogConfig`` registers its output in the account's Glue
Data Catalog: a table per flow (``TableInput`` shape) and, for a partitioned output, a partition
per folder written (``PartitionInput`` shape).

- :class:`EmbeddedGlue`: the emulator's own catalog, every account and region
  (:meth:`EmbeddedGlue.in_region` is the port), saved with the emulator's state;
- :class:`MotoGlue`: moto's Glue while ``moto.mock_aws`` is active, so a test reads the tables
  with a plain boto3 ``glue`` client;
- :class:`EndpointGlue`: the Glue at an endpoint URL (a ``moto_server``, LocalStack).

Every variant answers alike: tables and partitions as Glue's API members (``GetTables`` and
``GetPartitions`` shapes) holding what was put, with ``DatabaseName`` (and ``TableName``), times
as epoch seconds (floats, not datetimes) and nothing a variant adds of its own (``CatalogId``,
``VersionId``...). Database and table names are folded to lower case, as Glue stores them ("For
Hive compatibility, this is folded to lowercase when it is stored" [doc: DatabaseInput.Name,
TableInput.Name]); moto keeps them as given and matches them exactly, so :class:`MotoGlue` folds
them before calling it. A table's ``UpdateTime`` is its ``CreateTime`` until it is updated (moto
leaves it out until then).
"""
from __future__ import annotations

import copy
import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Protocol, Sequence, Tuple, runtime_checkable

from botocore.exceptions import BotoCoreError, ClientError

from appflow_emu.aws import moto

# The members of Glue's TableInput and PartitionInput shapes: what a table or partition keeps of
# what was put, and all that the variants answer besides the names and times below.
TABLE_INPUT_MEMBERS = ("Name", "Description", "Owner", "LastAccessTime", "LastAnalyzedTime", "Retention",
                       "StorageDescriptor", "PartitionKeys", "ViewOriginalText", "ViewExpandedText", "TableType",
                       "Parameters", "TargetTable", "ViewDefinition")
PARTITION_INPUT_MEMBERS = ("Values", "LastAccessTime", "StorageDescriptor", "Parameters", "LastAnalyzedTime")
MAX_PARTITIONS_PER_BATCH = 100  # [doc] BatchCreatePartition: PartitionInputList, at most 100 items


class GlueUnavailable(moto.NeighbourRefused):
    """A Glue call failed (the message says why; ``code`` is Glue's error code when it gave one):
    the neighbours' one refusal (``aws/moto.py``), its text Glue's own."""

    def __init__(self, message: str, code: str = "", operation: str = "") -> None:
        super().__init__("Glue", operation, code, message)
        self.args = (message,)

    def __str__(self) -> str:
        return self.message


class DatabaseNotFound(GlueUnavailable):
    """No such database in the account and region."""


class TableNotFound(GlueUnavailable):
    """No such table in the database."""


@runtime_checkable
class GlueCatalog(Protocol):
    """The slice of the Glue Data Catalog AppFlow needs, in one account and region."""

    def database_exists(self, name: str) -> bool: ...

    def create_database(self, name: str) -> None: ...  # nothing if it exists

    def put_table(self, database: str, table: Mapping[str, Any]) -> str: ...  # "created" / "updated"

    def add_partitions(self, database: str, table: str, partitions: Sequence[Mapping[str, Any]]) -> int: ...

    def tables(self, database: Optional[str] = None) -> List[Dict[str, Any]]: ...

    def partitions(self, database: str, table: str) -> List[Dict[str, Any]]: ...

    def databases(self) -> List[str]: ...


def fold(name: str) -> str:
    """A database or table name as Glue stores it."""
    return name.lower()


def epoch(value: Any) -> Any:
    """A datetime as epoch seconds (a naive one is UTC); anything else as it is."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    return value


def plain(value: Any) -> Any:
    """A deep copy of ``value`` with its datetimes as epoch seconds (what the variants answer)."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return copy.deepcopy(epoch(value))


def table_input(table: Mapping[str, Any]) -> Dict[str, Any]:
    """``table`` as the TableInput kept: its TableInput members, the name folded. ValueError
    without a name."""
    name = table.get("Name")
    if not isinstance(name, str) or not name:
        raise ValueError("a Glue table needs a Name")
    kept = {k: plain(table[k]) for k in TABLE_INPUT_MEMBERS if k in table}
    kept["Name"] = fold(name)
    return kept


def partition_input(partition: Mapping[str, Any]) -> Dict[str, Any]:
    kept = {k: plain(partition[k]) for k in PARTITION_INPUT_MEMBERS if k in partition}
    kept["Values"] = [str(v) for v in partition.get("Values") or ()]
    return kept


def _table_sort_key(table: Mapping[str, Any]) -> Tuple[str, str]:
    return str(table.get("DatabaseName", "")), str(table.get("Name", ""))


def _partition_sort_key(partition: Mapping[str, Any]) -> List[str]:
    return list(partition.get("Values") or ())


# -- embedded ------------------------------------------------------------------------------------

@dataclass
class StoredTable:
    input: Dict[str, Any]  # the TableInput, name folded
    created_at: float
    updated_at: float
    partitions: Dict[Tuple[str, ...], Tuple[Dict[str, Any], float]] = field(default_factory=dict)  # values -> (input, created)


@dataclass
class StoredDatabase:
    name: str
    created_at: float
    tables: Dict[str, StoredTable] = field(default_factory=dict)


Catalog = Dict[str, StoredDatabase]  # one account and region's databases by folded name


class EmbeddedGlue:
    """The emulator's own Glue Data Catalog: every account and region; thread-safe. ``clock``
    gives the times it records (epoch seconds)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._catalogs: Dict[Tuple[str, str], Catalog] = {}

    def in_region(self, account_id: str, region: str) -> "EmbeddedRegionGlue":
        return EmbeddedRegionGlue(self, account_id, region)

    def _catalog(self, account_id: str, region: str) -> Catalog:
        return self._catalogs.setdefault((account_id, region), {})

    def _database(self, account_id: str, region: str, name: str) -> StoredDatabase:
        found = self._catalogs.get((account_id, region), {}).get(fold(name))
        if found is None:
            raise DatabaseNotFound(f"Database {fold(name)} not found.", "EntityNotFoundException")
        return found

    def _table(self, account_id: str, region: str, database: str, table: str) -> StoredTable:
        found = self._database(account_id, region, database).tables.get(fold(table))
        if found is None:
            raise TableNotFound(f"Table {fold(table)} not found.", "EntityNotFoundException")
        return found

    # -- the port, for one account and region -----------------------------------------------------
    def database_exists(self, account_id: str, region: str, name: str) -> bool:
        with self._lock:
            return fold(name) in self._catalogs.get((account_id, region), {})

    def create_database(self, account_id: str, region: str, name: str) -> None:
        if not name:
            raise ValueError("a Glue database needs a name")
        with self._lock:
            catalog = self._catalog(account_id, region)
            if fold(name) not in catalog:
                catalog[fold(name)] = StoredDatabase(fold(name), self.clock())

    def put_table(self, account_id: str, region: str, database: str, table: Mapping[str, Any]) -> str:
        kept = table_input(table)
        with self._lock:
            db = self._database(account_id, region, database)
            now = self.clock()
            found = db.tables.get(kept["Name"])
            if found is None:
                db.tables[kept["Name"]] = StoredTable(kept, now, now)
                return "created"
            found.input, found.updated_at = kept, now
            return "updated"

    def add_partitions(self, account_id: str, region: str, database: str, table: str,
                       partitions: Sequence[Mapping[str, Any]]) -> int:
        kept = [partition_input(p) for p in partitions]
        with self._lock:
            stored = self._table(account_id, region, database, table)
            now, created = self.clock(), 0
            for partition in kept:
                values = tuple(partition["Values"])
                if values not in stored.partitions:
                    stored.partitions[values] = (partition, now)
                    created += 1
            return created

    def tables(self, account_id: str, region: str, database: Optional[str] = None) -> List[Dict[str, Any]]:
        with self._lock:
            if database is None:
                dbs = list(self._catalogs.get((account_id, region), {}).values())
            else:
                dbs = [self._database(account_id, region, database)]
            found = [{**copy.deepcopy(t.input), "DatabaseName": db.name, "CreateTime": t.created_at,
                      "UpdateTime": t.updated_at} for db in dbs for t in db.tables.values()]
        return sorted(found, key=_table_sort_key)

    def partitions(self, account_id: str, region: str, database: str, table: str) -> List[Dict[str, Any]]:
        with self._lock:
            stored = self._table(account_id, region, database, table)
            found = [{**copy.deepcopy(p), "DatabaseName": fold(database), "TableName": fold(table),
                      "CreationTime": created} for p, created in stored.partitions.values()]
        return sorted(found, key=_partition_sort_key)

    def databases(self, account_id: str, region: str) -> List[str]:
        with self._lock:
            return sorted(self._catalogs.get((account_id, region), {}))

    # -- the whole catalog -------------------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self._catalogs.clear()

    def take(self, other: "EmbeddedGlue") -> None:
        """Hold what ``other`` holds (a restored state built aside)."""
        with other._lock:
            catalogs = copy.deepcopy(other._catalogs)
        with self._lock:
            self._catalogs = catalogs

    def __len__(self) -> int:
        """How many databases, in every account and region."""
        with self._lock:
            return sum(len(catalog) for catalog in self._catalogs.values())

    # -- saved state ----------------------------------------------------------------------------
    def export(self) -> List[Dict[str, Any]]:
        """Every database, its tables and their partitions as data for a state document (see
        :data:`EXPORT_SCHEMA`), in a stable order."""
        with self._lock:
            return [{
                "account_id": account_id, "region": region, "name": db.name, "created_at": db.created_at,
                "tables": [{
                    "table": copy.deepcopy(t.input), "created_at": t.created_at, "updated_at": t.updated_at,
                    "partitions": [{"partition": copy.deepcopy(p), "created_at": created}
                                   for _, (p, created) in sorted(t.partitions.items())],
                } for _, t in sorted(db.tables.items())],
            } for (account_id, region), catalog in sorted(self._catalogs.items())
                for _, db in sorted(catalog.items())]

    def replace(self, document: Sequence[Mapping[str, Any]]) -> None:
        """Hold exactly what a document of :meth:`export` holds. A document that does not fit
        raises KeyError, TypeError or ValueError and changes nothing."""
        catalogs: Dict[Tuple[str, str], Catalog] = {}
        for entry in document:
            db = StoredDatabase(fold(str(entry["name"])), float(entry["created_at"]))
            for saved in entry["tables"]:
                stored = StoredTable(table_input(saved["table"]), float(saved["created_at"]),
                                     float(saved["updated_at"]))
                for part in saved["partitions"]:
                    kept = partition_input(part["partition"])
                    stored.partitions[tuple(kept["Values"])] = (kept, float(part["created_at"]))
                db.tables[stored.input["Name"]] = stored
            catalogs.setdefault((str(entry["account_id"]), str(entry["region"])), {})[db.name] = db
        with self._lock:
            self._catalogs = catalogs

    def __repr__(self) -> str:
        return f"<EmbeddedGlue {len(self)} databases>"


_TIME = {"type": "number"}
_JSON_OBJECT = {"type": "object"}
EXPORT_SCHEMA: Dict[str, Any] = {
    "type": "array", "items": {
        "type": "object", "required": ["account_id", "region", "name", "created_at", "tables"],
        "additionalProperties": False,
        "properties": {
            "account_id": {"type": "string"}, "region": {"type": "string"}, "name": {"type": "string"},
            "created_at": _TIME,
            "tables": {"type": "array", "items": {
                "type": "object", "required": ["table", "created_at", "updated_at", "partitions"],
                "additionalProperties": False,
                "properties": {
                    "table": {"type": "object", "required": ["Name"]}, "created_at": _TIME, "updated_at": _TIME,
                    "partitions": {"type": "array", "items": {
                        "type": "object", "required": ["partition", "created_at"], "additionalProperties": False,
                        "properties": {"partition": _JSON_OBJECT, "created_at": _TIME}}},
                }}},
        }}}
"""The JSON Schema of :meth:`EmbeddedGlue.export`'s document (for the state document's schema)."""


class EmbeddedRegionGlue:
    """:class:`EmbeddedGlue` seen from one account and region (the :class:`GlueCatalog` port)."""

    def __init__(self, catalog: EmbeddedGlue, account_id: str, region: str) -> None:
        self.catalog, self.account_id, self.region = catalog, account_id, region

    def database_exists(self, name: str) -> bool:
        return self.catalog.database_exists(self.account_id, self.region, name)

    def create_database(self, name: str) -> None:
        self.catalog.create_database(self.account_id, self.region, name)

    def put_table(self, database: str, table: Mapping[str, Any]) -> str:
        return self.catalog.put_table(self.account_id, self.region, database, table)

    def add_partitions(self, database: str, table: str, partitions: Sequence[Mapping[str, Any]]) -> int:
        return self.catalog.add_partitions(self.account_id, self.region, database, table, partitions)

    def tables(self, database: Optional[str] = None) -> List[Dict[str, Any]]:
        return self.catalog.tables(self.account_id, self.region, database)

    def partitions(self, database: str, table: str) -> List[Dict[str, Any]]:
        return self.catalog.partitions(self.account_id, self.region, database, table)

    def databases(self) -> List[str]:
        return self.catalog.databases(self.account_id, self.region)

    def __repr__(self) -> str:
        return f"<EmbeddedRegionGlue {self.account_id}/{self.region}>"


# -- moto's Glue, or the one at an endpoint -------------------------------------------------------

class MotoGlue:
    """moto's Glue Data Catalog in one account and region (or the one at ``endpoint_url``), its
    answers made to match :class:`EmbeddedGlue`'s (see the module docstring)."""

    def __init__(self, account_id: str, region: str, endpoint_url: Optional[str] = None) -> None:
        self.account_id, self.region, self.endpoint_url = account_id, region, endpoint_url

    @property
    def _client(self) -> Any:
        return moto.client("glue", self.account_id, self.region, self.endpoint_url)

    def _call(self, operation: str, **kwargs: Any) -> Dict[str, Any]:
        """One Glue call; any failure raises GlueUnavailable with Glue's error code."""
        try:
            return dict(getattr(self._client, operation)(**kwargs))
        except ClientError as e:
            code, message = moto.error_code(e), e.response.get("Error", {}).get("Message", "")
            raise GlueUnavailable(f"{operation}: {code}: {message}", code, operation) from e
        except BotoCoreError as e:
            raise GlueUnavailable(f"{operation}: {e}", "", operation) from e

    def _pages(self, operation: str, member: str, **kwargs: Any) -> Iterator[Dict[str, Any]]:
        while True:
            page = self._call(operation, **kwargs)
            yield from page.get(member, ())
            token = page.get("NextToken")
            if not token:
                return
            kwargs["NextToken"] = token

    def _not_found(self, database: str, table: Optional[str] = None) -> GlueUnavailable:
        """What an EntityNotFoundException of a call naming ``database`` (and ``table``) means."""
        if table is None or not self.database_exists(database):
            return DatabaseNotFound(f"Database {fold(database)} not found.", "EntityNotFoundException")
        return TableNotFound(f"Table {fold(table)} not found.", "EntityNotFoundException")

    def database_exists(self, name: str) -> bool:
        try:
            self._call("get_database", Name=fold(name))
            return True
        except GlueUnavailable as e:
            if e.code == "EntityNotFoundException":
                return False
            raise

    def create_database(self, name: str) -> None:
        if not name:
            raise ValueError("a Glue database needs a name")
        try:
            self._call("create_database", DatabaseInput={"Name": fold(name)})
        except GlueUnavailable as e:
            if e.code != "AlreadyExistsException":
                raise

    def put_table(self, database: str, table: Mapping[str, Any]) -> str:
        kept = table_input(table)
        try:
            self._call("create_table", DatabaseName=fold(database), TableInput=kept)
            return "created"
        except GlueUnavailable as e:
            if e.code == "EntityNotFoundException":
                raise self._not_found(database) from None
            if e.code != "AlreadyExistsException":
                raise
        self._call("update_table", DatabaseName=fold(database), TableInput=kept)
        return "updated"

    def add_partitions(self, database: str, table: str, partitions: Sequence[Mapping[str, Any]]) -> int:
        kept = [partition_input(p) for p in partitions]
        try:
            if not kept:  # nothing to create: still, the table must be there
                self._call("get_table", DatabaseName=fold(database), Name=fold(table))
            created = 0
            for start in range(0, len(kept), MAX_PARTITIONS_PER_BATCH):
                batch = kept[start:start + MAX_PARTITIONS_PER_BATCH]
                answer = self._call("batch_create_partition", DatabaseName=fold(database), TableName=fold(table),
                                    PartitionInputList=batch)
                errors = answer.get("Errors") or []
                failed = [err for err in errors
                          if err.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
                if failed:
                    detail = failed[0].get("ErrorDetail", {})
                    raise GlueUnavailable(f"batch_create_partition refused the partition "
                                          f"{failed[0].get('PartitionValues')}: {detail.get('ErrorCode')}: "
                                          f"{detail.get('ErrorMessage')}", str(detail.get("ErrorCode", "")))
                created += len(batch) - len(errors)
            return created
        except GlueUnavailable as e:
            if e.code == "EntityNotFoundException":
                raise self._not_found(database, table) from None
            raise

    def tables(self, database: Optional[str] = None) -> List[Dict[str, Any]]:
        names = self.databases() if database is None else [fold(database)]
        found: List[Dict[str, Any]] = []
        for name in names:
            try:
                tables = list(self._pages("get_tables", "TableList", DatabaseName=name))
            except GlueUnavailable as e:
                if e.code != "EntityNotFoundException":
                    raise
                if database is not None:
                    raise self._not_found(database) from None
                continue  # deleted since it was listed
            for table in tables:
                answer = {k: plain(table[k]) for k in TABLE_INPUT_MEMBERS if k in table}
                created = epoch(table.get("CreateTime"))
                answer.update(DatabaseName=table.get("DatabaseName", name), CreateTime=created,
                              UpdateTime=epoch(table.get("UpdateTime", created)))
                found.append(answer)
        return sorted(found, key=_table_sort_key)

    def partitions(self, database: str, table: str) -> List[Dict[str, Any]]:
        found = []
        try:
            for partition in self._pages("get_partitions", "Partitions", DatabaseName=fold(database),
                                         TableName=fold(table)):
                answer = {k: plain(partition[k]) for k in PARTITION_INPUT_MEMBERS if k in partition}
                answer.update(DatabaseName=partition.get("DatabaseName", fold(database)),
                              TableName=partition.get("TableName", fold(table)),
                              CreationTime=epoch(partition.get("CreationTime")))
                found.append(answer)
        except GlueUnavailable as e:
            if e.code == "EntityNotFoundException":
                raise self._not_found(database, table) from None
            raise
        return sorted(found, key=_partition_sort_key)

    def databases(self) -> List[str]:
        return sorted(str(db["Name"]) for db in self._pages("get_databases", "DatabaseList"))

    def __repr__(self) -> str:
        where = f" {self.endpoint_url}" if self.endpoint_url else ""
        return f"<{type(self).__name__}{where} {self.account_id}/{self.region}>"


class EndpointGlue(MotoGlue):
    """The Glue Data Catalog at an endpoint URL (a ``moto_server``, LocalStack...)."""

    def __init__(self, account_id: str, region: str, endpoint_url: str) -> None:
        super().__init__(account_id, region, endpoint_url)
