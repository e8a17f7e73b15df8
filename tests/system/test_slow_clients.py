"""Slow and idle clients from one address cannot exhaust the worker (issue 18, item 2).

A real ``onestop serve``: 4,100 connections from 127.0.0.2 that send half a request and
then nothing (slowloris). Before, they held every one of the worker's 4,000 connections and
another address waited in vain; now one address holds at most
``ONESTOP_MAX_CONNECTIONS_PER_ADDRESS`` (the rest get a 503 and are closed at once), and a
request whose headers do not arrive within ``ONESTOP_HEADER_TIMEOUT_S`` is closed, even one
that trickles a byte at a time. Meanwhile 127.0.0.3 is served as usual.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import SECRET, free_port
from tests.ops.conftest import load_demo
from tests.system import _rawws
from tests.system._server import Server, clean_env, run_cli

pytestmark = pytest.mark.slow
SLOW = 4100
HEADER_TIMEOUT_S = 3
HALF = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("slow-clients")
    env = clean_env(ONESTOP_DATA_DIR=str(data_dir), ONESTOP_SECRET_KEY=SECRET,
                    ONESTOP_HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S), ONESTOP_LOG_LEVEL="warning")
    upgraded = run_cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    load_demo(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    port = free_port()
    with Server(["serve", "--port", str(port)], env, port, data_dir / "server.log") as srv:
        srv.wait_healthy(timeout=60)
        srv.port = port  # type: ignore[attr-defined]
        yield srv


def _half_sent(port: int, count: int) -> list[socket.socket]:
    """``count`` connections from 127.0.0.2, each with half a request sent."""
    held = []
    for _ in range(count):
        sock = socket.socket()
        sock.settimeout(2.0)
        sock.bind(("127.0.0.2", 0))
        try:
            sock.connect(("127.0.0.1", port))
            sock.send(HALF)
        except OSError:
            sock.close()
            continue
        held.append(sock)
    return held


def _closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.2)
    try:
        data = sock.recv(4096)
    except TimeoutError:
        return False  # still open, nothing sent
    except OSError:
        return True
    return data == b"" or data.startswith(b"HTTP/1.1 503")


def _served_from_another_address(base: str, times: int = 10) -> list[float]:
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter())
    waits = []
    for _ in range(times):
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=5,
                                      source_address=("127.0.0.3", 0)) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
        waits.append(time.monotonic() - start)
    return waits


def test_slow_connections_from_one_address_leave_the_others_served(server: Server) -> None:
    port = server.port  # type: ignore[attr-defined]
    started = time.monotonic()
    slow = _half_sent(port, SLOW)
    trickling = slow[:5]
    try:
        opened_in = time.monotonic() - started
        waits = _served_from_another_address(server.base)
        print(f"{len(slow)} slow connections opened in {opened_in:.1f} s; another address: "
              f"max {max(waits):.3f} s over {len(waits)} requests")
        assert max(waits) < 1.0, waits
        refused = sum(_closed_by_server(s) for s in slow[-200:])
        assert refused == 200, f"only {refused} of the last 200 slow connections were refused"

        # the ones held are closed once their headers are late, even while trickling bytes
        for _ in range(HEADER_TIMEOUT_S + 1):
            for sock in trickling:
                with contextlib.suppress(OSError):
                    sock.send(b"a")
            time.sleep(1.0)
        time.sleep(0.5)
        assert all(_closed_by_server(s) for s in slow[:500])
    finally:
        for sock in slow:
            sock.close()
    assert requests.get(f"{server.base}/healthz", timeout=2).status_code == 200


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Behind a proxy (ONESTOP_PROXY_COUNT=1) with a small cap, to count idle websockets."""
    data_dir = tmp_path_factory.mktemp("proxied")
    env = clean_env(ONESTOP_DATA_DIR=str(data_dir), ONESTOP_SECRET_KEY=SECRET, ONESTOP_PROXY_COUNT="1",
                    ONESTOP_MAX_CONNECTIONS_PER_ADDRESS=str(CAP), ONESTOP_LOG_LEVEL="warning")
    assert run_cli(["db", "upgrade"], env).returncode == 0
    load_demo(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    port = free_port()
    with Server(["serve", "--port", str(port)], env, port, data_dir / "server.log") as srv:
        srv.wait_healthy(timeout=60)
        srv.port = port  # type: ignore[attr-defined]
        yield srv


CAP = 5


def test_behind_a_proxy_idle_websockets_count_per_forwarded_address(proxied: Server) -> None:
    """Every connection comes from the proxy: the cap counts the forwarded client address,
    and an idle websocket counts for as long as it is open."""
    port = proxied.port  # type: ignore[attr-defined]
    one = "X-Forwarded-For: 192.0.2.9\r\n"
    idle = [_rawws.open_websocket(port, headers=one) for _ in range(CAP)]
    try:
        assert all(_opened(sock) for sock in idle)
        # gevent-websocket answers the upgrade before onestop sees the request: over the cap
        # the websocket is closed at once, without engine.io's open packet
        assert not _opened(_rawws.open_websocket(port, headers=one))
        assert _opened(_rawws.open_websocket(port, headers="X-Forwarded-For: 192.0.2.10\r\n"))
        ok = requests.get(f"{proxied.base}/healthz", headers={"X-Forwarded-For": "192.0.2.11"}, timeout=5)
        assert ok.status_code == 200
        idle.pop().close()
        time.sleep(0.5)  # the server notices the close
        assert _opened(_rawws.open_websocket(port, headers=one))  # a place is free again
    finally:
        for sock in idle:
            sock.close()


def _opened(sock: socket.socket) -> bool:
    """Did engine.io open the session (its open packet ``0{"sid": ...}``), or was the
    websocket closed (a close frame, or nothing)?"""
    sock.settimeout(5)
    try:
        first = sock.recv(256)
    except OSError:
        return False
    return first.startswith(b"\x81") and b'"sid"' in first
