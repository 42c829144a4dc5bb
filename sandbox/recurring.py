"""RecurringTransaction (issue 23): templates that wrap a transaction and its schedule.

A body is ``{"Invoice": {..., "RecurringInfo": {...}}}``: exactly one transaction of a kind in
``entity_table.RECURRING_KINDS``. The wrapped transaction is checked by the rules of its own
entity (fields from the XSD, lines, totals, references), but a template posts nothing: no
balance moves, no payment links, no change feed for the wrapped entity. The template has
its own Id; reads (``GET /recurringtransaction/<id>``), writes and queries answer the
wrapper, ``{"Invoice": {...}}``. Create, read, full and sparse update, delete, query
(``Type`` = the wrapped entity) and batch; no CDC (the row of ``entity_table.TABLE``).
What is documented and what is our reading: ``docs/sandbox-internals.md``
("RecurringTransaction").
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from sandbox import entities
from sandbox import faults
from sandbox import schema
from sandbox import validation
from sandbox.entity_table import RECURRING_KINDS
from sandbox.fields import as_bool
from sandbox.fields import as_date
from sandbox.fields import require

if TYPE_CHECKING:
    from sandbox.state import Realm

ENTITY = "RecurringTransaction"

_RECUR_TYPES = ("Automated", "Reminded", "UnScheduled")
_INTERVALS = ("Daily", "Weekly", "Monthly", "Yearly")
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
#: Computed by Intuit from the schedule; a client's values are ignored.
_SCHEDULE_RO = ("NextDate", "PreviousDate")


def _unwrap(body: Any) -> tuple[str, dict[str, Any]]:
    """The wrapped kind and transaction; 2010 for anything else in the wrapper."""
    if not isinstance(body, dict):
        raise faults.invalid_field(ENTITY, "RecurringTransaction must be a JSON object")
    kinds = [key for key, value in body.items() if key in RECURRING_KINDS and value]
    others = [
        key
        for key, value in body.items()
        if key not in RECURRING_KINDS and value not in (None, "", 0, False, [], {})
    ]
    if others:
        raise schema.unknown_property(ENTITY, others[0])
    if len(kinds) != 1 or not isinstance(body[kinds[0]], dict):
        raise faults.validation(
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Required parameter RecurringTransaction needs exactly one transaction "
            f"({', '.join(RECURRING_KINDS)})",
            ENTITY,
        )
    return kinds[0], body[kinds[0]]


def _int(obj: dict[str, Any], name: str, low: int, high: int, element: str) -> None:
    if name not in obj or obj[name] is None:
        obj.pop(name, None)
        return
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise faults.invalid_field(element, f"{element} must be a whole number")
    number = int(str(value))
    if not low <= number <= high:
        raise faults.business_validation(f"{element} must be between {low} and {high}.", element)
    obj[name] = number


def _schedule(info: dict[str, Any]) -> None:
    """Check ``RecurringInfo.ScheduleInfo`` in place (needed unless RecurType is UnScheduled)."""
    element = "RecurringInfo.ScheduleInfo"
    schedule = info.get("ScheduleInfo")
    if info["RecurType"] == "UnScheduled":
        if not isinstance(schedule, dict):
            info.pop("ScheduleInfo", None)
            return
    elif not isinstance(schedule, dict) or not schedule:
        raise faults.required_field(element)
    schedule = {k: v for k, v in schedule.items() if v is not None and k not in _SCHEDULE_RO}
    interval = require(schedule, "IntervalType", f"{element}.IntervalType")
    if interval not in _INTERVALS:
        raise faults.invalid_enum(str(interval), f"{element}.IntervalType")
    schedule.setdefault("NumInterval", 1)
    _int(schedule, "NumInterval", 1, 999, f"{element}.NumInterval")
    _int(schedule, "DayOfMonth", 1, 31, f"{element}.DayOfMonth")
    _int(schedule, "WeekOfMonth", 1, 5, f"{element}.WeekOfMonth")
    _int(schedule, "MaxOccurrences", 1, 9999, f"{element}.MaxOccurrences")
    _int(schedule, "DaysBefore", 0, 999, f"{element}.DaysBefore")
    _int(schedule, "RemindDays", 0, 999, f"{element}.RemindDays")
    if "DayOfWeek" in schedule and schedule["DayOfWeek"] not in _WEEKDAYS:
        raise faults.invalid_enum(str(schedule["DayOfWeek"]), f"{element}.DayOfWeek")
    if "MonthOfYear" in schedule and schedule["MonthOfYear"] not in _MONTHS:
        raise faults.invalid_enum(str(schedule["MonthOfYear"]), f"{element}.MonthOfYear")
    start = as_date(require(schedule, "StartDate", f"{element}.StartDate"), "StartDate")
    schedule["StartDate"] = start
    if schedule.get("EndDate") not in (None, ""):
        end = as_date(schedule["EndDate"], f"{element}.EndDate")
        if end < start:
            raise faults.business_validation(
                "The schedule's end date is before its start date.", f"{element}.EndDate"
            )
        schedule["EndDate"] = end
    else:
        schedule.pop("EndDate", None)
    if info.get("Active") is not False:
        schedule["NextDate"] = start
    info["ScheduleInfo"] = schedule


def _info(realm: Realm, inner: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    """Check ``RecurringInfo`` (2020 when missing); the template name is unique (6240)."""
    info = inner.pop("RecurringInfo", None)
    if not isinstance(info, dict) or not info:
        raise faults.required_field("RecurringInfo")
    info = dict(info)
    name = str(require(info, "Name", "RecurringInfo.Name") or "").strip()
    if not name:
        raise faults.required_field("RecurringInfo.Name")
    folded = name.casefold()
    for other in realm.all(ENTITY):
        if other["Id"] != own_id and other["Name"].casefold() == folded:
            raise faults.duplicate_name(name)
    info["Name"] = name
    recur_type = info.setdefault("RecurType", "Automated")
    if recur_type not in _RECUR_TYPES:
        raise faults.invalid_enum(str(recur_type), "RecurringInfo.RecurType")
    as_bool(info, "Active", True)
    _schedule(info)
    return info


def _template(
    realm: Realm, kind: str, inner: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    """The wrapped transaction as stored: checked by its entity's rules, nothing posted."""
    inner = schema.checked(kind, inner)
    validation.check_fields(kind, inner)
    inner.pop("RecurDataRef", None)
    info = _info(realm, inner, existing["Id"] if existing else None)
    spec = entities.ENTITIES[kind]
    obj = entities.prepare(realm, spec, inner, existing[kind] if existing else None)
    obj["RecurringInfo"] = info
    return entities.finish(spec, obj)


def _stored(realm: Realm, body: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """For update/delete: the kind, the body's transaction and the stored template."""
    kind, inner = _unwrap(body)
    existing = realm.read(ENTITY, str(require(inner, "Id", f"{kind}.Id")))
    if existing["Type"] != kind:
        raise faults.business_validation(
            f"Template {existing['Id']} wraps a {existing['Type']}, not a {kind}.", kind
        )
    token = inner.get("SyncToken")
    if token in (None, ""):
        raise faults.required_field(f"{kind}.SyncToken")
    if str(token).strip() != existing["SyncToken"]:
        raise faults.stale_object()
    return kind, inner, existing


def shown(realm: Realm, obj: dict[str, Any]) -> dict[str, Any]:
    """A stored template as Intuit answers it: ``{kind: transaction}``."""
    kind = obj["Type"]
    return {kind: realm.shown(kind, obj[kind])}


def create(realm: Realm, body: Any) -> dict[str, Any]:
    """``POST /recurringtransaction`` without an Id: a new template."""
    kind, inner = _unwrap(body)
    with realm.lock:
        txn = _template(realm, kind, dict(inner), None)
        now = realm.sb.clock.now()
        meta = {
            "CreateTime": realm.sb.clock.local_iso(now),
            "LastUpdatedTime": realm.sb.clock.local_iso(now),
        }
        id_ = realm.new_id(ENTITY)
        txn.update(Id=id_, SyncToken="0", MetaData=meta)
        obj = _wrapper(id_, kind, txn)
        realm.store[ENTITY][id_] = obj
        realm.sb.count(f"entity:{ENTITY}:Create")
        return shown(realm, obj)


def update(realm: Realm, body: Any) -> dict[str, Any]:
    """Full or sparse (``sparse: true`` on the transaction) update of a template."""
    with realm.lock:
        kind, inner, existing = _stored(realm, body)
        sparse = inner.get("sparse") in (True, "true")
        merged = validation.sparse_merge(existing[kind], inner) if sparse else dict(inner)
        txn = _template(realm, kind, merged, existing)
        now = realm.sb.clock.now()
        txn.update(
            Id=existing["Id"],
            SyncToken=str(int(existing["SyncToken"]) + 1),
            MetaData={
                "CreateTime": existing[kind]["MetaData"]["CreateTime"],
                "LastUpdatedTime": realm.sb.clock.local_iso(now),
            },
        )
        obj = _wrapper(existing["Id"], kind, txn)
        realm.store[ENTITY][obj["Id"]] = obj
        realm.sb.count(f"entity:{ENTITY}:Update")
        return shown(realm, obj)


def delete(realm: Realm, body: Any) -> dict[str, Any]:
    """``?operation=delete``: the template goes; its transactions (none here) would stay."""
    with realm.lock:
        kind, _inner, existing = _stored(realm, body)
        del realm.store[ENTITY][existing["Id"]]
        realm.sb.count(f"entity:{ENTITY}:Delete")
    return {kind: {"domain": "QBO", "status": "Deleted", "Id": existing["Id"]}}


def write(realm: Realm, body: Any, operation: str | None) -> dict[str, Any]:
    """Dispatch a POST to create, update or delete (shared with batch)."""
    op = (operation or "").lower()
    if op == "delete":
        return delete(realm, body)
    if op not in ("", "update", "create"):
        raise faults.unsupported_operation(f"Operation {operation} is not supported.")
    kind, inner = _unwrap(body)
    del kind
    if inner.get("Id") not in (None, "") and op != "create":
        return update(realm, body)
    if op == "update":
        raise faults.required_field("Id")
    return create(realm, body)


def _wrapper(id_: str, kind: str, txn: dict[str, Any]) -> dict[str, Any]:
    """The stored template: Id, SyncToken, MetaData, Type and Name lifted for queries."""
    return {
        "Id": id_,
        "SyncToken": txn["SyncToken"],
        "MetaData": dict(txn["MetaData"]),
        "Type": kind,
        "Name": txn["RecurringInfo"]["Name"],
        kind: txn,
    }
