"""GET /counters/{id}/queue: everything a clerk's workstation shows for one counter.

The ticket at the counter, who waits in each field the counter serves (and who was sent to
this very counter), the missed and parked tickets it may call back, and the counter's
figures for today. Read only; the workstation fetches it again after every /counter
Socket.IO event that concerns it and on every reconnect.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop.accounts.auth import require_user
from onestop.accounts.models import User
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.schemas import CounterOut, TicketBooking
from onestop.dossiers.models import Dossier
from onestop.dossiers.pickup import desk_path
from onestop.extensions import db
from onestop.queueing import engine, policy
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Counter, Service, Ticket, TicketEvent
from onestop.queueing.state import counter_dict, iso, procedure_name, ticket_booking, ticket_dossier
from onestop.units.models import Unit

MAX_ID = 2**31 - 1
SHOWN_PER_FIELD = 12  # labels listed per field; the count is always complete
SHOWN_MISSED = 30


class QueueTicket(BaseModel):
    id: int
    label: str
    state: str
    priority: str
    service_id: int
    service: str
    issued_at: str | None
    queue_at: str | None = None
    called_at: str | None = None
    serving_at: str | None = None
    finished_at: str | None = None
    recall_count: int = 0
    note: str = ""
    source: str | None = None  # "booking": checked in for a booking (the list marks it)


class CurrentDossier(BaseModel):
    code: str
    appointment_at: str | None
    receipt_url: str


class PickupDossier(BaseModel):
    """The dossier the citizen came back for (a pickup ticket): the card opens its page."""

    code: str
    purpose: str  # "pickup" (nhận kết quả) or "supplement" (nộp bổ sung)
    url: str


class CurrentTicket(QueueTicket):
    dossiers: list[CurrentDossier]
    dossier: PickupDossier | None = None
    procedure_code: str | None = None  # chosen at the kiosk; the intake starts from it
    procedure: str | None = None
    booking: TicketBooking | None = None  # the booking it was checked in for: "Lịch hẹn 09:30"


class FieldQueue(BaseModel):
    service_id: int | None
    name: str
    waiting: int
    tickets: list[QueueTicket]


class CounterToday(BaseModel):
    served: int
    missed: int
    avg_service_seconds: int | None


class CounterQueueOut(BaseModel):
    at: str
    business_date: str
    timezone: str
    counter: CounterOut
    current: CurrentTicket | None
    next_ticket_id: int | None
    fields: list[FieldQueue]
    missed: list[QueueTicket]
    parked: list[QueueTicket]
    today: CounterToday


def _brief(ticket: Ticket, note: str = "") -> dict[str, Any]:
    return {"id": ticket.id, "label": ticket.label, "state": ticket.state,
            "priority": ticket.priority, "service_id": ticket.service_id,
            "service": ticket.service.name, "issued_at": iso(ticket.issued_at),
            "queue_at": iso(ticket.queue_at), "called_at": iso(ticket.called_at),
            "serving_at": iso(ticket.serving_at), "finished_at": iso(ticket.finished_at),
            "recall_count": ticket.recall_count, "note": note, "source": ticket.source}


def _current(session: Session, counter: Counter) -> dict[str, Any] | None:
    ticket = engine.current_ticket(session, counter)
    if ticket is None:
        return None
    from onestop.api.dossiers import receipt_url

    dossiers = session.scalars(select(Dossier).where(Dossier.ticket_id == ticket.id).order_by(Dossier.id))
    # the note for the clerk (reception desk, a transfer) shows on the card
    return {**_brief(ticket, ticket.note or ""), "dossiers": [
        {"code": d.code, "appointment_at": iso(d.appointment_at), "receipt_url": receipt_url(d.code)}
        for d in dossiers], "procedure_code": ticket.procedure_code,
        "procedure": procedure_name(session, ticket), "dossier": _pickup_dossier(session, ticket),
        "booking": ticket_booking(session, ticket)}


def _pickup_dossier(session: Session, ticket: Ticket) -> dict[str, Any] | None:
    linked = ticket_dossier(session, ticket)
    return {**linked, "url": desk_path(linked["code"])} if linked else None


def _waiting(unit: Unit, day: dt.date) -> Any:
    return select(Ticket).where(Ticket.unit_id == unit.id, Ticket.business_date == day,
                                Ticket.state == "waiting")


def _fields(session: Session, unit: Unit, counter: Counter, day: dt.date) -> list[dict[str, Any]]:
    """Who waits: first those sent to this counter, then each field it serves, in its order."""
    out = []
    direct = list(session.scalars(_waiting(unit, day).where(
        Ticket.target_counter_id == counter.id).order_by(Ticket.queue_at, Ticket.id)))
    if direct:
        out.append({"service_id": None, "name": gettext("Chuyển đến quầy này"), "waiting": len(direct),
                    "tickets": [_brief(t) for t in direct[:SHOWN_PER_FIELD]]})
    names = {s.id: s.name for s in session.scalars(select(Service).where(
        Service.id.in_(counter.service_ids)))}
    for service_id in counter.service_ids:
        query = _waiting(unit, day).where(Ticket.service_id == service_id,
                                                   Ticket.target_counter_id.is_(None))
        total = session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
        shown = session.scalars(query.order_by(Ticket.queue_at, Ticket.id).limit(SHOWN_PER_FIELD))
        out.append({"service_id": service_id, "name": names.get(service_id, ""), "waiting": int(total),
                    "tickets": [_brief(t) for t in shown]})
    return out


def _missed(session: Session, unit: Unit, counter: Counter, day: dt.date) -> list[dict[str, Any]]:
    rows = session.scalars(select(Ticket).where(
        Ticket.unit_id == unit.id, Ticket.business_date == day, Ticket.state == "missed",
        Ticket.service_id.in_(counter.service_ids) | (Ticket.counter_id == counter.id),
    ).order_by(Ticket.finished_at.desc(), Ticket.id.desc()).limit(SHOWN_MISSED))
    return [_brief(t) for t in rows]


def _park_notes(session: Session, ticket_ids: list[int]) -> dict[int, str]:
    notes: dict[int, str] = {}
    if not ticket_ids:
        return notes
    events = session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.action == "park").order_by(TicketEvent.id))
    for event in events:  # the latest park of each ticket wins
        notes[event.ticket_id] = str((event.details or {}).get("note") or "")
    return notes


def _parked(session: Session, counter: Counter) -> list[dict[str, Any]]:
    rows = list(session.scalars(select(Ticket).where(
        Ticket.counter_id == counter.id, Ticket.state == "parked").order_by(Ticket.id)))
    notes = _park_notes(session, [t.id for t in rows])
    return [_brief(t, notes.get(t.id, "")) for t in rows]


def counter_today(session: Session, unit: Unit, counter: Counter, day: dt.date) -> dict[str, Any]:
    """Tickets finished and marked absent at this counter on ``day``; mean service time."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=unit.tz).astimezone(dt.UTC)
    counts = dict(session.execute(select(TicketEvent.action, func.count()).where(
        TicketEvent.counter_id == counter.id, TicketEvent.at >= start,
        TicketEvent.at < start + dt.timedelta(days=1), TicketEvent.action.in_(("finish", "skip")),
    ).group_by(TicketEvent.action)).tuples().all())
    spans = session.execute(select(Ticket.serving_at, Ticket.finished_at).where(
        Ticket.counter_id == counter.id, Ticket.business_date == day, Ticket.state == "done",
        Ticket.serving_at.is_not(None), Ticket.finished_at.is_not(None))).tuples().all()
    seconds = [(end - begin).total_seconds() for begin, end in spans if begin and end and end >= begin]
    return {"served": int(counts.get("finish", 0)), "missed": int(counts.get("skip", 0)),
            "avg_service_seconds": round(sum(seconds) / len(seconds)) if seconds else None}


def queue_view(session: Session, unit: Unit, counter: Counter, at: dt.datetime) -> dict[str, Any]:
    """The workstation's whole picture of ``counter`` at ``at``."""
    day = unit.business_date(at)
    clerk = session.get(User, counter.clerk_id) if counter.clerk_id else None
    current = engine.current_ticket(session, counter)
    candidates = policy.candidates(session, unit, counter, day) if counter.service_ids else []
    return {
        "at": iso(at), "business_date": day.isoformat(), "timezone": unit.timezone,
        "counter": counter_dict(counter, current, clerk),
        "current": _current(session, counter),
        "next_ticket_id": candidates[0][0] if candidates else None,
        "fields": _fields(session, unit, counter, day),
        "missed": _missed(session, unit, counter, day),
        "parked": _parked(session, counter),
        "today": counter_today(session, unit, counter, day),
    }


@bp.get("/counters/<int:counter_id>/queue")
@require_user("admin", "manager", "clerk")
@bp.output(CounterQueueOut)
@bp.doc(summary="What a clerk's workstation shows for this counter",
        description="The current ticket (with the dossiers received under it), who waits per "
        "field served (and who was sent to this counter), missed and parked tickets, and today's "
        "figures: served, missed, average service time.", responses=[401, 403, 404])
def counter_queue(counter_id: int) -> dict[str, Any]:
    unit = resolve_unit()
    counter = db.session.get(Counter, counter_id) if counter_id <= MAX_ID else None
    if counter is None or counter.unit_id != unit.id:
        raise NotFound("counter_not_found")
    return queue_view(db.session(), unit, counter, now())
