"""The three ways a sync can fail, each with words for a construction admin.

`NeedsAdmin` (a mapping or setting is missing: nothing will change until someone fixes it),
`TryLater` (QBO is busy or unreachable: retried), `Rejected` (QBO refused the record: its Fault in
words). Each carries `message` (what is wrong), `fix` (what to do) and `detail` (for support).
"""

from __future__ import annotations


class CostbridgeError(Exception):
    """Base of every error costbridge reports to a person."""

    def __init__(self, message: str, *, fix: str = "", detail: str = "") -> None:
        """Keep the admin's words apart from the support detail."""
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.detail = detail

    def __str__(self) -> str:
        """Message and fix as one sentence pair, as shown in the sync log."""
        return f"{self.message} {self.fix}".strip()


class NeedsAdmin(CostbridgeError):
    """A setting or mapping is missing; retrying cannot help until an admin acts."""


class TryLater(CostbridgeError):
    """A passing condition (throttled, QBO down, network); the job is retried."""

    def __init__(
        self, message: str, *, fix: str = "", detail: str = "", retry_after: float | None = None
    ) -> None:
        """Remember how long QBO asked us to wait, when it said."""
        super().__init__(message, fix=fix, detail=detail)
        self.retry_after = retry_after


class Rejected(CostbridgeError):
    """QBO refused the record; the admin must change it before it can go again."""


class ConfigError(CostbridgeError):
    """A setting in the environment is missing or malformed; raised at start-up."""
