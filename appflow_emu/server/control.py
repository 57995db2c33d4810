"""The control API of server mode: the handle's verbs as JSON over HTTP, under ``/_appflow_emu/``.

``GET /_appflow_emu/health`` and ``/version``; every other verb is ``POST /_appflow_emu/<verb>``
with a JSON object of the verb's keyword arguments (``region`` and ``account_id`` where the verb
takes them), answered ``{"result": ...}``. The verbs are exactly those in ``VERBS``, each the
handle's method of that name (docs/server.md lists them); the handle's errors come back as 4xx JSON
``{"error": type, "message": ...}``: NotFoundError 404, AmbiguousNameError 409, a bad argument or a
bad state document 400. Bytes travel as base64 (``put_object``'s ``body_base64``, ``get_object``'s
answer).
"""
from __future__ import annotations

import base64
import json
import math
from typing import Any, Callable, Dict, List, Optional, Tuple

from werkzeug.wrappers import Request, Response

from appflow_emu import __version__
from appflow_emu.emulator import Emulator
from appflow_emu.model.errors import AmbiguousNameError, InvalidStateError, NotFoundError
from appflow_emu.model.json_body import read_json
from appflow_emu.server.page import READ_METHODS, page_routes, refuse_method

CONTROL_PREFIX = "/_appflow_emu/"
CONTROL_MAX_DEPTH = 200  # [guess] arrays and objects in a control body; Python's own walks recurse

# The handle's verbs the control API offers: every one whose arguments and answer are data.
VERBS = (
    "reset", "snapshot", "restore", "add_source_records", "source_records", "add_entity", "create_bucket",
    "put_object", "get_object", "list_objects", "destination_records", "warehouse_rows", "events",
    "lookout_records", "fail_next_execution", "set_in_progress_polls", "invalidate_credentials", "advance",
    "tick", "now", "set_quota", "register_lambda", "notifications", "create_glue_database", "glue_tables",
)
# Verbs that only read, which also answer GET with their arguments as query parameters.
READ_VERBS = ("notifications",)


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, default=str, allow_nan=False), status=status, mimetype="application/json")


def _error(kind: str, message: str, status: int) -> Response:
    return _json({"error": kind, "message": message}, status)


def _non_finite(kwargs: Dict[str, Any]) -> Optional[str]:
    """Where the arguments hold NaN or an infinity (Python's ``json`` reads them; JSON has none), as
    ``argument[0].key``; None when they hold none. Iterative: a body may nest deep."""
    pending: List[Tuple[str, Any]] = list(kwargs.items())
    while pending:
        path, value = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return path
        if isinstance(value, dict):
            pending.extend((f"{path}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
    return None


class ControlAPI:
    def __init__(self, emulator: Emulator, account_id: str) -> None:
        self.emulator = emulator
        self.account_id = account_id
        self.extra: Dict[str, Callable[[Request], Response]] = {}  # more pages (server/page.py)
        self.extra.update(page_routes(emulator, CONTROL_PREFIX))  # the state page and its JSON

    def dispatch(self, request: Request, verb: str, body: bytes) -> Response:
        """``body``: the request's, read (and held to the size limit) by the server (server/wsgi.py)."""
        if verb in self.extra:
            return self.extra[verb](request)
        if verb in ("health", "version"):
            refused = refuse_method(request, READ_METHODS, verb)
            if refused is not None:
                return refused
            return _json({"status": "ok"} if verb == "health" else {"appflow_emu": __version__})
        if verb not in VERBS:
            return _error("NotFoundError", f"no control verb {verb!r}; verbs: health, version, {', '.join(VERBS)}", 404)
        if request.method in READ_METHODS and verb in READ_VERBS:
            try:
                return _json({"result": self._call(verb, dict(request.args.items()))})
            except NotFoundError as e:
                return _error("NotFoundError", str(e.args[0]) if e.args else str(e), 404)
            except (TypeError, ValueError) as e:
                return _error(type(e).__name__, str(e), 400)
        if request.method != "POST":
            refused = _error("MethodNotAllowed", f"{verb} takes POST with a JSON object of its arguments", 405)
            refused.headers["Allow"] = ", ".join((*READ_METHODS, "POST") if verb in READ_VERBS else ("POST",))
            return refused
        try:
            # bounded (model/json_body.py), deeper than the AppFlow wire: a restored document's seeded
            # records are the user's data, under about ten levels of the document's own
            kwargs = read_json(body, max_depth=CONTROL_MAX_DEPTH, allow_nan=True) if body.strip() else {}
        except ValueError as e:
            return _error("SerializationException", f"the body is not JSON: {e}", 400)
        if not isinstance(kwargs, dict):
            return _error("SerializationException", "the body must be a JSON object of keyword arguments", 400)
        where = _non_finite(kwargs)
        if where is not None:
            return _error("SerializationException", f"the body is not JSON: {where} is not a number JSON has "
                                                    f"(NaN and Infinity are not)", 400)
        try:
            return _json({"result": self._call(verb, kwargs)})
        except NotFoundError as e:
            return _error("NotFoundError", str(e.args[0]) if e.args else str(e), 404)
        except AmbiguousNameError as e:
            return _error("AmbiguousNameError", str(e), 409)
        except InvalidStateError as e:
            return _error("InvalidStateError", str(e), 400)
        except (TypeError, ValueError) as e:
            return _error(type(e).__name__, str(e), 400)

    def _call(self, verb: str, kwargs: Dict[str, Any]) -> Any:
        emu = self.emulator
        if verb == "register_lambda" and not isinstance(kwargs.get("handler"), (str, type(None))):
            raise TypeError("over the control API, handler is a 'package.module:attribute' string (the server "
                            "imports it) or null")
        if verb == "put_object" and "body_base64" in kwargs:
            encoded = kwargs.pop("body_base64")
            if not isinstance(encoded, str):
                raise TypeError(f"body_base64 must be a base64 string, got {type(encoded).__name__}: {encoded!r:.80}")
            try:
                kwargs["body"] = base64.b64decode(encoded, validate=True)
            except ValueError as e:  # binascii.Error; non-ASCII text
                raise ValueError(f"body_base64 is not base64: {e}") from None
        result = getattr(emu, verb)(**kwargs)
        if verb == "get_object":
            return {"body_base64": base64.b64encode(result).decode("ascii")}
        return result
