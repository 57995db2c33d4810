"""AppFlow's AWS neighbours for one emulator, and the one place that picks which variant of each
answers.

For every neighbour (S3, Secrets Manager, Lambda, EventBridge, Glue) the rule is the same, and it is written here only:
the endpoint configured for that service (server mode's per-service option, else ``--aws-endpoint``)
wins; else moto's service while ``moto.mock_aws`` is active; else the emulator's embedded stand-in.
Lambda adds the functions registered by name (``emu.register_lambda``, ``serve --lambda``), which
come first. Nothing below the backend asks whether moto is active: it asks a :class:`Neighbours`.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Dict, Optional, Tuple

from appflow_emu.aws import moto
from appflow_emu.aws.events import EndpointEvents, EventBus, MotoEvents
from appflow_emu.aws.glue import EmbeddedGlue, EndpointGlue, GlueCatalog, MotoGlue
from appflow_emu.aws.lambdas import (
    EndpointFunction,
    Function,
    FunctionRef,
    FunctionRegistry,
    ZipFunction,
    moto_function,
    parse_function_arn,
)
from appflow_emu.aws.s3 import EmbeddedStore, ObjectStore, store_for
from appflow_emu.aws.secrets import EmbeddedSecrets, EndpointSecrets, MotoSecrets, SecretStore

SERVICES = ("aws", "s3", "lambda", "events")  # the endpoint settings: every service, or one


class Neighbours:
    """S3, Secrets Manager, Lambda, EventBridge and Glue as this emulator sees them (see the module
    docstring). The embedded stand-ins are made on first use: a mock started and stopped without
    calls (a test's fixture) never pays for them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._s3: Optional[EmbeddedStore] = None
        self._secrets: Optional[EmbeddedSecrets] = None
        self._glue: Optional[EmbeddedGlue] = None
        self.functions = FunctionRegistry()
        self.endpoints: Dict[str, Optional[str]] = dict.fromkeys(SERVICES)
        self._lock = threading.Lock()
        self._zips: Dict[Tuple[str, str], ZipFunction] = {}  # (function ARN, code digest) -> function

    @property
    def s3_embedded(self) -> EmbeddedStore:
        if self._s3 is None:
            with self._lock:
                if self._s3 is None:
                    self._s3 = EmbeddedStore()
        return self._s3

    @property
    def secrets_embedded(self) -> EmbeddedSecrets:
        if self._secrets is None:
            with self._lock:
                if self._secrets is None:
                    self._secrets = EmbeddedSecrets()
        return self._secrets

    @property
    def glue_embedded(self) -> EmbeddedGlue:
        if self._glue is None:
            with self._lock:
                if self._glue is None:
                    self._glue = EmbeddedGlue(self._clock)
        return self._glue

    def endpoint(self, service: str) -> Optional[str]:
        """The endpoint URL ``service`` is reached at (its own, else the general one), or None."""
        return self.endpoints.get(service) or self.endpoints["aws"]

    # -- S3 --------------------------------------------------------------------------------------
    def s3(self, account_id: str) -> ObjectStore:
        return store_for(account_id, self.s3_embedded, self.endpoint("s3"))

    def s3_is_embedded(self) -> bool:
        return self.endpoint("s3") is None and not moto.moto_active()

    # -- Secrets Manager ---------------------------------------------------------------------------
    def secrets(self, account_id: str, region: str, now: float, version_ids: Callable[[], str]) -> SecretStore:
        """Where new secrets of this account and region go."""
        endpoint = self.endpoint("secretsmanager")
        if endpoint:
            return EndpointSecrets(account_id, region, endpoint)
        if moto.moto_active():
            return MotoSecrets(account_id, region)
        return self.secrets_embedded.in_region(account_id, region, now, version_ids)

    def secrets_holding(self, arn: str, account_id: str, region: str, now: float,
                        version_ids: Callable[[], str]) -> SecretStore:
        """Where the secret ``arn`` is: the embedded store when it made it (a profile created before
        moto started), else where new secrets go."""
        if self.secrets_embedded.find(arn) is not None:
            return self.secrets_embedded.in_region(account_id, region, now, version_ids)
        return self.secrets(account_id, region, now, version_ids)

    # -- EventBridge and Glue -------------------------------------------------------------------------
    def events(self, account_id: str, region: str) -> Optional[EventBus]:
        """The EventBridge AppFlow's notifications go to, or None (no embedded one: the emulator keeps
        its own record of them)."""
        endpoint = self.endpoint("events")
        if endpoint:
            return EndpointEvents(account_id, region, endpoint)
        if moto.moto_active():
            return MotoEvents(account_id, region)
        return None

    def glue(self, account_id: str, region: str) -> GlueCatalog:
        endpoint = self.endpoint("glue")
        if endpoint:
            return EndpointGlue(account_id, region, endpoint)
        if moto.moto_active():
            return MotoGlue(account_id, region)
        return self.glue_embedded.in_region(account_id, region)

    def glue_is_embedded(self) -> bool:
        return self.endpoint("glue") is None and not moto.moto_active()

    # -- Lambda ------------------------------------------------------------------------------------
    def function(self, arn: str) -> Optional[Tuple[FunctionRef, Function]]:
        """The function answering ``arn``, first match wins: one registered by name or ARN; moto's
        (while moto is active); the Lambda at the endpoint. None when nothing answers."""
        ref = parse_function_arn(arn)
        if ref is None:
            return None
        found = self.functions.lookup(ref)
        if found is not None:
            return ref, found
        if moto.moto_active():
            zipped = moto_function(ref)
            if zipped is not None:
                digest, function = zipped
                with self._lock:
                    function = self._zips.setdefault((ref.arn, digest), function)
                return ref, function
        endpoint = self.endpoint("lambda")
        if endpoint:
            return ref, EndpointFunction(endpoint)
        return None

    def close(self) -> None:
        """Release what functions from zips hold (their extracted code): the mock stopped."""
        if not self._zips:
            return
        with self._lock:
            zips, self._zips = list(self._zips.values()), {}
        for function in zips:
            function.close()

    def __repr__(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.endpoints.items() if v) or "embedded or moto"
        return f"<Neighbours {where}>"
