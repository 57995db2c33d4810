"""What one emulator holds, and what an operation gets besides its parameters.

``Runtime`` is the emulator's inside: state per account and region (created on first use, so
isolation and ``reset()`` fall out of one dictionary, like moto's ``BackendDict``), the data plane
runs read and write, the clock offset, quotas, the entities tests added, and the seeded id
generators. Operations reach it through :class:`Call`; the user's handle
(:class:`appflow_emu.Emulator`) drives it through its verbs. Neither is part of the public API.

Each region's state has one lock, held for the whole of every operation on it, so concurrent
clients see consistent state.
"""
from __future__ import annotations

import functools
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Set, Tuple

from appflow_emu.aws.environment import getenv
from appflow_emu.aws.neighbours import Neighbours
from appflow_emu.aws.s3 import ObjectStore
from appflow_emu.backend import clock
from appflow_emu.backend.pagination import Index
from appflow_emu.backend.resources import ConnectorProfile, ConnectorRegistration, Flow
from appflow_emu.catalog.entities import Entity, merged
from appflow_emu.model.errors import counted, flow_not_found, profile_not_found, registration_not_found
from appflow_emu.model.regions import appflow_region
from appflow_emu.simulator.dataplane import DataPlane, Scope

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

# Service quotas (every account and region alike). The handle can lower them for tests.
DEFAULT_QUOTAS = {"connector_profiles": 100, "flows": 1000, "custom_connectors": 100}
DEFAULT_CALLER_ARN = "arn:aws:iam::{account}:user/appflow-emu"


def current_account_id() -> str:
    """Like moto: ``MOTO_ACCOUNT_ID`` picks the account, so ARNs line up with moto's resources."""
    return getenv("MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID


_VERSION_4 = (4 << 76) | (0x8000 << 48)  # the version and variant bits of a version 4 UUID
_VERSION_4_MASK = ~((0xF000 << 64) | (0xC000 << 48))


def _uuid4_text(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))``, without building the UUID object (hot path)."""
    h = "%032x" % ((bits & _VERSION_4_MASK) | _VERSION_4)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@functools.lru_cache(maxsize=64)
def _initial_state(seed: int, purpose: str) -> Tuple[Any, ...]:
    return random.Random(f"appflow_emu/{seed}/{purpose}").getstate()


def _generator(seed: int, purpose: str) -> random.Random:
    """A generator seeded from ``seed`` for ``purpose``: seeding from text hashes it (SHA-512) and
    runs the Mersenne Twister's key schedule, about 8 us, paid once per seed, not per mock start."""
    generator = random.Random.__new__(random.Random)
    generator.setstate(_initial_state(seed, purpose))
    return generator


@dataclass
class FlowFaults:
    """What a test armed for one flow (``emu.fail_next_execution``, ``fail_records``,
    ``set_in_progress_polls``); forgotten with the flow."""

    failures: List[str] = field(default_factory=list)  # next runs end in Error with these messages
    record_predicate: Optional[Callable[[Dict[str, Any]], Any]] = None
    polls: Optional[int] = None  # describe polls an on-demand run stays InProgress


class RegionState:
    """Everything one account holds in one region."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.lock = threading.RLock()
        self.profiles: Index[ConnectorProfile] = Index()
        self.flows: Index[Flow] = Index()
        self.registrations: Index[ConnectorRegistration] = Index()
        # (operation, client token) -> (time, sha256 of the request, first answer)
        self.client_tokens: Dict[Tuple[str, str], Tuple[float, str, Dict[str, Any]]] = {}
        self.kms_arn: Optional[str] = None
        self.scheduled: Set[str] = set()  # names of active Scheduled flows (ticked lazily)
        # flow name -> ((schemaVersion, activation time), time before which it cannot fire)
        self.next_due: Dict[str, Tuple[Tuple[int, Optional[float]], float]] = {}
        # what the test armed through the handle
        self.faults: Dict[str, FlowFaults] = {}  # flow name ->
        self.rejected_credentials: Set[str] = set()  # profile names whose credentials the connector rejects
        self.connector_implementations: Dict[str, Any] = {}  # custom connector label -> object
        # flow notifications published in this account and region, oldest first (backend/notifications.py),
        # and the open five-minute interval of each event-triggered flow: name -> (start, triggers)
        self.notifications: List[Dict[str, Any]] = []
        self.event_windows: Dict[str, Tuple[float, int]] = {}
        # notifications published but not yet put on EventBridge: delivered once the lock is released
        self.outbox: List[Dict[str, Any]] = []
        self.delivery_lock = threading.Lock()

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:appflow:{self.region}:{self.account_id}:{kind}/{name}"

    # -- lookups that answer AppFlow's not-found errors ---------------------------------------
    def flow(self, name: str) -> Flow:
        found = self.flows.get(name)
        if found is None:
            raise flow_not_found(name)
        return found

    def profile(self, name: str) -> ConnectorProfile:
        found = self.profiles.get(name)
        if found is None:
            raise profile_not_found(name)
        return found

    def registration(self, label: str) -> ConnectorRegistration:
        found = self.registrations.get(label)
        if found is None:
            raise registration_not_found(label)
        return found

    def __repr__(self) -> str:
        return (f"<RegionState {self.account_id}/{self.region}: {counted(len(self.profiles), 'profile')}, "
                f"{counted(len(self.flows), 'flow')}, {counted(len(self.registrations), 'registered connector')}>")


class Call:
    """What a handler gets besides its parameters: the runtime, the region's state, the operation's
    name, and the time of the call and the caller's ARN, each read once, when first asked for
    (a read-only call such as ListFlows asks for neither)."""

    __slots__ = ("runtime", "state", "operation", "account_id", "_now", "_caller_arn")

    def __init__(self, runtime: "Runtime", state: RegionState, operation: str, account_id: str) -> None:
        self.runtime = runtime
        self.state = state
        self.operation = operation
        self.account_id = account_id
        self._now: Optional[float] = None
        self._caller_arn: Optional[str] = None

    @property
    def now(self) -> float:
        """The emulator's clock at the call (the same value however often it is read)."""
        now = self._now
        if now is None:
            now = self._now = self.runtime.now()
        return now

    @property
    def caller_arn(self) -> str:
        caller = self._caller_arn
        if caller is None:
            caller = self._caller_arn = self.runtime.caller_for(self.account_id)
        return caller


class Runtime:
    """The emulator's inside (see the module docstring)."""

    def __init__(self, seed: int = 0, strict: bool = False, in_progress_polls: int = 0) -> None:
        self.seed = seed
        self.strict = strict
        self.lock = threading.RLock()
        self.states: Dict[Tuple[str, str], RegionState] = {}
        self.quotas = dict(DEFAULT_QUOTAS)
        self.data = DataPlane()
        self.in_progress_polls = int(in_progress_polls)
        self.conflict_on_concurrent_start = False
        self.caller_arn = DEFAULT_CALLER_ARN
        self.extra_regions: FrozenSet[str] = frozenset()  # regions the test added to AppFlow's (a setting)
        self.clock_offset = 0.0
        self.aws = Neighbours(self.now)  # S3, Secrets Manager, Lambda, EventBridge, Glue (aws/neighbours.py)
        # entities tests added: scope (None: every account and region) -> connector type -> name -> entity
        self.added_entities: Dict[Optional[Tuple[str, str]], Dict[str, Dict[str, Entity]]] = {}
        self._reset_ids()

    def _reset_ids(self) -> None:
        # Made on first use: a mock started and stopped without calls (a test's fixture) never
        # pays for them.
        self._ids: Optional[random.Random] = None
        self._request_ids: Optional[random.Random] = None

    def _id_generator(self) -> random.Random:
        if self._ids is None:
            self._ids = _generator(self.seed, "ids")
        return self._ids

    def _request_id_generator(self) -> random.Random:
        if self._request_ids is None:
            self._request_ids = _generator(self.seed, "requests")
        return self._request_ids

    def reset(self) -> None:
        with self.lock:
            self.states.clear()
            self.quotas = dict(DEFAULT_QUOTAS)
            self.data.reset()
            self.aws.s3_embedded.clear()
            self.aws.secrets_embedded.clear()
            self.aws.glue_embedded.clear()
            self.clock_offset = 0.0
            self.added_entities.clear()
            self._reset_ids()

    # -- saved state (backend/snapshots.py) ------------------------------------------------------
    def id_generators(self) -> Tuple[random.Random, random.Random]:
        """The generators of resource ids and of request ids (their positions are saved)."""
        with self.lock:
            return self._id_generator(), self._request_id_generator()

    def set_id_generators(self, ids: Tuple[Any, ...], requests: Tuple[Any, ...]) -> None:
        with self.lock:
            self._id_generator().setstate(ids)
            self._request_id_generator().setstate(requests)

    def take_state_of(self, other: "Runtime") -> None:
        """Replace everything this runtime holds with what ``other`` holds (a restored state, built
        aside); this runtime keeps its lock, its strictness, its extra regions and its neighbours
        (endpoints, registered functions), whose embedded S3 objects and secrets take ``other``'s."""
        with self.lock:
            for name, value in vars(other).items():
                if name not in ("lock", "strict", "aws", "extra_regions"):
                    setattr(self, name, value)
            self.aws.s3_embedded.replace_contents(other.aws.s3_embedded.contents())
            self.aws.secrets_embedded.take(other.aws.secrets_embedded)
            self.aws.glue_embedded.take(other.aws.glue_embedded)

    # -- state -----------------------------------------------------------------------------
    def state(self, region: str, account_id: str) -> RegionState:
        key = (account_id, region)
        found = self.states.get(key)
        if found is None:
            with self.lock:
                found = self.states.get(key)
                if found is None:
                    found = self.states[key] = RegionState(account_id, region)
        return found

    def served_region(self, region: str) -> Optional[str]:
        """The region whose state answers a call for ``region``: where AppFlow exists
        (``model/regions.py``: the region itself, or the one an alias stands for), or one of the
        regions the test added; None elsewhere (no AppFlow endpoint there)."""
        served = appflow_region(region)
        if served is None and region in self.extra_regions:
            return region
        return served

    def region_states(self) -> List[RegionState]:
        with self.lock:
            return list(self.states.values())

    # -- time ------------------------------------------------------------------------------
    def now(self) -> float:
        """The emulator's clock: the process clock (freezegun and time-machine move it) plus ``advance``."""
        return clock.now() + self.clock_offset

    # -- ids (deterministic from the seed) ---------------------------------------------------
    def new_uuid(self) -> str:
        with self.lock:
            return _uuid4_text(self._id_generator().getrandbits(128))

    def random_chars(self, n: int, alphabet: str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") -> str:
        with self.lock:
            choice = self._id_generator().choice
            return "".join(choice(alphabet) for _ in range(n))

    def new_request_id(self) -> str:
        # No lock: getrandbits is one call into C, atomic (every answer asks for an id).
        generator = self._request_ids
        if generator is None:
            with self.lock:
                generator = self._request_id_generator()
        return _uuid4_text(generator.getrandbits(128))

    def caller_for(self, account_id: str) -> str:
        return self.caller_arn.replace("{account}", account_id)

    def managed_kms_arn(self, state: RegionState) -> str:
        """AppFlow's managed key: one per account and region."""
        if state.kms_arn is None:
            state.kms_arn = f"arn:aws:kms:{state.region}:{state.account_id}:key/{self.new_uuid()}"
        return state.kms_arn

    # -- data --------------------------------------------------------------------------------
    @property
    def s3_endpoint(self) -> Optional[str]:
        """The URL of the S3 runs use (server mode), or None: moto's or the embedded store."""
        return self.aws.endpoint("s3")

    def store(self, account_id: Optional[str] = None) -> ObjectStore:
        """The S3 runs of this account read and write (``aws/neighbours.py`` picks which)."""
        return self.aws.s3(account_id or current_account_id())

    def entities(self, connector_type: str, scope: Optional[Tuple[str, str]] = None) -> Dict[str, Entity]:
        """A connector's entities as seen from an (account, region): the catalog's, then those
        added for every account and region, then those added for that one (None: none)."""
        added: Dict[str, Entity] = dict(self.added_entities.get(None, {}).get(connector_type, {}))
        if scope is not None:
            added.update(self.added_entities.get(scope, {}).get(connector_type, {}))
        return merged(connector_type, added)


def profile_scope(state: RegionState, profile: Optional[str]) -> Scope:
    """Where SaaS data seen through a profile of this account and region lives in the data plane."""
    return (state.account_id, state.region, profile)
