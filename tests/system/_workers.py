"""Process bodies for the concurrency tests (run in 'spawn' children, so module level).

Each worker builds its own engine and sessions, waits at a barrier so that all start at the
same instant, and commits one transaction per ticket, as the API does per request.
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

BARRIER_TIMEOUT = 60.0


def _session_factory(url: str) -> tuple[Any, Any]:
    from onestop.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:  # open the connection before the start line
        conn.execute(text("SELECT 1"))
        conn.rollback()
    return engine, sessionmaker(bind=engine, expire_on_commit=False)


def issue_worker(url: str, unit_id: int, service_id: int, count: int, now_iso: str,
                 barrier: Any, results: Any, index: int) -> None:
    """Issue ``count`` tickets of one service, one transaction each; report the numbers."""
    numbers: list[int] = []
    errors: list[str] = []
    start = end = 0.0
    try:
        from onestop.queueing.engine import SYSTEM, issue_ticket
        from onestop.queueing.models import Service
        from onestop.units.models import Unit

        engine, factory = _session_factory(url)
        now = dt.datetime.fromisoformat(now_iso)
        barrier.wait(BARRIER_TIMEOUT)
        start = time.monotonic()
        for _ in range(count):
            with factory() as session:
                unit = session.get(Unit, unit_id)
                service = session.get(Service, service_id)
                ticket = issue_ticket(session, unit, service, actor=SYSTEM, now=now,
                                      source="api", always_open=True)
                session.commit()
                numbers.append(ticket.number)
        end = time.monotonic()
        engine.dispose()
    except BaseException:
        errors.append(traceback.format_exc())
        barrier.abort()
    results.put({"index": index, "numbers": numbers, "errors": errors, "start": start,
                 "end": end})


def call_worker(url: str, unit_id: int, counter_id: int, user_id: int, now_iso: str,
                barrier: Any, results: Any, index: int) -> None:
    """Call next at one counter until the queue is empty; report the ticket ids called."""
    called: list[int] = []
    errors: list[str] = []
    retries = 0
    try:
        from onestop.queueing.engine import Actor, call_next, lock_counter
        from onestop.queueing.errors import DomainError, NotFound
        from onestop.units.models import Unit

        engine, factory = _session_factory(url)
        now = dt.datetime.fromisoformat(now_iso)
        actor = Actor(user_id=user_id)
        barrier.wait(BARRIER_TIMEOUT)
        while True:
            with factory() as session:
                unit = session.get(Unit, unit_id)
                counter = lock_counter(session, counter_id)
                try:
                    ticket = call_next(session, unit, counter, actor=actor, now=now)
                except NotFound as error:
                    session.rollback()
                    if error.code != "queue_empty":
                        raise
                    break
                except DomainError as error:
                    session.rollback()
                    if error.code != "busy_retry":
                        raise
                    retries += 1
                    continue
                session.commit()
                called.append(ticket.id)
        engine.dispose()
    except BaseException:
        errors.append(traceback.format_exc())
        barrier.abort()
    results.put({"index": index, "called": called, "errors": errors, "retries": retries})
