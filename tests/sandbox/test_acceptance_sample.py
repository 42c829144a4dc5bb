"""Acceptance (issue 23): python-quickbooks and intuit-oauth, unchanged but for their base URLs,
drive every entity the sandbox serves against ``--seed sample``.

The client library builds its own requests (object models with empty defaults, its own query
text such as ``SELECT *, Sku FROM Item``), so each test here fails if the sandbox refuses
something Intuit takes, or answers in a shape the library cannot read.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs
from urllib.parse import urlparse

import pytest
import requests

from sandbox import SandboxServer
from sandbox.config import OAuthClient
from sandbox.config import SandboxConfig

intuitlib_client = pytest.importorskip("intuitlib.client")
from intuitlib.enums import Scopes  # noqa: E402
from quickbooks import QuickBooks  # noqa: E402
from quickbooks.batch import batch_create  # noqa: E402
from quickbooks.cdc import change_data_capture  # noqa: E402
from quickbooks.exceptions import QuickbooksException  # noqa: E402
from quickbooks.objects.account import Account  # noqa: E402
from quickbooks.objects.bill import Bill  # noqa: E402
from quickbooks.objects.billpayment import BillPayment  # noqa: E402
from quickbooks.objects.budget import Budget  # noqa: E402
from quickbooks.objects.companycurrency import CompanyCurrency  # noqa: E402
from quickbooks.objects.creditcardpayment_entity import CreditCardPayment  # noqa: E402
from quickbooks.objects.creditmemo import CreditMemo  # noqa: E402
from quickbooks.objects.customer import Customer  # noqa: E402
from quickbooks.objects.customertype import CustomerType  # noqa: E402
from quickbooks.objects.department import Department  # noqa: E402
from quickbooks.objects.deposit import Deposit  # noqa: E402
from quickbooks.objects.deposit import DepositLine  # noqa: E402
from quickbooks.objects.deposit import DepositLineDetail  # noqa: E402
from quickbooks.objects.detailline import AccountBasedExpenseLine  # noqa: E402
from quickbooks.objects.detailline import AccountBasedExpenseLineDetail  # noqa: E402
from quickbooks.objects.detailline import DiscountLine  # noqa: E402
from quickbooks.objects.detailline import DiscountLineDetail  # noqa: E402
from quickbooks.objects.detailline import SalesItemLine  # noqa: E402
from quickbooks.objects.detailline import SalesItemLineDetail  # noqa: E402
from quickbooks.objects.employee import Employee  # noqa: E402
from quickbooks.objects.estimate import Estimate  # noqa: E402
from quickbooks.objects.exchangerate import ExchangeRate  # noqa: E402
from quickbooks.objects.invoice import Invoice  # noqa: E402
from quickbooks.objects.item import Item  # noqa: E402
from quickbooks.objects.journalentry import JournalEntry  # noqa: E402
from quickbooks.objects.payment import Payment  # noqa: E402
from quickbooks.objects.paymentmethod import PaymentMethod  # noqa: E402
from quickbooks.objects.preferences import Preferences  # noqa: E402
from quickbooks.objects.purchase import Purchase  # noqa: E402
from quickbooks.objects.purchaseorder import PurchaseOrder  # noqa: E402
from quickbooks.objects.recurringtransaction import RecurringBill  # noqa: E402
from quickbooks.objects.recurringtransaction import RecurringInfo  # noqa: E402
from quickbooks.objects.recurringtransaction import RecurringInvoice  # noqa: E402
from quickbooks.objects.recurringtransaction import RecurringTransaction  # noqa: E402
from quickbooks.objects.recurringtransaction import ScheduleInfo  # noqa: E402
from quickbooks.objects.refundreceipt import RefundReceipt  # noqa: E402
from quickbooks.objects.salesreceipt import SalesReceipt  # noqa: E402
from quickbooks.objects.taxagency import TaxAgency  # noqa: E402
from quickbooks.objects.taxcode import TaxCode  # noqa: E402
from quickbooks.objects.taxrate import TaxRate  # noqa: E402
from quickbooks.objects.taxservice import TaxRateDetails  # noqa: E402
from quickbooks.objects.taxservice import TaxService  # noqa: E402
from quickbooks.objects.term import Term  # noqa: E402
from quickbooks.objects.timeactivity import TimeActivity  # noqa: E402
from quickbooks.objects.trackingclass import Class  # noqa: E402
from quickbooks.objects.transfer import Transfer  # noqa: E402
from quickbooks.objects.vendor import Vendor  # noqa: E402
from quickbooks.objects.vendorcredit import VendorCredit  # noqa: E402

REDIRECT = "http://127.0.0.1:5000/qbo/callback"


@pytest.fixture(scope="module")
def server():
    config = SandboxConfig(
        oauth_clients=(OAuthClient("costbridge-dev", "costbridge-dev-secret", (REDIRECT,)),)
    )
    with SandboxServer(config, port=0, seed="sample") as srv:
        yield srv


@pytest.fixture(scope="module")
def qb(server):
    client = intuitlib_client.AuthClient(
        "costbridge-dev",
        "costbridge-dev-secret",
        REDIRECT,
        f"{server.url}/.well-known/openid_sandbox_configuration/",
    )
    consent = requests.get(
        client.get_authorization_url([Scopes.ACCOUNTING]), allow_redirects=False, timeout=10
    )
    query = parse_qs(urlparse(consent.headers["Location"]).query)
    client.get_bearer_token(query["code"][0], realm_id=query["realmId"][0])
    patch = pytest.MonkeyPatch()
    patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    qbo = QuickBooks(
        auth_client=client,
        refresh_token=client.refresh_token,
        company_id=client.realm_id,
        minorversion=75,
        environment="sandbox",
    )
    qbo.sandbox_api_url_v3 = qbo.api_url_v3 = f"{server.url}/v3"
    yield qbo
    patch.undo()


def _first(cls, qb, where):
    found = cls.where(where, qb=qb)
    assert found, (cls.__name__, where)
    return found[0]


def _sales_line(item, qty, price):
    line = SalesItemLine()
    line.Amount = qty * price
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = qty
    line.SalesItemLineDetail.UnitPrice = price
    return line


# -- the company ------------------------------------------------------------------------------


def test_the_sample_company_has_intuits_shape(qb):
    assert Account.get(1, qb=qb).Name
    subtypes = {a.AccountSubType for a in Account.all(qb=qb, max_results=1000)}
    assert {"Inventory", "SalesOfProductIncome", "SuppliesMaterialsCogs", "Checking"} <= subtypes
    # python-quickbooks's Item.all() sends `SELECT *, Sku FROM Item`.
    items = Item.all(qb=qb)
    assert {i.Type for i in items} >= {"Service", "NonInventory", "Inventory", "Category"}
    assert any(i.Sku == "RF-100" for i in items)
    others = Account.where(
        "Active = True AND FullyQualifiedName != 'Accounts Receivable (A/R)'", qb=qb
    )
    assert others
    assert all(a.FullyQualifiedName != "Accounts Receivable (A/R)" for a in others)
    parents = [c for c in Customer.all(qb=qb) if c.Job]
    assert parents, "customers with sub-customers"
    assert Vendor.count(qb=qb) >= 5
    assert Employee.count(qb=qb) >= 2
    assert {m.Name for m in PaymentMethod.all(qb=qb)} >= {"Cash", "Check", "Visa"}
    assert {c.Name for c in CustomerType.all(qb=qb)} == {"Residential", "Commercial"}
    assert Budget.all(qb=qb)[0].BudgetDetail
    for cls in (Invoice, Payment, Bill, BillPayment, Purchase, VendorCredit, Estimate):
        assert cls.count(qb=qb) >= 1, cls.__name__
    for cls in (SalesReceipt, CreditMemo, RefundReceipt, PurchaseOrder, Deposit, Transfer):
        assert cls.count(qb=qb) >= 1, cls.__name__
    assert CreditCardPayment.all(qb=qb)
    assert JournalEntry.count(qb=qb) >= 1
    assert TimeActivity.count(qb=qb) >= 1


def test_preferences_carry_every_part_clients_read(qb):
    prefs = Preferences.get(qb=qb)
    assert prefs.OtherPrefs.NameValue
    assert prefs.SalesFormsPrefs.CustomField
    assert prefs.EmailMessagesPrefs.InvoiceMessage.Subject
    assert prefs.CurrencyPrefs.HomeCurrency.value == "USD"


def test_an_unknown_entity_is_a_fault_not_a_404(qb):
    with pytest.raises(QuickbooksException) as info:
        qb.query("SELECT * FROM Spaceship")
    assert info.value.error_code == 4000


# -- lists ------------------------------------------------------------------------------------


def test_department_create_sub_query_update_inactivate_and_cdc(qb):
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    west = Department()
    west.Name = "West"
    west.save(qb=qb)
    bay = Department()
    bay.Name = "Bay"
    bay.SubDepartment = True
    bay.ParentRef = west.to_ref()
    bay = bay.save(qb=qb)
    assert bay.FullyQualifiedName == "West:Bay"
    assert [d.Id for d in Department.filter(Name="Bay", qb=qb)] == [bay.Id]
    bay.Name = "Bayside"
    bay = bay.save(qb=qb)
    assert bay.FullyQualifiedName == "West:Bayside"
    bay.Active = False
    bay.save(qb=qb)
    assert Department.filter(Name="Bayside", qb=qb) == []
    assert Department.where("Active = false", qb=qb)[0].Name == "Bayside"
    changes = change_data_capture([Department], since.isoformat(timespec="seconds"), qb=qb)
    assert {"West", "Bayside"} <= {d.Name for d in changes.Department}
    duplicate = Department()
    duplicate.Name = "West"
    with pytest.raises(QuickbooksException) as info:
        duplicate.save(qb=qb)
    assert info.value.error_code == 6240


def test_class_and_payment_method_round_trips(qb):
    klass = Class()
    klass.Name = "Municipal"
    klass.save(qb=qb)
    assert Class.get(klass.Id, qb=qb).FullyQualifiedName == "Municipal"
    method = PaymentMethod()
    method.Name = "Wire"
    method.save(qb=qb)
    stored = PaymentMethod.get(method.Id, qb=qb)
    assert stored.Type == "NON_CREDIT_CARD"
    stored.Name = "Wire transfer"
    assert stored.save(qb=qb).SyncToken == "1"


def test_a_term_read_back_saves_unchanged(qb):
    term = Term.filter(Name="Net 30", qb=qb)[0]
    term.DueDays = 31
    saved = term.save(qb=qb)
    assert saved.DueDays == 31
    assert saved.SyncToken == "1"


def test_tax_service_creates_a_code_with_new_rates(qb):
    agency = TaxAgency.all(qb=qb)[0]
    service = TaxService()
    service.TaxCode = "Half Moon Bay"
    detail = TaxRateDetails()
    detail.TaxRateName = "City tax"
    detail.RateValue = 0.5
    detail.TaxAgencyId = agency.Id
    service.TaxRateDetails.append(detail)
    created = service.save(qb=qb)
    assert created.TaxCodeId
    code = TaxCode.get(created.TaxCodeId, qb=qb)
    assert code.Name == "Half Moon Bay"
    rate = TaxRate.filter(Name="City tax", qb=qb)[0]
    assert Decimal(str(rate.RateValue)) == Decimal("0.5")
    assert {c.Id for c in TaxCode.all(qb=qb)} >= {"TAX", "NON", code.Id}


# -- transactions ------------------------------------------------------------------------------


def test_estimate_create_send_pdf_and_delete(qb):
    customer = _first(Customer, qb, "DisplayName = 'Granite Peak Gym'")
    hours = _first(Item, qb, "Name = 'Hours'")
    estimate = Estimate()
    estimate.CustomerRef = customer.to_ref()
    estimate.BillEmail = {"Address": "theo@example.com"}
    estimate.Line.append(_sales_line(hours, 3, 40))
    estimate.save(qb=qb)
    stored = Estimate.get(estimate.Id, qb=qb)
    assert stored.TotalAmt == 120
    assert stored.TxnStatus == "Pending"
    sent = stored.send(qb=qb)
    assert sent["Estimate"]["EmailStatus"] == "EmailSent"
    pdf = qb.download_pdf("Estimate", stored.Id)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    Estimate.get(stored.Id, qb=qb).delete(qb=qb)
    with pytest.raises(QuickbooksException):
        Estimate.get(stored.Id, qb=qb)


def test_sales_receipt_and_credit_memo_void(qb):
    customer = _first(Customer, qb, "DisplayName = 'Harbor View Hotel'")
    sod = _first(Item, qb, "Name = 'Sod'")
    receipt = SalesReceipt()
    receipt.CustomerRef = customer.to_ref()
    receipt.Line.append(_sales_line(sod, 10, 3))
    receipt.save(qb=qb)
    assert SalesReceipt.get(receipt.Id, qb=qb).TotalAmt == 30
    SalesReceipt.get(receipt.Id, qb=qb).void(qb=qb)
    assert SalesReceipt.get(receipt.Id, qb=qb).TotalAmt == 0
    memo = CreditMemo()
    memo.CustomerRef = customer.to_ref()
    memo.Line.append(_sales_line(sod, 5, 3))
    memo.save(qb=qb)
    stored = CreditMemo.get(memo.Id, qb=qb)
    assert stored.Balance == 15
    stored.delete(qb=qb)


def test_refund_receipt_needs_a_bank_account(qb):
    customer = _first(Customer, qb, "DisplayName = 'Cobalt Cycle Works'")
    sod = _first(Item, qb, "Name = 'Sod'")
    refund = RefundReceipt()
    refund.CustomerRef = customer.to_ref()
    refund.Line.append(_sales_line(sod, 2, 3))
    with pytest.raises(QuickbooksException) as info:
        refund.save(qb=qb)
    assert info.value.error_code == 2020
    refund.DepositToAccountRef = _first(Account, qb, "Name = 'Checking'").to_ref()
    refund.save(qb=qb)
    assert RefundReceipt.get(refund.Id, qb=qb).TotalAmt == 6


def test_purchase_order_deposit_transfer_and_card_payment(qb):
    vendor = _first(Vendor, qb, "DisplayName = 'Delta Hardware'")
    checking = _first(Account, qb, "Name = 'Checking'")
    savings = _first(Account, qb, "Name = 'Savings'")
    visa = _first(Account, qb, "Name = 'Visa'")
    materials = _first(Account, qb, "Name = 'Job Materials'")
    order = PurchaseOrder()
    order.VendorRef = vendor.to_ref()
    line = AccountBasedExpenseLine()
    line.Amount = 64
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = materials.to_ref()
    order.Line.append(line)
    order.save(qb=qb)
    stored_order = PurchaseOrder.get(order.Id, qb=qb)
    assert (stored_order.POStatus, stored_order.TotalAmt) == ("Open", 64)

    deposit = Deposit()
    deposit.DepositToAccountRef = checking.to_ref()
    line = DepositLine()
    line.Amount = 80
    line.DepositLineDetail = DepositLineDetail()
    line.DepositLineDetail.AccountRef = materials.to_ref()
    deposit.Line.append(line)
    deposit.save(qb=qb)
    assert Deposit.get(deposit.Id, qb=qb).TotalAmt == 80

    transfer = Transfer()
    transfer.FromAccountRef = checking.to_ref()
    transfer.ToAccountRef = savings.to_ref()
    transfer.Amount = 250
    transfer.save(qb=qb)
    stored = Transfer.get(transfer.Id, qb=qb)
    assert stored.Amount == 250
    stored.delete(qb=qb)

    payment = CreditCardPayment()
    payment.CreditCardAccountRef = visa.to_ref()
    payment.BankAccountRef = checking.to_ref()
    payment.Amount = 40
    payment.save(qb=qb)
    assert CreditCardPayment.get(payment.Id, qb=qb).Amount == 40
    wrong = CreditCardPayment()
    wrong.CreditCardAccountRef = checking.to_ref()
    wrong.BankAccountRef = checking.to_ref()
    wrong.Amount = 40
    with pytest.raises(QuickbooksException) as info:
        wrong.save(qb=qb)
    assert info.value.error_code == 6000


def test_bill_payment_void_reopens_the_bill(qb):
    paid = BillPayment.all(qb=qb)[0]
    bill_id = paid.Line[0].LinkedTxn[0].TxnId
    assert Bill.get(bill_id, qb=qb).Balance == 0
    BillPayment.get(paid.Id, qb=qb).void(qb=qb)
    bill = Bill.get(bill_id, qb=qb)
    assert bill.Balance == bill.TotalAmt


def test_batch_and_cdc_over_new_entities(qb):
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    departments = []
    for name in ("Batch North", "Batch South"):
        department = Department()
        department.Name = name
        departments.append(department)
    result = batch_create(departments, qb=qb)
    assert len(result.successes) == 2
    assert not result.faults
    changes = change_data_capture(
        [Department, Estimate], since.isoformat(timespec="seconds"), qb=qb
    )
    assert {"Batch North", "Batch South"} <= {d.Name for d in changes.Department}


# -- what python-quickbooks' own integration tests showed (issue 23, step 1) --------------------


def test_accounts_filter_on_subtype_and_classification(qb):
    checking = Account.where("AccountSubType = 'Checking'", qb=qb)
    assert [a.Name for a in checking] == ["Checking"]
    assets = Account.where(
        "Classification = 'Asset' AND FullyQualifiedName != 'Accounts Receivable (A/R)'", qb=qb
    )
    assert assets
    assert {a.Classification for a in assets} == {"Asset"}
    assert "Accounts Receivable (A/R)" not in {a.Name for a in assets}


def test_the_sample_company_keeps_intuits_well_known_ids(qb):
    visa = Account.get(42, qb=qb)
    assert (visa.Name, visa.AccountType) == ("Visa", "Credit Card")
    assert Account.get(86, qb=qb).Name == "Discounts given"
    assert TaxAgency.get(1, qb=qb).DisplayName == "Board of Equalization"
    assert len(Payment.all(max_results=5, qb=qb)) == 5


def test_a_tax_code_page_carries_the_pseudo_codes_first(qb):
    codes = TaxCode.all(max_results=1, qb=qb)
    assert {c.Id for c in codes[:3]} == {"TAX", "NON", "CustomSalesTax"}
    assert len(codes) == 4
    assert codes[3].Id.isdigit()
    assert TaxCode.count(qb=qb) == len(TaxCode.all(max_results=1000, qb=qb))


def test_a_sales_line_without_qty_and_price_takes_its_amount(qb):
    customer = _first(Customer, qb, "DisplayName = 'Brightwater Dental'")
    hours = _first(Item, qb, "Name = 'Hours'")
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    line = SalesItemLine()
    line.Amount = 100
    line.SalesItemLineDetail = SalesItemLineDetail()  # Qty 0 and UnitPrice 0: the defaults
    line.SalesItemLineDetail.ItemRef = hours.to_ref()
    invoice.Line.append(line)
    invoice.save(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).TotalAmt == 100
    wrong = Invoice()
    wrong.CustomerRef = customer.to_ref()
    wrong.Line.append(_sales_line(hours, 2, 40))
    wrong.Line[0].Amount = 100
    with pytest.raises(QuickbooksException) as info:
        wrong.save(qb=qb)
    assert info.value.error_code == 6070


# -- RecurringTransaction, ExchangeRate, multicurrency ----------------------------------------


def _recurring_invoice(qb, name):
    customer = _first(Customer, qb, "DisplayName = 'Elm Street Library'")
    hours = _first(Item, qb, "Name = 'Hours'")
    invoice = RecurringInvoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line.append(_sales_line(hours, 2, 40))
    info = RecurringInfo()
    info.Active = True
    info.Name = name
    info.ScheduleInfo = ScheduleInfo()
    info.ScheduleInfo.StartDate = "2027-01-01"
    info.ScheduleInfo.IntervalType = "Monthly"
    info.ScheduleInfo.NumInterval = 1
    info.ScheduleInfo.DayOfMonth = 1
    invoice.RecurringInfo = info
    template = RecurringTransaction()
    template.Invoice = invoice
    return template


def test_recurring_templates_wrap_a_transaction_and_post_nothing(qb):
    invoices_before = Invoice.count(qb=qb)
    balance_before = _first(Customer, qb, "DisplayName = 'Elm Street Library'").Balance
    saved = _recurring_invoice(qb, "Library upkeep").save(qb=qb)
    assert saved.Invoice.TotalAmt == 80
    assert saved.Invoice.RecurringInfo.ScheduleInfo.IntervalType == "Monthly"
    assert Invoice.count(qb=qb) == invoices_before
    assert _first(Customer, qb, "DisplayName = 'Elm Street Library'").Balance == balance_before

    stored = RecurringTransaction.get(saved.Invoice.Id, qb=qb)
    stored.Invoice.RecurringInfo.ScheduleInfo.DayOfMonth = 15
    stored.Invoice.Line[0].Amount = 80
    updated = stored.save(qb=qb)
    assert updated.Invoice.SyncToken == "1"
    assert updated.Invoice.RecurringInfo.ScheduleInfo.DayOfMonth == 15

    bill = RecurringBill()
    line = AccountBasedExpenseLine()
    line.Amount = 500
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = _first(
        Account, qb, "Name = 'Rent or Lease'"
    ).to_ref()
    bill.Line.append(line)
    bill.VendorRef = _first(Vendor, qb, "DisplayName = 'Delta Hardware'").to_ref()
    bill.RecurringInfo = RecurringInfo()
    bill.RecurringInfo.Name = "Yard rent"
    bill.RecurringInfo.ScheduleInfo = ScheduleInfo()
    bill.RecurringInfo.ScheduleInfo.StartDate = "2027-01-01"
    bill.RecurringInfo.ScheduleInfo.EndDate = "2027-03-31"
    bill.RecurringInfo.ScheduleInfo.IntervalType = "Weekly"
    bill.RecurringInfo.ScheduleInfo.DayOfWeek = "Friday"
    template = RecurringTransaction()
    template.Bill = bill
    template.save(qb=qb)
    assert [hasattr(t, "Bill") for t in RecurringTransaction.where("Type = 'Bill'", qb=qb)] == [
        True
    ]
    assert len(RecurringTransaction.all(qb=qb)) == 2

    with pytest.raises(QuickbooksException) as info:
        _recurring_invoice(qb, "library upkeep").save(qb=qb)
    assert info.value.error_code == 6240
    no_schedule = _recurring_invoice(qb, "No schedule")
    no_schedule.Invoice.RecurringInfo.ScheduleInfo = None
    with pytest.raises(QuickbooksException) as info:
        no_schedule.save(qb=qb)
    assert info.value.error_code == 2020
    bad_day = _recurring_invoice(qb, "Bad day")
    bad_day.Invoice.RecurringInfo.ScheduleInfo.DayOfWeek = "Someday"
    with pytest.raises(QuickbooksException) as info:
        bad_day.save(qb=qb)
    assert info.value.error_code == 2170

    RecurringTransaction.get(saved.Invoice.Id, qb=qb).delete(qb=qb)
    with pytest.raises(QuickbooksException) as info:
        RecurringTransaction.get(saved.Invoice.Id, qb=qb)
    assert info.value.error_code == 610


def test_currencies_and_rates_need_multicurrency_which_stays_on(qb):
    cad = CompanyCurrency()
    cad.Code = "CAD"
    with pytest.raises(QuickbooksException) as info:
        cad.save(qb=qb)
    assert info.value.error_code == 6000
    with pytest.raises(QuickbooksException) as info:
        ExchangeRate.where("SourceCurrencyCode = 'EUR'", qb=qb)
    assert info.value.error_code == 6000

    prefs = Preferences.get(qb=qb)
    prefs.CurrencyPrefs.MultiCurrencyEnabled = True
    prefs = prefs.save(qb=qb)
    cad.save(qb=qb)
    assert CompanyCurrency.get(cad.Id, qb=qb).Name == "Canadian Dollar"
    euro = CompanyCurrency()
    euro.Code = "EUR"
    euro.save(qb=qb)

    rate = ExchangeRate.where("SourceCurrencyCode = 'EUR'", qb=qb)[0]
    assert (rate.SourceCurrencyCode, rate.TargetCurrencyCode) == ("EUR", "USD")
    rate.Rate = rate.Rate + 1
    rate.save(qb=qb)
    again = ExchangeRate.where("SourceCurrencyCode = 'EUR'", qb=qb)[0]
    assert Decimal(str(again.Rate)) == Decimal(str(rate.Rate))
    answer = qb.get(
        f"{qb.api_url}/company/{qb.company_id}/exchangerate",
        params={"sourcecurrencycode": "EUR", "asofdate": again.AsOfDate},
    )
    assert Decimal(str(answer["ExchangeRate"]["Rate"])) == Decimal(str(rate.Rate))
    assert "Id" not in answer["ExchangeRate"]
    with pytest.raises(QuickbooksException) as info:
        qb.get(
            f"{qb.api_url}/company/{qb.company_id}/exchangerate",
            params={"sourcecurrencycode": "EUR", "asofdate": "2001-01-01"},
        )
    assert info.value.error_code == 610

    prefs.CurrencyPrefs.MultiCurrencyEnabled = False
    with pytest.raises(QuickbooksException) as info:
        prefs.save(qb=qb)
    assert info.value.error_code == 6000


def test_an_estimate_with_a_discount_answers_items_subtotal_discount(qb):
    pest = Item.get(10, qb=qb)
    assert (pest.Name, pest.Type) == ("Pest Control", "Service")
    estimate = Estimate()
    estimate.CustomerRef = _first(Customer, qb, "DisplayName = 'Granite Peak Gym'").to_ref()
    estimate.Line.append(_sales_line(pest, 1, 35))
    discount = DiscountLine()
    discount.Amount = 3.5
    discount.DiscountLineDetail = DiscountLineDetail()
    discount.DiscountLineDetail.PercentBased = True
    discount.DiscountLineDetail.DiscountPercent = 10
    discount.DiscountLineDetail.DiscountAccountRef = Account.get(86, qb=qb).to_ref()
    estimate.Line.append(discount)
    estimate.save(qb=qb)
    stored = Estimate.get(estimate.Id, qb=qb)
    kinds = [line.DetailType for line in stored.Line]
    assert kinds == ["SalesItemLineDetail", "SubTotalLineDetail", "DiscountLineDetail"]
    assert (stored.Line[1].Amount, stored.Line[2].Amount, stored.TotalAmt) == (35, 3.5, 31.5)
    checking = Account.where("Classification = 'Asset'", max_results=1, qb=qb)[0]
    assert checking.AccountType == "Bank"
