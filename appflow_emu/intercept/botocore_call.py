"""Answering one botocore AppFlow call: dispatch it, then build the ``AWSResponse`` and parse it
with botocore's own rest-json parser, exactly as botocore would parse AWS's answer (datetimes,
``ResponseMetadata``, ``ClientError`` and the modelled exceptions are all botocore's)."""
from __future__ import annotations

import threading
from typing import Any, Dict, Optional, Tuple

from botocore.awsrequest import AWSResponse
from botocore.endpoint import convert_to_response_dict
from botocore.parsers import create_parser

from appflow_emu.backend.runtime import Runtime, current_account_id
from appflow_emu.intercept.dispatch import find_operation, handle
from appflow_emu.model.operation_specs import OperationSpec, spec

DEFAULT_URL = "https://appflow.amazonaws.com/"
_LOCAL_LOCK = threading.Lock()


class _Body:
    __slots__ = ("_body",)

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self._body


class Answering:
    """Answers as botocore reads a service's answer: an ``AWSResponse`` of the given bytes, parsed
    by botocore's own parser for the service's protocol (one parser per thread: they keep state)."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self._local: Any = None  # made on the first answer: a mock started for a test that makes no call pays nothing

    def _parser(self) -> Any:
        local = self._local
        if local is None:
            with _LOCAL_LOCK:
                local = self._local = self._local or threading.local()
        parser = getattr(local, "parser", None)
        if parser is None:
            parser = local.parser = create_parser(self.protocol)
        return parser

    def answer(self, url: str, status: int, headers: Dict[str, str], body: bytes,
               model: Any) -> Tuple[AWSResponse, Dict[str, Any]]:
        http = AWSResponse(url, status, headers, _Body(body))
        parsed = self._parser().parse(convert_to_response_dict(http, model), model.output_shape)
        if "ResponseMetadata" in parsed:
            parsed["ResponseMetadata"]["RetryAttempts"] = 0
        return http, parsed


class BotocoreResponder(Answering):
    """Callable the hook hands every claimed call to while a mock is active (one per emulator)."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__("rest-json")
        self.runtime = runtime
        self._specs: Dict[str, OperationSpec] = {}

    def __call__(self, model: Any, params: Dict[str, Any], context: Any,
                 request_signer: Any) -> Optional[Tuple[AWSResponse, Dict[str, Any]]]:
        # botocore names the operation; only URI labels (the tags operations) need the path.
        op = self._specs.get(model.name)
        if op is None:
            op = self._specs[model.name] = spec(model.name)
        labels: Dict[str, str] = {}
        if op.uri_members:
            found = find_operation(params.get("method", "POST"), params.get("url_path", "/"))
            if found is not None and found[0].name == model.name:
                labels = found[1]
        region = (context or {}).get("client_region") or getattr(request_signer, "region_name", None) or "us-east-1"
        status, headers, body = handle(
            self.runtime, op, labels, params.get("query_string"), params.get("body") or b"",
            current_account_id(), region, prune=False,  # botocore's parser reads only what the model has
        )
        return self.answer(params.get("url", DEFAULT_URL), status, headers, body, model)
