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

Each run also splits the CPU per request (``bench/cpu.py``, over the clients' timed
window): the server worker(s), PostgreSQL (the server's sessions and the auxiliary
processes), Redis, the load clients (their own ``process_time``) and the whole machine.
Their sum bounds what the machine's cores can give: ``cores x 1000 ms / sum`` requests per
second. For two instances that ceiling over one instance's measured rate is the best
``pg2 / pg`` ratio the machine permits at these costs (printed after the table; a 2-core
machine shared by two servers, PostgreSQL, Redis and eight clients cannot double a rate
whose one-instance run already keeps more than one core busy).

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
        self.pids: set[int] = set()  # the server's sessions (their backend processes)
        self.own_pid: set[int] = set()  # this sampler's session
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.base_url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            self.own_pid = {int(row[0])} if row else set()
            while not self.stop.wait(0.02):
                for pid, state, wait in conn.execute(
                        "SELECT pid, state, coalesce(wait_event_type, 'CPU') FROM pg_stat_activity"
                        " WHERE application_name = %s", (self.app_name,)):
                    self.pids.add(int(pid))
                    if state == "active":
                        self.samples[wait] = self.samples.get(wait, 0) + 1

    def sessions(self) -> tuple[set[int], set[int]]:
        """The server's sessions seen so far, and this sampler's own (``Phase``)."""
        return set(self.pids), set(self.own_pid)

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
                                        clients, tickets, warmup, profile,
                                        locks.sessions if locks else None)
                issue.update(floor_s=floor, pg_activity=locks.summary() if locks else None)
                floor = _floor()
                with _sampler(kind, pg_url, app_name) as locks:
                    call = bench_call(servers, url, centre["counters"], clients, profile,
                                      locks.sessions if locks else None)
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


def _cpu(res: dict[str, Any], part: str) -> float:
    return float((res.get("cpu_ms_per_request") or {}).get(part) or 0.0)


def table(rounds: list[dict[str, dict[str, dict[str, Any]]]]) -> str:
    head = (f"{'round':<6}{'kind':<7}{'bench':<15}{'per s':>7}{'p50':>6}{'p99':>6}"
            f" |{'srv':>5}{'pg':>5}{'rds':>5}{'cli':>5}{'sum':>6}{'hrn':>5}{'mach':>6}{'busy':>5}"
            f"{'cap/s':>6} |{'floor':>6}{'dup':>4}{'2x':>3}{'lock':>5}")
    lines = [head, "-" * len(head)]
    floors = [res["floor_s"] for r in rounds for k in r.values() for res in k.values()]
    low = min(floors) if floors else 1.0
    for n, r in enumerate(rounds, 1):
        for kind, results in r.items():
            for name, res in results.items():
                lines.append(
                    f"{n:<6}{kind:<7}{name:<15}{res['per_s']:>7.1f}{res.get('p50_ms', 0):>6.1f}"
                    f"{res.get('p99_ms', 0):>6.1f} |"
                    + "".join(f"{_cpu(res, part):>5.2f}" for part in
                              ("server", "postgres", "redis", "clients"))
                    + f"{_cpu(res, 'total'):>6.2f}{_cpu(res, 'harness'):>5.2f}"
                    f"{_cpu(res, 'machine_busy'):>6.2f}"
                    f"{(res.get('machine_busy_share') or 0) * 100:>4.0f}%"
                    f"{res.get('cores_ceiling_per_s') or 0:>6.0f} |"
                    f"{res['floor_s'] / low:>6.2f}{res.get('duplicates', 0):>4}"
                    f"{res.get('called_twice', 0):>3}"
                    f"{(res.get('pg_activity') or {}).get('lock_wait_share') or 0:>5.2f}")
    lines += [
        "per s, p50, p99 (ms): the clients' timed part. CPU ms per timed request over that window:",
        "  srv = the onestop server worker(s), pg = PostgreSQL (the server's sessions + the",
        "  walwriter/checkpointer...), rds = redis-server, cli = the 8 load clients (their own",
        "  process_time), sum = srv+pg+rds+cli, hrn = this harness's samplers (not in sum), mach =",
        "  the whole machine's busy time (others' work included), busy = the machine's busy share",
        "  of all its cores, cap/s = cores x 1000 / sum:",
        "  the most the machine's cores allow at these costs.",
        "floor = the idle-floor time before the run / the session's smallest (1.00: the bench had",
        "  a core to itself); dup, 2x = duplicates, called twice; lock = share of the server's",
        "  active PostgreSQL sessions seen waiting on a lock"]
    return "\n".join(lines)


def ceiling(rounds: list[dict[str, dict[str, dict[str, Any]]]]) -> dict[str, Any]:
    """What the cores allow two instances, per round: the pg2 cost per request (server +
    PostgreSQL + Redis + clients) over all the cores (``cores x 1000 ms / cost``), and that
    ceiling over the one-instance rate measured in the same round: the best pg2 / pg ratio
    these costs permit, whatever the second instance does."""
    out: dict[str, Any] = {}
    for bench in ("issue_http", "call_next_http"):
        per_round = []
        for r in rounds:
            p, p2 = (r.get(k, {}).get(bench) for k in ("pg", "pg2"))
            if not p or not p2 or not p2.get("cores_ceiling_per_s"):
                continue
            cap = p2["cores_ceiling_per_s"]
            per_round.append({
                "pg_per_s": p["per_s"], "pg2_per_s": p2["per_s"],
                "pg_cost_ms": _cpu(p, "total"), "pg2_cost_ms": _cpu(p2, "total"),
                "pg_server_ms": _cpu(p, "server"),
                "pg_one_core_bound_per_s": round(1000 / _cpu(p, "server"), 1)
                if _cpu(p, "server") else None,
                "pg2_cores_ceiling_per_s": cap,
                "pg2_over_pg_best_possible": _ratio(cap, p["per_s"]),
                "pg2_over_pg_measured": _ratio(p2["per_s"], p["per_s"])})
        best = [row["pg2_over_pg_best_possible"] for row in per_round
                if row["pg2_over_pg_best_possible"]]
        out[bench] = {"rounds": per_round,
                      "median_best_possible": round(statistics.median(best), 2) if best else None}
    return out


def ceiling_lines(result: dict[str, Any]) -> list[str]:
    cores = os.cpu_count() or 1
    lines = [f"two instances on {cores} cores: ceiling = {cores} x 1000 ms / (CPU ms per request, "
             "all parts); best pg2/pg = ceiling / one instance's measured rate"]
    for bench, cmp in result.items():
        for n, row in enumerate(cmp["rounds"], 1):
            lines.append(
                f"  {bench:<15} round {n}: pg2 {row['pg2_cost_ms']:.2f} ms/req -> ceiling "
                f"{row['pg2_cores_ceiling_per_s']:.0f}/s; pg measured {row['pg_per_s']:.0f}/s "
                f"(its server alone: {row['pg_one_core_bound_per_s'] or 0:.0f}/s on one core) -> "
                f"best pg2/pg {row['pg2_over_pg_best_possible']}, measured "
                f"{row['pg2_over_pg_measured']}")
        lines.append(f"  {bench}: median best possible pg2/pg {cmp['median_best_possible']} "
                     f"(target {TARGETS['pg2_over_pg_min']})")
    return lines


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
            "rounds": out, "comparison": compare(out), "ceiling": ceiling(out),
            "correct": correct, "table": table(out).splitlines()}


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
    if any(c["rounds"] for c in result["ceiling"].values()):
        print("\n".join(ceiling_lines(result["ceiling"])))
    print(f"results in {path}")
    return 0 if result["correct"] else 1


if __name__ == "__main__":
    sys.exit(main())
