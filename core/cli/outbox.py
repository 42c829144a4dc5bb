"""`costbridge outbox list|retry|cancel`: the changes recorded for QuickBooks, from a terminal.

Support's view of the push: what waits, what was sent and the QuickBooks id it became, what was
refused and why; retrying queues the rows again (the sweeper sends them if Redis is away).
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
@JSON
@fails_cleanly
def outbox_list(state: str | None, company_id: int | None, limit: int, as_json: bool) -> None:
    """Outbox rows, newest first, with the QuickBooks id each produced and the last error."""
    from dataclasses import asdict

    from core.push.outbox import list_outbox

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


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--failed", is_flag=True, help="Every failed or refused row.")
@click.option("--company", "company_id", type=int, help="With --failed: only this company's.")
@fails_cleanly
def outbox_retry(ids: tuple[int, ...], failed: bool, company_id: int | None) -> None:
    """Send failed, refused or unknown rows again (an unknown one is looked up in QBO first)."""
    from core.push.outbox import retry
    from core.push.outbox import retry_failed

    if bool(ids) == failed:
        raise CostbridgeError("Say what to retry.", fix="Give outbox row ids, or --failed.")
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
