"""The state page of server mode (``GET /_appflow_emu/``): what it shows, that everything it shows
is escaped, that it follows the state, and that a real headless browser (Debian's chromium) draws
it without running anything the state holds.

The hostile strings come in through every door that lets them: tag keys and values (the model
allows ``<``), bucket names (``\\S+``) and prefixes (anything), record values, object keys put
through the control API, and a restored state document (a run's message may hold any text: AWS
words it; a description or tag AppFlow would refuse, the restore refuses too)."""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import boto3
import pytest

from appflow_emu.server import AppFlowServer

SCRIPT = "<script>alert(1)</script>"
QUOTES = '"quotes" & ampersands'
IMG = "<img src=x onerror=alert(1)>"
TAG_IMG = "<img src=x onerror=alert"  # what the model lets a tag value hold (no ">" nor "(")
BUCKET = SCRIPT  # a bucket name is \S+
PREFIX = f'{QUOTES} <b>bold</b>'


def client_for(url: str) -> Any:
    return boto3.client("appflow", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def get(url: str) -> Tuple[int, Dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def script_a_session(server: AppFlowServer) -> None:
    """A profile, three flows, runs (one failed), S3 outputs, and the hostile strings."""
    client = client_for(server.url)
    emu = server.emulator
    client.create_connector_profile(
        connectorProfileName="sf", connectorType="Salesforce", connectionMode="Public",
        connectorProfileConfig={"connectorProfileProperties": {"Salesforce": {"instanceUrl": "https://x.my.salesforce.com"}},
                                "connectorProfileCredentials": {"Salesforce": {"accessToken": "at-secret-token"}}})
    emu.add_source_records("Salesforce", "Account", [
        {"Id": "001", "Name": IMG}, {"Id": "002", "Name": SCRIPT}, {"Id": "003", "Name": QUOTES}])
    emu.create_bucket(BUCKET)
    emu.create_bucket("plain-out")

    def flow(name: str, bucket: str, prefix: str = "", tags: Optional[Dict[str, str]] = None) -> None:
        s3: Dict[str, Any] = {"bucketName": bucket}
        if prefix:
            s3["bucketPrefix"] = prefix
        client.create_flow(
            flowName=name, description="Accounts to S3, nightly.", triggerConfig={"triggerType": "OnDemand"},
            tags=tags or {},
            sourceFlowConfig={"connectorType": "Salesforce", "connectorProfileName": "sf",
                              "sourceConnectorProperties": {"Salesforce": {"object": "Account"}}},
            destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {"S3": s3}}],
            tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"Salesforce": "NO_OP"},
                    "taskProperties": {}}])

    flow("accounts-hostile", BUCKET, PREFIX, {"team<script": TAG_IMG, "owner": "data"})
    flow("accounts-plain", "plain-out")
    flow("accounts-broken", "plain-out")
    client.start_flow(flowName="accounts-hostile")
    client.start_flow(flowName="accounts-plain")
    client.start_flow(flowName="accounts-plain")
    emu.fail_next_execution("accounts-broken", "Injected failure.")
    client.start_flow(flowName="accounts-broken")
    emu.put_object("plain-out", f"manual/{SCRIPT}.txt", IMG)  # a key and a body of one's own

    # a run's message may hold any text (AWS words it): restore a document holding one through the control API
    document = emu.snapshot()
    changed = 0

    def edit(node: Any) -> None:
        nonlocal changed
        if isinstance(node, dict):
            if node.get("name") == "accounts-hostile" and "executions" in node:
                node["executions"][0]["result"]["errorInfo"] = {"putFailuresCount": 0,
                                                                "executionMessage": f"{SCRIPT} {QUOTES}"}
                node["tags"] = {**node.get("tags", {}), "note": TAG_IMG}
                changed += 1
            for value in node.values():
                edit(value)
        elif isinstance(node, list):
            for value in node:
                edit(value)

    document = copy.deepcopy(document)
    edit(document)
    assert changed == 1
    request = urllib.request.Request(server.url + "/_appflow_emu/restore", method="POST",
                                     data=json.dumps({"document": document}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture
def session():
    with AppFlowServer(port=0) as server:
        script_a_session(server)
        yield server


class Elements(HTMLParser):
    """Every start tag and its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: List[Tuple[str, Dict[str, Optional[str]]]] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(markup: str) -> List[Tuple[str, Dict[str, Optional[str]]]]:
    parser = Elements()
    parser.feed(markup)
    parser.close()
    return parser.tags


def assert_nothing_injected(markup: str) -> None:
    assert "<script>alert(1)" not in markup
    assert "<img src=x" not in markup and "<img src=\"x\"" not in markup
    assert "<b>bold" not in markup
    assert "at-secret-token" not in markup
    tags = elements(markup)
    assert [t for t, _ in tags if t == "script"] == ["script"]  # the page's own, and only it
    assert not [t for t, _ in tags if t in ("img", "b", "iframe", "svg")]
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]


# -- over HTTP -----------------------------------------------------------------------------------

def test_the_page_shows_the_state_with_every_value_escaped(session) -> None:
    status, headers, body = get(session.url + "/_appflow_emu/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode("utf-8")
    assert_nothing_injected(page)
    # the escaped forms are there: a run's message, tags, bucket, prefix, record values, object keys
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot; &amp; ampersands" in page  # the run's message
    assert "team&lt;script=&lt;img src=x onerror=alert" in page  # a tag
    assert "note=&lt;img src=x onerror=alert" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # a record value, in the object's start
    assert "&lt;b&gt;bold&lt;/b&gt;" in page  # the prefix, in the key
    assert "manual/&lt;script&gt;alert(1)&lt;/script&gt;.txt" in page
    # what it shows: accounts and regions, the profile (never its credentials), flows, runs, objects
    for text in ("123456789012", "us-east-1", "sf", "Salesforce", "Public", "accounts-plain", "accounts-broken",
                 "Salesforce → S3", "OnDemand", "Active", "Successful", "Error", "Injected failure."):
        assert text in page, text
    data = json.loads(get(session.url + "/_appflow_emu/page-data")[2])
    runs = {(f["name"], r["status"], r["records_processed"], r["bytes_written"])
            for region in data["state"]["regions"] for f in region["flows"] for r in f["runs"]}
    assert ("accounts-hostile", "Successful", 3, runs_bytes(data, "accounts-hostile")) in runs
    assert ("accounts-broken", "Error", 0, 0) in runs
    assert ("accounts-plain", "Successful", 3, runs_bytes(data, "accounts-plain")) in runs
    sizes = {(b["bucket"], o["key"]): o["size"] for b in data["state"]["buckets"] for o in b["objects"]}
    assert sizes[("plain-out", f"manual/{SCRIPT}.txt")] == len(IMG)
    assert any(bucket == BUCKET and key.startswith(PREFIX) for bucket, key in sizes)
    assert "at-secret-token" not in json.dumps(data)


def runs_bytes(data: Dict[str, Any], flow: str) -> int:
    return [r["bytes_written"] for region in data["state"]["regions"] for f in region["flows"]
            if f["name"] == flow for r in f["runs"]][0]


def test_the_page_has_a_strict_content_security_policy(session) -> None:
    _, headers, body = get(session.url + "/_appflow_emu/")
    csp = headers["content-security-policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp)
    assert nonce and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert f'<script nonce="{nonce.group(1)}">' in body.decode()
    assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
    assert get(session.url + "/_appflow_emu/")[1]["content-security-policy"] != csp  # a new nonce each time


def test_the_page_data_follows_the_state(session) -> None:
    before = json.loads(get(session.url + "/_appflow_emu/page-data")[2])
    client_for(session.url).start_flow(flowName="accounts-plain")
    after = json.loads(get(session.url + "/_appflow_emu/page-data")[2])
    count = lambda d: sum(len(f["runs"]) for r in d["state"]["regions"] for f in r["flows"])  # noqa: E731
    assert count(after) == count(before) + 1
    assert after["sections"] != before["sections"]
    client_for(session.url).delete_flow(flowName="accounts-broken")
    titles = json.loads(get(session.url + "/_appflow_emu/page-data")[2])["sections"]
    flows = next(s for s in titles if s["title"] == "Flows")
    assert "accounts-broken" not in json.dumps(flows)


def test_an_empty_server_has_a_page_and_the_page_takes_only_get() -> None:
    with AppFlowServer(port=0) as server:
        status, _, body = get(server.url + "/_appflow_emu/")
        assert status == 200 and b"No flows." in body
        request = urllib.request.Request(server.url + "/_appflow_emu/page-data", method="POST", data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 405


# -- in a real browser -------------------------------------------------------------------------

def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("APPFLOW_EMU_REQUIRE_BROWSER") == "1":
        pytest.fail("APPFLOW_EMU_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
    pytest.skip("no chromium on PATH (apt-get install chromium; APPFLOW_EMU_REQUIRE_BROWSER=1 makes this fail)")


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_a_headless_browser_draws_the_page_and_runs_nothing_from_the_state(session, tmp_path) -> None:
    url = session.url + "/_appflow_emu/"
    # virtual time lets the page's own script poll page-data and redraw before the DOM is dumped
    done = run_chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert 'data-drawn="script"' in dom  # the tables below are the script's, built with textContent
    assert_nothing_injected(dom)
    for text in ("accounts-hostile", "accounts-plain", "accounts-broken", "Successful", "Error",
                 "Injected failure.", "Salesforce → S3", "Public"):
        assert text in dom, text
    data = json.loads(get(session.url + "/_appflow_emu/page-data")[2])
    for region in data["state"]["regions"]:
        for flow in region["flows"]:
            for run in flow["runs"]:
                row = re.search(re.escape(run["execution_id"]) + r"</td>(.*?)</tr>", dom)
                assert row, run["execution_id"]
                cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
                assert cells[0] == run["status"]
                assert cells[3:5] == [str(run["records_processed"]), str(run["bytes_written"])]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \"quotes\" &amp; ampersands" in dom  # shown as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom


def test_a_headless_browser_takes_a_screenshot(session, tmp_path) -> None:
    shot = tmp_path / "page.png"
    done = run_chromium(tmp_path, "--virtual-time-budget=5000", f"--screenshot={shot}", "--window-size=1200,900",
                        "--hide-scrollbars", session.url + "/_appflow_emu/")
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_a_headless_browser_redraws_the_page_when_the_state_changes(session, tmp_path, monkeypatch) -> None:
    from appflow_emu.server import page

    answers = []
    original = page.page_json

    def page_json_then_change(emu: Any) -> Dict[str, Any]:
        answer = original(emu)
        if not answers:  # after the page's first poll, the state changes
            emu.put_object("plain-out", f"late/{SCRIPT}.txt", f"late {IMG}")
        answers.append(answer)
        return answer

    monkeypatch.setattr(page, "page_json", page_json_then_change)
    done = run_chromium(tmp_path, "--virtual-time-budget=6000", "--dump-dom", session.url + "/_appflow_emu/")
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(answers) >= 2  # it polled again
    assert "late/&lt;script&gt;alert(1)&lt;/script&gt;.txt" in done.stdout  # and drew what changed, as text
    assert "late &lt;img src=x onerror=alert(1)&gt;" in done.stdout
    assert_nothing_injected(done.stdout)
