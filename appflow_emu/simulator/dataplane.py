"""The data a simulated AppFlow moves: SaaS datasets, S3 objects, warehouse tables, events, and
what each run delivered. One per emulator; the handle is its control plane.

SaaS datasets are keyed by (connector type, entity, profile): data seeded for a profile is seen by
flows using that profile, data seeded without one by every flow of that connector type. Sources
read them and SaaS destinations write them, so one flow's output can feed another.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from appflow_emu.catalog.connectors import normalize_connector_type
from appflow_emu.simulator.core import Record

Predicate = Callable[[Record], Any]


class DataPlane:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._datasets: Dict[Tuple[str, str, Optional[str]], List[Record]] = {}
        self._tables: Dict[Tuple[str, Optional[str], str], List[Record]] = {}
        self.events: List[Record] = []
        self.lookout: List[Record] = []
        # (account, region, flow) -> {execution id: delivered records}, in run order
        self.delivered: Dict[Tuple[str, str, str], Dict[str, Any]] = {}  # records, or DeliveredObjects
        self.record_failures: Dict[str, Predicate] = {}  # flow name -> predicate
        self._embedded: Any = None

    # -- objects ---------------------------------------------------------------------------
    @property
    def embedded(self) -> Any:
        if self._embedded is None:
            from appflow_emu.simulator.objectstore import EmbeddedStore

            self._embedded = EmbeddedStore()
        return self._embedded

    def store(self) -> Any:
        """moto's S3 while moto's mock is active, else the embedded store."""
        from appflow_emu.simulator.objectstore import current_store

        return current_store(self.embedded)

    # -- SaaS datasets ---------------------------------------------------------------------
    def dataset(self, connector_type: str, entity: str, profile: Optional[str] = None) -> List[Record]:
        """The live list a source reads and a SaaS destination writes (profile-specific if seeded so)."""
        ct = normalize_connector_type(connector_type)
        with self.lock:
            if profile is not None and (ct, entity, profile) in self._datasets:
                return self._datasets[(ct, entity, profile)]
            return self._datasets.setdefault((ct, entity, None), [])

    def seed(self, connector_type: str, entity: str, records: List[Record], profile: Optional[str] = None) -> None:
        ct = normalize_connector_type(connector_type)
        with self.lock:
            self._datasets.setdefault((ct, entity, profile), []).extend(dict(r) for r in records)

    def table(self, connector_type: str, profile: Optional[str], object_name: str) -> List[Record]:
        ct = normalize_connector_type(connector_type)
        with self.lock:
            return self._tables.setdefault((ct, profile, object_name), [])

    def reset(self) -> None:
        with self.lock:
            self.__init__()  # type: ignore[misc]


class RunData:
    """The data plane as one run sees it (``ctx.data``)."""

    def __init__(self, plane: DataPlane, flow_name: str) -> None:
        self.plane = plane
        self.flow_name = flow_name
        self._predicate = plane.record_failures.get(flow_name)
        self.events = plane.events
        self.lookout = plane.lookout

    def store(self) -> Any:
        return self.plane.store()

    def dataset(self, connector_type: str, entity: str, profile: Optional[str] = None) -> List[Record]:
        return self.plane.dataset(connector_type, entity, profile)

    def table(self, connector_type: str, profile: Optional[str], object_name: str) -> List[Record]:
        return self.plane.table(connector_type, profile, object_name)

    def fail_record(self, record: Record) -> Optional[str]:
        """A failure message for a record the test marked to fail, else None."""
        if self._predicate is None:
            return None
        verdict = self._predicate(record)
        if not verdict:
            return None
        return verdict if isinstance(verdict, str) else "The record was rejected by the destination connector."
