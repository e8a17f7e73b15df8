"""Printing: POST /tickets/{id}/reprint, POST /printers/{device_id}/test, GET /printers,
POST /printers/check; and the print of a kiosk's ticket (``print_on_issue``)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from hardware.printing import PrinterState, PrinterStatus, open_printer
from onestop.accounts.auth import current_device, require_user
from onestop.accounts.models import Device
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.counters import MAX_ID
from onestop.api.schemas import ErrorBody, Strict, TicketOut
from onestop.extensions import db
from onestop.printing import dispatch, service
from onestop.printing.models import PrintJob
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import ACTIVE_STATES, Counter, Ticket
from onestop.queueing.state import ticket_dict
from onestop.units.models import Unit

KIOSK_REPRINT_WINDOW = dt.timedelta(minutes=1)
KIOSK_REPRINT_LIMIT = 2  # reprints a kiosk may ask for, per ticket, inside the window
STATUS_POLL_WORKERS = 8

STATUS_LABELS = {
    PrinterState.ONLINE.value: _l("Đang hoạt động"),
    PrinterState.PAPER_NEAR_END.value: _l("Sắp hết giấy"),
    PrinterState.PAPER_OUT.value: _l("Hết giấy"),
    PrinterState.OFFLINE.value: _l("Mất kết nối"),
    PrinterState.UNKNOWN.value: _l("Không rõ"),
}


def status_label(state: str) -> str:
    return str(STATUS_LABELS.get(state, STATUS_LABELS[PrinterState.UNKNOWN.value]))


# -- schemas (documentation of the responses) ---------------------------------------------------


class ReprintIn(Strict):
    counter_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class PrintOut(BaseModel):
    device_id: int
    print_state: str
    print_error: ErrorBody | None = None
    print_job_id: int | None = None


class PrinterStatusOut(BaseModel):
    state: str
    label: str
    detail: str
    at: str | None
    agent_connected: bool | None = None


class PrinterDeviceOut(BaseModel):
    id: int
    name: str
    kind: str
    counter_id: int | None
    printer_uri: str | None
    agent_id: int | None
    target_error: str | None
    status: PrinterStatusOut
    last_seen_at: str | None
    pending_jobs: int


class FailedJobOut(BaseModel):
    id: int
    kind: str
    state: str
    error: str | None
    message: str
    detail: str
    device_id: int | None
    device_name: str | None
    ticket_id: int | None
    ticket_label: str | None
    ticket_state: str | None
    ticket_print_state: str | None
    created_at: str | None
    done_at: str | None


class PrintersOut(BaseModel):
    devices: list[PrinterDeviceOut]
    failed_jobs: list[FailedJobOut]
    at: str | None
    checked: int = 0


# -- the kiosk's print --------------------------------------------------------------------------


def print_on_issue(session: Any, unit: Unit, ticket: Ticket, device: Device | None,
                   out: dict[str, Any]) -> dict[str, Any]:
    """Print a ticket just issued at ``device`` (a kiosk): the response fields to add, or none
    when the kiosk has no printer. Commits the ticket before printing."""
    if device is None:
        return {}
    outcome = dispatch.print_ticket(session, unit, ticket, device, waiting_ahead=out["waiting_ahead"],
                                    minutes=out["estimated_wait_minutes"],
                                    counters_open=out.get("counters_open"))
    return outcome.response() if outcome else {}


# -- reprint -------------------------------------------------------------------------------------


def _unit_ticket(unit: Unit, ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id) if ticket_id <= MAX_ID else None
    if ticket is None or ticket.unit_id != unit.id:
        raise NotFound("ticket_not_found")
    return ticket


def _kiosk_may_reprint(device: Device, ticket: Ticket, at: dt.datetime) -> None:
    """The kiosk that issued the ticket, within a minute, at most twice."""
    if device.kind != "kiosk" or ticket.device_id != device.id:
        raise DomainError("forbidden", status=403)
    if at - ticket.issued_at > KIOSK_REPRINT_WINDOW:
        raise DomainError("reprint_not_allowed", status=403)
    done = db.session.scalar(select(func.count()).select_from(PrintJob).where(
        PrintJob.ticket_id == ticket.id, PrintJob.kind == "reprint",
        PrintJob.requested_by_user_id.is_(None))) or 0
    if done >= KIOSK_REPRINT_LIMIT:
        raise DomainError("reprint_not_allowed", status=403)


def _counter_printer(unit: Unit, counter_id: int) -> Device:
    counter = db.session.get(Counter, counter_id) if counter_id <= MAX_ID else None
    if counter is None or counter.unit_id != unit.id:
        raise NotFound("counter_not_found")
    device = db.session.scalars(select(Device).where(
        Device.counter_id == counter.id, Device.revoked_at.is_(None),
        Device.printer_uri.is_not(None), Device.printer_uri != "").order_by(Device.id).limit(1)).first()
    if device is None:
        raise DomainError("no_printer", counter_id=counter_id)
    return device


@bp.post("/tickets/<int:ticket_id>/reprint")
@bp.input(ReprintIn, arg_name="body")
@bp.output(TicketOut)
@bp.doc(summary="Print a ticket again", description="Staff (admin, manager, clerk), or the kiosk that "
        "issued it within a minute. Prints on the issuing kiosk's printer, or on the printer of a "
        "device bound to `counter_id`. 409 `no_printer`, `invalid_state`; 403 `reprint_not_allowed`.",
        responses=[400, 401, 403, 404, 409, 422])
def reprint(ticket_id: int, body: ReprintIn) -> dict[str, Any]:
    unit = resolve_unit()
    ticket = _unit_ticket(unit, ticket_id)
    at = now()
    user_id = None
    if current_user.is_authenticated:
        if current_user.role not in ("admin", "manager", "clerk"):
            raise DomainError("forbidden", status=403)
        user_id = int(current_user.id)
    else:
        kiosk = current_device()
        if kiosk is None:
            raise DomainError("unauthorized", status=401)
        if body.counter_id is not None:
            raise DomainError("forbidden", status=403)
        _kiosk_may_reprint(kiosk, ticket, at)
    if ticket.state not in ACTIVE_STATES:
        raise DomainError("invalid_state", state=ticket.state)
    device = _counter_printer(unit, body.counter_id) if body.counter_id is not None else (
        db.session.get(Device, ticket.device_id) if ticket.device_id else None)
    if device is None or device.revoked_at is not None:
        raise DomainError("no_printer")
    out = ticket_dict(db.session(), unit, ticket)
    outcome = dispatch.print_ticket(db.session(), unit, ticket, device, waiting_ahead=out["waiting_ahead"],
                                    minutes=out["estimated_wait_minutes"], kind="reprint",
                                    requested_by=user_id, counters_open=out.get("counters_open"))
    if outcome is None:
        raise DomainError("no_printer")
    out.update(outcome.response())
    return out


# -- printers ------------------------------------------------------------------------------------


def _unit_device(unit: Unit, device_id: int) -> Device:
    device = db.session.get(Device, device_id) if device_id <= MAX_ID else None
    if device is None or device.unit_id != unit.id or device.revoked_at is not None:
        raise NotFound("device_not_found")
    return device


@bp.post("/printers/<int:device_id>/test")
@bp.output(PrintOut)
@bp.doc(summary="Print a test slip on a device's printer", description="Admins and managers. "
        "Writes a PrintJob of kind test.", responses=[401, 403, 404, 409])
@require_user("admin", "manager")
def test_print(device_id: int) -> dict[str, Any]:
    unit = resolve_unit()
    device = _unit_device(unit, device_id)
    outcome = dispatch.print_test(db.session(), unit, device, requested_by=int(current_user.id))
    if outcome is None:
        raise DomainError("no_printer")
    return {"device_id": device.id, **outcome.response()}


def printers_view(unit: Unit, checked: int = 0) -> dict[str, Any]:
    """The status page's data: devices with labelled statuses, recent failed jobs."""
    config = dispatch.PrintConfig.of()
    data = service.overview(db.session(), unit, now(), config.stale_s)
    for row in data["devices"]:
        row["status"]["label"] = status_label(row["status"]["state"])
    from onestop.api.errors import MESSAGES

    for job in data["failed_jobs"]:
        job["message"] = str(MESSAGES.get(job["error"], job["error"] or ""))
    data["checked"] = checked
    return data


def check_printers(unit: Unit) -> int:
    """Ask every direct printer of ``unit`` for its status (2 s each, in parallel) and keep
    the answers; how many were asked. No transaction is open while the printers answer."""
    session = db.session()
    targets = []
    for device in service.printer_devices(session, unit):
        target = service.resolve_target(session, device)
        if target is not None and target.uri:
            targets.append((device.id, target.uri))
    session.commit()  # never hold the database while printers take their time
    if not targets:
        return 0
    with ThreadPoolExecutor(max_workers=min(STATUS_POLL_WORKERS, len(targets))) as pool:
        answers = list(pool.map(lambda t: _status(t[1]), targets))
    at = now()
    for (device_id, _uri), status in zip(targets, answers, strict=True):
        if (polled := session.get(Device, device_id)) is not None:
            service.store_status(session, polled, status.state.value, status.detail, at)
    return len(targets)


def _status(uri: str) -> PrinterStatus:
    try:
        return open_printer(uri).status()
    except Exception as exc:  # noqa: BLE001 - a bad URI is a printer we cannot reach
        return PrinterStatus(PrinterState.OFFLINE, f"{type(exc).__name__}: {exc}")


@bp.get("/printers")
@bp.output(PrintersOut)
@bp.doc(summary="Printers: each kiosk and print agent with its last status, and recent failed prints",
        description="Admins and managers. Status: online, paper_near_end, paper_out, offline, unknown "
        "(with a Vietnamese label).", responses=[401, 403])
@require_user("admin", "manager")
def printers() -> dict[str, Any]:
    return printers_view(resolve_unit())


@bp.post("/printers/check")
@bp.output(PrintersOut)
@bp.doc(summary="Ask the directly connected printers for their status now (2 s timeout), then list",
        responses=[401, 403])
@require_user("admin", "manager")
def printers_check() -> dict[str, Any]:
    unit = resolve_unit()
    checked = check_printers(unit)
    return printers_view(unit, checked)
