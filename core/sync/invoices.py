"""Paid, partly paid or unpaid: the status of an invoice costbridge sent comes from QBO.

The plugin owning the QBO entity an invoice became says what a pulled record of it means (its
`invoice_payment` hook; `qbo_invoices` reads an Invoice's Balance and TotalAmt); the core finds the
local invoice the record came from and sets its status and balance. Only records costbridge
itself sent are read: after a full pull, by id (1000 per query); on a CDC pull, their entities
are asked for with the rest. A deleted record changes nothing here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import InvoicePayment
from core.contracts import QboRecord
from core.models import Invoice
from core.models import InvoiceStatus
from core.models import RemoteMapping
from core.plugins import PluginManager
from core.plugins import direct_impl
from core.qbo import queries


def payment_entities(pm: PluginManager) -> dict[str, str]:
    """QBO entities whose records say how far an invoice is paid, with the owning plugin."""
    answering = {pm.get_name(i.plugin) for i in pm.hook.invoice_payment.get_hookimpls()}
    return {
        entity: name
        for name, info in sorted(pm.infos.items())
        if name in answering
        for entity in info.owns
    }


@dataclass
class InvoicePayments:
    """The invoices of one realm that costbridge sent, and the plugins that read their status.

    Attributes:
        sent: QBO entity -> QBO id -> local invoice id, for entities some plugin answers for.
    """

    pm: PluginManager
    owners: dict[str, str]
    sent: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def for_realm(cls, session: Session, pm: PluginManager, realm_id: str) -> InvoicePayments:
        """Every local invoice sent to the realm, by the QBO record it became."""
        owners = payment_entities(pm)
        sent: dict[str, dict[str, int]] = {}
        if owners:
            for mapping in session.scalars(
                select(RemoteMapping).where(
                    RemoteMapping.realm_id == realm_id,
                    RemoteMapping.entity.in_(sorted(owners)),
                    # The local record a mapping points at: the invoice table's own name.
                    RemoteMapping.local_kind == Invoice.__tablename__,
                )
            ):
                sent.setdefault(mapping.entity, {})[mapping.qbo_id] = mapping.local_id
        return cls(pm, owners, sent)

    @property
    def entities(self) -> list[str]:
        """The entities with at least one invoice costbridge sent (what to read)."""
        return sorted(e for e, ids in self.sent.items() if ids)

    def apply(self, session: Session, entity: str, rows: list[dict[str, Any]]) -> int:
        """Set the status of the sent invoices among QBO `rows`; returns how many changed."""
        mapped = self.sent.get(entity, {})
        answer = direct_impl(self.pm, self.owners[entity], "invoice_payment")
        changed = 0
        for row in rows:
            local_id = mapped.get(str(row.get("Id")))
            if local_id is None or row.get("status") == "Deleted":
                continue
            invoice = session.get(Invoice, local_id)
            payment = answer(record=QboRecord(entity, row)) if answer else None
            if invoice is None or not isinstance(payment, InvoicePayment):
                continue
            status = InvoiceStatus(payment.status)
            if (invoice.status, invoice.balance) != (status, payment.balance):
                invoice.status = status
                invoice.balance = payment.balance
                changed += 1
        return changed

    def refresh(
        self, session: Session, client: Any, counted: Callable[[str], None] | None = None
    ) -> int:
        """Read every sent invoice from QBO by id (1000 per query) and set its status.

        Called after a full pull of the realm (CDC pulls read changed ones with the rest); the
        caller commits. `counted` is called with the entity of each request. Returns how many
        changed.
        """
        changed = 0
        for entity in self.entities:
            ids = sorted(self.sent[entity])
            for start in range(0, len(ids), queries.MAX_RESULTS):
                chunk = ids[start : start + queries.MAX_RESULTS]
                rows = client.query(queries.select(entity, queries.in_("Id", chunk))).get(entity)
                if counted is not None:
                    counted(entity)
                changed += self.apply(session, entity, list(rows or []))
        return changed


def refresh_invoice_status(session: Session, client: Any, realm_id: str, pm: PluginManager) -> int:
    """Read every invoice costbridge sent to a realm from QBO and set its status (see above)."""
    return InvoicePayments.for_realm(session, pm, realm_id).refresh(session, client)
