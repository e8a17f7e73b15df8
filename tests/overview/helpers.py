"""Seeding of the overview tests (issue 22 item 5): units with a busy morning, supervisors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.accounts import engine as accounts
from onestop.accounts.models import UserUnit
from onestop.queueing import engine
from onestop.queueing.models import Counter, CounterService, Service
from onestop.ratings.models import Rating
from onestop.units.models import Unit

PASSWORD = "overview-pass-1"


def add_unit(session: Session, code: str, name: str) -> Unit:
    """A unit with one field (prefix A) and two counters serving it, both closed."""
    unit = Unit(code=code, name=name, timezone="Asia/Ho_Chi_Minh")
    session.add(unit)
    session.flush()
    service = Service(unit_id=unit.id, code="A", name="Lĩnh vực chung", prefix="A")
    session.add(service)
    session.flush()
    for number in (1, 2):
        counter = Counter(unit_id=unit.id, number=number, name=f"Quầy {number}")
        session.add(counter)
        session.flush()
        session.add(CounterService(counter_id=counter.id, service_id=service.id))
    session.flush()
    return unit


def busy_day(session: Session, unit: Unit, *, issued: int, served: int, open_counters: int,
             happy: int = 0, unhappy: int = 0, at: dt.datetime, first_issue: dt.datetime | None = None,
             clerk: str | None = None) -> None:
    """``issued`` tickets (the first at ``first_issue``), ``served`` of them finished at the
    first counter, ``open_counters`` counters left open, ratings of the served."""
    service = session.scalars(select(Service).where(Service.unit_id == unit.id)).one()
    counters = list(session.scalars(select(Counter).where(Counter.unit_id == unit.id)
                                    .order_by(Counter.number)))
    user = accounts.add_user(session, unit, clerk or f"clerk-{unit.code}", PASSWORD, "clerk")
    actor = engine.Actor(user_id=user.id)
    start = first_issue or at - dt.timedelta(minutes=issued)
    tickets = [engine.issue_ticket(session, unit, service, actor=actor, always_open=True,
                                   now=start + dt.timedelta(seconds=i)) for i in range(issued)]
    if served or open_counters:
        engine.open_counter(session, counters[0], user.id, now=at)
    for i in range(served):
        engine.call_next(session, unit, counters[0], actor=actor, now=at)
        engine.finish(session, counters[0], actor=actor, now=at)
        level = "satisfied" if i < happy else ("dissatisfied" if i < happy + unhappy else None)
        if level:
            session.add(Rating(unit_id=unit.id, ticket_id=tickets[i].id, scale="3", level=level,
                               source="tablet", rated_at=at))
    if not open_counters and (served or open_counters):
        engine.close_counter(session, counters[0], actor=actor, now=at)
    session.flush()


def add_supervisor(session: Session, username: str, units: list[Unit]) -> None:
    user = accounts.add_user(session, None, username, PASSWORD, "supervisor", full_name=username)
    for unit in units:
        session.add(UserUnit(user_id=user.id, unit_id=unit.id))
    session.flush()


def tiles(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["unit"]["code"]: t for t in body["units"]}
