"""The desk and the manager's moves (issue 22).

- ``GET /tickets/search?q=`` "Tìm số": today's tickets of the unit by label, with their state
  and where they are (staff and reception).
- ``POST /tickets/{id}/print {"device_id"}``: print a ticket on a printer chosen at the
  reception desk (a kiosk's or a desk ``printer`` device of the unit).
- ``GET /desk/alerts``: the fields waiting too long now (``queue.wait_alert`` pushes changes).
- ``POST /dashboard/counters/{id}/pause|resume|close``, ``POST /dashboard/move``,
  ``POST /dashboard/message``: the manager acts from the dashboard; each act is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from onestop import signals
from onestop.accounts.auth import current_actor, require_user
from onestop.accounts.models import Device, User
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.counters import MAX_ID, CloseIn
from onestop.api.reports import ReportQuery, period_of
from onestop.api.schemas import CounterBrief, CounterOut, PauseIn, Strict, TicketOut
from onestop.audit.engine import record_request
from onestop.extensions import db
from onestop.queueing import desk, engine
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Counter, Ticket
from onestop.queueing.state import iso, services, ticket_dict
from onestop.reports import productivity
from onestop.units.models import Unit

STAFF = ("admin", "manager", "clerk", "reception")
MANAGERS = ("admin", "manager")
PRINTER_KINDS = ("kiosk", "printer")


class SearchQuery(Strict):
    q: str = Field(min_length=1, max_length=16)


class FoundTicket(BaseModel):
    id: int
    label: str
    state: str
    service_id: int
    service: str
    priority: str
    source: str
    note: str | None
    issued_at: str | None
    called_at: str | None
    waiting_ahead: int
    counter: CounterBrief | None  # where it is: called, served or held there
    target_counter: CounterBrief | None  # waiting for this counter only


class FoundList(BaseModel):
    tickets: list[FoundTicket]


def _brief(session: Any, counter_id: int | None) -> dict[str, Any] | None:
    counter = session.get(Counter, counter_id) if counter_id else None
    return {"id": counter.id, "number": counter.number, "name": counter.name} if counter else None


@bp.get("/tickets/search")
@bp.input(SearchQuery, location="query", arg_name="query")
@bp.output(FoundList)
@bp.doc(summary="Tìm số: today's tickets of the unit by label, with state and where each is",
        responses=[400, 401, 403, 422])
@require_user(*STAFF)
def search_tickets(query: SearchQuery) -> dict[str, Any]:
    unit, at, session = resolve_unit(), now(), db.session()
    found = []
    for ticket in desk.search(session, unit, query.q, at):
        out = ticket_dict(session, unit, ticket, at)
        found.append({**{k: out[k] for k in ("id", "label", "state", "service_id", "service",
                                              "priority", "source", "note", "issued_at",
                                              "called_at", "waiting_ahead")},
                      "counter": _brief(session, ticket.counter_id)
                      if ticket.state in ("called", "serving", "parked") else None,
                      "target_counter": _brief(session, ticket.target_counter_id)
                      if ticket.state == "waiting" else None})
    return {"tickets": found}


class PrintIn(Strict):
    device_id: int = Field(ge=1, le=MAX_ID)


def _printer(unit: Unit, device_id: int) -> Device:
    device = db.session.get(Device, device_id)
    if (device is None or device.unit_id != unit.id or device.revoked_at is not None
            or device.kind not in PRINTER_KINDS or not (device.printer_uri or "").strip()):
        raise NotFound("printer_not_found")
    return device


@bp.post("/tickets/<int:ticket_id>/print")
@bp.input(PrintIn, arg_name="body")
@bp.output(TicketOut)
@bp.doc(summary="Print a ticket on a printer chosen at the reception desk",
        description="A kiosk's printer or a desk `printer` device of the unit (404 printer_not_found). "
        "The answer says the print state like a kiosk's issue (print_state, print_error).",
        responses=[400, 401, 403, 404, 409, 422])
@require_user(*STAFF)
def print_ticket(ticket_id: int, body: PrintIn) -> dict[str, Any]:
    from onestop.api.printing import print_on_issue

    unit, session = resolve_unit(), db.session()
    ticket = session.get(Ticket, ticket_id) if ticket_id <= MAX_ID else None
    if ticket is None or ticket.unit_id != unit.id:
        raise NotFound("ticket_not_found")
    if ticket.state not in ("waiting", "called", "serving", "parked", "missed"):
        raise DomainError("invalid_state", state=ticket.state)
    device = _printer(unit, body.device_id)
    out = ticket_dict(session, unit, ticket, now())
    out.update(print_on_issue(session, unit, ticket, device, out))
    return out


class AlertOut(BaseModel):
    service_id: int
    service: str
    ticket_id: int
    label: str
    waited_minutes: int
    threshold: int


class AlertList(BaseModel):
    alerts: list[AlertOut]
    at: str | None


@bp.get("/desk/alerts")
@bp.output(AlertList)
@bp.doc(summary="Fields whose longest wait passes their threshold now (alert_wait_minutes)",
        responses=[401, 403])
@require_user(*STAFF)
def wait_alerts() -> dict[str, Any]:
    at = now()
    return {"alerts": [a.as_dict() for a in desk.wait_alerts(db.session(), resolve_unit(), at)],
            "at": iso(at)}


# -- the manager acts from the dashboard -------------------------------------------------------


def _unit_counter(unit: Unit, counter_id: int) -> Counter:
    counter = engine.lock_counter(db.session(), counter_id) if counter_id <= MAX_ID else None
    if counter is None or counter.unit_id != unit.id:
        raise NotFound("counter_not_found")
    return counter


def _counter_act(counter_id: int, action: str, act: Any, **details: Any) -> dict[str, Any]:
    """Run ``act(counter)``, audit it (``counter.<action>`` by the manager), answer the counter."""
    from onestop.api.counters import _counter_out

    unit = resolve_unit()
    counter = _unit_counter(unit, counter_id)
    before = {"state": counter.state, "clerk_id": counter.clerk_id}
    act(counter)
    record_request(db.session(), action=f"counter.{action}", entity="counter", entity_id=counter.id,
                   before=before, after={"state": counter.state, **details}, unit_id=unit.id, at=now())
    return _counter_out(counter)


@bp.post("/dashboard/counters/<int:counter_id>/pause")
@bp.input(PauseIn, arg_name="body")
@bp.output(CounterOut)
@bp.doc(summary="The manager pauses a counter (audited)", responses=[400, 401, 403, 404, 409, 422])
@require_user(*MANAGERS)
def manager_pause(counter_id: int, body: PauseIn) -> dict[str, Any]:
    return _counter_act(counter_id, "pause", lambda c: engine.pause_counter(
        db.session(), c, actor=current_actor(), now=now(), reason=body.reason), reason=body.reason)


@bp.post("/dashboard/counters/<int:counter_id>/resume")
@bp.output(CounterOut)
@bp.doc(summary="The manager resumes a paused counter (audited)", responses=[401, 403, 404, 409])
@require_user(*MANAGERS)
def manager_resume(counter_id: int) -> dict[str, Any]:
    return _counter_act(counter_id, "resume", lambda c: engine.resume_counter(
        db.session(), c, actor=current_actor(), now=now()))


@bp.post("/dashboard/counters/<int:counter_id>/close")
@bp.input(CloseIn, arg_name="body")
@bp.output(CounterOut)
@bp.doc(summary="The manager closes a counter (audited)",
        description="The rules of POST /counters/{id}/close: the ticket being served is finished, "
        "one called becomes missed; parked tickets need `parked` (requeue, or counter with "
        "to_counter_id), else 409 parked_tickets_need_a_choice.",
        responses=[400, 401, 403, 404, 409, 422])
@require_user(*MANAGERS)
def manager_close(counter_id: int, body: CloseIn) -> dict[str, Any]:
    return _counter_act(counter_id, "close", lambda c: engine.close_counter(
        db.session(), c, actor=current_actor(), now=now(), parked=body.parked,
        to_counter_id=body.to_counter_id), parked=body.parked, to_counter_id=body.to_counter_id)


class MoveIn(Strict):
    service_id: int = Field(ge=1, le=MAX_ID)
    to_service_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    to_counter_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class MovedOut(BaseModel):
    moved: int
    labels: list[str]


@bp.post("/dashboard/move")
@bp.input(MoveIn, arg_name="body")
@bp.output(MovedOut)
@bp.doc(summary="Move the waiting tickets of a field to another field or counter (audited)",
        description="Each keeps its place. 422 move_target_required (exactly one target); 404 "
        "service_not_found, counter_not_found; 409 target_counter_closed.",
        responses=[400, 401, 403, 404, 409, 422])
@require_user(*MANAGERS)
def manager_move(body: MoveIn) -> dict[str, Any]:
    unit = resolve_unit()
    moved = desk.move_waiting(db.session(), unit, body.service_id, actor=current_actor(), now=now(),
                              to_service_id=body.to_service_id, to_counter_id=body.to_counter_id)
    labels = [t.label for t in moved]
    record_request(db.session(), action="queue.move", entity="service", entity_id=body.service_id,
                   after={"to_service_id": body.to_service_id, "to_counter_id": body.to_counter_id,
                          "labels": labels}, unit_id=unit.id, at=now())
    return {"moved": len(moved), "labels": labels}


class MessageIn(Strict):
    text: str = Field(default="", max_length=200)  # empty: take the message down
    minutes: int = Field(default=30, ge=1, le=24 * 60)


class MessageOut(BaseModel):
    text: str
    until: str | None


@bp.post("/dashboard/message")
@bp.input(MessageIn, arg_name="body")
@bp.output(MessageOut)
@bp.doc(summary="Post a message on the hall displays until a time (audited); empty text takes it down",
        responses=[400, 401, 403, 422])
@require_user(*MANAGERS)
def manager_message(body: MessageIn) -> dict[str, Any]:
    unit = db.session.get(Unit, resolve_unit().id)
    assert unit is not None
    at = now()
    message = {"text": body.text, "until": iso(at + dt.timedelta(minutes=body.minutes))} if body.text else {}
    before = unit.setting("display_message")
    unit.settings = {**(unit.settings or {}), "display_message": message}
    record_request(db.session(), action="display.message", entity="unit", entity_id=unit.id,
                   before={"display_message": before}, after={"display_message": message},
                   unit_id=unit.id, at=at)
    signals.display_message_changed.send(db.session(), unit_id=unit.id, message=message)
    return {"text": message.get("text", ""), "until": message.get("until")}


@bp.get("/dashboard/desk")
@bp.doc(summary="What the manager acts on: each counter with its current ticket and how long it has "
        "been served, the fields waiting too long, the hall message, whether a kiosk's printer is in "
        "alarm (then the dashboard offers the reception desk)", responses=[200, 401, 403])
@require_user(*MANAGERS)
def manager_desk() -> dict[str, Any]:
    from onestop.api.dashboard import printer_alarms

    unit, at, session = resolve_unit(), now(), db.session()
    counters = list(session.scalars(select(Counter).where(Counter.unit_id == unit.id)
                                    .order_by(Counter.number)))
    current = {t.counter_id: t for t in session.scalars(select(Ticket).where(
        Ticket.counter_id.in_([c.id for c in counters]), Ticket.state.in_(("called", "serving"))))}
    clerks = {u.id: u for u in session.scalars(select(User).where(
        User.id.in_([c.clerk_id for c in counters if c.clerk_id])))}
    alarms = printer_alarms(unit)["printers"]
    return {
        "at": iso(at),
        "counters": [_desk_counter(c, current.get(c.id), clerks.get(c.clerk_id or 0), at) for c in counters],
        "services": [{"id": s.id, "name": s.name} for s in services(session, unit)],
        "alerts": [a.as_dict() for a in desk.wait_alerts(session, unit, at)],
        "message": desk.current_message(unit, at),
        "kiosk_printer_alarm": any(a["kind"] == "kiosk" for a in alarms),
        # clerk productivity today, live (GET /reports/productivity for a period)
        "clerks": productivity.clerks(session, unit, productivity.day_bounds(
            unit, unit.business_date(at), unit.business_date(at))[0], at),
    }


def _desk_counter(counter: Counter, ticket: Ticket | None, clerk: User | None,
                  at: dt.datetime) -> dict[str, Any]:
    since = (ticket.serving_at or ticket.called_at) if ticket else None
    return {"id": counter.id, "number": counter.number, "name": counter.name, "state": counter.state,
            "pause_reason": counter.pause_reason,
            "clerk": (clerk.full_name or clerk.username) if clerk else None,
            "current": {"id": ticket.id, "label": ticket.label, "state": ticket.state,
                        "service": ticket.service.name, "since": iso(since),
                        "seconds": int((at - since).total_seconds()) if since else 0} if ticket else None}


@bp.get("/reports/productivity")
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.doc(summary="Clerk productivity over a period: time open, paused, serving, idle, walk time "
        "(call to arrival), tickets served and per hour open", responses=[200, 400, 401, 403, 422])
@require_user(*MANAGERS)
def productivity_report(query: ReportQuery) -> dict[str, Any]:
    unit = resolve_unit()
    period = period_of(unit, query)
    start, end = productivity.day_bounds(unit, period.start, period.end)
    return {"from": period.start.isoformat(), "to": period.end.isoformat(),
            "clerks": productivity.clerks(db.session(), unit, start, min(end, now()))}
