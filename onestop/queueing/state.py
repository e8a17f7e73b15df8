"""Read models shared by the API, the pages and the realtime snapshots."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from onestop.accounts.models import User
from onestop.bookings.models import Booking
from onestop.db import DailyCounter
from onestop.dossiers.models import Dossier, Procedure
from onestop.queueing.catalog import service_info
from onestop.queueing.engine import estimate
from onestop.queueing.estimate import (
    FieldQueue,
    estimate_wait_minutes,
    field_queues,
    interleave_step,
    new_ticket_ahead,
)
from onestop.queueing.models import CURRENT_WHERE, Counter, Service, Ticket
from onestop.queueing.outcome import call_outcomes
from onestop.queueing.schedule import availability
from onestop.units.models import Unit


def iso(when: dt.datetime | None) -> str | None:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if when else None


def services(session: Session, unit: Unit, zones: list[str] | None = None) -> list[Service]:
    query = select(Service).where(Service.unit_id == unit.id)
    if zones:
        query = query.where(Service.zone.in_(zones))
    return list(session.scalars(query.order_by(Service.sort_order, Service.id)))


# every column of ix_tickets_queue's prefix (unit, date, state, service): an index-only count
_AT_A_COUNTER = text("tickets." + CURRENT_WHERE)
_CURRENT_SQLITE = text("SELECT tickets.* FROM tickets INDEXED BY ix_tickets_current "
                       "WHERE tickets.counter_id IN :ids AND tickets." + CURRENT_WHERE
                       ).bindparams(bindparam("ids", expanding=True))
_WAITING_IN_SERVICE = select(func.count()).select_from(Ticket).where(
    Ticket.unit_id == bindparam("u"), Ticket.business_date == bindparam("d"),
    Ticket.state == "waiting", Ticket.service_id == bindparam("s"))


def waiting_in_service(session: Session, unit_id: int, service_id: int,
                       business_date: dt.date) -> int:
    """One field's waiting count, on the connection: no autoflush, none of the ORM's
    execution path (the hub asks it inside every call)."""
    return int(session.connection().scalar(
        _WAITING_IN_SERVICE, {"u": unit_id, "s": service_id, "d": business_date}) or 0)


def waiting_by_service(session: Session, unit: Unit, business_date: dt.date) -> dict[int, int]:
    rows = session.execute(
        select(Ticket.service_id, func.count()).where(
            Ticket.unit_id == unit.id, Ticket.business_date == business_date,
            Ticket.state == "waiting").group_by(Ticket.service_id)
    )
    return {int(sid): int(n) for sid, n in rows}


def numbers_given(session: Session, services: list[Service],
                  business_date: dt.date) -> dict[int, int]:
    """Tickets issued today per field (the daily counter: a refused number was given back)."""
    scopes = {f"service:{svc.id}": svc.id for svc in services}
    rows = session.execute(select(DailyCounter.scope, DailyCounter.last).where(
        DailyCounter.business_date == business_date, DailyCounter.scope.in_(list(scopes))))
    return {scopes[scope]: int(last) for scope, last in rows}


def numbers_run_out(service: Service, given: int) -> bool:
    """The field has handed out its daily cap, or the last number of its block."""
    if service.daily_cap and given >= service.daily_cap:
        return True
    return service.block_end is not None and (service.block_start or 1) + given - 1 >= service.block_end


def service_list(session: Session, unit: Unit, now: dt.datetime,
                 always_open: bool = False) -> list[dict[str, Any]]:
    """Every field: open now or why not (a field whose numbers ran out today is closed with
    ``daily_cap_reached``, before anyone tries), who waits, and how long a normal ticket
    issued now would wait (``estimate``'s call-order model; ``counters_open`` 0: nobody
    serves the field now)."""
    day = unit.business_date(now)
    lines = field_queues(session, unit.id, day)
    local_now = unit.local(now)
    default = float(unit.setting("default_service_minutes"))
    step = interleave_step(unit)
    fields = services(session, unit)
    given = numbers_given(session, fields, day)
    out = []
    for svc in fields:
        state = availability(svc, local_now, always_open)
        reason = state.reason
        if state.open and numbers_run_out(svc, given.get(svc.id, 0)):
            reason = "daily_cap_reached"
        line = lines.get(svc.id, FieldQueue())
        ahead = new_ticket_ahead(line, step)
        out.append({
            "id": svc.id, "code": svc.code, "name": svc.name, "name_en": svc.name_en,
            "prefix": svc.prefix, "zone": svc.zone, "open_now": state.open and reason is None,
            "closed_reason": reason, "weekdays": svc.weekdays, "windows": svc.windows,
            "waiting": line.normal + line.priority, "counters_open": line.counters,
            "estimated_wait_minutes": estimate_wait_minutes(session, svc.id, ahead, default, now,
                                                            counters=line.counters),
        })
    return out


def ticket_dict(session: Session, unit: Unit, ticket: Ticket,
                now: dt.datetime | None = None) -> dict[str, Any]:
    """A ticket as the API, the phone page and the slip show it; people ahead and the wait
    follow the real call order (``engine.estimate``)."""
    guess = estimate(session, unit, ticket, now)
    counter = ticket.counter if ticket.state in ("called", "serving", "parked") else None
    return {
        "id": ticket.id, "number": ticket.number, "label": ticket.label,
        "service_id": ticket.service_id,
        "service": service_info(session, ticket.unit_id, ticket.service_id).name,
        "state": ticket.state, "priority": ticket.priority, "source": ticket.source,
        "business_date": ticket.business_date.isoformat(),
        "waiting_ahead": guess.ahead, "estimated_wait_minutes": guess.minutes,
        "counters_open": guess.counters_open,
        "issued_at": iso(ticket.issued_at), "called_at": iso(ticket.called_at),
        "recall_count": ticket.recall_count, "print_state": ticket.print_state,
        "counter": counter_brief(counter) if counter else None,
        "procedure_code": ticket.procedure_code,
        "procedure": procedure_name(session, ticket),
        "dossier": ticket_dossier(session, ticket),
        "booking": ticket_booking(session, ticket),
        "note": ticket.note,
    }


def ticket_booking(session: Session, ticket: Ticket) -> dict[str, Any] | None:
    """``{code, start}`` of the booking a ticket was checked in for (no query for others)."""
    if ticket.source != "booking":
        return None
    # within the booking's field and two days around the check-in (ix_bookings_slot): the
    # booking of a ticket, found without reading every booking the field ever took
    day = dt.timedelta(days=1)
    row = session.execute(select(Booking.code, Booking.start).where(
        Booking.service_id == ticket.issued_service_id, Booking.start >= ticket.issued_at - day,
        Booking.start <= ticket.issued_at + day, Booking.ticket_id == ticket.id).limit(1)).first()
    return {"code": row.code, "start": iso(row.start)} if row else None


def ticket_dossier(session: Session, ticket: Ticket) -> dict[str, Any] | None:
    """``{code, purpose}`` of the dossier the ticket was taken for (no query for others)."""
    if ticket.dossier_id is None:
        return None
    code = session.scalar(select(Dossier.code).where(Dossier.id == ticket.dossier_id))
    return {"code": code, "purpose": ticket.purpose} if code else None


def procedure_name(session: Session, ticket: Ticket) -> str | None:
    """The name of the procedure chosen for the ticket (no query when none was chosen)."""
    if not ticket.procedure_code:
        return None
    return session.scalar(select(Procedure.name).where(
        Procedure.unit_id == ticket.unit_id, Procedure.code == ticket.procedure_code))


def counter_brief(counter: Counter) -> dict[str, Any]:
    return {"id": counter.id, "number": counter.number, "name": counter.name}


def counter_list(session: Session, unit: Unit) -> list[dict[str, Any]]:
    counters = list(session.scalars(
        select(Counter).where(Counter.unit_id == unit.id).order_by(Counter.number)))
    # by counter, with the partial index ix_tickets_current: its condition written out as
    # the index has it (SQLite takes a partial index only for the same terms, never for
    # bound parameters); by unit, the search read every ticket it ever issued. On SQLite
    # the index is named: after ANALYZE the empty partial index has no statistics, and
    # some processes' planners then scanned every ticket of the year instead (seen by
    # tests/reports/test_dashboard_history.py: 2 VM steps became 694)
    ids = [c.id for c in counters]
    query = (select(Ticket).from_statement(_CURRENT_SQLITE.bindparams(ids=ids))
             if session.get_bind().dialect.name == "sqlite"
             else select(Ticket).where(Ticket.counter_id.in_(ids), _AT_A_COUNTER))
    serving = {t.counter_id: t for t in session.scalars(query)}
    clerk_ids = [c.clerk_id for c in counters if c.clerk_id]
    clerks = {u.id: u for u in session.scalars(select(User).where(User.id.in_(clerk_ids)))}
    return [counter_dict(c, serving.get(c.id), clerks.get(c.clerk_id or 0)) for c in counters]


def counter_dict(counter: Counter, serving: Ticket | None, clerk: User | None) -> dict[str, Any]:
    return {
        "id": counter.id, "number": counter.number, "name": counter.name, "zone": counter.zone,
        "state": counter.state, "pause_reason": counter.pause_reason,
        "service_ids": counter.service_ids, "service_mode": counter.service_mode,
        # the display name only: the list and the hall's snapshot are public, a login is not
        "clerk": {"id": clerk.id, "full_name": clerk.full_name or None} if clerk else None,
        "serving": {"id": serving.id, "label": serving.label, "state": serving.state,
                    "service_id": serving.service_id, "service": serving.service.name,
                    "booked": serving.source == "booking"}  # the hall's badge: checked in for a booking
        if serving else None,
    }


def display_state(session: Session, unit: Unit, now: dt.datetime,
                  zones: list[str] | None = None, recent: int = 8) -> dict[str, Any]:
    """What a hall display shows now: counters, the last calls, people waiting per field."""
    svc = services(session, unit, zones)
    svc_ids = {s.id for s in svc}
    waiting = waiting_by_service(session, unit, unit.business_date(now))
    counters = [c for c in counter_list(session, unit) if not zones or c["zone"] in zones]
    calls = session.scalars(
        select(Ticket).where(Ticket.unit_id == unit.id,
                             Ticket.business_date == unit.business_date(now),
                             Ticket.called_at.is_not(None), Ticket.service_id.in_(svc_ids))
        .order_by(Ticket.called_at.desc()).limit(recent)).all()
    outcomes = call_outcomes(session, calls)  # the hall labels transferred and missed calls
    return {
        "unit": {"id": unit.id, "code": unit.code, "name": unit.name},
        "zones": zones or [],
        "at": iso(now),
        "counters": counters,
        "recent_calls": [{"ticket": {"id": t.id, "label": t.label, "service": t.service.name,
                                     "booked": t.source == "booking"},
                          "counter": counter_brief(t.counter) if t.counter else None,
                          "at": iso(t.called_at), "outcome": outcomes[t.id]} for t in calls],
        "waiting": [{"service_id": s.id, "name": s.name, "waiting": waiting.get(s.id, 0)}
                    for s in svc],
    }
