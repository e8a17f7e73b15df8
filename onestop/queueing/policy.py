"""Which waiting ticket a counter calls next.

Priority: the unit's ``priority_mode`` is ``strict`` (any priority ticket first) or
``interleave`` (after ``interleave_normal`` normal calls, one priority call). Within a
class the counter's ``service_mode`` decides: ``fifo`` (oldest first across its services),
``order`` (its first service with anyone waiting, then the next) or ``weighted`` (the
service furthest below its weight share of today's calls at this counter).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter as Tally
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from onestop.queueing.models import Counter, Ticket
from onestop.units.models import Unit

BATCH = 5
Pool = Select[int, str]  # rows of (ticket id, priority)


def _pool(unit: Unit, counter: Counter, business_date: dt.date) -> Pool:
    return select(Ticket.id, Ticket.priority).where(
        Ticket.unit_id == unit.id,
        Ticket.business_date == business_date,
        Ticket.state == "waiting",
        or_(
            and_(Ticket.service_id.in_(counter.service_ids), Ticket.target_counter_id.is_(None)),
            Ticket.target_counter_id == counter.id,
        ),
    )


def _weighted_service(session: Session, counter: Counter, business_date: dt.date,
                      waiting: set[int]) -> int | None:
    served = Tally(session.scalars(
        select(Ticket.service_id).where(Ticket.counter_id == counter.id,
                                        Ticket.business_date == business_date,
                                        Ticket.called_at.is_not(None))
    ))
    options = [link for link in counter.links if link.service_id in waiting]
    if not options:
        return None
    best = min(options, key=lambda link: (served[link.service_id] / max(link.weight, 1), link.position))
    return best.service_id


def _ordered(session: Session, query: Pool, counter: Counter, business_date: dt.date,
             *lead: Any) -> list[tuple[int, str]]:
    # ``lead`` orderings first; then a ticket sent to this very counter
    direct = case((Ticket.target_counter_id == counter.id, 0), else_=1)
    query = query.order_by(*lead)
    if counter.service_mode == "order" and counter.links:
        rank = case({link.service_id: link.position for link in counter.links},
                    value=Ticket.service_id, else_=999)
        query = query.order_by(direct, rank, Ticket.queue_at, Ticket.id)
    elif counter.service_mode == "weighted" and counter.links:
        waiting = set(session.scalars(
            select(func.distinct(Ticket.service_id)).where(
                Ticket.id.in_(query.with_only_columns(Ticket.id).scalar_subquery()))
        ))
        chosen = _weighted_service(session, counter, business_date, waiting)
        preferred = case((Ticket.service_id == chosen, 0), else_=1)
        query = query.order_by(direct, preferred, Ticket.queue_at, Ticket.id)
    else:
        query = query.order_by(direct, Ticket.queue_at, Ticket.id)
    return [(int(row[0]), str(row[1])) for row in session.execute(query.limit(BATCH))]


def candidates(session: Session, unit: Unit, counter: Counter,
               business_date: dt.date) -> list[tuple[int, str]]:
    """Up to ``BATCH`` ``(ticket_id, priority)`` pairs, best first."""
    pool = _pool(unit, counter, business_date)
    if unit.setting("priority_mode") != "interleave" and counter.service_mode != "weighted":
        # strict priority in one query: any priority ticket first, then the rest
        return _ordered(session, pool, counter, business_date,
                        case((Ticket.priority != "none", 0), else_=1))
    priority = _ordered(session, pool.where(Ticket.priority != "none"), counter, business_date)
    if not priority:
        return _ordered(session, pool, counter, business_date)
    if unit.setting("priority_mode") == "interleave":
        due = counter.calls_since_priority >= int(unit.setting("interleave_normal"))
        if not due:
            normal = _ordered(session, pool.where(Ticket.priority == "none"), counter,
                              business_date)
            return normal + priority
    return priority
