"""Insertion-ordered collections with keyset pagination.

Every item gets a sequence number when it is added; a page starts after the last sequence
number the previous page returned. Pages are therefore stable across inserts and deletes
(nothing is skipped or repeated that existed throughout) and cost O(log n + page size).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from bisect import bisect_right
from types import MappingProxyType
from typing import Any, Callable, Dict, Generic, Iterator, List, Mapping, Optional, Tuple, TypeVar

from appflow_emu.backend.handlers import PartlyEncoded, encode_json
from appflow_emu.model.errors import validation

T = TypeVar("T")


class Index(Generic[T]):
    def __init__(self) -> None:
        self._by_key: Dict[str, T] = {}
        self._seq_of: Dict[str, int] = {}
        self._seqs: List[int] = []  # sorted, parallel to _keys
        self._keys: List[str] = []
        self._next = 1

    def add(self, key: str, item: T) -> None:
        if key in self._by_key:
            self._by_key[key] = item
            return
        seq = self._next
        self._next += 1
        self._by_key[key] = item
        self._seq_of[key] = seq
        self._seqs.append(seq)
        self._keys.append(key)

    def remove(self, key: str) -> Optional[T]:
        item = self._by_key.pop(key, None)
        if item is not None:
            seq = self._seq_of.pop(key)
            i = bisect_right(self._seqs, seq) - 1
            del self._seqs[i]
            del self._keys[i]
        return item

    def seq(self, key: str) -> Optional[int]:
        """The sequence number the item under ``key`` got when it was added (never reused, so
        an item removed and added again gets another one)."""
        return self._seq_of.get(key)

    def get(self, key: str) -> Optional[T]:
        return self._by_key.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._by_key.values()))

    def view(self) -> Mapping[str, T]:
        return MappingProxyType(self._by_key)

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    # -- saved state (backend/snapshots.py): items with their sequence numbers, so that page
    # tokens given out before a snapshot stay valid after it is restored.
    def entries(self) -> Tuple[List[Tuple[str, int, T]], int]:
        """``([(key, seq, item)...] in order, the next sequence number)``."""
        return [(k, s, self._by_key[k]) for k, s in zip(self._keys, self._seqs)], self._next

    @classmethod
    def from_entries(cls, entries: List[Tuple[str, int, T]], next_seq: int) -> "Index[T]":
        """The index :meth:`entries` described (sequence numbers increasing, below ``next_seq``)."""
        index: Index[T] = cls()
        last = 0
        for key, seq, item in entries:
            if seq <= last or key in index._by_key:
                raise ValueError(f"sequence numbers must increase and keys be unique (at {key!r})")
            index._by_key[key] = item
            index._seq_of[key] = seq
            index._seqs.append(seq)
            index._keys.append(key)
            last = seq
        if next_seq <= last:
            raise ValueError(f"the next sequence number {next_seq} must follow the last one, {last}")
        index._next = next_seq
        return index

    def page(
        self,
        after: int,
        limit: int,
        keep: Optional[Callable[[T], bool]] = None,
    ) -> Tuple[List[T], Optional[int]]:
        """Up to ``limit`` items after sequence number ``after``; the second value is the
        sequence number to continue from, or None when nothing follows."""
        i = bisect_right(self._seqs, after)
        out: List[T] = []
        keys, seqs, by_key = self._keys, self._seqs, self._by_key
        n = len(keys)
        last = after
        while i < n:
            item = by_key[keys[i]]
            if keep is None or keep(item):
                if len(out) == limit:
                    return out, last
                out.append(item)
                last = seqs[i]
            i += 1
        return out, None


# Tokens are opaque to callers, as AppFlow's are: ``kind:seq`` plus a MAC, so a token edited or
# made up by hand, or one from another listing, is refused instead of silently paging from a
# guessed position. The key is fixed so tokens stay deterministic from run to run.
_TOKEN_KEY = b"appflow_emu/pagination/v1"
_MAC_LEN = 16


def _mac(payload: str) -> str:
    return hmac.new(_TOKEN_KEY, payload.encode(), hashlib.sha256).hexdigest()[:_MAC_LEN]


def listing(index: "Index[T]", kind: str, params: Mapping[str, Any], member: str,
            render: Callable[[T], Any], default_page: int,
            keep: Optional[Callable[[T], bool]] = None,
            encoded: Optional[Callable[[T], str]] = None) -> Dict[str, Any]:
    """One page of a listing operation: ``{member: [render(item)...], "nextToken"?: ...}`` from the
    request's ``maxResults``/``nextToken`` (a token of another listing is a ValidationException).
    ``encoded(item)``, when given, is ``render(item)``'s JSON text (cached by the caller)."""
    after = decode_token(kind, params.get("nextToken"))
    items, last = index.page(after, params.get("maxResults") or default_page, keep)
    out: Dict[str, Any] = {member: [render(item) for item in items]}
    if last is not None:
        out["nextToken"] = encode_token(kind, last)
    if encoded is None or not items:
        return out
    text = f"{encode_json(member)}:[{','.join(encoded(item) for item in items)}]"
    return PartlyEncoded(out, (member,), text)


def encode_token(kind: str, seq: int) -> str:
    payload = f"{kind}:{seq}"
    return base64.urlsafe_b64encode(f"{payload}:{_mac(payload)}".encode()).decode().rstrip("=")


def decode_token(kind: str, token: Optional[str]) -> int:
    """The sequence number a token continues from; a token of another listing or a forged one
    is a ValidationException."""
    if token is None:
        return 0
    try:
        if len(token) % 4 == 1:
            raise ValueError("not base64")
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
        payload, _, mac = raw.rpartition(":")
        token_kind, _, seq = payload.rpartition(":")
        if (token_kind == kind and seq.isdigit() and seq == str(int(seq)) and int(seq) > 0
                and hmac.compare_digest(mac, _mac(payload))):
            return int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise validation("The nextToken provided is invalid or has expired.")
