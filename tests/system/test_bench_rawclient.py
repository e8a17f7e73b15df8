"""The bench's raw display client: its frame parser and the kernel arrival time it reports."""

from __future__ import annotations

import socket
import struct
import time

from bench import rawclient


def frame(text: str) -> bytes:
    data = text.encode()
    if len(data) < 126:
        return bytes([0x81, len(data)]) + data
    if len(data) < 65536:
        return bytes([0x81, 126]) + struct.pack("!H", len(data)) + data
    return bytes([0x81, 127]) + struct.pack("!Q", len(data)) + data


def test_frames_are_taken_whole_and_partial_ones_wait() -> None:
    long = "4" + "x" * 300
    huge = "4" + "y" * 70000
    wire = frame("2") + frame(long) + frame(huge)
    buffer = bytearray(wire[:-10])
    assert rawclient.frames(buffer) == [(1, b"2"), (1, long.encode())]
    buffer += wire[-10:]
    assert rawclient.frames(buffer) == [(1, huge.encode())]
    assert buffer == bytearray()


def test_arrival_is_the_kernels_receive_time_not_the_read_time() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    client.setsockopt(socket.SOL_SOCKET, rawclient.SO_TIMESTAMPNS, 1)
    sent = time.time()
    peer.sendall(frame('42/display,["ticket.called",{}]'))
    time.sleep(0.3)  # the frame waits in the socket; the reader comes late
    data, ancdata, _flags, _addr = client.recvmsg(65536, rawclient._CMSG_SPACE)
    read = time.time()
    arrival = rawclient._arrival(ancdata)
    assert arrival is not None and data
    assert sent - 0.01 <= arrival <= sent + 0.1
    assert read - arrival >= 0.25
    for s in (client, peer, server):
        s.close()
