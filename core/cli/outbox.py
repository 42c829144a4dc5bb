"""`costbridge outbox list|retry|cancel`: the changes recorded for QuickBooks, from a terminal.

Support's view of the push: what waits, what was sent and the QuickBooks id it became, what was
refused and why (`--group`: failures by root cause and the record they point at); retrying queues
the rows again (the sweeper sends them if Redis is away), a refused one under a new requestid.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from core.cli.common import JSON
from core.cli.common import fails_cleanly
from core.cli.common import runtime
from core.cli.common import send
from core.cli.common import show
from core.errors import CostbridgeError
from core.models import OutboxEntry
from core.models import OutboxState

__all__ = ["outbox"]


# -- outbox -------------------------------------------------------------------------------------


@click.group()
def outbox() -> None:
    """Changes waiting for, sent to or refused by QuickBooks; retry and cancel them."""


@outbox.command("list")
@click.option("--state", type=click.Choice([s.value for s in OutboxState]), help="Only these.")
@click.option("--company", "company_id", type=int, help="Only this company's.")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--group",
    "grouped",
    is_flag=True,
    help="Failures grouped by root cause and the record they point at, each with its KEY "
    "for `outbox retry --group KEY`.",
)
@JSON
@fails_cleanly
def outbox_list(
    state: str | None, company_id: int | None, limit: int, grouped: bool, as_json: bool
) -> None:
    """Outbox rows, newest first, with the QuickBooks id each produced and the last error."""
    from dataclasses import asdict

    from core.push.outbox import list_outbox

    if grouped:
        _list_groups(company_id, as_json)
        return
    with runtime() as rt, rt.sessions() as session:
        rows = list_outbox(session, state=state, company_id=company_id, limit=limit)

    def echo(r: dict[str, Any]) -> None:
        qbo = f"QBO {r['qbo_id']}" if r["qbo_id"] else "-"
        error = f"  !! {r['last_error']} {r['fix'] or ''}".rstrip() if r["last_error"] else ""
        click.echo(
            f"{r['id']:>6}  {r['state']:<11} {r['operation']:<6} {r['entity']:<12} "
            f"{r['local_kind']} {r['local_id']:<6} tries {r['attempts']}  {qbo}{error}"
        )

    show([asdict(r) for r in rows], as_json, echo)


def _list_groups(company_id: int | None, as_json: bool) -> None:
    """`outbox list --group`: one line per cause, largest first."""
    from core.push.causes import failure_causes

    with runtime() as rt, rt.sessions() as session:
        causes = failure_causes(session, company_id=company_id)
    rows = [
        {
            "key": c.key,
            "company_id": c.company_id,
            "cause": c.sentence,
            "records": c.what,
            "count": len(c.outbox_ids),
            "fix": c.fix,
            "code": c.code,
            "target": c.target,
            "outbox_ids": list(c.outbox_ids),
        }
        for c in causes
    ]

    def echo(r: dict[str, Any]) -> None:
        click.echo(f"{r['key']}  {r['cause']}: {r['records']}")
        if r["fix"]:
            click.echo(f"            {r['fix']}")

    if not rows and not as_json:
        click.echo("costbridge: no failed change.")
        return
    show(rows, as_json, echo)
    if rows and not as_json:
        click.echo("Re-send a group after the fix: costbridge outbox retry --group KEY")


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--failed", is_flag=True, help="Every failed or refused row.")
@click.option(
    "--group", "group", metavar="KEY", help="The rows of one cause (`outbox list --group`)."
)
@click.option("--company", "company_id", type=int, help="With --failed: only this company's.")
@fails_cleanly
def outbox_retry(
    ids: tuple[int, ...], failed: bool, group: str | None, company_id: int | None
) -> None:
    """Send failed, refused or unknown rows again (each is looked up in QBO first).

    A change QuickBooks refused goes under a new requestid; an unknown one keeps its own.
    """
    from core.push.causes import resend_group
    from core.push.outbox import retry
    from core.push.outbox import retry_failed

    if sum((bool(ids), failed, group is not None)) != 1:
        raise CostbridgeError(
            "Say what to retry.", fix="Give outbox row ids, or --failed, or --group KEY."
        )
    if group is not None:
        with runtime() as rt, rt.sessions() as session:
            again = resend_group(session, group)
            queued = send(rt, session, again)
        click.echo(
            f"costbridge: {len(again)} row(s) of group {group} put back to be sent, "
            f"{queued} push job(s) queued."
        )
        return
    with runtime() as rt, rt.sessions() as session:
        known = set(session.scalars(select(OutboxEntry.id).where(OutboxEntry.id.in_(ids))))
        missing = [i for i in ids if i not in known]
        if missing:
            raise CostbridgeError(
                f"There is no outbox row {missing[0]}.", fix="Run `costbridge outbox list`."
            )
        again = retry_failed(session, company_id=company_id) if failed else retry(session, ids)
        for row_id in sorted(set(ids) - {r.id for r in again}):
            row = session.get(OutboxEntry, row_id)
            state = row.state.value.replace("_", " ") if row else "gone"
            click.echo(f"!! outbox row {row_id} is {state}: not sent again.", err=True)
        queued = send(rt, session, again)
    click.echo(f"costbridge: {len(again)} row(s) put back to be sent, {queued} push job(s) queued.")


@outbox.command("cancel")
@click.argument("outbox_id", type=int)
@fails_cleanly
def outbox_cancel(outbox_id: int) -> None:
    """Never send a row (refused while it is being sent, or once it was sent)."""
    from core.push.outbox import cancel

    with runtime() as rt, rt.sessions() as session:
        row = cancel(session, outbox_id)
        session.commit()
        click.echo(
            f"costbridge: outbox row {row.id} ({row.operation} {row.entity}) cancelled; "
            "it will not be sent."
        )
