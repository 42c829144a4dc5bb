"""The contract suite a costbridge plugin runs against itself.

In the plugin's tests: `TestContract = plugin_contract_tests(my_plugin, "my_plugin")`.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from core import hookspecs
from core.contracts import PluginInfo
from core.plugins import make_plugin_manager


def plugin_contract_tests(module: ModuleType, name: str) -> type:
    """A test class checking that `module` is a well-formed costbridge plugin named `name`.

    Use it in a plugin's test suite: `TestContract = plugin_contract_tests(my_plugin, "my_plugin")`.
    """
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

    PluginContract.__name__ = f"Test{name.title().replace('_', '')}Contract"
    return PluginContract
