"""The model layer: coverage of the installed model, the JSON Schema export, and a differential
check of the compiled validators against jsonschema validating the exported schema."""
import json
import subprocess
import sys

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appflow_emu.backend import HANDLERS
from appflow_emu.model.javaregex import compile_java, translate
from appflow_emu.model.jsonschema import operation_schema
from appflow_emu.model.service import error_statuses, operation_model, operation_names, route, service_model
from appflow_emu.model.validate import input_check
from tests.conftest import subprocess_env

OPERATIONS = operation_names()


def test_every_operation_in_the_installed_model_has_a_handler():
    assert OPERATIONS, "the installed botocore has no AppFlow model"
    missing = [op for op in OPERATIONS if op not in HANDLERS]
    assert missing == []


def test_coverage_command_lists_every_operation():
    out = subprocess.run([sys.executable, "-m", "appflow_emu", "coverage"], capture_output=True, text=True,
                         env=subprocess_env())
    assert out.returncode == 0, out.stderr
    for op in OPERATIONS:
        assert f"| {op} |" in out.stdout
    assert f"{len(OPERATIONS)}/{len(OPERATIONS)} operations" in out.stdout


@pytest.mark.parametrize("op", OPERATIONS)
def test_routes_come_from_the_http_trait(op):
    http = operation_model(op).http
    path = http["requestUri"].replace("{resourceArn}", "arn%3Aaws%3Aappflow%3Aus-east-1%3A1%3Aflow%2Fx")
    name, labels = route(http["method"], path)
    assert name == op
    if "{resourceArn}" in http["requestUri"]:
        assert labels == {"resourceArn": "arn:aws:appflow:us-east-1:1:flow/x"}


def test_error_statuses_come_from_the_model():
    statuses = error_statuses()
    assert statuses["ValidationException"] == 400
    assert statuses["ResourceNotFoundException"] == 404
    assert statuses["ConflictException"] == 409
    assert statuses["InternalServerException"] == 500


@pytest.mark.parametrize("op", OPERATIONS)
def test_exported_schemas_are_valid_json_schema(op):
    for output in (False, True):
        schema = operation_schema(op, output=output)
        jsonschema.Draft202012Validator.check_schema(schema)
        json.dumps(schema)


def test_schema_command_prints_json():
    out = subprocess.run([sys.executable, "-m", "appflow_emu", "schema", "CreateFlow"], capture_output=True, text=True,
                         env=subprocess_env())
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["$defs"]["CreateFlowRequest"]["required"]


def test_java_surrogate_pair_range_is_translated():
    pattern = r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*"
    regex = compile_java(pattern)
    assert regex.fullmatch("abc \U0001F600\t")
    assert regex.fullmatch("a\x01") is None
    assert "\\U00010000-\\U0010FFFF" in translate(pattern)


def test_java_word_class_is_ascii_and_whole_value():
    regex = compile_java(r"[a-zA-Z0-9][\w!@#.-]+")
    assert regex.fullmatch("flow_1")
    assert regex.fullmatch("caf\u00e9") is None  # Java's \w is ASCII-only
    assert regex.fullmatch("has space") is None  # matches() is a whole-value match


# -- differential: compiled check vs jsonschema on the exported schema, shape by shape ----------

def _leaf_shapes():
    model = service_model()
    seen = []
    for name in sorted(model.shape_names):
        shape = model.shape_for(name)
        if shape.type_name == "list" and shape.member.type_name != "string":
            continue  # member structures are covered through their own shapes
        if shape.type_name in ("string", "integer", "long", "list", "map") and not shape.metadata.get("exception"):
            seen.append(shape)
    return seen


LEAVES = _leaf_shapes()


def _schema_for(shape):
    from appflow_emu.model.jsonschema import _schema

    defs = {}
    root = _schema(shape, defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": defs}


_VALIDATORS = {}


def _jsonschema_ok(shape, value):
    validator = _VALIDATORS.get(shape.name)
    if validator is None:
        validator = _VALIDATORS[shape.name] = jsonschema.Draft202012Validator(_schema_for(shape))
    return validator.is_valid(value)


def _compiled_ok(shape, value):
    errors = []
    input_check(shape)(value, None, errors)
    return not errors


ascii_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


def _values_for(shape):
    meta = shape.metadata
    if shape.type_name == "string":
        enum = list(getattr(shape, "enum", None) or [])
        options = [ascii_text]
        if enum:
            options.append(st.sampled_from(enum))
        for bound in (meta.get("min"), meta.get("max")):
            if bound is not None and bound < 3000:
                options.append(st.integers(max(0, bound - 1), bound + 1).map(lambda n: "a" * n))
        return st.one_of(options)
    if shape.type_name in ("integer", "long"):
        lo, hi = meta.get("min", -5), meta.get("max", 5)
        return st.integers(lo - 2, hi + 2)
    if shape.type_name == "list":
        return st.lists(st.just("x"), max_size=(meta.get("max") or 3) + 2)
    return st.dictionaries(ascii_text, st.just("v"), max_size=(meta.get("max") or 3) + 2)


@pytest.mark.parametrize("shape", LEAVES, ids=[s.name for s in LEAVES])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_compiled_check_agrees_with_jsonschema(shape, data):
    value = data.draw(_values_for(shape))
    assert _compiled_ok(shape, value) == _jsonschema_ok(shape, value), (shape.name, value)
