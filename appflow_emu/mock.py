"""``mock_appflow``: one object that is a decorator, a context manager and start/stop.

- ``@mock_appflow`` / ``@mock_appflow(seed=7)`` on a function, a coroutine function or a class
  (each ``test*`` method, plus ``setUp``/``tearDown`` of a ``unittest.TestCase``, run inside one
  mock per test, so state made in ``setUp`` is visible in the test).
- ``with mock_appflow() as emu:`` yields the handle (an :class:`~appflow_emu.Emulator`).
- ``m = mock_appflow(); emu = m.start(); ...; m.stop()``.

Nesting is safe: the set of started mocks is tracked (no counter that can go negative); the
outermost start creates a fresh emulator with empty state, inner ones share it, and only the
last stop deactivates. ``stop()`` on a mock that is not started does nothing. Fake credentials
are put in the environment only if none are set, and the environment is restored exactly (a
variable someone else changed meanwhile, e.g. moto's ``mock_aws`` started inside, is left to them).
"""
from __future__ import annotations

import functools
import inspect
import os
import threading
import unittest
from typing import Any, Callable, Dict, List, Optional, TypeVar

from appflow_emu.backend.state import Emulator
from appflow_emu.intercept import hook

F = TypeVar("F", bound=Callable[..., Any])

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
_CREDENTIAL_SOURCES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")

_lock = threading.RLock()
_started: List["mock_appflow"] = []
_saved_env: Dict[str, Optional[str]] = {}


class mock_appflow:  # noqa: N801 - named like moto's mock_aws
    """Emulate Amazon AppFlow for every boto3/botocore client in the process."""

    def __new__(cls, func: Optional[Callable[..., Any]] = None, *, seed: int = 0,
                strict: Optional[bool] = None, in_progress_polls: int = 0) -> Any:
        if func is not None:  # used bare: @mock_appflow
            opts = {"seed": seed, "strict": strict, "in_progress_polls": in_progress_polls}
            if inspect.isclass(func):
                return _wrap_class(func, opts)
            return _wrap_function(func, opts)
        return super().__new__(cls)

    def __init__(self, func: Optional[Callable[..., Any]] = None, *, seed: int = 0,
                 strict: Optional[bool] = None, in_progress_polls: int = 0) -> None:
        self.seed = seed
        self.strict = strict
        self.in_progress_polls = in_progress_polls
        self._emulator: Optional[Emulator] = None

    # -- start / stop ----------------------------------------------------------------------
    def start(self) -> Emulator:
        with _lock:
            if self in _started:
                assert self._emulator is not None
                return self._emulator
            if not _started:
                emulator = Emulator(seed=self.seed, strict=self.strict, in_progress_polls=self.in_progress_polls)
                _provide_credentials()
                hook.install()
                hook.patch_clients()
                hook.ACTIVE.emulator = emulator
            else:
                emulator = hook.ACTIVE.emulator  # type: ignore[assignment]
                assert emulator is not None
            _started.append(self)
            self._emulator = emulator
            return emulator

    def stop(self) -> None:
        with _lock:
            if self not in _started:
                return
            _started.remove(self)
            self._emulator = None
            if not _started:
                hook.ACTIVE.emulator = None
                hook.unpatch_clients()
                _restore_credentials()

    @property
    def emulator(self) -> Optional[Emulator]:
        """The handle while this mock is started, else None."""
        return self._emulator

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- decorator -------------------------------------------------------------------------
    def __call__(self, target: F) -> F:
        """``@mock_appflow(seed=7)``: decorate a function, coroutine function or class."""
        if inspect.isclass(target):
            return _wrap_class(target, self._options())  # type: ignore[return-value]
        if callable(target):
            return _wrap_function(target, self._options())
        raise TypeError("mock_appflow(...) decorates a function or a class")

    def _options(self) -> Dict[str, Any]:
        return {"seed": self.seed, "strict": self.strict, "in_progress_polls": self.in_progress_polls}

    def __repr__(self) -> str:
        return f"<mock_appflow seed={self.seed} started={self in _started}>"


def _wrap_function(func: F, opts: Dict[str, Any]) -> F:
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with mock_appflow(**opts):
                return await func(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mock_appflow(**opts):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _wrap_class(cls: type, opts: Dict[str, Any]) -> type:
    if issubclass(cls, unittest.TestCase):
        # One mock per test spanning setUp, the test and tearDown.
        original_run = cls.run

        def run(self: Any, result: Any = None) -> Any:
            with mock_appflow(**opts):
                return original_run(self, result)

        cls.run = run  # type: ignore[method-assign]
        return cls
    # Every test method the class has, inherited ones included (wrapped on this class only,
    # so an undecorated base class is left alone); static and class methods stay what they are.
    for name in dir(cls):
        if not name.startswith("test"):
            continue
        attr = inspect.getattr_static(cls, name)
        if isinstance(attr, staticmethod):
            wrapped: Any = staticmethod(_wrap_function(attr.__func__, opts))
        elif isinstance(attr, classmethod):
            wrapped = classmethod(_wrap_function(attr.__func__, opts))
        elif inspect.isfunction(attr):
            wrapped = _wrap_function(attr, opts)
        else:
            continue
        setattr(cls, name, wrapped)
    return cls


def _provide_credentials() -> None:
    _saved_env.clear()
    if any(os.environ.get(name) for name in _CREDENTIAL_SOURCES):
        return
    for name, value in FAKE_CREDENTIALS.items():
        _saved_env[name] = os.environ.get(name)
        os.environ[name] = value


def _restore_credentials() -> None:
    for name, value in _saved_env.items():
        if os.environ.get(name) != FAKE_CREDENTIALS[name]:
            # Changed since we set it (e.g. by moto's mock_aws, started inside ours and still
            # active): it is no longer ours to restore.
            continue
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved_env.clear()
