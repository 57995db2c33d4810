"""Answering AppFlow's REST-JSON wire protocol from raw HTTP parts, for server mode.

``HttpResponder(runtime, account_id)(method, raw_path, query, headers, body)`` gives
``(status, headers, body)``. It does what AWS's front door does before an operation runs, then
hands the request to the same ``dispatch.handle`` the in-process hook uses (no second path per
operation):

- no ``Authorization`` header: 403 ``MissingAuthenticationTokenException`` [doc];
- an ``Authorization`` header that is not SigV4 (``AWS4-HMAC-SHA256`` with ``Credential``,
  ``SignedHeaders`` and ``Signature``): 403 ``IncompleteSignatureException``, its message naming what is
  missing (and a missing ``X-Amz-Date``/``Date`` header) as AWS's does [doc: AWS's text; without its
  trailing ``Authorization=...`` echo [guess]];
- a credential scope naming another service than ``appflow``: 403 ``InvalidSignatureException``
  "Credential should be scoped to correct service: 'appflow'." [doc: the text AWS answers];
- the region comes from the SigV4 credential scope (``Credential=AKID/DATE/REGION/appflow/aws4_request``);
  a region where AppFlow does not exist (and not in ``emu.extra_regions``): 403
  ``InvalidSignatureException`` [guess] (``dispatch.region_refused``);
- an unknown method and path: 404 ``UnknownOperationException``;
- a body over ``MAX_BODY`` bytes: 413 ``RequestEntityTooLargeException`` [guess: AWS's limit and code];
- a body that is not a JSON object: 400 ``SerializationException``;
- the content type is not checked: the body is read as JSON whatever it says [guess, as AWS's
  JSON services do with the ``application/x-amz-json`` and ``application/json`` types SDKs send].

Answers carry only the members the installed model has (``prune=True``): HTTP clients parse with
their own models.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from appflow_emu.backend.runtime import DEFAULT_REGION, Runtime
from appflow_emu.intercept.dispatch import Response, error_response, find_operation, handle, region_refused

MAX_BODY = 10 * 1024 * 1024  # [guess]
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/[^/,\s]+/aws4_request")
_SERVICE = re.compile(r"Credential=[^/,\s]+/[^/,\s]+/[^/,\s]+/([^/,\s]+)/")
_SIGV4 = "AWS4-HMAC-SHA256"
_SIGV4_PARTS = ("Credential", "Signature", "SignedHeaders")  # in the order AWS names the missing ones
SERVICE = "appflow"


def signature_problem(authorization: str, dated: bool = True) -> Optional[Tuple[str, str]]:
    """``(code, message)`` for an ``Authorization`` header AWS refuses before it checks the
    signature itself (see the module docstring), else None. The emulator checks no signature.
    ``dated``: the request has a ``X-Amz-Date`` or ``Date`` header (AWS names its absence too)."""
    scheme, _, params = authorization.strip().partition(" ")
    given = {part.split("=", 1)[0].strip() for part in params.split(",") if "=" in part}
    missing = [name for name in _SIGV4_PARTS if name not in given] if scheme == _SIGV4 else list(_SIGV4_PARTS)
    service = _SERVICE.search(authorization)
    if not missing and service is None:  # a Credential that is no scope [guess]
        missing = ["Credential"]
    if missing:
        sentences = [f"Authorization header requires '{name}' parameter." for name in missing]
        if not dated:
            sentences.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        return "IncompleteSignatureException", " ".join(sentences)
    if service is not None and service.group(1) != SERVICE:
        return "InvalidSignatureException", f"Credential should be scoped to correct service: '{SERVICE}'."
    return None


def region_of(authorization: str) -> Optional[str]:
    """The region of a SigV4 ``Authorization`` header's credential scope, else None."""
    found = _SCOPE.search(authorization)
    return found.group(1) if found else None


class HttpResponder:
    """One per emulator in server mode (see the module docstring)."""

    def __init__(self, runtime: Runtime, account_id: str) -> None:
        self.runtime = runtime
        self.account_id = account_id

    def __call__(self, method: str, raw_path: str, query: Mapping[str, List[str]],
                 headers: Any, body: bytes) -> Response:
        runtime = self.runtime
        authorization = headers.get("authorization") or headers.get("Authorization") or ""
        if not authorization:
            return error_response(runtime, "MissingAuthenticationTokenException", "Missing Authentication Token")
        dated = any(headers.get(name) for name in ("x-amz-date", "X-Amz-Date", "date", "Date"))
        problem = signature_problem(authorization, dated)
        if problem is not None:
            return error_response(runtime, *problem)
        found = find_operation(method, raw_path)
        if found is None:
            return error_response(runtime, "UnknownOperationException",
                                  f"No operation matches {method} {raw_path.split('?', 1)[0]}")
        if len(body) > MAX_BODY:
            return self.too_large()
        op, labels = found  # a body that is not a JSON object: dispatch answers SerializationException
        region = region_of(authorization) or DEFAULT_REGION
        if runtime.served_region(region) != region:  # AppFlow is not there (an alias is no scope)
            return region_refused(runtime, region)
        query_lists: Dict[str, Any] = {k: list(v) for k, v in query.items()}
        return handle(runtime, op, labels, query_lists, body, self.account_id, region, prune=True)

    def too_large(self) -> Response:
        """The answer to a body over ``MAX_BODY`` bytes (the server need not read it)."""
        return error_response(self.runtime, "RequestEntityTooLargeException",
                              f"The request body is larger than {MAX_BODY} bytes.")
