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


# -- layers: core ↛ admin, core.qbo ↛ core.sync, the CLI package (issue 19) -----------------------

#: Kept only so RQ finds jobs queued under their old dotted name; nothing in `core` imports it.
LEGACY_JOB_ALIASES = {"core.qbo.webhook_jobs"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _core_names() -> set[str]:
    return {_module_name(p) for p in _core_modules()}


def _imported_modules(tree: ast.AST, known: set[str]) -> list[tuple[str, ast.AST]]:
    """Every module a file imports, however spelt: `from core import sync` names `core.sync`."""
    found: list[tuple[str, ast.AST]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node))
            found += [
                (f"{node.module}.{alias.name}", node)
                for alias in node.names
                if f"{node.module}.{alias.name}" in known
            ]
    return found


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _reach(start: set[str]) -> dict[str, str]:
    """Every core module imported, directly or not, from `start`, with one module importing it."""
    known = _core_names()
    edges = {
        _module_name(p): {n for n, _ in _imported_modules(ast.parse(p.read_text()), known)}
        for p in _core_modules()
    }
    seen: dict[str, str] = {}
    todo = list(start)
    while todo:
        here = todo.pop()
        for name in sorted(edges.get(here, ())):
            # `import core.sync.jobs` also runs `core.sync` and `core`: count every parent too.
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                target = ".".join(parts[:i])
                if target in known and target not in seen and target not in start:
                    seen[target] = here
                    todo.append(target)
    return seen


def test_core_never_imports_the_console():
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
        for path in _core_modules()
        for name, node in _imports(ast.parse(path.read_text()))
        if _top(name) == "admin"
    ]
    assert offenders == []


def test_the_console_mounts_itself_through_an_entry_point():
    import importlib.metadata

    from core.app import WEB_EXTENSIONS

    found = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=WEB_EXTENSIONS)}
    assert found.get("console") == "admin:init_admin"


def test_core_qbo_never_imports_core_sync_directly():
    known = _core_names()
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
        for path in _core_modules()
        if _under(_module_name(path), "core.qbo") and _module_name(path) not in LEGACY_JOB_ALIASES
        for name, node in _imported_modules(ast.parse(path.read_text()), known)
        if _under(name, "core.sync")
    ]
    assert offenders == []


def test_core_qbo_never_reaches_core_sync_through_other_modules():
    start = {n for n in _core_names() if _under(n, "core.qbo")} - LEGACY_JOB_ALIASES
    reached = _reach(start)
    chains = []
    for name in sorted(n for n in reached if _under(n, "core.sync")):
        chain = [name]
        while chain[-1] in reached:
            chain.append(reached[chain[-1]])
        chains.append(" <- ".join(chain))
    assert chains == []


def test_nothing_in_core_imports_a_legacy_job_alias():
    known = _core_names()
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
        for path in _core_modules()
        for name, node in _imported_modules(ast.parse(path.read_text()), known)
        if name in LEGACY_JOB_ALIASES
    ]
    assert offenders == []


CLI = CORE / "cli"


def _cli_modules() -> list[Path]:
    return sorted(CLI.glob("*.py"))


def test_the_cli_rules_see_the_package():
    # Guards the two tests below against walking nothing.
    names = {p.name for p in _cli_modules()}
    assert {"__init__.py", "common.py", "sync.py", "bills.py", "outbox.py"} <= names


def test_no_cli_module_imports_a_private_name_of_another():
    offenders = []
    for path in _cli_modules():
        tree = ast.parse(path.read_text())
        aliases: set[str] = set()  # local names bound to a CLI module (`from core.cli import x`)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and _under(node.module, "core"):
                for alias in node.names:
                    if alias.name.startswith("_"):
                        offenders.append(
                            f"{path.name}:{node.lineno} imports {alias.name} from {node.module}"
                        )
                    if _under(f"{node.module}.{alias.name}", "core.cli"):
                        aliases.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if _under(alias.name, "core.cli"):
                        aliases.add(alias.asname or alias.name)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                offenders.append(f"{path.name}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert offenders == []


def test_cli_command_modules_share_only_common():
    offenders = []
    for path in _cli_modules():
        if path.name in {"__init__.py", "__main__.py", "common.py"}:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module == "core.cli":
                names = [f"core.cli.{alias.name}" for alias in node.names]  # from core.cli import x
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}:{node.lineno} imports {name}"
                for name in names
                if _under(name, "core.cli") and name != "core.cli.common"
            ]
    assert offenders == []


def test_cli_common_imports_no_command_module():
    tree = ast.parse((CLI / "common.py").read_text())
    assert [name for name, _ in _imports(tree) if _under(name, "core.cli")] == []


# -- layers (issue 19): core.push and core.sync apart, plugins on the public API ------------------
# (core -> admin and core.qbo -> core.sync are tested on branch i19-cli, which makes them hold)

#: What a plugin may import from the core: the hook marker, the contracts, the errors and the
#: public mapping toolkit; never the engine, the models, the QBO client or the database.
PLUGIN_API = ("core", "core.contracts", "core.errors", "core.mapping")


def _dotted(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_resolved(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved, `from a import b` as a.b too."""
    name = _dotted(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _core_import_graph() -> dict[str, set[str]]:
    modules = {_dotted(p): p for p in _core_modules()}
    return {
        name: {m for m in _imports_resolved(path) if m in modules} for name, path in modules.items()
    }


def _in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _chains_into(source: str, target: str) -> list[str]:
    """One shortest import chain from each module of `source` to any module of `target`."""
    graph = _core_import_graph()
    chains = []
    for start in sorted(n for n in graph if _in_package(n, source)):
        seen = {start: [start]}
        queue = [start]
        while queue:
            current = queue.pop(0)
            for nxt in sorted(graph[current]):
                if nxt in seen:
                    continue
                seen[nxt] = [*seen[current], nxt]
                if _in_package(nxt, target):
                    chains.append(" -> ".join(seen[nxt]))
                    queue = []
                    break
                queue.append(nxt)
    return chains


def test_the_layer_graph_sees_real_imports():
    # Guards the tests below against walking nothing: a known chain is found.
    assert _chains_into("core.push.run", "core.push.leases") == [
        "core.push.run -> core.push.leases"
    ]
    assert "core.jobs.push_jobs -> core.sync.jobs" in _chains_into(
        "core.jobs.push_jobs", "core.sync"
    )


def test_core_push_never_reaches_core_sync():
    assert _chains_into("core.push", "core.sync") == []


def test_core_sync_never_reaches_core_push():
    assert _chains_into("core.sync", "core.push") == []


def _public(name: str) -> bool:
    return (
        any(name == api or name.startswith(api + ".") for api in PLUGIN_API[1:]) or name == "core"
    )


def _plugin_offenders(*, leave_out: str = "") -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
        for path in sorted((ROOT / "plugins").rglob("*.py"))
        if path.name != leave_out
        for name, node in _imports(ast.parse(path.read_text()))
        if _top(name) == "core" and not _public(name)
    ]


def test_plugins_push_and_describe_through_the_public_api_only():
    # The pull mappers are checked below; everything else of every plugin is checked here.
    assert _plugin_offenders(leave_out="pull.py") == []


def test_plugins_import_only_the_public_api_of_the_core():
    assert _plugin_offenders() == []
