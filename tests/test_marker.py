"""The ``appflow`` marker configuring the ``appflow_mock`` fixture: every keyword, the closest marker
winning (as a whole), ``--strict-markers``, the unknown-keyword and positional-argument errors, a
``state`` path relative to the rootdir, and the same under pytest-xdist.

The markers on this module, its class and its tests are the subject of the first half; the second
half runs small test files through ``pytester``."""
from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
import textwrap
from typing import Any, Dict, List

import boto3
import pytest
from botocore.config import Config

from appflow_emu import Emulator, get_emulator, mock_appflow
from appflow_emu.mock import OPTIONS
from appflow_emu.pytest_plugin import MARKER
from tests.conftest import subprocess_env
from tests.helpers import flow_request

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.appflow(in_progress_polls=1)

requires_load = pytest.mark.skipif(not hasattr(Emulator, "load"), reason="Emulator.save/load (issue 9) not there yet")
requires_xdist = pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="pytest-xdist is not installed")

NO_RETRIES = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 0})


def offline_client() -> Any:
    """An AppFlow client that cannot reach anything: only the emulator can answer it."""
    return boto3.client("appflow", region_name="us-east-1", endpoint_url="http://127.0.0.1:9", config=NO_RETRIES)


def make_flow(emu: Emulator, name: str = "marked") -> Any:
    emu.create_bucket("in-bucket")
    emu.create_bucket("out-bucket")
    client = offline_client()
    client.create_flow(**flow_request(name))
    return client


def statuses_while_polling(client: Any, flow: str, polls: int) -> List[str]:
    """The status of one new run at each of ``polls`` describes."""
    execution = client.start_flow(flowName=flow)["executionId"]
    out = []
    for _ in range(polls):
        records = client.describe_flow_execution_records(flowName=flow)["flowExecutions"]
        out.append(next(r["executionStatus"] for r in records if r["executionId"] == execution))
    return out


@pytest.fixture(scope="module")
def reference_ids() -> Dict[int, List[str]]:
    """The first two execution ids of a flow under each seed, from mocks started here (module
    scope: before any test's appflow_mock)."""
    assert get_emulator() is None
    out = {}
    for seed in (0, 7, 11):
        with mock_appflow(seed=seed) as emu:
            client = make_flow(emu)
            out[seed] = [client.start_flow(flowName="marked")["executionId"] for _ in range(2)]
    assert len({tuple(ids) for ids in out.values()}) == 3  # the seed matters
    return out


def first_ids(emu: Emulator) -> List[str]:
    client = make_flow(emu)
    return [client.start_flow(flowName="marked")["executionId"] for _ in range(2)]


# -- the marker on this module, a class and tests -----------------------------------------------------

def test_the_module_marker_applies(appflow_mock, reference_ids):
    assert (appflow_mock.seed, appflow_mock.in_progress_polls) == (0, 1)
    client = make_flow(appflow_mock)
    assert statuses_while_polling(client, "marked", 2) == ["InProgress", "Successful"]


@pytest.mark.appflow(seed=7)
def test_the_closest_marker_wins_as_a_whole(appflow_mock, reference_ids):
    # the module's in_progress_polls=1 is not merged in: the test's marker is all there is
    assert (appflow_mock.seed, appflow_mock.in_progress_polls) == (7, 0)
    assert first_ids(appflow_mock) == reference_ids[7]


@pytest.mark.appflow(in_progress_polls=3, strict=False)
def test_in_progress_polls_and_strict(appflow_mock):
    assert appflow_mock.strict is False  # although APPFLOW_EMU_STRICT=1 (tests/conftest.py)
    client = make_flow(appflow_mock)
    assert statuses_while_polling(client, "marked", 4) == ["InProgress"] * 3 + ["Successful"]


@pytest.mark.appflow(strict=True)
def test_strict_true(appflow_mock):
    assert appflow_mock.strict is True


@pytest.mark.appflow(seed=11)
class TestAClassMarker:
    def test_the_class_marker_applies(self, appflow_mock, reference_ids):
        assert (appflow_mock.seed, appflow_mock.in_progress_polls) == (11, 0)
        assert first_ids(appflow_mock) == reference_ids[11]

    @pytest.mark.appflow(seed=7, in_progress_polls=2)
    def test_a_method_marker_wins_over_the_class_one(self, appflow_mock, reference_ids):
        assert (appflow_mock.seed, appflow_mock.in_progress_polls) == (7, 2)
        assert first_ids(appflow_mock) == reference_ids[7]


@pytest.mark.parametrize("seed", [pytest.param(seed, marks=pytest.mark.appflow(seed=seed), id=f"seed{seed}")
                                  for seed in (11, 0, 7)])
def test_a_marker_per_parameter(appflow_mock, reference_ids, seed):
    assert appflow_mock.seed == seed
    assert first_ids(appflow_mock) == reference_ids[seed]


@pytest.mark.appflow(seed=7)
def test_a_marker_on_a_test_without_the_fixture_starts_nothing():
    assert get_emulator() is None


def test_the_marker_takes_exactly_mock_appflows_options():
    factory_keywords = [name for name, p in inspect.signature(mock_appflow).parameters.items()
                        if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert set(OPTIONS) == set(factory_keywords) == {"seed", "strict", "in_progress_polls", "state"}
    assert MARKER == "appflow"


def test_importing_the_plugin_stays_cheap():
    done = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys
        import appflow_emu.pytest_plugin
        print([m for m in ("botocore", "appflow_emu.emulator", "appflow_emu.backend") if m in sys.modules])
    """)], env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- through pytester ----------------------------------------------------------------------------------

@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project of its own (its ini at the top: the rootdir), where AppFlow clients cannot reach
    anything but the emulator. Only our plugin (and xdist where asked) is loaded: the other
    installed plugins would cost a second per run."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeini("[pytest]\naddopts = -p appflow_emu.pytest_plugin\n")
    pytester.makeconftest(textwrap.dedent("""
        import boto3
        import pytest
        from botocore.config import Config


        @pytest.fixture
        def client():
            return boto3.client("appflow", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                                config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 0}))
    """))
    return pytester


def test_strict_markers_accepts_the_marker_and_markers_lists_it(inner):
    inner.makepyfile(test_ok=textwrap.dedent("""
        import pytest

        @pytest.mark.appflow(seed=5, in_progress_polls=1, strict=True)
        def test_it(appflow_mock, client):
            assert (appflow_mock.seed, appflow_mock.in_progress_polls, appflow_mock.strict) == (5, 1, True)
            assert client.list_flows()["flows"] == []
    """))
    inner.runpytest("--strict-markers").assert_outcomes(passed=1)
    listed = inner.runpytest("--markers")
    listed.stdout.fnmatch_lines(["@pytest.mark.appflow(seed=0, strict=None, in_progress_polls=0, state=None)*"])


BAD_MARKERS = textwrap.dedent("""
    import pytest

    ran = []


    @pytest.mark.appflow(sed=7)
    def test_unknown_keyword(appflow_mock):
        ran.append(1)


    @pytest.mark.appflow(7)
    def test_positional(appflow_mock):
        ran.append(1)


    @pytest.mark.appflow(seed=1, statefile="base.json")
    def test_one_good_one_unknown(appflow_mock):
        ran.append(1)


    @pytest.mark.appflow(state=42)
    def test_a_state_that_is_no_path(appflow_mock):
        ran.append(1)


    @pytest.mark.appflow(polls=2)
    class TestBadClassMarker:
        @pytest.mark.appflow(seed=3)  # closer and good: the class's is still wrong
        def test_in_class(self, appflow_mock):
            ran.append(1)


    def test_nothing_ran_and_no_mock_leaked():
        from appflow_emu import get_emulator
        assert ran == [] and get_emulator() is None
""")

ALLOWED = "the keywords are seed, strict, in_progress_polls, state"


def _check_bad_markers(result: Any) -> None:
    result.assert_outcomes(passed=1, errors=5)
    result.stdout.fnmatch_lines_random([
        f"@pytest.mark.appflow on test_bad.py::test_unknown_keyword: unknown keyword 'sed'; {ALLOWED}",
        f"@pytest.mark.appflow on test_bad.py::test_positional: takes keywords only, got positional argument(s) 7; "
        f"{ALLOWED}",
        f"@pytest.mark.appflow on test_bad.py::test_one_good_one_unknown: unknown keyword 'statefile'; {ALLOWED}",
        "@pytest.mark.appflow on test_bad.py::test_a_state_that_is_no_path: state must be a path*",
        f"@pytest.mark.appflow on test_bad.py::TestBadClassMarker: unknown keyword 'polls'; {ALLOWED}",
    ])


def test_an_unknown_keyword_or_a_positional_argument_is_an_error(inner):
    inner.makepyfile(test_bad=BAD_MARKERS)
    _check_bad_markers(inner.runpytest())


@requires_xdist
def test_the_same_errors_under_xdist(inner, monkeypatch):
    inner.makepyfile(test_bad=BAD_MARKERS)
    monkeypatch.setenv("PYTHONPATH", subprocess_env()["PYTHONPATH"])  # this checkout's appflow_emu
    _check_bad_markers(inner.runpytest_subprocess("-n", "2", "-p", "xdist"))


STATE_TESTS = textwrap.dedent("""
    import pytest


    @pytest.mark.appflow(state="data/base.json")
    def test_relative_to_the_rootdir(appflow_mock, client):
        assert appflow_mock.seed == 3
        assert [f["flowName"] for f in client.list_flows()["flows"]] == ["from-the-file"]


    @pytest.mark.appflow(state={absolute!r}, in_progress_polls=2)
    def test_absolute(appflow_mock, client):
        assert appflow_mock.in_progress_polls == 2
        assert [f["flowName"] for f in client.list_flows()["flows"]] == ["from-the-file"]


    @pytest.mark.appflow(state="data/base.json")
    def test_changes_do_not_carry_over_a(appflow_mock, client):
        client.delete_flow(flowName="from-the-file", forceDelete=True)
        assert client.list_flows()["flows"] == []


    @pytest.mark.appflow(state="data/base.json")
    def test_changes_do_not_carry_over_b(appflow_mock, client):
        assert [f["flowName"] for f in client.list_flows()["flows"]] == ["from-the-file"]


    @pytest.mark.appflow(state="data/missing.json")
    def test_a_missing_file(appflow_mock):
        pass
""")


@requires_load
def test_a_state_path_is_relative_to_the_rootdir(inner, monkeypatch):
    base = inner.path / "data" / "base.json"
    base.parent.mkdir()
    with mock_appflow(seed=3) as emu:
        make_flow(emu, "from-the-file")
        emu.save(base)
    tests = inner.path / "tests"
    tests.mkdir()
    (tests / "test_state.py").write_text(STATE_TESTS.format(absolute=str(base)))
    # run from tests/: data/base.json is not there, relative to the current directory
    monkeypatch.chdir(tests)
    assert not os.path.exists("data/base.json")
    result = inner.runpytest(str(tests / "test_state.py"))
    result.assert_outcomes(passed=4, errors=1)
    # the missing file's message names the rootdir it was resolved against
    result.stdout.fnmatch_lines([f"*there is no {inner.path / 'data' / 'missing.json'}*resolved against the "
                                 f"rootdir, {inner.path} *"])


@requires_load
def test_a_state_under_the_class_and_module_markers(inner):
    base = inner.path / "base.json"
    with mock_appflow() as emu:
        make_flow(emu, "saved")
        emu.save(base)
    inner.makepyfile(test_scopes=textwrap.dedent("""
        import pytest

        pytestmark = pytest.mark.appflow(state="base.json")


        def test_module_state(appflow_mock, client):
            assert [f["flowName"] for f in client.list_flows()["flows"]] == ["saved"]


        @pytest.mark.appflow(seed=4)
        class TestEmpty:
            def test_no_state(self, appflow_mock, client):
                assert appflow_mock.seed == 4
                assert client.list_flows()["flows"] == []
    """))
    inner.runpytest().assert_outcomes(passed=2)
