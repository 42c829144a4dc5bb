"""Records found by what people type: names whatever their case or accents' composition.

The CLI (`--line CODE=AMOUNT`, `budget set`), budget imports and the console all find a cost code
the same way: by its code, or else by its name, as bills take it (`find_cost_code`).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import CostbridgeError
from core.models import CostCode

__all__ = ["find_cost_code", "fold", "pick"]

T = TypeVar("T")


def fold(name: str) -> str:
    """`name` as compared: Unicode-composed, trimmed, case-folded."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def pick(what: str, wanted: str, named: Sequence[tuple[str, T]], listing: str) -> T:
    """The one record called `wanted` among `(name, record)` pairs, or an error naming the closest.

    A name matches exactly, or else ignoring case and Unicode composition; a name several records
    share is refused with the ask to rename one. `listing` is the `costbridge` command that lists
    them (the hint when nothing is close).
    """
    exact = [r for n, r in named if n == wanted]
    found = exact or [r for n, r in named if fold(n) == fold(wanted)]
    if len(found) == 1:
        return found[0]
    if found:
        raise CostbridgeError(
            f"{len(found)} {what}s are called “{wanted}”.",
            fix=f"Rename one of them, then try again (`costbridge {listing}`).",
        )
    names = sorted({n for n, _ in named}, key=str.casefold)
    by_fold = {fold(n): n for n in names}
    close = difflib.get_close_matches(fold(wanted), list(by_fold), n=5, cutoff=0.6)
    close += [f for f in by_fold if fold(wanted) in f and f not in close][: 5 - len(close)]
    hint = (
        "Did you mean: " + ", ".join(f"“{by_fold[c]}”" for c in close) + "?"
        if close
        else f"Run `costbridge {listing}` to see them."
    )
    raise CostbridgeError(f"No {what} is called “{wanted}”.", fix=hint)


def company_cost_codes(session: Session, company_id: int) -> list[CostCode]:
    """The company's cost codes, oldest first."""
    return list(
        session.scalars(
            select(CostCode).where(CostCode.company_id == company_id).order_by(CostCode.id)
        )
    )


def find_cost_code(
    session: Session,
    company_id: int,
    wanted: str,
    *,
    codes: Sequence[CostCode] | None = None,
) -> CostCode:
    """The company's cost code whose code, or else whose name, is `wanted`.

    `codes` are the company's cost codes when the caller already has them (an import of many
    rows reads them once).
    """
    if codes is None:
        codes = company_cost_codes(session, company_id)
    listing = f"cost-codes list --company {company_id}"
    by_code = [(c.code, c) for c in codes]
    named = [(c.name, c) for c in codes]
    if any(fold(n) == fold(wanted) for n, _ in by_code):
        return pick("cost code", wanted, by_code, listing)
    if any(fold(n) == fold(wanted) for n, _ in named):
        return pick("cost code", wanted, named, listing)
    # Neither: the error names the closest codes and names alike.
    return pick("cost code", wanted, by_code + named, listing)
