"""Alembic migrations for costbridge (run with `costbridge db upgrade`)."""
