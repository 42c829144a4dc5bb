"""Every form of the console, found by crawling it, posted random values as each role: no 5xx.

For admin, support and viewer the test walks the console from `/admin/` (every link on this
site under `/admin/`), reads each page's `<form>` elements (action, method, enctype, and the
names of their inputs, selects and textareas), and then lets Hypothesis post to each form with
a valid CSRF token and, in every field, one of: what the page had there, long text, unicode,
NaN, infinities, exponents, numbers with many decimals, negative, empty or huge. A form added
later is found the same way, with nothing to list here. Any answer of 500 or more, or any
exception out of a view (the test app propagates them), fails the test with the form and the
values. Derandomized (a failure replays) and bounded in examples and time.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from core.models import Company
from core.models import ConnectionStatus
from core.models import Employee
from core.models import Invoice
from core.models import InvoiceLine
from core.models import Role
from core.models import TimeEntry
from core.runtime import Runtime
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in
from costbridge_testing.sandbox import sandbox_settings
from costbridge_testing.services import web_app
from tests.factories import make_bill
from tests.factories import make_cost_code
from tests.factories import make_project

#: Pages a role's crawl reads at most, and the whole test's time budget in seconds.
MAX_PAGES = 300
BUDGET = 50.0
#: Examples per form and role at least (viewers are refused every post at the gate: fewer),
#: and at most.
EXAMPLES = {Role.ADMIN: 8, Role.SUPPORT: 8, Role.VIEWER: 2}
MOST_EXAMPLES = 40
#: Posts that end the crawl's own session or leave the console are not fuzzed.
SKIP_ACTIONS = ("/signout",)
pytestmark = pytest.mark.filterwarnings("ignore:fully NULL primary key:sqlalchemy.exc.SAWarning")

HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "-50",
    "(50)",
    "NaN",
    "nan",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1e400",
    "1E-400",
    "10.005",
    "1.23456",
    "0.000000001",
    "99999999999999999999",
    "9" * 40,
    "1,000,000,000,000.00",
    "$12.50",
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "a.b",
    "../../x",
    "//evil.example/",
    "http://evil.example/",
    "\x00",
    "ü" * 300,
    "💥" * 100,
    "x" * 3000,
    "x" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "true",
    "on",
]


@dataclass
class Form:
    """One `<form>` as a page shows it."""

    page: str
    action: str
    method: str
    multipart: bool
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        """Forms that differ only in their values are one form."""
        return (self.method, urlsplit(self.action).path, tuple(sorted(self.fields)))


class _Page(HTMLParser):
    """The links and forms of one HTML page."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.url, a["href"]))
        elif tag == "form":
            self._form = Form(
                page=self.url,
                action=urljoin(self.url, a.get("action") or self.url),
                method=(a.get("method") or "get").upper(),
                multipart="multipart" in a.get("enctype", ""),
            )
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                self._form.files.append(a["name"])
            elif kind not in ("submit", "button", "reset", "image"):
                values = self._form.fields.setdefault(a["name"], [])
                if kind not in ("checkbox", "radio") or "checked" in a:
                    values.append(a.get("value", ""))
        elif tag == "select":
            self._select = a["name"]
            self._form.fields.setdefault(a["name"], [])
        elif tag == "option" and self._select is not None:
            self._form.fields[self._select].append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.fields.setdefault(a["name"], [])
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._form.fields.setdefault(a["name"], []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            self._form.fields[self._textarea].append(data)


def _local(url: str) -> str | None:
    """The path and query of a console URL on this site; None for anything else."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/admin/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _shape(url: str) -> tuple[str, tuple[str, ...]]:
    """Pages that differ only in their query's values (a sort, a page) are crawled once."""
    parts = urlsplit(url)
    names = tuple(sorted({p.split("=", 1)[0] for p in parts.query.split("&") if p}))
    return parts.path, names


def seeds(app: Flask) -> list[str]:
    """Where the crawl starts: `/admin/`, then every console page whose URL takes no part.

    Some pages have no link to them (Bills, Invoices and Time are in no menu), so links alone
    would miss their forms; the app's own URL map names them.
    """
    rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and rule.rule.startswith("/admin/")
        and "<" not in rule.rule
    }
    return ["/admin/", *sorted(rules - {"/admin/"})]


def crawl(client: FlaskClient, start: list[str]) -> tuple[list[Form], int]:
    """Every distinct form reachable from `start` by links; and how many pages were read.

    A page that needs a project (Bills, Invoices, Time answer 404 without one) is read again
    with each `project_id` the crawl has seen in a link.
    """
    queue: deque[str] = deque(start)
    seen_shapes: set[tuple[str, tuple[str, ...]]] = set()
    projects: set[str] = set()
    wanting: list[str] = []
    forms: dict[tuple[str, str, tuple[str, ...]], Form] = {}
    pages = 0
    while (queue or wanting) and pages < MAX_PAGES:
        if not queue:
            queue.extend(f"{url}?project_id={p}" for url in wanting for p in sorted(projects))
            wanting = []
            continue
        url = queue.popleft()
        if _shape(url) in seen_shapes:
            continue
        seen_shapes.add(_shape(url))
        projects.update(parse_qs(urlsplit(url).query).get("project_id", []))
        resp = client.get(url)
        assert resp.status_code < 500, f"GET {url} answered {resp.status_code}"
        pages += 1
        if resp.status_code == 404 and "?" not in url:
            wanting.append(url)
        if resp.status_code != 200 or not resp.mimetype.startswith("text/html"):
            continue
        page = _Page(f"http://localhost{url}")
        page.feed(resp.get_data(as_text=True))
        for link in page.links:
            target = _local(link)
            if target is not None and _shape(target) not in seen_shapes:
                queue.append(target)
        for form in page.forms:
            form.action = _local(form.action) or form.action
            forms.setdefault(form.key, form)
    return list(forms.values()), pages


def _value(original: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(original) if original else st.just(""),
        st.sampled_from(HOSTILE),
        st.text(max_size=40),
        st.decimals(allow_nan=True, allow_infinity=True, places=None).map(str),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
    )


def _baseline(name: str, originals: list[str]) -> str:
    """A value the form would plausibly take, so a mutated field gets past the others' checks."""
    given = [v for v in originals if v]
    if given:
        return given[0]
    low = name.lower()
    if "date" in low:
        return "2026-04-01"
    if any(word in low for word in NUMERIC):
        return "10"
    return ""


#: Field names that take a number (a blank one gets `10` in the baseline).
NUMERIC = ("amount", "hours", "markup", "percent", "budget", "rate", "quantity", "qty")


def _payload(form: Form, token: str) -> st.SearchStrategy[dict[str, Any]]:
    """A plausible filling of `form` with one to three fields replaced by hostile values."""
    names = [n for n in form.fields if n != "csrf_token"]
    base = {n: _baseline(n, form.fields[n]) for n in names}

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        data: dict[str, Any] = {"csrf_token": token, **base}
        if names:
            most = min(3, len(names))
            for name in draw(st.sets(st.sampled_from(names), min_size=1, max_size=most)):
                data[name] = draw(_value(form.fields[name]))
        for name in form.files:
            content = draw(st.binary(max_size=64))
            file_name = draw(st.sampled_from(["a.pdf", "../x.txt", "ü.png", "", "x" * 300]))
            data[name] = (io.BytesIO(content), file_name)
        return data

    return build()


def _examples(form: Form, role: Role) -> int:
    """More examples for bigger forms (each field should be hit a few times), within bounds."""
    if role == Role.VIEWER:
        return EXAMPLES[role]
    return min(MOST_EXAMPLES, max(EXAMPLES[role], 2 * len(form.fields)))


def _post(client: FlaskClient, form: Form, data: dict[str, Any]) -> int:
    url = form.action
    if form.method == "GET":
        # A browser sends a GET form's fields as the whole query, replacing the action's.
        query = {k: v for k, v in data.items() if isinstance(v, str) and k != "csrf_token"}
        return client.get(urlsplit(url).path, query_string=query).status_code
    kind = "multipart/form-data" if form.multipart or form.files else None
    return client.post(url, data=data, content_type=kind).status_code


def _fuzz(client: FlaskClient, form: Form, token: str, role: Role) -> None:
    """Post `EXAMPLES[role]` payloads to `form`; fail on any 5xx or escaped exception."""

    @hsettings(
        max_examples=_examples(form, role),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=_payload(form, token))
    def post(data: dict[str, Any]) -> None:
        status = _post(client, form, data)
        shown = {k: (v if isinstance(v, str) else "<file>") for k, v in data.items()}
        assert status < 500, f"{form.method} {form.action} as {role.value}: {shown}"

    post()


@pytest.fixture
def fuzz_runtime(runtime: Runtime, committed_db: Session, qbo_sandbox: Any) -> Runtime:
    """A world with a row behind every page, and QuickBooks at the local sandbox."""
    company = Company(
        name="Ridgeline", realm_id="9341452188453921", connection_status=ConnectionStatus.CONNECTED
    )
    committed_db.add(company)
    committed_db.flush()
    project = make_project(committed_db, company, linked=True)
    code = make_cost_code(committed_db, company, code="01-100", name="General Conditions")
    bill = make_bill(committed_db, project)
    employee = Employee(company_id=company.id, name="Dana Ruiz")
    committed_db.add(employee)
    committed_db.flush()
    committed_db.add_all(
        [
            TimeEntry(
                project_id=project.id,
                employee_id=employee.id,
                work_date=dt.date(2026, 4, 1),
                hours=Decimal("7.50"),
                cost_code_id=code.id,
            ),
            Invoice(
                project_id=project.id,
                invoice_date=dt.date(2026, 4, 1),
                lines=[InvoiceLine(position=0, amount=Decimal("10.00"))],
            ),
        ]
    )
    assert bill.id
    committed_db.commit()
    return Runtime(
        settings=sandbox_settings(runtime.settings, qbo_sandbox.url),
        engine=runtime.engine,
        pm=runtime.pm,
    )


@pytest.fixture
def fuzz_app(fuzz_runtime: Runtime) -> Iterator[Flask]:
    with web_app(fuzz_runtime) as app:
        yield app


def _token(client: FlaskClient) -> str:
    page = client.get("/admin/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "the console's home page carries no CSRF token"
    return found.group(1)


def test_every_console_form_takes_random_values_without_5xx_as_each_role(
    fuzz_app: Flask, fuzz_runtime: Runtime, redis_conn: Any
) -> None:
    started = time.monotonic()
    found: dict[Role, int] = {}
    posted = 0
    for role in (Role.ADMIN, Role.SUPPORT, Role.VIEWER):
        uid = add_user(fuzz_runtime.sessions, f"fuzz-{role.value}@example.com", role)
        client = sign_in(fuzz_app.test_client(), fuzz_runtime.sessions, uid)
        forms, pages = crawl(client, seeds(fuzz_app))
        found[role] = len(forms)
        token = _token(client)
        # Deleting forms last, so the others still find their rows.
        forms.sort(key=lambda f: "delete" in f.action)
        for form in forms:
            if urlsplit(form.action).path.endswith(SKIP_ACTIONS):
                continue
            if time.monotonic() - started > BUDGET:
                pytest.fail(f"the fuzz ran past its {BUDGET:.0f} s budget at {form.action}")

            _fuzz(client, form, token, role)
            posted += _examples(form, role)
        assert pages > 5, f"the crawl as {role.value} read only {pages} page(s)"
    # The crawl found the console's forms: model forms, documents, the queue, settings.
    assert found[Role.ADMIN] >= 20, found
    assert found[Role.ADMIN] > found[Role.VIEWER], found
    assert posted > 100
