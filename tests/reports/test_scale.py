"""A year of a busy unit (100,000 tickets, 500,000 events) reports in a couple of seconds on SQLite."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from typing import Any

from sqlalchemy import select

from onestop.extensions import db
from onestop.queueing.models import Counter, Service
from onestop.units.models import Unit
from tests.conftest import bearer, token_for

DAYS, PER_DAY = 250, 400  # working days, tickets a day
FMT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores UTC datetimes on SQLite


def _fill(path: str, unit_id: int, services: list[int], counters: list[int]) -> None:
    conn = sqlite3.connect(path)
    start = dt.datetime(2025, 1, 6, 1, 0)  # 08:00 in Hà Nội, a Monday
    tickets, events = [], []
    tid = eid = 0
    day_index = 0
    while day_index < DAYS:
        day = start + dt.timedelta(days=day_index // 5 * 7 + day_index % 5)
        for i in range(PER_DAY):
            tid += 1
            sid = services[i % len(services)]
            issued = day + dt.timedelta(seconds=i * 70)
            call = issued + dt.timedelta(seconds=60 + (i * 37) % 1500)
            begin = call + dt.timedelta(seconds=30)
            end = begin + dt.timedelta(seconds=120 + (i * 53) % 600)
            bdate = (day + dt.timedelta(hours=7)).date().isoformat()
            counter = counters[i % len(counters)]
            tickets.append((tid, unit_id, sid, sid, bdate, i + 1, f"A{i + 1:03d}", "none", "kiosk",
                            "done", issued.strftime(FMT), issued.strftime(FMT), call.strftime(FMT),
                            begin.strftime(FMT), end.strftime(FMT), counter, 0, "none"))
            for action, at, frm, to, cid in (("issue", issued, None, "waiting", None),
                                             ("call", call, "waiting", "called", counter),
                                             ("recall", call + dt.timedelta(seconds=10), "called", "called",
                                              counter),
                                             ("start", begin, "called", "serving", counter),
                                             ("finish", end, "serving", "done", counter)):
                eid += 1
                events.append((eid, tid, at.strftime(FMT), action, frm, to, cid, sid, "{}"))
        day_index += 1
    conn.executemany(
        "INSERT INTO tickets (id, unit_id, service_id, issued_service_id, business_date, number, label, "
        "priority, source, state, issued_at, queue_at, called_at, serving_at, finished_at, counter_id, "
        "recall_count, print_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tickets)
    conn.executemany(
        "INSERT INTO ticket_events (id, ticket_id, at, action, from_state, to_state, counter_id, "
        "service_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
    conn.commit()
    conn.close()


def test_a_year_of_a_busy_unit(app: Any, client: Any) -> None:
    with app.app_context():
        unit = db.session.scalars(select(Unit)).one()
        services = list(db.session.scalars(select(Service.id).order_by(Service.id)))[:5]
        counters = list(db.session.scalars(select(Counter.id).order_by(Counter.id)))
        unit_id = unit.id
        db.session.commit()
    _fill(app.config["DATABASE_URL"].removeprefix("sqlite:///"), unit_id, services, counters)
    manager = bearer(token_for(client, "manager"))
    started = time.perf_counter()
    res = client.get("/api/v1/reports/summary?from=2025-01-01&to=2025-12-31", headers=manager)
    took = time.perf_counter() - started
    assert res.status_code == 200
    out = res.get_json()
    assert (out["issued"], out["served"], out["waits_counted"]) == (DAYS * PER_DAY,) * 3
    assert took < 6.0, f"the yearly summary took {took:.1f} s"  # ~1.5 s alone on the dev box
    started = time.perf_counter()
    res = client.get("/api/v1/reports/staffing?from=2025-01-01&to=2025-12-31", headers=manager)
    assert res.status_code == 200 and time.perf_counter() - started < 8.0
