"""Secrets Manager, AppFlow's neighbour for connector profile credentials: one port
(:class:`SecretStore`) and its three variants.

On AWS a connector profile's credentials are a secret in the account's Secrets Manager (its ARN is
the profile's ``credentialsArn``); a custom connector reads it itself with ``GetSecretValue``.

- :class:`EmbeddedSecrets`: the emulator's own secrets. In process (and in server mode) the
  emulator answers ``GetSecretValue`` for these, and only these (``intercept/hook.py``); every other
  secret and every other Secrets Manager call is left alone.
- :class:`MotoSecrets`: moto's Secrets Manager while ``moto.mock_aws`` is active.
- :class:`EndpointSecrets`: the Secrets Manager at an endpoint URL (server mode's ``--aws-endpoint``).

A secret that is not there raises :class:`SecretNotFound`; any other error Secrets Manager answers
(or no answer) raises :class:`~appflow_emu.aws.moto.NeighbourRefused`.

Secret values never show in a repr, and never reach a saved state document in clear: a snapshot
holds, for each embedded secret, a reference (an HMAC of the value under a key that exists only in
this process's memory) that :data:`VAULT` resolves in this process only.
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Protocol, Tuple

from appflow_emu.aws import moto


class Secret:
    """Holds a secret value; never shows it in a repr, str or equality dump, cannot be pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def reveal(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return "Secret(<redacted>)" if self._value is not None else "Secret(None)"

    __str__ = __repr__

    def __copy__(self) -> "Secret":
        return Secret(self._value)

    def __deepcopy__(self, memo: Dict[int, Any]) -> "Secret":
        return Secret(copy.deepcopy(self._value, memo))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):  # type: ignore[no-untyped-def]
        raise TypeError("secret values cannot be pickled")


class SecretNotFound(KeyError):
    """No such secret (or it was deleted)."""


class SecretStore(Protocol):
    """The slice of Secrets Manager AppFlow needs, in one account and region."""

    def create(self, name: str, value: str, suffix: str) -> str: ...  # the new secret's ARN

    def update(self, arn: str, value: str) -> None: ...

    def delete(self, arn: str) -> None: ...

    def get(self, arn: str) -> str: ...  # SecretNotFound if missing


# -- embedded ------------------------------------------------------------------------------------

@dataclass
class StoredSecret:
    arn: str
    name: str
    value: Secret
    created_at: float
    version_id: str


class EmbeddedSecrets:
    """The emulator's own secrets, every account and region, by ARN; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_arn: Dict[str, StoredSecret] = {}

    def in_region(self, account_id: str, region: str, now: float, version_ids: Any) -> "EmbeddedRegionSecrets":
        return EmbeddedRegionSecrets(self, account_id, region, now, version_ids)

    def put(self, secret: StoredSecret) -> None:
        with self._lock:
            self._by_arn[secret.arn] = secret

    def find(self, secret_id: str) -> Optional[StoredSecret]:
        """The secret named by ``secret_id``: its ARN, or its name when that names exactly one."""
        with self._lock:
            found = self._by_arn.get(secret_id)
            if found is not None:
                return found
            named = [s for s in self._by_arn.values() if s.name == secret_id]
            return named[0] if len(named) == 1 else None

    def remove(self, arn: str) -> None:
        with self._lock:
            if self._by_arn.pop(arn, None) is None:
                raise SecretNotFound(arn)

    def clear(self) -> None:
        with self._lock:
            self._by_arn.clear()

    def take(self, other: "EmbeddedSecrets") -> None:
        """Hold what ``other`` holds (a restored state built aside)."""
        with other._lock:
            secrets = dict(other._by_arn)
        with self._lock:
            self._by_arn = secrets

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_arn)

    # -- saved state ----------------------------------------------------------------------------
    def export(self) -> List[Dict[str, Any]]:
        """Every secret as data for a state document: its value as a reference only (see
        :data:`VAULT`)."""
        with self._lock:
            secrets = list(self._by_arn.values())
        return [{"arn": s.arn, "name": s.name, "created_at": s.created_at, "version_id": s.version_id,
                 "value_ref": VAULT.keep(s.value.reveal())} for s in secrets]

    def replace(self, entries: List[Dict[str, Any]]) -> List[str]:
        """Take a document's secrets; returns the ARNs whose values this process does not hold
        (saved by another process): they are restored without a value."""
        missing: List[str] = []
        restored: Dict[str, StoredSecret] = {}
        for entry in entries:
            value = VAULT.get(entry["value_ref"])
            if value is None:
                missing.append(entry["arn"])
            restored[entry["arn"]] = StoredSecret(entry["arn"], entry["name"], Secret(value),
                                                  entry["created_at"], entry["version_id"])
        with self._lock:
            self._by_arn = restored
        return missing

    def __repr__(self) -> str:
        return f"<EmbeddedSecrets {len(self)} secrets>"


class EmbeddedRegionSecrets:
    """:class:`EmbeddedSecrets` seen from one account and region (the :class:`SecretStore` port)."""

    def __init__(self, store: EmbeddedSecrets, account_id: str, region: str, now: float, version_ids: Any) -> None:
        self.store, self.account_id, self.region, self.now, self.version_ids = store, account_id, region, now, version_ids

    def create(self, name: str, value: str, suffix: str) -> str:
        arn = f"arn:aws:secretsmanager:{self.region}:{self.account_id}:secret:{name}-{suffix}"
        self.store.put(StoredSecret(arn, name, Secret(value), self.now, self.version_ids()))
        return arn

    def update(self, arn: str, value: str) -> None:
        found = self.store.find(arn)
        if found is None:
            raise SecretNotFound(arn)
        self.store.put(StoredSecret(found.arn, found.name, Secret(value), found.created_at, self.version_ids()))

    def delete(self, arn: str) -> None:
        self.store.remove(arn)

    def get(self, arn: str) -> str:
        found = self.store.find(arn)
        if found is None or found.value.reveal() is None:
            raise SecretNotFound(arn)
        return str(found.value.reveal())


class Vault:
    """Secret values a state document refers to, held in this process's memory only. A reference
    is an HMAC-SHA256 of the value under a random key made when the process starts: it reveals
    nothing of the value, and means nothing in another process."""

    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._lock = threading.Lock()
        self._values: Dict[str, str] = {}

    def keep(self, value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        ref = hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        with self._lock:
            self._values[ref] = value
        return ref

    def get(self, ref: Optional[str]) -> Optional[str]:
        if ref is None:
            return None
        with self._lock:
            return self._values.get(ref)


VAULT = Vault()


# -- moto's Secrets Manager, or the one at an endpoint -------------------------------------------

class MotoSecrets:
    """moto's Secrets Manager in one account and region (or the one at ``endpoint_url``)."""

    def __init__(self, account_id: str, region: str, endpoint_url: Optional[str] = None) -> None:
        self.account_id, self.region, self.endpoint_url = account_id, region, endpoint_url

    @property
    def _client(self) -> Any:
        return moto.client("secretsmanager", self.account_id, self.region, self.endpoint_url)

    def _call(self, operation: str, method: str, secret: str, not_found: bool = True, **kwargs: Any) -> Any:
        """One Secrets Manager call. A secret that is not there (or deleted, when ``not_found``)
        raises SecretNotFound; any other error answer, or no answer, NeighbourRefused."""
        try:
            return getattr(self._client, method)(**kwargs)
        except moto.CALL_ERRORS as e:
            refused = moto.refused("Secrets Manager", operation, e, secret)
            if not_found and refused.code in ("ResourceNotFoundException", "InvalidRequestException"):
                raise SecretNotFound(secret) from None
            raise refused from None

    def create(self, name: str, value: str, suffix: str) -> str:
        answer = self._call("CreateSecret", "create_secret", name, not_found=False, Name=name, SecretString=value)
        return str(answer["ARN"])

    def update(self, arn: str, value: str) -> None:
        self._call("PutSecretValue", "put_secret_value", arn, SecretId=arn, SecretString=value)

    def delete(self, arn: str) -> None:
        self._call("DeleteSecret", "delete_secret", arn, SecretId=arn, ForceDeleteWithoutRecovery=True)

    def get(self, arn: str) -> str:
        return str(self._call("GetSecretValue", "get_secret_value", arn, SecretId=arn)["SecretString"])

    def __repr__(self) -> str:
        where = f" {self.endpoint_url}" if self.endpoint_url else ""
        return f"<{type(self).__name__}{where} {self.account_id}/{self.region}>"


class EndpointSecrets(MotoSecrets):
    """The Secrets Manager at an endpoint URL (a ``moto_server``, LocalStack...)."""

    def __init__(self, account_id: str, region: str, endpoint_url: str) -> None:
        super().__init__(account_id, region, endpoint_url)


def secret_region(arn: str) -> Tuple[str, str]:
    """(account, region) of a Secrets Manager ARN."""
    parts = arn.split(":")
    return parts[4], parts[3]
