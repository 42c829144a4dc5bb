"""The domain model on both databases: exact money, UTC times, idempotent actual keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import migrate
from core.db import make_engine
from core.models import Actual
from core.models import BudgetLine
from core.models import Company
from core.models import Project
from tests.factories import make_bill
from tests.factories import make_cost_code
from tests.factories import make_project


@pytest.fixture
def sqlite_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'models.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def any_db(request, db, sqlite_db):
    return db if request.param == "postgresql" else sqlite_db


def _actual(project: Project, line: str, amount: str, **kw) -> Actual:
    return Actual(
        project_id=project.id,
        actual_type=kw.pop("actual_type", "bill"),
        realm_id="9341452188453921",
        qbo_entity="Bill",
        qbo_id="146",
        qbo_line_id=line,
        plugin=kw.pop("plugin", "qbo_bills"),
        txn_date=dt.date(2025, 6, 30),
        amount=Decimal(amount),
        **kw,
    )


def test_money_round_trips_exactly_and_sums_exactly(any_db):
    project = make_project(any_db)
    amounts = ["0.10", "0.20", "1250.55", "-75.35", "99999999.99"]
    any_db.add_all(_actual(project, str(i), a) for i, a in enumerate(amounts))
    any_db.commit()
    any_db.expire_all()
    stored = any_db.scalars(select(Actual.amount).order_by(Actual.id)).all()
    assert stored == [Decimal(a) for a in amounts]
    assert all(isinstance(a, Decimal) for a in stored)
    total = sum(stored, Decimal("0"))
    assert total == Decimal("100001175.49")
    assert any_db.scalar(select(func.count(Actual.id))) == 5


def test_float_money_is_refused(any_db):
    project = make_project(any_db)
    any_db.add(BudgetLine(project_id=project.id, budget_amount=0.1))
    with pytest.raises(Exception, match="Decimal or int"):
        any_db.flush()


def test_sub_cent_money_is_refused_not_rounded(any_db):
    project = make_project(any_db)
    any_db.add(BudgetLine(project_id=project.id, budget_amount=Decimal("10.005")))
    with pytest.raises(Exception, match="decimal places"):
        any_db.flush()


@freeze_time("2025-06-30 23:30:00")
def test_timestamps_are_aware_utc(any_db):
    company = Company(name="Ridgeline Builders LLC")
    any_db.add(company)
    any_db.commit()
    any_db.expire_all()
    loaded = any_db.get(Company, company.id)
    assert loaded.created_at == dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC)
    assert loaded.created_at.tzinfo is not None


def test_naive_datetime_is_refused(any_db):
    company = Company(name="x", connected_at=dt.datetime(2025, 1, 1))  # noqa: DTZ001
    any_db.add(company)
    with pytest.raises(Exception, match="naive datetime"):
        any_db.flush()


def test_same_qbo_line_cannot_become_two_actuals(any_db):
    project = make_project(any_db)
    any_db.add(_actual(project, "1", "10.00"))
    any_db.flush()
    any_db.add(_actual(project, "1", "10.00"))
    with pytest.raises(IntegrityError):
        any_db.flush()


def test_bill_total_is_the_sum_of_its_lines(any_db):
    project = make_project(any_db)
    bill = make_bill(any_db, project, lines=[Decimal("0.10"), Decimal("0.20")])
    assert bill.total == Decimal("0.30")


def test_cost_code_says_which_qbo_checkbox_is_missing(any_db):
    project = make_project(any_db)
    company = any_db.get(Company, project.company_id)
    assert make_cost_code(any_db, company).usability_problem() is None
    problem = make_cost_code(any_db, company, purchases=False).usability_problem()
    assert "I purchase this product/service" in problem
    assert "I sell" not in problem


def test_company_repr_never_shows_tokens(any_db):
    company = Company(
        name="x", access_token_enc="ciphertext-abc", refresh_token_enc="ciphertext-def"
    )
    assert "ciphertext" not in repr(company)


def test_cost_code_label_names_code_and_name_once(any_db):
    project = make_project(any_db)
    company = any_db.get(Company, project.company_id)
    repeated = make_cost_code(any_db, company, code="06-200", name="06-200 Finish Carpentry")
    assert repeated.label == "06-200 Finish Carpentry"
    plain = make_cost_code(any_db, company, code="06-300", name="Trim")
    assert plain.label == "06-300 Trim"
    same = make_cost_code(any_db, company, code="Concrete", name="Concrete")
    assert same.label == "Concrete"
