"""The push loop of a server process: a background task (a greenlet under gunicorn's gevent
worker, a thread otherwise) that runs ``outbox.run_pass`` whenever a commit queued pushes,
when the next retry falls due, and at least every ``PROVINCE_POLL_S`` seconds.

Started like the webhooks' loop (onestop/webhooks/worker.py): not under ``TESTING`` (tests
run passes themselves), not with ``PROVINCE_WORKER = false``, not without ``PROVINCE_URL``;
``onestop integrations push`` runs one pass from cron.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from onestop import outbox_loop
from onestop.extensions import db
from onestop.integrations import outbox, status, subscriber
from onestop.integrations.adapter import ProvinceAdapter
from onestop.integrations.config import ProvinceConfig
from onestop.integrations.wakeup import BELL

log = logging.getLogger(__name__)
PUSH_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # pushes carry their dates already formatted


def adapter_for(config: ProvinceConfig) -> ProvinceAdapter:
    return status.make_adapter(config, PUSH_TZ)


def loop(factory: sessionmaker[Session], config: ProvinceConfig, event: threading.Event,
         stop: threading.Event | None = None) -> None:
    """Until ``stop``: a pass, then sleep until woken, the next due time, or the poll interval
    (``onestop.outbox_loop.loop``)."""
    adapter = adapter_for(config)
    outbox_loop.loop(partial(outbox.run_pass, factory, config, adapter), partial(outbox.next_due_at, factory),
                     config.poll_s, event, stop, name="province push")


def start(app: Flask) -> bool:
    """Start the loop in this process once (a forked child starts its own)."""
    config = ProvinceConfig.of(app.config)
    return outbox_loop.start(app, BELL, config.enabled and config.worker, loop, db.session_factory, config,
                             name="province push")


def init_app(app: Flask) -> None:
    """Queue pushes from the engine's signals; run the loop in a serving process."""
    subscriber.connect()
    start(app)
