#!/usr/bin/env python3
"""Write the tables in docs/ that are facts of the code, from the code.

    python scripts/gen_docs_tables.py            # rewrite every generated block
    python scripts/gen_docs_tables.py --check    # rewrite nothing; exit 1 and print what is stale

A generated block sits between two HTML comments (invisible on GitHub)::

    <!-- generated: NAME (scripts/gen_docs_tables.py) -->
    ...
    <!-- end generated -->

and everything between them is replaced by ``BLOCKS[NAME]()``:

- ``handle-table`` (docs/user-guide.md): every public member of ``appflow_emu.Emulator`` with its
  signature, grouped by ``GROUPS``, each with its ``DESCRIPTIONS`` line (else its docstring's first
  sentence). A member ``GROUPS`` does not name goes under "other" (tests/test_docs.py fails then).
- ``control-verbs`` (docs/server.md): every verb of ``appflow_emu.server.control.VERBS`` with its
  arguments' names and JSON types (from the handle's signature and annotations), and whether it
  answers GET (``READ_VERBS``).
- ``coverage`` (docs/coverage.md): what ``python -m appflow_emu coverage`` prints with the installed
  botocore (the block names that botocore; regenerate under the botocore you mean to document).

tests/test_docs.py compares every block with what this script computes.
"""
from __future__ import annotations

import argparse
import collections.abc as abc
import contextlib
import difflib
import inspect
import io
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # document the checkout's appflow_emu

BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+)[^\n]*?-->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)
FILES = ("README.md", "docs/user-guide.md", "docs/server.md", "docs/coverage.md")

# -- the handle ------------------------------------------------------------------------------------
# The groups of the handle's table, in order, and the members of each, in order.
GROUPS: List[Tuple[str, List[str]]] = [
    ("state (read-only)", ["state", "states", "seed", "strict"]),
    ("reset, saved state", ["reset", "snapshot", "restore", "save", "load"]),
    ("settings", ["caller_arn", "set_quota", "extra_regions"]),
    ("source data", ["add_source_records", "source_records", "add_entity"]),
    ("S3 objects", ["create_bucket", "put_object", "get_object", "list_objects"]),
    ("neighbours", ["aws_endpoint", "s3_endpoint", "lambda_endpoint", "events_endpoint"]),
    ("Glue Data Catalog", ["create_glue_database", "glue_tables"]),
    ("delivered results", ["destination_records", "warehouse_rows", "events", "lookout_records", "notifications"]),
    ("faults", ["fail_next_execution", "fail_records", "invalidate_credentials", "set_in_progress_polls",
                "in_progress_polls", "conflict_on_concurrent_start"]),
    ("custom connectors", ["register_lambda", "register_connector_implementation"]),
    ("clock", ["now", "advance", "tick"]),
]

# One line per member (markdown); a member without one gets its docstring's first sentence.
DESCRIPTIONS: Dict[str, str] = {
    "state": "a `RegionView` of one account and region (the account defaults to `MOTO_ACCOUNT_ID` or "
             "`123456789012`): `.flows`, `.connector_profiles`, `.registered_connectors` are live read-only "
             "mappings of name → record (status, trigger config, source, destinations, tasks, tags, executions, "
             "timestamps; credentials never)",
    "states": "every (account, region) touched so far → its `RegionView`",
    "seed": "the seed ids come from (execution ids, secret suffixes, request ids)",
    "strict": "whether every response is checked against its output shape",
    "reset": "forget everything (resources, data, objects, faults, quotas, the clock offset); ids restart from "
             "the seed. Registered Lambda functions and endpoints stay",
    "snapshot": "the whole state, every account and region, as a JSON-serialisable document "
                "([state.md](state.md)); credentials are never in it",
    "restore": "replace the whole state with a `snapshot` document (a bad one raises `InvalidStateError` and "
               "changes nothing); returns, and warns about, the Python objects it could not keep",
    "save": "`snapshot` to a JSON file, written atomically",
    "load": "`restore` from a file `save` wrote",
    "caller_arn": "identity written to `createdBy`/`lastUpdatedBy` (default "
                  "`arn:aws:iam::{account}:user/appflow-emu`)",
    "set_quota": "lower (or raise) the `flows`, `connector_profiles` or `custom_connectors` quota in every "
                 "account and region, to test ServiceQuotaExceededException cheaply",
    "extra_regions": "regions where AppFlow answers besides those the installed botocore lists an AppFlow "
                     "endpoint for (a region newer than your botocore): `emu.extra_regions = [\"us-east-9\"]`. "
                     "Elsewhere a client gets botocore's `EndpointConnectionError`, at once "
                     "([Accounts and regions](#accounts-and-regions)). A setting, like `strict`: "
                     "`reset`, `restore` and `load` keep it, `snapshot` leaves it out",
    "add_source_records": "seed the records a SaaS entity returns; active Event flows on it run "
                          "([simulator.md](simulator.md#sources))",
    "source_records": "the entity's current records as a source with these arguments sees them (SaaS "
                      "destinations write there too)",
    "add_entity": "add an entity to a connector's catalog, or override one ([catalog.md](catalog.md#entities))",
    "create_bucket": "create a bucket: in the embedded store, moto's S3 while moto is active, or the S3 at "
                     "`s3_endpoint` (as for every S3 verb)",
    "put_object": "put an object (the bucket is created if needed; a str body is UTF-8 encoded)",
    "get_object": "an object's bytes",
    "list_objects": "the bucket's keys under `prefix`, sorted",
    "aws_endpoint": "the URL where S3, Secrets Manager, Lambda, EventBridge and Glue are (a `moto_server` or "
                    "LocalStack; `serve --aws-endpoint`) unless a service has its own; None: moto's while "
                    "`mock_aws` is active, else the embedded ones",
    "s3_endpoint": "the S3 that S3 sources and destinations and the S3 verbs use; None: `aws_endpoint`'s, else "
                   "moto's while active, else the embedded store",
    "lambda_endpoint": "a Lambda Invoke API (`sam local start-lambda`, LocalStack) answering the custom "
                       "connector ARNs no registered or moto function answers",
    "events_endpoint": "the EventBridge flow notifications are put on; None: `aws_endpoint`'s, else moto's "
                       "while active, else none (they are still in `notifications`)",
    "create_glue_database": "create a database in the Glue Data Catalog flows with `metadataCatalogConfig` "
                            "register their output in: the embedded one, moto's while active, or the one at "
                            "`aws_endpoint` ([simulator.md](simulator.md#the-glue-data-catalog))",
    "glue_tables": "the tables flows registered, as Glue's GetTables gives them, each with its `Partitions`",
    "destination_records": "the records a run of the flow delivered, whatever the destination (the newest "
                           "run by default; `[]` before any)",
    "warehouse_rows": "the rows flows loaded into a Redshift or Snowflake table through that profile",
    "events": "the EventBridge events flows sent (an EventBridge destination), oldest first",
    "lookout_records": "the records flows sent to Lookout for Metrics",
    "notifications": "AppFlow's own flow notifications (Start/End Flow Run Report, Event Flow Report, "
                     "Scheduled Flow Deactivated), full EventBridge events as a rule's target gets them, oldest "
                     "first; also put on moto's or the endpoint's EventBridge "
                     "([simulator.md](simulator.md#flow-notifications-eventbridge))",
    "fail_next_execution": "the flow's next run ends in Error with this `executionMessage` (armed once per call)",
    "fail_records": "records for which `predicate(record)` is true (or returns a message) fail to write; "
                    "`None` removes the rule",
    "invalidate_credentials": "the connector rejects the profile's credentials "
                              "(ConnectorAuthenticationException, failed runs); `invalid=False` accepts them again",
    "set_in_progress_polls": "describe polls an on-demand run of this flow stays `InProgress`",
    "in_progress_polls": "the same for every flow without its own setting (`mock_appflow(in_progress_polls=N)`)",
    "conflict_on_concurrent_start": "when true, `start_flow` during an on-demand run in progress is a "
                                    "ConflictException",
    "register_lambda": "make a Python handler (an SDK connector's `lambda_handler`, or a "
                       "`\"package.module:attribute\"` string) the Lambda function a custom connector's ARN "
                       "names: AppFlow then talks to it with the SDK's events; `None` removes it "
                       "([catalog.md](catalog.md#custom-connectors-on-the-lambda-protocol))",
    "register_connector_implementation": "the shortcut: plug a Python object in as a registered custom "
                                         "connector no function answers ([catalog.md](catalog.md#custom-connectors))",
    "now": "the emulator's clock, epoch seconds: the process clock (freezegun, time-machine) plus what "
           "`advance` added",
    "advance": "move the clock forward (a `timedelta` or seconds); the scheduled runs it passes run",
    "tick": "run the scheduled runs the clock has made due (every AppFlow call does it too)",
}


def emulator_class() -> type:
    from appflow_emu.emulator import Emulator

    return Emulator


def public_members(cls: Optional[type] = None) -> Dict[str, Any]:
    """The handle's public members: name -> the function or property (inherited ones too)."""
    cls = cls or emulator_class()
    return {name: inspect.getattr_static(cls, name) for name in dir(cls) if not name.startswith("_")}


def _literal(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def signature_text(name: str, member: Any) -> str:
    """``name(a, b=None, *, region=None)`` as Python spells the call, without ``self`` and types."""
    if isinstance(member, property):
        return name
    function = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
    parts: List[str] = []
    star_done = False
    for p in list(inspect.signature(function).parameters.values())[0 if isinstance(member, staticmethod) else 1:]:
        if p.kind is p.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}")
            star_done = True
        elif p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        elif p.default is p.empty:
            parts.append(p.name)
        else:
            parts.append(f"{p.name}={_literal(p.default)}")
    return f"{name}({', '.join(parts)})"


def first_sentence(member: Any) -> str:
    target = member.fget if isinstance(member, property) else member
    doc = inspect.getdoc(target) or ""
    text = " ".join(doc.split("\n\n", 1)[0].split())
    sentence = re.split(r"(?<=[.;:])\s", text, maxsplit=1)[0].rstrip(".;:")
    return sentence[:1].lower() + sentence[1:] if sentence else "(no description)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def handle_table() -> str:
    members = public_members()
    grouped = [(group, [n for n in names if n in members]) for group, names in GROUPS]
    named = {n for _, names in grouped for n in names}
    other = sorted(set(members) - named)
    if other:
        grouped.append(("other", other))
    lines = ["| group | member | what it does |", "|---|---|---|"]
    for group, names in grouped:
        for i, name in enumerate(names):
            member = members[name]
            cell = f"`{signature_text(name, member)}`"
            if isinstance(member, property):
                cell += " (settable)" if member.fset is not None else " (read-only)"
            lines.append(f"| {group if i == 0 else ''} | {_cell(cell)} | "
                         f"{_cell(DESCRIPTIONS.get(name) or first_sentence(member))} |")
    return "\n".join(lines) + "\n"


# -- the control API -------------------------------------------------------------------------------
# What the control API does beyond calling the handle's verb (server/control.py).
CONTROL_NOTES: Dict[str, str] = {
    "restore": "answers the `not_kept` list",
    "put_object": "bytes: `body_base64` (string, base64) instead of `body`",
    "get_object": "answers `{\"result\": {\"body_base64\": ...}}`",
    "advance": "`delta` in seconds",
    "register_lambda": "`handler`: a `\"package.module:attribute\"` string the server imports, or `null` to "
                       "remove",
}


def json_type(hint: Any) -> Optional[str]:
    """The JSON spelling of a type hint ('string', 'array of object', 'string or null'); None for
    what JSON cannot carry (bytes, a callable, a timedelta, a path object)."""
    if hint is Any:
        return "any"
    if hint is type(None):
        return "null"
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if hint in simple:
        return simple[hint]
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union:
        spelt = [json_type(a) for a in args if a is not Any]
        kinds = [k for k in spelt if k is not None]
        kinds = [k for i, k in enumerate(kinds) if k not in kinds[:i]]
        if not kinds:
            return None
        nullable = "null" in kinds
        kinds = [k for k in kinds if k != "null"]
        if "number" in kinds and "integer" in kinds:
            kinds.remove("integer")
        return " or ".join(kinds + (["null"] if nullable else []))
    if origin in (dict, abc.Mapping, abc.MutableMapping):
        return "object"
    if origin in (list, tuple, abc.Iterable, abc.Sequence, abc.Collection):
        inner = (json_type(args[0]) if args else None) or "any"
        return f"array of ({inner})" if " or " in inner else f"array of {inner}s"
    return None


def verb_arguments(verb: str) -> List[Tuple[str, str, Optional[str]]]:
    """The handle verb's arguments: (name, JSON type, JSON default or None when required)."""
    function = getattr(emulator_class(), verb)
    hints = typing.get_type_hints(function)
    found = []
    for p in list(inspect.signature(function).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        hint = hints.get(p.name, Any)
        kind = json_type(hint) or str(hint).replace("typing.", "")
        default = None if p.default is p.empty else json.dumps(p.default, default=str)
        found.append((p.name, kind, default))
    return found


def control_table() -> str:
    from appflow_emu.server.control import READ_VERBS, VERBS

    lines = ["| verb | required arguments | optional arguments (default) | notes |", "|---|---|---|---|"]
    for verb in VERBS:
        args = verb_arguments(verb)
        required = ", ".join(f"`{n}` {t}" for n, t, d in args if d is None) or "—"
        optional = ", ".join(f"`{n}` {t} (`{d}`)" for n, t, d in args if d is not None) or "—"
        notes = [CONTROL_NOTES[verb]] if verb in CONTROL_NOTES else []
        if verb in READ_VERBS:
            notes.insert(0, "also `GET`, its arguments as query parameters")
        lines.append(f"| `{verb}` | {_cell(required)} | {_cell(optional)} | {_cell('; '.join(notes))} |")
    return "\n".join(lines) + "\n"


# -- coverage --------------------------------------------------------------------------------------
def coverage_table() -> str:
    from appflow_emu.__main__ import coverage

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        coverage()
    return out.getvalue()


BLOCKS: Dict[str, Callable[[], str]] = {
    "handle-table": handle_table,
    "control-verbs": control_table,
    "coverage": coverage_table,
}


# -- rewriting -------------------------------------------------------------------------------------
def blocks_in(text: str) -> Dict[str, str]:
    """The generated blocks of a document: name -> body."""
    return {m["name"]: m["body"] for m in BLOCK.finditer(text)}


def render(text: str, blocks: Optional[Dict[str, Callable[[], str]]] = None) -> str:
    """``text`` with every generated block rewritten (an unknown block name is an error)."""
    blocks = BLOCKS if blocks is None else blocks

    def body(m: "re.Match[str]") -> str:
        name = m["name"]
        if name not in blocks:
            raise SystemExit(f"unknown generated block {name!r}; known: {', '.join(blocks)}")
        return m.group(1) + "\n" + blocks[name]() + "\n" + m.group(4)  # blank lines: the table stands alone

    return BLOCK.sub(body, text)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Rewrite the generated blocks of the docs from the code.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 and show a diff when stale")
    args = parser.parse_args(argv)
    stale = 0
    for name in FILES:
        path = ROOT / name
        old = path.read_text(encoding="utf-8")
        new = render(old)
        if new == old:
            continue
        stale += 1
        if args.check:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), name, name))
        else:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {name}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
