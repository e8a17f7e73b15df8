"""Printer drivers end to end: a real TCP socket to a fake Epson, a pty, files, fake lp, mocked USB."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from unittest import mock

import pytest
from PIL import Image

from hardware.printing import drivers
from hardware.printing.drivers import PrinterUriError, open_printer, register, registered_schemes
from hardware.printing.escpos import defuse_realtime, raster_job, ticket_job
from hardware.printing.fakeprinter import FakePrinter, FakeSerialPrinter, Mode, decode
from hardware.printing.render import TicketSlip, render_ticket
from hardware.printing.status import PrinterState, PrintState
from tests.hardware.conftest import QR_URL, read_qr

JOB = b"\x1b@hello\n\x1dV\x00"
BIG_JOB = raster_job(Image.new("1", (576, 600), 0))  # 43 KB of raster, more than drop_after
T = TypeVar("T")


def timed(call: Callable[[], T]) -> tuple[T, float]:
    start = time.monotonic()
    value = call()
    return value, time.monotonic() - start


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- TCP to the fake printer ------------------------------------------------------------------


@pytest.mark.parametrize("fixture, width", [("slip", 576), ("slip58", 384)])
def test_ticket_goes_through_tcp_and_decodes_back(request: pytest.FixtureRequest, printer: FakePrinter,
                                                  fixture: str, width: int) -> None:
    slip: TicketSlip = request.getfixturevalue(fixture)
    result = open_printer(printer.uri).send(ticket_job(slip))
    assert result.ok and result.state is PrintState.PRINTED, result
    assert result.printer is not None and result.printer.state is PrinterState.ONLINE
    assert result.duration_s < 1
    [data] = printer.wait_for_jobs(1)
    decoded = decode(data)
    assert decoded.initialized and len(decoded.cuts) == 1
    assert decoded.status_queries == [1, 4]  # the confirmation after the job
    page = decoded.page()
    assert page is not None and page.width == width
    assert page.tobytes() == defuse_realtime(render_ticket(slip))[0].tobytes()
    assert read_qr(page) == [QR_URL]


@pytest.mark.parametrize("mode, state", [
    (Mode.NORMAL, PrinterState.ONLINE),
    (Mode.PAPER_NEAR_END, PrinterState.PAPER_NEAR_END),
    (Mode.PAPER_OUT, PrinterState.PAPER_OUT),
    (Mode.COVER_OPEN, PrinterState.OFFLINE),
])
def test_status_modes(printer: FakePrinter, mode: Mode, state: PrinterState) -> None:
    printer.mode = mode
    status, elapsed = timed(open_printer(printer.uri).status)
    assert status.state is state, status
    assert elapsed < 0.5
    assert all(b & 0x93 == 0x12 for _, b in status.raw)


def test_cover_open_says_why(printer: FakePrinter) -> None:
    printer.mode = Mode.COVER_OPEN
    assert "cover open" in open_printer(printer.uri).status().detail


def test_silent_printer_is_unknown_not_ok(printer: FakePrinter) -> None:
    printer.mode = Mode.SILENT
    status, elapsed = timed(open_printer(printer.uri).status)
    assert status.state is PrinterState.UNKNOWN and not status.ready
    assert 1.5 < elapsed < 2.5


def test_refused_connection_is_offline_quickly() -> None:
    driver = open_printer(f"tcp://127.0.0.1:{refused_port()}")
    status, elapsed = timed(driver.status)
    assert status.state is PrinterState.OFFLINE and "connect" in status.detail
    result, elapsed2 = timed(lambda: driver.send(JOB))
    assert result.state is PrintState.FAILED and result.error
    assert elapsed < 1 and elapsed2 < 1


def test_paper_out_after_the_job_is_a_failed_print(printer: FakePrinter, slip: TicketSlip) -> None:
    printer.mode = Mode.PAPER_OUT
    result = open_printer(printer.uri).send(ticket_job(slip))
    assert result.state is PrintState.FAILED and "paper out" in (result.error or "")
    assert result.printer is not None and result.printer.state is PrinterState.PAPER_OUT


def test_near_end_still_prints(printer: FakePrinter) -> None:
    printer.mode = Mode.PAPER_NEAR_END
    result = open_printer(printer.uri).send(JOB)
    assert result.state is PrintState.PRINTED
    assert result.printer is not None and result.printer.state is PrinterState.PAPER_NEAR_END


def test_status_bytes_hidden_in_data_are_answered_and_skipped(printer: FakePrinter) -> None:
    # an image row whose bytes read DLE EOT 4: an Epson answers it in mid-image
    raw_raster = b"\x1b@\x1dv0\x00\x03\x00\x01\x00" + b"\x10\x04\x04" + b"\x1dV\x00"
    printer.mode = Mode.PAPER_NEAR_END
    result = open_printer(printer.uri).send(raw_raster)
    assert result.state is PrintState.PRINTED, result  # the stray 0x1e was not read as "offline"
    assert result.printer is not None and result.printer.state is PrinterState.PAPER_NEAR_END


def test_silent_printer_gets_the_job_unconfirmed(printer: FakePrinter) -> None:
    printer.mode = Mode.SILENT
    result, elapsed = timed(lambda: open_printer(printer.uri).send(JOB))
    assert result.state is PrintState.SENT and result.ok
    assert elapsed < 2.5
    quick, elapsed = timed(lambda: open_printer(printer.uri + "?confirm=0").send(JOB))
    assert quick.state is PrintState.SENT and elapsed < 0.5
    assert printer.wait_for_jobs(2)[0].startswith(JOB)


@pytest.mark.parametrize("mode", [Mode.DROP, Mode.DROP_MID_JOB])
def test_dropped_connection_fails_quickly(printer: FakePrinter, mode: Mode) -> None:
    printer.mode = mode
    result, elapsed = timed(lambda: open_printer(printer.uri).send(BIG_JOB))
    assert result.state is PrintState.FAILED and not result.ok
    assert result.error
    assert elapsed < 1


def test_hanging_printer_times_out(printer: FakePrinter) -> None:
    printer.mode = Mode.HANG
    result, elapsed = timed(lambda: open_printer(printer.uri + "?timeout=1").send(b"\0" * (4 << 20)))
    assert result.state is PrintState.FAILED and "timed out" in (result.error or "")
    assert elapsed < 2


def test_jobs_to_one_printer_are_serialised(printer: FakePrinter) -> None:
    results = []

    def send(i: int) -> None:
        results.append(open_printer(printer.uri).send(JOB + str(i).encode()))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.state for r in results] == [PrintState.PRINTED] * 6
    assert len(printer.wait_for_jobs(6)) == 6


# -- serial (pseudo-terminal) -----------------------------------------------------------------


def test_serial_printer_on_a_pty() -> None:
    with FakeSerialPrinter() as fake:
        driver = open_printer(f"serial://{fake.path}?baudrate=19200")
        assert driver.status().state is PrinterState.ONLINE
        assert driver.send(JOB).state is PrintState.PRINTED
        deadline = time.monotonic() + 2
        while JOB not in fake.data and time.monotonic() < deadline:
            time.sleep(0.01)
        assert JOB in fake.data
        fake.mode = Mode.PAPER_OUT
        assert driver.status().state is PrinterState.PAPER_OUT
        fake.mode = Mode.SILENT
        status, elapsed = timed(driver.status)
        assert status.state is PrinterState.UNKNOWN and elapsed < 2.5


def test_missing_serial_device() -> None:
    driver = open_printer("serial:///dev/ttyNOPE0?baudrate=19200")
    assert driver.status().state is PrinterState.OFFLINE
    assert driver.send(JOB).state is PrintState.FAILED
    with pytest.raises(PrinterUriError, match="baudrate"):
        open_printer("serial:///dev/ttyUSB0?baudrate=12345")


# -- file, dummy, agent -------------------------------------------------------------------------


def test_file_driver(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    missing = open_printer(f"file://{target}")
    assert missing.status().state is PrinterState.OFFLINE
    assert missing.send(JOB).state is PrintState.FAILED  # never creates a stray file for a device
    assert not target.exists()
    created = open_printer(f"file://{target}?create=1")
    assert created.send(JOB).state is PrintState.SENT
    assert created.send(JOB).state is PrintState.SENT
    assert target.read_bytes() == JOB + JOB
    assert open_printer(f"file://{target}").status().state is PrinterState.UNKNOWN


def test_dummy_and_agent() -> None:
    drivers.clear_dummy_jobs()
    assert open_printer("dummy").send(JOB).state is PrintState.PRINTED
    assert open_printer("dummy://kiosk1").send(b"x").state is PrintState.PRINTED
    assert drivers.dummy_jobs() == [JOB] and drivers.dummy_jobs("kiosk1") == [b"x"]
    broken = open_printer("dummy://kiosk1?state=paper_out")
    assert broken.status().state is PrinterState.PAPER_OUT
    assert broken.send(JOB).state is PrintState.FAILED
    with pytest.raises(PrinterUriError):
        open_printer("dummy://x?state=melted")
    agent = open_printer("agent")
    assert agent.send(JOB).state is PrintState.QUEUED_FOR_AGENT
    assert agent.status().state is PrinterState.UNKNOWN
    assert open_printer("agent://").send(JOB).state.value == "queued_for_agent"


# -- CUPS with a fake lp ------------------------------------------------------------------------


def fake_tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def fake_cups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_tool(bin_dir, "lp", 'echo "$@" > "$(dirname "$0")/args"\n'
              'cat > "$(dirname "$0")/job"\n'
              'if [ "$2" = "missing" ]; then\n'
              '  echo "lp: The printer or class does not exist." >&2; exit 1\n'
              'fi\n'
              'echo "request id is $2-7 (0 file(s))"\n')
    fake_tool(bin_dir, "lpstat", 'case "$2" in off) echo "printer off disabled since Mon";;\n'
              '*) echo "printer $2 is idle.  enabled since Mon";; esac\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_cups_pipes_raw_bytes_to_lp(fake_cups: Path) -> None:
    result = open_printer("cups://kiosk").send(JOB)
    assert result.state is PrintState.SENT and "kiosk-7" in result.detail
    assert (fake_cups / "job").read_bytes() == JOB
    assert (fake_cups / "args").read_text().split() == ["-d", "kiosk", "-o", "raw"]
    failed = open_printer("cups://missing").send(JOB)
    assert failed.state is PrintState.FAILED and "does not exist" in (failed.error or "")
    assert open_printer("cups://kiosk").status().state is PrinterState.UNKNOWN
    assert open_printer("cups://off").status().state is PrinterState.OFFLINE


def test_cups_without_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = open_printer("cups://kiosk").send(JOB)
    assert result.state is PrintState.FAILED and "lp not found" in (result.error or "")
    assert open_printer("cups://kiosk").status().state is PrinterState.OFFLINE


# -- USB through a mocked python-escpos Usb ------------------------------------------------------


def test_usb_driver_uses_escpos_usb() -> None:
    with mock.patch("escpos.printer.Usb") as usb_class:
        usb_class.is_usable.return_value = True
        device = usb_class.return_value
        device.query_status.side_effect = lambda query: {b"\x10\x04\x01": b"\x16",
                                                         b"\x10\x04\x04": b"\x1e"}[query]
        driver = open_printer("usb://04b8:0e15?out_ep=0x02&timeout=2")
        assert driver.send(JOB).state is PrintState.SENT
        usb_class.assert_called_with(0x04B8, 0x0E15, timeout=2000, in_ep=0x82, out_ep=0x02)
        device.open.assert_called()
        device._raw.assert_called_once_with(JOB)
        device.close.assert_called()
        assert driver.status().state is PrinterState.PAPER_NEAR_END


def test_usb_errors_do_not_escape() -> None:
    from escpos.exceptions import DeviceNotFoundError

    with mock.patch("escpos.printer.Usb") as usb_class:
        usb_class.is_usable.return_value = True
        usb_class.return_value.open.side_effect = DeviceNotFoundError("Unable to open USB printer")
        driver = open_printer("usb://04b8:0e15")
        result = driver.send(JOB)
        assert result.state is PrintState.FAILED and "Unable to open" in (result.error or "")
        assert driver.status().state is PrinterState.OFFLINE
    with mock.patch("escpos.printer.Usb") as usb_class:
        usb_class.is_usable.return_value = False  # pyusb missing
        assert "pyusb" in (open_printer("usb://04b8:0e15").send(JOB).error or "")


# -- registry ------------------------------------------------------------------------------------


def test_registry_knows_every_scheme() -> None:
    assert {"tcp", "usb", "serial", "file", "cups", "agent", "dummy"} <= set(registered_schemes())


@pytest.mark.parametrize("uri, message", [
    ("ipp://printer/queue", "unknown printer URI scheme 'ipp'"),
    ("", "unknown printer URI scheme ''"),
    ("tcp://", "needs a host"),
    ("tcp://printer:99999", "bad port"),
    ("tcp://printer?timeout=soon", "timeout"),
    ("usb://epson", "usb://VID:PID"),
    ("cups://", "queue name"),
])
def test_registry_rejects_bad_uris_clearly(uri: str, message: str) -> None:
    with pytest.raises(PrinterUriError, match=message) as caught:
        open_printer(uri)
    if "scheme" in message:
        assert "tcp" in str(caught.value) and "usb" in str(caught.value)


def test_a_new_driver_can_register() -> None:
    @register("test-null")
    class NullDriver(drivers.DummyDriver):
        pass

    try:
        assert isinstance(open_printer("test-null://x"), NullDriver)
        assert open_printer("TEST-NULL://x").send(JOB).ok
    finally:
        drivers._REGISTRY.pop("test-null")
