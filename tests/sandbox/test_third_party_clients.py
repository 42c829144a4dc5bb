"""Real third-party QBO libraries work against the sandbox with only their base URLs changed.

intuit-oauth (Intuit's own OAuth client) and python-quickbooks (a widely used QBO client) are
installed as test dependencies; nothing of theirs is patched beyond the URLs they let you set.
"""

from __future__ import annotations

import datetime as dt
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
from quickbooks.objects.detailline import AccountBasedExpenseLine  # noqa: E402
from quickbooks.objects.detailline import AccountBasedExpenseLineDetail  # noqa: E402
from quickbooks.objects.vendor import Vendor  # noqa: E402

REDIRECT = "http://127.0.0.1:5000/qbo/callback"


@pytest.fixture(scope="module")
def server():
    # Registered exactly, as the app's redirect URI is on Intuit's developer portal.
    config = SandboxConfig(
        oauth_clients=(OAuthClient("costbridge-dev", "costbridge-dev-secret", (REDIRECT,)),)
    )
    with SandboxServer(config, port=0, seed="empty") as srv:
        yield srv


@pytest.fixture(scope="module")
def auth_client(server):
    # intuit-oauth takes a discovery URL as its "environment"; Intuit's own default has the
    # trailing slash, so ours is given the same way.
    client = intuitlib_client.AuthClient(
        "costbridge-dev",
        "costbridge-dev-secret",
        REDIRECT,
        f"{server.url}/.well-known/openid_sandbox_configuration/",
    )
    url = client.get_authorization_url([Scopes.ACCOUNTING])
    consent = requests.get(url, allow_redirects=False, timeout=10)
    assert consent.status_code in (302, 303)
    query = parse_qs(urlparse(consent.headers["Location"]).query)
    assert query["state"] == [client.state_token]
    client.get_bearer_token(query["code"][0], realm_id=query["realmId"][0])
    return client


@pytest.fixture(scope="module")
def qb(auth_client, server):
    # requests-oauthlib refuses plain http unless told; the sandbox is loopback-only http.
    patch = pytest.MonkeyPatch()
    patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    client = QuickBooks(
        auth_client=auth_client,
        refresh_token=auth_client.refresh_token,
        company_id=auth_client.realm_id,
        minorversion=75,
        environment="sandbox",
    )
    # Its only two base URLs; both point here, so nothing can leave the machine.
    client.sandbox_api_url_v3 = client.api_url_v3 = f"{server.url}/v3"
    yield client
    patch.undo()


def test_intuit_oauth_client_refreshes_and_revokes(server):
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
    first_refresh = client.refresh_token
    client.refresh()
    assert client.refresh_token != first_refresh
    assert client.expires_in == 3600
    assert client.revoke(token=client.refresh_token) is True


def test_python_quickbooks_creates_queries_and_updates_a_vendor_with_an_apostrophe(qb):
    vendor = Vendor()
    vendor.DisplayName = "O'Brien & Sons Électricité"
    vendor.save(qb=qb)
    assert vendor.Id
    found = Vendor.filter(DisplayName="O'Brien & Sons Électricité", qb=qb)
    assert [v.Id for v in found] == [vendor.Id]
    vendor.CompanyName = "O'Brien & Sons"
    vendor.save(qb=qb)
    assert Vendor.get(vendor.Id, qb=qb).SyncToken == "1"


def _expense_account(qb):
    return next(
        a
        for a in Account.all(qb=qb, max_results=1000)
        if a.AccountType in ("Expense", "Cost of Goods Sold")
    )


def _save_bill(qb, vendor_name, amount):
    """Save a new vendor and a one-line account-based bill from it, as the library's docs do."""
    vendor = Vendor()
    vendor.DisplayName = vendor_name
    vendor.save(qb=qb)
    bill = Bill()
    bill.VendorRef = vendor.to_ref()
    line = AccountBasedExpenseLine()
    line.Amount = amount
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = _expense_account(qb).to_ref()
    bill.Line.append(line)
    bill.save(qb=qb)
    return bill


def test_python_quickbooks_bill_round_trip_and_delete(qb):
    bill = _save_bill(qb, "Hillside Lumber Supply", 1250.50)
    stored = Bill.get(bill.Id, qb=qb)
    assert str(stored.TotalAmt) == "1250.5"
    assert Bill.count(qb=qb) >= 1
    stored.delete(qb=qb)
    with pytest.raises(QuickbooksException):
        Bill.get(bill.Id, qb=qb)


def test_python_quickbooks_sees_a_stale_sync_token_as_an_error(qb):
    vendor = Vendor()
    vendor.DisplayName = "Stale Token Supply"
    vendor.save(qb=qb)
    first = Vendor.get(vendor.Id, qb=qb)
    second = Vendor.get(vendor.Id, qb=qb)
    first.CompanyName = "First"
    first.save(qb=qb)
    second.CompanyName = "Second"
    with pytest.raises(QuickbooksException) as info:
        second.save(qb=qb)
    assert info.value.error_code == 5010


def test_python_quickbooks_batch_and_cdc(qb):
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    vendors = []
    for n in range(3):
        v = Vendor()
        v.DisplayName = f"Batch Vendor {n}"
        vendors.append(v)
    result = batch_create(vendors, qb=qb)
    assert len(result.successes) == 3
    assert not result.faults
    # A naive datetime would be formatted without an offset and read in the company's zone
    # (API.md §13), so the library is given the instant with its offset.
    changes = change_data_capture([Vendor], since.isoformat(timespec="seconds"), qb=qb)
    names = {v.DisplayName for v in changes.Vendor}
    assert {"Batch Vendor 0", "Batch Vendor 1", "Batch Vendor 2"} <= names


def test_python_quickbooks_uploads_an_attachment_to_a_bill(qb, tmp_path):
    from quickbooks.objects.attachable import Attachable
    from quickbooks.objects.attachable import AttachableRef

    bill = _save_bill(qb, "Müller Stahlbau", 99)
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(b"%PDF-1.4\n% receipt for lumber\n")
    attachment = Attachable()
    ref = AttachableRef()
    ref.EntityRef = bill.to_ref()
    attachment.AttachableRef.append(ref)
    attachment.FileName = "receipt.pdf"
    attachment._FilePath = str(receipt)
    attachment.ContentType = "application/pdf"
    attachment.save(qb=qb)
    assert attachment.Id
    stored = Attachable.get(attachment.Id, qb=qb)
    assert stored.FileName == "receipt.pdf"
    assert requests.get(stored.TempDownloadUri, timeout=10).content == receipt.read_bytes()
