"""RecurringTransaction and ExchangeRate over raw HTTP (issue 23): batch, CDC, shapes, Faults."""

from __future__ import annotations

from typing import Any

from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body


def _template(book: dict[str, str], name: str, **schedule: Any) -> dict[str, Any]:
    bill = bill_body(book, 240.0)
    bill["RecurringInfo"] = {
        "Name": name,
        "RecurType": "Automated",
        "Active": True,
        "ScheduleInfo": {"IntervalType": "Monthly", "StartDate": "2027-02-01", **schedule},
    }
    return {"Bill": bill}


def _fault_code(resp: Any) -> str:
    return str(resp.json()["Fault"]["Error"][0]["code"])


def test_a_recurring_bill_is_a_template_that_posts_nothing(api: Api, book: dict[str, str]) -> None:
    bills_before = api.query("SELECT COUNT(*) FROM Bill")["totalCount"]
    resp = api.post("recurringtransaction", _template(book, "Monthly lumber", DayOfMonth=1))
    assert resp.status_code == 200, resp.text
    bill = resp.json()["RecurringTransaction"]["Bill"]
    assert bill["TotalAmt"] == 240
    assert bill["RecurringInfo"]["ScheduleInfo"]["NumInterval"] == 1
    assert bill["RecurringInfo"]["ScheduleInfo"]["NextDate"] == "2027-02-01"
    assert api.query("SELECT COUNT(*) FROM Bill")["totalCount"] == bills_before
    vendor = api.get(f"vendor/{book['vendor']}").json()["Vendor"]
    assert vendor.get("Balance", 0) == 0

    read = api.get(f"recurringtransaction/{bill['Id']}").json()["RecurringTransaction"]
    assert list(read) == ["Bill"]
    sparse = {"Bill": {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "DocNumber": "R-1"}}
    updated = api.post("recurringtransaction", sparse).json()["RecurringTransaction"]["Bill"]
    assert (updated["DocNumber"], updated["SyncToken"]) == ("R-1", "1")
    assert updated["RecurringInfo"]["Name"] == "Monthly lumber"
    stale = api.post("recurringtransaction", sparse)
    assert _fault_code(stale) == "5010"

    rows = api.query("SELECT * FROM RecurringTransaction WHERE Type = 'Bill'")
    assert [list(row) for row in rows["RecurringTransaction"]] == [["Bill"]]
    assert api.query("SELECT * FROM RecurringTransaction WHERE Type = 'Invoice'") == {}

    gone = api.post(
        "recurringtransaction",
        {"Bill": {"Id": bill["Id"], "SyncToken": "1"}},
        params={"operation": "delete"},
    )
    assert gone.json()["RecurringTransaction"]["Bill"]["status"] == "Deleted"
    assert _fault_code(api.get(f"recurringtransaction/{bill['Id']}")) == "610"


def test_recurring_templates_refuse_what_a_schedule_cannot_be(
    api: Api, book: dict[str, str]
) -> None:
    no_info = {"Bill": bill_body(book, 10.0)}
    assert _fault_code(api.post("recurringtransaction", no_info)) == "2020"
    two = _template(book, "Two")
    two["Invoice"] = two["Bill"]  # two transactions in one template
    assert _fault_code(api.post("recurringtransaction", two)) == "2020"
    assert _fault_code(api.post("recurringtransaction", {"Payment": {"TotalAmt": 1}})) == "2010"
    bad_interval = _template(book, "Hourly")
    bad_interval["Bill"]["RecurringInfo"]["ScheduleInfo"]["IntervalType"] = "Hourly"
    assert _fault_code(api.post("recurringtransaction", bad_interval)) == "2170"
    backwards = _template(book, "Backwards", EndDate="2027-01-01")
    assert _fault_code(api.post("recurringtransaction", backwards)) == "6000"
    bad_line = _template(book, "Bad line")
    bad_line["Bill"]["VendorRef"] = {"value": "999999"}
    assert _fault_code(api.post("recurringtransaction", bad_line)) == "2500"


def test_batch_creates_templates_and_cdc_refuses_both(api: Api, book: dict[str, str]) -> None:
    items = [
        {"bId": "1", "operation": "create", "RecurringTransaction": _template(book, "Batch one")},
        {"bId": "2", "Query": "SELECT * FROM ExchangeRate"},
    ]
    answer = api.post("batch", {"BatchItemRequest": items}).json()["BatchItemResponse"]
    assert answer[0]["RecurringTransaction"]["Bill"]["RecurringInfo"]["Name"] == "Batch one"
    assert answer[1]["Fault"]["Error"][0]["code"] == "6000"  # multicurrency is off
    for entity in ("RecurringTransaction", "ExchangeRate"):
        resp = api.get("cdc", {"entities": entity, "changedSince": "2026-01-01T00:00:00Z"})
        assert _fault_code(resp) == "2010"


def test_exchange_rates_follow_the_company_currencies(api: Api) -> None:
    params = {"sourcecurrencycode": "CAD"}
    assert _fault_code(api.get("exchangerate", params)) == "6000"
    assert _fault_code(api.post("companycurrency", {"Code": "CAD"})) == "6000"
    prefs = api.get("preferences").json()["Preferences"]
    on = {"Id": prefs["Id"], "SyncToken": prefs["SyncToken"], "sparse": True}
    on["CurrencyPrefs"] = {"MultiCurrencyEnabled": True}
    assert api.post("preferences", on).status_code == 200
    assert _fault_code(api.get("exchangerate", params)) == "610"  # no CAD in the company yet
    api.create("CompanyCurrency", {"Code": "CAD"})
    rate = api.get("exchangerate", params).json()["ExchangeRate"]
    assert (rate["SourceCurrencyCode"], rate["TargetCurrencyCode"]) == ("CAD", "USD")
    assert "Id" not in rate
    later = {"SourceCurrencyCode": "CAD", "Rate": 0.75, "AsOfDate": "2099-01-01"}
    assert api.post("exchangerate", later).json()["ExchangeRate"]["SyncToken"] == "0"
    assert api.get("exchangerate", params).json()["ExchangeRate"]["Rate"] == rate["Rate"]
    future = api.get("exchangerate", {**params, "asofdate": "2099-06-30"}).json()
    assert future["ExchangeRate"]["Rate"] == 0.75
    assert _fault_code(api.post("exchangerate", {**later, "Rate": 0})) == "6000"
    assert _fault_code(api.post("exchangerate", {**later, "TargetCurrencyCode": "EUR"})) == "6000"
    assert _fault_code(api.post("exchangerate", {**later, "SyncToken": "7"})) == "5010"
    assert _fault_code(api.get("exchangerate", {"sourcecurrencycode": "USD"})) == "6000"
    rows = api.query("SELECT * FROM ExchangeRate WHERE SourceCurrencyCode = 'CAD'")
    assert [r["AsOfDate"] for r in rows["ExchangeRate"]][-1] == "2099-01-01"
