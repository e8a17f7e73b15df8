"""What every outbox of the project shares: the doorbell a commit rings, and the background
loop of a server process that sends what is due (webhooks, the province's pushes, the
citizens' messages).

Each outbox has a ``Doorbell`` (the loop of this process and the event it sleeps on), rings
it after a commit that queued rows (``ring_after_commit``: a rolled-back transaction rings
nothing), and runs ``loop`` in a background task started by ``start`` (a greenlet under
gunicorn's gevent worker, a thread otherwise): a pass, then sleep until woken, until the next
row falls due, or at most ``poll_s``; a failing pass (a database hiccup) is logged and the
loop goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from onestop.db import utcnow

log = logging.getLogger(__name__)
MIN_SLEEP_S = 2.0  # a receiver that is down leaves rows due: do not spin on them


class Doorbell:
    """The loop of this process (its pid) and the event it sleeps on."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        # the dict is the module-level ``_state`` of the outbox's wakeup module
        self.state: dict[str, Any] = state if state is not None else {"pid": None, "event": None}
        self.state.setdefault("pid", None)
        self.state.setdefault("event", None)

    def wake(self) -> None:
        """Run a pass soon; no-op without a loop in this process."""
        bell = self.state["event"]
        if bell is not None:
            bell.set()

    def started_here(self) -> bool:
        return bool(self.state["pid"] == os.getpid())


def ring_after_commit(session_factory: Any, flag: str, bell: Callable[[], None]) -> None:
    """Call ``bell`` after a commit whose transaction set ``session.info[flag]`` (idempotent
    per flag: the listeners are registered once)."""

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():  # a savepoint released: nothing is visible yet
            return
        if session.info.pop(flag, False):
            bell()

    def after_rollback(session: Session) -> None:
        if not session.in_nested_transaction():
            session.info.pop(flag, None)

    registered = _registered.setdefault(id(session_factory), set())
    if flag in registered:
        return
    registered.add(flag)
    event.listen(session_factory, "after_commit", after_commit)
    event.listen(session_factory, "after_rollback", after_rollback)


_registered: dict[int, set[str]] = {}


def sleep_for(next_due: dt.datetime | None, poll_s: float) -> float:
    """Seconds until the next row falls due, between ``MIN_SLEEP_S`` and ``poll_s``."""
    if next_due is None:
        return poll_s
    return min(poll_s, max(MIN_SLEEP_S, (next_due - utcnow()).total_seconds()))


def loop(run_pass: Callable[[], Any], next_due: Callable[[], dt.datetime | None], poll_s: float,
         wake: threading.Event, stop: threading.Event | None = None, name: str = "outbox",
         housekeeping: Callable[[], None] | None = None, settle_s: float = 0.0) -> None:
    """Until ``stop``: a pass (and ``housekeeping``), then sleep until woken, the next due
    time, or ``poll_s``. ``settle_s``: once woken, wait that long for more commits to queue
    rows, so that one pass takes them together (fewer database round trips per row)."""
    while stop is None or not stop.is_set():
        wake.clear()
        try:
            run_pass()
            if housekeeping is not None:
                housekeeping()
            delay = sleep_for(next_due(), poll_s)
        except Exception:  # the loop must outlive a database hiccup
            log.exception("%s pass failed", name)
            delay = poll_s
        if wake.wait(delay) and settle_s > 0 and (stop is None or not stop.is_set()):
            time.sleep(settle_s)


def start(app: Flask, bell: Doorbell, enabled: bool, target: Callable[..., Any], *args: Any,
          name: str = "outbox") -> bool:
    """Start ``target(*args, event)`` in a background task of this process once (not under
    ``TESTING``: tests run passes themselves; a forked child starts its own)."""
    from onestop.extensions import socketio

    if app.testing or not enabled or bell.started_here():
        return False
    wake = threading.Event()  # looked up now: gevent's once the worker has patched threading
    bell.state.update(pid=os.getpid(), event=wake)
    socketio.start_background_task(target, *args, wake)
    log.info("%s loop started", name)
    return True
