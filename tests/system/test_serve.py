"""The real server: ``onestop demo`` and ``onestop serve`` as processes, HTTP and Socket.IO.

A ticket issued over HTTP is called over HTTP and announced to a python-socketio client on
/display over a websocket; the CLI refuses to serve without a secret; a kiosk registered
with ``onestop device add --json`` issues tickets with its token.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from sqlalchemy.orm import Session

from onestop import demo
from onestop.db import make_engine
from tests.conftest import SECRET, free_port
from tests.system._server import Server, clean_env, run_cli

pytestmark = pytest.mark.slow

EVENT_TIMEOUT = 10.0


def _sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'onestop.sqlite3'}"


def _serve_env(data_dir: Path) -> dict[str, str]:
    return clean_env(ONESTOP_DATA_DIR=str(data_dir), ONESTOP_SECRET_KEY=SECRET,
                     ONESTOP_ALWAYS_OPEN="1")


@pytest.fixture(scope="module")
def serve_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``onestop db upgrade``, the demo data, then ``onestop serve`` on a fresh data dir."""
    data_dir = tmp_path_factory.mktemp("serve")
    env = _serve_env(data_dir)
    upgraded = run_cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database up to date" in upgraded.stdout
    engine = make_engine(_sqlite_url(data_dir))
    with Session(engine) as session:
        demo.load(session)
        session.commit()
    engine.dispose()
    port = free_port()
    server = Server(["serve", "--host", "127.0.0.1", "--port", str(port)], env, port,
                    data_dir / "server.log")
    server.data_dir = data_dir  # type: ignore[attr-defined]
    with server:
        server.wait_healthy()
        yield server


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[Server]:
    """``onestop demo --always-open``: upgrades, loads the demo and serves in one go."""
    port = free_port()
    data_dir = tmp_path / "demo-data"
    args = ["demo", "--always-open", "--port", str(port), "--data-dir", str(data_dir)]
    with Server(args, clean_env(), port, tmp_path / "demo.log") as server:
        server.wait_healthy()
        yield server


def _token(base: str, username: str) -> str:
    res = requests.post(f"{base}/api/v1/auth/token",
                        json={"username": username, "password": demo.DEMO_PASSWORD}, timeout=10)
    assert res.status_code == 201, res.text
    return str(res.json()["token"])


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class DisplayClient:
    """A hall display: python-socketio on /display, over a websocket only."""

    def __init__(self, base: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.states: list[dict[str, Any]] = []
        self.called: list[dict[str, Any]] = []
        self.got_state = threading.Event()
        self.got_call = threading.Event()
        self.sio.on("state", self._on_state, namespace="/display")
        self.sio.on("ticket.called", self._on_called, namespace="/display")
        self.sio.connect(base, namespaces=["/display"], transports=["websocket"],
                         wait_timeout=EVENT_TIMEOUT)

    def _on_state(self, data: dict[str, Any]) -> None:
        self.states.append(data)
        self.got_state.set()

    def _on_called(self, data: dict[str, Any]) -> None:
        self.called.append(data)
        self.got_call.set()

    def close(self) -> None:
        self.sio.disconnect()


def _issue_call_and_announce(base: str) -> None:
    token = _token(base, "clerk1")
    issued = requests.post(f"{base}/api/v1/tickets", json={"service_id": 1},
                           headers=_auth(token), timeout=10)
    assert issued.status_code == 201, issued.text
    ticket = issued.json()
    assert ticket["state"] == "waiting" and ticket["label"].startswith("A")

    display = DisplayClient(base)
    try:
        assert display.sio.transport() == "websocket"
        assert display.got_state.wait(EVENT_TIMEOUT), "no state snapshot on connect"
        assert isinstance(display.states[0], dict)

        opened = requests.post(f"{base}/api/v1/counters/1/open", headers=_auth(token), timeout=10)
        assert opened.status_code == 200, opened.text
        called = requests.post(f"{base}/api/v1/counters/1/call-next", headers=_auth(token),
                               timeout=10)
        assert called.status_code == 200, called.text
        assert called.json()["id"] == ticket["id"]
        assert called.json()["state"] == "called"

        assert display.got_call.wait(EVENT_TIMEOUT), "no ticket.called over the websocket"
        event = display.called[0]
        assert event["ticket"]["id"] == ticket["id"]
        assert event["ticket"]["label"] == ticket["label"]
        assert event["counter"]["number"] == 1
        assert event["recall"] is False
        assert event["at"]
    finally:
        display.close()


def test_demo_process_issues_calls_and_announces(demo_server: Server) -> None:
    _issue_call_and_announce(demo_server.base)


def test_serve_process_issues_calls_and_announces(serve_server: Server) -> None:
    _issue_call_and_announce(serve_server.base)


def test_device_add_kiosk_json_token_issues_tickets(serve_server: Server) -> None:
    env = _serve_env(serve_server.data_dir)  # type: ignore[attr-defined]
    added = run_cli(["device", "add", "--kind", "kiosk", "--name", "K", "--json"], env)
    assert added.returncode == 0, added.stderr
    device = json.loads(added.stdout)
    assert isinstance(device, dict)
    assert {"id", "token", "pairing_code"} <= set(device)
    assert isinstance(device["id"], int) and device["token"] and device["pairing_code"]

    res = requests.post(f"{serve_server.base}/api/v1/tickets", json={"service_id": 1},
                        headers=_auth(device["token"]), timeout=10)
    assert res.status_code == 201, res.text
    assert res.json()["source"] == "kiosk"
    again = requests.get(f"{serve_server.base}/api/v1/tickets/{res.json()['id']}",
                         headers=_auth(device["token"]), timeout=10)
    assert again.status_code == 200 and again.json()["source"] == "kiosk"

    forged = requests.post(f"{serve_server.base}/api/v1/tickets", json={"service_id": 1},
                           headers=_auth(device["token"] + "x"), timeout=10)
    assert forged.status_code == 401


def test_bodies_past_the_read_buffer_are_read_whole_on_one_connection(serve_server: Server) -> None:
    """Each connection reads through a small buffer (``onestop.server.READ_BUFFER``): bodies
    many times its size still arrive whole, and the kept-alive connection goes on."""
    from onestop.server import READ_BUFFER

    env = _serve_env(serve_server.data_dir)  # type: ignore[attr-defined]
    added = run_cli(["device", "add", "--kind", "kiosk", "--name", "K2", "--json"], env)
    token = json.loads(added.stdout)["token"]
    http = requests.Session()
    for size in (READ_BUFFER - 10, READ_BUFFER * 3 + 7, READ_BUFFER * 200):
        body = '{"service_id": 1,' + " " * size + '"priority": "none"}'  # valid JSON, padded
        res = http.post(f"{serve_server.base}/api/v1/tickets", data=body.encode(), timeout=10,
                        headers={**_auth(token), "Content-Type": "application/json"})
        assert res.status_code == 201, (size, res.text)
    numbers = [http.post(f"{serve_server.base}/api/v1/tickets", json={"service_id": 1},
                         headers=_auth(token), timeout=10).json()["number"] for _ in range(2)]
    assert numbers[1] == numbers[0] + 1


def test_serve_without_secret_key_exits_with_a_clear_message(tmp_path: Path) -> None:
    env = clean_env(ONESTOP_DATA_DIR=str(tmp_path))
    result = run_cli(["serve", "--port", str(free_port())], env, timeout=30)
    assert result.returncode != 0
    assert "ONESTOP_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_wal_checkpoints_are_taken_beside_the_requests(serve_server: Server) -> None:
    """Requests leave SQLite's checkpoints to the server's own thread (onestop/checkpoint.py):
    what they write reaches the database file shortly after, though no request's commit
    comes near the 10,000 pages at which a request would checkpoint by itself (nor the
    1,000 of SQLite's default)."""
    db_file = serve_server.data_dir / "onestop.sqlite3"  # type: ignore[attr-defined]
    token = _token(serve_server.base, "clerk1")
    time.sleep(1.0)  # a checkpoint of what the set-up wrote
    before = db_file.stat().st_mtime_ns
    for _ in range(5):
        res = requests.post(f"{serve_server.base}/api/v1/tickets", json={"service_id": 2},
                            headers=_auth(token), timeout=10)
        assert res.status_code == 201, res.text
    deadline = time.monotonic() + 5
    while db_file.stat().st_mtime_ns == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert db_file.stat().st_mtime_ns != before, "the tickets stayed in the WAL"
