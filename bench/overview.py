"""The supervisors' overview with 100 units, each on a busy day (issue 22 item 5).

One ``onestop serve`` on a SQLite file: the demo centre plus 99 communes, each with two
fields, four counters (two open) and a busy day so far: ``--tickets`` tickets issued
(default 300: 60 % served with their ratings, 10 % missed, 30 % still waiting). Measured:

- **load**: ``GET /api/v1/overview`` as an admin of every unit (100 tiles), what the page waits for
  before it draws, ``--loads`` times one after the other;
- **update latency**: a real Socket.IO client of the overview (the admin's, in all 100
  rooms); a kiosk issues a ticket in the demo centre; the time until ``overview.changed``
  for that unit arrives, and until the page's reload of that one tile
  (``GET /api/v1/overview?units=CODE``) has answered. Issued ``--updates`` times, spaced
  past the 2 s throttle;
- **throttle**: a burst of 10 tickets in one unit within a second: how many events the
  overview got for it (at most two: one at once, one trailing).

    python -m bench.overview [--units 100] [--tickets 300] [--loads 10] [--updates 10]

Results: bench/results/overview.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
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

PASSWORD = "bench-overview-1"


def seed(url: str, units: int, per_unit: int) -> dict[str, Any]:
    """``units - 1`` communes beside the demo centre, each with its busy day so far."""
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from onestop.accounts.engine import add_user
    from onestop.db import make_engine, utcnow
    from onestop.queueing.models import Counter, CounterService, Service, Ticket, TicketEvent
    from onestop.ratings.models import Rating
    from onestop.units.models import Unit

    engine = make_engine(url)
    now = utcnow()
    started = time.perf_counter()
    with Session(engine) as session:
        home = session.scalars(select(Unit)).one()
        today = home.business_date(now)
        for n in range(1, units):
            unit = Unit(code=f"C{n:03d}", name=f"UBND xã Thử nghiệm {n}", timezone=home.timezone)
            session.add(unit)
            session.flush()
            services = [Service(unit_id=unit.id, code=c, name=f"Lĩnh vực {c}", prefix=c) for c in "AB"]
            session.add_all(services)
            session.flush()
            for number in range(1, 5):
                counter = Counter(unit_id=unit.id, number=number, name=f"Quầy {number}",
                                  state="open" if number <= 2 else "closed")
                session.add(counter)
                session.flush()
                session.add_all([CounterService(counter_id=counter.id, service_id=s.id) for s in services])
            tickets, kinds = [], []
            for i in range(per_unit):
                service = services[i % 2]
                issued = now - dt.timedelta(minutes=(per_unit - i) * 1.5)
                kind = "served" if i < per_unit * 0.6 else ("missed" if i < per_unit * 0.7 else "waiting")
                kinds.append(kind)
                tickets.append({"unit_id": unit.id, "service_id": service.id, "issued_service_id": service.id,
                                "business_date": today, "number": i + 1,
                                "label": f"{service.prefix}{i + 1:03d}", "state": kind if kind != "served"
                                else "done", "issued_at": issued, "queue_at": issued,
                                "finished_at": (issued + dt.timedelta(minutes=20)
                                                if kind == "served" else None)})
            session.execute(insert(Ticket), tickets)
            ids = list(session.scalars(select(Ticket.id).where(Ticket.unit_id == unit.id)
                                       .order_by(Ticket.number)))
            events, ratings = [], []
            for ticket_id, kind, row in zip(ids, kinds, tickets, strict=True):
                events.append({"ticket_id": ticket_id, "at": row["issued_at"], "action": "issue",
                               "from_state": None, "to_state": "waiting", "details": {}})
                if kind == "served":
                    events.append({"ticket_id": ticket_id, "at": row["finished_at"],
                                   "action": "finish", "from_state": "serving", "to_state": "done",
                                   "details": {}})
                    ratings.append({"unit_id": unit.id, "ticket_id": ticket_id, "scale": "3",
                                    "level": "satisfied" if ticket_id % 5 else "dissatisfied",
                                    "source": "tablet", "rated_at": row["finished_at"], "reasons": [],
                                    "comment": "", "score": 2})
            session.execute(insert(TicketEvent), events)
            session.execute(insert(Rating), ratings)
        add_user(session, None, "quantri", PASSWORD, "admin")  # an admin of every unit
        session.commit()
    engine.dispose()
    return {"units": units, "tickets_per_unit": per_unit, "seed_s": round(time.perf_counter() - started, 1)}


def _json(base: str, path: str, token: str) -> Any:
    req = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=120) as res:
        return json.loads(res.read())


def _post(base: str, path: str, token: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as res:
        return json.loads(res.read())


def _token(base: str) -> str:
    req = urllib.request.Request(f"{base}/api/v1/auth/token", method="POST",
                                 data=json.dumps({"username": "quantri", "password": PASSWORD}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as res:
        return str(json.loads(res.read())["token"])


def run(units: int = 100, per_unit: int = 300, loads: int = 10, updates: int = 10) -> dict[str, Any]:
    import socketio

    data_dir = Path(tempfile.mkdtemp(prefix="bench-overview-"))
    try:
        centre = prepare_centre(data_dir)
        seeded = seed(sqlite_url(data_dir), units, per_unit)
        with Server(data_dir, free_port()) as server:
            server.wait_healthy(60)
            base, token = server.base, _token(server.base)
            first = _json(base, "/api/v1/overview", token)
            assert len(first["units"]) == units, len(first["units"])
            home = next(t for t in first["units"] if not t["unit"]["code"].startswith("C"))
            load_s = []
            for _ in range(loads):
                t0 = time.perf_counter()
                _json(base, "/api/v1/overview", token)
                load_s.append(time.perf_counter() - t0)
            heard: list[tuple[float, int]] = []
            got = threading.Event()
            client = socketio.Client(reconnection=False)
            client.on("overview.changed", lambda data: (heard.append((time.perf_counter(), data["unit_id"])),
                                                        got.set()), namespace="/overview")
            client.connect(base, namespaces=["/overview"], transports=["websocket"], auth={"token": token},
                           wait_timeout=30)
            service_id = _json(base, "/api/v1/services", centre["kiosk_token"])
            service_id = (service_id["services"] if isinstance(service_id, dict) else service_id)[0]["id"]
            event_s, tile_s = [], []
            try:
                for _ in range(updates):
                    time.sleep(2.2)  # past the throttle: each ticket's event goes at once
                    got.clear()
                    heard.clear()
                    t0 = time.perf_counter()
                    _post(base, "/api/v1/tickets", centre["kiosk_token"], {"service_id": service_id})
                    if not got.wait(15):
                        raise RuntimeError("no overview.changed within 15 s")
                    event_s.append(heard[0][0] - t0)
                    _json(base, f"/api/v1/overview?units={home['unit']['code']}", token)
                    tile_s.append(time.perf_counter() - t0)
                time.sleep(2.2)
                heard.clear()
                for _ in range(10):
                    _post(base, "/api/v1/tickets", centre["kiosk_token"], {"service_id": service_id})
                time.sleep(2.5)
                burst_events = sum(1 for _at, unit_id in heard if unit_id == home["unit"]["id"])
            finally:
                client.disconnect()
        return {"bench": "overview", "machine": machine_info(), **seeded,
                "overview_bytes": len(json.dumps(first)), "load": latency_summary(load_s),
                "update_event": latency_summary(event_s), "update_tile": latency_summary(tile_s),
                "burst": {"tickets": 10, "events": burst_events}}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overview", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--tickets", type=int, default=300, help="tickets per unit so far today")
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args(argv)
    result = run(args.units, args.tickets, args.loads, args.updates)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    write_json("overview", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
