"""Where S3-shaped data lives during a run: the emulator's own store, or moto's S3 when it is active.

``store_for(account_id, embedded)`` picks moto's S3 (that account's buckets) while
``moto.mock_aws`` is active, so a flow's output can be read with a plain boto3 ``s3`` client and a
test's ``put_object`` feeds an S3 source; the embedded in-memory store otherwise. moto is never
imported here: if the test never imported it, it cannot be active.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Dict, List, Optional, Protocol, runtime_checkable

import botocore.session
from botocore.config import Config


@runtime_checkable
class ObjectStore(Protocol):
    """The slice of S3 the simulator needs. Keys are returned sorted, like S3 lists them."""

    def create_bucket(self, bucket: str) -> None: ...

    def bucket_exists(self, bucket: str) -> bool: ...

    def put(self, bucket: str, key: str, body: bytes) -> None: ...

    def get(self, bucket: str, key: str) -> bytes: ...  # KeyError if missing

    def list(self, bucket: str, prefix: str = "") -> List[str]: ...

    def delete(self, bucket: str, key: str) -> None: ...

    def buckets(self) -> List[str]: ...  # sorted


class NoSuchBucket(KeyError):
    """The bucket does not exist (a KeyError, so ``get`` callers need only one except)."""


class EmbeddedStore:
    """In-memory buckets; thread-safe. Used whenever moto is not active."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: Dict[str, Dict[str, bytes]] = {}

    def create_bucket(self, bucket: str) -> None:
        with self._lock:
            self._buckets.setdefault(bucket, {})

    def bucket_exists(self, bucket: str) -> bool:
        with self._lock:
            return bucket in self._buckets

    def _bucket(self, bucket: str) -> Dict[str, bytes]:
        try:
            return self._buckets[bucket]
        except KeyError:
            raise NoSuchBucket(bucket) from None

    def put(self, bucket: str, key: str, body: bytes) -> None:
        # bytes(b) of a bytes object is b itself: a file's bytes are kept, not copied (a
        # bytearray or memoryview is copied, so that the caller cannot change the object).
        with self._lock:
            self._bucket(bucket)[key] = bytes(body)

    def get(self, bucket: str, key: str) -> bytes:
        with self._lock:
            return self._bucket(bucket)[key]

    def list(self, bucket: str, prefix: str = "") -> List[str]:
        with self._lock:
            return sorted(k for k in self._bucket(bucket) if k.startswith(prefix))

    def delete(self, bucket: str, key: str) -> None:
        with self._lock:
            self._bucket(bucket).pop(key, None)

    def buckets(self) -> List[str]:
        with self._lock:
            return sorted(self._buckets)

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()

    def contents(self) -> Dict[str, Dict[str, bytes]]:
        """Every bucket and object (a copy of the mapping; the bodies are immutable bytes)."""
        with self._lock:
            return {bucket: dict(objects) for bucket, objects in self._buckets.items()}

    def replace_contents(self, buckets: Dict[str, Dict[str, bytes]]) -> None:
        with self._lock:
            self._buckets = {bucket: dict(objects) for bucket, objects in buckets.items()}

    def __repr__(self) -> str:
        with self._lock:
            return f"<EmbeddedStore {len(self._buckets)} buckets>"


# -- moto ------------------------------------------------------------------------------------

def moto_active() -> bool:
    """True while ``moto.mock_aws`` (moto 5; ``mock_s3`` etc. on moto 4) is active in this process.

    moto's ``BotocoreStubber`` (``moto.core.models.botocore_stubber``) is the switch moto itself
    flips in ``_enable_patching``/``_disable_patching``; server and proxy mode do not use it,
    and are not supported here (their S3 lives in another process).
    """
    models = sys.modules.get("moto.core.models")
    if models is None:
        return False
    stubber = getattr(models, "botocore_stubber", None)
    if stubber is not None:
        return bool(getattr(stubber, "enabled", False))
    mock_cls = getattr(models, "MockAWS", None)  # pragma: no cover - other moto layouts
    return bool(getattr(mock_cls, "_nested_count", 0))  # pragma: no cover


_FAKE_KEY = "FOOBARKEY"  # moto's own fake credentials: only for signing, moto checks nothing
_FAKE_SECRET = "FOOBARSECRET"


class MotoStore:
    """moto's S3, through a botocore ``s3`` client created once per account and cached.

    The account is ``MOTO_ACCOUNT_ID`` (as moto picks it), sent as moto's ``x-moto-account-id``
    header so it does not depend on the fake access key. Calls go through moto's stubber while it
    is enabled; they must not be made when moto is inactive (``store_for`` ensures that).
    """

    _clients: Dict[str, Any] = {}
    _clients_lock = threading.Lock()

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id

    @classmethod
    def client_for(cls, account_id: str) -> Any:
        client = cls._clients.get(account_id)
        if client is not None:
            return client
        with cls._clients_lock:
            client = cls._clients.get(account_id)
            if client is None:
                session = botocore.session.Session()
                client = session.create_client(
                    "s3", region_name="us-east-1", aws_access_key_id=_FAKE_KEY,
                    aws_secret_access_key=_FAKE_SECRET,
                    config=Config(retries={"max_attempts": 1}),
                )

                def add_account(request: Any, **kwargs: Any) -> None:
                    request.headers["x-moto-account-id"] = account_id

                client.meta.events.register("before-sign.s3", add_account)
                cls._clients[account_id] = client
        return client

    @property
    def _client(self) -> Any:
        return self.client_for(self.account_id)

    @staticmethod
    def _code(error: Exception) -> str:
        response = getattr(error, "response", None) or {}
        return str(response.get("Error", {}).get("Code", ""))

    def create_bucket(self, bucket: str) -> None:
        try:
            self._client.create_bucket(Bucket=bucket)
        except Exception as e:  # noqa: BLE001 - botocore ClientError
            if self._code(e) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self._client.head_bucket(Bucket=bucket)
            return True
        except Exception as e:  # noqa: BLE001
            if self._code(e) in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise

    def put(self, bucket: str, key: str, body: bytes) -> None:
        try:
            self._client.put_object(Bucket=bucket, Key=key, Body=bytes(body))
        except Exception as e:  # noqa: BLE001
            if self._code(e) == "NoSuchBucket":
                raise NoSuchBucket(bucket) from None
            raise

    def get(self, bucket: str, key: str) -> bytes:
        try:
            return bytes(self._client.get_object(Bucket=bucket, Key=key)["Body"].read())
        except Exception as e:  # noqa: BLE001
            if self._code(e) in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            if self._code(e) == "NoSuchBucket":
                raise NoSuchBucket(bucket) from None
            raise

    def list(self, bucket: str, prefix: str = "") -> List[str]:
        keys: List[str] = []
        kwargs: Dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            try:
                page = self._client.list_objects_v2(**kwargs)
            except Exception as e:  # noqa: BLE001
                if self._code(e) == "NoSuchBucket":
                    raise NoSuchBucket(bucket) from None
                raise
            keys.extend(item["Key"] for item in page.get("Contents", ()))
            if not page.get("IsTruncated"):
                return sorted(keys)
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    def delete(self, bucket: str, key: str) -> None:
        self._client.delete_object(Bucket=bucket, Key=key)

    def buckets(self) -> List[str]:
        return sorted(b["Name"] for b in self._client.list_buckets().get("Buckets", ()))

    def __repr__(self) -> str:
        return f"<MotoStore account={self.account_id}>"


class EndpointStore(MotoStore):
    """The S3 at an endpoint URL (a ``moto_server``, MinIO... started next to a server-mode
    emulator), through a botocore ``s3`` client per (account, endpoint), path-style addressing."""

    _endpoint_clients: Dict[Any, Any] = {}

    def __init__(self, account_id: str, endpoint_url: str) -> None:
        super().__init__(account_id)
        self.endpoint_url = endpoint_url

    @property
    def _client(self) -> Any:
        key = (self.account_id, self.endpoint_url)
        client = self._endpoint_clients.get(key)
        if client is None:
            with self._clients_lock:
                client = self._endpoint_clients.get(key)
                if client is None:
                    client = botocore.session.Session().create_client(
                        "s3", region_name="us-east-1", endpoint_url=self.endpoint_url,
                        aws_access_key_id=_FAKE_KEY, aws_secret_access_key=_FAKE_SECRET,
                        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
                    )
                    account_id = self.account_id

                    def add_account(request: Any, **kwargs: Any) -> None:
                        request.headers["x-moto-account-id"] = account_id  # moto_server's account; others ignore it

                    client.meta.events.register("before-sign.s3", add_account)
                    self._endpoint_clients[key] = client
        return client

    def __repr__(self) -> str:
        return f"<EndpointStore {self.endpoint_url} account={self.account_id}>"


def store_for(account_id: str, embedded: ObjectStore, endpoint_url: Optional[str] = None) -> ObjectStore:
    """The S3 at ``endpoint_url`` when one is set; moto's S3 (the account's) while ``mock_aws`` is
    active; else ``embedded``."""
    if endpoint_url:
        return EndpointStore(account_id, endpoint_url)
    if moto_active():
        return MotoStore(account_id)
    return embedded

