"""Bills (with files), client invoices and time entries, created through the push recording.

Every create, edit and delete goes through `core.push.records` (which records the outbox row in
the same transaction), then `core.push.queueing.enqueue_recorded` after the commit. Each row shows
its sync status, its QBO id and the last error in words; "Push now" only sends again what was
recorded (a failed or waiting change): it never records a push the project's settings did not
ask for (time entries, for one, are never pushed retroactively).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import expose
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.auth import LocalBaseView
from admin.auth import require
from admin.pages.common import PerProject
from admin.pages.common import db
from admin.pages.common import project_from_request
from admin.pages.common import runtime
from admin.pages.common import visible_row
from core import tracking
from core.errors import CostbridgeError
from core.files import store_for
from core.models import Attachment
from core.models import Bill
from core.models import CostCode
from core.models import Employee
from core.models import Invoice
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import Role
from core.models import TimeEntry
from core.models import Vendor
from core.money import parse_amount
from core.plugins import PluginManager
from core.push import outbox
from core.push import records
from core.push.queueing import enqueue_recorded
from core.push.records import LineInput
from core.web.ids import parse_id

LINE_ROWS = 4
WAITING = (OutboxState.PENDING, OutboxState.UNKNOWN, OutboxState.BLOCKED)


@dataclass(frozen=True)
class SyncStatus:
    """Where a record's latest push stands, in words."""

    state: str
    qbo_id: str | None
    error: str | None
    fix: str | None
    retryable: bool


def _latest(session: Session, kind: str, local_id: int) -> OutboxEntry | None:
    """The record's latest outbox row, if any change of it was recorded."""
    return session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.local_kind == kind, OutboxEntry.local_id == local_id)
        .order_by(OutboxEntry.id.desc())
        .limit(1)
    ).first()


def sync_status(session: Session, kind: str, local_id: int) -> SyncStatus:
    """The latest outbox row of a record and the QBO id it became."""
    row = _latest(session, kind, local_id)
    qbo_id = records.qbo_id_of(session, kind, local_id)
    if row is None:
        return SyncStatus("not sent" if qbo_id is None else "done", qbo_id, None, None, False)
    retryable = row.state in outbox.RETRYABLE or row.state in WAITING
    return SyncStatus(row.state.value.replace("_", " "), qbo_id, row.last_error, row.fix, retryable)


def _date(name: str, required: bool = True) -> dt.date | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        if required:
            raise CostbridgeError(f"The {name.replace('_', ' ')} is missing.", fix="Enter it.")
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise CostbridgeError(f"“{shown}” is not a date.", fix="Use YYYY-MM-DD.") from None


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _money(
    raw: str, what: str, places: int = 2, example: str = "1250.10", digits: int = 12
) -> Decimal:
    """A typed amount, hours or percent, read only by `core.money.parse_amount` (never rounded).

    `digits`: most digits before the point its column keeps (money 12, hours 7, a percent 8).
    """
    value = parse_amount(raw, what, places=places, example=example)
    if abs(value) >= Decimal(10) ** digits:
        raise CostbridgeError(
            f"{what} is too large.", fix=f"Enter at most {digits} digits before the decimal point."
        )
    return value


def _chosen(session: Session, model: Any, project: Project, raw: str | None) -> Any:
    """The row of the project's company a form's drop-down picked (`raw` is its id), or None.

    A vendor, employee or cost code of another company is None too, as if it did not exist.
    """
    row_id = parse_id(raw)
    row = session.get(model, row_id) if row_id is not None else None
    return row if row is not None and row.company_id == project.company_id else None


def _code_id(session: Session, project: Project, raw: str) -> int | None:
    """A line's cost code (an id from the drop-down; empty: none), of the project's company."""
    if not raw:
        return None
    code = _chosen(session, CostCode, project, raw)
    if code is None:
        raise CostbridgeError("That cost code is not in the list.", fix="Pick one in the list.")
    return int(code.id)


def _lines(session: Session, project: Project, with_markup: bool = False) -> list[LineInput]:
    lines = []
    for i in range(LINE_ROWS):
        amount = request.form.get(f"line-{i}-amount", "").strip()
        if not amount:
            continue
        code = request.form.get(f"line-{i}-cost_code", "").strip()
        markup = request.form.get(f"line-{i}-markup", "").strip() if with_markup else ""
        lines.append(
            LineInput(
                amount=_money(amount, "The amount"),
                cost_code_id=_code_id(session, project, code),
                description=request.form.get(f"line-{i}-description", "").strip() or None,
                billable=f"line-{i}-billable" in request.form if not with_markup else True,
                markup_amount=_money(markup, "The markup") if markup else Decimal("0.00"),
                class_id=request.form.get(f"line-{i}-class", "").strip() or None,
            )
        )
    if not lines:
        raise CostbridgeError("A document needs at least one line.", fix="Enter an amount.")
    return lines


def _of_company(session: Session, model: Any, project: Project, order: Any) -> Sequence[Any]:
    """The rows of a company-wide list (cost codes, vendors, employees) for a form's drop-down."""
    return session.scalars(
        select(model).where(model.company_id == project.company_id).order_by(order)
    ).all()


def _by_id(session: Session, model: Any, project: Project, ids: set[int]) -> dict[int, Any]:
    """The rows `ids` of the project's company (the vendors or employees a list page names)."""
    if not ids:
        return {}
    rows = session.scalars(
        select(model).where(model.company_id == project.company_id, model.id.in_(ids))
    )
    return {row.id: row for row in rows}


def _codes(session: Session, project: Project) -> Sequence[CostCode]:
    return _of_company(session, CostCode, project, CostCode.code)


def _tags(session: Session, project: Project) -> dict[str, Any]:
    """The company's QBO classes and locations, for the forms' override drop-downs."""
    return {
        "classes": tracking.choices(session, project.company_id, "class"),
        "locations": tracking.choices(session, project.company_id, "location"),
    }


def _tag(name: str) -> str | None:
    """A class or location picked in a form (empty: the project's default)."""
    return request.form.get(name, "").strip() or None


def _push_now(session: Session, kind: str, local_id: int) -> int:
    """Send again the record's latest recorded change; returns how many jobs were queued."""
    row = _latest(session, kind, local_id)
    if row is None:
        return -1
    rows = outbox.retry(session, [row.id]) if row.state in outbox.RETRYABLE else [row]
    session.commit()
    return enqueue_recorded(runtime(), [r for r in rows if r.state in (*WAITING,)])


def _after(session: Session, entries: Sequence[OutboxEntry], done: str) -> None:
    session.commit()
    queued = enqueue_recorded(runtime(), entries)
    flash(done + (f" Sending it to QuickBooks ({queued} job(s))." if queued else ""), "success")


def _refused(session: Session, exc: CostbridgeError) -> None:
    """Undo the request's writes and say why they were refused."""
    session.rollback()
    flash(f"{exc.message} {exc.fix}".strip(), "error")


Recording = Callable[[], tuple[Sequence[OutboxEntry], str]]


def _recorded(session: Session, record: Recording) -> bool:
    """Run `record` (entries and the words for done): commit and send, or roll back and say why."""
    try:
        entries, done = record()
    except CostbridgeError as exc:
        _refused(session, exc)
        return False
    _after(session, entries, done)
    return True


def _back(project_id: int) -> Any:
    return redirect(url_for(".index", project_id=project_id))


class _DocView(PerProject, LocalBaseView):
    kind = ""
    model: Any = None

    def _one(self) -> Any:
        return visible_row(self.model, request.args.get("id"))

    def _listed(self, session: Session, project: Project) -> Sequence[Any]:
        """The project's records of this kind, newest first."""
        model = self.model
        return session.scalars(
            select(model).where(model.project_id == project.id).order_by(model.id.desc())
        ).all()

    def _list_page(
        self,
        template: str,
        name: str,
        more: Callable[[Session, Project, Sequence[Any]], dict[str, Any]] = lambda *_: {},
    ) -> Any:
        """The project's records (as `name`) with their sync status, plus `more` of context."""
        project = project_from_request()
        session = db()
        rows = self._listed(session, project)
        context = {name: rows, **more(session, project, rows)}
        status = {r.id: sync_status(session, self.kind, r.id) for r in rows}
        return self.render(template, project=project, status=status, **context)

    def _saved(self, session: Session, record: Recording) -> bool:
        """On a POST, whether `record` was recorded (committed and sent)."""
        return request.method == "POST" and _recorded(session, record)

    def _delete(
        self,
        remove: Callable[[Session, PluginManager, Any], Sequence[OutboxEntry]],
        done: str,
        refusable: bool = True,
    ) -> Any:
        """Delete the record named by `id` through `remove`, then back to the project's list."""
        row = self._one()
        session = db()
        pm = runtime().pm
        project_id = row.project_id
        if refusable:
            _recorded(session, lambda: (remove(session, pm, row), done))
        else:
            _after(session, remove(session, pm, row), done)
        return _back(project_id)

    @expose("/push", methods=("POST",))
    @require(Role.SUPPORT)
    def push(self) -> Any:
        """Push now: send the record's latest recorded change again."""
        row = self._one()
        session = db()
        n = _push_now(session, self.kind, row.id)
        if n < 0:
            flash(
                "This record was never recorded for QuickBooks: its project's toggle was off "
                "when it was made, and pushes are never made afterwards.",
                "error",
            )
        else:
            flash(f"{n} push job(s) queued." if n else "Nothing is waiting to be sent.", "success")
        return _back(row.project_id)


class BillsView(_DocView):
    """Vendor bills of a project: create with files, edit, delete, push."""

    kind = "bill"
    model = Bill

    @expose("/")
    def index(self) -> Any:
        """The project's bills with their sync status and files."""

        def more(session: Session, project: Project, bills: Sequence[Any]) -> dict[str, Any]:
            files: dict[int, list[Attachment]] = {}
            for att in session.scalars(
                select(Attachment).where(Attachment.bill_id.in_([b.id for b in bills] or [-1]))
            ):
                files.setdefault(att.bill_id or 0, []).append(att)
            vendors = _by_id(session, Vendor, project, {b.vendor_id for b in bills})
            return {"files": files, "vendors": vendors}

        return self._list_page("costbridge/bills.html", "bills", more)

    @expose("/new", methods=("GET", "POST"))
    @require(Role.ADMIN)
    def new(self) -> Any:
        """Enter a bill (and attach its files)."""
        project = project_from_request()
        return self._form(project, None)

    @expose("/edit", methods=("GET", "POST"))
    @require(Role.ADMIN)
    def edit(self) -> Any:
        """Change a bill's header and lines."""
        bill = self._one()
        project = db().get(Project, bill.project_id)
        assert project is not None
        return self._form(project, bill)

    def _form(self, project: Project, bill: Bill | None) -> Any:
        session = db()

        def record() -> tuple[Sequence[OutboxEntry], str]:
            nonlocal bill
            rt = runtime()
            vendor = _chosen(session, Vendor, project, request.form.get("vendor_id"))
            if vendor is None:
                raise CostbridgeError("Choose the vendor.", fix="Pick one in the list.")
            header: dict[str, Any] = {
                "bill_date": _date("bill_date"),
                "due_date": _date("due_date", required=False),
                "number": request.form.get("number", "").strip() or None,
                "memo": request.form.get("memo", "").strip() or None,
                "qbo_location_id": _tag("qbo_location_id"),
            }
            if bill is None:
                bill, entries = records.create_bill(
                    session, rt.pm, project, vendor=vendor, lines=_lines(session, project), **header
                )
            else:
                entries = records.edit_bill(
                    session,
                    rt.pm,
                    bill,
                    lines=_lines(session, project),
                    vendor_id=vendor.id,
                    **header,
                )
            store = store_for(rt.settings.instance_path)
            for upload in request.files.getlist("files"):
                if not upload or not upload.filename:
                    continue
                _file, more = records.attach_file(
                    session,
                    rt.pm,
                    store,
                    bill,
                    file_name=upload.filename,
                    content=upload.read(),
                    content_type=upload.mimetype,
                )
                entries = [*entries, *more]
            return entries, f"Bill {bill.number or bill.id} saved."

        if self._saved(session, record):
            return _back(project.id)
        return self.render(
            "costbridge/bill_form.html",
            project=project,
            bill=bill,
            vendors=_of_company(session, Vendor, project, Vendor.name),
            codes=_codes(session, project),
            rows=LINE_ROWS,
            **_tags(session, project),
        )

    @expose("/delete", methods=("POST",))
    @require(Role.ADMIN)
    def delete(self) -> Any:
        """Delete a bill (and in QuickBooks, if it was sent)."""
        return self._delete(records.delete_bill, "Bill deleted.")


class InvoicesView(_DocView):
    """Client invoices (markup on its own line); paid only from QuickBooks while integrated."""

    kind = "invoice"
    model = Invoice

    @expose("/")
    def index(self) -> Any:
        """The project's invoices with their sync status."""

        def more(session: Session, _project: Project, invoices: Sequence[Any]) -> dict[str, Any]:
            pm = runtime().pm
            return {"integrated": {i.id: records.integrated(session, pm, i) for i in invoices}}

        return self._list_page("costbridge/invoices.html", "invoices", more)

    @expose("/new", methods=("GET", "POST"))
    @require(Role.ADMIN)
    def new(self) -> Any:
        """Enter a client invoice."""
        project = project_from_request()
        session = db()

        def record() -> tuple[Sequence[OutboxEntry], str]:
            raw = request.form.get("markup_percent", "").strip()
            invoice, entries = records.create_invoice(
                session,
                runtime().pm,
                project,
                invoice_date=_date("invoice_date") or _today(),
                due_date=_date("due_date", required=False),
                number=request.form.get("number", "").strip() or None,
                memo=request.form.get("memo", "").strip() or None,
                markup_percent=_money(raw, "The markup", places=4, example="12.5", digits=8)
                if raw
                else Decimal("0"),
                lines=_lines(session, project, with_markup=True),
                qbo_location_id=_tag("qbo_location_id"),
            )
            return entries, f"Invoice {invoice.number or invoice.id} saved."

        if self._saved(session, record):
            return _back(project.id)
        return self.render(
            "costbridge/invoice_form.html",
            project=project,
            codes=_codes(session, project),
            rows=LINE_ROWS,
            **_tags(session, project),
        )

    @expose("/paid", methods=("POST",))
    @require(Role.ADMIN)
    def paid(self) -> Any:
        """Mark an invoice paid by hand (refused while QuickBooks decides it)."""
        invoice = self._one()
        session = db()
        try:
            records.mark_invoice_paid(session, runtime().pm, invoice)
        except CostbridgeError as exc:
            _refused(session, exc)
        else:
            session.commit()
            flash("Invoice marked paid.", "success")
        return _back(invoice.project_id)

    @expose("/delete", methods=("POST",))
    @require(Role.ADMIN)
    def delete(self) -> Any:
        """Delete an invoice (and in QuickBooks, if it was sent and nothing was paid)."""
        return self._delete(records.delete_invoice, "Invoice deleted.")


class TimeView(_DocView):
    """Time entries; pushed as TimeActivity only if made while time tracking was on."""

    kind = "time_entry"
    model = TimeEntry

    @expose("/")
    def index(self) -> Any:
        """The project's time entries with their sync status."""

        def more(session: Session, project: Project, entries: Sequence[Any]) -> dict[str, Any]:
            ids = {e.employee_id for e in entries}
            return {"employees": _by_id(session, Employee, project, ids)}

        return self._list_page("costbridge/time.html", "entries", more)

    @expose("/new", methods=("GET", "POST"))
    @require(Role.ADMIN)
    def new(self) -> Any:
        """Enter hours worked."""
        project = project_from_request()
        session = db()

        def record() -> tuple[Sequence[OutboxEntry], str]:
            employee = _chosen(session, Employee, project, request.form.get("employee_id"))
            if employee is None:
                raise CostbridgeError("Choose the employee.", fix="Pick one in the list.")
            code = request.form.get("cost_code", "").strip()
            _entry, entries = records.add_time_entry(
                session,
                runtime().pm,
                project,
                employee=employee,
                work_date=_date("work_date") or _today(),
                hours=_money(request.form.get("hours", ""), "The hours", example="7.5", digits=7),
                cost_code_id=_code_id(session, project, code),
                billable="billable" in request.form,
                description=request.form.get("description", "").strip() or None,
                qbo_class_id=_tag("qbo_class_id"),
                qbo_location_id=_tag("qbo_location_id"),
            )
            return entries, "Time entry saved."

        if self._saved(session, record):
            return _back(project.id)
        return self.render(
            "costbridge/time_form.html",
            project=project,
            employees=_of_company(session, Employee, project, Employee.name),
            codes=_codes(session, project),
            **_tags(session, project),
        )

    @expose("/delete", methods=("POST",))
    @require(Role.ADMIN)
    def delete(self) -> Any:
        """Delete a time entry (and its TimeActivity, if it was sent)."""
        return self._delete(records.delete_time_entry, "Time entry deleted.", refusable=False)
