"""The demo company's transactions: bills, checks, cash and card purchases, vendor credits,
invoices with their payments and time activities, then deletions, voids and attachments.

Each is generated dated within its job's run and entered a little later (as bookkeepers do),
then all are inserted in entry order so Ids grow with CreateTime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sandbox import seed_data as data
from sandbox.seed_names import Job
from sandbox.seed_names import NameListSeeder
from sandbox.seed_names import SeededVendor
from sandbox.seed_names import money
from sandbox.seed_names import ref
from sandbox.seed_names import slug
from sandbox.seed_names import usd

if TYPE_CHECKING:
    import random

    from sandbox.state import Realm
    from sandbox.state import Sandbox

BANK_FEED_SOURCE = "BankFeed"
"""``TxnSource`` of purchases entered from a bank feed.

The Accounting API has no documented bank-feed marker; the XSD's ``Transaction.TxnSource``
("originating source of the transaction", a free string) is the only field meant for it.
"""

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

_TAX_NON = "NON"


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


class DemoSeeder(NameListSeeder):
    """Builds the whole demo company: the name lists, then the transactions using them."""

    def __init__(
        self,
        sb: Sandbox,
        realm: Realm,
        rng: random.Random,
        size: float,
        as_of: date | datetime | None = None,
    ) -> None:
        super().__init__(sb, realm, rng, size, as_of)
        self._seq = 0  # ties in entry time keep generation order

    def run(self) -> None:
        """Seed the whole demo company."""
        self.company()
        self.accounts(data.DEMO_ACCOUNTS)
        self.name_lists()
        txns = self.transactions()
        self.insert_all(txns)

    # -- transactions ------------------------------------------------------------------------

    def count(self, kind: str) -> int:
        return max(1, round(BASE_VOLUMES[kind] * self.size))

    def pick_job(self) -> Job:
        return self.rng.choices(self.jobs, self.job_weights)[0]

    def pick_vendor(self, trade: str, day: int) -> SeededVendor:
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
        self, trade: str, job: Job | None, day: int, item_share: float
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
                detail["ClassRef"] = ref(cls["Id"], cls["Name"])
        detail["BillableStatus"] = self.billable(day) if job is not None else "NotBillable"
        code = rng.choice(codes) if codes else None
        item = self.items[code] if code else None
        # Items made inactive show up only on old records, as in a real company file.
        if item is not None and not item["Active"] and self.today - day < 270:
            item = None
        if item is not None and rng.random() < item_share:
            unit = max(1, int(float(item["PurchaseCost"]) * 100 * rng.uniform(0.85, 1.25)))
            qty = max(1, round(target / unit))
            detail["ItemRef"] = ref(item["Id"], item["FullyQualifiedName"])
            detail["UnitPrice"] = money(unit)
            detail["Qty"] = qty
            detail["TaxCodeRef"] = {"value": _TAX_NON}
            amount = money(unit * qty)
            kind = "ItemBasedExpenseLineDetail"
        else:
            key = fallback
            if item is not None and "ExpenseAccountRef" in item and rng.random() < 0.5:
                acct_id = item["ExpenseAccountRef"]["value"]
                key = next(k for k, a in self.accts.items() if a["Id"] == acct_id)
            detail["AccountRef"] = self.acct_ref(key)
            detail["TaxCodeRef"] = {"value": _TAX_NON}
            amount = money(target)
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
        obj: dict[str, Any] = {"TxnDate": self.iso(day), "CurrencyRef": usd(), "Line": lines}
        txn_entity = "Purchase"
        lag = 0
        if kind in ("Bill", "VendorCredit"):
            txn_entity = kind
            obj["VendorRef"] = dict(vendor.ref)
            obj["APAccountRef"] = self.acct_ref("ap")
            lag = rng.randint(0, 6)
            if kind == "Bill":
                term = self.terms[vendor.terms]
                obj["SalesTermRef"] = ref(term["Id"], term["Name"])
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
            obj["EmployeeRef"] = ref(emp["Id"], emp["DisplayName"])
            code = rng.choice(data.ROLE_CODES[row.role])
            cost, bill, billable = emp["CostRate"], emp["BillRate"], row.billable
        else:
            vendor = rng.choice([v for v in self.vendors if v.trade in data.VENDOR_TIME_CODES])
            obj["NameOf"] = "Vendor"
            obj["VendorRef"] = dict(vendor.ref)
            code = data.VENDOR_TIME_CODES[vendor.trade]
            cost, bill, billable = money(rng.randint(55, 95) * 100), money(12500), True
        overhead = not billable and rng.random() < 0.5
        if not overhead:
            obj["CustomerRef"] = dict(job.ref)
            cls = self.classes[job.class_key]
            obj["ClassRef"] = ref(cls["Id"], cls["Name"])
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
                "Amount": money(subtotal),
                "DetailType": "SubTotalLineDetail",
                "SubTotalLineDetail": {},
            }
        )
        term = self.terms[job.terms]
        customer_email = f"ap@{slug(job.ref['name'])}.example"
        obj: dict[str, Any] = {
            "Deposit": Decimal(0),
            "AllowIPNPayment": False,
            "AllowOnlinePayment": False,
            "AllowOnlineCreditCardPayment": False,
            "AllowOnlineACHPayment": False,
            "CustomField": [],
            "TxnDate": self.iso(day),
            "CurrencyRef": usd(),
            "LinkedTxn": [],
            "Line": lines,
            "TxnTaxDetail": {"TotalTax": Decimal(0)},
            "CustomerRef": dict(job.ref),
            "CustomerMemo": {"value": "Thank you for your business."},
            "SalesTermRef": ref(term["Id"], term["Name"]),
            "DueDate": self.iso(day + int(term["DueDays"])),
            "ApplyTaxAfterDiscount": False,
            "PrintStatus": "NotSet",
            "EmailStatus": "EmailSent",
            "BillEmail": {"Address": customer_email},
            "Balance": money(subtotal),
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
                "TotalAmt": money(paid),
                "UnappliedAmt": Decimal(0),
                "ProcessPayment": False,
                "TxnDate": self.iso(pay_day),
                "CurrencyRef": usd(),
                "PaymentRefNum": str(rng.randint(1000, 99999)),
                "Line": [{"Amount": money(paid), "LinkedTxn": []}],
            }
            pay = self.new_txn(self.entered(pay_day, 0), "Payment", pay_obj)
            pay.pays, inv.paid_by = inv, pay
            obj["Balance"] = money(subtotal - paid)
            inv.updated = pay.created
            out.append(pay)
        elif rng.random() < 0.15:
            inv.fate = "void"
        return out

    def sales_line(self, item: dict[str, Any], text: str, unit: int, qty: int) -> dict[str, Any]:
        return {
            "Description": text,
            "Amount": money(unit * qty),
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {
                "ItemRef": ref(item["Id"], item["FullyQualifiedName"]),
                "UnitPrice": money(unit),
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
            stored = self.insert(txn.entity, txn.obj, txn.created, txn.updated)
            txn.obj = stored
            counts.transactions += 1
            counts.lines += sum(
                1
                for line in stored.get("Line", ())
                if line.get("DetailType") != "SubTotalLineDetail"
            )
        for txn in txns:
            if txn.attach:
                self.attach(txn)
        for txn in txns:
            if txn.fate:
                self.finish(txn)

    def later(self, txn: _Txn, lo_hours: int, hi_hours: int) -> datetime:
        delay = timedelta(
            hours=self.rng.randint(lo_hours, hi_hours), minutes=self.rng.randint(0, 59)
        )
        return self.wall_time_after(txn.created, delay)

    def finish(self, txn: _Txn) -> None:
        """Delete or void a transaction, dated a little after it was entered."""
        stored = self.realm.get(txn.entity, txn.obj["Id"])
        if stored is None:
            return
        body = {"Id": stored["Id"], "SyncToken": stored["SyncToken"]}
        when = self.later(txn, 2, 24 * 20)
        if txn.fate == "delete":
            self.realm.delete(txn.entity, body, at=when)
            self.counts.deleted += 1
        else:
            self.realm.void(txn.entity, body, at=when)
            self.counts.voided += 1

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
        self.realm.attach_file(meta, file_name, ctype, payload, created=self.later(txn, 0, 30))
        self.counts.attachments += 1
        self.counts.entities["Attachable"] = self.counts.entities.get("Attachable", 0) + 1
