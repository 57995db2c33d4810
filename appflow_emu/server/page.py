"""The state page of server mode: ``GET /_appflow_emu/`` (HTML) and ``GET /_appflow_emu/page-data`` (JSON).

The page shows what the emulator holds, read through the handle's public views only: accounts and
regions, connector profiles (name, type, mode; never credentials), flows, their runs, and the
objects in the buckets the flows read and write. :func:`page_data` gathers it as plain data,
:func:`page_sections` lays it out as titled tables of text cells, and both renderers draw those
same tables: :func:`render_page` on the server (every value through ``html.escape``) and the
page's own script, which polls ``page-data`` and rebuilds the tables with DOM calls and
``textContent`` only. Nothing from the state is ever placed into the script or parsed as HTML; a
Content-Security-Policy with a per-response nonce lets only the page's own script run.
"""
from __future__ import annotations

import html
import json
import secrets
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from werkzeug.wrappers import Request, Response

from appflow_emu.emulator import Emulator
from appflow_emu.model.errors import NotFoundError

PAGE_DATA = "page-data"  # the JSON's path after the control prefix
REFRESH_MS = 1500  # how often the page polls
MAX_RUNS = 200  # runs listed (the newest)
MAX_OBJECTS = 200  # objects listed per bucket
PREVIEW_CHARS = 160  # the start of each object shown as text

Cell = Dict[str, str]  # {"text": ..., optionally "class": ...}


def _iso(seconds: Optional[float]) -> str:
    if seconds is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + "Z"


def _stable(mapping: Mapping[str, Any]) -> List[Any]:
    """The values of a live mapping, copied (another thread may be adding to it)."""
    for _ in range(5):
        try:
            return list(mapping.values())
        except RuntimeError:  # changed size while being copied
            continue
    return []


def _buckets_of(config: Mapping[str, Any], key: str) -> Iterable[str]:
    """Bucket names in a source's or destination's connector properties (S3, and any connector
    that names a bucket: an intermediate bucket, Upsolver)."""
    for properties in (config.get(key) or {}).values():
        if isinstance(properties, Mapping):
            for name in ("bucketName", "intermediateBucketName"):
                if isinstance(properties.get(name), str):
                    yield properties[name]


def _preview(body: bytes) -> str:
    if body.startswith(b"PAR1"):
        return "(Parquet)"
    text = body[:PREVIEW_CHARS * 4].decode("utf-8", errors="replace")
    return text[:PREVIEW_CHARS] + ("…" if len(text) > PREVIEW_CHARS or len(body) > PREVIEW_CHARS * 4 else "")


def page_data(emu: Emulator) -> Dict[str, Any]:
    """What the page shows, as JSON-ready data."""
    regions: List[Dict[str, Any]] = []
    buckets: Dict[str, List[str]] = {}  # bucket -> the flows naming it
    for (account, region), view in sorted(emu.states().items()):
        profiles = [{"name": p.name, "type": p.connector_type, "mode": p.connection_mode,
                     "label": p.connector_label or ""} for p in _stable(view.connector_profiles)]
        connectors = [{"label": c.label, "description": c.description or "", "provisioning": c.provisioning_type}
                      for c in _stable(view.registered_connectors)]
        flows = []
        for flow in _stable(view.flows):
            for bucket in [*_buckets_of(flow.source, "sourceConnectorProperties"),
                           *(b for d in flow.destinations for b in _buckets_of(d, "destinationConnectorProperties"))]:
                buckets.setdefault(bucket, [])
                if flow.name not in buckets[bucket]:
                    buckets[bucket].append(flow.name)
            runs = []
            for execution in list(flow.executions):
                result = execution.result or {}
                error = result.get("errorInfo") or {}
                runs.append({"execution_id": execution.execution_id, "status": execution.status,
                             "started_at": _iso(execution.started_at), "started_epoch": execution.started_at,
                             "trigger": execution.trigger,
                             "records_processed": result.get("recordsProcessed", 0),
                             "bytes_processed": result.get("bytesProcessed", 0),
                             "bytes_written": result.get("bytesWritten", 0),
                             "message": str(error.get("executionMessage", "")) if isinstance(error, Mapping) else ""})
            flows.append({"name": flow.name, "description": flow.description or "", "status": flow.status,
                          "source_type": flow.source_type, "destination_type": flow.destination_type,
                          "source_label": flow.source_label or "", "destination_label": flow.destination_label or "",
                          "trigger": flow.trigger_type, "tags": dict(flow.tags), "runs": runs})
        regions.append({"account_id": account, "region": region, "profiles": profiles, "flows": flows,
                        "connectors": connectors})
    objects = []
    for bucket in sorted(buckets):
        entry: Dict[str, Any] = {"bucket": bucket, "flows": buckets[bucket], "objects": [], "more": 0, "error": ""}
        try:
            keys = emu.list_objects(bucket)
            entry["more"] = max(0, len(keys) - MAX_OBJECTS)
            for key in keys[:MAX_OBJECTS]:
                body = emu.get_object(bucket, key)
                entry["objects"].append({"key": key, "size": len(body), "preview": _preview(body)})
        except NotFoundError:
            entry["error"] = "no such bucket (yet)"
        except Exception as e:  # an S3 endpoint that fails: say so, keep the page
            entry["error"] = str(e.args[0]) if e.args else type(e).__name__
        objects.append(entry)
    return {"generated_at": _iso(emu.now()), "regions": regions, "buckets": objects}


def _cell(text: Any, cls: str = "") -> Cell:
    cell = {"text": "" if text is None else str(text)}
    if cls:
        cell["class"] = "".join(c for c in cls if c.isalnum() or c in "-_")
    return cell


def _with_label(kind: str, label: str) -> str:
    return f"{kind} ({label})" if label else kind


def page_sections(data: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The page's tables: ``[{"title", "columns", "rows": [[{"text", "class"?}...]...], "empty", "note"}]``."""
    regions = data["regions"]
    where = [(r["account_id"], r["region"], r) for r in regions]
    accounts = [[_cell(a), _cell(g), _cell(len(r["profiles"])), _cell(len(r["flows"])),
                 _cell(sum(len(f["runs"]) for f in r["flows"])), _cell(len(r["connectors"]))] for a, g, r in where]
    profiles = [[_cell(a), _cell(g), _cell(p["name"]), _cell(_with_label(p["type"], p["label"])), _cell(p["mode"])]
                for a, g, r in where for p in r["profiles"]]
    connectors = [[_cell(a), _cell(g), _cell(c["label"]), _cell(c["provisioning"]), _cell(c["description"])]
                  for a, g, r in where for c in r["connectors"]]
    flows = [[_cell(a), _cell(g), _cell(f["name"], "name"), _cell(f["description"]),
              _cell(f"{_with_label(f['source_type'], f['source_label'])} → "
                    f"{_with_label(f['destination_type'], f['destination_label'])}"),
              _cell(f["trigger"]), _cell(f["status"], "status-" + f["status"]),
              _cell("; ".join(f"{k}={v}" for k, v in sorted(f["tags"].items()))), _cell(len(f["runs"]))]
             for a, g, r in where for f in r["flows"]]
    all_runs: List[Tuple[float, List[Cell]]] = [
        (run["started_epoch"], [_cell(f["name"], "name"), _cell(run["execution_id"], "id"),
                                _cell(run["status"], "status-" + run["status"]), _cell(run["trigger"]),
                                _cell(run["started_at"]), _cell(run["records_processed"], "num"),
                                _cell(run["bytes_written"], "num"), _cell(run["message"])])
        for a, g, r in where for f in r["flows"] for run in f["runs"]]
    all_runs.sort(key=lambda item: -item[0])
    runs = [row for _, row in all_runs[:MAX_RUNS]]
    objects: List[List[Cell]] = []
    notes = []
    for b in data["buckets"]:
        if b["error"]:
            objects.append([_cell(b["bucket"]), _cell(""), _cell(""), _cell(b["error"], "error")])
        for o in b["objects"]:
            objects.append([_cell(b["bucket"]), _cell(o["key"], "id"), _cell(o["size"], "num"), _cell(o["preview"], "preview")])
        if b["more"]:
            notes.append(f"{b['bucket']}: {b['more']} more objects not listed")
    return [
        {"title": "Accounts and regions", "columns": ["account", "region", "profiles", "flows", "runs",
                                                      "registered connectors"], "rows": accounts,
         "empty": "Nothing yet: no request has touched any account or region.", "note": ""},
        {"title": "Connector profiles", "columns": ["account", "region", "name", "type", "mode"], "rows": profiles,
         "empty": "No connector profiles.", "note": "Credentials are never shown."},
        {"title": "Flows", "columns": ["account", "region", "name", "description", "source → destination", "trigger",
                                       "status", "tags", "runs"], "rows": flows, "empty": "No flows.", "note": ""},
        {"title": "Runs", "columns": ["flow", "execution id", "status", "trigger", "started (UTC)",
                                      "records processed", "bytes written", "message"], "rows": runs,
         "empty": "No runs.", "note": f"The newest {MAX_RUNS}." if len(all_runs) > MAX_RUNS else ""},
        {"title": "Output objects", "columns": ["bucket", "key", "size (bytes)", "start of the object"], "rows": objects,
         "empty": "No objects in the buckets the flows name.", "note": "; ".join(notes)},
        *([{"title": "Registered custom connectors", "columns": ["account", "region", "label", "provisioning",
                                                                  "description"], "rows": connectors,
            "empty": "", "note": ""}] if connectors else []),
    ]


def page_json(emu: Emulator) -> Dict[str, Any]:
    """The body of ``page-data``: the data and the tables drawn from it."""
    data = page_data(emu)
    return {"generated_at": data["generated_at"], "state": data, "sections": page_sections(data)}


# -- HTML ----------------------------------------------------------------------------------------

def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _render_section(section: Mapping[str, Any]) -> str:
    out = [f'<section><h2>{_e(section["title"])}</h2>']
    if section["note"]:
        out.append(f'<p class="note">{_e(section["note"])}</p>')
    if not section["rows"]:
        out.append(f'<p class="empty">{_e(section["empty"])}</p></section>')
        return "".join(out)
    out.append("<table><thead><tr>")
    out.extend(f"<th>{_e(c)}</th>" for c in section["columns"])
    out.append("</tr></thead><tbody>")
    for row in section["rows"]:
        out.append("<tr>")
        for cell in row:
            cls = f' class="{_e(cell["class"])}"' if cell.get("class") else ""
            out.append(f"<td{cls}>{_e(cell['text'])}</td>")
        out.append("</tr>")
    out.append("</tbody></table></section>")
    return "".join(out)


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
#meta { color: #666; } #meta.stale { color: #b00; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.id, td.preview { font-family: ui-monospace, monospace; font-size: 12px; }
td.preview { white-space: pre-wrap; max-width: 40em; word-break: break-all; }
td.error { color: #b00; }
td[class^="status-"] { font-weight: 600; }
.status-Successful, .status-Active { color: #137333; } .status-Error, .status-Errored, .status-Draft { color: #b00; }
.status-InProgress, .status-CancelStarted { color: #a06000; } .status-Suspended, .status-Canceled { color: #666; }
.note, .empty { color: #666; margin: .2em 0; }
"""

# The page's own script: polls the JSON and rebuilds the tables with DOM calls and textContent.
# No state is ever inserted into it; it never parses text as HTML.
SCRIPT = """
(function () {
  "use strict";
  var url = %(url)s, every = %(every)d, last = null;
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function section(s) {
    var box = el("section");
    box.appendChild(el("h2", s.title));
    if (s.note) { box.appendChild(el("p", s.note, "note")); }
    if (!s.rows.length) { box.appendChild(el("p", s.empty, "empty")); return box; }
    var table = el("table"), head = el("tr"), body = el("tbody"), thead = el("thead");
    s.columns.forEach(function (c) { head.appendChild(el("th", c)); });
    thead.appendChild(head); table.appendChild(thead);
    s.rows.forEach(function (row) {
      var tr = el("tr");
      row.forEach(function (cell) { tr.appendChild(el("td", cell.text, cell["class"] || "")); });
      body.appendChild(tr);
    });
    table.appendChild(body); box.appendChild(table);
    return box;
  }
  function draw(data) {
    var main = document.getElementById("state"), fresh = document.createElement("main");
    fresh.id = "state";
    fresh.setAttribute("data-drawn", "script");
    data.sections.forEach(function (s) { fresh.appendChild(section(s)); });
    main.parentNode.replaceChild(fresh, main);
  }
  function meta(text, stale) {
    var m = document.getElementById("meta");
    m.textContent = text; m.className = stale ? "stale" : "";
  }
  function poll() {
    fetch(url, {cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
      .then(function (text) {
        var data = JSON.parse(text);
        var sections = JSON.stringify(data.sections);
        if (sections !== last) { draw(data); last = sections; }
        meta("State at " + data.generated_at + " (emulator clock); refreshes every " + every / 1000 + " s.", false);
      })
      .catch(function (e) { meta("Cannot reach the emulator (" + e.message + "); retrying.", true); })
      .then(function () { setTimeout(poll, every); });
  }
  poll();
})();
"""


def render_page(data: Mapping[str, Any], data_url: str, nonce: str) -> str:
    """The whole page, every value escaped; the script (with ``nonce``) keeps it current."""
    sections = "".join(_render_section(s) for s in page_sections(data))
    script = SCRIPT % {"url": json.dumps(data_url), "every": REFRESH_MS}
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>appflow_emu state</title>"
        f"<style nonce=\"{_e(nonce)}\">{STYLE}</style></head>\n<body>"
        "<header><h1>appflow_emu: state</h1>"
        f"<p id=\"meta\">State at {_e(data['generated_at'])} (emulator clock).</p></header>\n"
        f"<main id=\"state\">{sections}</main>\n"
        f"<script nonce=\"{_e(nonce)}\">{script}</script>\n</body></html>\n"
    )


def _headers(response: Response, nonce: Optional[str] = None) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if nonce is not None:
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return response


READ_METHODS = ("GET", "HEAD")  # what the page, its JSON, health and version answer


def refuse_method(request: Request, allowed: Tuple[str, ...], what: str) -> Optional[Response]:
    """None when ``request``'s method is one of ``allowed``; else the control API's 405: JSON
    ``{"error": "MethodNotAllowed", "message": ...}`` with an ``Allow`` header listing them."""
    if request.method in allowed:
        return None
    response = Response(json.dumps({"error": "MethodNotAllowed",
                                    "message": f"{what} takes {' or '.join(allowed)}, not {request.method}"}),
                        status=405, mimetype="application/json")
    response.headers["Allow"] = ", ".join(allowed)
    return response


def _get_only(request: Request) -> Optional[Response]:
    return refuse_method(request, READ_METHODS, "the page")


def page_routes(emu: Emulator, prefix: str) -> Dict[str, Callable[[Request], Response]]:
    """The page's routes for ``ControlAPI.extra``: ``""`` (the page) and ``page-data`` (its JSON),
    under ``prefix`` (the control API's path, ending in ``/``)."""

    def page(request: Request) -> Response:
        refused = _get_only(request)
        if refused is not None:
            return refused
        nonce = secrets.token_urlsafe(18)
        body = render_page(page_data(emu), prefix + PAGE_DATA, nonce)
        return _headers(Response(body, mimetype="text/html"), nonce)

    def data(request: Request) -> Response:
        refused = _get_only(request)
        if refused is not None:
            return refused
        body = json.dumps(page_json(emu), default=str, allow_nan=False)
        return _headers(Response(body, mimetype="application/json"))

    return {"": page, PAGE_DATA: data}
