"""Every hook a costbridge plugin may implement, grouped by when the core calls it.

A plugin implements any subset with `@core.hookimpl`, and may accept fewer arguments than a spec
names, so adding an argument later breaks no plugin. Arguments and results are the frozen values
of `core.contracts`; ORM rows never cross this boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from core import hookspec
from core.contracts import CandidateLine
from core.contracts import InvoicePayment
from core.contracts import LocalRecord
from core.contracts import Lookups
from core.contracts import PluginInfo
from core.contracts import ProjectView
from core.contracts import PushLookups
from core.contracts import QboPayload
from core.contracts import QboRecord
from core.contracts import SettingProblem

# -- describing ------------------------------------------------------------------------------


@hookspec
def plugin_info() -> PluginInfo:  # type: ignore[empty-body]
    """Describe the plugin: its id, label, owned QBO entities and per-project settings.

    Called once per plugin manager and whenever a settings form or `costbridge plugins` is
    built. Every plugin answers.

    Returns:
        The plugin's `PluginInfo`. Its `name` must equal the entry-point name.
    """


@hookspec
def validate_settings(  # type: ignore[empty-body]
    project: ProjectView, settings: Mapping[str, object]
) -> Sequence[SettingProblem]:
    """Refuse setting values that cannot work yet, saying what to do.

    Called before a project's settings are saved, for each enabled plugin.

    Args:
        project: The project as it is now (its current settings included).
        settings: The complete settings the admin wants to save (every plugin's keys).

    Returns:
        Problems with this plugin's own settings; an empty sequence when all is well.
    """


# -- pulling ---------------------------------------------------------------------------------


@hookspec
def actual_lines(  # type: ignore[empty-body]
    record: QboRecord, lookups: Lookups
) -> Sequence[CandidateLine]:
    """Map one created or updated QBO record of an entity this plugin owns to candidate actuals.

    Called by the sync engine for every such record it pulls, on the one plugin owning the
    record's entity. Deleted and voided records never reach plugins: the engine removes a
    record's lines by its id. Pure: no I/O, no session, no clock.

    Args:
        record: The parsed QBO record (money as `Decimal`).
        lookups: Read-only maps the engine built for the realm (item -> cost code, cost rates,
            home currency).

    Returns:
        Every line that could count for some project, each saying which project settings leave
        it out and why. A line with no customer is returned too (the engine keeps it so an admin
        can see why it counts nowhere).
    """


@hookspec(firstresult=True)
def invoice_payment(record: QboRecord) -> InvoicePayment | None:
    """Say how far a QBO record that a local invoice became has been paid.

    Called by the sync engine on the plugin owning the record's entity, only for records
    costbridge itself sent (a local invoice is mapped to them): after a full pull for each of
    them, and on a CDC pull for each one that changed. Deleted records never reach it. Pure: no
    I/O, no session, no clock. The core sets the status and balance on the local invoice.

    Args:
        record: The pulled QBO record (money as `Decimal`).

    Returns:
        Its status and open balance, or None when the record says nothing about payment.
    """


# -- attachments -----------------------------------------------------------------------------


@hookspec(firstresult=True)
def pulls_attachments(entity: str, project: ProjectView) -> bool | None:
    """Say whether files attached in QBO to a project's records of `entity` are copied here.

    Called after each pull, for every linked project on which this plugin is enabled and every
    QBO entity this plugin owns. When the answer is true, the core downloads the files attached
    in QBO to the project's records of that entity (those with lines counting for it), stores
    them read-only beside the record's actuals, and removes copies whose file or record no longer
    counts. Pure: decide from the project's settings alone.

    Args:
        entity: A QBO entity this plugin owns (`Bill`).
        project: The project, with its effective settings.

    Returns:
        True to pull the files; False or None to leave them in QBO.
    """


# -- pushing ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def push_payload(record: LocalRecord, lookups: PushLookups) -> QboPayload | None:
    """Map one local record (or file) of a push kind this plugin declares to the QBO payload.

    Called by the push job on the plugin declaring the outbox row's push kind
    (`PluginInfo.push_kinds`), when it is enabled for the project, for creates and edits;
    deletes need no payload. Pure: no I/O, no session, no clock. The core sends the payload
    with the write's idempotency key as `requestid`, keeps the QBO id and SyncToken, and on an
    edit answered by a stale-object Fault reads the record again and calls this hook once more.

    Args:
        record: A `LocalBill`, `LocalInvoice`, `LocalTimeEntry` or `LocalFile`.
        lookups: The project's settings and linked customer, the QBO ids of connected vendors,
            employees and cost codes, the record's current QBO id and SyncToken (edits) and the
            marker the payload must carry in `QboPayload.marker_field`.

    Returns:
        The payload, or None when this plugin does not push this kind of record. Raise
        `NeedsAdmin` when something must be connected or chosen first, saying what and where.
    """


# -- admin -----------------------------------------------------------------------------------


@hookspec
def admin_views() -> Sequence[Any]:  # type: ignore[empty-body]
    """Give extra Flask-Admin views (new instances on every call) for the admin console.

    Called once per web app by `admin.init_admin`, for every plugin that is not blocked. The
    views are listed under the "Plugins" menu with endpoints prefixed by the plugin's name.

    Returns:
        `flask_admin.BaseView` instances; an empty sequence for none.
    """
