"""``mock_appflow`` on every kind of callable (plain, coroutine, generator and async generator
functions, classes, unittest test cases, yield-style pytest fixtures), nesting, start/stop, and the
cheap import of the plugin and the package.

AppFlow calls here go through clients whose endpoint is a closed local port and which never retry:
a call the mock does not answer fails at once instead of reaching AWS (or hanging on retries)."""
from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import textwrap
import typing
import unittest
from typing import Any, AsyncIterator, Iterator, List, Optional

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from appflow_emu import Emulator, MockAppFlow, get_emulator, mock_appflow
from tests.conftest import subprocess_env
from tests.helpers import flow_request

CLOSED_PORT = "http://127.0.0.1:9"
NO_RETRIES = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 0})


def offline_client(region: str = "us-east-1") -> Any:
    """An AppFlow client that cannot reach anything: only the emulator can answer it."""
    return boto3.client("appflow", region_name=region, endpoint_url=CLOSED_PORT, config=NO_RETRIES)


def flow_names(client: Any) -> List[str]:
    return sorted(f["flowName"] for f in client.list_flows()["flows"])


def create_flow(name: str) -> None:
    emu = get_emulator()
    assert emu is not None, "no mock is active"
    emu.create_bucket("in-bucket")
    emu.create_bucket("out-bucket")
    offline_client().create_flow(**flow_request(name))


@pytest.fixture(autouse=True)
def no_mock_around_the_test() -> Iterator[None]:
    """Each test here starts and ends without an active mock (so a mock that stops too early, or
    never, is seen)."""
    assert get_emulator() is None
    yield
    assert get_emulator() is None


# -- plain and coroutine functions ------------------------------------------------------------------

def test_plain_function():
    @mock_appflow
    def make(name: str, *, region: str = "us-east-1") -> Emulator:
        create_flow(name)
        assert flow_names(offline_client(region)) == [name]
        emu = get_emulator()
        assert emu is not None
        return emu

    assert make.__name__ == "make"
    assert isinstance(make("plain"), Emulator)
    assert get_emulator() is None
    assert isinstance(make("again"), Emulator)  # a fresh emulator: "plain" is gone


def test_plain_function_that_raises_stops_the_mock():
    @mock_appflow(seed=5)
    def boom() -> None:
        assert get_emulator() is not None and get_emulator().seed == 5  # type: ignore[union-attr]
        raise LookupError("from the test body")

    with pytest.raises(LookupError, match="from the test body"):
        boom()
    assert get_emulator() is None


def test_coroutine_function():
    @mock_appflow
    async def work(name: str) -> Optional[List[str]]:
        create_flow(name)
        return flow_names(offline_client())

    assert inspect.iscoroutinefunction(work)
    assert get_emulator() is None
    assert asyncio.run(work("async")) == ["async"]
    assert get_emulator() is None


# -- generator functions ----------------------------------------------------------------------------

@mock_appflow
def growing_flows(count: int) -> Iterator[Any]:
    emu = get_emulator()
    client = offline_client()
    for n in range(count):
        create_flow(f"flow-{n}")
        yield emu, flow_names(client)
    return "done"


def test_a_generator_keeps_the_mock_for_its_whole_life():
    assert inspect.isgeneratorfunction(growing_flows)
    gen = growing_flows(2)
    assert get_emulator() is None  # nothing runs before the first next()
    emu, names = next(gen)
    assert isinstance(emu, Emulator) and names == ["flow-0"]
    # between yields the mock is active, for the generator's caller too
    assert get_emulator() is emu
    assert flow_names(offline_client()) == ["flow-0"]
    again, names = next(gen)
    assert again is emu and names == ["flow-0", "flow-1"]
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"
    assert get_emulator() is None


@mock_appflow
def calls_appflow() -> Iterator[Any]:
    yield offline_client().list_flows()


def test_a_call_from_a_decorated_generator_is_answered_by_the_emulator():
    gen = calls_appflow()
    answer = next(gen)
    assert answer["flows"] == [] and answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    gen.close()


cleanups: List[bool] = []


@mock_appflow
def conversation() -> Iterator[str]:
    try:
        got = yield "ready"
        assert get_emulator() is not None
        try:
            yield f"got {got}"
        except KeyError as e:
            yield f"caught {e.args[0]} with the mock {'on' if get_emulator() else 'off'}"
        return
    finally:
        cleanups.append(get_emulator() is not None)


def test_send_and_throw_pass_through_a_generator():
    cleanups.clear()
    gen = conversation()
    assert next(gen) == "ready"
    assert gen.send("x") == "got x"
    assert gen.throw(KeyError("k")) == "caught k with the mock on"
    with pytest.raises(StopIteration):
        next(gen)
    assert cleanups == [True]  # its finally ran inside the mock
    assert get_emulator() is None

    gen = conversation()
    next(gen)
    with pytest.raises(RuntimeError, match="not caught"):
        gen.throw(RuntimeError("not caught"))
    assert get_emulator() is None


def test_closing_a_generator_stops_the_mock():
    cleanups.clear()
    gen = conversation()
    assert next(gen) == "ready"
    assert get_emulator() is not None
    gen.close()
    assert cleanups == [True]
    assert get_emulator() is None
    conversation().close()  # never started: nothing to stop
    assert get_emulator() is None


# -- async generator functions ----------------------------------------------------------------------

@mock_appflow
async def async_conversation() -> AsyncIterator[Any]:
    try:
        create_flow("from-async-gen")
        got = yield flow_names(offline_client())
        try:
            yield f"got {got}"
        except KeyError as e:
            yield f"caught {e.args[0]}"
        yield "after the throw"
    finally:
        cleanups.append(get_emulator() is not None)


def test_an_async_generator_keeps_the_mock_for_its_whole_life():
    assert inspect.isasyncgenfunction(async_conversation)
    cleanups.clear()

    async def drive() -> List[Any]:
        seen: List[Any] = []
        agen = async_conversation()
        assert get_emulator() is None
        seen.append(await agen.__anext__())
        assert get_emulator() is not None
        assert flow_names(offline_client()) == ["from-async-gen"]  # answered between yields
        seen.append(await agen.asend("x"))
        seen.append(await agen.athrow(KeyError("k")))
        assert get_emulator() is not None
        await agen.aclose()
        assert get_emulator() is None
        return seen

    assert asyncio.run(drive()) == [["from-async-gen"], "got x", "caught k"]
    assert cleanups == [True]
    assert get_emulator() is None


def test_an_async_generator_run_to_its_end_stops_the_mock():
    cleanups.clear()

    async def drive() -> List[Any]:
        return [item async for item in async_conversation()]

    assert asyncio.run(drive()) == [["from-async-gen"], "got None", "after the throw"]
    assert cleanups == [True]
    assert get_emulator() is None

    async def throw_uncaught() -> None:
        agen = async_conversation()
        await agen.__anext__()
        await agen.athrow(RuntimeError("not caught"))

    with pytest.raises(RuntimeError, match="not caught"):
        asyncio.run(throw_uncaught())
    assert get_emulator() is None


# -- classes --------------------------------------------------------------------------------------

@mock_appflow
class TestDecoratedClass:
    """pytest runs these three; each gets its own fresh emulator."""

    def test_method(self) -> None:
        assert flow_names(offline_client()) == []
        create_flow("method")
        assert flow_names(offline_client()) == ["method"]

    @staticmethod
    def test_static_method() -> None:
        assert flow_names(offline_client()) == []
        create_flow("static")

    @classmethod
    def test_class_method(cls) -> None:
        assert cls is TestDecoratedClass
        assert flow_names(offline_client()) == []
        create_flow("class")

    def helper(self) -> Optional[Emulator]:
        return get_emulator()


def test_a_decorated_class_wraps_its_test_methods_only():
    assert TestDecoratedClass().helper() is None
    assert isinstance(inspect.getattr_static(TestDecoratedClass, "test_static_method"), staticmethod)
    assert isinstance(inspect.getattr_static(TestDecoratedClass, "test_class_method"), classmethod)
    TestDecoratedClass.test_static_method()  # called directly, each starts and stops its own mock
    TestDecoratedClass.test_class_method()
    TestDecoratedClass().test_method()
    assert get_emulator() is None


@mock_appflow
class DecoratedTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.emu = get_emulator()
        assert self.emu is not None
        create_flow("from-setup")

    def test_sees_what_set_up_made(self) -> None:
        self.assertIs(get_emulator(), self.emu)
        self.assertEqual(flow_names(offline_client()), ["from-setup"])

    def tearDown(self) -> None:
        self.assertIs(get_emulator(), self.emu)


def test_a_decorated_test_case_spans_set_up_test_and_tear_down():
    result = unittest.TestResult()
    DecoratedTestCase("test_sees_what_set_up_made").run(result)
    assert result.wasSuccessful(), result.errors + result.failures
    assert result.testsRun == 1
    assert get_emulator() is None


# -- pytest fixtures ------------------------------------------------------------------------------

fixture_setups: List[str] = []
fixture_teardowns: List[bool] = []  # whether each teardown ran inside the mock


@pytest.fixture
@mock_appflow
def flows_from_a_fixture(request: Any) -> Iterator[Any]:
    fixture_setups.append(request.node.name)
    create_flow("from-fixture")
    yield offline_client()
    fixture_teardowns.append(get_emulator() is not None)


def _check_fixture_life() -> None:
    # every earlier use of the fixture has torn down, inside its mock; this one has not yet
    assert len(fixture_teardowns) == len(fixture_setups) - 1
    assert all(fixture_teardowns)


def test_a_yield_fixture_decorated_with_mock_appflow(flows_from_a_fixture):
    assert not inspect.isgenerator(flows_from_a_fixture)
    assert flows_from_a_fixture.meta.service_model.service_name == "appflow"
    assert get_emulator() is not None  # the mock is active during the test body
    assert flow_names(flows_from_a_fixture) == ["from-fixture"]
    _check_fixture_life()


def test_a_yield_fixture_gets_a_fresh_emulator_each_time(flows_from_a_fixture):
    assert get_emulator() is not None
    assert flow_names(flows_from_a_fixture) == ["from-fixture"]  # not two: the last use's state is gone
    _check_fixture_life()


def test_mock_appflow_above_pytest_fixture_is_a_clear_type_error():
    def fixture_function() -> Iterator[int]:
        yield 1

    with pytest.raises(TypeError, match=r"put @pytest.fixture on top"):
        mock_appflow(pytest.fixture(fixture_function))
    with pytest.raises(TypeError, match=r"put @pytest.fixture on top"):
        mock_appflow(seed=3)(pytest.fixture(fixture_function))
    with pytest.raises(TypeError, match="decorates a function or a class"):
        mock_appflow()(42)


# -- nesting, start/stop, the typed factory -----------------------------------------------------------

def test_a_nested_mock_joins_the_running_one():
    @mock_appflow
    def inner_handle() -> Optional[Emulator]:
        return get_emulator()

    with mock_appflow(seed=1) as outer:
        create_flow("outer")
        with mock_appflow() as inner:
            assert inner is outer
        with mock_appflow(seed=1, in_progress_polls=0) as same:
            assert same is outer
        assert inner_handle() is outer
        assert get_emulator() is outer  # the inner stops did not end the outer mock
        assert flow_names(offline_client()) == ["outer"]
    assert get_emulator() is None


def test_a_nested_mock_asking_for_the_running_strictness_joins():
    with mock_appflow() as outer:  # strict from APPFLOW_EMU_STRICT (conftest sets it)
        with mock_appflow(strict=outer.strict) as inner:
            assert inner is outer
        with pytest.raises(ValueError, match="strict"):
            mock_appflow(strict=not outer.strict).start()
        assert get_emulator() is outer


@pytest.mark.parametrize("outer_options, inner_options", [
    ({"seed": 1}, {"seed": 99}),
    ({"in_progress_polls": 2}, {"in_progress_polls": 5}),
    ({}, {"seed": 99}),
])
def test_a_nested_mock_asking_for_other_options_is_refused(outer_options, inner_options):
    (key, value), = inner_options.items()
    with mock_appflow(**outer_options) as outer:
        create_flow("kept")
        with pytest.raises(ValueError) as info:
            with mock_appflow(**inner_options):
                pass  # pragma: no cover - must not run
        message = str(info.value)
        assert f"{key}={value!r}" in message
        assert f"{key}={outer_options.get(key, 0)!r}" in message  # what is running
        assert "nested" in message

        @mock_appflow(**inner_options)
        def decorated() -> None:  # pragma: no cover - must not run
            raise AssertionError("ran with the wrong options")

        with pytest.raises(ValueError):
            decorated()
        refused = mock_appflow(**inner_options)
        with pytest.raises(ValueError):
            refused.start()
        assert refused.emulator is None
        refused.stop()  # not started: nothing to stop

        # the outer mock keeps working
        assert get_emulator() is outer
        assert flow_names(offline_client()) == ["kept"]
        assert getattr(outer, key) == outer_options.get(key, 0)
    assert get_emulator() is None


def test_a_mock_that_cannot_start_changes_nothing():
    with pytest.raises(ValueError):
        mock_appflow(in_progress_polls=-1).start()
    assert get_emulator() is None
    with mock_appflow() as emu:  # the next mock starts as usual, with empty state
        assert flow_names(offline_client()) == [] and emu.in_progress_polls == 0


def test_start_and_stop():
    m = mock_appflow(seed=4)
    assert isinstance(m, MockAppFlow) and m.emulator is None
    emu = m.start()
    try:
        assert get_emulator() is emu and m.emulator is emu and emu.seed == 4
        assert m.start() is emu  # starting twice is one start
        create_flow("started")
        assert flow_names(offline_client()) == ["started"]
    finally:
        m.stop()
    assert get_emulator() is None and m.emulator is None
    m.stop()  # stopping twice does nothing
    assert get_emulator() is None


def test_mock_appflow_is_typed_with_overloads():
    if sys.version_info >= (3, 11):
        # mock_appflow is an object (so that `with mock_appflow as emu:` works): its __call__ is overloaded
        decorator, factory = typing.get_overloads(mock_appflow.__call__)
        assert list(inspect.signature(decorator).parameters) == ["self", "func"]
        assert inspect.signature(decorator).return_annotation == "F"  # the decorated callable's own type
        assert inspect.signature(factory).return_annotation == "MockAppFlow"
        assert {"seed", "strict", "in_progress_polls", "state"} <= set(inspect.signature(factory).parameters)
    assert isinstance(mock_appflow(), MockAppFlow)
    assert isinstance(mock_appflow(seed=2, in_progress_polls=1), MockAppFlow)
    assert isinstance(mock_appflow(state="base.json"), MockAppFlow)


# -- starting from a saved state: mock_appflow(state=path) -------------------------------------------

requires_load = pytest.mark.skipif(not hasattr(Emulator, "load"), reason="Emulator.save/load (issue 9) not there yet")


def run_ids(client: Any, flow: str, count: int) -> List[str]:
    return [client.start_flow(flowName=flow)["executionId"] for _ in range(count)]


@pytest.fixture
def saved_state(tmp_path: Any) -> Any:
    """A state file holding the flow "saved" (seed 3, one run done) and the ids the next two runs
    of the session that saved it got."""
    path = tmp_path / "state.json"
    with mock_appflow(seed=3) as emu:
        create_flow("saved")
        run_ids(offline_client(), "saved", 1)
        emu.save(path)
        next_ids = run_ids(offline_client(), "saved", 2)
    assert get_emulator() is None
    return path, next_ids


@requires_load
def test_state_through_every_way_in(saved_state, tmp_path, monkeypatch):
    path, next_ids = saved_state
    seen: List[Any] = []

    def look() -> None:
        """What each way in sees: the saved flow alone, the ids continuing; then it adds a flow
        that the next start must not see."""
        client = offline_client()
        seen.append((flow_names(client), run_ids(client, "saved", 2)))
        create_flow("added-after-loading")

    with mock_appflow(state=path) as emu:  # a pathlib.Path
        assert emu.seed == 3  # the file's
        look()

    @mock_appflow(state=str(path))  # a str
    def decorated() -> None:
        look()

    decorated()

    m = mock_appflow(state=path)
    m.start()
    try:
        look()
    finally:
        m.stop()

    monkeypatch.chdir(tmp_path)  # relative to the current directory, as open() is

    @mock_appflow(state="state.json")
    class Plain:
        def test_one(self) -> None:
            look()

    Plain().test_one()

    @mock_appflow(state="state.json")
    class Case(unittest.TestCase):
        def setUp(self) -> None:
            look()

        def test_it(self) -> None:
            self.assertEqual(flow_names(offline_client()), ["added-after-loading", "saved"])

    result = unittest.TestResult()
    Case("test_it").run(result)
    assert result.wasSuccessful(), result.errors + result.failures

    @mock_appflow(state=path)
    def generator() -> Iterator[None]:
        look()
        yield

    for _ in generator():
        assert get_emulator() is not None

    assert seen == [(["saved"], next_ids)] * 6


@requires_load
def test_state_and_the_other_options(saved_state):
    path, next_ids = saved_state
    with mock_appflow(seed=3, state=path) as emu:  # the file's seed: fine
        assert run_ids(offline_client(), "saved", 2) == next_ids
    with pytest.raises(ValueError, match=r"seed=4.*saved with seed=3"):
        mock_appflow(seed=4, state=path).start()
    assert get_emulator() is None
    with mock_appflow(state=path, in_progress_polls=2) as emu:  # replaces the file's (0)
        assert emu.in_progress_polls == 2
        client = offline_client()
        execution = client.start_flow(flowName="saved")["executionId"]
        statuses = []
        for _ in range(3):
            records = client.describe_flow_execution_records(flowName="saved")["flowExecutions"]
            statuses.append(next(r["executionStatus"] for r in records if r["executionId"] == execution))
        assert statuses == ["InProgress", "InProgress", "Successful"]
    with mock_appflow(state=path, strict=False) as emu:
        assert emu.strict is False


@requires_load
def test_a_nested_mock_and_state(saved_state, tmp_path, monkeypatch):
    path, _ = saved_state
    other = tmp_path / "other.json"
    other.write_bytes(path.read_bytes())
    monkeypatch.chdir(tmp_path)
    with mock_appflow(state=path) as outer:
        create_flow("made-inside")
        with mock_appflow(state="state.json") as inner:  # the same file, spelt otherwise: joins, no reload
            assert inner is outer
            assert flow_names(offline_client()) == ["made-inside", "saved"]
        with mock_appflow(seed=3) as inner:  # the seed the file brought
            assert inner is outer
        with pytest.raises(ValueError, match=r"state='other.json'.*cannot join.*nested"):
            mock_appflow(state="other.json").start()
        assert get_emulator() is outer
        assert flow_names(offline_client()) == ["made-inside", "saved"]
    with mock_appflow() as outer:  # a running mock without state: a state is not loaded into it
        with pytest.raises(ValueError, match=r"state=.*cannot join.*state=None"):
            mock_appflow(state=path).start()
        assert flow_names(offline_client()) == []
    assert get_emulator() is None


@requires_load
def test_a_state_that_cannot_be_loaded_leaves_no_mock(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    missing = tmp_path / "missing.json"
    with pytest.raises(FileNotFoundError):
        mock_appflow(state=missing).start()
    truncated = tmp_path / "truncated.json"
    with mock_appflow() as emu:
        create_flow("kept-out")
        emu.save(truncated)
    truncated.write_text(truncated.read_text()[:-10])
    with pytest.raises(ValueError, match="truncated.json"):
        with mock_appflow(state=truncated):
            pass  # pragma: no cover - must not run
    assert get_emulator() is None
    assert "AWS_ACCESS_KEY_ID" not in os.environ  # no credentials left behind by the mock that did not start
    with pytest.raises(EndpointConnectionError):  # nothing answers AppFlow: the hook is not active
        offline_client().list_flows()
    with mock_appflow() as emu:
        assert flow_names(offline_client()) == []


def test_state_must_be_a_path():
    with pytest.raises(TypeError, match="state must be a path"):
        mock_appflow(state=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="state must be a path"):
        mock_appflow(state=b"state.json")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        mock_appflow(state="")
    assert get_emulator() is None


# -- cheap imports ----------------------------------------------------------------------------------

def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)


def test_importing_the_pytest_plugin_loads_no_botocore_backend_or_model():
    done = _python("""
        import sys
        import appflow_emu.pytest_plugin
        loaded = [m for m in ("botocore", "appflow_emu.backend", "appflow_emu.model.service") if m in sys.modules]
        print(loaded)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_importing_the_package_after_boto3_loads_no_backend_and_clients_made_then_are_intercepted():
    done = _python(f"""
        import sys
        import boto3
        import appflow_emu
        from botocore.config import Config
        loaded = [m for m in ("appflow_emu.backend", "appflow_emu.model.service") if m in sys.modules]
        print(loaded)
        client = boto3.client("appflow", region_name="us-east-1", endpoint_url={CLOSED_PORT!r},
                              config=Config(connect_timeout=1, read_timeout=1, retries={{"max_attempts": 0}}))
        with appflow_emu.mock_appflow():
            print(client.list_flows()["flows"])
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "[]"]
