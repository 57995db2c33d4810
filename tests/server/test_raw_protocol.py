"""Requests that are not well-formed HTTP, sent as raw bytes to a running server (issue 17, items 8
and 9): each gets an answer at once, AWS-shaped (``x-amzn-ErrorType``, ``x-amzn-RequestId``, a JSON
body), in the control API's body shape on its paths, and the server keeps serving. Methods the
control API's read-only routes do not take are a 405 with an ``Allow`` header.

No test sleeps: every socket has a generous timeout, which only bounds a failure (a server that
never answers fails the test instead of hanging it). docs/server.md, "What a malformed request
gets", is the table these check."""
from __future__ import annotations

import http.client
import json
import socket
from typing import Dict, Iterator, NoReturn, Tuple

import pytest

from appflow_emu.emulator import Emulator
from appflow_emu.intercept.http_wire import MAX_BODY
from appflow_emu.server import AppFlowServer
from appflow_emu.server.waitress_layer import MAX_DRAIN, MAX_HEADER

TIMEOUT = 30.0  # seconds: a bound for a failing test, never waited for by a passing one
SIGV4 = (b"Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/appflow/aws4_request, "
         b"SignedHeaders=host, Signature=0\r\nX-Amz-Date: 20260101T000000Z\r\n")
APPFLOW, CONTROL = "/list-flows", "/_appflow_emu/reset"
TOO_LARGE = f"The request body is larger than {MAX_BODY} bytes."

Answer = Tuple[int, Dict[str, str], bytes]


@pytest.fixture(scope="module")
def server() -> Iterator[AppFlowServer]:
    with AppFlowServer(port=0) as running:
        yield running


def exchange(server: AppFlowServer, data: bytes) -> Answer:
    """Send ``data`` on a new connection; the answer (status, lowercased headers, body)."""
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=data.split(b" ", 1)[0].decode("latin-1"))
        response.begin()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def request(method: bytes, path: bytes, headers: bytes = b"", body: bytes = b"", version: bytes = b"HTTP/1.1",
            eol: bytes = b"\r\n") -> bytes:
    lines = [method + b" " + path + b" " + version, b"Host: localhost"] + [h for h in headers.split(b"\r\n") if h]
    return eol.join(lines) + eol + eol + body


def assert_aws_error(answer: Answer, path: str, status: int, code: str) -> str:
    """``answer`` is AWS's error shape (the control API's body on its paths); its message."""
    got_status, headers, body = answer
    assert (got_status, headers.get("x-amzn-errortype")) == (status, code), body
    assert headers.get("content-type") == "application/json" and headers.get("x-amzn-requestid")
    assert headers.get("connection") == "close"
    document = json.loads(body)
    if path.startswith("/_appflow_emu"):
        assert set(document) == {"error", "message"} and document["error"] == code
    else:
        assert set(document) == {"message"}
    assert isinstance(document["message"], str) and document["message"]
    return str(document["message"])


def still_serving(server: AppFlowServer) -> None:
    status, _, body = exchange(server, request(b"GET", b"/_appflow_emu/health", b"Connection: close"))
    assert (status, json.loads(body)) == (200, {"status": "ok"})


# -- item 8: what waitress refuses before the application sees it -----------------------------------

MALFORMED = {
    "a Content-Length that is not a number": (b"POST", b"Content-Length: abc", b"{}"),
    "a negative Content-Length": (b"POST", b"Content-Length: -1", b"{}"),
    "two different Content-Lengths": (b"POST", b"Content-Length: 2\r\nContent-Length: 3", b"{} "),
    "a chunk size that is not hexadecimal": (b"POST", b"Transfer-Encoding: chunked", b"zz\r\n{}\r\n0\r\n\r\n"),
    "a chunk not ended by CRLF": (b"POST", b"Transfer-Encoding: chunked", b"2\r\n{}XX0\r\n\r\n"),
    "a chunk extension that is not one": (b"POST", b"Transfer-Encoding: chunked", b"2;\x01\r\n{}\r\n0\r\n\r\n"),
    "a header line without a colon": (b"POST", b"Not a header", b""),
    "Transfer-Encoding identity": (b"POST", b"Transfer-Encoding: identity", b""),
    "the same Content-Length twice": (b"POST", b"Content-Length: 2\r\nContent-Length: 2", b"{}"),
    "Transfer-Encoding gzip": (b"POST", b"Transfer-Encoding: gzip", b""),
    "a lowercase method": (b"post", b"", b""),
}


@pytest.mark.parametrize("path", [APPFLOW, CONTROL])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_request_is_a_400_malformed_http_request(server, case, path) -> None:
    method, headers, body = MALFORMED[case]
    assert_aws_error(exchange(server, request(method, path.encode(), SIGV4 + headers, body)), path, 400,
                     "MalformedHttpRequestException")
    still_serving(server)


def test_a_non_ascii_path_is_a_400_malformed_http_request(server) -> None:
    path = "/list-fl\u00f6ws"
    assert_aws_error(exchange(server, request(b"POST", path.encode("utf-8"), SIGV4)), path, 400,
                     "MalformedHttpRequestException")
    assert_aws_error(exchange(server, request(b"GET", "/_appflow_emu/h\u00e9alth".encode("utf-8"))),
                     "/_appflow_emu/", 400, "MalformedHttpRequestException")


@pytest.mark.parametrize("path", [APPFLOW, CONTROL, "/_appflow_emu/health"])
@pytest.mark.parametrize("eol", [b"\n", b"\r"], ids=["bare LF", "bare CR"])
def test_line_endings_that_are_not_crlf_are_answered_at_once(server, path, eol) -> None:
    """Bare LF line endings never end the headers for waitress, which waited for the connection to
    time out: the parser refuses them as soon as it sees them."""
    answer = exchange(server, request(b"GET", path.encode(), b"Connection: close", eol=eol))
    message = assert_aws_error(answer, path, 400, "MalformedHttpRequestException")
    assert "Bare CR or LF" in message
    still_serving(server)


@pytest.mark.parametrize("path", [APPFLOW, CONTROL])
def test_headers_over_the_limit_are_a_400_malformed_http_request(server, path) -> None:
    big = b"X-Big: " + b"a" * (MAX_HEADER + 1)
    message = assert_aws_error(exchange(server, request(b"POST", path.encode(), SIGV4 + big)), path, 400,
                               "MalformedHttpRequestException")
    assert message == f"The request line and headers are larger than {MAX_HEADER} bytes."
    still_serving(server)


@pytest.mark.parametrize("path", [APPFLOW, CONTROL])
@pytest.mark.parametrize("length", [MAX_DRAIN + 1, 10 ** 30])
def test_a_declared_length_far_over_the_limit_is_refused_before_any_body_is_sent(server, path, length) -> None:
    """One limit on every path, waitress's and the application's the same 413: a Content-Length
    over what the server reads before refusing (MAX_DRAIN) is answered from the headers alone (no
    body is sent here)."""
    headers = SIGV4 + b"Content-Length: " + str(length).encode()
    message = assert_aws_error(exchange(server, request(b"POST", path.encode(), headers)), path, 413,
                               "RequestEntityTooLargeException")
    assert message == TOO_LARGE
    still_serving(server)


@pytest.mark.parametrize("path", [APPFLOW, CONTROL])
def test_a_body_just_over_the_limit_is_read_to_its_end_then_refused(server, path) -> None:
    """A client that sends its whole body before reading gets the 413, not a reset connection."""
    headers = SIGV4 + b"Content-Length: " + str(MAX_BODY + 1).encode()
    answer = exchange(server, request(b"POST", path.encode(), headers, b"x" * (MAX_BODY + 1)))
    assert assert_aws_error(answer, path, 413, "RequestEntityTooLargeException") == TOO_LARGE


@pytest.mark.parametrize("path", [APPFLOW, CONTROL])
def test_expect_100_continue_over_the_limit_gets_the_413_not_a_continue(server, path) -> None:
    headers = SIGV4 + b"Expect: 100-continue\r\nContent-Length: " + str(MAX_BODY + 1).encode()
    answer = exchange(server, request(b"POST", path.encode(), headers))
    assert assert_aws_error(answer, path, 413, "RequestEntityTooLargeException") == TOO_LARGE


def test_a_chunked_body_of_exactly_the_limit_is_read_whatever_its_framing(server) -> None:
    """waitress counts chunk framing against its limit; the parser counts the data only."""
    prefix, suffix = b'{"bucket": "framing", "pad": "', b'"}'
    data = prefix + b" " * (MAX_BODY - len(prefix) - len(suffix)) + suffix
    assert len(data) == MAX_BODY
    size = 4096
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size]) for i in range(0, len(data), size))
    assert len(chunks) > MAX_BODY + 1
    status, _, body = exchange(server, request(b"POST", b"/_appflow_emu/create_bucket",
                                               b"Transfer-Encoding: chunked\r\nConnection: close",
                                               chunks + b"0\r\n\r\n"))
    # Read and parsed: the handle refuses the unknown argument (a 400 of its own, not a 413).
    assert status == 400 and json.loads(body)["error"] == "TypeError"


@pytest.mark.parametrize("path", [APPFLOW, CONTROL])
def test_a_chunked_body_one_byte_over_the_limit_is_a_413(server, path) -> None:
    data = b"x" * (MAX_BODY + 1)
    chunks = b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)
    answer = exchange(server, request(b"POST", path.encode(), SIGV4 + b"Transfer-Encoding: chunked", chunks))
    assert assert_aws_error(answer, path, 413, "RequestEntityTooLargeException") == TOO_LARGE


class _Failing(Emulator):
    """A handle whose views fail: what the page does with an error nobody expected."""

    def states(self) -> NoReturn:
        raise RuntimeError("a bug")


def test_an_exception_in_the_application_is_a_json_500_not_waitress_text() -> None:
    with AppFlowServer(port=0, emulator=_Failing()) as failing:
        answer = exchange(failing, request(b"GET", b"/_appflow_emu/page-data", b"Connection: close"))
        message = assert_aws_error(answer, "/_appflow_emu/page-data", 500, "InternalServerException")
        assert "a bug" not in message and "Traceback" not in message


# -- what the application answers: malformed but well-formed HTTP --------------------------------

@pytest.mark.parametrize("method, path, status, code", [
    (b"GET", b"/%ff", 404, "UnknownOperationException"),
    (b"OPTIONS", b"*", 404, "UnknownOperationException"),
    (b"TRACE", b"/list-flows", 404, "UnknownOperationException"),
    (b"BREW", b"/flows/%00", 404, "UnknownOperationException"),
])
def test_unknown_methods_and_odd_paths_reach_the_application_and_get_aws_errors(server, method, path, status,
                                                                              code) -> None:
    got_status, headers, body = exchange(server, request(method, path, SIGV4 + b"Connection: close"))
    assert (got_status, headers.get("x-amzn-errortype")) == (status, code)
    assert set(json.loads(body)) == {"message"}


# -- item 9: the control API's methods -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/_appflow_emu/health", "/_appflow_emu/version", "/_appflow_emu/",
                                  "/_appflow_emu/page-data"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS"])
def test_the_read_only_routes_take_get_and_head_only(server, path, method) -> None:
    status, headers, body = exchange(server, request(method.encode(), path.encode(), b"Connection: close"))
    assert (status, headers.get("allow"), headers.get("content-type")) == (405, "GET, HEAD", "application/json")
    assert json.loads(body)["error"] == "MethodNotAllowed"


@pytest.mark.parametrize("path", ["/_appflow_emu/health", "/_appflow_emu/version", "/_appflow_emu/",
                                  "/_appflow_emu/page-data"])
def test_the_read_only_routes_answer_head_without_a_body(server, path) -> None:
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    try:
        conn.request("HEAD", path)
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"")
    finally:
        conn.close()


@pytest.mark.parametrize("verb, allow", [("reset", "POST"), ("advance", "POST"),
                                         ("notifications", "GET, HEAD, POST")])
@pytest.mark.parametrize("method", ["PUT", "DELETE", "TRACE"])
def test_other_control_verbs_refuse_other_methods_with_an_allow_header(server, verb, allow, method) -> None:
    status, headers, body = exchange(server, request(method.encode(), f"/_appflow_emu/{verb}".encode(),
                                                     b"Connection: close"))
    assert (status, headers.get("allow")) == (405, allow)
    assert json.loads(body)["error"] == "MethodNotAllowed"


def test_head_on_a_read_verb_is_its_get(server) -> None:
    status, _, body = exchange(server, request(b"HEAD", b"/_appflow_emu/notifications", b"Connection: close"))
    assert (status, body) == (200, b"")


def test_an_unknown_control_verb_is_404_whatever_the_method(server) -> None:
    for method in (b"GET", b"PUT", b"POST"):
        status, _, body = exchange(server, request(method, b"/_appflow_emu/nope", b"Connection: close"))
        assert (status, json.loads(body)["error"]) == (404, "NotFoundError")


def test_health_still_answers_get(server) -> None:
    still_serving(server)
    status, _, body = exchange(server, request(b"GET", b"/_appflow_emu/version", b"Connection: close"))
    assert status == 200 and "appflow_emu" in json.loads(body)

