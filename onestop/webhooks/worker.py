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
import threading
import time
from functools import partial

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from onestop import outbox_loop
from onestop.db import utcnow
from onestop.extensions import db
from onestop.webhooks import delivery, engine, subscriber
from onestop.webhooks.config import WebhookConfig
from onestop.webhooks.wakeup import (
    BELL,
    _state,  # noqa: F401 - the loop's state (tests set its event)
)

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 3600.0

def _prune(factory: sessionmaker[Session], config: WebhookConfig) -> None:
    before = utcnow() - dt.timedelta(days=config.retention_days)
    with factory() as session:
        removed = engine.prune(session, before=before)
        session.commit()
    if removed:
        log.info("pruned %s old webhook deliveries", removed)


def loop(factory: sessionmaker[Session], config: WebhookConfig, event: threading.Event,
         stop: threading.Event | None = None) -> None:
    """Until ``stop``: a pass (and hourly pruning), then sleep until woken, the next due time,
    or the poll interval (``onestop.outbox_loop.loop``)."""
    pruned = [0.0]

    def prune() -> None:
        if config.retention_days and time.monotonic() - pruned[0] > PRUNE_EVERY_S:
            _prune(factory, config)
            pruned[0] = time.monotonic()

    outbox_loop.loop(partial(delivery.run_pass, factory, config), partial(delivery.next_due_at, factory),
                     config.poll_s, event, stop, name="webhook delivery", housekeeping=prune)


def start(app: Flask) -> bool:
    """Start the loop in this process once (a forked child starts its own)."""
    config = WebhookConfig.of(app.config)
    return outbox_loop.start(app, BELL, config.worker, loop, db.session_factory, config,
                             name="webhook delivery")


def init_app(app: Flask) -> None:
    """Queue deliveries from the engine's signals; run the loop in a serving process."""
    subscriber.connect()
    start(app)
