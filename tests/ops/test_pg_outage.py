"""A database outage under a running server on PostgreSQL, two ways. The shared service is
never stopped: in the first test the server talks to it through a TCP forwarder of the
test, which then cuts every proxied connection and refuses new ones for a few seconds; in
the second, PostgreSQL itself is stopped and started again, a cluster of the test's own.

During the outage every request fails cleanly: 503 with the error envelope, no traceback,
quickly. Once the forwarder accepts again the same server process serves again (the pool
checks connections before use and replaces the dead ones), with no restart.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from onestop import demo
from onestop.db import make_engine
from onestop.migrate import upgrade
from tests.conftest import SECRET, free_port, need_service
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


class OwnPostgres:
    """A PostgreSQL cluster of one test, from the machine's own binaries: in a fresh
    directory, on a free port, TCP only, trust auth. As root, its commands run as the
    ``postgres`` user (PostgreSQL refuses to run as root)."""

    def __init__(self, bindir: Path, data: Path) -> None:
        self.bindir, self.data, self.port = bindir, data, free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.data / "log"),
                  "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


def _postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else None


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    bindir = _postgres_bindir()
    if bindir is None:
        need_service("postgres", "PostgreSQL's binaries are not in /usr/lib/postgresql/*/bin")
    assert bindir is not None
    # not under pytest's tmp_path: its parents are closed to the postgres user
    data = Path(tempfile.mkdtemp(prefix="onestop-pg-"))
    data.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    cluster = OwnPostgres(bindir, data / "cluster")
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            cluster.stop()
        shutil.rmtree(data, ignore_errors=True)


def _through(pg_url: str, port: int) -> str:
    return make_url(pg_url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _is_clean_503(res: requests.Response) -> bool:
    body = res.text
    return (res.status_code == 503 and "Traceback" not in body
            and res.json().get("error", {}).get("code") == "unavailable")


def test_pool_pings_connections_before_use(pg_url: str) -> None:
    """A pooled connection whose server session is gone is replaced at checkout (the
    first request after a restart does not fail), without a round trip per checkout."""
    engine = make_engine(pg_url)
    try:
        with engine.connect() as a, engine.connect() as b:  # two pooled connections
            first = a.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            a.commit()  # idle in the pool when its session ends
            b.exec_driver_sql(f"SELECT pg_terminate_backend({int(first)})")
        time.sleep(0.2)  # the terminated session's close reaches our socket
        with engine.connect() as a, engine.connect() as b:  # both again: none fails
            pids = {c.exec_driver_sql("SELECT pg_backend_pid()").scalar() for c in (a, b)}
        assert first not in pids and len(pids) == 2
    finally:
        engine.dispose()


def test_outage_gives_clean_503s_then_recovers_without_restart(pg_url: str, forwarder: Forwarder,
                                                                tmp_path: Path) -> None:
    upgrade(pg_url)
    load_demo(pg_url)
    _check_outage(_through(pg_url, forwarder.port), tmp_path, forwarder.cut, forwarder.resume)
    assert forwarder.accepted >= 1


def test_a_real_postgresql_restart_under_the_server(own_postgres: OwnPostgres,
                                                     tmp_path: Path) -> None:
    """The same, with PostgreSQL itself stopped and started again (a cluster of this test's
    own, so that the shared service is left alone)."""
    upgrade(own_postgres.url)
    load_demo(own_postgres.url)
    _check_outage(own_postgres.url, tmp_path, own_postgres.stop, own_postgres.start)


def _check_outage(db_url: str, tmp_path: Path, cut: Callable[[], None],
                  resume: Callable[[], None]) -> None:
    """A running server on ``db_url``: it serves; between ``cut()`` and ``resume()`` every
    request is a quick, clean 503; then it serves again, the same process."""
    env = clean_env(ONESTOP_DATA_DIR=str(tmp_path), ONESTOP_SECRET_KEY=SECRET, ONESTOP_ALWAYS_OPEN="1",
                    ONESTOP_DATABASE_URL=db_url)
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

        cut()
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

        resume()
        first = services()  # stale pooled connections are pinged and replaced: no error
        assert first.status_code == 200, first.text[:500]
        for _ in range(5):
            assert issue().status_code == 201
        assert requests.get(f"{base}/readyz", timeout=TIMEOUT).status_code == 200
        assert server.proc.poll() is None and server.proc.pid == pid  # never restarted
