"""SQLite's write lock under gevent: a request that holds it while it waits on I/O must not
freeze the worker.

SQLite's own busy timeout sleeps inside C. Under the gevent worker that stops every
greenlet, the lock holder included, so the waiter sleeps out its whole timeout and fails,
and every other request of the centre waits with it. The wait is ours instead
(``onestop.db._begin_immediate``), and yields.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.livesrv import demo_server

GREENLETS = textwrap.dedent("""
    from gevent import monkey; monkey.patch_all()
    import gevent, json, sys, time
    from sqlalchemy import text
    from onestop.db import make_engine

    engine = make_engine(sys.argv[1], busy_timeout_ms=3000)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    out = {}

    def holder():
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            gevent.sleep(0.3)  # a socket write, a subprocess: the lock is held meanwhile

    def waiter():
        gevent.sleep(0.05)
        t0 = time.monotonic()
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (2)"))
            out["waiter"] = "ok"
        except Exception as exc:
            out["waiter"] = type(exc).__name__
        out["waited_s"] = time.monotonic() - t0

    ticks = []
    def heartbeat():  # any other greenlet: is the worker still alive meanwhile?
        for _ in range(20):
            ticks.append(time.monotonic())
            gevent.sleep(0.02)

    gevent.joinall([gevent.spawn(holder), gevent.spawn(waiter), gevent.spawn(heartbeat)])
    out["longest_gap_s"] = max(b - a for a, b in zip(ticks, ticks[1:]))
    with engine.connect() as conn:
        out["rows"] = sorted(r[0] for r in conn.execute(text("SELECT x FROM t")))
    print(json.dumps(out))
""")


def test_a_writer_waiting_for_the_lock_lets_the_holder_finish_under_gevent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lock.sqlite3'}"
    run = subprocess.run([sys.executable, "-c", GREENLETS, url], capture_output=True, text=True,
                         timeout=60, check=True)
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["waiter"] == "ok" and out["rows"] == [1, 2]
    assert 0.15 < out["waited_s"] < 1.0  # it waited for the holder, not for a timeout
    assert out["longest_gap_s"] < 0.2  # the other greenlets kept running


def test_spoken_announcements_do_not_stall_the_counters_and_kiosks(tmp_path: Path, espeak: str) -> None:
    """espeak-ng renders a display's announcement (a subprocess: the greenlet yields) while
    kiosks issue tickets: nobody waits for more than a moment, nobody gets a 503."""
    with demo_server(tmp_path) as base:
        token = requests.post(f"{base}/api/v1/auth/token", timeout=10,
                              json={"username": "admin", "password": "demo"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert requests.post(f"{base}/api/v1/counters/1/open", headers=auth, timeout=10).ok
        requests.post(f"{base}/api/v1/tickets", json={"service_id": 1}, headers=auth, timeout=10)
        called = requests.post(f"{base}/api/v1/counters/1/call-next", headers=auth, timeout=10).json()

        def voice(repeat: int) -> tuple[int, float]:  # each repeat is a new sentence to render
            t0 = time.monotonic()
            res = requests.get(f"{base}/display/voice.wav", timeout=60, params={
                "ticket": called["id"], "counter": 1, "voice": "espeak", "repeat": repeat})
            return res.status_code, time.monotonic() - t0

        def issue(_: int) -> tuple[int, float]:
            t0 = time.monotonic()
            res = requests.post(f"{base}/api/v1/tickets", json={"service_id": 1}, headers=auth,
                                timeout=60)
            return res.status_code, time.monotonic() - t0

        with ThreadPoolExecutor(max_workers=8) as pool:
            voices = [pool.submit(voice, r) for r in (1, 2, 3)]
            time.sleep(0.02)
            issues = list(pool.map(issue, range(12)))
        assert [f.result()[0] for f in voices] == [200, 200, 200]
        assert [status for status, _ in issues] == [201] * 12
        assert max(seconds for _, seconds in issues) < 3.0
