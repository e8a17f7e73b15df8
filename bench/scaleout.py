"""Two instances behind one hall: call on A, how soon do displays on B hear it?

Two real ``onestop serve`` processes (gunicorn, one gevent worker each) share a fresh
PostgreSQL schema and a Redis message queue (a channel of their own). N display clients
(default 2,000) connect to ``/display``, half on each instance, spread over several client
processes (a minimal Engine.IO 4 / Socket.IO 5 client over websocket-client, one select()
loop per process, as in ``bench.display_latency``'s raw client). clerk1 then calls at
counter 1 through instance A only, ~0.3 s apart. For each receipt of ``ticket.called`` the
delay runs from just before the HTTP call-next to the client's read (``time.time()`` is
shared by the processes of one machine), and again to the frame's arrival at the client's
socket (``arrival``, the kernel's receive timestamp, see ``bench.rawclient``); A's clients
and B's are summarised apart.
Target: p99 <= 100 ms at B's displays.

If N clients cannot all connect (a 2-core box also runs the servers, PostgreSQL, Redis and
the clients), the run falls back to 1,000, then 500, and says so.

    python -m bench.scaleout        # writes bench/results/scaleout.json

Needs PostgreSQL on 127.0.0.1:5432 (db ``test``, user ``postgres``, trust) and Redis on
127.0.0.1:6379, or ONESTOP_TEST_PG_URL / ONESTOP_TEST_REDIS_URL.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import queue
import secrets
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import rawclient
from bench.common import ONESTOP, Server, free_port, latency_summary, machine_info, write_json
from bench.display_latency import Clerk

PG_URL = os.environ.get("ONESTOP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ONESTOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LEVELS = (2000, 1000, 500)  # the first that connects in full is measured
ROUNDS = 30
WARMUP = 3
GAP_S = 0.3
PER_PROCESS = 125  # sockets per client process (select() is fine far below FD_SETSIZE)
CONNECT_TIMEOUT_S = 240.0
TARGETS = {"cross_instance_p99_ms": 100.0}





class Fleet:
    """``total`` display connections, half on each base, in processes of <= PER_PROCESS."""

    def __init__(self, bases: dict[str, str], total: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.ready, self.results, self.stop = ctx.Queue(), ctx.Queue(), ctx.Event()
        self.instance: list[str] = []
        rows: list[tuple[str, int]] = []
        names = list(bases)
        for k, name in enumerate(names):
            share = total // len(names) + (1 if k < total % len(names) else 0)
            nprocs = max(1, math.ceil(share / PER_PROCESS))
            for i in range(nprocs):
                rows.append((name, share // nprocs + (1 if i < share % nprocs else 0)))
        self.procs = []
        for index, (name, count) in enumerate(rows):
            self.instance.append(name)
            self.procs.append(ctx.Process(target=rawclient.display_clients, daemon=True, args=(
                bases[name], count, self.ready, self.stop, self.results, index)))
        self.started = time.monotonic()
        for proc in self.procs:
            proc.start()
        self.connected: dict[str, int] = dict.fromkeys(names, 0)
        self.errors: dict[str, int] = dict.fromkeys(names, 0)
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        waiting = len(self.procs)
        while waiting:
            try:
                index, connected, errors = self.ready.get(timeout=1.0)
            except queue.Empty:
                if time.monotonic() > deadline or any(
                        p.exitcode not in (None, 0) for p in self.procs):
                    self.kill()
                    raise RuntimeError("display client processes did not connect") from None
                continue
            self.connected[self.instance[index]] += connected
            self.errors[self.instance[index]] += errors
            waiting -= 1
        self.connect_s = round(time.monotonic() - self.started, 1)

    def finish(self) -> list[dict[str, Any]]:
        self.stop.set()
        out = []
        try:
            for _ in self.procs:
                row = self.results.get(timeout=60)
                row["instance"] = self.instance[row["index"]]
                out.append(row)
        finally:
            self.kill()
        return out

    def kill(self) -> None:
        self.stop.set()
        for proc in self.procs:
            proc.join(timeout=5)
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)


class PgServer(Server):
    """``onestop serve`` on PostgreSQL + Redis; otherwise ``bench.common.Server``."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.log_path = data_dir / "server.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [ONESTOP, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**env, "ONESTOP_DATA_DIR": str(data_dir)}, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)


def _prepare(url: str) -> int:
    """Migrate, load the demo, lift the daily caps; the first field's id."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.db import make_engine
    from onestop.migrate import upgrade
    from onestop.queueing.models import Service

    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            unit = demo.load(session)
            services = list(session.scalars(
                select(Service).where(Service.unit_id == unit.id).order_by(Service.id)))
            for service in services:
                service.daily_cap = None
            service_id = services[0].id
            session.commit()
    finally:
        engine.dispose()
    return int(service_id)


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _measure(servers: dict[str, Server], clerk: Clerk, fleet: Fleet) -> dict[str, Any]:
    cpu = {name: s.cpu_seconds() for name, s in servers.items()}
    time.sleep(1.0)
    sent: dict[int, float] = {}
    http: list[float] = []
    for i in range(WARMUP + ROUNDS):
        start = time.time()
        ticket = clerk.post("/counters/1/call-next")
        if i >= WARMUP:
            sent[ticket["id"]] = start
            http.append(time.time() - start)
        time.sleep(GAP_S)
    cpu = {name: round((s.cpu_seconds() - cpu[name]) / (WARMUP + ROUNDS) * 1000, 1)
           for name, s in servers.items()}
    load = _loadavg()
    time.sleep(1.5)
    reports = fleet.finish()
    out: dict[str, Any] = {}
    for name in servers:
        rows = [r for r in reports if r["instance"] == name]
        receipts = [row for r in rows for row in r["received"] if row[0] in sent]
        lat = [row[1] - sent[row[0]] for row in receipts]
        connected = sum(r["connected"] for r in rows)
        out[name] = {"connected": connected, "connect_errors": sum(r["errors"] for r in rows),
                     "dropped_during_run": sum(r["dropped"] for r in rows),
                     "client_processes": len(rows), "receipts": len(lat),
                     "expected_receipts": connected * ROUNDS,
                     "missing": connected * ROUNDS - len(lat), **latency_summary(lat),
                     "arrival": latency_summary([row[2] - sent[row[0]] for row in receipts]),
                     "server_cpu_ms_per_call": cpu[name]}
    out["http_call_next"] = latency_summary(http)
    out["loadavg_after_calls"] = load
    return out


def run(levels: tuple[int, ...] = LEVELS) -> dict[str, Any]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    channel = f"onestop-bench-{uuid.uuid4().hex[:8]}"
    machine = machine_info()
    attempts: list[dict[str, Any]] = []
    measured: dict[str, Any] | None = None
    servers: dict[str, Server] = {}
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        with tempfile.TemporaryDirectory(prefix="onestop-bench-scaleout-") as tmp:
            service_id = _prepare(url)
            env = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
            env.update(ONESTOP_DATABASE_URL=url, ONESTOP_MESSAGE_QUEUE_URL=REDIS_URL,
                       ONESTOP_MESSAGE_QUEUE_CHANNEL=channel,
                       ONESTOP_SECRET_KEY=secrets.token_hex(32), ONESTOP_ALWAYS_OPEN="1",
                       ONESTOP_LOGIN_RATE_LIMIT="1000 per minute",
                       ONESTOP_TICKET_RATE_LIMIT="1000000 per minute")
            try:
                for name in ("a", "b"):
                    servers[name] = PgServer(Path(tmp) / name, free_port(), env)
                for server in servers.values():
                    server.wait_healthy(30)
                clerk = Clerk(servers["a"].base)  # clerk1, every call goes through A
                clerk.post("/counters/1/open")
                for _ in range(WARMUP + ROUNDS + 5):
                    clerk.post("/tickets", service_id=service_id)
                bases = {name: s.base for name, s in servers.items()}
                for level in levels:
                    attempt: dict[str, Any] = {"clients": level, "loadavg_before": _loadavg()}
                    attempts.append(attempt)
                    try:
                        fleet = Fleet(bases, level)
                    except RuntimeError as exc:
                        attempt["error"] = str(exc)
                        continue
                    attempt.update(connect_s=fleet.connect_s, connected=fleet.connected,
                                   connect_errors=fleet.errors,
                                   client_processes=len(fleet.procs))
                    if sum(fleet.connected.values()) < level:
                        fleet.kill()
                        attempt["result"] = "not every client connected"
                        time.sleep(3.0)  # let the servers drop the sockets
                        continue
                    try:
                        measured = {"clients": level, **_measure(servers, clerk, fleet)}
                    finally:
                        fleet.kill()
                    attempt["result"] = "measured"
                    break
            finally:
                for server in servers.values():
                    server.stop()
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    cross = (measured or {}).get("b", {})
    note = None
    if measured is None:
        note = f"no level in {levels} connected in full"
    elif measured["clients"] != levels[0]:
        note = (f"{levels[0]} clients could not all connect on this "
                f"{machine['cpu_count']}-core machine; measured at {measured['clients']}")
    return {
        "name": "scaleout", "machine": machine, "targets": TARGETS,
        "setup": {"instances": 2, "database": "postgresql (fresh schema)",
                  "message_queue": "redis", "calls_through": "a", "displays": "half on a, half on b",
                  "client": "raw engine.io, select() loop per process",
                  "per_process": PER_PROCESS},
        "rounds": ROUNDS, "warmup": WARMUP, "gap_s": GAP_S, "levels_tried": attempts,
        "measured": measured, "note": note,
        "met": {"cross_instance_p99": cross.get("p99_ms", math.inf)
                <= TARGETS["cross_instance_p99_ms"],
                "no_missing": bool(measured) and all(
                    measured[n]["missing"] == 0 for n in ("a", "b"))},
    }


if __name__ == "__main__":
    result = run()
    path = write_json("scaleout", result)
    print(json.dumps({k: result[k] for k in ("levels_tried", "measured", "note", "met")},
                     indent=2, ensure_ascii=False))
    print(f"written to {path}")
