"""Reports at scale on both back ends (issue 24 item 3): a year of a busy provincial centre.

``--per-day`` tickets (default 2,000) on each of ``--days`` working days of the unit's
calendar (default 250) before today, each with its trail as the queue engine writes it
(issue, call, start, finish), two in three rated on the tablet, and a dossier received for
every second one (``onestop.demo_history``'s dossier life: received -> processing -> ready
-> returned, most on time, some early, about one in eleven late, some of the late with an
apology; the steps not yet reached by today are left out, so the last weeks' dossiers are
still open and a few overdue), are written straight into a fresh database of each kind
(SQLite file, PostgreSQL schema). The fill is one transaction: the filled tables' secondary
indexes are dropped first and built again after (``--keep-indexes``: not), SQLite with
``synchronous=OFF`` and ``executemany`` per day, PostgreSQL with ``COPY`` and without the
foreign-key triggers (``session_replication_role = replica``: the rows are consistent by
construction); then ``ANALYZE`` as autovacuum would. Today a morning of tickets waiting.

Then, in one process (the Flask app and its test client; the offloaded work runs inline,
so what is timed is the work itself): the month, quarter and year summaries read from the
events, once each (as on the day of an upgrade, before any day is summarised;
``--skip-events``: not), then the summary of the settled days written
(``onestop.reports.rollup.settle``, what ``onestop reports rollup`` and the nightly close
run; timed, and timed again with nothing new), then each request once (``cold_s``: the
first call) and ``--repeat`` more times (``warm_median_s``):

- ``GET /api/v1/display/state`` (the hall's snapshot), also before the history was
  written (it must not depend on history), and the clerk's counter page: the counters, the
  counter's queue, the desk alerts, the dossier list;
- ``GET /api/v1/dashboard`` (the manager dashboard now), ``/dashboard/desk`` and the
  several-unit overview ``/overview``;
- ``GET /api/v1/reports/summary`` over the last month, quarter and year, the several-unit
  (province) summary ``?units=`` over the month, the staffing advice
  ``/reports/staffing`` over the month;
- ``GET /api/v1/reports/export?format=xlsx`` over the month and the year.

Target: the year summary under 1 s on both.

    python -m bench.year_reports [--kinds sqlite,pg] [--per-day 2000] [--days 250] [--repeat 3]
    python -m bench.year_reports --days 5 --per-day 200 --repeat 1     # smoke: well under a minute

Results: bench/results/year_reports.json (``--name``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
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
FIRST_ID = 1_000_000  # the history's ids; the demo's and today's rows stay below
WAITING_TODAY = 60
LEVELS = (("very_satisfied", 3), ("satisfied", 2), ("dissatisfied", 1))
TICKET_COLS = ("id", "unit_id", "service_id", "issued_service_id", "business_date", "number",
               "label", "priority", "source", "state", "issued_at", "queue_at", "called_at",
               "serving_at", "finished_at", "counter_id", "recall_count", "print_state",
               "outcome")
EVENT_COLS = ("id", "ticket_id", "at", "action", "from_state", "to_state", "counter_id",
              "service_id", "actor_user_id", "details")
RATING_COLS = ("id", "unit_id", "ticket_id", "counter_id", "clerk_id", "service_id", "scale",
               "level", "score", "reasons", "comment", "source", "rated_at")
DOSSIER_COLS = ("id", "code", "unit_id", "procedure_id", "service_id", "ticket_id",
                "business_date", "number", "book_year", "book_volume", "book_line",
                "applicant_name", "applicant_id_number", "applicant_phone", "applicant_email",
                "applicant_address", "on_behalf_of", "documents", "state", "received_at",
                "appointment_at", "new_appointment_at", "ready_at", "closed_at", "updated_at",
                "supplement_count", "supplement_note", "apology_count", "apology_reason", "note",
                "received_by_id", "search_text")
DOSSIER_EVENT_COLS = ("id", "dossier_id", "at", "action", "from_state", "to_state",
                      "actor_user_id", "actor_device_id", "note", "details")
PRINT_JOB_COLS = ("id", "unit_id", "ticket_id", "kind", "printer_uri", "state", "attempts",
                  "error", "detail", "created_at", "sent_at", "done_at")
TABLES = (("tickets", TICKET_COLS), ("ticket_events", EVENT_COLS), ("ratings", RATING_COLS),
          ("dossiers", DOSSIER_COLS), ("dossier_events", DOSSIER_EVENT_COLS),
          ("print_jobs", PRINT_JOB_COLS))
PRINT_FAILED = 500  # one slip in this many did not print (paper out)
Batch = dict[str, list[tuple[Any, ...]]]


class _Ref:
    """What a demo-history dossier needs of its ticket: the id."""

    def __init__(self, ticket_id: int) -> None:
        self.id = ticket_id


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class YearHistory:
    """The year's rows, one batch per working day (``batches``); times aware UTC, the
    office day 07:30-16:30 in the unit's timezone. The dossiers' lives come from
    ``onestop.demo_history`` (its ``_History`` run on this unit's calendar and procedures)."""

    def __init__(self, session: Any, unit: Any, today: dt.date, days: int, per_day: int,
                 seed: int = 2024, first_id: int = FIRST_ID, skip_recent: int = 0) -> None:
        """``skip_recent``: leave out the last working days (history written before them);
        ``first_id``: the first id of each table (a second fill takes ids past the first's)."""
        from onestop.demo_history import _History

        self.unit, self.today, self.per_day = unit, today, per_day
        self.sim = _History(session, unit, today, 0, seed)
        self.rng = random.Random(seed)
        self.services = [s.id for s in self.sim.services]
        self.desks = [(c.id, self.sim.clerk_of[c.id]) for c in self.sim.counters
                      if self.sim.clerk_of.get(c.id)]
        self.days = self.working_days(days + skip_recent)[:days]
        self.book_lines: dict[tuple[int | None, int], int] = {}
        self.line_offset = first_id - FIRST_ID  # book lines of a second fill past the first's
        self.ids = dict.fromkeys((table for table, _ in TABLES), first_id)
        self.counts = dict.fromkeys(self.ids, 0)
        self.states: dict[str, int] = {}
        self.apologies = 0

    def working_days(self, count: int) -> list[dt.date]:
        days: list[dt.date] = []
        day = self.today - dt.timedelta(days=1)
        while len(days) < count:
            if self.sim.calendar.is_working_day(day):
                days.append(day)
            day -= dt.timedelta(days=1)
        return sorted(days)

    def take(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] += 1
        return value

    def batches(self) -> Iterator[Batch]:
        for day in self.days:
            batch = self.day(day)
            for table, rows in batch.items():
                self.counts[table] += len(rows)
            yield batch

    def day(self, day: dt.date) -> Batch:
        from onestop.demo_history import _Dossier, fake_person

        start = self.sim.at(day, dt.time(7, 30))
        per_service: dict[int, int] = {}
        out: Batch = {table: [] for table, _ in TABLES}
        dossiers = []
        for i in range(self.per_day):
            sid = self.services[i % len(self.services)]
            per_service[sid] = number = per_service.get(sid, 0) + 1
            issued = start + dt.timedelta(seconds=i * 32400 // self.per_day)
            call = issued + dt.timedelta(seconds=60 + (i * 37) % 1500)
            begin = call + dt.timedelta(seconds=30)
            end = begin + dt.timedelta(seconds=120 + (i * 53) % 600)
            counter, clerk = self.desks[i % len(self.desks)]
            procedures = self.sim.procedures.get(sid, [])
            outcome = "dossier_received" if procedures and i % 2 == 0 else "served"
            tid = self.take("tickets")
            printed = i % PRINT_FAILED != PRINT_FAILED - 1  # the kiosk's slip, printed directly
            out["tickets"].append((tid, self.unit.id, sid, sid, day, number, f"A{number:04d}",
                                   "none", "kiosk", "done", issued, issued, call, begin, end,
                                   counter, 0, "printed" if printed else "failed", outcome))
            slip = issued + dt.timedelta(seconds=2)
            out["print_jobs"].append((
                self.take("print_jobs"), self.unit.id, tid, "ticket", "usb://bench",
                "printed" if printed else "failed", 1, None if printed else "printer_paper_out",
                "", issued, slip, slip))
            for action, at, frm, to, cid, actor, details in (
                    ("issue", issued, None, "waiting", None, None,
                     '{"priority":"none","source":"kiosk"}'),
                    ("call", call, "waiting", "called", counter, clerk, "{}"),
                    ("start", begin, "called", "serving", counter, clerk, "{}"),
                    ("finish", end, "serving", "done", counter, clerk,
                     f'{{"outcome":"{outcome}"}}')):
                out["ticket_events"].append((self.take("ticket_events"), tid, at, action, frm, to,
                                             cid, sid, actor, details))
            if i % 3:
                code, score = LEVELS[0] if i % 7 else LEVELS[(i // 7) % 3]
                out["ratings"].append((self.take("ratings"), self.unit.id, tid, counter, clerk,
                                       sid, "3", code, score, "[]", "", "tablet",
                                       end + dt.timedelta(seconds=20)))
            if outcome == "dossier_received":
                received = end - dt.timedelta(seconds=40)
                proc = procedures[(i // 2) % len(procedures)]
                dossiers.append(_Dossier(_Ref(tid), proc, received, clerk,  # type: ignore[arg-type]
                                         fake_person(self.rng)))
        self.dossier_rows(dossiers, out)
        return out

    def dossier_rows(self, items: list[Any], out: Batch) -> None:
        from onestop.dossiers.models import dossier_search_text

        self.sim.dossiers = items
        self.sim.play_dossiers()  # numbers the day's dossiers, runs each life up to today
        for item in items:
            row = item.row
            key = (row["service_id"], row["book_year"])
            self.book_lines[key] = line = self.book_lines.get(key, self.line_offset) + 1  # the year's book
            did = self.take("dossiers")
            values = {**row, "id": did, "ticket_id": item.ticket.id, "book_line": line,
                      "documents": _json(row["documents"]),
                      "search_text": dossier_search_text(row["code"], row["applicant_name"],
                                                         row["applicant_id_number"],
                                                         row["applicant_phone"])}
            out["dossiers"].append(tuple(values[c] for c in DOSSIER_COLS))
            self.states[row["state"]] = self.states.get(row["state"], 0) + 1
            self.apologies += row["apology_count"]
            for event in item.events:
                details = ({"ticket_id": item.ticket.id} if event["action"] == "receive"
                           else event["details"])
                out["dossier_events"].append((
                    self.take("dossier_events"), did, event["at"], event["action"],
                    event["from_state"], event["to_state"], event["actor_user_id"], None,
                    event["note"], _json(details)))


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(v.astimezone(dt.UTC).strftime(FMT) if isinstance(v, dt.datetime) else
                 v.isoformat() if isinstance(v, dt.date) else v for v in row)


def fill(url: str, history: YearHistory, keep_indexes: bool = False) -> dict[str, Any]:
    """Write the history straight into the database; counts and seconds taken (the
    generation, the writing and the index building and ``ANALYZE`` apart)."""
    started = time.perf_counter()
    names = [table for table, _ in TABLES]
    timings = {"generate_s": 0.0, "write_s": 0.0}

    def batches() -> Iterator[Batch]:
        it = history.batches()
        while True:
            t0 = time.perf_counter()
            batch = next(it, None)
            timings["generate_s"] += time.perf_counter() - t0
            if batch is None:
                return
            yield batch

    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB
        conn.execute("BEGIN")
        indexes = [] if keep_indexes else [tuple(r) for r in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join('?' * len(names))})", names)]
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for batch in batches():
            t0 = time.perf_counter()
            for table, cols in TABLES:
                conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                                 f"({', '.join('?' * len(cols))})", map(_sqlite_row, batch[table]))
            timings["write_s"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        for _name, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        timings["index_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute("ANALYZE")
        conn.execute("PRAGMA synchronous=FULL")
        conn.close()
        timings["analyze_s"] = time.perf_counter() - t0
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            conn.execute("SET maintenance_work_mem = '256MB'")
            try:  # no foreign-key trigger per row (superuser only); the rows are consistent
                conn.execute("SET session_replication_role = replica")
            except psycopg.errors.InsufficientPrivilege:
                conn.rollback()
            indexes = [] if keep_indexes else conn.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
                "current_schema() AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM "
                "pg_constraint c WHERE c.conname = i.indexname)", (names,)).fetchall()
            for name, _sql in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            for batch in batches():
                t0 = time.perf_counter()
                for table, cols in TABLES:
                    with conn.cursor().copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in batch[table]:
                            copy.write_row(row)
                timings["write_s"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            for _name, sql in indexes:
                conn.execute(sql)
            conn.execute("SET session_replication_role = DEFAULT")
            conn.commit()
            timings["index_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            conn.autocommit = True
            for table in names:
                conn.execute(f"ANALYZE {table}")
            for table in names:  # ids past the history's
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT max(id) FROM {table}))")
            timings["analyze_s"] = time.perf_counter() - t0
    counts = history.counts
    return {"tickets": counts["tickets"], "events": counts["ticket_events"],
            "ratings": counts["ratings"], "dossiers": counts["dossiers"],
            "dossier_events": counts["dossier_events"], "print_jobs": counts["print_jobs"],
            "dossier_states": dict(history.states),
            "apologies": history.apologies, "days": len(history.days),
            "first_day": history.days[0].isoformat() if history.days else None,
            "indexes_rebuilt": len(indexes),
            **{k: round(v, 1) for k, v in timings.items()},
            "seconds": round(time.perf_counter() - started, 1)}


def in_database(url: str) -> dict[str, int]:
    """Rows of the history (ids from ``FIRST_ID``) as the database holds them."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        out = {table: int(conn.scalar(text(f"SELECT count(*) FROM {table} WHERE id >= {FIRST_ID}"))
                          or 0) for table, _ in TABLES}
    engine.dispose()
    return out


def summarise(url: str, unit_id: int, today: dt.date) -> dict[str, Any]:
    """The nightly summary of the settled days (``onestop reports rollup``), timed: what a
    centre runs once after upgrading, and each night for one day after."""
    from onestop.db import make_engine
    from onestop.reports import rollup

    engine = make_engine(url)
    try:
        start = time.perf_counter()
        done = rollup.settle(engine, unit_id, today)
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = rollup.settle(engine, unit_id, today)  # a night with nothing new: the check alone
        return {"seconds": round(first, 2), "days": done.days, "cells": done.cells,
                "nothing_new_s": round(time.perf_counter() - start, 3), "nothing_new_days": again.days}
    finally:
        engine.dispose()


def timed(client: Any, path: str, headers: dict[str, str], repeat: int) -> dict[str, Any]:
    """The first call (cold) and the median of ``repeat`` more (warm)."""
    times, statuses, size = [], [], 0
    for _ in range(1 + repeat):
        start = time.perf_counter()
        res = client.get(path, headers=headers)
        times.append(time.perf_counter() - start)
        statuses.append(res.status_code)
        size = len(res.get_data())
    warm = times[1:]
    return {"cold_s": round(times[0], 3),
            "warm_median_s": round(statistics.median(warm), 3) if warm else None,
            "warm_min_s": round(min(warm), 3) if warm else None,
            "status": statuses[0] if len(set(statuses)) == 1 else statuses, "bytes": size}


def run_kind(kind: str, days: int, per_day: int, repeat: int, pg_url: str = PG_URL,
             url: str | None = None, keep_indexes: bool = False,
             skip_events: bool = False) -> dict[str, Any]:
    """One back end: a fresh database (``url``: this one, empty), the fill, the requests."""
    with tempfile.TemporaryDirectory(prefix=f"onestop-year-{kind}-") as tmp:
        if url is not None:
            return _run(kind, Path(tmp), url, days, per_day, repeat, keep_indexes, skip_events)
        with database(kind, Path(tmp), pg_url) as fresh:
            return _run(kind, Path(tmp), fresh, days, per_day, repeat, keep_indexes, skip_events)


def _run(kind: str, tmp: Path, url: str, days: int, per_day: int, repeat: int,
         keep_indexes: bool, skip_events: bool) -> dict[str, Any]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from bench.common import in_process_app
    from onestop.db import make_engine
    from onestop.units.models import Unit

    app, centre = in_process_app(tmp, url)
    client = app.test_client()
    kiosk = {"Authorization": f"Bearer {centre['kiosk_token']}"}
    services = centre["services"]
    for i in range(WAITING_TODAY):  # today's morning: people waiting, as the hall shows them
        client.post("/api/v1/tickets", json={"service_id": services[i % len(services)]},
                    headers=kiosk)

    def bearer(username: str) -> dict[str, str]:
        res = client.post("/api/v1/auth/token", json={"username": username, "password": "demo"})
        return {"Authorization": f"Bearer {res.get_json()['token']}"}

    manager, admin, clerk = bearer("manager"), bearer("admin"), bearer("clerk1")
    counter1 = centre["counters"][1]
    display_before = timed(client, "/api/v1/display/state", kiosk, repeat * 4)
    dashboard_before = timed(client, "/api/v1/dashboard", manager, repeat * 4)
    engine = make_engine(url)
    with Session(engine) as session:
        unit = session.scalars(select(Unit)).one()
        today = unit.business_date(dt.datetime.now(dt.UTC))
        history = YearHistory(session, unit, today, days, per_day)
        code, unit_id = unit.code, unit.id
    engine.dispose()
    out: dict[str, Any] = {"kind": kind, "history": fill(url, history, keep_indexes)}
    out["in_database"] = in_database(url)
    requests: dict[str, dict[str, Any]] = {}
    requests["display_state_before_history"] = display_before
    requests["dashboard_before_history"] = dashboard_before
    spans = {"month": 30, "quarter": 91, "year": 365}
    period = {name: f"from={(today - dt.timedelta(days=span)).isoformat()}&to={today.isoformat()}"
              for name, span in spans.items()}
    if not skip_events:  # before the summary of settled days exists: every event is read
        for name in spans:
            key = f"summary_{name}_from_events"
            requests[key] = timed(client, f"/api/v1/reports/summary?{period[name]}", manager, 0)
            print(f"   {key}: {requests[key]}", flush=True)
    out["rollup"] = summarise(url, unit_id, today)
    print(f"   rollup: {out['rollup']}", flush=True)
    plan: list[tuple[str, str, dict[str, str]]] = [
        ("display_state", "/api/v1/display/state", kiosk),
        ("dashboard", "/api/v1/dashboard", manager),
        ("counters", "/api/v1/counters", clerk),
        ("counter_queue", f"/api/v1/counters/{counter1}/queue", clerk),
        ("desk_alerts", "/api/v1/desk/alerts", clerk),
        ("dossier_list", "/api/v1/dossiers", clerk),
        ("dashboard_desk", "/api/v1/dashboard/desk", manager),
        ("overview", "/api/v1/overview", admin),
        ("summary_month", f"/api/v1/reports/summary?{period['month']}", manager),
        ("summary_quarter", f"/api/v1/reports/summary?{period['quarter']}", manager),
        ("summary_year", f"/api/v1/reports/summary?{period['year']}", manager),
        ("several_units_summary_month",
         f"/api/v1/reports/summary?units={code}&{period['month']}", admin),
        ("staffing_month", f"/api/v1/reports/staffing?{period['month']}", manager),
        ("export_xlsx_month", f"/api/v1/reports/export?format=xlsx&{period['month']}", manager),
        ("export_xlsx_year", f"/api/v1/reports/export?format=xlsx&{period['year']}", manager),
    ]
    for name, path, headers in plan:
        requests[name] = timed(client, path, headers, repeat)
        print(f"   {name}: {requests[name]}", flush=True)
    out["requests"] = requests
    year = client.get(f"/api/v1/reports/summary?{period['year']}", headers=manager).get_json()
    out["year_summary"] = {"issued": year.get("issued"), "served": year.get("served"),
                           "dossiers": year.get("dossiers")}
    out["met_year_under_1s"] = requests["summary_year"]["warm_median_s"] is not None and \
        requests["summary_year"]["warm_median_s"] < TARGET_YEAR_S
    app.extensions["onestop_db"].engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.year_reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default="sqlite,pg", help="sqlite, pg or both, comma separated")
    parser.add_argument("--days", type=int, default=250, help="working days of history")
    parser.add_argument("--per-day", type=int, default=2000, help="tickets a working day")
    parser.add_argument("--repeat", type=int, default=3, help="warm calls after the cold one")
    parser.add_argument("--keep-indexes", action="store_true",
                        help="fill with the indexes in place (slower; to compare)")
    parser.add_argument("--skip-events", action="store_true",
                        help="do not time the summaries read from the events (before the rollup)")
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--name", default="year_reports")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k == "sqlite" or pg_reachable(args.database_url)]
    result: dict[str, Any] = {"name": "year_reports", "machine": machine_info(),
                              "days": args.days, "per_day": args.per_day, "repeat": args.repeat,
                              "target_year_summary_s": TARGET_YEAR_S}
    for kind in kinds:
        print(f"-- {kind}", flush=True)
        result[kind] = run_kind(kind, args.days, args.per_day, args.repeat, args.database_url,
                                keep_indexes=args.keep_indexes, skip_events=args.skip_events)
        write_json(args.name, result)
        print(json.dumps({k: v for k, v in result[kind].items() if k != "requests"}, indent=1,
                         ensure_ascii=False), flush=True)
    path = write_json(args.name, result)
    print(f"results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
