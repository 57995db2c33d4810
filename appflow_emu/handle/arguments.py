"""How the handle's verbs check their arguments: the wrong kind is a TypeError, a bad value a
ValueError, each saying what was expected."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

Record = Dict[str, Any]


def where(region: Optional[str], account_id: Optional[str]) -> str:
    if region is None and account_id is None:
        return "in any account or region"
    parts = []
    if account_id is not None:
        parts.append(f"account {account_id}")
    if region is not None:
        parts.append(f"region {region}")
    return "in " + " ".join(parts)


def text_arg(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}: {value!r:.80}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value


def optional_text_arg(name: str, value: Any) -> Optional[str]:
    return None if value is None else text_arg(name, value)


def records_arg(records: Any) -> List[Record]:
    if isinstance(records, Mapping):
        raise TypeError("records must be a list of dicts; got one dict: pass [record]")
    if isinstance(records, (str, bytes, bytearray)) or not isinstance(records, Iterable):
        raise TypeError(f"records must be a list of dicts, got {type(records).__name__}")
    rows: List[Record] = []
    for n, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise TypeError(f"records must be a list of dicts; record {n} is a {type(record).__name__}: {record!r:.80}")
        rows.append(dict(record))
    return rows


def count_arg(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {value}")
    return value


def endpoint_arg(name: str, value: Any) -> Optional[str]:
    if value is not None and not (isinstance(value, str) and value.startswith(("http://", "https://"))):
        raise ValueError(f"{name} must be an http(s) URL or None, got {value!r}")
    return value  # type: ignore[no-any-return]
