"""`create_app` mounts what `costbridge.web` entry points name; the core never names its console."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from core.app import create_app
from core.runtime import Runtime


def _install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, source: str) -> None:
    """A distribution on sys.path whose `costbridge.web` entry point is `module:mount`."""
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
    dist = tmp_path / f"{module}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[costbridge.web]\n{module} = {module}:mount\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_the_console_is_mounted_and_the_home_page_opens_it(web_client):
    response = web_client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/")


def test_an_installed_web_extension_is_mounted_beside_the_console(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(
        tmp_path,
        monkeypatch,
        "acme_costbridge_reports",
        """
        from flask import Blueprint

        def mount(app, pm, db):
            page = Blueprint("acme_reports", __name__)
            page.add_url_rule("/acme/reports", "index", lambda: f"{len(pm.infos)} plugins")
            app.register_blueprint(page)
        """,
    )
    try:
        app = create_app({"runtime": runtime, "TESTING": True})
        # Both mounted; the console's sign-in guards the extension's page as well.
        assert {"acme_reports.index", "admin.index"} <= set(app.view_functions)
        assert app.test_client().get("/acme/reports").location.startswith("/signin")
    finally:
        sys.modules.pop("acme_costbridge_reports", None)


def test_a_web_extension_that_fails_stops_the_app_and_is_named(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(
        tmp_path,
        monkeypatch,
        "broken_costbridge_page",
        """
        def mount(app, pm, db):
            raise RuntimeError("no templates folder")
        """,
    )
    try:
        with pytest.raises(RuntimeError, match="no templates folder") as failed:
            create_app({"runtime": runtime, "TESTING": True})
        assert any("'broken_costbridge_page'" in note for note in failed.value.__notes__)
    finally:
        sys.modules.pop("broken_costbridge_page", None)
