"""Printer drivers, chosen by URI scheme (``Device.printer_uri``).

- ``tcp://host:9100``: raw socket (port 9100 by default), with status;
- ``usb://04b8:0202?in_ep=0x82&out_ep=0x01``: python-escpos ``Usb`` (needs pyusb + libusb);
- ``serial:///dev/ttyUSB0?baudrate=19200``: POSIX tty, raw 8N1 (``rtscts=1``, ``xonxoff=1``),
  with status;
- ``file:///dev/usb/lp0``: write to a device node, or a file with ``create=1``;
- ``cups://queue``: ``lp -d queue -o raw``;
- ``agent``: handed to the kiosk PC's print agent;
- ``dummy`` / ``dummy://name``: kept in memory (tests, demo).

Every driver has ``send(data) -> PrintResult`` and ``status() -> PrinterStatus``. Neither
raises for a transport problem and both return within a few seconds: a dead printer must
never hold up a kiosk. Options common to the byte transports: ``timeout`` (seconds to
connect and to send, default 3), ``status_timeout`` (seconds to wait for a ``DLE EOT``
answer, default 2) and, for tcp/serial, ``confirm=0`` to skip the status query that
follows each job. With confirmation on, a job the printer acknowledges is ``printed``;
one it does not acknowledge is ``sent``; paper out or offline after the job is ``failed``.

Jobs to the same printer are serialised within a process (a printer port serves one
connection at a time).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
import select
import shutil
import socket
import subprocess
import termios
import threading
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Protocol
from urllib.parse import SplitResult, parse_qsl, urlsplit

from hardware.printing.status import (
    STATUS_OFFLINE_CAUSE,
    STATUS_PAPER,
    STATUS_PRINTER,
    PrinterState,
    PrinterStatus,
    PrintResult,
    PrintState,
    interpret,
    status_query,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 3.0
DEFAULT_STATUS_TIMEOUT = 2.0


class PrinterUriError(ValueError):
    """A printer URI that cannot be used (unknown scheme, bad option)."""


_REGISTRY: dict[str, type[Driver]] = {}


def register(scheme: str) -> Callable[[type[Driver]], type[Driver]]:
    """Class decorator: make ``scheme://...`` URIs open this driver."""

    def add(cls: type[Driver]) -> type[Driver]:
        cls.scheme = scheme
        _REGISTRY[scheme] = cls
        return cls

    return add


def registered_schemes() -> list[str]:
    return sorted(_REGISTRY)


def open_printer(uri: str) -> Driver:
    """The driver for ``uri``. Raises :class:`PrinterUriError` for an unusable URI."""
    uri = (uri or "").strip()
    parts = urlsplit(uri)
    scheme = (parts.scheme or parts.path).lower()
    cls = _REGISTRY.get(scheme)
    if cls is None:
        known = ", ".join(registered_schemes())
        raise PrinterUriError(f"unknown printer URI scheme {scheme!r} in {uri!r}; use one of: {known}")
    return cls(uri, parts)


# -- where a printer URI may point ---------------------------------------------------------------

#: device nodes a printer is on without any setting: USB printer class, USB-serial, serial ports
DEVICE_NODES = re.compile(r"^/dev/(?:usb/lp\d+|ttyUSB\d+|ttyS\d+)$")
#: the office LAN: where tcp:// printers may be unless ``PRINTER_NETWORKS`` says otherwise.
#: Loopback is not in it: a service on the server (Redis, PostgreSQL) is not a printer.
DEFAULT_NETWORKS = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


def _items(value: Any) -> list[str]:
    """A setting given as a list (TOML) or a comma-separated string (environment)."""
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


@dataclass(frozen=True)
class PrinterPolicy:
    """Where a printer URI set by a user may point (the back office takes URIs from a web
    session: without this, ``file:///any/path?create=1`` writes any file the server may
    write, and ``tcp://`` reaches any host and port). ``file://`` and ``serial://`` paths must
    be printer device nodes (:data:`DEVICE_NODES`) or lie inside one of ``dirs`` (only there
    may ``create=1`` make a file); a ``tcp://`` host must be, or resolve only to, addresses in
    ``networks``. ``usb://``, ``cups://``, ``agent`` and ``dummy`` name no path or host."""

    dirs: tuple[str, ...] = ()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> PrinterPolicy:
        """From a settings mapping: ``PRINTER_DIRS`` and ``PRINTER_NETWORKS``."""
        networks = _items(settings.get("PRINTER_NETWORKS", DEFAULT_NETWORKS))
        return cls(dirs=tuple(os.path.realpath(d) for d in _items(settings.get("PRINTER_DIRS"))),
                   networks=tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def check(self, driver: Driver) -> None:
        """Raise :class:`PrinterUriError` when ``driver`` points outside the policy."""
        if isinstance(driver, FileDriver | SerialDriver):
            self._check_path(driver.uri, driver.path, create=driver.options.get("create") == "1")
        elif isinstance(driver, TcpDriver):
            self._check_host(driver.uri, driver.host, driver.port)

    def _inside_dirs(self, real: str) -> bool:
        return any(os.path.commonpath([real, d]) == d for d in self.dirs)

    def _check_path(self, uri: str, path: str, create: bool) -> None:
        real = os.path.realpath(path)  # no way round through "..", or a symlink out of a dir
        if self._inside_dirs(real):
            return
        if create or not (DEVICE_NODES.match(path) or DEVICE_NODES.match(real)):
            raise PrinterUriError(f"printer path not allowed: {uri!r} (printer device nodes "
                                  f"/dev/usb/lp*, /dev/ttyUSB*, /dev/ttyS*, or PRINTER_DIRS)")

    def _check_host(self, uri: str, host: str, port: int) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise PrinterUriError(f"printer host not found: {uri!r}") from None
        addresses = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos}
        if not addresses or not all(any(a in n for n in self.networks) for a in addresses):
            raise PrinterUriError(f"printer host not in PRINTER_NETWORKS: {uri!r}")


# -- base -------------------------------------------------------------------------------------

_device_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_device_locks_guard = threading.Lock()


def _device_lock(key: str) -> threading.Lock:
    with _device_locks_guard:
        return _device_locks[key]


class Driver(ABC):
    """A printer behind a URI. Subclasses implement ``_send`` and ``_status``; the public
    methods add timing, per-printer serialisation and the no-exceptions guarantee."""

    scheme: ClassVar[str] = ""

    def __init__(self, uri: str, parts: SplitResult) -> None:
        self.uri = uri
        self.parts = parts
        self.options = dict(parse_qsl(parts.query))
        self.timeout = self._float("timeout", DEFAULT_TIMEOUT)
        self.status_timeout = self._float("status_timeout", DEFAULT_STATUS_TIMEOUT)

    def _float(self, name: str, default: float) -> float:
        try:
            value = float(self.options.get(name, default))
        except ValueError:
            raise PrinterUriError(f"{name} must be a number of seconds in {self.uri!r}") from None
        if not 0 < value <= 120:
            raise PrinterUriError(f"{name} must be between 0 and 120 seconds in {self.uri!r}")
        return value

    def _flag(self, name: str, default: bool) -> bool:
        return self.options.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")

    @property
    def key(self) -> str:
        """Identifies the physical printer (the URI without options)."""
        return self.parts._replace(query="", fragment="").geturl()

    def send(self, data: bytes) -> PrintResult:
        """Deliver one job. Never raises for a printer or transport failure."""
        start = time.perf_counter()
        lock = _device_lock(self.key)
        if not lock.acquire(timeout=self.timeout):
            busy = time.perf_counter() - start
            return PrintResult(PrintState.FAILED, "printer busy with another job", busy)
        try:
            result = self._send(bytes(data))
        except Exception as exc:  # any transport error is a failed print, never a crash
            log.warning("print to %s failed: %s", self.uri, exc)
            result = PrintResult(PrintState.FAILED, _describe(exc))
        finally:
            lock.release()
        return replace(result, duration_s=time.perf_counter() - start)

    def status(self) -> PrinterStatus:
        """Ask the printer how it is; ``unknown`` when it cannot say."""
        lock = _device_lock(self.key)
        if not lock.acquire(timeout=self.timeout):
            return PrinterStatus(PrinterState.UNKNOWN, "printer busy with a job")
        try:
            return self._status()
        except Exception as exc:
            return PrinterStatus(PrinterState.UNKNOWN, _describe(exc))
        finally:
            lock.release()

    @abstractmethod
    def _send(self, data: bytes) -> PrintResult: ...

    @abstractmethod
    def _status(self) -> PrinterStatus: ...


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out" if str(exc) in ("", "timed out") else f"timed out ({exc})"
    return f"{type(exc).__name__}: {exc}"


# -- bidirectional byte channels (tcp, serial) --------------------------------------------------


class Channel(Protocol):
    def write_all(self, data: bytes, timeout: float) -> None: ...

    def read(self, n: int, timeout: float) -> bytes:
        """Up to ``n`` bytes, whatever arrived before ``timeout``; ConnectionError on EOF."""
        ...


def ask(channel: Channel, queries: Sequence[int], timeout: float, stray: int = 0) -> dict[int, int]:
    """Send ``DLE EOT n`` for each n and map the answers that came back, in order.

    ``stray`` answers are expected first (``DLE EOT`` byte sequences the printer met
    inside the data just sent); they are read and dropped.
    """
    channel.write_all(b"".join(status_query(n) for n in queries), timeout)
    got = channel.read(stray + len(queries), timeout)
    got = got[-len(queries):] if len(got) >= len(queries) else got[stray:]
    return dict(zip(queries, got, strict=False))


def read_status(channel: Channel, timeout: float, stray: int = 0) -> PrinterStatus:
    """Printer and paper status; the offline cause too when the printer says offline."""
    answers = ask(channel, (STATUS_PRINTER, STATUS_PAPER), timeout, stray)
    if answers.get(STATUS_PRINTER, 0) & 0x08 and len(answers) == 2:
        answers |= ask(channel, (STATUS_OFFLINE_CAUSE,), timeout)
    return interpret(answers)


def stray_status_queries(data: bytes) -> int:
    """How many ``DLE EOT n`` sequences an Epson will answer while reading ``data``
    (:func:`hardware.printing.escpos.raster_job` removes them from images)."""
    return len(_STATUS_IN_DATA.findall(data))


_STATUS_IN_DATA = re.compile(rb"\x10\x04[\x01-\x04]")


def confirm(channel: Channel, timeout: float, sent: bytes = b"") -> PrintResult:
    """After a job: the printer's answer proves it read the whole job (TCP/serial keep order)."""
    status = read_status(channel, timeout, stray_status_queries(sent))
    if not status.raw:
        return PrintResult(PrintState.SENT, detail="no answer to the status query after the job",
                           printer=status)
    if status.state in (PrinterState.PAPER_OUT, PrinterState.OFFLINE):
        return PrintResult(PrintState.FAILED, f"{status.detail} (it may print when the printer is fixed)",
                           printer=status)
    if status.state is PrinterState.UNKNOWN:
        return PrintResult(PrintState.SENT, detail=status.detail, printer=status)
    return PrintResult(PrintState.PRINTED, printer=status)


class SocketChannel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write_all(self, data: bytes, timeout: float) -> None:
        self.sock.settimeout(timeout)  # since 3.5, the whole sendall must finish in time
        self.sock.sendall(data)

    def read(self, n: int, timeout: float) -> bytes:
        got = b""
        deadline = time.monotonic() + timeout
        while len(got) < n and (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(n - len(got))
            except TimeoutError:
                break
            if not chunk:
                raise ConnectionError("the printer closed the connection")
            got += chunk
        return got

    def close(self) -> None:
        """Close without a reset: drain what the printer sent, then FIN after our data."""
        with contextlib.suppress(OSError):
            self.sock.setblocking(False)
            while self.sock.recv(4096):
                pass
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
        self.sock.close()


class FdChannel:
    """A non-blocking file descriptor (tty, device node), bounded with ``select``."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write_all(self, data: bytes, timeout: float) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(data) - len(view)} of {len(data)} bytes written")
            _, writable, _ = select.select([], [self.fd], [], left)
            if writable:
                try:
                    view = view[os.write(self.fd, view):]
                except BlockingIOError:
                    continue

    def read(self, n: int, timeout: float) -> bytes:
        got = b""
        deadline = time.monotonic() + timeout
        while len(got) < n and (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.fd], [], [], left)
            if not readable:
                break
            try:
                chunk = os.read(self.fd, n - len(got))
            except BlockingIOError:
                continue
            if not chunk:
                break
            got += chunk
        return got


# -- drivers ---------------------------------------------------------------------------------


@register("tcp")
class TcpDriver(Driver):
    """Raw TCP (JetDirect / port 9100), with ``DLE EOT`` status on the same connection."""

    def __init__(self, uri: str, parts: SplitResult) -> None:
        super().__init__(uri, parts)
        try:
            self.port = parts.port or 9100
        except ValueError:
            raise PrinterUriError(f"bad port in {uri!r}") from None
        if not parts.hostname:
            raise PrinterUriError(f"tcp printer URI needs a host: {uri!r}")
        self.host = parts.hostname
        self.confirm = self._flag("confirm", True)

    def _connect(self, timeout: float) -> SocketChannel:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return SocketChannel(sock)

    def _send(self, data: bytes) -> PrintResult:
        channel = self._connect(self.timeout)
        try:
            channel.write_all(data, self.timeout)
            if not self.confirm:
                return PrintResult(PrintState.SENT, detail="confirmation disabled")
            return confirm(channel, self.status_timeout, data)
        finally:
            channel.close()

    def _status(self) -> PrinterStatus:
        try:
            channel = self._connect(min(self.timeout, self.status_timeout))
        except OSError as exc:
            return PrinterStatus(PrinterState.OFFLINE, f"cannot connect: {_describe(exc)}")
        try:
            return read_status(channel, self.status_timeout)
        except OSError as exc:
            return PrinterStatus(PrinterState.OFFLINE, f"connection lost: {_describe(exc)}")
        finally:
            channel.close()


@register("serial")
class SerialDriver(Driver):
    """A serial (RS-232 or USB-serial) printer through POSIX termios: raw 8N1."""

    def __init__(self, uri: str, parts: SplitResult) -> None:
        super().__init__(uri, parts)
        self.path = parts.path
        if not self.path:
            raise PrinterUriError(f"serial printer URI needs a device path: {uri!r}")
        try:
            self.baudrate = int(self.options.get("baudrate", "9600"))
        except ValueError:
            raise PrinterUriError(f"bad baudrate in {uri!r}") from None
        self.speed = getattr(termios, f"B{self.baudrate}", None)
        if self.speed is None:
            raise PrinterUriError(f"unsupported baudrate {self.baudrate} in {uri!r}")
        self.confirm = self._flag("confirm", True)

    def _open(self) -> int:
        fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            attrs = termios.tcgetattr(fd)
            attrs[0] = (termios.IXON | termios.IXOFF) if self._flag("xonxoff", False) else 0  # iflag
            attrs[1] = 0  # oflag: bytes go out untouched
            attrs[2] = termios.CS8 | termios.CREAD | termios.CLOCAL
            if self._flag("rtscts", False):
                attrs[2] |= termios.CRTSCTS
            attrs[3] = 0  # lflag: no echo, no canonical mode
            attrs[4] = attrs[5] = self.speed
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            termios.tcflush(fd, termios.TCIFLUSH)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _write_timeout(self, size: int) -> float:
        # a serial line is slow: 10 bits a byte, plus room for the printer's flow control
        return self.timeout + 1.5 * size * 10 / self.baudrate

    def _send(self, data: bytes) -> PrintResult:
        fd = self._open()
        try:
            channel = FdChannel(fd)
            channel.write_all(data, self._write_timeout(len(data)))
            if not self.confirm:
                return PrintResult(PrintState.SENT, detail="confirmation disabled")
            return confirm(channel, self.status_timeout, data)
        finally:
            os.close(fd)

    def _status(self) -> PrinterStatus:
        try:
            fd = self._open()
        except OSError as exc:
            return PrinterStatus(PrinterState.OFFLINE, f"cannot open {self.path}: {_describe(exc)}")
        try:
            return read_status(FdChannel(fd), self.status_timeout)
        finally:
            os.close(fd)


@register("file")
class FileDriver(Driver):
    """Write the job to a device node (``/dev/usb/lp0``) or, with ``create=1``, a file.

    One-way: status says only whether the path can be written.
    """

    def __init__(self, uri: str, parts: SplitResult) -> None:
        super().__init__(uri, parts)
        self.path = parts.path
        if not self.path:
            raise PrinterUriError(f"file printer URI needs a path: {uri!r}")
        self.create = self._flag("create", False)

    def _send(self, data: bytes) -> PrintResult:
        flags = os.O_WRONLY | os.O_NONBLOCK | os.O_APPEND | (os.O_CREAT if self.create else 0)
        fd = os.open(self.path, flags, 0o644)
        try:
            FdChannel(fd).write_all(data, self.timeout)
        finally:
            os.close(fd)
        return PrintResult(PrintState.SENT, detail=f"written to {self.path}")

    def _status(self) -> PrinterStatus:
        if os.access(self.path, os.W_OK):
            return PrinterStatus(PrinterState.UNKNOWN, f"{self.path} is writable; it reports no status")
        if self.create and os.access(os.path.dirname(self.path) or ".", os.W_OK):
            return PrinterStatus(PrinterState.UNKNOWN, f"{self.path} will be created")
        return PrinterStatus(PrinterState.OFFLINE, f"{self.path} is missing or not writable")


@register("cups")
class CupsDriver(Driver):
    """Hand the raw job to a CUPS queue with ``lp -o raw``; CUPS spools it."""

    def __init__(self, uri: str, parts: SplitResult) -> None:
        super().__init__(uri, parts)
        self.queue = parts.netloc or parts.path.lstrip("/")
        if not self.queue or any(c in self.queue for c in " /#\t"):
            raise PrinterUriError(f"cups printer URI needs a queue name: {uri!r}")
        self.timeout = self._float("timeout", 5.0)  # lp and lpstat talk to the local cupsd

    def _run(self, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        if shutil.which(args[0]) is None:
            raise FileNotFoundError(f"{args[0]} not found (install cups-client)")
        return subprocess.run(args, input=data, capture_output=True, timeout=self.timeout, check=False)

    def _send(self, data: bytes) -> PrintResult:
        done = self._run("lp", "-d", self.queue, "-o", "raw", data=data)
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip() or f"lp exited with {done.returncode}"
            return PrintResult(PrintState.FAILED, message)
        return PrintResult(PrintState.SENT, detail=done.stdout.decode(errors="replace").strip())

    def _status(self) -> PrinterStatus:
        try:
            done = self._run("lpstat", "-p", self.queue)
        except FileNotFoundError as exc:
            return PrinterStatus(PrinterState.OFFLINE, str(exc))
        text = (done.stdout + done.stderr).decode(errors="replace").strip()
        if done.returncode != 0 or "disabled" in text:
            return PrinterStatus(PrinterState.OFFLINE, text or f"lpstat exited with {done.returncode}")
        return PrinterStatus(PrinterState.UNKNOWN, f"queue enabled; CUPS does not report paper: {text}")


@register("usb")
class UsbDriver(Driver):
    """A USB printer through python-escpos (pyusb and libusb must be installed)."""

    def __init__(self, uri: str, parts: SplitResult) -> None:
        super().__init__(uri, parts)
        try:
            vid, pid = parts.netloc.split(":")
            self.vendor, self.product = int(vid, 16), int(pid, 16)
            self.in_ep = int(self.options.get("in_ep", "0x82"), 0)
            self.out_ep = int(self.options.get("out_ep", "0x01"), 0)
        except ValueError:
            raise PrinterUriError(f"usb printer URI is usb://VID:PID (hex), got {uri!r}") from None

    def _open(self) -> Any:
        import escpos.printer as escpos_printer  # looked up per call so tests can patch it

        usb_class = escpos_printer.Usb
        if not usb_class.is_usable():
            raise RuntimeError("USB printing needs pyusb and libusb (pip install pyusb)")
        printer = usb_class(self.vendor, self.product, timeout=int(self.timeout * 1000),
                            in_ep=self.in_ep, out_ep=self.out_ep)
        printer.open()
        return printer

    def _send(self, data: bytes) -> PrintResult:
        printer = self._open()
        try:
            printer._raw(data)
        finally:
            printer.close()
        return PrintResult(PrintState.SENT, detail="written to the USB printer")

    def _status(self) -> PrinterStatus:
        try:
            printer = self._open()
        except Exception as exc:
            return PrinterStatus(PrinterState.OFFLINE, _describe(exc))
        try:
            answers: dict[int, int] = {}
            for n in (STATUS_PRINTER, STATUS_PAPER):
                reply = bytes(printer.query_status(status_query(n)))
                if reply:
                    answers[n] = reply[0]
            return interpret(answers)
        finally:
            printer.close()


@register("agent")
class AgentDriver(Driver):
    """The kiosk PC's print agent holds the printer: the server only queues the job."""

    def _send(self, data: bytes) -> PrintResult:
        return PrintResult(PrintState.QUEUED_FOR_AGENT, detail=f"{len(data)} bytes for the print agent")

    def _status(self) -> PrinterStatus:
        return PrinterStatus(PrinterState.UNKNOWN, "reported by the print agent")


_dummy_spool: defaultdict[str, list[bytes]] = defaultdict(list)
_dummy_lock = threading.Lock()


def dummy_jobs(name: str = "") -> list[bytes]:
    """The jobs sent to ``dummy://name`` (``dummy`` alone is name "") in this process."""
    with _dummy_lock:
        return list(_dummy_spool[name])


def clear_dummy_jobs() -> None:
    with _dummy_lock:
        _dummy_spool.clear()


@register("dummy")
class DummyDriver(Driver):
    """Keeps jobs in memory. ``?state=paper_out`` (any printer state) and ``?fail=1``
    let tests and the demo play a broken printer."""

    def __init__(self, uri: str, parts: SplitResult) -> None:
        super().__init__(uri, parts)
        self.name = parts.netloc
        try:
            self.state = PrinterState(self.options.get("state", "online"))
        except ValueError:
            raise PrinterUriError(f"unknown dummy printer state in {uri!r}") from None
        self.fail = self._flag("fail", False)

    def _send(self, data: bytes) -> PrintResult:
        if self.fail or self.state in (PrinterState.PAPER_OUT, PrinterState.OFFLINE):
            return PrintResult(PrintState.FAILED, f"dummy printer: {self.state.value}")
        with _dummy_lock:
            _dummy_spool[self.name].append(data)
        return PrintResult(PrintState.PRINTED, printer=PrinterStatus(self.state, "dummy"))

    def _status(self) -> PrinterStatus:
        return PrinterStatus(self.state, "dummy printer")
