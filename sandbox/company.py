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
    return {"CompanyInfo": info, "Preferences": prefs}
