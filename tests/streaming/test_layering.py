"""Imports run one way, books -> streaming -> voj, and streaming's modules form no circle, even
through imports hidden inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module a file imports anywhere in it (top level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package if node.level == 1 else package.rsplit(".", node.level - 1)[0]
                module = f"{base}.{node.module}" if node.module else base
                found.add(module)
                if not node.module:
                    found.update(f"{base}.{alias.name}" for alias in node.names)
            elif node.module:
                found.add(node.module)
    return found


def test_streaming_never_imports_the_catalogue():
    for path in (ROOT / "streaming").rglob("*.py"):
        offending = {m for m in imported_modules(path, "streaming") if m.split(".")[0] == "books"}
        assert not offending, f"{path.relative_to(ROOT)} imports {offending}"


def test_shared_errors_and_clients_import_no_app():
    for name in ("exceptions", "aws", "errors"):
        path = ROOT / "voj" / f"{name}.py"
        offending = {
            m for m in imported_modules(path, "voj") if m.split(".")[0] in {"books", "streaming"}
        }
        assert not offending, f"voj/{name}.py imports {offending}"


def test_streaming_modules_import_each_other_without_a_circle():
    graph = {
        f"streaming.{path.stem}": {
            m for m in imported_modules(path, "streaming") if m.startswith("streaming.")
        }
        for path in (ROOT / "streaming").glob("*.py")
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done or module not in graph:
            return
        assert module not in visiting, " -> ".join([*visiting[visiting.index(module) :], module])
        visiting.append(module)
        for target in graph[module]:
            visit(target)
        visiting.pop()
        done.add(module)

    for module in graph:
        visit(module)
