"""The direct fan-out (onestop/realtime/fanout.py): frames read back by an independent
websocket parser, when a frame may skip engine.io's queue, a frame the kernel takes in part,
and a real ``onestop serve`` whose displays all get every call, whole and in order, by that
path."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import engineio
import pytest
import requests
import socketio
from engineio import packet as eio_packet
from engineio.socket import Socket
from websocket._abnf import ABNF, frame_buffer

from onestop import demo
from onestop.realtime import fanout
from tests.conftest import SECRET, free_port
from tests.ops.conftest import load_demo
from tests.system._server import Server, clean_env, run_cli


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A real loopback TCP connection: (server end, client end)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _addr = listener.accept()
    try:
        yield server, client
    finally:
        server.close()
        client.close()


def _read_frames(sock: socket.socket, count: int) -> list[ABNF]:
    reader = frame_buffer(sock.recv, skip_utf8_validation=False)
    return [reader.recv_frame() for _ in range(count)]


def test_frames_read_back_by_websocket_client(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    texts = ['42/display,["ticket.called",{"label":"A001","service":"Tư pháp – Hộ tịch"}]',
             "4" + "Đ" * 200, "4" + "x" * 70_000]  # the three length forms of RFC 6455
    for text in texts:
        server.sendall(fanout.frame(text))
    server.sendall(fanout.frame(b"\x01\x02binary"))
    frames = _read_frames(client, 4)
    assert [(f.fin, f.opcode) for f in frames] == [(1, ABNF.OPCODE_TEXT)] * 3 + [(1, ABNF.OPCODE_BINARY)]
    assert [f.data.decode() for f in frames[:3]] == texts
    assert frames[3].data == b"\x01\x02binary"


class _Eio:
    """An engine.io server for the decision below; its sockets are real ``Socket``s."""

    def __init__(self) -> None:
        self.eio = engineio.Server(async_mode="gevent")
        self.queued: list[tuple[str, Any]] = []
        self.eio.send_packet = lambda sid, pkt: self.queued.append((sid, pkt))
        self.fan = fanout.DirectSend(self.eio)

    def socket(self, sid: str, kernel: socket.socket) -> Socket:
        sock = Socket(self.eio, sid)
        sock.connected = sock.upgraded = True
        sock.onestop_rest = b""
        # gevent-websocket's chain down to the connection (ws._sock.stream.handler.socket)
        gevent_sock = SimpleNamespace(_sock=kernel)
        sock.onestop_ws = SimpleNamespace(_sock=SimpleNamespace(
            stream=SimpleNamespace(handler=SimpleNamespace(socket=gevent_sock))))
        self.eio.sockets[sid] = sock
        return sock


def test_a_frame_skips_the_queue_only_to_an_idle_writer(
        pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    server.setblocking(False)  # as gevent keeps it
    eio = _Eio()
    sock = eio.socket("s1", server)
    pkt = eio_packet.Packet(eio_packet.MESSAGE, '2/display,["ticket.called",{"label":"A001"}]')

    sock.onestop_writing = True  # engine.io's writer is in a send
    eio.fan.send_packet("s1", pkt)
    assert [sid for sid, _ in eio.queued] == ["s1"]

    sock.onestop_writing = False  # idle, its queue empty
    before = dict(fanout.TOTALS)
    eio.fan.send_packet("s1", pkt)
    assert fanout.TOTALS["direct"] == before["direct"] + 1 and len(eio.queued) == 1
    assert _read_frames(client, 1)[0].data.decode() == "4" + pkt.data

    sock.queue.put(eio_packet.Packet(eio_packet.NOOP))  # something queued: this one goes after it
    eio.fan.send_packet("s1", pkt)
    assert len(eio.queued) == 2
    sock.queue.get()

    with pytest.raises(BlockingIOError):  # the display reads nothing: the kernel takes no more
        while True:
            server.send(b"x" * 65536)
    eio.fan.send_packet("s1", pkt)
    assert len(eio.queued) == 3

    sock.closing = True
    eio.fan.send_packet("s1", pkt)
    assert len(eio.queued) == 4


class _Ws:
    """gevent-websocket as engine.io wraps it, on a real connection: ``send`` frames a
    message, ``_sock.raw_write`` writes bytes (blocking, as gevent's sendall)."""

    def __init__(self, kernel: socket.socket) -> None:
        self.kernel = kernel
        self._sock = SimpleNamespace(raw_write=self._write, stream=SimpleNamespace(
            handler=SimpleNamespace(socket=SimpleNamespace(_sock=kernel))))

    def _write(self, data: bytes) -> None:
        self.kernel.setblocking(True)
        self.kernel.sendall(data)
        self.kernel.setblocking(False)

    def send(self, message: str) -> None:
        self._write(fanout.frame(message))


class _Handler:
    """Stands for engine.io's bound ``Socket._websocket_handler``."""

    def __init__(self, sock: Socket, body: Any) -> None:
        self.__self__ = sock
        self.body = body

    def __call__(self, ws: Any) -> Any:
        return self.body(ws)


def test_what_the_kernel_did_not_take_goes_first() -> None:
    """A frame the kernel takes in part: the rest waits on the socket, a NOOP wakes the
    writer, whose next send writes the rest before anything else: the display reads the
    frame whole, then the NOOP, then what was queued after it."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(listener.getsockname())
        server, _addr = listener.accept()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    server.setblocking(False)
    frames: list[ABNF] = []
    reader = threading.Thread(target=lambda: frames.extend(_read_frames(client, 3)), daemon=True)
    reader.start()
    eio = _Eio()
    sock = eio.socket("s1", server)
    big = eio_packet.Packet(eio_packet.MESSAGE, '2/display,["ticket.called","' + "Đ" * 100_000 + '"]')
    later = eio_packet.Packet(eio_packet.MESSAGE, '2/display,["queue.changed",{}]')
    partial = fanout.TOTALS["partial"]

    def writer(ws: Any) -> None:  # engine.io's handler: the writer's loop, run by hand
        eio.fan.send_packet("s1", big)  # direct, and more than the kernel takes at once
        assert fanout.TOTALS["partial"] == partial + 1 and sock.onestop_rest
        eio.fan.send_packet("s1", later)  # the rest still waits: this one is queued
        assert [p for _sid, p in eio.queued] == [later]
        noop = sock.queue.get_nowait()
        assert noop.packet_type == eio_packet.NOOP
        for pkt in [noop, later]:
            ws.send(pkt.encode())

    run = eio.fan._recording(lambda run, _server: run)(_Handler(sock, writer), eio.eio)
    try:
        run(_Ws(server))
    finally:
        reader.join(timeout=30)
        server.close()
        client.close()
    assert [f.data.decode() for f in frames] == [big.encode(), "6", later.encode()]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("fanout")
    env = clean_env(ONESTOP_DATA_DIR=str(data_dir), ONESTOP_SECRET_KEY=SECRET, ONESTOP_ALWAYS_OPEN="1")
    assert run_cli(["db", "upgrade"], env).returncode == 0
    load_demo(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    port = free_port()
    with Server(["serve", "--port", str(port)], env, port, data_dir / "server.log") as srv:
        srv.wait_healthy(timeout=60)
        yield srv.base


def _frames_sent(base: str) -> dict[str, float]:
    text = requests.get(f"{base}/metrics", timeout=30).text
    rows = [line for line in text.splitlines() if line.startswith("onestop_socket_frames_total{")]
    return {line.split('path="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1]) for line in rows}


def test_every_display_gets_every_call_whole_and_in_order(served: str) -> None:
    base = served
    signed_in = requests.post(f"{base}/api/v1/auth/token", timeout=30,
                              json={"username": "clerk1", "password": demo.DEMO_PASSWORD})
    auth = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    issued = [requests.post(f"{base}/api/v1/tickets", json={"service_id": 1}, headers=auth,
                            timeout=30).json() for _ in range(6)]
    assert requests.post(f"{base}/api/v1/counters/1/open", headers=auth, timeout=30).status_code == 200

    got: list[list[dict[str, Any]]] = []
    lock = threading.Lock()
    displays = []
    for _ in range(12):
        mine: list[dict[str, Any]] = []
        got.append(mine)
        sio = socketio.Client(reconnection=False)

        def on_called(data: dict[str, Any], mine: list[dict[str, Any]] = mine) -> None:
            with lock:
                mine.append(data)

        sio.on("ticket.called", on_called, namespace="/display")
        sio.connect(base, namespaces=["/display"], transports=["websocket"], wait_timeout=30)
        displays.append(sio)
    try:
        before = _frames_sent(base)
        for _ in issued:  # back to back, as a burst of calls at several counters
            res = requests.post(f"{base}/api/v1/counters/1/call-next", headers=auth, timeout=30)
            assert res.status_code == 200, res.text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(len(mine) < len(issued) for mine in got):
            time.sleep(0.05)
        after = _frames_sent(base)
    finally:
        for sio in displays:
            sio.disconnect()
    labels = [t["label"] for t in issued]
    for mine in got:
        assert [d["ticket"]["label"] for d in mine] == labels
        assert {d["ticket"]["service"] for d in mine} == {"Tư pháp – Hộ tịch"}
    # the calls reached the displays by the direct path, not engine.io's queue
    assert after["direct"] - before["direct"] >= 12 * len(issued), (before, after)
