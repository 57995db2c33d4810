"""Isolation between tests and between pytest-xdist workers (CI runs this module with ``-n 2``;
it means the same in a serial run).

Every test here would collide with another one if something leaked:
- state: each test creates the flow ``same-name`` and asserts it is the only flow, through a
  client made at import, a client made in the test and the clients earlier tests made;
- seeds: each test's execution ids are those a separate Python process computes for its seed
  (the same on every worker, in any order, after any other test);
- the hook: before and after each test, an AppFlow call outside any mock is not answered;
- the environment: before and after each test, the AWS variables, ``MOTO_ACCOUNT_ID`` and
  ``APPFLOW_EMU_STRICT`` are what they were when the module was collected, and a test that sets
  ``MOTO_ACCOUNT_ID`` sees its account in the ARNs;
- files: each test saving state writes a file no other test (or worker) has written.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any, Dict, Iterator, List

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from appflow_emu import Emulator, get_emulator, mock_appflow
from tests.conftest import subprocess_env
from tests.helpers import flow_request

REGION = "us-east-1"
FLOW = "same-name"
SEEDS = (0, 7, 11)
NO_RETRIES = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 0})
WATCHED = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN", "AWS_PROFILE",
           "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION", "MOTO_ACCOUNT_ID", "APPFLOW_EMU_STRICT")

requires_load = pytest.mark.skipif(not hasattr(Emulator, "load"), reason="Emulator.snapshot/restore (issue 9) not there yet")


def offline_client(**credentials: str) -> Any:
    """An AppFlow client that cannot reach anything: only the emulator can answer it."""
    return boto3.client("appflow", region_name=REGION, endpoint_url="http://127.0.0.1:9", config=NO_RETRIES,
                        **credentials)


# Collected before any test of this process runs.
ENVIRONMENT_AT_COLLECTION = {name: os.environ.get(name) for name in WATCHED}
# Its own credentials: outside a mock its calls are signed and sent (and refused by the closed port).
CLIENT_MADE_AT_IMPORT = offline_client(aws_access_key_id="import", aws_secret_access_key="import")
CLIENTS_OF_EARLIER_TESTS: List[Any] = []


def flow_names(client: Any) -> List[str]:
    return sorted(f["flowName"] for f in client.list_flows()["flows"])


def every_client() -> List[Any]:
    return [CLIENT_MADE_AT_IMPORT, *CLIENTS_OF_EARLIER_TESTS]


def create_the_flow(emu: Emulator, description: str = "") -> Any:
    """Create ``same-name`` after checking that no client sees any flow; the test's new client."""
    client = offline_client()
    for c in [client, *every_client()]:
        assert flow_names(c) == [], "a flow leaked in from another test"
    emu.create_bucket("in-bucket")
    emu.create_bucket("out-bucket")
    client.create_flow(**flow_request(FLOW, description=description or FLOW))
    for c in [client, *every_client()]:
        assert flow_names(c) == [FLOW]
    CLIENTS_OF_EARLIER_TESTS.append(client)
    return client


def first_ids(client: Any) -> List[str]:
    return [client.start_flow(flowName=FLOW)["executionId"] for _ in range(2)]


def assert_nothing_leaked() -> None:
    assert get_emulator() is None, "a mock is still active"
    now = {name: os.environ.get(name) for name in WATCHED}
    assert now == ENVIRONMENT_AT_COLLECTION, "the environment changed"
    with pytest.raises(EndpointConnectionError):  # not answered: the hook is not active
        CLIENT_MADE_AT_IMPORT.list_flows()


@pytest.fixture(autouse=True)
def nothing_leaks_in_or_out() -> Iterator[None]:
    assert_nothing_leaked()
    yield
    assert_nothing_leaked()


@pytest.fixture(scope="module")
def ids_per_seed() -> Dict[int, List[str]]:
    """The first two execution ids of ``same-name`` under each seed, computed by another Python
    process (with another hash seed): what every worker must get."""
    code = textwrap.dedent(f"""
        import json
        import boto3
        from appflow_emu import mock_appflow
        from tests.helpers import flow_request

        out = {{}}
        for seed in {SEEDS!r}:
            with mock_appflow(seed=seed) as emu:
                emu.create_bucket("in-bucket")
                emu.create_bucket("out-bucket")
                client = boto3.client("appflow", region_name="us-east-1")
                client.create_flow(**flow_request({FLOW!r}))
                out[seed] = [client.start_flow(flowName={FLOW!r})["executionId"] for _ in range(2)]
        print(json.dumps(out))
    """)
    env = subprocess_env()
    env["PYTHONHASHSEED"] = "12345"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr
    ids = {int(seed): value for seed, value in json.loads(done.stdout).items()}
    assert len({tuple(v) for v in ids.values()}) == len(SEEDS), "the seed does not change the ids"
    return ids


# -- state and seeds --------------------------------------------------------------------------------

@pytest.mark.parametrize("n", range(6))
def test_the_flow_is_the_only_one(appflow_mock, ids_per_seed, n):
    client = create_the_flow(appflow_mock)
    assert list(appflow_mock.states()) == [(appflow_mock.state(REGION).account_id, REGION)]
    assert first_ids(client) == ids_per_seed[0]


# The order mixes seeds, and marked tests with unmarked ones.
@pytest.mark.parametrize("seed", [
    pytest.param(7, marks=pytest.mark.appflow(seed=7), id="marked-7"),
    pytest.param(0, id="unmarked-0"),
    pytest.param(11, marks=pytest.mark.appflow(seed=11), id="marked-11"),
    pytest.param(7, marks=pytest.mark.appflow(seed=7), id="marked-7-again"),
    pytest.param(0, marks=pytest.mark.appflow(seed=0), id="marked-0"),
    pytest.param(0, id="unmarked-0-again"),
])
def test_ids_follow_the_seed_whatever_ran_before(appflow_mock, ids_per_seed, seed):
    assert appflow_mock.seed == seed
    assert first_ids(create_the_flow(appflow_mock)) == ids_per_seed[seed]


@pytest.mark.parametrize("seed", SEEDS)
def test_ids_follow_the_seed_through_the_decorator(ids_per_seed, seed):
    @mock_appflow(seed=seed)
    def body() -> List[str]:
        emu = get_emulator()
        assert emu is not None
        return first_ids(create_the_flow(emu))

    assert body() == ids_per_seed[seed]


@pytest.mark.appflow(seed=7, in_progress_polls=2)
def test_marker_options_do_not_outlive_the_test(appflow_mock, ids_per_seed):
    client = create_the_flow(appflow_mock)
    execution = client.start_flow(flowName=FLOW)["executionId"]
    assert execution == ids_per_seed[7][0]
    records = client.describe_flow_execution_records(flowName=FLOW)["flowExecutions"]
    assert records[0]["executionStatus"] == "InProgress"


def test_an_unmarked_test_gets_the_defaults(appflow_mock):
    assert (appflow_mock.seed, appflow_mock.in_progress_polls) == (0, 0)
    client = create_the_flow(appflow_mock)
    client.start_flow(flowName=FLOW)
    records = client.describe_flow_execution_records(flowName=FLOW)["flowExecutions"]
    assert records[0]["executionStatus"] == "Successful"


# -- the environment --------------------------------------------------------------------------------

@pytest.mark.parametrize("account", ["111111111111", "222222222222"])
def test_moto_account_id_is_the_tests_own(monkeypatch, appflow_mock, account):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", account)
    client = create_the_flow(appflow_mock)
    arn = client.describe_flow(flowName=FLOW)["flowArn"]
    assert arn.split(":")[4] == account
    assert [key[0] for key in appflow_mock.states()] == [account]


DEFAULT_ACCOUNT = ENVIRONMENT_AT_COLLECTION["MOTO_ACCOUNT_ID"] or "123456789012"


def test_the_default_account_after_tests_that_set_another(appflow_mock):
    client = create_the_flow(appflow_mock)
    assert client.describe_flow(flowName=FLOW)["flowArn"].split(":")[4] == DEFAULT_ACCOUNT


CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN",
               "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials around the mock (whatever the run has): the mock puts fake ones in for its
    life; the autouse check sees them gone after the test."""
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("n", range(2))
def test_fake_credentials_live_as_long_as_the_mock(no_credentials, appflow_mock, n):
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    create_the_flow(appflow_mock)


# The test's own monkeypatch changes, made inside the mock, are undone after the mock stopped: the
# fake credentials must not come back from under them.
@pytest.mark.parametrize("n", range(2))
def test_credentials_set_inside_the_mock_do_not_leak(no_credentials, monkeypatch, appflow_mock, n):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", f"mine-{n}")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    create_the_flow(appflow_mock)
    assert os.environ["AWS_ACCESS_KEY_ID"] == f"mine-{n}"


@pytest.mark.parametrize("n", range(2))
def test_moto_account_id_set_inside_the_mock_does_not_leak(appflow_mock, monkeypatch, n):
    create_the_flow(appflow_mock)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", f"33333333333{n}")
    client = offline_client()
    client.create_flow(**flow_request(FLOW))  # the same name, in the account now named
    assert sorted(key[0] for key in appflow_mock.states()) == sorted([DEFAULT_ACCOUNT, f"33333333333{n}"])


# -- saved state: files and per-test restores --------------------------------------------------------

@requires_load
@pytest.mark.parametrize("n", range(3))
def test_a_saved_state_is_the_tests_own(tmp_path, n):
    path = tmp_path / "state.json"
    assert not path.exists(), "another test or worker wrote here"
    with mock_appflow(seed=n) as emu:
        create_the_flow(emu, description=f"saved by test {n}")
        emu.save(path)
    with mock_appflow(state=path) as emu:
        assert emu.seed == n
        client = offline_client()
        assert flow_names(client) == [FLOW]
        assert client.describe_flow(flowName=FLOW)["description"] == f"saved by test {n}"


@pytest.fixture(scope="session")
def base_state() -> Dict[str, Any]:
    """Built once per worker through boto3, then kept as a snapshot document."""
    assert get_emulator() is None
    with mock_appflow() as emu:
        emu.create_bucket("in-bucket")
        emu.create_bucket("out-bucket")
        client = offline_client()
        for name in ("base-a", "base-b"):
            client.create_flow(**flow_request(name))
        client.start_flow(flowName="base-a")
        return emu.snapshot()


@pytest.fixture
def restored(appflow_mock: Emulator, base_state: Dict[str, Any]) -> Emulator:
    assert appflow_mock.restore(base_state) == []
    return appflow_mock


@requires_load
@pytest.mark.parametrize("n", range(4))
def test_each_test_starts_from_the_base(restored, n):
    client = offline_client()
    assert flow_names(client) == ["base-a", "base-b"]
    assert len(client.describe_flow_execution_records(flowName="base-a")["flowExecutions"]) == 1
    # changes that the next test must not see
    client.delete_flow(flowName="base-b", forceDelete=True)
    client.create_flow(**flow_request(f"made-by-{n}"))
    client.start_flow(flowName="base-a")
    assert flow_names(client) == ["base-a", f"made-by-{n}"]
