"""Crash safety on SQLite: `kill -9` a real `onestop serve` in the middle of a burst of
issues and calls from several client threads, restart it on the same data directory.

Whatever the API answered before the kill holds afterwards: every ticket answered 201 is
there with its number, no ticket answered 200 to a call is still waiting, no number is
handed out twice (nor again after the restart), and the server is healthy again.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from onestop import demo
from tests.conftest import SECRET, free_port
from tests.ops.conftest import load_demo
from tests.system._server import Server, clean_env, run_cli

pytestmark = pytest.mark.slow

ISSUERS, CALLERS = 3, 2
WANT_ISSUED, WANT_CALLED = 60, 15
BURST_DEADLINE_S = 25.0
REQUEST_TIMEOUT_S = 15.0


class Burst:
    """Client threads issuing (service 1) and calling (counters 1, 2) until the server dies."""

    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base = base
        self.tokens = tokens
        self.issued: list[dict[str, Any]] = []
        self.called: list[dict[str, Any]] = []
        self.other: list[int] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._issue, daemon=True) for _ in range(ISSUERS)]
        self.threads += [threading.Thread(target=self._call, args=(n,), daemon=True)
                         for n in range(1, CALLERS + 1)]

    def _post(self, http: requests.Session, path: str, user: str) -> requests.Response | None:
        try:
            return http.post(f"{self.base}{path}", json={"service_id": 1} if "tickets" in path else None,
                             headers={"Authorization": f"Bearer {self.tokens[user]}"},
                             timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException:
            self.stop.set()  # the server is gone: nothing after this has an answer
            return None

    def _issue(self) -> None:
        with requests.Session() as http:
            while not self.stop.is_set():
                res = self._post(http, "/api/v1/tickets", "manager")
                if res is None:
                    return
                with self.lock:
                    (self.issued.append(res.json()) if res.status_code == 201
                     else self.other.append(res.status_code))

    def _call(self, counter: int) -> None:
        with requests.Session() as http:
            while not self.stop.is_set():
                res = self._post(http, f"/api/v1/counters/{counter}/call-next", f"clerk{counter}")
                if res is None:
                    return
                if res.status_code == 200:
                    with self.lock:
                        self.called.append(res.json())
                elif res.status_code == 404:  # queue_empty: the issuers are behind
                    time.sleep(0.02)
                else:
                    with self.lock:
                        self.other.append(res.status_code)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def enough(self) -> bool:
        with self.lock:
            return len(self.issued) >= WANT_ISSUED and len(self.called) >= WANT_CALLED

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)
            assert not thread.is_alive(), "a client thread hangs"


def _token(base: str, username: str) -> str:
    res = requests.post(f"{base}/api/v1/auth/token",
                        json={"username": username, "password": demo.DEMO_PASSWORD}, timeout=30)
    assert res.status_code == 201, res.text
    return str(res.json()["token"])


def _rows(db_file: Path) -> dict[int, tuple[int, int, str, str]]:
    conn = sqlite3.connect(db_file)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {row[0]: row[1:] for row in conn.execute(
            "SELECT id, service_id, number, business_date, state FROM tickets")}
    finally:
        conn.close()


def test_kill_9_during_a_burst_loses_nothing_that_was_answered(tmp_path: Path) -> None:
    env = clean_env(ONESTOP_DATA_DIR=str(tmp_path), ONESTOP_SECRET_KEY=SECRET, ONESTOP_ALWAYS_OPEN="1",
                    ONESTOP_TICKET_RATE_LIMIT="100000 per minute")  # a burst, not abuse
    assert run_cli(["db", "upgrade"], env).returncode == 0
    db_file = tmp_path / "onestop.sqlite3"
    load_demo(f"sqlite:///{db_file}")

    port = free_port()
    first = Server(["serve", "--port", str(port)], env, port, tmp_path / "first.log")
    try:
        first.wait_healthy(timeout=60)
        tokens = {user: _token(first.base, user) for user in ("manager", "clerk1", "clerk2")}
        for n in (1, 2):
            opened = requests.post(f"{first.base}/api/v1/counters/{n}/open",
                                   headers={"Authorization": f"Bearer {tokens[f'clerk{n}']}"}, timeout=30)
            assert opened.status_code == 200, opened.text
        burst = Burst(first.base, tokens)
        burst.start()
        deadline = time.monotonic() + BURST_DEADLINE_S
        while not burst.enough() and time.monotonic() < deadline and not burst.stop.is_set():
            time.sleep(0.05)
        assert not burst.stop.is_set(), f"the server failed before the kill:\n{first.log()}"
        os.killpg(first.proc.pid, signal.SIGKILL)  # master and worker, mid-request
        first.proc.wait(timeout=10)
        burst.join()
    finally:
        first.stop()

    issued, called = list(burst.issued), list(burst.called)
    assert len(issued) >= 10 and len(called) >= 3, (len(issued), len(called), burst.other)
    print(f"answered before the kill: {len(issued)} issues, {len(called)} calls")
    assert not [s for s in burst.other if s >= 500], burst.other  # no failure before the kill

    port = free_port()
    with Server(["serve", "--port", str(port)], env, port, tmp_path / "second.log") as second:
        second.wait_healthy(timeout=60)
        assert requests.get(f"{second.base}/healthz", timeout=30).json() == {"status": "ok"}
        assert requests.get(f"{second.base}/readyz", timeout=30).status_code == 200
        rows = _rows(db_file)

        for ticket in issued:  # every 201 is in the database, with the number it was given
            assert ticket["id"] in rows, ticket
            assert rows[ticket["id"]][1] == ticket["number"]
        for ticket in called:  # a call answered 200 is not waiting any more
            assert rows[ticket["id"]][3] != "waiting", (ticket, rows[ticket["id"]])
        keys = [(service, number, day) for service, number, day, _ in rows.values()]
        assert len(keys) == len(set(keys)), "a number was handed out twice"

        after = requests.post(f"{second.base}/api/v1/tickets", json={"service_id": 1},
                              headers={"Authorization": f"Bearer {tokens['manager']}"}, timeout=30)
        assert after.status_code == 201, after.text
        service, number, day, _ = _rows(db_file)[after.json()["id"]]
        earlier = [n for s, n, d, _ in rows.values() if (s, d) == (service, day)]
        assert number > max(earlier, default=0), "a number was reused after the restart"
