"""Shared bench plumbing: a prepared SQLite centre, the server process, statistics, machine."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

RESULTS = Path(__file__).resolve().parent / "results"
ONESTOP = str(Path(sys.executable).with_name("onestop"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'onestop.sqlite3'}"


def prepare_centre(data_dir: Path, url: str | None = None) -> dict[str, Any]:
    """Migrate, load the demo, lift daily caps, let every counter serve every field.

    Returns ``{"kiosk_token": ..., "counters": {number: id}}``. A kiosk device issues the
    tickets (the lobby's path); clerks clerk1..clerk8 call at counters 1..8. ``url``: the
    database (default: a SQLite file in ``data_dir``).
    """
    from sqlalchemy import delete, select
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.accounts.engine import add_device
    from onestop.db import make_engine, utcnow
    from onestop.migrate import upgrade
    from onestop.queueing.models import Counter, CounterService, Service

    url = url or sqlite_url(data_dir)
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        unit = demo.load(session)
        services = list(session.scalars(select(Service).where(Service.unit_id == unit.id)))
        for service in services:
            service.daily_cap = None
        counters = list(session.scalars(select(Counter).where(Counter.unit_id == unit.id)))
        for counter in counters:
            session.execute(delete(CounterService).where(CounterService.counter_id == counter.id))
            for position, service in enumerate(services):
                session.add(CounterService(counter_id=counter.id, service_id=service.id,
                                           position=position))
        _device, token, _code = add_device(session, unit, "kiosk", "bench kiosk", now=utcnow())
        out = {"kiosk_token": token, "counters": {c.number: c.id for c in counters},
               "services": [s.id for s in services]}
        session.commit()
    engine.dispose()
    return out


def in_process_app(data_dir: Path, url: str) -> tuple[Any, dict[str, Any]]:
    """The demo centre on ``url`` (``prepare_centre``) and a Flask app on it in this process,
    with the limits off (a bench calls as fast as it can): ``(app, centre)``."""
    from onestop.app import create_app

    centre = prepare_centre(data_dir, url)
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(data_dir), "TESTING": True,
                      "ALWAYS_OPEN": True, "SECRET_KEY": "x" * 32,
                      "TICKET_RATE_LIMIT": "1000000 per minute",
                      "LOGIN_RATE_LIMIT": "1000 per minute"})
    return app, centre


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The server's environment; ``extra``: more ``ONESTOP_*`` settings (a database URL,
    a message queue) given without the prefix: ``server_env(d, DATABASE_URL=url)``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    env.update(ONESTOP_DATA_DIR=str(data_dir), ONESTOP_SECRET_KEY=secrets.token_hex(32),
               ONESTOP_ALWAYS_OPEN="1", ONESTOP_LOGIN_RATE_LIMIT="1000 per minute",
               ONESTOP_TICKET_RATE_LIMIT="1000000 per minute")
    env.update({f"ONESTOP_{k}": v for k, v in extra.items()})
    return env


class Server:
    """``onestop serve`` in its own process group; stopped for sure on exit. ``extra``:
    more settings for ``server_env`` (``DATABASE_URL``, ``MESSAGE_QUEUE_URL``...)."""

    def __init__(self, data_dir: Path, port: int, **extra: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.log_path = data_dir / "server.log"
        self._log: IO[str] = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [ONESTOP, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=server_env(data_dir, **extra), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as res:
                    if res.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not healthy after {timeout} s")

    def worker_pids(self) -> list[int]:
        """gunicorn's worker(s): the children of the master (this process)."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the worker(s)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        return total

    def stop(self) -> None:
        for sig in (signal.SIGINT, signal.SIGKILL):  # SIGINT: gunicorn's quick shutdown
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_summary(latencies_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in latencies_s]
    if not ms:
        return {}
    return {"p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(max(ms), 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpu_model": cpu, "cpu_count": os.cpu_count(),
            "memory_mb": mem_kb // 1024, "sqlite": sqlite3.sqlite_version,
            "loadavg_at_start": [round(x, 2) for x in load]}


def write_json(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path
