"""The plugin manager, and calling only the plugins a project has enabled.

Every plugin, built-in or third-party, is loaded from the `costbridge.plugins` entry-point group.
There is no module-level manager: the web app keeps one in `app.extensions["costbridge"]`, the
worker builds one at start and each test builds its own.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pluggy

from core import PROJECT_NAME
from core import hookspecs
from core.contracts import ActualTypeSpec
from core.contracts import PluginInfo
from core.contracts import SettingSpec
from core.core_settings import CORE
from core.core_settings import CORE_LABEL
from core.core_settings import CORE_SETTINGS
from core.errors import CostbridgeError

ENTRY_POINT_GROUP = "costbridge.plugins"
log = logging.getLogger(__name__)


def log_hook_failure(plugin: str, hook_name: str, exc: BaseException) -> None:
    """Log a plugin hook that raised: an expected refusal in words, a bug with its traceback.

    A `CostbridgeError` (a missing cost code: `NeedsAdmin`) is the plugin telling the admin
    what to fix, shown on the run or the outbox row; it is logged at WARNING without a
    traceback. Anything else is a bug: ERROR with the traceback.
    """
    if isinstance(exc, CostbridgeError):
        log.warning(
            "costbridge plugin %s refused in %s: %s (%s)",
            plugin,
            hook_name,
            exc.message,
            type(exc).__name__,
        )
        return
    log.error("costbridge plugin %s failed in %s", plugin, hook_name, exc_info=exc)


@dataclass(frozen=True)
class LoadFailure:
    """A plugin that could not be loaded or described, and why."""

    name: str
    error: str


@dataclass(frozen=True)
class PluginOutcome:
    """One plugin's answer to a hook call: its result, or the error it raised."""

    plugin: str
    result: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """Whether the plugin answered without raising."""
        return self.error is None


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus what costbridge needs to know about its plugins."""

    def __init__(self) -> None:
        """Create an empty manager with costbridge's hookspecs."""
        super().__init__(PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.load_failures: list[LoadFailure] = []

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register a plugin; what `infos` says is worked out again on next use."""
        self.__dict__.pop("infos", None)
        return super().register(plugin, name)

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        """Unregister a plugin; what `infos` says is worked out again on next use."""
        self.__dict__.pop("infos", None)
        return super().unregister(plugin, name)

    def names(self) -> list[str]:
        """Registered plugin names, sorted (the order `call_each` uses)."""
        return sorted(name for name, plugin in self.list_name_plugin() if plugin is not None)

    @cached_property
    def infos(self) -> dict[str, PluginInfo]:
        """Each plugin's `PluginInfo`, by name; a plugin whose answer is unusable is dropped.

        Two plugins claiming the same QBO entity, or declaring the same actual type, are both
        refused: which one should map and push it is the admin's choice (uninstall or block one),
        never the order of their names. A plugin whose actual types cannot be stored (a bad name,
        no label, a sign other than 1 or -1) is refused with the reason.
        """
        infos: dict[str, PluginInfo] = {}
        seen_keys: dict[str, str] = {s.key: "the core" for s in CORE_SETTINGS}
        for outcome in call_each(self, "plugin_info"):
            info = outcome.result
            problem = None
            if outcome.error is not None:
                problem = f"plugin_info raised {outcome.error!r}"
            elif not isinstance(info, PluginInfo):
                problem = "plugin_info did not return a PluginInfo"
            elif info.name != outcome.plugin:
                problem = f"plugin_info names it {info.name!r}, its entry point {outcome.plugin!r}"
            else:
                clash = [s.key for s in info.settings if s.key in seen_keys]
                if clash:
                    problem = f"setting {clash[0]!r} is already declared by {seen_keys[clash[0]]}"
                else:
                    problem = actual_types_problem(info)
            if problem is not None:
                self._fail(outcome.plugin, problem)
                continue
            assert isinstance(info, PluginInfo)
            seen_keys.update({s.key: info.name for s in info.settings})
            infos[info.name] = info
        self._refuse_shared_actual_types(infos)
        claimants: dict[str, list[str]] = {}
        for name, info in infos.items():
            for entity in info.owns:
                claimants.setdefault(entity, []).append(name)
        for entity, names in sorted(claimants.items()):
            if len(names) < 2:
                continue
            both = " and ".join(sorted(names))
            for name in names:
                if infos.pop(name, None) is not None:
                    self._fail(
                        name,
                        f"{both} both claim the QBO entity {entity}; neither is loaded "
                        "(uninstall or block one of them)",
                    )
        self._refuse_shared_push_kinds(infos)
        return infos

    def _refuse_shared_push_kinds(self, infos: dict[str, PluginInfo]) -> None:
        """Refuse plugins declaring a push kind, or reading a local record, another one does.

        Which plugin sends a kind (or which kind a new local record becomes) must never depend
        on load order: every plugin in such a clash is refused, like an entity claimed twice.
        """
        claims: dict[tuple[str, str], list[str]] = {}
        for name, info in infos.items():
            for spec in info.push_kinds:
                claims.setdefault(("declare the push kind", spec.kind), []).append(name)
                claims.setdefault(("read the local record", spec.record), []).append(name)
        # Kinds first: a plugin copying another's kind is told so, not that both read its record.
        for (what, value), names in sorted(
            claims.items(), key=lambda c: (c[0][0] != "declare the push kind", c[0])
        ):
            if len(names) < 2:
                continue
            who = sorted(set(names))
            reason = (
                f"{who[0]} has two push kinds that {what} {value!r}"
                if len(who) == 1
                else f"{' and '.join(who)} each {what} {value!r}"
            )
            for name in who:
                if infos.pop(name, None) is not None:
                    self._fail(name, f"{reason}; not loaded (uninstall or block one of them)")

    def setting_specs(self) -> dict[str, tuple[str, SettingSpec]]:
        """Every setting by key, with who declares it: a plugin's name, or `CORE`."""
        specs = {s.key: (CORE, s) for s in CORE_SETTINGS}
        specs.update({s.key: (name, s) for name, info in self.infos.items() for s in info.settings})
        return specs

    def settings_applying(self, enabled: Iterable[str]) -> dict[str, tuple[str, SettingSpec]]:
        """The settings of a project with `enabled` plugins: the core's and those plugins'."""
        names = {CORE, *enabled}
        return {k: (owner, s) for k, (owner, s) in self.setting_specs().items() if owner in names}

    def label_of(self, owner: str) -> str:
        """The label to group an owner's settings under (a plugin's label, or the core's)."""
        return CORE_LABEL if owner == CORE else self.infos[owner].label

    def owner_of(self, entity: str) -> str | None:
        """The name of the plugin owning a QBO entity type, if any does."""
        for name, info in self.infos.items():
            if entity in info.owns:
                return name
        return None

    def actual_types(self) -> dict[str, tuple[str, ActualTypeSpec]]:
        """Every registered actual type by name, with the plugin declaring it."""
        return {
            spec.name: (name, spec)
            for name, info in self.infos.items()
            for spec in info.actual_types
        }

    def _refuse_shared_actual_types(self, infos: dict[str, PluginInfo]) -> None:
        """Refuse every plugin declaring an actual type another plugin declares too.

        Which plugin's label and sign a stored actual has must never depend on load order.
        """
        declared: dict[str, list[str]] = {}
        for name, info in infos.items():
            for spec in info.actual_types:
                declared.setdefault(spec.name, []).append(name)
        for type_name, names in sorted(declared.items()):
            if len(names) < 2:
                continue
            both = " and ".join(sorted(names))
            for name in names:
                if infos.pop(name, None) is not None:
                    self._fail(
                        name,
                        f"{both} both declare the actual type {type_name!r}; neither is loaded "
                        "(uninstall or block one of them)",
                    )

    def _fail(self, name: str, error: str) -> None:
        log.error("costbridge plugin %s disabled: %s", name, error)
        self.load_failures.append(LoadFailure(name, error))
        plugin = self.get_plugin(name)
        if plugin is not None:
            self.unregister(plugin)


#: What an actual type's name may be: it is stored on every actual (`actual.actual_type`).
ACTUAL_TYPE_NAME = re.compile(r"[a-z][a-z0-9_]{0,23}")


def actual_types_problem(info: PluginInfo) -> str | None:
    """Why a plugin's declared actual types cannot be registered; None when they can."""
    names = [spec.name for spec in info.actual_types]
    for spec in info.actual_types:
        if not isinstance(spec, ActualTypeSpec):
            return f"actual_types holds {spec!r}, not an ActualTypeSpec"
        if not ACTUAL_TYPE_NAME.fullmatch(spec.name):
            return (
                f"actual type {spec.name!r} is not a name of up to 24 lower-case letters, "
                "digits and _ (starting with a letter)"
            )
        if not spec.label:
            return f"actual type {spec.name!r} has no label"
        if spec.sign not in (1, -1):
            return f"actual type {spec.name!r} has sign {spec.sign!r}; it must be 1 or -1"
        if names.count(spec.name) > 1:
            return f"actual type {spec.name!r} is declared twice"
    return None


def actual_type_labels(pm: PluginManager) -> dict[str, str]:
    """Every registered actual type's label by name (what the console, CLI and reports show)."""
    return {name: spec.label for name, (_plugin, spec) in pm.actual_types().items()}


def actual_type_label(pm: PluginManager, name: str) -> str:
    """The label of one actual type; a type no loaded plugin declares shows its name in words.

    Actuals stay stored after their plugin is uninstalled or blocked, so an unknown name is
    normal and is never an error.
    """
    spec = pm.actual_types().get(name)
    return spec[1].label if spec is not None else name.replace("_", " ").capitalize()


def make_plugin_manager(
    *,
    entry_points: bool = True,
    blocked: Iterable[str] = (),
    extra: Iterable[tuple[str, object]] = (),
) -> PluginManager:
    """Build a fresh plugin manager with every installed plugin loaded.

    Each entry point is loaded on its own: one that fails to import is recorded in
    `load_failures` with its name instead of stopping the rest (pluggy's own loader stops at
    the first error).

    Args:
        entry_points: Load the `costbridge.plugins` entry-point group.
        blocked: Plugin names to switch off without uninstalling them.
        extra: `(name, plugin)` pairs registered after the entry points (tests use this).

    Returns:
        The manager, with hook implementations checked against the specs.
    """
    pm = PluginManager()
    for name in blocked:
        pm.set_blocked(name)
    if entry_points:
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=_ep_key):
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception as exc:  # noqa: BLE001 - any import error must not stop the others
                pm.load_failures.append(LoadFailure(ep.name, f"{type(exc).__name__}: {exc}"))
                log.exception("costbridge plugin %s failed to load", ep.name)
    for name, plugin in extra:
        pm.register(plugin, name=name)
    while True:
        # A misspelt hookimpl disables its plugin (with the reason) instead of the whole app.
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            pm._fail(pm.get_name(exc.plugin) or repr(exc.plugin), str(exc))
            continue
        break
    # Read every plugin_info now, so unusable answers and ownership clashes are refused at load.
    _ = pm.infos
    return pm


def installed_plugin_names() -> list[str]:
    """Names in the `costbridge.plugins` entry-point group, without loading any of them."""
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)})


def _ep_key(ep: importlib.metadata.EntryPoint) -> str:
    return ep.name


class ProjectHooks:
    """The hooks of one project: attribute access calls only its enabled plugins.

    Like pytest's per-directory hook proxy, each attribute is a cached
    `pm.subset_hook_caller` with the disabled plugins removed.
    """

    def __init__(self, pm: PluginManager, enabled: Iterable[str] | None = None) -> None:
        """Wrap `pm`; `enabled=None` means every registered plugin."""
        self.pm = pm
        names = pm.names()
        self.enabled = names if enabled is None else [n for n in names if n in set(enabled)]
        self._removed = [pm.get_plugin(n) for n in names if n not in self.enabled]
        self._callers: dict[str, Any] = {}

    def __getattr__(self, hook_name: str) -> Any:
        """The hook caller for `hook_name` restricted to enabled plugins."""
        if hook_name.startswith("_"):
            raise AttributeError(hook_name)
        caller = self._callers.get(hook_name)
        if caller is None:
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=self._removed)
            self._callers[hook_name] = caller
        return caller


def call_each(
    hooks: ProjectHooks | PluginManager, hook_name: str, **kwargs: Any
) -> list[PluginOutcome]:
    """Call a hook on each plugin one at a time, in name order, keeping every answer.

    A plain hook call stops at the first exception and cannot say which plugin raised; here a
    plugin's exception becomes its outcome's `error` (and is logged with its name) while the
    others still run. Plugins that do not implement the hook give no outcome.

    Args:
        hooks: A project's hooks (only its enabled plugins answer) or a whole manager.
        hook_name: The hook to call.
        **kwargs: The hook's arguments.

    Returns:
        One `PluginOutcome` per answering plugin.
    """
    pm = hooks.pm if isinstance(hooks, ProjectHooks) else hooks
    names = hooks.enabled if isinstance(hooks, ProjectHooks) else pm.names()
    implementers = {
        pm.get_name(impl.plugin) for impl in getattr(pm.hook, hook_name).get_hookimpls()
    }
    outcomes: list[PluginOutcome] = []
    all_plugins = {n: pm.get_plugin(n) for n in pm.names()}
    firstresult = bool(getattr(pm.hook, hook_name).spec.opts.get("firstresult"))
    for name in names:
        if name not in implementers:
            continue
        others = [p for n, p in all_plugins.items() if n != name]
        caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
        try:
            answer = caller(**kwargs)
        except Exception as exc:  # noqa: BLE001 - one plugin's bug must not stop the others
            log_hook_failure(name, hook_name, exc)
            outcomes.append(PluginOutcome(name, error=exc))
            continue
        if not firstresult:
            answer = answer[0] if answer else None
        outcomes.append(PluginOutcome(name, result=answer))
    return outcomes


def call_one(pm: PluginManager, plugin: str, hook_name: str, **kwargs: Any) -> Any:
    """Call a hook on exactly one named plugin and return its answer (exceptions propagate)."""
    others = [p for n, p in pm.list_name_plugin() if n != plugin and p is not None]
    answer = pm.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs)
    firstresult = bool(getattr(pm.hook, hook_name).spec.opts.get("firstresult"))
    if firstresult:
        return answer
    return answer[0] if answer else None


def call_owner(
    hooks: ProjectHooks | PluginManager, entity: str, hook_name: str, **kwargs: Any
) -> PluginOutcome | None:
    """Call a hook on the one plugin owning the QBO `entity`, if it is enabled.

    Args:
        hooks: A project's hooks (the owner must be enabled there) or a whole manager.
        entity: The QBO entity type, e.g. "Bill".
        hook_name: The hook to call.
        **kwargs: The hook's arguments.

    Returns:
        The owner's outcome (its error, when it raised), or None when no enabled plugin owns
        the entity.
    """
    pm = hooks.pm if isinstance(hooks, ProjectHooks) else hooks
    owner = pm.owner_of(entity)
    enabled = hooks.enabled if isinstance(hooks, ProjectHooks) else pm.names()
    if owner is None or owner not in enabled:
        return None
    try:
        return PluginOutcome(owner, result=call_one(pm, owner, hook_name, **kwargs))
    except Exception as exc:  # noqa: BLE001 - reported with the plugin's name, like call_each
        log_hook_failure(owner, hook_name, exc)
        return PluginOutcome(owner, error=exc)


def direct_impl(pm: PluginManager, plugin: str, hook_name: str) -> Any:
    """The named plugin's implementation of a hook as a plain callable taking the hook's keywords.

    For hot loops (the sync engine maps every pulled record through its owner): it skips
    pluggy's per-call dispatch but keeps opt-in arguments (a plugin may accept fewer). None when
    the plugin does not implement the hook.
    """
    impl = next(
        (i for i in getattr(pm.hook, hook_name).get_hookimpls() if pm.get_name(i.plugin) == plugin),
        None,
    )
    if impl is None:
        return None
    function, names = impl.function, tuple(impl.argnames)

    def call(**kwargs: Any) -> Any:
        return function(*(kwargs[n] for n in names))

    return call
