"""How one outbox row's delivery ended, and which errors end it in which state.

Every delivery step returns an `Outcome` or raises; `guarded` turns the errors an admin can act
on into outcomes (QuickBooks not connected: blocked; a missing mapping or setting: needs admin;
QBO refused the record: failed). Anything else escapes, and the run marks the row unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import CostbridgeError
from core.errors import NeedsAdmin
from core.errors import Rejected
from core.models import OutboxState
from core.qbo.errors import AuthenticationFailed
from core.qbo.errors import NotConnected
from core.qbo.errors import QboError
from core.qbo.errors import ReconnectNeeded

#: What means "QuickBooks is not connected": the row waits for a reconnect, not for an admin fix.
CONNECTION_PROBLEMS = (NotConnected, ReconnectNeeded, AuthenticationFailed)


@dataclass
class Outcome:
    """How one row's delivery ended.

    `state` DONE (sent, or found already there), NEEDS_ADMIN (an admin must connect, choose or
    decide), FAILED (QBO refused), CANCELLED (nothing left to send), PENDING (waits for an
    earlier write of the same record), BLOCKED (waits for the company's QBO connection).
    """

    state: OutboxState
    message: str
    fix: str = ""
    detail: str = ""
    code: str | None = None
    qbo_id: str | None = None
    #: The QBO record a refusal points at ("Item:7", `core.push.targets`), when known.
    target: str | None = None

    @classmethod
    def of_error(
        cls, exc: CostbridgeError, state: OutboxState, target: str | None = None
    ) -> Outcome:
        """The outcome an admin-facing error means."""
        code = exc.code if isinstance(exc, QboError) and exc.code else None
        return cls(state, exc.message, exc.fix, exc.detail, code, target=target)


def outcome_of(exc: CostbridgeError) -> Outcome:
    """The outcome of an error an admin can act on; any other error is raised again."""
    if isinstance(exc, CONNECTION_PROBLEMS):
        return Outcome.of_error(exc, OutboxState.BLOCKED)
    if isinstance(exc, NeedsAdmin):
        return Outcome.of_error(exc, OutboxState.NEEDS_ADMIN)
    if isinstance(exc, Rejected):
        return Outcome.of_error(exc, OutboxState.FAILED)
    raise exc


def guarded(step: Callable[[], Outcome | None]) -> Outcome | None:
    """Run one delivery step; an error an admin can act on becomes the row's outcome."""
    try:
        return step()
    except CONNECTION_PROBLEMS as exc:
        return Outcome.of_error(exc, OutboxState.BLOCKED)
    except (NeedsAdmin, Rejected) as exc:
        return outcome_of(exc)
