"""S3, AppFlow's neighbour for S3 sources, destinations, error buckets and staging: one port
(:class:`ObjectStore`, the slice of S3 the emulator needs) and its three variants.

- :class:`EmbeddedStore`: the emulator's own in-memory buckets;
- :class:`MotoStore`: moto's S3 (that account's buckets) while ``moto.mock_aws`` is active, so a
  flow's output can be read with a plain boto3 ``s3`` client and a test's ``put_object`` feeds an
  S3 source;
- :class:`EndpointStore`: the S3 at an endpoint URL (server mode's ``--s3-endpoint`` or
  ``--aws-endpoint``).

``store_for`` picks one (``aws/neighbours.py`` calls it). An error S3 answers, other than a
missing bucket (:class:`NoSuchBucket`) or key (``KeyError``), raises
:class:`~appflow_emu.aws.moto.NeighbourRefused`; the embedded store has no policies and refuses
nothing.
"""
from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Protocol, runtime_checkable

from appflow_emu.aws import bucket_policy, moto


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
    inactive (``store_for`` ensures that).

    An error S3 answers (other than a missing bucket or key) raises
    :class:`~appflow_emu.aws.moto.NeighbourRefused`. moto judges bucket policies without their
    conditions (``aws/bucket_policy.py``): when it denies an object request, the policy is judged
    again as S3 judges AppFlow's request (TLS, its service principal), and a request S3 would allow
    is made in moto's backend directly."""

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

    def _call(self, operation: str, method: str, resource: str, **kwargs: Any) -> Any:
        """One S3 call; an error answer (or no answer) raises NeighbourRefused."""
        try:
            return getattr(self._client, method)(**kwargs)
        except moto.CALL_ERRORS as e:
            raise moto.refused("S3", operation, e, resource) from None

    def _allowed_anyway(self, action: str, bucket: str, key: str) -> Optional[Any]:
        """moto denied AppFlow ``action`` on ``bucket``/``key``: moto's S3 backend when S3 would
        have allowed it (see the class docstring), else None. At an endpoint: None, what the
        endpoint says stands (a ``moto_server`` at ``http://`` is reached without TLS anyway)."""
        if self.endpoint_url is not None:
            return None
        backend = _moto_backend(self.account_id)
        if backend is None:
            return None
        try:
            policy = backend.get_bucket_policy(bucket)
        except Exception:  # noqa: BLE001 - moto's own errors: the bucket went away
            return None
        text = policy.decode("utf-8", "replace") if isinstance(policy, bytes) else policy
        return None if bucket_policy.denies(text, action, bucket, key, self.account_id) else backend

    def create_bucket(self, bucket: str) -> None:
        try:
            self._call("CreateBucket", "create_bucket", bucket, Bucket=bucket)
        except moto.NeighbourRefused as e:
            if e.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self._call("HeadBucket", "head_bucket", bucket, Bucket=bucket)
            return True
        except moto.NeighbourRefused as e:
            if e.code in ("NotFound", "NoSuchBucket"):
                return False
            raise

    def put(self, bucket: str, key: str, body: bytes) -> None:
        try:
            self._call("PutObject", "put_object", f"{bucket}/{key}", Bucket=bucket, Key=key, Body=bytes(body))
        except moto.NeighbourRefused as e:
            if e.code == "NoSuchBucket":
                raise NoSuchBucket(bucket) from None
            backend = self._allowed_anyway("s3:PutObject", bucket, key) if e.code == "AccessDenied" else None
            if backend is None:
                raise
            backend.put_object(bucket, key, bytes(body))

    def get(self, bucket: str, key: str) -> bytes:
        try:
            answer = self._call("GetObject", "get_object", f"{bucket}/{key}", Bucket=bucket, Key=key)
            return bytes(answer["Body"].read())
        except moto.NeighbourRefused as e:
            if e.code in ("NoSuchKey", "NotFound"):
                raise KeyError(key) from None
            if e.code == "NoSuchBucket":
                raise NoSuchBucket(bucket) from None
            backend = self._allowed_anyway("s3:GetObject", bucket, key) if e.code == "AccessDenied" else None
            if backend is None:
                raise
            found = backend.get_object(bucket, key)
            if found is None:
                raise KeyError(key) from None
            return bytes(found.value)

    def list(self, bucket: str, prefix: str = "") -> List[str]:
        keys: List[str] = []
        kwargs: Dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            try:
                page = self._call("ListObjectsV2", "list_objects_v2", bucket, **kwargs)
            except moto.NeighbourRefused as e:
                if e.code == "NoSuchBucket":
                    raise NoSuchBucket(bucket) from None
                raise
            keys.extend(item["Key"] for item in page.get("Contents", ()))
            if not page.get("IsTruncated"):
                return sorted(keys)
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    def delete(self, bucket: str, key: str) -> None:
        self._call("DeleteObject", "delete_object", f"{bucket}/{key}", Bucket=bucket, Key=key)

    def buckets(self) -> List[str]:
        return sorted(b["Name"] for b in self._call("ListBuckets", "list_buckets", "").get("Buckets", ()))

    def __repr__(self) -> str:
        return f"<MotoStore account={self.account_id}>"


def _moto_backend(account_id: str) -> Optional[Any]:
    """moto's S3 backend of ``account_id`` (moto is active: it is imported), or None."""
    try:
        from moto.s3.models import s3_backends
        return s3_backends[account_id]["aws"]
    except Exception:  # noqa: BLE001 - another moto layout
        return None


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

