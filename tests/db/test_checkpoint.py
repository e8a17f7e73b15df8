"""WAL checkpoints in a thread of their own (onestop/checkpoint.py)."""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import text

from onestop import checkpoint
from onestop.db import make_engine
from tests.conftest import make_sqlite_url


def _wait(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(condition())


def test_the_thread_copies_the_log_and_requests_no_longer_do(tmp_path):
    engine = make_engine(make_sqlite_url(tmp_path))
    db_file = tmp_path / "onestop.sqlite3"
    cp = checkpoint.start(engine, interval_s=0.1)
    assert cp is not None
    try:
        with engine.begin() as conn:
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == checkpoint.FALLBACK_PAGES
            conn.execute(text("CREATE TABLE t (x TEXT)"))
        assert _wait(lambda: cp.runs > 0)
        size = db_file.stat().st_size
        for _ in range(20):  # ~2 MB, some 500 pages: all of it goes to the WAL first
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:x)"), [{"x": "x" * 4000}] * 25)
        assert _wait(lambda: db_file.stat().st_size > size + 1_500_000), \
            "the database file did not grow: nothing was checkpointed"
    finally:
        cp.stop()
        engine.dispose()
    runs = cp.runs
    time.sleep(0.5)
    assert cp.runs <= runs + 1  # stopped


def test_nothing_to_do_for_other_databases(tmp_path):
    memory = make_engine("sqlite://")
    assert checkpoint.start(memory) is None
    memory.dispose()


def test_without_the_thread_requests_checkpoint_as_before(tmp_path):
    engine = make_engine(make_sqlite_url(tmp_path))
    with engine.begin() as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
    engine.dispose()


def test_a_database_locked_at_start_does_not_end_the_thread(tmp_path):
    """Another connection holds the database, out of WAL mode, when the thread starts (a
    file being set up, a restore): the thread waits and tries again, and checkpoints once
    the engine's connections have put it back in WAL mode."""
    url = make_sqlite_url(tmp_path)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
    engine.dispose()
    holder = sqlite3.connect(tmp_path / "onestop.sqlite3", isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")  # leave WAL: the thread must switch it back
    holder.execute("BEGIN EXCLUSIVE")
    engine = make_engine(url)
    cp = checkpoint.start(engine, interval_s=0.1)
    assert cp is not None
    try:
        time.sleep(0.5)
        assert cp.runs == 0  # held off
        holder.execute("COMMIT")
        holder.close()
        with engine.begin() as conn:  # a connection of the engine: WAL mode again
            conn.execute(text("INSERT INTO t VALUES ('x')"))
        assert _wait(lambda: cp.runs > 0, timeout=10), "the thread did not survive the lock"
    finally:
        cp.stop()
        engine.dispose()
