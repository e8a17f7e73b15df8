"""Printing signals -> Socket.IO events, through the realtime outbox (sent after commit).

``printer.alarm`` goes to the staff of the unit (``/counter``, room ``u{unit_id}``);
``job.print`` goes to one print agent (``/agent``, room ``a{agent_id}``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from onestop.printing import signals
from onestop.printing.service import Alarm
from onestop.realtime import events as ev
from onestop.realtime.hub import queue_event


def on_alarm(session: Session, alarm: Alarm) -> None:
    queue_event(session, ev.PRINTER_ALARM, alarm.payload(), ev.COUNTER_NS, [ev.unit_room(alarm.unit_id)])


def on_job_queued(session: Session, agent_id: int, message: dict[str, Any]) -> None:
    queue_event(session, ev.JOB_PRINT, message, ev.AGENT_NS, [ev.agent_room(agent_id)])


def connect() -> None:
    """Subscribe (idempotent: blinker keeps one connection per receiver)."""
    signals.printer_alarm.connect(on_alarm, weak=False)
    signals.job_queued.connect(on_job_queued, weak=False)
