"""pytest plugin (registered through the ``pytest11`` entry point): the ``appflow_mock`` fixture
and the ``appflow`` marker that configures it.

``@pytest.mark.appflow(seed=7, in_progress_polls=2, state="tests/data/base.json", strict=True)``
on a test, a class or a module (``pytestmark``) passes those options to the ``mock_appflow`` the
fixture starts. The keywords are exactly ``mock_appflow``'s options; the closest marker wins as a
whole (its keywords are not merged with those of markers further out); a relative ``state`` path
is relative to the rootdir. A marker with an unknown keyword or a positional argument fails every
test it applies to, before the test's fixtures are set up, with a message naming the keyword and
listing the allowed ones.

Loading it is cheap: it imports neither the emulator nor the service model (nor botocore), which
load on the first mock start, so test suites that never use AppFlow do not pay for it. Clients
created at a test module's import are intercepted all the same (see ``intercept/hook.py``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, List

import pytest

from appflow_emu.mock import OPTIONS, MockAppFlow, credentials_to_provide, mock_appflow

if TYPE_CHECKING:
    from appflow_emu.emulator import Emulator

MARKER = "appflow"
MARKER_HELP = (f"{MARKER}(seed=0, strict=None, in_progress_polls=0, state=None): the options of the "
               "appflow_mock fixture's mock_appflow for this test, class or module; the closest marker wins; "
               "a relative state path is relative to the rootdir")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)


def marker_problems(mark: Any) -> List[str]:
    """What is wrong with one ``appflow`` marker (nothing when it is well formed)."""
    allowed = ", ".join(OPTIONS)
    problems = []
    if mark.args:
        problems.append(f"takes keywords only, got positional argument(s) {', '.join(map(repr, mark.args))}; "
                        f"the keywords are {allowed}")
    for key in mark.kwargs:
        if key not in OPTIONS:
            problems.append(f"unknown keyword {key!r}; the keywords are {allowed}")
    if not problems:
        try:  # the values' types (cheap: nothing starts)
            MockAppFlow(**mark.kwargs)
        except (TypeError, ValueError) as e:
            problems.append(str(e))
    return problems


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A malformed ``appflow`` marker fails the test that carries it, before its fixtures are set
    up, naming the marker's node (a module's or a class's marker too, even where a closer one
    wins). Per test rather than at collection, so that it reads the same under pytest-xdist."""
    problems = [f"@pytest.mark.{MARKER} on {node.nodeid}: {problem}"
                for node, mark in item.iter_markers_with_node(MARKER) for problem in marker_problems(mark)]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def marker_options(request: pytest.FixtureRequest) -> Dict[str, Any]:
    """The ``mock_appflow`` options the closest ``appflow`` marker asks for (a relative ``state``
    resolved against the rootdir; one that names no file fails the test, naming the rootdir)."""
    mark = request.node.get_closest_marker(MARKER)
    if mark is None:
        return {}
    problems = marker_problems(mark)
    if problems:  # pytest_runtest_setup refuses these; a marker applied since (request.applymarker) lands here
        pytest.fail(f"@pytest.mark.{MARKER}: " + "; ".join(problems), pytrace=False)
    options = dict(mark.kwargs)
    state = options.get("state")
    if isinstance(state, (str, os.PathLike)) and not os.path.isabs(os.fspath(state)):
        rootdir = Path(request.config.rootpath)
        options["state"] = rootdir / os.fspath(state)
        if not options["state"].exists():
            pytest.fail(f"@pytest.mark.{MARKER}(state={os.fspath(state)!r}): there is no {options['state']}: a "
                        f"relative state path is resolved against the rootdir, {rootdir} (pytest's rootdir, "
                        "not the test's folder); give a path relative to it, or an absolute one",
                        pytrace=False)
    return options


@pytest.fixture
def appflow_mock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator["Emulator"]:
    """An active AppFlow emulator, torn down after the test: empty, or as the closest
    ``@pytest.mark.appflow(...)`` asks (seed, strict, in_progress_polls, state).

    The fake credentials (when none are set) go in through the test's ``monkeypatch``, so that
    they are undone in order with the test's own changes: a test that sets ``AWS_ACCESS_KEY_ID``
    with ``monkeypatch`` inside the mock would otherwise have it restored to the fake value, after
    the mock stopped, and leak it into the next test."""
    options = marker_options(request)
    for name, value in credentials_to_provide().items():
        monkeypatch.setenv(name, value)
    with mock_appflow(**options) as emulator:
        yield emulator


@pytest.fixture
def appflow_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An :class:`appflow_emu.server.AppFlowServer` on a free loopback port, in a thread, stopped
    after the test: ``appflow_server.url`` for ``endpoint_url``, ``appflow_server.emulator`` the
    handle. Needs the ``[server]`` extra. Fake credentials (when none are set) as ``appflow_mock``
    gives them: boto3 signs its requests to the server."""
    from appflow_emu.server import AppFlowServer  # only tests that ask for it pay for the server

    for name, value in credentials_to_provide().items():
        monkeypatch.setenv(name, value)
    with AppFlowServer(port=0) as server:
        yield server
