"""Imports run one way, books -> streaming -> voj, even through imports hidden inside functions:
voj, the shared base, imports no app outside the files that wire the apps into one site;
streaming never imports the catalogue; no two modules of the tree import each other, directly
or round a circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = {"books", "streaming", "listening"}

# The files of voj/ that put the apps together into one site: they import the apps' views,
# admin pages, checks and schema by design. Everything else in voj/ is the base the apps use.
VOJ_WIRING = (
    "voj/urls.py",
    "voj/admin_site.py",
    "voj/health.py",
    "voj/schema.py",
    "voj/settings/",
    "voj/management/commands/",
    "voj/snapstart.py",  # primes and rebuilds each app's singletons around a snapshot
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports anywhere in it (top level or inside functions), and every
    module named by a literal to importlib's import_module or Django's import_string. For
    ``from x import y``, ``x.y`` too: it is a module if y is one."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package if node.level == 1 else package.rsplit(".", node.level - 1)[0]
                target = f"{base}.{node.module}" if node.module else base
                found.add(target)
                if not node.module:
                    found.update(f"{base}.{alias.name}" for alias in node.names)
            elif node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and _names_a_module(node):
            found.add(node.args[0].value)  # type: ignore[attr-defined]
    return found


def _names_a_module(call: ast.Call) -> bool:
    function = call.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    return (
        name in {"import_module", "import_string"}
        and bool(call.args)
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    )


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def is_wiring(path: Path) -> bool:
    return path.relative_to(ROOT).as_posix().startswith(VOJ_WIRING)


def test_the_wiring_files_exist():
    """A renamed wiring file must not leave a stale exemption behind."""
    for name in VOJ_WIRING:
        assert (ROOT / name).exists(), name


def test_the_shared_base_imports_no_app():
    checked = [path for path in python_files("voj") if not is_wiring(path)]
    assert ROOT / "voj" / "aws.py" in checked and ROOT / "voj" / "errors.py" in checked
    for path in checked:
        offending = {m for m in imported_modules(path) if m.split(".")[0] in APPS}
        assert not offending, f"{path.relative_to(ROOT)} imports {offending}"


def test_streaming_never_imports_the_catalogue():
    for path in python_files("streaming"):
        offending = {m for m in imported_modules(path) if m.split(".")[0] == "books"}
        assert not offending, f"{path.relative_to(ROOT)} imports {offending}"


def import_graph(paths: list[Path], roots: set[str]) -> dict[str, set[str]]:
    """Module -> the modules among ``paths`` it imports. ``from package import name`` counts
    as an import of the package and, where ``name`` is a module, of that module."""
    modules = {module_name(path): path for path in paths}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = {m for m in imported_modules(path) if m.split(".")[0] in roots}
        graph[module] = {t for t in targets if t in modules and t != module}
    return graph


def first_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle in ``graph`` (its modules, the first repeated at the end), or None."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> list[str] | None:
        if module in done:
            return None
        if module in visiting:
            return [*visiting[visiting.index(module) :], module]
        visiting.append(module)
        for target in sorted(graph[module]):
            circle = visit(target)
            if circle:
                return circle
        visiting.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        circle = visit(module)
        if circle:
            return circle
    return None


def test_streaming_modules_import_each_other_without_a_circle():
    graph = import_graph(python_files("streaming"), {"streaming"})
    circle = first_circle(graph)
    assert circle is None, " -> ".join(circle or [])


def test_the_tree_has_no_import_circle():
    """voj, books, streaming, listening and deploy, with imports inside functions counted: a
    circle hidden in a function still ties its modules together, and breaks at import when one
    moves to the top."""
    folders = {"voj", "books", "streaming", "listening", "deploy"}
    graph = import_graph([path for f in sorted(folders) for path in python_files(f)], folders)
    circle = first_circle(graph)
    assert circle is None, " -> ".join(circle or [])


def test_a_circle_is_found_and_named():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert first_circle(graph) == ["a", "b", "c", "a"]
    assert first_circle({"a": {"b"}, "b": set()}) is None
