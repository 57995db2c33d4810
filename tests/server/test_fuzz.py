"""Fuzzing (issue 17): hostile requests for every AppFlow operation, built from the installed
botocore's model (tests/fuzz_requests.py), sent raw over HTTP to a server and through boto3 in
process; hostile control-API arguments and state documents. Every answer is below 500, every 4xx
names its error type, every body is strict JSON botocore's parser reads; after each example, every
stored flow and profile can be listed (paging), described and run, and the state snapshotted and
restored, and the state page answers.

In CI: the suite's derandomized profile (tests/conftest.py) and the example counts below. A longer,
randomized run: ``python -m pytest tests/server/test_fuzz.py --hypothesis-profile=fuzz`` (docs/server.md)."""
from __future__ import annotations

import http.client
import inspect
import json
import os
import traceback
from typing import Any, Dict, List, Tuple

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import appflow_emu
from appflow_emu import mock_appflow
from appflow_emu.emulator import Emulator
from appflow_emu.server import AppFlowServer
from appflow_emu.server.control import VERBS
from tests import fuzz_requests as fz
from tests.helpers import flow_request, profile_request

SIGV4 = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/appflow/aws4_request, "
                          "SignedHeaders=host, Signature=0", "X-Amz-Date": "20260101T000000Z",
         "Content-Type": "application/json"}
PACKAGE = os.path.dirname(os.path.abspath(appflow_emu.__file__))


def fuzz_settings(examples: int) -> Any:
    """``examples`` in CI (the suite's derandomized profile); a profile asking for more than
    hypothesis's default 100 (``--hypothesis-profile=fuzz``, tests/conftest.py) gets its own count."""
    loaded = settings().max_examples
    return settings(max_examples=loaded if loaded > 100 else examples, deadline=None,
                    suppress_health_check=list(HealthCheck))


NO_VALIDATION = Config(parameter_validation=False, retries={"max_attempts": 1})
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # restore's "not kept" warnings


_PREPARED: Dict[Tuple[int, bool], Dict[str, Any]] = {}


def prepare(client: Any, emu: Emulator, active_schedule: bool = True) -> None:
    """What each example starts from: two buckets with a source object, a Glue database, a
    profile, an on-demand flow and a scheduled one (the names the generated requests use), active
    unless ``active_schedule`` is false. Made once per emulator, then restored from its snapshot.

    The tests that move the clock (control verbs, state documents) start with the scheduled flow
    inactive: at HEAD an active schedule makes ``advance`` run every tick passed, one by one (a
    year of hourly ticks takes seconds, ``delta=2**32`` hours of CPU): a finding of its own
    (reported on issue 17), not one to stall every later example on."""
    key = (id(emu), active_schedule)
    document = _PREPARED.get(key)
    if document is not None:
        emu.restore(document)
        return
    emu.reset()
    for bucket in fz.BUCKETS:
        emu.create_bucket(bucket)
    emu.put_object("in-bucket", "data/part-1.csv", b"id,name\n1,a\n2,b\n")
    emu.create_glue_database("db")  # the one the known-good requests' Data Catalog names
    client.create_connector_profile(**profile_request("fz-profile"))
    client.create_flow(**flow_request("fz-flow"))
    client.create_flow(**flow_request("fz-sched", trigger="Scheduled", schedule="rate(1hours)"))
    if active_schedule:
        client.start_flow(flowName="fz-sched")
    _PREPARED[key] = emu.snapshot()


# --- over HTTP ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server() -> Any:
    with AppFlowServer(port=0) as running:
        yield running


@pytest.fixture(scope="module")
def server_client(server: AppFlowServer) -> Any:
    return boto3.client("appflow", endpoint_url=server.url, region_name="us-east-1", config=NO_VALIDATION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def send(server: AppFlowServer, method: str, path: str, body: bytes = b"",
         headers: Dict[str, str] = SIGV4) -> Tuple[int, Dict[str, str], bytes]:
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def control(server: AppFlowServer, verb: str, body: Any = None) -> Tuple[int, Dict[str, str], bytes]:
    data = b"" if body is None else fz.to_json(body).encode("utf-8", "surrogatepass")
    return send(server, "POST", "/_appflow_emu/" + verb, data, {"Content-Type": "application/json"})


def server_state_problems(server: AppFlowServer, client: Any) -> List[str]:
    """The invariants over HTTP, the snapshot and restore through the control API and the handle,
    and the state page."""
    def snapshot() -> bytes:
        status, _, out = control(server, "snapshot")
        assert status == 200, (status, out[:300])
        server.emulator.snapshot()  # the handle too
        return out

    def restore(answer: bytes) -> None:
        # The snapshot's own text, not this test's encoding of it (which recurses per level).
        prefix = b'{"result": '
        assert answer.startswith(prefix), answer[:100]
        body = b'{"document": ' + answer[len(prefix):]
        status, _, out = send(server, "POST", "/_appflow_emu/restore", body, {"Content-Type": "application/json"})
        assert status == 200, (status, out[:300])

    problems = fz.state_problems(client, snapshot, restore)
    for page in ("/_appflow_emu/", "/_appflow_emu/page-data"):
        status, _, out = send(server, "GET", page, b"", {})
        if status != 200:
            problems.append(f"GET {page}: HTTP {status} {out[:300]!r}")
    return problems


@given(st.lists(fz.requests(), min_size=1, max_size=3))
@fuzz_settings(60)
def test_hostile_requests_over_http_get_aws_shaped_answers_and_leave_a_readable_state(
        server: AppFlowServer, server_client: Any, calls: List[Tuple[str, Dict[str, Any]]]) -> None:
    prepare(server_client, server.emulator)
    problems: List[str] = []
    for op_name, body in calls:
        method, path, data = fz.wire_request(op_name, body)
        problems += fz.answer_problems(op_name, *send(server, method, path, data))
    problems += server_state_problems(server, server_client)
    assert not problems, "\n".join(problems)


def test_each_member_of_a_good_request_sent_as_null_is_refused_or_stored_runnable(
        server: AppFlowServer, server_client: Any) -> None:
    """The exhaustive neighbour of the random search: every member, at any depth, of the
    known-good requests that store flows and profiles, sent as JSON null (which only raw HTTP
    clients can send: botocore drops None)."""
    problems: List[str] = []
    for op_name, body, path in fz.single_mutations(server.account_id, (
            "CreateFlow", "UpdateFlow", "CreateConnectorProfile", "UpdateConnectorProfile")):
        prepare(server_client, server.emulator)
        method, where, data = fz.wire_request(op_name, body)
        status, headers, out = send(server, method, where, data)
        found = fz.answer_problems(op_name, status, headers, out)
        if status == 200 and "Flow" in op_name:
            for flow in ("fz-new", "fz-flow"):
                for call in (server_client.describe_flow, server_client.start_flow):
                    found += fz.call_problems(f"{call.__name__} {flow}", call, flowName=flow)
        problems += [f"{problem}\n    after {op_name} with null at {list(path)}" for problem in found]
    problems += server_state_problems(server, server_client)
    assert not problems, "\n".join(problems)


# --- through boto3 in process ------------------------------------------------------------------

HOOK = os.path.join(PACKAGE, "intercept", "hook.py")  # wraps every call, botocore's refusals included


def from_the_emulator(error: BaseException) -> bool:
    """The exception came out of appflow_emu's answering (a bug), not from botocore refusing to
    serialize what it was handed."""
    return any(frame.filename.startswith(PACKAGE) and frame.filename != HOOK
               for frame in traceback.extract_tb(error.__traceback__))


def test_hostile_requests_through_boto3_in_process_get_aws_shaped_answers() -> None:
    with mock_appflow() as emu:
        client = boto3.client("appflow", region_name="us-east-1", config=NO_VALIDATION)

        @given(st.lists(fz.requests(), min_size=1, max_size=3))
        @fuzz_settings(150)
        def run(calls: List[Tuple[str, Dict[str, Any]]]) -> None:
            prepare(client, emu)
            problems: List[str] = []
            for op_name, body in calls:
                try:
                    getattr(client, fz.method_name(op_name))(**fz.to_python(body))
                except ClientError as e:
                    status = e.response["ResponseMetadata"]["HTTPStatusCode"]
                    if status >= 500 or not e.response["Error"].get("Code"):
                        problems.append(f"{op_name}: HTTP {status} {e.response['Error']}")
                except Exception as e:  # noqa: BLE001 - botocore's own refusals are not findings
                    if from_the_emulator(e):
                        problems.append(f"{op_name}: {type(e).__name__}: {str(e)[:300]}")
            problems += fz.state_problems(client, emu.snapshot, emu.restore)
            assert not problems, "\n".join(problems)

        run()


# --- the control API ---------------------------------------------------------------------------

def control_problems(server: AppFlowServer, client: Any, verb: str, answer: Tuple[int, Dict[str, str], bytes]
                     ) -> List[str]:
    status, headers, out = answer
    problems: List[str] = []
    if status >= 500:
        problems.append(f"{verb}: HTTP {status} {out[:300]!r}")
    try:
        document = json.loads(out, parse_constant=fz._refuse)
        if status >= 400 and not (isinstance(document, dict) and document.get("error")):
            problems.append(f"{verb}: HTTP {status} names no error: {out[:200]!r}")
    except ValueError as e:
        problems.append(f"{verb}: HTTP {status} body is not strict JSON ({e}): {out[:200]!r}")
    return problems + server_state_problems(server, client)


VERB_ARGUMENTS = st.sampled_from([v for v in VERBS if v not in ("reset", "restore")]).flatmap(
    lambda verb: fz.control_arguments(verb, inspect.signature(getattr(Emulator, verb))).map(lambda a: (verb, a)))


@given(st.lists(VERB_ARGUMENTS, min_size=1, max_size=3))
@fuzz_settings(40)
def test_control_verbs_refuse_arguments_of_the_wrong_type_and_the_page_still_answers(
        server: AppFlowServer, server_client: Any, calls: List[Tuple[str, Dict[str, Any]]]) -> None:
    prepare(server_client, server.emulator, active_schedule=False)
    problems: List[str] = []
    for verb, kwargs in calls:
        problems += control_problems(server, server_client, verb, control(server, verb, kwargs))
    assert not problems, "\n".join(problems)


_STATE_DOCUMENT: List[Dict[str, Any]] = []


def state_document(server: AppFlowServer, client: Any) -> Dict[str, Any]:
    """A snapshot with flows, a profile and a run in it (made once)."""
    if not _STATE_DOCUMENT:
        prepare(client, server.emulator, active_schedule=False)
        client.start_flow(flowName="fz-flow")
        _STATE_DOCUMENT.append(server.emulator.snapshot())
    return _STATE_DOCUMENT[0]


@given(data=st.data())
@fuzz_settings(60)
def test_hostile_state_documents_are_refused_or_leave_a_readable_state(
        server: AppFlowServer, server_client: Any, data: Any) -> None:
    base = state_document(server, server_client)
    document = fz.changed(base, data.draw(fz.document_changes(base), label="changes"))
    server.emulator.reset()
    problems = control_problems(server, server_client, "restore", control(server, "restore", {"document": document}))
    # A flow made after the restore is described too (the clock the document set reaches it).
    for bucket in fz.BUCKETS:
        server.emulator.create_bucket(bucket)
    problems += fz.call_problems("create_flow after restore", server_client.create_flow,
                                 **flow_request("fz-after-restore"))
    problems += fz.call_problems("describe_flow after restore", server_client.describe_flow,
                                 flowName="fz-after-restore")
    assert not problems, "\n".join(problems)


def test_each_number_of_a_state_document_out_of_range_is_refused_or_leaves_a_readable_state(
        server: AppFlowServer, server_client: Any) -> None:
    """The exhaustive neighbour of the random documents: each number the emulator computes with
    (clock offset, seed, settings, id generator state) replaced by -1, 2**32, 2**64, 10**30, NaN,
    Infinity, 1e400, ±1e30."""
    base = state_document(server, server_client)
    problems: List[str] = []
    for path in fz.number_places(base):
        for value in fz.EXTREME_NUMBERS:
            server.emulator.reset()
            answer = control(server, "restore", {"document": fz.changed(base, [(path, value)])})
            found = control_problems(server, server_client, "restore", answer)
            problems += [f"{problem}\n    after restore with {list(path)} = {value!r}" for problem in found]
    assert not problems, "\n".join(problems)

