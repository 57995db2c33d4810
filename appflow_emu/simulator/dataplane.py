"""The data a simulated AppFlow moves: SaaS datasets, warehouse tables, events, and
what each run delivered. One per emulator; runs read and write it, the handle seeds and reads it.

SaaS records belong to the SaaS, not to an AWS region. A dataset is keyed by (connector type,
entity, scope), where the scope is one of:

- ``None``: the SaaS itself, seen through every profile in every account and region;
- ``(account, region, None)``: seen through every profile of that account and region;
- ``(account, region, profile)``: seen through that one profile.

A run reading through profile P of account A in region R reads the most specific dataset that
exists: ``(A, R, P)``, else ``(A, R, None)``, else the SaaS's own; a SaaS destination writes to
the same list, so one flow's output can feed another.
"""
from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Tuple

from appflow_emu.simulator.plan import Record, Scope

Region = Tuple[str, str]  # (account, region)


def _fallbacks(scope: Optional[Scope]) -> List[Optional[Scope]]:
    if scope is None:
        return [None]
    account, region, profile = scope
    out: List[Optional[Scope]] = [(account, region, None), None]
    if profile is not None:
        out.insert(0, scope)
    return out


class DataPlane:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._datasets: Dict[Tuple[str, str, Optional[Scope]], List[Record]] = {}
        self._tables: Dict[Tuple[str, Scope, str], List[Record]] = {}
        self._events: Dict[Region, List[Record]] = {}
        self._lookout: Dict[Region, List[Record]] = {}
        # (account, region, flow) -> {execution id: delivered records}, in run order
        self.delivered: Dict[Tuple[str, str, str], Dict[str, Any]] = {}  # records, or DeliveredObjects

    def reset(self) -> None:
        with self.lock:
            self._datasets.clear()
            self._tables.clear()
            self._events.clear()
            self._lookout.clear()
            self.delivered.clear()

    # -- saved state (backend/snapshots.py) ---------------------------------------------------
    def contents(self) -> Dict[str, Any]:
        """Everything, as live structures (read them under ``lock``):
        ``datasets`` {(type, entity, scope): records}, ``tables`` {(type, scope, name): rows},
        ``events`` and ``lookout`` {(account, region): records}, ``delivered``."""
        return {"datasets": self._datasets, "tables": self._tables, "events": self._events,
                "lookout": self._lookout, "delivered": self.delivered}

    def replace_contents(self, contents: Dict[str, Any]) -> None:
        """Take :meth:`contents`' structures (new ones, which the plane then owns)."""
        with self.lock:
            self._datasets = contents["datasets"]
            self._tables = contents["tables"]
            self._events = contents["events"]
            self._lookout = contents["lookout"]
            self.delivered = contents["delivered"]

    # -- SaaS datasets ---------------------------------------------------------------------
    def dataset(self, connector_type: str, entity: str, scope: Optional[Scope] = None) -> List[Record]:
        """The live list a source reads and a SaaS destination writes: the most specific one that
        exists for ``scope`` (see the module docstring); the SaaS's own when none does."""
        with self.lock:
            for key in _fallbacks(scope):
                found = self._datasets.get((connector_type, entity, key))
                if found is not None:
                    return found
            return self._datasets.setdefault((connector_type, entity, None), [])

    def seed(self, connector_type: str, entity: str, records: List[Record], scope: Optional[Scope]) -> None:
        """Append records to the dataset of exactly ``scope``."""
        with self.lock:
            self._datasets.setdefault((connector_type, entity, scope), []).extend(dict(r) for r in records)

    def entities_with_data(self, connector_type: str, scope: Optional[Scope]) -> List[str]:
        """Entities of the connector type that have records as seen from ``scope``."""
        with self.lock:
            names = {e for (ct, e, _) in self._datasets if ct == connector_type}
        return sorted(e for e in names if self.dataset(connector_type, e, scope))

    # -- warehouses, events, Lookout ---------------------------------------------------------
    def table(self, connector_type: str, scope: Scope, name: str) -> List[Record]:
        with self.lock:
            return self._tables.setdefault((connector_type, scope, name), [])

    def events(self, account_id: str, region: str) -> List[Record]:
        with self.lock:
            return self._events.setdefault((account_id, region), [])

    def lookout(self, account_id: str, region: str) -> List[Record]:
        with self.lock:
            return self._lookout.setdefault((account_id, region), [])

    def all_events(self) -> Dict[Region, List[Record]]:
        with self.lock:
            return {k: list(v) for k, v in self._events.items()}

    def all_lookout(self) -> Dict[Region, List[Record]]:
        with self.lock:
            return {k: list(v) for k, v in self._lookout.items()}
