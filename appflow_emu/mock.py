"""``mock_appflow``: one object that is a decorator, a context manager and start/stop.

- ``@mock_appflow`` / ``@mock_appflow(seed=7)`` on a function, a coroutine function, a generator
  function (the mock stays active for the generator's whole life: a ``yield`` fixture's test runs
  inside it), an async generator function, or a class (each ``test*`` method; for a
  ``unittest.TestCase``, one mock per test spanning ``setUp``, the test and ``tearDown``).
- ``with mock_appflow() as emu:`` yields the handle (an :class:`~appflow_emu.Emulator`).
- ``m = mock_appflow(); emu = m.start(); ...; m.stop()``.

``mock_appflow(state="base.json")`` starts from a file ``emu.save(path)`` wrote: the emulator is
created empty, then ``emu.load(path)`` fills it (a relative path is relative to the current
directory, as for ``open()``). The file brings its seed and ``in_progress_polls``; an
``in_progress_polls`` asked for replaces the file's, a ``seed`` other than the file's is a
``ValueError``. A file that cannot be loaded leaves no mock running.

Nesting: the set of started mocks is tracked (no counter that can go negative); the outermost
start creates a fresh emulator with empty state, inner ones join it, and only the last stop
deactivates. An inner mock that asks for options other than the running ones (``seed=99`` inside a
mock started with ``seed=1``) raises ``ValueError`` instead of silently running with the outer
options; one that asks for nothing, or for the same, joins (a ``state`` naming the same file as the
running mock's joins without loading it again; another file is refused). ``stop()`` on a mock that is not
started does nothing. Fake credentials are put in the environment only if none are set, and the
environment is restored exactly (a variable someone else changed meanwhile, e.g. moto's
``mock_aws`` started inside, is left to them).

Importing this module is cheap: the emulator itself is imported on the first start.
"""
from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, TypeVar, Union, overload

from appflow_emu.aws.environment import getenv
from appflow_emu.intercept import hook

if TYPE_CHECKING:  # the emulator itself is imported on the first start
    from appflow_emu.emulator import Emulator

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
StatePath = Union[str, "os.PathLike[str]"]

# A key pair is all botocore needs to sign (as moto sets); no session token.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
_CREDENTIAL_SOURCES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
# Every option mock_appflow takes, with its default (the pytest marker takes exactly these).
DEFAULTS: Dict[str, Any] = {"seed": 0, "strict": None, "in_progress_polls": 0, "state": None}
OPTIONS = tuple(DEFAULTS)


class _Running:
    """The mocks started now, the emulator they share and the options it was started with."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.started: List["MockAppFlow"] = []
        self.emulator: Optional["Emulator"] = None
        self.options: Dict[str, Any] = {}
        self.saved_env: Dict[str, Optional[str]] = {}


_RUNNING = _Running()
_EMULATOR: List[Any] = []  # the Emulator class, imported on the first start


def _emulator_class() -> Any:
    if not _EMULATOR:
        from appflow_emu.emulator import Emulator  # lazily: keeps `import appflow_emu` cheap

        _EMULATOR.append(Emulator)
    return _EMULATOR[0]


def get_emulator() -> Optional["Emulator"]:
    """The active mock's handle (for code under ``@mock_appflow``); None when no mock is active
    (outside any ``mock_appflow``), so check it before use."""
    return _RUNNING.emulator


class MockAppFlow:
    """Emulate Amazon AppFlow for every boto3/botocore client in the process (see the module
    docstring). Made by :func:`mock_appflow`."""

    def __init__(self, seed: Optional[int] = None, strict: Optional[bool] = None,
                 in_progress_polls: Optional[int] = None, state: Optional[StatePath] = None) -> None:
        # The options asked for explicitly; the others take the running mock's, or the defaults.
        self._asked: Dict[str, Any] = {k: v for k, v in (("seed", seed), ("strict", strict),
                                                          ("in_progress_polls", in_progress_polls)) if v is not None}
        if state is not None:
            self._asked["state"] = _state_path(state)
        self._emulator: Optional["Emulator"] = None

    @property
    def seed(self) -> int:
        return int(self._asked.get("seed", DEFAULTS["seed"]))

    # -- start / stop ----------------------------------------------------------------------
    def start(self) -> "Emulator":
        running = _RUNNING
        with running.lock:
            if self in running.started:
                assert self._emulator is not None
                return self._emulator
            if not running.started:
                options = {**DEFAULTS, **self._asked}
                emulator = _emulator_class()(**{k: v for k, v in options.items() if k != "state"})
                if options["state"] is not None:
                    # Before anything is activated: a file that cannot be loaded leaves no mock running.
                    options["state"] = os.path.abspath(options["state"])
                    _load_state(emulator, options["state"], self._asked)
                # What the emulator runs with (strict=None means "from APPFLOW_EMU_STRICT"; a state
                # file brings its seed): an inner mock asking for the same joins.
                options.update(seed=emulator.seed, strict=emulator.strict,
                               in_progress_polls=emulator.in_progress_polls)
                _provide_credentials()
                hook.activate(emulator._responder, emulator._secrets_responder)
                running.emulator, running.options = emulator, options
            else:
                self._check_joinable(running.options)
                emulator = running.emulator  # type: ignore[assignment]
                assert emulator is not None
            running.started.append(self)
            self._emulator = emulator
            return emulator

    def _check_joinable(self, running: Dict[str, Any]) -> None:
        def same(key: str, value: Any) -> bool:
            if key == "state":  # the same file, however it is spelt
                return running.get(key) is not None and os.path.abspath(value) == running[key]
            return bool(running.get(key) == value)

        differ = {k: v for k, v in self._asked.items() if not same(k, v)}
        if differ:
            asked = ", ".join(f"{k}={v!r}" for k, v in differ.items())
            have = ", ".join(f"{k}={running.get(k)!r}" for k in differ)
            raise ValueError(f"mock_appflow({asked}) cannot join the mock already running with {have}: a nested "
                             "mock shares the running emulator. Ask for the same options, for none, or stop the "
                             "running mock first.")

    def stop(self) -> None:
        running = _RUNNING
        with running.lock:
            if self not in running.started:
                return
            running.started.remove(self)
            self._emulator = None
            if not running.started:
                emulator, running.emulator = running.emulator, None
                running.options = {}
                hook.deactivate(emulator._secrets_responder if emulator is not None else None)
                _restore_credentials()
                if emulator is not None:
                    emulator._close()

    @property
    def emulator(self) -> Optional["Emulator"]:
        """The handle while this mock is started, else None."""
        return self._emulator

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- decorator -------------------------------------------------------------------------
    def __call__(self, target: T) -> T:
        """``@mock_appflow(seed=7)``: decorate a function (plain, coroutine, generator, async
        generator) or a class."""
        if type(target).__name__ == "FixtureFunctionDefinition" or hasattr(target, "_pytestfixturefunction"):
            raise TypeError("@mock_appflow is below @pytest.fixture here: put @pytest.fixture on top "
                            "(@pytest.fixture, then @mock_appflow, then def)")
        if inspect.isclass(target):
            return _wrap_class(target, self._asked)  # type: ignore[return-value]
        if callable(target):
            return _wrap_function(target, self._asked)  # type: ignore[return-value]
        raise TypeError(f"mock_appflow(...) decorates a function or a class, not {type(target).__name__}")

    def __repr__(self) -> str:
        state = f" state={self._asked['state']!r}" if "state" in self._asked else ""
        return f"<mock_appflow seed={self.seed}{state} started={self in _RUNNING.started}>"


class _MockAppFlowFunction:
    """``mock_appflow``: called, it makes a :class:`MockAppFlow` (see :meth:`__call__`); used bare as
    a context manager (``with mock_appflow as emu:``) it is ``with mock_appflow() as emu:``."""

    def __init__(self) -> None:
        self._entered: List[MockAppFlow] = []  # the mocks entered bare, innermost last
        self.__doc__ = type(self).__call__.__doc__  # help(mock_appflow) shows the options
        self.__wrapped__ = self.__call__  # inspect.signature(mock_appflow) is __call__'s

    @overload
    def __call__(self, func: F) -> F: ...

    @overload
    def __call__(self, func: None = None, *, seed: Optional[int] = None, strict: Optional[bool] = None,
                 in_progress_polls: Optional[int] = None, state: Optional[StatePath] = None) -> MockAppFlow: ...

    def __call__(self, func: Optional[Callable[..., Any]] = None, *, seed: Optional[int] = None,
                 strict: Optional[bool] = None, in_progress_polls: Optional[int] = None,
                 state: Optional[StatePath] = None) -> Any:
        """Emulate Amazon AppFlow: ``@mock_appflow``, ``@mock_appflow(seed=7)``,
        ``with mock_appflow() as emu`` (or ``with mock_appflow as emu``), or
        ``m = mock_appflow(); m.start(); ...; m.stop()``.

        Options (each left to the running mock, or to its default, when not given): ``seed`` (ids,
        default 0), ``strict`` (check every response against the model; default from
        ``APPFLOW_EMU_STRICT``), ``in_progress_polls`` (describe polls an on-demand run stays
        InProgress, default 0), ``state`` (a ``str`` or ``os.PathLike`` naming a file written by
        ``emu.save``: the emulator starts from it, through ``emu.load``, with the file's seed and
        ``in_progress_polls`` unless ``in_progress_polls`` is given; default: empty)."""
        mock = MockAppFlow(seed=seed, strict=strict, in_progress_polls=in_progress_polls, state=state)
        if func is None:
            return mock
        return mock(func)

    def __enter__(self) -> "Emulator":
        mock = MockAppFlow()
        emulator = mock.__enter__()
        with _RUNNING.lock:
            self._entered.append(mock)
        return emulator

    def __exit__(self, *exc: Any) -> None:
        with _RUNNING.lock:
            mock = self._entered.pop()
        mock.__exit__(*exc)

    def __repr__(self) -> str:
        return "<function mock_appflow>"


mock_appflow = _MockAppFlowFunction()


def _state_path(state: Any) -> str:
    """``state=``'s path as a string (a ``str`` or an ``os.PathLike`` of one)."""
    path = os.fspath(state) if isinstance(state, (str, os.PathLike)) else None
    if not isinstance(path, str):
        raise TypeError(f"state must be a path (str or os.PathLike) to a file written by emu.save, "
                        f"got {type(state).__name__}: {state!r:.80}")
    if not path:
        raise ValueError("state must name a file written by emu.save, got an empty path")
    return path


def _load_state(emulator: "Emulator", path: str, asked: Dict[str, Any]) -> None:
    """Fill a new emulator from a saved file. The file brings its seed (ids continue from its
    generators): asking for another is refused. ``in_progress_polls`` asked for replaces the file's."""
    emulator.load(path)
    if "seed" in asked and asked["seed"] != emulator.seed:
        raise ValueError(f"mock_appflow(seed={asked['seed']!r}, state={path!r}): the state was saved with "
                         f"seed={emulator.seed!r}, and its ids continue from that seed's generators. Ask for "
                         f"seed={emulator.seed!r}, or for no seed.")
    if "in_progress_polls" in asked:
        emulator.in_progress_polls = asked["in_progress_polls"]


def _wrap_function(func: Callable[..., Any], asked: Dict[str, Any]) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(func):
        @functools.wraps(func)
        async def async_generator_wrapper(*args: Any, **kwargs: Any) -> Any:
            with MockAppFlow(**asked):
                agen = func(*args, **kwargs)
                try:
                    value = await agen.__anext__()
                except StopAsyncIteration:
                    return
                while True:
                    try:
                        sent = yield value
                    except GeneratorExit:
                        await agen.aclose()
                        raise
                    except BaseException as exc:  # thrown into us: into the wrapped generator
                        try:
                            value = await agen.athrow(exc)
                        except StopAsyncIteration:
                            return
                    else:
                        try:
                            value = await agen.asend(sent)
                        except StopAsyncIteration:
                            return

        return async_generator_wrapper

    if inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
            with MockAppFlow(**asked):
                return (yield from func(*args, **kwargs))

        return generator_wrapper

    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def coroutine_wrapper(*args: Any, **kwargs: Any) -> Any:
            with MockAppFlow(**asked):
                return await func(*args, **kwargs)

        return coroutine_wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with MockAppFlow(**asked):
            return func(*args, **kwargs)

    return wrapper


def _is_test_case(cls: type) -> bool:
    unittest = sys.modules.get("unittest")  # not imported: cls cannot be a TestCase
    return unittest is not None and issubclass(cls, unittest.TestCase)


def _wrap_class(cls: type, asked: Dict[str, Any]) -> type:
    if _is_test_case(cls):
        # One mock per test spanning setUp, the test and tearDown.
        original_run = cls.run  # type: ignore[attr-defined]

        def run(self: Any, result: Any = None) -> Any:
            with MockAppFlow(**asked):
                return original_run(self, result)

        cls.run = run  # type: ignore[attr-defined]
        return cls
    # Every test method the class has, inherited ones included (wrapped on this class only,
    # so an undecorated base class is left alone); static and class methods stay what they are.
    for name in dir(cls):
        if not name.startswith("test"):
            continue
        attr = inspect.getattr_static(cls, name)
        if isinstance(attr, staticmethod):
            wrapped: Any = staticmethod(_wrap_function(attr.__func__, asked))
        elif isinstance(attr, classmethod):
            wrapped = classmethod(_wrap_function(attr.__func__, asked))
        elif inspect.isfunction(attr):
            wrapped = _wrap_function(attr, asked)
        else:
            continue
        setattr(cls, name, wrapped)
    return cls


def credentials_to_provide() -> Dict[str, str]:
    """The fake credentials a mock starting now would put in the environment: all of them when
    none are set, else none."""
    if any(getenv(name) for name in _CREDENTIAL_SOURCES):
        return {}
    return dict(FAKE_CREDENTIALS)


def _provide_credentials() -> None:
    saved = _RUNNING.saved_env
    saved.clear()
    for name, value in credentials_to_provide().items():
        saved[name] = getenv(name)
        os.environ[name] = value


def _restore_credentials() -> None:
    saved = _RUNNING.saved_env
    for name, value in saved.items():
        if getenv(name) != FAKE_CREDENTIALS[name]:
            # Changed since we set it (e.g. by moto's mock_aws, started inside ours and still
            # active): it is no longer ours to restore.
            continue
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    saved.clear()
