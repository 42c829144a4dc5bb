"""A connected company with QBO books to push into: vendor, customer, items, employee."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import select

from core.catalog_import import import_cost_codes
from core.catalog_import import import_employees
from core.catalog_import import import_vendors
from core.jobs import queues
from core.models import CostCode
from core.models import Employee
from core.models import Vendor
from core.push import queueing
from core.qbo import client_for
from core.qbo import queries


def rid() -> str:
    return uuid.uuid4().hex


@dataclass
class Books:
    """The sandbox company's records and their local counterparts."""

    client: Any
    customer_id: str
    vendor: Vendor
    employee: Employee
    framing: CostCode
    concrete: CostCode
    profit: CostCode
    sell_only: CostCode


def _account(client: Any, account_type: str) -> str:
    statement = queries.select("Account", queries.eq("AccountType", account_type))
    rows = client.query(statement)["Account"]
    return str(rows[0]["Id"])


def _item(client: Any, name: str, income: str, expense: str | None) -> None:
    body: dict[str, Any] = {
        "Name": name,
        "Type": "Service",
        "IncomeAccountRef": {"value": income},
    }
    if expense:
        body["ExpenseAccountRef"] = {"value": expense}
    client.create("Item", body, request_id=rid())


@pytest.fixture
def books(qbo_runtime: Any, realm_id: str, company: Any, committed_db: Any) -> Books:
    return make_books(qbo_runtime, realm_id, company.id, committed_db)


def make_books(runtime: Any, realm_id: str, company_id: int, committed_db: Any) -> Books:
    """Create the records in the sandbox company and import them as connected local ones."""
    client = client_for(runtime, realm_id)
    income = _account(client, "Income")
    cogs = _account(client, "Cost of Goods Sold")
    client.create("Vendor", {"DisplayName": "Hillside Lumber Supply"}, request_id=rid())
    client.create(
        "Employee",
        {"GivenName": "Dana", "FamilyName": "Ortiz", "DisplayName": "Dana Ortiz", "CostRate": 42},
        request_id=rid(),
    )
    customer = client.create("Customer", {"DisplayName": "Maple Street Remodel"}, request_id=rid())
    _item(client, "Framing", income, cogs)
    _item(client, "Concrete", income, cogs)
    _item(client, "Profit", income, cogs)
    _item(client, "Consulting", income, None)
    import_vendors(committed_db, client, company_id)
    import_employees(committed_db, client, company_id)
    import_cost_codes(committed_db, client, company_id)
    committed_db.commit()
    codes = {c.name: c for c in committed_db.scalars(select(CostCode))}
    return Books(
        client=client,
        customer_id=str(customer["Id"]),
        vendor=committed_db.scalars(select(Vendor)).one(),
        employee=committed_db.scalars(select(Employee)).one(),
        framing=codes["Framing"],
        concrete=codes["Concrete"],
        profit=codes["Profit"],
        sell_only=codes["Consulting"],
    )


def work(runtime: Any) -> None:
    """Run every queued job through a burst worker on the real queues."""
    worker = SimpleWorker(
        [queues.queue(n, runtime.redis) for n in queues.ALL],
        connection=runtime.redis,
        serializer=JSONSerializer,
    )
    worker.work(burst=True)


def send(runtime: Any, session: Any, entries: Any) -> None:
    """Commit, queue the recorded pushes and work them off."""
    session.commit()
    queueing.enqueue_recorded(runtime, entries)
    work(runtime)
    session.expire_all()
