"""Web endpoints outside the admin console: the QBO OAuth flow and the webhook receiver."""

from __future__ import annotations

from flask import Flask
from flask_wtf import CSRFProtect


def register_blueprints(app: Flask, csrf: CSRFProtect) -> None:
    """Register every web blueprint on `app`."""
    del app, csrf  # the OAuth and webhook blueprints are registered here once they exist
