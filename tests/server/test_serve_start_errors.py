"""``python -m appflow_emu serve`` refuses to start on a bad setting as argparse refuses a bad
argument: one line on stderr naming the problem, exit status 2, no traceback (issue 16, bugs 1
and 3)."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "python -m appflow_emu: error: "


def refused(args: List[str], cwd: Path) -> str:
    """The one line ``serve`` printed when it refused to start (it must not start serving)."""
    done = subprocess.run([sys.executable, "-m", "appflow_emu", "serve", "--port", "0", *args],
                          capture_output=True, text=True, env=subprocess_env(), cwd=cwd, timeout=60)
    assert done.stdout == "", "it started serving"
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(PREFIX), done.stderr
    return lines[0][len(PREFIX):]


def test_a_state_file_in_a_folder_that_does_not_exist_is_refused_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent-dir"
    message = refused(["--state", str(missing / "s.json")], tmp_path)
    assert message.startswith("argument --state:") and str(missing) in message and "does not exist" in message
    assert not missing.exists()


@pytest.mark.parametrize("content, words", [
    ("garbage", "is not a JSON state document"),
    ("[1]", "JSON object"),
    (b"\xff\xfe\x00", "is not a JSON state document"),
])
def test_a_state_file_that_is_no_state_document_is_refused(tmp_path: Path, content, words) -> None:
    state = tmp_path / "s.json"
    if isinstance(content, bytes):
        state.write_bytes(content)
    else:
        state.write_text(content)
    message = refused(["--state", str(state)], tmp_path)
    assert message.startswith("argument --state:") and words in message
    assert state.read_bytes() == (content if isinstance(content, bytes) else content.encode())  # untouched


def test_a_state_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s.json").mkdir()  # a folder where the file should be: unreadable as a file, even to root
    message = refused(["--state", str(tmp_path / "s.json")], tmp_path)
    assert message.startswith("argument --state: cannot read") and "s.json" in message


def test_a_port_in_use_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "appflow_emu", "serve", "--port", str(port)],
                              capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(PREFIX + f"cannot listen on 127.0.0.1:{port}:"), line


@pytest.mark.parametrize("spec, words", [
    ("arn:aws:lambda:us-east-1:12:function:x=pkg.mod:attr", "function must be a Lambda function ARN"),
    ("no-handler", "argument --lambda"),
])
def test_a_bad_lambda_spec_is_refused(tmp_path: Path, spec: str, words: str) -> None:
    done = subprocess.run([sys.executable, "-m", "appflow_emu", "serve", "--port", "0", "--lambda", spec],
                          capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("python -m appflow_emu: error: "), done.stderr
    assert words in done.stderr


def test_the_python_api_refuses_a_state_folder_that_does_not_exist(tmp_path: Path) -> None:
    """AppFlowServer(state=...) checks what `serve --state` checks, when it is made: at stop, the
    state would be lost."""
    from appflow_emu.server import AppFlowServer

    missing = tmp_path / "no-such-folder" / "state.json"
    with pytest.raises(ValueError, match=r"does not exist: the state could not be saved there"):
        AppFlowServer(port=0, state=missing)
