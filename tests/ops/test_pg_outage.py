"""A database outage under a running server on PostgreSQL, without stopping PostgreSQL
(a shared service): the server talks to PostgreSQL through a TCP forwarder of this test,
which then cuts every proxied connection and refuses new ones for a few seconds.

During the outage every request fails cleanly: 503 with the error envelope, no traceback,
quickly. Once the forwarder accepts again the same server process serves again (the pool
pings connections before use and replaces the dead ones), with no restart.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from onestop import demo
from onestop.db import make_engine
from onestop.migrate import upgrade
from tests.conftest import SECRET, free_port
from tests.ops.conftest import load_demo
from tests.system._server import Server, clean_env

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

OUTAGE_S = 4.0
TIMEOUT = 30.0


class Forwarder:
    """127.0.0.1:port -> target, in threads; ``cut`` drops every connection and stops
    listening (new connections are refused), ``resume`` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.accepted = 0

    def resume(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets |= {client, upstream}
                self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(src, dst)

    def _drop(self, *socks: socket.socket) -> None:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
            with self.lock:
                self.sockets.discard(sock)

    def cut(self) -> None:
        if self.listener is not None:
            # shutdown first: a close() alone does not wake the thread blocked in accept(),
            # which would go on accepting on the still-listening socket
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            live = list(self.sockets)
        self._drop(*live)

    def close(self) -> None:
        self.cut()


@pytest.fixture
def forwarder(pg_url: str) -> Iterator[Forwarder]:
    url = make_url(pg_url)
    proxy = Forwarder((url.host or "127.0.0.1", url.port or 5432))
    proxy.resume()
    yield proxy
    proxy.close()


def _through(pg_url: str, port: int) -> str:
    return make_url(pg_url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _is_clean_503(res: requests.Response) -> bool:
    body = res.text
    return (res.status_code == 503 and "Traceback" not in body
            and res.json().get("error", {}).get("code") == "unavailable")


def test_pool_pings_connections_before_use(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        assert engine.pool._pre_ping is True
    finally:
        engine.dispose()


def test_outage_gives_clean_503s_then_recovers_without_restart(pg_url: str, forwarder: Forwarder,
                                                                tmp_path: Path) -> None:
    upgrade(pg_url)
    load_demo(pg_url)
    env = clean_env(ONESTOP_DATA_DIR=str(tmp_path), ONESTOP_SECRET_KEY=SECRET, ONESTOP_ALWAYS_OPEN="1",
                    ONESTOP_DATABASE_URL=_through(pg_url, forwarder.port))
    port = free_port()
    with Server(["serve", "--port", str(port)], env, port, tmp_path / "server.log") as server:
        server.wait_healthy(timeout=60)
        base, pid = server.base, server.proc.pid
        token = requests.post(f"{base}/api/v1/auth/token", timeout=TIMEOUT,
                              json={"username": "clerk1", "password": demo.DEMO_PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

        def issue() -> requests.Response:
            return requests.post(f"{base}/api/v1/tickets", json={"service_id": 1}, headers=auth,
                                 timeout=TIMEOUT)

        def services() -> requests.Response:
            return requests.get(f"{base}/api/v1/services", headers=auth, timeout=TIMEOUT)

        assert issue().status_code == 201 and services().status_code == 200
        assert forwarder.accepted >= 1

        forwarder.cut()
        outage_end = time.monotonic() + OUTAGE_S
        answers: list[requests.Response] = []
        while time.monotonic() < outage_end:
            start = time.monotonic()
            for res in (issue(), services(), requests.get(f"{base}/api/v1/counters", headers=auth,
                                                          timeout=TIMEOUT)):
                answers.append(res)
                assert _is_clean_503(res), (res.status_code, res.text[:500])
            assert time.monotonic() - start < 10, "requests hang instead of failing fast"
            time.sleep(0.2)
        assert len(answers) >= 3
        health = requests.get(f"{base}/healthz", timeout=TIMEOUT)
        assert health.status_code == 503 and "Traceback" not in health.text
        ready = requests.get(f"{base}/readyz", timeout=TIMEOUT)
        assert ready.status_code == 503 and ready.json()["failed"][0] == "database"

        forwarder.resume()
        first = services()  # stale pooled connections are pinged and replaced: no error
        assert first.status_code == 200, first.text[:500]
        for _ in range(5):
            assert issue().status_code == 201
        assert requests.get(f"{base}/readyz", timeout=TIMEOUT).status_code == 200
        assert server.proc.poll() is None and server.proc.pid == pid  # never restarted
