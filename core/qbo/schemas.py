"""Marshmallow schemas for the QBO records costbridge reads (API.md §11).

Each schema loads QBO's PascalCase JSON into a plain dict with snake_case keys: money and rates
as `Decimal` (never float), `TxnDate`-style fields as `datetime.date`, `MetaData` times as aware
datetimes. Unknown fields are dropped (QBO adds optional fields without notice, §1.2), nothing is
required beyond `Id`, and a deleted stub from CDC (`{"Id", "status": "Deleted"}`) loads too, with
`deleted=True`.

    bill = load("Bill", raw)          # dict: id, sync_token, vendor_ref, lines[...], total_amt, ...
    bill["lines"][0]["detail"]["customer_ref"]["value"]
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import pre_load

from core.qbo.errors import QboRejected

__all__ = ["SCHEMAS", "load", "load_many"]


class _Money(fields.Decimal):
    """A QBO number as Decimal; accepts JSON numbers, Decimals (our parser) or numeric text."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, float):
            # Only reachable if someone parsed with floats; go through repr to keep the digits.
            value = repr(value)
        if value == "":
            return Decimal(0)
        return super()._deserialize(value, attr, data, **kwargs)


class _QboDateTime(fields.DateTime):
    """ISO-8601 with offset; a naive value (should not happen) is refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        result = super()._deserialize(value, attr, data, **kwargs)
        if result.tzinfo is None:
            raise ValidationError("QBO datetimes carry an offset")
        return result


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE


def Money(key: str) -> fields.Field[Any]:  # noqa: N802 - reads like a field type
    """A money/rate/quantity field read from `key`."""
    return _Money(data_key=key, load_default=None, allow_none=True)


def Text(key: str) -> fields.Field[Any]:  # noqa: N802
    """A string field read from `key`."""
    return fields.String(data_key=key, load_default=None, allow_none=True)


def Bool(key: str) -> fields.Field[Any]:  # noqa: N802
    """A boolean field read from `key`."""
    return fields.Boolean(data_key=key, load_default=None, allow_none=True)


def Day(key: str) -> fields.Field[Any]:  # noqa: N802
    """A `YYYY-MM-DD` field read from `key`."""
    return fields.Date(data_key=key, load_default=None, allow_none=True)


class RefSchema(_Base):
    """`{"value": "42", "name": "Acme", "type": "Vendor"}`."""

    value = fields.String(required=True)
    name = fields.String(load_default=None, allow_none=True)
    type = fields.String(load_default=None, allow_none=True)


def Ref(key: str) -> fields.Field[Any]:  # noqa: N802
    """A reference field read from `key`."""
    return fields.Nested(RefSchema, data_key=key, load_default=None, allow_none=True)


class MetaDataSchema(_Base):
    """Create and last-update times."""

    create_time = _QboDateTime(data_key="CreateTime", load_default=None)
    last_updated_time = _QboDateTime(data_key="LastUpdatedTime", load_default=None)


class _Entity(_Base):
    id = fields.String(data_key="Id", required=True)
    sync_token = Text("SyncToken")
    status = Text("status")
    meta = fields.Nested(MetaDataSchema, data_key="MetaData", load_default=None)

    @pre_load
    def _ids_as_text(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("Id", "SyncToken"):
                if isinstance(data.get(key), int):
                    data[key] = str(data[key])
        return data

    @post_load
    def _deleted(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["deleted"] = data.get("status") == "Deleted"
        return data


class ExpenseDetailSchema(_Base):
    """`AccountBasedExpenseLineDetail` or `ItemBasedExpenseLineDetail` (merged)."""

    account_ref = Ref("AccountRef")
    item_ref = Ref("ItemRef")
    customer_ref = Ref("CustomerRef")
    class_ref = Ref("ClassRef")
    billable_status = Text("BillableStatus")
    tax_code_ref = Ref("TaxCodeRef")
    qty = Money("Qty")
    unit_price = Money("UnitPrice")


class LineSchema(_Base):
    """An expense line; `detail` holds whichever detail object the line has."""

    id = Text("Id")
    line_num = fields.Integer(data_key="LineNum", load_default=None, allow_none=True)
    description = Text("Description")
    amount = Money("Amount")
    detail_type = Text("DetailType")
    detail = fields.Raw(load_default=None)

    @pre_load
    def _pick_detail(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            kind = data.get("DetailType")
            raw = data.get(kind) if isinstance(kind, str) else None
            data["detail"] = ExpenseDetailSchema().load(raw) if isinstance(raw, dict) else None
            if isinstance(data.get("Id"), int):
                data["Id"] = str(data["Id"])
        return data


class _Txn(_Entity):
    txn_date = Day("TxnDate")
    doc_number = Text("DocNumber")
    private_note = Text("PrivateNote")
    total_amt = Money("TotalAmt")
    currency_ref = Ref("CurrencyRef")
    exchange_rate = Money("ExchangeRate")
    lines = fields.List(fields.Nested(LineSchema), data_key="Line", load_default=list)


class BillSchema(_Txn):
    """Bill (API.md §11.2)."""

    vendor_ref = Ref("VendorRef")
    ap_account_ref = Ref("APAccountRef")
    due_date = Day("DueDate")
    balance = Money("Balance")


class PurchaseSchema(_Txn):
    """Purchase: expense, check, credit-card charge or credit (API.md §11.3)."""

    payment_type = Text("PaymentType")
    account_ref = Ref("AccountRef")
    entity_ref = Ref("EntityRef")
    credit = Bool("Credit")


class VendorCreditSchema(_Txn):
    """VendorCredit (API.md §11.4)."""

    vendor_ref = Ref("VendorRef")
    ap_account_ref = Ref("APAccountRef")
    balance = Money("Balance")


class TimeActivitySchema(_Entity):
    """TimeActivity (API.md §11.7)."""

    txn_date = Day("TxnDate")
    name_of = Text("NameOf")
    employee_ref = Ref("EmployeeRef")
    vendor_ref = Ref("VendorRef")
    customer_ref = Ref("CustomerRef")
    item_ref = Ref("ItemRef")
    class_ref = Ref("ClassRef")
    billable_status = Text("BillableStatus")
    hourly_rate = Money("HourlyRate")
    cost_rate = Money("CostRate")
    hours = fields.Integer(data_key="Hours", load_default=None, allow_none=True)
    minutes = fields.Integer(data_key="Minutes", load_default=None, allow_none=True)
    start_time = _QboDateTime(data_key="StartTime", load_default=None, allow_none=True)
    end_time = _QboDateTime(data_key="EndTime", load_default=None, allow_none=True)
    break_hours = fields.Integer(data_key="BreakHours", load_default=None, allow_none=True)
    break_minutes = fields.Integer(data_key="BreakMinutes", load_default=None, allow_none=True)
    description = Text("Description")

    @post_load
    def _duration(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """`duration_hours`: Hours/Minutes, else EndTime - StartTime - breaks, as Decimal."""
        hours = None
        if data.get("hours") is not None or data.get("minutes") is not None:
            hours = Decimal(data.get("hours") or 0) + Decimal(data.get("minutes") or 0) / 60
        elif data.get("start_time") and data.get("end_time"):
            seconds = Decimal((data["end_time"] - data["start_time"]).total_seconds())
            hours = (
                seconds / 3600
                - Decimal(data.get("break_hours") or 0)
                - Decimal(data.get("break_minutes") or 0) / 60
            )
        data["duration_hours"] = hours
        return data


class ItemSchema(_Entity):
    """Item, a cost code candidate (API.md §11.8)."""

    name = Text("Name")
    fully_qualified_name = Text("FullyQualifiedName")
    type = Text("Type")
    active = Bool("Active")
    income_account_ref = Ref("IncomeAccountRef")
    expense_account_ref = Ref("ExpenseAccountRef")
    unit_price = Money("UnitPrice")
    purchase_cost = Money("PurchaseCost")
    description = Text("Description")
    sub_item = Bool("SubItem")
    parent_ref = Ref("ParentRef")

    @post_load
    def _sides(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # API.md §11.8: "I sell" ⇔ IncomeAccountRef, "I purchase" ⇔ ExpenseAccountRef.
        data["sells"] = data.get("income_account_ref") is not None
        data["purchases"] = data.get("expense_account_ref") is not None
        return data


class _Name(_Entity):
    display_name = Text("DisplayName")
    given_name = Text("GivenName")
    family_name = Text("FamilyName")
    company_name = Text("CompanyName")
    active = Bool("Active")


class CustomerSchema(_Name):
    """Customer, sub-customer (Job) or Project (API.md §11.9)."""

    fully_qualified_name = Text("FullyQualifiedName")
    job = Bool("Job")
    parent_ref = Ref("ParentRef")
    level = fields.Integer(data_key="Level", load_default=None, allow_none=True)
    is_project = Bool("IsProject")
    balance = Money("Balance")


class VendorSchema(_Name):
    """Vendor (API.md §11.10)."""

    cost_rate = Money("CostRate")
    bill_rate = Money("BillRate")
    balance = Money("Balance")


class EmployeeSchema(_Name):
    """Employee (API.md §11.11)."""

    employee_number = Text("EmployeeNumber")
    billable_time = Bool("BillableTime")
    bill_rate = Money("BillRate")
    cost_rate = Money("CostRate")


class AttachableRefSchema(_Base):
    """One link of an Attachable."""

    entity_ref = Ref("EntityRef")
    include_on_send = Bool("IncludeOnSend")


class AttachableSchema(_Entity):
    """Attachable (API.md §7.1)."""

    file_name = Text("FileName")
    note = Text("Note")
    content_type = Text("ContentType")
    size = fields.Integer(data_key="Size", load_default=None, allow_none=True)
    category = Text("Category")
    file_access_uri = Text("FileAccessUri")
    temp_download_uri = Text("TempDownloadUri")
    refs = fields.List(
        fields.Nested(AttachableRefSchema), data_key="AttachableRef", load_default=list
    )


SCHEMAS: dict[str, type[Schema]] = {
    "Bill": BillSchema,
    "Purchase": PurchaseSchema,
    "VendorCredit": VendorCreditSchema,
    "TimeActivity": TimeActivitySchema,
    "Item": ItemSchema,
    "Customer": CustomerSchema,
    "Vendor": VendorSchema,
    "Employee": EmployeeSchema,
    "Attachable": AttachableSchema,
}


def load(entity: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Load one QBO record of `entity` (a deleted stub loads with `deleted=True`).

    Raises:
        QboRejected: The record does not have the shape QBO documents.
    """
    schema_cls = SCHEMAS.get(entity)
    if schema_cls is None:
        raise KeyError(f"no schema for {entity!r}; known: {', '.join(SCHEMAS)}")
    try:
        result: dict[str, Any] = schema_cls().load(raw)
    except ValidationError as exc:
        raise QboRejected(
            f"QuickBooks sent a {entity} costbridge cannot read.",
            fix="Show this to support.",
            qbo_message=str(exc.messages)[:500],
        ) from None
    return result


def load_many(entity: str, raws: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Load a list of records of one entity."""
    return [load(entity, raw) for raw in raws]
