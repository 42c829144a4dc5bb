"""The Bills plugin says whether a project's bills bring their QBO files along."""

from __future__ import annotations

import pytest

import plugins.qbo_bills
from core.contracts import ProjectView


def project(**settings):
    return ProjectView(1, 1, "Maple Street Remodel", "58", settings)


@pytest.mark.parametrize(
    ("settings", "wanted"),
    [
        ({}, False),
        ({"pull_bill_attachments": False}, False),
        ({"pull_bill_attachments": True}, True),
    ],
)
def test_pulls_attachments_of_bills_while_the_project_setting_is_on(settings, wanted):
    assert plugins.qbo_bills.pulls_attachments("Bill", project(**settings)) is wanted


def test_pulls_attachments_of_nothing_but_bills():
    assert plugins.qbo_bills.pulls_attachments("Purchase", project(pull_bill_attachments=True)) is (
        False
    )
