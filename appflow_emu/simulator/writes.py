"""What a SaaS destination's write operation does to the records it holds: one implementation,
used by every dataset-backed sink and by ``InMemoryConnector``.

- ``INSERT`` appends the record.
- ``UPSERT`` merges the record's fields into the stored record with the same ``idFieldNames``
  values, or appends it when there is none.
- ``UPDATE`` merges into the stored record with the same id values; none is a failed record.
- ``DELETE`` removes the stored record with the same id values; none is a failed record.

UPSERT, UPDATE and DELETE need id fields, and a record with no value for any of them fails. Id
values are compared as they are (nested values by their JSON text; a nested value never equals a
string). When several stored records share id values, the first one is the one updated or
deleted; once it is deleted, the next one is the first (in the same batch too).
"""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from appflow_emu.simulator.plan import Record
from appflow_emu.simulator.values import json_default

WRITE_OPERATIONS = ("INSERT", "UPSERT", "UPDATE", "DELETE")


class _Nested:
    """A nested id value, by its JSON text: equal only to another nested value with that text."""

    __slots__ = ("text",)

    def __init__(self, value: Any) -> None:
        self.text = json.dumps(value, sort_keys=True, default=json_default)

    def __eq__(self, other: object) -> bool:
        return type(other) is _Nested and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _hashable(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return _Nested(value)
    try:
        hash(value)
    except TypeError:  # another unhashable value (a set...): by its JSON text too
        return _Nested(value)
    return value


class DatasetWriter:
    """Applies one write operation to ``dataset`` (a list it changes in place), record by record.
    Call :meth:`finish` once done: deleted records leave the list then (one pass)."""

    def __init__(self, dataset: List[Record], entity: str, operation: str, id_fields: Sequence[str] = ()) -> None:
        self.dataset = dataset
        self.entity = entity
        self.operation = operation.upper()
        self.id_fields = list(id_fields)
        # id values -> the stored records that have them, in dataset order (the first is written)
        self._index: Dict[Tuple[Any, ...], List[Record]] = {}
        self._deleted: set = set()
        if self.id_fields:
            for stored in dataset:
                self._index.setdefault(self._key(stored), []).append(stored)

    def _key(self, record: Record) -> Tuple[Any, ...]:
        return tuple(_hashable(record.get(f)) for f in self.id_fields)

    def apply(self, record: Record) -> Optional[str]:
        """Write one record; a message when it fails (nothing is changed then)."""
        op = self.operation
        if op == "INSERT":
            stored = dict(record)
            self.dataset.append(stored)
            if self.id_fields:
                self._index.setdefault(self._key(stored), []).append(stored)
            return None
        if not self.id_fields:
            return f"{op} needs idFieldNames"
        key = self._key(record)
        if all(v is None for v in key):
            return f"{op} needs a value for {', '.join(self.id_fields)}"
        matches = self._index.get(key)
        if not matches:
            if op == "UPSERT":
                stored = dict(record)
                self.dataset.append(stored)
                self._index[key] = [stored]
                return None
            where = ", ".join(f"{f}={record.get(f)!r}" for f in self.id_fields)
            return f"No {self.entity} record with {where} to {op.lower()}"
        existing = matches[0]
        if op == "DELETE":
            del matches[0]
            if not matches:
                del self._index[key]
            self._deleted.add(id(existing))
        else:  # UPSERT or UPDATE of a stored record
            existing.update(record)
        return None

    def finish(self) -> None:
        if self._deleted:
            deleted = self._deleted
            self.dataset[:] = [r for r in self.dataset if id(r) not in deleted]
            self._deleted = set()


def apply_write(dataset: List[Record], entity: str, operation: str, records: Iterable[Record],
                id_fields: Sequence[str] = ()) -> List[Optional[str]]:
    """Write ``records`` into ``dataset``: one message (or None: written) per record."""
    writer = DatasetWriter(dataset, entity, operation, id_fields)
    try:
        return [writer.apply(r) for r in records]
    finally:
        writer.finish()
