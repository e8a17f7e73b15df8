"""Alembic migrations, run with ``onestop db upgrade`` (``onestop.migrate.upgrade``)."""
