"""The shape of the engine: imports flow one way, and the SQL rewrite leaves string literals alone."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import polars as pl

import engine
from engine.packed import NULL_BITS, on_null_bits

ROOT = Path(engine.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The engine modules ``path`` imports, at module level and inside functions alike (a
    function-level import is a dependency too, only a deferred one). Imports under
    ``if TYPE_CHECKING:`` never run and are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    type_only = {
        id(n)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
        for statement in branch.body
        for n in ast.walk(statement)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from package import submodule`` needs the submodule (the package may still be
            # initialising); ``from module import name`` needs the module.
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {m for m in found if m in modules and m != name}


#: Deferred imports (inside a function) that close a loop, each with its reason. Only this one:
#: ``engine.source.open_source`` hands over to ``engine.readers``, which builds on ``Source``;
#: the readers and inspect (its callers) are kept by another part of the work.
DEFERRED = {("engine.source", "engine.readers")}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(ROOT.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _imports(p, modules) for p in paths}
    return {m: {d for d in deps if (m, d) not in DEFERRED} for m, deps in graph.items()}


def test_the_engine_has_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 30
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_the_layers_import_downwards() -> None:
    """indeling -> contract -> rules -> pipeline -> grouping -> commands: none imports a later one,
    and no command module imports another command module."""
    graph = import_graph()
    order = ["engine.indeling", "engine.contract", "engine.rules", "engine.pipeline", "engine.grouping"]
    for i, module in enumerate(order):
        later = set(order[i + 1 :])
        assert not graph[module] & later, module

    def reaches(module: str) -> set[str]:
        seen: set[str] = set()
        todo = [module]
        while todo:
            for m in graph[todo.pop()] - seen:
                seen.add(m)
                todo.append(m)
        return seen

    assert "engine.rules" not in reaches("engine.contract")
    commands = {f"engine.{c}" for c in ("count", "funnel", "profiel", "explain", "prepare", "inspect")}
    commands.add("engine.publiceer.werklijst")
    for command in commands:
        assert not graph[command] & (commands - {command}), command


def test_null_tests_move_to_the_null_bits_but_string_literals_stay() -> None:
    column = next(iter(NULL_BITS))
    bit = NULL_BITS[column]
    sql = f"{column} IS NOT NULL AND status = '{column} IS NULL' AND {column} is null"
    assert on_null_bits(sql) == f"(NOT {bit}) AND status = '{column} IS NULL' AND ({bit})"
    # A literal alone, a qualified or unrelated column: nothing to rewrite.
    for unchanged in (f"status = '{column} IS NULL'", f"t.{column} IS NULL", "status IS NULL"):
        assert on_null_bits(unchanged) == unchanged
    # The rewritten text reads the bit, not the date.
    assert pl.sql_expr(on_null_bits(sql)).meta.root_names() == [bit, "status", bit]
