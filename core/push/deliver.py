"""Sending one outbox row's write to QBO, exactly once in effect.

Reached from a push run (`core.push.run`) once a row is claimed and prepared
(`core.push.prepare`): a create (or a file upload), an edit with the current SyncToken, or a
delete. Before anything is re-sent, an attempt whose outcome is unknown is resolved by looking
the record up in QBO by the marker every payload carries (RELIABILITY.md §1, `core.push.locate`):
QBO's `requestid` is the second defence, our ledger and the marker the first. The payload comes
from the plugin that declares the row's push kind (`push_payload`); everything else is shared:
closed books, paid bills, SyncTokens and stale objects, `RemoteMapping`, errors.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.contracts import LocalFile
from core.contracts import LocalRecord
from core.contracts import PushLookups
from core.contracts import QboPayload
from core.contracts import RemoteRecord
from core.errors import CostbridgeError
from core.errors import NeedsAdmin
from core.errors import Rejected
from core.files import store_for
from core.markers import marker as marker_of
from core.models import Company
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import RemoteMapping
from core.plugins import call_one
from core.plugins import log_hook_failure
from core.push import locate
from core.push.batch import BATCHABLE
from core.push.batch import DUPLICATE_DOC_NUMBER
from core.push.kinds import PushKind
from core.push.outbox import request_id
from core.push.outcome import Outcome
from core.push.outcome import guarded
from core.push.prepare import Prepared
from core.push.prepare import mapping_of
from core.push.prepare import prepare
from core.push.targets import target_of
from core.qbo import queries
from core.qbo.book_close import BookClose
from core.qbo.client import QboClient
from core.qbo.errors import InvalidReference
from core.qbo.errors import QboError
from core.qbo.errors import QboRejected
from core.qbo.errors import StaleObject
from core.runtime import Runtime

log = logging.getLogger(__name__)

#: Entities whose paid state forbids edits and deletes (API.md §11.2, §11.5).
PAYABLE = ("Bill", "Invoice")


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

    def prepare(self, entry: OutboxEntry) -> Outcome | Prepared:
        """Decide a row up to its payload (`core.push.prepare`)."""
        return prepare(self.session, self.rt.pm, entry, self.book_close_date)

    def book_close_date(self) -> dt.date | None:
        """QBO's closed-books date (Preferences), at most `BOOK_CLOSE_MAX_AGE` seconds old."""
        return self._book_close.date()

    def payload(self, kind: PushKind, record: LocalRecord, lookups: PushLookups) -> QboPayload:
        """The payload of the plugin declaring the kind (a None answer needs an admin)."""
        owner = kind.plugin
        try:
            answer = call_one(self.rt.pm, owner, "push_payload", record=record, lookups=lookups)
        except Exception as exc:
            log_hook_failure(owner, "push_payload", exc)
            if isinstance(exc, CostbridgeError):
                raise  # its words are for the admin (a missing cost code, an unlinked project)
            raise NeedsAdmin(
                f"The {owner} plugin could not prepare this record for QuickBooks.",
                fix="Ask support to look at the plugin's log; the change waits in the queue.",
                detail=repr(exc),
            ) from exc
        if not isinstance(answer, QboPayload):
            raise NeedsAdmin(f"The {owner} plugin does not send this kind of record.")
        return answer

    # -- looking QBO up by marker -------------------------------------------------------------

    def find_by_marker(self, payload: QboPayload, marker: str) -> dict[str, Any] | None:
        """The record an earlier attempt of this write created, if QBO has it.

        Queries only fields QBO lets a query filter on and matches the marker here
        (`core.push.locate`); every page of the answer is read.
        """
        return locate.find_by_marker(self.client, payload, marker)

    # -- sending ----------------------------------------------------------------------------------

    def create(
        self,
        entry: OutboxEntry,
        payload: QboPayload,
        kind: PushKind | None = None,
        record: LocalRecord | None = None,
    ) -> Outcome:
        """Create one record (or upload one file), unless an earlier attempt already did.

        A kind whose reader `uploads` sends the file's content (`record` is its `LocalFile`).
        """
        marker = marker_of(entry.idempotency_key)
        if entry.attempts > 1:
            found = self.find_by_marker(payload, marker)
            if found is not None:
                return self.done(entry, payload.entity, found, "Found in QuickBooks")
        if kind is not None and kind.reader.uploads:
            assert isinstance(record, LocalFile)
            file = self.session.get(kind.reader.model, record.id)
            assert file is not None
            content = store_for(self.rt.settings.instance_path).get(file.storage_key)
            made = self.client.upload(
                record.file_name,
                content,
                record.content_type,
                attach_to=[(record.parent_entity, record.parent_qbo_id)],
                note=str(payload.body.get("Note") or "") or None,
                request_id=request_id(entry),
            )
        else:
            try:
                made = self.client.create(
                    payload.entity, payload.body, request_id=request_id(entry)
                )
            except QboError as exc:
                if exc.code in DUPLICATE_DOC_NUMBER:
                    return self.duplicate_number(entry, payload, exc)
                if isinstance(exc, Rejected):
                    return self.refused(exc, payload)
                raise
        return self.done(entry, payload.entity, made, "Sent")

    def refused(self, exc: QboError, payload: QboPayload) -> Outcome:
        """QBO definitively refused the write: failed, naming the record it points at.

        Support's re-send of it goes under a new requestid (`core.push.outbox.retry`).
        """
        return Outcome.of_error(exc, OutboxState.FAILED, target_of(self.client, payload.body, exc))

    def duplicate_number(self, entry: OutboxEntry, payload: QboPayload, exc: QboError) -> Outcome:
        """A create refused for its DocNumber: our own earlier attempt, or a real clash.

        With duplicate numbers refused, an attempt whose requestid QBO forgot comes back as
        6140 instead of a second record; the record with that number is ours exactly when
        it carries our marker. Single creates and batch items both come here.
        """
        found = self.find_by_marker(payload, marker_of(entry.idempotency_key))
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
        self, entry: OutboxEntry, kind: PushKind, record: LocalRecord, lookups: PushLookups
    ) -> Outcome:
        """Send an edit with the current SyncToken; a stale object is re-read and re-applied once.

        A create that never reached QBO (an earlier attempt refused) goes as a create.
        """
        marker = marker_of(entry.idempotency_key)
        if lookups.remote is None:
            payload = self.payload(kind, record, lookups)
            return self.create(entry, payload, kind, record)
        for attempt in range(2):
            current = self.read_current(entry.entity, lookups.remote.qbo_id)
            if current is None:
                return Outcome(
                    OutboxState.NEEDS_ADMIN,
                    f"This {entry.entity.lower()} was deleted in QuickBooks, so the edit was not "
                    "sent.",
                    "Create it again here if it is still needed.",
                )
            payload = self.payload(kind, record, lookups)
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
            lookups = replace(lookups, remote=fresh)
            payload = self.payload(kind, record, lookups)
            # A requestid whose first use drew a Fault replays that Fault: a re-applied edit is
            # a new request of the same logical write (same marker).
            rid = request_id(entry) if attempt == 0 else f"{request_id(entry)}-r"
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
            except QboRejected as exc:
                return self.refused(exc, payload)
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
            request_id=request_id(entry),
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


def deliver_one(
    pusher: Pusher, row: OutboxEntry, batch: list[tuple[OutboxEntry, QboPayload]] | None
) -> Outcome | None:
    """Deliver one claimed row, or put its fresh create aside for `batch` (then None).

    Args:
        pusher: The company's pusher.
        row: The claimed row.
        batch: Where creates going in one QBO batch are collected; None when the row goes alone.
    """

    def step() -> Outcome | None:
        prepared = pusher.prepare(row)
        if isinstance(prepared, Outcome):
            return prepared
        if row.operation == "delete":
            return pusher.delete(row)
        record = prepared.record
        assert record is not None
        if row.operation == "update":
            return pusher.edit(row, prepared.kind, record, prepared.lookups)
        payload = pusher.payload(prepared.kind, record, prepared.lookups)
        if batch is not None and row.attempts == 1 and payload.entity in BATCHABLE:
            batch.append((row, payload))
            return None
        return pusher.create(row, payload, prepared.kind, record)

    return guarded(step)
