"""Delivering outbox rows to QBO, exactly once in effect.

A push job claims its row with a short lease that a heartbeat renews while the job runs, so a
killed worker's rows are taken back within seconds (`core.push.leases`). Before anything is
re-sent, an attempt whose outcome is unknown is resolved by looking the record up in QBO by the
marker every payload carries (RELIABILITY.md §1): QBO's `requestid` is the second defence, our
ledger and the marker the first. Fresh creates queued together go as one QBO batch of up to 30.

The plugins map (`push_payload`); everything here is shared: loading the local record,
lookups, closed books, paid bills, SyncTokens and stale objects, `RemoteMapping`, errors.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import LocalBill
from core.contracts import LocalBillLine
from core.contracts import LocalFile
from core.contracts import LocalInvoice
from core.contracts import LocalInvoiceLine
from core.contracts import LocalRecord
from core.contracts import LocalTimeEntry
from core.contracts import PushLookups
from core.contracts import QboPayload
from core.contracts import RemoteRecord
from core.errors import CostbridgeError
from core.errors import NeedsAdmin
from core.errors import Rejected
from core.files import store_for
from core.models import Attachment
from core.models import Bill
from core.models import Company
from core.models import CostCode
from core.models import Employee
from core.models import Invoice
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import RemoteMapping
from core.models import TimeEntry
from core.models import Vendor
from core.plugins import ProjectHooks
from core.plugins import call_owner
from core.project_settings import effective_settings
from core.push import locate
from core.push import outbox
from core.qbo import queries
from core.qbo.book_close import BookClose
from core.qbo.client import QboClient
from core.qbo.errors import InvalidReference
from core.qbo.errors import QboError
from core.qbo.errors import StaleObject
from core.runtime import Runtime

log = logging.getLogger(__name__)

#: Creates that may travel together in a batch.
BATCHABLE = ("Bill", "Invoice", "TimeActivity")
#: QBO's Fault codes for a document number already in use (API.md §3.2).
DUPLICATE_DOC_NUMBER = ("6140", "6210")
#: Entities whose paid state forbids edits and deletes (API.md §11.2, §11.5).
PAYABLE = ("Bill", "Invoice")


@dataclass
class Outcome:
    """How one row's delivery ended.

    `state` DONE (sent, or found already there), NEEDS_ADMIN (an admin must connect, choose or
    decide), FAILED (QBO refused), CANCELLED (nothing left to send), PENDING (waits for an
    earlier write of the same record).
    """

    state: OutboxState
    message: str
    fix: str = ""
    detail: str = ""
    code: str | None = None
    qbo_id: str | None = None

    @classmethod
    def of_error(cls, exc: CostbridgeError, state: OutboxState) -> Outcome:
        """The outcome an admin-facing error means."""
        code = exc.code if isinstance(exc, QboError) and exc.code else None
        return cls(state, exc.message, exc.fix, exc.detail, code)


# -- loading what a mapper sees -----------------------------------------------------------------


def load_record(session: Session, entry: OutboxEntry) -> LocalRecord | None:
    """The frozen local record an outbox row is about; None when it was deleted here."""
    if entry.local_kind == "bill":
        bill = session.get(Bill, entry.local_id)
        if bill is None:
            return None
        vendor = session.get(Vendor, bill.vendor_id)
        return LocalBill(
            id=bill.id,
            vendor_id=bill.vendor_id,
            vendor_name=vendor.name if vendor else f"#{bill.vendor_id}",
            number=bill.number,
            bill_date=bill.bill_date,
            due_date=bill.due_date,
            memo=bill.memo,
            lines=tuple(
                LocalBillLine(
                    line.position, line.cost_code_id, line.description, line.amount, line.billable
                )
                for line in bill.lines
            ),
        )
    if entry.local_kind == "invoice":
        invoice = session.get(Invoice, entry.local_id)
        if invoice is None:
            return None
        return LocalInvoice(
            id=invoice.id,
            number=invoice.number,
            invoice_date=invoice.invoice_date,
            due_date=invoice.due_date,
            memo=invoice.memo,
            markup_percent=invoice.markup_percent or Decimal("0"),
            lines=tuple(
                LocalInvoiceLine(
                    line.position,
                    line.cost_code_id,
                    line.description,
                    line.amount,
                    line.markup_amount or Decimal("0.00"),
                )
                for line in invoice.lines
            ),
        )
    if entry.local_kind == "time_entry":
        time = session.get(TimeEntry, entry.local_id)
        if time is None:
            return None
        employee = session.get(Employee, time.employee_id)
        return LocalTimeEntry(
            id=time.id,
            employee_id=time.employee_id,
            employee_name=employee.name if employee else f"#{time.employee_id}",
            cost_code_id=time.cost_code_id,
            work_date=time.work_date,
            hours=time.hours,
            billable=time.billable,
            description=time.description,
            created_at=time.created_at,
            cost_rate=employee.cost_rate if employee else None,
        )
    if entry.local_kind == "attachment":
        file = session.get(Attachment, entry.local_id)
        if file is None or file.bill_id is None:
            return None
        parent = mapping_of(session, "bill", file.bill_id)
        return LocalFile(
            id=file.id,
            file_name=file.file_name,
            content_type=file.content_type,
            size=file.size,
            parent_entity="Bill",
            parent_qbo_id=parent.qbo_id if parent else "",
        )
    return None


def mapping_of(session: Session, local_kind: str, local_id: int) -> RemoteMapping | None:
    """The QBO record a local record became, if any."""
    return session.scalar(select(RemoteMapping).filter_by(local_kind=local_kind, local_id=local_id))


def txn_date(record: LocalRecord) -> dt.date | None:
    """The date QBO books the record on (what closed books are checked against)."""
    if isinstance(record, LocalBill):
        return record.bill_date
    if isinstance(record, LocalInvoice):
        return record.invoice_date
    if isinstance(record, LocalTimeEntry):
        return record.work_date
    return None


def build_lookups(
    session: Session,
    project: Project,
    settings: Mapping[str, object],
    remote: RemoteRecord | None,
    key: str,
) -> PushLookups:
    """Everything a push mapper may need about the project's company, read once."""
    company_id = project.company_id
    vendors = {
        v.id: v.qbo_vendor_id
        for v in session.scalars(
            select(Vendor).where(Vendor.company_id == company_id, Vendor.qbo_vendor_id.is_not(None))
        )
        if v.qbo_vendor_id
    }
    employees = {
        e.id: e.qbo_employee_id
        for e in session.scalars(
            select(Employee).where(
                Employee.company_id == company_id, Employee.qbo_employee_id.is_not(None)
            )
        )
        if e.qbo_employee_id
    }
    items: dict[int, str] = {}
    names: dict[int, str] = {}
    problems: dict[int, str] = {}
    for code in session.scalars(select(CostCode).where(CostCode.company_id == company_id)):
        names[code.id] = f"{code.code} {code.name}"
        problem = code.usability_problem()
        if problem is None and code.qbo_item_id:
            items[code.id] = code.qbo_item_id
        else:
            problems[code.id] = problem or "not connected to a QuickBooks Product/Service"
    return PushLookups(
        settings=settings,
        customer_id=project.qbo_customer_id,
        vendors=vendors,
        employees=employees,
        items=items,
        cost_code_names=names,
        cost_code_problems=problems,
        class_id=project.qbo_class_id,
        location_id=project.qbo_location_id,
        remote=remote,
        marker=outbox.marker(key),
    )


# -- the pusher -----------------------------------------------------------------------------------


#: How old a cached closed-books date a push accepts: one Preferences read a minute per realm
#: instead of one per job, which in a bulk push was every other request.
BOOK_CLOSE_MAX_AGE = 60.0


class Pusher:
    """Delivers claimed rows of one company through its QBO client."""

    def __init__(self, rt: Runtime, session: Session, company: Company, client: QboClient) -> None:
        """Deliver for `company` (connected) with `client`."""
        self.rt = rt
        self.session = session
        self.company = company
        self.client = client
        self._book_close = BookClose(
            client, company.realm_id or "", rt.redis, max_age=BOOK_CLOSE_MAX_AGE
        )

    # -- one row, up to the payload ---------------------------------------------------------

    def prepare(self, entry: OutboxEntry) -> Outcome | tuple[LocalRecord | None, PushLookups, str]:
        """Decide a row up to its payload: an `Outcome` when it ends here, else what to map.

        Returns the local record (None for a delete), its lookups and the owning plugin.
        """
        session = self.session
        project = session.get(Project, entry.project_id) if entry.project_id else None
        if project is None:
            return Outcome(OutboxState.CANCELLED, "The project of this change no longer exists.")
        if outbox.open_predecessors(session, entry):
            return Outcome(OutboxState.PENDING, "Waits for an earlier change of the same record.")
        pm = self.rt.pm
        parent_entity = "Bill" if entry.entity == "Attachable" else entry.entity
        owner = pm.owner_of(parent_entity)
        if owner is None or owner not in project.enabled_plugin_names(pm.names()):
            return Outcome(
                OutboxState.NEEDS_ADMIN,
                f"No enabled plugin sends {entry.entity} records to QuickBooks.",
                "Enable the plugin for this project, or ask support which one to install.",
            )
        if entry.local_kind not in outbox.KINDS:
            return Outcome(
                OutboxState.NEEDS_ADMIN,
                f"costbridge does not push {entry.local_kind} records to QuickBooks.",
                "Ask support: this change was recorded by something costbridge does not know.",
            )
        settings = effective_settings(pm, project)
        toggle = outbox.KINDS[entry.local_kind][1]
        if entry.operation != "delete" and not settings.get(toggle):
            spec = pm.setting_specs().get(toggle)
            label = spec[1].label if spec else toggle
            return Outcome(
                OutboxState.NEEDS_ADMIN,
                f"“{label}” is off for this project, so this change was not sent.",
                f"Turn on “{label}” in Project settings, then retry it from the queue.",
            )
        mapping = mapping_of(session, entry.local_kind, entry.local_id)
        remote = RemoteRecord(mapping.qbo_id, mapping.sync_token or "0") if mapping else None
        record = load_record(session, entry) if entry.operation != "delete" else None
        if entry.operation != "delete" and record is None:
            return Outcome(OutboxState.CANCELLED, "Deleted here before it was sent.")
        if isinstance(record, LocalFile) and not record.parent_qbo_id:
            bill_rows = outbox.open_predecessors(
                session,
                OutboxEntry(
                    company_id=entry.company_id,
                    local_kind="bill",
                    local_id=self._bill_of(entry.local_id),
                    id=2**31 - 1,
                ),
            )
            if bill_rows:
                return Outcome(OutboxState.PENDING, "Waits for its bill to reach QuickBooks.")
            return Outcome(
                OutboxState.NEEDS_ADMIN,
                "This file's bill is not in QuickBooks, so the file cannot be attached there.",
                "Send the bill first (check it in the queue), then retry the file.",
            )
        if record is not None:
            when = txn_date(record)
            closed = self.book_close_date()
            if when is not None and closed is not None and when <= closed:
                return Outcome(
                    OutboxState.NEEDS_ADMIN,
                    f"QuickBooks' books are closed up to {closed.isoformat()}, and this record is "
                    f"dated {when.isoformat()}; nothing was sent.",
                    "Change the date to after the closing date, or ask the accountant to reopen "
                    "the books in QuickBooks (Account and settings → Advanced → Close the books).",
                )
        lookups = build_lookups(session, project, settings, remote, entry.idempotency_key)
        return record, lookups, owner

    def _bill_of(self, attachment_id: int) -> int:
        file = self.session.get(Attachment, attachment_id)
        return file.bill_id if file is not None and file.bill_id is not None else 0

    def book_close_date(self) -> dt.date | None:
        """QBO's closed-books date (Preferences), at most `BOOK_CLOSE_MAX_AGE` seconds old."""
        return self._book_close.date()

    def payload(self, owner: str, record: LocalRecord, lookups: PushLookups) -> QboPayload:
        """The owning plugin's payload for a record (a None answer needs an admin)."""
        pm = self.rt.pm
        outcome = call_owner(
            ProjectHooks(pm, [owner]),
            self._entity_of(record),
            "push_payload",
            record=record,
            lookups=lookups,
        )
        if outcome is not None and isinstance(outcome.error, CostbridgeError):
            raise outcome.error
        if outcome is None or outcome.error is not None:
            raise NeedsAdmin(
                f"The {owner} plugin could not prepare this record for QuickBooks.",
                fix="Ask support to look at the plugin's log; the change waits in the queue.",
                detail=repr(outcome.error) if outcome is not None else "",
            )
        if not isinstance(outcome.result, QboPayload):
            raise NeedsAdmin(f"The {owner} plugin does not send this kind of record.")
        return outcome.result

    @staticmethod
    def _entity_of(record: LocalRecord) -> str:
        if isinstance(record, LocalFile):
            return record.parent_entity
        if isinstance(record, LocalInvoice):
            return "Invoice"
        if isinstance(record, LocalTimeEntry):
            return "TimeActivity"
        return "Bill"

    # -- looking QBO up by marker -------------------------------------------------------------

    def find_by_marker(self, payload: QboPayload, marker: str) -> dict[str, Any] | None:
        """The record an earlier attempt of this write created, if QBO has it.

        Queries only fields QBO lets a query filter on and matches the marker here
        (`core.push.locate`); every page of the answer is read.
        """
        return locate.find_by_marker(self.client, payload, marker)

    # -- sending ----------------------------------------------------------------------------------

    def create(
        self, entry: OutboxEntry, payload: QboPayload, record: LocalRecord | None
    ) -> Outcome:
        """Create one record (or upload one file), unless an earlier attempt already did."""
        marker = outbox.marker(entry.idempotency_key)
        if entry.attempts > 1:
            found = self.find_by_marker(payload, marker)
            if found is not None:
                return self.done(entry, payload.entity, found, "Found in QuickBooks")
        if isinstance(record, LocalFile):
            file = self.session.get(Attachment, record.id)
            assert file is not None
            content = store_for(self.rt.settings.instance_path).get(file.storage_key)
            made = self.client.upload(
                record.file_name,
                content,
                record.content_type,
                attach_to=[(record.parent_entity, record.parent_qbo_id)],
                note=str(payload.body.get("Note") or "") or None,
                request_id=entry.idempotency_key,
            )
        else:
            try:
                made = self.client.create(
                    payload.entity, payload.body, request_id=entry.idempotency_key
                )
            except QboError as exc:
                if exc.code not in DUPLICATE_DOC_NUMBER:
                    raise
                return self._duplicate_number(entry, payload, marker, exc)
        return self.done(entry, payload.entity, made, "Sent")

    def _duplicate_number(
        self, entry: OutboxEntry, payload: QboPayload, marker: str, exc: QboError
    ) -> Outcome:
        """A create refused for its DocNumber: our own earlier attempt, or a real clash.

        With duplicate numbers refused, an attempt whose requestid QBO forgot comes back as
        6140 instead of a second record; the record with that number is ours exactly when
        it carries our marker.
        """
        found = self.find_by_marker(payload, marker)
        if found is not None:
            return self.done(entry, payload.entity, found, "Found in QuickBooks")
        number = str(payload.body.get("DocNumber", ""))
        return Outcome(
            OutboxState.FAILED,
            f"QuickBooks already has a {payload.entity.lower()} numbered {number} that "
            "costbridge did not create, and it refuses a second one with that number.",
            "Give this one a different number here (or remove the other in QuickBooks), then "
            "retry it from the queue.",
            exc.detail,
            exc.code,
        )

    def create_batch(
        self, items: Sequence[tuple[OutboxEntry, QboPayload]]
    ) -> dict[int, Outcome | CostbridgeError]:
        """Create fresh records through one batch call; each item answers for itself."""
        keys = sorted(e.idempotency_key for e, _p in items)
        request_id = outbox.idempotency_key(self.company.id, "batch", 0, ",".join(keys), 1)
        body = [
            {"bId": f"o{entry.id}"[:10], "operation": "create", payload.entity: dict(payload.body)}
            for entry, payload in items
        ]
        answers = self.client.batch(body, request_id=request_id)
        out: dict[int, Outcome | CostbridgeError] = {}
        for entry, payload in items:
            answer = answers.get(f"o{entry.id}"[:10])
            if answer is None or answer.error is not None or answer.entity is None:
                out[entry.id] = (
                    answer.error
                    if answer is not None and answer.error is not None
                    else Rejected("QuickBooks did not answer this item of the batch.")
                )
                continue
            out[entry.id] = self.done(entry, payload.entity, answer.entity, "Sent in a batch")
        return out

    def read_current(self, entity: str, qbo_id: str) -> dict[str, Any] | None:
        """The record as QBO has it now; None when it is gone (deleted in QBO).

        A query by Id rather than a GET: a deleted record is simply absent (API.md §2.5 leaves
        a GET of a deleted Id unconfirmed).
        """
        try:
            rows = self.client.query(queries.select(entity, queries.eq("Id", qbo_id)))
        except InvalidReference:
            return None
        found = rows.get(entity) or []
        return dict(found[0]) if found else None

    def paid(self, entity: str, current: Mapping[str, Any]) -> bool:
        """Whether a bill or invoice has a payment against it (Balance below TotalAmt)."""
        if entity not in PAYABLE:
            return False
        total = Decimal(str(current.get("TotalAmt", "0") or "0"))
        balance = Decimal(str(current.get("Balance", total) or "0"))
        linked = any(
            str(link.get("TxnType")) in ("BillPayment", "Payment")
            for link in current.get("LinkedTxn", []) or []
            if isinstance(link, Mapping)
        )
        return linked or balance < total

    def edit(
        self, entry: OutboxEntry, owner: str, record: LocalRecord, lookups: PushLookups
    ) -> Outcome:
        """Send an edit with the current SyncToken; a stale object is re-read and re-applied once.

        A create that never reached QBO (an earlier attempt refused) goes as a create.
        """
        marker = outbox.marker(entry.idempotency_key)
        if lookups.remote is None:
            payload = self.payload(owner, record, lookups)
            return self.create(entry, payload, record)
        for attempt in range(2):
            current = self.read_current(entry.entity, lookups.remote.qbo_id)
            if current is None:
                return Outcome(
                    OutboxState.NEEDS_ADMIN,
                    f"This {entry.entity.lower()} was deleted in QuickBooks, so the edit was not "
                    "sent.",
                    "Create it again here if it is still needed.",
                )
            payload = self.payload(owner, record, lookups)
            if marker in str(current.get(payload.marker_field, "")):
                return self.done(entry, entry.entity, current, "Already in QuickBooks")
            if self.paid(entry.entity, current):
                return Outcome(
                    OutboxState.NEEDS_ADMIN,
                    f"This {entry.entity.lower()} has been paid (fully or partly) in QuickBooks, "
                    "so costbridge does not change it there.",
                    "Make the change in QuickBooks, or remove the payment there first and retry.",
                )
            fresh = RemoteRecord(str(current["Id"]), str(current.get("SyncToken", "0")))
            lookups = _with_remote(lookups, fresh)
            payload = self.payload(owner, record, lookups)
            # A requestid whose first use drew a Fault replays that Fault: a re-applied edit is
            # a new request of the same logical write (same marker).
            rid = entry.idempotency_key if attempt == 0 else f"{entry.idempotency_key}-r"
            try:
                made = self.client.update(entry.entity, payload.body, sparse=True, request_id=rid)
            except StaleObject as exc:
                if attempt == 0:
                    continue
                return Outcome(
                    OutboxState.NEEDS_ADMIN,
                    f"This {entry.entity.lower()} keeps changing in QuickBooks while costbridge "
                    "updates it, so the edit was not applied (conflict).",
                    "Compare the record here with QuickBooks, then retry the change from the "
                    "queue.",
                    exc.detail,
                    exc.code,
                )
            return self.done(entry, entry.entity, made, "Updated")
        raise AssertionError("unreachable")

    def delete(self, entry: OutboxEntry) -> Outcome:
        """Delete the QBO record of a deleted local record, unless it has been paid."""
        mapping = mapping_of(self.session, entry.local_kind, entry.local_id)
        if mapping is None:
            return Outcome(OutboxState.DONE, "Nothing to delete: it never reached QuickBooks.")
        current = self.read_current(mapping.entity, mapping.qbo_id)
        if current is None or current.get("status") == "Deleted":
            self.session.delete(mapping)
            return Outcome(OutboxState.DONE, "Already deleted in QuickBooks.", qbo_id=None)
        if self.paid(mapping.entity, current):
            return Outcome(
                OutboxState.NEEDS_ADMIN,
                f"This {mapping.entity.lower()} has been paid in QuickBooks, so costbridge did "
                "not delete it there.",
                "Delete it in QuickBooks after removing the payment, if it really should go.",
            )
        self.client.delete(
            mapping.entity,
            mapping.qbo_id,
            str(current.get("SyncToken", "0")),
            request_id=entry.idempotency_key,
        )
        qbo_id = mapping.qbo_id
        self.session.delete(mapping)
        return Outcome(OutboxState.DONE, f"Deleted {mapping.entity} {qbo_id}.", qbo_id=qbo_id)

    def done(self, entry: OutboxEntry, entity: str, made: Mapping[str, Any], how: str) -> Outcome:
        """Keep the QBO id and SyncToken in `RemoteMapping`; the row is delivered."""
        qbo_id = str(made.get("Id"))
        token = str(made.get("SyncToken", "0"))
        mapping = mapping_of(self.session, entry.local_kind, entry.local_id)
        if mapping is None:
            mapping = RemoteMapping(
                realm_id=self.company.realm_id,
                local_kind=entry.local_kind,
                local_id=entry.local_id,
                entity=entity,
                qbo_id=qbo_id,
            )
            self.session.add(mapping)
        mapping.qbo_id = qbo_id
        mapping.sync_token = token
        return Outcome(OutboxState.DONE, f"{how}: {entity} {qbo_id}.", qbo_id=qbo_id)


def _with_remote(lookups: PushLookups, remote: RemoteRecord) -> PushLookups:
    from dataclasses import replace

    return replace(lookups, remote=remote)
