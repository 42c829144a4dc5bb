"""Where the shared project documents and QBO samples live: `../shared` beside the checkout.

`COSTBRIDGE_SHARED` names the folder outright (a plugin's own checkout, or a CI machine that
keeps it elsewhere). Nothing here checks the folder exists: `require_samples` does, once, so a
test session without it stops in its first seconds with one line instead of skipping tests.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "COSTBRIDGE_SHARED"


def repository_root() -> Path:
    """The costbridge checkout this package was imported from."""
    return Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The shared folder: `$COSTBRIDGE_SHARED`, else `shared` beside the repository root."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    return repository_root().parent / "shared"


def samples_dir() -> Path:
    """The recorded QBO request and response samples (`<shared>/qbo/samples`)."""
    return shared_dir() / "qbo" / "samples"


def missing_samples_message() -> str | None:
    """One line saying why the samples cannot be found, or None when they can."""
    samples = samples_dir()
    if samples.is_dir() and any(samples.glob("*.json")):
        return None
    return (
        f"costbridge tests need the shared QBO samples at {samples}: put the shared folder "
        f"beside the checkout (../shared) or set {ENV_VAR} to it"
    )
