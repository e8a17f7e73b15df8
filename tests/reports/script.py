"""A scripted office day written straight into the tables, with known timestamps.

Each ticket follows a plan (issue, waits, calls, services, finish / skip / transfer); the
plan is also the answer key: the tests compute the expected figures from it by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.accounts.models import User
from onestop.queueing.models import Counter, Service, Ticket, TicketEvent

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ).astimezone(dt.UTC)


@dataclass
class Plan:
    """One ticket's life. Times are seconds after ``issued``."""

    service: str  # field code
    counter: int  # counter number that calls it
    issued: dt.datetime
    wait: int  # seconds from issue to the first call
    service_seconds: int  # from start (or call) to the end at the counter
    with_start: bool = True  # a `start` event (citizen arrived) before the service
    outcome: str = "finish"  # finish, skip, transfer
    transfer_to: str | None = None  # for transfer: the field it waits for next
    second_wait: int = 0  # transfer: the wait in the new field
    second_counter: int = 0
    second_service: int = 0
    waits: list[tuple[str, int, float]] = field(default_factory=list)  # (field, counter, s)


def _ids(session: Session, unit_id: int) -> tuple[dict[str, int], dict[int, Counter], dict[int, int]]:
    services = {s.code: s.id for s in session.scalars(select(Service).where(Service.unit_id == unit_id))}
    counters = {c.number: c for c in session.scalars(select(Counter).where(Counter.unit_id == unit_id))}
    clerks = {int(u.username[5:]): u.id for u in session.scalars(
        select(User).where(User.username.like("clerk%")))}
    return services, counters, clerks


def write(session: Session, unit_id: int, plans: list[Plan]) -> None:
    """Insert the tickets and their events (flushes; the caller commits)."""
    services, counters, clerks = _ids(session, unit_id)
    numbers: dict[tuple[int, dt.date], int] = {}
    for plan in plans:
        sid = services[plan.service]
        day = plan.issued.astimezone(TZ).date()
        n = numbers[(sid, day)] = numbers.get((sid, day), 0) + 1
        ticket = Ticket(unit_id=unit_id, service_id=sid, issued_service_id=sid, business_date=day,
                        number=n, label=f"{plan.service}{n:04d}", state="waiting",
                        issued_at=plan.issued, queue_at=plan.issued)
        session.add(ticket)
        session.flush()
        events: list[dict[str, Any]] = []

        def ev(action: str, at: dt.datetime, frm: str | None, to: str, counter: int | None,
               service: int, events: list[dict[str, Any]] = events, **details: Any) -> None:
            events.append({"action": action, "at": at, "from_state": frm, "to_state": to,
                           "counter_id": counters[counter].id if counter else None,
                           "actor_user_id": clerks.get(counter) if counter else None,
                           "service_id": service, "details": details})

        ev("issue", plan.issued, None, "waiting", None, sid)
        called = plan.issued + dt.timedelta(seconds=plan.wait)
        ev("call", called, "waiting", "called", plan.counter, sid)
        begin = called
        if plan.with_start:
            begin = called + dt.timedelta(seconds=30)
            ev("recall", called + dt.timedelta(seconds=10), "called", "called", plan.counter, sid)
            ev("start", begin, "called", "serving", plan.counter, sid)
        end = begin + dt.timedelta(seconds=plan.service_seconds)
        if plan.outcome == "skip":
            ev("skip", end, "called", "missed", plan.counter, sid, reason="absent")
            ticket.state = "missed"
        elif plan.outcome == "transfer":
            new = services[plan.transfer_to or ""]
            ev("transfer", end, "serving", "waiting", plan.counter, new, from_service=sid)
            called2 = end + dt.timedelta(seconds=plan.second_wait)
            ev("call", called2, "waiting", "called", plan.second_counter, new)
            finish = called2 + dt.timedelta(seconds=plan.second_service)
            ev("finish", finish, "called", "done", plan.second_counter, new, outcome="served")
            ticket.state, ticket.service_id = "done", new
        else:
            ev("finish", end, "serving" if plan.with_start else "called", "done", plan.counter, sid,
               outcome="served")
            ticket.state = "done"
        for row in events:
            session.add(TicketEvent(ticket_id=ticket.id, **row))
    session.flush()
