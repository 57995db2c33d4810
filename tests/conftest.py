"""Every test runs the emulator in strict mode: each response is checked against its output
shape, and a response that does not fit the model fails the test."""
import os

import boto3
import pytest

os.environ["APPFLOW_EMU_STRICT"] = "1"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass
else:
    # Property tests generate the same examples on every run and every machine: a failure CI sees is
    # one anyone reproduces, and a green run is not luck (a test's own @settings keep these).
    _hypothesis_settings.register_profile("appflow_emu", derandomize=True, database=None)
    _hypothesis_settings.load_profile("appflow_emu")
    # A longer, randomized fuzz run (tests/server/test_fuzz.py; docs/server.md "Fuzzing"):
    #   python -m pytest tests/server/test_fuzz.py --hypothesis-profile=fuzz
    _hypothesis_settings.register_profile("fuzz", derandomize=False, database=None, max_examples=1000,
                                          deadline=None)


@pytest.fixture(scope="module")
def moto_endpoint():
    """The URL of a moto server (``ThreadedMotoServer`` on a free port), one per test module: what
    ``serve --aws-endpoint`` and the endpoint variants of the neighbours talk to."""
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def client(appflow_mock):
    """An AppFlow client inside an active mock (the plugin's appflow_mock fixture). The buckets the
    default flows of tests/helpers.py read and write exist, as they must for a run to succeed."""
    appflow_mock.create_bucket("in-bucket")
    appflow_mock.create_bucket("out-bucket")
    return boto3.client("appflow", region_name="us-east-1")


# --- Model-dependent markers -------------------------------------------------------------------
# The suite runs against whatever botocore is installed (see tox.ini: a mid-2021 botocore has a
# smaller AppFlow model).  These helpers skip what the installed model cannot express and hand
# tests the model's own texts so that expected messages stay exact in every version.

def _model():
    from appflow_emu.model.service import service_model

    return service_model()


def has_operation(name: str) -> bool:
    return name in _model().operation_names


def has_shape(name: str) -> bool:
    return name in _model().shape_names


def has_member(shape: str, member: str) -> bool:
    from appflow_emu.model.service import has_member as _has_member

    return _has_member(shape, member)


def enum_values(shape: str):
    """The installed model's enum of ``shape`` (empty if the shape is absent)."""
    return list(_model().shape_for(shape).enum) if has_shape(shape) else []


def has_enum_value(shape: str, value: str) -> bool:
    return value in enum_values(shape)


def shape_meta(shape: str, key: str):
    """A constraint of ``shape`` in the installed model (pattern, min, max), or None. Read through
    the emulator's shape_metadata: older botocores do not surface ``pattern`` in Shape.metadata."""
    from appflow_emu.model.service import shape_metadata

    return shape_metadata(_model().shape_for(shape)).get(key) if has_shape(shape) else None


def member_meta(shape: str, member: str, key: str):
    """A constraint of the shape that ``shape.member`` targets in the installed model."""
    from appflow_emu.model.service import shape_metadata

    if not has_member(shape, member):
        return None
    return shape_metadata(_model().shape_for(shape).members[member]).get(key)


def is_required(shape: str, member: str) -> bool:
    return has_shape(shape) and member in _model().shape_for(shape).required_members


def _botocore_version() -> str:
    import botocore

    return botocore.__version__


def requires_operation(*names: str):
    missing = [n for n in names if not has_operation(n)]
    return pytest.mark.skipif(bool(missing), reason=f"installed botocore {_botocore_version()} has no AppFlow "
                                                    f"operation {', '.join(missing)}")


def requires_member(shape: str, *members: str):
    missing = [m for m in members if not has_member(shape, m)]
    return pytest.mark.skipif(bool(missing), reason=f"installed botocore {_botocore_version()}: AppFlow shape {shape} "
                                                    f"has no member {', '.join(missing)}")


def requires_enum_value(shape: str, *values: str):
    missing = [v for v in values if not has_enum_value(shape, v)]
    return pytest.mark.skipif(bool(missing), reason=f"installed botocore {_botocore_version()}: AppFlow enum {shape} "
                                                    f"lacks {', '.join(missing)}")


def when(condition: bool, reason: str):
    """For pytest.param(..., marks=when(...)): skip the case unless ``condition`` holds."""
    return pytest.mark.skipif(not condition, reason=f"installed botocore {_botocore_version()}: {reason}")


def enum_params(values, shape: str = "ConnectorType"):
    """pytest.param per value, each skipped (with its reason) where the installed model's enum
    ``shape`` lacks it."""
    return [pytest.param(v, marks=requires_enum_value(shape, v), id=str(v)) for v in values]


def subprocess_env(base=None):
    """Environment for a child Python that must import the appflow_emu under test (this checkout),
    not a copy installed in the interpreter's site-packages (tox installs one, which goes stale
    while the suite runs from the checkout)."""
    import appflow_emu

    env = dict(os.environ if base is None else base)
    root = os.path.dirname(os.path.dirname(os.path.abspath(appflow_emu.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def require_custom_connector_sdk() -> None:
    """Skip the calling test module unless AWS's ``custom-connector-sdk`` can be imported: it is not
    installed in tox's botocore120 env, and version 1.0.5 cannot be imported on Python 3.13 (its
    ``AuthenticationType`` enum follows ``BasicAuth = auto`` with ``auto()``, which Python 3.13
    refuses: "unable to increment"). The emulator itself never imports the SDK."""
    import sys

    try:
        import custom_connector_queryfilter.queryfilter.parse_tree_builder  # noqa: F401
        import custom_connector_sdk.lambda_handler.lambda_handler  # noqa: F401
    except ImportError as e:
        pytest.skip(f"custom-connector-sdk is not installed: {e}", allow_module_level=True)
    except TypeError as e:
        pytest.skip(f"custom-connector-sdk cannot be imported on Python {sys.version_info.major}."
                    f"{sys.version_info.minor}: {e}", allow_module_level=True)
