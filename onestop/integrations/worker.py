"""The push loop of a server process: a background task (a greenlet under gunicorn's gevent
worker, a thread otherwise) that runs ``outbox.run_pass`` whenever a commit queued pushes,
when the next retry falls due, and at least every ``PROVINCE_POLL_S`` seconds.

Started like the webhooks' loop (onestop/webhooks/worker.py): not under ``TESTING`` (tests
run passes themselves), not with ``PROVINCE_WORKER = false``, not without ``PROVINCE_URL``;
``onestop integrations push`` runs one pass from cron.
"""

from __future__ import annotations

import logging
import os
import threading
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from onestop.db import utcnow
from onestop.extensions import db, socketio
from onestop.integrations import outbox, status, subscriber
from onestop.integrations.adapter import ProvinceAdapter
from onestop.integrations.config import ProvinceConfig
from onestop.integrations.wakeup import _state

log = logging.getLogger(__name__)
MIN_SLEEP_S = 2.0  # a province that is down leaves pushes due: do not spin on them
PUSH_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # pushes carry their dates already formatted


def adapter_for(config: ProvinceConfig) -> ProvinceAdapter:
    return status.make_adapter(config, PUSH_TZ)


def _sleep_for(factory: sessionmaker[Session], config: ProvinceConfig) -> float:
    when = outbox.next_due_at(factory)
    if when is None:
        return config.poll_s
    return min(config.poll_s, max(MIN_SLEEP_S, (when - utcnow()).total_seconds()))


def loop(factory: sessionmaker[Session], config: ProvinceConfig, event: threading.Event,
         stop: threading.Event | None = None) -> None:
    """Until ``stop``: a pass, then sleep until woken, the next due time, or the poll interval."""
    adapter = adapter_for(config)
    while stop is None or not stop.is_set():
        event.clear()
        try:
            outbox.run_pass(factory, config, adapter)
            delay = _sleep_for(factory, config)
        except Exception:  # the loop must outlive a database hiccup
            log.exception("province push pass failed")
            delay = config.poll_s
        event.wait(delay)


def start(app: Flask) -> bool:
    """Start the loop in this process once (a forked child starts its own)."""
    config = ProvinceConfig.of(app.config)
    if app.testing or not config.enabled or not config.worker or _state["pid"] == os.getpid():
        return False
    event = threading.Event()  # looked up now: gevent's once the worker has patched threading
    _state.update(pid=os.getpid(), event=event)
    socketio.start_background_task(loop, db.session_factory, config, event)
    log.info("province push loop started")
    return True


def init_app(app: Flask) -> None:
    """Queue pushes from the engine's signals; run the loop in a serving process."""
    subscriber.connect()
    start(app)
