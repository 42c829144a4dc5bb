"""Tests of core/sync: the pure line helpers and the engine."""
