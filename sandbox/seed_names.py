"""The demo company's name lists: company settings, chart of accounts, terms, classes, cost
codes (items), vendors, employees, customers with their jobs and projects.

``NameListSeeder`` also holds what every part of the seed shares: the random generator, the
company's calendar (``at``, ``entered``, ``workday``) and the counted ``insert``. The transactions
that use these names are built by ``seed_txns.DemoSeeder``, a subclass.

The calendar is a block of days ending on the demo's own "today" (``demo_today``): the last
day before the as-of day that falls on ``WEEK_ANCHOR``'s weekday. Every draw and every clamp
works on day numbers and wall-clock times relative to that day, with the seed's "now" fixed at
``CLOSE_OF_DAY`` on it, so the content never depends on the weekday or the hour it is seeded:
moving the as-of day moves the whole block by whole weeks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sandbox import seed_data as data
from sandbox.entities import CLASSIFICATION

if TYPE_CHECKING:
    import random

    from sandbox.state import Realm
    from sandbox.state import Sandbox

HISTORY_DAYS = 548
"""How far back the demo's transactions go: 18 months before the demo's today."""

WEEK_ANCHOR = date(2026, 3, 1)
"""A Sunday, and the demo's today when seeded as of 2026-03-02 to 2026-03-08.

Only its weekday matters: the demo's today is always this day moved by whole weeks, so
weekends fall on the same days of the block (``workday`` draws differently on them). Of the
seven weekdays, Sunday gives the project the demo features (``core.demo``: Maple Street
Remodel's Kitchen Addition) a fair share of the bills at every size, with attachments.
"""

CLOSE_OF_DAY = time(20, 0)
"""The seed's "now" on the demo's today (company time): after every time it keys in."""

_NIGHT_ENDS = 7
"""Nobody deletes, voids or attaches in the small hours: such a time moves this many hours on.

It also keeps every seeded time clear of the hours when clocks change, so a wall-clock time
that exists in one block exists in every other (DST cannot move it).
"""

_USD = ("USD", "United States Dollar")


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
class Job:
    """A customer (or sub-customer / project) that costs are charged to."""

    ref: dict[str, str]
    class_key: str
    start: int
    end: int
    weight: float
    terms: str


@dataclass
class SeededVendor:
    """A vendor as the transactions pick it: by trade, while it is in use."""

    ref: dict[str, str]
    trade: str
    terms: str
    until: int
    is_1099: bool


def as_of_day(as_of: date | datetime | None, sb: Sandbox) -> date:
    """The company-zone day an as-of value names (the sandbox clock's today when None).

    A naive datetime is read as UTC, as ``Clock.freeze`` does.
    """
    if as_of is None:
        return sb.clock.local().date()
    if isinstance(as_of, datetime):
        aware = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
        return aware.astimezone(sb.clock.company_tz).date()
    return as_of


def demo_today(day: date) -> date:
    """The demo's today when seeded as of ``day``: the latest day before it with
    ``WEEK_ANCHOR``'s weekday (one to seven days back), so the whole block is in the past."""
    return day - timedelta(days=(day - WEEK_ANCHOR).days % 7 or 7)


def ref(value: str, name: str) -> dict[str, str]:
    return {"value": value, "name": name}


def usd() -> dict[str, str]:
    return {"value": _USD[0], "name": _USD[1]}


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def slug(text: str) -> str:
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


class NameListSeeder:
    """Builds a company's name lists; holds what it inserted, for the transactions to use."""

    def __init__(
        self,
        sb: Sandbox,
        realm: Realm,
        rng: random.Random,
        size: float,
        as_of: date | datetime | None = None,
    ) -> None:
        self.sb = sb
        self.realm = realm
        self.rng = rng
        self.size = size
        self.tz = sb.clock.company_tz
        today = demo_today(as_of_day(as_of, sb))
        self.today = today.toordinal()
        self.first = self.today - HISTORY_DAYS
        # The seed's "now" as a naive company wall-clock time: clamps compare wall times, not
        # UTC instants, so a DST change inside the block cannot tip one of them.
        self.now_wall = datetime.combine(today, CLOSE_OF_DAY)
        self.counts = SeedCounts()
        self.accts: dict[str, dict[str, Any]] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.terms: dict[str, dict[str, Any]] = {}
        self.classes: dict[str, dict[str, Any]] = {}
        self.vendors: list[SeededVendor] = []
        self.by_trade: dict[str, list[SeededVendor]] = {}
        self.employees: list[tuple[dict[str, Any], data.EmployeeRow]] = []
        self.jobs: list[Job] = []
        self.job_weights: list[float] = []
        self._addr = 100
        self._iso: dict[int, str] = {}

    # -- time helpers ------------------------------------------------------------------------

    def at(self, day: int, hour: int, minute: int) -> datetime:
        """Aware UTC datetime of a local wall-clock time on ordinal ``day``.

        Callers stay before ``now_wall``: days up to ``today``, hours before ``CLOSE_OF_DAY``.
        """
        return self.wall_to_utc(datetime.combine(date.fromordinal(day), time(hour, minute)))

    def wall_to_utc(self, wall: datetime) -> datetime:
        """Aware UTC datetime of a naive company wall-clock time."""
        return wall.replace(tzinfo=self.tz).astimezone(UTC)

    def wall_time_after(self, moment: datetime, delay: timedelta) -> datetime:
        """``delay`` of wall-clock time after ``moment``, out of the small hours, before now.

        Wall-clock arithmetic and a wall-clock clamp: the same record gets the same local
        time in every block, whichever DST changes fall between ``moment`` and ``now``.
        """
        wall = moment.astimezone(self.tz).replace(tzinfo=None) + delay
        if wall.hour < _NIGHT_ENDS:
            wall += timedelta(hours=_NIGHT_ENDS)
        return self.wall_to_utc(min(wall, self.now_wall - timedelta(minutes=1)))

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

    def insert(
        self,
        entity: str,
        obj: dict[str, Any],
        created: datetime,
        updated: datetime | None = None,
    ) -> dict[str, Any]:
        self.counts.entities[entity] = self.counts.entities.get(entity, 0) + 1
        return self.realm.insert(entity, obj, created=created, updated=updated)

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
        # Only what differs from a fresh company's Preferences (entities.company_singletons):
        # the demo's books closed before its history, no quantity on hand, Net 30 defaults.
        prefs = _merged(
            base,
            {
                "Id": "1",
                "AccountingInfoPrefs": {"BookCloseDate": self.iso(self.first - 1)},
                "ProductAndServicesPrefs": {"QuantityOnHand": False},
                "SalesFormsPrefs": {"CustomTxnNumbers": False, "DefaultTerms": dict(net30)},
                "VendorAndPurchasesPrefs": {"DefaultTerms": dict(net30)},
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
                "CurrencyRef": usd(),
            }
            if row.parent is not None:
                parent = self.accts[row.parent]
                obj["ParentRef"] = {"value": parent["Id"]}
                obj["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{row.name}"
            self.accts[row.key] = self.insert("Account", obj, created)
            created += timedelta(seconds=17)

    def acct_ref(self, key: str) -> dict[str, str]:
        acct = self.accts[key]
        return ref(acct["Id"], acct["FullyQualifiedName"])

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
        for customer_row in data.CUSTOMERS:
            self.customer(customer_row)
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
                obj["ParentRef"] = ref(parent["Id"], parent["FullyQualifiedName"])
                obj["Level"] = 1
                obj["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{name}"
            self.items[code.code] = self.insert("Item", obj, created)
            created += timedelta(seconds=41)

    def item_ref(self, code: str) -> dict[str, str]:
        item = self.items[code]
        return ref(item["Id"], item["FullyQualifiedName"])

    def vendor(self, index: int, row: data.VendorRow, day: int) -> None:
        rng = self.rng
        terms = rng.choice(
            ("Net 30", "Net 30", "Net 30", "Net 15", "Net 10", "Due on receipt", "1% 10 Net 30")
        )
        handle = slug(row.name)
        obj: dict[str, Any] = {
            "Balance": Decimal(0),
            "Vendor1099": row.is_1099,
            "CurrencyRef": usd(),
            "CompanyName": row.name,
            "DisplayName": row.name,
            "PrintOnCheckName": row.name,
            "Active": True,
            "TermRef": {"value": self.terms[terms]["Id"]},
            "AcctNum": f"RB-{1000 + index * 7}",
            "PrimaryEmailAddr": {"Address": f"ar@{handle}.example"},
            "PrimaryPhone": {"FreeFormNumber": f"(650) 555-{1000 + index * 13:04d}"},
            "BillAddr": self.address(f"{100 + index * 11} Industrial Way", row.city),
        }
        if row.trade in data.VENDOR_TIME_CODES:
            obj["CostRate"] = money(rng.randint(55, 95) * 100)
            obj["BillRate"] = money(rng.randint(100, 160) * 100)
        until = self.today
        # One supplier the company stopped using: inactive, referenced only by old records.
        if row.name == "Shell Oil - Fleet":
            obj["Active"] = False
            until = self.today - 200
        stored = self.insert("Vendor", obj, self.at(day, 9, index % 60))
        vendor = SeededVendor(ref(stored["Id"], row.name), row.trade, terms, until, row.is_1099)
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
                "Address": f"{slug(row.given)}.{slug(row.family)}@ridgeline.example"
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
        email = f"{slug(row.family)}@{slug(row.company or row.display)}.example"
        parent_obj: dict[str, Any] = {
            "Taxable": False,
            "Job": False,
            "BillWithParent": False,
            "Balance": Decimal(0),
            "BalanceWithJobs": Decimal(0),
            "CurrencyRef": usd(),
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
                Job(
                    ref(parent["Id"], row.display),
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
                "CurrencyRef": usd(),
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
            self.jobs.append(Job(ref(stored["Id"], fqn), class_key, start, end, weight, terms))
            start = min(start + rng.randint(20, 200), self.today - 45)
