"""Actual types come from plugins: registered from `plugin_info`, refused when they clash."""

from __future__ import annotations

import pytest

from core import hookimpl
from core.contracts import ActualTypeSpec
from core.contracts import PluginInfo
from core.plugins import actual_type_label
from core.plugins import actual_type_labels
from core.plugins import make_plugin_manager


class Declares:
    """A plugin declaring the actual types it is given."""

    def __init__(self, name, *types, owns=()):
        self.name = name
        self.types = types
        self.owns = owns

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name=self.name, label=self.name, owns=self.owns, actual_types=self.types)


def test_every_built_in_type_is_registered_with_its_plugin_label_and_sign():
    pm = make_plugin_manager()

    registered = {name: (plugin, spec.sign) for name, (plugin, spec) in pm.actual_types().items()}

    assert registered["bill"] == ("qbo_bills", 1)
    assert registered["credit_card_credit"] == ("qbo_expenses", -1)
    assert registered["vendor_credit"] == ("qbo_vendor_credits", -1)
    assert registered["time"] == ("qbo_time", 1)
    assert actual_type_labels(pm)["bank_transaction"] == "Bank transaction"


def test_the_journal_entries_plugin_registers_its_types_through_its_entry_point_alone():
    pm = make_plugin_manager()

    registered = {name: (plugin, spec.sign) for name, (plugin, spec) in pm.actual_types().items()}

    assert registered["journal_entry"] == ("qbo_journal_entries", 1)
    assert registered["journal_entry_credit"] == ("qbo_journal_entries", -1)
    assert actual_type_labels(pm)["journal_entry"] == "Journal entry"


def test_a_type_from_a_plugin_the_core_has_never_heard_of_is_registered():
    pm = make_plugin_manager(
        entry_points=False,
        extra=[("retainage", Declares("retainage", ActualTypeSpec("retainage", "Retainage")))],
    )

    assert actual_type_label(pm, "retainage") == "Retainage"


def test_a_type_no_loaded_plugin_declares_shows_its_name_in_words():
    pm = make_plugin_manager(entry_points=False)

    assert actual_type_label(pm, "journal_entry_credit") == "Journal entry credit"


def test_two_plugins_declaring_one_type_are_both_refused():
    pm = make_plugin_manager(
        entry_points=False,
        extra=[
            ("acme_a", Declares("acme_a", ActualTypeSpec("retainage", "Retainage"))),
            ("acme_b", Declares("acme_b", ActualTypeSpec("retainage", "Retention"))),
            ("acme_c", Declares("acme_c", ActualTypeSpec("permit", "Permit"))),
        ],
    )

    refused = {f.name: f.error for f in pm.load_failures}
    assert set(refused) == {"acme_a", "acme_b"}
    for error in refused.values():
        assert "acme_a and acme_b both declare the actual type 'retainage'" in error
    assert set(pm.actual_types()) == {"permit"}


def test_a_third_party_redeclaring_a_built_in_type_refuses_both():
    pm = make_plugin_manager(
        extra=[("acme_bills", Declares("acme_bills", ActualTypeSpec("bill", "Bill")))]
    )

    refused = {f.name for f in pm.load_failures}
    assert refused == {"acme_bills", "qbo_bills"}
    assert "bill" not in pm.actual_types()


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (ActualTypeSpec("Journal Entry", "Journal entry"), "is not a name"),
        (ActualTypeSpec("x" * 25, "Long"), "is not a name"),
        (ActualTypeSpec("permit", ""), "has no label"),
        (ActualTypeSpec("permit", "Permit", sign=0), "must be 1 or -1"),
    ],
)
def test_a_type_that_cannot_be_stored_refuses_its_plugin(spec, words):
    pm = make_plugin_manager(entry_points=False, extra=[("acme", Declares("acme", spec))])

    [failure] = pm.load_failures
    assert failure.name == "acme"
    assert words in failure.error


def test_a_plugin_declaring_one_type_twice_is_refused():
    twice = Declares("acme", ActualTypeSpec("permit", "Permit"), ActualTypeSpec("permit", "P"))
    pm = make_plugin_manager(entry_points=False, extra=[("acme", twice)])

    assert "declared twice" in pm.load_failures[0].error
