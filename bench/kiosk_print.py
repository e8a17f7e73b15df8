"""Kiosk print latency over HTTP: kiosk request -> last byte at a TCP printer (DESIGN §7).

A real server (``onestop serve``: SQLite, one gevent worker) and a fake Epson printer on
127.0.0.1 (:class:`hardware.printing.fakeprinter.FakePrinter`, which stamps each byte as
it arrives). A kiosk device whose ``printer_uri`` is the fake printer issues ``n`` tickets
over HTTP one after another (after a warm-up); each POST /api/v1/tickets commits the
ticket, renders it, sends it and waits for the printer's status answer before replying.
Measured per ticket, from just before the POST: the last byte at the printer (the
target: p95 <= 100 ms) and the HTTP round trip. The measuring loop is
:func:`bench.print_latency.run` with an HTTP path.

    python -m bench.kiosk_print          # writes bench/results/kiosk_print.json
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from bench import print_latency
from bench.common import Server, free_port, latency_summary, prepare_centre, sqlite_url, write_json

TARGET_P95_MS = 100.0


def _create_missing_tables(data_dir: Path) -> None:
    """Tables newer than the last Alembic migration (``print_jobs`` until it has one)."""
    from onestop.db import make_engine
    from onestop.models import Base

    engine = make_engine(sqlite_url(data_dir))
    Base.metadata.create_all(engine)
    engine.dispose()


def _point_kiosk_at(data_dir: Path, token: str, printer_uri: str) -> None:
    from sqlalchemy import update

    from onestop.accounts.models import Device, hash_token
    from onestop.db import make_engine

    engine = make_engine(sqlite_url(data_dir))
    with engine.begin() as conn:
        conn.execute(update(Device).where(Device.token_hash == hash_token(token))
                     .values(printer_uri=printer_uri))
    engine.dispose()


class HttpKiosk:
    """The print path of :func:`bench.print_latency.run`: a kiosk's POST /api/v1/tickets."""

    __name__ = "http_kiosk"

    def __init__(self, base: str, data_dir: Path, token: str, service_id: int) -> None:
        self.base, self.data_dir, self.token, self.service_id = base, data_dir, token, service_id
        self.http_s: list[float] = []
        self.states: list[str] = []
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, printer_uri: str) -> print_latency.Issue:
        _point_kiosk_at(self.data_dir, self.token, printer_uri)

        def issue(i: int) -> object:
            start = time.perf_counter()
            res = self.session.post(f"{self.base}/api/v1/tickets", json={"service_id": self.service_id},
                                    timeout=10)
            self.http_s.append(time.perf_counter() - start)
            self.states.append(res.json().get("print_state", f"http {res.status_code}")
                               if res.status_code == 201 else f"http {res.status_code}")
            return res

        return issue


def run(n: int = 200, warmup: int = 10) -> dict[str, Any]:
    """Start a server, print ``warmup`` + ``n`` kiosk tickets over HTTP, summarise the last ``n``."""
    with tempfile.TemporaryDirectory(prefix="onestop-bench-") as tmp:
        data_dir = Path(tmp)
        centre = prepare_centre(data_dir)
        _create_missing_tables(data_dir)
        with Server(data_dir, free_port()) as server:
            server.wait_healthy()
            path = HttpKiosk(server.base, data_dir, centre["kiosk_token"], centre["services"][0])
            result = print_latency.run(n=n, path=path, warmup=warmup)
    summary = {k: result[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms") if k in result}
    return {
        "name": "kiosk_print",
        "what": "kiosk POST /api/v1/tickets (commit, render, send, status answer) -> last byte at a "
                "TCP printer",
        "server": "onestop serve (gunicorn, 1 gevent worker), SQLite", "tickets": n, "warmup": warmup,
        "lost": result["lost"], **summary, "http": latency_summary(path.http_s[warmup:]),
        "print_states": dict(Counter(path.states[warmup:])),
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": bool(summary) and result["lost"] == 0 and summary["p95_ms"] <= TARGET_P95_MS,
        "machine": result["machine"],
    }


if __name__ == "__main__":
    out = run()
    where = write_json("kiosk_print", out)
    print(f"kiosk print: last byte p50 {out.get('p50_ms')} ms, p95 {out.get('p95_ms')} ms "
          f"(target {TARGET_P95_MS:.0f}); HTTP p95 {out['http'].get('p95_ms')} ms; "
          f"states {out['print_states']}, lost {out['lost']} -> {where}")
