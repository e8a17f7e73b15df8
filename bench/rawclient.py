"""A minimal ``/display`` client for the latency benches: many sockets in one process.

Engine.IO 4 / Socket.IO 5 over a plain websocket. websocket-client does the handshake and
the namespace connect, then the process reads every socket itself in one ``select()`` loop,
parsing the server's (unmasked) websocket frames, so that a client process costs little
next to the server.

Each ``ticket.called`` is reported with two times, both ``time.time()``-based and so
comparable across the processes of one machine:

- ``handler``: when this process parsed the frame, as a display's handler would run. On a
  2-core machine that also runs the server and dozens of client processes, this includes
  however long the client process waited for a core.
- ``arrival``: when the frame reached the client's socket, read from the kernel's receive
  timestamp (``SO_TIMESTAMPNS``). This is the server's delivery time, the figure a display
  on its own PC would see, minus the wire; it does not depend on when the client process
  got to run.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import time
from typing import Any

# <asm-generic/socket.h> (x86_64 and arm64 alike); the socket module does not name them
SO_TIMESTAMPNS = 35
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
_TIMESPEC = struct.Struct("@qq")  # struct timespec {time_t tv_sec; long tv_nsec;}
_CMSG_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)

CALLED = '42/display,["ticket.called",'


def frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Take every complete server frame (opcode, payload) off the front of ``buffer``.

    Server frames are never masked; a fragmented message (FIN clear) does not occur for
    the small text frames engine.io sends and is treated as whole."""
    out = []
    while len(buffer) >= 2:
        opcode, size, head = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
        if size == 126:
            if len(buffer) < 4:
                break
            size, head = struct.unpack_from("!H", buffer, 2)[0], 4
        elif size == 127:
            if len(buffer) < 10:
                break
            size, head = struct.unpack_from("!Q", buffer, 2)[0], 10
        if len(buffer) < head + size:
            break
        out.append((opcode, bytes(buffer[head:head + size])))
        del buffer[:head + size]
    return out


def _arrival(ancdata: list[tuple[int, int, bytes]]) -> float | None:
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return sec + nsec / 1e9
    return None


def connect(url: str) -> Any:
    """One socket on ``/display``, connected; returns websocket-client's WebSocket."""
    import websocket

    ws = websocket.create_connection(url, timeout=30)
    ws.recv()  # "0{sid, pingInterval, ...}"
    ws.send("40/display,")
    while not str(ws.recv()).startswith("40/display"):
        pass
    ws.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    return ws


def display_clients(base: str, count: int, ready: Any, stop: Any, results: Any, index: int) -> None:
    """A client process: ``count`` sockets on ``/display``; reports every ``ticket.called``
    as ``(ticket id, handler time, arrival time)``, and counts sockets the server closed
    instead of failing."""
    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    sockets: dict[socket.socket, Any] = {}
    errors = 0
    for _ in range(count):
        try:
            ws = connect(url)
            sockets[ws.sock] = ws
        except Exception:  # noqa: BLE001 - counted and reported
            errors += 1
    connected = len(sockets)
    ready.put((index, connected, errors))
    buffers = {sock: bytearray() for sock in sockets}
    received: list[tuple[int, float, float]] = []
    dropped = 0
    while not stop.is_set() and sockets:
        readable, _, _ = select.select(list(sockets), [], [], 0.2)
        for sock in readable:
            try:
                data, ancdata, _flags, _addr = sock.recvmsg(65536, _CMSG_SPACE)
                if not data:
                    raise ConnectionError("closed by the server")
                now = time.time()
                arrival = _arrival(ancdata) or now
                buffer = buffers[sock]
                buffer += data
                for opcode, payload in frames(buffer):
                    if opcode == 0x8:
                        raise ConnectionError("close frame")
                    text = payload.decode()
                    if text.startswith(CALLED):
                        ticket = json.loads(text[len("42/display,"):])[1]["ticket"]["id"]
                        received.append((ticket, now, arrival))
                    elif text == "2":  # engine.io ping
                        sockets[sock].send("3")
            except Exception:  # noqa: BLE001 - a closed socket is counted, not fatal
                dropped += 1
                del sockets[sock]
    results.put({"index": index, "received": received, "connected": connected,
                 "errors": errors, "dropped": dropped})
    for ws in sockets.values():
        with contextlib.suppress(Exception):
            ws.close()
