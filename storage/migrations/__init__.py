"""Alembic migrations for qaflow's schema (`storage.tables`); run them with `storage.migrate`."""
