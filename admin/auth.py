"""Who may use the console. Until sign-in exists, only requests from this machine may."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_admin import AdminIndexView
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_wtf import FlaskForm

from core.web.access import from_this_machine


class LocalOnly:
    """Mixin: the view answers 403 to anything but loopback clients."""

    def is_accessible(self) -> bool:
        """Only this machine, until sign-in and roles land."""
        return from_this_machine()

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        """Refuse plainly; there is no login page to send anyone to yet."""
        abort(403, "The costbridge console is only served to this machine until sign-in is set up.")


class SecureModelView(LocalOnly, ModelView):
    """Base of every model view: loopback only, forms carry a CSRF token.

    Flask-WTF's form shares the app-wide `CSRFProtect` token, so one check covers the console
    and every other form (Flask-Admin's own SecureForm would add a second, different token).
    """

    form_base_class = FlaskForm
    page_size = 50
    can_view_details = True


class LocalIndexView(LocalOnly, AdminIndexView):
    """The console's home page."""


class LocalBaseView(LocalOnly, BaseView):
    """Base of non-model pages."""
