"""Who may use the console: sign-in, roles, and the one gate every request passes.

Anonymous requests reach only the sign-in page, static files, the OAuth callback (bound to the
session that started it by its `state`), the webhook (signed by Intuit) and the operator
endpoints (`/healthz`, `/readyz`, `/metrics`, which have rules of their own). Everything else
redirects to sign-in (GET) or answers 401.

Roles (RELIABILITY.md §2; DESIGN.md "Who uses it"): `viewer` reads; `support` also works the
queue (retry, cancel, Sync Expenses); `admin` does everything, including the QuickBooks
connection and settings. A viewer's POST is refused here whatever view it targets; each view
then checks its own action with `require`.

Sign-in attempts are counted in Redis before any password is checked, per account and address,
per address over all accounts, and per account over all addresses (`core.sign_in_limits` says
how and what each limit does); an e-mail or password longer than anyone's is refused unread.
While Redis does not answer, every sign-in is refused (fails closed): an outage must not allow
unlimited guessing.

Sessions are Flask's signed cookies. A session remembers the user's `session_epoch`: signing out
or changing the password raises it, which ends every other session of that user at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any
from typing import TypeVar
from typing import cast
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_admin import AdminIndexView
from flask_admin import BaseView
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.tools import iterdecode
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from admin.scope import ScopedModelView
from admin.scope import may_see
from admin.scope import row_company_id
from core import sign_in_limits
from core.models import Role
from core.models import User
from core.users import MAX_PASSWORD
from core.users import authenticate
from core.users import count_users
from core.users import end_sessions
from core.users import normalise_email
from core.web.ids import row_key

F = TypeVar("F", bound=Callable[..., Any])

#: Endpoints (or blueprint names) that answer without sign-in.
OPEN_ENDPOINTS = frozenset({"costbridge_auth.login", "static", "qbo_oauth.callback"})
# The read API (`api_v1`) checks its own bearer tokens and never reads the console's cookie.
OPEN_BLUEPRINTS = frozenset({"qbo_webhooks", "ops", "api_v1"})
#: POSTs a viewer may make too: signing out, and their own read-only API tokens.
ANY_ROLE_WRITES = frozenset({"costbridge_auth.logout", "api_tokens.create", "api_tokens.revoke"})
#: How long a session lives without a request (idle) and at most (absolute).
IDLE = dt.timedelta(hours=8)
ABSOLUTE = dt.timedelta(hours=24)
#: Attempts per account and address within `LOCK_WINDOW` that get a password check (the
#: other limits: `core.sign_in_limits`).
MAX_FAILURES = sign_in_limits.PAIR_LIMIT
LOCK_WINDOW = sign_in_limits.WINDOW
#: The longest e-mail address (RFC 5321's path limit) and password a sign-in reads.
MAX_EMAIL = 254
TOO_LONG = (
    f"That e-mail address or password is too long: an address has at most {MAX_EMAIL} "
    f"characters, a password at most {MAX_PASSWORD}."
)
#: Shown instead of checking a password while failed attempts cannot be counted.
SIGN_IN_PAUSED = (
    "Sign-in is paused: the server cannot reach its job store, so it cannot count failed "
    "attempts. Try again in a minute; if it lasts, ask whoever runs costbridge to check Redis."
)
log = logging.getLogger(__name__)
RANK = {Role.VIEWER: 0, Role.SUPPORT: 1, Role.ADMIN: 2}
#: Flask-Admin pages of one row, named by its `id` (`SecureModelView._handle_view`).
ROW_PAGES = frozenset({"details_view", "edit_view", "delete_view"})


@dataclass(frozen=True)
class SignedIn:
    """The user of the current request (a plain value; no ORM row outlives the request)."""

    id: int
    email: str
    role: Role

    def at_least(self, role: Role) -> bool:
        """Whether this user's role includes `role`'s rights."""
        return RANK[self.role] >= RANK[role]


def current_user() -> SignedIn | None:
    """The signed-in user of this request, or None (checked against the database once)."""
    if "cb_user" in g:
        return cast("SignedIn | None", g.cb_user)
    g.cb_user = _load_user()
    return cast("SignedIn | None", g.cb_user)


def _load_user() -> SignedIn | None:
    uid = session.get("uid")
    if not isinstance(uid, int):
        return None
    started = session.get("ust")
    if not isinstance(started, (int, float)) or time.time() - started > ABSOLUTE.total_seconds():
        session.clear()
        return None
    rt = current_app.extensions["costbridge"]
    with rt.sessions() as db:
        user = db.get(User, uid)
        if user is None or not user.active or user.session_epoch != session.get("uep"):
            session.clear()
            return None
        return SignedIn(user.id, user.email, user.role)


def actor() -> str:
    """Who a change made in the console is recorded as, in histories ("console:EMAIL")."""
    user = current_user()
    return f"console:{user.email}" if user else "console"


def has_role(role: Role) -> bool:
    """Whether the request's user holds `role` (or a higher one)."""
    user = current_user()
    return user is not None and user.at_least(role)


def require(role: Role) -> Callable[[F], F]:
    """Decorate a view method: 403 unless the signed-in user holds `role`."""

    def wrap(func: F) -> F:
        @wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not has_role(role):
                abort(403, f"This needs the {role.value} role.")
            return func(*args, **kwargs)

        return cast("F", inner)

    return wrap


def gate() -> Response | None:
    """`before_request`: sign-in for everything but the open endpoints; viewers never write."""
    if request.routing_exception is not None:
        return None  # Flask answers it (an untrusted Host's 400, a 404) before any view runs
    endpoint = request.endpoint or ""
    if endpoint in OPEN_ENDPOINTS or request.blueprint in OPEN_BLUEPRINTS:
        return None
    user = current_user()
    if user is None:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("costbridge_auth.login", next=request.full_path.rstrip("?")))
        abort(401, "Sign in first.")
    writes = request.method not in ("GET", "HEAD", "OPTIONS")
    if writes and endpoint not in ANY_ROLE_WRITES and not user.at_least(Role.SUPPORT):
        abort(403, "Your role may look, not change. Ask an admin.")
    return None


def may_manage_connection() -> bool:
    """`QBO_CONNECT_ALLOWED`: admins manage the QuickBooks connection; the callback is open.

    A company the user may not see is 404 (`admin.scope`), as everywhere in the console.
    """
    if request.endpoint == "qbo_oauth.callback":
        return True
    company_id = (request.view_args or {}).get("company_id")
    if current_user() is not None and company_id is not None:
        from admin.scope import require_company

        require_company(company_id)
    return has_role(Role.ADMIN)


def _safe_next(target: str | None) -> str:
    """Only a path on this site, so sign-in cannot redirect anywhere else (ASVS 3.7.2)."""
    if not target:
        return url_for("admin.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("admin.index")
    return target


def _sign_in_refusal(email: str) -> str | None:
    """Why this sign-in attempt is refused before its password is checked, or None.

    The attempt is counted first, then decided (`core.sign_in_limits.reserve`), so parallel
    guesses cannot all slip under the limit. When Redis cannot answer, attempts cannot be
    counted, so sign-in fails closed: no password is checked until they can be again
    (otherwise an outage would allow unlimited guessing). Signed-in sessions carry on.
    """
    try:
        decision = sign_in_limits.reserve(
            current_app.extensions["costbridge"].redis, email, request.remote_addr or ""
        )
    except sign_in_limits.Unavailable as exc:
        log.warning(
            "sign-in refused from %s: Redis does not answer, failures cannot be counted (%s)",
            request.remote_addr,
            exc,
        )
        return SIGN_IN_PAUSED
    return None if decision.allowed else decision.message


def _count_failure(email: str) -> None:
    try:
        sign_in_limits.failed(
            current_app.extensions["costbridge"].redis, email, request.remote_addr or ""
        )
    except sign_in_limits.Unavailable as exc:
        # The next attempt finds Redis down too and is refused (see _sign_in_refusal).
        log.warning(
            "failed sign-in from %s not counted: Redis does not answer (%s)",
            request.remote_addr,
            exc,
        )


def _login_page(error: str | None, email: str, status: int = 200) -> tuple[str, int]:
    rt = current_app.extensions["costbridge"]
    with rt.sessions() as db:
        nobody = count_users(db) == 0
    page = render_template(
        "costbridge/login.html", error=error, email=email, nobody=nobody, max_email=MAX_EMAIL
    )
    return page, status


def make_auth_blueprint() -> Blueprint:
    """`/signin` and `/signout` (blueprint `costbridge_auth`)."""
    bp = Blueprint("costbridge_auth", __name__)

    @bp.route("/signin", methods=("GET", "POST"))
    def login() -> Response | tuple[str, int]:
        rt = current_app.extensions["costbridge"]
        error = None
        email = ""
        if request.method == "POST":
            typed = request.form.get("email", "")
            password = request.form.get("password", "")
            if len(typed) > MAX_EMAIL or len(password) > MAX_PASSWORD:
                # Refused before any work: nothing of it is echoed, counted or stored.
                error = TOO_LONG
                return _login_page(error, "", 400)
            email = normalise_email(typed)
            error = _sign_in_refusal(email)
            if error is None:
                with rt.sessions() as db:
                    user = authenticate(db, email, password)
                    if user is not None:
                        db.commit()
                        sign_in_limits.succeeded(rt.redis, email, request.remote_addr or "")
                        target = _safe_next(request.args.get("next"))
                        # A new session at sign-in (ASVS 7.2.4): nothing from before carries.
                        session.clear()
                        session.permanent = True
                        session["uid"] = user.id
                        session["uep"] = user.session_epoch
                        session["ust"] = time.time()
                        return redirect(target)
                _count_failure(email)
                error = "That e-mail and password do not match an active user."
        return _login_page(error, email)

    @bp.post("/signout")
    def logout() -> Response:
        user = current_user()
        if user is not None:
            rt = current_app.extensions["costbridge"]
            with rt.sessions() as db:
                row = db.get(User, user.id)
                if row is not None:
                    end_sessions(row)
                    db.commit()
        session.clear()
        flash("Signed out.", "info")
        return redirect(url_for("costbridge_auth.login"))

    return bp


def init_auth(app: Flask) -> None:
    """Register sign-in, the gate and the session cookie's settings on `app`."""
    app.register_blueprint(make_auth_blueprint())
    app.before_request(gate)
    app.config.setdefault("QBO_CONNECT_ALLOWED", may_manage_connection)
    app.config["PERMANENT_SESSION_LIFETIME"] = IDLE
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    allowed = tuple(getattr(app.extensions["costbridge"].settings, "allowed_hosts", ()))
    if allowed:
        # Served beyond this machine (COSTBRIDGE_ALLOWED_HOSTS): only those names, over HTTPS.
        app.config["TRUSTED_HOSTS"] = [*app.config.get("TRUSTED_HOSTS", ()), *allowed]
        app.config["SESSION_COOKIE_SECURE"] = True
    if app.config.get("SESSION_COOKIE_SECURE"):
        # Served over https: the __Host- prefix pins the cookie to this host and path.
        app.config["SESSION_COOKIE_NAME"] = "__Host-costbridge"
        app.config["SESSION_COOKIE_PATH"] = "/"

    @app.context_processor
    def who() -> dict[str, Any]:
        return {"cb_user": current_user(), "cb_can": has_role, "Role": Role}


def _refuse(name: str, **kwargs: Any) -> Any:
    """Anonymous: to sign-in; signed in without the role: 403."""
    if current_user() is None:
        return redirect(url_for("costbridge_auth.login", next=request.full_path.rstrip("?")))
    abort(403, "Your role does not include this page.")
    return None  # unreachable: abort raises


class RoleMixin:
    """Mixin: the view needs a signed-in user holding `read_role` (viewer by default)."""

    read_role = Role.VIEWER

    def is_accessible(self) -> bool:
        """Signed in, with at least `read_role`."""
        return has_role(self.read_role)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        """Sign-in for strangers, 403 for a role that falls short."""
        return _refuse(name, **kwargs)


class SecureModelView(RoleMixin, ScopedModelView, ModelView):
    """Base of every model view: signed in to read, admin to change; forms carry a CSRF token.

    Rows of companies the user may not see are left out and answer 404 (`ScopedModelView`).

    Flask-WTF's form shares the app-wide `CSRFProtect` token, so one check covers the console
    and every other form (Flask-Admin's own SecureForm would add a second, different token).
    """

    form_base_class = FlaskForm
    page_size = 50
    can_view_details = True
    #: The role that may create, edit and delete (each view may lower or raise it).
    write_role = Role.ADMIN
    _can_create = True
    _can_edit = True
    _can_delete = True

    @property
    def can_create(self) -> bool:
        """Only `write_role` sees and uses "Create"."""
        return self._can_create and has_role(self.write_role)

    @can_create.setter
    def can_create(self, value: bool) -> None:
        self._can_create = value

    @property
    def can_edit(self) -> bool:
        """Only `write_role` sees and uses "Edit"."""
        return self._can_edit and has_role(self.write_role)

    @can_edit.setter
    def can_edit(self, value: bool) -> None:
        self._can_edit = value

    @property
    def can_delete(self) -> bool:
        """Only `write_role` sees and uses "Delete"."""
        return self._can_delete and has_role(self.write_role)

    @can_delete.setter
    def can_delete(self, value: bool) -> None:
        self._can_delete = value

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        """Before any of the view's pages: sign-in and role, then the `id` of a row's page.

        Details and edit read `?id=`, delete its form's `id`; when given, it must name one row
        (`_key`), else 404. With no `id` at all, Flask-Admin goes back to the list.
        """
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        if name in ROW_PAGES:
            values = (request.form if name == "delete_view" else request.args).getlist("id")
            if values:
                self._key(values[0] if len(values) == 1 else None)
        return None

    def _key(self, raw: Any) -> tuple[Any, ...]:
        """The primary key Flask-Admin's `id` text names; 404 when it cannot name one row.

        `core.web.ids.row_key` decides: `1,2` for a one-column key, `abc`, `-1`, `٣`, a number
        past BIGINT, an empty value or several `id`s name none, whatever the database would say.
        """
        key = row_key(self.model, iterdecode(raw)) if isinstance(raw, str) and raw else None
        if key is None:
            abort(404)
        return key

    def get_one(self, id: Any) -> Any:  # noqa: A002 - Flask-Admin's own argument name
        """The row named by Flask-Admin's `id` (details, edit, delete, list-editable updates).

        404 when it names no row or one of a company the user may not see (the same answer).
        """
        row = self.session.session.get(self.model, self._key(id))
        if row is None or not may_see(row_company_id(row)):
            abort(404)
        return row

    def handle_action(self, return_view: str | None = None) -> Any:
        """A bulk action (delete the ticked rows): 404 if a ticked id cannot name a row."""
        for raw in request.form.getlist("rowid"):
            self.get_one(raw)
        return super().handle_action(return_view)

    @action("delete", lazy_gettext("Delete"), lazy_gettext("Delete the selected records?"))
    def action_delete(self, ids: Sequence[str]) -> None:
        """Delete the ticked rows one by one, each found by its typed key (`get_one`).

        Flask-Admin's own version compares the id column with the ids as text, which PostgreSQL
        refuses (`integer = character varying`).
        """
        rows = [self.get_one(raw) for raw in ids]
        deleted = sum(1 for row in rows if self.delete_model(row))
        if deleted:
            flash(f"{deleted} record(s) deleted.", "success")


class LocalIndexView(RoleMixin, AdminIndexView):
    """The console's home page (the dashboard lives in `admin.pages.home`)."""


class LocalBaseView(RoleMixin, BaseView):
    """Base of non-model pages (plugins' admin views use it too)."""
