"""`costbridge plugins`: installed plugins, their QBO entities, every setting and its default."""

from __future__ import annotations

from typing import Any

import click

from core.cli.common import JSON
from core.cli.common import dump

__all__ = ["plugins"]


@click.command()
@JSON
def plugins(as_json: bool) -> None:
    """List installed plugins with every setting and its default (the core's settings first)."""
    from core.core_settings import CORE
    from core.core_settings import CORE_LABEL
    from core.core_settings import CORE_SETTINGS
    from core.plugins import make_plugin_manager

    pm = make_plugin_manager()
    rows: list[dict[str, Any]] = []
    for name, info in sorted(pm.infos.items()):
        rows.append(
            {
                "name": name,
                "label": info.label,
                "owns": list(info.owns),
                "settings": [_setting_row(s) for s in info.settings],
            }
        )
    failures = [{"name": f.name, "error": f.error} for f in pm.load_failures]
    general = {
        "name": CORE,
        "label": CORE_LABEL,
        "owns": [],
        "settings": [_setting_row(s) for s in CORE_SETTINGS],
    }
    if as_json:
        dump({"core": general, "plugins": rows, "failed": failures})
        return
    for row in [general, *rows]:
        if row["name"] == CORE:
            click.echo(f"{CORE}  ({CORE_LABEL}: settings of every project, whatever its plugins)")
        else:
            owns = ", ".join(row["owns"]) or "no QBO entity"
            click.echo(f"{row['name']}  ({row['label']}; owns {owns})")
        for s in row["settings"]:
            default = _default_word(s["default"])
            click.echo(f"    {s['key']:<28} {s['type']:<10} default: {default:<6} {s['label']}")
    for f in failures:
        click.echo(f"!! {f['name']} failed to load: {f['error']}", err=True)


def _default_word(default: object) -> object:
    if default is None:
        return "none"
    if default is True:
        return "on"
    if default is False:
        return "off"
    return default


def _setting_row(spec: Any) -> dict[str, Any]:
    return {
        "key": spec.key,
        "label": spec.label,
        "type": spec.type,
        "default": spec.default,
        "requires": list(spec.requires),
        "help": spec.help,
    }
