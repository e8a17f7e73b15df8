"""HTTP load clients, one per process ('spawn'), each on one keep-alive connection.

``http.client`` rather than ``requests``: the client's own CPU time stays small next to the
server's, which matters on a small machine where clients and server share the cores.
Each client reports its own CPU time (``time.process_time()``) over its timed part
(``cpu_s``), with the ``start`` and ``end`` of that part on the system-wide monotonic
clock: the bench puts the clients' cost beside the server's and PostgreSQL's.
"""

from __future__ import annotations

import http.client
import json
import time
import traceback
from collections import Counter as Tally
from typing import Any

BARRIER_TIMEOUT = 120.0
MAX_ERRORS = 200


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Connection": "keep-alive"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.reconnects = 0

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=self.headers)
                res = self.conn.getresponse()
                raw = res.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # the server dropped an idle keep-alive connection before reading the request
                self.conn.close()
                self.reconnects += 1
                if attempt == 2:
                    raise
        return res.status, (json.loads(raw) if raw else None)


def _error_code(status: int, payload: Any) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return f"{status}:{payload['error'].get('code')}"
    return str(status)


def issue_worker(port: int, token: str, services: list[int], count: int, warmup: int,
                 barrier: Any, results: Any, index: int) -> None:
    """Issue ``warmup`` untimed tickets, wait at the barrier, then ``count`` timed ones."""
    out: dict[str, Any] = {"index": index, "tickets": [], "warmup_tickets": [],
                           "latencies": [], "errors": {}, "crash": None}
    errors: Tally[str] = Tally()
    try:
        client = Client(port, token)
        for j in range(warmup):
            status, body = client.request("POST", "/api/v1/tickets",
                                          {"service_id": services[(index + j) % len(services)]})
            if status == 201:
                out["warmup_tickets"].append((body["id"], body["service_id"], body["number"]))
        barrier.wait(BARRIER_TIMEOUT)
        cpu0 = time.process_time()
        out["start"] = time.monotonic()
        for j in range(count):
            service_id = services[(index + j) % len(services)]
            t0 = time.perf_counter()
            status, body = client.request("POST", "/api/v1/tickets", {"service_id": service_id})
            out["latencies"].append(time.perf_counter() - t0)
            if status == 201:
                out["tickets"].append((body["id"], body["service_id"], body["number"]))
            else:
                errors[_error_code(status, body)] += 1
                if sum(errors.values()) > MAX_ERRORS:
                    break
        out["end"] = time.monotonic()
        out["cpu_s"] = time.process_time() - cpu0
        out["reconnects"] = client.reconnects
    except BaseException:
        out["crash"] = traceback.format_exc()
        barrier.abort()
    out["errors"] = dict(errors)
    results.put(out)


def call_worker(port: int, token: str, counter_id: int, barrier: Any, results: Any,
                index: int) -> None:
    """Sign in at the counter, wait at the barrier, call next until ``queue_empty``."""
    out: dict[str, Any] = {"index": index, "counter_id": counter_id, "called": [],
                           "latencies": [], "errors": {}, "busy_retries": 0, "crash": None}
    errors: Tally[str] = Tally()
    try:
        client = Client(port, token)
        status, body = client.request("POST", f"/api/v1/counters/{counter_id}/open")
        if status != 200:
            raise RuntimeError(f"could not open counter {counter_id}: {status} {body}")
        client.request("GET", "/api/v1/counters")  # warm the connection
        barrier.wait(BARRIER_TIMEOUT)
        cpu0 = time.process_time()
        out["start"] = time.monotonic()
        while True:
            t0 = time.perf_counter()
            status, body = client.request("POST", f"/api/v1/counters/{counter_id}/call-next")
            elapsed = time.perf_counter() - t0
            if status == 200:
                out["latencies"].append(elapsed)
                out["called"].append(body["id"])
                continue
            code = _error_code(status, body)
            if code == "404:queue_empty":
                break
            if code == "503:busy_retry":
                out["busy_retries"] += 1
                continue
            errors[code] += 1
            if sum(errors.values()) > MAX_ERRORS:
                break
        out["end"] = time.monotonic()
        out["cpu_s"] = time.process_time() - cpu0
        out["reconnects"] = client.reconnects
    except BaseException:
        out["crash"] = traceback.format_exc()
        barrier.abort()
    out["errors"] = dict(errors)
    results.put(out)
