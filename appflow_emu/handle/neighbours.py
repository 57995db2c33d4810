"""The handle's verbs for AppFlow's AWS neighbours (a part of :class:`appflow_emu.Emulator`): where
S3, Secrets Manager, Lambda, EventBridge and Glue are (endpoints), S3 objects, the Glue Data Catalog,
and the Lambda functions that answer custom connectors' ARNs."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Union

from appflow_emu.aws.lambdas import Function, FunctionRegistry, HandlerFunction, ModuleFunction
from appflow_emu.aws.s3 import ObjectStore
from appflow_emu.backend.runtime import DEFAULT_REGION, Runtime, current_account_id
from appflow_emu.handle.arguments import (
    endpoint_arg,
    place_args,
    renamed,
    string_arg,
    text_arg,
)
from appflow_emu.model.errors import NotFoundError, listing

Handler = Union[Callable[[Any, Any], Any], str, Any]


class NeighbourVerbs:
    """S3 objects, Lambda functions and the endpoints of AppFlow's neighbours (server mode)."""

    __slots__ = ()
    _runtime: Runtime

    # -- endpoints -----------------------------------------------------------------------------------
    @property
    def aws_endpoint(self) -> Optional[str]:
        """The URL where AppFlow's neighbours are (S3, Secrets Manager, Lambda: a ``moto_server`` or
        LocalStack next to a server-mode emulator), unless a service has its own (``s3_endpoint``,
        ``lambda_endpoint``); None: moto's services while ``mock_aws`` is active, else the embedded
        ones. A snapshot holds only what is embedded."""
        return self._runtime.aws.endpoints["aws"]

    @aws_endpoint.setter
    def aws_endpoint(self, value: Optional[str]) -> None:
        self._runtime.aws.endpoints["aws"] = endpoint_arg("aws_endpoint", value)

    @property
    def s3_endpoint(self) -> Optional[str]:
        """The URL of the S3 that S3 sources and destinations use (a ``moto_server`` or MinIO next
        to a server-mode emulator), or None: ``aws_endpoint``'s, else moto's S3 while ``mock_aws``
        is active, else the embedded store. The handle's S3 verbs use it too."""
        return self._runtime.aws.endpoint("s3")

    @s3_endpoint.setter
    def s3_endpoint(self, value: Optional[str]) -> None:
        self._runtime.aws.endpoints["s3"] = endpoint_arg("s3_endpoint", value)

    @property
    def events_endpoint(self) -> Optional[str]:
        """The URL of the EventBridge AppFlow's flow notifications go to (server mode), or None:
        ``aws_endpoint``'s, else moto's while ``mock_aws`` is active, else only
        ``emu.notifications()``."""
        return self._runtime.aws.endpoint("events")

    @events_endpoint.setter
    def events_endpoint(self, value: Optional[str]) -> None:
        self._runtime.aws.endpoints["events"] = endpoint_arg("events_endpoint", value)

    @property
    def lambda_endpoint(self) -> Optional[str]:
        """The URL of a Lambda Invoke API (``sam local start-lambda``, LocalStack) that answers the
        custom connector ARNs no registered or moto function answers, or None."""
        return self._runtime.aws.endpoint("lambda")

    @lambda_endpoint.setter
    def lambda_endpoint(self, value: Optional[str]) -> None:
        self._runtime.aws.endpoints["lambda"] = endpoint_arg("lambda_endpoint", value)

    # -- S3 objects (moto's S3 while moto's mock_aws is active, else the embedded store) -----------
    def create_bucket(self, bucket: str) -> None:
        self._runtime.store().create_bucket(text_arg("bucket", bucket))

    def put_object(self, bucket: str, key: str, body: Union[bytes, bytearray, str]) -> None:
        """Put an object (the bucket is created if needed); a str body is UTF-8 encoded."""
        if not isinstance(body, (bytes, bytearray, str)):
            raise TypeError(f"body must be bytes or str, got {type(body).__name__}")
        bucket, key = text_arg("bucket", bucket), text_arg("key", key)  # checked before anything changes
        store = self._runtime.store()
        if not store.bucket_exists(bucket):
            store.create_bucket(bucket)
        store.put(bucket, key, body.encode() if isinstance(body, str) else bytes(body))

    def _bucket(self, bucket: str) -> ObjectStore:
        store = self._runtime.store()
        if not store.bucket_exists(text_arg("bucket", bucket)):
            raise NotFoundError(f"no bucket named {bucket!r}; buckets: {listing(store.buckets())}")
        return store

    def get_object(self, bucket: str, key: str) -> bytes:
        store = self._bucket(bucket)
        try:
            return bytes(store.get(bucket, text_arg("key", key)))
        except KeyError:
            raise NotFoundError(f"no object {key!r} in bucket {bucket!r}; keys: {listing(store.list(bucket))}") from None

    def list_objects(self, bucket: str, prefix: str = "") -> List[str]:
        """The bucket's keys under ``prefix``, sorted."""
        prefix = string_arg("prefix", prefix)
        return list(self._bucket(bucket).list(bucket, prefix))

    # -- the Glue Data Catalog -----------------------------------------------------------------------
    def _glue(self, region: Optional[str], account_id: Optional[str]) -> Any:
        region, account_id = place_args(region, account_id)
        return self._runtime.aws.glue(account_id or current_account_id(), region or DEFAULT_REGION)

    @renamed(name="database")
    def create_glue_database(self, database: str, *, region: Optional[str] = None,
                             account_id: Optional[str] = None) -> None:
        """Create a database in the Glue Data Catalog (of ``region``, default us-east-1, and the account),
        for flows whose ``metadataCatalogConfig`` names it: the emulator's own catalog, moto's while
        ``mock_aws`` is active, the one at ``aws_endpoint`` in server mode. Nothing if it exists."""
        self._glue(region, account_id).create_database(text_arg("database", database))

    def glue_tables(self, database: Optional[str] = None, *, region: Optional[str] = None,
                    account_id: Optional[str] = None) -> List[Dict[str, Any]]:
        """The Glue Data Catalog's tables (of every database, or ``database``), as Glue's GetTables
        gives them, each with its ``Partitions`` as GetPartitions gives them: what flows with a
        ``metadataCatalogConfig`` registered."""
        catalog = self._glue(region, account_id)
        if database is not None and not catalog.database_exists(text_arg("database", database)):
            raise NotFoundError(f"no Glue database named {database!r}; databases: {listing(catalog.databases())}")
        tables = catalog.tables(database)
        for table in tables:
            table["Partitions"] = catalog.partitions(table["DatabaseName"], table["Name"])
        return tables

    # -- Lambda ------------------------------------------------------------------------------------
    def register_lambda(self, function: str, handler: Optional[Handler], *, region: Optional[str] = None,
                        account_id: Optional[str] = None) -> None:
        """Make ``handler`` the Lambda function ``function`` (an ARN, or a function name: then in
        every account and region, or in the ``region=``/``account_id=`` given), so that a custom
        connector registered with that Lambda ARN is answered by it, with the events of AWS's
        custom connector SDK (docs/catalog.md, "Custom connectors on the Lambda protocol").

        ``handler``: a callable ``(event, context)`` (e.g. ``MyConnector().lambda_handler``), an
        object with a ``lambda_handler`` method (an SDK ``BaseLambdaConnectorHandler``), or a
        ``"package.module:attribute"`` string imported on first use; ``None`` removes the function
        (NotFoundError if none was registered so). A function registered here comes before moto's
        Lambda and ``lambda_endpoint``; it outlives ``reset()`` and ``restore()``."""
        function = text_arg("function", function)
        region, account_id = place_args(region, account_id)
        registry = self._runtime.aws.functions
        key = FunctionRegistry.key(function, region, account_id)
        if handler is None:
            if key not in registry:
                raise NotFoundError(f"no Lambda function {function!r} is registered (with region={region!r}, "
                                    f"account_id={account_id!r}); registered: {listing(registry.names())}")
            registry.register(key, None)
            return
        registry.register(key, function_of(handler))


def function_of(handler: Handler) -> Function:
    """What ``register_lambda`` (and ``serve --lambda``) puts behind a function name."""
    if isinstance(handler, str):
        return ModuleFunction(handler)  # ValueError when it is not "package.module:attribute"
    if isinstance(handler, type):
        raise TypeError(f"handler is the class {handler.__name__}: pass an instance's lambda_handler, "
                        f"e.g. {handler.__name__}().lambda_handler")
    if callable(handler):
        return HandlerFunction(handler)
    method = getattr(handler, "lambda_handler", None)
    if callable(method):
        return HandlerFunction(method)
    raise TypeError(f"handler must be a callable (event, context), an object with a lambda_handler method, "
                    f"a 'package.module:attribute' string, or None; got {type(handler).__name__}")
