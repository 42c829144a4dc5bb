"""QBO's sample Fault bodies become the right typed errors; money is read and written exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import NeedsAdmin
from core.errors import Rejected
from core.errors import TryLater
from core.qbo.client import dumps
from core.qbo.client import loads
from core.qbo.errors import AuthenticationFailed
from core.qbo.errors import DuplicateName
from core.qbo.errors import InvalidReference
from core.qbo.errors import ServerError
from core.qbo.errors import StaleObject
from core.qbo.errors import Throttled
from core.qbo.errors import ValidationFault
from core.qbo.errors import error_from_response
from costbridge_testing.shared import samples_dir

SAMPLES = samples_dir()
pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="QBO samples folder not mounted")


def sample(name: str) -> object:
    return loads((SAMPLES / name).read_bytes())


@pytest.mark.parametrize(
    ("name", "status", "kind", "family"),
    [
        ("fault.stale-synctoken.json", 400, StaleObject, Rejected),
        ("fault.duplicate-name.json", 400, DuplicateName, Rejected),
        ("fault.object-not-found.json", 400, InvalidReference, Rejected),
        ("fault.validation.json", 400, ValidationFault, Rejected),
        ("fault.business-validation.json", 400, ValidationFault, Rejected),
        ("fault.auth.json", 401, AuthenticationFailed, NeedsAdmin),
        ("fault.auth.gateway-variant.json", 401, AuthenticationFailed, NeedsAdmin),
        ("throttle.429.body.json", 429, Throttled, TryLater),
    ],
)
def test_sample_faults_map_to_typed_errors(
    name: str, status: int, kind: type, family: type
) -> None:
    err = error_from_response(status, sample(name), intuit_tid="1-abc")
    assert type(err) is kind
    assert isinstance(err, family)
    assert err.code
    assert err.intuit_tid == "1-abc"
    assert err.message
    assert err.fix


def test_an_auth_fault_does_not_carry_the_quoted_token_start() -> None:
    err = error_from_response(401, sample("fault.auth.json"))
    assert "AB11" not in f"{err} {err!r} {err.detail} {err.qbo_detail}"
    assert "Token expired" in err.qbo_detail


def test_a_fault_inside_a_200_is_still_a_fault() -> None:
    assert isinstance(error_from_response(200, sample("fault.stale-synctoken.json")), StaleObject)


def test_a_non_json_5xx_is_a_server_error() -> None:
    assert isinstance(error_from_response(502, None), ServerError)


def test_sample_records_parse_with_decimal_money_never_float() -> None:
    bill = sample("bill.read.response.json")["Bill"]  # type: ignore[index]
    assert bill["TotalAmt"] == Decimal("1730.0")
    assert isinstance(bill["Line"][0]["Amount"], Decimal)
    time = sample("timeactivity.response.json")["TimeActivity"]  # type: ignore[index]
    assert time["CostRate"] == Decimal("38.5")


def test_decimals_are_written_as_plain_numbers() -> None:
    text = dumps({"Amount": Decimal("1250.10"), "Qty": Decimal("1E+2"), "Name": "x"})
    assert text == '{"Amount": 1250.10, "Qty": 100, "Name": "x"}'
    assert loads(text)["Amount"] == Decimal("1250.10")
