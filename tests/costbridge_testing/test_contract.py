"""The contract suite's purity check catches core internals, the ORM and the network however
they are imported, and lets through what a plugin may use."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from costbridge_testing.contract import plugin_contract_tests

PURITY = (
    "test_stays_out_of_the_database_the_engine_and_the_network",
    "test_holds_no_forbidden_module_once_imported",
)
HEAD = """
from core import hookimpl
from core.contracts import PluginInfo

@hookimpl
def plugin_info():
    return PluginInfo(name="purity_probe", label="Probe")
"""


def _plugin(tmp_path, monkeypatch, source: str, extra: dict[str, str] | None = None):
    package = tmp_path / "purity_probe"
    package.mkdir()
    (package / "__init__.py").write_text(HEAD + textwrap.dedent(source))
    for name, text in (extra or {}).items():
        (package / f"{name}.py").write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    for key in [k for k in sys.modules if k == "purity_probe" or k.startswith("purity_probe.")]:
        monkeypatch.delitem(sys.modules, key)
    return importlib.import_module("purity_probe")


def _check(module, test):
    getattr(plugin_contract_tests(module, "purity_probe")(), test)()


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("from core import models\n", "core.models"),
        ("import core.models as m\n", "core.models"),
        ("from core.models import Actual\n", "core.models"),
        ("from core.sync import engine\n", "core.sync.engine"),
        ("from core.sync.store import Router\n", "core.sync.store"),
        ("import core.qbo\n", "core.qbo"),
        ("from core.qbo.client import QboClient\n", "core.qbo.client"),
        ("from core import db\n", "core.db"),
        ("from core.push import outbox\n", "core.push"),
        ("from core import hookspecs\n", "core.hookspecs"),
        ("import sqlalchemy.orm\n", "sqlalchemy.orm"),
        ("from sqlalchemy import select\n", "sqlalchemy"),
        ("import requests\n", "requests"),
        ("try:\n    import httpx\nexcept ImportError:\n    pass\n", "httpx"),
        ("import urllib.request\n", "urllib.request"),
        ("from urllib import request\n", "urllib.request"),
        ("import socket\n", "socket"),
        ("import redis\n", "redis"),
        ("from rq import Queue\n", "rq"),
        ("import http.client\n", "http.client"),
        (
            "def f():\n    import importlib\n    return importlib.import_module('core.models')\n",
            "core.models",
        ),
    ],
)
def test_purity_check_catches_every_spelling_of_a_forbidden_import(
    tmp_path, monkeypatch, source, named
):
    module = _plugin(tmp_path, monkeypatch, source)

    with pytest.raises(AssertionError, match=f"imports {named}"):
        _check(module, PURITY[0])


def test_purity_check_reads_every_module_of_the_plugin_package(tmp_path, monkeypatch):
    module = _plugin(
        tmp_path,
        monkeypatch,
        "from .helpers import HELP  # noqa: F401\n",
        extra={"helpers": "from core.sync import engine  # noqa: F401\nHELP = 1\n"},
    )

    with pytest.raises(AssertionError, match="helpers.py:1 imports"):
        _check(module, PURITY[0])


def test_purity_check_sees_a_module_reached_at_run_time(tmp_path, monkeypatch):
    module = _plugin(
        tmp_path,
        monkeypatch,
        "import importlib\nNAME = 'core.' + 'models'\nmodels = importlib.import_module(NAME)\n",
    )

    _check(module, PURITY[0])  # nothing the source spells out
    with pytest.raises(AssertionError, match="purity_probe.models is from core.models"):
        _check(module, PURITY[1])


def test_purity_check_sees_a_model_class_held_in_a_global(tmp_path, monkeypatch):
    module = _plugin(
        tmp_path,
        monkeypatch,
        "import importlib\nRow = getattr(importlib.import_module('core.' + 'models'), 'Actual')\n",
    )

    with pytest.raises(AssertionError, match="purity_probe.Row is from core.models"):
        _check(module, PURITY[1])


def test_purity_check_lets_the_public_api_and_plain_libraries_through(tmp_path, monkeypatch):
    module = _plugin(
        tmp_path,
        monkeypatch,
        """
        import datetime
        from decimal import Decimal
        from urllib.parse import quote
        import core
        from core import hookimpl as marker
        from core.contracts import CandidateLine
        from core.errors import NeedsAdmin
        from core.mapping.lines import expense_lines
        from core.mapping import lines
        from . import helpers
        """,
        extra={"helpers": "from core.contracts import Ref\n"},
    )

    for test in PURITY:
        _check(module, test)
