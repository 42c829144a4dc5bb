"""The read API on the demo company: the same totals as `costbridge budget --format json`.

The demo is seeded in the sandbox, its cost codes imported and a project pulled through the CLI,
as a user would; the token is made with `costbridge api-tokens create`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest
from click.testing import CliRunner

from core.cli import main
from costbridge_testing.sandbox import connect_company
from costbridge_testing.services import web_app
from tests.core.sync.test_reports import CUSTOMER
from tests.core.sync.test_reports import seed_demo


def run(rt, *args: str, stdin: str | None = None):
    result = CliRunner().invoke(main, list(args), obj=rt, input=stdin)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def demo_hint(qbo_sandbox) -> str:
    return seed_demo(qbo_sandbox.url)


@pytest.fixture
def pulled(qbo_runtime, company, sandbox_control, demo_hint) -> int:
    """The demo company connected, its cost codes imported, a project pulled: its id."""
    connect_company(qbo_runtime.settings, qbo_runtime.sessions, company.id, realm_hint=demo_hint)
    run(qbo_runtime, "cost-codes", "import", "--company", str(company.id))
    made = json.loads(
        run(
            qbo_runtime,
            "projects",
            "create",
            "--company",
            str(company.id),
            "--name",
            "Kitchen",
            "--customer",
            CUSTOMER,
            "--json",
        ).stdout
    )
    pulled = json.loads(
        run(qbo_runtime, "sync", "pull", "--project", str(made["id"]), "--json").stdout
    )
    assert pulled["state"] == "succeeded"
    return int(made["id"])


def test_the_api_answers_the_cli_budget_to_the_cent_on_the_demo(qbo_runtime, pulled) -> None:
    cli = json.loads(
        run(qbo_runtime, "budget", "--project", str(pulled), "--format", "json").stdout
    )
    assert Decimal(cli["total_actual"]) > 0
    assert len(cli["lines"]) > 1  # coded lines besides Uncoded: the comparison covers codes
    run(
        qbo_runtime,
        "users",
        "create",
        "pm@example.com",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    token = run(
        qbo_runtime, "api-tokens", "create", "pm@example.com", "--name", "BI"
    ).stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    with web_app(qbo_runtime) as app:
        client = app.test_client()
        assert client.get(f"/api/v1/projects/{pulled}/budget", headers=auth).json == cli
        # Every counting line, page by page: they add up to the same totals per code and type.
        by_code: dict[str, Decimal] = defaultdict(Decimal)
        by_type: dict[str, Decimal] = defaultdict(Decimal)
        url = f"/api/v1/projects/{pulled}/actuals?limit=25"
        seen: set[int] = set()
        while url:
            body = client.get(url, headers=auth).json
            for line in body["lines"]:
                assert line["id"] not in seen
                seen.add(line["id"])
                by_code[line["cost_code"]] += Decimal(line["amount"])
                by_type[line["actual_type"]] += Decimal(line["amount"])
            cursor = body["next_cursor"]
            url = f"/api/v1/projects/{pulled}/actuals?limit=25&cursor={cursor}" if cursor else ""
        assert len(seen) == body["count"]
        assert sum(by_type.values()) == Decimal(cli["total_actual"])
        assert {k: str(v) for k, v in by_type.items()} == cli["totals_by_type"]
        assert {code: str(amount) for code, amount in by_code.items()} == {
            row["code"]: row["actual"] for row in cli["lines"] if Decimal(row["actual"])
        }
        # Revoked with the CLI: the same token is refused at once.
        token_id = json.loads(run(qbo_runtime, "api-tokens", "list", "--json").stdout)[0]["id"]
        run(qbo_runtime, "api-tokens", "revoke", str(token_id))
        refused = client.get(f"/api/v1/projects/{pulled}/budget", headers=auth)
        assert refused.status_code == 401
        assert refused.json["error"]["message"] == "This API token was revoked."
