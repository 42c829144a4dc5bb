"""Project settings: plugin defaults, refusals that say what to do, and their history."""

from __future__ import annotations

import sys

from freezegun import freeze_time
from sqlalchemy import select

from core.models import Company
from core.models import Project
from core.models import SettingChange
from core.plugins import ProjectHooks
from core.plugins import make_plugin_manager
from core.project_settings import effective_settings
from core.project_settings import save_settings
from core.project_settings import set_plugin_enabled
from tests.factories import make_company
from tests.factories import make_cost_code
from tests.factories import make_project

DESIGN_DEFAULTS = {
    "push_bills": False,
    "exclude_non_billable": False,
    "default_billing_cost_code": None,
    "push_bill_attachments": True,
    "pull_bill_attachments": False,
    "time_tracking": False,
    "include_billed_time": False,
    "include_non_billable_time": False,
    "vendor_credits": False,
    "send_invoices": False,
    "default_invoice_code": None,
    "profit_code": None,
}


def test_new_project_has_the_design_defaults(db, pm):
    project = make_project(db)
    settings = effective_settings(pm, project)
    assert {k: settings[k] for k in DESIGN_DEFAULTS} == DESIGN_DEFAULTS


def test_third_party_plugin_settings_appear_in_project_settings(db, pm):
    project = make_project(db)
    settings = effective_settings(pm, project)
    assert settings["sample_po_check_prefix"] is True
    assert settings["sample_po_prefix"] == "PO-"


def test_disabled_plugin_settings_do_not_appear(db, pm):
    project = make_project(db, enabled_plugins=["qbo_bills"])
    assert set(effective_settings(pm, project)) == {
        "exclude_non_billable",
        "push_bills",
        "default_billing_cost_code",
        "push_bill_attachments",
        "pull_bill_attachments",
    }


def test_exclude_non_billable_survives_disabling_the_expenses_plugin(db, pm):
    project = make_project(db, enabled_plugins=["qbo_bills"])
    assert save_settings(pm, db, project, {"exclude_non_billable": True}) == []
    assert effective_settings(pm, project)["exclude_non_billable"] is True


def test_a_plugin_cannot_redeclare_a_core_setting(pm):
    from core import hookimpl
    from core.contracts import PluginInfo
    from core.contracts import SettingSpec
    from core.plugins import make_plugin_manager

    class Greedy:
        @hookimpl
        def plugin_info(self):
            spec = SettingSpec("exclude_non_billable", "Mine", "bool", False, "Taken over.")
            return PluginInfo(name="greedy", label="Greedy", settings=(spec,))

    manager = make_plugin_manager(entry_points=False, extra=[("greedy", Greedy())])
    assert [f.name for f in manager.load_failures] == ["greedy"]
    assert "already declared by the core" in manager.load_failures[0].error


def test_validate_settings_refuses_push_bills_without_default_code(db, pm):
    project = make_project(db, linked=True)
    problems = save_settings(pm, db, project, {"push_bills": True})
    assert [p.key for p in problems] == ["push_bills"]
    assert "Default billing cost code" in problems[0].message
    assert problems[0].fix
    assert effective_settings(pm, project)["push_bills"] is False


def test_push_bills_with_default_code_on_a_linked_project_is_saved(db, pm):
    project = make_project(db, linked=True)
    code = make_cost_code(db, db.get(Company, project.company_id))
    assert (
        save_settings(pm, db, project, {"push_bills": True, "default_billing_cost_code": code.id})
        == []
    )
    assert effective_settings(pm, project)["push_bills"] is True


def test_clearing_the_default_code_while_push_bills_is_on_is_refused(db, pm):
    project = make_project(db, linked=True)
    code = make_cost_code(db, db.get(Company, project.company_id))
    save_settings(pm, db, project, {"push_bills": True, "default_billing_cost_code": code.id})
    problems = save_settings(pm, db, project, {"default_billing_cost_code": None})
    assert problems
    assert problems[0].key == "push_bills"


def test_unlinked_project_cannot_turn_on_time_tracking(db, pm):
    project = make_project(db, linked=False)
    problems = save_settings(pm, db, project, {"time_tracking": True})
    assert problems[0].key == "time_tracking"
    assert "not linked to a QuickBooks customer" in problems[0].message


def test_wrong_type_and_unknown_key_are_refused(db, pm):
    project = make_project(db)
    problems = save_settings(pm, db, project, {"vendor_credits": "yes", "no_such": True})
    assert {p.key for p in problems} == {"vendor_credits", "no_such"}


def test_cost_code_of_another_company_is_refused(db, pm):
    project = make_project(db, linked=True)
    other = make_cost_code(db, make_project(db).company)
    problems = save_settings(pm, db, project, {"default_invoice_code": other.id})
    assert problems[0].key == "default_invoice_code"


def test_third_party_validate_settings_is_called(db, pm):
    project = make_project(db)
    problems = save_settings(pm, db, project, {"sample_po_prefix": "PURCHASE-"})
    assert problems[0].message == "The prefix is longer than 5 characters."


def test_each_change_is_recorded_with_its_time(db, pm):
    project = make_project(db, linked=True)
    with freeze_time("2025-06-30 23:30:00"):
        assert (
            save_settings(pm, db, project, {"time_tracking": True}, changed_by="ana@ridgeline.test")
            == []
        )
    db.flush()
    change = db.scalars(select(SettingChange).where(SettingChange.project_id == project.id)).one()
    assert (change.key, change.old_value, change.new_value) == ("time_tracking", False, True)
    assert change.changed_at.isoformat() == "2025-06-30T23:30:00+00:00"


def test_decimal_setting_is_stored_exactly_and_read_back_as_decimal(db):
    from decimal import Decimal

    from core import hookimpl
    from core.contracts import PluginInfo
    from core.contracts import SettingSpec
    from core.plugins import make_plugin_manager

    class Retainage:
        @hookimpl
        def plugin_info(self):
            return PluginInfo(
                name="retainage",
                label="Retainage",
                settings=(
                    SettingSpec("retainage_rate", "Retainage rate", "decimal", None, "Held."),
                ),
            )

    pm = make_plugin_manager(entry_points=False, extra=[("retainage", Retainage())])
    project = make_project(db)
    assert save_settings(pm, db, project, {"retainage_rate": Decimal("0.105")}) == []
    db.flush()
    db.expire_all()
    assert project.settings == {"retainage_rate": "0.105"}
    assert effective_settings(pm, project)["retainage_rate"] == Decimal("0.105")
    refused = save_settings(pm, db, project, {"retainage_rate": Decimal("NaN")})
    assert [p.key for p in refused] == ["retainage_rate"]


def _install_late_plugin(tmp_path, monkeypatch):
    (tmp_path / "late_costbridge_plugin.py").write_text(
        "from core import hookimpl\n"
        "from core.contracts import PluginInfo\n"
        "from core.contracts import SettingSpec\n\n"
        "@hookimpl\n"
        "def plugin_info():\n"
        "    spec = SettingSpec('late_sync', 'Sync estimates', 'bool', True, 'Pulls estimates.')\n"
        "    return PluginInfo(name='late', label='Late', owns=('Estimate',), settings=(spec,))\n"
    )
    dist = tmp_path / "late_costbridge_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: late-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[costbridge.plugins]\nlate = late_costbridge_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "late_costbridge_plugin", raising=False)


def test_new_project_uses_the_plugins_installed_when_it_is_created(db, pm):
    project = Project(company_id=make_company(db).id, name="Hillside Duplex")
    db.add(project)
    db.flush()
    assert project.enabled_plugins == sorted(pm.names())


def test_plugin_installed_after_a_project_was_created_is_off_until_enabled(
    db, tmp_path, monkeypatch
):
    project = Project(company_id=make_company(db).id, name="Hillside Duplex")
    db.add(project)
    db.flush()
    _install_late_plugin(tmp_path, monkeypatch)
    pm = make_plugin_manager()
    assert "late" in pm.names()

    hooks = ProjectHooks(pm, project.enabled_plugin_names(pm.names()))
    assert "late" not in [info.name for info in hooks.plugin_info()]
    assert "late_sync" not in effective_settings(pm, project)

    assert set_plugin_enabled(db, project, "late", True, changed_by="admin@ridgeline.test")
    hooks = ProjectHooks(pm, project.enabled_plugin_names(pm.names()))
    assert "late" in [info.name for info in hooks.plugin_info()]
    assert effective_settings(pm, project)["late_sync"] is True


def test_enabling_and_disabling_a_plugin_is_kept_in_the_setting_history(db):
    project = make_project(db, enabled_plugins=["qbo_bills"])
    with freeze_time("2025-06-30 23:30:00"):
        assert set_plugin_enabled(db, project, "qbo_time", True, changed_by="admin")
    with freeze_time("2025-07-01 08:00:00"):
        assert set_plugin_enabled(db, project, "qbo_time", False, changed_by="admin")
    assert not set_plugin_enabled(db, project, "qbo_time", False, changed_by="admin")
    db.flush()
    history = db.scalars(
        select(SettingChange)
        .where(SettingChange.project_id == project.id)
        .order_by(SettingChange.changed_at)
    ).all()
    assert [(c.key, c.old_value, c.new_value, c.changed_at.hour) for c in history] == [
        ("plugin:qbo_time", False, True, 23),
        ("plugin:qbo_time", True, False, 8),
    ]
    assert project.enabled_plugins == ["qbo_bills"]


def test_third_party_toggle_turns_its_check_off(db, pm):
    project = make_project(db)
    problems = save_settings(
        pm, db, project, {"sample_po_check_prefix": False, "sample_po_prefix": "PURCHASE-"}
    )
    assert problems == []
    assert effective_settings(pm, project)["sample_po_prefix"] == "PURCHASE-"
