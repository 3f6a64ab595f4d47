"""No import cycles between the project's modules: the import graph is built from the source with ``ast``.

Every ``import`` counts, also those inside functions (a lazy import hides a cycle, it does not remove it);
only those under ``if TYPE_CHECKING:`` are left out. Importing ``a.b.c`` also runs the ``__init__`` of ``a``
and ``a.b``: those count as edges too, except packages that contain the importing module itself (they are
already running when it runs). ``from pkg import name`` is an edge to ``pkg.name`` when that is a module,
else to ``pkg``'s ``__init__``.
"""
from __future__ import annotations

import ast
from pathlib import Path

from .conftest import REPO

ROOTS = ("crawler", "pipelines", "benchmarks")


def module_files(repo: Path, roots=ROOTS) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under the roots (``benchmarks`` scripts are top-level
    modules: they put their own folder on sys.path)."""
    mods = {}
    for root in roots:
        for path in sorted((repo / root).rglob("*.py")):
            rel = path.relative_to(repo / root if root == "benchmarks" else repo).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            if parts:
                mods[".".join(parts)] = path
    return mods


def _is_package(name: str, mods: dict[str, Path]) -> bool:
    return name in mods and mods[name].name == "__init__.py"


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def imports_of(name: str, path: Path, mods: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported project module, line) for every import statement of one module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _type_checking_nodes(tree)
    package = name if _is_package(name, mods) else name.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for a in node.names:
                sub = f"{base}.{a.name}" if base else a.name
                found.append((sub if sub in mods else base, node.lineno))
    edges = []
    own = set(_ancestors(name)) | ({name} if _is_package(name, mods) else set())
    for target, line in found:
        while target and target not in mods:  # `import a.b.c` of a name we do not have: its nearest module
            target = target.rpartition(".")[0]
        if not target or target == name:
            continue
        edges += [(anc, line) for anc in _ancestors(target) if anc in mods and anc not in own]
        edges.append((target, line))
    return edges


def import_graph(repo: Path, roots=ROOTS) -> dict[str, dict[str, int]]:
    mods = module_files(repo, roots)
    graph: dict[str, dict[str, int]] = {}
    for name, path in mods.items():
        graph[name] = {}
        for target, line in imports_of(name, path, mods):
            graph[name].setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return sorted(found)


def describe(comp: list[str], graph: dict[str, dict[str, int]]) -> str:
    members = set(comp)
    ties = [f"    {a} -> {b} (line {line})" for a in comp for b, line in sorted(graph[a].items()) if b in members]
    return "cycle of " + ", ".join(comp) + ":\n" + "\n".join(ties)


def test_the_project_has_no_import_cycle():
    graph = import_graph(REPO)
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100  # the whole project was read
    assert "pipelines.dedup.labels" in graph["pipelines.dedup.exact"]  # relative imports resolved
    found = cycles(graph)
    assert not found, "import cycles between project modules:\n" + "\n".join(describe(c, graph) for c in found)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_a_cycle_through_a_lazy_import_is_found(tmp_path):
    write(tmp_path, {"crawler/__init__.py": "", "pipelines/__init__.py": "", "benchmarks/run.py": "",
                     "crawler/a.py": "from .b import X\n",
                     "crawler/b.py": "X = 1\ndef later():\n    from crawler import a\n",
                     "pipelines/c.py": "import crawler.b\n"})
    assert cycles(import_graph(tmp_path)) == [["crawler.a", "crawler.b"]]


def test_a_package_init_importing_a_child_that_reads_the_init_is_a_cycle(tmp_path):
    write(tmp_path, {"crawler/__init__.py": "", "pipelines/__init__.py": "", "benchmarks/run.py": "",
                     "pipelines/tools/__init__.py": "from .one import run\nNAME = 'x'\n",
                     "pipelines/tools/one.py": "from . import NAME\ndef run(): pass\n",
                     "pipelines/tools/two.py": "from . import one\n",  # a sibling: no edge to the __init__
                     "crawler/cmd.py": "from pipelines.tools import two\n"})
    graph = import_graph(tmp_path)
    assert "pipelines.tools" in graph["crawler.cmd"] and "pipelines.tools" not in graph["pipelines.tools.two"]
    assert cycles(graph) == [["pipelines.tools", "pipelines.tools.one"]]


def test_type_checking_imports_do_not_count(tmp_path):
    write(tmp_path, {"crawler/__init__.py": "", "pipelines/__init__.py": "", "benchmarks/run.py": "",
                     "crawler/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import X\n",
                     "crawler/b.py": "from .a import Y\n"})
    assert cycles(import_graph(tmp_path)) == []
