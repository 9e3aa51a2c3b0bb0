"""The package layout's contracts (STYLE §1, §11; issue 11), checked with ast over every
module under trionode/, the way import-linter contracts would be:

  cores     raft, wire, store, gocompat, v2 and telemetry.logger touch no I/O, clock, thread,
            global randomness or logging library, and of trionode import only cores; nor do
            the packages above a core, since importing trionode.x.y runs trionode/x/__init__.py;
  edges     http, peer, storage, net, client, ctl, config, membership and telemetry import
            nothing of trionode.node or trionode.server (the replica sits above them);
  cycles    no import cycle between trionode's first-level parts (module-level imports);
  size      no module over 400 lines;
  packages  every subpackage's __init__.py has a docstring and an __all__.

Every import statement counts: at module level, inside functions, under TYPE_CHECKING (a
typing-only import is still a dependency). Relative imports are resolved against their
module, and `from pkg import name` counts as importing pkg.name when that is a module.
Each checker also runs on tiny fake trees, so a rule that stopped catching what it forbids
fails as well.
"""

from __future__ import annotations

import ast
import itertools
import textwrap
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "trionode"

CORES = ("trionode.raft", "trionode.wire", "trionode.store", "trionode.gocompat", "trionode.v2",
         "trionode.telemetry.logger")
#: What a core never imports: the world (I/O, clocks, threads, global randomness) and the
#: libraries of the edges. `datetime` is allowed: a clock only when called (gocompat.timefmt).
FORBIDDEN = frozenset({"trio", "socket", "time", "os", "random", "threading", "asyncio", "selectors",
                       "structlog", "h11", "trio_websocket", "subprocess"})
EDGES = ("trionode.http", "trionode.peer", "trionode.storage", "trionode.net", "trionode.client",
         "trionode.ctl", "trionode.config", "trionode.membership", "trionode.telemetry")
ABOVE_EDGES = ("trionode.node", "trionode.server")
MAX_LINES = 400


@dataclass(frozen=True)
class Import:
    """One imported module of one import statement."""

    module: str  # the importer, "trionode.raft.core"
    file: str  # its path from the package's parent, "trionode/raft/core.py"
    line: int
    statement: str  # the source, "from ..server import replica"
    target: str  # the imported module, resolved: "trionode.server.replica", "trio"
    top_level: bool  # runs when the importer is imported (not inside a function)
    type_checking: bool  # under `if TYPE_CHECKING:`

    def __str__(self) -> str:
        shown = self.statement if self.target in self.statement else f"{self.statement}  [{self.target}]"
        where = "" if self.top_level else "  (inside a function)"
        guard = "  (under TYPE_CHECKING)" if self.type_checking else ""
        return f"{self.file}:{self.line}: {shown}{where}{guard}"


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def module_files(root: Path) -> dict[str, Path]:
    """Module name -> file, for every .py under the package directory `root`."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(root.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, file: str, known: set[str]) -> None:
        self.module, self.file, self.known = module, file, known
        self.package = module if is_package else module.rpartition(".")[0]
        self.depth = self.guarded = 0
        self.found: list[Import] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.guarded += 1
        for stmt in node.body:
            self.visit(stmt)
        self.guarded -= 1
        for stmt in node.orelse:
            self.visit(stmt)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            if node.level - 1 >= len(parts):
                raise AssertionError(f"{self.file}:{node.lineno}: relative import beyond the top package")
            base = ".".join(parts[: len(parts) - (node.level - 1)] + ([base] if base else []))
        subs = (f"{base}.{alias.name}" for alias in node.names)
        for target in dict.fromkeys(sub if sub in self.known else base for sub in subs):
            self._add(node, target)

    def _add(self, node: ast.Import | ast.ImportFrom, target: str) -> None:
        self.found.append(Import(self.module, self.file, node.lineno, ast.unparse(node), target,
                                 self.depth == 0, self.guarded > 0))


def collect_imports(root: Path) -> list[Import]:
    """Every import under the package directory `root`, in file order."""
    files = module_files(root)
    known = set(files)
    out = []
    for module, path in files.items():
        file = path.relative_to(root.parent).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=file)
        collector = _Collector(module, path.name == "__init__.py", file, known)
        collector.visit(tree)
        out += collector.found
    return out


# -- the rules: each returns one line per violation -----------------------------


def _core_problem(imp: Import) -> str | None:
    """Why `imp` may not appear in a core, or None."""
    top = imp.target.split(".")[0]
    if top in FORBIDDEN:
        return f"a core touches no I/O, clock, thread, global randomness or edge library ({top})"
    if top == imp.module.split(".")[0] and not within(imp.target, CORES):
        return f"a core imports only cores, and {imp.target} is not one"
    return None


def core_violations(imports: list[Import]) -> list[str]:
    """Cores import nothing FORBIDDEN and, of the package, only cores."""
    return [f"{imp}\n    {problem}" for imp in imports
            if within(imp.module, CORES) and (problem := _core_problem(imp))]


def core_parent_violations(imports: list[Import], modules: list[str]) -> list[str]:
    """Importing trionode.x.y first runs trionode/__init__.py and trionode/x/__init__.py, so
    the packages above the cores and above what they import (trionode/__init__.py, and
    trionode/telemetry/__init__.py above telemetry.logger) are held to the core rule too."""
    top = modules[0].split(".")[0] if modules else ""
    runs: dict[str, str] = {}  # a package that is not a core -> why it runs with one
    why = [(m, f"{m} is a core") for m in modules if within(m, CORES)]
    why += [(imp.target, f"{imp}") for imp in imports
            if within(imp.module, CORES) and imp.target.split(".")[0] == top]
    for name, reason in why:
        parts = name.split(".")
        for n in range(1, len(parts)):
            if not within(parent := ".".join(parts[:n]), CORES):
                runs.setdefault(parent, reason)
    return [f"{imp}\n    importing a core runs {imp.module} first ({runs[imp.module]}), so it is held"
            f" to the core rule: {problem}"
            for imp in imports if imp.module in runs and (problem := _core_problem(imp))]


def edge_violations(imports: list[Import]) -> list[str]:
    """Edges import nothing of the node or the server above them."""
    return [f"{imp}\n    an edge imports nothing of {' or '.join(ABOVE_EDGES)}"
            for imp in imports if within(imp.module, EDGES) and within(imp.target, ABOVE_EDGES)]


def _part(module: str) -> str:
    """trionode.raft.core -> raft; trionode.node -> node; trionode -> trionode."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def cycle_violations(imports: list[Import]) -> list[str]:
    """One line per group of first-level parts that import each other (module-level imports),
    with one cycle through the group and the imports that make each of its steps."""
    top = imports[0].module.split(".")[0] if imports else ""
    edges: dict[str, dict[str, list[Import]]] = defaultdict(lambda: defaultdict(list))
    for imp in imports:
        if imp.top_level and imp.target.split(".")[0] == top and _part(imp.module) != _part(imp.target):
            edges[_part(imp.module)][_part(imp.target)].append(imp)
    out = []
    for group in _strongly_connected({a: set(b) for a, b in edges.items()}):
        cycle = _cycle_through(min(group), {a: set(b) & group for a, b in edges.items() if a in group})
        lines = [f"parts {', '.join(sorted(group))} import each other: {' -> '.join(cycle)}"]
        for a, b in itertools.pairwise(cycle):
            shown = edges[a][b]
            lines += [f"    {imp}" for imp in shown[:5]]
            lines += [f"    ... and {len(shown) - 5} more {a} -> {b}"] if len(shown) > 5 else []
        out.append("\n".join(lines))
    return out


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components with more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def _cycle_through(start: str, graph: dict[str, set[str]]) -> list[str]:
    """A shortest path start -> ... -> start (breadth first)."""
    paths = [[start]]
    seen = {start}
    while paths:
        path = paths.pop(0)
        for w in sorted(graph.get(path[-1], ())):
            if w == start:
                return [*path, start]
            if w not in seen:
                seen.add(w)
                paths.append([*path, w])
    raise AssertionError(f"no cycle through {start}")


def size_violations(root: Path) -> list[str]:
    out = []
    for path in module_files(root).values():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            out.append(f"{path.relative_to(root.parent).as_posix()}: {lines} lines (at most {MAX_LINES})")
    return out


def package_violations(root: Path) -> list[str]:
    """Every directory below `root` holding Python files is a package with a docstring and __all__."""
    out = []
    dirs = sorted({p.parent for p in root.rglob("*.py") if "__pycache__" not in p.parts} - {root})
    for d in dirs:
        init = d / "__init__.py"
        shown = init.relative_to(root.parent).as_posix()
        if not init.exists():
            out.append(f"{shown}: missing (every folder of modules is a package)")
            continue
        tree = ast.parse(init.read_text(encoding="utf-8"), filename=shown)
        if not (ast.get_docstring(tree) or "").strip():
            out.append(f"{shown}: no docstring (say what the part is for)")
        if not any(_defines_all(stmt) for stmt in tree.body):
            out.append(f"{shown}: no __all__ (STYLE §11: the public surface is listed)")
    return out


def _defines_all(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, ast.AnnAssign):
        targets = [stmt.target]
    else:
        return False
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


def _report(what: str, lines: list[str]) -> str:
    return f"{len(lines)} {what}:\n" + "\n".join(lines)


# -- the real tree ----------------------------------------------------------------


@cache
def real_imports() -> list[Import]:
    return collect_imports(PACKAGE)


def test_the_scan_sees_the_package() -> None:
    modules = {imp.module for imp in real_imports()}
    assert {"trionode.raft.core", "trionode.store.store", "trionode.node"} <= modules
    assert any(imp.target == "trio" for imp in real_imports())


def test_cores_import_no_world_and_only_cores() -> None:
    found = core_violations(real_imports())
    assert not found, _report("imports break the core rule", found)


def test_packages_above_cores_are_held_to_the_core_rule() -> None:
    found = core_parent_violations(real_imports(), list(module_files(PACKAGE)))
    assert not found, _report("imports run by importing a core break the core rule", found)


def test_edges_import_nothing_of_node_or_server() -> None:
    found = edge_violations(real_imports())
    assert not found, _report("imports reach above the edges", found)


def test_no_import_cycle_between_parts() -> None:
    found = cycle_violations(real_imports())
    assert not found, _report("import cycles between trionode's parts", found)


#: Which parts each part may import (first-level packages; "trionode" is the root's version
#: constants). The one-way map of docs/architecture.md: a new arrow is a design decision,
#: made here on purpose, never by accident in an import line.
ALLOWED = {
    "gocompat": set(),
    "v2": {"gocompat"},
    "telemetry": set(),
    "raft": {"telemetry"},
    "wire": {"raft"},
    "store": {"gocompat", "v2"},
    "config": {"gocompat", "trionode"},
    "storage": {"raft", "telemetry"},
    "net": {"config", "storage"},
    "client": {"gocompat"},
    "ctl": {"client", "gocompat", "trionode"},
    "peer": {"net", "raft", "telemetry", "wire"},
    "membership": {"client", "config", "gocompat", "raft", "storage", "store", "telemetry", "v2"},
    "server": {"gocompat", "membership", "raft", "storage", "store", "telemetry", "v2"},
    "http": {"config", "gocompat", "membership", "net", "store", "telemetry", "trionode", "v2"},
}


def arrow_violations(imports: list[Import], allowed: dict[str, set[str]]) -> list[str]:
    """Imports from one part of another that `allowed` does not list (node and __main__,
    at the top, may import anything)."""
    out = []
    for imp in imports:
        top = imp.module.split(".")[0]
        if imp.target.split(".")[0] != top:
            continue
        src, dst = _part(imp.module), _part(imp.target)
        if src != dst and src in allowed and dst not in allowed[src]:
            out.append(f"{imp}\n    {src} may import only {', '.join(sorted(allowed[src])) or 'nothing of trionode'}")
    return out


def test_parts_import_only_what_the_map_allows() -> None:
    problems = arrow_violations(real_imports(), ALLOWED)
    assert not problems, _report("imports are not on the map (ALLOWED)", problems)


def test_every_part_is_on_the_map() -> None:
    parts = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert parts == set(ALLOWED), f"parts missing from ALLOWED: {parts - set(ALLOWED)}; gone: {set(ALLOWED) - parts}"


def test_arrow_checker_catches_an_arrow_off_the_map(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {"a/__init__.py": PLAIN_INIT, "a/x.py": "from ..b import y\n",
                                "b/__init__.py": PLAIN_INIT, "b/y.py": ""})
    imports = collect_imports(root)
    assert flagged(arrow_violations(imports, {"a": set(), "b": set()})) == {"trionode/a/x.py:1"}
    assert not arrow_violations(imports, {"a": {"b"}, "b": set()})


def test_modules_are_at_most_400_lines() -> None:
    found = size_violations(PACKAGE)
    assert not found, _report("modules over the limit", found)


def test_subpackages_have_docstring_and_all() -> None:
    found = package_violations(PACKAGE)
    assert not found, _report("package problems", found)


# -- the checkers themselves, on fake trees ---------------------------------------

PLAIN_INIT = '"""A fake part."""\n__all__: list[str] = []\n'


def fake_tree(tmp_path: Path, files: Mapping[str, str | None]) -> Path:
    """A fake `trionode` package under tmp_path. Every folder gets PLAIN_INIT unless `files`
    names its __init__.py (None: leave it out)."""
    root = tmp_path / "trionode"
    for rel, text in files.items():
        if text is not None:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(textwrap.dedent(text))
    for d in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        if (d / "__init__.py").relative_to(root).as_posix() not in files:
            (d / "__init__.py").write_text(PLAIN_INIT)
    return root


def flagged(lines: list[str]) -> set[str]:
    """'file:line' of each violation."""
    return {":".join(line.split(":", 2)[:2]) for line in lines}


def test_checker_resolves_imports(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {
        "store/tree.py": "",
        "raft/core.py": "",
        "store/event.py": """\
            from . import tree
            from .tree import Node
            from .. import v2, raft
            from ..v2 import V2Error
            import trionode.wire.frames as frames

            def later():
                from collections import abc
            """,
        "v2/__init__.py": '"""v2"""\n__all__ = ["V2Error"]\nEtcdError = ValueError\n',
    })
    got = [(i.line, i.target, i.top_level) for i in collect_imports(root) if i.module == "trionode.store.event"]
    assert got == [(1, "trionode.store.tree", True), (2, "trionode.store.tree", True),
                   (3, "trionode.v2", True), (3, "trionode.raft", True), (4, "trionode.v2", True),
                   (5, "trionode.wire.frames", True), (8, "collections", False)]


def test_core_checker_catches_world_and_edges(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {
        "raft/core.py": "import trio\n",
        "raft/log.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import random\n",
        "store/store.py": "def f():\n    import time\n",
        "store/tree.py": "from os import path\nfrom ..v2 import errors\n",
        "wire/frames.py": "from ..server import replica\nfrom .. import peer\n",
        "gocompat/timefmt.py": "from datetime import datetime\nimport re\nfrom ..v2.errors import E\n",
        "v2/errors.py": "from trionode.gocompat import timefmt\nfrom trionode import node\n",
        "telemetry/logger.py": "import structlog\nfrom typing import Protocol\n",
        "server/replica.py": "import trio\n",
        "peer/__init__.py": '"""peer"""\n__all__ = []\nimport socket\n',
    })
    found = core_violations(collect_imports(root))
    assert flagged(found) == {"trionode/raft/core.py:1", "trionode/raft/log.py:3", "trionode/store/store.py:2",
                              "trionode/store/tree.py:1", "trionode/wire/frames.py:1", "trionode/wire/frames.py:2",
                              "trionode/v2/errors.py:2", "trionode/telemetry/logger.py:1"}
    text = "\n".join(found)
    assert "trionode/raft/log.py:3: import random  (under TYPE_CHECKING)" in text
    assert "trionode/store/store.py:2: import time  (inside a function)" in text
    assert "trionode/wire/frames.py:1: from ..server import replica  [trionode.server.replica]" in text
    assert "trionode.peer is not one" in text


def test_core_parent_checker_catches_a_heavy_package_above_a_core(tmp_path: Path) -> None:
    files: dict[str, str | None] = {
        "__init__.py": '"""Root."""\n__all__ = []\nimport h11\n',
        "telemetry/__init__.py": '"""Logs."""\nfrom .log import setup\n__all__ = ["setup"]\n',
        "telemetry/log.py": "import structlog\n",
        "raft/core.py": "import enum\n",
    }
    root = fake_tree(tmp_path, files)
    modules = list(module_files(root))
    assert flagged(core_parent_violations(collect_imports(root), modules)) == {"trionode/__init__.py:3"}
    (root / "telemetry/logger.py").write_text("from typing import Protocol\n")  # a core under telemetry
    found = core_parent_violations(collect_imports(root), list(module_files(root)))
    assert flagged(found) == {"trionode/__init__.py:3", "trionode/telemetry/__init__.py:2"}
    assert "trionode.telemetry.logger is a core" in "\n".join(found)
    (root / "telemetry/logger.py").unlink()
    (root / "raft/core.py").write_text("from ..telemetry.logger import Logger\n")  # imported, missing
    found = core_parent_violations(collect_imports(root), list(module_files(root)))
    assert "trionode/telemetry/__init__.py:2: from .log import setup  [trionode.telemetry.log]" in "\n".join(found)


def test_edge_checker_catches_node_and_server(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {
        "server/replica.py": "",
        "http/keys.py": "from ..server.replica import Replica\nfrom trionode.config import X\n",
        "peer/transport.py": "def f():\n    from .. import node\n",
        "membership/reconfig.py": "from trionode import server\nfrom ..store import Store\n",
        "telemetry/log.py": "import trionode.node\n",
        "node.py": "from .server import replica\n",
    })
    found = edge_violations(collect_imports(root))
    assert flagged(found) == {"trionode/http/keys.py:1", "trionode/peer/transport.py:2",
                              "trionode/membership/reconfig.py:1", "trionode/telemetry/log.py:1"}


def test_cycle_checker_catches_a_cycle_and_names_its_imports(tmp_path: Path) -> None:
    files = {
        "server/replica.py": "from ..membership import members\n",
        "membership/members.py": "def f():\n    from ..server import replica\n",  # a function breaks it
        "membership/reconfig.py": "from ..raft import core\n",
        "raft/core.py": "",
    }
    root = fake_tree(tmp_path, files)
    assert cycle_violations(collect_imports(root)) == []
    (root / "membership/standbys.py").write_text("from trionode.server.replica import Replica\n")
    (found,) = cycle_violations(collect_imports(root))
    assert found.splitlines() == [
        "parts membership, server import each other: membership -> server -> membership",
        "    trionode/membership/standbys.py:1: from trionode.server.replica import Replica",
        "    trionode/server/replica.py:1: from ..membership import members  [trionode.membership.members]",
    ]
    (root / "raft/core.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                       "    from ..server import replica\n")
    (found,) = cycle_violations(collect_imports(root))
    assert found.startswith("parts membership, raft, server import each other: membership -> ")


def test_size_checker_counts_lines(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {"store/ok.py": "x = 1\n" * MAX_LINES, "store/big.py": "x = 1\n" * (MAX_LINES + 1)})
    assert size_violations(root) == [f"trionode/store/big.py: {MAX_LINES + 1} lines (at most {MAX_LINES})"]


def test_package_checker_wants_docstring_all_and_init(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {
        "good/__init__.py": '"""Good."""\nfrom .m import f\n__all__ = ["f"]\n',
        "good/m.py": "",
        "nodoc/__init__.py": "__all__ = []\n",
        "noall/__init__.py": '"""No list."""\nfrom .m import f\n',
        "noall/m.py": "",
        "loose/__init__.py": None,
        "loose/m.py": "",
        "static/index.html": None,
    })
    (root / "static").mkdir()
    (root / "static/index.html").write_text("<html>")
    assert package_violations(root) == [
        "trionode/loose/__init__.py: missing (every folder of modules is a package)",
        "trionode/noall/__init__.py: no __all__ (STYLE §11: the public surface is listed)",
        "trionode/nodoc/__init__.py: no docstring (say what the part is for)",
    ]
