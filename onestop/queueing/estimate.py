"""Waiting estimates: who is ahead of a ticket in the real call order, and how long that takes.

The call order (``policy.candidates`` is the truth) is modelled, per field, as one queue that
follows the unit's priority policy:

- ``strict``: every waiting priority ticket (any class) is called before any normal one. A
  priority ticket has the priority tickets that joined before it ahead; a normal ticket has
  the normal tickets that joined before it *and every waiting priority ticket*, even one
  issued after it.
- ``interleave`` N:1: the counters call N normal tickets, then one priority ticket. With
  ``c`` normal calls made since the last priority call (``Counter.calls_since_priority``,
  the most among the open counters serving the field: the counter nearest to its priority
  call), a normal ticket with ``k`` normal tickets ahead also has ``min(P, (k + c) // N)``
  of the ``P`` waiting priority tickets ahead; a priority ticket with ``j`` priority
  tickets ahead also has ``min(Q, N * (j + 1) - c)`` of the ``Q`` waiting normal tickets
  ahead (``N * (j + 1)`` when no counter is part-way).

What the model leaves out, on purpose: tickets sent to one counter (called there first),
several counters each at its own point of the N:1 cycle, the counters' service modes across
fields, and tickets not issued yet (a priority citizen who arrives later still goes first).

The time is people ahead x the mean service time of the field / the counters serving it that
are open right now (a paused or closed counter serves nobody; with none open one is assumed,
and the surfaces say that no counter is open instead of "soon").
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from onestop.queueing.models import Counter, CounterService, Ticket
from onestop.units.models import Unit

RECENT_TICKETS = 30
CACHE_TTL = dt.timedelta(seconds=15)
# (database, service id) -> (valid until, mean minutes): the mean moves slowly, and the kiosk
# asks for one per field on every refresh. The open counters are never cached: a counter
# that pauses must leave the estimate at once.
_cache: dict[tuple[int, int], tuple[dt.datetime, float]] = {}


@dataclass(frozen=True)
class FieldQueue:
    """One field's line as the call-order model needs it."""

    normal: int = 0  # waiting tickets without priority
    priority: int = 0  # waiting tickets of any priority class
    counters: int = 0  # counters serving the field that are open (not paused, not closed)
    pending: int = 0  # normal calls since the last priority call, the most of those counters


def interleave_step(unit: Unit) -> int | None:
    """N of the unit's N:1 interleave; None for strict priority (also N <= 0: always due)."""
    if unit.setting("priority_mode") != "interleave":
        return None
    step = int(unit.setting("interleave_normal"))
    return step if step > 0 else None


def ahead_in_call_order(*, is_priority: bool, normal_ahead: int, priority_ahead: int,
                        line: FieldQueue, step: int | None) -> int:
    """People called before a waiting ticket (see the module doc for the model).

    ``normal_ahead`` / ``priority_ahead``: waiting tickets of the field of each kind that
    joined the queue before it; ``line``: the whole field; ``step``: ``interleave_step``.
    """
    if step is None:
        return priority_ahead if is_priority else normal_ahead + line.priority
    pending = min(max(line.pending, 0), step)
    if is_priority:
        return priority_ahead + min(line.normal, step * (priority_ahead + 1) - pending)
    return normal_ahead + min(line.priority, (normal_ahead + pending) // step)


def new_ticket_ahead(line: FieldQueue, step: int | None) -> int:
    """People ahead of a normal ticket issued now: what a field's tile announces."""
    return ahead_in_call_order(is_priority=False, normal_ahead=line.normal,
                               priority_ahead=line.priority, line=line, step=step)


def field_queues(session: Session, unit_id: int, business_date: dt.date) -> dict[int, FieldQueue]:
    """Every field's line today: two grouped queries for the whole unit."""
    is_priority = case((Ticket.priority != "none", 1), else_=0)
    waiting: dict[int, dict[int, int]] = {}
    for service_id, prio, n in session.execute(
            select(Ticket.service_id, is_priority, func.count()).where(
                Ticket.unit_id == unit_id, Ticket.business_date == business_date,
                Ticket.state == "waiting").group_by(Ticket.service_id, is_priority)):
        waiting.setdefault(int(service_id), {})[int(prio)] = int(n)
    counters = {int(sid): (int(n), int(pending or 0)) for sid, n, pending in session.execute(
        select(CounterService.service_id, func.count(), func.max(Counter.calls_since_priority))
        .join(Counter, Counter.id == CounterService.counter_id)
        .where(Counter.unit_id == unit_id, Counter.state == "open")
        .group_by(CounterService.service_id))}
    out = {}
    for service_id in set(waiting) | set(counters):
        kinds, (n, pending) = waiting.get(service_id, {}), counters.get(service_id, (0, 0))
        out[service_id] = FieldQueue(kinds.get(0, 0), kinds.get(1, 0), n, pending)
    return out


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
    """Counters serving ``service_id`` that are open now (paused and closed ones serve nobody)."""
    query = (
        select(func.count())
        .select_from(Counter)
        .join(CounterService, CounterService.counter_id == Counter.id)
        .where(CounterService.service_id == service_id, Counter.state == "open")
    )
    return int(session.scalar(query) or 0)


def mean_minutes(session: Session, service_id: int, default: float,
                 now: dt.datetime | None) -> float:
    """``average_service_minutes``, reused for up to ``CACHE_TTL`` given ``now``."""
    key = (id(session.get_bind()), service_id)
    hit = _cache.get(key)
    if now is not None and hit is not None and hit[0] > now:
        return hit[1]
    mean = average_service_minutes(session, service_id, default)
    if now is not None:
        _cache[key] = (now + CACHE_TTL, mean)
    return mean


def estimate_wait_minutes(
    session: Session, service_id: int, people_ahead: int, default_minutes: float,
    now: dt.datetime | None = None, counters: int | None = None,
) -> int:
    """People ahead x mean service time / counters open (at least one assumed).

    ``counters``: the open counters serving the field when the caller has counted them
    (``FieldQueue.counters``), else counted here. Given ``now``, the mean is reused for up
    to ``CACHE_TTL``; without it it is read afresh.
    """
    if people_ahead <= 0:
        return 0
    mean = mean_minutes(session, service_id, default_minutes, now)
    if counters is None:
        counters = open_counters(session, service_id)
    return math.ceil(people_ahead * mean / max(counters, 1))
