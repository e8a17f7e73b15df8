"""Two real server processes sharing PostgreSQL and a Redis message queue."""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests
import socketio

from onestop import demo
from onestop.db import Database, make_engine
from onestop.migrate import upgrade
from tests.conftest import SECRET, free_port
from tests.livesrv import ONESTOP, wait_healthy


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
           "ONESTOP_ALWAYS_OPEN": "1", "ONESTOP_DATA_DIR": str(data_dir)}
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
