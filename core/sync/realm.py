"""What a pull needs to know about a company's realm, and the lock that keeps pulls apart.

Lookups for the mappers (item -> cost code, cost rates, home currency), QBO's closed-books date
(`core.qbo.book_close`), and the per-company pull lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.contracts import Lookups
from core.models import Company
from core.models import CostCode
from core.models import Employee
from core.sync.lookups import RateBook

log = logging.getLogger(__name__)


def realm_lookups(session: Session, company: Company, client: Any) -> tuple[Lookups, RateBook]:
    """The lookups mappers get for a company's realm, and the rate book that fills them.

    Call `rates.prefetch(rows)` before mapping TimeActivity rows (the lookups see its maps).
    """
    rates = RateBook(client, _local_employee_rates(session, company.id))
    lookups = Lookups(
        home_currency=company.home_currency,
        item_cost_codes=_item_cost_codes(session, company.id),
        employee_cost_rates=rates.employees,
        vendor_cost_rates=rates.vendors,
    )
    return lookups, rates


#: First key of the PostgreSQL advisory lock that keeps two pulls of one company apart.
LOCK_NAMESPACE = 0x0C057


@contextmanager
def realm_pull_lock(engine: Engine, company_id: int, *, wait: bool = True) -> Iterator[None]:
    """Hold the company's pull lock: a second pull waits for the first (both then apply cleanly).

    A PostgreSQL session-level advisory lock on a connection of its own, so it spans the pull's
    many commits and dies with the process. SQLite serialises writers by itself.
    """
    if not wait or engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(
            text("SELECT pg_advisory_lock(:ns, :id)"), {"ns": LOCK_NAMESPACE, "id": company_id}
        )
        try:
            yield
        finally:
            try:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:ns, :id)"),
                    {"ns": LOCK_NAMESPACE, "id": company_id},
                )
                conn.commit()
            except DBAPIError:
                # The lock's connection died (a restarted or terminated backend): PostgreSQL
                # released the lock with it.
                log.warning("pull lock of company %s went with its connection", company_id)


def _item_cost_codes(session: Session, company_id: int) -> dict[str, int]:
    rows = session.execute(
        select(CostCode.qbo_item_id, CostCode.id).where(
            CostCode.company_id == company_id, CostCode.qbo_item_id.is_not(None)
        )
    )
    return {str(item): code for item, code in rows}


def _local_employee_rates(session: Session, company_id: int) -> dict[str, Any]:
    rows = session.execute(
        select(Employee.qbo_employee_id, Employee.cost_rate).where(
            Employee.company_id == company_id,
            Employee.qbo_employee_id.is_not(None),
            Employee.cost_rate.is_not(None),
        )
    )
    return {str(qbo_id): rate for qbo_id, rate in rows}
