"""The core names no built-in plugin's setting key, actual type or push kind (issue 19).

Plugins declare what they are (`plugin_info`) and the core registers it: a setting key, an actual
type or a push kind written in a core module would mean the core knows a plugin. Setting keys are
looked for as words in every string and comment of the core (outside migrations, which record
history); actual types and push kinds, being short everyday words, as whole string constants.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from core.plugins import make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
#: A string equal to a declared name that does not name it: (path prefix, text) -> why.
COINCIDENCES = {
    ("core/qbo/bulk.py", "time"): "the `time` field of QBO's CDC response",
    ("core/web/webhooks.py", "time"): "the CloudEvents `time` attribute",
    ("core/cli", "check"): "the `db check` command",
    ("core/cli/time_entries.py", "time"): "the `costbridge time` command group",
    ("core/files.py", "attachment"): "the stem given to a file with no usable name",
}
#: The CLI and the push side, scanned as well (they were rewritten on their own branches).
ELSEWHERE = ("core/cli", "core/push/", "core/jobs/tasks.py")


def _built_ins():
    pm = make_plugin_manager()
    return [
        info
        for name, info in pm.infos.items()
        if type(pm.get_plugin(name)).__name__ == "module"
        and pm.get_plugin(name).__name__.startswith("plugins.")
    ]


def _setting_keys() -> set[str]:
    return {spec.key for info in _built_ins() for spec in info.settings}


def _actual_types() -> set[str]:
    return {spec.name for info in _built_ins() for spec in info.actual_types}


def _push_kinds() -> set[str]:
    infos = _built_ins()
    return {s.kind for info in infos for s in info.push_kinds} | {
        key for info in infos for s in info.push_kinds for key in s.toggles
    }


def _core_files(*, elsewhere: bool) -> list[Path]:
    found = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "migrations" in path.parts:
            continue
        if rel.startswith(ELSEWHERE) == elsewhere:
            found.append(path)
    return found


def _keys_in(paths: list[Path], keys: set[str]) -> list[str]:
    """Where a setting key is written as a word in a string or a comment."""
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, keys))) + r")\b")
    found = []
    for path in paths:
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
        for token in tokens:
            if token.type in (tokenize.STRING, tokenize.COMMENT) or (
                token.type == getattr(tokenize, "FSTRING_MIDDLE", -1)
            ):
                for match in pattern.finditer(token.string):
                    found.append(
                        f"{path.relative_to(ROOT)}:{token.start[0]} names {match.group(1)!r}"
                    )
    return found


def _schema_strings(tree: ast.AST) -> set[int]:
    """ids of the string constants naming the core's own tables (a local record, not a kind)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in node.targets)
            or isinstance(node, ast.keyword)
            and node.arg in ("back_populates", "backref")
        ):
            ids.add(id(node.value))
    return ids


def _names_in(paths: list[Path], names: set[str]) -> list[str]:
    """Where a name is a whole string constant (not a table name or a listed coincidence)."""
    found = []
    for path in paths:
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text())
        schema = _schema_strings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and id(node) not in schema
                and isinstance(node.value, str)
                and node.value in names
                and not any(
                    rel.startswith(prefix) and node.value == text for prefix, text in COINCIDENCES
                )
            ):
                found.append(f"{rel}:{node.lineno} names {node.value!r}")
    return found


def test_the_scans_see_names_where_plugins_write_them():
    # Guards the tests below against scanning nothing.
    plugin_files = sorted((ROOT / "plugins").rglob("*.py"))
    assert any("'vendor_credits'" in hit for hit in _keys_in(plugin_files, _setting_keys()))
    assert any("'vendor_credit'" in hit for hit in _names_in(plugin_files, _actual_types()))
    assert {"bill", "time", "vendor_credit"} <= _actual_types()
    assert {"push_bills", "vendor_credits", "count_journal_entries"} <= _setting_keys()
    assert {"journal_entry", "journal_entry_credit"} <= _actual_types()


def test_the_core_names_no_plugin_setting_key():
    assert _keys_in(_core_files(elsewhere=False), _setting_keys()) == []


def test_the_core_names_no_actual_type():
    assert _names_in(_core_files(elsewhere=False), _actual_types()) == []


def test_the_core_names_no_push_kind_or_toggle():
    kinds = _push_kinds()
    assert kinds, "no built-in plugin declares a push kind"
    assert _names_in(_core_files(elsewhere=False) + _core_files(elsewhere=True), kinds) == []


def test_the_modules_other_branches_rewrite_name_no_setting_key_or_actual_type():
    paths = _core_files(elsewhere=True)
    assert _keys_in(paths, _setting_keys()) + _names_in(paths, _actual_types()) == []
