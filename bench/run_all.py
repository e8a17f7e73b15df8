"""Run every HTTP benchmark against a real ``onestop serve`` on SQLite (``make bench``).

1. ticket issue: 8 client processes, keep-alive, a kiosk token, POST /api/v1/tickets;
   afterwards the database must show zero duplicate and zero missing numbers.
2. call-next: clerks clerk1..clerk8 signed in at counters 1..8 (every counter serves every
   field) call until ``queue_empty``; no ticket may be called twice, none left waiting.

Results go to bench/results/<name>.json and bench/results/summary.json. The exit status is
1 when a correctness check fails (and, with ``--strict``, when a target is missed).

Besides throughput and client-side latency, each result gives the server worker's CPU time
per request (from /proc): on a small or busy machine, where the load clients and other
work share the cores with the server, that is the figure to compare between runs.
``--profile`` samples the worker with py-spy (``pip install py-spy``; not a dependency).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter as Tally
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import load
from bench.common import (
    Server,
    free_port,
    latency_summary,
    machine_info,
    prepare_centre,
    sqlite_url,
    write_json,
)
from bench.cpu import CpuSampler
from bench.profile_report import summarise

TARGET_PER_S = 500.0
RESULT_TIMEOUT = 600.0


def _race(target: Callable[..., None], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """One spawned process per row; all start at one barrier; their reports, in order."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(rows))
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*row, barrier, results, i), daemon=True)
             for i, row in enumerate(rows)]
    for proc in procs:
        proc.start()
    try:
        out = [results.get(timeout=RESULT_TIMEOUT) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    crashes = [row["crash"] for row in out if row["crash"]]
    if crashes:
        raise RuntimeError("a load client crashed:\n" + "\n".join(crashes))
    return sorted(out, key=lambda row: row["index"])


def _throughput(rows: list[dict[str, Any]], done: int) -> tuple[float, float]:
    elapsed = max(r["end"] for r in rows) - min(r["start"] for r in rows)
    return elapsed, (done / elapsed if elapsed > 0 else 0.0)


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` read back from the bench's database (SQLite or PostgreSQL)."""
    from sqlalchemy import text

    from onestop.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def check_numbering(url: str, answered: list[tuple[int, int, int]]) -> dict[str, Any]:
    """Duplicates and gaps per (field, business date), read back from the database."""
    rows = _rows(url, "SELECT issued_service_id, business_date, number, id FROM tickets")
    numbers: dict[tuple[int, str], list[int]] = {}
    for service_id, day, number, _id in rows:
        numbers.setdefault((service_id, day), []).append(number)
    duplicates = sum(len(ns) - len(set(ns)) for ns in numbers.values())
    gaps = sum(max(ns) - len(set(ns)) for ns in numbers.values())
    stored = {row[3] for row in rows}
    lost = [tid for tid, _s, _n in answered if tid not in stored]
    answered_dupes = sum(n - 1 for n in Tally((s, n) for _t, s, n in answered).values() if n > 1)
    return {"tickets_in_db": len(rows), "duplicates": duplicates, "gaps": gaps,
            "answered_but_missing": len(lost), "duplicate_numbers_in_answers": answered_dupes,
            "fields": len(numbers)}


def check_calls(url: str, answered: list[int]) -> dict[str, Any]:
    """Each ticket called once: from the answers and from the TicketEvent audit trail."""
    per_ticket = _rows(url, "SELECT ticket_id, COUNT(*) FROM ticket_events WHERE action = 'call' "
                            "GROUP BY ticket_id")
    waiting = _rows(url, "SELECT COUNT(*) FROM tickets WHERE state = 'waiting'")[0]
    twice_db = sum(1 for _tid, n in per_ticket if n > 1)
    twice_answers = sum(1 for n in Tally(answered).values() if n > 1)
    return {"called_twice": max(twice_db, twice_answers), "called_twice_in_events": twice_db,
            "called_twice_in_answers": twice_answers, "tickets_called": len(per_ticket),
            "left_waiting": int(waiting[0])}


def _servers(server: Server | list[Server]) -> list[Server]:
    return server if isinstance(server, list) else [server]


def bench_issue(server: Server | list[Server], url: str, token: str, services: list[int],
                clients: int, tickets: int, warmup: int, profile: bool,
                pg_sessions: PgSessions | None = None) -> dict[str, Any]:
    """``server``: one, or several instances of one database (client i on instance i % n).
    ``pg_sessions``: the server's PostgreSQL sessions (``Phase``)."""
    servers = _servers(server)
    per_client = tickets // clients
    rows = [(servers[i % len(servers)].port, token, services, per_client, warmup // clients)
            for i in range(clients)]
    with Phase(servers, "issue_http", profile, url, pg_sessions) as phase:
        out = _race(load.issue_worker, rows)
    answered = [tuple(t) for r in out for t in r["tickets"] + r["warmup_tickets"]]
    warm = sum(len(r["warmup_tickets"]) for r in out)
    done = sum(len(r["tickets"]) for r in out)
    elapsed, rate = _throughput(out, done)
    errors: Tally[str] = Tally()
    for r in out:
        errors.update(r["errors"])
    checks = check_numbering(url, answered)  # type: ignore[arg-type]
    return {"name": "issue_http", "what": "POST /api/v1/tickets, kiosk token, keep-alive",
            "clients": clients, "requests": done + sum(errors.values()), "ok": done,
            "errors": dict(errors), "warmup": warm,
            "elapsed_s": round(elapsed, 3), "per_s": round(rate, 1),
            **latency_summary([x for r in out for x in r["latencies"]]), **checks,
            "reconnects": sum(r.get("reconnects", 0) for r in out),
            **phase.cost(done + sum(errors.values()) + warm, rate),
            **phase.split(out, done + sum(errors.values())), "target_per_s": TARGET_PER_S,
            "ok_correct": checks["duplicates"] == 0 and checks["gaps"] == 0
            and checks["answered_but_missing"] == 0 and not errors}


def _tokens(base: str, users: list[str]) -> list[str]:
    tokens = []
    for user in users:
        req = urllib.request.Request(
            f"{base}/api/v1/auth/token", method="POST",
            data=json.dumps({"username": user, "password": "demo"}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as res:
            tokens.append(json.loads(res.read())["token"])
    return tokens


def bench_call(server: Server | list[Server], url: str, counters: dict[int, int],
               clients: int, profile: bool, pg_sessions: PgSessions | None = None) -> dict[str, Any]:
    servers = _servers(server)
    numbers = sorted(counters)[:clients]
    tokens = _tokens(servers[0].base, [f"clerk{n}" for n in numbers])
    rows = [(servers[i % len(servers)].port, tok, counters[n])
            for i, (n, tok) in enumerate(zip(numbers, tokens, strict=True))]
    with Phase(servers, "call_next_http", profile, url, pg_sessions) as phase:
        out = _race(load.call_worker, rows)
    answered = [tid for r in out for tid in r["called"]]
    elapsed, rate = _throughput(out, len(answered))
    errors: Tally[str] = Tally()
    for r in out:
        errors.update(r["errors"])
    checks = check_calls(url, answered)
    return {"name": "call_next_http", "what": "POST /api/v1/counters/{id}/call-next",
            "clients": len(rows), "ok": len(answered), "errors": dict(errors),
            "busy_retries": sum(r["busy_retries"] for r in out),
            "calls_per_counter": [len(r["called"]) for r in out],
            "elapsed_s": round(elapsed, 3), "per_s": round(rate, 1),
            **latency_summary([x for r in out for x in r["latencies"]]), **checks,
            "reconnects": sum(r.get("reconnects", 0) for r in out),
            **phase.cost(len(answered) + len(rows) * 3 + sum(r["busy_retries"] for r in out), rate),
            **phase.split(out, len(answered) + len(rows) + sum(r["busy_retries"] for r in out)
                          + sum(errors.values())),
            "target_per_s": TARGET_PER_S,
            "ok_correct": checks["called_twice"] == 0 and checks["left_waiting"] == 0
            and not errors}


def _throughput_on(url: str | None, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Issue then call-next against one ``onestop serve`` on ``url`` (None: a SQLite file
    in a temporary data dir)."""
    data_dir = Path(tempfile.mkdtemp(prefix="onestop-bench-"))
    db_url = url or sqlite_url(data_dir)
    try:
        centre = prepare_centre(data_dir, db_url)
        extra = {"DATABASE_URL": url} if url else {}
        with Server(data_dir, free_port(), **extra) as server:
            server.wait_healthy()
            issue = bench_issue(server, db_url, centre["kiosk_token"], centre["services"],
                                args.clients, args.tickets, args.warmup, args.profile)
            call = bench_call(server, db_url, centre["counters"], args.clients, args.profile)
    finally:
        if args.keep:
            print(f"data dir kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return [issue, call]


def _side_by_side(sqlite: list[dict[str, Any]], pg: list[dict[str, Any]]) -> str:
    head = f"{'bench':<16}{'SQLite /s':>10}{'PG /s':>9}{'PG/SQLite':>10}" \
           f"{'SQLite p50':>11}{'PG p50':>9}{'PG/SQLite':>10}"
    lines = ["", head, "-" * len(head)]
    for a, b in zip(sqlite, pg, strict=True):
        lines.append(f"{a['name']:<16}{a['per_s']:>10.1f}{b['per_s']:>9.1f}"
                     f"{b['per_s'] / a['per_s'] if a['per_s'] else 0:>10.2f}"
                     f"{a.get('p50_ms', 0):>11.1f}{b.get('p50_ms', 0):>9.1f}"
                     f"{b.get('p50_ms', 0) / a['p50_ms'] if a.get('p50_ms') else 0:>10.2f}")
    return "\n".join(lines)


# the bench's PostgreSQL sessions: (the server's backend pids, the bench's own to leave out)
PgSessions = Callable[[], tuple[set[int], set[int]]]


class Phase:
    """One timed phase: the server worker's CPU time (summed over the instances), the
    machine's load, and py-spy on the (first) worker when profiling is asked for (raw
    samples in the data dir, a summary of where the time goes in
    bench/results/profile_<name>.json).

    A ``CpuSampler`` (``bench/cpu.py``) runs meanwhile; ``split`` gives the CPU per timed
    request of the server, PostgreSQL (on a PostgreSQL ``url``), Redis (several
    instances), the load clients (their own ``process_time``) and the whole machine over the
    clients' timed window, and the rate the machine's cores would allow at that cost."""

    def __init__(self, server: Server | list[Server], name: str, profile: bool,
                 url: str = "", pg_sessions: PgSessions | None = None) -> None:
        self.servers = _servers(server)
        self.server, self.name, self.enabled = self.servers[0], name, profile
        self.proc: subprocess.Popen[bytes] | None = None
        self.path: Path | None = None
        self.summary: Path | None = None
        self.cpu = 0.0
        self.pg_sessions = pg_sessions
        self.sampler = CpuSampler(lambda: [p for s in self.servers for p in s.worker_pids()],
                                  postgres=url.startswith("postgresql"),
                                  redis=len(self.servers) > 1)

    def split(self, rows: list[dict[str, Any]], requests: int) -> dict[str, Any]:
        """CPU ms per timed request by part, over the clients' timed window (``rows``: the
        clients' reports, with ``start``, ``end`` and ``cpu_s``)."""
        if not requests:
            return {}
        t0, t1 = min(r["start"] for r in rows), max(r["end"] for r in rows)
        own, skip = self.pg_sessions() if self.pg_sessions else (set(), set())
        win = self.sampler.window(t0, t1, own, skip)
        ms = {"server": win["server_s"], "postgres": win["pg_s"], "redis": win["redis_s"],
              "clients": sum(r.get("cpu_s", 0.0) for r in rows)}
        ms = {k: round(v * 1000 / requests, 3) for k, v in ms.items()}
        total = round(sum(ms.values()), 3)
        cores = os.cpu_count() or 1
        return {"cpu_ms_per_request": {
            **ms, "total": total,
            "postgres_whole_cluster": round(win["pg_all_s"] * 1000 / requests, 3),
            "harness": round((win["harness_s"] + win["pg_harness_s"]) * 1000 / requests, 3),
            "machine_busy": round(win["machine_busy_s"] * 1000 / requests, 3)},
            "machine_busy_share": round(win["machine_busy_s"] / win["machine_s"], 3)
            if win["machine_s"] else None,
            "cores": cores,
            "cores_ceiling_per_s": round(cores * 1000 / total, 1) if total else None}

    def cost(self, requests: int, rate: float) -> dict[str, Any]:
        """Server CPU per request (all ``requests`` of the phase, warm-up included), the
        share of one core the worker used at the measured ``rate``, and the rate one fully
        used core would give at that cost."""
        per_request = self.cpu / requests if requests else 0.0
        return {"server_cpu_s": round(self.cpu, 2),
                "server_core_use": round(per_request * rate, 2),
                "server_cpu_ms_per_request": round(per_request * 1000, 2),
                "one_core_capacity_per_s": round(1 / per_request, 1) if per_request else None,
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                "profile": self.summary.name if self.summary else None}

    def __enter__(self) -> Phase:
        self.cpu = sum(s.cpu_seconds() for s in self.servers)
        self.sampler.__enter__()
        self._start_profiler()
        return self

    def _start_profiler(self) -> None:
        spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
        pids = self.server.worker_pids()
        if not self.enabled or not spy or not pids:
            if self.enabled:
                print(f"profile: skipped (py-spy {'found' if spy else 'not found'}, "
                      f"worker pids {pids})")
            return
        self.path = self.server.log_path.parent / f"profile_{self.name}.txt"
        self.proc = subprocess.Popen(
            [spy, "record", "--pid", str(pids[0]), "--format", "raw", "--rate", "250",
             "--nonblocking", "--output", str(self.path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # py-spy attaches

    def __exit__(self, *exc: Any) -> None:
        self.cpu = sum(s.cpu_seconds() for s in self.servers) - self.cpu
        self.sampler.__exit__(*exc)
        if self.proc is None:
            return
        self.proc.send_signal(2)  # SIGINT: py-spy writes its output and exits
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self.path and self.path.is_file():  # the raw file stays in the data dir (--keep)
            self.summary = write_json(f"profile_{self.name}", summarise(self.path, top=40))


def _table(results: list[dict[str, Any]]) -> str:
    head = f"{'bench':<16}{'ok':>7}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}" \
           f"{'dup':>6}{'gaps':>6}{'cpu ms':>8}{'target':>9}"
    lines = [head, "-" * len(head)]
    for r in results:
        dup = r.get("duplicates", r.get("called_twice", 0))
        gaps = r.get("gaps", r.get("left_waiting", 0))
        verdict = "met" if r["per_s"] >= r["target_per_s"] else "MISSED"
        lines.append(f"{r['name']:<16}{r['ok']:>7}{r['per_s']:>9.1f}{r.get('p50_ms', 0):>9.1f}"
                     f"{r.get('p95_ms', 0):>9.1f}{r.get('p99_ms', 0):>9.1f}{dup:>6}{gaps:>6}"
                     f"{r.get('server_cpu_ms_per_request', 0):>8.2f}{verdict:>9}")
    lines.append("cpu ms = server worker CPU time per request (measured from /proc)")
    return "\n".join(lines)


# the other benchmarks, each with run() -> dict; each writes its own JSON as well
OTHERS = ("print_latency", "kiosk_print", "kiosk_weight", "display_latency", "scaleout", "heavy_work",
          "booking_race", "notify_overhead", "overview")


def run_others() -> dict[str, Any]:
    """Run the other benchmarks one after the other; a failing one is reported, not fatal."""
    import importlib

    out: dict[str, Any] = {}
    for name in OTHERS:
        print(f"-- {name}", flush=True)
        try:
            result = importlib.import_module(f"bench.{name}").run()
            write_json(name, result)
            out[name] = result
        except Exception as exc:  # noqa: BLE001 - one broken bench must not hide the others
            out[name] = {"error": repr(exc)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=4000, help="timed tickets (default 4000)")
    parser.add_argument("--clients", type=int, default=8, help="client processes (default 8)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed tickets first")
    parser.add_argument("--profile", action="store_true",
                        help="sample the server worker with py-spy during each phase")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--only-throughput", action="store_true",
                        help="skip the print, kiosk page and display benchmarks")
    parser.add_argument("--database-url", default=None,
                        help="run the throughput benches on this PostgreSQL database (a fresh "
                        "schema in it) instead of a SQLite file")
    parser.add_argument("--no-postgres", action="store_true",
                        help="SQLite only: skip the side-by-side run on PostgreSQL")
    args = parser.parse_args(argv)

    from bench import backends

    started = dt.datetime.now(dt.UTC)
    machine = machine_info()
    if args.database_url:
        with backends.pg_schema(args.database_url) as url:
            issue, call = _throughput_on(url, args)
        server = "onestop serve: gunicorn, 1 gevent-websocket worker, PostgreSQL"
    else:
        issue, call = _throughput_on(None, args)
        server = "onestop serve: gunicorn, 1 gevent-websocket worker, SQLite (WAL)"
    common = {"started_at": started.isoformat(), "machine": machine, "server": server}
    results = [issue, call]
    side: list[dict[str, Any]] = []
    if not args.database_url and not args.no_postgres and backends.pg_reachable():
        # the same harness on PostgreSQL, printed beside SQLite's (bench.backends compares
        # them interleaved, with two instances as well)
        print("-- the same on PostgreSQL", flush=True)
        side = backends.run_kind("pg", args.clients, args.tickets, args.warmup)
        for result in side:
            write_json(f"{result['name']}_postgresql", {**result, **common,
                                                        "server": server.replace("SQLite (WAL)",
                                                                                 "PostgreSQL")})
    for result in results:
        write_json(result["name"], {**result, **common})
    correct = all(r["ok_correct"] for r in results)
    met = all(r["per_s"] >= r["target_per_s"] for r in results)
    summary = {**common, "correct": correct, "targets_met": met, "results": {
        r["name"]: {k: r[k] for k in (
            "per_s", "p50_ms", "p95_ms", "p99_ms", "ok", "errors", "duplicates", "gaps",
            "called_twice", "left_waiting", "target_per_s", "clients",
            "server_cpu_ms_per_request", "server_core_use", "one_core_capacity_per_s")
            if r.get(k) is not None}
        for r in results}}
    if side:
        summary["postgresql"] = {r["name"]: {k: r.get(k) for k in (
            "per_s", "p50_ms", "p99_ms", "ok", "duplicates", "gaps", "called_twice",
            "left_waiting", "server_cpu_ms_per_request")} for r in side}
        correct = correct and all(r["ok_correct"] for r in side)
    if not args.only_throughput:
        summary["others"] = run_others()
    path = write_json("summary", summary)
    print(_table(results))
    if side:
        print("\nPostgreSQL, same harness (one instance):")
        print(_table(side))
        print(_side_by_side(results, side))
    print(f"machine: {machine['cpu_count']} CPU {machine['cpu_model']}, python "
          f"{machine['python']}, sqlite {machine['sqlite']}; results in {path.parent}")
    if not correct:
        print("CORRECTNESS CHECK FAILED: see the JSON results")
        return 1
    return 1 if (args.strict and not met) else 0


if __name__ == "__main__":
    sys.exit(main())
