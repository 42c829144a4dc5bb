"""Tests of plugins/qbo_vendor_credits."""
