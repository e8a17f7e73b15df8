"""What the bookings add to a year's report (issue 20 item 8), on SQLite and PostgreSQL.

A year of history as ``bench.year_reports`` writes it (``--per-day`` tickets on ``--days``
working days, each with issue, call, start, finish), then one ticket in ten turned into a
booked citizen's (source ``booking``, its booking checked in 5 minutes before the slot) and
one in twenty into a number from a phone (source ``remote``), plus one no-show booking in
fifty. Then, in one process on the report's own read-only connection
(``onestop.reports.queries.reading``), each ``--repeat`` times (median):

- the whole report of the year (``figures.build``), as the API's worker computes it;
- the bookings' share of it that can be timed apart: the two queries they add
  (``arrival_tickets``: the period's tickets from a booking or a phone; ``booking_rows``)
  and their Python pass (``booking_figures``, ``arrival_waits``); beside it the ticket
  facts' query and pass (``ticket_facts``, ``ticket_figures``, which notes the first waits).

    python -m bench.booking_reports [--kinds sqlite,pg] [--per-day 400] [--days 250]

Results: bench/results/booking_reports.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.backends import PG_URL, database, pg_reachable
from bench.common import machine_info, write_json
from bench.year_reports import YearHistory, fill

SQL = {
    "sqlite": [
        "UPDATE tickets SET source = 'booking' WHERE id % 10 = 0",
        "UPDATE tickets SET source = 'remote' WHERE id % 20 = 5",
        "INSERT INTO bookings (unit_id, service_id, code, start, \"end\", phone, state, ticket_id, channel,"
        " created_at, checked_in_at) SELECT unit_id, service_id, 'B' || id,"
        " strftime('%Y-%m-%d %H:%M:%f', issued_at, '+5 minutes'),"
        " strftime('%Y-%m-%d %H:%M:%f', issued_at, '+20 minutes'), '+84912345678', 'checked_in', id,"
        " 'web', issued_at, issued_at FROM tickets WHERE source = 'booking'",
        "INSERT INTO bookings (unit_id, service_id, code, start, \"end\", phone, state, channel, created_at)"
        " SELECT unit_id, service_id, 'N' || id, issued_at, issued_at, '+84912345678', 'no_show', 'staff',"
        " issued_at FROM tickets WHERE id % 50 = 7",
    ],
    "pg": [
        "UPDATE tickets SET source = 'booking' WHERE id % 10 = 0",
        "UPDATE tickets SET source = 'remote' WHERE id % 20 = 5",
        "INSERT INTO bookings (unit_id, service_id, code, start, \"end\", phone, state, ticket_id, channel,"
        " created_at, checked_in_at) SELECT unit_id, service_id, 'B' || id, issued_at + interval '5 minutes',"
        " issued_at + interval '20 minutes', '+84912345678', 'checked_in', id, 'web', issued_at, issued_at"
        " FROM tickets WHERE source = 'booking'",
        "INSERT INTO bookings (unit_id, service_id, code, start, \"end\", phone, state, channel, created_at)"
        " SELECT unit_id, service_id, 'N' || id, issued_at, issued_at, '+84912345678', 'no_show', 'staff',"
        " issued_at FROM tickets WHERE id % 50 = 7",
    ],
}


def _median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def run_kind(kind: str, days: int, per_day: int, repeat: int, pg_url: str) -> dict[str, Any]:
    from sqlalchemy import func, select, text
    from sqlalchemy.orm import Session

    from bench.common import prepare_centre
    from onestop import models  # noqa: F401 - every mapper known before a Unit is read
    from onestop.db import make_engine
    from onestop.reports import figures, queries, rollup
    from onestop.reports.periods import Period
    from onestop.units.models import Unit

    with tempfile.TemporaryDirectory(prefix=f"onestop-bookrep-{kind}-") as tmp, \
            database(kind, Path(tmp), pg_url) as url:
        prepare_centre(Path(tmp), url)
        engine = make_engine(url)
        with Session(engine) as session:
            unit = session.scalars(select(Unit)).one()
            unit_id, today = unit.id, unit.business_date(dt.datetime.now(dt.UTC))
            history = YearHistory(session, unit, today, days, per_day)
        filled = fill(url, history)
        with engine.begin() as conn:
            for sql in SQL["sqlite" if kind == "sqlite" else "pg"]:
                conn.execute(text(sql))
            conn.execute(text("ANALYZE"))
        from onestop.bookings.models import Booking

        with Session(engine) as session:
            filled["bookings"] = session.scalar(select(func.count()).select_from(Booking))
        period = Period(today - dt.timedelta(days=365), today)
        now = dt.datetime.now(dt.UTC)
        out: dict[str, Any] = {"kind": kind, "history": filled}
        with queries.reading(engine) as conn:
            reader_unit = Session(bind=conn).get(Unit, unit_id)
            assert reader_unit is not None
            unit = reader_unit
            start, end = figures.local_bounds(unit, period)
            filters = queries.Filters()
            report = figures.build(conn, unit, period, filters, now)
            out["year_bookings"] = {k: report["bookings"][k] for k in ("made", "checked_in", "no_show",
                                                                       "remote_tickets")}
            out["year_waits_by_arrival"] = report["waits_by_arrival"]
            out["year_report_s"] = _median(lambda: figures.build(conn, unit, period, filters, now), repeat)
            block = rollup.Block.join(rollup.day_blocks(rollup.from_events(conn, unit, period)))
            mask = figures.chosen_cells(block, filters)
            tickets = figures.ticket_figures(block, filters)
            out["ticket_facts_query_s"] = _median(lambda: queries.ticket_facts(conn, unit_id, period), repeat)
            out["ticket_figures_python_s"] = _median(lambda: figures.ticket_figures(block, filters), repeat)
            out["arrival_tickets_query_s"] = _median(lambda: queries.arrival_tickets(conn, unit_id, period),
                                                     repeat)
            out["booking_rows_query_s"] = _median(lambda: queries.booking_rows(conn, unit_id, start, end),
                                                  repeat)

            def python_pass() -> Any:
                return (figures.booking_figures(block, mask, filters), figures.arrival_waits(tickets))

            out["bookings_python_s"] = _median(python_pass, repeat)
        added = out["arrival_tickets_query_s"] + out["booking_rows_query_s"] + out["bookings_python_s"]
        out["bookings_added_s"] = round(added, 3)
        out["bookings_share_of_year_report"] = round(added / out["year_report_s"], 3)
        engine.dispose()
    return out


def run(kinds: tuple[str, ...] = ("sqlite", "pg"), days: int = 250, per_day: int = 400,
        repeat: int = 3, pg_url: str = PG_URL) -> dict[str, Any]:
    results = [run_kind(kind, days, per_day, repeat, pg_url) for kind in kinds
               if kind == "sqlite" or pg_reachable(pg_url)]
    return {"machine": machine_info(), "days": days, "per_day": per_day, "repeat": repeat,
            "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.booking_reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default="sqlite,pg")
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--per-day", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=PG_URL)
    args = parser.parse_args(argv)
    result = run(tuple(args.kinds.split(",")), args.days, args.per_day, args.repeat, args.database_url)
    path = write_json("booking_reports", result)
    print(json.dumps(result["results"], indent=1))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
