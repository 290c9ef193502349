"""The bics package reads in one sitting: no import circle in the sandbox, short functions."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2] / "bics"


def _imports(path: pathlib.Path) -> set[str]:
    """bics.sandbox modules imported by ``path`` anywhere (function-level imports too),
    except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
            and getattr(node.test, "id", "") == "TYPE_CHECKING" for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if node.module == "bics.sandbox":
            found.update(f"bics.sandbox.{a.name}" for a in node.names)
        elif node.module.startswith("bics.sandbox."):
            found.add(node.module)
    return found


def _module(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_nothing_in_the_sandbox_imports_in_a_circle():
    graph = {_module(p): _imports(p) for p in (ROOT / "sandbox").rglob("*.py")}
    # a package depends on its own submodules (it imports them): not a circle
    for name, deps in graph.items():
        graph[name] = {d for d in deps if d in graph and d != name}

    def visit(node, path):
        assert node not in path, f"import circle: {' -> '.join([*path, node])}"
        for dep in graph[node]:
            if not dep.startswith(node + "."):
                visit(dep, [*path, node])

    for name in graph:
        visit(name, [])


def test_every_function_is_short():
    long = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.name} ({length})")
    assert long == []


def test_the_handlers_are_split_by_product():
    names = {p.stem for p in (ROOT / "sandbox" / "handlers").glob("*.py")}
    assert {"sms", "channels", "voice", "verify", "contacts", "platform"} <= names
    for path in (ROOT / "sandbox" / "handlers").glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 500, path.name
