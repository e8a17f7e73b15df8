"""Which waiting ticket a counter calls next.

Priority: the unit's ``priority_mode`` is ``strict`` (any priority ticket first) or
``interleave`` (after ``interleave_normal`` normal calls, one priority call). Within a
class the counter's ``service_mode`` decides: ``fifo`` (oldest first across its services),
``order`` (its first service with anyone waiting, then the next) or ``weighted`` (the
service furthest below its weight share of today's calls at this counter).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter as Tally
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    TextualSelect,
    bindparam,
    case,
    column,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from onestop.queueing.models import PRIORITIES, Counter, Ticket
from onestop.units.models import Unit

BATCH = 5
Pool = Select[int, str]  # rows of (ticket id, priority)


def _heads_union(services: int) -> str:
    """The ids that can be among the best ``BATCH``: the ``BATCH`` oldest of each (field,
    priority class) and of each class of the tickets sent to this counter. Every ordering
    below is constant within such a group but for (queue_at, id), so the best of the whole
    pool are among these. Each part is one short walk of an index (``ix_tickets_waiting``,
    ``ix_tickets_target``; an equality on every leading column, so that the planner picks it):
    a call costs the same with 20 people waiting or 4,000, where one query over the whole
    pool sorted all of them. Plain SQL, built once per number of fields: as an expression of
    60 parts it cost more to build and key for the cache than to run."""
    head = ("SELECT id FROM (SELECT id FROM tickets WHERE unit_id = :unit AND business_date = :day"
            " AND state = 'waiting' AND {where} ORDER BY queue_at, id LIMIT {batch}) AS h{n}")
    wheres = [f"service_id = :s{i} AND target_counter_id IS NULL AND priority = :p{j}"
              for i in range(services) for j in range(len(PRIORITIES))]
    wheres += [f"target_counter_id = :counter AND priority = :p{j}" for j in range(len(PRIORITIES))]
    return " UNION ALL ".join(head.format(where=w, batch=BATCH, n=n) for n, w in enumerate(wheres))


def _pg_heads() -> str:
    """PostgreSQL: the same heads in one short statement, whatever the number of fields: a
    ``LATERAL`` walk of the index per (field, priority class) of the arrays ``:services``
    and ``:prios``, and one per class for the tickets sent to the counter. PostgreSQL plans
    the ~55-part union afresh on each call (its custom plan, ~10 ms of planning for ~1 ms
    of execution: docs/postgres-performance.md); this one plans in well under a
    millisecond, and one prepared statement serves every counter."""
    walk = ("SELECT h.id FROM {source} CROSS JOIN LATERAL (SELECT id FROM tickets"
            " WHERE unit_id = :unit AND business_date = :day AND state = 'waiting' AND {where}"
            " ORDER BY queue_at, id LIMIT " + str(BATCH) + ") AS h")
    prios = "unnest(CAST(:prios AS varchar[])) AS p(prio)"
    fields = walk.format(source=f"unnest(CAST(:services AS integer[])) AS s(sid) CROSS JOIN {prios}",
                         where="service_id = s.sid AND target_counter_id IS NULL AND priority = p.prio")
    direct = walk.format(source=prios, where="target_counter_id = :counter AND priority = p.prio")
    return f"{fields} UNION ALL {direct}"


def _union(services: int, pg: bool) -> str:
    return _pg_heads() if pg else _heads_union(services)


@functools.lru_cache(maxsize=64)
def _heads_sql(services: int, pg: bool = False) -> TextualSelect:
    return text(_union(services, pg)).bindparams(bindparam("day", type_=Date)).columns(
        column("id", Integer))


@functools.lru_cache(maxsize=64)
def _strict_fifo_sql(services: int, pg: bool = False, skip_locked: bool = False) -> TextualSelect:
    """The common case (strict priority, oldest first) in one statement over the heads: any
    priority class first, then a ticket sent to this very counter, then the oldest. Same
    order as ``_ordered``. ``skip_locked`` (PostgreSQL): only the best ticket no other
    counter is claiming right now, locked for this transaction (``FOR UPDATE SKIP
    LOCKED``), so that counters calling at the same moment do not queue on one row lock;
    ``state = 'waiting'`` is checked again on the row as it is once another's claim has
    committed."""
    lock = " LIMIT 1 FOR UPDATE SKIP LOCKED" if skip_locked else f" LIMIT {BATCH}"
    # PostgreSQL: the heads once (an InitPlan), not again for each row of tickets as its
    # generic plan did for ``IN (...)`` on a table without statistics yet (~130 ms)
    among = f"= ANY(ARRAY({_pg_heads()}))" if pg else f"IN ({_heads_union(services)})"
    return text(
        f"SELECT id, priority FROM tickets WHERE id {among}"
        + (" AND state = 'waiting'" if skip_locked else "")
        + " ORDER BY CASE WHEN priority != 'none' THEN 0 ELSE 1 END,"
        " CASE WHEN target_counter_id = :counter THEN 0 ELSE 1 END, queue_at, id" + lock
    ).bindparams(bindparam("day", type_=Date)).columns(column("id", Integer),
                                                       column("priority", String))


def _heads_params(unit: Unit, counter: Counter, business_date: dt.date,
                  served: list[int], pg: bool = False) -> dict[str, Any]:
    params: dict[str, Any] = {"unit": unit.id, "day": business_date, "counter": counter.id}
    if pg:
        params.update(services=list(served), prios=list(PRIORITIES))
        return params
    params.update({f"s{i}": service_id for i, service_id in enumerate(served)})
    params.update({f"p{j}": priority for j, priority in enumerate(PRIORITIES)})
    return params


def _is_pg(session: Session) -> bool:
    return session.connection().dialect.name == "postgresql"


def _heads(session: Session, unit: Unit, counter: Counter, business_date: dt.date) -> list[int]:
    served = counter.served_ids
    pg = _is_pg(session)
    return list(session.connection().scalars(
        _heads_sql(len(served), pg), _heads_params(unit, counter, business_date, served, pg)))


def _pool(session: Session, unit: Unit, counter: Counter, business_date: dt.date) -> Pool:
    heads = _heads(session, unit, counter, business_date)
    return select(Ticket.id, Ticket.priority).where(Ticket.id.in_(heads))


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
    strict = unit.setting("priority_mode") != "interleave"
    served = counter.served_ids
    if strict and (counter.service_mode == "fifo" or not served):
        pg = _is_pg(session)
        params = _heads_params(unit, counter, business_date, served, pg)
        # the best one nobody else is claiming; else (all taken now) wait as before. Only on
        # a call: a counter loaded by ``engine.lock_counter`` (the one way to act at a
        # counter) has ``served``; a page that only shows the next ticket takes no lock
        if pg and counter.served is not None:
            rows = session.connection().execute(_strict_fifo_sql(len(served), pg, True),
                                                params).all()
            if rows:
                return [(int(row[0]), str(row[1])) for row in rows]
        rows = session.connection().execute(_strict_fifo_sql(len(served), pg), params).all()
        return [(int(row[0]), str(row[1])) for row in rows]
    pool = _pool(session, unit, counter, business_date)
    if strict and counter.service_mode != "weighted":
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
