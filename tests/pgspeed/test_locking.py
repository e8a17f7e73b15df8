"""PostgreSQL call-next (issue 24): counters calling at once skip a head another counter is
claiming (``FOR UPDATE SKIP LOCKED``) instead of waiting on its row lock, and still never
call one ticket twice."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter as Tally
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from onestop import demo
from onestop.db import make_engine, utcnow
from onestop.migrate import upgrade
from onestop.queueing import engine
from onestop.queueing.engine import Actor
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Counter, CounterService, Service
from onestop.units.models import Unit

CLERKS = 6


def _centre(url: str, tickets: int) -> dict[str, Any]:
    """The demo centre, every counter serving every field, counters 1..CLERKS open,
    ``tickets`` waiting spread over the fields; ``{"unit", "counters": [(id, user)]}``."""
    upgrade(url)
    db = make_engine(url)
    now = utcnow()
    with Session(db) as session:
        unit = demo.load(session)
        services = list(session.scalars(select(Service).where(Service.unit_id == unit.id)))
        counters = list(session.scalars(
            select(Counter).where(Counter.unit_id == unit.id).order_by(Counter.number)))
        for service in services:
            service.daily_cap = None
        for counter in counters:
            session.execute(delete(CounterService).where(CounterService.counter_id == counter.id))
            for position, service in enumerate(services):
                session.add(CounterService(counter_id=counter.id, service_id=service.id,
                                           position=position))
        session.flush()
        users = [session.scalar(text("SELECT id FROM users WHERE username = :u"),
                                {"u": f"clerk{n}"}) for n in range(1, CLERKS + 1)]
        for counter, user in zip(counters, users, strict=False):
            engine.open_counter(session, counter, user, now=now)
        for i in range(tickets):
            engine.issue_ticket(session, unit, services[i % len(services)], actor=Actor(),
                                now=now, always_open=True)
        out = {"unit": unit.id, "counters": [(c.id, u) for c, u in zip(counters, users,
                                                                        strict=False)]}
        session.commit()
    db.dispose()
    return out


def _call_all(url: str, unit_id: int, counter_id: int, user_id: int, barrier: Any,
              results: Any) -> None:
    """One clerk's process: call next (each in its own committed transaction) until the
    queue is empty; the ids called."""
    db = make_engine(url)
    called: list[int] = []
    try:
        barrier.wait(60)
        while True:
            with Session(db) as session:
                unit = session.get(Unit, unit_id)
                counter = engine.lock_counter(session, counter_id)
                try:
                    ticket = engine.call_next(session, unit, counter,
                                              actor=Actor(user_id=user_id), now=utcnow())
                except NotFound:
                    session.commit()
                    break
                called.append(ticket.id)
                session.commit()
        results.put(("ok", called))
    except BaseException as exc:  # noqa: BLE001 - reported to the test
        results.put(("error", repr(exc)))
    finally:
        db.dispose()


def test_clerks_in_several_processes_never_call_a_ticket_twice(pg_url):
    centre = _centre(pg_url, 240)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(CLERKS), ctx.Queue()
    procs = [ctx.Process(target=_call_all, args=(pg_url, centre["unit"], cid, uid, barrier,
                                                  results)) for cid, uid in centre["counters"]]
    for proc in procs:
        proc.start()
    out = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(30)
    assert [kind for kind, _ in out] == ["ok"] * CLERKS, out
    called = [tid for _kind, ids in out for tid in ids]
    assert len(called) == 240 and len(set(called)) == 240
    assert all(ids for _kind, ids in out)  # every clerk got some: nobody starved
    db = make_engine(pg_url)
    with db.connect() as conn:
        calls = Tally(conn.scalars(text(
            "SELECT ticket_id FROM ticket_events WHERE action = 'call'")))
        waiting = conn.scalar(text("SELECT count(*) FROM tickets WHERE state = 'waiting'"))
    db.dispose()
    assert max(calls.values()) == 1 and len(calls) == 240
    assert waiting == 0


def test_a_counter_does_not_wait_for_the_head_another_is_calling(pg_url):
    """Counter 1 has called the head and not committed yet; counter 2 calls the next
    ticket at once (with lock_timeout as the judge: waiting on counter 1's row lock would
    fail), and once counter 1 rolls back, its ticket is the one counter 3 calls."""
    centre = _centre(pg_url, 3)
    db = make_engine(pg_url)
    (c1, u1), (c2, u2), (c3, u3) = centre["counters"][:3]
    first = Session(db)
    try:
        unit = first.get(Unit, centre["unit"])
        head = engine.call_next(first, unit, engine.lock_counter(first, c1),
                                actor=Actor(user_id=u1), now=utcnow()).id
        got: dict[str, Any] = {}

        def second() -> None:
            with Session(db) as session:
                session.execute(text("SET LOCAL lock_timeout = '5s'"))
                unit2 = session.get(Unit, centre["unit"])
                try:
                    got["ticket"] = engine.call_next(
                        session, unit2, engine.lock_counter(session, c2),
                        actor=Actor(user_id=u2), now=utcnow()).id
                    session.commit()
                except Exception as exc:  # noqa: BLE001 - the lock timeout, reported
                    got["error"] = repr(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(30)
        assert "error" not in got, got["error"]
        assert got["ticket"] != head
        first.rollback()
    finally:
        first.close()
    with Session(db) as session:
        unit = session.get(Unit, centre["unit"])
        third = engine.call_next(session, unit, engine.lock_counter(session, c3),
                                 actor=Actor(user_id=u3), now=utcnow())
        assert third.id == head  # the head went back to the queue, first in line
        session.commit()
    db.dispose()


def test_showing_the_next_ticket_locks_nothing(pg_url):
    """The workstation's view asks for the counter's next ticket (``policy.candidates`` on a
    counter loaded without its lock): while that transaction is open, another counter's
    call-next gets that very ticket at once."""
    from onestop.queueing import policy

    centre = _centre(pg_url, 2)
    db = make_engine(pg_url)
    (c1, _u1), (c2, u2) = centre["counters"][:2]
    viewer = Session(db)
    try:
        unit = viewer.get(Unit, centre["unit"])
        counter = viewer.get(Counter, c1)
        shown = policy.candidates(viewer, unit, counter, unit.business_date(utcnow()))[0][0]
        with Session(db) as session:
            session.execute(text("SET LOCAL lock_timeout = '5s'"))
            called = engine.call_next(session, session.get(Unit, centre["unit"]),
                                      engine.lock_counter(session, c2),
                                      actor=Actor(user_id=u2), now=utcnow())
            assert called.id == shown
            session.commit()
    finally:
        viewer.close()
    db.dispose()
