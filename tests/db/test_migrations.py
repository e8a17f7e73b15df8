"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from onestop.db import Database, make_engine, next_sequence
from onestop.migrate import current_heads, upgrade
from onestop.models import Base


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    return diff


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_match_models(backend, tmp_path, request):
    url = (f"sqlite:///{tmp_path / 'm.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url)
    db_rev, head = current_heads(url)
    assert db_rev == head
    assert _diff(url) == []
    upgrade(url)  # running it again is harmless


def test_sqlite_runs_in_wal_with_immediate_transactions(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    database = Database()
    database.engine = make_engine(url, busy_timeout_ms=400)
    database.session_factory.configure(bind=database.engine)
    other = make_engine(url, busy_timeout_ms=400)
    with database.transaction() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        # SQLite never sleeps in C (see onestop.db._begin_immediate): the wait is ours
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 0
        # this transaction holds the write lock from its BEGIN: another one waits for it
        # for the configured time, then gives up with "database is locked"
        t0 = time.monotonic()
        with pytest.raises(OperationalError, match="locked"), other.begin():
            pass
        assert 0.35 < time.monotonic() - t0 < 2.0
    with other.begin() as conn:  # free again
        assert conn.execute(text("SELECT 1")).scalar() == 1
    other.dispose()
    database.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sequence_is_per_scope_and_day_and_rolls_back(backend, tmp_path, request):
    url = (f"sqlite:///{tmp_path / 's.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url)
    database = Database()
    database.engine = make_engine(url)
    database.session_factory.configure(bind=database.engine)
    day, next_day = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    with database.transaction() as s:
        assert [next_sequence(s, "a", day) for _ in range(3)] == [1, 2, 3]
        assert next_sequence(s, "b", day) == 1
        assert next_sequence(s, "a", next_day) == 1
    with pytest.raises(RuntimeError), database.transaction() as s:
        next_sequence(s, "a", day)
        raise RuntimeError("refused")
    with database.transaction() as s:
        assert next_sequence(s, "a", day) == 4
    database.engine.dispose()
