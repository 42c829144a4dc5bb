"""Per-entity rules: what each QBO entity requires, computes and refuses.

``ENTITIES`` maps the canonical name (``Bill``) to its ``EntitySpec``. ``prepare`` turns client
input into the object to store (or raises a ``QboFault``) without touching the realm, so a
refused request never leaves a trace. Transaction rules live in ``txn_rules``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from sandbox import entity_table
from sandbox import faults
from sandbox import journal_rules
from sandbox import query_rules
from sandbox import txn_rules
from sandbox import validation
from sandbox.company import company_singletons as company_singletons
from sandbox.fields import COMMON_READONLY
from sandbox.fields import USD
from sandbox.fields import as_bool
from sandbox.fields import clean
from sandbox.fields import list_field
from sandbox.fields import number_fields
from sandbox.fields import require
from sandbox.fields import resolve
from sandbox.fields import resolve_all
from sandbox.fields import to_decimal
from sandbox.schema_fields import TYPES

if TYPE_CHECKING:
    from sandbox.state import Realm

Rule = Callable[["Realm", dict[str, Any], "dict[str, Any] | None", str], None]


@dataclass(frozen=True)
class EntitySpec:
    """What the sandbox knows about one entity type."""

    name: str
    kind: str  # "txn", "name", "attachable" or "singleton"
    rule: Rule | None
    deletable: bool = False
    voidable: bool = False
    creatable: bool = True
    updatable: bool = True
    sendable: bool = False
    printable: bool = False
    in_cdc: bool = True

    @property
    def path(self) -> str:
        """The lowercase URL segment (``/bill``)."""
        return self.name.lower()

    @property
    def json_key(self) -> str:
        """The key of this entity's object in answers (``CreditCardPaymentTxn``)."""
        return entity_table.json_key(self.name)


_PEOPLE = ("Customer", "Vendor", "Employee")
_NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")

CLASSIFICATION = {
    "Bank": "Asset",
    "Accounts Receivable": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Other Current Liability": "Liability",
    "Long Term Liability": "Liability",
    "Equity": "Equity",
    "Income": "Revenue",
    "Other Income": "Revenue",
    "Cost of Goods Sold": "Expense",
    "Expense": "Expense",
    "Other Expense": "Expense",
}
_DEFAULT_SUBTYPE = {
    "Bank": "Checking",
    "Accounts Receivable": "AccountsReceivable",
    "Other Current Asset": "OtherCurrentAssets",
    "Fixed Asset": "OtherFixedAssets",
    "Other Asset": "OtherLongTermAssets",
    "Accounts Payable": "AccountsPayable",
    "Credit Card": "CreditCard",
    "Other Current Liability": "OtherCurrentLiabilities",
    "Long Term Liability": "OtherLongTermLiabilities",
    "Equity": "OwnersEquity",
    "Income": "ServiceFeeIncome",
    "Other Income": "OtherMiscellaneousIncome",
    "Cost of Goods Sold": "SuppliesMaterialsCogs",
    "Expense": "OtherMiscellaneousServiceCost",
    "Other Expense": "OtherMiscellaneousExpense",
}
_ITEM_TYPES = ("Service", "NonInventory", "Inventory", "Group", "Category")


def _check_name(value: Any, element: str) -> str:
    if not isinstance(value, str):
        raise faults.invalid_field(element, f"{element} must be a string")
    value = value.strip()
    if ":" in value:
        # ':' is the FullyQualifiedName separator (API.md §3.2).
        raise faults.validation(
            "2050", "Invalid string format", f"{element} cannot contain a colon (:).", element
        )
    if not value or len(value) > 500:
        raise faults.validation(
            "2050",
            "String length is either shorter or longer than supported by specification",
            f"{element} length",
            element,
        )
    return str(value)


def _unique(
    realm: Realm, entities: tuple[str, ...], key: str, value: str, own: tuple[str, str | None]
) -> None:
    folded = value.casefold()
    for entity in entities:
        for other in realm.all(entity):
            if (entity, other["Id"]) == own or other.get("Active") is False:
                continue
            if str(other.get(key, "")).casefold() == folded:
                raise faults.duplicate_name(value)


def _own_id(existing: dict[str, Any] | None) -> str | None:
    return existing["Id"] if existing else None


def _hierarchy(
    realm: Realm, obj: dict[str, Any], entity: str, flag: str, label: str, own_id: str | None
) -> None:
    """Set FullyQualifiedName and Level from ParentRef (flag: Job/SubItem/SubAccount/SubClass)."""
    as_bool(obj, flag, False)
    if obj[flag] and "ParentRef" not in obj:
        raise faults.required_field("ParentRef")
    if "ParentRef" in obj:
        parent = resolve(realm, obj["ParentRef"], entity, "ParentRef")
        if parent["Id"] == own_id:
            raise faults.business_validation(f"A {entity} cannot be its own parent.", "ParentRef")
        obj[flag] = True
        obj["Level"] = int(parent.get("Level", 0)) + 1
        obj["FullyQualifiedName"] = f"{parent.get('FullyQualifiedName', '')}:{label}"
    else:
        obj.pop("Level", None)
        obj["FullyQualifiedName"] = label


def _nested_name(
    realm: Realm,
    obj: dict[str, Any],
    entity: str,
    flag: str,
    name: str,
    existing: dict[str, Any] | None,
) -> None:
    """Accounts and classes: unique by full path (``Materials:Lumber``), no Level in QBO JSON."""
    _hierarchy(realm, obj, entity, flag, name, _own_id(existing))
    obj.pop("Level", None)
    _unique(
        realm,
        (entity,),
        "FullyQualifiedName",
        obj["FullyQualifiedName"],
        (entity, _own_id(existing)),
    )


def person(realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str) -> None:
    """Customer, Vendor, Employee: DisplayName rules, uniqueness, hierarchy for customers."""
    for ro in ("FullyQualifiedName", "Level", "Balance", "BalanceWithJobs", "IsProject"):
        obj.pop(ro, None)
    if "DisplayName" not in obj:
        parts = [str(obj[p]).strip() for p in _NAME_PARTS if isinstance(obj.get(p), str)]
        derived = " ".join(p for p in parts if p) or str(obj.get("CompanyName", "")).strip()
        if not derived:
            raise faults.validation(
                "6080",
                "Required param missing, need to supply the required value for the API",
                "At least one of the name elements is required: Title, GivenName, MiddleName, "
                "FamilyName, Suffix or DisplayName.",
                "DisplayName",
            )
        obj["DisplayName"] = derived
    name = _check_name(obj["DisplayName"], "DisplayName")
    obj["DisplayName"] = name
    as_bool(obj, "Active", True)
    _unique(realm, _PEOPLE, "DisplayName", name, (entity, _own_id(existing)))
    obj.setdefault("PrintOnCheckName", name)
    if entity == "Customer":
        validation.check_customer_parent(realm, obj, _own_id(existing))
        _hierarchy(realm, obj, "Customer", "Job", name, _own_id(existing))
        obj["IsProject"] = bool(existing and existing.get("IsProject"))
        for key, default in (
            ("Taxable", False),
            ("BillWithParent", False),
            ("PreferredDeliveryMethod", "Print"),
        ):
            obj.setdefault(key, default)
        obj["Balance"] = existing.get("Balance", 0) if existing else 0
        obj["BalanceWithJobs"] = existing.get("BalanceWithJobs", 0) if existing else 0
        obj.setdefault("CurrencyRef", dict(USD))
    elif entity == "Vendor":
        obj["Balance"] = existing.get("Balance", 0) if existing else 0
        as_bool(obj, "Vendor1099", False)
        obj.setdefault("CurrencyRef", dict(USD))
        number_fields(obj, ("CostRate", "BillRate"))
        if "TaxIdentifier" in obj:
            obj["TaxIdentifier"] = "XXXXXX" + str(obj["TaxIdentifier"])[-4:]
    else:
        as_bool(obj, "BillableTime", False)
        number_fields(obj, ("CostRate", "BillRate"))
        if "SSN" in obj:
            obj["SSN"] = "XXX-XX-XXXX"


def item(realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str) -> None:
    """Item: Name unique among items, Type, accounts by type, sub-items."""
    obj.pop("FullyQualifiedName", None)
    obj.pop("Level", None)
    name = _check_name(require(obj, "Name"), "Name")
    obj["Name"] = name
    item_type = require(obj, "Type")
    if item_type not in _ITEM_TYPES:
        raise faults.invalid_enum(str(item_type), "Type")
    if item_type == "Inventory":
        require(obj, "AssetAccountRef")
        require(obj, "IncomeAccountRef")
        require(obj, "ExpenseAccountRef")
    elif item_type in ("Service", "NonInventory") and not (
        "IncomeAccountRef" in obj or "ExpenseAccountRef" in obj
    ):
        raise faults.required_field("IncomeAccountRef")
    as_bool(obj, "Active", True)
    _unique(realm, ("Item",), "Name", name, (entity, _own_id(existing)))
    _hierarchy(realm, obj, "Item", "SubItem", name, _own_id(existing))
    if not obj["SubItem"]:
        # QBO leaves SubItem out of top-level items (samples/item.response.json).
        del obj["SubItem"]
    number_fields(obj, ("UnitPrice", "PurchaseCost", "QtyOnHand"))
    for key, default in (
        ("Taxable", False),
        ("UnitPrice", 0),
        ("PurchaseCost", 0),
        ("TrackQtyOnHand", False),
    ):
        obj.setdefault(key, default)


def account(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """Account: Name, type/subtype, Classification, sub-accounts."""
    for ro in (
        "FullyQualifiedName",
        "Classification",
        "CurrentBalance",
        "CurrentBalanceWithSubAccounts",
        "Level",
    ):
        obj.pop(ro, None)
    name = _check_name(require(obj, "Name"), "Name")
    obj["Name"] = name
    if "AccountType" not in obj and "AccountSubType" not in obj:
        raise faults.validation(
            "6010",
            "Required param missing, need to supply the required value for the API",
            "AccountType or AccountSubType is required",
            "AccountType",
        )
    acct_type = obj.get("AccountType")
    if acct_type is None:
        sub = obj["AccountSubType"]
        acct_type = next((t for t, s in _DEFAULT_SUBTYPE.items() if s == sub), None)
        if acct_type is None:
            raise faults.invalid_enum(str(sub), "AccountSubType")
        obj["AccountType"] = acct_type
    if acct_type not in CLASSIFICATION:
        raise faults.invalid_enum(str(acct_type), "AccountType")
    obj.setdefault("AccountSubType", _DEFAULT_SUBTYPE[acct_type])
    obj["Classification"] = CLASSIFICATION[acct_type]
    as_bool(obj, "Active", True)
    _nested_name(realm, obj, entity, "SubAccount", name, existing)
    obj["CurrentBalance"] = existing.get("CurrentBalance", 0) if existing else 0
    obj["CurrentBalanceWithSubAccounts"] = (
        existing.get("CurrentBalanceWithSubAccounts", 0) if existing else 0
    )
    obj.setdefault("CurrencyRef", dict(USD))


def klass(realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str) -> None:
    """Class: Name, sub-classes."""
    obj.pop("FullyQualifiedName", None)
    name = _check_name(require(obj, "Name"), "Name")
    obj["Name"] = name
    as_bool(obj, "Active", True)
    _nested_name(realm, obj, entity, "SubClass", name, existing)


def term(realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str) -> None:
    """Term: Name, STANDARD or DATE_DRIVEN numbers."""
    name = _check_name(require(obj, "Name"), "Name")
    obj["Name"] = name
    as_bool(obj, "Active", True)
    term_type = obj.setdefault("Type", "STANDARD")
    if term_type not in ("STANDARD", "DATE_DRIVEN"):
        raise faults.invalid_enum(str(term_type), "Type")
    number_fields(
        obj,
        (
            "DueDays",
            "DiscountDays",
            "DiscountPercent",
            "DayOfMonthDue",
            "DueNextMonthDays",
            "DiscountDayOfMonth",
        ),
    )
    if term_type == "STANDARD":
        for key in ("DiscountPercent", "DueDays", "DiscountDays"):
            obj.setdefault(key, 0)
    _unique(realm, ("Term",), "Name", name, (entity, _own_id(existing)))


_ATTACH_TARGETS = (
    "Bill",
    "Purchase",
    "VendorCredit",
    "Invoice",
    "Payment",
    "TimeActivity",
    "Customer",
    "Vendor",
    "Employee",
    "Item",
)


def attachable(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """Attachable: a note, a file (via upload) or both, linked to entities."""
    del entity
    for ro in (
        "FileAccessUri",
        "TempDownloadUri",
        "ThumbnailFileAccessUri",
        "ThumbnailTempDownloadUri",
    ):
        obj.pop(ro, None)
    if existing is not None:
        for key in ("FileName", "ContentType", "Size", "FileAccessUri"):
            if key in existing:
                obj[key] = existing[key]
    if "FileName" not in obj and "Note" not in obj:
        raise faults.required_field("Note")
    if "Note" in obj and (not isinstance(obj["Note"], str) or len(obj["Note"]) > 4000):
        raise faults.invalid_field("Note", "Note must be a string of at most 4000 characters")
    for ref in list_field(obj, "AttachableRef"):
        target = ref.get("EntityRef")
        if not isinstance(target, dict) or "value" not in target:
            raise faults.required_field("AttachableRef.EntityRef")
        kind = target.get("type")
        if kind not in _ATTACH_TARGETS:
            raise faults.validation(
                "6050",
                "Invalid Entity Type",
                f"Unsupported EntityRef type: {kind}",
                "AttachableRef.EntityRef",
            )
        target["value"] = str(target["value"])
        if realm.get(kind, target["value"]) is None:
            raise faults.invalid_reference("AttachableRef.EntityRef", kind, target["value"])
        as_bool(ref, "IncludeOnSend", False)


_CURRENCIES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "AUD": "Australian Dollar",
    "MXN": "Mexican Peso",
    "JPY": "Japanese Yen",
    "INR": "Indian Rupee",
    "CHF": "Swiss Franc",
    "NZD": "New Zealand Dollar",
}


def table_rule(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """Apply the entity's row of ``entity_table.TABLE`` to a write (issue 23).

    The same steps for every table entity, in order: drop read-only fields, required fields
    (2020), enumerations (2170), booleans and numbers (2010), defaults, the unique name and its
    hierarchy, then the transaction's lines or amount and its totals, then the references.
    """
    rules = entity_table.TABLE[entity]
    for ro in rules.readonly:
        obj.pop(ro, None)
    for field in rules.required:
        require(obj, field)
    for field, default in rules.defaults:
        if field not in obj:
            obj[field] = clean(default) if isinstance(default, dict | list) else default
    for field, allowed in rules.enums:
        if field in obj and obj[field] not in allowed:
            raise faults.invalid_enum(str(obj[field]), field)
    for field in rules.bools:
        as_bool(obj, field)
    number_fields(obj, rules.numbers)
    if rules.kind in ("name", "list") and entity != "TaxAgency":
        as_bool(obj, "Active", True)
    if entity == "CompanyCurrency":
        _currency(realm, obj)
    if rules.name_field is not None:
        label = _check_name(obj[rules.name_field], rules.name_field)
        obj[rules.name_field] = label
        if rules.sub_flag is not None:
            _nested_name(realm, obj, entity, rules.sub_flag, label, existing)
        else:
            _unique(realm, (entity,), rules.name_field, label, (entity, _own_id(existing)))
    if rules.kind == "txn":
        txn_rules.txn_common(obj, realm)
        if rules.lines != "sales":
            obj.pop("DueDate", None)
        total = None
        if rules.lines == "sales":
            total = txn_rules.sales_lines(realm, obj, existing)
        elif rules.lines == "expense":
            total = txn_rules.expense_lines(realm, obj, existing, with_linked=False)
        elif rules.lines == "deposit":
            total = txn_rules.deposit_lines(realm, obj, existing)
        if rules.amount is not None:
            amount = to_decimal(obj[rules.amount], rules.amount)
            if amount <= 0:
                raise faults.business_validation(
                    f"{rules.amount} must be more than zero.", rules.amount
                )
            obj[rules.amount] = amount
        if total is not None:
            obj["TotalAmt"] = total
            if rules.balance:
                obj["Balance"] = total
            elif entity in ("SalesReceipt", "RefundReceipt"):
                obj["Balance"] = 0
    for field, target_entity in rules.refs:
        if field in obj:
            target = resolve(realm, obj[field], target_entity, field)
            for ref_field, types in rules.account_types:
                if ref_field == field and target.get("AccountType") not in types:
                    raise faults.business_validation(
                        "You can't use this account for this type of transaction.", field
                    )
    if rules.distinct is not None:
        first, second = (obj.get(f) for f in rules.distinct)
        if (
            isinstance(first, dict)
            and isinstance(second, dict)
            and first.get("value") == second.get("value")
        ):
            raise faults.business_validation(
                "Select different accounts to transfer from and to.", rules.distinct[1]
            )


def _currency(realm: Realm, obj: dict[str, Any]) -> None:
    # Intuit refuses currencies in a company without multicurrency (6000).
    from sandbox import exchange_rates

    exchange_rates.require_multicurrency(realm, "A currency")
    code = str(obj.get("Code", "")).upper()
    if code not in _CURRENCIES:
        raise faults.invalid_enum(code, "Code")
    if code == "USD":
        raise faults.business_validation("The home currency is already in the company.", "Code")
    obj["Code"] = code
    obj["Name"] = _CURRENCIES[code]


def singleton(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """CompanyInfo and Preferences: updatable settings.

    Multicurrency, once on, stays on (Intuit: it cannot be turned off): 6000.
    """
    del realm
    if entity != "Preferences" or existing is None:
        return
    was_on = (existing.get("CurrencyPrefs") or {}).get("MultiCurrencyEnabled") is True
    prefs = obj.get("CurrencyPrefs")
    if isinstance(prefs, dict) and "MultiCurrencyEnabled" in prefs:
        as_bool(prefs, "MultiCurrencyEnabled")
        if was_on and prefs["MultiCurrencyEnabled"] is False:
            raise faults.business_validation(
                "Multicurrency cannot be turned off once it is on.",
                "CurrencyPrefs.MultiCurrencyEnabled",
            )


ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec("Bill", "txn", txn_rules.bill_like, deletable=True),
        EntitySpec("Purchase", "txn", txn_rules.purchase, deletable=True),
        EntitySpec("VendorCredit", "txn", txn_rules.bill_like, deletable=True),
        EntitySpec("TimeActivity", "txn", txn_rules.time_activity, deletable=True),
        EntitySpec(
            "Invoice",
            "txn",
            txn_rules.invoice,
            deletable=True,
            voidable=True,
            sendable=True,
            printable=True,
        ),
        EntitySpec("Payment", "txn", txn_rules.payment, deletable=True, voidable=True),
        EntitySpec("BillPayment", "txn", txn_rules.bill_payment, deletable=True, voidable=True),
        EntitySpec("JournalEntry", "txn", journal_rules.journal_entry, deletable=True),
        EntitySpec("Attachable", "attachable", attachable, deletable=True),
        EntitySpec("Customer", "name", person),
        EntitySpec("Vendor", "name", person),
        EntitySpec("Employee", "name", person),
        EntitySpec("Item", "name", item),
        EntitySpec("Account", "name", account),
        EntitySpec("Class", "name", klass),
        EntitySpec("Term", "name", term),
        EntitySpec("CompanyInfo", "singleton", singleton, creatable=False),
        EntitySpec("Preferences", "singleton", singleton, creatable=False),
        *(
            EntitySpec(
                rules.name,
                rules.kind,
                table_rule,
                deletable=entity_table.DELETE in rules.ops,
                voidable=entity_table.VOID in rules.ops,
                creatable=rules.creatable,
                updatable=entity_table.UPDATE in rules.ops,
                sendable=entity_table.SEND in rules.ops,
                printable=entity_table.PDF in rules.ops,
                in_cdc=rules.cdc,
            )
            for rules in entity_table.TABLE.values()
        ),
    )
}
_BY_PATH = {spec.path: spec for spec in ENTITIES.values()}
_BY_FOLDED = {name.casefold(): name for name in ENTITIES}
NAME_LISTS = frozenset(n for n, s in ENTITIES.items() if s.kind == "name")
_BY_JSON_KEY = {spec.json_key: spec.name for spec in ENTITIES.values()}


def spec_for_path(path: str) -> EntitySpec | None:
    """Return the spec for a URL segment (``"bill"``), or None. QBO paths are lowercase."""
    return _BY_PATH.get(path)


def canonical(name: str) -> str | None:
    """Map an entity name in any case (``bill``) to its canonical form (``Bill``)."""
    return _BY_FOLDED.get(str(name).casefold())


def by_json_key(key: str) -> str | None:
    """The entity whose answers use ``key`` (``CreditCardPaymentTxn`` -> ``CreditCardPayment``)."""
    return _BY_JSON_KEY.get(key)


def prepare(
    realm: Realm, spec: EntitySpec, body: Any, existing: dict[str, Any] | None
) -> dict[str, Any]:
    """Validate client input and return the object to store (header fields not yet set)."""
    if not isinstance(body, dict):
        raise faults.invalid_field(spec.name, f"{spec.name} must be a JSON object")
    obj: dict[str, Any] = clean(body)
    for key in COMMON_READONLY:
        obj.pop(key, None)
    if spec.rule is not None:
        spec.rule(realm, obj, existing, spec.name)
    # Any other reference (ClassRef on a line, TermRef on a vendor...) must exist and be active.
    resolve_all(realm, obj)
    return obj


def finish(spec: EntitySpec, obj: dict[str, Any]) -> dict[str, Any]:
    """Add the response header QBO puts on every entity (API.md §1.3)."""
    del spec
    obj["domain"] = "QBO"
    obj["sparse"] = False
    return obj


def linked_updates(
    realm: Realm, spec: EntitySpec, new: dict[str, Any] | None, old: dict[str, Any] | None
) -> list[tuple[str, dict[str, Any]]]:
    """Other objects a write changes as a side effect (invoices or bills paid by a payment)."""
    if spec.name == "CompanyCurrency" and new is not None and old is None:
        from sandbox import exchange_rates

        exchange_rates.add_default_rate(realm, str(new["Code"]))
    if spec.name == "Payment":
        return txn_rules.payment_followups(realm, new, old)
    if spec.name == "BillPayment":
        return txn_rules.payment_followups(realm, new, old, payer="BillPayment", target="Bill")
    if spec.name == "Bill" and new is None and old is not None:
        paid, _ = txn_rules.applied_to(realm, old["Id"], payer="BillPayment", target="Bill")
        if paid:
            raise faults.business_validation(
                "This bill has payments applied. Delete the bill payments first."
            )
    if spec.name == "Invoice" and new is None and old is not None:
        applied, _ = txn_rules.applied_to(realm, old["Id"])
        if applied:
            raise faults.business_validation(
                "This invoice has payments applied. Delete the payments first."
            )
    return []


def voided(existing: dict[str, Any]) -> dict[str, Any]:
    """The voided copy of an Invoice or Payment."""
    return txn_rules.voided(existing)


def computed_for_insert(realm: Realm, spec: EntitySpec, obj: dict[str, Any]) -> dict[str, Any]:
    """Seed path: computed fields only (lines, totals, hierarchy), no checks."""
    txn_rules.totals_for_insert(spec.name, obj)
    if spec.name == "Account" and "AccountType" in obj:
        obj.setdefault("Classification", CLASSIFICATION.get(obj["AccountType"], "Expense"))
    if spec.kind == "name":
        obj.setdefault("Active", True)
        label = obj.get("DisplayName") or obj.get("Name") or ""
        parent_ref = obj.get("ParentRef")
        parent = (
            realm.get(spec.name, str(parent_ref.get("value")))
            if isinstance(parent_ref, dict)
            else None
        )
        if parent is not None:
            obj["FullyQualifiedName"] = f"{parent.get('FullyQualifiedName', '')}:{label}"
            if spec.name in ("Customer", "Item"):
                obj["Level"] = int(parent.get("Level", 0)) + 1
        elif "FullyQualifiedName" in TYPES.get(spec.name, {}):
            # Only where the XSD defines it: a Term or PaymentMethod has none, and a client
            # echoing one back would be refused (2010), as at Intuit.
            obj.setdefault("FullyQualifiedName", label)
        if spec.name == "Customer":
            obj.setdefault("IsProject", False)
    return obj


def run_query(realm: Realm, qmod: Any, text: str) -> dict[str, Any]:
    """Parse and run a SELECT; return the ``QueryResponse`` object (API.md §4.4, §4.5).

    ``query.execute`` applies the name-list active-only default (§4.5) and shapes the page;
    every ``QueryError`` becomes the Fault it describes (4000 parse error, 4001 bad field).
    """
    sb = realm.sb
    try:
        query_rules.check_size(text)
        query = qmod.parse(text)
        entity = canonical(query.entity)
        if entity is None:
            raise qmod.QueryParseError(f"Invalid context declaration : {query.entity}")
        query = dataclasses.replace(query, entity=entity)
        query_rules.check(query)
        if entity in ("ExchangeRate", "RecurringTransaction"):
            result = _own_endpoint_query(realm, qmod, query)
        elif entity == "TaxCode" and not query.count:
            result = _tax_code_query(realm, qmod, query)
        elif query.fields or _reads_computed(query):
            result = qmod.execute(query, realm.all_shown(entity), active_default=True)
        else:
            # Filter and sort the stored objects; compute read-time fields for the page only,
            # so paging a large company costs the page, not the whole company, each time.
            result = qmod.execute(query, realm.all_stored(entity), active_default=True)
            result = dataclasses.replace(result, rows=realm.shown_rows(entity, result.rows))
    except qmod.QueryError as exc:
        sb.log_query(realm.id, text, refused=f"{exc.code} {exc.detail}")
        raise faults.validation(str(exc.code), exc.title, exc.detail) from None
    sb.log_query(realm.id, text, refused=None)
    cap = sb.max_query_results
    if result.count is None and len(result.rows) > cap:
        # A page cut below what was asked (the server's own cap): `maxResults` says so.
        result = dataclasses.replace(result, rows=result.rows[:cap])
    response: dict[str, Any] = result.to_query_response()
    key = ENTITIES[entity].json_key
    if key != entity and entity in response:
        response[key] = response.pop(entity)
    return response


def _own_endpoint_query(realm: Realm, qmod: Any, query: Any) -> Any:
    """ExchangeRate and RecurringTransaction: stored rows, answered as their endpoints answer.

    A rate has no Id in answers; a template comes back as ``{kind: transaction}``.
    """
    from sandbox import exchange_rates
    from sandbox import recurring

    rates = query.entity == "ExchangeRate"
    rows = exchange_rates.rows(realm) if rates else realm.all(query.entity)
    result = qmod.execute(query, rows, active_default=True)
    if result.count is not None or query.fields:
        return result
    shaped = [
        exchange_rates.shown(row) if rates else recurring.shown(realm, row) for row in result.rows
    ]
    return dataclasses.replace(result, rows=shaped)


def _tax_code_query(realm: Realm, qmod: Any, query: Any) -> Any:
    """A TaxCode page: the pseudo codes (``TAX``, ``NON``, ``CustomSalesTax``) that match come
    first and outside ``MAXRESULTS``/``STARTPOSITION``, then the page of the company's codes.

    Intuit answers ``SELECT * FROM TaxCode MAXRESULTS 1`` with four codes (a known quirk,
    intuitdeveloper.lc.intuit.com question 1398164; python-quickbooks' integration tests
    assert it); the pseudo codes are the ones whose Id is not a number.
    """
    rows = realm.all_shown("TaxCode")
    pseudo = [row for row in rows if not str(row["Id"]).isdigit()]
    real = [row for row in rows if str(row["Id"]).isdigit()]
    unpaged = dataclasses.replace(query, start_position=None, max_results=None)
    extra = qmod.execute(unpaged, pseudo, active_default=True).rows
    result = qmod.execute(query, real, active_default=True)
    if not extra:
        return result
    return dataclasses.replace(result, rows=[*extra, *result.rows])


#: Fields whose value is computed when a record is read (names after renames, balances).
COMPUTED_FIELDS = ("name", "FullyQualifiedName", "Level", "Balance", "BalanceWithJobs")


def _reads_computed(query: Any) -> bool:
    """Whether a condition or sort key names a computed-on-read field."""
    paths = [c.field for c in query.where] + [k.field for k in query.order]
    return any(path.split(".")[-1] in COMPUTED_FIELDS for path in paths)
