"""The sending loop of a server process (onestop/outbox_loop.py): a pass whenever a commit
queued messages, when the next one falls due, and at least every ``NOTIFY_POLL_S`` seconds.

Several instances may each run it: the claim in ``delivery`` keeps them from sending one
message twice. Not started under ``TESTING`` (tests run passes themselves), with
``NOTIFY_WORKER = false``, nor when no channel is configured; ``onestop notify send`` runs
one pass from cron.
"""

from __future__ import annotations

import threading
from functools import partial

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from onestop import outbox_loop
from onestop.extensions import db
from onestop.notify import bookings, delivery, subscriber, web
from onestop.notify.config import NotifyConfig
from onestop.notify.wakeup import BELL


def loop(factory: sessionmaker[Session], config: NotifyConfig, event: threading.Event,
         stop: threading.Event | None = None) -> None:
    outbox_loop.loop(partial(delivery.run_pass, factory, config), partial(delivery.next_due_at, factory),
                     config.poll_s, event, stop, name="notify", settle_s=config.settle_s)


def start(app: Flask) -> bool:
    config = NotifyConfig.of(app.config)
    return outbox_loop.start(app, BELL, config.enabled and config.worker, loop, db.session_factory, config,
                             name="notify")


def init_app(app: Flask) -> None:
    """Queue messages from the engine's signals; run the loop in a serving process."""
    app.extensions[subscriber.ENABLED] = NotifyConfig.of(app.config).enabled
    subscriber.connect(bookings.receivers())
    web.init_app(app)
    start(app)
