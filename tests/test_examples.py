"""The copy-ready examples in docs/examples run with the suite, so they cannot go stale.

One pytest subprocess, started from the repository root the way a user would run them
(``python -m pytest -q docs/examples/...``), runs every example file; its JUnit XML report is then
checked file by file: each file passes, with the number of tests it is known to hold. The examples
are also checked to be self-contained and to use only the public API (imports, the handle's public
verbs, no ``...``), and to be listed in docs/examples/README.md and linked from the README.
"""
from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List

import pytest

from tests.conftest import has_operation, subprocess_env

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"

# Each example file and the number of tests it holds.
EXPECTED: Dict[str, int] = {
    "test_salesforce_to_s3.py": 1,
    "test_s3_to_s3_with_moto.py": 1,
    "test_scheduled_incremental_with_freezegun.py": 1,
    "test_event_flow.py": 1,
    "test_failure_injection.py": 4,
    "test_custom_connector.py": 2,
    "test_custom_connector_sdk.py": 2,
    "test_airflow_style_waiter.py": 5,
    "test_event_driven_pipeline.py": 2,
}


def _missing_requirement(name: str) -> str:
    """Why the installed environment cannot run this example ('' when it can): tox's botocore120
    env has neither moto (moto 5 needs a newer botocore) nor RegisterConnector in its model."""
    if name in ("test_s3_to_s3_with_moto.py", "test_event_driven_pipeline.py") and importlib.util.find_spec("moto") is None:
        return "moto is not installed"
    if name in ("test_custom_connector.py", "test_custom_connector_sdk.py") and not has_operation("RegisterConnector"):
        return "the installed botocore's AppFlow model has no RegisterConnector"
    if name == "test_custom_connector_sdk.py":
        try:
            import custom_connector_sdk.lambda_handler.lambda_handler  # noqa: F401
        except ImportError:
            return "custom-connector-sdk is not installed"
        except TypeError:  # version 1.0.5 on Python 3.13 (tests/conftest.py, require_custom_connector_sdk)
            return f"custom-connector-sdk cannot be imported on Python {sys.version_info.major}.{sys.version_info.minor}"
    return ""


def _runnable() -> List[str]:
    return [name for name in EXPECTED if not _missing_requirement(name)]


@pytest.fixture(scope="module")
def example_results(tmp_path_factory):
    """Run every runnable example in one pytest subprocess; {file: [(test, outcome, details)]}."""
    files = _runnable()
    report = tmp_path_factory.mktemp("examples") / "report.xml"
    env = subprocess_env()
    env["APPFLOW_EMU_STRICT"] = "1"  # every response checked against the model, as in the rest of the suite
    for var in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(var, None)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
               *(f"docs/examples/{name}" for name in files)]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = f"$ {' '.join(command)}\n{proc.stdout}\n{proc.stderr}"
    assert report.exists(), f"pytest wrote no report:\n{output}"
    results: Dict[str, list] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname") or case.get("name") or ""
        file_name = module.rsplit(".", 1)[-1] + ".py"
        outcome, details = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = child.tag
                details = f"{child.get('message', '')}\n{child.text or ''}"
        results.setdefault(file_name, []).append((case.get("name"), outcome, details))
    return results, output


def test_the_examples_directory_holds_the_nine_examples():
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.name != "__pycache__" and not p.name.startswith(".")) == sorted([*EXPECTED, "README.md"])


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.skipif(bool(_missing_requirement(name)), reason=_missing_requirement(name)))
    for name in EXPECTED
])
def test_example_passes(name, example_results):
    results, output = example_results
    cases = results.get(name, [])
    problems = [f"{test}: {outcome}\n{details}" for test, outcome, details in cases if outcome != "passed"]
    assert not problems, "\n".join(problems) + f"\n\n{output[-4000:]}"
    assert len(cases) == EXPECTED[name], (f"{name}: {len(cases)} tests ran, {EXPECTED[name]} expected "
                                          f"(update EXPECTED when an example gains a test)\n\n{output[-4000:]}")


# -- self-contained, public API only -----------------------------------------------------------------

THIRD_PARTY = {"boto3", "botocore", "jmespath", "pytest", "moto", "freezegun", "time_machine", "appflow_emu",
               "custom_connector_sdk", "custom_connector_queryfilter"}  # AWS's custom connector SDK


def _tree(name: str) -> ast.Module:
    return ast.parse((EXAMPLES / name).read_text(encoding="utf-8"), filename=name)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_example_imports_only_public_names(name):
    import appflow_emu

    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}: relative import (the file must stand alone)"
            modules = [node.module or ""]
            if node.module == "appflow_emu":
                private = [a.name for a in node.names if a.name not in appflow_emu.__all__]
                assert not private, f"{name} imports {private} from appflow_emu, which is not public"
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            assert top in THIRD_PARTY or top in sys.stdlib_module_names, f"{name} imports {module}"
            assert top != "appflow_emu" or module == "appflow_emu", f"{name} imports {module}: not public API"
            assert top != "tests", f"{name} imports the repository's tests: it would not run once copied"


@pytest.mark.parametrize("name", list(EXPECTED))
def test_example_uses_only_the_handles_public_verbs(name):
    from appflow_emu import Emulator

    tree = _tree(name)
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in ("appflow_mock", "emu")}
    unknown = sorted(a for a in used if a.startswith("_") or not hasattr(Emulator, a))
    assert not unknown, f"{name} uses {unknown}, which are not verbs of the handle"


@pytest.mark.parametrize("name", list(EXPECTED))
def test_example_is_complete(name):
    tree = _tree(name)
    assert ast.get_docstring(tree), f"{name} has no module docstring saying what it shows"
    ellipses = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value is Ellipsis]
    assert not ellipses, f"{name} has `...` on lines {ellipses}: examples are complete"


# -- discoverable --------------------------------------------------------------------------------------

def test_examples_are_listed_and_linked():
    listing = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    unlisted = [name for name in EXPECTED if f"({name})" not in listing]
    assert not unlisted, f"docs/examples/README.md does not link {unlisted}"
    readme_top = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:15])
    assert "(docs/examples/)" in readme_top, "README.md's first screen does not link docs/examples/"
    assert "(examples/)" in (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")


def test_nothing_but_the_examples_configures_their_run():
    """Run from the repository root, the examples must not lean on a conftest.py that a user who
    copies them does not have (tests/conftest.py is not on their path)."""
    assert not (ROOT / "docs" / "conftest.py").exists() and not (ROOT / "conftest.py").exists()
