"""Printing signals -> Socket.IO events, through the realtime outbox (sent after commit).

``printer.alarm`` goes to the staff of the unit (``/counter``, room ``u{unit_id}``), worded
as a sentence in ``message`` (``alarm_texts``), without the driver's ``detail``;
``job.print`` goes to one print agent (``/agent``, room ``a{agent_id}``).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import has_app_context, has_request_context
from flask_babel import force_locale
from sqlalchemy.orm import Session

from onestop.printing import signals
from onestop.printing.alarm_texts import alarm_sentence
from onestop.printing.service import Alarm
from onestop.realtime import events as ev
from onestop.realtime.hub import queue_event

log = logging.getLogger(__name__)


def on_alarm(session: Session, alarm: Alarm) -> None:
    """Staff screens get the alarm worded for people (``message``); what the driver said
    (``detail``, often an exception text) goes to the log only."""
    payload = alarm.payload()
    detail = payload.pop("detail", "")
    if detail:
        log.info("printer alarm %s on device %s (%s): %s", alarm.reason, alarm.device_id, alarm.device_name,
                 detail)
    payload["message"] = _message(alarm)
    queue_event(session, ev.PRINTER_ALARM, payload, ev.COUNTER_NS, [ev.unit_room(alarm.unit_id)])


def _message(alarm: Alarm) -> str:
    """In the request's language; outside a request (an agent's socket, a job) in Vietnamese."""
    words = (alarm.reason, alarm.device_kind, alarm.device_name, alarm.ticket_label)
    if has_request_context():
        return alarm_sentence(*words)
    if has_app_context():
        with force_locale("vi"):
            return alarm_sentence(*words)
    return f"{alarm.device_name}: {alarm.reason}"  # no app at all: nothing to translate with


def on_job_queued(session: Session, agent_id: int, message: dict[str, Any]) -> None:
    queue_event(session, ev.JOB_PRINT, message, ev.AGENT_NS, [ev.agent_room(agent_id)])


def connect() -> None:
    """Subscribe (idempotent: blinker keeps one connection per receiver)."""
    signals.printer_alarm.connect(on_alarm, weak=False)
    signals.job_queued.connect(on_job_queued, weak=False)
