"""Process target for the two-workers test (spawned: importable, module level)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from onestop.db import Database, make_engine
from onestop.notify.config import NotifyConfig
from onestop.notify.delivery import run_pass


def send_worker(url: str, settings: dict[str, Any], now_iso: str, barrier: Any, results: Any,
                index: int) -> None:
    """One sending pass on the database at ``url`` (tests.conftest.race_processes)."""
    database = Database()
    database.engine = make_engine(url)
    database.session_factory.configure(bind=database.engine)
    try:
        barrier.wait(timeout=60)
        now = dt.datetime.fromisoformat(now_iso)
        result = run_pass(database.session_factory, NotifyConfig.of(settings), now,
                          observe=lambda channel, outcome: None)
        results.put({"index": index, "ids": result.ids, "sent": result.sent, "errors": []})
    except Exception as exc:  # reported to the test, not lost in a child
        results.put({"index": index, "ids": [], "sent": 0, "errors": [repr(exc)]})
    finally:
        database.engine.dispose()
