"""The delivery loop of a server process: a background task (a greenlet under gunicorn's
gevent worker, a thread otherwise) that runs ``delivery.run_pass`` whenever a commit queued
deliveries, when the next retry falls due, and at least every ``WEBHOOK_POLL_S`` seconds.

Several instances may each run it: the claim in ``delivery`` keeps them from sending the
same delivery twice. Not started under ``TESTING`` (tests run passes themselves) nor with
``WEBHOOK_WORKER = false``; ``onestop webhooks deliver`` runs one pass from cron.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from onestop.db import utcnow
from onestop.extensions import db, socketio
from onestop.webhooks import delivery, engine, subscriber
from onestop.webhooks.config import WebhookConfig
from onestop.webhooks.wakeup import _state

log = logging.getLogger(__name__)
MIN_SLEEP_S = 2.0  # a receiver that is down leaves deliveries due: do not spin on them
PRUNE_EVERY_S = 3600.0

def _prune(factory: sessionmaker[Session], config: WebhookConfig) -> None:
    before = utcnow() - dt.timedelta(days=config.retention_days)
    with factory() as session:
        removed = engine.prune(session, before=before)
        session.commit()
    if removed:
        log.info("pruned %s old webhook deliveries", removed)


def _sleep_for(factory: sessionmaker[Session], config: WebhookConfig) -> float:
    when = delivery.next_due_at(factory)
    if when is None:
        return config.poll_s
    return min(config.poll_s, max(MIN_SLEEP_S, (when - utcnow()).total_seconds()))


def loop(factory: sessionmaker[Session], config: WebhookConfig, event: threading.Event,
         stop: threading.Event | None = None) -> None:
    """Until ``stop``: a pass, then sleep until woken, the next due time, or the poll interval."""
    pruned = 0.0
    while stop is None or not stop.is_set():
        event.clear()
        try:
            delivery.run_pass(factory, config)
            if config.retention_days and time.monotonic() - pruned > PRUNE_EVERY_S:
                _prune(factory, config)
                pruned = time.monotonic()
            delay = _sleep_for(factory, config)
        except Exception:  # the loop must outlive a database hiccup
            log.exception("webhook delivery pass failed")
            delay = config.poll_s
        event.wait(delay)


def start(app: Flask) -> bool:
    """Start the loop in this process once (a forked child starts its own)."""
    config = WebhookConfig.of(app.config)
    if app.testing or not config.worker or _state["pid"] == os.getpid():
        return False
    event = threading.Event()  # looked up now: gevent's once the worker has patched threading
    _state.update(pid=os.getpid(), event=event)
    socketio.start_background_task(loop, db.session_factory, config, event)
    log.info("webhook delivery loop started")
    return True


def init_app(app: Flask) -> None:
    """Queue deliveries from the engine's signals; run the loop in a serving process."""
    subscriber.connect()
    start(app)
