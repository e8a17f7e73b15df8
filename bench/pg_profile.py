"""Where a request's time goes on PostgreSQL (and the same on SQLite, for comparison).

In one process (the Flask app on a fresh database, its test client, no gunicorn), a centre
with ``--waiting`` tickets spread over its fields; then ``--rounds`` times each of: issue a
ticket (kiosk token), call next (clerk1 at counter 1), finish, and the display snapshot
(GET /api/v1/display/state). Every statement is timed at the driver (SQLAlchemy's
``before/after_cursor_execute``): statements (round trips) per request, the time spent
in them against the request's whole time, and the dearest statements. Then EXPLAIN
(ANALYZE, BUFFERS) of the queue-heads statement (call-next's choice), run
``--explain`` times on one connection: planning against execution time as the
connection sees it once the statement is prepared (psycopg prepares after
``prepare_threshold`` runs).

    python -m bench.pg_profile [--database-url URL] [--sqlite] [--waiting 300]

Results: bench/results/pg_profile[_sqlite].json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.backends import PG_URL, pg_schema
from bench.common import in_process_app, machine_info, sqlite_url, write_json


def _backend_cpu_ns(pid: int | None) -> int:
    """CPU time of a PostgreSQL backend so far, in ns (``/proc/PID/schedstat``: the
    scheduler's own count, exact, where ``/proc/PID/stat`` counts 10 ms ticks)."""
    if pid is None:
        return 0
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except OSError:  # another machine's server: no figure
        return 0


class StatementTimer:
    """Per-statement wall time at the driver, grouped by the request it belongs to; on
    PostgreSQL on this machine also the CPU the statement cost its backend process."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.rows: list[tuple[str, float]] = []
        self.cpu: list[float] = []  # backend CPU ms, one per row
        self._start = 0.0
        self._cpu = 0
        self._pid: int | None = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    @staticmethod
    def _backend(conn: Any) -> int | None:
        driver = conn.connection.driver_connection
        info = getattr(driver, "info", None)
        return getattr(info, "backend_pid", None)

    def _before(self, conn: Any, *_args: Any) -> None:
        self._pid = self._backend(conn)
        self._cpu = _backend_cpu_ns(self._pid)
        self._start = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.rows.append((statement, time.perf_counter() - self._start))
        self.cpu.append((_backend_cpu_ns(self._pid) - self._cpu) / 1e6)

    def take(self) -> list[tuple[str, float]]:
        rows, self.rows = self.rows, []
        self.last_cpu, self.cpu = self.cpu, []
        return rows


def _shape(statement: str) -> str:
    text = re.sub(r"\s+", " ", statement).strip()
    if "UNION ALL" in text:
        return f"queue heads ({text.count('UNION ALL') + 1} parts): {text[:60]}..."
    return text[:110]


def profile(url: str, waiting: int, rounds: int, explain: int) -> dict[str, Any]:
    from onestop.extensions import db

    data_dir = Path(tempfile.mkdtemp(prefix="onestop-pgprof-"))
    app, centre = in_process_app(data_dir, url)
    client = app.test_client()
    kiosk = {"Authorization": f"Bearer {centre['kiosk_token']}"}
    services = centre["services"]
    for i in range(waiting):
        res = client.post("/api/v1/tickets", json={"service_id": services[i % len(services)]},
                          headers=kiosk)
        assert res.status_code == 201, res.get_json()
    token = client.post("/api/v1/auth/token", json={"username": "clerk1", "password": "demo"}
                        ).get_json()["token"]
    clerk = {"Authorization": f"Bearer {token}"}
    counter = centre["counters"][1]
    assert client.post(f"/api/v1/counters/{counter}/open", headers=clerk).status_code == 200
    assert db.engine is not None
    timer = StatementTimer(db.engine)
    kinds = {
        "issue": lambda i: client.post("/api/v1/tickets", headers=kiosk,
                                       json={"service_id": services[i % len(services)]}),
        "call_next": lambda i: client.post(f"/api/v1/counters/{counter}/call-next",
                                           headers=clerk),
        "finish": lambda i: client.post(f"/api/v1/counters/{counter}/finish", headers=clerk,
                                        json={}),
        "display_state": lambda i: client.get("/api/v1/display/state", headers=kiosk),
    }
    per: dict[str, dict[str, list[float]]] = {k: defaultdict(list) for k in kinds}
    dear: dict[str, dict[str, list[float]]] = {k: defaultdict(list) for k in kinds}
    cpu_of: dict[str, dict[str, list[float]]] = {k: defaultdict(list) for k in kinds}
    for i in range(rounds):
        for name, request in kinds.items():
            timer.take()
            start = time.perf_counter()
            res = request(i)
            total = time.perf_counter() - start
            assert res.status_code < 400, (name, res.status_code, res.get_json())
            rows = timer.take()
            if i < 5:  # warm-up: caches, psycopg's prepare after 5 runs
                continue
            per[name]["total_ms"].append(total * 1000)
            per[name]["db_ms"].append(sum(d for _s, d in rows) * 1000)
            per[name]["backend_cpu_ms"].append(sum(timer.last_cpu))
            per[name]["statements"].append(len(rows))
            for (statement, duration), cpu in zip(rows, timer.last_cpu, strict=True):
                dear[name][_shape(statement)].append(duration * 1000)
                cpu_of[name][_shape(statement)].append(cpu)
    out: dict[str, Any] = {}
    for name in kinds:
        p = per[name]
        out[name] = {
            "requests": len(p["total_ms"]),
            "median_total_ms": round(statistics.median(p["total_ms"]), 2),
            "median_db_ms": round(statistics.median(p["db_ms"]), 2),
            "mean_backend_cpu_ms": round(statistics.fmean(p["backend_cpu_ms"]), 3),
            "median_statements": statistics.median(p["statements"]),
            "statements": sorted(
                ({"sql": s, "per_request": round(len(d) / len(p["total_ms"]), 2),
                  "median_ms": round(statistics.median(d), 3),
                  "mean_backend_cpu_ms": round(statistics.fmean(cpu_of[name][s]), 3)}
                 for s, d in dear[name].items()),
                key=lambda row: -row["median_ms"] * row["per_request"])[:10],
        }
    if url.startswith("postgresql"):
        from sqlalchemy import text

        with db.engine.connect() as conn:
            out["prepared_statements"] = [
                {"sql": _shape(row[0]), "generic_plans": row[1], "custom_plans": row[2]}
                for row in conn.execute(text(
                    "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                    " ORDER BY statement LIKE '%UNION ALL%' DESC, generic_plans + custom_plans DESC"
                    " LIMIT 12"))]
    out["explain"] = _explain(db.engine, url, counter, explain) if url.startswith("postgresql") \
        else None
    db.engine.dispose()
    return out


def _explain(engine: Any, url: str, counter_id: int, runs: int) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of the strict-FIFO heads statement, ``runs`` times on one
    connection (as a pooled connection sees it), with the server's plan_cache_mode."""
    from sqlalchemy.orm import Session

    from onestop.queueing import policy
    from onestop.queueing.models import Counter
    from onestop.units.models import Unit

    with Session(engine) as session:
        counter = session.get(Counter, counter_id)
        assert counter is not None
        unit = session.get(Unit, counter.unit_id)
        assert unit is not None
        served = counter.served_ids if hasattr(counter, "served_ids") else []
        import datetime as dt

        day = unit.business_date(dt.datetime.now(dt.UTC))
        import inspect

        if "pg" in inspect.signature(policy._heads_params).parameters:  # since issue 24
            sql = policy._strict_fifo_sql(len(served), True)
            params = policy._heads_params(unit, counter, day, served, True)
        else:
            sql = policy._strict_fifo_sql(len(served))
            params = policy._heads_params(unit, counter, day, served)
        conn = session.connection()
        raw = conn.connection.driver_connection
        assert raw is not None
        compiled = sql.compile(dialect=engine.dialect)
        query = str(compiled)
        pparams = {k: params[k] for k in compiled.params}  # as psycopg gets them
        plans = []
        for _ in range(runs):
            cur = raw.cursor()
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, pparams)
            plan = cur.fetchone()[0][0]
            plans.append(plan)
        mode = raw.execute("SHOW plan_cache_mode").fetchone()[0]
        timings = [(p["Planning Time"], p["Execution Time"]) for p in plans]
        last = plans[-1]
        return {"plan_cache_mode": mode, "runs": runs, "parts": len(served) * 3 + 3,
                "planning_ms": [round(t[0], 3) for t in timings],
                "execution_ms": [round(t[1], 3) for t in timings],
                "median_planning_ms": round(statistics.median(t[0] for t in timings), 3),
                "median_execution_ms": round(statistics.median(t[1] for t in timings), 3),
                "shared_hit_blocks": last.get("Planning", {}).get("Shared Hit Blocks"),
                "exec_shared_hit_blocks": last["Plan"].get("Shared Hit Blocks")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pg_profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--sqlite", action="store_true", help="profile on SQLite instead")
    parser.add_argument("--waiting", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--explain", type=int, default=12)
    parser.add_argument("--name", default=None)
    args = parser.parse_args(argv)
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            result = profile(sqlite_url(Path(tmp)), args.waiting, args.rounds, 0)
    else:
        with pg_schema(args.database_url) as url:
            result = profile(url, args.waiting, args.rounds, args.explain)
    result["machine"] = machine_info()
    name = args.name or ("pg_profile_sqlite" if args.sqlite else "pg_profile")
    path = write_json(name, result)
    print(json.dumps(result, indent=1, ensure_ascii=False)[:6000])
    print(f"results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
