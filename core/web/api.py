"""The read API, `/api/v1`: projects, a project's budget and its actual lines, as JSON or CSV.

- **Who**: only a per-user API token sent as `Authorization: Bearer TOKEN` (`core.api_tokens`).
  No cookie is read and none is set: the API opens no session (`SessionlessApi`), so a page
  elsewhere cannot make a signed-in browser call it, and it needs no CSRF token. Refusals are
  401 with `WWW-Authenticate: Bearer` (RFC 6750); a token whose scope is not "read" is 403.
- **What**: the same figures as the console and `costbridge budget --format json`: the budget is
  `core.sync.reports.budget`, served as it is; lists come from `core.listing`, only of the
  companies `core.scope.visible_company_ids` allows. A project the user may not see is 404, as
  one that does not exist.
- **How**: JSON unless `?format=csv` or an `Accept` header that prefers `text/csv`. Money is a
  string with two decimals. Lists are paged by an opaque `cursor` (`next_cursor`; in CSV the
  `Link` and `X-Next-Cursor` headers), at most `core.listing.MAX_LIMIT` rows a page.
- **Where**: the hosts the console answers on. Not on `COSTBRIDGE_PUBLIC_HOSTS`, which serve only
  what Intuit must reach: a reverse proxy would otherwise open budgets to the internet by adding
  a webhook host.
- Every error is JSON: `{"error": {"status", "code", "message", "fix"}}`. No rate limit: a token
  reads what its user could read in the console; put one in the reverse proxy if needed.

`GET /api/v1/openapi.json` describes all of it (`core.web.openapi`) and needs no token.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint
from flask import Flask
from flask import Request
from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from flask import url_for
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from core.api_tokens import READ
from core.api_tokens import TokenRefused
from core.api_tokens import check_token
from core.listing import ACTUAL_FIELDS
from core.listing import BadQuery
from core.listing import actual_json
from core.listing import actuals_page
from core.listing import parse_actual_filters
from core.listing import parse_limit
from core.listing import project_json
from core.listing import projects_page
from core.listing import visible_project
from core.sync.reports import BudgetReport
from core.sync.reports import budget

__all__ = ["PREFIX", "SessionlessApi", "init_api", "make_api_blueprint"]

PREFIX = "/api/v1"
REALM = 'Bearer realm="costbridge"'
PROJECT_FIELDS = (
    "id",
    "name",
    "number",
    "company_id",
    "company_name",
    "currency",
    "linked",
    "qbo_customer_id",
    "qbo_customer_name",
)


def _is_api(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class SessionlessApi(SecureCookieSessionInterface):
    """Flask's cookie sessions, except on the API: there every request gets a null session.

    A null session reads no cookie and writes none (not even the refresh of a permanent one), so
    a browser's console cookie is worth nothing on the API and no API call starts a session.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """No session under `/api/v1`; the console's cookie session elsewhere."""
        if _is_api(request.path):
            return self.make_null_session(app)
        return super().open_session(app, request)


def error(status: int, code: str, message: str, fix: str = "") -> Response:
    """A JSON error response."""
    response = jsonify({"error": {"status": status, "code": code, "message": message, "fix": fix}})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(exc: TokenRefused) -> Response:
    response = error(401, exc.code or "unauthorized", exc.message, exc.fix)
    challenge = REALM
    if exc.code:
        challenge += f', error="{exc.code}", error_description="{exc.message}"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def _session() -> Session:
    session: Session = current_app.extensions["costbridge"].sessions()
    g.cb_api_session = session
    return session


def _authenticate() -> Response | None:
    """`before_request`: the bearer token's user in `g.cb_api_user`, or the refusal."""
    if request.endpoint in (None, "api_v1.openapi", "api_v1.unknown"):
        return None
    try:
        user = check_token(_session(), request.headers.get("Authorization"))
    except TokenRefused as exc:
        return _refused(exc)
    if user.scope != READ:
        response = error(
            403,
            "insufficient_scope",
            f"This token's scope is “{user.scope}”; the API needs “{READ}”.",
            "Make a new token.",
        )
        response.headers["WWW-Authenticate"] = f'{REALM}, error="insufficient_scope", scope="read"'
        return response
    g.cb_api_user = user
    return None


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("cb_api_session", None)
    if session is not None:
        session.close()


def _wants_csv() -> bool | Response:
    """Whether to answer in CSV; a response when the format asked for is neither."""
    fmt = request.args.get("format")
    if fmt is not None:
        if fmt.lower() in ("csv", "json"):
            return fmt.lower() == "csv"
        return error(
            400,
            "bad_parameter",
            f"format “{fmt[:40]}” is neither json nor csv.",
            "Ask for format=json or format=csv.",
        )
    if not request.accept_mimetypes:
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    if best is None:
        return error(
            406,
            "not_acceptable",
            "The API answers in application/json or text/csv only.",
            "Accept one of them, or pass format=json or format=csv.",
        )
    return best == "text/csv"


def _bad(exc: BadQuery) -> Response:
    return error(400, "bad_parameter", exc.message, exc.fix)


def _csv(
    header: Sequence[str], rows: Iterable[Sequence[Any]], name: str, next_url: str | None
) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _csv_cell(v) for v in row])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    if next_url is not None:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


def _csv_cell(value: Any) -> str:
    """A cell's text; one a spreadsheet would run as a formula gets a leading apostrophe.

    Amounts are never touched: a negative amount is a number, not a formula.
    """
    text = "true" if value is True else "false" if value is False else str(value)
    if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _next_url(endpoint: str, cursor: str | None, **values: Any) -> str | None:
    if cursor is None:
        return None
    args = request.args.to_dict(flat=False)
    args["cursor"] = [cursor]
    return url_for(endpoint, **values) + "?" + urlencode(args, doseq=True)


def _project_or_404(session: Session, project_id: int) -> Any:
    project = visible_project(session, g.cb_api_user.user_id, project_id)
    if project is None:
        return None, error(
            404,
            "not_found",
            f"There is no project {project_id} you may read.",
            "List the projects you may read at /api/v1/projects.",
        )
    return project, None


def budget_csv_rows(report: BudgetReport) -> list[list[Any]]:
    """The budget as `costbridge budget --format csv` writes it (lines, then a TOTAL row)."""
    rows: list[list[Any]] = [
        [row.code, row.name, row.budgeted, row.actual, row.variance] for row in report.lines
    ]
    rows.append(["TOTAL", "", report.total_budget, report.total_actual, report.total_variance])
    return rows


def make_api_blueprint() -> Blueprint:
    """A new `api_v1` blueprint with the read API and its OpenAPI document."""
    bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)
    bp.before_request(_authenticate)
    bp.teardown_request(_close_session)

    @bp.after_request
    def _no_store(response: Response) -> Response:
        # Budgets are not for shared caches; the OpenAPI document may be cached.
        if request.endpoint != "api_v1.openapi":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @bp.get("/openapi.json")
    def openapi() -> Response:
        from core.web.openapi import document

        return jsonify(document())

    @bp.get("/projects")
    def projects() -> Response:
        as_csv = _wants_csv()
        if isinstance(as_csv, Response):
            return as_csv
        try:
            limit = parse_limit(request.args.get("limit"))
            page = projects_page(
                g.cb_api_session,
                g.cb_api_user.user_id,
                cursor=request.args.get("cursor"),
                limit=limit,
            )
        except BadQuery as exc:
            return _bad(exc)
        rows = [project_json(p) for p in page.projects]
        if as_csv:
            response = _csv(
                PROJECT_FIELDS,
                ([row[f] for f in PROJECT_FIELDS] for row in rows),
                "projects",
                _next_url("api_v1.projects", page.next_cursor),
            )
            if page.next_cursor:
                response.headers["X-Next-Cursor"] = page.next_cursor
            return response
        return jsonify({"projects": rows, "next_cursor": page.next_cursor})

    @bp.get("/projects/<id:project_id>/budget")
    def project_budget(project_id: int) -> Response:
        as_csv = _wants_csv()
        if isinstance(as_csv, Response):
            return as_csv
        session = g.cb_api_session
        project, missing = _project_or_404(session, project_id)
        if missing is not None:
            return missing  # type: ignore[no-any-return]
        report = budget(session, project)
        if as_csv:
            return _csv(
                ["code", "name", "budgeted", "actual", "variance"],
                budget_csv_rows(report),
                f"project-{project.id}-budget",
                None,
            )
        return jsonify(report.as_json())

    @bp.get("/projects/<id:project_id>/actuals")
    def project_actuals(project_id: int) -> Response:
        as_csv = _wants_csv()
        if isinstance(as_csv, Response):
            return as_csv
        session = g.cb_api_session
        project, missing = _project_or_404(session, project_id)
        if missing is not None:
            return missing  # type: ignore[no-any-return]
        args = request.args
        try:
            filters = parse_actual_filters(
                args.getlist("cost_code"),
                args.getlist("type"),
                args.get("from"),
                args.get("to"),
                args.get("excluded"),
            )
            page = actuals_page(
                session,
                project,
                filters,
                cursor=args.get("cursor"),
                limit=parse_limit(args.get("limit")),
                known_types=list(current_app.extensions["costbridge"].pm.actual_types()),
            )
        except BadQuery as exc:
            return _bad(exc)
        lines = [actual_json(line, page.codes) for line in page.lines]
        if as_csv:
            response = _csv(
                ACTUAL_FIELDS,
                ([line[f] for f in ACTUAL_FIELDS] for line in lines),
                f"project-{project.id}-actuals",
                _next_url("api_v1.project_actuals", page.next_cursor, project_id=project.id),
            )
            response.headers["X-Total-Count"] = str(page.count)
            response.headers["X-Total-Amount"] = str(page.total)
            if page.next_cursor:
                response.headers["X-Next-Cursor"] = page.next_cursor
            return response
        return jsonify(
            {
                "project_id": project.id,
                "filters": filters.as_json(),
                "count": page.count,
                "total_amount": str(page.total),
                "lines": lines,
                "next_cursor": page.next_cursor,
            }
        )

    @bp.route("/", defaults={"rest": ""})
    @bp.route("/<path:rest>")
    def unknown(rest: str) -> Response:
        del rest
        return error(
            404,
            "not_found",
            f"There is no {request.path} in the API.",
            "See /api/v1/openapi.json for what there is.",
        )

    return bp


def _http_error(exc: HTTPException) -> Any:
    """Errors under `/api/v1` are JSON (a wrong method, a bad id); elsewhere Flask's own."""
    if not _is_api(request.path):
        return exc
    return error(
        exc.code or 500,
        (exc.name or "error").lower().replace(" ", "_"),
        exc.description or exc.name or "The request failed.",
        "The API only reads: use GET." if exc.code == 405 else "",
    )


def init_api(app: Flask) -> Blueprint:
    """Register the read API on `app`, with its session rule and JSON errors."""
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = SessionlessApi()
    bp = make_api_blueprint()
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, _http_error)
    return bp
