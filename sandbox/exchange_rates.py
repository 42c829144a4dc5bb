"""ExchangeRate (issue 23): read, query and update of a multicurrency company's rates.

Intuit keys a rate by its source currency and date, not by an Id:
``GET /exchangerate?sourcecurrencycode=EUR&asofdate=2026-01-05`` reads one, ``POST
/exchangerate`` (no Id) sets one, ``SELECT * FROM ExchangeRate WHERE SourceCurrencyCode =
'EUR'`` lists them. The target is always the home currency. Rates exist only in a company
with multicurrency on, for the currencies it has (``CompanyCurrency``); each currency added
gets the sandbox's fixed rate for it, dated the day it was added (the rate Intuit would
fetch from its provider: our numbers). The row of ``entity_table.TABLE`` lists what a write
needs and what a query may filter on. What is documented and what is our reading:
``docs/sandbox-internals.md`` ("ExchangeRate").
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sandbox import faults
from sandbox import schema
from sandbox.entity_table import TABLE
from sandbox.fields import as_date
from sandbox.fields import require
from sandbox.fields import to_decimal

if TYPE_CHECKING:
    from sandbox.state import Realm

ENTITY = "ExchangeRate"

#: Units of the home currency (USD) for one unit of each currency (the sandbox's numbers).
DEFAULT_RATES: dict[str, Decimal] = {
    "CAD": Decimal("0.7400"),
    "EUR": Decimal("1.0800"),
    "GBP": Decimal("1.2700"),
    "AUD": Decimal("0.6600"),
    "MXN": Decimal("0.0580"),
    "JPY": Decimal("0.0067"),
    "INR": Decimal("0.0120"),
    "CHF": Decimal("1.1300"),
    "NZD": Decimal("0.6100"),
}


def multicurrency_on(realm: Realm) -> bool:
    """Whether the company's Preferences have multicurrency turned on."""
    prefs = realm.get("Preferences", "1") or {}
    return (prefs.get("CurrencyPrefs") or {}).get("MultiCurrencyEnabled") is True


def require_multicurrency(realm: Realm, what: str) -> None:
    """6000 unless multicurrency is on (Intuit: rates and currencies need it)."""
    if not multicurrency_on(realm):
        raise faults.business_validation(
            f"{what} needs multicurrency. Turn it on in the company's Preferences "
            "(CurrencyPrefs.MultiCurrencyEnabled) first.",
            "CurrencyPrefs.MultiCurrencyEnabled",
        )


def home_currency(realm: Realm) -> str:
    """The company's home currency code (USD for the sandbox's companies)."""
    prefs = realm.get("Preferences", "1") or {}
    home = (prefs.get("CurrencyPrefs") or {}).get("HomeCurrency") or {}
    return str(home.get("value") or "USD")


def _key(code: str, as_of: str) -> str:
    return f"{code}-{as_of}"


def _codes(realm: Realm) -> set[str]:
    return {str(c.get("Code")) for c in realm.all("CompanyCurrency") if c.get("Active", True)}


def add_default_rate(realm: Realm, code: str) -> None:
    """Give a currency just added to the company its rate as of today (under the realm lock)."""
    today = str(realm.sb.clock.today())[:10]
    if realm.get(ENTITY, _key(code, today)) is None:
        _store(realm, code, today, DEFAULT_RATES.get(code, Decimal(1)), None)


def _store(
    realm: Realm, code: str, as_of: str, rate: Decimal, existing: dict[str, Any] | None
) -> dict[str, Any]:
    now = realm.sb.clock.now()
    obj: dict[str, Any] = {
        "Id": _key(code, as_of),
        "SourceCurrencyCode": code,
        "TargetCurrencyCode": home_currency(realm),
        "Rate": rate,
        "AsOfDate": as_of,
        "SyncToken": str(int(existing["SyncToken"]) + 1) if existing else "0",
        "MetaData": {"LastUpdatedTime": realm.sb.clock.local_iso(now)},
        "domain": "QBO",
        "sparse": False,
    }
    realm.store[ENTITY][obj["Id"]] = obj
    return obj


def shown(obj: dict[str, Any]) -> dict[str, Any]:
    """A stored rate as Intuit answers it: no Id (a rate is keyed by currency and date)."""
    return {key: value for key, value in obj.items() if key != "Id"}


def _code(realm: Realm, value: Any, element: str) -> str:
    code = str(value or "").strip().upper()
    if not code:
        raise faults.required_field(element)
    if code == home_currency(realm):
        raise faults.business_validation(
            "The home currency has no exchange rate: it is always 1.", element
        )
    if code not in _codes(realm):
        raise faults.object_not_found(
            f"Object Not Found : No exchange rate for {code}: add the currency to the company "
            "first (CompanyCurrency)."
        )
    return code


def read(realm: Realm, source: str | None, as_of: str | None) -> dict[str, Any]:
    """``GET /exchangerate``: the rate in effect on ``asofdate`` (today when absent).

    The rate in effect is the one set on that date or, failing that, the latest before it
    (our reading); a date before any rate is 610.
    """
    require_multicurrency(realm, "An exchange rate")
    code = _code(realm, source, "sourcecurrencycode")
    day = as_date(as_of, "asofdate") if as_of else str(realm.sb.clock.today())[:10]
    with realm.lock:
        rates = [
            r
            for r in realm.all(ENTITY)
            if r["SourceCurrencyCode"] == code and str(r["AsOfDate"]) <= day
        ]
    if not rates:
        raise faults.object_not_found(
            f"Object Not Found : No exchange rate for {code} on or before {day}."
        )
    return shown(max(rates, key=lambda r: str(r["AsOfDate"])))


def update(realm: Realm, body: Any) -> dict[str, Any]:
    """``POST /exchangerate``: set the rate of a currency for a date (today when absent).

    Needs ``SourceCurrencyCode`` and ``Rate`` (2020; a rate above zero, else 6000); the
    ``SyncToken`` of the rate already set for that date, when there is one (5010 stale). The
    target is the home currency: another ``TargetCurrencyCode`` is 6000.
    """
    if not isinstance(body, dict):
        raise faults.invalid_field(ENTITY, "ExchangeRate must be a JSON object")
    body = schema.checked(ENTITY, body)
    rules = TABLE[ENTITY]
    require_multicurrency(realm, "An exchange rate")
    for field in rules.required:
        require(body, field)
    code = _code(realm, body.get("SourceCurrencyCode"), "SourceCurrencyCode")
    target = body.get("TargetCurrencyCode")
    if target not in (None, "") and str(target).upper() != home_currency(realm):
        raise faults.business_validation(
            "An exchange rate is always into the home currency.", "TargetCurrencyCode"
        )
    rate = to_decimal(body["Rate"], "Rate")
    if rate <= 0:
        raise faults.business_validation("Rate must be more than zero.", "Rate")
    as_of = body.get("AsOfDate")
    day = as_date(as_of, "AsOfDate") if as_of not in (None, "") else None
    with realm.lock:
        day = day or str(realm.sb.clock.today())[:10]
        existing = realm.get(ENTITY, _key(code, day))
        if existing is not None:
            token = body.get("SyncToken")
            if token not in (None, "") and str(token).strip() != existing["SyncToken"]:
                raise faults.stale_object()
        return shown(_store(realm, code, day, rate, existing))


def rows(realm: Realm) -> list[dict[str, Any]]:
    """Every stored rate for a query (multicurrency on), by currency then date."""
    require_multicurrency(realm, "An exchange rate")
    return sorted(realm.all(ENTITY), key=lambda r: (r["SourceCurrencyCode"], r["AsOfDate"]))
