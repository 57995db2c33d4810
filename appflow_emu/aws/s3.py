"""S3, AppFlow's neighbour for S3 sources, destinations, error buckets and staging: one port
(:class:`ObjectStore`, the slice of S3 the emulator needs) and its three variants.

- :class:`EmbeddedStore`: the emulator's own in-memory buckets;
- :class:`MotoStore`: moto's S3 (that account's buckets) while ``moto.mock_aws`` is active, so a
  flow's output can be read with a plain boto3 ``s3`` client and a test's ``put_object`` feeds an
  S3 source;
- :class:`EndpointStore`: the S3 at an endpoint URL (server mode's ``--s3-endpoint`` or
  ``--aws-endpoint``).

``store_for`` picks one (``aws/neighbours.py`` calls it).
"""
from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Protocol, runtime_checkable

from appflow_emu.aws import moto


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


# -- moto's S3, or the S3 at an endpoint ------------------------------------------------------

class MotoStore:
    """moto's S3 (the account's buckets), through a cached botocore client (``aws/moto.py``).
    Calls go through moto's stubber while it is enabled; they must not be made when moto is
    inactive (``store_for`` ensures that)."""

    endpoint_url: Optional[str] = None

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id

    @classmethod
    def client_for(cls, account_id: str) -> Any:
        return moto.client("s3", account_id)

    @property
    def _client(self) -> Any:
        return moto.client("s3", self.account_id, endpoint_url=self.endpoint_url)

    _code = staticmethod(moto.error_code)

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
    emulator), path-style addressing."""

    def __init__(self, account_id: str, endpoint_url: str) -> None:
        super().__init__(account_id)
        self.endpoint_url = endpoint_url

    def __repr__(self) -> str:
        return f"<EndpointStore {self.endpoint_url} account={self.account_id}>"


def store_for(account_id: str, embedded: ObjectStore, endpoint_url: Optional[str] = None) -> ObjectStore:
    """The S3 at ``endpoint_url`` when one is set; moto's S3 (the account's) while ``mock_aws`` is
    active; else ``embedded``."""
    if endpoint_url:
        return EndpointStore(account_id, endpoint_url)
    if moto.moto_active():
        return MotoStore(account_id)
    return embedded

