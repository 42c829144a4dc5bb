"""costbridge core: the one import a plugin needs is `hookimpl`."""

from __future__ import annotations

import pluggy

PROJECT_NAME = "costbridge"

#: Marks a plugin function as the implementation of a costbridge hook.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
#: Marks a function in `core.hookspecs` as a hook specification.
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]
