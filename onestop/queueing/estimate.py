"""Waiting estimates from recent service times and the counters open for a service."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop.queueing.models import Counter, CounterService, Ticket

RECENT_TICKETS = 30


def average_service_minutes(session: Session, service_id: int, default: float) -> float:
    """Mean service time of the last finished tickets of ``service_id`` (any day)."""
    start = func.coalesce(Ticket.serving_at, Ticket.called_at)
    recent = (
        select(Ticket.finished_at, start.label("start"))
        .where(Ticket.service_id == service_id, Ticket.state == "done", Ticket.finished_at.is_not(None))
        .order_by(Ticket.finished_at.desc())
        .limit(RECENT_TICKETS)
    )
    durations: list[float] = []
    for finished_at, started in session.execute(recent):
        if finished_at is None or started is None:
            continue
        if isinstance(started, str):  # SQLite returns coalesce() of datetimes as text
            started = dt.datetime.fromisoformat(started).replace(tzinfo=dt.UTC)
        durations.append((finished_at - started).total_seconds() / 60)
    return sum(durations) / len(durations) if durations else default


def open_counters(session: Session, service_id: int) -> int:
    query = (
        select(func.count())
        .select_from(Counter)
        .join(CounterService, CounterService.counter_id == Counter.id)
        .where(CounterService.service_id == service_id, Counter.state == "open")
    )
    return int(session.scalar(query) or 0)


def estimate_wait_minutes(
    session: Session, service_id: int, people_ahead: int, default_minutes: float
) -> int:
    """People ahead x mean service time / counters open (at least one assumed)."""
    if people_ahead <= 0:
        return 0
    mean = average_service_minutes(session, service_id, default_minutes)
    counters = max(open_counters(session, service_id), 1)
    return math.ceil(people_ahead * mean / counters)
