"""The contract suite a costbridge plugin runs against itself.

In the plugin's tests: `TestContract = plugin_contract_tests(my_plugin, "my_plugin")`.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import inspect
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from typing import get_args

from core import hookspecs
from core.contracts import ActualTypeName
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
from core.plugins import make_plugin_manager

#: What a plugin's own modules may not import: plugins map, the core persists.
FORBIDDEN_IMPORTS = ("sqlalchemy", "core.models", "core.db", "core.sync.store", "core.sync.engine")
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

        def test_stays_out_of_the_database(self) -> None:
            for path in _module_files(module):
                tree = ast.parse(path.read_text(encoding="utf-8"))
                for node in ast.walk(tree):
                    names = (
                        [a.name for a in node.names]
                        if isinstance(node, ast.Import)
                        else [node.module or ""]
                        if isinstance(node, ast.ImportFrom)
                        else []
                    )
                    for imported in names:
                        assert not imported.startswith(FORBIDDEN_IMPORTS), (
                            f"{path.name} imports {imported}: a plugin maps records, the core "
                            "reads and writes the database"
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
                _check_lines(entity, first)

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


def _check_lines(entity: str, lines: list[CandidateLine]) -> None:
    ids = [line.line_id for line in lines]
    assert len(ids) == len(set(ids)), f"{entity}: line ids must be unique within a record"
    for line in lines:
        assert line.actual_type in get_args(ActualTypeName), line.actual_type
        assert isinstance(line.amount, Decimal), f"{entity}: amounts are Decimal"
        assert line.amount == line.amount.quantize(Decimal("0.01")), (
            f"{entity}: amounts are rounded to cents once, in the mapper"
        )
        for exclusion in line.exclusions:
            assert exclusion.reason, f"{entity}: every exclusion says why, for the admin"
