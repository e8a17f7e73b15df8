"""Staffing advice: arrivals and service times of a scripted week, counters open from events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from onestop.extensions import db
from onestop.queueing.models import Counter, CounterEvent
from onestop.reports import erlang
from onestop.units.models import Unit
from tests.conftest import bearer, token_for
from tests.reports.script import Plan, local, write
from tests.reports.test_figures import MONDAY

WEEK = [MONDAY + dt.timedelta(days=i) for i in range(5)]


def _counter_day(session: Any, counter: Counter, day: dt.date,
                 moves: list[tuple[int, int, str, str]]) -> None:
    state = "closed"
    for hour, minute, action, to_state in moves:
        session.add(CounterEvent(counter_id=counter.id, at=local(day, hour, minute), action=action,
                                 from_state=state, to_state=to_state))
        state = to_state


def test_counters_needed_beside_counters_open(app: Any, client: Any) -> None:
    plans = [Plan("TPHT", 1, local(day, 9, 0) + dt.timedelta(minutes=2 * i), wait=60,
                  service_seconds=600) for day in WEEK for i in range(30)]
    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit)).one()
        write(session, unit.id, plans)
        c1, c2 = (session.scalars(select(Counter).where(Counter.number == n)).one() for n in (1, 2))
        for day in WEEK:
            _counter_day(session, c1, day, [(8, 0, "open", "open"), (9, 30, "pause", "paused"),
                                            (9, 45, "resume", "open"), (11, 0, "close", "closed")])
            _counter_day(session, c2, day, [(9, 0, "open", "open"), (10, 0, "close", "closed")])
        session.commit()
    res = client.get(f"/api/v1/reports/staffing?from={WEEK[0]}&to={WEEK[-1]}",
                     headers=bearer(token_for(client, "manager")))
    assert res.status_code == 200, res.get_json()
    out = res.get_json()
    assert out["target_wait_minutes"] == 15 and out["max_late_share"] == 0.2
    tpht = next(s for s in out["services"] if s["name"] == "Tư pháp – Hộ tịch")
    assert tpht["days"] == 5 and tpht["mean_service_minutes"] == 10.0
    hours = {h["hour"]: h for h in tpht["hours"]}
    assert sorted(hours) == [8, 9, 10]
    # 30 tickets an hour, 10 minutes each: A = 5 Erlangs. With 6 counters P(wait) =
    # erlang_c(6, 5) and P(wait > 15 min) = P(wait) * e^{-(6-5)*15/10} <= 20 %; with 5 it is 1.
    assert hours[9]["arrivals_per_hour"] == 30.0 and hours[9]["traffic"] == 5.0
    assert hours[9]["needed"] == 6
    assert erlang.erlang_c(6, 5.0) * 0.22313 < 0.2
    # counter 1 open 45 minutes of the 9 o'clock hour (paused 9:30-9:45), counter 2 the whole hour
    assert hours[9]["open"] == 1.75
    assert (hours[8]["open"], hours[10]["open"]) == (1.0, 1.0)
    assert (hours[8]["needed"], hours[10]["needed"]) == (0, 0)
    # NV is served at counter 2 too: it was open there, and nobody came
    nv = next(s for s in out["services"] if s["name"] == "Nội vụ")
    # (counted on its own days only: Tuesday and Thursday)
    assert [(h["hour"], h["open"], h["needed"]) for h in nv["hours"]] == [(9, 1.0, 0)]
    assert nv["service_time_measured"] is False and nv["mean_service_minutes"] == 5.0
