"""Local emulator of the QuickBooks Online v3 REST API and Intuit OAuth2.

Exports are resolved lazily so that component modules (``oauth``, ``throttle``...) can import
``sandbox.config`` and friends without dragging in the whole app (and its import cycle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from sandbox.config import SandboxConfig
    from sandbox.server import SandboxServer
    from sandbox.state import Sandbox

__all__ = ["Sandbox", "SandboxConfig", "SandboxServer"]


def __getattr__(name: str) -> Any:
    if name == "SandboxConfig":
        from sandbox.config import SandboxConfig

        return SandboxConfig
    if name == "Sandbox":
        from sandbox.state import Sandbox

        return Sandbox
    if name == "SandboxServer":
        from sandbox.server import SandboxServer

        return SandboxServer
    raise AttributeError(name)
