"""Real processes racing on one database: numbering and calling stay exact (DESIGN §3).

Four or more 'spawn' processes, each with its own engine, session and one transaction per
ticket, start at a barrier and work on one SQLite file or one PostgreSQL schema.
"""

from __future__ import annotations

from collections import Counter as Tally
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onestop import demo
from onestop.accounts.models import User
from onestop.db import make_engine
from onestop.migrate import upgrade
from onestop.queueing.engine import SYSTEM, issue_ticket, open_counter
from onestop.queueing.models import Counter, CounterService, Service, Ticket, TicketEvent
from onestop.units.models import Unit
from tests.conftest import MONDAY_9, race_processes
from tests.system import _workers

pytestmark = pytest.mark.slow

PROCESSES = 4
PER_PROCESS = 50
CALL_TICKETS = 200
COUNTERS = (1, 2, 3, 4)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The schema by migration, then the demo centre, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'onestop.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_url")
    upgrade(url)
    with _session(url) as session:
        demo.load(session)
        session.commit()
    return url


class _session:
    """A short-lived session on its own engine (the parent's view of the database)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.session = Session(self.engine, expire_on_commit=False)

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, *exc: Any) -> None:
        self.session.close()
        self.engine.dispose()


def _demo_ids(session: Session) -> tuple[int, int]:
    unit = session.scalars(select(Unit).where(Unit.code == demo.UNIT_CODE)).one()
    service = session.scalars(
        select(Service).where(Service.unit_id == unit.id, Service.code == "TPHT")).one()
    return unit.id, service.id


def test_parallel_issue_numbers_are_distinct_and_consecutive(db_url: str) -> None:
    with _session(db_url) as session:
        unit_id, service_id = _demo_ids(session)
    rows = [(db_url, unit_id, service_id, PER_PROCESS, MONDAY_9.isoformat())] * PROCESSES
    results = race_processes(_workers.issue_worker, rows)

    total = PROCESSES * PER_PROCESS
    handed_out = [n for row in results for n in row["numbers"]]
    assert len(handed_out) == total
    assert sorted(handed_out) == list(range(1, total + 1))
    assert all(row["numbers"] == sorted(row["numbers"]) for row in results)
    assert all(len(row["numbers"]) == PER_PROCESS for row in results)
    # they really raced: every process was issuing while every other one was. (Which
    # numbers each got is up to the lock: SQLite's busy handler is not fair.)
    assert max(row["start"] for row in results) < min(row["end"] for row in results)
    with _session(db_url) as session:
        stored = list(session.scalars(
            select(Ticket.number).where(Ticket.service_id == service_id).order_by(Ticket.number)))
        labels = set(session.scalars(select(Ticket.label).where(Ticket.service_id == service_id)))
        issue_events = session.scalar(
            select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "issue"))
    assert stored == list(range(1, total + 1))
    assert len(labels) == total
    assert issue_events == total


def _prepare_counters(url: str) -> tuple[int, list[tuple[int, int]], list[int]]:
    """Counters 1-4 all serve TPHT only and are open; 200 TPHT tickets wait."""
    with _session(url) as session:
        unit_id, service_id = _demo_ids(session)
        unit = session.get(Unit, unit_id)
        assert unit is not None
        pairs = []
        for number in COUNTERS:
            counter = session.scalars(select(Counter).where(
                Counter.unit_id == unit_id, Counter.number == number)).one()
            session.execute(delete(CounterService).where(CounterService.counter_id == counter.id))
            session.add(CounterService(counter_id=counter.id, service_id=service_id, position=0))
            clerk = session.scalars(select(User).where(User.username == f"clerk{number}")).one()
            open_counter(session, counter, clerk.id, now=MONDAY_9)
            pairs.append((counter.id, clerk.id))
        service = session.get(Service, service_id)
        assert service is not None
        ids = [issue_ticket(session, unit, service, actor=SYSTEM, now=MONDAY_9,
                            always_open=True).id for _ in range(CALL_TICKETS)]
        session.commit()
    return unit_id, pairs, ids


def test_parallel_call_next_calls_every_ticket_exactly_once(db_url: str) -> None:
    unit_id, pairs, ticket_ids = _prepare_counters(db_url)
    rows = [(db_url, unit_id, counter_id, user_id, MONDAY_9.isoformat())
            for counter_id, user_id in pairs]
    results = race_processes(_workers.call_worker, rows)

    print("calls per counter", [len(row["called"]) for row in results],
          "busy retries", [row["retries"] for row in results])
    called = [tid for row in results for tid in row["called"]]
    duplicates = [tid for tid, n in Tally(called).items() if n > 1]
    assert duplicates == []
    assert sorted(called) == sorted(ticket_ids)
    with _session(db_url) as session:
        calls = Tally(session.scalars(
            select(TicketEvent.ticket_id).where(TicketEvent.action == "call")))
        states = Tally(session.scalars(select(Ticket.state).where(Ticket.id.in_(ticket_ids))))
        by_counter = dict(session.execute(
            select(TicketEvent.ticket_id, TicketEvent.counter_id).where(
                TicketEvent.action == "call")).tuples().all())
    assert set(calls) == set(ticket_ids)
    assert set(calls.values()) == {1}
    # every counter's last call is still at its counter; everything before it is finished
    active = sum(1 for row in results if row["called"])
    assert states == {"done": CALL_TICKETS - active, "called": active}
    for row, (counter_id, _user) in zip(results, pairs, strict=True):
        assert all(by_counter[tid] == counter_id for tid in row["called"])
