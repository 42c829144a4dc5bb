"""Project settings: plugin defaults, refusals that say what to do, and their history."""

from __future__ import annotations

from freezegun import freeze_time
from sqlalchemy import select

from core.models import Company
from core.models import SettingChange
from core.project_settings import effective_settings
from core.project_settings import save_settings
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
    assert settings["sample_po_sync"] is False
    assert settings["sample_po_prefix"] == "PO-"


def test_disabled_plugin_settings_do_not_appear(db, pm):
    project = make_project(db, enabled_plugins=["qbo_bills"])
    assert set(effective_settings(pm, project)) == {
        "push_bills",
        "default_billing_cost_code",
        "push_bill_attachments",
        "pull_bill_attachments",
    }


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
