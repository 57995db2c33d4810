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
from typing import Any, Dict, Mapping, Optional, Tuple

from appflow_emu.backend.models import ConnectorProfile, ConnectorRegistration, Flow
from appflow_emu.backend.pagination import Index

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

    - ``state(region=..., account_id=...)``: read access to one account and region.
    - ``reset()``: forget everything (ids restart from the seed).
    - ``set_quota(name, value)``: lower a service quota (``flows``, ``connector_profiles``,
      ``custom_connectors``) to test quota errors cheaply.
    - ``caller_arn``: the identity written to ``createdBy``/``lastUpdatedBy``
      (``{account}`` is replaced by the account id).
    """

    def __init__(self, seed: int = 0, strict: Optional[bool] = None) -> None:
        self.seed = seed
        if strict is None:
            strict = os.environ.get("APPFLOW_EMU_STRICT", "") not in ("", "0", "false")
        self.strict = strict
        self.caller_arn = "arn:aws:iam::{account}:user/appflow-emu"
        self._lock = threading.RLock()
        self._states: Dict[Tuple[str, str], RegionState] = {}
        self.quotas = dict(DEFAULT_QUOTAS)
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
            self._reset_ids()

    def set_quota(self, name: str, value: int) -> None:
        if name not in DEFAULT_QUOTAS:
            raise KeyError(f"unknown quota {name!r}; known: {sorted(DEFAULT_QUOTAS)}")
        self.quotas[name] = int(value)

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
