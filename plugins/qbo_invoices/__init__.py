"""Invoices: client invoices pushed as QBO Invoices; paid status comes back from QBO."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from core import hookimpl
from core.contracts import InvoicePayment
from core.contracts import LocalInvoice
from core.contracts import LocalRecord
from core.contracts import PluginInfo
from core.contracts import ProjectView
from core.contracts import PushKindSpec
from core.contracts import PushLookups
from core.contracts import QboPayload
from core.contracts import QboRecord
from core.contracts import SettingProblem
from plugins._checks import needs_link
from plugins.qbo_invoices import pull
from plugins.qbo_invoices import push
from plugins.qbo_invoices import settings


@hookimpl
def plugin_info() -> PluginInfo:
    """Invoices own QBO's Invoice entity (a Payment shows in the invoices it pays)."""
    return PluginInfo(
        name="qbo_invoices",
        label="Invoices",
        owns=("Invoice",),
        settings=settings.SETTINGS,
        description="Pushes client invoices; only QuickBooks can mark them paid.",
        push_kinds=(
            PushKindSpec("invoice", record="invoice", entity="Invoice", toggles=("send_invoices",)),
        ),
    )


@hookimpl
def validate_settings(
    project: ProjectView, settings: Mapping[str, object]
) -> Sequence[SettingProblem]:
    """Sending invoices needs a linked customer."""
    return needs_link(project, settings, "send_invoices")


@hookimpl
def invoice_payment(record: QboRecord) -> InvoicePayment | None:
    """A sent invoice's paid status, from its Balance and TotalAmt in QBO."""
    return pull.payment(record)


@hookimpl
def push_payload(record: LocalRecord, lookups: PushLookups) -> QboPayload | None:
    """Client invoices go up as QBO Invoices."""
    if isinstance(record, LocalInvoice):
        return push.invoice(record, lookups)
    return None
