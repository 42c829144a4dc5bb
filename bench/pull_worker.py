"""Child processes of `bench pull`: one costbridge pull, and the python-quickbooks loop.

Importable by name (multiprocessing's spawn start method needs module-level functions). Each
runs in a fresh process so its peak RSS is its own, and reports one dict on `results`.
"""

from __future__ import annotations

import cProfile
import logging
import os
import resource
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from core.config import Settings

PAGE = 1000


def _rss_mb() -> float:
    """This process's peak resident set so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pull_child(settings: Settings, company_id: int, profile_path: str, results: Any) -> None:
    """Build a runtime, then time one `pull_company` of the company.

    With a `profile_path`, the call is run under cProfile and the stats are written there.

    Puts `{"seconds", "rss_before_mb", "rss_peak_mb", "state", "message", "counts"}`.
    """
    logging.disable(logging.WARNING)
    from core.runtime import Runtime
    from core.sync.engine import pull_company

    rt = Runtime.build(settings)
    try:
        before = _rss_mb()
        profiler = cProfile.Profile() if profile_path else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        report = pull_company(rt, company_id, trigger="manual")
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        if profiler and profile_path:
            profiler.dump_stats(profile_path)
        results.put(
            {
                "seconds": seconds,
                "rss_before_mb": before,
                "rss_peak_mb": _rss_mb(),
                "state": report.state.value,
                "message": report.message,
                "counts": report.counts(),
            }
        )
    finally:
        rt.close()


def quickbooks_child(
    base_url: str, realm_id: str, client: tuple[str, str, str], results: Any
) -> None:
    """The loop a user would write with python-quickbooks: page four entities, sum per customer.

    Connects through the sandbox's consent screen with intuit-oauth (its own grant on the same
    realm), then pages Bill, Purchase, VendorCredit and TimeActivity 1000 at a time and sums
    expense line amounts (vendor credits negative) and hours x cost rate per customer, in memory.
    Puts `{"seconds", "rss_before_mb", "rss_peak_mb", "requests", "records", "lines",
    "customers", "total"}`.
    """
    import requests
    from intuitlib.client import AuthClient
    from intuitlib.enums import Scopes
    from quickbooks import QuickBooks
    from quickbooks.objects.bill import Bill
    from quickbooks.objects.purchase import Purchase
    from quickbooks.objects.timeactivity import TimeActivity
    from quickbooks.objects.vendorcredit import VendorCredit

    # requests-oauthlib refuses plain http unless told; the sandbox is loopback-only http.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    client_id, secret, redirect = client
    auth = AuthClient(
        client_id, secret, redirect, f"{base_url}/.well-known/openid_sandbox_configuration/"
    )
    consent = requests.get(
        auth.get_authorization_url([Scopes.ACCOUNTING]) + f"&realm_hint={realm_id}",
        allow_redirects=False,
        timeout=30,
    )
    query = parse_qs(urlsplit(consent.headers["Location"]).query)
    auth.get_bearer_token(query["code"][0], realm_id=query["realmId"][0])
    qb = QuickBooks(
        auth_client=auth,
        refresh_token=auth.refresh_token,
        company_id=realm_id,
        minorversion=75,
        environment="sandbox",
    )
    qb.sandbox_api_url_v3 = qb.api_url_v3 = f"{base_url}/v3"

    before = _rss_mb()
    started = time.perf_counter()
    totals: dict[str, Decimal] = defaultdict(Decimal)
    requests_made: dict[str, int] = {}
    records = lines = 0
    for cls, sign in ((Bill, 1), (Purchase, 1), (VendorCredit, -1), (TimeActivity, 1)):
        name = cls.qbo_object_name
        position = 1
        while True:
            # Our own entity names and numbers only.
            statement = f"SELECT * FROM {name} STARTPOSITION {position} MAXRESULTS {PAGE}"  # noqa: S608
            page = cls.query(statement, qb=qb)
            requests_made[name] = requests_made.get(name, 0) + 1
            records += len(page)
            for obj in page:
                if name == "TimeActivity":
                    customer = getattr(obj.CustomerRef, "value", None)
                    if customer:
                        hours = Decimal(obj.Hours or 0) + Decimal(obj.Minutes or 0) / 60
                        totals[customer] += hours * Decimal(str(obj.CostRate or 0))
                        lines += 1
                    continue
                for line in obj.Line or ():
                    detail = getattr(line, "AccountBasedExpenseLineDetail", None) or getattr(
                        line, "ItemBasedExpenseLineDetail", None
                    )
                    customer = getattr(getattr(detail, "CustomerRef", None), "value", None)
                    if customer:
                        totals[customer] += sign * Decimal(str(line.Amount))
                        lines += 1
            if len(page) < PAGE:
                break
            position += PAGE
    results.put(
        {
            "seconds": time.perf_counter() - started,
            "rss_before_mb": before,
            "rss_peak_mb": _rss_mb(),
            "requests": requests_made,
            "records": records,
            "lines": lines,
            "customers": len(totals),
            "total": str(sum(totals.values(), Decimal(0))),
        }
    )
