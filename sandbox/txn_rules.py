"""Rules of the transaction entities: lines, totals, defaults, payment/invoice links."""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sandbox import faults
from sandbox.fields import USD
from sandbox.fields import as_bool
from sandbox.fields import as_date
from sandbox.fields import as_datetime
from sandbox.fields import list_field
from sandbox.fields import number_fields
from sandbox.fields import require
from sandbox.fields import resolve
from sandbox.fields import to_decimal

if TYPE_CHECKING:
    from sandbox.state import Realm

EXPENSE_DETAILS = ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail")
SALES_DETAILS = (
    "SalesItemLineDetail",
    "SubTotalLineDetail",
    "DiscountLineDetail",
    "DescriptionOnly",
    "GroupLineDetail",
)
_BILLABLE = ("Billable", "NotBillable")
_ZERO = Decimal("0")


def _billable_status(detail: dict[str, Any], element: str, was_billed: bool = False) -> None:
    status = detail.get("BillableStatus", "NotBillable")
    if status == "HasBeenBilled" and was_billed:
        # A full-update echo (§13) of a line QBO already marked billed keeps its status.
        return
    where = f"{element}.BillableStatus" if element else "BillableStatus"
    if status == "HasBeenBilled":
        # Only QBO sets HasBeenBilled (when it invoices the cost); clients get 2170.
        raise faults.invalid_enum("HAS_BEEN_BILLED", where)
    if status not in _BILLABLE:
        raise faults.invalid_enum(str(status), where)
    detail["BillableStatus"] = status


def line_ids(lines: list[dict[str, Any]], existing: dict[str, Any] | None) -> None:
    """Keep Ids of lines that exist (update in place), number the new ones after them."""
    known = {str(line.get("Id")) for line in (existing or {}).get("Line", []) if "Id" in line}
    numeric = [int(i) for i in known if i.isdigit()]
    next_id = max(numeric, default=0) + 1
    for position, line in enumerate(lines, start=1):
        if str(line.get("Id", "")) in known:
            line["Id"] = str(line["Id"])
        else:
            line["Id"] = str(next_id)
            next_id += 1
        line["LineNum"] = position


def _qty_price(detail: dict[str, Any], amount: Decimal, element: str) -> None:
    number_fields(detail, ("Qty", "UnitPrice"), element + ".")
    # Both zero is the object-model default of a line that names neither (API.md §13):
    # python-quickbooks sends it with every SalesItemLineDetail and Intuit takes the Amount.
    unset = detail.get("Qty") == 0 and detail.get("UnitPrice") == 0
    if "Qty" in detail and "UnitPrice" in detail and not unset:
        expected = (detail["Qty"] * detail["UnitPrice"]).quantize(Decimal("0.01"))
        if expected != amount.quantize(Decimal("0.01")):
            raise faults.validation(
                "6070",
                "A business validation error has occurred while processing your request",
                "Business Validation Error: Amount is not equal to UnitPrice * Qty. "
                f"Supplied value:{amount}",
                element,
            )


def expense_lines(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, with_linked: bool
) -> Decimal:
    """Validate Bill/Purchase/VendorCredit lines in place; return their total."""
    lines = list_field(obj, "Line")
    if not lines:
        raise faults.required_field("Line")
    billed = {
        str(old.get("Id"))
        for old in (existing or {}).get("Line", [])
        for key in EXPENSE_DETAILS
        if isinstance(old.get(key), dict) and old[key].get("BillableStatus") == "HasBeenBilled"
    }
    total = _ZERO
    for line in lines:
        kind = require(line, "DetailType", "Line.DetailType")
        if kind not in EXPENSE_DETAILS:
            raise faults.invalid_enum(str(kind), "Line.DetailType")
        element = f"Line.{kind}"
        detail = require(line, kind, element)
        if not isinstance(detail, dict):
            raise faults.invalid_field(element, f"{element} must be an object")
        amount = to_decimal(require(line, "Amount", "Line.Amount"), "Line.Amount")
        line["Amount"] = amount
        if kind == "AccountBasedExpenseLineDetail":
            resolve(
                realm,
                require(detail, "AccountRef", element + ".AccountRef"),
                "Account",
                element + ".AccountRef",
            )
        else:
            resolve(
                realm,
                require(detail, "ItemRef", element + ".ItemRef"),
                "Item",
                element + ".ItemRef",
            )
            _qty_price(detail, amount, element)
        _billable_status(detail, element, str(line.get("Id")) in billed)
        detail.setdefault("TaxCodeRef", {"value": "NON"})
        if with_linked:
            line.setdefault("LinkedTxn", [])
        total += amount
    line_ids(lines, existing)
    return total


def txn_common(obj: dict[str, Any], realm: Realm) -> None:
    """Header fields every transaction shares: TxnDate (default today), currency, dates."""
    obj["TxnDate"] = (
        as_date(obj["TxnDate"], "TxnDate") if "TxnDate" in obj else realm.sb.clock.today()
    )
    obj.setdefault("CurrencyRef", dict(USD))
    if "DueDate" in obj:
        obj["DueDate"] = as_date(obj["DueDate"], "DueDate")
    obj.pop("ExchangeRate", None) if obj.get("ExchangeRate") in (0, "0") else None


def _due_date(realm: Realm, obj: dict[str, Any], term_ref: Any) -> None:
    if "DueDate" in obj:
        return
    days = 0
    if isinstance(term_ref, dict):
        term = realm.get("Term", str(term_ref.get("value")))
        if term is not None:
            days = int(term.get("DueDays") or 0)
    obj["DueDate"] = (date.fromisoformat(obj["TxnDate"]) + timedelta(days=days)).isoformat()


def _account_of_type(
    realm: Realm, account_type: str, name: str | None = None
) -> dict[str, Any] | None:
    for acct in realm.all("Account"):
        wanted = name is None or acct.get("Name") == name
        if acct.get("AccountType") == account_type and acct.get("Active", True) and wanted:
            return {"value": acct["Id"], "name": acct.get("FullyQualifiedName", acct["Name"])}
    return None


def _ap_account(realm: Realm, obj: dict[str, Any]) -> None:
    if "APAccountRef" in obj:
        acct = resolve(realm, obj["APAccountRef"], "Account", "APAccountRef")
        if acct.get("AccountType") != "Accounts Payable":
            raise faults.business_validation(
                "You can't use this account for this type of transaction.", "APAccountRef"
            )
    else:
        default = _account_of_type(realm, "Accounts Payable")
        if default:
            obj["APAccountRef"] = default


def bill_like(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """Bill and VendorCredit: vendor, A/P account, lines, totals, due date."""
    require(obj, "VendorRef")
    for ro in ("TotalAmt", "Balance", "LinkedTxn"):
        obj.pop(ro, None)
    txn_common(obj, realm)
    total = expense_lines(realm, obj, existing, with_linked=entity == "Bill")
    vendor = resolve(realm, obj["VendorRef"], "Vendor", "VendorRef")
    _ap_account(realm, obj)
    obj["TotalAmt"] = total
    obj["Balance"] = total
    if entity == "Bill":
        _due_date(realm, obj, obj.get("SalesTermRef") or vendor.get("TermRef"))
        # A paid bill keeps its payments through an edit, as an invoice does (§11.2).
        applied, links = (
            applied_to(realm, existing["Id"], payer="BillPayment", target="Bill")
            if existing
            else (_ZERO, [])
        )
        if applied > total:
            raise faults.business_validation(
                "The bill total is less than the payments already applied to it.", "TotalAmt"
            )
        obj["Balance"] = total - applied
        if links:  # an unpaid bill has no LinkedTxn at all (samples/bill.create.response.json)
            obj["LinkedTxn"] = links
    else:
        obj.pop("DueDate", None)


_PAY_ACCOUNT = {"Cash": ("Bank",), "Check": ("Bank",), "CreditCard": ("Credit Card",)}
_PAYEE_TYPES = ("Vendor", "Customer", "Employee")


def purchase(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """Purchase (expense, check, credit-card charge or credit)."""
    del entity
    pay_type = require(obj, "PaymentType")
    require(obj, "AccountRef")
    obj.pop("TotalAmt", None)
    if pay_type not in _PAY_ACCOUNT:
        raise faults.invalid_enum(str(pay_type), "PaymentType")
    txn_common(obj, realm)
    total = expense_lines(realm, obj, existing, with_linked=False)
    account = resolve(realm, obj["AccountRef"], "Account", "AccountRef")
    if account.get("AccountType") not in _PAY_ACCOUNT[pay_type]:
        raise faults.business_validation(
            "You can't use this account for this type of transaction.", "AccountRef"
        )
    as_bool(obj, "Credit")
    if pay_type == "CreditCard":
        obj.setdefault("Credit", False)
    elif obj.get("Credit"):
        raise faults.business_validation(
            "Credit is allowed only for credit card purchases.", "Credit"
        )
    else:
        obj.pop("Credit", None)
    if pay_type == "Check":
        obj.setdefault("PrintStatus", "NotSet")
    if "EntityRef" in obj:
        ref = obj["EntityRef"]
        if not isinstance(ref, dict):
            raise faults.invalid_field("EntityRef", "EntityRef must be a reference object")
        wanted = ref.get("type") if ref.get("type") in _PAYEE_TYPES else None
        kinds = (wanted,) if wanted else _PAYEE_TYPES
        found = next((k for k in kinds if realm.get(k, str(ref.get("value"))) is not None), None)
        if found is None:
            raise faults.invalid_reference("EntityRef", wanted or "Vendor", str(ref.get("value")))
        resolve(realm, ref, found, "EntityRef")
        ref["type"] = found
    obj["TotalAmt"] = total


def time_activity(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """TimeActivity: who, how long, for whom, billable status."""
    del entity
    name_of = require(obj, "NameOf")
    if name_of not in ("Employee", "Vendor", "Other"):
        raise faults.invalid_enum(str(name_of), "NameOf")
    if name_of == "Employee":
        require(obj, "EmployeeRef")
        obj.pop("VendorRef", None)
    elif name_of == "Vendor":
        require(obj, "VendorRef")
        obj.pop("EmployeeRef", None)
    number_fields(
        obj, ("Hours", "Minutes", "Seconds", "BreakHours", "BreakMinutes", "HourlyRate", "CostRate")
    )
    for name in ("Hours", "Minutes", "Seconds", "BreakHours", "BreakMinutes"):
        if name in obj and obj[name] == obj[name].to_integral_value():
            obj[name] = int(obj[name])
    has_span = "StartTime" in obj and "EndTime" in obj
    if not has_span and "Hours" not in obj and "Minutes" not in obj:
        raise faults.required_field("Hours")
    if has_span:
        start = as_datetime(obj["StartTime"], "StartTime")
        end = as_datetime(obj["EndTime"], "EndTime")
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            raise faults.business_validation("EndTime must be after StartTime.", "EndTime")
    _billable_status(obj, "", bool(existing and existing.get("BillableStatus") == "HasBeenBilled"))
    as_bool(obj, "Taxable", False)
    obj["TxnDate"] = (
        as_date(obj["TxnDate"], "TxnDate") if "TxnDate" in obj else realm.sb.clock.today()
    )


def _sales_lines(realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None) -> Decimal:
    lines = [ln for ln in list_field(obj, "Line") if ln.get("DetailType") != "SubTotalLineDetail"]
    if not lines:
        raise faults.required_field("Line")
    subtotal = _ZERO
    discount = _ZERO
    for line in lines:
        kind = require(line, "DetailType", "Line.DetailType")
        if kind not in SALES_DETAILS:
            raise faults.invalid_enum(str(kind), "Line.DetailType")
        element = f"Line.{kind}"
        if kind == "DescriptionOnly":
            line.setdefault(kind, {})
            line["Amount"] = to_decimal(line.get("Amount", 0), "Line.Amount")
            continue
        detail = require(line, kind, element)
        if not isinstance(detail, dict):
            raise faults.invalid_field(element, f"{element} must be an object")
        amount = to_decimal(require(line, "Amount", "Line.Amount"), "Line.Amount")
        line["Amount"] = amount
        if kind == "DiscountLineDetail":
            discount += amount
            continue
        item = resolve(
            realm, require(detail, "ItemRef", element + ".ItemRef"), "Item", element + ".ItemRef"
        )
        _qty_price(detail, amount, element)
        if "IncomeAccountRef" in item:
            detail["ItemAccountRef"] = dict(item["IncomeAccountRef"])
        detail.setdefault("TaxCodeRef", {"value": "NON"})
        subtotal += amount
    line_ids(lines, existing)
    # QBO adds the SubTotal line itself (samples/invoice.response.json): after the items,
    # ahead of a discount taken on them (python-quickbooks' estimate test reads the discount
    # as Line[2] behind one item line).
    at = next(
        (i for i, ln in enumerate(lines) if ln["DetailType"] == "DiscountLineDetail"), len(lines)
    )
    lines.insert(
        at, {"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    )
    obj["Line"] = lines
    return subtotal - discount


def applied_to(
    realm: Realm,
    invoice_id: str,
    skip_payment: str | None = None,
    extra: dict[str, Any] | None = None,
    *,
    payer: str = "Payment",
    target: str = "Invoice",
) -> tuple[Decimal, list[dict[str, str]]]:
    """Sum of payment lines applied to an invoice, and the LinkedTxn list pointing at them.

    With ``payer="BillPayment", target="Bill"`` the same for a bill and its bill payments.
    """
    total = _ZERO
    links: list[dict[str, str]] = []
    payments = [p for p in realm.all(payer) if p["Id"] != skip_payment]
    if extra is not None:
        payments.append(extra)
    for pay in payments:
        amount = sum(
            (
                ln["Amount"]
                for ln in pay.get("Line", [])
                for lk in ln.get("LinkedTxn", [])
                if lk.get("TxnType") == target and str(lk.get("TxnId")) == invoice_id
            ),
            _ZERO,
        )
        if amount:
            total += amount
            links.append({"TxnId": pay["Id"], "TxnType": payer})
    return total, links


def invoice(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """Invoice: customer, sales lines, totals, balance from payments, auto DocNumber."""
    del entity
    require(obj, "CustomerRef")
    for ro in ("TotalAmt", "Balance", "LinkedTxn"):
        obj.pop(ro, None)
    txn_common(obj, realm)
    total = _sales_lines(realm, obj, existing)
    customer = resolve(realm, obj["CustomerRef"], "Customer", "CustomerRef")
    if "SalesTermRef" in obj:
        resolve(realm, obj["SalesTermRef"], "Term", "SalesTermRef")
    _due_date(realm, obj, obj.get("SalesTermRef") or customer.get("SalesTermRef"))
    number_fields(obj, ("Deposit",))
    applied, links = applied_to(realm, existing["Id"]) if existing else (_ZERO, [])
    if applied > total:
        raise faults.business_validation(
            "The invoice total is less than the payments already applied to it.", "TotalAmt"
        )
    if "DocNumber" not in obj:
        obj["DocNumber"] = (
            existing.get("DocNumber")
            if existing
            else str(1001 + len(realm.store["Invoice"]) + len(realm.deleted["Invoice"]))
        )
    obj["TotalAmt"] = total
    obj["Balance"] = total - applied
    obj["LinkedTxn"] = links
    for key, default in (
        ("Deposit", 0),
        ("AllowIPNPayment", False),
        ("AllowOnlinePayment", False),
        ("AllowOnlineCreditCardPayment", False),
        ("AllowOnlineACHPayment", False),
        ("CustomField", []),
        ("TxnTaxDetail", {"TotalTax": 0}),
        ("ApplyTaxAfterDiscount", False),
        ("PrintStatus", "NotSet"),
        ("EmailStatus", "NotSet"),
    ):
        obj.setdefault(key, default)


def payment(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """Customer payment: amount, applications to invoices, unapplied amount."""
    del entity
    require(obj, "CustomerRef")
    total = to_decimal(require(obj, "TotalAmt"), "TotalAmt")
    obj["TotalAmt"] = total
    obj.pop("UnappliedAmt", None)
    txn_common(obj, realm)
    obj.pop("DueDate", None)
    resolve(realm, obj["CustomerRef"], "Customer", "CustomerRef")
    applied = _ZERO
    own_id = existing["Id"] if existing else None
    lines = list_field(obj, "Line")
    for line in lines:
        amount = to_decimal(require(line, "Amount", "Line.Amount"), "Line.Amount")
        line["Amount"] = amount
        links = list_field(line, "LinkedTxn")
        for link in links:
            if link.get("TxnType") != "Invoice":
                continue
            inv = realm.get("Invoice", str(link.get("TxnId")))
            if inv is None:
                raise faults.invalid_reference(
                    "Line.LinkedTxn.TxnId", "Invoice", str(link.get("TxnId"))
                )
            link["TxnId"] = inv["Id"]
            already, _ = applied_to(realm, inv["Id"], skip_payment=own_id)
            if already + amount > inv["TotalAmt"]:
                raise faults.business_validation(
                    "The payment amount is more than the invoice's open balance.", "Line.Amount"
                )
        applied += amount
    if applied > total:
        raise faults.business_validation(
            "The amount applied to invoices is more than the payment amount.", "TotalAmt"
        )
    if "DepositToAccountRef" not in obj:
        default = _account_of_type(realm, "Other Current Asset", "Undeposited Funds")
        if default:
            obj["DepositToAccountRef"] = default
    obj["Line"] = lines
    obj["UnappliedAmt"] = total - applied
    obj.setdefault("ProcessPayment", False)


def payment_followups(
    realm: Realm,
    new: dict[str, Any] | None,
    old: dict[str, Any] | None,
    *,
    payer: str = "Payment",
    target: str = "Invoice",
) -> list[tuple[str, dict[str, Any]]]:
    """Invoices whose Balance/LinkedTxn change because a payment was written or removed.

    With ``payer="BillPayment", target="Bill"``: bills and a bill payment.
    """
    ids: set[str] = set()
    for pay in (new, old):
        for line in (pay or {}).get("Line", []):
            for link in line.get("LinkedTxn", []):
                if link.get("TxnType") == target:
                    ids.add(str(link.get("TxnId")))
    pay_id = (new or old or {}).get("Id")
    out: list[tuple[str, dict[str, Any]]] = []
    for inv_id in sorted(ids):
        inv = realm.get(target, inv_id)
        if inv is None:
            continue
        applied, links = applied_to(
            realm, inv_id, skip_payment=pay_id, extra=new, payer=payer, target=target
        )
        balance = inv["TotalAmt"] - applied
        if balance != inv.get("Balance") or links != (inv.get("LinkedTxn") or []):
            updated = dict(inv)
            updated["Balance"] = balance
            updated["LinkedTxn"] = links
            if target == "Bill" and not links:
                del updated["LinkedTxn"]  # as on a bill never paid
            out.append((target, updated))
    return out


#: BillPayment PayType -> (its detail object, the paying account's key, that account's type).
_BILL_PAY = {
    "Check": ("CheckPayment", "BankAccountRef", "Bank"),
    "CreditCard": ("CreditCardPayment", "CCAccountRef", "Credit Card"),
}


def bill_payment(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """BillPayment (paying vendor bills): vendor, pay type and account, applications to bills.

    Mirrors Payment -> Invoice: each line's ``LinkedTxn`` ``{"TxnType": "Bill"}`` reduces that
    bill's Balance and adds ``{"TxnType": "BillPayment"}`` to its ``LinkedTxn`` (API.md §11.2).
    """
    del entity
    vendor = resolve(realm, require(obj, "VendorRef"), "Vendor", "VendorRef")
    pay_type = require(obj, "PayType")
    if pay_type not in _BILL_PAY:
        raise faults.invalid_enum(str(pay_type), "PayType")
    total = to_decimal(require(obj, "TotalAmt"), "TotalAmt")
    obj["TotalAmt"] = total
    txn_common(obj, realm)
    obj.pop("DueDate", None)
    detail_key, account_key, account_type = _BILL_PAY[pay_type]
    for other, _k, _t in _BILL_PAY.values():
        if other != detail_key:
            obj.pop(other, None)
    detail = obj.get(detail_key) or {}
    if not isinstance(detail, dict):
        raise faults.invalid_field(detail_key, f"{detail_key} must be an object")
    if account_key in detail:
        acct = resolve(realm, detail[account_key], "Account", f"{detail_key}.{account_key}")
        if acct.get("AccountType") != account_type:
            raise faults.business_validation(
                "You can't use this account for this type of transaction.",
                f"{detail_key}.{account_key}",
            )
    else:
        default = _account_of_type(realm, account_type)
        if default is None:
            raise faults.required_field(f"{detail_key}.{account_key}")
        detail[account_key] = default
    obj[detail_key] = detail
    _ap_account(realm, obj)
    applied = _ZERO
    own_id = existing["Id"] if existing else None
    lines = list_field(obj, "Line")
    for line in lines:
        amount = to_decimal(require(line, "Amount", "Line.Amount"), "Line.Amount")
        line["Amount"] = amount
        for link in list_field(line, "LinkedTxn"):
            if link.get("TxnType") != "Bill":
                continue
            bill = realm.get("Bill", str(link.get("TxnId")))
            if bill is None:
                raise faults.invalid_reference(
                    "Line.LinkedTxn.TxnId", "Bill", str(link.get("TxnId"))
                )
            if str(bill["VendorRef"]["value"]) != str(vendor["Id"]):
                raise faults.business_validation(
                    "A bill payment can only pay bills of its vendor.", "Line.LinkedTxn"
                )
            link["TxnId"] = bill["Id"]
            already, _ = applied_to(
                realm, bill["Id"], skip_payment=own_id, payer="BillPayment", target="Bill"
            )
            if already + amount > bill["TotalAmt"]:
                raise faults.business_validation(
                    "The payment amount is more than the bill's open balance.", "Line.Amount"
                )
        applied += amount
    if applied > total:
        raise faults.business_validation(
            "The amount applied to bills is more than the payment amount.", "TotalAmt"
        )
    obj["Line"] = lines


def voided(existing: dict[str, Any]) -> dict[str, Any]:
    """Return the voided copy of an Invoice or Payment: zero amounts, note "Voided"."""
    obj = dict(existing)
    lines = []
    for line in existing.get("Line", []):
        line = dict(line)
        if "Amount" in line:
            line["Amount"] = _ZERO
        for key, detail in list(line.items()):
            if key.endswith("Detail") and isinstance(detail, dict) and "Qty" in detail:
                # Keep Qty x UnitPrice = Amount true, so the voided copy survives an echo.
                line[key] = dict(detail, Qty=_ZERO)
        lines.append(line)
    obj["Line"] = lines
    obj["TotalAmt"] = _ZERO
    if "Balance" in obj:
        obj["Balance"] = _ZERO
    if "UnappliedAmt" in obj:
        obj["UnappliedAmt"] = _ZERO
    obj["PrivateNote"] = "Voided"
    return obj


def totals_for_insert(entity: str, obj: dict[str, Any]) -> None:
    """Seed path: number lines and compute TotalAmt/Balance without any validation."""
    lines = obj.get("Line")
    if not isinstance(lines, list):
        return
    total = _ZERO
    next_id = 1
    for position, line in enumerate(lines, start=1):
        if "Amount" in line:
            line["Amount"] = Decimal(str(line["Amount"]))
        if line.get("DetailType") in ("SubTotalLineDetail",):
            continue
        if "Id" not in line:
            line["Id"] = str(next_id)
        next_id += 1
        line["LineNum"] = position
        if line.get("DetailType") == "DiscountLineDetail":
            total -= line.get("Amount", _ZERO)
        else:
            total += line.get("Amount", _ZERO)
    if entity == "Payment":
        return
    if entity == "JournalEntry":
        # Debits and credits are both positive: the total is one side, not their sum.
        total = sum(
            (
                line.get("Amount", _ZERO)
                for line in lines
                if (line.get("JournalEntryLineDetail") or {}).get("PostingType") == "Debit"
            ),
            _ZERO,
        )
    obj["TotalAmt"] = total
    if entity in ("Bill", "VendorCredit", "Invoice"):
        obj.setdefault("Balance", total)
        obj["Balance"] = Decimal(str(obj["Balance"]))


_DEPOSIT_LINKS = ("Payment", "SalesReceipt", "RefundReceipt", "Transfer", "JournalEntry")


def deposit_lines(realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None) -> Decimal:
    """Deposit lines: an amount from an account (``DepositLineDetail``) or a linked payment.

    XSD ``Deposit``/``DepositLineDetail``: a line either carries ``DepositLineDetail`` with
    the ``AccountRef`` the money comes from, or ``LinkedTxn`` to the payment deposited (our
    reading, stricter than Intuit's pages say: a line needs one of the two).
    """
    lines = list_field(obj, "Line")
    if not lines:
        raise faults.required_field("Line")
    total = _ZERO
    for line in lines:
        amount = to_decimal(require(line, "Amount", "Line.Amount"), "Line.Amount")
        if amount < 0:
            raise faults.business_validation("A deposit line amount cannot be negative.", "Line")
        line["Amount"] = amount
        links = list_field(line, "LinkedTxn")
        detail = line.get("DepositLineDetail")
        if links:
            for link in links:
                kind = link.get("TxnType")
                if kind not in _DEPOSIT_LINKS:
                    raise faults.invalid_enum(str(kind), "Line.LinkedTxn.TxnType")
                if realm.get(str(kind), str(link.get("TxnId"))) is None:
                    raise faults.invalid_reference(
                        "Line.LinkedTxn.TxnId", str(kind), str(link.get("TxnId"))
                    )
                link["TxnId"] = str(link.get("TxnId"))
        else:
            kind = require(line, "DetailType", "Line.DetailType")
            if kind != "DepositLineDetail":
                raise faults.invalid_enum(str(kind), "Line.DetailType")
            if not isinstance(detail, dict):
                raise faults.required_field("Line.DepositLineDetail")
            resolve(
                realm,
                require(detail, "AccountRef", "Line.DepositLineDetail.AccountRef"),
                "Account",
                "Line.DepositLineDetail.AccountRef",
            )
        total += amount
    line_ids(lines, existing)
    return total


def sales_lines(realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None) -> Decimal:
    """Sales form lines (Estimate, SalesReceipt, CreditMemo, RefundReceipt): as an Invoice's."""
    return _sales_lines(realm, obj, existing)
