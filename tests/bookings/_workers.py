"""Process body for the booking race (module level, for 'spawn' children)."""

from __future__ import annotations

import datetime as dt
import os
import traceback
from typing import Any

BARRIER_TIMEOUT = 60.0


def book_worker(url: str, unit_id: int, service_id: int, attempts: list[tuple[str, str]],
                now_iso: str, barrier: Any, results: Any, index: int) -> None:
    """Try each ``(slot start ISO, phone)`` in its own transaction, as the API does; report
    the codes booked and the refusal codes."""
    booked: list[str] = []
    refused: list[str] = []
    errors: list[str] = []
    try:
        from sqlalchemy import text
        from sqlalchemy.orm import sessionmaker

        from onestop.bookings.engine import book
        from onestop.db import make_engine
        from onestop.queueing.engine import Actor
        from onestop.queueing.errors import DomainError
        from onestop.queueing.models import Service
        from onestop.units.models import Unit

        # a generous wait for SQLite's write lock: on a loaded machine (the suite on two
        # workers, other jobs) six writers may each wait for the five others many times
        engine = make_engine(url, busy_timeout_ms=60000)
        with engine.connect() as conn:  # connect before the start line
            conn.execute(text("SELECT 1"))
            conn.rollback()
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        now = dt.datetime.fromisoformat(now_iso)
        barrier.wait(BARRIER_TIMEOUT)
        for start, phone in attempts:
            with factory() as session:
                unit = session.get(Unit, unit_id)
                service = session.get(Service, service_id)
                try:
                    booking = book(session, unit, service, start=dt.datetime.fromisoformat(start),
                                   phone=phone, actor=Actor(), now=now)
                    session.commit()
                    booked.append(booking.code)
                except DomainError as refusal:
                    session.rollback()
                    refused.append(refusal.code)
        engine.dispose()
    except BaseException:
        errors.append(traceback.format_exc())
        barrier.abort()
    results.put({"index": index, "booked": booked, "refused": refused, "errors": errors})
    # the report is out (the queue's feeder flushed): leave at once. On a loaded machine the
    # interpreter's own teardown of everything imported took longer than the parent's wait.
    results.close()
    results.join_thread()
    os._exit(0)
