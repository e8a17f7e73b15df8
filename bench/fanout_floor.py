"""What this machine's kernel alone costs to reach N displays (context for DESIGN §7).

One process writes one ``ticket.called``-sized websocket frame to each of N loopback TCP
connections in a plain loop (no Python framework, no greenlets), while the receiving ends
are read by client processes as in ``bench.display_latency``. How long until half, and
all, of the frames were handed to the kernel is the least any server in one process could
take on this machine to fan one call out to N displays; the displays' own latency adds the
call's HTTP request on top. On a 2-core machine the client processes also take cores from
the writer, as they do in the display bench.

    python -m bench.fanout_floor          # prints the figures for 500 connections
"""

from __future__ import annotations

import math
import multiprocessing
import select
import socket
import statistics
import time
from typing import Any

PER_PROCESS = 40
ROUNDS = 20
GAP_S = 0.3
# a ticket.called text frame as the server sends it: 2-byte length header, ~220-byte payload
FRAME = b"\x81\x7e\x00\xdc" + b"x" * 220


def _sink(port: int, count: int, ready: Any) -> None:
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    ready.put(len(socks))
    while True:
        readable, _w, _x = select.select(socks, [], [], 60)
        if not readable:
            return
        for sock in readable:
            if not sock.recv(65536):
                return


def run(connections: int = 500) -> dict[str, Any]:
    """Median over ``ROUNDS`` fan-outs: ms until half and all frames were sent, and the
    writer's CPU ms."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(connections + 64)
    port = server.getsockname()[1]
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Queue()
    nprocs = math.ceil(connections / PER_PROCESS)
    counts = [connections // nprocs + (1 if i < connections % nprocs else 0) for i in range(nprocs)]
    procs = [ctx.Process(target=_sink, args=(port, n, ready), daemon=True) for n in counts]
    for proc in procs:
        proc.start()
    conns = []
    try:
        while len(conns) < connections:
            conn, _addr = server.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conns.append(conn)
        for _ in procs:
            ready.get(timeout=60)
        rounds = []
        for _ in range(ROUNDS):
            marks = []
            start, cpu = time.perf_counter(), time.process_time()
            for conn in conns:
                conn.sendall(FRAME)
                marks.append(time.perf_counter() - start)
            rounds.append((marks[len(marks) // 2], marks[-1], time.process_time() - cpu))
            time.sleep(GAP_S)
    finally:
        for conn in conns:
            conn.close()
        server.close()
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    half, every, cpu = (statistics.median(r[i] for r in rounds) * 1000 for i in range(3))
    return {"connections": connections, "rounds": ROUNDS, "half_sent_ms": round(half, 2),
            "all_sent_ms": round(every, 2), "writer_cpu_ms": round(cpu, 2),
            "per_frame_us": round(cpu * 1000 / connections, 1)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
