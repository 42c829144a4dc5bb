"""What the product imports: no test code or emulator inside `core/`, no web layer below it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
#: Where `core` may import the web layer: the app factory that registers it, and the web layer.
WEB_USERS = {"core/app.py"}


def _imports(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    found: list[tuple[str, ast.AST]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node))
    return found


def _enclosing_functions(tree: ast.AST) -> dict[ast.AST, str]:
    owner: dict[ast.AST, str] = {}
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(func):
                owner.setdefault(node, func.name)
    return owner


def _core_modules() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if "migrations" not in p.parts)


def _top(name: str) -> str:
    return name.split(".")[0]


def test_the_graph_sees_the_sandbox_command():
    # Guards the test below against walking nothing: the one allowed import is found.
    tree = ast.parse((CORE / "cli" / "sandbox.py").read_text())
    owners = _enclosing_functions(tree)
    assert {owners.get(node) for name, node in _imports(tree) if _top(name) == "sandbox"} == {
        "sandbox"
    }


def test_core_imports_the_sandbox_only_in_the_command_that_starts_it():
    offenders = []
    for path in _core_modules():
        tree = ast.parse(path.read_text())
        owners = _enclosing_functions(tree)
        rel = path.relative_to(ROOT).as_posix()
        for name, node in _imports(tree):
            if _top(name) != "sandbox":
                continue
            if rel == "core/cli/sandbox.py" and owners.get(node) == "sandbox":
                continue
            offenders.append(f"{rel}:{node.lineno} imports {name}")
    assert offenders == []


def test_core_never_imports_the_testing_kit_or_the_tests():
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
        for path in _core_modules()
        for name, node in _imports(ast.parse(path.read_text()))
        if _top(name) in {"costbridge_testing", "tests", "pytest", "freezegun", "bench"}
    ]
    assert offenders == []


def test_only_the_app_factory_and_the_web_layer_import_core_web():
    offenders = []
    for path in _core_modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("core/web/") or rel in WEB_USERS:
            continue
        for name, node in _imports(ast.parse(path.read_text())):
            if name == "core.web" or name.startswith("core.web."):
                offenders.append(f"{rel}:{node.lineno} imports {name}")
    assert offenders == []


def test_no_test_modules_ship_inside_core():
    leftovers = [
        p.relative_to(ROOT).as_posix()
        for p in _core_modules()
        if p.name in {"testing.py", "fixtures.py", "conftest.py"} or p.name.startswith("test_")
    ]
    assert leftovers == []
