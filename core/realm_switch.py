"""Switching a company to another QuickBooks company (realm), and back.

A company has one realm at a time. Connecting it to a different one is refused by the OAuth
callback unless an admin confirmed the switch on a page that shows `impact()`; the callback then
calls `switch_realm()` in the transaction that stores the new grant. What happens to each thing
of the old realm, so that nothing of it can be taken for the new one:

- **Projects' customers** (with class and location) and the **QuickBooks records of cost codes,
  vendors and employees**: archived per realm (`RealmLink`) and cleared. Projects must be linked
  to a customer of the new company (and the catalog imported or connected) before actuals reach
  them. Switching back restores the archived links of that realm (rows deleted since are
  skipped, a link another row took meanwhile is left out).
- **Actuals** pulled from the old realm: deleted, with the realm's **CDC cursors**, so a switch
  back pulls that realm in full again and restores exactly what it still has.
- **Files copied from QuickBooks** (read-only copies) and their `RemoteMapping` rows: deleted; a
  switch back downloads them again on the next pull. Files added here stay: they are the
  company's own.
- **What costbridge pushed** (`RemoteMapping` of bills, invoices, time entries and files sent):
  kept, as it is keyed by realm and can never match the new one; after a switch back, an edit
  updates the record it created there instead of creating a second one.
- **Waiting pushes** (pending, blocked, failed, needing an admin, unknown): cancelled with a
  reason, as they were meant for the old company. A switch is refused while a push is being
  sent.
- **Classes and locations** of the old realm: the company's copy is dropped (the new realm's is
  read when the project's Financials page opens) and the ones bills, invoices and time entries
  chose are cleared; the project's own are archived with its customer.
- The old realm's refresh token is queued for revocation (`PendingRevocation`), so the old
  company no longer trusts costbridge; a switch back cancels that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import CostbridgeError
from core.models import Actual
from core.models import Attachment
from core.models import AttachmentOrigin
from core.models import Bill
from core.models import BillLine
from core.models import Company
from core.models import CostCode
from core.models import Employee
from core.models import Invoice
from core.models import InvoiceLine
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import PendingRevocation
from core.models import Project
from core.models import RealmLink
from core.models import RemoteMapping
from core.models import SyncCursor
from core.models import TimeEntry
from core.models import TrackingCategory
from core.models import Vendor

__all__ = ["SWITCH_CANCELLED", "SwitchImpact", "impact", "switch_realm"]

#: The outbox reason of a push cancelled by a switch.
SWITCH_CANCELLED = (
    "Cancelled: the company was switched to another QuickBooks company before this was sent."
)
#: Pushes a switch cancels (IN_FLIGHT makes it wait; DONE and CANCELLED are history).
WAITING = (
    OutboxState.PENDING,
    OutboxState.BLOCKED,
    OutboxState.FAILED,
    OutboxState.NEEDS_ADMIN,
    OutboxState.UNKNOWN,
)
#: Local rows linked to QuickBooks records, and the columns that hold the link.
LINKED: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (Project, ("qbo_customer_id", "qbo_customer_name", "qbo_class_id", "qbo_location_id")),
    (CostCode, ("qbo_item_id", "qbo_item_name")),
    (Vendor, ("qbo_vendor_id",)),
    (Employee, ("qbo_employee_id",)),
)
#: The entity of a file copied from QuickBooks in `RemoteMapping`.
ATTACHABLE = "Attachable"


@dataclass(frozen=True)
class SwitchImpact:
    """What a switch away from the company's current realm does, in counts."""

    realm_id: str | None
    projects_linked: int
    catalog_linked: int
    actuals: int
    files_from_qbo: int
    files_added_here: int
    waiting_pushes: int
    pushes_in_flight: int


def impact(session: Session, company: Company) -> SwitchImpact:
    """Count what a switch of `company` to another realm removes, archives or cancels."""
    realm = company.realm_id
    projects = select(Project.id).where(Project.company_id == company.id)
    linked = _count(session, Project, Project.qbo_customer_id.is_not(None), company.id)
    catalog = sum(
        _count(session, model, getattr(model, columns[0]).is_not(None), company.id)
        for model, columns in LINKED[1:]
    )
    actuals = (
        session.scalar(select(func.count()).select_from(Actual).where(Actual.realm_id == realm))
        if realm
        else 0
    )
    files = {
        origin: session.scalar(
            select(func.count())
            .select_from(Attachment)
            .where(Attachment.project_id.in_(projects), Attachment.origin == origin)
        )
        or 0
        for origin in AttachmentOrigin
    }
    pushes: dict[OutboxState, int] = {
        state: count
        for state, count in session.execute(
            select(OutboxEntry.state, func.count())
            .where(OutboxEntry.company_id == company.id)
            .group_by(OutboxEntry.state)
        )
    }
    return SwitchImpact(
        realm_id=realm,
        projects_linked=linked,
        catalog_linked=catalog,
        actuals=actuals or 0,
        files_from_qbo=files[AttachmentOrigin.QBO],
        files_added_here=files[AttachmentOrigin.LOCAL],
        waiting_pushes=sum(pushes.get(state, 0) for state in WAITING),
        pushes_in_flight=pushes.get(OutboxState.IN_FLIGHT, 0),
    )


def _count(session: Session, model: Any, condition: Any, company_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(model).where(model.company_id == company_id, condition)
        )
        or 0
    )


def switch_realm(session: Session, company: Company, new_realm: str) -> SwitchImpact:
    """Leave the company's current realm for `new_realm` (the caller stores the grant, commits).

    Call with the company row locked. Does nothing but return the counts when the realm does
    not change.

    Raises:
        CostbridgeError: A push of the company is being sent right now.
    """
    before = impact(session, company)
    old = company.realm_id
    if old is None or old == new_realm:
        return before
    if before.pushes_in_flight:
        raise CostbridgeError(
            f"{before.pushes_in_flight} change(s) of {company.name} are being sent to QuickBooks "
            "right now; nothing was switched.",
            fix="Wait a minute for them to finish, then start the switch again.",
        )
    _archive_links(session, company.id, old)
    _restore_links(session, company.id, new_realm)
    projects = select(Project.id).where(Project.company_id == company.id)
    copies = select(Attachment.id).where(
        Attachment.project_id.in_(projects), Attachment.origin == AttachmentOrigin.QBO
    )
    session.execute(
        delete(RemoteMapping)
        .where(
            RemoteMapping.realm_id == old,
            RemoteMapping.entity == ATTACHABLE,
            RemoteMapping.local_kind == Attachment.__tablename__,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(Attachment)
        .where(Attachment.id.in_(copies.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(Actual).where(Actual.realm_id == old).execution_options(synchronize_session=False)
    )
    session.execute(delete(SyncCursor).where(SyncCursor.realm_id == old))
    _forget_tracking(session, company.id, projects)
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.company_id == company.id, OutboxEntry.state.in_(WAITING))
        .values(
            state=OutboxState.CANCELLED,
            last_error=SWITCH_CANCELLED,
            fix=None,
            lease_until=None,
            claimed_by=None,
        )
        .execution_options(synchronize_session=False)
    )
    token_enc = company.refresh_token_enc
    if token_enc:
        session.add(
            PendingRevocation(
                company_id=company.id,
                realm_id=old,
                token_enc=token_enc,
                attempts=0,
                next_attempt_at=utcnow(),
            )
        )
    session.execute(delete(PendingRevocation).where(PendingRevocation.realm_id == new_realm))
    session.expire_all()
    return before


def _forget_tracking(session: Session, company_id: int, projects: Any) -> None:
    """Drop the old realm's classes and locations: the copy, and the ids bills, invoices and time
    entries chose (they name records of the old company; the project's own are archived)."""
    session.execute(delete(TrackingCategory).where(TrackingCategory.company_id == company_id))
    bills = select(Bill.id).where(Bill.project_id.in_(projects)).scalar_subquery()
    invoices = select(Invoice.id).where(Invoice.project_id.in_(projects)).scalar_subquery()
    cleared = {"synchronize_session": False}
    for stmt in (
        update(Bill).where(Bill.project_id.in_(projects)).values(qbo_location_id=None),
        update(BillLine).where(BillLine.bill_id.in_(bills)).values(qbo_class_id=None),
        update(Invoice).where(Invoice.project_id.in_(projects)).values(qbo_location_id=None),
        update(InvoiceLine).where(InvoiceLine.invoice_id.in_(invoices)).values(qbo_class_id=None),
        update(TimeEntry)
        .where(TimeEntry.project_id.in_(projects))
        .values(qbo_class_id=None, qbo_location_id=None),
    ):
        session.execute(stmt.execution_options(**cleared))


def _archive_links(session: Session, company_id: int, realm_id: str) -> None:
    """Keep the company's links into `realm_id` aside, then clear them on the rows."""
    session.execute(
        delete(RealmLink).where(RealmLink.company_id == company_id, RealmLink.realm_id == realm_id)
    )
    for model, columns in LINKED:
        rows: Sequence[Any] = session.scalars(
            select(model).where(
                model.company_id == company_id,
                or_(*(getattr(model, name).is_not(None) for name in columns)),
            )
        ).all()
        for row in rows:
            session.add(
                RealmLink(
                    company_id=company_id,
                    realm_id=realm_id,
                    local_kind=model.__tablename__,
                    local_id=row.id,
                    fields={name: getattr(row, name) for name in columns},
                )
            )
            for name in columns:
                setattr(row, name, None)
    session.flush()


def _restore_links(session: Session, company_id: int, realm_id: str) -> None:
    """Put back the links archived when the company left `realm_id` (if it was ever there)."""
    archived = session.scalars(
        select(RealmLink).where(RealmLink.company_id == company_id, RealmLink.realm_id == realm_id)
    ).all()
    by_kind = {model.__tablename__: (model, columns) for model, columns in LINKED}
    for link in archived:
        model, columns = by_kind.get(link.local_kind, (None, ()))
        row = session.get(model, link.local_id) if model is not None else None
        if row is not None and row.company_id == company_id:
            key = columns[0]
            value = link.fields.get(key)
            taken = value is not None and session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.company_id == company_id, getattr(model, key) == value)
            )
            if not taken and getattr(row, key) is None:
                for name in columns:
                    setattr(row, name, link.fields.get(name))
        session.delete(link)
    session.flush()
