"""Tests of plugins/qbo_expenses."""
