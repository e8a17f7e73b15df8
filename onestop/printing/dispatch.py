"""The web side of a print: commit first, render, send with a bounded wait, record briefly.

A print never holds the database: the request's work (the new ticket) is committed
before the first byte goes to a printer, and the result is written afterwards in a second
short transaction. A direct print waits at most ``PRINT_TIMEOUT_S`` (default 3 s): each
step of the driver (connect, write, status answer) gets a third of it, and a hard deadline
stops waiting altogether (the job is then reported ``sent``, unconfirmed). A job for a
print agent is stored and pushed to the agent after commit; the kiosk does not wait for it.

Settings: ``PUBLIC_BASE_URL`` and ``SECRET_KEY`` (the QR), ``PRINT_TIMEOUT_S``,
``PRINT_JOB_TTL_S`` (how long a job waits for its agent, default 120 s), ``PRINT_FONT`` /
``PRINT_FONT_BOLD`` (font files, default Be Vietnam Pro then DejaVu Sans), and
``PRINT_AGENT_STALE_S`` (an agent not heard from for that long shows as disconnected).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask, current_app
from sqlalchemy.orm import Session

from hardware.printing import (
    Driver,
    Fonts,
    PrinterUriError,
    PrintResult,
    PrintState,
    default_fonts,
    open_printer,
    raster_job,
    render_lines,
    ticket_job,
)
from onestop.accounts.models import Device
from onestop.db import utcnow
from onestop.printing import relay, service
from onestop.printing.service import Target
from onestop.queueing.models import Ticket
from onestop.units.models import Unit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrintConfig:
    base_url: str
    secret: str
    timeout_s: float
    ttl_s: float
    stale_s: float
    font: str | None
    font_bold: str | None

    @classmethod
    def of(cls, app: Flask | None = None) -> PrintConfig:
        config = (app or current_app).config
        return cls(base_url=str(config["PUBLIC_BASE_URL"]), secret=str(config["SECRET_KEY"]),
                   timeout_s=float(config.get("PRINT_TIMEOUT_S") or 3.0),
                   ttl_s=float(config.get("PRINT_JOB_TTL_S") or 120),
                   stale_s=float(config.get("PRINT_AGENT_STALE_S") or 90),
                   font=config.get("PRINT_FONT") or None, font_bold=config.get("PRINT_FONT_BOLD") or None)

    def fonts(self) -> Fonts:
        return default_fonts(self.font, self.font_bold)  # looked up once, then cached


@dataclass(frozen=True)
class Outcome:
    """What the caller (kiosk, staff) is told about a print."""

    print_state: str  # printed, sent, queued_for_agent, failed
    error: str | None = None
    job_id: int | None = None

    def response(self) -> dict[str, Any]:
        from onestop.api.errors import MESSAGES

        error = {"code": self.error, "message": str(MESSAGES.get(self.error, self.error))} \
            if self.print_state == "failed" and self.error else None
        return {"print_state": self.print_state, "print_error": error, "print_job_id": self.job_id}


def bounded_uri(uri: str, timeout_s: float) -> str:
    """``uri`` with each driver step (``timeout``, ``status_timeout``) at most a third of ``timeout_s``."""
    step = max(0.2, timeout_s / 3)
    parts = urlsplit(uri)
    options = dict(parse_qsl(parts.query))
    for key in ("timeout", "status_timeout"):
        try:
            given = float(options.get(key, step))
        except ValueError:
            continue  # the driver reports the bad option
        options[key] = f"{min(given, step):g}"
    return urlunsplit(parts._replace(query=urlencode(options)))


def send_bounded(driver: Driver, data: bytes, deadline_s: float) -> PrintResult:
    """``driver.send(data)``, waiting at most ``deadline_s``; past it the job goes on alone
    (its late result is only logged) and the answer is ``sent``, unconfirmed."""
    box: list[PrintResult] = []
    done = threading.Event()

    def work() -> None:
        box.append(driver.send(data))
        done.set()
        if late.is_set():
            log.warning("late print result on %s: %s", driver.uri, box[0])

    late = threading.Event()
    threading.Thread(target=work, name="print", daemon=True).start()
    if done.wait(deadline_s):
        return box[0]
    late.set()
    return PrintResult(PrintState.SENT, detail=f"still sending after {deadline_s:g} s; not confirmed",
                       duration_s=deadline_s)


def print_ticket(session: Session, unit: Unit, ticket: Ticket, device: Device, *, waiting_ahead: int,
                 minutes: int | None, kind: str = "ticket", requested_by: int | None = None,
                 counters_open: int | None = None) -> Outcome | None:
    """Print ``ticket`` on ``device``'s printer; None when the device has no printer.

    Commits the session first (see the module doc).
    """
    target = service.resolve_target(session, device)
    if target is None:
        return None
    config = PrintConfig.of()
    slip = service.ticket_slip(unit, ticket, device, waiting_ahead=waiting_ahead, minutes=minutes,
                               base_url=config.base_url, secret=config.secret,
                               reprint_at=utcnow() if kind == "reprint" else None,
                               counters_open=counters_open,
                               procedure=service.ticket_procedure(session, ticket),
                               booking_time=service.booking_time(session, unit, ticket))
    return _run(session, device, ticket, kind, target, lambda: ticket_job(slip, fonts=config.fonts()),
                config, requested_by)


def print_test(session: Session, unit: Unit, device: Device, requested_by: int | None = None,
               ) -> Outcome | None:
    """A test slip on ``device``'s printer (``PrintJob.kind`` test); None without a printer."""
    target = service.resolve_target(session, device)
    if target is None:
        return None
    config = PrintConfig.of()
    width = service.paper_width(device)
    blocks = service.test_blocks([unit.name, f"{device.name} (#{device.id})", target.label],
                                 qr_url=config.base_url, when=unit.local(utcnow()), width=width)
    return _run(session, device, None, "test", target,
                lambda: raster_job(render_lines(blocks, width, fonts=config.fonts())), config, requested_by)


def _deliver(target: Target, render: Callable[[], bytes], timeout_s: float,
             ) -> tuple[bytes | None, PrintResult | None, str | None, str]:
    """Render, and send when the printer is direct: ``(data, result, error, detail)``."""
    if target.error:
        return None, None, target.error, target.detail
    try:
        data = render()
    except Exception as exc:  # a font or layout problem must not fail the request
        log.exception("could not render a slip")
        return None, None, "render_failed", f"{type(exc).__name__}: {exc}"
    if target.agent is not None or target.uri is None:
        return data, None, None, ""
    try:
        driver = open_printer(bounded_uri(target.uri, timeout_s))
    except PrinterUriError as exc:
        return data, None, "printer_misconfigured", str(exc)
    return data, send_bounded(driver, data, timeout_s), None, ""


def _run(session: Session, device: Device, ticket: Ticket | None, kind: str, target: Target,
         render: Callable[[], bytes], config: PrintConfig, requested_by: int | None) -> Outcome:
    session.commit()  # the ticket is safe before any printer is touched, and no lock is held
    data, result, error, detail = _deliver(target, render, config.timeout_s)
    now = utcnow()
    try:
        if error is not None:
            job = service.record_failure(session, device, ticket, kind, target, error, detail, now,
                                         requested_by)
        elif target.agent is not None:
            assert data is not None
            job = service.queue_for_agent(session, device, ticket, kind, target, data, now, config.ttl_s,
                                          requested_by)
        else:
            assert result is not None
            job = service.record_result(session, device, ticket, kind, target, result, now, requested_by)
        session.commit()
    except Exception:  # the ticket stands even if its print cannot be recorded
        session.rollback()
        log.exception("could not record a print of device %s", device.id)
        state = "failed" if error else (result.state.value if result else PrintState.QUEUED_FOR_AGENT.value)
        return Outcome(state, error or (service.classify(result) if result else None))
    if target.agent is not None and error is None:
        return Outcome(PrintState.QUEUED_FOR_AGENT.value, None, job.id)
    return Outcome(job.state, job.error, job.id)


def warm(app: Flask) -> None:
    """Load the fonts and render one ticket, so the first kiosk does not wait (~0.2 s, once)."""
    from hardware.printing import TicketSlip

    try:
        slip = TicketSlip("Trung tâm Phục vụ hành chính công", "A001", "Tư pháp – Hộ tịch", 0, 5,
                          dt.datetime.now(dt.UTC), "http://127.0.0.1/t/1?k=warmup")
        ticket_job(slip, fonts=PrintConfig.of(app).fonts())
    except Exception:  # noqa: BLE001 - printing will report its own errors later
        log.warning("could not warm up ticket printing", exc_info=True)


def init_app(app: Flask) -> None:
    relay.connect()
    if not app.testing:
        warm(app)
