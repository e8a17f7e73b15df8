"""Fan-out: a frame sent to many websockets is built once and written straight to each idle one.

Engine.IO gives each websocket a send queue and a writer greenlet. A call reaches every hall
display at once, and at 500 displays that path (a queue put, a greenlet switch, a timeout
set and cancelled, the websocket frame built again, then the send) cost about nine times
what a plain loop of sends costs on the same machine (``bench/fanout_floor.py``).

Here, ``Server.send_packet`` first writes the frame, built once per packet, on the socket
itself, with one non-blocking ``send``, and only when the websocket's writer is idle: its
queue is empty and it is not in a send, so nothing is queued before this frame and nothing
is being written. Otherwise the packet takes engine.io's queue, as before, and so does a
frame the kernel takes none of (a display that reads too slowly).

Should the kernel take only part of the frame, the rest must go out before anything else:
it is kept on the socket, a NOOP packet (which clients ignore) wakes the writer, and the
writer's send writes the rest first. A frame is never torn and the order never changes.

Used with gevent and gevent-websocket only (``onestop serve``); other servers keep engine.io's
path unchanged.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from engineio import packet as eio_packet


def frame(payload: str | bytes) -> bytes:
    """One final, unmasked websocket frame (RFC 6455 §5.2): text for ``str``, else binary."""
    if isinstance(payload, str):
        opcode, data = 0x81, payload.encode("utf-8")
    else:
        opcode, data = 0x82, bytes(payload)
    size = len(data)
    if size < 126:
        header = struct.pack("!BB", opcode, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", opcode, 126, size)
    else:
        header = struct.pack("!BBQ", opcode, 127, size)
    return header + data


#: frames sent by each path in this process (``onestop_socket_frames_total`` in /metrics)
TOTALS = {"direct": 0, "queued": 0, "partial": 0}


class DirectSend:
    """Installed on one engine.io server."""

    def __init__(self, eio: Any) -> None:
        self.eio = eio
        self.queued_send = eio.send_packet
        self._last: tuple[Any, bytes] | None = None  # (packet, its frame): one emit, many sockets

    @classmethod
    def install(cls, eio: Any) -> DirectSend | None:
        if eio.async_mode != "gevent" or not _gevent_websocket():
            return None
        fan = cls(eio)
        websocket = eio._async["websocket"]
        # a copy: the driver's table is shared by every server of the process
        eio._async = {**eio._async, "websocket": fan._recording(websocket)}
        eio.send_packet = fan.send_packet
        return fan

    def _recording(self, websocket: Callable[..., Any]) -> Callable[..., Any]:
        """Engine.IO's websocket factory, with the connection kept on its engine.io socket
        for as long as its handler runs."""

        def factory(handler: Any, server: Any) -> Any:
            eio_socket = handler.__self__  # the bound Socket._websocket_handler

            def run(ws: Any) -> Any:
                queued_send = ws.send

                def send(message: Any) -> Any:  # engine.io's writer sends through this
                    eio_socket.onestop_writing = True
                    try:
                        rest = eio_socket.onestop_rest
                        if rest:  # what the kernel did not take of a direct frame, first
                            ws._sock.raw_write(rest)
                            eio_socket.onestop_rest = b""
                        return queued_send(message)
                    finally:
                        eio_socket.onestop_writing = False

                ws.send = send
                eio_socket.onestop_rest = b""
                eio_socket.onestop_ws = ws
                try:
                    return handler(ws)
                finally:
                    eio_socket.onestop_ws = None

            return websocket(run, server)

        return factory

    def send_packet(self, sid: str, pkt: Any) -> None:
        eio_socket = self.eio.sockets.get(sid)
        if eio_socket is not None and self._direct(eio_socket, pkt):
            return
        TOTALS["queued"] += 1
        self.queued_send(sid, pkt)

    def _frame(self, pkt: Any) -> bytes:
        last = self._last
        if last is not None and last[0] is pkt:
            return last[1]
        data = frame(pkt.encode())
        self._last = (pkt, data)
        return data

    def _direct(self, eio_socket: Any, pkt: Any) -> bool:
        ws = getattr(eio_socket, "onestop_ws", None)
        if (ws is None or not eio_socket.upgraded or eio_socket.upgrading or eio_socket.closing
                or eio_socket.closed):
            return False
        # engine.io's writer has packets to send, or is in the middle of one (a send yields
        # only when the kernel's buffer is full). It never yields between taking packets off
        # the queue and starting to send them, so this greenlet cannot find it there.
        if (eio_socket.queue.qsize() or eio_socket.onestop_rest
                or getattr(eio_socket, "onestop_writing", False)):
            return False
        if not eio_socket.check_ping_timeout():
            return True  # the client is gone and the socket now closed: dropped, as engine.io does
        data = self._frame(pkt)
        try:
            raw = ws._sock.stream.handler.socket._sock  # gevent-websocket -> gevent -> kernel socket
            sent = raw.send(data)
        except (AttributeError, BlockingIOError):
            return False
        except OSError:
            return False  # a dead connection: engine.io's writer finds it and closes
        if sent < len(data):
            TOTALS["partial"] += 1
            eio_socket.onestop_rest = data[sent:]
            eio_socket.queue.put(eio_packet.Packet(eio_packet.NOOP))
        TOTALS["direct"] += 1
        return True


def _gevent_websocket() -> bool:
    try:
        import geventwebsocket  # noqa: F401
    except ImportError:
        return False
    return True
