"""The API tokens page: each user makes, lists and revokes their own; admins revoke anyone's.

A new token is shown once, on the page the creating POST renders (never flashed: a flashed
message would travel in the session cookie). Tokens only read, so a viewer may make their own
(`admin.auth.gate` lets these two POSTs through for every role). The tokens themselves are
`core.api_tokens`'; this module only reads the form and renders.
"""

from __future__ import annotations

from typing import Any

from flask import flash
from flask import make_response
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import expose

from admin.auth import LocalBaseView
from admin.auth import current_user
from admin.pages.common import db
from core.api_tokens import create_token
from core.api_tokens import list_tokens
from core.api_tokens import revoke_token
from core.errors import CostbridgeError
from core.models import Role
from core.models import User
from core.web.ids import required_id


class ApiTokensView(LocalBaseView):
    """The signed-in user's API tokens (an admin sees everyone's)."""

    def _page(self, new_secret: str | None = None, name: str = "") -> Any:
        user = current_user()
        assert user is not None  # the gate lets no anonymous request this far
        is_admin = user.at_least(Role.ADMIN)
        tokens = list_tokens(db(), None if is_admin else user.id)
        response = make_response(
            self.render(
                "costbridge/api_tokens.html",
                tokens=tokens,
                me=user,
                is_admin=is_admin,
                new_secret=new_secret,
                name=name,
                api_doc=url_for("api_v1.openapi"),
            )
        )
        # A page showing a new token must not stay in any cache.
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/")
    def index(self) -> Any:
        """The tokens, and the form for a new one."""
        return self._page()

    @expose("/create", methods=("POST",))
    def create(self) -> Any:
        """Make a token for the signed-in user and show it, once."""
        user = current_user()
        assert user is not None
        session = db()
        name = request.form.get("name", "")
        owner = session.get(User, user.id)
        assert owner is not None
        try:
            made = create_token(session, owner, name)
        except CostbridgeError as exc:
            session.rollback()
            flash(f"{exc.message} {exc.fix}".strip(), "error")
            return redirect(url_for(".index"))
        session.commit()
        return self._page(new_secret=made.secret, name=made.token.name)

    @expose("/revoke", methods=("POST",))
    def revoke(self) -> Any:
        """Revoke one of the user's tokens (an admin: anyone's)."""
        user = current_user()
        assert user is not None
        session = db()
        token_id = required_id(request.form.get("id"))
        try:
            token = revoke_token(
                session,
                token_id,
                by=user.email,
                owner_id=None if user.at_least(Role.ADMIN) else user.id,
            )
        except CostbridgeError:
            session.rollback()
            flash("There is no such API token of yours.", "error")
            return redirect(url_for(".index"))
        session.commit()
        flash(f"The API token “{token.name}” ({token.hint}…) is revoked.", "info")
        return redirect(url_for(".index"))
