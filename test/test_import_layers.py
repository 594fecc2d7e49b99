"""The package's subpackages depend on each other in one direction only.

Read from the source (no imports run): every ``import espnet_l2dual.x...`` or
``from espnet_l2dual.x... import`` anywhere in a module, function-local ones included, is an
edge from the module's subpackage to ``x``. A cycle between subpackages (``models`` ->
``methods`` -> ``models``) fails, naming one import of each edge on the cycle.

``bin/`` sits on top: the library imports nothing from it, and it stays a bounded share of the
package's lines (options, a call into the library, errors as one line and an exit status).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

PACKAGE = Path(__file__).resolve().parents[1] / "espnet_l2dual"
Edge = Tuple[str, str]


def subpackage_of(module: str) -> str:
    """``espnet_l2dual.models.dual_model`` -> ``models``; a top-level module is its own unit."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imported_modules(path: Path, module: str) -> List[Tuple[str, int]]:
    """(``espnet_l2dual.*`` module name, line) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            found += [(f"{base}.{a.name}" if a.name != "*" else base, node.lineno) for a in node.names]
    return [(name, line) for name, line in found if name.split(".")[0] == "espnet_l2dual"]


def subpackage_edges(root: Path = PACKAGE) -> Dict[Edge, str]:
    """(from, to) -> ``path:line`` of one import making that edge."""
    edges: Dict[Edge, str] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if path.name == "__init__.py" else rel.parts)
        src = subpackage_of(module)
        for name, line in imported_modules(path, module):
            dst = subpackage_of(name)
            if dst != src and dst != "espnet_l2dual":
                edges.setdefault((src, dst), f"{path.relative_to(root.parent)}:{line}")
    return edges


def find_cycle(edges: Dict[Edge, str]) -> Optional[List[str]]:
    """One cycle of the directed graph as [a, b, ..., a], or None."""
    graph: Dict[str, Set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_no_import_cycle_between_subpackages() -> None:
    edges = subpackage_edges()
    assert ("tasks", "models") in edges  # the walk sees the package's own imports
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle " + " -> ".join(cycle) + ": " + "; ".join(
        edges[(a, b)] for a, b in zip(cycle, cycle[1:]))


def test_models_import_no_method() -> None:
    """Building blocks below, methods above: a method may use models/, never the other way."""
    edges = subpackage_edges()
    assert ("models", "methods") not in edges, edges.get(("models", "methods"))


def test_the_walk_finds_a_planted_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "espnet_l2dual"
    for sub, body in (("models", "from espnet_l2dual.methods.x import y\n"),
                      ("methods", "def f():\n    from ..models import z\n"),
                      ("bin", "import espnet_l2dual.models.a\n")):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
        (pkg / sub / "mod.py").write_text(body)
    edges = subpackage_edges(pkg)
    assert set(edges) == {("models", "methods"), ("methods", "models"), ("bin", "models")}
    assert find_cycle(edges) in (["methods", "models", "methods"], ["models", "methods", "models"])
    del edges[("methods", "models")]
    assert find_cycle(edges) is None


# bin/ parses options and calls the library; its share of the package's lines stays at most this.
BIN_SHARE_LIMIT = 0.10


def line_count(paths: List[Path]) -> int:
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in paths)


def test_bin_only_parses_options_and_calls_the_library() -> None:
    package = sorted(PACKAGE.rglob("*.py"))
    bin_lines = line_count([p for p in package if p.parent.name == "bin"])
    share = bin_lines / line_count(package)
    assert share <= BIN_SHARE_LIMIT, (
        f"espnet_l2dual/bin/ holds {bin_lines} lines, {share:.1%} of the package (at most "
        f"{BIN_SHARE_LIMIT:.1%}): put the computation in a library module and call it from bin/")


def test_library_imports_nothing_from_bin() -> None:
    edges = subpackage_edges()
    into_bin = {a: where for (a, b), where in edges.items() if b == "bin"}
    assert not into_bin, into_bin
