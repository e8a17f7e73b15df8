"""Waiting estimates from recent service times and the counters open for a service."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop.queueing.models import Counter, CounterService, Ticket

RECENT_TICKETS = 30
CACHE_TTL = dt.timedelta(seconds=15)
# (database, service id) -> (valid until, mean minutes, open counters); an estimate may lag
# a few seconds behind, and the kiosk asks for one per field on every refresh
_cache: dict[tuple[int, int], tuple[dt.datetime, float, int]] = {}


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


def _rates(session: Session, service_id: int, default: float,
           now: dt.datetime | None) -> tuple[float, int]:
    key = (id(session.get_bind()), service_id)
    hit = _cache.get(key)
    if now is not None and hit is not None and hit[0] > now:
        return hit[1], hit[2]
    mean = average_service_minutes(session, service_id, default)
    counters = open_counters(session, service_id)
    if now is not None:
        _cache[key] = (now + CACHE_TTL, mean, counters)
    return mean, counters


def estimate_wait_minutes(
    session: Session, service_id: int, people_ahead: int, default_minutes: float,
    now: dt.datetime | None = None,
) -> int:
    """People ahead x mean service time / counters open (at least one assumed).

    Given ``now``, the mean and the number of open counters are reused for up to
    ``CACHE_TTL``; without it they are read afresh.
    """
    if people_ahead <= 0:
        return 0
    mean, counters = _rates(session, service_id, default_minutes, now)
    return math.ceil(people_ahead * mean / max(counters, 1))
