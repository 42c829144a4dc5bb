"""Tests of plugins/qbo_bills."""
