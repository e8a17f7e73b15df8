"""The throughput benches on SQLite and on PostgreSQL, one or two instances, interleaved.

One *round* runs the same harness (``bench.run_all``'s ``bench_issue`` then ``bench_call``:
8 client processes issuing through a kiosk token, then clerks clerk1..clerk8 calling
next until the queue is empty) on a fresh database of each kind:

- ``sqlite``: one ``onestop serve`` on a SQLite file (as ``make bench``);
- ``pg``: one ``onestop serve`` on a fresh PostgreSQL schema;
- ``pg2``: two ``onestop serve`` on one fresh schema and a Redis message queue, the
  clients split across them (client i on instance i % 2).

The kinds run back to back in a round and their order rotates from round to round, so
that a change in the machine's load (2 cores shared with other work) falls on every kind
alike; the figures that count are the per-round ratios (pg / sqlite, pg2 / pg) and their
median. Before each run the *idle floor* is taken: the time one process needs for a fixed
piece of pure-Python work (``_floor``); its ratio to the smallest floor of the session says
how much of a core the bench got at that moment (1.0: an idle machine), and is written
beside each run so that a run taken on a busy machine can be recognised.

    python -m bench.backends [--rounds 2] [--kinds sqlite,pg,pg2] [--database-url URL]

Correctness is checked at every run (no duplicate, no gap, no ticket called twice, none
left waiting). Results: bench/results/backends.json.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import Server, free_port, machine_info, prepare_centre, sqlite_url, write_json

PG_URL = os.environ.get("ONESTOP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ONESTOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
KINDS = ("sqlite", "pg", "pg2")
TARGETS = {"pg_latency_ratio_max": 1.5, "pg_throughput_ratio_min": 0.8,
           "pg2_over_pg_min": 1.6}


def _floor() -> float:
    """Seconds for a fixed piece of pure-Python work (best of 3): the idle floor."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - start)
    return best


def pg_reachable(url: str = PG_URL) -> bool:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=2):
            return True
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL here
        return False


def redis_reachable(url: str = REDIS_URL) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except Exception:  # noqa: BLE001
        return False


@contextlib.contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on ``base_url``'s database, dropped afterwards; yields its URL."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    sep = "&" if "?" in base_url else "?"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@contextlib.contextmanager
def database(kind: str, data_dir: Path, pg_url: str = PG_URL) -> Iterator[str]:
    """The URL of a fresh database of ``kind`` (``sqlite``, or PostgreSQL for the others)."""
    if kind == "sqlite":
        yield sqlite_url(data_dir)
        return
    with pg_schema(pg_url) as url:
        yield url


class LockSampler:
    """Samples, every 20 ms, what the server's PostgreSQL sessions (tagged by their
    ``application_name``) are doing: running, or waiting on a lock (``pg_stat_activity``).
    The share of samples in ``Lock`` waits is how much of the work queued on row locks."""

    def __init__(self, base_url: str, app_name: str) -> None:
        import threading

        self.base_url, self.app_name = base_url, app_name
        self.samples: dict[str, int] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.base_url, autocommit=True) as conn:
            while not self.stop.wait(0.02):
                for wait, n in conn.execute(
                        "SELECT coalesce(wait_event_type, 'CPU'), count(*) FROM pg_stat_activity"
                        " WHERE application_name = %s AND state = 'active' GROUP BY 1",
                        (self.app_name,)):
                    self.samples[wait] = self.samples.get(wait, 0) + n

    def __enter__(self) -> LockSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(5)

    def summary(self) -> dict[str, Any]:
        total = sum(self.samples.values())
        return {"active_samples": dict(self.samples),
                "lock_wait_share": round(self.samples.get("Lock", 0) / total, 3) if total else None}


def run_kind(kind: str, clients: int, tickets: int, warmup: int, pg_url: str = PG_URL,
             profile: bool = False) -> list[dict[str, Any]]:
    """Issue then call-next on a fresh database of ``kind``: the two results."""
    from bench.run_all import bench_call, bench_issue

    instances = 2 if kind == "pg2" else 1
    data_dir = Path(tempfile.mkdtemp(prefix=f"onestop-bench-{kind}-"))
    servers: list[Server] = []
    try:
        with database(kind, data_dir, pg_url) as url:
            centre = prepare_centre(data_dir, url)
            app_name = f"onestop_bench_{uuid.uuid4().hex[:8]}"
            extra = {"DATABASE_URL": url if kind == "sqlite" else
                     f"{url}&application_name={app_name}"}
            if instances > 1:
                extra.update(MESSAGE_QUEUE_URL=REDIS_URL,
                             MESSAGE_QUEUE_CHANNEL=f"onestop-bench-{uuid.uuid4().hex[:8]}")
            try:
                for i in range(instances):
                    servers.append(Server(data_dir / f"i{i}", free_port(), **extra))
                for server in servers:
                    server.wait_healthy(60)
                floor = _floor()
                with _sampler(kind, pg_url, app_name) as locks:
                    issue = bench_issue(servers, url, centre["kiosk_token"], centre["services"],
                                        clients, tickets, warmup, profile)
                issue.update(floor_s=floor, pg_activity=locks.summary() if locks else None)
                floor = _floor()
                with _sampler(kind, pg_url, app_name) as locks:
                    call = bench_call(servers, url, centre["counters"], clients, profile)
                call.update(floor_s=floor, pg_activity=locks.summary() if locks else None)
            finally:
                for server in servers:
                    server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    for result in (issue, call):
        result.update(kind=kind, instances=instances)
    return [issue, call]


def _sampler(kind: str, pg_url: str, app_name: str) -> contextlib.AbstractContextManager[Any]:
    return contextlib.nullcontext() if kind == "sqlite" else LockSampler(pg_url, app_name)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def compare(rounds: list[dict[str, dict[str, dict[str, Any]]]]) -> dict[str, Any]:
    """Per-round ratios and their medians: pg / sqlite (latency p50 and mean, throughput)
    and pg2 / pg throughput, for issue and call-next."""
    out: dict[str, Any] = {}
    for bench in ("issue_http", "call_next_http"):
        per_round: list[dict[str, float | None]] = []
        for r in rounds:
            s, p, p2 = (r.get(k, {}).get(bench) for k in KINDS)
            per_round.append({
                "pg_over_sqlite_p50": _ratio(p and p["p50_ms"], s and s["p50_ms"]),
                "pg_over_sqlite_mean": _ratio(p and p["mean_ms"], s and s["mean_ms"]),
                "pg_over_sqlite_per_s": _ratio(p and p["per_s"], s and s["per_s"]),
                "pg2_over_pg_per_s": _ratio(p2 and p2["per_s"], p and p["per_s"]),
            })
        medians = {}
        for key in per_round[0] if per_round else ():
            values = [row[key] for row in per_round if row[key] is not None]
            medians[key] = round(statistics.median(values), 2) if values else None
        out[bench] = {"rounds": per_round, "median": medians, "met": {
            "latency": (medians.get("pg_over_sqlite_p50") or 99) <= TARGETS["pg_latency_ratio_max"],
            "throughput": (medians.get("pg_over_sqlite_per_s") or 0)
            >= TARGETS["pg_throughput_ratio_min"],
            "two_instances": (medians.get("pg2_over_pg_per_s") or 0) >= TARGETS["pg2_over_pg_min"],
        }}
    return out


def table(rounds: list[dict[str, dict[str, dict[str, Any]]]]) -> str:
    head = (f"{'round':<6}{'kind':<8}{'bench':<16}{'per s':>8}{'p50 ms':>8}{'mean ms':>9}"
            f"{'p99 ms':>8}{'cpu ms':>8}{'floor':>7}{'dup':>5}{'2x':>4}{'lock':>6}")
    lines = [head, "-" * len(head)]
    floors = [res["floor_s"] for r in rounds for k in r.values() for res in k.values()]
    low = min(floors) if floors else 1.0
    for n, r in enumerate(rounds, 1):
        for kind, results in r.items():
            for name, res in results.items():
                lines.append(
                    f"{n:<6}{kind:<8}{name:<16}{res['per_s']:>8.1f}{res.get('p50_ms', 0):>8.1f}"
                    f"{res.get('mean_ms', 0):>9.1f}{res.get('p99_ms', 0):>8.1f}"
                    f"{res.get('server_cpu_ms_per_request', 0):>8.2f}"
                    f"{res['floor_s'] / low:>7.2f}{res.get('duplicates', 0):>5}"
                    f"{res.get('called_twice', 0):>4}"
                    f"{(res.get('pg_activity') or {}).get('lock_wait_share') or 0:>6.2f}")
    lines.append("floor = the idle-floor time before the run / the session's smallest "
                 "(1.00: the bench had a core to itself); cpu ms = server CPU per request; lock = share "
                 "of the server's active PostgreSQL sessions seen waiting on a lock")
    return "\n".join(lines)


def run(rounds: int = 2, kinds: tuple[str, ...] = KINDS, clients: int = 8, tickets: int = 2000,
        warmup: int = 200, pg_url: str = PG_URL) -> dict[str, Any]:
    """``rounds`` rounds of every kind (order rotated each round)."""
    if not pg_reachable(pg_url):
        kinds = tuple(k for k in kinds if k == "sqlite")
    if "pg2" in kinds and not redis_reachable():
        kinds = tuple(k for k in kinds if k != "pg2")
    out: list[dict[str, dict[str, dict[str, Any]]]] = []
    for n in range(rounds):
        order = kinds[n % len(kinds):] + kinds[:n % len(kinds)]
        done: dict[str, dict[str, dict[str, Any]]] = {}
        for kind in order:
            print(f"round {n + 1}: {kind}", flush=True)
            done[kind] = {r["name"]: r for r in run_kind(kind, clients, tickets, warmup, pg_url)}
        out.append({k: done[k] for k in kinds})
    correct = all(res["ok_correct"] for r in out for k in r.values() for res in k.values())
    return {"name": "backends", "machine": machine_info(), "kinds": list(kinds),
            "clients": clients, "tickets": tickets, "warmup": warmup, "targets": TARGETS,
            "rounds": out, "comparison": compare(out), "correct": correct,
            "table": table(out).splitlines()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backends", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--database-url", default=PG_URL,
                        help="PostgreSQL server/database for the pg kinds (a schema per run)")
    parser.add_argument("--name", default="backends", help="result file name")
    args = parser.parse_args(argv)
    result = run(args.rounds, tuple(args.kinds.split(",")), args.clients, args.tickets,
                 args.warmup, args.database_url)
    path = write_json(args.name, result)
    print("\n".join(result["table"]))
    for bench, cmp in result["comparison"].items():
        print(f"{bench}: medians {cmp['median']} met {cmp['met']}")
    print(f"results in {path}")
    return 0 if result["correct"] else 1


if __name__ == "__main__":
    sys.exit(main())
