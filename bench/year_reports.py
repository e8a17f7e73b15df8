"""Reports at scale on both back ends (issue 24 item 3): a year of a busy provincial centre.

``--per-day`` tickets (default 2,000) on each of ``--days`` working days (default 250)
before today, each with its trail (issue, call, start, finish), two in three rated on the
tablet, are written straight into a fresh database of each kind (SQLite file, PostgreSQL
schema; bulk ``executemany`` / ``COPY``, then ``ANALYZE`` as autovacuum would), plus a
morning of today's tickets waiting. Then, in one process (the Flask app and its test
client; the offloaded work runs inline, so what is timed is the work itself):

- ``GET /api/v1/reports/summary`` over the last month, quarter and year;
- ``GET /api/v1/dashboard`` (the manager dashboard now);
- ``GET /api/v1/reports/export?format=xlsx`` over the month and the year;
- ``GET /api/v1/display/state`` (the hall display's snapshot) on the same database before
  the history was written and after: it must not depend on history.

Each request ``--repeat`` times (median). Target: the year summary under 1 s on both.

    python -m bench.year_reports [--kinds sqlite,pg] [--per-day 2000] [--days 250]

Results: bench/results/year_reports.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.backends import PG_URL, database, pg_reachable
from bench.common import machine_info, write_json

FMT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores UTC datetimes on SQLite
TARGET_YEAR_S = 1.0
LEVELS = (("very_satisfied", 3), ("satisfied", 2), ("dissatisfied", 1))
TICKET_COLS = ("id", "unit_id", "service_id", "issued_service_id", "business_date", "number",
               "label", "priority", "source", "state", "issued_at", "queue_at", "called_at",
               "serving_at", "finished_at", "counter_id", "recall_count", "print_state",
               "outcome")
EVENT_COLS = ("id", "ticket_id", "at", "action", "from_state", "to_state", "counter_id",
              "service_id", "actor_user_id", "details")
RATING_COLS = ("id", "unit_id", "ticket_id", "counter_id", "clerk_id", "service_id", "scale",
               "level", "score", "reasons", "comment", "source", "rated_at")


def working_days(today: dt.date, count: int) -> list[dt.date]:
    days: list[dt.date] = []
    day = today - dt.timedelta(days=1)
    while len(days) < count:
        if day.isoweekday() <= 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return sorted(days)


def history(unit_id: int, services: list[int], counters: list[tuple[int, int]], today: dt.date,
            days: int, per_day: int, first_id: int = 1_000_000
            ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """(tickets, events, ratings) rows, one batch per day; ids from ``first_id``. Times are
    naive UTC (07:30-16:30 in Hà Nội is 00:30-09:30 UTC). ``counters``: (id, clerk id)."""
    tid = eid = rid = first_id
    for day in working_days(today, days):
        start = dt.datetime.combine(day, dt.time(0, 30))
        per_service: dict[int, int] = {}
        tickets, events, ratings = [], [], []
        for i in range(per_day):
            sid = services[i % len(services)]
            per_service[sid] = number = per_service.get(sid, 0) + 1
            issued = start + dt.timedelta(seconds=i * 32400 // per_day)
            call = issued + dt.timedelta(seconds=60 + (i * 37) % 1500)
            begin = call + dt.timedelta(seconds=30)
            end = begin + dt.timedelta(seconds=120 + (i * 53) % 600)
            counter, clerk = counters[i % len(counters)]
            tickets.append((tid, unit_id, sid, sid, day, number, f"A{number:04d}", "none", "kiosk",
                            "done", issued, issued, call, begin, end, counter, 0, "none", "served"))
            for action, at, frm, to, cid, actor in (
                    ("issue", issued, None, "waiting", None, None),
                    ("call", call, "waiting", "called", counter, clerk),
                    ("start", begin, "called", "serving", counter, clerk),
                    ("finish", end, "serving", "done", counter, clerk)):
                events.append((eid, tid, at, action, frm, to, cid, sid, actor, "{}"))
                eid += 1
            if i % 3:
                code, score = LEVELS[0] if i % 7 else LEVELS[(i // 7) % 3]
                ratings.append((rid, unit_id, tid, counter, clerk, sid, "3", code, score, "[]", "",
                                "tablet", end + dt.timedelta(seconds=20)))
                rid += 1
            tid += 1
        yield tickets, events, ratings


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(v.strftime(FMT) if isinstance(v, dt.datetime) else
                 v.isoformat() if isinstance(v, dt.date) else v for v in row)


def fill(url: str, unit_id: int, services: list[int], counters: list[tuple[int, int]],
         today: dt.date, days: int, per_day: int) -> dict[str, Any]:
    """Write the history straight into the database; counts and seconds taken."""
    started = time.perf_counter()
    counts = [0, 0, 0]
    batches = history(unit_id, services, counters, today, days, per_day)
    tables = (("tickets", TICKET_COLS), ("ticket_events", EVENT_COLS), ("ratings", RATING_COLS))
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        for batch in batches:
            for (table, cols), rows in zip(tables, batch, strict=True):
                conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                                 f"({', '.join('?' * len(cols))})", map(_sqlite_row, rows))
            counts = [c + len(rows) for c, rows in zip(counts, batch, strict=True)]
        conn.commit()
        conn.execute("ANALYZE")
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            for batch in batches:
                for (table, cols), rows in zip(tables, batch, strict=True):
                    with conn.cursor().copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                counts = [c + len(rows) for c, rows in zip(counts, batch, strict=True)]
            conn.commit()
            conn.autocommit = True
            for table in ("tickets", "ticket_events", "ratings"):
                conn.execute(f"ANALYZE {table}")
            for table in ("tickets", "ticket_events", "ratings"):  # ids past the history's
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT max(id) FROM {table}))")
    return {"tickets": counts[0], "events": counts[1], "ratings": counts[2],
            "seconds": round(time.perf_counter() - started, 1)}


def _timed(client: Any, path: str, headers: dict[str, str], repeat: int) -> dict[str, Any]:
    times, size, status = [], 0, 0
    for _ in range(repeat):
        start = time.perf_counter()
        res = client.get(path, headers=headers)
        times.append(time.perf_counter() - start)
        status, size = res.status_code, len(res.get_data())
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3), "status": status, "bytes": size}


def run_kind(kind: str, days: int, per_day: int, repeat: int, pg_url: str) -> dict[str, Any]:
    from sqlalchemy import select, text
    from sqlalchemy.orm import Session

    from bench.common import prepare_centre
    from onestop.app import create_app
    from onestop.db import make_engine
    from onestop.queueing.models import Counter, Service
    from onestop.units.models import Unit

    with tempfile.TemporaryDirectory(prefix=f"onestop-year-{kind}-") as tmp, \
            database(kind, Path(tmp), pg_url) as url:
        centre = prepare_centre(Path(tmp), url)
        engine = make_engine(url)
        with Session(engine) as session:
            unit = session.scalars(select(Unit)).one()
            unit_id, today = unit.id, unit.business_date(dt.datetime.now(dt.UTC))
            services = list(session.scalars(select(Service.id).where(Service.unit_id == unit_id)))
            counters = [(c.id, session.scalar(text(
                "SELECT id FROM users WHERE username = :u"), {"u": f"clerk{c.number}"}))
                for c in session.scalars(select(Counter).where(Counter.unit_id == unit_id)
                                         .order_by(Counter.number))]
        engine.dispose()
        app = create_app({"DATABASE_URL": url, "DATA_DIR": tmp, "TESTING": True,
                          "ALWAYS_OPEN": True, "SECRET_KEY": "x" * 32,
                          "TICKET_RATE_LIMIT": "1000000 per minute",
                          "LOGIN_RATE_LIMIT": "1000 per minute"})
        client = app.test_client()
        kiosk = {"Authorization": f"Bearer {centre['kiosk_token']}"}
        for i in range(60):  # today's morning: people waiting, as the hall shows them
            client.post("/api/v1/tickets", json={"service_id": services[i % len(services)]},
                        headers=kiosk)
        token = client.post("/api/v1/auth/token", json={"username": "manager",
                                                        "password": "demo"}).get_json()["token"]
        manager = {"Authorization": f"Bearer {token}"}
        display_before = _timed(client, "/api/v1/display/state", kiosk, repeat * 4)
        filled = fill(url, unit_id, services, [c for c in counters if c[1]], today, days, per_day)
        out: dict[str, Any] = {"kind": kind, "history": filled}
        out["display_state_before_history"] = display_before
        out["display_state"] = _timed(client, "/api/v1/display/state", kiosk, repeat * 4)
        spans = {"month": 30, "quarter": 91, "year": 365}
        for name, span in spans.items():
            first = (today - dt.timedelta(days=span)).isoformat()
            out[f"summary_{name}"] = _timed(
                client, f"/api/v1/reports/summary?from={first}&to={today.isoformat()}", manager,
                repeat)
        out["dashboard"] = _timed(client, "/api/v1/dashboard", manager, repeat)
        for name in ("month", "year"):
            first = (today - dt.timedelta(days=spans[name])).isoformat()
            out[f"export_xlsx_{name}"] = _timed(
                client, f"/api/v1/reports/export?format=xlsx&from={first}&to={today.isoformat()}",
                manager, 1 if name == "year" else repeat)
        year = client.get(f"/api/v1/reports/summary?from={(today - dt.timedelta(days=365))}"
                          f"&to={today.isoformat()}", headers=manager).get_json()
        out["year_issued"] = year.get("issued")
        out["met_year_under_1s"] = out["summary_year"]["median_s"] < TARGET_YEAR_S
        app.extensions["onestop_db"].engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.year_reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default="sqlite,pg")
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--per-day", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--name", default="year_reports")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k == "sqlite" or pg_reachable(args.database_url)]
    result: dict[str, Any] = {"name": "year_reports", "machine": machine_info(),
                              "days": args.days, "per_day": args.per_day,
                              "target_year_summary_s": TARGET_YEAR_S}
    for kind in kinds:
        print(f"-- {kind}", flush=True)
        result[kind] = run_kind(kind, args.days, args.per_day, args.repeat, args.database_url)
        write_json(args.name, result)
        print(json.dumps(result[kind], indent=1), flush=True)
    path = write_json(args.name, result)
    print(f"results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
