"""What every `costbridge` command group shares; the only CLI module the others import.

- **Settings**: `load_settings` (a configuration mistake is one line, exit 2), `is_loopback`.
- **Errors**: `OneLineGroup` (the top group: a database or Redis that cannot be reached is one
  line, not a traceback), `fails_cleanly` (a `CostbridgeError` is `costbridge: <message> <fix>`
  and exit 1) and `Refused` (problems already printed; exit 1).
- **Runtime**: `runtime()` yields the `Runtime` passed as click's `obj` (tests and embedding code
  hand in theirs) or builds one from the environment and closes it afterwards.
- **Output and options**: `dump` (JSON, money as decimal strings), `show`, the `--json`,
  `--project`, `--company` options, and `list_command`, the one builder of `GROUP list` commands.
- **What people type**: exact decimals (`parse_decimal`), records found by name whatever their
  case or accents' composition (`pick`, `find_named`, `find_cost_code`), document lines.
- **Recorded pushes**: committing and queueing them (`send`, `recorded`) and a record's latest
  push as the lists show it (`sync_json`, `status_text`).

Command modules import most of the core inside the commands: `costbridge web` and `worker` must
point prometheus_client at its folder (`core.serve.prepare_process`) before anything imports it,
and `costbridge --help` should not load the web app or the engine.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import sys
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import TypeVar
from typing import cast

import click
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError

from core import lookup
from core.config import Settings
from core.errors import ConfigError
from core.errors import CostbridgeError
from core.errors import TryLater
from core.lookup import pick
from core.models import Bill
from core.models import CostCode
from core.models import Employee
from core.models import Invoice
from core.models import OutboxEntry
from core.models import TimeEntry
from core.models import Vendor
from core.money import parse_amount
from core.push.records import LineInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.qbo import QboClient
    from core.runtime import Runtime

__all__ = [
    "CLASS",
    "COMPANY",
    "DAY",
    "JSON",
    "LOCATION",
    "PROJECT",
    "OneLineGroup",
    "Refused",
    "code_text",
    "connected_client",
    "document_lines",
    "dump",
    "fails_cleanly",
    "find_cost_code",
    "find_named",
    "is_loopback",
    "list_command",
    "load_settings",
    "of_company",
    "one_line",
    "parse_decimal",
    "pick",
    "project_records",
    "recorded",
    "runtime",
    "say",
    "send",
    "show",
    "status_text",
    "sync_json",
    "tag_id",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
M = TypeVar("M", CostCode, Vendor, Employee)
D = TypeVar("D", Bill, Invoice, TimeEntry)
Row = dict[str, Any]

# -- settings ---------------------------------------------------------------------------------


def say(message: str) -> None:
    """Print each line of `message` as its own `costbridge:` line on stderr."""
    for line in message.splitlines() or [message]:
        click.echo(f"costbridge: {line}", err=True)


def load_settings() -> Settings:
    """The settings from the environment; a mistake is one line per problem and exit 2."""
    try:
        return Settings.from_env()
    except ConfigError as exc:
        say(exc.message)  # no traceback for a configuration mistake
        sys.exit(2)


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (`localhost` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- errors -------------------------------------------------------------------------------------


def one_line(exc: BaseException, database_url: str | None = None) -> str | None:
    """The line for a failure costbridge knows, or None for a bug (keep the traceback)."""
    if isinstance(exc, ConfigError | CostbridgeError):
        return exc.message
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return f"cannot reach Redis (REDIS_URL): {str(exc).splitlines()[0][:200]}"
    if isinstance(exc, OperationalError | InterfaceError):
        folder = _missing_sqlite_folder(database_url)
        if folder is not None:
            return f"the SQLite database's folder {folder} does not exist (DATABASE_URL)."
        detail = str(exc.orig or exc).strip().splitlines()
        first = detail[0] if detail else type(exc).__name__
        return f"cannot reach the database (DATABASE_URL): {first[:200]}"
    return None


def _missing_sqlite_folder(url: str | None) -> Path | None:
    if not url or not url.startswith("sqlite"):
        return None
    try:
        database = make_url(url).database
    except ArgumentError:
        return None
    if not database or database == ":memory:":
        return None
    folder = Path(database).parent
    return None if folder.is_dir() else folder


class OneLineGroup(click.Group):
    """A click group whose commands fail in one line on known failures.

    A database or Redis that cannot be reached, an SQLite file whose folder is missing, or a
    configuration mistake found late (`keys rotate` with no key) each print one line naming
    what is wrong and exit non-zero. Anything else is a bug and keeps its traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a known failure prints one line and exits 1 (2 for configuration)."""
        try:
            return super().invoke(ctx)
        except (
            CostbridgeError,
            RedisConnectionError,
            RedisTimeoutError,
            OperationalError,
            InterfaceError,
        ) as exc:
            line = one_line(exc, _database_url())
            if line is None:  # pragma: no cover - every caught type has words
                raise
            say(line)
            sys.exit(2 if isinstance(exc, ConfigError) else 1)


def _database_url() -> str | None:
    try:
        return Settings.from_env().database_url
    except ConfigError:
        return None


class Refused(Exception):
    """Several problems already printed; exit 1."""


def fails_cleanly(func: F) -> F:
    """Turn a `CostbridgeError` into `costbridge: <message> <fix>` on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CostbridgeError as exc:
            click.echo(f"costbridge: {exc.message} {_cli_fix(exc)}".rstrip(), err=True)
            sys.exit(1)
        except Refused:
            sys.exit(1)

    return cast("F", wrapper)


def _cli_fix(exc: CostbridgeError) -> str:
    """What to do, said for a command: a passing condition (throttled, QBO down) is retried by
    the worker for queued jobs, but nothing runs a command again, so say when to."""
    if not isinstance(exc, TryLater):
        return exc.fix
    wait = exc.retry_after
    when = f"in {max(int(wait + 0.999), 1)} seconds" if wait and wait < 120 else "in a few minutes"
    return f"Nothing runs this command again for you: run it again {when}."


# -- runtime ------------------------------------------------------------------------------------


#: The runtime of the command running now (set by `runtime()`), for helpers called without it.
_RUNTIME: ContextVar[Runtime | None] = ContextVar("costbridge_cli_runtime", default=None)


@contextmanager
def runtime() -> Iterator[Runtime]:
    """The runtime passed as click's `obj`, or one built from the environment (then closed)."""
    from core.runtime import Runtime

    given = click.get_current_context().obj
    rt = given if isinstance(given, Runtime) else Runtime.build(load_settings())
    token = _RUNTIME.set(rt)
    try:
        yield rt
    finally:
        _RUNTIME.reset(token)
        if rt is not given:
            rt.close()


def connected_client(rt: Runtime, company: Any) -> QboClient:
    """The QBO client of a connected company; refused in words when it is not connected."""
    from core.models import ConnectionStatus
    from core.qbo import client_for

    if company.connection_status != ConnectionStatus.CONNECTED or not company.realm_id:
        raise CostbridgeError(
            f"{company.name} is not connected to QuickBooks.",
            fix=(
                f"Connect it on its page in the web app (/qbo/company/{company.id}, Connect to "
                "QuickBooks), then try again."
            ),
        )
    return client_for(rt, company.realm_id)


# -- output, options and the list builder -------------------------------------------------------

JSON = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
PROJECT = click.option("--project", "project_id", type=int, required=True, help="Project id.")
COMPANY = click.option("--company", "company_id", type=int, required=True, help="Company id.")
DAY = click.DateTime(formats=["%Y-%m-%d"])
#: A record's own QuickBooks class and location, by name (`tag_id`).
CLASS = click.option(
    "--class",
    "class_name",
    help="QuickBooks class (Parent:Child or its own name) over the project's default; "
    "an empty value means the project's default.",
)
LOCATION = click.option(
    "--location",
    "location_name",
    help="QuickBooks location over the project's default; an empty value means the default.",
)


def tag_id(
    rt: Runtime, session: Session, company_id: int, kind: str, name: str | None
) -> str | None:
    """The QBO id of the company's class or location called `name` (empty or None: none).

    Looked up in the company's copy of its QBO classes and Departments (`core.tracking`); QBO
    is asked afresh once when the name is not there.
    """
    from core import tracking
    from core.projects import get_company

    return tracking.resolve(
        session,
        company_id,
        kind,
        name,
        client=lambda: connected_client(rt, get_company(session, company_id)),
    )


def dump(data: Any) -> None:
    """Print `data` as indented JSON (decimals and dates as strings)."""
    click.echo(json.dumps(data, indent=2, default=str))


def show(rows: list[Row], as_json: bool, echo: Callable[[Row], None]) -> None:
    """The rows as JSON, or each as `echo` prints it."""
    if as_json:
        dump(rows)
        return
    for r in rows:
        echo(r)


def list_command(
    group: click.Group,
    doc: str,
    *,
    per: Literal["project", "company"],
    rows: Callable[[Session, int], list[Row]],
    echo: Callable[[Row], None],
) -> None:
    """Add `GROUP list --project ID [--json]` (or `--company ID`): `rows`, each shown by `echo`."""

    @group.command("list", help=doc)
    @(PROJECT if per == "project" else COMPANY)
    @JSON
    @fails_cleanly
    def command(as_json: bool, **owner: int) -> None:
        (owner_id,) = owner.values()
        with runtime() as rt, rt.sessions() as session:
            found = rows(session, owner_id)
        show(found, as_json, echo)


def project_records(
    model: type[D], to_json: Callable[[Session, D], Row]
) -> Callable[[Session, int], list[Row]]:
    """`list_command` rows: the project's `model` records, oldest first (refused if no project)."""

    def rows(session: Session, project_id: int) -> list[Row]:
        from core.projects import get_project

        get_project(session, project_id)
        query = select(model).where(model.project_id == project_id).order_by(model.id)
        return [to_json(session, r) for r in session.scalars(query)]

    return rows


# -- what people type ---------------------------------------------------------------------------


def parse_decimal(raw: str, what: str, *, places: int = 2, example: str = "1250.10") -> Decimal:
    """`raw` as an exact, non-negative decimal with at most `places` decimals (never rounded).

    The one parser of typed amounts (`core.money.parse_amount`), as the CLI takes them.

    Raises:
        CostbridgeError: Not such a number; the message quotes it and says how to write it.
    """
    return parse_amount(raw, what, places=places, example=example)


def of_company(session: Session, model: type[M], company_id: int) -> list[M]:
    """The company's cost codes, vendors or employees, oldest first."""
    return list(
        session.scalars(select(model).where(model.company_id == company_id).order_by(model.id))
    )


def find_named(session: Session, model: type[M], what: str, company_id: int, wanted: str) -> M:
    """The company's vendor or employee called `wanted`."""
    named = [(r.name, r) for r in of_company(session, model, company_id)]
    return pick(what, wanted, named, f"{what}s list --company {company_id}")


def find_cost_code(session: Session, company_id: int, wanted: str) -> CostCode:
    """The company's cost code whose code, or else whose name, is `wanted` (`core.lookup`)."""
    return lookup.find_cost_code(session, company_id, wanted)


def document_lines(
    session: Session, company_id: int, raw: Sequence[str], *, billable_flags: bool
) -> list[LineInput]:
    """`CODE=AMOUNT[:billable|:notbillable]` options as lines (an empty CODE: the default)."""
    if not raw:
        raise CostbridgeError("A document needs at least one line.", fix="Add --line CODE=AMOUNT.")
    lines = []
    for item in raw:
        code, sep, rest = item.rpartition("=")
        amount, _, flag = rest.partition(":")
        if not sep or (flag and (not billable_flags or flag not in ("billable", "notbillable"))):
            form = "CODE=AMOUNT[:billable|:notbillable]" if billable_flags else "CODE=AMOUNT"
            raise CostbridgeError(
                f"--line “{item}” is not {form}.", fix="Write it like 0310=120.50."
            )
        cost_code = find_cost_code(session, company_id, code) if code.strip() else None
        value = parse_amount(amount, f"The amount of line “{item}”", negative=True)
        if value < 0:
            raise CostbridgeError(
                f"The amount of line “{item}” is negative ({amount.strip()}); bill and invoice "
                "lines are amounts owed, never negative.",
                fix=f"Write the amount without a sign, like {code.strip() or '0310'}=50.00. "
                "For money a vendor gives back, enter a vendor credit in QuickBooks; to lower "
                "an invoice, change or remove its lines.",
            )
        lines.append(
            LineInput(
                amount=value,
                cost_code_id=cost_code.id if cost_code else None,
                billable=flag != "notbillable",
            )
        )
    return lines


# -- recorded pushes ----------------------------------------------------------------------------


def send(rt: Runtime, session: Session, entries: Sequence[OutboxEntry]) -> int:
    """Commit, then queue the recorded pushes; how many jobs were queued.

    When Redis is away nothing is lost: the rows stay pending and the sweeper sends them.
    """
    from core.push.queueing import enqueue_recorded

    session.commit()
    session.expire_all()  # what is shown next is what was stored (7.5 hours: "7.50")
    return enqueue_recorded(rt, entries)


def recorded(
    rt: Runtime,
    session: Session,
    entries: Sequence[OutboxEntry],
    *,
    toggle: str,
    as_json: bool,
    record: D,
    to_json: Callable[[Session, D], Row],
    done: str,
) -> None:
    """Commit and queue `entries`, then show `record` (`--json`) or that it was `done`.

    The line also says how many pushes were recorded and queued: none while the project's
    `toggle` is off (or a waiting change already carries the record).
    """
    queued = send(rt, session, entries)
    if as_json:
        dump(to_json(session, record))
        return
    if entries:
        words = f"{len(entries)} change(s) recorded for QuickBooks, {queued} push job(s) queued"
    else:
        words = f"not recorded for QuickBooks (“{toggle}” is off, or a waiting change carries it)"
    click.echo(f"costbridge: {done.format(record.id)}; {words}.")


def sync_json(session: Session, record: Any) -> Row:
    """A record's latest recorded push: its state, the QBO id it became, the last error.

    Which push kind the record is comes from the plugins (`core.push.kinds`), through the
    command's runtime.
    """
    from core.push.kinds import kind_of
    from core.push.records import qbo_id_of

    rt = _RUNTIME.get()
    kind = kind_of(rt.pm, record) if rt is not None else None
    row = (
        session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.local_kind == kind, OutboxEntry.local_id == record.id)
            .order_by(OutboxEntry.id.desc())
            .limit(1)
        ).first()
        if kind is not None
        else None
    )
    return {
        "sync_status": row.state.value if row else "not_recorded",
        "outbox_id": row.id if row else None,
        "qbo_id": qbo_id_of(session, kind, record.id) if kind is not None else None,
        "last_error": row.last_error if row else None,
        "fix": row.fix if row else None,
    }


def status_text(row: Row) -> str:
    """A `sync_json` row in words: state, QBO id, and the last error with its fix."""
    state = str(row["sync_status"]).replace("_", " ")
    qbo = f"QBO {row['qbo_id']}" if row["qbo_id"] else "not in QBO"
    error = f"  !! {row['last_error']} {row['fix'] or ''}".rstrip() if row["last_error"] else ""
    return f"{state:<12} {qbo}{error}"


def code_text(session: Session, code_id: int | None) -> str | None:
    """The code of cost code `code_id` (None for none)."""
    code = session.get(CostCode, code_id) if code_id is not None else None
    return code.code if code else None
