"""Live side of the desk and the manager's moves (issue 22).

- ``display.message`` on /display: the manager's timed message (``{unit_id, message: {text,
  until} or {}}``), after the commit that set it.
- ``queue.wait_alert`` on /counter: ``{unit_id, alerts: [{service_id, service, ticket_id,
  label, waited_minutes, threshold}], at}``, the fields of the unit waiting too long now
  (``onestop.queueing.desk.wait_alerts``), sent when that list changes (a field starts or
  stops waiting too long, or its longest-waiting ticket changes). The workstation shows the
  alerts of the fields its counter serves; the manager dashboard shows them all.

The alerts come from a loop of each serving process, every ``WAIT_ALERT_INTERVAL_S`` seconds
(default 5; under ``TESTING`` only when the setting is given). With several instances each
sends its own (the clients replace their list, so a repeat changes nothing).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop import signals
from onestop.db import utcnow
from onestop.extensions import db, socketio
from onestop.queueing.desk import wait_alerts
from onestop.queueing.state import iso
from onestop.realtime import events as ev
from onestop.realtime.hub import queue_event
from onestop.units.models import Unit

log = logging.getLogger(__name__)
DISPLAY_MESSAGE = "display.message"
WAIT_ALERT = "queue.wait_alert"
_state: dict[str, Any] = {"pid": None}


def on_message(session: Session, unit_id: int, message: dict[str, Any]) -> None:
    queue_event(session, DISPLAY_MESSAGE, {"unit_id": unit_id, "message": message}, ev.DISPLAY_NS,
                [ev.unit_room(unit_id)])


class AlertWatch:
    """Sends ``queue.wait_alert`` for a unit when its list of alerts changes."""

    def __init__(self) -> None:
        self.last: dict[int, tuple[tuple[int, int], ...]] = {}

    def tick(self, session: Session) -> int:
        """One pass over every unit; how many events were sent."""
        at = utcnow()
        sent = 0
        for unit in session.scalars(select(Unit).order_by(Unit.id)).all():
            alerts = wait_alerts(session, unit, at)
            key = tuple((a.service_id, a.ticket_id) for a in alerts)
            if self.last.get(unit.id, ()) == key:
                continue
            self.last[unit.id] = key
            socketio.emit(WAIT_ALERT, {"unit_id": unit.id, "alerts": [a.as_dict() for a in alerts],
                                       "at": iso(at)}, namespace=ev.COUNTER_NS, to=[ev.unit_room(unit.id)])
            sent += 1
        session.rollback()
        return sent


def loop(interval: float) -> None:
    watch = AlertWatch()
    while True:
        session = db.session_factory()
        try:
            watch.tick(session)
        except Exception:  # the loop must outlive a database hiccup
            log.exception("wait alerts: a pass failed")
        finally:
            session.close()
        socketio.sleep(interval)


def init_app(app: Flask) -> None:
    """Send the manager's messages to the displays; watch the waits in a serving process."""
    signals.display_message_changed.connect(on_message, weak=False)
    interval = app.config.get("WAIT_ALERT_INTERVAL_S")
    if (app.testing and not interval) or _state["pid"] == os.getpid():
        return
    _state["pid"] = os.getpid()
    socketio.start_background_task(loop, float(interval or 5))
    log.info("wait alerts loop started")
