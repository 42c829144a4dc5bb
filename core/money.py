"""Amounts people type, read once and the same way everywhere (forms, CLI, CSV imports, API).

`parse_amount` is the only way typed money and hours become a `Decimal`: it never rounds,
refuses what is not plainly a number (NaN, infinities, exponents, stray words) with a message a
construction admin understands, and reads the forms estimating tools export: thousands
separators (`12,500.00`), a dollar sign, and negatives as `-50` or in parentheses `(50.00)`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from core.errors import CostbridgeError

__all__ = ["parse_amount"]

#: Digits with optional thousands separators (only in groups of three) and a decimal part.
_NUMBER = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?|\.\d+")
#: The minus signs people paste: ASCII hyphen-minus, Unicode minus, en dash.
_MINUS = ("-", "\u2212", "\u2013")
#: Longest text read as an amount (about a trillion with separators and cents, and then some).
MAX_CHARS = 40
#: Most digits before the decimal point of money (the `Money` columns keep 12).
MAX_DIGITS = 12


def _unit(places: int) -> str:
    if places == 2:
        return "cents"
    return "whole numbers" if places == 0 else f"{places} decimal places"


def parse_amount(
    raw: str,
    what: str,
    *,
    places: int = 2,
    negative: bool = False,
    example: str = "1250.10",
    digits: int = MAX_DIGITS,
) -> Decimal:
    """`raw` as an exact decimal with at most `places` decimals.

    Args:
        raw: What was typed.
        what: How the message names the field ("The amount", "The hours of line 2").
        places: Most decimals allowed (2 for money, 2 for hours, 4 for a markup percent).
        negative: Whether a negative amount is allowed (`-50`, `(50)`, `−50`).
        example: A correct value the message shows.
        digits: Most digits before the decimal point (its column's: money 12, hours 7, a rate
            or percent 8).

    Raises:
        CostbridgeError: Not such a number; the message quotes it and says how to write it.
    """
    text = raw.strip()
    shown = text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + "…"
    fix = f"Write it with digits and a dot, such as {example}."
    if not text or len(text) > MAX_CHARS:
        raise CostbridgeError(f"{what} “{shown}” is not a number.", fix=fix)
    sign = 1
    if text.startswith("(") and text.endswith(")"):
        text, sign = text[1:-1].strip(), -1
    elif text.startswith(_MINUS):
        text, sign = text[1:].strip(), -1
    if text.startswith("$"):
        text = text[1:].strip()
    if not _NUMBER.fullmatch(text):
        raise CostbridgeError(f"{what} “{shown}” is not a number.", fix=fix)
    plain = text.replace(",", "")
    if len(plain.split(".")[0].lstrip("0")) > digits:
        raise CostbridgeError(
            f"{what} “{shown}” is too large.",
            fix=f"Enter at most {digits} digits before the decimal point.",
        )
    value = Decimal(plain)
    # "12.50" is fine where one decimal is allowed: only decimals that matter are refused.
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise CostbridgeError(
            f"{what} “{shown}” has more decimals than {_unit(places)}.",
            fix=f"Write it with at most {places} decimals (such as {example}); costbridge "
            "does not round what you type.",
        )
    if sign < 0 and value != 0:
        if not negative:
            raise CostbridgeError(
                f"{what} “{shown}” is negative.",
                fix=f"Enter a positive amount, such as {example}.",
            )
        value = -value
    return value
