"""SQLite's WAL checkpoints, taken by a thread of their own instead of by requests.

In WAL mode SQLite copies the log back into the database file ("checkpoint") once it holds
1,000 pages, and the connection whose commit crossed that line does it, inside that
request: with the fsync of the database file, some 60 us of every call-next on average,
all of it on the one worker's event loop.

``start`` runs the checkpoints in a native thread (also under gevent: SQLite lets go of
the GIL while it copies and syncs, so the work moves to the other core) and raises the
request connections' own threshold to ``FALLBACK_PAGES``: should the thread ever stop,
requests take over again before the log grows past some 40 MB. The checkpoints are
PASSIVE: they never wait for, or hold up, a reader or the writer.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

INTERVAL_S = 0.5
BUSY_TIMEOUT_S = 5.0  # in this thread only: waiting here holds up no request
FALLBACK_PAGES = 10000


def _native() -> tuple[Any, Any]:
    """``(start_new_thread, sleep)`` of the OS, also when gevent has patched them."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        monkey = None
    if monkey is not None and monkey.is_module_patched("threading"):
        return monkey.get_original("_thread", "start_new_thread"), monkey.get_original("time", "sleep")
    import _thread

    return _thread.start_new_thread, time.sleep


class Checkpointer:
    def __init__(self, path: str, interval_s: float = INTERVAL_S) -> None:
        self.path, self.interval_s = path, interval_s
        self.runs = 0
        self._stop = False

    def run_once(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: ``(busy, pages in the log, pages copied)``."""
        ((busy, logged, copied),) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.runs += 1
        return int(busy), int(logged), int(copied)

    def loop(self, sleep: Any) -> None:
        """Until ``stop``: one checkpoint every ``interval_s``. No error ends it: a database
        busy or locked for longer than the connection's timeout (a schema change, a backup)
        is tried again at the next round. The engine's connections put the file in WAL mode;
        this thread only looks (two connections switching a new file at once: one fails),
        on a new connection each round until it sees it (an open one keeps the mode it saw)."""
        conn: sqlite3.Connection | None = None
        wal = False
        try:
            while not self._stop:
                try:
                    if not wal:
                        if conn is not None:
                            conn.close()
                        conn = sqlite3.connect(self.path, check_same_thread=False,
                                               isolation_level=None, timeout=BUSY_TIMEOUT_S)
                        wal = conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                    if wal and conn is not None:
                        self.run_once(conn)
                except sqlite3.Error:
                    log.warning("WAL checkpoint failed; tried again in %.1f s (requests "
                                "checkpoint themselves past %d pages)", self.interval_s,
                                FALLBACK_PAGES, exc_info=True)
                sleep(self.interval_s)
        finally:
            if conn is not None:
                conn.close()

    def stop(self) -> None:
        self._stop = True


def start(engine: Engine, interval_s: float = INTERVAL_S) -> Checkpointer | None:
    """Checkpoint ``engine``'s SQLite file from a native thread; ``None`` for other databases
    and for in-memory SQLite."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None

    @event.listens_for(engine, "connect")
    def _leave_checkpoints_to_the_thread(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint = {FALLBACK_PAGES}")

    engine.dispose()  # connections opened before this get the setting too
    checkpointer = Checkpointer(path, interval_s)
    start_new_thread, sleep = _native()
    start_new_thread(checkpointer.loop, (sleep,))
    return checkpointer
