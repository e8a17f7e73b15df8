"""Printing rules as plain functions: a ``Session``, ``now``; they only ``flush()``.

Where a device prints (:func:`resolve_target`), what a ticket slip says
(:func:`ticket_slip`), how a result is recorded (:func:`record_result`), and the print
agents' job queue: :func:`queue_for_agent`, :func:`pending_for_agent` (expired jobs are
never handed out), :func:`ack` (compare-and-set: a job is finished exactly once) and
:func:`expire_due`. Printer health is kept in ``Device.settings["printer_status"]`` and,
for agents, ``Device.settings["agent"]``; a worrying change sends ``printer_alarm``.

Which agent prints for a kiosk (the rule):

- the kiosk's ``printer_uri`` is ``agent://<id>``: the agent device with that id, which
  must be of kind ``agent``, of the kiosk's unit and not revoked;
- it is the bare ``agent``: the one agent device of the kiosk's unit. With none, or with
  several (the server cannot guess which PC holds this kiosk's printer), the print fails
  with ``agent_missing`` / ``agent_ambiguous`` and an alarm: give the id.

An agent may serve several kiosks. A device of kind ``agent`` prints on its own printer
(test slips, reprints aimed at it).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from hardware.printing import (
    PAPER_58MM,
    PAPER_80MM,
    Picture,
    PrinterState,
    PrintResult,
    PrintState,
    Rule,
    Space,
    Text,
    TicketSlip,
)
from hardware.printing.render import Block
from hardware.qr import make_qr
from onestop.accounts.models import Device
from onestop.dossiers.models import Procedure
from onestop.printing import signals
from onestop.printing.models import PrintJob
from onestop.queueing.models import Ticket
from onestop.queueing.state import ticket_booking
from onestop.tokens import ticket_url
from onestop.units.models import Unit

AGENT_SCHEME = "agent"
#: printer states that raise an alarm when a printer reports them
ALARM_STATES = (PrinterState.PAPER_NEAR_END.value, PrinterState.PAPER_OUT.value, PrinterState.OFFLINE.value)
ACK_STATES = ("printed", "sent", "failed", "expired")
RECENT_FAILURES = dt.timedelta(hours=24)


def iso(when: dt.datetime | None) -> str | None:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if when else None


# -- where a device prints --------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a print goes: a printer URI, a print agent, or nowhere (``error``)."""

    uri: str | None = None
    agent: Device | None = None
    error: str | None = None
    detail: str = ""

    @property
    def label(self) -> str:
        """What ``PrintJob.printer_uri`` records."""
        if self.agent is not None:
            return f"{AGENT_SCHEME}://{self.agent.id}"
        return (self.uri or "")[:300]


def agent_reference(uri: str | None) -> tuple[bool, int | None]:
    """``(is_agent, agent_id)`` for a printer URI: ``agent`` -> (True, None), ``agent://7`` -> (True, 7)."""
    text = (uri or "").strip()
    parts = urlsplit(text)
    if (parts.scheme or parts.path).lower() != AGENT_SCHEME:
        return False, None
    ref = parts.netloc or parts.path.removeprefix(AGENT_SCHEME).strip("/")
    return True, int(ref) if ref.isdigit() else None


def resolve_target(session: Session, device: Device) -> Target | None:
    """Where ``device`` prints; None when it has no printer at all."""
    if device.kind == "agent":
        return Target(agent=device)
    if not (device.printer_uri or "").strip():
        return None
    is_agent, agent_id = agent_reference(device.printer_uri)
    if not is_agent:
        return Target(uri=device.printer_uri)
    query = select(Device).where(Device.unit_id == device.unit_id, Device.kind == "agent",
                                 Device.revoked_at.is_(None))
    if agent_id is not None:
        query = query.where(Device.id == agent_id)
    agents = list(session.scalars(query.order_by(Device.id).limit(2)))
    if not agents:
        return Target(error="agent_missing", detail=f"no print agent for {device.printer_uri!r}")
    if len(agents) > 1:
        return Target(error="agent_ambiguous", detail="several print agents: use agent://<id>")
    return Target(agent=agents[0])


# -- what is printed ----------------------------------------------------------------------------


def paper_width(device: Device) -> int:
    """576 dots for 80 mm paper (the default), 384 when ``settings.paper_mm`` is 58."""
    try:
        mm = int((device.settings or {}).get("paper_mm", 80))
    except (TypeError, ValueError):
        mm = 80
    return PAPER_58MM if mm == 58 else PAPER_80MM


# the priority classes as the slip prints them (the slip is in Vietnamese, as its other words)
PRIORITY_WORDS = {"elderly": "Người cao tuổi", "disabled": "Người khuyết tật",
                  "pregnant": "Phụ nữ mang thai", "meritorious": "Người có công với cách mạng"}


def ticket_slip(unit: Unit, ticket: Ticket, device: Device, *, waiting_ahead: int,
                minutes: int | None, base_url: str, secret: str, reprint_at: dt.datetime | None = None,
                counters_open: int | None = None, procedure: Procedure | None = None,
                booking_time: str = "") -> TicketSlip:
    """The ticket's printed values (plain data: safe to use after the session is gone).

    ``waiting_ahead`` and ``minutes`` are the ticket's place in the call order and its wait
    (``onestop.queueing.state.ticket_dict``); ``counters_open`` 0 prints that no counter
    serves the field yet instead of a time. ``procedure`` (the one chosen at the kiosk) is
    named, and its documents listed when the unit's ``slip_documents`` says so."""
    footer = str(unit.setting("ticket_footer") or "")
    if reprint_at is not None:
        mark = f"BẢN IN LẠI {unit.local(reprint_at):%H:%M %d/%m/%Y}"
        footer = f"{footer}\n{mark}" if footer else mark
    return TicketSlip(
        unit_name=unit.name, label=ticket.label, service_name=ticket.service.name,
        waiting_ahead=waiting_ahead, estimated_minutes=minutes,
        issued_at_local=unit.local(ticket.issued_at),
        qr_url=ticket_url(base_url, secret, ticket.id), footer=footer,
        paper_width=paper_width(device), counters_open=counters_open,
        priority_label=PRIORITY_WORDS.get(ticket.priority, ""),
        procedure_name=procedure.name if procedure else "",
        documents=tuple(_document_names(procedure)) if procedure and unit.setting("slip_documents") else (),
        booking_time=booking_time)


def booking_time(session: Session, unit: Unit, ticket: Ticket) -> str:
    """``09:30``: the local start of the booking ``ticket`` was checked in for, else ``""``
    (no query for a ticket of another source)."""
    booking = ticket_booking(session, ticket)
    return f"{unit.local(dt.datetime.fromisoformat(booking['start'])):%H:%M}" if booking else ""


def ticket_procedure(session: Session, ticket: Ticket) -> Procedure | None:
    """The procedure chosen for ``ticket`` at the kiosk, if any (no query when none)."""
    if not ticket.procedure_code:
        return None
    return session.scalar(select(Procedure).where(
        Procedure.unit_id == ticket.unit_id, Procedure.code == ticket.procedure_code))


def _document_names(procedure: Procedure) -> list[str]:
    """A procedure's documents as printed: catalogues hold names, or ``{"name": ...}``."""
    names = [d.get("name", "") if isinstance(d, dict) else str(d) for d in procedure.documents or []]
    return [name for name in names if name]


def test_blocks(lines: Sequence[str], *, qr_url: str | None = None, when: dt.datetime | None = None,
                width: int = PAPER_80MM) -> list[Block]:
    """A test slip: title, the given lines, every Vietnamese tone, a QR, the time."""
    scale = width / PAPER_80MM
    blocks: list[Block] = [Space(10), Text("IN THỬ / PRINT TEST", round(40 * scale), bold=True, fit=True),
                           Space(6), Rule(2), Space(6)]
    blocks += [Text(line, round(24 * scale)) for line in lines if line]
    blocks += [Space(6), Text("Tiếng Việt: ă â đ ê ô ơ ư — Ằ Ẳ Ẵ Ắ Ặ — Hòa Bình, Đắk Lắk, Thừa Thiên Huế",
                              round(24 * scale)), Rule(1, dash=6)]
    if qr_url:
        blocks += [Space(8), Picture(make_qr(qr_url, target_px=round(200 * scale)))]
    if when is not None:
        blocks += [Space(6), Text(f"{when:%H:%M:%S %d/%m/%Y}", round(22 * scale))]
    return blocks + [Space(20)]


# -- results ----------------------------------------------------------------------------------


def classify(result: PrintResult) -> str | None:
    """A stable error code for a result worth an alarm (None: nothing to report)."""
    status = result.printer.state if result.printer else None
    if result.state is PrintState.FAILED:
        if status is PrinterState.PAPER_OUT:
            return "printer_paper_out"
        if status is PrinterState.OFFLINE:
            return "printer_offline"
        if "busy" in (result.error or ""):
            return "printer_busy"
        return "printer_unreachable"
    if result.state is PrintState.SENT and result.printer is not None:
        return "printer_no_answer"  # asked for its status after the job, it did not answer
    if result.state is PrintState.SENT and "still sending" in result.detail:
        return "printer_slow"
    return None


@dataclass(frozen=True)
class Alarm:
    """Something staff must look at: a print that failed, a printer out of paper, an agent gone."""

    unit_id: int
    device_id: int | None
    device_name: str
    device_kind: str
    reason: str  # print_failed, print_unconfirmed, job_expired, agent_offline, or a printer state
    error: str | None
    detail: str
    ticket_id: int | None = None
    ticket_label: str | None = None
    job_id: int | None = None
    at: dt.datetime | None = None

    def payload(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "reason": self.reason, "error": self.error, "detail": self.detail,
                "device": {"id": self.device_id, "name": self.device_name, "kind": self.device_kind},
                "ticket": {"id": self.ticket_id, "label": self.ticket_label} if self.ticket_id else None,
                "job_id": self.job_id, "at": iso(self.at)}


def _alarm(session: Session, device: Device | None, reason: str, now: dt.datetime, *, unit_id: int,
           error: str | None = None, detail: str = "", ticket: Ticket | None = None,
           job: PrintJob | None = None) -> None:
    signals.printer_alarm.send(session, alarm=Alarm(
        unit_id=unit_id, device_id=device.id if device else None, device_name=device.name if device else "",
        device_kind=device.kind if device else "", reason=reason, error=error, detail=detail[:300],
        ticket_id=ticket.id if ticket else None, ticket_label=ticket.label if ticket else None,
        job_id=job.id if job else None, at=now))


def _new_job(device: Device, ticket: Ticket | None, kind: str, target: Target, now: dt.datetime,
             requested_by: int | None) -> PrintJob:
    return PrintJob(unit_id=device.unit_id, ticket_id=ticket.id if ticket else None, device_id=device.id,
                    agent_device_id=target.agent.id if target.agent else None,
                    requested_by_user_id=requested_by, kind=kind, printer_uri=target.label,
                    created_at=now)


def record_result(session: Session, device: Device, ticket: Ticket | None, kind: str, target: Target,
                  result: PrintResult, now: dt.datetime, requested_by: int | None = None) -> PrintJob:
    """A direct print is done: one finished PrintJob, the ticket's print state, the printer's
    status, and an alarm when it failed or could not be confirmed."""
    error = classify(result)
    job = _new_job(device, ticket, kind, target, now, requested_by)
    job.state = result.state.value if result.state is not PrintState.QUEUED_FOR_AGENT else "sent"
    job.attempts, job.sent_at, job.done_at = 1, now, now
    job.error = error
    job.detail = (result.error or result.detail or "")[:300]
    session.add(job)
    if ticket is not None:
        ticket.print_state = job.state
    session.flush()
    if result.printer is not None:
        store_status(session, device, result.printer.state.value, result.printer.detail, now,
                     alarm=result.ok)  # a failed print has its own alarm just below
    elif error == "printer_unreachable":
        store_status(session, device, PrinterState.OFFLINE.value, result.error or "", now, alarm=False)
    if error is not None:
        reason = "print_failed" if result.state is PrintState.FAILED else "print_unconfirmed"
        _alarm(session, device, reason, now, unit_id=device.unit_id, error=error, detail=job.detail,
               ticket=ticket, job=job)
    return job


def record_failure(session: Session, device: Device, ticket: Ticket | None, kind: str, target: Target,
                   error: str, detail: str, now: dt.datetime, requested_by: int | None = None) -> PrintJob:
    """Nothing reached a printer (no agent, a bad URI, rendering failed): a failed job and an alarm."""
    job = _new_job(device, ticket, kind, target, now, requested_by)
    job.state, job.error, job.detail, job.done_at = "failed", error, detail[:300], now
    session.add(job)
    if ticket is not None:
        ticket.print_state = "failed"
    session.flush()
    _alarm(session, device, "print_failed", now, unit_id=device.unit_id, error=error, detail=detail,
           ticket=ticket, job=job)
    return job


# -- the print agents' queue -------------------------------------------------------------------


def queue_for_agent(session: Session, device: Device, ticket: Ticket | None, kind: str, target: Target,
                    data: bytes, now: dt.datetime, ttl_s: float, requested_by: int | None = None) -> PrintJob:
    """A pending job with its bytes, for ``target.agent``; sent to it after commit (``job_queued``)
    and again on each of its reconnections until it is acknowledged or expires."""
    assert target.agent is not None
    agent = target.agent
    job = _new_job(device, ticket, kind, target, now, requested_by)
    job.state, job.payload, job.expires_at = "pending", data, now + dt.timedelta(seconds=ttl_s)
    session.add(job)
    if ticket is not None:
        ticket.print_state = PrintState.QUEUED_FOR_AGENT.value
    session.flush()
    expire_due(session, now, unit_id=device.unit_id)
    signals.job_queued.send(session, agent_id=agent.id,
                            message=job_message(job, now, ticket.label if ticket else None))
    if agent_online(agent, now, stale_s=None):
        mark_delivered(job, now)  # pushed to it right after the commit
    else:
        _alarm(session, agent, "agent_offline", now, unit_id=device.unit_id, error="agent_offline",
               detail="the print agent is not connected; the job waits for it", ticket=ticket, job=job)
    return job


def job_message(job: PrintJob, now: dt.datetime, label: str | None) -> dict[str, Any]:
    """What an agent receives for a job (``job.print``); ``expires_in`` is relative, so the
    agent's clock does not matter."""
    left = (job.expires_at - now).total_seconds() if job.expires_at else 0.0
    # base64 text, not a binary attachment: the client reassembles attachments across threads
    return {"job_id": job.id, "kind": job.kind, "ticket_id": job.ticket_id, "label": label,
            "data": base64.b64encode(job.payload or b"").decode("ascii"),
            "expires_in": round(max(0.0, left), 3)}


def _latest_job_id(session: Session, ticket_id: int) -> int | None:
    return session.scalar(select(func.max(PrintJob.id)).where(PrintJob.ticket_id == ticket_id))


def _settle_ticket(session: Session, job: PrintJob, state: str) -> Ticket | None:
    """The ticket shows the outcome of its latest print only (a reprint supersedes)."""
    if job.ticket_id is None:
        return None
    ticket = session.get(Ticket, job.ticket_id)
    if ticket is not None and _latest_job_id(session, job.ticket_id) == job.id:
        ticket.print_state = "failed" if state == "expired" else state
    return ticket


def expire_due(session: Session, now: dt.datetime, *, unit_id: int | None = None,
               agent_id: int | None = None) -> list[PrintJob]:
    """Pending jobs past ``expires_at`` become ``expired`` (never printed); one alarm each.

    ``state = 'pending'`` is written out, not bound: SQLite takes the partial index
    ``ix_print_jobs_pending`` only for a condition that matches its own text, and without
    it this look-up, made for every slip sent to an agent, read every job of the year."""
    query = select(PrintJob.id).where(text("print_jobs.state = 'pending'"), PrintJob.expires_at < now)
    if unit_id is not None:
        query = query.where(PrintJob.unit_id == unit_id)
    if agent_id is not None:
        query = query.where(PrintJob.agent_device_id == agent_id)
    expired: list[PrintJob] = []
    for job_id in list(session.scalars(query.order_by(PrintJob.id).limit(500))):
        job = _finish(session, job_id, "expired", ("pending",), now, error="print_expired",
                      detail="the print agent did not take the job in time")
        if job is None:
            continue
        expired.append(job)
        ticket = _settle_ticket(session, job, "expired")
        device = session.get(Device, job.device_id) if job.device_id else None
        _alarm(session, device, "job_expired", now, unit_id=job.unit_id, error="print_expired",
               detail=job.detail, ticket=ticket, job=job)
    return expired


def _finish(session: Session, job_id: int, state: str, from_states: Sequence[str], now: dt.datetime, *,
            agent_id: int | None = None, error: str | None = None, detail: str = "") -> PrintJob | None:
    """Compare-and-set ``from_states`` -> ``state``; the job, or None when another writer won."""
    stmt = (update(PrintJob).where(PrintJob.id == job_id, PrintJob.state.in_(from_states))
            .values(state=state, error=error, detail=detail[:300], done_at=now, payload=None)
            .execution_options(synchronize_session=False))
    if agent_id is not None:
        stmt = stmt.where(PrintJob.agent_device_id == agent_id)
    if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(PrintJob, job_id, populate_existing=True)


def pending_for_agent(session: Session, agent: Device, now: dt.datetime) -> list[dict[str, Any]]:
    """The ``job.print`` messages of every pending, unexpired job of ``agent``, oldest first;
    each counts as one more delivery."""
    expire_due(session, now, agent_id=agent.id)
    rows = session.execute(
        select(PrintJob, Ticket.label).outerjoin(Ticket, Ticket.id == PrintJob.ticket_id)
        .where(PrintJob.agent_device_id == agent.id, PrintJob.state == "pending",
               PrintJob.expires_at >= now).order_by(PrintJob.id)).tuples().all()
    for job, _label in rows:
        mark_delivered(job, now)
    session.flush()
    return [job_message(job, now, label) for job, label in rows]


def mark_delivered(job: PrintJob, now: dt.datetime) -> None:
    job.attempts = (job.attempts or 0) + 1
    job.sent_at = now


def ack(session: Session, agent: Device, job_id: int, state: str, now: dt.datetime, *,
        error: str | None = None, detail: str = "") -> PrintJob | None:
    """The agent says how job ``job_id`` went. Recorded once (compare-and-set on the state):
    a repeated or late ack of a finished job returns None and changes nothing. A job that
    expired while the agent was printing it still takes the agent's printed/sent."""
    if state not in ACK_STATES:
        raise ValueError(f"unknown ack state {state!r}")
    from_states = ("pending", "expired") if state in ("printed", "sent") else ("pending",)
    code = error if state in ("failed", "expired") else None
    if state == "failed" and not code:
        code = "printer_unreachable"
    job = _finish(session, job_id, state, from_states, now, agent_id=agent.id,
                  error=code, detail=detail or (error or ""))
    agent.last_seen_at = now
    if job is None:
        return None
    ticket = _settle_ticket(session, job, state)
    if state in ("failed", "expired"):
        device = session.get(Device, job.device_id) if job.device_id else agent
        _alarm(session, device, "print_failed" if state == "failed" else "job_expired", now,
               unit_id=job.unit_id, error=code, detail=job.detail, ticket=ticket, job=job)
    session.flush()
    return job


# -- health ------------------------------------------------------------------------------------


def store_status(session: Session, device: Device, state: str, detail: str, now: dt.datetime, *,
                 alarm: bool = True) -> None:
    """Keep the printer's last status on the device; alarm when it turns worrying."""
    settings = dict(device.settings or {})
    before = (settings.get("printer_status") or {}).get("state")
    settings["printer_status"] = {"state": state, "detail": detail[:200], "at": iso(now)}
    device.settings = settings  # a new dict: the JSON column does not track changes inside
    device.last_seen_at = now if device.kind == "agent" else device.last_seen_at
    if alarm and state != before and state in ALARM_STATES:
        _alarm(session, device, state, now, unit_id=device.unit_id, error=f"printer_{state}", detail=detail)


def set_agent_connected(session: Session, agent: Device, connected: bool, now: dt.datetime) -> None:
    settings = dict(agent.settings or {})
    was = bool((settings.get("agent") or {}).get("connected"))
    settings["agent"] = {"connected": connected, "at": iso(now)}
    agent.settings = settings
    agent.last_seen_at = now
    if was and not connected:
        _alarm(session, agent, "agent_offline", now, unit_id=agent.unit_id, error="agent_offline",
               detail="the print agent disconnected")


def agent_online(agent: Device, now: dt.datetime, stale_s: float | None) -> bool:
    """Connected (as last recorded) and, with ``stale_s``, heard from recently."""
    if not ((agent.settings or {}).get("agent") or {}).get("connected"):
        return False
    if stale_s is None or agent.last_seen_at is None:
        return stale_s is None
    return (now - agent.last_seen_at).total_seconds() <= stale_s


def device_status(device: Device, agent: Device | None, now: dt.datetime, stale_s: float) -> dict[str, Any]:
    """``{state, detail, at}`` for the status page: a kiosk behind an agent shows the agent's."""
    holder = agent or device
    if holder.kind == "agent" and not agent_online(holder, now, stale_s):
        return {"state": PrinterState.OFFLINE.value, "detail": "print agent not connected",
                "at": iso(holder.last_seen_at), "agent_connected": False}
    stored = (holder.settings or {}).get("printer_status") or {}
    out = {"state": stored.get("state", PrinterState.UNKNOWN.value), "detail": stored.get("detail", ""),
           "at": stored.get("at")}
    if holder.kind == "agent":
        out["agent_connected"] = True
    return out


def printer_devices(session: Session, unit: Unit) -> list[Device]:
    """Kiosks, agents and any other device with a printer, of ``unit``."""
    return list(session.scalars(select(Device).where(
        Device.unit_id == unit.id, Device.revoked_at.is_(None),
        (Device.kind.in_(("kiosk", "agent"))) | (Device.printer_uri.is_not(None))).order_by(Device.id)))


def overview(session: Session, unit: Unit, now: dt.datetime, stale_s: float,
             failed_limit: int = 50) -> dict[str, Any]:
    """Every printing device with its status, and the recent failed or expired jobs."""
    expire_due(session, now, unit_id=unit.id)
    devices = printer_devices(session, unit)
    by_id = {d.id: d for d in devices}
    pending = dict(session.execute(select(PrintJob.agent_device_id, func.count()).where(
        PrintJob.unit_id == unit.id, PrintJob.state == "pending").group_by(PrintJob.agent_device_id)
    ).tuples().all())
    rows = []
    for device in devices:
        target = resolve_target(session, device)
        agent = target.agent if target and target.agent and target.agent.id != device.id else None
        rows.append({
            "id": device.id, "name": device.name, "kind": device.kind, "counter_id": device.counter_id,
            "printer_uri": device.printer_uri, "agent_id": agent.id if agent else None,
            "target_error": target.error if target else None,
            "status": device_status(device, agent, now, stale_s),
            "last_seen_at": iso(device.last_seen_at),
            "pending_jobs": int(pending.get(device.id, 0)) if device.kind == "agent" else 0,
        })
    return {"devices": rows, "failed_jobs": recent_failures(session, unit, now, by_id, failed_limit),
            "at": iso(now)}


def recent_failures(session: Session, unit: Unit, now: dt.datetime, devices: dict[int, Device],
                    limit: int = 50) -> list[dict[str, Any]]:
    query = (select(PrintJob, Ticket).outerjoin(Ticket, Ticket.id == PrintJob.ticket_id)
             .where(PrintJob.unit_id == unit.id, PrintJob.state.in_(("failed", "expired")),
                    PrintJob.created_at >= now - RECENT_FAILURES)
             .order_by(PrintJob.id.desc()).limit(limit))
    out = []
    for job, ticket in session.execute(query).tuples():
        device = devices.get(job.device_id or 0)
        out.append({
            "id": job.id, "kind": job.kind, "state": job.state, "error": job.error, "detail": job.detail,
            "device_id": job.device_id, "device_name": device.name if device else None,
            "ticket_id": job.ticket_id, "ticket_label": ticket.label if ticket else None,
            "ticket_state": ticket.state if ticket else None,
            "ticket_print_state": ticket.print_state if ticket else None,
            "created_at": iso(job.created_at), "done_at": iso(job.done_at),
        })
    return out
