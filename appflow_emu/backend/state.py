"""State per account and region, and the emulator object that owns it (the user's handle).

``Emulator.state(account, region)`` creates a region's state on first use; isolation between
accounts and regions, and ``reset()``, fall out of that one dictionary. Each region's state has
one lock, held for the whole of every operation on it, so concurrent clients see consistent state.
"""
from __future__ import annotations

import os
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple, Union

from appflow_emu.backend.models import ConnectorProfile, ConnectorRegistration, Flow
from appflow_emu.backend.pagination import Index
from appflow_emu.simulator import clock
from appflow_emu.simulator.dataplane import DataPlane

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

# Service quotas (per account and region). The handle can lower them for tests.
DEFAULT_QUOTAS = {"connector_profiles": 100, "flows": 1000, "custom_connectors": 100}


def current_account_id() -> str:
    """Like moto: ``MOTO_ACCOUNT_ID`` picks the account, so ARNs line up with moto's resources."""
    return os.environ.get("MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID


class RegionState:
    """Everything one account holds in one region."""

    def __init__(self, emulator: "Emulator", account_id: str, region: str) -> None:
        self.emulator = emulator
        self.account_id = account_id
        self.region = region
        self.lock = threading.RLock()
        self._profiles: Index[ConnectorProfile] = Index()
        self._flows: Index[Flow] = Index()
        self._connectors: Index[ConnectorRegistration] = Index()
        # (operation, client token) -> (time, sha256 of the request, first answer)
        self.client_tokens: Dict[Tuple[str, str], Tuple[float, str, Dict[str, Any]]] = {}
        self._kms_arn: Optional[str] = None
        self.scheduled: Set[str] = set()  # names of active Scheduled flows (ticked lazily)
        # flow name -> ((schemaVersion, activation time), time before which it cannot fire)
        self.next_due: Dict[str, Tuple[Tuple[int, Optional[float]], float]] = {}

    # read access for tests (live, read-only views)
    @property
    def flows(self) -> Mapping[str, Flow]:
        return self._flows.view()

    @property
    def connector_profiles(self) -> Mapping[str, ConnectorProfile]:
        return self._profiles.view()

    @property
    def registered_connectors(self) -> Mapping[str, ConnectorRegistration]:
        return self._connectors.view()

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:appflow:{self.region}:{self.account_id}:{kind}/{name}"

    @property
    def managed_kms_arn(self) -> str:
        """AppFlow's managed key: one per account and region."""
        if self._kms_arn is None:
            self._kms_arn = f"arn:aws:kms:{self.region}:{self.account_id}:key/{self.emulator.new_uuid()}"
        return self._kms_arn

    def __repr__(self) -> str:
        return (
            f"<RegionState {self.account_id}/{self.region}: {len(self._profiles)} profiles, "
            f"{len(self._flows)} flows, {len(self._connectors)} registered connectors>"
        )


@dataclass
class Call:
    """What a handler gets besides its parameters."""

    state: RegionState
    operation: str
    now: float
    caller_arn: str


class Emulator:
    """The handle a mock yields: the backend's state and the test's control plane.

    State (read-only views):
    - ``state(region=..., account_id=...)``: one account and region (flows, profiles, ...).
    - ``states()``: every (account, region) touched so far.
    - ``reset()``: forget everything (ids restart from the seed).

    Test data and results (the simulator's data plane, ``data``):
    - ``add_source_records(connector_type, entity, records, profile=None)``, ``source_records(...)``
    - ``create_bucket``, ``put_object``, ``get_object``, ``list_objects`` (moto's S3 when moto is active)
    - ``destination_records(flow_name, execution_id=None)``: what a run delivered

    Time and faults:
    - ``advance(timedelta)``: move the emulator's clock (scheduled runs materialise)
    - ``in_progress_polls`` / ``set_in_progress_polls(flow, n)``: describe polls a run stays InProgress
    - ``conflict_on_concurrent_start``: start_flow during a run in progress -> ConflictException
    - ``fail_next_execution(flow, message)``, ``fail_records(flow, predicate)``,
      ``invalidate_credentials(profile)``
    - ``set_quota(name, value)``: lower ``flows``, ``connector_profiles``, ``custom_connectors``
    - ``caller_arn``: the identity in ``createdBy``/``lastUpdatedBy`` (``{account}`` is replaced)
    """

    def __init__(self, seed: int = 0, strict: Optional[bool] = None, in_progress_polls: int = 0) -> None:
        self.seed = seed
        if strict is None:
            strict = os.environ.get("APPFLOW_EMU_STRICT", "") not in ("", "0", "false")
        self.strict = strict
        self.caller_arn = "arn:aws:iam::{account}:user/appflow-emu"
        self._lock = threading.RLock()
        self._states: Dict[Tuple[str, str], RegionState] = {}
        self.quotas = dict(DEFAULT_QUOTAS)
        self.data = DataPlane()
        self.in_progress_polls = int(in_progress_polls)
        self.conflict_on_concurrent_start = False
        self._polls: Dict[str, int] = {}
        self._forced: Dict[str, List[str]] = {}
        self.invalid_credentials: Set[str] = set()
        self.clock_offset = 0.0
        self.connector_implementations: Dict[str, Any] = {}  # custom connector label -> object
        self._added_entities: Dict[str, Dict[str, Any]] = {}  # connector type -> name -> Entity
        self._reset_ids()

    def _reset_ids(self) -> None:
        self._ids = random.Random(f"appflow_emu/{self.seed}/ids")
        self._request_ids = random.Random(f"appflow_emu/{self.seed}/requests")

    # -- state -----------------------------------------------------------------------------
    def state(self, region: str = DEFAULT_REGION, account_id: Optional[str] = None) -> RegionState:
        key = (account_id or current_account_id(), region)
        found = self._states.get(key)
        if found is None:
            with self._lock:
                found = self._states.get(key)
                if found is None:
                    found = self._states[key] = RegionState(self, key[0], key[1])
        return found

    def states(self) -> Mapping[Tuple[str, str], RegionState]:
        """Every (account, region) that has been touched."""
        return dict(self._states)

    def reset(self) -> None:
        with self._lock:
            self._states.clear()
            self.quotas = dict(DEFAULT_QUOTAS)
            self.data.reset()
            self._polls.clear()
            self._forced.clear()
            self.invalid_credentials.clear()
            self.clock_offset = 0.0
            self.connector_implementations.clear()
            self._added_entities.clear()
            self._reset_ids()

    def set_quota(self, name: str, value: int) -> None:
        if name not in DEFAULT_QUOTAS:
            raise KeyError(f"unknown quota {name!r}; known: {sorted(DEFAULT_QUOTAS)}")
        self.quotas[name] = int(value)

    # -- time ------------------------------------------------------------------------------
    def now(self) -> float:
        """The emulator's clock: the process clock (freezegun and time-machine move it) plus ``advance``."""
        return clock.now() + self.clock_offset

    def advance(self, delta: Union[timedelta, float]) -> None:
        """Move the emulator's clock forward; scheduled runs whose ticks are passed materialise now."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.clock_offset += seconds
        self.tick()

    def tick(self) -> None:
        """Materialise due scheduled runs in every region (done anyway on every AppFlow call)."""
        from appflow_emu.backend.executions import catch_up

        now = self.now()
        for state in list(self._states.values()):
            with state.lock:
                catch_up(state, now)

    # -- runs ------------------------------------------------------------------------------
    def set_in_progress_polls(self, flow_name: str, polls: int) -> None:
        self._polls[flow_name] = int(polls)

    def polls_for(self, flow_name: str) -> int:
        return self._polls.get(flow_name, self.in_progress_polls)

    def fail_next_execution(self, flow_name: str, message: str = "The flow run failed.") -> None:
        """The flow's next run ends in Error with this executionMessage."""
        with self._lock:
            self._forced.setdefault(flow_name, []).append(message)

    def take_forced_failure(self, flow_name: str) -> Optional[str]:
        with self._lock:
            queue = self._forced.get(flow_name)
            return queue.pop(0) if queue else None

    def fail_records(self, flow_name: str, predicate: Optional[Callable[[Dict[str, Any]], Any]]) -> None:
        """Records of this flow for which ``predicate(record)`` is true (or a message) fail to write.
        ``None`` removes the rule."""
        with self.data.lock:
            if predicate is None:
                self.data.record_failures.pop(flow_name, None)
            else:
                self.data.record_failures[flow_name] = predicate

    def invalidate_credentials(self, profile_name: str, invalid: bool = True) -> None:
        """The connector now rejects this profile's credentials: AppFlow answers
        ConnectorAuthenticationException where it checks them, and runs fail."""
        if invalid:
            self.invalid_credentials.add(profile_name)
        else:
            self.invalid_credentials.discard(profile_name)

    # -- test data -------------------------------------------------------------------------
    def add_source_records(self, connector_type: str, entity: str, records: Iterable[Dict[str, Any]],
                           profile: Optional[str] = None, check_fields: bool = True) -> None:
        """Seed records a SaaS source entity will return; active Event-triggered flows on it run.
        When the entity is known (catalogued, or added with ``add_entity``) every record's fields
        must be among its fields (else ValueError, nothing seeded); ``check_fields=False`` skips that."""
        from appflow_emu.backend.executions import run_event_flows
        from appflow_emu.catalog.connectors import normalize_connector_type

        rows = [dict(r) for r in records]
        ct = normalize_connector_type(connector_type)
        if check_fields:
            self.check_source_fields(ct, entity, rows)
        self.data.seed(ct, entity, rows, profile)
        now = self.now()
        for state in list(self._states.values()):
            with state.lock:
                run_event_flows(state, ct, entity, profile, rows, now)

    def source_records(self, connector_type: str, entity: str, profile: Optional[str] = None) -> List[Dict[str, Any]]:
        """The entity's current records (what a source reads, after any SaaS destination wrote)."""
        return [dict(r) for r in self.data.dataset(connector_type, entity, profile)]

    def add_entity(self, connector_type: str, entity: str, fields: Any, group: Optional[str] = None,
                   label: Optional[str] = None, parent: Optional[str] = None) -> None:
        """Add an entity to a SaaS connector's catalog, or replace a catalogued one (its fields,
        and its group/label/parent when given). ``fields``: a list of names (string fields) or of
        dicts ``{"name": "Amount", "type": "double", "primary_key": False, "timestamp": False,
        "read_only": False, "values": [...], "label": ..., "nullable": True}`` (``identifier``,
        ``fieldType``, ``isPrimaryKey``... are accepted too), or a ``{name: type}`` dict.
        ``parent`` makes it a nested entity, listed with ``entitiesPath=parent`` (name it
        ``parent/child`` as AppFlow does). Seen in every region; ``reset()`` forgets it."""
        from appflow_emu.catalog.connectors import normalize_connector_type
        from appflow_emu.catalog.entities import Entity, builtin_entities, fields_from_user

        ct = normalize_connector_type(connector_type)
        if ct in ("S3", "CustomConnector"):
            raise ValueError(f"{ct} entities are not catalogued: "
                             + ("put objects in the bucket instead" if ct == "S3"
                                else "they come from the custom connector's implementation"))
        if not entity or any(c.isspace() for c in entity):
            raise ValueError(f"entity name {entity!r} must be non-empty without whitespace")
        specs = fields_from_user(fields)
        added = self.added_entities(ct)
        old = added.get(entity) or next((e for e in builtin_entities(ct) if e.name == entity), None)
        known = [e for e in builtin_entities(ct)] + list(added.values())
        default_group = known[0].group if known else "Objects"
        with self._lock:
            self._added_entities.setdefault(ct, {})[entity] = Entity(
                name=entity,
                label=label or (old.label if old else entity),
                group=group or (old.group if old else default_group),
                fields=specs,
                parent=parent if parent is not None else (old.parent if old else None),
                nested=old.nested if old else False,
            )

    def added_entities(self, connector_type: str) -> Dict[str, Any]:
        """The entities ``add_entity`` added for this connector type (name -> Entity)."""
        return dict(self._added_entities.get(connector_type, {}))

    def check_source_fields(self, connector_type: str, entity: str, records: List[Dict[str, Any]]) -> None:
        """ValueError when a record has a field the entity (catalogued or added) does not have."""
        from appflow_emu.catalog.entities import builtin_entities

        known = self._added_entities.get(connector_type, {}).get(entity)
        if known is None:
            known = next((e for e in builtin_entities(connector_type) if e.name == entity), None)
        if known is None:
            return
        allowed = known.field_names
        for n, record in enumerate(records):
            if not allowed.issuperset(record):
                unknown = sorted(str(k) for k in record if k not in allowed)
                raise ValueError(
                    f"record {n} for {connector_type} entity {entity!r} has field(s) {', '.join(map(repr, unknown))} "
                    f"that the entity does not have (its fields: {', '.join(sorted(allowed))}). Add them with "
                    f"emu.add_entity({connector_type!r}, {entity!r}, fields=...), or pass check_fields=False."
                )

    def destination_records(self, flow_name: str, execution_id: Optional[str] = None,
                            region: str = DEFAULT_REGION, account_id: Optional[str] = None) -> List[Dict[str, Any]]:
        """The records a run of the flow delivered (the newest run when no id is given)."""
        key = (account_id or current_account_id(), region, flow_name)
        with self.data.lock:
            runs = self.data.delivered.get(key) or {}
            if execution_id is None:
                if not runs:
                    return []
                execution_id = next(reversed(runs))
            if execution_id not in runs:
                raise KeyError(f"flow {flow_name!r} has no execution {execution_id!r}")
            delivered: Any = runs[execution_id]
        if hasattr(delivered, "records"):  # an S3-like destination: read its objects back
            return list(delivered.records())
        return [dict(r) for r in delivered]

    def create_bucket(self, bucket: str) -> None:
        self.data.store().create_bucket(bucket)

    def put_object(self, bucket: str, key: str, body: Union[bytes, str]) -> None:
        store = self.data.store()
        if not store.bucket_exists(bucket):
            store.create_bucket(bucket)
        store.put(bucket, key, body.encode() if isinstance(body, str) else body)

    def get_object(self, bucket: str, key: str) -> bytes:
        return bytes(self.data.store().get(bucket, key))

    def list_objects(self, bucket: str, prefix: str = "") -> List[str]:
        return list(self.data.store().list(bucket, prefix))

    def register_connector_implementation(self, label: str, implementation: Any) -> None:
        """Plug a Python object in as the custom connector ``label`` (registered with
        RegisterConnector): flows through CustomConnector profiles of that label read with its
        ``read_records`` and write with its ``write_records``; ListConnectorEntities and
        DescribeConnectorEntity ask its ``list_entities`` / ``describe_entity``. See
        ``appflow_emu.catalog.custom`` (the protocol, ``InMemoryConnector``). ``None`` unplugs it;
        without one the label reads and writes the ``CustomConnector`` datasets."""
        from appflow_emu.catalog import custom

        custom.plug(self, label, implementation)

    # -- ids (deterministic from the seed) ---------------------------------------------------
    def new_uuid(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def random_chars(self, n: int, alphabet: str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") -> str:
        with self._lock:
            return "".join(self._ids.choice(alphabet) for _ in range(n))

    def new_request_id(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._request_ids.getrandbits(128), version=4))

    def caller_for(self, account_id: str) -> str:
        return self.caller_arn.replace("{account}", account_id)

    def __repr__(self) -> str:
        return f"<appflow_emu.Emulator seed={self.seed} states={sorted(self._states)}>"
