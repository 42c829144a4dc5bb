"""A throwaway third-party plugin for the ops tests (owns QBO's Vendor; maps nothing).

Loaded into worker subprocesses through an entry point written to a temporary `*.dist-info`
folder, and registered directly for in-process tests.
"""

from __future__ import annotations

from core import hookimpl
from core.contracts import PluginInfo

NAME = "ops_push"


@hookimpl
def plugin_info():
    return PluginInfo(name=NAME, label="Ops test vendors", owns=("Vendor",))
