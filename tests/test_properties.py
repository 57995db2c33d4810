"""Property tests over EVERY AppFlow operation, with requests generated from the botocore model.

- valid input (every constraint of the model met) never gives a 5xx, an EmulatorError or any
  exception but a botocore ClientError whose code the model defines;
- input with exactly one constraint broken (enum, length, range, pattern, list size, a required
  member missing) gives a ValidationException (HTTP 400);
- no error message echoes a credential sent under connectorProfileCredentials;
- no failed request changes state (list_flows + describe_connector_profiles + list_connectors
  and the pre-created flow's runs, before and after).

Requests go through a real boto3 client with ``parameter_validation=False``, so what botocore
would reject client-side reaches the emulator. Some examples pre-create a profile, a flow (run
once, tagged) and a registered connector, and bias names towards them, so success paths are
reached too; create/update operations also draw from known-valid templates.
"""
from __future__ import annotations

import copy
import datetime as dt
import os
import re
import string
from typing import Any, Callable, Dict, List, Optional, Tuple

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import Shape
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from appflow_emu import EmulatorError, mock_appflow
from appflow_emu.model.javaregex import _JAVA_DOT as JAVA_DOT
from appflow_emu.model.javaregex import compile_java, translate
from appflow_emu.model.service import error_statuses, operation_model, operation_names, shape_metadata
from tests.conftest import has_operation
from tests.helpers import PROFILE_CONFIGS, flow_request, profile_request

REGION = "us-east-1"
ACCOUNT = "123456789012"
PRE_FLOW = "pf-flow"
PRE_PROFILE = "pf-profile"
PRE_CONNECTOR = "pf-connector"
PRE_FLOW_ARN = f"arn:aws:appflow:{REGION}:{ACCOUNT}:flow/{PRE_FLOW}"
LAMBDA_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pf-connector"

# [seen] Real AppFlow answers TagResource and UntagResource with 204 and an empty body; the rest 200.
SUCCESS_STATUS = {"TagResource": 204, "UntagResource": 204}
MAX_DEPTH = 7
MAX_OPTIONAL = 3  # optional members drawn per structure
MAX_LIST = 2  # items drawn per list (at least the model's min)
ASCII = st.characters(codec="ascii")
ANY_XML_CHAR = r"\u0020-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF"
PRINTABLE = string.ascii_letters + string.digits + " -_./:@!#+=,"

SETTINGS = settings(
    max_examples=int(os.environ.get("PROPS_EXAMPLES", "25")),
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)

# -- strategies from shapes --------------------------------------------------------------------

# Names that point at the pre-created resources (drawn sometimes, when the shape allows them).
NAME_HINTS: Dict[str, List[str]] = {
    "flowName": [PRE_FLOW],
    "connectorProfileName": [PRE_PROFILE],
    "resourceArn": [PRE_FLOW_ARN],
    "connectorLabel": [PRE_CONNECTOR],
    "connectorProfileNames": [PRE_PROFILE],
    "lambdaArn": [LAMBDA_ARN],
}


def _fits(shape: Shape, value: str) -> bool:
    meta = shape_metadata(shape)
    enum = getattr(shape, "enum", None) or meta.get("enum")
    if enum and value not in enum:
        return False
    if len(value) < (meta.get("min") or 0) or ("max" in meta and len(value) > meta["max"]):
        return False
    pattern = meta.get("pattern")
    return pattern is None or compile_java(pattern).fullmatch(value) is not None


def _string(shape: Shape) -> st.SearchStrategy:
    meta = shape_metadata(shape)
    enum = getattr(shape, "enum", None) or meta.get("enum")
    if enum:
        return st.sampled_from(list(enum))
    lo = meta.get("min") or 0
    hi = meta.get("max")
    pattern = meta.get("pattern")
    if pattern:
        regex = re.compile(translate(pattern), re.ASCII)
        # Java's '.' (anything but a line terminator) generates as printable ASCII
        # and so do the model's "any XML character" classes (the alphabet is ASCII)
        generating = re.compile(
            translate(pattern).replace(JAVA_DOT, "[ -~]").replace(ANY_XML_CHAR, " -~"), re.ASCII)
        base = st.from_regex(generating, fullmatch=True, alphabet=ASCII)
        if lo > 8:
            # long minimums (ARNs): pad the free tail so the filter rarely rejects
            base = st.tuples(base, st.text(alphabet="abc123", min_size=lo, max_size=lo + 4)).map(
                lambda t: t[0] + t[1])
        cap = hi if hi is not None else 10_000
        return base.filter(lambda s: lo <= len(s) <= cap and regex.fullmatch(s) is not None)
    top = lo + 24 if hi is None else min(hi, lo + 24)
    return st.text(alphabet=PRINTABLE, min_size=lo, max_size=top)


def _number(shape: Shape) -> st.SearchStrategy:
    lo = shape_metadata(shape).get("min")
    hi = shape_metadata(shape).get("max")
    if shape.type_name in ("double", "float"):
        return st.floats(min_value=lo if lo is not None else -1e6, max_value=hi if hi is not None else 1e6,
                         allow_nan=False, allow_infinity=False)
    return st.integers(min_value=lo if lo is not None else -1000, max_value=hi if hi is not None else 10**6)


class Builder:
    """Strategies for valid values of each shape (memoized by shape and depth)."""

    def __init__(self) -> None:
        self._memo: Dict[Tuple[str, int], st.SearchStrategy] = {}

    def for_shape(self, shape: Shape, depth: int = 0, member_name: Optional[str] = None) -> st.SearchStrategy:
        strategy = self._plain(shape, depth)
        hints = NAME_HINTS.get(member_name or "")
        if hints:
            if shape.type_name == "string":
                fitting = [h for h in hints if _fits(shape, h)]
                if fitting:
                    strategy = st.one_of(st.sampled_from(fitting), strategy)
            elif shape.type_name == "list" and shape.member.type_name == "string":
                fitting = [h for h in hints if _fits(shape.member, h)]
                if fitting:
                    strategy = st.one_of(st.just(fitting), strategy)
        return strategy

    def _plain(self, shape: Shape, depth: int) -> st.SearchStrategy:
        key = (shape.name, min(depth, MAX_DEPTH))
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = st.deferred(lambda: self._build(shape, depth))
        return found

    def _build(self, shape: Shape, depth: int) -> st.SearchStrategy:
        t = shape.type_name
        if t == "string":
            return _string(shape)
        if t in ("integer", "long", "double", "float"):
            return _number(shape)
        if t == "boolean":
            return st.booleans()
        if t == "timestamp":
            return st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1),
                                timezones=st.just(dt.timezone.utc))
        if t == "blob":
            return st.binary(max_size=16)
        if t == "list":
            lo = shape_metadata(shape).get("min") or 0
            hi = shape_metadata(shape).get("max")
            top = lo if depth >= MAX_DEPTH else lo + MAX_LIST
            if hi is not None:
                top = min(top, hi)
            return st.lists(self.for_shape(shape.member, depth + 1), min_size=lo, max_size=top)
        if t == "map":
            lo = shape_metadata(shape).get("min") or 0
            hi = shape_metadata(shape).get("max")
            top = lo if depth >= MAX_DEPTH else lo + MAX_LIST
            if hi is not None:
                top = min(top, hi)
            return st.dictionaries(self.for_shape(shape.key, depth + 1), self.for_shape(shape.value, depth + 1),
                                   min_size=lo, max_size=top)
        if t == "structure":
            return self._structure(shape, depth)
        raise AssertionError(f"unhandled shape type {t}")

    def _structure(self, shape: Shape, depth: int) -> st.SearchStrategy:
        members = shape.members
        required = list(shape.required_members)
        optional = [m for m in members if m not in required]
        req = {m: self.for_shape(members[m], depth + 1, m) for m in required}
        opt = {m: self.for_shape(members[m], depth + 1, m) for m in optional}
        if shape_metadata(shape).get("union"):
            return st.one_of(*[st.fixed_dictionaries({m: s}) for m, s in opt.items()]) if opt else st.just({})
        if depth >= MAX_DEPTH or not optional:
            return st.fixed_dictionaries(req)
        chosen = st.lists(st.sampled_from(optional), max_size=min(MAX_OPTIONAL, len(optional)), unique=True)

        @st.composite
        def structure(draw: Callable) -> Dict[str, Any]:
            out = draw(st.fixed_dictionaries(req))
            for name in draw(chosen):
                out[name] = draw(opt[name])
            return out

        return structure()


BUILDER = Builder()


def _templates(op: str) -> List[st.SearchStrategy]:
    """Known-valid requests, so create/update success paths are reached often."""
    flow_names = st.from_regex(re.compile(r"[a-z][a-z0-9-]{2,20}"), fullmatch=True)
    if op == "CreateFlow":
        return [st.builds(lambda n, d, tags: flow_request(n, description=d, tags=tags),
                          flow_names, st.sampled_from(["", "a flow", "nightly export"]),
                          st.dictionaries(st.sampled_from(["team", "env", "x.y"]), st.sampled_from(["a", "b c"]),
                                          max_size=2))]
    if op == "UpdateFlow":
        def update(d: str) -> Dict[str, Any]:
            req = flow_request(PRE_FLOW, description=d)
            return req
        return [st.builds(update, st.sampled_from(["v2", "updated flow"]))]
    if op == "CreateConnectorProfile":
        return [st.builds(profile_request, flow_names, st.sampled_from(sorted(PROFILE_CONFIGS)))]
    if op == "UpdateConnectorProfile":
        def update_profile(mode: str) -> Dict[str, Any]:
            req = profile_request(PRE_PROFILE, "Zendesk", connectionMode=mode)
            req.pop("connectorType")
            return req
        return [st.builds(update_profile, st.just("Public"))]
    if op == "RegisterConnector":
        return [st.builds(lambda label: {"connectorLabel": label, "connectorProvisioningType": "LAMBDA",
                                         "connectorProvisioningConfig": {"lambda": {"lambdaArn": LAMBDA_ARN}}},
                          flow_names)]
    if op == "TagResource":
        return [st.builds(lambda tags: {"resourceArn": PRE_FLOW_ARN, "tags": tags},
                          st.dictionaries(st.sampled_from(["a", "b", "c.d"]), st.just("v"), min_size=1, max_size=3))]
    return []


AIM = {"flowName": PRE_FLOW, "connectorProfileName": PRE_PROFILE, "resourceArn": PRE_FLOW_ARN,
       "connectorLabel": PRE_CONNECTOR}


def aimed(request: Dict[str, Any]) -> Dict[str, Any]:
    """The request pointed at the pre-created resources (top-level names it has)."""
    return {k: AIM.get(k, v) for k, v in request.items()}


def draw_request(data: Any, op: str) -> Tuple[bool, Dict[str, Any]]:
    pre = data.draw(st.booleans(), label="pre-create")
    request = data.draw(request_strategy(op), label="request")
    if pre and data.draw(st.booleans(), label="aim at pre-created"):
        request = aimed(request)
    return pre, request


def request_strategy(op: str) -> st.SearchStrategy:
    shape = operation_model(op).input_shape
    generated = BUILDER.for_shape(shape) if shape is not None else st.just({})
    templates = _templates(op)
    return st.one_of(generated, *templates) if templates else generated


# -- breaking exactly one constraint ------------------------------------------------------------

Site = Tuple[Tuple[Any, ...], Shape, str]  # (path, shape, kind of break)


def _pattern_breakers(shape: Shape) -> List[str]:
    meta = shape_metadata(shape)
    lo, hi = meta.get("min") or 0, meta.get("max")
    regex = compile_java(meta["pattern"])
    out = []
    for seed in ["\n", "\r", " ", "!", "~", "\u00e9", "a b", "\t", "\x00", "/", "aws:x", "-a", "%", "\u2028"]:
        candidate = seed * max(1, lo // max(1, len(seed)) + (1 if lo % max(1, len(seed)) else 0)) if lo else seed
        if len(candidate) < lo:
            candidate = candidate + seed * lo
        if hi is not None and len(candidate) > hi:
            continue
        if regex.fullmatch(candidate) is None:
            out.append(candidate)
    return out


def _string_breaks(shape: Shape) -> List[Any]:
    meta = shape_metadata(shape)
    out: List[Any] = []
    enum = getattr(shape, "enum", None) or meta.get("enum")
    if enum:
        bad = "NotAValidEnumValue"
        assert bad not in enum
        out.append(bad)
    if meta.get("max") is not None and meta["max"] <= 20_000:
        out.append("a" * (meta["max"] + 1))
    if (meta.get("min") or 0) >= 1:
        out.append("")
    if meta.get("pattern") and not enum:
        out += _pattern_breakers(shape)[:3]
    return out


def _number_breaks(shape: Shape) -> List[Any]:
    out: List[Any] = []
    meta = shape_metadata(shape)
    if meta.get("max") is not None:
        out.append(meta["max"] + 1)
    if meta.get("min") is not None:
        out.append(meta["min"] - 1)
    return out


def break_sites(value: Any, shape: Shape, path: Tuple[Any, ...] = ()) -> List[Tuple[Tuple[Any, ...], List[Any]]]:
    """Every place in ``value`` where one constraint can be broken, with the breaking values."""
    sites: List[Tuple[Tuple[Any, ...], List[Any]]] = []
    t = shape.type_name
    if t == "string":
        breaks = _string_breaks(shape)
        if breaks:
            sites.append((path, breaks))
    elif t in ("integer", "long", "double", "float"):
        breaks = _number_breaks(shape)
        if breaks:
            sites.append((path, breaks))
    elif t == "list":
        breaks = []
        hi, lo = shape_metadata(shape).get("max"), shape_metadata(shape).get("min") or 0
        if hi is not None and hi <= 200 and value:
            breaks.append([copy.deepcopy(value[0]) for _ in range(hi + 1)])
        if lo >= 1:
            breaks.append([])
        if breaks:
            sites.append((path, breaks))
        for i, item in enumerate(value):
            sites += break_sites(item, shape.member, path + (i,))
    elif t == "map":
        for k, v in value.items():
            sites += break_sites(v, shape.value, path + (k,))
            key_breaks = _string_breaks(shape.key)
            # a map key is replaced (not the value); mark the site with a tuple marker
            key_breaks = [b for b in key_breaks if b not in value]
            if key_breaks:
                sites.append((path + (("key", k),), key_breaks))
    elif t == "structure":
        for name, item in value.items():
            if name in shape.members and item is not None:
                sites += break_sites(item, shape.members[name], path + (name,))
        for name in shape.required_members:
            # a missing URI label cannot even be serialized by botocore
            if name in value and shape.members[name].serialization.get("location") != "uri":
                sites.append((path + (("drop", name),), [None]))
    return sites


def apply_break(request: Dict[str, Any], path: Tuple[Any, ...], bad: Any) -> Dict[str, Any]:
    request = copy.deepcopy(request)
    *parents, last = path
    target: Any = request
    for step in parents:
        target = target[step]
    if isinstance(last, tuple) and last[0] == "drop":
        del target[last[1]]
    elif isinstance(last, tuple) and last[0] == "key":
        target[bad] = target.pop(last[1])
    else:
        target[last] = bad
    return request


# -- running requests --------------------------------------------------------------------------

_client_cache: Dict[str, Any] = {}


def _client() -> Any:
    client = _client_cache.get("c")
    if client is None:
        client = _client_cache["c"] = boto3.session.Session().client(
            "appflow", region_name=REGION,
            config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
        )
    return client


def _method(op: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()


def _all_pages(call: Callable, key: str) -> List[Any]:
    out, token = [], None
    while True:
        page = call(**({"nextToken": token} if token else {}))
        out += page[key]
        token = page.get("nextToken")
        if not token:
            return out


def snapshot(client: Any) -> Dict[str, Any]:
    snap = {
        "flows": _all_pages(client.list_flows, "flows"),
        "profiles": _all_pages(client.describe_connector_profiles, "connectorProfileDetails"),
    }
    if has_operation("ListConnectors"):  # not in older models
        snap["connectors"] = _all_pages(client.list_connectors, "connectors")
    if any(f["flowName"] == PRE_FLOW for f in snap["flows"]):
        snap["runs"] = client.describe_flow_execution_records(flowName=PRE_FLOW)["flowExecutions"]
    return snap


def pre_create(client: Any) -> None:
    client.create_connector_profile(**profile_request(PRE_PROFILE, "Zendesk"))
    if has_operation("RegisterConnector"):  # not in older models
        client.register_connector(connectorLabel=PRE_CONNECTOR, connectorProvisioningType="LAMBDA",
                                  connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_ARN}})
    client.create_flow(**flow_request(PRE_FLOW, tags={"k": "v"}))
    client.start_flow(flowName=PRE_FLOW)


def send(client: Any, op: str, request: Dict[str, Any]) -> Tuple[Optional[Dict[str, Any]], Optional[ClientError]]:
    try:
        return getattr(client, _method(op))(**request), None
    except ClientError as exc:
        return None, exc


def secrets_in(request: Any, inside: bool = False) -> List[str]:
    """Credential strings of a request (under connectorProfileCredentials), long enough to spot."""
    out: List[str] = []
    if isinstance(request, dict):
        for k, v in request.items():
            out += secrets_in(v, inside or k == "connectorProfileCredentials")
    elif isinstance(request, list):
        for v in request:
            out += secrets_in(v, inside)
    elif inside and isinstance(request, str) and len(request) >= 6 and request.strip() == request:
        out.append(request)
    return out


def public_strings(request: Any, inside: bool = False) -> List[str]:
    """The request's strings outside connectorProfileCredentials (names, ...), which may be echoed."""
    out: List[str] = []
    if isinstance(request, dict):
        for k, v in request.items():
            out += public_strings(v, inside or k == "connectorProfileCredentials")
            if not inside:
                out.append(str(k))
    elif isinstance(request, list):
        for v in request:
            out += public_strings(v, inside)
    elif not inside and isinstance(request, str):
        out.append(request)
    return out


def assert_no_secret_echoed(request: Dict[str, Any], err: ClientError) -> None:
    message = err.response["Error"].get("Message", "")
    public = public_strings(request)
    for secret in secrets_in(request):
        if any(secret in p for p in public):
            continue  # drawn equal to (part of) a name the message may rightly show
        assert secret not in message, f"a credential was echoed in an error message: {message}"


OPERATIONS = operation_names()


@pytest.mark.parametrize("op", OPERATIONS)
@SETTINGS
@given(data=st.data())
def test_valid_requests_get_modelled_answers(op, data):
    pre, request = draw_request(data, op)
    client = _client()
    with mock_appflow():
        if pre:
            pre_create(client)
        before = snapshot(client)
        try:
            out, err = send(client, op, request)
        except EmulatorError as exc:  # pragma: no cover - the property failing
            pytest.fail(f"EmulatorError for a valid {op} request: {exc}")
        if err is not None:
            code = err.response["Error"]["Code"]
            status = err.response["ResponseMetadata"]["HTTPStatusCode"]
            assert code in error_statuses(), f"{op}: unmodelled error code {code}"
            assert status == error_statuses()[code]
            assert status < 500, f"{op}: {code} {err}"
            assert_no_secret_echoed(request, err)
            assert snapshot(client) == before, f"failed {op} ({code}) changed state"
        else:
            assert out["ResponseMetadata"]["HTTPStatusCode"] == SUCCESS_STATUS.get(op, 200)


@pytest.mark.parametrize("op", [o for o in OPERATIONS if operation_model(o).input_shape is not None])
@SETTINGS
@given(data=st.data())
def test_one_broken_constraint_is_a_validation_exception(op, data):
    shape = operation_model(op).input_shape
    pre, request = draw_request(data, op)
    sites = break_sites(request, shape)
    if not sites:
        return  # nothing breakable in this draw (e.g. an empty ListFlows request)
    path, breaks = data.draw(st.sampled_from(sites), label="site")
    bad = data.draw(st.sampled_from(breaks), label="bad value")
    broken = apply_break(request, path, bad)
    client = _client()
    with mock_appflow():
        if pre:
            pre_create(client)
        before = snapshot(client)
        try:
            out, err = send(client, op, broken)
        except EmulatorError as exc:  # pragma: no cover - the property failing
            pytest.fail(f"EmulatorError for {op} with {path} = {bad!r}: {exc}")
        assert err is not None, f"{op} accepted {path} = {bad!r}"
        assert err.response["Error"]["Code"] == "ValidationException", (path, bad, err)
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert_no_secret_echoed(broken, err)
        assert snapshot(client) == before, f"failed {op} changed state"


def test_every_operation_is_covered():
    # 25 operations since the custom connector SDK (2022), 18 in mid-2021 models.
    assert len(OPERATIONS) >= (25 if has_operation("RegisterConnector") else 18)
    for op in OPERATIONS:
        assert hasattr(_client(), _method(op)), op


def test_breakers_really_break():
    """The invalid-value generator itself: each breaking value violates its shape."""
    from appflow_emu.model.service import service_model

    model = service_model()
    checked = 0
    for name in model.shape_names:
        shape = model.shape_for(name)
        if shape.type_name == "string":
            for bad in _string_breaks(shape):
                assert not _fits(shape, bad), (name, bad)
                checked += 1
    assert checked > 50
