"""A real `onestop serve` as production runs it: JSON logs with request ids, /readyz,
/metrics (loopback, token, not through a proxy), the display gauge over a websocket, and a
graceful stop within the short timeout even with a display connected."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import socketio

from onestop import demo
from tests.conftest import SECRET, free_port
from tests.ops.conftest import load_demo
from tests.system._server import Server, clean_env, run_cli

pytestmark = pytest.mark.slow
TOKEN = "metrics-token-for-the-test"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("serve-ops")
    env = clean_env(ONESTOP_DATA_DIR=str(data_dir), ONESTOP_SECRET_KEY=SECRET, ONESTOP_ALWAYS_OPEN="1",
                    ONESTOP_LOG_FORMAT="json", ONESTOP_PROXY_COUNT="1", ONESTOP_METRICS_TOKEN=TOKEN)
    upgraded = run_cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    load_demo(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    port = free_port()
    with Server(["serve", "--port", str(port)], env, port, data_dir / "server.log") as srv:
        srv.wait_healthy(timeout=60)
        yield srv


def _token(base: str) -> str:
    res = requests.post(f"{base}/api/v1/auth/token",
                        json={"username": "clerk1", "password": demo.DEMO_PASSWORD}, timeout=30)
    assert res.status_code == 201, res.text
    return str(res.json()["token"])


def test_ready_metrics_and_json_logs(server: Server) -> None:
    base = server.base
    ready = requests.get(f"{base}/readyz", timeout=30)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"

    auth = {"Authorization": f"Bearer {_token(base)}", "X-Request-ID": "ops-test-rid-1"}
    issued = requests.post(f"{base}/api/v1/tickets", json={"service_id": 1}, headers=auth, timeout=30)
    assert issued.status_code == 201, issued.text
    assert issued.headers["X-Request-ID"] == "ops-test-rid-1"

    display = socketio.Client(reconnection=False)
    display.connect(base, namespaces=["/display"], transports=["websocket"], wait_timeout=30)
    try:
        metrics = requests.get(f"{base}/metrics", timeout=30)
        assert metrics.status_code == 200
        text = metrics.text
        assert f'onestop_tickets_issued_total{{service="TPHT",unit="{demo.UNIT_CODE}"}} 1.0' in text
        assert "onestop_display_clients 1.0" in text
        assert "process_resident_memory_bytes" in text
    finally:
        display.disconnect()

    proxied = {"X-Forwarded-For": "192.0.2.7"}
    assert requests.get(f"{base}/metrics", headers=proxied, timeout=30).status_code == 403
    with_token = requests.get(f"{base}/metrics", headers={**proxied, "Authorization": f"Bearer {TOKEN}"},
                              timeout=30)
    assert with_token.status_code == 200

    lines = _log_lines(server, lambda rows: any(r.get("request_id") == "ops-test-rid-1" for r in rows))
    access = [r for r in lines
              if r["logger"] == "gunicorn.access" and r.get("request_id") == "ops-test-rid-1"]
    assert access, lines[-5:]
    assert access[0]["http"]["status"] == 201 and access[0]["http"]["path"] == "/api/v1/tickets"
    assert access[0]["http"]["method"] == "POST" and access[0]["http"]["duration_ms"] >= 0
    assert any(r["logger"] == "gunicorn.error" and "Listening" in r["message"] for r in lines)
    assert {"ts", "level", "logger", "message", "request_id"} <= set(lines[0])


def test_a_request_line_too_long_is_refused_without_a_traceback(server: Server) -> None:
    """pywsgi answers 414 itself, before any WSGI environ: the access line is still written,
    not a greenlet's traceback (which was also no JSON line)."""
    long = requests.get(f"{server.base}/healthz?pad={'x' * 9000}", timeout=30)
    assert long.status_code == 414
    after = requests.get(f"{server.base}/healthz", headers={"X-Request-ID": "ops-test-rid-414"}, timeout=30)
    assert after.status_code == 200
    lines = _log_lines(server, lambda rows: any(r.get("request_id") == "ops-test-rid-414" for r in rows))
    assert not [r for r in lines if "Traceback" in str(r.get("message"))]
    assert "Traceback" not in Path(server.log_path).read_text()


def _log_lines(server: Server, done: object, timeout: float = 15) -> list[dict[str, object]]:
    """Every line of the server's output is one JSON object (waits for the wanted line)."""
    deadline = time.monotonic() + timeout
    while True:
        server._log.flush()
        raw = [ln for ln in Path(server.log_path).read_text().splitlines() if ln.strip()]
        rows = [json.loads(ln) for ln in raw]  # fails the test on any non-JSON line
        if done(rows) or time.monotonic() > deadline:  # type: ignore[operator]
            return rows
        time.sleep(0.2)


@contextmanager
def _serving_a_display(tmp_path: Path, **env: str) -> Iterator[Server]:
    """``onestop serve`` on the demo centre, with a display connected over websocket."""
    environ = clean_env(ONESTOP_DATA_DIR=str(tmp_path), ONESTOP_SECRET_KEY=SECRET, **env)
    assert run_cli(["db", "upgrade"], environ).returncode == 0
    load_demo(f"sqlite:///{tmp_path / 'onestop.sqlite3'}")
    port = free_port()
    srv = Server(["serve", "--port", str(port)], environ, port, tmp_path / "server.log")
    display = socketio.Client(reconnection=False)
    try:
        srv.wait_healthy(timeout=60)
        display.connect(srv.base, namespaces=["/display"], transports=["websocket"], wait_timeout=30)
        yield srv
    finally:
        display.disconnect()
        srv.stop()


def _stop_time(srv: Server) -> float:
    """Seconds from SIGTERM (what systemd sends to the main process) to the exit."""
    start = time.monotonic()
    os.kill(srv.proc.pid, signal.SIGTERM)
    try:
        srv.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("the server did not stop within 20 s of SIGTERM")
    assert srv.proc.returncode == 0
    return time.monotonic() - start


def test_graceful_timeout_is_a_setting(tmp_path: Path) -> None:
    """ONESTOP_GRACEFUL_TIMEOUT_S bounds a stop with a display still connected."""
    with _serving_a_display(tmp_path, ONESTOP_GRACEFUL_TIMEOUT_S="1") as srv:
        assert _stop_time(srv) < 3.5  # the default (5 s) would take longer


def test_sigterm_stops_within_the_graceful_timeout(tmp_path: Path) -> None:
    with _serving_a_display(tmp_path) as srv:
        took = _stop_time(srv)
        assert took < 12, f"graceful stop took {took:.1f} s"
