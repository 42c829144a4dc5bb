"""`make demo`: the QBO sandbox, the web app on SQLite and a worker, connected and pulled.

Starts the sandbox with its demo company, the web app and a worker as child processes (Redis at
`REDIS_URL`; if none answers, a private `redis-server` when one is installed), makes a demo
admin, connects the demo company through the real OAuth flow (sign-in, consent page, callback),
links a project to a QBO sub-customer, queues its pull and waits for the worker to finish it.
Then it prints `URL:`, `Email:` and `Password:` lines and waits; Ctrl-C stops everything it
started. The sandbox keeps its data in memory, so each run starts from a fresh demo database.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from redis import Redis
from redis.exceptions import RedisError

DEMO_EMAIL = "admin@demo.costbridge.example"
DEMO_COMPANY = "Ridgeline Builders (demo)"
DEMO_PROJECT = "Kitchen Addition"
DEMO_CUSTOMER = "Maple Street Remodel:Kitchen Addition"


def say(words: str) -> None:
    """One line on stdout, at once (the Makefile shows it as it comes)."""
    sys.stdout.write(words + "\n")
    sys.stdout.flush()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"demo: {url} did not answer within {seconds:.0f} s")


class Demo:
    """The processes the demo started, stopped in reverse order."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Remember the options; nothing starts yet."""
        self.args = args
        self.children: list[subprocess.Popen[bytes]] = []
        self.env = dict(os.environ)

    def spawn(self, *argv: str) -> subprocess.Popen[bytes]:
        """Start one child in its own process group (so Ctrl-C reaches only us first)."""
        proc = subprocess.Popen(argv, env=self.env, start_new_session=True)  # noqa: S603
        self.children.append(proc)
        return proc

    def stop(self) -> None:
        """Stop every child this demo started, by its own pid."""
        for proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self.children):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def redis_url(self) -> str:
        """A Redis that answers: REDIS_URL's, else a private redis-server started here."""
        url = self.env.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
        try:
            Redis.from_url(url, socket_connect_timeout=1).ping()
            return url
        except RedisError:
            pass
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit(
                f"demo: no Redis answers at {url}; install one (apt-get install redis-server, "
                "brew install redis) or set REDIS_URL to a running Redis."
            )
        port = _free_port()
        self.spawn(
            server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"
        )
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(50):
            try:
                Redis.from_url(url).ping()
                return url
            except RedisError:
                time.sleep(0.1)
        raise SystemExit("demo: the redis-server it started did not answer")

    def run(self) -> None:
        """Everything up to the printed credentials."""
        args = self.args
        instance = Path(args.instance).resolve()
        instance.mkdir(parents=True, exist_ok=True)
        (instance / "costbridge.db").unlink(missing_ok=True)
        base = f"http://{args.host}:{args.port}"
        sandbox = f"http://127.0.0.1:{args.sandbox_port}"
        self.env.update(
            COSTBRIDGE_INSTANCE=str(instance),
            QBO_API_BASE=sandbox,
            QBO_REDIRECT_URI=f"{base}/qbo/callback",
        )
        self.env.pop("DATABASE_URL", None)  # the embedded SQLite database in the instance
        self.env["REDIS_URL"] = self.redis_url()
        os.environ.update(self.env)
        os.environ.pop("DATABASE_URL", None)

        from core import migrate
        from core.config import Settings
        from core.runtime import Runtime

        settings = Settings.from_env()
        migrate.upgrade(settings.database_url)
        exe = str(Path(sys.executable).with_name("costbridge"))
        self.spawn(
            exe,
            "sandbox",
            "--port",
            str(args.sandbox_port),
            "--seed",
            "demo",
            "--redirect-uri",
            f"{base}/qbo/callback",
        )
        self.spawn(exe, "web", "--host", args.host, "--port", str(args.port))
        # A name of its own each run: a worker of an earlier run killed mid-job stays registered
        # in Redis for minutes, and RQ refuses a second live worker of the same name.
        self.spawn(exe, "worker", "--name", f"demo-worker-{os.getpid()}")
        _wait_http(f"{sandbox}/.well-known/openid_sandbox_configuration")
        _wait_http(f"{base}/healthz")

        rt = Runtime.build(settings)
        try:
            password = self.prepare(rt, base)
        finally:
            rt.close()
        say(f"URL: {base}/admin/")
        say(f"Email: {DEMO_EMAIL}")
        say(f"Password: {password}")
        say("demo: Ctrl-C stops the web app, the worker, the sandbox and anything else it started.")

    def prepare(self, rt: Any, base: str) -> str:
        """Admin, company, OAuth connect, linked project, pulled actuals; returns the password."""
        from core.users import create_user

        password = secrets.token_urlsafe(12)
        with rt.sessions() as session:
            create_user(session, DEMO_EMAIL, password, "admin")
            from core.projects import create_company

            company = create_company(session, DEMO_COMPANY)
            session.commit()
            company_id = company.id
        self.connect(base, company_id, password)
        self.import_catalog(rt, company_id)
        project_id = self.link(rt, company_id)
        self.pull(rt, company_id, project_id)
        self.budget(rt, project_id)
        return password

    def import_catalog(self, rt: Any, company_id: int) -> None:
        """Company Settings - Cost codes: QBO Products & Services, vendors and employees."""
        from core.catalog_import import import_cost_codes
        from core.catalog_import import import_employees
        from core.catalog_import import import_vendors
        from core.qbo import client_for

        with rt.sessions() as session:
            from core.models import Company

            company = session.get(Company, company_id)
            assert company is not None
            client = client_for(rt, company.realm_id)
            codes = import_cost_codes(session, client, company_id)
            import_vendors(session, client, company_id)
            import_employees(session, client, company_id)
            session.commit()
        say(f"demo: {codes.added} cost codes imported from QuickBooks Products & Services.")

    def budget(self, rt: Any, project_id: int) -> None:
        """Demo budget amounts: each cost code with costs gets a round budget near them."""
        from decimal import Decimal

        from core.models import BudgetLine
        from core.models import Project
        from core.sync.reports import budget

        with rt.sessions() as session:
            project = session.get(Project, project_id)
            assert project is not None
            for n, row in enumerate(budget(session, project).lines):
                if row.cost_code_id is None or not row.actual:
                    continue
                factor = Decimal("0.8") if n % 4 == 0 else Decimal("1.25")
                amount = (row.actual * factor / 500).quantize(Decimal(1)) * 500 + 500
                session.add(
                    BudgetLine(
                        project_id=project_id, cost_code_id=row.cost_code_id, budget_amount=amount
                    )
                )
            session.commit()

    def connect(self, base: str, company_id: int, password: str) -> None:
        """Sign in and walk Connect to QuickBooks exactly as a browser does."""
        import re

        browser = requests.Session()
        page = browser.get(f"{base}/signin", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, "the sign-in form carries a CSRF token"
        browser.post(
            f"{base}/signin",
            data={"csrf_token": token.group(1), "email": DEMO_EMAIL, "password": password},
            timeout=10,
        )
        # Connecting is a POST with the company page's CSRF token, as the button sends it.
        page = browser.get(f"{base}/qbo/company/{company_id}", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, "the company page carries the Connect button's CSRF token"
        done = browser.post(
            f"{base}/qbo/connect/{company_id}", data={"csrf_token": token.group(1)}, timeout=60
        )
        if "m=connected" not in done.url:
            raise SystemExit(f"demo: connecting to the sandbox failed ({done.status_code}).")
        say("demo: connected to the QuickBooks sandbox through its consent page.")

    def link(self, rt: Any, company_id: int) -> int:
        """A project linked to the demo's Kitchen Addition sub-customer."""
        from core.models import Company
        from core.projects import create_project
        from core.projects import customer_choices
        from core.projects import link_project
        from core.projects import resolve_customer
        from core.projects import update_settings
        from core.qbo import client_for
        from core.sync.attachments import settings_pulling_files

        with rt.sessions() as session:
            company = session.get(Company, company_id)
            assert company is not None
            project = create_project(session, rt.pm, company, DEMO_PROJECT, number="D-101")
            choice = resolve_customer(
                customer_choices(client_for(rt, company.realm_id)), DEMO_CUSTOMER
            )
            link_project(session, rt.pm, project, choice)
            # The bills' files come along, so the budget pop-up shows its paperclips.
            problems = update_settings(
                session, rt.pm, project, settings_pulling_files(rt.pm, project), changed_by="demo"
            )
            if problems:
                raise SystemExit(f"demo: {problems[0].message} {problems[0].fix}")
            session.commit()
            say(f"demo: project “{project.name}” linked to {choice.full_name}.")
            return project.id

    def pull(self, rt: Any, company_id: int, project_id: int) -> None:
        """Queue Sync Expenses and wait for the worker to finish it."""
        from sqlalchemy import select

        from core.models import RunState
        from core.models import SyncRun
        from core.sync.jobs import request_pull

        run_id = request_pull(rt, company_id, trigger="demo", project_id=project_id)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with rt.sessions() as session:
                if run_id is None:
                    # A pull of the company was already waiting: wait for that one.
                    run_id = session.scalar(
                        select(SyncRun.id)
                        .where(SyncRun.company_id == company_id, SyncRun.kind == "pull")
                        .order_by(SyncRun.id.desc())
                        .limit(1)
                    )
                run = session.get(SyncRun, run_id) if run_id is not None else None
                if run is not None and run.state not in (RunState.QUEUED, RunState.RUNNING):
                    say(f"demo: pull {run.state.value}: {run.message}")
                    return
            time.sleep(0.5)
        say("demo: the pull is still running; the budget fills as it completes.")


def main(argv: list[str] | None = None) -> None:
    """Run the demo until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m core.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--sandbox-port", type=int, default=8765)
    parser.add_argument("--instance", default="instance/demo")
    args = parser.parse_args(argv)
    demo = Demo(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        demo.run()
        while all(p.poll() is None for p in demo.children):
            time.sleep(0.5)
        say("demo: a process stopped; stopping the rest.")
    except KeyboardInterrupt:
        say("demo: stopping.")
    finally:
        demo.stop()


if __name__ == "__main__":
    main()
