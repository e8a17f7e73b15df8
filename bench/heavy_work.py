"""Heavy work off the event loop (issue 18, item 3): a year of a busy centre, its exports
timed, and the hall's requests timed while they are being built.

A year of the demo centre is seeded (``onestop demo --history-weeks 52``'s simulation:
~33,000 tickets, ~16,600 dossiers), then a real ``onestop serve`` answers:

- each heavy request alone, one after the other: the year's tracking book XLSX (every
  field), the report export (XLSX, CSV, PDF) and summary over the last 52 weeks, the book
  page (first and last page of 50 lines);
- the book XLSX and the report XLSX at once, while another process probes ``/healthz``,
  issues a ticket and calls it (``call-next``) every 50 ms: their latencies (p50/p99/max).

Before issue 18 the book XLSX of 7,650 dossiers ran past gunicorn's 30 s (quadratic
``sheet.max_row``) and the worker was killed; every request waited meanwhile.

    python -m bench.heavy_work [--weeks 52] [--data-dir DIR]   # bench/results/heavy_work.json

``--data-dir`` keeps the seeded database: a second run on it skips the seeding.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench.common import Server, free_port, latency_summary, machine_info, sqlite_url, write_json

PROBE_INTERVAL_S = 0.05
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def seed_year(data_dir: Path, weeks: int = 52) -> dict[str, Any]:
    """Migrate, load the demo centre and ``weeks`` of history (once: a seeded directory is
    reused); daily caps lifted so that the probe can issue as many tickets as it likes."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.db import make_engine, utcnow
    from onestop.dossiers.models import Dossier
    from onestop.migrate import upgrade
    from onestop.queueing.models import Service, Ticket

    data_dir.mkdir(parents=True, exist_ok=True)
    url = sqlite_url(data_dir)
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        unit = demo.load(session)
        history = demo.seed_history(session, unit, weeks=weeks, now=utcnow())
        for service in session.scalars(select(Service).where(Service.unit_id == unit.id)):
            service.daily_cap = None
        session.commit()
        seconds = time.perf_counter() - started
        years = dict(session.execute(select(Dossier.book_year, func.count(Dossier.id))
                                     .group_by(Dossier.book_year)).all())
        tickets = session.scalar(select(func.count(Ticket.id))) or 0
    engine.dispose()
    busiest = max(years, key=lambda y: years[y]) if years else utcnow().year
    return {"weeks": weeks, "seeded_now": bool(history.tickets), "seed_seconds": round(seconds, 1),
            "tickets": int(tickets), "dossiers": int(sum(years.values())), "book_year": int(busiest),
            "book_lines": int(years.get(busiest, 0))}


def token(base: str, username: str = "admin") -> str:
    res = requests.post(f"{base}/api/v1/auth/token", json={"username": username, "password": "demo"},
                        timeout=30)
    res.raise_for_status()
    return str(res.json()["token"])


def _probe(base: str, auth: str, stop: Any, out: Any) -> None:
    """In its own process: /healthz, issue, call-next every PROBE_INTERVAL_S until ``stop``."""
    headers = {"Authorization": f"Bearer {auth}"}
    samples: dict[str, list[float]] = {"healthz": [], "issue": [], "call_next": []}
    errors: list[str] = []
    with requests.Session() as http:
        def timed(kind: str, method: str, path: str, ok: tuple[int, ...], **kw: Any) -> None:
            started = time.perf_counter()
            try:
                res = http.request(method, base + path, headers=headers, timeout=30, **kw)
                if res.status_code not in ok:
                    errors.append(f"{kind} {res.status_code} {res.text[:120]}")
            except requests.RequestException as exc:
                errors.append(f"{kind} {type(exc).__name__}")
            samples[kind].append(time.perf_counter() - started)

        http.post(f"{base}/api/v1/counters/1/open", headers=headers, timeout=30)
        while not stop.is_set():
            timed("healthz", "GET", "/healthz", (200,))
            timed("issue", "POST", "/api/v1/tickets", (201,), json={"service_id": 1})
            timed("call_next", "POST", "/api/v1/counters/1/call-next", (200,))
            time.sleep(PROBE_INTERVAL_S)
    out.put({"samples": samples, "errors": errors[:20], "error_count": len(errors)})


class Prober:
    """A probing process for the length of a ``with`` block; ``result`` after it."""

    def __init__(self, base: str, auth: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop, self._out = context.Event(), context.Queue()
        self._proc = context.Process(target=_probe, args=(base, auth, self._stop, self._out), daemon=True)
        self.result: dict[str, Any] = {}
        self.samples: dict[str, list[float]] = {}  # seconds, per kind, as measured

    def __enter__(self) -> Prober:
        self._proc.start()
        time.sleep(1.5)  # the child's imports and its first requests before the heavy work
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        raw = self._out.get(timeout=60)
        self._proc.join(timeout=10)
        self.samples = raw["samples"]
        self.result = {kind: {"n": len(values), **latency_summary(values)}
                       for kind, values in raw["samples"].items()}
        self.result["errors"] = raw["errors"]
        self.result["error_count"] = raw["error_count"]


def fetch(base: str, path: str, auth: str) -> dict[str, Any]:
    """One GET timed: status, seconds, bytes (and the body for the caller's checks)."""
    started = time.perf_counter()
    res = requests.get(base + path, headers={"Authorization": f"Bearer {auth}"}, timeout=120)
    return {"path": path, "status": res.status_code, "seconds": round(time.perf_counter() - started, 2),
            "bytes": len(res.content), "body": res.content}


def heavy_paths(year: int, today: dt.date) -> dict[str, str]:
    start, end = today - dt.timedelta(days=364), today - dt.timedelta(days=1)
    period = f"from={start.isoformat()}&to={end.isoformat()}"
    return {"book_xlsx": f"/api/v1/dossiers/book.xlsx?year={year}",
            "report_xlsx": f"/api/v1/reports/export?format=xlsx&{period}",
            "report_csv": f"/api/v1/reports/export?format=csv&{period}",
            "report_pdf": f"/api/v1/reports/export?format=pdf&{period}",
            "report_summary": f"/api/v1/reports/summary?{period}"}


def together(base: str, auth: str, paths: list[str]) -> list[dict[str, Any]]:
    """The paths fetched at the same time (one thread each)."""
    results: list[dict[str, Any]] = [{} for _ in paths]

    def one(i: int) -> None:
        results[i] = fetch(base, paths[i], auth)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(paths))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return results


def book_pages(base: str, year: int, lines: int) -> dict[str, float]:
    """The book page (signed in through the form), first and last page, seconds each."""
    import re

    http = requests.Session()
    page = http.get(f"{base}/login", timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, "no CSRF token on /login"
    http.post(f"{base}/login", data={"username": "admin", "password": "demo", "csrf_token": csrf.group(1)},
              timeout=30)
    out = {}
    for name, number in (("first", 1), ("last", max(1, -(-lines // 50)))):
        started = time.perf_counter()
        res = http.get(f"{base}/counter/book?service_id=&year={year}&page={number}", timeout=60)
        res.raise_for_status()
        out[f"book_page_{name}_s"] = round(time.perf_counter() - started, 3)
    return out


def run(data_dir: Path | None = None, weeks: int = 52) -> dict[str, Any]:
    """The bench (``bench.run_all`` calls it without arguments: a fresh year in a temp dir)."""
    if data_dir is None:
        with tempfile.TemporaryDirectory(prefix="onestop-heavy-") as tmp:
            return run(Path(tmp), weeks)
    seeded = seed_year(data_dir, weeks)
    port = free_port()
    with Server(data_dir, port) as server:
        server.wait_healthy(60)
        base, auth = server.base, token(server.base)
        paths = heavy_paths(seeded["book_year"], dt.date.today())
        alone = {name: fetch(base, path, auth) for name, path in paths.items()}
        alone_again = {name: fetch(base, path, auth) for name, path in paths.items()}  # warm workers
        pages = book_pages(base, seeded["book_year"], seeded["book_lines"])
        with Prober(base, token(base, "manager")) as prober:
            both = together(base, auth, [paths["book_xlsx"], paths["report_xlsx"]])
    return {
        "bench": "heavy_work", "machine": machine_info(), "seeded": seeded,
        "alone_s": {name: r["seconds"] for name, r in alone.items()},
        "alone_warm_s": {name: r["seconds"] for name, r in alone_again.items()},
        "status": {name: r["status"] for name, r in alone.items()},
        "bytes": {name: r["bytes"] for name, r in alone.items()},
        **pages,
        "together_s": {"book_xlsx": both[0]["seconds"], "report_xlsx": both[1]["seconds"]},
        "together_status": [both[0]["status"], both[1]["status"]],
        "probe_during_exports": prober.result,
        "target": "healthz and call-next p99 < 100 ms while the book and report XLSX are built",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(args.data_dir, args.weeks)
    path = write_json("heavy_work", result)
    probe = result["probe_during_exports"]
    print(f"seeded {result['seeded']}\nalone {result['alone_s']}\nwarm {result['alone_warm_s']}\n"
          f"together {result['together_s']} {result['together_status']}\n"
          f"healthz {probe['healthz']}\ncall-next {probe['call_next']}\nerrors {probe['error_count']}\n"
          f"-> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
