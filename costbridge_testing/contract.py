"""The contract suite a costbridge plugin runs against itself.

In the plugin's tests: `TestContract = plugin_contract_tests(my_plugin, "my_plugin")`.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import importlib.util
import inspect
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from core import hookspecs
from core.contracts import ActualTypeSpec
from core.contracts import CandidateLine
from core.contracts import LocalBill
from core.contracts import LocalBillLine
from core.contracts import LocalFile
from core.contracts import LocalInvoice
from core.contracts import LocalInvoiceLine
from core.contracts import LocalTimeEntry
from core.contracts import Lookups
from core.contracts import PluginInfo
from core.contracts import PushLookups
from core.contracts import QboPayload
from core.contracts import QboRecord
from core.errors import NeedsAdmin
from core.plugins import actual_types_problem
from core.plugins import make_plugin_manager

#: What a plugin may import from the core: the hook marker, the contracts, the errors and the
#: public mapping toolkit. Everything else of the core (models, database, engine, QBO client,
#: push and sync internals) is the core's to change.
PLUGIN_API = ("core.contracts", "core.errors", "core.mapping")
#: Libraries that reach a database, the network or a queue: a mapper is a pure function.
FORBIDDEN_LIBRARIES = (
    "sqlalchemy",
    "psycopg",
    "psycopg2",
    "sqlite3",
    "requests",
    "httpx",
    "urllib3",
    "urllib.request",
    "http.client",
    "aiohttp",
    "authlib",
    "socket",
    "ssl",
    "smtplib",
    "ftplib",
    "redis",
    "rq",
    "subprocess",
)
BARE_RECORD = {"Id": "1", "SyncToken": "0", "TxnDate": "2025-06-30"}


def plugin_contract_tests(
    module: ModuleType, name: str, samples: Mapping[str, Mapping[str, Any]] | None = None
) -> type:
    """A test class checking that `module` is a well-formed costbridge plugin named `name`.

    Use it in a plugin's test suite: `TestContract = plugin_contract_tests(my_plugin, "my_plugin")`.
    A pull plugin (one implementing `actual_lines`) should pass `samples`: one real QBO record
    (the entity's JSON object, money as `Decimal`) per entity it owns, to map.
    """
    given = dict(samples or {})
    spec_names = {
        n
        for n, f in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(f, "costbridge_spec")
    }

    class PluginContract:
        def test_registers_without_unknown_hooks(self) -> None:
            manager = make_plugin_manager(entry_points=False, extra=[(name, module)])
            assert manager.load_failures == []
            assert manager.get_plugin(name) is module

        def test_hookimpls_match_specs(self) -> None:
            impls = {
                n for n, f in inspect.getmembers(module, callable) if hasattr(f, "costbridge_impl")
            }
            assert impls, "the plugin implements no hook"
            assert impls <= spec_names, f"unknown hooks: {sorted(impls - spec_names)}"

        def test_plugin_info_describes_it(self) -> None:
            info = module.plugin_info()
            assert isinstance(info, PluginInfo)
            assert info.name == name
            assert info.label

        def test_settings_have_unique_keys_and_valid_defaults(self) -> None:
            info = module.plugin_info()
            keys = [s.key for s in info.settings]
            assert len(keys) == len(set(keys))
            for spec in info.settings:
                assert spec.label, f"{spec.key} needs a label"
                assert spec.help, f"{spec.key} needs help text"
                assert spec.accepts(spec.default), (
                    f"{spec.key}: default {spec.default!r} is not a {spec.type}"
                )

        def test_stays_out_of_the_database_the_engine_and_the_network(self) -> None:
            offences = [
                f"{path.name}:{line} imports {imported}: {why}"
                for path in _module_files(module)
                for line, imported in _imports_of(path, _package_of(module, path))
                for why in [_forbidden(imported)]
                if why
            ]
            assert offences == [], "\n".join(offences)

        def test_holds_no_forbidden_module_once_imported(self) -> None:
            # Catches what the source does not spell out: importlib with a computed name, a
            # module handed over by another import, a model class kept in a global.
            offences = []
            for loaded in _loaded_modules(module):
                for attr, value in sorted(vars(loaded).items()):
                    origin = _origin_of(value)
                    why = _forbidden(origin) if origin else None
                    if why:
                        offences.append(f"{loaded.__name__}.{attr} is from {origin}: {why}")
            assert offences == [], "\n".join(offences)

        def test_declares_the_actual_types_it_maps(self) -> None:
            info = module.plugin_info()
            assert actual_types_problem(info) is None, actual_types_problem(info)
            if hasattr(module, "actual_lines"):
                assert info.actual_types, (
                    "a pull plugin declares its actual types in PluginInfo.actual_types"
                )

        def test_pull_mapper_takes_a_bare_record(self) -> None:
            if not hasattr(module, "actual_lines"):
                return
            owns = module.plugin_info().owns
            assert owns, "a pull plugin must own the QBO entities it maps"
            for entity in owns:
                lines = module.actual_lines(QboRecord(entity, dict(BARE_RECORD)), Lookups())
                assert all(isinstance(line, CandidateLine) for line in lines)

        def test_pull_mapper_maps_samples_purely(self) -> None:
            if not hasattr(module, "actual_lines"):
                return
            for entity, data in given.items():
                assert entity in module.plugin_info().owns, f"{name} does not own {entity}"
                before = copy.deepcopy(dict(data))
                first = list(module.actual_lines(QboRecord(entity, data), Lookups()))
                assert dict(data) == before, "the mapper changed the record it was given"
                again = list(module.actual_lines(QboRecord(entity, data), Lookups()))
                assert first == again, "mapping the same record twice must give the same lines"
                assert first, f"the {entity} sample gave no line"
                declared = {spec.name: spec for spec in module.plugin_info().actual_types}
                _check_lines(entity, first, declared)

        def test_push_mapper_is_pure_and_carries_the_marker(self) -> None:
            if not hasattr(module, "push_payload"):
                return
            lookups = _push_lookups()
            answered = 0
            for record in _push_records():
                try:
                    first = module.push_payload(record, lookups)
                    again = module.push_payload(record, lookups)
                except NeedsAdmin as refused:  # a refusal must say what is wrong, for the admin
                    messages = [refused.message]
                    assert all(messages), f"{type(record).__name__}: refused without words"
                    continue
                assert first == again, "mapping the same record twice must give the same payload"
                if first is None:
                    continue
                answered += 1
                assert isinstance(first, QboPayload)
                assert first.entity, "a payload names its QBO entity"
                assert lookups.marker in str(first.body.get(first.marker_field, "")), (
                    f"the {first.entity} payload must carry the marker in {first.marker_field}"
                )
            assert answered, "push_payload mapped none of the core's local record kinds"

    PluginContract.__name__ = f"Test{name.title().replace('_', '')}Contract"
    return PluginContract


def _push_records() -> list[Any]:
    """One of each local record kind the core pushes, fully connected."""
    when = dt.date(2026, 3, 2)
    return [
        LocalBill(
            1,
            3,
            "Hillside Lumber",
            "HL-1",
            when,
            None,
            None,
            (LocalBillLine(0, 11, "Studs", Decimal("10.00")),),
        ),
        LocalInvoice(
            2,
            "1042",
            when,
            None,
            None,
            Decimal("0"),
            (LocalInvoiceLine(0, 11, "Framing", Decimal("10.00")),),
        ),
        LocalTimeEntry(
            3,
            2,
            "Dana Ortiz",
            11,
            when,
            Decimal("8"),
            True,
            None,
            dt.datetime(2026, 3, 2, 17, tzinfo=dt.UTC),
        ),
        LocalFile(4, "INV-1.pdf", "application/pdf", 10, "Bill", "146"),
    ]


def _push_lookups() -> PushLookups:
    return PushLookups(
        settings={},
        customer_id="58",
        vendors={3: "56"},
        employees={2: "71"},
        items={11: "19"},
        marker="cb-0123456789abcdef0123456789abcdef0123",
    )


def _module_files(module: ModuleType) -> list[Path]:
    """The plugin's source files: its package folder, or its one module."""
    source = Path(inspect.getfile(module))
    if source.name == "__init__.py":
        return sorted(source.parent.rglob("*.py"))
    return [source]


def _check_lines(
    entity: str, lines: list[CandidateLine], declared: Mapping[str, ActualTypeSpec]
) -> None:
    ids = [line.line_id for line in lines]
    assert len(ids) == len(set(ids)), f"{entity}: line ids must be unique within a record"
    for line in lines:
        spec = declared.get(line.actual_type)
        assert spec is not None, (
            f"{entity}: actual type {line.actual_type!r} is not declared in "
            f"PluginInfo.actual_types ({sorted(declared)})"
        )
        assert line.amount * spec.sign >= 0, (
            f"{entity}: a {line.actual_type} line of {line.amount} has the wrong sign (the type "
            f"declares {spec.sign:+d})"
        )
        assert isinstance(line.amount, Decimal), f"{entity}: amounts are Decimal"
        assert line.amount == line.amount.quantize(Decimal("0.01")), (
            f"{entity}: amounts are rounded to cents once, in the mapper"
        )
        for exclusion in line.exclusions:
            assert exclusion.reason, f"{entity}: every exclusion says why, for the admin"


def _package_of(module: ModuleType, path: Path) -> str:
    """The dotted package a source file of the plugin lives in (for relative imports)."""
    root = Path(inspect.getfile(module))
    if root.name != "__init__.py":
        return module.__name__.rpartition(".")[0]
    folders = path.relative_to(root.parent).parts[:-1]
    return ".".join([module.__name__, *folders])


def _imports_of(path: Path, package: str) -> list[tuple[int, str]]:
    """Every module a source file imports, however spelled, with its line.

    `from a import b` counts as `a.b` too (b may be a module: `from core import models`);
    relative imports are resolved; `importlib.import_module("x")` and `__import__("x")` with a
    written name count as imports of x.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: max(len(package.split(".")) - node.level + 1, 0)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            found.append((node.lineno, source))
            found += [(node.lineno, f"{source}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and node.args:
            called = node.func
            name = (
                called.attr
                if isinstance(called, ast.Attribute)
                else called.id
                if isinstance(called, ast.Name)
                else ""
            )
            first = node.args[0]
            if (
                name in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.append((node.lineno, first.value))
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _forbidden(name: str) -> str | None:
    """Why a plugin may not import `name`; None when it may."""
    if any(_within(name, lib) for lib in FORBIDDEN_LIBRARIES):
        return "a plugin maps records; the core reads and writes the database and talks to QBO"
    if not _within(name, "core") or any(_within(name, api) for api in PLUGIN_API):
        return None
    if name == "core":
        return None
    head, _, attr = name.partition(".")[2].partition(".")
    if not attr and not _is_module(f"core.{head}"):
        return None  # `from core import hookimpl`: a name of the package, not a module
    return (
        "plugins import only core (hookimpl), core.contracts, core.errors and core.mapping; "
        "the rest of the core is its own to change"
    )


def _loaded_modules(module: ModuleType) -> list[ModuleType]:
    """The plugin's own modules, as imported."""
    name = module.__name__
    return [
        loaded
        for key, loaded in sorted(sys.modules.items())
        if loaded is not None and (key == name or key.startswith(name + "."))
    ]


def _origin_of(value: object) -> str | None:
    """The module an object of a plugin's globals comes from (a module's own name for one)."""
    if isinstance(value, ModuleType):
        return value.__name__
    origin = getattr(value, "__module__", None)
    if isinstance(value, type) or callable(value):
        return origin if isinstance(origin, str) else None
    return None
