"""bookapp's modules import one way: no cycles (imports inside functions count), and the queue is a leaf."""

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "bookapp"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def bookapp_imports() -> dict[str, set[str]]:
    """Return, for each module of bookapp, the modules of bookapp it imports anywhere in its code."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                for alias in node.names:
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                return [*stack[stack.index(imported) :], imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        state[module] = 2
        stack.pop()
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_no_module_of_bookapp_imports_itself_round_a_cycle():
    cycle = find_cycle(bookapp_imports())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_queue_knows_nothing_of_the_services_and_tasks():
    imported = bookapp_imports()["bookapp.queue"]
    assert not {m for m in imported if m.startswith(("bookapp.services", "bookapp.tasks"))}, imported


BLUEPRINTS = ("bookapp.auth", "bookapp.books", "bookapp.imports", "bookapp.matching", "bookapp.api", "bookapp.main")


def test_blueprints_do_not_import_each_other():
    graph = bookapp_imports()
    crossing = {(b, m) for b in BLUEPRINTS for m in graph[b] if m in BLUEPRINTS and m != "bookapp.auth"}
    assert not crossing, f"blueprints importing blueprints (shared helpers belong in services): {crossing}"
