"""Imports run one way: a module imports modules of its own layer or of a lower one, never of a
higher one, and no modules import each other in a loop (issue 7, "What to build" 1).

The layers, top to bottom:

0. ways in: ``appflow_emu`` (the package ``__init__``), ``appflow_emu.__main__``, ``appflow_emu.mock``,
   ``appflow_emu.pytest_plugin``
1. the handle: ``appflow_emu.emulator``
2. ``appflow_emu.intercept.*``: requests in, answers out
3. ``appflow_emu.backend.*``: operations and control-plane state
4. ``appflow_emu.simulator.*``: runs, from a plan built before they start
5. ``appflow_emu.catalog.*``: data (connectors, entities, operators)
6. ``appflow_emu.model.*``: the service model, validation, errors

The package's files are read with ``ast`` (imports at module level, inside functions and under
``if TYPE_CHECKING:`` alike), with the conventions of ``/work/shared/tools/import_graph.py``:
relative imports are resolved; ``from pkg import sub`` is an edge to the module ``pkg.sub`` when
there is one (else to ``pkg``); ``import a.b.c`` is an edge to ``a.b.c`` only (the parent packages
it runs implicitly are not counted). Two things are stricter than that tool: a package
``__init__`` importing its own submodules is an edge like any other (the tool leaves those out of
its cycle search, which hides a loop such as ``pkg.low`` -> ``pkg.low.x`` -> ``pkg.top`` ->
``pkg.low``, an ImportError waiting for the wrong import order); and
``importlib.import_module("a.b")`` with a literal name is an import too, so a lazy import cannot
hide an upward edge.
"""
from __future__ import annotations

import ast
import os
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import pytest

import appflow_emu

PACKAGE = "appflow_emu"
ROOT = Path(appflow_emu.__file__).resolve().parent.parent  # the folder holding the package
ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"

# (layer name, the modules and packages in it), top to bottom. A name stands for that module and,
# when it is a subpackage, every module below it; the top-level package itself is only its __init__.
LAYERS: List[Tuple[str, Tuple[str, ...]]] = [
    ("ways in", ("appflow_emu", "appflow_emu.__main__", "appflow_emu.mock", "appflow_emu.pytest_plugin",
                 "appflow_emu.server")),
    ("handle", ("appflow_emu.emulator", "appflow_emu.handle")),
    ("intercept", ("appflow_emu.intercept",)),
    ("backend", ("appflow_emu.backend",)),
    ("simulator", ("appflow_emu.simulator",)),
    ("catalog", ("appflow_emu.catalog",)),
    ("model", ("appflow_emu.model",)),
    ("aws", ("appflow_emu.aws",)),
]


# -- the checker -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def package_modules(root: Path, package: str) -> Dict[str, Path]:
    """Every module of ``package`` (found under ``root``) by dotted name; a package by its name."""
    out: Dict[str, Path] = {}
    base = root / package
    for dirpath, dirnames, files in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            path = Path(dirpath) / f
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            if name.endswith(".__init__"):
                name = name[: -len(".__init__")]
            out[name] = path
    return out


def _resolve_from(name: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = name.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _literal_import_module(node: ast.Call) -> Optional[str]:
    """The module named by ``importlib.import_module("a.b")`` / ``import_module("a.b")`` /
    ``__import__("a.b")`` with a literal string, else None."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def imports_of(name: str, path: Path, known: Iterable[str]) -> List[Edge]:
    """The edges from module ``name`` to modules of ``known`` (every import statement, wherever it is)."""
    known = set(known)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    out: List[Edge] = []
    for node in ast.walk(tree):
        targets: List[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name in known]
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve_from(name, is_package, node)
            for alias in node.names:
                full = f"{mod}.{alias.name}"
                if full in known:
                    targets.append(full)
                elif mod in known:
                    targets.append(mod)
        elif isinstance(node, ast.Call):
            literal = _literal_import_module(node)
            if literal in known:
                targets.append(literal)
        out.extend(Edge(name, t, node.lineno) for t in targets if t != name)
    return sorted(set(out), key=lambda e: (e.line, e.target))


def import_graph(root: Path, package: str) -> Tuple[Dict[str, Path], List[Edge]]:
    modules = package_modules(root, package)
    edges = [e for m, p in modules.items() for e in imports_of(m, p, modules)]
    return modules, edges


def layer_of(module: str, layers: Sequence[Tuple[str, Sequence[str]]], package: str) -> Optional[int]:
    """The index of the layer that holds ``module`` (the most specific name wins), else None."""
    best: Optional[Tuple[int, int]] = None  # (length of the matching name, layer index)
    for index, (_, names) in enumerate(layers):
        for n in names:
            matches = module == n or (n != package and module.startswith(n + "."))
            if matches and (best is None or len(n) > best[0]):
                best = (len(n), index)
    return None if best is None else best[1]


def unassigned(modules: Iterable[str], layers: Sequence[Tuple[str, Sequence[str]]], package: str) -> List[str]:
    return sorted(m for m in modules if layer_of(m, layers, package) is None)


def upward_imports(edges: Iterable[Edge], layers: Sequence[Tuple[str, Sequence[str]]], package: str) -> List[str]:
    """One line per import from a lower layer to a higher one (a smaller index is higher)."""
    out = []
    for e in edges:
        src, dst = layer_of(e.source, layers, package), layer_of(e.target, layers, package)
        if src is not None and dst is not None and dst < src:
            out.append(f"{e} (layer {dst} {layers[dst][0]!r}) from layer {src} {layers[src][0]!r}")
    return out


def _strongly_connected(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit to hit)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    on_stack: Set[str] = set()
    stack: List[str] = []
    out: List[List[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            advanced = False
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                out.append(sorted(component))
    return out


def import_cycles(modules: Dict[str, Path], edges: Iterable[Edge]) -> List[str]:
    """One line per cycle: its modules and the imports that make it (with line numbers)."""
    kept = list(edges)
    graph: Dict[str, Set[str]] = {m: set() for m in modules}
    for e in kept:
        graph[e.source].add(e.target)
    out = []
    for component in _strongly_connected(graph):
        if len(component) < 2:
            continue
        members = set(component)
        inside = sorted((e for e in kept if e.source in members and e.target in members),
                        key=lambda e: (e.source, e.line))
        out.append(f"cycle over {', '.join(component)}: " + "; ".join(map(str, inside)))
    return out


# -- the package ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graph() -> Tuple[Dict[str, Path], List[Edge]]:
    return import_graph(ROOT, PACKAGE)


def test_the_checker_reads_the_package(graph) -> None:
    modules, edges = graph
    # A few edges the package's design rests on (the synthetic tests below cover every kind of
    # import statement), so that a checker that reads nothing cannot pass.
    expected = {
        ("appflow_emu.simulator.tasks", "appflow_emu.catalog.operators"),
        ("appflow_emu.simulator.tasks", "appflow_emu.simulator.values"),
        ("appflow_emu.simulator.sinks", "appflow_emu.simulator.writes"),
    }
    assert expected <= {(e.source, e.target) for e in edges}
    assert len(modules) > 30 and len(edges) > 80
    assert all(e.source in modules and e.target in modules and e.line > 0 for e in edges)


def test_every_module_has_a_layer(graph) -> None:
    modules, _ = graph
    missing = unassigned(modules, LAYERS, PACKAGE)
    assert not missing, (f"modules in no layer (place each deliberately in tests/test_layers.py LAYERS "
                         f"and docs/architecture.md): {', '.join(missing)}")


def test_no_import_goes_up_a_layer(graph) -> None:
    _, edges = graph
    violations = upward_imports(edges, LAYERS, PACKAGE)
    assert not violations, "imports from a lower layer to a higher one:\n" + "\n".join(violations)


def test_no_import_cycle(graph) -> None:
    modules, edges = graph
    cycles = import_cycles(modules, edges)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def _layers_section(text: str) -> Optional[str]:
    m = re.search(r"^##\s+Layers\b.*?$", text, re.MULTILINE | re.IGNORECASE)
    if m is None:
        return None
    rest = text[m.end():]
    end = re.search(r"^##\s", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def test_the_architecture_doc_names_every_layer() -> None:
    if not ARCHITECTURE_DOC.exists():
        pytest.skip(f"{ARCHITECTURE_DOC} does not exist (yet)")
    section = _layers_section(ARCHITECTURE_DOC.read_text(encoding="utf-8"))
    if section is None:
        pytest.skip('docs/architecture.md has no "## Layers" heading yet (being rewritten); '
                    "the layers are checked against it once it has one")
    missing = []
    for layer, names in LAYERS:
        for name in names:
            short = name.rsplit(".", 1)[-1]
            if not re.search(rf"(?<![\w.]){re.escape(short)}(?!\w)", section) and name not in section:
                missing.append(f"{name} (layer {layer!r})")
    assert not missing, f'docs/architecture.md "## Layers" does not name: {", ".join(missing)}'


# -- the checker catches what it must --------------------------------------------------------------

SYNTHETIC_LAYERS = [("top", ("pkg", "pkg.top")), ("low", ("pkg.low",))]


def _write(root: Path, files: Dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_the_checker_catches_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "from pkg import top\nfrom pkg.low import a  # a package re-exporting: fine\n",
        "pkg/top.py": "import os\nimport pkg.low.b\n",
        "pkg/low/__init__.py": "",
        "pkg/low/a.py": """\
            import os


            def lazy():
                from ..top import helper  # upward, hidden in a function
                return helper
            """,
        "pkg/low/b.py": "from . import c\n",
        "pkg/low/c.py": """\
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from pkg.low.b import Thing
            """,
        "pkg/low/d.py": "import importlib\nTOP = importlib.import_module('pkg.top')\n",
        "pkg/stray.py": "",
    })
    modules, edges = import_graph(tmp_path, "pkg")
    assert set(modules) == {"pkg", "pkg.top", "pkg.low", "pkg.low.a", "pkg.low.b", "pkg.low.c", "pkg.low.d",
                            "pkg.stray"}
    assert {(e.source, e.target, e.line) for e in edges} == {
        ("pkg", "pkg.top", 1), ("pkg", "pkg.low.a", 2),
        ("pkg.top", "pkg.low.b", 2),
        ("pkg.low.a", "pkg.top", 5),
        ("pkg.low.b", "pkg.low.c", 1),
        ("pkg.low.c", "pkg.low.b", 4),
        ("pkg.low.d", "pkg.top", 2),
    }
    assert upward_imports(edges, SYNTHETIC_LAYERS, "pkg") == [
        "pkg.low.a:5 imports pkg.top (layer 0 'top') from layer 1 'low'",
        "pkg.low.d:2 imports pkg.top (layer 0 'top') from layer 1 'low'",
    ]
    assert import_cycles(modules, edges) == [
        "cycle over pkg.low.b, pkg.low.c: pkg.low.b:1 imports pkg.low.c; pkg.low.c:4 imports pkg.low.b"]
    assert unassigned(modules, SYNTHETIC_LAYERS, "pkg") == ["pkg.stray"]


def test_a_cycle_through_a_package_init_counts(tmp_path: Path) -> None:
    # pkg.top imports pkg.low, whose __init__ re-exports pkg.low.x, which imports pkg.top: importing
    # pkg.top first fails. import_graph.py leaves the __init__'s edge out and sees no cycle.
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "from pkg.low.x import X\n",
        "pkg/low/x.py": "from pkg.top import T\n",
        "pkg/top.py": "from pkg.low import X\n",
    })
    modules, edges = import_graph(tmp_path, "pkg")
    assert import_cycles(modules, edges) == [
        "cycle over pkg.low, pkg.low.x, pkg.top: pkg.low:1 imports pkg.low.x; pkg.low.x:1 imports pkg.top; "
        "pkg.top:1 imports pkg.low"]


def test_the_checker_agrees_with_the_shared_import_graph_tool(graph) -> None:
    """The same edges as /work/shared/tools/import_graph.py finds (where that tool is present)."""
    tool = Path("/work/shared/tools/import_graph.py")
    if not tool.exists():
        pytest.skip(f"{tool} is not on this machine")
    sys.path.insert(0, str(tool.parent))
    try:
        import import_graph as shared  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tool.parent))
    modules, edges = graph
    paths = {m: str(p) for m, p in modules.items()}
    theirs = {(m, d) for m, p in paths.items() for d in shared.imports_of(m, p, paths)}
    assert {(e.source, e.target) for e in edges} == theirs
