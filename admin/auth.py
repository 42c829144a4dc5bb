"""Who may use the console: sign-in, roles, and the one gate every request passes.

Anonymous requests reach only the sign-in page, static files, the OAuth callback (bound to the
session that started it by its `state`), the webhook (signed by Intuit) and the operator
endpoints (`/healthz`, `/readyz`, `/metrics`, which have rules of their own). Everything else
redirects to sign-in (GET) or answers 401.

Roles (RELIABILITY.md §2; DESIGN.md "Who uses it"): `viewer` reads; `support` also works the
queue (retry, cancel, Sync Expenses); `admin` does everything, including the QuickBooks
connection and settings. A viewer's POST is refused here whatever view it targets; each view
then checks its own action with `require`.

Sessions are Flask's signed cookies. A session remembers the user's `session_epoch`: signing out
or changing the password raises it, which ends every other session of that user at once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
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
from flask_admin.contrib.sqla import ModelView
from flask_wtf import FlaskForm
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from core import namespace
from core.models import Role
from core.models import User
from core.users import authenticate
from core.users import count_users
from core.users import end_sessions

F = TypeVar("F", bound=Callable[..., Any])

#: Endpoints (or blueprint names) that answer without sign-in.
OPEN_ENDPOINTS = frozenset({"costbridge_auth.login", "static", "qbo_oauth.callback"})
OPEN_BLUEPRINTS = frozenset({"qbo_webhooks", "ops"})
#: How long a session lives without a request (idle) and at most (absolute).
IDLE = dt.timedelta(hours=8)
ABSOLUTE = dt.timedelta(hours=24)
#: Failed sign-ins per address and client within `LOCK_WINDOW` before sign-in is refused.
MAX_FAILURES = 10
LOCK_WINDOW = 15 * 60
RANK = {Role.VIEWER: 0, Role.SUPPORT: 1, Role.ADMIN: 2}


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
    if writes and endpoint != "costbridge_auth.logout" and not user.at_least(Role.SUPPORT):
        abort(403, "Your role may look, not change. Ask an admin.")
    return None


def may_manage_connection() -> bool:
    """`QBO_CONNECT_ALLOWED`: admins manage the QuickBooks connection; the callback is open."""
    return request.endpoint == "qbo_oauth.callback" or has_role(Role.ADMIN)


def _safe_next(target: str | None) -> str:
    """Only a path on this site, so sign-in cannot redirect anywhere else (ASVS 3.7.2)."""
    if not target:
        return url_for("admin.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("admin.index")
    return target


def _failure_key(email: str) -> str:
    # Under the install's id like every costbridge key: another install on the same Redis
    # keeps its own count for the same address.
    return namespace.key(
        current_app.extensions["costbridge"].install_id,
        "sign-in-failures",
        email.strip().lower(),
        request.remote_addr,
    )


def _too_many_failures(email: str) -> bool:
    try:
        count = current_app.extensions["costbridge"].redis.get(_failure_key(email))
    except RedisError:
        return False
    return count is not None and int(count) >= MAX_FAILURES


def _count_failure(email: str) -> None:
    try:
        redis = current_app.extensions["costbridge"].redis
        key = _failure_key(email)
        redis.incr(key)
        redis.expire(key, LOCK_WINDOW)
    except RedisError:
        pass


def make_auth_blueprint() -> Blueprint:
    """`/signin` and `/signout` (blueprint `costbridge_auth`)."""
    bp = Blueprint("costbridge_auth", __name__)

    @bp.route("/signin", methods=("GET", "POST"))
    def login() -> Response | str:
        rt = current_app.extensions["costbridge"]
        error = None
        email = ""
        if request.method == "POST":
            email = request.form.get("email", "")
            password = request.form.get("password", "")
            if _too_many_failures(email):
                error = "Too many failed attempts; wait 15 minutes and try again."
            else:
                with rt.sessions() as db:
                    user = authenticate(db, email, password)
                    if user is not None:
                        db.commit()
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
        with rt.sessions() as db:
            nobody = count_users(db) == 0
        return render_template("costbridge/login.html", error=error, email=email, nobody=nobody)

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


class SecureModelView(RoleMixin, ModelView):
    """Base of every model view: signed in to read, admin to change; forms carry a CSRF token.

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


class LocalIndexView(RoleMixin, AdminIndexView):
    """The console's home page (the dashboard lives in `admin.pages.home`)."""


class LocalBaseView(RoleMixin, BaseView):
    """Base of non-model pages (plugins' admin views use it too)."""
