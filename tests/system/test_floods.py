"""One anonymous client flooding Socket.IO cannot stop the hall (issue 18, item 1).

A real ``onestop serve`` (one gevent worker). A raw websocket on /display writes events as
fast as the kernel takes them, then another writes connect/disconnect packets, 5 s each,
while another process probes ``/healthz`` every 100 ms: no probe waits over 0.5 s and the
worker is never restarted (gunicorn kills a worker whose loop does not come back in time).
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio

from tests.conftest import SECRET, free_port
from tests.ops.conftest import load_demo
from tests.system import _rawws
from tests.system._server import Server, clean_env, run_cli

pytestmark = pytest.mark.slow
FLOOD_S = 5.0
EVENTS = ['42/display,["state",{"x":1}]', '42/display,["ticket.called",[1,2,3]]']
CONNECTS = ["40/display,", "41/display,"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("floods")
    env = clean_env(ONESTOP_DATA_DIR=str(data_dir), ONESTOP_SECRET_KEY=SECRET, ONESTOP_ALWAYS_OPEN="1")
    upgraded = run_cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    load_demo(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    port = free_port()
    with Server(["serve", "--port", str(port)], env, port, data_dir / "server.log") as srv:
        srv.wait_healthy(timeout=60)
        srv.port = port  # type: ignore[attr-defined]
        yield srv


def _workers_booted(server: Server) -> int:
    """gunicorn logs each worker it starts: a second one means the first was killed."""
    log = server.log_path.read_text(errors="replace")
    assert "WORKER TIMEOUT" not in log
    return len(re.findall(r"Booting worker with pid", log))


def _under_flood(server: Server, tmp_path: Path, packets: list[str], first: list[str]) -> dict:
    out = tmp_path / "probe.json"
    prober = _rawws.start_prober(server.base, FLOOD_S + 1.0, out)
    flooded = _rawws.flood(server.port, packets, FLOOD_S, first=first)  # type: ignore[attr-defined]
    probes = _rawws.probe_result(prober, out)
    print(f"flood {packets[0]!r}: {flooded}; /healthz max {probes['max']:.3f} s, "
          f"p99 {probes['p99']:.3f} s over {probes['count']} probes")
    return {"flood": flooded, "probes": probes}


@pytest.mark.parametrize("packets,first", [(EVENTS, ["40/display,"]), (CONNECTS, [])],
                         ids=["events", "connect-disconnect"])
def test_a_flooding_socket_does_not_stall_the_worker(server: Server, tmp_path: Path,
                                                      packets: list[str], first: list[str]) -> None:
    result = _under_flood(server, tmp_path, packets, first)
    probes = result["probes"]
    assert probes["errors"] == 0, probes
    assert probes["count"] >= 30  # it probed throughout, not once after the flood
    assert probes["max"] < 0.5, f"a /healthz probe waited {probes['max']:.2f} s under the flood"
    assert _workers_booted(server) == 1, server.log()
    # the flooder was cut off: the server closed its websockets
    assert result["flood"]["closed_by_server"] >= 1, result


def test_a_display_still_gets_its_snapshot_after_the_floods(server: Server) -> None:
    """A well-behaved display connecting now is served as usual."""
    states: list[dict] = []
    display = socketio.Client(reconnection=False)
    display.on("state", states.append, namespace="/display")
    display.connect(server.base, namespaces=["/display"], transports=["websocket"], wait_timeout=10)
    try:
        for _ in range(50):
            if states:
                break
            display.sleep(0.1)
        assert states and "counters" in states[0], states
    finally:
        display.disconnect()
    assert requests.get(f"{server.base}/healthz", timeout=2).status_code == 200


def _worker_pid(master: int) -> int:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            return int(stat.parent.name)
    raise AssertionError("no gunicorn worker found")


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_metrics_show_the_guard_and_the_loop_lag(server: Server) -> None:
    """After the floods, /metrics says what the guard did; a worker held for a second (here
    stopped with SIGSTOP) shows as event loop lag, and /readyz still answers once it is back."""
    worker = _worker_pid(server.proc.pid)
    os.kill(worker, signal.SIGSTOP)
    time.sleep(1.0)
    os.kill(worker, signal.SIGCONT)
    text = requests.get(f"{server.base}/metrics", timeout=10).text
    assert _metric(text, 'onestop_socket_guard_total{action="dropped_event"}') > 0
    assert _metric(text, 'onestop_socket_guard_total{action="over_budget"}') >= 2
    assert _metric(text, 'onestop_socket_guard_total{action="snapshot_reused"}') >= 1
    # stopped 1 s: the monitor's 0.25 s sleep woke at least 0.75 s late
    assert _metric(text, "onestop_event_loop_lag_max_seconds") >= 0.7
    assert _metric(text, "onestop_event_loop_lag_seconds") >= 0
    ready = requests.get(f"{server.base}/readyz", timeout=10).json()
    assert "lag_s" in ready["checks"]["event_loop"], ready
