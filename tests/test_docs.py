"""The docs say what the code does.

- The generated blocks (``<!-- generated: NAME ... -->`` ... ``<!-- end generated -->``) are what
  ``scripts/gen_docs_tables.py`` computes from the code now: the handle's table in
  docs/user-guide.md, the control API's verbs in docs/server.md, the coverage table in
  docs/coverage.md (when the installed botocore is the one it names). A stale block fails with the
  block it should be; ``python scripts/gen_docs_tables.py`` rewrites them.
- Read from the docs themselves: the handle's table lists every public member of ``Emulator`` with
  its exact signature, and nothing else; the control API's table lists every verb of ``VERBS``
  with the handle's argument names, and marks the ``READ_VERBS`` as answering GET.
- Every ```` ```python ```` block of README.md and docs/ parses, and runs here unless the line
  before it is ``<!-- fragment: why -->`` (or its first line is ``# fragment``). A block that runs
  gets a fresh namespace holding ``boto3``, ``pytest``, ``unittest`` and ``mock_appflow``, a
  temporary current directory holding ``base.json`` and ``tests/data/base.json`` (saved empty
  states), and then each ``test_*`` function it defined without parameters is called.
  ``<!-- runs: OPTION ... -->`` before a block says what it needs: ``emu`` (run inside
  ``with mock_appflow() as emu``), ``server`` (the [server] extra), ``moto``, ``model:OPERATION``
  (the installed model has the operation; else the block is skipped).
- In every block, fragments too, and in every inline code span, a use of the handle (``emu.``,
  ``appflow_mock.``, ``server.emulator.``) names a member the handle has, with keyword arguments
  its signature has and no more positional arguments than it takes; an attribute assigned is a
  settable property. A span written as a signature (``add_entity(connector_type, entity, *,
  region=None)``) names the verb's parameters, in order, of the right kind, with their defaults.
- ``python -m appflow_emu SUBCOMMAND --flag`` (in bash blocks and inline code), ``serve --flag`` in
  inline code: the subcommand and every flag exist in the CLI's parser; the ``serve [--host ...]``
  usage line in docs/server.md lists every flag ``serve`` has.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import re
import sys
import unittest
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import boto3
import pytest

import appflow_emu
from appflow_emu import mock_appflow

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
HANDLE_NAMES = ("emu", "appflow_mock")  # and server.emulator


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs_tables", ROOT / "scripts" / "gen_docs_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_docs_tables", module)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def members() -> Dict[str, Any]:
    return dict(gen.public_members())


# -- reading markdown --------------------------------------------------------------------------------
@dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    marker: str  # the HTML comment on the line before it ('' if none)

    @property
    def where(self) -> str:
        return f"{rel(self.path)}:{self.line}"

    @property
    def fragment(self) -> bool:
        return self.marker.startswith("fragment") or self.code.lstrip().startswith("# fragment")

    @property
    def options(self) -> List[str]:
        return self.marker[len("runs:"):].split() if self.marker.startswith("runs:") else []


FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
COMMENT = re.compile(r"^\s*<!--\s*(.*?)\s*-->\s*$")


def blocks_of(path: Path, text: Optional[str] = None) -> List[Block]:
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    found, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m:
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            before = COMMENT.match(lines[i - 1]) if i else None
            indent = len(m.group(1))
            code = "\n".join(line[indent:] for line in lines[i + 1:j]) + "\n"
            found.append(Block(path, i + 1, m.group(2), code, before.group(1) if before else ""))
            i = j
        i += 1
    return found


def prose_of(text: str) -> str:
    """The text outside fenced blocks and HTML comments."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line) or (fenced and line.strip().startswith("```")):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return re.sub(r"<!--.*?-->", "", "\n".join(out), flags=re.S)


def spans_of(text: str) -> List[str]:
    """Inline code spans (single backticks) of the prose, a line break inside one read as a space."""
    return [" ".join(s.split()) for s in re.findall(r"(?<!`)`([^`\n]+(?:\n[^`\n]+)?)`(?!`)", prose_of(text))]


def python_blocks() -> List[Block]:
    return [b for path in DOCS for b in blocks_of(path) if b.lang == "python"]


# -- checking uses of the handle -----------------------------------------------------------------------
def _is_handle(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id in HANDLE_NAMES
    return (isinstance(node, ast.Attribute) and node.attr == "emulator" and isinstance(node.value, ast.Name)
            and node.value.id == "server")


def handle_uses(tree: ast.AST, known: Dict[str, Any]) -> List[str]:
    """What is wrong with the handle's uses in ``tree`` (one line each)."""
    problems: List[str] = []
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_handle(node.value):
            name, member = node.attr, known.get(node.attr)
            if member is None:
                problems.append(f"the handle has no member {name!r}")
            elif isinstance(node.ctx, ast.Store) and not (isinstance(member, property) and member.fset):
                problems.append(f"{name!r} cannot be assigned")
            elif id(node) in called and isinstance(member, property):
                problems.append(f"{name!r} is a property, not a method")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_handle(node.func.value):
            member = known.get(node.func.attr)
            if member is None or isinstance(member, property):
                continue  # said above
            if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                continue
            try:
                inspect.signature(member).bind_partial(None, *node.args, **{k.arg: None for k in node.keywords
                                                                            if k.arg is not None})
            except TypeError as e:
                problems.append(f"{node.func.attr}(...): {e}")
    return problems


SIGNATURE_ITEM = re.compile(r"^(?:\*|\*\*?\w+|\.\.\.|(\w+)(?:=(.+))?)$")


def _split_arguments(text: str) -> List[str]:
    parts, depth, current, quote = [], 0, "", ""
    for c in text:
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += c
    if current.strip():
        parts.append(current.strip())
    return parts


def signature_problems(span: str, known: Dict[str, Any], exact: bool = False) -> Optional[List[str]]:
    """When ``span`` is written as a signature of a verb (``verb(name, name=default, *, name=default)``),
    what is wrong with it; None when it is not one. ``exact``: every parameter, with every default."""
    m = re.fullmatch(r"(\w+)\((.*)\)", span.strip())
    if not m or m.group(1) not in known or isinstance(known[m.group(1)], property):
        return None
    verb, items = m.group(1), _split_arguments(m.group(2))
    matches = [SIGNATURE_ITEM.match(item) for item in items]
    if not all(matches) or not all(mm.group(1) or mm.group(0) in ("*", "...") for mm in matches if mm):
        return None  # a call with values, not a signature
    if any(mm.group(1) is None and mm.group(0) == "..." for mm in matches if mm):
        return None
    params = list(inspect.signature(known[verb]).parameters.values())[1:]
    by_name = {p.name: p for p in params}
    problems: List[str] = []
    order: List[str] = []
    keyword_only = False
    for item, mm in zip(items, matches):
        assert mm is not None
        if item == "*":
            keyword_only = True
            continue
        name, default = mm.group(1), mm.group(2)
        p = by_name.get(name)
        if p is None:
            problems.append(f"{verb}: no parameter {name!r} (its parameters: {', '.join(by_name)})")
            continue
        order.append(name)
        if keyword_only != (p.kind is p.KEYWORD_ONLY):
            problems.append(f"{verb}: {name!r} is {'' if p.kind is p.KEYWORD_ONLY else 'not '}keyword-only")
        if default is not None:
            try:
                value = ast.literal_eval(default)
            except (ValueError, SyntaxError):
                value = default  # a name such as DEFAULT_REGION: compared as text
            if p.default is p.empty or value != p.default:
                real = "none" if p.default is p.empty else repr(p.default)
                problems.append(f"{verb}: {name}={default}, but its default is {real}")
        elif exact and p.default is not p.empty:
            problems.append(f"{verb}: {name!r} has the default {p.default!r}")
    if order != sorted(order, key=[p.name for p in params].index):
        problems.append(f"{verb}: parameters out of order: {', '.join(order)}")
    if exact and order != [p.name for p in params]:
        problems.append(f"{verb}: lists {', '.join(order) or 'nothing'}; the signature has "
                        f"{', '.join(p.name for p in params) or 'nothing'}")
    return problems


def span_problems(span: str, known: Dict[str, Any]) -> List[str]:
    signature = signature_problems(span, known)
    if signature is not None:
        return signature
    problems = [f"the handle has no member {name!r}"
                for name in re.findall(r"(?<![\w.])(?:emu|appflow_mock|server\.emulator)\.(\w+)", span)
                if name not in known]
    if problems or not re.search(r"(?<![\w.])(?:emu|appflow_mock|server\.emulator)\.", span):
        return problems
    try:
        tree = ast.parse(span.strip().rstrip(".,;:"))
    except SyntaxError:
        return []  # prose in backticks: the names were checked above
    return handle_uses(tree, known)


# -- the CLI ------------------------------------------------------------------------------------------
class _Parser(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def cli_parser(monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The parser ``python -m appflow_emu`` builds (caught as ``main`` asks it to parse)."""
    from appflow_emu import __main__ as cli

    def catch(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        raise _Parser(self)

    with monkeypatch.context() as patched:
        patched.setattr(argparse.ArgumentParser, "parse_args", catch)
        try:
            cli.main([])
        except _Parser as caught:
            return caught.parser
    raise AssertionError("appflow_emu.__main__.main did not parse its arguments")


def subcommands(parser: argparse.ArgumentParser) -> Dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


CLI_USE = re.compile(r"(?:python3? -m appflow_emu|appflow-emu)\s+([\w-]+)([^`\n|&;)]*)")
SERVE_SPAN = re.compile(r"^serve(\s.*)?$")


def cli_uses(path: Path) -> Iterator[Tuple[str, str]]:
    """(subcommand, its arguments) of every use of the CLI in bash blocks and inline code."""
    text = path.read_text(encoding="utf-8")
    for block in blocks_of(path, text):
        if block.lang in ("bash", "sh", "console", ""):
            for m in CLI_USE.finditer(block.code.replace("\\\n", " ")):
                yield m.group(1), m.group(2)
    for span in spans_of(text):
        for m in CLI_USE.finditer(span):
            yield m.group(1), m.group(2)
            if "\\|" in span:  # a table cell's `python -m appflow_emu demo \| coverage \| schema OP`
                for alternative in span[m.start():].split("\\|")[1:]:
                    yield alternative.split()[0], " ".join(alternative.split()[1:])
        if SERVE_SPAN.match(span):
            yield "serve", span[len("serve"):]


def cli_problems(uses: Sequence[Tuple[str, str]], parser: argparse.ArgumentParser) -> List[str]:
    commands = subcommands(parser)
    problems = []
    for command, args in uses:
        sub = commands.get(command)
        if sub is None:
            problems.append(f"no subcommand {command!r} (there are {', '.join(commands)})")
            continue
        for flag in re.findall(r"(?<![\w-])--[a-z][\w-]*", args):
            if flag not in sub._option_string_actions:
                problems.append(f"{command}: no flag {flag}")
    return problems


# -- the generated blocks -----------------------------------------------------------------------------
GENERATED = {"handle-table": "docs/user-guide.md", "control-verbs": "docs/server.md", "coverage": "docs/coverage.md"}


def generated(name: str) -> str:
    blocks = gen.blocks_in((ROOT / GENERATED[name]).read_text(encoding="utf-8"))
    assert name in blocks, f"{GENERATED[name]} has no <!-- generated: {name} --> block"
    return str(blocks[name])


def table_rows(block: str) -> List[List[str]]:
    """The cells of a markdown table's body rows (``\\|`` inside a cell kept)."""
    rows = [line for line in block.splitlines() if line.startswith("|")][2:]
    return [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_the_generated_blocks_are_what_the_code_says(name: str) -> None:
    if name == "control-verbs":
        pytest.importorskip("werkzeug")
    body = generated(name)
    if name == "coverage":
        import botocore

        named = re.search(r"botocore (\S+) \(", body)
        assert named, "docs/coverage.md does not name its botocore"
        if named.group(1) != botocore.__version__:
            pytest.skip(f"docs/coverage.md was generated with botocore {named.group(1)}; "
                        f"this is {botocore.__version__}")
    expected = "\n" + gen.BLOCKS[name]() + "\n"
    assert body == expected, (f"{GENERATED[name]}'s block {name!r} is stale: run python scripts/gen_docs_tables.py. "
                              f"It should be:\n{expected}")


def test_the_generator_rewrites_only_the_blocks() -> None:
    text = ("before\n<!-- generated: a (x) -->\nold\n<!-- end generated -->\nbetween\n"
            "<!-- generated: b -->\n<!-- end generated -->\nafter\n")
    out = gen.render(text, {"a": lambda: "A\n", "b": lambda: "B\n"})
    assert out == ("before\n<!-- generated: a (x) -->\n\nA\n\n<!-- end generated -->\nbetween\n"
                   "<!-- generated: b -->\n\nB\n\n<!-- end generated -->\nafter\n")
    assert gen.render(out, {"a": lambda: "A\n", "b": lambda: "B\n"}) == out
    with pytest.raises(SystemExit, match="unknown generated block 'b'"):
        gen.render(text, {"a": lambda: ""})


def test_every_handle_member_has_a_group_and_every_grouped_member_exists() -> None:
    grouped = [name for _, names in gen.GROUPS for name in names]
    assert len(grouped) == len(set(grouped)), "a member is in two groups"
    assert not set(grouped) - set(members()), "GROUPS in scripts/gen_docs_tables.py names members the handle lacks"
    assert not set(members()) - set(grouped), "add these members to GROUPS (and DESCRIPTIONS) in scripts/gen_docs_tables.py"
    assert not set(gen.DESCRIPTIONS) - set(members()), "DESCRIPTIONS describes members the handle lacks"


def test_the_handle_table_lists_every_member_with_its_signature() -> None:
    """Read from docs/user-guide.md: every public member, once, each method with its exact
    signature, each property marked settable or read-only as it is."""
    known = members()
    rows = table_rows(generated("handle-table"))
    listed: List[str] = []
    problems: List[str] = []
    for _group, cell, description in rows:
        m = re.fullmatch(r"`([^`]+)`(?: \((settable|read-only)\))?", cell)
        assert m, f"handle table: cannot read the member cell {cell!r}"
        span, mode = m.group(1), m.group(2)
        name = span.split("(", 1)[0]
        listed.append(name)
        member = known.get(name)
        if member is None:
            problems.append(f"{name}: the handle has no such member")
        elif isinstance(member, property):
            if mode != ("settable" if member.fset else "read-only") or span != name:
                problems.append(f"{name}: a {'settable' if member.fset else 'read-only'} property, listed as {cell}")
        else:
            found = signature_problems(span, known, exact=True)
            problems.extend([f"{name}: not written as a signature"] if found is None else found)
        if not description:
            problems.append(f"{name}: no description")
    assert sorted(listed) == sorted(set(listed)), "a member is listed twice"
    missing = sorted(set(known) - set(listed))
    assert not missing and not problems, f"missing: {missing}; {problems}"


def test_the_control_api_table_lists_every_verb_with_the_handles_arguments() -> None:
    pytest.importorskip("werkzeug")
    from appflow_emu.server.control import READ_VERBS, VERBS

    known = members()
    rows = table_rows(generated("control-verbs"))
    verbs = [row[0].strip("`") for row in rows]
    assert verbs == list(VERBS), "docs/server.md's control verbs are not VERBS"
    for verb, required, optional, notes in rows:
        verb = verb.strip("`")
        params = list(inspect.signature(known[verb]).parameters.values())[1:]
        assert re.findall(r"`(\w+)`(?= )", f"{required} ") == [p.name for p in params if p.default is p.empty], verb
        assert re.findall(r"`(\w+)` [^(,]+\(", optional) == [p.name for p in params if p.default is not p.empty], verb
        assert ("also `GET`" in notes) == (verb in READ_VERBS), verb


# -- code blocks ----------------------------------------------------------------------------------------
def test_every_python_block_parses() -> None:
    problems = []
    for block in python_blocks():
        try:
            ast.parse(block.code)
        except SyntaxError as e:
            problems.append(f"{block.where}: {e}")
    assert not problems, "python blocks that do not parse (mark prose as prose):\n" + "\n".join(problems)


def test_the_handle_is_used_as_it_is_in_every_block_and_span() -> None:
    """Fragments too: a verb, keyword or attribute of the handle that does not exist fails."""
    known = members()
    problems = []
    for block in python_blocks():
        problems += [f"{block.where}: {p}" for p in handle_uses(ast.parse(block.code), known)]
    for path in DOCS:
        for span in spans_of(path.read_text(encoding="utf-8")):
            problems += [f"{rel(path)}: `{span}`: {p}" for p in span_problems(span, known)]
    assert not problems, "\n".join(problems)


def test_the_checks_catch_what_they_are_for() -> None:
    known = members()

    def uses(code: str) -> List[str]:
        return handle_uses(ast.parse(code), known)

    assert uses('emu.add_source_records("Salesforce", "Account", [], region="eu-west-1")') == []
    assert uses("emu.no_such_verb()") == ["the handle has no member 'no_such_verb'"]
    assert uses('appflow_mock.fail_next_execution("f", mesage="x")')[0].startswith("fail_next_execution(...)")
    assert uses('server.emulator.create_bucket("a", "b")')  # one positional too many
    assert uses("emu.seed = 3") == ["'seed' cannot be assigned"]
    assert uses("emu.conflict_on_concurrent_start = True") == []
    assert uses("emu.seed()") == ["'seed' is a property, not a method"]
    assert span_problems("advance(timedelta)", known) == [
        "advance: no parameter 'timedelta' (its parameters: delta)"]
    assert span_problems("notifications(flow=None, detail_type=None)", known) == [
        "notifications: 'detail_type' is keyword-only"]
    assert span_problems('list_objects(bucket, prefix="x")', known) == [
        "list_objects: prefix=\"x\", but its default is ''"]
    assert span_problems("tick(now)", known) == ["tick: no parameter 'now' (its parameters: )"]
    assert span_problems('emu.add_entity("Zendesk", "t", {}, lable="x")', known)
    assert span_problems("emu.nothing_here", known) == ["the handle has no member 'nothing_here'"]
    assert span_problems('restore(snapshot())', known) == []
    assert signature_problems("set_quota(name)", known, exact=True) == [
        "set_quota: lists name; the signature has name, value"]
    fragment = blocks_of(Path("x.md"), "<!-- fragment: why -->\n```python\nemu.x()\n```\n")[0]
    assert fragment.fragment and fragment.code == "emu.x()\n"


def _runnable() -> List[Any]:
    return [pytest.param(b, id=b.where) for b in python_blocks() if not b.fragment]


@pytest.fixture
def saved_states(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary current directory with base.json and tests/data/base.json, empty saved states."""
    (tmp_path / "tests" / "data").mkdir(parents=True)
    with mock_appflow() as emu:
        emu.save(tmp_path / "base.json")
        emu.save(tmp_path / "tests" / "data" / "base.json")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("block", _runnable())
def test_the_python_blocks_run(block: Block, saved_states: Path) -> None:
    options = block.options
    for option in options:
        if option == "server":
            pytest.importorskip("werkzeug")
            pytest.importorskip("waitress")
        elif option == "moto":
            pytest.importorskip("moto")
        elif option.startswith("model:"):
            from tests.conftest import has_operation

            if not has_operation(option[len("model:"):]):
                pytest.skip(f"the installed model has no {option[len('model:'):]}")
        elif option != "emu":
            raise AssertionError(f"{block.where}: unknown option {option!r} in <!-- runs: ... -->")
    namespace: Dict[str, Any] = {"__name__": "docs_block", "boto3": boto3, "pytest": pytest, "unittest": unittest,
                                 "mock_appflow": mock_appflow, "appflow_emu": appflow_emu}
    code = compile(block.code, block.where, "exec")
    if "emu" in options:
        with mock_appflow() as emu:
            namespace["emu"] = emu
            exec(code, namespace)
    else:
        exec(code, namespace)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and inspect.isfunction(value) and not inspect.signature(value).parameters:
            value()


def test_every_block_that_does_not_run_says_why() -> None:
    unexplained = [b.where for b in python_blocks()
                   if b.marker.startswith("fragment") and not b.marker[len("fragment"):].strip(" :")]
    assert not unexplained, f"<!-- fragment: why --> without a why: {unexplained}"


# -- the CLI ------------------------------------------------------------------------------------------
def test_the_cli_commands_in_the_docs_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = cli_parser(monkeypatch)
    uses = [use for path in DOCS for use in cli_uses(path)]
    assert any(command == "serve" for command, _ in uses), "the docs' uses of the CLI were not found"
    assert not cli_problems(uses, parser), cli_problems(uses, parser)
    assert cli_problems([("serve", "--port 0 --no-such-flag"), ("nothing", "")], parser) == [
        "serve: no flag --no-such-flag", f"no subcommand 'nothing' (there are {', '.join(subcommands(parser))})"]


def test_the_serve_usage_line_lists_every_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    serve = subcommands(cli_parser(monkeypatch))["serve"]
    flags = {s for a in serve._actions for s in a.option_strings if s.startswith("--") and s != "--help"}
    [usage] = [s for s in spans_of((ROOT / "docs" / "server.md").read_text(encoding="utf-8"))
               if s.startswith("serve [")]
    assert set(re.findall(r"--[a-z][\w-]*", usage)) == flags
