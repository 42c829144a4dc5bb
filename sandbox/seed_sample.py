"""``--seed sample``: a small US company shaped like the one Intuit gives every developer.

Intuit's sandbox company is a landscaping business with accounts numbered from 1, every common
account type and sub-type, a tax agency with codes and rates, payment methods, terms,
departments, classes, customers with sub-customers, vendors, employees, items of every type
and a few transactions of each kind. This one has the same shape in our own words: the names
and amounts are ours, the structure (small integer Ids from 1, the ``TAX``/``NON`` tax codes of
a US company, the account sub-types clients look up) is Intuit's.

Lists go in through ``Realm.insert`` with fixed Ids; transactions through ``Realm.create``, so
every one of them passes the same rules a client's write does. Dates are relative to the
sandbox clock's today (the company's zone), so the company looks current whenever it is made.
"""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sandbox import schema
from sandbox.entities import CLASSIFICATION
from sandbox.entities import ENTITIES
from sandbox.entities import prepare

if TYPE_CHECKING:
    from sandbox.state import Realm
    from sandbox.state import Sandbox

__all__ = ["SAMPLE_REALM_ID", "seed_sample"]

SAMPLE_REALM_ID = "4620816365257778"
"""Realm id of the sample company (16 digits, like Intuit's sandbox companies)."""

COMPANY_NAME = "Sandbox Company_US_1"

# (Id, Name, AccountType, AccountSubType, parent Id)
ACCOUNTS: tuple[tuple[int, str, str, str, int | None], ...] = (
    (1, "Services", "Income", "ServiceFeeIncome", None),
    (2, "Sales of Product Income", "Income", "SalesOfProductIncome", None),
    (3, "Design income", "Income", "ServiceFeeIncome", None),
    (4, "Checking", "Bank", "Checking", None),
    (5, "Inventory Asset", "Other Current Asset", "Inventory", None),
    (6, "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", None),
    (7, "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", None),
    (8, "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", None),
    (9, "Undeposited Funds", "Other Current Asset", "UndepositedFunds", None),
    (10, "Savings", "Bank", "Savings", None),
    (11, "Mastercard", "Credit Card", "CreditCard", None),
    (13, "Advertising", "Expense", "AdvertisingPromotional", None),
    (14, "Automobile", "Expense", "Auto", None),
    (15, "Fuel", "Expense", "Auto", 14),
    (16, "Insurance", "Expense", "Insurance", None),
    (17, "Job Expenses", "Expense", "OtherMiscellaneousServiceCost", None),
    (18, "Job Materials", "Expense", "SuppliesMaterials", 17),
    (19, "Legal & Professional Fees", "Expense", "LegalProfessionalFees", None),
    (20, "Office Expenses", "Expense", "OfficeGeneralAdministrativeExpenses", None),
    (21, "Rent or Lease", "Expense", "RentOrLeaseOfBuildings", None),
    (22, "Repair & Maintenance", "Expense", "RepairMaintenance", None),
    (23, "Utilities", "Expense", "Utilities", None),
    (24, "Meals and Entertainment", "Expense", "EntertainmentMeals", None),
    (25, "Travel", "Expense", "Travel", None),
    (26, "Bank Charges", "Expense", "BankCharges", None),
    (27, "Payroll Expenses", "Expense", "PayrollExpenses", None),
    (28, "Truck", "Fixed Asset", "Vehicles", None),
    (29, "Depreciation", "Fixed Asset", "AccumulatedDepreciation", 28),
    (30, "Prepaid Expenses", "Other Current Asset", "PrepaidExpenses", None),
    (31, "Security Deposits", "Other Asset", "SecurityDeposits", None),
    (32, "Loan Payable", "Other Current Liability", "LoanPayable", None),
    (33, "Board of Equalization Payable", "Other Current Liability", "SalesTaxPayable", None),
    (34, "Notes Payable", "Long Term Liability", "NotesPayable", None),
    (35, "Opening Balance Equity", "Equity", "OpeningBalanceEquity", None),
    (36, "Retained Earnings", "Equity", "RetainedEarnings", None),
    (37, "Owner's Pay & Personal Expenses", "Equity", "PersonalExpense", None),
    (38, "Interest Earned", "Other Income", "InterestEarned", None),
    (39, "Other Income", "Other Income", "OtherMiscellaneousIncome", None),
    (40, "Miscellaneous", "Other Expense", "OtherMiscellaneousExpense", None),
    (41, "Penalties & Settlements", "Other Expense", "PenaltiesSettlements", None),
    # Intuit's sample company numbers Visa 42 and Discounts given 86; clients' tests name them.
    (42, "Visa", "Credit Card", "CreditCard", None),
    (86, "Discounts given", "Income", "DiscountsRefundsGiven", None),
)

_TERMS = (("Due on receipt", 0), ("Net 10", 10), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60))
_METHODS = (
    ("Cash", "NON_CREDIT_CARD"),
    ("Check", "NON_CREDIT_CARD"),
    ("Visa", "CREDIT_CARD"),
    ("MasterCard", "CREDIT_CARD"),
    ("American Express", "CREDIT_CARD"),
    ("Discover", "CREDIT_CARD"),
)
_CUSTOMERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # (display name, given name, family name, sub-customers)
    ("Alder Creek Vineyards", "Nora", "Alder", ("East Terrace", "Tasting Room Patio")),
    ("Brightwater Dental", "Omar", "Haddad", ()),
    ("Cobalt Cycle Works", "Lena", "Strand", ()),
    ("Dunmore Family", "Pat", "Dunmore", ("Front Yard", "Pool Deck")),
    ("Elm Street Library", "Ravi", "Menon", ()),
    ("Fernhill Apartments", "June", "Okafor", ("Building A",)),
    ("Granite Peak Gym", "Theo", "Marsh", ()),
    ("Harbor View Hotel", "Mia", "Castillo", ()),
)
_VENDORS = (
    ("Bayside Nursery", "Bayside Nursery Inc.", True),
    ("Coastal Power & Light", "Coastal Power & Light", False),
    ("Delta Hardware", "Delta Hardware Supply", False),
    ("Evergreen Equipment Rental", "Evergreen Equipment Rental", False),
    ("Fulton Insurance", "Fulton Insurance Group", False),
    ("Green Valley Fuel", "Green Valley Fuel", False),
    ("Redwood Legal Services", "Redwood Legal Services LLP", True),
)
_EMPLOYEES = (("Ana", "Reyes"), ("Ben", "Ito"), ("Cara", "Lund"))
# (Id, Name, UnitPrice, income account Id): services, as numbered in Intuit's sample company.
_SERVICE_ITEMS = (
    (1, "Services", 0, 1),
    (2, "Hours", 40, 1),
    (4, "Design", 75, 3),
    (6, "Gardening", 50, 3),
    (7, "Installation", 50, 1),
    (8, "Lighting", 45, 1),
    (9, "Maintenance & Repair", 60, 1),
    (10, "Pest Control", 35, 1),
    (17, "Trimming", 35, 3),
)
# (Id, Name, UnitPrice, PurchaseCost): goods bought as needed, not stocked.
_NON_INVENTORY_ITEMS = (
    (3, "Concrete", 15, 8),
    (11, "Pump", 15, 10),
    (13, "Rocks", 20, 9),
    (14, "Sod", 3, 1),
    (15, "Sprinkler Heads", 2, 1),
    (16, "Sprinkler Pipes", 4, 2),
)


def seed_sample(sb: Sandbox, realm_id: str | None = None) -> Realm:
    """Create (or replace) the sample company.

    Args:
        sb: The sandbox to add the realm to.
        realm_id: Digits; ``SAMPLE_REALM_ID`` when None.

    Returns:
        The seeded realm.
    """
    realm = sb.add_realm(realm_id or SAMPLE_REALM_ID, COMPANY_NAME)
    realm.seeding = True
    try:
        _Sample(realm).run()
    finally:
        realm.seeding = False
    return realm


def _ref(obj: dict[str, Any]) -> dict[str, str]:
    return {"value": str(obj["Id"])}


class _Sample:
    def __init__(self, realm: Realm) -> None:
        self.realm = realm
        self.today = date.fromisoformat(str(realm.sb.clock.today())[:10])
        self.ids: dict[str, dict[str, Any]] = {}

    def day(self, days_ago: int) -> str:
        return (self.today - timedelta(days=days_ago)).isoformat()

    def insert(self, entity: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.realm.insert(entity, obj)

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.realm.create(entity, body)

    def acct(self, account_id: int) -> dict[str, str]:
        return {"value": str(account_id)}

    def run(self) -> None:
        self.accounts()
        self.lists()
        self.tax()
        self.names()
        self.items()
        self.transactions()
        self.budget()

    # -- lists ------------------------------------------------------------------------------

    def accounts(self) -> None:
        for account_id, name, kind, sub, parent in ACCOUNTS:
            obj: dict[str, Any] = {
                "Id": str(account_id),
                "Name": name,
                "SubAccount": parent is not None,
                "Active": True,
                "Classification": CLASSIFICATION[kind],
                "AccountType": kind,
                "AccountSubType": sub,
                "CurrentBalance": Decimal(0),
                "CurrentBalanceWithSubAccounts": Decimal(0),
                "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
            }
            if parent is not None:
                obj["ParentRef"] = {"value": str(parent)}
            self.insert("Account", obj)

    def lists(self) -> None:
        for name, days in _TERMS:
            self.ids[f"term:{name}"] = self.insert(
                "Term",
                {
                    "Name": name,
                    "Active": True,
                    "Type": "STANDARD",
                    "DueDays": days,
                    "DiscountPercent": 0,
                    "DiscountDays": 0,
                },
            )
        for name, kind in _METHODS:
            self.ids[f"method:{name}"] = self.insert(
                "PaymentMethod", {"Name": name, "Type": kind, "Active": True}
            )
        north = self.insert("Department", {"Name": "North", "SubDepartment": False})
        south = self.insert("Department", {"Name": "South", "SubDepartment": False})
        self.ids["dept:north"] = north
        self.ids["dept:coast"] = self.insert(
            "Department", {"Name": "Coast", "SubDepartment": True, "ParentRef": _ref(south)}
        )
        residential = self.insert("Class", {"Name": "Residential", "SubClass": False})
        commercial = self.insert("Class", {"Name": "Commercial", "SubClass": False})
        self.ids["class:residential"] = residential
        self.ids["class:retail"] = self.insert(
            "Class", {"Name": "Retail", "SubClass": True, "ParentRef": _ref(commercial)}
        )
        for name in ("Residential", "Commercial"):
            self.ids[f"ctype:{name}"] = self.insert("CustomerType", {"Name": name, "Active": True})

    def tax(self) -> None:
        agency = self.insert(
            "TaxAgency",
            {
                "Id": "1",
                "DisplayName": "Board of Equalization",
                "TaxTrackedOnSales": True,
                "TaxTrackedOnPurchases": False,
            },
        )
        rates = []
        for name, value in (("State", Decimal("6.25")), ("County", Decimal("1.5"))):
            rates.append(
                self.insert(
                    "TaxRate",
                    {
                        "Name": f"{name} sales tax",
                        "Description": f"{name} sales tax",
                        "Active": True,
                        "RateValue": value,
                        "AgencyRef": {"value": agency["Id"], "name": agency["DisplayName"]},
                        "SpecialTaxType": "NONE",
                        "DisplayType": "ReadOnly",
                        "EffectiveTaxRate": [{"RateValue": value, "EffectiveDate": "2014-01-01"}],
                    },
                )
            )
        # A US company's two pseudo codes, then a combined code of both rates.
        for code, taxable in (("TAX", True), ("NON", False), ("CustomSalesTax", True)):
            self.insert(
                "TaxCode",
                {
                    "Id": code,
                    "Name": code,
                    "Description": {"TAX": "Taxable", "NON": "Non-taxable"}.get(
                        code, "Custom sales tax"
                    ),
                    "Active": True,
                    "Hidden": False,
                    "Taxable": taxable,
                    "TaxGroup": False,
                },
            )
        self.ids["taxcode"] = self.insert(
            "TaxCode",
            {
                "Name": "California",
                "Description": "State and county sales tax",
                "Active": True,
                "Hidden": False,
                "Taxable": True,
                "TaxGroup": True,
                "SalesTaxRateList": {
                    "TaxRateDetail": [
                        {
                            "TaxRateRef": {"value": rate["Id"], "name": rate["Name"]},
                            "TaxTypeApplicable": "TaxOnAmount",
                            "TaxOrder": 0,
                        }
                        for rate in rates
                    ]
                },
                "PurchaseTaxRateList": {"TaxRateDetail": []},
            },
        )

    def names(self) -> None:
        net30 = _ref(self.ids["term:Net 30"])
        for index, (display, given, family, subs) in enumerate(_CUSTOMERS):
            kind = "Commercial" if index % 2 else "Residential"
            parent = self.create(
                "Customer",
                {
                    "DisplayName": display,
                    "CompanyName": display,
                    "GivenName": given,
                    "FamilyName": family,
                    "PrimaryEmailAddr": {"Address": f"{given.lower()}@example.com"},
                    "BillAddr": {
                        "Line1": f"{100 + index * 7} Orchard Lane",
                        "City": "Half Moon Bay",
                        "CountrySubDivisionCode": "CA",
                        "PostalCode": "94019",
                    },
                    "SalesTermRef": net30,
                    "CustomerTypeRef": _ref(self.ids[f"ctype:{kind}"]),
                },
            )
            self.ids[f"customer:{index}"] = parent
            for sub_index, sub in enumerate(subs):
                self.ids[f"job:{index}:{sub_index}"] = self.create(
                    "Customer",
                    {
                        "DisplayName": sub,
                        "ParentRef": _ref(parent),
                        "Job": True,
                        "BillWithParent": True,
                    },
                )
        for index, (display, company, is_1099) in enumerate(_VENDORS):
            self.ids[f"vendor:{index}"] = self.create(
                "Vendor",
                {
                    "DisplayName": display,
                    "CompanyName": company,
                    "Vendor1099": is_1099,
                    "TermRef": net30,
                    "PrimaryEmailAddr": {"Address": f"billing{index}@example.com"},
                },
            )
        for index, (given, family) in enumerate(_EMPLOYEES):
            self.ids[f"employee:{index}"] = self.create(
                "Employee",
                {
                    "GivenName": given,
                    "FamilyName": family,
                    "BillableTime": index == 0,
                    "BillRate": 25 + 5 * index,
                },
            )

    def create_numbered(self, entity: str, id_: int, body: dict[str, Any]) -> dict[str, Any]:
        """Check ``body`` by the entity's rules as a create would, store it under ``id_``."""
        spec = ENTITIES[entity]
        obj = prepare(self.realm, spec, schema.checked(entity, body), None)
        obj["Id"] = str(id_)
        return self.insert(entity, obj)

    def items(self) -> None:
        # Numbered from 1 as Intuit's sample company numbers its items (clients' tests name
        # Item 10, a service); the category comes last so the sold items keep small Ids.
        category = self.create_numbered("Item", 18, {"Name": "Landscaping", "Type": "Category"})
        for id_, name, price, account in _SERVICE_ITEMS:
            body: dict[str, Any] = {
                "Name": name,
                "Type": "Service",
                "UnitPrice": price,
                "IncomeAccountRef": self.acct(account),
            }
            if name in ("Gardening", "Trimming"):
                body.update(ParentRef=_ref(category), SubItem=True)
            self.ids[f"item:{name}"] = self.create_numbered("Item", id_, body)
        self.ids["item:service"] = self.ids["item:Gardening"]
        self.ids["item:hours"] = self.ids["item:Hours"]
        self.ids["item:rocks"] = self.create_numbered(
            "Item",
            5,
            {
                "Name": "Rock Fountain",
                "Type": "Inventory",
                "Sku": "RF-100",
                "UnitPrice": 275,
                "PurchaseCost": 125,
                "TrackQtyOnHand": True,
                "QtyOnHand": 20,
                "InvStartDate": self.day(200),
                "IncomeAccountRef": self.acct(2),
                "ExpenseAccountRef": self.acct(6),
                "AssetAccountRef": self.acct(5),
            },
        )
        for id_, name, price, cost in _NON_INVENTORY_ITEMS:
            self.ids[f"item:{name}"] = self.create_numbered(
                "Item",
                id_,
                {
                    "Name": name,
                    "Type": "NonInventory",
                    "UnitPrice": price,
                    "PurchaseCost": cost,
                    "IncomeAccountRef": self.acct(2),
                    "ExpenseAccountRef": self.acct(6),
                },
            )
        self.ids["item:sod"] = self.ids["item:Sod"]

    # -- transactions -----------------------------------------------------------------------

    def _sales_line(self, item: str, qty: int, price: int) -> dict[str, Any]:
        return {
            "Amount": qty * price,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {
                "ItemRef": _ref(self.ids[item]),
                "Qty": qty,
                "UnitPrice": price,
            },
        }

    def _expense_line(self, account_id: int, amount: int, note: str) -> dict[str, Any]:
        return {
            "Amount": amount,
            "Description": note,
            "DetailType": "AccountBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail": {"AccountRef": self.acct(account_id)},
        }

    def transactions(self) -> None:
        cust = [self.ids[f"customer:{i}"] for i in range(len(_CUSTOMERS))]
        vend = [self.ids[f"vendor:{i}"] for i in range(len(_VENDORS))]
        invoices = []
        for index in range(6):
            invoices.append(
                self.create(
                    "Invoice",
                    {
                        "CustomerRef": _ref(cust[index]),
                        "TxnDate": self.day(60 - index * 9),
                        "BillEmail": {"Address": "accounts@example.com"},
                        "DepartmentRef": _ref(self.ids["dept:north"]),
                        "Line": [
                            self._sales_line("item:service", 4 + index, 50),
                            self._sales_line("item:rocks", 1, 275),
                        ],
                    },
                )
            )
        for invoice in invoices[:5]:
            self.create(
                "Payment",
                {
                    "CustomerRef": dict(invoice["CustomerRef"]),
                    "TotalAmt": invoice["TotalAmt"],
                    "TxnDate": self.day(5),
                    "PaymentMethodRef": _ref(self.ids["method:Check"]),
                    "DepositToAccountRef": self.acct(9),
                    "Line": [
                        {
                            "Amount": invoice["TotalAmt"],
                            "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                        }
                    ],
                },
            )
        bills = []
        for index in range(5):
            bills.append(
                self.create(
                    "Bill",
                    {
                        "VendorRef": _ref(vend[index]),
                        "TxnDate": self.day(45 - index * 6),
                        "DocNumber": f"B-{200 + index}",
                        "Line": [self._expense_line(18 + (index % 3), 120 + index * 35, "Stock")],
                    },
                )
            )
        self.create(
            "BillPayment",
            {
                "VendorRef": dict(bills[0]["VendorRef"]),
                "PayType": "Check",
                "TotalAmt": bills[0]["TotalAmt"],
                "TxnDate": self.day(3),
                "CheckPayment": {"BankAccountRef": self.acct(4)},
                "Line": [
                    {
                        "Amount": bills[0]["TotalAmt"],
                        "LinkedTxn": [{"TxnId": bills[0]["Id"], "TxnType": "Bill"}],
                    }
                ],
            },
        )
        self.create(
            "VendorCredit",
            {
                "VendorRef": _ref(vend[2]),
                "TxnDate": self.day(20),
                "Line": [self._expense_line(18, 40, "Returned fittings")],
            },
        )
        for index, (pay_type, account_id) in enumerate((("Cash", 4), ("CreditCard", 42))):
            self.create(
                "Purchase",
                {
                    "PaymentType": pay_type,
                    "AccountRef": self.acct(account_id),
                    "EntityRef": {"value": vend[5]["Id"], "type": "Vendor"},
                    "TxnDate": self.day(12 - index),
                    "Line": [self._expense_line(15, 65 + index * 10, "Fuel")],
                },
            )
        self.create(
            "Estimate",
            {
                "CustomerRef": _ref(cust[6]),
                "TxnDate": self.day(8),
                "ExpirationDate": self.day(-22),
                "BillEmail": {"Address": "theo@example.com"},
                "Line": [self._sales_line("item:hours", 12, 40)],
            },
        )
        self.create(
            "SalesReceipt",
            {
                "CustomerRef": _ref(cust[7]),
                "TxnDate": self.day(6),
                "PaymentMethodRef": _ref(self.ids["method:Visa"]),
                "DepositToAccountRef": self.acct(9),
                "Line": [self._sales_line("item:sod", 100, 3)],
            },
        )
        self.create(
            "CreditMemo",
            {
                "CustomerRef": _ref(cust[4]),
                "TxnDate": self.day(4),
                "Line": [self._sales_line("item:hours", 1, 40)],
            },
        )
        self.create(
            "RefundReceipt",
            {
                "CustomerRef": _ref(cust[5]),
                "TxnDate": self.day(2),
                "DepositToAccountRef": self.acct(4),
                "PaymentMethodRef": _ref(self.ids["method:Check"]),
                "Line": [self._sales_line("item:sod", 10, 3)],
            },
        )
        self.create(
            "PurchaseOrder",
            {
                "VendorRef": _ref(vend[0]),
                "APAccountRef": self.acct(7),
                "TxnDate": self.day(7),
                "Line": [
                    {
                        "Amount": 500,
                        "DetailType": "ItemBasedExpenseLineDetail",
                        "ItemBasedExpenseLineDetail": {
                            "ItemRef": _ref(self.ids["item:rocks"]),
                            "Qty": 4,
                            "UnitPrice": 125,
                        },
                    }
                ],
            },
        )
        self.create(
            "Deposit",
            {
                "DepositToAccountRef": self.acct(4),
                "TxnDate": self.day(1),
                "Line": [
                    {
                        "Amount": 150,
                        "DetailType": "DepositLineDetail",
                        "DepositLineDetail": {"AccountRef": self.acct(39)},
                    }
                ],
            },
        )
        self.create(
            "Transfer",
            {
                "FromAccountRef": self.acct(4),
                "ToAccountRef": self.acct(10),
                "Amount": 1000,
                "TxnDate": self.day(10),
            },
        )
        self.create(
            "CreditCardPayment",
            {
                "CreditCardAccountRef": self.acct(42),
                "BankAccountRef": self.acct(4),
                "Amount": 75,
                "TxnDate": self.day(9),
            },
        )
        self.create(
            "JournalEntry",
            {
                "TxnDate": self.day(15),
                "DocNumber": "JE-1",
                "Line": [
                    {
                        "Amount": 300,
                        "DetailType": "JournalEntryLineDetail",
                        "JournalEntryLineDetail": {
                            "PostingType": "Debit",
                            "AccountRef": self.acct(30),
                        },
                    },
                    {
                        "Amount": 300,
                        "DetailType": "JournalEntryLineDetail",
                        "JournalEntryLineDetail": {
                            "PostingType": "Credit",
                            "AccountRef": self.acct(4),
                        },
                    },
                ],
            },
        )
        self.create(
            "TimeActivity",
            {
                "NameOf": "Employee",
                "EmployeeRef": _ref(self.ids["employee:0"]),
                "CustomerRef": _ref(self.ids["job:0:0"]),
                "ItemRef": _ref(self.ids["item:hours"]),
                "TxnDate": self.day(2),
                "Hours": 6,
                "Minutes": 30,
                "BillableStatus": "Billable",
                "HourlyRate": 40,
            },
        )

    def budget(self) -> None:
        year = self.today.year
        self.insert(
            "Budget",
            {
                "Name": f"Operating budget {year}",
                "StartDate": f"{year}-01-01",
                "EndDate": f"{year}-12-31",
                "BudgetType": "ProfitAndLoss",
                "BudgetEntryType": "Monthly",
                "Active": True,
                "BudgetDetail": [
                    {
                        "BudgetDate": f"{year}-{month:02d}-01",
                        "Amount": Decimal(amount),
                        "AccountRef": {"value": str(account_id)},
                    }
                    for month in range(1, 13)
                    for account_id, amount in ((21, 1800), (23, 240))
                ],
            },
        )
