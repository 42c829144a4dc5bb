# ruff: noqa: S608 - QBO query text built by the test, not SQL
"""JournalEntry over HTTP: create, read, update, delete, query, CDC, batch, webhooks, rules."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox.server import SandboxServer
from tests.sandbox.conftest import Api
from tests.sandbox.test_samples import shape_diff
from tests.sandbox.test_webhooks import Receiver

SAMPLE = Path(__file__).parent / "samples" / "journalentry.response.json"


def je_line(
    amount: float, posting: str, account: str, entity: tuple[str, str] | None = None, **detail: Any
) -> dict[str, Any]:
    """One journal entry line; ``entity`` is (Type, Id)."""
    body: dict[str, Any] = {"PostingType": posting, "AccountRef": {"value": account}, **detail}
    if entity is not None:
        body["Entity"] = {"Type": entity[0], "EntityRef": {"value": entity[1]}}
    return {
        "Amount": amount,
        "DetailType": "JournalEntryLineDetail",
        "JournalEntryLineDetail": body,
    }


def je_body(book: dict[str, str], amount: float = 250.0, **extra: Any) -> dict[str, Any]:
    """A job-cost reclassification: debit Lumber for the project, credit Job Materials."""
    return {
        "Line": [
            je_line(amount, "Debit", book["lumber"], ("Customer", book["project"])),
            je_line(amount, "Credit", book["materials"]),
        ],
        **extra,
    }


def fault(resp: Any) -> dict[str, Any]:
    """The first Error of a 400 Fault answer."""
    assert resp.status_code == 400, resp.text
    error: dict[str, Any] = resp.json()["Fault"]["Error"][0]
    return error


def stored_count(api: Api) -> int:
    return int(api.query("SELECT COUNT(*) FROM JournalEntry").get("totalCount", 0))


# -- create and read -----------------------------------------------------------------------------


def test_create_computes_total_line_ids_and_names(api: Api, book: dict[str, str]) -> None:
    je = api.create("JournalEntry", je_body(book, 250.75, DocNumber="JC-1"))
    assert je["Id"].isdigit()
    assert je["SyncToken"] == "0"
    assert je["TotalAmt"] == 250.75  # one side, not debits + credits
    assert je["Adjustment"] is False
    assert je["DocNumber"] == "JC-1"
    assert [(ln["Id"], ln["LineNum"]) for ln in je["Line"]] == [("1", 1), ("2", 2)]
    debit = je["Line"][0]["JournalEntryLineDetail"]
    assert debit["AccountRef"]["name"] == "Job Materials:Lumber"
    assert debit["Entity"]["EntityRef"]["name"] == "Maple Street Remodel:Kitchen Addition"
    assert je["TxnDate"]  # today when not sent
    assert je["domain"] == "QBO"
    assert je["sparse"] is False


def test_read_returns_the_entry_and_unknown_id_is_610(api: Api, book: dict[str, str]) -> None:
    je = api.create("JournalEntry", je_body(book))
    resp = api.get(f"journalentry/{je['Id']}")
    assert resp.status_code == 200
    assert resp.json()["JournalEntry"] == je
    assert fault(api.get("journalentry/999999"))["code"] == "610"


def test_answer_has_the_recorded_shape(api: Api, book: dict[str, str]) -> None:
    sample = json.loads(SAMPLE.read_text())["JournalEntry"]
    body = copy.deepcopy(sample)
    for key in ("Id", "SyncToken", "MetaData", "TotalAmt", "domain", "sparse"):
        body.pop(key)
    debit, credit = (ln["JournalEntryLineDetail"] for ln in body["Line"])
    debit["Entity"]["EntityRef"]["value"] = book["project"]
    debit["AccountRef"]["value"] = book["lumber"]
    debit["ClassRef"]["value"] = book["class"]
    credit["AccountRef"]["value"] = book["materials"]
    je = api.create("JournalEntry", body)
    assert shape_diff(sample, je) == []
    assert je["TotalAmt"] == sample["TotalAmt"]


def test_reference_names_follow_renames(api: Api, book: dict[str, str]) -> None:
    je = api.create("JournalEntry", je_body(book))
    customer = api.get(f"customer/{book['customer']}").json()["Customer"]
    api.post(
        "customer",
        {
            "Id": customer["Id"],
            "SyncToken": customer["SyncToken"],
            "sparse": True,
            "DisplayName": "Maple St Remodel",
        },
    )
    again = api.get(f"journalentry/{je['Id']}").json()["JournalEntry"]
    entity = again["Line"][0]["JournalEntryLineDetail"]["Entity"]
    assert entity["EntityRef"]["name"] == "Maple St Remodel:Kitchen Addition"


def test_vendor_and_employee_entities_and_adjustment_flag(api: Api, book: dict[str, str]) -> None:
    body = {
        "Adjustment": True,
        "Line": [
            je_line(40, "Debit", book["lumber"], ("Employee", book["employee"])),
            je_line(60, "Debit", book["lumber"], ("Vendor", book["vendor"])),
            je_line(100, "Credit", book["materials"], ClassRef={"value": book["class"]}),
        ],
    }
    je = api.create("JournalEntry", body)
    assert je["Adjustment"] is True
    assert je["TotalAmt"] == 100.0
    names = [
        ln["JournalEntryLineDetail"].get("Entity", {}).get("EntityRef", {}) for ln in je["Line"]
    ]
    assert [n.get("name") for n in names] == ["Dana Ortiz", "Hillside Lumber Supply", None]


# -- the rules -------------------------------------------------------------------------------------


def test_unbalanced_entry_is_refused_and_not_stored(api: Api, book: dict[str, str]) -> None:
    body = je_body(book)
    body["Line"][1]["Amount"] = 249.99
    error = fault(api.post("journalentry", body))
    assert error["code"] == "6000"
    assert error["Detail"].startswith("Business Validation Error:")
    assert "250.00" in error["Detail"]
    assert "249.99" in error["Detail"]
    assert stored_count(api) == 0


def test_entry_with_only_debits_is_unbalanced(api: Api, book: dict[str, str]) -> None:
    body = {"Line": [je_line(10, "Debit", book["lumber"])]}
    assert fault(api.post("journalentry", body))["code"] == "6000"


@pytest.mark.parametrize(
    ("change", "code", "element"),
    [
        (lambda ln: ln.pop("DetailType"), "2020", "Line.DetailType"),
        (
            lambda ln: ln.update(DetailType="AccountBasedExpenseLineDetail"),
            "2170",
            "Line.DetailType",
        ),
        (lambda ln: ln.pop("JournalEntryLineDetail"), "2020", "Line.JournalEntryLineDetail"),
        (lambda ln: ln.pop("Amount"), "2020", "Line.Amount"),
        (
            lambda ln: ln["JournalEntryLineDetail"].pop("PostingType"),
            "2020",
            "Line.JournalEntryLineDetail.PostingType",
        ),
        (
            lambda ln: ln["JournalEntryLineDetail"].update(PostingType="Debit "),
            "2170",
            "Line.JournalEntryLineDetail.PostingType",
        ),
        (
            lambda ln: ln["JournalEntryLineDetail"].pop("AccountRef"),
            "2020",
            "Line.JournalEntryLineDetail.AccountRef",
        ),
        (
            lambda ln: ln["JournalEntryLineDetail"].update(AccountRef={"value": "999999"}),
            "2500",
            "Line.JournalEntryLineDetail.AccountRef",
        ),
        (
            lambda ln: ln["JournalEntryLineDetail"]["Entity"].update(Type="Vendor"),
            "2500",
            "Line.JournalEntryLineDetail.Entity.EntityRef",
        ),
        (
            lambda ln: ln["JournalEntryLineDetail"]["Entity"].update(Type="Job"),
            "2170",
            "Line.JournalEntryLineDetail.Entity.Type",
        ),
        (
            lambda ln: ln["JournalEntryLineDetail"].update(BillableStatus="HasBeenBilled"),
            "2170",
            "Line.JournalEntryLineDetail.BillableStatus",
        ),
        (lambda ln: ln.update(Amount=-250), "6000", "Line.Amount"),
        (lambda ln: ln.update(Amount=250.001), "2010", "Line.Amount"),
    ],
)
def test_bad_line_is_refused(
    api: Api, book: dict[str, str], change: Any, code: str, element: str
) -> None:
    body = je_body(book)
    change(body["Line"][0])
    error = fault(api.post("journalentry", body))
    assert (error["code"], error["element"]) == (code, element)
    assert stored_count(api) == 0


def test_entry_without_lines_is_2020(api: Api) -> None:
    error = fault(api.post("journalentry", {"DocNumber": "JC-0"}))
    assert (error["code"], error["element"]) == ("2020", "Line")


def test_receivable_line_needs_a_customer(api: Api, book: dict[str, str]) -> None:
    ar = _account(api, "Accounts Receivable (A/R)")
    body = {"Line": [je_line(75, "Debit", ar), je_line(75, "Credit", book["income"])]}
    error = fault(api.post("journalentry", body))
    assert (error["code"], error["element"]) == ("6000", "Line.JournalEntryLineDetail.Entity")
    body["Line"][0] = je_line(75, "Debit", ar, ("Vendor", book["vendor"]))
    assert fault(api.post("journalentry", body))["code"] == "6000"
    body["Line"][0] = je_line(75, "Debit", ar, ("Customer", book["customer"]))
    assert api.create("JournalEntry", body)["TotalAmt"] == 75.0


def test_payable_line_needs_a_vendor(api: Api, book: dict[str, str]) -> None:
    body = {"Line": [je_line(30, "Debit", book["lumber"]), je_line(30, "Credit", book["ap"])]}
    assert fault(api.post("journalentry", body))["code"] == "6000"
    body["Line"][1] = je_line(30, "Credit", book["ap"], ("Customer", book["customer"]))
    assert fault(api.post("journalentry", body))["code"] == "6000"
    body["Line"][1] = je_line(30, "Credit", book["ap"], ("Vendor", book["vendor"]))
    assert api.create("JournalEntry", body)["TotalAmt"] == 30.0


@pytest.mark.parametrize(
    ("where", "element"),
    [
        ("top", "Memo"),
        ("line", "Line.CustomerRef"),
        ("detail", "Line.JournalEntryLineDetail.CustomerRef"),
        ("entity", "Line.JournalEntryLineDetail.Entity.DisplayName"),
    ],
)
def test_unknown_property_is_2010(api: Api, book: dict[str, str], where: str, element: str) -> None:
    body = je_body(book)
    line = body["Line"][0]
    target = {
        "top": body,
        "line": line,
        "detail": line["JournalEntryLineDetail"],
        "entity": line["JournalEntryLineDetail"]["Entity"],
    }[where]
    target[element.rsplit(".", 1)[-1]] = {"value": book["customer"]} if "Ref" in element else "x"
    error = fault(api.post("journalentry", body))
    assert (error["code"], error["element"]) == ("2010", element)


def test_inactive_account_is_610(api: Api, book: dict[str, str]) -> None:
    acct = api.create("Account", {"Name": "Old Reclass", "AccountType": "Expense"})
    api.post(
        "account",
        {"Id": acct["Id"], "SyncToken": acct["SyncToken"], "sparse": True, "Active": False},
    )
    body = {"Line": [je_line(5, "Debit", acct["Id"]), je_line(5, "Credit", book["materials"])]}
    assert fault(api.post("journalentry", body))["code"] == "610"


# -- update and delete -------------------------------------------------------------------------


def test_full_update_replaces_lines_and_bumps_synctoken(api: Api, book: dict[str, str]) -> None:
    je = api.create("JournalEntry", je_body(book, PrivateNote="first"))
    body = je_body(book, 400, Id=je["Id"], SyncToken="0")
    updated = api.post("journalentry", body).json()["JournalEntry"]
    assert updated["SyncToken"] == "1"
    assert updated["TotalAmt"] == 400.0
    assert "PrivateNote" not in updated  # a full update clears what it leaves out
    assert updated["MetaData"]["CreateTime"] == je["MetaData"]["CreateTime"]


def test_full_update_echoing_the_read_is_accepted(api: Api, book: dict[str, str]) -> None:
    je = api.create("JournalEntry", je_body(book))
    je["DocNumber"] = "JC-7"
    je["SyncToken"] = 0  # §13: a number
    updated = api.post("journalentry", je).json()["JournalEntry"]
    assert (updated["SyncToken"], updated["DocNumber"]) == ("1", "JC-7")
    assert [ln["Id"] for ln in updated["Line"]] == ["1", "2"]


def test_sparse_update_keeps_lines_and_checks_balance(api: Api, book: dict[str, str]) -> None:
    je = api.create("JournalEntry", je_body(book, DocNumber="JC-2"))
    head = {"Id": je["Id"], "sparse": True}
    updated = api.post("journalentry", {**head, "SyncToken": "0", "PrivateNote": "ok"})
    got = updated.json()["JournalEntry"]
    assert (got["DocNumber"], got["PrivateNote"], got["Line"]) == ("JC-2", "ok", je["Line"])
    lines = copy.deepcopy(got["Line"])
    lines[0]["Amount"] = 300
    assert fault(api.post("journalentry", {**head, "SyncToken": "1", "Line": lines}))["code"] == (
        "6000"
    )
    lines[1]["Amount"] = 300
    again = api.post("journalentry", {**head, "SyncToken": "1", "Line": lines}).json()
    assert again["JournalEntry"]["TotalAmt"] == 300.0
    assert again["JournalEntry"]["SyncToken"] == "2"


def test_stale_synctoken_is_5010(api: Api, book: dict[str, str]) -> None:
    je = api.create("JournalEntry", je_body(book))
    api.post("journalentry", {"Id": je["Id"], "SyncToken": "0", "sparse": True, "DocNumber": "a"})
    resp = api.post(
        "journalentry", {"Id": je["Id"], "SyncToken": "0", "sparse": True, "DocNumber": "b"}
    )
    assert fault(resp)["code"] == "5010"


def test_delete_leaves_a_stub_in_cdc(api: Api, book: dict[str, str]) -> None:
    since = _since(api)
    je = api.create("JournalEntry", je_body(book))
    resp = api.post(
        "journalentry", {"Id": je["Id"], "SyncToken": "0"}, params={"operation": "delete"}
    )
    assert resp.status_code == 200
    assert resp.json()["JournalEntry"] == {"domain": "QBO", "status": "Deleted", "Id": je["Id"]}
    assert fault(api.get(f"journalentry/{je['Id']}"))["code"] == "610"
    changed = _cdc(api, since)
    assert [(row["Id"], row.get("status")) for row in changed] == [(je["Id"], "Deleted")]


def test_void_is_not_supported(api: Api, book: dict[str, str]) -> None:
    je = api.create("JournalEntry", je_body(book))
    resp = api.post(
        "journalentry", {"Id": je["Id"], "SyncToken": "0"}, params={"operation": "void"}
    )
    assert resp.status_code == 400


# -- query, CDC, batch, webhooks -----------------------------------------------------------------


def test_query_by_header_fields(api: Api, book: dict[str, str]) -> None:
    first = api.create("JournalEntry", je_body(book, DocNumber="JC-A", TxnDate="2026-01-31"))
    second = api.create("JournalEntry", je_body(book, DocNumber="JC-B", TxnDate="2026-02-28"))
    by_doc = api.query("SELECT * FROM JournalEntry WHERE DocNumber = 'JC-B'")["JournalEntry"]
    assert [je["Id"] for je in by_doc] == [second["Id"]]
    by_date = api.query(
        "SELECT * FROM JournalEntry WHERE TxnDate >= '2026-01-01' AND TxnDate < '2026-02-01'"
    )["JournalEntry"]
    assert [je["Id"] for je in by_date] == [first["Id"]]
    ordered = api.query("SELECT * FROM JournalEntry ORDERBY TxnDate DESC")["JournalEntry"]
    assert [je["Id"] for je in ordered] == [second["Id"], first["Id"]]
    since = first["MetaData"]["CreateTime"]
    changed = api.query(
        f"SELECT * FROM JournalEntry WHERE MetaData.LastUpdatedTime >= '{since}' ORDERBY Id"
    )["JournalEntry"]
    assert [je["Id"] for je in changed] == [first["Id"], second["Id"]]
    # Answers hold whole objects, lines included (API.md §4.4).
    assert changed[0]["Line"] == first["Line"]


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("TotalAmt > '10'", "TotalAmt"),
        ("Adjustment = false", "Adjustment"),
        ("PrivateNote = 'x'", "PrivateNote"),
        ("Line.JournalEntryLineDetail.AccountRef = '5'", "Line.JournalEntryLineDetail.AccountRef"),
        (
            "Line.JournalEntryLineDetail.Entity.EntityRef = '5'",
            "Line.JournalEntryLineDetail.Entity.EntityRef",
        ),
    ],
)
def test_query_on_a_non_queryable_field_is_4001(api: Api, where: str, field: str) -> None:
    resp = api.post(
        "query",
        data=f"SELECT * FROM JournalEntry WHERE {where}".encode(),
        headers={"Content-Type": "application/text"},
    )
    error = fault(resp)
    assert error["code"] == "4001"
    assert f"property '{field}' is not queryable" in error["Detail"]


def test_order_by_a_non_sortable_field_is_4001(api: Api) -> None:
    resp = api.post(
        "query",
        data=b"SELECT * FROM JournalEntry ORDERBY TotalAmt",
        headers={"Content-Type": "application/text"},
    )
    assert fault(resp)["code"] == "4001"


def test_cdc_returns_created_and_updated_entries(api: Api, book: dict[str, str]) -> None:
    since = _since(api)
    je = api.create("JournalEntry", je_body(book))
    api.post("journalentry", {"Id": je["Id"], "SyncToken": "0", "sparse": True, "DocNumber": "u"})
    changed = _cdc(api, since)
    assert [(row["Id"], row["SyncToken"], row["DocNumber"]) for row in changed] == [
        (je["Id"], "1", "u")
    ]


def test_batch_creates_and_queries(api: Api, book: dict[str, str]) -> None:
    unbalanced = je_body(book)
    unbalanced["Line"][0]["Amount"] = 1
    body = {
        "BatchItemRequest": [
            {"bId": "ok", "operation": "create", "JournalEntry": je_body(book, DocNumber="B-1")},
            {"bId": "bad", "operation": "create", "JournalEntry": unbalanced},
            {"bId": "q", "Query": "SELECT * FROM JournalEntry WHERE DocNumber = 'B-1'"},
        ]
    }
    resp = api.post("batch", body)
    assert resp.status_code == 200
    out = {item["bId"]: item for item in resp.json()["BatchItemResponse"]}
    assert out["ok"]["JournalEntry"]["TotalAmt"] == 250.0
    assert out["bad"]["Fault"]["Error"][0]["code"] == "6000"
    assert out["q"]["QueryResponse"]["JournalEntry"][0]["Id"] == out["ok"]["JournalEntry"]["Id"]


def test_writes_notify_change_listeners(
    api: Api, book: dict[str, str], sandbox_server: SandboxServer
) -> None:
    seen: list[tuple[str, str, str]] = []

    def listener(realm_id: str, entity: str, entity_id: str, operation: str, at: Any) -> None:
        if realm_id == api.realm_id and entity == "JournalEntry":
            seen.append((entity, entity_id, operation))

    sb = sandbox_server.sandbox
    sb.add_change_listener(listener)
    try:
        je = api.create("JournalEntry", je_body(book))
        api.post(
            "journalentry", {"Id": je["Id"], "SyncToken": "0", "sparse": True, "DocNumber": "w"}
        )
        api.post("journalentry", {"Id": je["Id"], "SyncToken": "1"}, params={"operation": "delete"})
    finally:
        sb.remove_change_listener(listener)
    assert seen == [
        ("JournalEntry", je["Id"], "Create"),
        ("JournalEntry", je["Id"], "Update"),
        ("JournalEntry", je["Id"], "Delete"),
    ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


def test_webhook_names_the_journal_entry(
    server: SandboxServer, sandbox_api: Api, receiver: Receiver
) -> None:
    server.sandbox.webhooks.configure(
        url=receiver.url, verifier="v", format="cloudevents", batch_window_seconds=0.05
    )
    accounts = {a["Name"]: a["Id"] for a in sandbox_api.query("SELECT * FROM Account")["Account"]}
    body = {
        "Line": [
            je_line(12, "Debit", accounts["Job Materials"]),
            je_line(12, "Credit", accounts["Owner's Equity"]),
        ]
    }
    je = sandbox_api.create("JournalEntry", body)
    [(_, raw)] = receiver.wait_for(1)
    [event] = json.loads(raw)
    assert event["type"] == "qbo.journalentry.created.v1"
    assert event["intuitentityid"] == je["Id"]
    assert event["intuitaccountid"] == sandbox_api.realm_id


# -- helpers ---------------------------------------------------------------------------------


def _account(api: Api, name: str) -> str:
    rows = api.query(f"SELECT * FROM Account WHERE Name = '{name}'")["Account"]
    return str(rows[0]["Id"])


def _since(api: Api) -> str:
    now = api.server.sandbox.clock.now() - timedelta(seconds=1)
    return now.isoformat()


def _cdc(api: Api, since: str) -> list[dict[str, Any]]:
    resp = api.get("cdc", {"entities": "JournalEntry", "changedSince": since})
    assert resp.status_code == 200, resp.text
    element = resp.json()["CDCResponse"][0]["QueryResponse"][0]
    rows: list[dict[str, Any]] = element.get("JournalEntry", [])
    return rows
