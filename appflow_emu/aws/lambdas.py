"""Lambda, AppFlow's neighbour for custom connectors: the functions that can answer an ARN, and
invoking one as the Lambda service does.

A custom connector is a Lambda function AppFlow invokes with JSON events. Here a function is one of:

- :class:`HandlerFunction`: a Python callable ``(event, context)`` given to ``emu.register_lambda``;
- :class:`ModuleFunction`: a ``"package.module:attribute"`` string (``register_lambda``, ``serve
  --lambda``), imported on first use;
- :class:`ZipFunction`: a function created in moto's Lambda from a zip of Python code, whose
  handler is imported in this process from the zip (moto would need Docker to run it). Each such
  function has its own module namespace: its modules are in ``sys.modules`` only while it runs;
- :class:`EndpointFunction`: a function behind the Lambda Invoke API at an endpoint URL (``sam
  local start-lambda``, LocalStack), so a connector in any language can answer.

Every invocation is what the Lambda service does: the event goes through ``json.dumps`` and
``json.loads``, the handler gets a :class:`LambdaContext`, and its answer is read back as JSON
(``Decimal`` values become numbers, as the Python runtime's serializer does). A handler that raises,
or whose answer cannot be marshalled, raises :class:`FunctionError` with the error type and message
Lambda would report.
"""
from __future__ import annotations

import datetime as dt
import decimal
import importlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

from appflow_emu.aws import moto

FUNCTION_ARN = re.compile(
    r"^arn:(aws[a-zA-Z-]*):lambda:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):function:([a-zA-Z0-9_-]{1,64})"
    r"(?::(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$")
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
HANDLER_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")

DEFAULT_MEMORY_MB = 128  # Lambda's default memory size [doc]
DEFAULT_TIMEOUT_S = 900  # [guess] a connector's function timeout: Lambda's maximum, 15 minutes


@dataclass(frozen=True)
class FunctionRef:
    """Which function an ARN names."""

    arn: str
    region: str
    account_id: str
    name: str
    qualifier: Optional[str] = None


def parse_function_arn(arn: str) -> Optional[FunctionRef]:
    """The function a Lambda function ARN names (None when it is not one)."""
    m = FUNCTION_ARN.match(arn) if isinstance(arn, str) else None
    if m is None:
        return None
    return FunctionRef(arn=arn, region=m.group(2), account_id=m.group(3), name=m.group(4), qualifier=m.group(5))


class FunctionError(Exception):
    """The function did not give an answer: ``error_type`` and ``message`` as Lambda reports them
    (``Runtime.ImportModuleError``, the handler's exception class name, ``Runtime.MarshalError``),
    or, when ``invoked`` is false, the error of the Invoke call itself (``ResourceNotFoundException``)."""

    def __init__(self, error_type: str, message: str, invoked: bool = True) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.invoked = invoked


class LambdaContext:
    """What a Python Lambda handler gets as ``context`` (the attributes of AWS's Python runtime)."""

    def __init__(self, ref: FunctionRef, request_id: str, memory_mb: int = DEFAULT_MEMORY_MB,
                 timeout_s: float = DEFAULT_TIMEOUT_S, version: str = "$LATEST") -> None:
        self.function_name = ref.name
        self.function_version = version
        self.invoked_function_arn = ref.arn
        self.memory_limit_in_mb = str(memory_mb)  # a string in AWS's runtime too
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{ref.name}"
        day = dt.datetime.now(dt.timezone.utc).strftime("%Y/%m/%d")
        self.log_stream_name = f"{day}/[{version}]{request_id.replace('-', '')}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + float(timeout_s)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, message: str) -> None:
        """As the runtime's ``context.log``: the message goes to the function's log (stderr here)."""
        sys.stderr.write(str(message))

    def __repr__(self) -> str:
        return f"<LambdaContext {self.invoked_function_arn} request {self.aws_request_id}>"


def _decimal_number(value: Any) -> Any:
    """The Python runtime's serializer turns Decimals into numbers; nothing else is JSON."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def round_trip(value: Any, what: str) -> Any:
    """``value`` as the other side of a Lambda invocation sees it (JSON text, then parsed)."""
    try:
        text = json.dumps(value, default=_decimal_number)
    except (TypeError, ValueError) as e:
        raise FunctionError("Runtime.MarshalError", f"Unable to marshal {what}: {e}") from None
    return json.loads(text)


class Function:
    """How a function runs. ``invoke(event, ref, request_id)`` is one invocation of ``ref``."""

    memory_mb = DEFAULT_MEMORY_MB
    timeout_s: float = DEFAULT_TIMEOUT_S

    def invoke(self, event: Mapping[str, Any], ref: FunctionRef, request_id: str) -> Any:
        payload = round_trip(dict(event), "the event")
        context = LambdaContext(ref, request_id, self.memory_mb, self.timeout_s)
        try:
            answer = self._call(payload, context)
        except FunctionError:
            raise
        except Exception as e:  # the function's own code failed: Lambda reports an unhandled error
            raise FunctionError(type(e).__name__, str(e)) from e
        except SystemExit as e:
            raise FunctionError("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited "
                                                     f"with error: exit status {e.code}") from None
        return round_trip(answer, "response")

    def _call(self, event: Any, context: LambdaContext) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the function holds (extracted code)."""


class HandlerFunction(Function):
    """A Python callable ``(event, context)``."""

    def __init__(self, handler: Callable[[Any, Any], Any]) -> None:
        self.handler = handler

    def _call(self, event: Any, context: LambdaContext) -> Any:
        return self.handler(event, context)

    def __repr__(self) -> str:
        name = getattr(self.handler, "__qualname__", None) or type(self.handler).__name__
        return f"<HandlerFunction {name}>"


def _handler_of(value: Any, where: str) -> Callable[[Any, Any], Any]:
    """A handler callable: ``value`` itself, or its ``lambda_handler`` (an SDK connector object)."""
    method = getattr(value, "lambda_handler", None)
    if not callable(value) or isinstance(value, type):
        if callable(method):
            return method  # type: ignore[no-any-return]
        raise FunctionError("Runtime.HandlerNotFound", f"{where} is not callable and has no lambda_handler method")
    return value  # type: ignore[no-any-return]


class ModuleFunction(Function):
    """A ``"package.module:attribute"`` string: the module is imported on first use (the
    attribute may be dotted; an object with a ``lambda_handler`` method is called through it)."""

    def __init__(self, spec: str) -> None:
        if not HANDLER_SPEC.match(spec):
            raise ValueError(f"a handler string is 'package.module:attribute', got {spec!r}")
        self.spec = spec
        self._handler: Optional[Callable[[Any, Any], Any]] = None
        self._lock = threading.Lock()

    def _load(self) -> Callable[[Any, Any], Any]:
        with self._lock:
            if self._handler is None:
                module_name, _, attribute = self.spec.partition(":")
                try:
                    value: Any = importlib.import_module(module_name)
                except Exception as e:
                    raise FunctionError("Runtime.ImportModuleError",
                                        f"Unable to import module '{module_name}': {e}") from None
                for part in attribute.split("."):
                    try:
                        value = getattr(value, part)
                    except AttributeError:
                        raise FunctionError("Runtime.HandlerNotFound",
                                            f"Handler '{attribute}' missing on module '{module_name}'") from None
                self._handler = _handler_of(value, f"{self.spec}")
            return self._handler

    def _call(self, event: Any, context: LambdaContext) -> Any:
        return self._load()(event, context)

    def __repr__(self) -> str:
        return f"<ModuleFunction {self.spec}>"


# -- functions from a zip of Python code (moto's Lambda) --------------------------------------------

# Swapping a function's modules in and out of sys.modules is process-wide: one function at a time.
_SWAP_LOCK = threading.RLock()


def _top(module_name: str) -> str:
    return module_name.split(".", 1)[0]


class ZipFunction(Function):
    """A Python function from a deployment package (a zip), run in this process.

    The zip is extracted to a folder of its own on first use, which is put first on ``sys.path``
    while the function runs (Lambda's ``/var/task``). The modules the zip provides (its top-level
    names) are the function's own: while it runs, any module of those names loaded by the test or
    by another function is set aside and the function's own are put in ``sys.modules``; afterwards
    the function's are taken out again and the others put back. So two functions with a
    ``handlers`` package each, or a function bundling its own copy of a library the test also
    imported, never see each other's modules, and nothing of the function stays in
    ``sys.modules``. Environment variables (the function's, and ``AWS_REGION`` /
    ``AWS_DEFAULT_REGION`` / ``AWS_LAMBDA_FUNCTION_NAME`` as Lambda sets them) are set for the
    invocation only. Functions from zips run one at a time."""

    def __init__(self, code: bytes, handler: str, runtime: str, environment: Optional[Mapping[str, str]] = None,
                 memory_mb: int = DEFAULT_MEMORY_MB, timeout_s: float = 3) -> None:
        self.code = bytes(code)
        self.handler = handler
        self.runtime = runtime
        self.environment = dict(environment or {})
        self.memory_mb = int(memory_mb or DEFAULT_MEMORY_MB)
        self.timeout_s = float(timeout_s or 3)
        self._dir: Optional[str] = None
        self._tops: Set[str] = set()
        self._modules: Dict[str, ModuleType] = {}
        self._handler: Optional[Callable[[Any, Any], Any]] = None

    def _extract(self) -> str:
        if self._dir is None:
            if not self.runtime.startswith("python3"):
                raise FunctionError("Runtime.InvalidRuntime",
                                    f"the function's runtime is {self.runtime!r}: only python3.x functions run in "
                                    "this process (serve a function of another runtime with sam local start-lambda "
                                    "and point --lambda-endpoint at it)", invoked=False)
            folder = tempfile.mkdtemp(prefix="appflow_emu-lambda-")
            try:
                with zipfile.ZipFile(io.BytesIO(self.code)) as archive:
                    for member in archive.namelist():
                        target = os.path.realpath(os.path.join(folder, member))
                        if not target.startswith(os.path.realpath(folder) + os.sep):
                            raise FunctionError("Runtime.InvalidEntrypoint", f"the deployment package has a path "
                                                f"outside its root: {member!r}", invoked=False)
                    archive.extractall(folder)
            except zipfile.BadZipFile as e:
                shutil.rmtree(folder, ignore_errors=True)
                raise FunctionError("Runtime.InvalidEntrypoint", f"the deployment package is not a zip: {e}",
                                    invoked=False) from None
            except FunctionError:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            tops = set()
            for entry in os.listdir(folder):
                path = os.path.join(folder, entry)
                if os.path.isdir(path) and entry.isidentifier():
                    tops.add(entry)
                elif entry.endswith(".py") or entry.endswith(".so") or entry.endswith(".pyc"):
                    tops.add(entry.split(".", 1)[0])
            self._dir, self._tops = folder, tops
        return self._dir

    def _load(self) -> Callable[[Any, Any], Any]:
        """awslambdaric's rules: ``handler`` is ``module.function`` (the module may be a path
        with ``/``)."""
        if "." not in self.handler:
            raise FunctionError("Runtime.MalformedHandlerName", f"Bad handler '{self.handler}': not enough values "
                                                                "to unpack (expected 2, got 1)")
        module_name, function_name = self.handler.rsplit(".", 1)
        module_name = module_name.replace("/", ".")
        try:
            module = importlib.import_module(module_name)
        except SyntaxError as e:
            raise FunctionError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {e}") from None
        except Exception as e:
            raise FunctionError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {e}") from None
        handler = getattr(module, function_name, None)
        if handler is None:
            raise FunctionError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module "
                                                           f"'{module_name}'")
        return _handler_of(handler, self.handler)

    def _call(self, event: Any, context: LambdaContext) -> Any:
        with _SWAP_LOCK:
            folder = self._extract()
            tops = self._tops
            set_aside = {name: sys.modules.pop(name) for name in list(sys.modules) if _top(name) in tops}
            sys.modules.update(self._modules)
            sys.path.insert(0, folder)
            region = context.invoked_function_arn.split(":")[3]
            env = {**self.environment, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
                   "AWS_LAMBDA_FUNCTION_NAME": context.function_name, "LAMBDA_TASK_ROOT": folder}
            saved_env = {name: os.environ.get(name) for name in env}
            os.environ.update(env)
            try:
                if self._handler is None:
                    importlib.invalidate_caches()
                    self._handler = self._load()
                return self._handler(event, context)
            finally:
                for name, value in saved_env.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
                try:
                    sys.path.remove(folder)
                except ValueError:  # the function removed it itself
                    pass
                self._modules = {name: sys.modules.pop(name) for name in list(sys.modules) if _top(name) in tops}
                sys.modules.update(set_aside)

    def close(self) -> None:
        with _SWAP_LOCK:
            folder, self._dir = self._dir, None
            self._modules.clear()
            self._handler = None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<ZipFunction {self.handler} ({self.runtime})>"


def moto_function(ref: FunctionRef) -> Optional[Tuple[str, ZipFunction]]:
    """The function ``ref`` names in moto's Lambda, as (its code's SHA-256, a ZipFunction), or None
    when moto has none. moto keeps the deployment package only in its backend (GetFunction's code
    location is not a URL one can read), so this reads moto's backend; call it only while moto is
    active."""
    try:
        from moto.awslambda.models import lambda_backends  # moto is active: it is imported
    except ImportError:  # pragma: no cover - moto without Lambda
        return None
    try:
        backend = lambda_backends[ref.account_id][ref.region]
        found = backend.get_function(ref.name, ref.qualifier)
    except Exception:  # noqa: BLE001 - moto's UnknownFunctionException and friends
        return None
    code = getattr(found, "code_bytes", b"") or b""
    if not code:
        return None
    digest = str(getattr(found, "code_sha_256", "")) or str(hash(code))
    return digest, ZipFunction(code, str(found.handler or ""), str(found.run_time or ""),
                               getattr(found, "environment_vars", None) or {},
                               int(getattr(found, "memory_size", 0) or DEFAULT_MEMORY_MB),
                               float(getattr(found, "timeout", 0) or 3))


# -- functions at an endpoint -----------------------------------------------------------------------

class EndpointFunction(Function):
    """A function behind the Lambda Invoke API at ``endpoint_url`` (``sam local start-lambda``,
    LocalStack, a moto_server with Docker)."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url

    def invoke(self, event: Mapping[str, Any], ref: FunctionRef, request_id: str) -> Any:
        payload = json.dumps(dict(event), default=_decimal_number).encode("utf-8")
        client = moto.client("lambda", ref.account_id, ref.region, self.endpoint_url)
        try:
            response = client.invoke(FunctionName=ref.arn, InvocationType="RequestResponse", Payload=payload)
        except Exception as e:  # noqa: BLE001 - ClientError, EndpointConnectionError...
            code = moto.error_code(e) or type(e).__name__
            raise FunctionError(code, str(e), invoked=False) from None
        body = response["Payload"].read()
        try:
            answer = json.loads(body) if body else None
        except ValueError:
            raise FunctionError("Runtime.MarshalError", f"the function's answer is not JSON: {body[:200]!r}") from None
        if response.get("FunctionError"):
            if isinstance(answer, dict):
                raise FunctionError(str(answer.get("errorType") or "Unhandled"), str(answer.get("errorMessage") or ""))
            raise FunctionError("Unhandled", str(answer))
        return answer

    def __repr__(self) -> str:
        return f"<EndpointFunction {self.endpoint_url}>"


# -- functions registered by name ---------------------------------------------------------------------

Key = Tuple[Optional[str], Optional[str], str]  # (account or None: any, region or None: any, name)


class FunctionRegistry:
    """The functions ``emu.register_lambda`` (and ``serve --lambda``) put behind names or ARNs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._functions: Dict[Key, Function] = {}

    @staticmethod
    def key(function: str, region: Optional[str], account_id: Optional[str]) -> Key:
        """The key of a function named by ARN or by name; ValueError when it is neither, or when
        ``region``/``account_id`` contradict the ARN."""
        ref = parse_function_arn(function)
        if ref is not None:
            if ref.qualifier is not None:
                raise ValueError(f"register the function without a version or alias: {function!r} has "
                                 f"':{ref.qualifier}' (every version of a registered function answers)")
            for what, given, own in (("region", region, ref.region), ("account_id", account_id, ref.account_id)):
                if given is not None and given != own:
                    raise ValueError(f"{what}={given!r} contradicts the ARN {function!r} ({what} {own})")
            return ref.account_id, ref.region, ref.name
        if not isinstance(function, str) or not FUNCTION_NAME.match(function):
            raise ValueError(f"function must be a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME) "
                             f"or a function name (letters, digits, '-' and '_', at most 64), got {function!r}")
        return account_id, region, function

    def register(self, key: Key, function: Optional[Function]) -> Optional[Function]:
        """Put ``function`` behind ``key`` (None removes it); returns what was there."""
        with self._lock:
            old = self._functions.pop(key, None) if function is None else self._functions.get(key)
            if function is not None:
                self._functions[key] = function
            return old

    def lookup(self, ref: FunctionRef) -> Optional[Function]:
        """The most specific registration matching ``ref``: its account and region, then its region
        in any account, then its account in any region, then the name alone."""
        with self._lock:
            for key in ((ref.account_id, ref.region, ref.name), (None, ref.region, ref.name),
                        (ref.account_id, None, ref.name), (None, None, ref.name)):
                found = self._functions.get(key)
                if found is not None:
                    return found
        return None

    def names(self) -> List[str]:
        def text(key: Key) -> str:
            account, region, name = key
            where = "/".join(p for p in (account, region) if p)
            return f"{name} ({where})" if where else name

        with self._lock:
            return sorted(text(k) for k in self._functions)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._functions
