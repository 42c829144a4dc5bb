"""Building QBO payloads to push: money, references, the marker, items and refusals.

Pure functions over `core.contracts` values, part of the public mapping toolkit (`core.mapping`);
push mappers import them so a mapper stays a few dozen lines.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

from core.contracts import PushLookups
from core.errors import NeedsAdmin

CENT = Decimal("0.01")
#: QBO's limits on the fields markers go in (API.md §11.2, §11.7, §7.1).
PRIVATE_NOTE_MAX = 4000
DESCRIPTION_MAX = 4000
ATTACHABLE_NOTE_MAX = 2000


def money(amount: Decimal) -> Decimal:
    """An amount rounded half-up to cents, as it leaves costbridge."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def ref(value: str) -> dict[str, str]:
    """A QBO reference object."""
    return {"value": str(value)}


def with_marker(text: str | None, marker: str, limit: int) -> str:
    """`text` with the push marker on its own last line, cut so the whole fits `limit`.

    The marker must survive whole: it is how the core finds the record in QBO when it cannot
    tell whether a send went through (RELIABILITY.md §1, "read-before-write reconcile").
    """
    if not marker:
        return (text or "")[:limit]
    body = (text or "").rstrip()
    room = limit - len(marker) - 1
    if not body or room <= 0:
        return marker
    return f"{body[:room]}\n{marker}"


def linked_customer(lookups: PushLookups) -> str:
    """The project's linked QBO customer, or a refusal saying how to link it."""
    if not lookups.customer_id:
        raise NeedsAdmin(
            "This project is not linked to a QuickBooks customer, so nothing can be sent.",
            fix="Open Project details → Financials, choose the QuickBooks customer, "
            "sub-customer or project, and select Connect Project.",
        )
    return lookups.customer_id


def item_for(
    cost_code_id: int | None,
    lookups: PushLookups,
    *,
    default_setting: str,
    default_label: str,
    what: str,
) -> str:
    """The QBO Item of a line's cost code, or of the project's default code when it has none.

    Args:
        cost_code_id: The line's cost code (None: use the default).
        lookups: The push's lookups.
        default_setting: The key of the plugin setting holding the default code.
        default_label: That setting's label, for the admin.
        what: What the line belongs to, in the admin's words (a bill, an invoice).

    Raises:
        NeedsAdmin: No code and no default, or the code is not usable in QBO (and why).
    """
    code = cost_code_id
    if code is None:
        default = lookups.settings.get(default_setting)
        if not isinstance(default, int) or isinstance(default, bool):
            raise NeedsAdmin(
                f"This {what} has a line with no cost code and the project has no "
                f"{default_label.lower()}.",
                fix=f"Open Project settings and choose a {default_label}, or give every line "
                "a cost code.",
            )
        code = default
    item = lookups.items.get(code)
    if item is None:
        name = lookups.cost_code_names.get(code, f"#{code}")
        problem = lookups.cost_code_problems.get(
            code, "not connected to a QuickBooks Product/Service"
        )
        raise NeedsAdmin(
            f"Cost code {name} cannot be used in QuickBooks: {problem}.",
            fix="Open Company settings → Cost codes and connect it (or import cost codes from "
            "QuickBooks), then send it again.",
        )
    return item


def with_remote(body: dict[str, Any], lookups: PushLookups) -> dict[str, Any]:
    """`body` with the record's QBO `Id` and current `SyncToken` when it is an edit."""
    if lookups.remote is not None:
        body["Id"] = lookups.remote.qbo_id
        body["SyncToken"] = lookups.remote.sync_token
    return body
