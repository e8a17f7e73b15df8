"""Two real server processes sharing PostgreSQL and a Redis message queue."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests
import socketio
from sqlalchemy import select

from hardware.printing.fakeprinter import FakePrinter
from onestop import demo
from onestop.accounts.engine import add_device
from onestop.db import Database, make_engine, utcnow
from onestop.migrate import upgrade
from onestop.units.models import Unit
from tests.conftest import SECRET, free_port
from tests.livesrv import ONESTOP, wait_healthy
from tests.printing.test_agent_e2e import agent_process


def _prepare(url: str) -> None:
    upgrade(url)
    database = Database()
    database.engine = make_engine(url)
    database.session_factory.configure(bind=database.engine)
    with database.transaction() as session:
        demo.load(session)
    database.engine.dispose()


@contextmanager
def _serve(url: str, redis: str, channel: str, data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "ONESTOP_DATABASE_URL": url, "ONESTOP_MESSAGE_QUEUE_URL": redis,
           "ONESTOP_MESSAGE_QUEUE_CHANNEL": channel, "ONESTOP_SECRET_KEY": SECRET,
           "ONESTOP_ALWAYS_OPEN": "1", "ONESTOP_DATA_DIR": str(data_dir),
           "ONESTOP_TICKET_RATE_LIMIT": "100000 per minute"}
    log = (data_dir / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen([ONESTOP, "serve", "--port", str(port)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_call_through_one_instance_reaches_a_display_on_the_other(pg_url, redis_url, tmp_path):
    _prepare(pg_url)
    channel = f"onestop-test-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        a = stack.enter_context(_serve(pg_url, redis_url, channel, tmp_path))
        b = stack.enter_context(_serve(pg_url, redis_url, channel, tmp_path))
        got = threading.Event()
        calls: list[dict] = []
        display = socketio.Client()

        @display.on("ticket.called", namespace="/display")
        def _called(data: dict) -> None:
            calls.append(data)
            got.set()

        display.connect(b, namespaces=["/display"], transports=["websocket"])
        stack.callback(display.disconnect)
        token = requests.post(f"{a}/api/v1/auth/token", timeout=5,
                              json={"username": "clerk1", "password": "demo"}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        first = requests.post(f"{a}/api/v1/tickets", json={"service_id": 1}, headers=headers,
                              timeout=5).json()
        second = requests.post(f"{b}/api/v1/tickets", json={"service_id": 1}, headers=headers,
                               timeout=5).json()
        assert (first["label"], second["label"]) == ("A001", "A002")
        assert requests.post(f"{a}/api/v1/counters/1/open", headers=headers, timeout=5).ok
        assert requests.post(f"{a}/api/v1/counters/1/call-next", headers=headers, timeout=5).ok
        assert got.wait(5), "the display on instance B never heard the call made on A"
        assert calls[0]["ticket"]["label"] == "A001"
        assert calls[0]["counter"]["number"] == 1



def _token(base: str, username: str) -> str:
    return str(requests.post(f"{base}/api/v1/auth/token", timeout=10,
                             json={"username": username, "password": "demo"}).json()["token"])


def _devices(url: str) -> tuple[str, str]:
    """A print agent and a kiosk printing through it (printer URI ``agent``)."""
    database = Database()
    database.engine = make_engine(url)
    database.session_factory.configure(bind=database.engine)
    with database.transaction() as session:
        unit = session.scalars(select(Unit)).first()
        _a, agent_token, _c = add_device(session, unit, "agent", "Máy in sảnh", now=utcnow())
        _k, kiosk_token, _c = add_device(session, unit, "kiosk", "Ki-ốt sảnh", now=utcnow(),
                                         printer_uri="agent")
    database.engine.dispose()
    return agent_token, kiosk_token


def _issue(base: str, headers: dict[str, str]) -> dict[str, Any]:
    res = requests.post(f"{base}/api/v1/tickets", json={"service_id": 1}, headers=headers,
                        timeout=20)
    assert res.status_code == 201, res.text[:200]
    return dict(res.json())


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_both_instances_number_together_and_b_serves_on_without_a(pg_url, redis_url, tmp_path):
    _prepare(pg_url)
    agent_token, kiosk_token = _devices(pg_url)
    channel = f"onestop-test-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        b = stack.enter_context(_serve(pg_url, redis_url, channel, tmp_path))
        a_server = _serve(pg_url, redis_url, channel, tmp_path)
        a = a_server.__enter__()
        try:
            clerk = {"Authorization": f"Bearer {_token(a, 'clerk1')}"}

            with ThreadPoolExecutor(max_workers=4) as pool:
                tickets = list(pool.map(lambda base: _issue(base, clerk), [a, b] * 30))
            assert sorted(t["label"] for t in tickets) == [f"A{n:03d}" for n in range(1, 61)]

            # a print agent connected to B prints the ticket a kiosk takes through A
            printer = stack.enter_context(FakePrinter())
            log = tmp_path / "agent.log"
            stack.enter_context(agent_process(b, agent_token, printer,
                                              tmp_path / "agent" / "jobs.json", log))
            assert _wait_for(lambda: log.exists() and "connected" in log.read_text()), \
                "the agent never connected to B"
            kiosk = requests.post(f"{a}/api/v1/tickets", json={"service_id": 1}, timeout=20,
                                  headers={"Authorization": f"Bearer {kiosk_token}"})
            assert kiosk.status_code == 201
            printer.wait_for_jobs(1, timeout=15)
        finally:
            a_server.__exit__(None, None, None)

        # A is gone: B keeps issuing and calling
        assert _issue(b, clerk)["label"] == "A062"
        assert requests.post(f"{b}/api/v1/counters/1/open", headers=clerk, timeout=10).ok
        called = requests.post(f"{b}/api/v1/counters/1/call-next", headers=clerk, timeout=10)
        # the oldest by issue time, which with four clients on two instances at once need
        # not be the lowest number
        first = min(tickets, key=lambda t: (dt.datetime.fromisoformat(t["issued_at"]), t["id"]))
        assert called.json()["id"] == first["id"]
        assert called.json()["state"] == "called"
