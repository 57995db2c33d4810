"""What the server answers before an operation runs (issue 16): a malformed ``Authorization``
header, a scope naming another service, one body limit with one error on every path, and
credentials for server-mode tests and the docs' snippet."""
from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from typing import Any, Dict

import boto3
import pytest

from appflow_emu.intercept.http_wire import MAX_BODY
from appflow_emu.server import AppFlowServer

ROOT = Path(__file__).resolve().parents[2]
SCOPE = "Credential=AKID/20260101/us-east-1/appflow/aws4_request, SignedHeaders=host, Signature=0"
SIGV4 = {"Authorization": f"AWS4-HMAC-SHA256 {SCOPE}", "X-Amz-Date": "20260101T000000Z"}


@pytest.fixture(scope="module")
def server():
    with AppFlowServer(port=0) as running:
        yield running


def raw(server: AppFlowServer, method: str, path: str, body: bytes, headers: Dict[str, str]) -> Any:
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def error_of(answer: Any) -> Any:
    status, headers, body = answer
    return status, headers.get("x-amzn-errortype"), json.loads(body)["message"]


REQUIRES = "Authorization header requires '{}' parameter."
NO_DATE = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."


@pytest.mark.parametrize("headers, message", [
    ({"Authorization": "garbage"},
     " ".join([REQUIRES.format("Credential"), REQUIRES.format("Signature"), REQUIRES.format("SignedHeaders"),
               NO_DATE])),
    ({"Authorization": "garbage", "X-Amz-Date": "20260101T000000Z"},
     " ".join(REQUIRES.format(p) for p in ("Credential", "Signature", "SignedHeaders"))),
    ({"Authorization": "Bearer abc", "Date": "Thu, 01 Jan 2026 00:00:00 GMT"},
     " ".join(REQUIRES.format(p) for p in ("Credential", "Signature", "SignedHeaders"))),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/appflow/aws4_request",
      "X-Amz-Date": "20260101T000000Z"},
     " ".join(REQUIRES.format(p) for p in ("Signature", "SignedHeaders"))),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AKID, SignedHeaders=host, Signature=0",
      "X-Amz-Date": "20260101T000000Z"}, REQUIRES.format("Credential")),
])
def test_an_authorization_header_that_is_not_sigv4_is_403_incomplete_signature(server, headers, message) -> None:
    assert error_of(raw(server, "POST", "/list-flows", b"{}", headers)) == (
        403, "IncompleteSignatureException", message)


def test_a_scope_naming_another_service_is_403_invalid_signature(server) -> None:
    headers = {**SIGV4, "Authorization": SIGV4["Authorization"].replace("/appflow/", "/s3/")}
    assert error_of(raw(server, "POST", "/list-flows", b"{}", headers)) == (
        403, "InvalidSignatureException", "Credential should be scoped to correct service: 'appflow'.")


def test_a_sigv4_header_for_appflow_is_answered(server) -> None:
    status, _, body = raw(server, "POST", "/list-flows", b"{}", SIGV4)
    assert (status, json.loads(body)["flows"]) == (200, [])


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_gets_the_same_413_json_on_a_control_path_as_on_an_appflow_path(server,
                                                                                               chunked) -> None:
    body = b"x" * (MAX_BODY + 1)

    def answer(path: str) -> Any:
        if not chunked:
            return raw(server, "POST", path, body, SIGV4)
        host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.request("POST", path, body=iter([body[:MAX_BODY], body[MAX_BODY:]]),
                         headers={**SIGV4, "Transfer-Encoding": "chunked"}, encode_chunked=True)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    appflow = error_of(answer("/create-flow"))
    control = error_of(answer("/_appflow_emu/add_source_records"))
    assert appflow == control == (413, "RequestEntityTooLargeException",
                                  f"The request body is larger than {MAX_BODY} bytes.")
    assert raw(server, "GET", "/_appflow_emu/health", b"", {})[0] == 200  # still serving


def test_a_control_body_at_the_limit_is_read(server) -> None:
    padding = MAX_BODY - len(b'{"bucket": "limit-check", "pad": ""}')
    body = b'{"bucket": "limit-check", "pad": "' + b" " * padding + b'"}'
    assert len(body) == MAX_BODY
    status, _, out = raw(server, "POST", "/_appflow_emu/create_bucket", body, {})
    # Read and parsed: the handle refuses the unknown argument (a 400 of its own, not a 413).
    assert status == 400 and json.loads(out)["error"] == "TypeError"


@pytest.fixture
def no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS_* variable and no ~/.aws files: a new user's shell."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_the_appflow_server_fixture_provides_credentials(no_aws_environment, appflow_server) -> None:
    client = boto3.client("appflow", endpoint_url=appflow_server.url, region_name="us-east-1")
    assert client.list_flows()["flows"] == []


def test_the_appflow_server_snippet_in_docs_server_md_runs_with_no_aws_variables(no_aws_environment) -> None:
    text = (ROOT / "docs" / "server.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S)
    assert snippet is not None and "AppFlowServer" in snippet.group(1) and "list_flows" in snippet.group(1)
    exec(compile(snippet.group(1), "docs/server.md", "exec"), {})


def test_docs_server_md_says_the_cli_needs_fake_keys() -> None:
    first = (ROOT / "docs" / "server.md").read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing" in first
