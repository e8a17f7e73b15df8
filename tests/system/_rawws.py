"""Hostile clients for the flood and slow-client tests: a raw Engine.IO websocket that
writes frames as fast as the kernel takes them, and a /healthz prober in another process.

Raw sockets on purpose: a well-behaved client library paces itself, an attacker does not.
Each client binds to an address of its own in 127.0.0.0/8, so the server sees "another
address" on one machine.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def connect(port: int, source: str = "127.0.0.2", timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    return sock


def masked(payload: str) -> bytes:
    """One final, masked text frame (a client must mask, RFC 6455 §5.3)."""
    data = payload.encode()
    mask = os.urandom(4)
    size = len(data)
    short = size < 126
    header = struct.pack("!BB", 0x81, 0x80 | size) if short else struct.pack("!BBH", 0x81, 0xFE, size)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def open_websocket(port: int, source: str = "127.0.0.2", query: str = "",
                   headers: str = "") -> socket.socket:
    """An upgraded Engine.IO v4 websocket, its open packet read. ``headers``: extra header
    lines, each ending in CRLF."""
    sock = connect(port, source)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /socket.io/?EIO=4&transport=websocket{query} HTTP/1.1\r\n"
                  f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{headers}\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # byte by byte: the frames after it stay unread
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(head[:200].decode(errors="replace"))
    return sock


def flood(port: int, packets: list[str], seconds: float, source: str = "127.0.0.2",
          first: list[str] | None = None) -> dict[str, int]:
    """Open a websocket, write ``first`` then ``packets`` in a loop for ``seconds``; when the
    server closes it, open another one and go on. Returns how many frames went out, how many
    websockets were opened and how many the server closed."""
    batch = b"".join(masked(p) for p in packets) * max(1, 400 // len(packets))
    per_batch = max(1, 400 // len(packets)) * len(packets)
    sent = closed = opened = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sock = open_websocket(port, source)
        except OSError:
            time.sleep(0.05)
            continue
        opened += 1
        if first:
            sock.sendall(b"".join(masked(p) for p in first))
        sock.setblocking(False)
        try:
            while time.monotonic() < deadline:
                try:
                    if not sock.recv(65536):  # the server's frames are ignored
                        raise ConnectionResetError("closed by the server")
                except BlockingIOError:
                    pass
                try:
                    sock.send(batch)
                    sent += per_batch
                except BlockingIOError:
                    time.sleep(0.001)
        except OSError:
            closed += 1
        finally:
            sock.close()
    return {"frames": sent, "opened": opened, "closed_by_server": closed}


PROBE = r"""
import json, sys, time, requests
base, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
session = requests.Session()
times, errors = [], 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    start = time.monotonic()
    try:
        ok = session.get(base + "/healthz", timeout=30).status_code == 200
    except requests.RequestException:
        ok = False
    times.append(time.monotonic() - start)
    errors += not ok
    time.sleep(max(0.0, 0.1 - (time.monotonic() - start)))
open(out, "w").write(json.dumps({"times": times, "errors": errors}))
"""


def start_prober(base: str, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """Probe ``/healthz`` every 100 ms for ``seconds`` in another process."""
    return subprocess.Popen([sys.executable, "-c", PROBE, base, str(seconds), str(out)])


def probe_result(proc: subprocess.Popen[bytes], out: Path) -> dict[str, Any]:
    proc.wait(timeout=120)
    result: dict[str, Any] = json.loads(out.read_text())
    times = sorted(result["times"])
    result["max"] = times[-1] if times else None
    result["p99"] = times[min(len(times) - 1, int(len(times) * 0.99))] if times else None
    result["count"] = len(times)
    return result
