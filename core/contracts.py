"""Frozen values that plugins receive and return; never ORM rows a plugin could keep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any
from typing import Literal

SettingType = Literal["bool", "text", "int", "decimal", "cost_code"]

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "text": (str,),
    "int": (int,),
    "decimal": (Decimal, int),
    "cost_code": (int,),
}


@dataclass(frozen=True)
class SettingSpec:
    """One per-project setting a plugin contributes to the project settings form.

    Attributes:
        key: Unique across all plugins; stored under this name in the project's settings.
        label: What the admin sees next to the control.
        type: `bool`, `text`, `int`, `decimal` or `cost_code` (the id of one of the
            company's cost codes).
        default: Value while the admin has not chosen one (`None` means "not set").
        help: One sentence on what it does, shown under the control.
        requires: Keys of settings that must be set (truthy) before this one may be turned on.
        secret: Masked in the admin and never logged.
    """

    key: str
    label: str
    type: SettingType
    default: object = None
    help: str = ""
    requires: tuple[str, ...] = ()
    secret: bool = False

    def accepts(self, value: object) -> bool:
        """Whether `value` has this setting's type (`None` always means "not set")."""
        if value is None:
            return True
        if self.type != "bool" and isinstance(value, bool):
            return False
        if isinstance(value, Decimal) and not value.is_finite():
            return False
        return isinstance(value, _PY_TYPES[self.type])

    def to_stored(self, value: object) -> object:
        """The JSON-safe form kept in the project's settings (decimals as exact text)."""
        return str(value) if self.type == "decimal" and value is not None else value

    def from_stored(self, value: object) -> object:
        """The value as plugins see it (decimals back as `Decimal`)."""
        if self.type == "decimal" and isinstance(value, str):
            return Decimal(value)
        return value


@dataclass(frozen=True)
class ActualTypeSpec:
    """A kind of actual a plugin's pull mapper produces; the core registers it by name.

    Attributes:
        name: Stored on every actual of this kind (`bill`, `journal_entry`); unique across
            plugins, letters, digits and `_` only.
        label: What the console, the CLI and reports show ("Journal entry").
        sign: +1 when its amounts add to cost, -1 when they take away (credits); the mapper
            returns amounts already signed, and the contract suite checks they agree.
    """

    name: str
    label: str
    sign: int = 1


@dataclass(frozen=True)
class PushKindSpec:
    """A kind of local record a plugin sends to QBO; the core registers it by `kind`.

    Attributes:
        kind: The outbox kind (`bill`, `invoice`, `time_entry`, `attachment`); unique.
        record: Which of the core's local records it reads: `bill`, `invoice`, `time_entry`
            or `file` (a file attached to a record of another push kind).
        entity: The QBO entity it becomes (`Bill`, `Attachable`, ...).
        toggles: Project settings that must all be on for a change to be sent.
        only_after_toggle: Send only records created after the first toggle was (last) turned
            on, never retroactively (time tracking).
    """

    kind: str
    record: str
    entity: str
    toggles: tuple[str, ...] = ()
    only_after_toggle: bool = False


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin is: its id, label, owned QBO entities, settings and what it declares.

    Attributes:
        actual_types: The kinds of actual its pull mapper produces.
        push_kinds: The kinds of local record it sends to QBO.
    """

    name: str
    label: str
    owns: tuple[str, ...] = ()
    settings: tuple[SettingSpec, ...] = ()
    description: str = ""
    actual_types: tuple[ActualTypeSpec, ...] = ()
    push_kinds: tuple[PushKindSpec, ...] = ()


@dataclass(frozen=True)
class ProjectView:
    """The project as a plugin sees it when settings are validated or a sync runs."""

    id: int
    company_id: int
    name: str
    qbo_customer_id: str | None
    settings: Mapping[str, object]


@dataclass(frozen=True)
class SettingProblem:
    """Why a setting cannot take the value the admin chose, and what to do instead."""

    key: str
    message: str
    fix: str = ""


@dataclass(frozen=True)
class QboRecord:
    """One created or updated QBO record as the sync engine pulled it (JSON with Decimals).

    Attributes:
        entity: The QBO entity name (`Bill`, `Purchase`, ...).
        data: The record's JSON object; money and rates are `Decimal`.
    """

    entity: str
    data: Mapping[str, Any]

    @property
    def id(self) -> str:
        """The record's QBO `Id`."""
        return str(self.data.get("Id", ""))

    @property
    def sync_token(self) -> str | None:
        """The record's `SyncToken`, if QBO sent one."""
        token = self.data.get("SyncToken")
        return None if token is None else str(token)

    def ref(self, key: str) -> Ref | None:
        """A top-level reference (`VendorRef`, `CustomerRef`, ...), or None."""
        return Ref.of(self.data.get(key))

    def lines(self) -> list[Mapping[str, Any]]:
        """The record's `Line` elements (none for a TimeActivity)."""
        return [line for line in self.data.get("Line", []) or [] if isinstance(line, Mapping)]


@dataclass(frozen=True, slots=True)
class Ref:
    """A QBO reference: `{"value": id, "name": display name}`."""

    value: str
    name: str | None = None

    @classmethod
    def of(cls, raw: object) -> Ref | None:
        """Parse a reference object; None when absent or empty."""
        if raw.__class__ is not dict and not isinstance(raw, Mapping):
            return None
        value = raw.get("value")
        if value is None or value == "":
            return None
        name = raw.get("name")
        return cls(str(value), None if name is None else str(name))


@dataclass(frozen=True)
class Lookups:
    """Read-only facts about the realm the engine gives every pull mapper.

    Attributes:
        home_currency: The company's home currency (amounts of actuals are in it).
        item_cost_codes: QBO Item id -> id of the cost code connected to it.
        employee_cost_rates: QBO Employee id -> its CostRate (for time with no rate of its own).
        vendor_cost_rates: QBO Vendor id -> its CostRate.
    """

    home_currency: str = "USD"
    item_cost_codes: Mapping[str, int] = field(default_factory=dict)
    employee_cost_rates: Mapping[str, Decimal] = field(default_factory=dict)
    vendor_cost_rates: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A project setting that leaves a line out of actuals when it has a given value.

    Attributes:
        setting: The key of the project setting deciding it (the plugin's own, or the core's).
        excluded_when: The setting's value that leaves the line out.
        reason: Why, in a construction admin's words ("vendor credits are turned off").
    """

    setting: str
    excluded_when: bool
    reason: str

    def applies(self, settings: Mapping[str, object]) -> bool:
        """Whether this project's settings leave the line out."""
        return bool(settings.get(self.setting)) == self.excluded_when


@dataclass(frozen=True, slots=True)
class CandidateLine:
    """One QBO line that could count as an actual for the project linked to its customer.

    Attributes:
        line_id: The QBO line `Id` (a TimeActivity, which has no lines, uses "0").
        customer_id: The line's CustomerRef id; None when the line is for no customer.
        actual_type: The name of an actual type the mapping plugin declares
            (`PluginInfo.actual_types`); its amount has that type's sign.
        amount: Signed amount in the home currency, rounded half-up to cents once.
        txn_date: The transaction date (the company's local date).
        hours: Hours worked (time only).
        cost_rate: The cost rate applied to `hours` (time only).
        billable_status: `Billable`, `NotBillable` or `HasBeenBilled` as QBO says.
        item: The line's Item; cost_code_id: the cost code connected to it (None: Uncoded).
        account, klass, location: The line's account, class and location (department).
        payee: Vendor, employee or other payee name.
        currency, exchange_rate, original_amount: The record's currency as QBO sent it.
        exclusions: Settings that leave this line out, each with its reason.
        flags: Problems an admin should see that do not leave the line out (`no_cost_rate`).
    """

    line_id: str
    customer_id: str | None
    actual_type: str
    amount: Decimal
    txn_date: dt.date
    hours: Decimal | None = None
    cost_rate: Decimal | None = None
    billable_status: str | None = None
    item: Ref | None = None
    cost_code_id: int | None = None
    account: Ref | None = None
    klass: Ref | None = None
    location: Ref | None = None
    customer_name: str | None = None
    payee: str | None = None
    doc_number: str | None = None
    description: str | None = None
    currency: str | None = None
    exchange_rate: Decimal | None = None
    original_amount: Decimal | None = None
    exclusions: tuple[Exclusion, ...] = ()
    flags: tuple[str, ...] = ()

    def excluded_by(self, settings: Mapping[str, object]) -> str | None:
        """Why a project with these settings leaves the line out; None when it counts."""
        for exclusion in self.exclusions:
            if exclusion.applies(settings):
                return exclusion.reason
        return None


@dataclass(frozen=True)
class RecordProblem:
    """A record that could not be applied, and why, in an admin's words."""

    entity: str
    id: str
    message: str
    fix: str = ""


#: Where a client invoice costbridge sent stands, as QBO's payments leave it.
PaymentStatus = Literal["sent", "partially_paid", "paid", "void"]


@dataclass(frozen=True)
class InvoicePayment:
    """How far QBO says an invoice costbridge sent has been paid (`invoice_payment` hook).

    Attributes:
        status: `sent` (nothing paid), `partially_paid`, `paid` or `void`; the core sets it on
            the local invoice the QBO record came from.
        balance: What is still owed, as QBO says (in the invoice's currency).
    """

    status: PaymentStatus
    balance: Decimal


# -- pushing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteRecord:
    """The QBO record a local record became: its id and the SyncToken costbridge last saw."""

    qbo_id: str
    sync_token: str


@dataclass(frozen=True)
class LocalBillLine:
    """One line of a bill entered in costbridge.

    Attributes:
        position: Order on the bill (0-based).
        cost_code_id: The line's cost code; None means "use the default billing cost code".
        description: Free text.
        amount: Exact line total.
        billable: Whether the cost is billable to the project's customer.
        class_id: The line's own QBO Class (None: the project's default).
    """

    position: int
    cost_code_id: int | None
    description: str | None
    amount: Decimal
    billable: bool = True
    class_id: str | None = None


@dataclass(frozen=True)
class LocalBill:
    """A bill entered in costbridge, as a push mapper sees it."""

    id: int
    vendor_id: int
    vendor_name: str
    number: str | None
    bill_date: dt.date
    due_date: dt.date | None
    memo: str | None
    lines: tuple[LocalBillLine, ...]
    #: The bill's own QBO location (Department); None: the project's default.
    location_id: str | None = None


@dataclass(frozen=True)
class LocalInvoiceLine:
    """One invoice line; `markup_amount` is billed on its own line under the profit code."""

    position: int
    cost_code_id: int | None
    description: str | None
    amount: Decimal
    markup_amount: Decimal = Decimal("0.00")
    #: The line's own QBO Class (None: the project's default).
    class_id: str | None = None


@dataclass(frozen=True)
class LocalInvoice:
    """A client invoice entered in costbridge, as a push mapper sees it."""

    id: int
    number: str | None
    invoice_date: dt.date
    due_date: dt.date | None
    memo: str | None
    markup_percent: Decimal
    lines: tuple[LocalInvoiceLine, ...]
    #: The invoice's own QBO location (Department); None: the project's default.
    location_id: str | None = None


@dataclass(frozen=True)
class LocalTimeEntry:
    """A time clock entry, as a push mapper sees it.

    Attributes:
        created_at: When it was entered (aware UTC); only entries created after time tracking
            was turned on are ever pushed, and the core decides that before calling a mapper.
        cost_rate: The employee's labour cost rate, when known.
        hourly_rate: The billing rate, when known.
        class_id: The entry's own QBO Class (None: the project's default).
        location_id: The entry's own QBO location (Department; None: the project's default).
    """

    id: int
    employee_id: int
    employee_name: str
    cost_code_id: int | None
    work_date: dt.date
    hours: Decimal
    billable: bool
    description: str | None
    created_at: dt.datetime
    cost_rate: Decimal | None = None
    hourly_rate: Decimal | None = None
    class_id: str | None = None
    location_id: str | None = None


@dataclass(frozen=True)
class LocalFile:
    """A file attached in costbridge to a record that is pushed (a bill).

    Attributes:
        parent_entity: The QBO entity of the record the file belongs to (`Bill`).
        parent_qbo_id: That record's QBO id (files go up only once it has one).
    """

    id: int
    file_name: str
    content_type: str
    size: int
    parent_entity: str
    parent_qbo_id: str


LocalRecord = LocalBill | LocalInvoice | LocalTimeEntry | LocalFile


@dataclass(frozen=True)
class PushLookups:
    """Read-only facts the core gathers for one push; a push mapper needs nothing else.

    Attributes:
        settings: The project's effective settings (defaults filled in).
        customer_id: The project's linked QBO customer (None: not linked).
        vendors: Local vendor id -> connected QBO Vendor id (only connected ones).
        employees: Local employee id -> connected QBO Employee id.
        items: Cost code id -> QBO Item id of the connected item (only usable codes).
        cost_code_names: Cost code id -> "code name", for the admin's messages.
        cost_code_problems: Cost code id -> why QBO cannot use it yet (not connected, "I sell"
            or "I purchase" off); such codes are absent from `items`.
        class_id: The project's default QBO Class, if it has one.
        location_id: The project's default QBO location (Department), if it has one.
        remote: The record's QBO id and SyncToken, once it was created there.
        marker: Text the payload must carry (see `QboPayload.marker_field`): how the core
            finds the record in QBO when it cannot tell whether a send went through.
    """

    settings: Mapping[str, object] = field(default_factory=dict)
    customer_id: str | None = None
    vendors: Mapping[int, str] = field(default_factory=dict)
    employees: Mapping[int, str] = field(default_factory=dict)
    items: Mapping[int, str] = field(default_factory=dict)
    cost_code_names: Mapping[int, str] = field(default_factory=dict)
    cost_code_problems: Mapping[int, str] = field(default_factory=dict)
    class_id: str | None = None
    location_id: str | None = None
    remote: RemoteRecord | None = None
    marker: str = ""


@dataclass(frozen=True)
class QboPayload:
    """What a push mapper asks the core to send.

    Attributes:
        entity: The QBO entity (`Bill`, `Invoice`, `TimeActivity`, `Attachable`).
        body: The JSON object to send, money as `Decimal`. For an update it carries `Id` and
            `SyncToken` from `PushLookups.remote`; for an Attachable it is the upload metadata.
        marker_field: The field of `body` holding `PushLookups.marker`.
        find_by: Extra equality conditions for the look-up of an unknown outcome. The core
            already narrows by the fields QBO lets a query filter on (`core.push.locate`) and
            matches the marker itself, since no marker field is queryable; every field here
            must be in `core.qbo.queryable` or the look-up fails when it is built.
    """

    entity: str
    body: Mapping[str, Any]
    marker_field: str = "PrivateNote"
    find_by: Mapping[str, str] = field(default_factory=dict)
