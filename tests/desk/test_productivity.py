"""Clerk productivity (issue 22 item 4): time open, paused, serving, idle, walk time and
tickets per hour, from the counter and ticket events of a day played with set times."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from onestop.accounts.models import User
from onestop.queueing import engine
from onestop.queueing.engine import Actor
from onestop.queueing.models import Counter, Service
from onestop.reports import productivity
from tests.api.helpers import in_db, ok, unit_of
from tests.conftest import bearer, token_for

T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)  # Monday 08:00 in Hà Nội


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _play_a_morning(session):
    """clerk1 at counter 1: open 08:00; ticket A called 08:05, arrives 08:07, done 08:17;
    pause 08:20-08:30; ticket B called 08:40 (arrives at once), done 08:50; close 09:00."""
    unit = unit_of(session)
    clerk = session.scalars(select(User).where(User.username == "clerk1")).one()
    counter = session.scalars(select(Counter).where(Counter.unit_id == unit.id, Counter.number == 1)).one()
    field = session.get(Service, counter.service_ids[0])
    who = Actor(user_id=clerk.id)
    for minute in (-10, -9):
        engine.issue_ticket(session, unit, field, actor=who, now=at(minute), always_open=True)
    engine.open_counter(session, counter, clerk.id, now=at(0))
    engine.call_next(session, unit, counter, actor=who, now=at(5))
    engine.start_serving(session, counter, actor=who, now=at(7))
    engine.finish(session, counter, actor=who, now=at(17))
    engine.pause_counter(session, counter, actor=who, now=at(20), reason="Họp")
    engine.resume_counter(session, counter, actor=who, now=at(30))
    engine.call_next(session, unit, counter, actor=who, now=at(40))
    engine.start_serving(session, counter, actor=who, now=at(40))
    engine.finish(session, counter, actor=who, now=at(50))
    engine.close_counter(session, counter, actor=who, now=at(60))
    session.flush()
    return unit, clerk


def test_a_clerks_morning(app):
    with in_db(app) as session:
        unit, clerk = _play_a_morning(session)
        [row] = productivity.clerks(session, unit, at(-60), at(120))
    assert row["clerk_id"] == clerk.id
    assert (row["open_seconds"], row["paused_seconds"], row["serving_seconds"]) == (3600, 600, 1200)
    assert (row["walk_seconds"], row["walk_mean_seconds"]) == (120, 60)
    assert row["idle_seconds"] == 3600 - 600 - 1200 - 120
    assert (row["served"], row["per_hour"]) == (2, 2.0)


def test_productivity_report_over_http(app, client):
    with in_db(app) as session:
        _play_a_morning(session)
    manager = token_for(client, "manager")
    body = ok(client.get("/api/v1/reports/productivity?from=2026-11-30&to=2026-11-30",
                         headers=bearer(manager)))
    assert [(r["served"], r["open_seconds"]) for r in body["clerks"]] == [(2, 3600)]
    assert client.get("/api/v1/reports/productivity?from=2026-11-30&to=2026-11-30",
                      headers=bearer(token_for(client, "clerk1"))).status_code == 403
    assert ok(client.get("/api/v1/reports/productivity?from=2026-12-01&to=2026-12-01",
                         headers=bearer(manager)))["clerks"] == []
