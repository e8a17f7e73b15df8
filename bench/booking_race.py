"""The booking race over HTTP (issue 20): 2,000 attempts for 100 free places, 8 clients.

One ``onestop serve`` on a SQLite file (``--database-url``: a fresh schema of that
PostgreSQL database instead), the demo centre, one field taking bookings with
``per_slot`` 5 on the next working day with enough slots; the clients book only 20 of its
slots: 100 places. Eight client processes (keep-alive, anonymous like a citizen's phone,
the rate limits lifted through the settings) send 250 attempts each at random slots among
those 20, each with a phone of its own (so that only the places decide). Afterwards:

- places taken (from the answers and from the database) must be exactly 100;
- duplicates must be 0: no code answered twice, no slot holding more than 5;
- every refused attempt a 409 ``slot_full`` (status and error counts are reported);
- throughput (attempts a second) and client-side latency.

    python -m bench.booking_race [--attempts 2000] [--clients 8] [--database-url URL]

Results: bench/results/booking_race.json (``_postgresql`` with a PostgreSQL URL).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter as Tally
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from bench.common import (
    Server,
    free_port,
    latency_summary,
    machine_info,
    prepare_centre,
    sqlite_url,
    write_json,
)
from bench.run_all import _race

PER_SLOT = 5
SLOTS = 20
PLACES = PER_SLOT * SLOTS
BARRIER_TIMEOUT = 120.0


def _open_field(url: str) -> dict[str, Any]:
    """Bookings on for the first field, ``PER_SLOT`` a slot; the first working day from
    tomorrow with ``SLOTS`` slots; the field's id and those slots' starts (local ISO)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from onestop.bookings import engine as bookings
    from onestop.db import make_engine, utcnow
    from onestop.queueing.models import Service
    from onestop.units.models import Unit

    engine = make_engine(url)
    with Session(engine) as session:
        unit = session.scalars(select(Unit).order_by(Unit.id)).one()
        service = session.scalars(select(Service).where(Service.code == "TPHT")).one()
        service.booking = {"per_slot": PER_SLOT, "days_ahead": 30}
        service.daily_cap = None
        now = utcnow()
        day = unit.business_date(now)
        for _ in range(60):
            day += dt.timedelta(days=1)
            slots = bookings.slots(session, unit, service, day, now)
            if len(slots) >= SLOTS:
                break
        else:
            raise RuntimeError("no day with enough slots in 60 days")
        session.commit()
        out = {"service_id": service.id, "day": day.isoformat(),
               "starts": [unit.local(s.start).isoformat() for s in slots[:SLOTS]]}
    engine.dispose()
    return out


def book_worker(port: int, service_id: int, starts: list[str], attempts: int, seed: int,
                barrier: Any, results: Any, index: int) -> None:
    """``attempts`` bookings at random slots among ``starts``, one keep-alive connection."""
    statuses: Tally[int] = Tally()
    codes: Tally[str] = Tally()
    booked: list[tuple[str, str]] = []
    latencies: list[float] = []
    crash = ""
    start = end = 0.0
    try:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        bodies = [json.dumps({"service_id": service_id, "start": rng.choice(starts),
                              "phone": f"091{index}{n:06d}"}).encode() for n in range(attempts)]
        barrier.wait(BARRIER_TIMEOUT)
        start = time.monotonic()
        for body in bodies:
            t0 = time.monotonic()
            conn.request("POST", "/api/v1/bookings", body=body, headers=headers)
            res = conn.getresponse()
            raw = res.read()
            latencies.append(time.monotonic() - t0)
            statuses[res.status] += 1
            answer = json.loads(raw) if raw else {}
            if res.status == 201:
                booked.append((answer["code"], answer["start"]))
            else:
                codes[str(answer.get("error", {}).get("code"))] += 1
        end = time.monotonic()
        conn.close()
    except BaseException:
        crash = traceback.format_exc()
        barrier.abort()
    results.put({"index": index, "statuses": dict(statuses), "codes": dict(codes),
                 "booked": booked, "latencies": latencies, "start": start, "end": end,
                 "crash": crash})


def _held(url: str, service_id: int) -> dict[str, int]:
    """Bookings holding a place, per slot start, read back from the database."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from onestop.bookings.models import HOLDING_STATES, Booking
    from onestop.db import make_engine

    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(Booking.start, func.count()).where(
            Booking.service_id == service_id, Booking.state.in_(HOLDING_STATES))
            .group_by(Booking.start)).all()
    engine.dispose()
    return {start.isoformat(): int(count) for start, count in rows}


def run(attempts: int = 2000, clients: int = 8, database_url: str | None = None) -> dict[str, Any]:
    from bench import backends

    data_dir = Path(tempfile.mkdtemp(prefix="onestop-bench-booking-"))
    schema = backends.pg_schema(database_url) if database_url else nullcontext(None)
    try:
        with schema as pg:
            url = pg or sqlite_url(data_dir)
            prepare_centre(data_dir, url)
            field = _open_field(url)
            extra = {"BOOKING_RATE_LIMIT": "1000000 per minute"}
            if pg:
                extra["DATABASE_URL"] = pg
            with Server(data_dir, free_port(), **extra) as server:
                server.wait_healthy(timeout=90.0)  # a loaded machine starts slowly
                cpu = server.cpu_seconds()
                per = attempts // clients
                out = _race(book_worker, [(server.port, field["service_id"], field["starts"], per,
                                           1000 + i) for i in range(clients)])
                cpu = server.cpu_seconds() - cpu
            held = _held(url, field["service_id"])
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    statuses: Tally[str] = Tally()
    codes: Tally[str] = Tally()
    for row in out:
        statuses.update({str(k): v for k, v in row["statuses"].items()})
        codes.update(row["codes"])
    booked = [code for row in out for code, _start in row["booked"]]
    per_answer = Tally(start for row in out for _code, start in row["booked"])
    done = sum(statuses.values())
    elapsed = max(r["end"] for r in out) - min(r["start"] for r in out)
    duplicates = (len(booked) - len(set(booked))
                  + sum(n - PER_SLOT for n in held.values() if n > PER_SLOT)
                  + sum(n - PER_SLOT for n in per_answer.values() if n > PER_SLOT))
    taken = sum(held.values())
    clean = statuses.get("201", 0) + codes.get("slot_full", 0) == done
    return {
        "name": "booking_race", "what": "POST /api/v1/bookings, anonymous, keep-alive, "
        f"{SLOTS} slots x {PER_SLOT} places of one field and day",
        "database": "postgresql" if database_url else "sqlite", "day": field["day"],
        "clients": clients, "attempts": done, "places": PLACES,
        "places_taken": taken, "booked_answers": len(booked), "duplicates": duplicates,
        "statuses": dict(statuses), "refusals": dict(codes),
        "every_refusal_slot_full": clean,
        "seconds": round(elapsed, 3), "per_s": round(done / elapsed, 1) if elapsed else 0.0,
        **latency_summary([lat for row in out for lat in row["latencies"]]),
        "server_cpu_ms_per_request": round(cpu * 1000 / done, 2) if done else None,
        "ok_correct": taken == PLACES == len(booked) and duplicates == 0 and clean,
        "machine": machine_info(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.booking_race", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL database (a fresh schema in it) instead of SQLite")
    args = parser.parse_args(argv)
    result = run(args.attempts, args.clients, args.database_url)
    name = "booking_race" + ("_postgresql" if args.database_url else "")
    path = write_json(name, result)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    print(f"results in {path}")
    return 0 if result["ok_correct"] else 1


if __name__ == "__main__":
    sys.exit(main())
