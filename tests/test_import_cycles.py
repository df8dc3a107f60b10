"""The project's packages import one another without a cycle.

The graph is read from the source with :mod:`ast`, so nothing is imported: an edge ``a -> b``
is every ``import b`` or ``from b import ...`` of a project module ``b`` anywhere in ``a``, at
module level or inside a function (an import moved into a function still runs, only later).
``from package import name`` points at ``package.name`` where that is a module; the implicit
import of a module's parent packages is left out.

Two graphs: the one that runs leaves out imports under ``if TYPE_CHECKING:``; the design's
keeps them, since a module that needs another's types for its signatures depends on it as
much as one that calls it.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("frontend", "service", "training", "bench")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    """Every module of :data:`PACKAGES`, by dotted name."""
    return {_module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, *, type_checking: bool) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of ``tree``; those under ``if TYPE_CHECKING:`` only if ``type_checking``."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node) and not type_checking:
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))
    return found


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The project modules one import statement of ``module`` imports."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    base = node.module or ""
    if node.level:  # relative: from the module's package, one level up per extra dot
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    out = set()
    for alias in node.names:
        name = f"{base}.{alias.name}"
        if name in known:
            out.add(name)
        elif base in known:
            out.add(base)
    return out


def import_graph(*, type_checking: bool) -> dict[str, set[str]]:
    """``{module: project modules it imports}`` for every module of :data:`PACKAGES`.

    ``type_checking``: count the imports under ``if TYPE_CHECKING:`` too.
    """
    modules = project_modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[name] = {
            target
            for node in _imports(tree, type_checking=type_checking)
            for target in _targets(node, name, is_package, known)
            if target != name
        }
    return graph


def _cycle(graph: dict[str, set[str]], package: str | None = None) -> list[str] | None:
    """A cycle of ``graph`` (among the modules of ``package`` if given), or None."""
    if package is not None:
        graph = {m: deps for m, deps in graph.items() if m == package or m.startswith(f"{package}.")}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as e:
        return list(e.args[1])
    return None


def test_the_graph_sees_top_level_function_level_and_type_checking_imports() -> None:
    graph = import_graph(type_checking=False)
    assert "training.run_folder" in graph["training.train"]  # at module level
    assert "training.train" in graph["training.studies.compare"]  # inside run_variant
    assert "frontend.artifact" in graph["training.export"]  # ``from frontend.artifact import ...``
    assert len(graph) > 50
    assert "bench.perf_results" not in graph["bench.report"]
    assert "bench.perf_results" in import_graph(type_checking=True)["bench.report"]


def test_no_import_cycle_runs() -> None:
    cycle = _cycle(import_graph(type_checking=False))
    assert cycle is None, f"import cycle: {' -> '.join(cycle or [])}"


@pytest.mark.parametrize(
    "package",
    ["frontend", "service", "training", "bench"],
)
def test_no_import_cycle_by_design(package: str) -> None:
    cycle = _cycle(import_graph(type_checking=True), package)
    assert cycle is None, f"import cycle in {package}: {' -> '.join(cycle or [])}"


def package_graph(graph: dict[str, set[str]], package: str) -> dict[str, set[str]]:
    """``graph`` among ``package``'s direct parts: each subpackage one node (its modules merged),
    each module of ``package`` itself one node; imports within a node are left out."""

    def node(module: str) -> str:
        return ".".join(module.split(".")[: package.count(".") + 2])

    out: dict[str, set[str]] = {}
    for module, deps in graph.items():
        if module.startswith(f"{package}."):
            out.setdefault(node(module), set()).update(
                node(d) for d in deps if d.startswith(f"{package}.") and node(d) != node(module)
            )
    return out


def test_the_package_graph_merges_a_subpackage_into_one_node() -> None:
    graph = {"p.a.x": {"p.b.y", "p.a.z"}, "p.a.z": set(), "p.b.y": {"p.c"}, "p.c": set(), "q": {"p.a.x"}}
    assert package_graph(graph, "p") == {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": set()}
    graph["p.c"] = {"p.a.z"}  # no module cycle, but p.a -> p.b -> p.c -> p.a
    assert _cycle(graph) is None and _cycle(package_graph(graph, "p")) is not None


@pytest.mark.parametrize("package", ["frontend", "service", "training", "bench"])
def test_no_import_cycle_between_subpackages(package: str) -> None:
    cycle = _cycle(package_graph(import_graph(type_checking=True), package))
    assert cycle is None, f"package-level import cycle in {package}: {' -> '.join(cycle or [])}"


def test_the_gallery_and_the_batch_tagger_do_not_import_each_other() -> None:
    graph = package_graph(import_graph(type_checking=True), "service")
    assert "service.gallery" in graph["service.batch"]  # the tagger answers enrolled artists
    assert "service.batch" not in graph["service.gallery"]
