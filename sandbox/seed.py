"""Seed companies: the empty one the sandbox starts with and the demo construction company.

The demo is deterministic: ``random.Random(seed)`` drives every choice, and every timestamp
is an offset from the sandbox clock's current minute, so one seed number and one clock reading
always give the same realm (Ids, amounts, MetaData and all). Records go in through
``Realm.insert`` (no validation, no webhooks), in the order they were entered in QBO, so Ids grow
with CreateTime as they do in a real company.
"""

from __future__ import annotations

import math
import random
import unicodedata
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sandbox import seed_data as data
from sandbox.entities import CLASSIFICATION

if TYPE_CHECKING:
    from sandbox.state import Realm
    from sandbox.state import Sandbox

DEMO_REALM_ID = "9130356542187704"
"""Realm id of the demo company (16 digits, like Intuit's sandbox companies)."""

BANK_FEED_SOURCE = "BankFeed"
"""``TxnSource`` of purchases entered from a bank feed.

The Accounting API has no documented bank-feed marker; the XSD's ``Transaction.TxnSource``
("originating source of the transaction", a free string) is the only field meant for it.
"""

HISTORY_DAYS = 548
"""How far back the demo's transactions go: 18 months before the clock's now."""

# Records per kind at size=1.0; everything scales linearly with ``size``.
BASE_VOLUMES: dict[str, int] = {
    "Bill": 1450,
    "Check": 350,
    "Cash": 280,
    "CreditCard": 800,
    "CreditCardCredit": 70,
    "VendorCredit": 80,
    "Invoice": 260,
    "TimeActivity": 1250,
}

_USD = ("USD", "United States Dollar")
_TAX_NON = "NON"


@dataclass
class SeedCounts:
    """What a demo seed produced (for the benchmark and the tests)."""

    entities: dict[str, int] = field(default_factory=dict)
    transactions: int = 0
    lines: int = 0
    deleted: int = 0
    voided: int = 0
    attachments: int = 0


@dataclass
class _Job:
    """A customer (or sub-customer / project) that costs are charged to."""

    ref: dict[str, str]
    class_key: str
    start: int
    end: int
    weight: float
    terms: str


@dataclass
class _Vendor:
    ref: dict[str, str]
    trade: str
    terms: str
    until: int
    is_1099: bool


@dataclass(order=True)
class _Txn:
    """A transaction waiting to be inserted; sorted by entry time."""

    created: datetime
    seq: int
    entity: str = field(compare=False)
    obj: dict[str, Any] = field(compare=False)
    paid_by: _Txn | None = field(default=None, compare=False)
    pays: _Txn | None = field(default=None, compare=False)
    updated: datetime | None = field(default=None, compare=False)
    fate: str = field(default="", compare=False)
    fate_at: datetime | None = field(default=None, compare=False)
    attach: str = field(default="", compare=False)


def _ref(value: str, name: str) -> dict[str, str]:
    return {"value": value, "name": name}


def _usd() -> dict[str, str]:
    return {"value": _USD[0], "name": _USD[1]}


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())[:24] or "vendor"


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` overlaid with ``extra``, nested dicts merged (neither is mutated)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _restamp(
    realm: Realm, entity: str, id_: str, updated: datetime, created: datetime | None = None
) -> None:
    """Backdate a stored object's (or deleted stub's) MetaData and change-log time.

    ``Realm.insert`` stamps CreateTime = LastUpdatedTime, and delete/void stamp the clock's now;
    a history needs later updates and past deletions. Stored dicts are replaced, never mutated.
    """
    iso = realm.sb.clock.local_iso
    with realm.lock:
        stored = realm.store[entity].get(id_)
        if stored is not None:
            meta = {
                "CreateTime": iso(created) if created else stored["MetaData"]["CreateTime"],
                "LastUpdatedTime": iso(updated),
            }
            realm.store[entity][id_] = {**stored, "MetaData": meta}
        else:
            stub = realm.deleted[entity][id_]
            realm.deleted[entity][id_] = {**stub, "MetaData": {"LastUpdatedTime": iso(updated)}}
        realm.changed_at[entity][id_] = updated


def seed_empty(sb: Sandbox, realm_id: str | None = None) -> Realm:
    """Create a company with CompanyInfo, Preferences and a minimal chart of accounts.

    Args:
        sb: The sandbox to add the realm to.
        realm_id: Digits; the sandbox picks a random id when None.

    Returns:
        The new realm.
    """
    realm = sb.add_realm(realm_id, data.COMPANY_NAME)
    _Seeder(sb, realm, random.Random(0), 1.0).accounts(data.BASE_ACCOUNTS)
    return realm


def seed_demo(
    sb: Sandbox, realm_id: str = DEMO_REALM_ID, seed: int = 7, size: float = 1.0
) -> Realm:
    """Create (or replace) the demo construction company.

    Args:
        sb: The sandbox to add the realm to.
        realm_id: Realm id of the company.
        seed: Random seed; the same seed and clock give an identical company.
        size: Scales the transaction count linearly (1.0 is about 10,000 lines).

    Returns:
        The seeded realm.
    """
    return seed_demo_counted(sb, realm_id, seed, size)[0]


def seed_demo_counted(
    sb: Sandbox, realm_id: str = DEMO_REALM_ID, seed: int = 7, size: float = 1.0
) -> tuple[Realm, SeedCounts]:
    """Same as ``seed_demo``, also returning what was produced."""
    if size <= 0:
        raise ValueError("size must be positive")
    realm = sb.add_realm(realm_id, data.COMPANY_NAME)
    seeder = _Seeder(sb, realm, random.Random(seed), size)
    realm.seeding = True  # type: ignore[attr-defined]  # attach_file's seed path (state.py)
    try:
        seeder.run()
    finally:
        realm.seeding = False  # type: ignore[attr-defined]
    return realm, seeder.counts


class _Seeder:
    """Builds one company; holds the Ids of everything inserted so far."""

    def __init__(self, sb: Sandbox, realm: Realm, rng: random.Random, size: float) -> None:
        self.sb = sb
        self.realm = realm
        self.rng = rng
        self.size = size
        self.tz = sb.clock.company_tz
        self.now = sb.clock.now().astimezone(UTC).replace(second=0, microsecond=0)
        self.today = self.now.astimezone(self.tz).date().toordinal()
        self.first = self.today - HISTORY_DAYS
        self.counts = SeedCounts()
        self.accts: dict[str, dict[str, Any]] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.terms: dict[str, dict[str, Any]] = {}
        self.classes: dict[str, dict[str, Any]] = {}
        self.vendors: list[_Vendor] = []
        self.by_trade: dict[str, list[_Vendor]] = {}
        self.employees: list[tuple[dict[str, Any], data.EmployeeRow]] = []
        self.jobs: list[_Job] = []
        self.job_weights: list[float] = []
        self._addr = 100
        self._seq = 0
        self._iso: dict[int, str] = {}

    # -- time helpers ------------------------------------------------------------------------

    def at(self, day: int, hour: int, minute: int) -> datetime:
        """Aware UTC datetime of a local wall-clock time on ordinal ``day``."""
        d = date.fromordinal(day)
        local = datetime(d.year, d.month, d.day, hour, minute, tzinfo=self.tz)
        return min(local.astimezone(UTC), self.now - timedelta(minutes=1))

    def iso(self, day: int) -> str:
        found = self._iso.get(day)
        if found is None:
            found = self._iso[day] = date.fromordinal(day).isoformat()
        return found

    def entered(self, day: int, lag_days: int) -> datetime:
        """When a transaction dated ``day`` was keyed in: business hours, ``lag_days`` later."""
        rng = self.rng
        return self.at(min(day + lag_days, self.today), rng.randint(7, 17), rng.randint(0, 59))

    def workday(self, lo: int, hi: int) -> int:
        day = self.rng.randint(lo, hi)
        if date.fromordinal(day).weekday() >= 5 and self.rng.random() < 0.8:
            day = self.rng.randint(lo, hi)
        return day

    def insert(self, entity: str, obj: dict[str, Any], created: datetime) -> dict[str, Any]:
        self.counts.entities[entity] = self.counts.entities.get(entity, 0) + 1
        return self.realm.insert(entity, obj, created=created)

    def address(self, street: str, city: str) -> dict[str, str]:
        self._addr += 1
        return {
            "Id": str(self._addr),
            "Line1": street,
            "City": city,
            "CountrySubDivisionCode": data.COMPANY_STATE,
            "PostalCode": str(94000 + (self._addr * 37) % 999),
        }

    # -- name lists --------------------------------------------------------------------------

    def run(self) -> None:
        """Seed the whole demo company."""
        self.company()
        self.accounts(data.DEMO_ACCOUNTS)
        self.name_lists()
        txns = self.transactions()
        self.insert_all(txns)

    def company(self) -> None:
        start = self.at(self.first - 120, 8, 0)
        addr = {
            "Id": "1",
            "Line1": data.COMPANY_STREET,
            "City": data.COMPANY_CITY,
            "Country": "US",
            "CountrySubDivisionCode": data.COMPANY_STATE,
            "PostalCode": data.COMPANY_ZIP,
        }
        base = self.realm.get("CompanyInfo", "1") or {}
        info = _merged(
            base,
            {
                "Id": "1",
                "CompanyName": data.COMPANY_NAME,
                "LegalName": data.COMPANY_NAME,
                "CompanyAddr": dict(addr),
                "CustomerCommunicationAddr": dict(addr),
                "LegalAddr": dict(addr),
                "CompanyStartDate": self.iso(self.first - 120),
                "FiscalYearStartMonth": "January",
                "Country": "US",
                "Email": {"Address": "office@ridgeline.example"},
                "PrimaryPhone": {"FreeFormNumber": "(650) 555-0100"},
                "WebAddr": {"URI": "https://ridgeline.example"},
                "SupportedLanguages": "en",
                "DefaultTimeZone": str(self.tz),
                "NameValue": [
                    {"Name": "NeoEnabled", "Value": "true"},
                    {"Name": "IndustryType", "Value": "Construction Trades"},
                    {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
                    {"Name": "PayrollFeature", "Value": "false"},
                    {"Name": "AccountantFeature", "Value": "false"},
                    {"Name": "QBOIndustryType", "Value": "Construction"},
                    {"Name": "ItemCategoriesFeature", "Value": "true"},
                    {"Name": "AssignedTime", "Value": self.sb.clock.local_iso(start)},
                ],
            },
        )
        info.pop("MetaData", None)
        self.insert("CompanyInfo", info, start)

    def preferences(self) -> None:
        base = self.realm.get("Preferences", "1") or {}
        net30 = {"value": self.terms["Net 30"]["Id"]}
        prefs = _merged(
            base,
            {
                "Id": "1",
                "AccountingInfoPrefs": {
                    "TrackDepartments": False,
                    "DepartmentTerminology": "Location",
                    "ClassTrackingPerTxn": False,
                    "ClassTrackingPerTxnLine": True,
                    "CustomerTerminology": "Customers",
                    "UseAccountNumbers": True,
                    "BookCloseDate": self.iso(self.first - 1),
                },
                "ProductAndServicesPrefs": {
                    "ForSales": True,
                    "ForPurchase": True,
                    "QuantityWithPriceAndRate": True,
                    "QuantityOnHand": False,
                },
                "SalesFormsPrefs": {"CustomTxnNumbers": False, "DefaultTerms": dict(net30)},
                "VendorAndPurchasesPrefs": {
                    "TrackingByCustomer": True,
                    "BillableExpenseTracking": True,
                    "DefaultTerms": dict(net30),
                    "DefaultMarkup": 0,
                },
                "TimeTrackingPrefs": {
                    "UseServices": True,
                    "BillCustomers": True,
                    "ShowBillRateToAll": False,
                    "WorkWeekStartDate": "Monday",
                    "MarkTimeEntriesBillable": True,
                },
                "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
            },
        )
        prefs.pop("MetaData", None)
        self.insert("Preferences", prefs, self.at(self.first - 110, 9, 30))

    def accounts(self, rows: tuple[data.AccountRow, ...]) -> None:
        """Insert a chart of accounts (parents listed before their sub-accounts)."""
        created = self.at(self.first - 118, 8, 5)
        for row in rows:
            obj: dict[str, Any] = {
                "Name": row.name,
                "SubAccount": row.parent is not None,
                "FullyQualifiedName": row.name,
                "Active": True,
                "Classification": CLASSIFICATION[row.account_type],
                "AccountType": row.account_type,
                "AccountSubType": row.sub_type,
                "AcctNum": row.number,
                "CurrentBalance": Decimal(0),
                "CurrentBalanceWithSubAccounts": Decimal(0),
                "CurrencyRef": _usd(),
            }
            if row.parent is not None:
                parent = self.accts[row.parent]
                obj["ParentRef"] = {"value": parent["Id"]}
                obj["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{row.name}"
            self.accts[row.key] = self.insert("Account", obj, created)
            created += timedelta(seconds=17)

    def acct_ref(self, key: str) -> dict[str, str]:
        acct = self.accts[key]
        return _ref(acct["Id"], acct["FullyQualifiedName"])

    def name_lists(self) -> None:
        day = self.first - 100
        for index, (name, due, disc_days, disc_pct) in enumerate(data.TERMS):
            self.terms[name] = self.insert(
                "Term",
                {
                    "Name": name,
                    "Active": True,
                    "Type": "STANDARD",
                    "DiscountPercent": disc_pct,
                    "DueDays": due,
                    "DiscountDays": disc_days,
                },
                self.at(day, 8, index),
            )
        self.preferences()
        for index, name in enumerate(data.CLASSES):
            self.classes[name] = self.insert(
                "Class",
                {"Name": name, "SubClass": False, "FullyQualifiedName": name, "Active": True},
                self.at(day, 9, index),
            )
        self.cost_codes(day + 2)
        for index, row in enumerate(data.VENDORS):
            self.vendor(index, row, self.workday(self.first - 90, self.first - 5))
        for index, emp in enumerate(data.EMPLOYEES):
            self.employee(index, emp, self.workday(self.first - 80, self.first - 5))
        for row in data.CUSTOMERS:
            self.customer(row)
        self.job_weights = [job.weight for job in self.jobs]

    def cost_codes(self, day: int) -> None:
        created = self.at(day, 10, 0)
        for code in data.COST_CODES:
            name = f"{code.code} {code.name}"
            obj: dict[str, Any] = {
                "Name": name,
                "Description": code.name,
                "Active": code.active,
                "FullyQualifiedName": name,
                "Taxable": False,
                "UnitPrice": Decimal(code.unit_price),
                "Type": "Service",
                "PurchaseCost": Decimal(code.purchase_cost),
                "TrackQtyOnHand": False,
            }
            if code.income:
                obj["IncomeAccountRef"] = self.acct_ref(code.income)
            if code.expense:
                obj["ExpenseAccountRef"] = self.acct_ref(code.expense)
                obj["PurchaseDesc"] = code.name
            if code.parent:
                parent = self.items[code.parent]
                obj["SubItem"] = True
                obj["ParentRef"] = _ref(parent["Id"], parent["FullyQualifiedName"])
                obj["Level"] = 1
                obj["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{name}"
            self.items[code.code] = self.insert("Item", obj, created)
            created += timedelta(seconds=41)

    def item_ref(self, code: str) -> dict[str, str]:
        item = self.items[code]
        return _ref(item["Id"], item["FullyQualifiedName"])

    def vendor(self, index: int, row: data.VendorRow, day: int) -> None:
        rng = self.rng
        terms = rng.choice(
            ("Net 30", "Net 30", "Net 30", "Net 15", "Net 10", "Due on receipt", "1% 10 Net 30")
        )
        slug = _slug(row.name)
        obj: dict[str, Any] = {
            "Balance": Decimal(0),
            "Vendor1099": row.is_1099,
            "CurrencyRef": _usd(),
            "CompanyName": row.name,
            "DisplayName": row.name,
            "PrintOnCheckName": row.name,
            "Active": True,
            "TermRef": {"value": self.terms[terms]["Id"]},
            "AcctNum": f"RB-{1000 + index * 7}",
            "PrimaryEmailAddr": {"Address": f"ar@{slug}.example"},
            "PrimaryPhone": {"FreeFormNumber": f"(650) 555-{1000 + index * 13:04d}"},
            "BillAddr": self.address(f"{100 + index * 11} Industrial Way", row.city),
        }
        if row.trade in data.VENDOR_TIME_CODES:
            obj["CostRate"] = _money(rng.randint(55, 95) * 100)
            obj["BillRate"] = _money(rng.randint(100, 160) * 100)
        until = self.today
        # One supplier the company stopped using: inactive, referenced only by old records.
        if row.name == "Shell Oil - Fleet":
            obj["Active"] = False
            until = self.today - 200
        stored = self.insert("Vendor", obj, self.at(day, 9, index % 60))
        vendor = _Vendor(_ref(stored["Id"], row.name), row.trade, terms, until, row.is_1099)
        self.vendors.append(vendor)
        self.by_trade.setdefault(row.trade, []).append(vendor)

    def employee(self, index: int, row: data.EmployeeRow, day: int) -> None:
        name = f"{row.given} {row.family}"
        hired = day - self.rng.randint(30, 2000)
        obj: dict[str, Any] = {
            "BillableTime": row.billable,
            "BillRate": Decimal(row.bill_rate),
            "CostRate": Decimal(row.cost_rate),
            "HiredDate": self.iso(hired),
            "GivenName": row.given,
            "FamilyName": row.family,
            "DisplayName": name,
            "PrintOnCheckName": name,
            "Active": True,
            "EmployeeNumber": f"E-{index + 1:03d}",
            "PrimaryPhone": {"FreeFormNumber": f"(650) 555-{2000 + index * 17:04d}"},
            "PrimaryEmailAddr": {
                "Address": f"{_slug(row.given)}.{_slug(row.family)}@ridgeline.example"
            },
            "PrimaryAddr": self.address(f"{10 + index * 7} Cedar Ave", data.COMPANY_CITY),
        }
        stored = self.insert("Employee", obj, self.at(day, 8, index))
        self.employees.append((stored, row))

    def customer(self, row: data.CustomerRow) -> None:
        rng = self.rng
        public = "District" in row.display or "Public Works" in row.display
        class_key = (
            "Public Works" if public else "Residential" if row.company is None else "Commercial"
        )
        if not row.jobs:
            class_key = "Service & Repair"
        first_start = self.rng.randint(self.first, self.today - 60)
        terms = rng.choice(("Net 30", "Net 30", "Net 15"))
        addr = self.address(row.street, row.city)
        email = f"{_slug(row.family)}@{_slug(row.company or row.display)}.example"
        parent_obj: dict[str, Any] = {
            "Taxable": False,
            "Job": False,
            "BillWithParent": False,
            "Balance": Decimal(0),
            "BalanceWithJobs": Decimal(0),
            "CurrencyRef": _usd(),
            "PreferredDeliveryMethod": "Email",
            "IsProject": False,
            "GivenName": row.given,
            "FamilyName": row.family,
            "FullyQualifiedName": row.display,
            "DisplayName": row.display,
            "PrintOnCheckName": row.company or row.display,
            "Active": True,
            "PrimaryEmailAddr": {"Address": email},
            "BillAddr": addr,
            "SalesTermRef": {"value": self.terms[terms]["Id"]},
        }
        if row.company:
            parent_obj["CompanyName"] = row.company
        parent = self.insert(
            "Customer",
            parent_obj,
            self.at(
                max(first_start - 10, self.first - 60) if row.jobs else self.first - 60, 10, 15
            ),
        )
        if not row.jobs:
            # Walk-in service work: small costs straight against the top-level customer.
            self.jobs.append(
                _Job(
                    _ref(parent["Id"], row.display),
                    class_key,
                    self.first,
                    self.today - 1,
                    0.6,
                    terms,
                )
            )
            return
        start = first_start
        for name, is_project in row.jobs:
            length = rng.randint(60, 420)
            end = min(start + length, self.today - 1)
            start = min(start, end - 20)
            fqn = f"{row.display}:{name}"
            obj: dict[str, Any] = {
                "Taxable": False,
                "Job": True,
                "BillWithParent": not is_project,
                "ParentRef": {"value": parent["Id"]},
                "Level": 1,
                "Balance": Decimal(0),
                "BalanceWithJobs": Decimal(0),
                "CurrencyRef": _usd(),
                "PreferredDeliveryMethod": "Print" if is_project else "Email",
                "IsProject": is_project,
                "FullyQualifiedName": fqn,
                "DisplayName": name,
                "PrintOnCheckName": row.company or row.display,
                "Active": True,
                "BillAddr": dict(addr),
                "SalesTermRef": {"value": self.terms[terms]["Id"]},
            }
            stored = self.insert("Customer", obj, self.at(max(start - 3, self.first - 40), 11, 0))
            weight = (length / 100.0) * (2.0 if class_key == "Commercial" else 1.0)
            self.jobs.append(_Job(_ref(stored["Id"], fqn), class_key, start, end, weight, terms))
            start = min(start + rng.randint(20, 200), self.today - 45)

    # -- transactions ------------------------------------------------------------------------

    def count(self, kind: str) -> int:
        return max(1, round(BASE_VOLUMES[kind] * self.size))

    def pick_job(self) -> _Job:
        return self.rng.choices(self.jobs, self.job_weights)[0]

    def pick_vendor(self, trade: str, day: int) -> _Vendor:
        choices = [v for v in self.by_trade[trade] if v.until >= day]
        return self.rng.choice(choices or self.by_trade[trade])

    def amount_cents(self, trade: str) -> int:
        lo, hi = data.AMOUNTS[trade]
        return int(math.exp(self.rng.uniform(math.log(lo), math.log(hi))) * 100)

    def billable(self, day: int) -> str:
        r = self.rng.random()
        if self.today - day > 60 and r < 0.3:
            return "HasBeenBilled"
        return "Billable" if r < 0.72 else "NotBillable"

    def expense_line(
        self, trade: str, job: _Job | None, day: int, item_share: float
    ) -> dict[str, Any]:
        """One Bill/Purchase/VendorCredit line; account-based lines are the "Uncoded" ones."""
        rng = self.rng
        codes, fallback, notes = data.TRADES[trade]
        target = self.amount_cents(trade)
        detail: dict[str, Any] = {}
        if job is not None:
            detail["CustomerRef"] = dict(job.ref)
            if rng.random() < 0.7:
                cls = self.classes[job.class_key]
                detail["ClassRef"] = _ref(cls["Id"], cls["Name"])
        detail["BillableStatus"] = self.billable(day) if job is not None else "NotBillable"
        code = rng.choice(codes) if codes else None
        item = self.items[code] if code else None
        # Items made inactive show up only on old records, as in a real company file.
        if item is not None and not item["Active"] and self.today - day < 270:
            item = None
        if item is not None and rng.random() < item_share:
            unit = max(1, int(float(item["PurchaseCost"]) * 100 * rng.uniform(0.85, 1.25)))
            qty = max(1, round(target / unit))
            detail["ItemRef"] = _ref(item["Id"], item["FullyQualifiedName"])
            detail["UnitPrice"] = _money(unit)
            detail["Qty"] = qty
            detail["TaxCodeRef"] = {"value": _TAX_NON}
            amount = _money(unit * qty)
            kind = "ItemBasedExpenseLineDetail"
        else:
            key = fallback
            if item is not None and "ExpenseAccountRef" in item and rng.random() < 0.5:
                acct_id = item["ExpenseAccountRef"]["value"]
                key = next(k for k, a in self.accts.items() if a["Id"] == acct_id)
            detail["AccountRef"] = self.acct_ref(key)
            detail["TaxCodeRef"] = {"value": _TAX_NON}
            amount = _money(target)
            kind = "AccountBasedExpenseLineDetail"
        return {
            "Description": rng.choice(notes),
            "Amount": amount,
            "DetailType": kind,
            kind: detail,
        }

    def new_txn(self, created: datetime, entity: str, obj: dict[str, Any]) -> _Txn:
        self._seq += 1
        return _Txn(created, self._seq, entity, obj)

    def transactions(self) -> list[_Txn]:
        """Generate every transaction (not yet inserted), sorted by entry time."""
        txns: list[_Txn] = []
        for kind in ("Bill", "VendorCredit", "Check", "Cash", "CreditCard", "CreditCardCredit"):
            for _ in range(self.count(kind)):
                txns.append(self.purchase_like(kind))
        for _ in range(self.count("TimeActivity")):
            txns.append(self.time_activity())
        for _ in range(self.count("Invoice")):
            txns.extend(self.invoice())
        txns.sort()
        return txns

    def purchase_like(self, kind: str) -> _Txn:
        rng = self.rng
        trade = rng.choice(data.PURCHASE_TRADES[kind])
        overhead = trade in data.OVERHEAD_TRADES and rng.random() < 0.6
        job = None if overhead else self.pick_job()
        lo, hi = (job.start, job.end) if job else (self.first, self.today - 1)
        day = self.workday(lo, hi)
        vendor = self.pick_vendor(trade, day)
        n_lines = rng.randint(1, data.MAX_LINES[kind])
        if kind == "Bill" and n_lines > 2:
            n_lines = rng.randint(2, data.MAX_LINES[kind])
        lines = []
        for _ in range(n_lines):
            line_job = job
            if job is not None and rng.random() < 0.08:
                other = self.pick_job()  # one bill split across two jobs running that day
                line_job = other if other.start <= day <= other.end else job
            lines.append(self.expense_line(trade, line_job, day, 0.65))
        obj: dict[str, Any] = {"TxnDate": self.iso(day), "CurrencyRef": _usd(), "Line": lines}
        txn_entity = "Purchase"
        lag = 0
        if kind in ("Bill", "VendorCredit"):
            txn_entity = kind
            obj["VendorRef"] = dict(vendor.ref)
            obj["APAccountRef"] = self.acct_ref("ap")
            lag = rng.randint(0, 6)
            if kind == "Bill":
                term = self.terms[vendor.terms]
                obj["SalesTermRef"] = _ref(term["Id"], term["Name"])
                obj["DueDate"] = self.iso(day + int(term["DueDays"]))
                obj["DocNumber"] = f"{vendor.ref['name'][:2].upper()}-{rng.randint(10000, 99999)}"
            else:
                obj["DocNumber"] = f"CM-{rng.randint(1000, 9999)}"
                obj["PrivateNote"] = rng.choice(
                    (
                        "Credit for returned material",
                        "Damaged on delivery",
                        "Pricing adjustment",
                        "Overbilled quantity",
                    )
                )
        else:
            obj["EntityRef"] = {**vendor.ref, "type": "Vendor"}
            if kind == "Check":
                obj["PaymentType"] = "Check"
                obj["AccountRef"] = self.acct_ref("checking")
                obj["PrintStatus"] = "NotSet"
            elif kind == "Cash":
                obj["PaymentType"] = "Cash"
                obj["AccountRef"] = self.acct_ref("checking")
                if rng.random() < 0.45:
                    obj["TxnSource"] = BANK_FEED_SOURCE
                    obj["PrivateNote"] = f"POS DEBIT {vendor.ref['name'][:18].upper()}"
                    lag = rng.randint(1, 4)
            else:
                obj["PaymentType"] = "CreditCard"
                card = "amex" if trade == "fuel" or rng.random() < 0.25 else "visa"
                obj["AccountRef"] = self.acct_ref(card)
                obj["Credit"] = kind == "CreditCardCredit"
                if obj["Credit"]:
                    obj["PrivateNote"] = "Returned unused material"
                    lines[0]["Description"] = f"Return - {lines[0]['Description'].lower()}"
                else:
                    obj["PrivateNote"] = f"Receipt #{rng.randint(1000, 9999)}"
                lag = rng.randint(0, 3)
        txn = self.new_txn(self.entered(day, lag), txn_entity, obj)
        if kind == "Bill" and rng.random() < 0.09:
            txn.attach = rng.choice(("pdf", "pdf", "pdf", "png", "txt"))
        elif kind == "CreditCard" and rng.random() < 0.05:
            txn.attach = "png"
        elif rng.random() < 0.015:
            txn.fate = "delete"  # never one with a file: its Attachable would dangle
        return txn

    def time_activity(self) -> _Txn:
        rng = self.rng
        job = self.pick_job()
        day = self.workday(job.start, job.end)
        obj: dict[str, Any] = {"TxnDate": self.iso(day)}
        if rng.random() < 0.85:
            emp, row = rng.choice(self.employees)
            obj["NameOf"] = "Employee"
            obj["EmployeeRef"] = _ref(emp["Id"], emp["DisplayName"])
            code = rng.choice(data.ROLE_CODES[row.role])
            cost, bill, billable = emp["CostRate"], emp["BillRate"], row.billable
        else:
            vendor = rng.choice([v for v in self.vendors if v.trade in data.VENDOR_TIME_CODES])
            obj["NameOf"] = "Vendor"
            obj["VendorRef"] = dict(vendor.ref)
            code = data.VENDOR_TIME_CODES[vendor.trade]
            cost, bill, billable = _money(rng.randint(55, 95) * 100), _money(12500), True
        overhead = not billable and rng.random() < 0.5
        if not overhead:
            obj["CustomerRef"] = dict(job.ref)
            cls = self.classes[job.class_key]
            obj["ClassRef"] = _ref(cls["Id"], cls["Name"])
        obj["ItemRef"] = self.item_ref(code)
        status = self.billable(day) if billable and not overhead else "NotBillable"
        obj["BillableStatus"] = status
        obj["Taxable"] = False
        if status != "NotBillable":
            obj["HourlyRate"] = bill
        obj["CostRate"] = cost
        obj["Hours"] = rng.choice((2, 4, 6, 7, 8, 8, 8, 8, 9, 10))
        obj["Minutes"] = rng.choice((0, 0, 0, 15, 30, 30, 45))
        obj["Description"] = rng.choice(data.TIME_NOTES)
        txn = self.new_txn(
            self.at(day, rng.randint(15, 19), rng.randint(0, 59)), "TimeActivity", obj
        )
        if rng.random() < 0.01:
            txn.fate = "delete"
        return txn

    def invoice(self) -> list[_Txn]:
        rng = self.rng
        job = self.pick_job()
        day = self.workday(min(job.start + 20, job.end), job.end)
        lines: list[dict[str, Any]] = []
        sellable = [c for c in data.COST_CODES if c.income and c.expense and c.active]
        subtotal = 0
        for _ in range(rng.randint(2, 5)):
            code = rng.choice(sellable)
            item = self.items[code.code]
            unit = max(100, int(code.unit_price * 100 * rng.uniform(0.9, 1.3)))
            qty = max(1, round(self.amount_cents("finish") / unit))
            subtotal += unit * qty
            lines.append(self.sales_line(item, code.name, unit, qty))
        if rng.random() < 0.35:
            markup = subtotal * rng.randint(8, 15) // 100
            lines.append(self.sales_line(self.items["90-100"], "Overhead and profit", markup, 1))
            subtotal += markup
        if rng.random() < 0.1:
            amount = self.amount_cents("drywall")
            lines.append(self.sales_line(self.items["90-200"], "Change order", amount, 1))
            subtotal += amount
        lines.append(
            {
                "Amount": _money(subtotal),
                "DetailType": "SubTotalLineDetail",
                "SubTotalLineDetail": {},
            }
        )
        term = self.terms[job.terms]
        customer_email = f"ap@{_slug(job.ref['name'])}.example"
        obj: dict[str, Any] = {
            "Deposit": Decimal(0),
            "AllowIPNPayment": False,
            "AllowOnlinePayment": False,
            "AllowOnlineCreditCardPayment": False,
            "AllowOnlineACHPayment": False,
            "CustomField": [],
            "TxnDate": self.iso(day),
            "CurrencyRef": _usd(),
            "LinkedTxn": [],
            "Line": lines,
            "TxnTaxDetail": {"TotalTax": Decimal(0)},
            "CustomerRef": dict(job.ref),
            "CustomerMemo": {"value": "Thank you for your business."},
            "SalesTermRef": _ref(term["Id"], term["Name"]),
            "DueDate": self.iso(day + int(term["DueDays"])),
            "ApplyTaxAfterDiscount": False,
            "PrintStatus": "NotSet",
            "EmailStatus": "EmailSent",
            "BillEmail": {"Address": customer_email},
            "Balance": _money(subtotal),
            "PrivateNote": f"Progress billing - {job.ref['name'].split(':')[-1]}",
        }
        inv = self.new_txn(self.entered(day, 0), "Invoice", obj)
        out = [inv]
        pay_day = day + rng.randint(12, 75)
        if pay_day < self.today - 1 and rng.random() < 0.8:
            paid = subtotal if rng.random() < 0.85 else subtotal * rng.randint(40, 90) // 100
            pay_obj: dict[str, Any] = {
                "CustomerRef": dict(job.ref),
                "DepositToAccountRef": self.acct_ref("undeposited"),
                "TotalAmt": _money(paid),
                "UnappliedAmt": Decimal(0),
                "ProcessPayment": False,
                "TxnDate": self.iso(pay_day),
                "CurrencyRef": _usd(),
                "PaymentRefNum": str(rng.randint(1000, 99999)),
                "Line": [{"Amount": _money(paid), "LinkedTxn": []}],
            }
            pay = self.new_txn(self.entered(pay_day, 0), "Payment", pay_obj)
            pay.pays, inv.paid_by = inv, pay
            obj["Balance"] = _money(subtotal - paid)
            inv.updated = pay.created
            out.append(pay)
        elif rng.random() < 0.15:
            inv.fate = "void"
        return out

    def sales_line(self, item: dict[str, Any], text: str, unit: int, qty: int) -> dict[str, Any]:
        return {
            "Description": text,
            "Amount": _money(unit * qty),
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {
                "ItemRef": _ref(item["Id"], item["FullyQualifiedName"]),
                "UnitPrice": _money(unit),
                "Qty": qty,
                "ItemAccountRef": dict(item["IncomeAccountRef"]),
                "TaxCodeRef": {"value": _TAX_NON},
            },
        }

    # -- insertion ---------------------------------------------------------------------------

    def insert_all(self, txns: list[_Txn]) -> None:
        """Insert in entry order, then apply deletions, voids and attachments."""
        realm = self.realm
        # Ids in entry order; payments and invoices point at each other, so allocate first.
        for txn in txns:
            txn.obj["Id"] = realm.new_id(txn.entity)
        check_no = 1001
        invoice_no = 1001
        for txn in txns:
            obj = txn.obj
            if txn.entity == "Purchase" and obj["PaymentType"] == "Check":
                obj["DocNumber"] = str(check_no)
                check_no += 1
            elif txn.entity == "Invoice":
                obj["DocNumber"] = str(invoice_no)
                invoice_no += 1
                if txn.paid_by is not None:
                    obj["LinkedTxn"] = [{"TxnId": txn.paid_by.obj["Id"], "TxnType": "Payment"}]
                    obj["SyncToken"] = "1"
            elif txn.entity == "Payment" and txn.pays is not None:
                obj["Line"][0]["LinkedTxn"] = [{"TxnId": txn.pays.obj["Id"], "TxnType": "Invoice"}]
        counts = self.counts
        for txn in txns:
            stored = self.insert(txn.entity, txn.obj, txn.created)
            txn.obj = stored
            counts.transactions += 1
            counts.lines += sum(
                1
                for line in stored.get("Line", ())
                if line.get("DetailType") != "SubTotalLineDetail"
            )
        for txn in txns:
            if txn.updated is not None:
                _restamp(realm, txn.entity, txn.obj["Id"], txn.updated)
            if txn.attach:
                self.attach(txn)
        for txn in txns:
            if txn.fate:
                self.finish(txn)

    def later(self, txn: _Txn, lo_hours: int, hi_hours: int) -> datetime:
        moment = txn.created + timedelta(
            hours=self.rng.randint(lo_hours, hi_hours), minutes=self.rng.randint(0, 59)
        )
        return min(moment, self.now - timedelta(minutes=1))

    def finish(self, txn: _Txn) -> None:
        """Delete or void a transaction, dated a little after it was entered."""
        stored = self.realm.get(txn.entity, txn.obj["Id"])
        if stored is None:
            return
        body = {"Id": stored["Id"], "SyncToken": stored["SyncToken"]}
        when = self.later(txn, 2, 24 * 20)
        if txn.fate == "delete":
            self.realm.delete(txn.entity, body)
            self.counts.deleted += 1
        else:
            self.realm.void(txn.entity, body)
            self.counts.voided += 1
        _restamp(self.realm, txn.entity, stored["Id"], when)

    def attach(self, txn: _Txn) -> None:
        """Attach a small generated file (scanned bill, receipt photo or note) to ``txn``."""
        obj = txn.obj
        number = str(obj.get("DocNumber") or obj["Id"])
        entity_name = txn.entity
        payee = (obj.get("VendorRef") or obj.get("EntityRef") or {}).get("name", "")
        if txn.attach == "pdf":
            file_name, ctype = f"{number}.pdf", "application/pdf"
            payload = data.pdf_bytes(f"{payee} invoice {number} total {obj['TotalAmt']}")
            category = "Document"
        elif txn.attach == "png":
            file_name, ctype = f"receipt-{number}.png", "image/png"
            payload = data.png_bytes(self.rng.randint(0, 0xFFFFFF))
            category = "Image"
        else:
            file_name, ctype = f"{number}-notes.txt", "text/plain"
            payload = f"Delivery notes for {payee}, ref {number}\n".encode()
            category = "Other"
        meta = {
            "AttachableRef": [
                {"EntityRef": {"type": entity_name, "value": obj["Id"]}, "IncludeOnSend": False}
            ],
            "FileName": file_name,
            "ContentType": ctype,
            "Category": category,
        }
        stored = self.realm.attach_file(meta, file_name, ctype, payload)
        when = self.later(txn, 0, 30)
        _restamp(self.realm, "Attachable", stored["Id"], when, created=when)
        self.counts.attachments += 1
        self.counts.entities["Attachable"] = self.counts.entities.get("Attachable", 0) + 1
