"""Clock skew (RELIABILITY.md §3, recipe 5), and a state machine over the outbox leases (recipe 6).

freezegun moves Python's clock only; the sandbox, PostgreSQL and Redis keep real time. Token
expiry and push leases are decided on Python's clock (`core.db.utcnow`), so these tests steer it
around the margins: a token is refreshed inside the last five minutes and not before, a lease
protects its holder for `LEASE` and not longer, and no sequence of claims, heartbeats, crashes,
clock jumps and completions lets two executions send one row or a finished row be sent again.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import invariant
from hypothesis.stateful import precondition
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.models import Company
from core.models import OutboxEntry
from core.models import OutboxState
from core.push.leases import LEASE
from core.push.leases import claim
from core.push.leases import new_token
from core.qbo.custody import REFRESH_MARGIN
from core.qbo.custody import TokenManager
from costbridge_testing.sandbox import Control

START = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)


def refreshes(control: Control) -> int:
    return int(control.oauth()["token_calls"].get("refresh_token", 0))


def test_a_token_is_refreshed_inside_the_margin_and_not_before(
    token_manager: TokenManager, realm_id: str, sandbox_control: Control, committed_db: Session
) -> None:
    now = dt.datetime.now(dt.UTC)
    committed_db.execute(
        update(Company)
        .where(Company.realm_id == realm_id)
        .values(access_expires_at=now + dt.timedelta(minutes=30))
    )
    committed_db.commit()
    before = refreshes(sandbox_control)
    with freeze_time(now, tick=True) as clock:
        first = token_manager.access_token(realm_id)
        # Our clock 10 minutes fast still leaves 20: no refresh.
        clock.move_to(now + dt.timedelta(minutes=10))
        assert token_manager.access_token(realm_id).value == first.value
        assert refreshes(sandbox_control) == before
        # One second inside the margin: refreshed once, and the new token is used after.
        clock.move_to(now + dt.timedelta(minutes=30) - REFRESH_MARGIN + dt.timedelta(seconds=1))
        second = token_manager.access_token(realm_id)
        assert second.value != first.value
        assert token_manager.access_token(realm_id).value == second.value
        assert refreshes(sandbox_control) == before + 1


@pytest.fixture
def row(committed_db: Session) -> OutboxEntry:
    company = Company(name="Ridgeline Builders")
    committed_db.add(company)
    committed_db.flush()
    entry = OutboxEntry(
        company_id=company.id,
        entity="Bill",
        local_kind="bill",
        local_id=1,
        operation="create",
        idempotency_key=uuid.uuid4().hex[:36],
        state=OutboxState.PENDING,
    )
    committed_db.add(entry)
    committed_db.commit()
    return entry


def test_a_lease_protects_its_holder_for_lease_and_no_longer(
    committed_db: Session, row: OutboxEntry
) -> None:
    with freeze_time(START) as clock:
        assert claim(committed_db, row.id, new_token("push-a"))
        clock.move_to(START + LEASE - dt.timedelta(seconds=1))
        assert not claim(committed_db, row.id, new_token("push-b"))
        clock.move_to(START + LEASE + dt.timedelta(seconds=1))
        assert claim(committed_db, row.id, new_token("push-b"))


class LeaseMachine(RuleBasedStateMachine):
    """Executions claim, beat, crash and finish one outbox row while the clock jumps."""

    session: Session
    row_id: int

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.clock = freeze_time(self.now)
        self.clock.start()
        self.session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == self.row_id)
            .values(state=OutboxState.PENDING, lease_until=None, claimed_by=None, attempts=0)
        )
        self.session.commit()
        self.holder: str | None = None  # the execution that believes it holds the row
        self.alive = False
        self.sends = 0
        self.done = False
        self.jobs = 0

    def teardown(self) -> None:
        self.clock.stop()

    def _move(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
        self.clock.stop()
        self.clock = freeze_time(self.now)
        self.clock.start()

    def _lease_live(self) -> bool:
        self.session.expire_all()
        entry = self.session.get(OutboxEntry, self.row_id)
        assert entry is not None
        return (
            entry.state == OutboxState.IN_FLIGHT
            and entry.lease_until is not None
            and entry.lease_until > self.now
        )

    @rule()
    def a_new_execution_claims(self) -> None:
        self.jobs += 1
        token = new_token(f"push-{self.jobs}")
        live_before = self._lease_live() and self.alive
        if claim(self.session, self.row_id, token):
            assert not self.done, "a delivered row was claimed again"
            assert not live_before, "a live lease was taken over"
            self.holder, self.alive = token, True

    @precondition(lambda self: self.holder is not None and self.alive)
    @rule()
    def the_holder_beats(self) -> None:
        self.session.execute(
            update(OutboxEntry)
            .where(
                OutboxEntry.claimed_by == self.holder,
                OutboxEntry.state == OutboxState.IN_FLIGHT,
            )
            .values(lease_until=self.now + LEASE)
        )
        self.session.commit()

    @precondition(lambda self: self.holder is not None and self.alive)
    @rule()
    def the_holder_sends_and_finishes(self) -> None:
        if not self._lease_live():
            self.alive = False  # it noticed it lost the lease and stops
            return
        self.sends += 1
        self.session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.claimed_by == self.holder)
            .values(state=OutboxState.DONE, lease_until=None)
        )
        self.session.commit()
        self.done, self.holder, self.alive = True, None, False

    @precondition(lambda self: self.holder is not None and self.alive)
    @rule()
    def the_worker_is_killed(self) -> None:
        self.alive = False

    @rule(seconds=st.sampled_from([1, 2, 3, 14, 16, 60, 600]))
    def time_passes(self, seconds: int) -> None:
        self._move(seconds)

    @invariant()
    def one_entity_per_key(self) -> None:
        assert self.sends <= 1


def test_outbox_leases_never_let_a_row_be_sent_twice(
    committed_db: Session, row: OutboxEntry
) -> None:
    LeaseMachine.session = committed_db
    LeaseMachine.row_id = row.id
    run_state_machine_as_test(
        LeaseMachine,
        settings=hsettings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
