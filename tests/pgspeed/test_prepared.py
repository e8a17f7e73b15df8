"""PostgreSQL call-next (issue 24): the queue heads are one prepared statement, the same for
every counter whatever the number of fields it serves, so that PostgreSQL neither parses
nor plans a 55-part union on each call."""

from __future__ import annotations

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from onestop.db import make_engine, utcnow
from onestop.queueing import engine
from onestop.queueing.engine import Actor
from onestop.queueing.models import CounterService
from onestop.units.models import Unit
from tests.pgspeed.test_locking import _centre

CALLS = 8  # per counter; psycopg prepares a statement on its 5th run (prepare_threshold)


def test_the_heads_statement_is_prepared_once_for_every_counter(pg_url):
    centre = _centre(pg_url, 12 * CALLS)
    (c1, u1), (c2, u2) = centre["counters"][:2]
    db = make_engine(pg_url)
    with Session(db) as session:  # counter 2 serves three fields, counter 1 all of them
        links = list(session.scalars(select(CounterService).where(CounterService.counter_id == c2)
                                     .order_by(CounterService.position)))
        session.execute(delete(CounterService).where(
            CounterService.counter_id == c2,
            CounterService.service_id.not_in([link.service_id for link in links[:3]])))
        session.commit()
    with Session(db) as session:  # one session, so one connection: its prepared statements
        for _ in range(CALLS):
            for counter_id, user_id in ((c1, u1), (c2, u2)):
                unit = session.get(Unit, centre["unit"])
                engine.call_next(session, unit, engine.lock_counter(session, counter_id),
                                 actor=Actor(user_id=user_id), now=utcnow())
                session.commit()
        rows = session.execute(text(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%FROM tickets%ORDER BY queue_at, id LIMIT%'")).all()
    db.dispose()
    heads = [(sql, runs) for sql, runs in rows if "SKIP LOCKED" in sql]
    assert len(heads) == 1, rows  # one statement for both counters
    assert heads[0][1] >= 2 * CALLS - 5  # run prepared from the 5th call on
    assert not [sql for sql, _runs in rows if "UNION ALL" in sql and "unnest" not in sql]
