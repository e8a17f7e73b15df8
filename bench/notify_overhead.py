"""Messages never slow the hall (issue 21): call-next latency with 1,000 subscribed tickets
against none, interleaved A/B on two real ``onestop serve`` processes, and with a dead gateway.

Three servers, each on its own SQLite database prepared alike (the demo centre, every counter
serving every field, 1,200 waiting tickets over the fields, issued directly):

- ``none``: no ticket subscribed (the "near" check still runs on every call, finding nobody);
- ``subscribed``: 1,000 of the tickets subscribed with a phone; the server's loop sends
  ``ticket.near`` / ``ticket.called`` to a fake SMS gateway (an http.server thread here);
- ``dead``: the same 1,000 subscribed, the SMS gateway's port refusing TCP (every send fails).

One client calls ``call-next`` at counter 1 of each server in turn, ``ROUND`` calls at a time,
rounds interleaved (none, subscribed, dead, none, ...) so that the machine's drift hits all
three alike. The result: p50/p90/mean per server and the ratios to ``none`` (target: within
10 %), the messages the gateway got.

    python -m bench.notify_overhead [--calls 900]     # bench/results/notify_overhead.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from bench.common import (
    Server,
    free_port,
    latency_summary,
    machine_info,
    prepare_centre,
    sqlite_url,
    write_json,
)

TICKETS = 1200
SUBSCRIBED = 1000
ROUND = 20
TARGET_RATIO = 1.10


class _Gateway(BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()

    def log_message(self, *args: Any) -> None:
        return

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _Gateway.lock:
            _Gateway.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def seed(data_dir: Path, subscribe: bool) -> None:
    """The centre with TICKETS waiting over its fields (and SUBSCRIBED of them with a phone)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from onestop.db import make_engine, utcnow
    from onestop.notify import engine as notify
    from onestop.queueing import engine as queue
    from onestop.queueing.engine import Actor
    from onestop.queueing.models import Service
    from onestop.units.models import Unit

    data_dir.mkdir(parents=True, exist_ok=True)
    prepare_centre(data_dir)
    db = make_engine(sqlite_url(data_dir))
    with Session(db) as session:
        unit = session.scalars(select(Unit).order_by(Unit.id)).one()
        services = list(session.scalars(select(Service).where(Service.unit_id == unit.id,
                                                              Service.active.is_(True))))
        now = utcnow()
        for i in range(TICKETS):
            ticket = queue.issue_ticket(session, unit, services[i % len(services)], actor=Actor(),
                                        now=now, source="counter", always_open=True)
            if subscribe and i < SUBSCRIBED:
                notify.subscribe(session, unit, "ticket", ticket.id, f"0912{i:06d}",
                                 business_date=ticket.business_date, now=now)
        session.commit()
    db.dispose()


def _clerk(base: str) -> requests.Session:
    http = requests.Session()
    token = http.post(f"{base}/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                      timeout=30).json()["token"]
    http.headers["Authorization"] = f"Bearer {token}"
    counters = http.get(f"{base}/api/v1/counters", timeout=10).json()
    items = counters["counters"] if isinstance(counters, dict) else counters
    counter = next(c["id"] for c in items if c["number"] == 1)
    http.post(f"{base}/api/v1/counters/{counter}/open", timeout=10)
    http.counter_url = f"{base}/api/v1/counters/{counter}/call-next"  # type: ignore[attr-defined]
    return http


def run(calls: int = 900) -> dict[str, Any]:
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    gateway.daemon_threads = True
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    sms = f"http://127.0.0.1:{gateway.server_address[1]}/sms"
    dead = f"http://127.0.0.1:{free_port()}/sms"  # nothing listens there
    setups = {"none": (False, sms), "subscribed": (True, sms), "dead": (True, dead)}
    times: dict[str, list[float]] = {name: [] for name in setups}
    with tempfile.TemporaryDirectory(prefix="notify-bench-") as tmp:
        servers: dict[str, Server] = {}
        try:
            for name, (subscribe, url) in setups.items():
                data_dir = Path(tmp) / name
                seed(data_dir, subscribe)
                servers[name] = Server(data_dir, free_port(), DATABASE_URL=sqlite_url(data_dir),
                                       SMS_URL=url, NOTIFY_POLL_S="1", NOTIFY_TIMEOUT_S="2")
            clients = {}
            for name, server in servers.items():
                server.wait_healthy(60)
                clients[name] = _clerk(server.base)
            for http in clients.values():  # warm up: caches, connections
                for _ in range(10):
                    http.post(http.counter_url, timeout=10)  # type: ignore[attr-defined]
            done = 0
            while done < calls:
                for name, http in clients.items():
                    for _ in range(ROUND):
                        started = time.perf_counter()
                        res = http.post(http.counter_url, timeout=10)  # type: ignore[attr-defined]
                        times[name].append(time.perf_counter() - started)
                        assert res.status_code == 200, res.text
                done += ROUND
            time.sleep(2)  # the loop sends what the last calls queued
        finally:
            for server in servers.values():
                server.stop()
    gateway.shutdown()
    summary = {name: latency_summary(values) for name, values in times.items()}
    base_p50, base_mean = summary["none"]["p50_ms"], summary["none"]["mean_ms"]
    ratios = {name: {"p50": round(summary[name]["p50_ms"] / base_p50, 3),
                     "mean": round(summary[name]["mean_ms"] / base_mean, 3)}
              for name in ("subscribed", "dead")}
    return {"calls_per_server": calls, "tickets": TICKETS, "subscribed": SUBSCRIBED, "round": ROUND,
            "latency": summary, "ratio_to_none": ratios, "gateway_messages": _Gateway.received,
            "target_ratio": TARGET_RATIO,
            "ok": all(r["p50"] <= TARGET_RATIO for r in ratios.values()), "machine": machine_info()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=900)
    args = parser.parse_args()
    result = run(args.calls)
    shown = ("latency", "ratio_to_none", "gateway_messages", "ok")
    print(json.dumps({k: result[k] for k in shown}, indent=1))
    print(write_json("notify_overhead", result))


if __name__ == "__main__":
    main()
