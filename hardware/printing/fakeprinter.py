"""A fake Epson-like receipt printer, and a decoder for the ESC/POS bytes it captures.

Test tooling, kept in ``hardware`` so benches and print-agent tests can use it too.

- :class:`FakePrinter` listens on a real TCP port on 127.0.0.1 (a threading server, like
  a printer's raw port 9100), keeps every connection's bytes and answers ``DLE EOT n``
  the way an Epson TM does. Its :class:`Mode` can be changed at any time: paper near
  end, paper out, cover open, silent (never answers status), hang (accepts, never
  reads), drop (resets the connection on connect) and drop mid-job.
- :class:`FakeSerialPrinter` is the same printer behind a pseudo-terminal, for the serial
  driver.
- :func:`decode` parses captured bytes into commands, rebuilds each ``GS v 0`` raster
  block as a Pillow image (:meth:`Decoded.page` stacks them) and finds the cuts (``GS V``).
"""

from __future__ import annotations

import os
import re
import select
import socket
import socketserver
import struct
import threading
import time
import tty
from dataclasses import dataclass, field
from enum import StrEnum

from PIL import Image

# -- ESC/POS parsing ----------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One command (or text run) found in a byte stream; ``raw`` is all of its bytes."""

    kind: str
    raw: bytes
    start: int


_INVERT = bytes(255 - i for i in range(256))
_GS_V_SHORT = {0, 1, 48, 49}


def _need(buf: bytes, pos: int, length: int) -> int | None:
    return pos + length if len(buf) >= pos + length else None


def _esc(buf: bytes, pos: int) -> tuple[str, int | None]:
    c = buf[pos + 1]
    if c == 0x40:
        return "init", pos + 2
    if c == 0x32:
        return "esc", pos + 2
    if c == 0x2A:  # ESC * m nL nH d...: column image
        if len(buf) < pos + 5:
            return "column_image", None
        columns = buf[pos + 3] + 256 * buf[pos + 4]
        return "column_image", _need(buf, pos, 5 + columns * (3 if buf[pos + 2] in (32, 33) else 1))
    if c == 0x70:  # ESC p m t1 t2: drawer pulse
        return "drawer", _need(buf, pos, 5)
    kinds = {0x74: "codepage", 0x61: "align", 0x45: "bold", 0x64: "feed", 0x21: "mode"}
    return kinds.get(c, "esc"), _need(buf, pos, 3)


def _gs(buf: bytes, pos: int) -> tuple[str, int | None]:
    c = buf[pos + 1]
    if c == 0x76:  # GS v 0 m xL xH yL yH d...: raster bit image
        if len(buf) < pos + 8:
            return "raster", None
        xb, y = struct.unpack_from("<HH", buf, pos + 4)
        return "raster", _need(buf, pos, 8 + xb * y)
    if c == 0x56:  # GS V m [n]: cut
        if len(buf) < pos + 3:
            return "cut", None
        return "cut", _need(buf, pos, 3 if buf[pos + 2] in _GS_V_SHORT else 4)
    if c == 0x28:  # GS ( fn pL pH d...: QR codes, graphics, ...
        if len(buf) < pos + 5:
            return "gs_paren", None
        size = buf[pos + 3] + 256 * buf[pos + 4]
        return ("qr" if buf[pos + 2] == 0x6B else "gs_paren"), _need(buf, pos, 5 + size)
    if c in (0x4C, 0x57):  # GS L / GS W nL nH
        return "gs", _need(buf, pos, 4)
    return ("size" if c == 0x21 else "gs"), _need(buf, pos, 3)


def _dle(buf: bytes, pos: int) -> tuple[str, int | None]:
    c = buf[pos + 1]
    if c == 0x04:
        return "status", _need(buf, pos, 3)
    if c == 0x05:
        return "dle", _need(buf, pos, 3)
    if c == 0x14:
        return "dle", _need(buf, pos, 5)
    return "ctl", pos + 1


def parse_command(buf: bytes, pos: int) -> Command | None:
    """The command starting at ``pos``, or None when ``buf`` ends before it does."""
    b = buf[pos]
    if b in (0x1B, 0x1D, 0x10):
        if len(buf) < pos + 2:
            return None
        kind, end = {0x1B: _esc, 0x1D: _gs, 0x10: _dle}[b](buf, pos)
    elif b == 0x0A:
        kind, end = "lf", pos + 1
    elif b < 0x20 or b == 0x7F:
        kind, end = "ctl", pos + 1
    else:
        end = pos + 1
        while end < len(buf) and buf[end] >= 0x20 and buf[end] != 0x7F:
            end += 1
        kind = "text"
    if end is None:
        return None
    return Command(kind, bytes(buf[pos:end]), pos)


def iter_commands(data: bytes) -> tuple[list[Command], bytes]:
    """All complete commands of ``data``, and the incomplete tail (if the stream was cut)."""
    out: list[Command] = []
    pos = 0
    while pos < len(data):
        cmd = parse_command(data, pos)
        if cmd is None:
            break
        out.append(cmd)
        pos += len(cmd.raw)
    return out, bytes(data[pos:])


def raster_image(cmd: Command) -> Image.Image:
    """The mode '1' image of a ``GS v 0`` command (bit 1 = black dot)."""
    xb, y = struct.unpack_from("<HH", cmd.raw, 4)
    return Image.frombytes("1", (xb * 8, y), cmd.raw[8:].translate(_INVERT))


@dataclass
class Decoded:
    commands: list[Command]
    truncated: bytes = b""

    def of(self, kind: str) -> list[Command]:
        return [c for c in self.commands if c.kind == kind]

    @property
    def initialized(self) -> bool:
        return bool(self.commands) and self.commands[0].kind == "init"

    @property
    def rasters(self) -> list[Image.Image]:
        return [raster_image(c) for c in self.of("raster")]

    @property
    def cuts(self) -> list[Command]:
        return self.of("cut")

    @property
    def status_queries(self) -> list[int]:
        return [c.raw[2] for c in self.of("status")]

    @property
    def text(self) -> bytes:
        return b"".join(c.raw for c in self.commands if c.kind in ("text", "lf"))

    def page(self) -> Image.Image | None:
        """All raster blocks stacked top to bottom (python-escpos splits tall images)."""
        blocks = self.rasters
        if not blocks:
            return None
        page = Image.new("1", (max(b.width for b in blocks), sum(b.height for b in blocks)), 1)
        y = 0
        for block in blocks:
            page.paste(block, (0, y))
            y += block.height
        return page


def decode(data: bytes) -> Decoded:
    """Parse captured ESC/POS bytes."""
    commands, tail = iter_commands(data)
    return Decoded(commands, tail)


# -- the printer ----------------------------------------------------------------------------


class Mode(StrEnum):
    NORMAL = "normal"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    SILENT = "silent"  # takes the bytes, never answers DLE EOT
    HANG = "hang"  # accepts the connection, never reads a byte
    DROP = "drop"  # resets the connection as soon as it is accepted
    DROP_MID_JOB = "drop_mid_job"  # reads ``drop_after`` bytes, then resets


# DLE EOT n answers (see hardware.printing.status): n=1 printer, 2 offline cause, 3 error, 4 paper
_ANSWERS = {
    Mode.NORMAL: {1: 0x16, 2: 0x12, 3: 0x12, 4: 0x12},
    Mode.PAPER_NEAR_END: {1: 0x16, 2: 0x12, 3: 0x12, 4: 0x1E},
    Mode.PAPER_OUT: {1: 0x1E, 2: 0x32, 3: 0x12, 4: 0x72},
    Mode.COVER_OPEN: {1: 0x1E, 2: 0x16, 3: 0x12, 4: 0x12},
}


_STATUS_SEQUENCE = re.compile(rb"\x10\x04([\x01-\x04])")


class EpsonEmulator:
    """The printer's brain: eats bytes, answers real-time status queries per its mode.

    Like an Epson, it answers every ``10 04 n`` (1 <= n <= 4) byte sequence it receives,
    even one that happens to sit inside image data.
    """

    def __init__(self, mode: Mode = Mode.NORMAL) -> None:
        self.mode = mode
        self._tail = b""

    def feed(self, data: bytes) -> bytes:
        """Bytes received; returns what the printer sends back."""
        window = self._tail + data
        self._tail = window[-2:]  # a sequence split across reads is still seen, once
        answers = _ANSWERS.get(self.mode)
        if answers is None:
            return b""
        return bytes(answers[m.group(1)[0]] for m in _STATUS_SEQUENCE.finditer(window))


@dataclass
class Capture:
    """One connection's bytes; times are ``time.perf_counter()`` values."""

    data: bytearray = field(default_factory=bytearray)
    opened_at: float = field(default_factory=time.perf_counter)
    last_byte_at: float | None = None
    closed_at: float | None = None
    dropped: bool = False

    _is_job: bool | None = field(default=None, repr=False)

    @property
    def is_job(self) -> bool:
        """Carries more than status queries (decided once the connection is closed)."""
        if self._is_job is not None:
            return self._is_job
        verdict = any(c.kind != "status" for c in iter_commands(bytes(self.data))[0])
        if self.closed_at is not None:
            self._is_job = verdict
        return verdict


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        fake = self.server.fake
        capture = fake._open_capture()
        sock: socket.socket = self.request
        try:
            self._serve(fake, capture, sock)
        finally:
            capture.closed_at = time.perf_counter()

    def _serve(self, fake: FakePrinter, capture: Capture, sock: socket.socket) -> None:
        mode = fake.mode
        if mode is Mode.DROP:
            return _reset(sock, capture)
        if mode is Mode.HANG:
            fake._stopping.wait()
            return None
        emulator = EpsonEmulator(mode)
        sock.settimeout(0.1)
        while not fake._stopping.is_set():
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            with fake._lock:
                capture.data += chunk
                capture.last_byte_at = time.perf_counter()
            if mode is Mode.DROP_MID_JOB and len(capture.data) >= fake.drop_after:
                return _reset(sock, capture)
            emulator.mode = fake.mode
            reply = emulator.feed(chunk)
            if reply:
                sock.sendall(reply)
        return None


def _reset(sock: socket.socket, capture: Capture) -> None:
    """Close with RST (SO_LINGER 0), the way a printer that gives up on a job does."""
    capture.dropped = True
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakePrinter


class FakePrinter:
    """A fake network receipt printer on 127.0.0.1. Use as a context manager::

        with FakePrinter() as printer:
            open_printer(printer.uri).send(job)
            printer.jobs()  # -> [bytes of the job]
    """

    def __init__(self, mode: Mode = Mode.NORMAL, *, host: str = "127.0.0.1", port: int = 0,
                 drop_after: int = 4096) -> None:
        self.mode = mode
        self.drop_after = drop_after
        self._lock = threading.Lock()
        self._captures: list[Capture] = []
        self._stopping = threading.Event()
        self._server = _Server((host, port), _Handler, bind_and_activate=True)
        self._server.fake = self
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def uri(self) -> str:
        host, port = self.address
        return f"tcp://{host}:{port}"

    def start(self) -> FakePrinter:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-printer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakePrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _open_capture(self) -> Capture:
        capture = Capture()
        with self._lock:
            self._captures.append(capture)
        return capture

    @property
    def captures(self) -> list[Capture]:
        with self._lock:
            return list(self._captures)

    def jobs(self) -> list[bytes]:
        """The bytes of every connection that carried more than status queries."""
        return [bytes(c.data) for c in self.captures if c.is_job]

    def clear(self) -> None:
        with self._lock:
            self._captures.clear()

    def wait_for_jobs(self, count: int = 1, timeout: float = 5.0) -> list[bytes]:
        """Wait until ``count`` job connections have been closed by the client."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [c for c in self.captures if c.closed_at is not None and c.is_job]
            if len(done) >= count:
                return [bytes(c.data) for c in done]
            time.sleep(0.005)
        raise TimeoutError(f"fewer than {count} print jobs arrived within {timeout} s")


class FakeSerialPrinter:
    """The same Epson emulation behind a pseudo-terminal; ``path`` is the tty to open."""

    def __init__(self, mode: Mode = Mode.NORMAL) -> None:
        self.mode = mode
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no newline translation
        self.path = os.ttyname(self._slave)
        self.data = bytearray()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-serial-printer", daemon=True)

    def __enter__(self) -> FakeSerialPrinter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=1)
        os.close(self._master)
        os.close(self._slave)

    def _run(self) -> None:
        emulator = EpsonEmulator(self.mode)
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 65536)
            except OSError:
                continue
            self.data += chunk
            emulator.mode = self.mode
            reply = emulator.feed(chunk)
            if reply and self.mode is not Mode.SILENT:
                os.write(self._master, reply)
