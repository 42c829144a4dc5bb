"""A fresh company's singletons: CompanyInfo and Preferences (shapes from samples/)."""

from __future__ import annotations

from typing import Any

__all__ = ["company_singletons"]


def company_singletons(company_name: str, tz: str) -> dict[str, dict[str, Any]]:
    """CompanyInfo and Preferences of a fresh company (shapes from samples/)."""
    addr = {
        "Id": "1",
        "Line1": "1 Main Street",
        "City": "Bayshore",
        "Country": "US",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "94320",
    }
    info = {
        "Id": "1",
        "CompanyName": company_name,
        "LegalName": company_name,
        "CompanyAddr": dict(addr),
        "CustomerCommunicationAddr": dict(addr),
        "LegalAddr": dict(addr),
        "PrimaryPhone": {},
        "CompanyStartDate": "2024-01-01",
        "FiscalYearStartMonth": "January",
        "Country": "US",
        "Email": {"Address": "office@sandbox.example"},
        "WebAddr": {},
        "SupportedLanguages": "en",
        "DefaultTimeZone": tz,
        "NameValue": [
            {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
            {"Name": "QBOIndustryType", "Value": "Construction"},
            {"Name": "PayrollFeature", "Value": "false"},
        ],
    }
    prefs = {
        "Id": "1",
        "AccountingInfoPrefs": {
            "TrackDepartments": False,
            "DepartmentTerminology": "Location",
            "ClassTrackingPerTxn": False,
            "ClassTrackingPerTxnLine": True,
            "CustomerTerminology": "Customers",
            "UseAccountNumbers": True,
            "BookCloseDate": "2023-12-31",
        },
        "ProductAndServicesPrefs": {
            "ForSales": True,
            "ForPurchase": True,
            "QuantityWithPriceAndRate": True,
            "QuantityOnHand": True,
        },
        "SalesFormsPrefs": {
            "CustomTxnNumbers": False,
            "AllowDeposit": True,
            "AllowDiscount": True,
            "AllowEstimates": True,
            "AllowServiceDate": False,
            "AllowShipping": False,
            "AutoApplyCredit": True,
            "AutoApplyPayments": True,
        },
        "VendorAndPurchasesPrefs": {
            "TrackingByCustomer": True,
            "BillableExpenseTracking": True,
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
    }
    _add_defaults(prefs)
    return {"CompanyInfo": info, "Preferences": prefs}


def _custom(prefix: str, count: int) -> list[dict[str, Any]]:
    # QBO's shape for the custom-field settings: a group of "Use" flags and one of names.
    return [
        {
            "CustomField": [
                {
                    "Name": f"{prefix}.UseSalesCustom{n}",
                    "Type": "BooleanType",
                    "BooleanValue": False,
                }
                for n in range(1, count + 1)
            ]
        },
        {
            "CustomField": [
                {"Name": f"{prefix}.SalesCustomName{n}", "Type": "StringType", "StringValue": ""}
                for n in range(1, count + 1)
            ]
        },
    ]


def _message(subject: str) -> dict[str, str]:
    return {"Subject": subject, "Message": f"Please find the {subject.lower()} attached."}


#: Sub-objects of Preferences (XSD ``Preferences``) a fresh QBO company answers with, and
#: their defaults where the object above does not set them. Only keys are added: every value
#: set above stays as it is (issue 23: every sub-object, Intuit's defaults).
_DEFAULTS: dict[str, dict[str, Any]] = {
    "AccountingInfoPrefs": {
        "TrackDepartments": False,
        "ClassTrackingPerTxn": False,
        "ClassTrackingPerTxnLine": True,
        "TaxYearMonth": "January",
        "TaxForm": "6",
        "FirstMonthOfFiscalYear": "January",
    },
    "ProductAndServicesPrefs": {"QuantityWithPriceAndRate": True, "QuantityOnHand": True},
    "SalesFormsPrefs": {
        "CustomField": _custom("SalesFormsPrefs", 3),
        "ETransactionEnabledStatus": "NotApplicable",
        "ETransactionAttachPDF": False,
        "ETransactionPaymentEnabled": False,
        "IPNSupportEnabled": False,
        "UsingPriceLevels": False,
        "UsingProgressInvoicing": False,
        "DefaultCustomerMessage": "Thank you for your business.",
    },
    "EmailMessagesPrefs": {
        "InvoiceMessage": _message("Invoice"),
        "EstimateMessage": _message("Estimate"),
        "SalesReceiptMessage": _message("Sales Receipt"),
        "StatementMessage": _message("Statement"),
    },
    "VendorAndPurchasesPrefs": {
        "TrackingByCustomer": True,
        "BillableExpenseTracking": True,
        "POCustomField": _custom("PurchasePrefs", 2),
    },
    "TimeTrackingPrefs": {"UseServices": True, "BillCustomers": True},
    "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": True},
    "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
    "OtherPrefs": {
        "NameValue": [
            {"Name": "SalesFormsPrefs.DefaultCustomerMessage", "Value": ""},
            {"Name": "SalesFormsPrefs.DefaultItem", "Value": "1"},
            {"Name": "DTXCopyMemo", "Value": "false"},
            {"Name": "UncategorizedAssetAccountId", "Value": "30"},
            {"Name": "UncategorizedIncomeAccountId", "Value": "39"},
            {"Name": "UncategorizedExpenseAccountId", "Value": "40"},
            {"Name": "MasAccountId", "Value": "-1"},
            {"Name": "SFCEnabled", "Value": "true"},
            {"Name": "DataPartner", "Value": "false"},
            {"Name": "Vendor1099Enabled", "Value": "true"},
            {"Name": "TimeTrackingFeatureEnabled", "Value": "true"},
            {"Name": "ProjectsEnabled", "Value": "true"},
            {"Name": "DateFormat", "Value": "Month Date Year separated by a slash"},
            {"Name": "DateFormatMnemonic", "Value": "MMDDYYYY_SEP_SLASH"},
            {"Name": "NumberFormat", "Value": "US Number Format"},
            {"Name": "NumberFormatMnemonic", "Value": "US_NB"},
            {"Name": "WarnDuplicateCheckNumber", "Value": "true"},
            {"Name": "WarnDuplicateBillNumber", "Value": "false"},
            {"Name": "SignoutInactiveMinutes", "Value": "60"},
            {"Name": "AccountingInfoPrefs.ShowAccountNumbers", "Value": "false"},
        ]
    },
}


def _add_defaults(prefs: dict[str, Any]) -> None:
    for section, defaults in _DEFAULTS.items():
        current = prefs.setdefault(section, {})
        for key, value in defaults.items():
            current.setdefault(key, value)
