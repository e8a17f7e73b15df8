"""Two instances and a Redis that goes away: displays catch up when it returns, and closing
a user's sockets reaches the other instance.

The outage needs a Redis of its own (the shared one on 6379 serves other tests): a private
``redis-server`` on a free port, stopped and started again on the same port.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import redis
import requests
import socketio

from tests.conftest import free_port, need_service
from tests.scaleout.test_two_instances import _prepare, _serve

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@contextmanager
def _redis(port: int, data_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(data_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(port=port, socket_connect_timeout=0.5).ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _token(base: str, username: str) -> str:
    return str(requests.post(f"{base}/api/v1/auth/token", timeout=10,
                             json={"username": username, "password": "demo"}).json()["token"])


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_call_made_during_an_outage_reaches_the_other_instances_displays(pg_url, tmp_path):
    if not Path(REDIS_SERVER).exists():
        need_service("redis", "redis-server is not installed")
    _prepare(pg_url)
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    channel = f"onestop-test-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        queue = stack.enter_context(_redis(port, tmp_path))
        a = stack.enter_context(_serve(pg_url, url, channel, tmp_path))
        b = stack.enter_context(_serve(pg_url, url, channel, tmp_path))
        snapshots: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        display = socketio.Client(reconnection=True)
        display.on("state", lambda data: snapshots.append(data), namespace="/display")
        display.on("ticket.called", lambda data: calls.append(data), namespace="/display")
        display.connect(b, namespaces=["/display"], transports=["websocket"])
        stack.callback(display.disconnect)
        assert _wait(lambda: len(snapshots) == 1, 5)

        clerk = {"Authorization": f"Bearer {_token(a, 'clerk1')}"}
        ticket = requests.post(f"{a}/api/v1/tickets", json={"service_id": 1}, headers=clerk,
                               timeout=10).json()
        assert requests.post(f"{a}/api/v1/counters/1/open", headers=clerk, timeout=10).ok

        queue.terminate()  # the outage
        queue.wait(timeout=10)
        time.sleep(1.0)  # both instances' listeners have lost the queue
        res = requests.post(f"{a}/api/v1/counters/1/call-next", headers=clerk, timeout=20)
        assert res.status_code == 200, res.text[:200]  # a call during the outage still works
        time.sleep(1.0)
        assert calls == []  # B's display could not hear it: nothing carried it there
        before = len(snapshots)

        stack.enter_context(_redis(port, tmp_path))  # the queue is back
        back = time.monotonic()

        def caught_up() -> bool:
            return any(any(c["ticket"]["label"] == ticket["label"] for c in s["recent_calls"])
                       for s in snapshots[before:])

        assert _wait(caught_up, 10), f"display on B never caught up ({len(snapshots)} snapshots)"
        took = time.monotonic() - back
        assert took < 5, f"the display caught up {took:.1f} s after Redis returned"
        assert display.connected  # a new snapshot on the same connection, no reconnect

        # and the queue works again: the next call reaches B's display live
        requests.post(f"{a}/api/v1/tickets", json={"service_id": 1}, headers=clerk, timeout=10)
        assert requests.post(f"{a}/api/v1/counters/1/call-next", headers=clerk, timeout=10).ok
        assert _wait(lambda: len(calls) == 1, 5)


def test_revoking_a_token_on_one_instance_closes_its_socket_on_the_other(pg_url, redis_url,
                                                                        tmp_path):
    _prepare(pg_url)
    channel = f"onestop-test-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        a = stack.enter_context(_serve(pg_url, redis_url, channel, tmp_path))
        b = stack.enter_context(_serve(pg_url, redis_url, channel, tmp_path))
        token, other = _token(a, "clerk1"), _token(a, "clerk2")
        clients = []
        for credential in (token, other):
            sio = socketio.Client(reconnection=False)
            sio.connect(b, namespaces=["/counter"], transports=["websocket"],
                        auth={"token": credential})
            stack.callback(sio.disconnect)
            clients.append(sio)
        revoked, kept = clients
        assert revoked.connected and kept.connected
        res = requests.post(f"{a}/api/v1/auth/revoke", timeout=10,
                            headers={"Authorization": f"Bearer {token}"})
        assert res.status_code == 200
        assert _wait(lambda: not revoked.connected, 5), "instance B kept the revoked token's socket"
        assert kept.connected

