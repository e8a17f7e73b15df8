"""Process targets for the concurrency test (spawned: importable, module level)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from onestop.db import Database, make_engine
from onestop.webhooks.config import WebhookConfig
from onestop.webhooks.delivery import run_pass


def deliver_worker(url: str, settings: dict[str, Any], now_iso: str, barrier: Any, results: Any) -> None:
    database = Database()
    database.engine = make_engine(url)
    database.session_factory.configure(bind=database.engine)
    try:
        barrier.wait(timeout=60)
        now = dt.datetime.fromisoformat(now_iso)
        result = run_pass(database.session_factory, WebhookConfig.of(settings), now)
        results.put({"ids": result.ids, "delivered": result.delivered, "error": None})
    except Exception as exc:  # reported to the test, not lost in a child
        results.put({"ids": [], "delivered": 0, "error": repr(exc)})
    finally:
        database.engine.dispose()
