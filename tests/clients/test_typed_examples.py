"""Typed users: mypy with boto3-stubs' AppFlow types (``boto3-stubs[appflow]``, which brings
``mypy-boto3-appflow``) checks every copy-ready example in docs/examples, the bodies of their
unannotated test functions included (``--check-untyped-defs``), as a user's CI would check them once
copied. ``boto3.client("appflow")`` is typed through boto3-stubs' overloads; the examples' other
imports (moto, freezegun, the custom connector SDK) are checked where they ship types and are
``Any`` where they do not (pyproject.toml: ``ignore_missing_imports``).

mypy and boto3-stubs are in the test extra; without them the tests skip, or fail when
``APPFLOW_EMU_REQUIRE_CLIENTS=1``."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import List

from tests.clients import missing_client

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"


def _mypy(tmp_path: Path, *targets: Path) -> subprocess.CompletedProcess:
    for module, package in (("mypy", "mypy"), ("mypy_boto3_appflow", "boto3-stubs[appflow]")):
        if importlib.util.find_spec(module) is None:
            missing_client(f"{package} is not installed (pip install mypy 'boto3-stubs[appflow]')")
    # From the repository root, with its configuration (pyproject.toml); a cache of the test's own.
    return subprocess.run([sys.executable, "-m", "mypy", "--check-untyped-defs", "--no-error-summary",
                           "--cache-dir", str(tmp_path / "mypy-cache"), *map(str, targets)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_every_example_type_checks_with_the_appflow_stubs(tmp_path: Path) -> None:
    examples: List[Path] = sorted(EXAMPLES.glob("*.py"))
    assert len(examples) >= 9
    done = _mypy(tmp_path, *examples)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_check_catches_a_wrong_appflow_call(tmp_path: Path) -> None:
    """The stubs are in force: a misspelt keyword and a wrong use of an answer are errors."""
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "import boto3\n\n\n"
        "def test_probe():\n"
        "    client = boto3.client('appflow', region_name='us-east-1')\n"
        "    client.start_flow(flowNam='f')\n"
        "    client.describe_flow(flowName='f')['flowStatus'].append(1)\n")
    done = _mypy(tmp_path, probe)
    assert done.returncode == 1
    errors = re.findall(r"test_probe\.py:(\d+): error: (.*)", done.stdout)
    assert [line for line, _ in errors] == ["6", "7"], done.stdout
    assert '"flowNam"' in errors[0][1] and '"append"' in errors[1][1]
