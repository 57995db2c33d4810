"""Hostile AppFlow requests for tests/server/test_fuzz.py (issue 17), built from the installed
botocore's service model: hypothesis strategies for request bodies (valid-ish, then mutated),
their wire form (raw JSON text with tokens ``json`` cannot write: ``NaN``, ``1e400``, lone
surrogates, nesting deeper than any encoder recurses), and the checks every answer and the state
after it must pass. Nothing here knows the emulator's internals: answers are read as a client reads
them, with botocore's own rest-json parser."""
from __future__ import annotations

import copy
import inspect
import json
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote

import botocore.session
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from hypothesis import strategies as st

from tests.helpers import flow_request, profile_request, s3_destination

MODEL = botocore.session.get_session().get_service_model("appflow")
OPERATIONS = sorted(MODEL.operation_names)
# Names the generated requests use, so that operations meet the resources others made.
FLOW_NAMES = ("fz-flow", "fz-sched", "fz-new")
PROFILE_NAMES = ("fz-profile", "fz-new-profile")
BUCKETS = ("in-bucket", "out-bucket")


class Raw:
    """JSON text written as is: a token ``json.dumps`` refuses or cannot reach (``NaN``, ``1e400``,
    a 5,000-level nesting). ``python`` is what botocore's serializer is handed for it in process."""

    def __init__(self, text: str, python: Any) -> None:
        self.text, self.python = text, python

    def __repr__(self) -> str:
        return f"Raw({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


def deep(depth: int, kind: str = "list") -> Raw:
    if kind == "list":
        return Raw("[" * depth + "]" * depth, _nested(depth, list))
    return Raw('{"x":' * depth + "1" + "}" * depth, _nested(depth, dict))


def _nested(depth: int, kind: type) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind is list else {"x": value}
    return value


NUMBERS = [Raw("NaN", float("nan")), Raw("Infinity", float("inf")), Raw("-Infinity", float("-inf")),
           Raw("1e400", float("inf")), Raw("-1e400", float("-inf")), Raw("1e30", 1e30), Raw("-1e30", -1e30),
           Raw(str(10 ** 30), 10 ** 30), Raw("-0", 0), Raw("1.5", 1.5), Raw("4294967296", 2 ** 32),
           Raw("9223372036854775808", 2 ** 63), Raw("-1", -1), Raw("0", 0), Raw("1e-400", 0.0)]
SURROGATES = ["\ud800", "\udfff", "a\ud834b", "\udc00\ud800", "fz-flow\ud800"]


def to_json(value: Any) -> str:
    """``value`` as JSON text: strings escaped as ``json.dumps`` escapes them (a lone surrogate
    becomes ``\\ud800``), ``Raw`` written as is."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


def to_python(value: Any) -> Any:
    """``value`` as the Python a boto3 caller would pass."""
    if isinstance(value, Raw):
        return value.python
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_python(v) for v in value]
    return value


# --- valid-ish values from the model -------------------------------------------------------------

def _string(shape: Any) -> st.SearchStrategy[str]:
    if shape.enum:
        return st.sampled_from(list(shape.enum))
    name = shape.name.lower()
    pool: List[str] = []
    if "flowname" in name:
        pool += FLOW_NAMES
    if "profilename" in name:
        pool += PROFILE_NAMES
    if "bucket" in name:
        pool += BUCKETS
    if "arn" in name:
        pool += ["arn:aws:iam::123456789012:role/r", "arn:aws:appflow:us-east-1:123456789012:flow/fz-flow"]
    text = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=12)
    return st.sampled_from(pool) | text if pool else st.sampled_from(["x", "fz-flow", "Account", "id"]) | text


def _number(shape: Any) -> st.SearchStrategy[Any]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if shape.type_name in ("integer", "long"):
        return st.integers(min_value=int(low) if low is not None else -5,
                           max_value=int(high) if high is not None else 10 ** 6)
    return st.floats(min_value=float(low) if low is not None else -1e6,
                     max_value=float(high) if high is not None else 1e6, allow_nan=False)


_VALID: Dict[Tuple[str, int], st.SearchStrategy[Any]] = {}


def valid_value(shape: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value of ``shape`` that fits its type (constraints only roughly: the mutations do the rest)."""
    key = (shape.name, min(depth, 6))
    found = _VALID.get(key)
    if found is None:
        found = _VALID[key] = _valid_value(shape, depth)
    return found


def _valid_value(shape: Any, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        required = [m for m in shape.required_members if m in shape.members]
        optional = [m for m in shape.members if m not in required and not shape.members[m].serialization.get(
            "location") == "header"]
        if depth >= 6:
            optional = []
        if shape.metadata.get("union") and not required and optional:  # one member of a union
            return st.sampled_from(optional).flatmap(
                lambda m: st.fixed_dictionaries({m: valid_value(shape.members[m], depth + 1)}))
        return st.fixed_dictionaries({m: valid_value(shape.members[m], depth + 1) for m in required},
                                     optional={m: valid_value(shape.members[m], depth + 1) for m in optional})
    if kind == "list":
        return st.lists(valid_value(shape.member, depth + 1), max_size=0 if depth >= 6 else 2)
    if kind == "map":
        return st.dictionaries(valid_value(shape.key, depth + 1), valid_value(shape.value, depth + 1),
                               max_size=0 if depth >= 6 else 2)
    if kind == "string":
        return _string(shape)
    if kind in ("integer", "long", "double", "float"):
        return _number(shape)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.integers(min_value=0, max_value=2 ** 31)
    if kind == "blob":
        return st.just("YWJj")
    return st.none()


def known_good(account_id: str) -> Dict[str, List[Dict[str, Any]]]:
    """Requests AppFlow accepts, per operation: the bases most mutations start from, so that they
    reach past validation into the handlers and leave resources behind."""
    flow_arn = f"arn:aws:appflow:us-east-1:{account_id}:flow/fz-flow"
    flow = flow_request("fz-new")
    csv = flow_request("fz-new", destination=s3_destination(file_type="CSV"))
    glue = flow_request("fz-new", destination=s3_destination(file_type="CSV"),
                        metadataCatalogConfig={"glueDataCatalog": {
                            "roleArn": "arn:aws:iam::123456789012:role/r", "databaseName": "db",
                            "tablePrefix": "t"}})
    scheduled = flow_request("fz-new", trigger="Scheduled", schedule="rate(1hours)")
    return {
        "CreateFlow": [flow, csv, glue, scheduled],
        "UpdateFlow": [{k: v for k, v in f.items() if k != "flowName"} | {"flowName": "fz-flow"}
                       for f in (flow, csv, glue)],
        "CreateConnectorProfile": [profile_request("fz-new-profile", t) for t in ("Zendesk", "Salesforce", "Redshift")],
        "UpdateConnectorProfile": [{k: v for k, v in profile_request("fz-profile").items()
                                    if k not in ("connectorType", "connectorProfileName")}
                                   | {"connectorProfileName": "fz-profile"}],
        "StartFlow": [{"flowName": "fz-flow"}, {"flowName": "fz-sched"}],
        "StopFlow": [{"flowName": "fz-sched"}],
        "DescribeFlow": [{"flowName": "fz-flow"}],
        "DescribeFlowExecutionRecords": [{"flowName": "fz-flow", "maxResults": 1}],
        "TagResource": [{"resourceArn": flow_arn, "tags": {"k": "v"}}],
        "UntagResource": [{"resourceArn": flow_arn, "tagKeys": ["k"]}],
        "ListTagsForResource": [{"resourceArn": flow_arn}],
        "ListFlows": [{"maxResults": 1}],
        "DescribeConnectorProfiles": [{"maxResults": 1}],
        "DeleteFlow": [{"flowName": "fz-flow", "forceDelete": True}],
    }


# --- mutations -----------------------------------------------------------------------------------

def _paths(value: Any, shape: Any, path: Tuple[Any, ...] = ()) -> Iterator[Tuple[Tuple[Any, ...], Any]]:
    """Every (path, shape) in a request: where a mutation may land (shape None: not in the model)."""
    yield path, shape
    if isinstance(value, dict):
        for key, item in value.items():
            inner = None
            if shape is not None and shape.type_name == "structure":
                inner = shape.members.get(key)
            elif shape is not None and shape.type_name == "map":
                inner = shape.value
            yield from _paths(item, inner, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, shape.member if shape is not None and shape.type_name == "list" else None,
                              path + (i,))


def _wrong_type(shape: Any) -> st.SearchStrategy[Any]:
    """A JSON value of another type than ``shape``'s."""
    kind = shape.type_name if shape is not None else None
    choices: List[Any] = [None, True, 7, 1.5, "text", [], {}, ["a"], {"a": 1}, [None], {"": None}]
    by_kind = {"structure": (dict,), "map": (dict,), "list": (list,), "string": (str,), "boolean": (bool,),
               "integer": (int,), "long": (int,), "double": (int, float), "float": (int, float),
               "timestamp": (int, float)}
    wrong = [c for c in choices if not isinstance(c, by_kind.get(kind or "", ())) or c is True and kind != "boolean"]
    return st.sampled_from(wrong)


def hostile(shape: Any) -> st.SearchStrategy[Any]:
    """What replaces a value: wrong types, JSON null, deep nesting, lone surrogates, huge and
    non-finite numbers, empty and very long strings."""
    return st.one_of(
        st.just(None),
        st.just(None),  # twice: a null where a structure belongs reaches the handlers
        _wrong_type(shape),
        st.sampled_from([5, 40, 330, 990, 1100, 5000]).flatmap(
            lambda d: st.sampled_from([deep(d, "list"), deep(d, "dict")])),
        st.sampled_from(SURROGATES),
        st.sampled_from(NUMBERS),
        st.sampled_from(["", " ", "a" * 257, "a" * 2049, "é" * 70000]),
        st.sampled_from([[], {}, [[]], [{}], {"extra": {"deeper": [1]}}]),
    )


@st.composite
def mutated(draw: Any, op_name: str, account_id: str = "123456789012") -> Dict[str, Any]:
    """A request for ``op_name``: a known-good one or one made from the model, with 0-3 mutations
    (a value replaced, a member added, a required member dropped)."""
    shape = MODEL.operation_model(op_name).input_shape
    bases = known_good(account_id).get(op_name, [])
    if shape is None:
        body: Dict[str, Any] = {}
    elif bases and draw(st.integers(min_value=0, max_value=3)):
        body = copy.deepcopy(draw(st.sampled_from(bases)))
    else:
        body = draw(valid_value(shape))
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
        places = list(_paths(body, shape))
        path, where = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["replace", "replace", "replace", "add", "drop"]))
        if action == "replace" and path:
            _set(body, path, draw(hostile(where)))
        elif action == "add" or not path:
            target = _get(body, path)
            if isinstance(target, dict):
                key = draw(st.sampled_from(["extraMember", "", "\ud800", "flowName", "S3", "a" * 300]))
                target[key] = draw(hostile(None) | st.just("x"))
            elif isinstance(target, list):
                target.append(draw(hostile(where.member if where is not None and where.type_name == "list"
                                           else None)))
        elif action == "drop":
            parent = _get(body, path[:-1])
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, list) and len(parent) > path[-1]:
                del parent[path[-1]]
    return body


def single_mutations(account_id: str, operations: Tuple[str, ...], value: Any = None
                     ) -> Iterator[Tuple[str, Dict[str, Any], Tuple[Any, ...]]]:
    """(operation, request, path): each known-good request of ``operations`` with one member (at
    any depth) replaced by ``value``: the exhaustive neighbour of the random search. A path two
    requests share is tried in the first only."""
    for op_name in operations:
        shape = MODEL.operation_model(op_name).input_shape
        seen = set()
        for base in known_good(account_id).get(op_name, []):
            for path, _ in _paths(base, shape):
                if path and path not in seen:
                    seen.add(path)
                    body = copy.deepcopy(base)
                    _set(body, path, value)
                    yield op_name, body, path


def _get(value: Any, path: Tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _set(value: Any, path: Tuple[Any, ...], new: Any) -> None:
    _get(value, path[:-1])[path[-1]] = new


def requests() -> st.SearchStrategy[Tuple[str, Dict[str, Any]]]:
    """(operation, request) for every operation in the model; those that make and run resources
    more often (they hold the most structure, and what they store must stay readable)."""
    weighted = OPERATIONS + ["CreateFlow"] * 6 + ["UpdateFlow"] * 3 + ["CreateConnectorProfile"] * 2 + \
        ["StartFlow"] * 2 + ["TagResource", "UntagResource"]
    weighted = [op for op in weighted if op in OPERATIONS]
    return st.sampled_from(weighted).flatmap(lambda op: mutated(op).map(lambda body: (op, body)))


# --- the wire ------------------------------------------------------------------------------------

def _label_text(value: Any) -> str:
    if isinstance(value, str):
        return quote(value.encode("utf-8", "surrogatepass"), safe="")
    return quote(to_json(value), safe="")


def wire_request(op_name: str, body: Dict[str, Any]) -> Tuple[str, str, bytes]:
    """(method, path with query, body bytes) as a raw HTTP client would send ``body``: URI labels
    in the path, querystring members in the query, the rest as JSON text."""
    op = MODEL.operation_model(op_name)
    path = op.http["requestUri"]
    query: List[str] = []
    rest: Dict[str, Any] = {}
    members = op.input_shape.members if op.input_shape is not None else {}
    for key, value in body.items():
        location = members[key].serialization.get("location") if key in members else None
        wire_name = members[key].serialization.get("name", key) if key in members else key
        if location == "uri":
            path = path.replace("{" + wire_name + "}", _label_text(value))
        elif location == "querystring":
            for item in value if isinstance(value, list) else [value]:
                query.append(f"{quote(wire_name)}={_label_text(item)}")
        else:
            rest[key] = value
    path = path.split("{", 1)[0] + "x" if "{" in path else path  # a label the request left out
    if query:
        path += ("&" if "?" in path else "?") + "&".join(query)
    return op.http["method"], path, to_json(rest).encode("utf-8", "surrogatepass")


def method_name(op_name: str) -> str:
    return xform_name(op_name)


_PARSER = create_parser("rest-json")


def answer_problems(op_name: str, status: int, headers: Dict[str, str], body: bytes) -> List[str]:
    """What is wrong with an answer: a 5xx, a 4xx without ``x-amzn-ErrorType``, a body that is not
    strict JSON, or one botocore's rest-json parser cannot read (a timestamp it cannot convert)."""
    problems: List[str] = []
    headers = {k.lower(): v for k, v in headers.items()}
    if status >= 500:
        problems.append(f"{op_name}: HTTP {status} {body[:300]!r}")
    if 400 <= status < 500 and not headers.get("x-amzn-errortype"):
        problems.append(f"{op_name}: HTTP {status} without x-amzn-ErrorType: {body[:200]!r}")
    if body:
        try:
            json.loads(body.decode("utf-8"), parse_constant=_refuse)
        except ValueError as e:
            problems.append(f"{op_name}: HTTP {status} body is not strict JSON ({e}): {body[:200]!r}")
    try:
        parsed = _PARSER.parse({"status_code": status, "headers": headers, "body": body},
                               MODEL.operation_model(op_name).output_shape)
    except Exception as e:  # noqa: BLE001 - any parser failure is the finding
        problems.append(f"{op_name}: botocore cannot parse the HTTP {status} answer: {type(e).__name__}: {e}")
    else:
        if status >= 400 and not parsed.get("Error", {}).get("Code"):
            problems.append(f"{op_name}: botocore reads no error code from HTTP {status}: {body[:200]!r}")
    return problems


def _refuse(token: str) -> Any:
    raise ValueError(f"non-finite number {token}")


# --- the state afterwards ------------------------------------------------------------------------

def _pages(call: Callable[..., Dict[str, Any]], key: str, name: str) -> List[str]:
    names: List[str] = []
    token: Optional[str] = None
    for _ in range(1000):
        answer = call(maxResults=1, **({"nextToken": token} if token else {}))
        names += [item[name] for item in answer.get(key, [])]
        token = answer.get("nextToken")
        if not token:
            return names
    raise AssertionError(f"{key}: paging did not end")


def _strict_json(document: Any) -> None:
    """``document`` (JSON text, or what is to be written as JSON) holds no NaN or Infinity."""
    try:
        if isinstance(document, bytes):
            json.loads(document, parse_constant=_refuse)
        else:
            json.dumps(document, allow_nan=False)
    except RecursionError:  # deeper than this check reads (the restore that follows reads it all)
        pass


def _attempt(problems: List[str], what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``'s answer; a 4xx ClientError is an answer too (None); a 5xx, a ClientError without
    a code, or any other exception is added to ``problems``."""
    try:
        return call(*args, **kwargs)
    except ClientError as e:
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500 or not e.response.get("Error", {}).get("Code"):
            problems.append(f"{what}: HTTP {status} {e.response.get('Error')}")
    except Exception as e:  # noqa: BLE001 - the finding
        problems.append(f"{what}: {type(e).__name__}: {str(e)[:300]}")
    return None


def call_problems(what: str, call: Callable[..., Any], **kwargs: Any) -> List[str]:
    problems: List[str] = []
    _attempt(problems, what, call, **kwargs)
    return problems


def state_problems(client: Any, snapshot: Callable[[], Any], restore: Callable[[Any], Any]) -> List[str]:
    """Every stored flow and profile can be listed (paging), described and run (200 or a 4xx), and
    the whole state snapshotted and restored (``snapshot()``: a document or its JSON text, which
    ``restore`` takes back). ``client``: boto3, parameter validation off (a stored
    name the model would refuse is a finding of its own, not the client's to stop)."""
    problems: List[str] = []

    def attempt(what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return _attempt(problems, what, call, *args, **kwargs)

    flows = attempt("list_flows (paging)", lambda: _pages(client.list_flows, "flows", "flowName")) or []
    attempt("describe_connector_profiles (paging)", lambda: _pages(
        client.describe_connector_profiles, "connectorProfileDetails", "connectorProfileName"))
    for flow in flows:
        attempt(f"describe_flow {flow!r}", client.describe_flow, flowName=flow)
        attempt(f"start_flow {flow!r}", client.start_flow, flowName=flow)
        attempt(f"describe_flow_execution_records {flow!r}", client.describe_flow_execution_records, flowName=flow)
    document = attempt("snapshot", snapshot)
    if document is not None:
        attempt("snapshot is strict JSON", _strict_json, document=document)
        attempt("restore(snapshot)", restore, document)
        if not problems:
            attempt("list_flows after restore", lambda: _pages(client.list_flows, "flows", "flowName"))
    return problems


# --- the control API -----------------------------------------------------------------------------

def control_arguments(verb: str, signature: inspect.Signature) -> st.SearchStrategy[Dict[str, Any]]:
    """Keyword arguments for a control verb, from the handle's signature: plausible ones with one
    or two replaced by values of the wrong type (``"region": true``, ``"delta": 1e30``, ``NaN``...)."""
    plausible: Dict[str, st.SearchStrategy[Any]] = {
        "connector_type": st.sampled_from(["Salesforce", "S3", "Zendesk"]), "entity": st.sampled_from(["Account"]),
        "records": st.just([{"Id": "1"}]), "flow": st.sampled_from(FLOW_NAMES), "profile": st.sampled_from(
            PROFILE_NAMES), "bucket": st.sampled_from(BUCKETS), "key": st.just("k"), "body": st.just("b"),
        "delta": st.sampled_from([0, 1, 3600]), "polls": st.just(1), "value": st.just(5),
        "name": st.just("flows"), "handler": st.none(), "function": st.just("fn"), "fields": st.just(["Id"]),
        "database": st.just("db"), "table": st.just("t"), "region": st.none(), "account_id": st.none(),
    }
    params = [p for p in signature.parameters.values() if p.name != "self"]
    strange = st.sampled_from([True, False, 0, 1.5, [], {}, ["x"], {"a": 1}, "", "\ud800", None, 10 ** 30,
                               "not-a-region", "us-east-1"]) | st.sampled_from(NUMBERS) | \
        st.sampled_from([deep(50), deep(2000), deep(12000, "dict")])
    # The arguments that pick where state goes, and the clock's, more often: a wrong one is kept.
    names = [p.name for p in params] + [p.name for p in params if p.name in ("region", "account_id", "delta")] * 2 \
        + ["unknown_argument"]

    @st.composite
    def build(draw: Any) -> Dict[str, Any]:
        kwargs: Dict[str, Any] = {}
        for p in params:
            if p.default is inspect.Parameter.empty or draw(st.booleans()):
                kwargs[p.name] = draw(plausible.get(p.name, st.just("x")))
        for _ in range(draw(st.integers(min_value=1, max_value=2))):
            kwargs[draw(st.sampled_from(names))] = draw(strange)
        if verb == "register_lambda" and isinstance(kwargs.get("handler"), str):
            kwargs["handler"] = None  # never a module name the server would import
        return kwargs

    return build()


def document_changes(document: Dict[str, Any]) -> st.SearchStrategy[List[Tuple[Tuple[Any, ...], Any]]]:
    """One or two (path, value) changes to a state document (a snapshot): ``clock_offset`` NaN or
    1e30, an id generator's word out of range, any field of the wrong type. ``changed`` applies them."""
    # Of the id generators' 625-word states, the first word and the index.
    places = [p for p, _ in _paths(document, None) if p and not (p[0] == "ids" and len(p) == 4 and p[3] not in (0, 624))]
    favourites = [p for p in places if p[0] in ("clock_offset", "ids", "settings", "seed")]
    numbers = st.sampled_from([-1, 2 ** 32, 2 ** 64, 10 ** 30] + NUMBERS)
    # Half the time a favourite place, half the time a number (``a | b`` would flatten into
    # hostile's many branches and draw them rarely).
    path = st.booleans().flatmap(lambda fav: st.sampled_from(favourites if fav else places))
    value = st.booleans().flatmap(lambda number: numbers if number else hostile(None))
    return st.lists(st.tuples(path, value), min_size=1, max_size=2)


EXTREME_NUMBERS = [-1, 2 ** 32, 2 ** 64, 10 ** 30, Raw("NaN", float("nan")), Raw("Infinity", float("inf")),
                   Raw("1e400", float("inf")), Raw("1e30", 1e30), Raw("-1e30", -1e30)]


def number_places(document: Dict[str, Any]) -> List[Tuple[Any, ...]]:
    """Where a state document holds numbers the emulator computes with: the clock offset, the
    seed, the settings, the id generators' version, first word, index and gauss slot."""
    return [p for p, _ in _paths(document, None)
            if p and isinstance(_get(document, p), (int, float)) and not isinstance(_get(document, p), bool)
            and (p[0] != "ids" or len(p) != 4 or p[3] in (0, 624)) and p[0] in ("clock_offset", "seed", "settings", "ids")]


def changed(document: Dict[str, Any], changes: List[Tuple[Tuple[Any, ...], Any]]) -> Dict[str, Any]:
    doc = copy.deepcopy(document)
    for path, value in changes:
        try:
            _set(doc, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier change removed the place
            pass
    return doc
