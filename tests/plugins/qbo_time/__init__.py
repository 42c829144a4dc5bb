"""Tests of plugins/qbo_time."""
