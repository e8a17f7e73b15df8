"""The clerk's and the manager's moves beyond call-next (issue 22): a ticket sent back to the
counter that transferred it, the number search of the workstation, the "waiting too long"
alerts, a field's waiting tickets moved elsewhere, and a ticket issued at the reception desk.

Like ``engine``: plain functions taking the ``Session``, the ``Actor`` and ``now``; they
only flush, write a ``TicketEvent`` per change and send the engine's signals.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop import signals
from onestop.queueing.engine import Actor, _event, _queue_changed, issue_ticket
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Counter, Service, Ticket
from onestop.units.models import Unit

SEARCH_LIMIT = 20
LABEL = re.compile(r"^([A-Z]*)(\d{1,9})$")


def search(session: Session, unit: Unit, text: str, now: dt.datetime) -> list[Ticket]:
    """"Tìm số": today's tickets of the unit whose label holds ``text`` (any case, "a12"
    finds "A012" too: the digits are matched as a number), latest first."""
    text = text.strip().upper()
    if not text:
        return []
    query = select(Ticket).where(Ticket.unit_id == unit.id,
                                 Ticket.business_date == unit.business_date(now))
    shaped = LABEL.match(text)
    if shaped:  # letters then digits: that prefix and that number
        query = query.where(Ticket.number == int(shaped.group(2)),
                            func.upper(Ticket.label).like(f"{shaped.group(1)}%"))
    else:
        query = query.where(func.upper(Ticket.label).contains(text, autoescape=True))
    return list(session.scalars(query.order_by(Ticket.issued_at.desc()).limit(SEARCH_LIMIT)))


@dataclass(frozen=True)
class WaitAlert:
    """A field whose longest-waiting citizen has waited past its threshold."""

    service_id: int
    service: str
    ticket_id: int
    label: str
    waited_minutes: int
    threshold: int

    def as_dict(self) -> dict[str, Any]:
        return {"service_id": self.service_id, "service": self.service, "ticket_id": self.ticket_id,
                "label": self.label, "waited_minutes": self.waited_minutes,
                "threshold": self.threshold}


def threshold(unit: Unit, service: Service) -> int:
    """Minutes of waiting before the alert: the field's own, else the unit's; 0: never."""
    if service.alert_wait_minutes is not None:
        return int(service.alert_wait_minutes)
    return int(unit.setting("alert_wait_minutes") or 0)


def wait_alerts(session: Session, unit: Unit, now: dt.datetime) -> list[WaitAlert]:
    """The fields of ``unit`` whose longest wait now passes their threshold, with the
    ticket that waits longest (by the time it joined the queue)."""
    oldest = (select(Ticket.service_id, func.min(Ticket.queue_at).label("since"))
              .where(Ticket.unit_id == unit.id, Ticket.business_date == unit.business_date(now),
                     Ticket.state == "waiting").group_by(Ticket.service_id).subquery())
    rows = session.execute(
        select(Service, Ticket).join(oldest, oldest.c.service_id == Service.id)
        .join(Ticket, (Ticket.service_id == Service.id) & (Ticket.queue_at == oldest.c.since)
              & (Ticket.state == "waiting") & (Ticket.unit_id == unit.id)
              & (Ticket.business_date == unit.business_date(now)))
        .order_by(Service.sort_order, Service.id, Ticket.id)).all()
    out: dict[int, WaitAlert] = {}
    for service, ticket in rows:
        limit = threshold(unit, service)
        waited = int((now - ticket.queue_at).total_seconds() // 60)
        if limit > 0 and waited >= limit and service.id not in out:
            out[service.id] = WaitAlert(service.id, service.name, ticket.id, ticket.label, waited, limit)
    return list(out.values())


def move_waiting(session: Session, unit: Unit, service_id: int, *, actor: Actor, now: dt.datetime,
                 to_service_id: int | None = None, to_counter_id: int | None = None) -> list[Ticket]:
    """The manager moves every ticket waiting in a field to another field or to one counter
    (each keeps its place: its ``queue_at``). Refusals: ``move_target_required`` (422),
    ``service_not_found``, ``counter_not_found``, ``target_counter_closed``."""
    if (to_service_id is None) == (to_counter_id is None):
        raise DomainError("move_target_required", status=422)
    source = session.get(Service, service_id)
    if source is None or source.unit_id != unit.id:
        raise NotFound("service_not_found")
    if to_service_id is not None:
        target = session.get(Service, to_service_id)
        if target is None or target.unit_id != unit.id or not target.active or target.id == source.id:
            raise NotFound("service_not_found")
    else:
        counter = session.get(Counter, to_counter_id)
        if counter is None or counter.unit_id != unit.id:
            raise NotFound("counter_not_found")
        if counter.state == "closed":
            raise DomainError("target_counter_closed", counter=counter.number)
    moved = list(session.scalars(select(Ticket).where(
        Ticket.unit_id == unit.id, Ticket.business_date == unit.business_date(now),
        Ticket.state == "waiting", Ticket.service_id == source.id).order_by(Ticket.queue_at)))
    for ticket in moved:
        if to_service_id is not None:
            ticket.service_id, ticket.target_counter_id = to_service_id, None
        else:
            ticket.target_counter_id = to_counter_id
        session.flush()
        _event(session, ticket, "move", "waiting", actor, now, from_service=source.id,
               to_service=to_service_id, to_counter=to_counter_id)
        signals.ticket_changed.send(session, ticket=ticket, action="move")
    if moved:
        _queue_changed(session, unit.id, source.id, *([to_service_id] if to_service_id else []))
    return moved


def issue_for_citizen(session: Session, unit: Unit, service: Service, *, actor: Actor,
                      now: dt.datetime, source: str, note: str | None = None,
                      priority_reason: str | None = None, **issue: Any) -> Ticket:
    """A ticket issued by staff (the reception desk, a clerk) on a citizen's behalf, with a
    ``note`` the clerk who calls it will see and the reason of its priority class (kept on a
    ``priority`` event); ``issue`` goes to ``engine.issue_ticket``."""
    ticket = issue_ticket(session, unit, service, actor=actor, now=now, source=source, **issue)
    if note:
        ticket.note = note
        session.flush()
    if priority_reason and ticket.priority != "none":
        _event(session, ticket, "priority", "waiting", actor, now, priority=ticket.priority,
               reason=priority_reason)
    return ticket


def current_message(unit: Unit, now: dt.datetime) -> dict[str, Any] | None:
    """The manager's message on the hall displays while it lasts (``{text, until}``), else None."""
    message = unit.setting("display_message") or {}
    until = message.get("until")
    if not message.get("text") or not until:
        return None
    if dt.datetime.fromisoformat(str(until).replace("Z", "+00:00")) <= now:
        return None
    return {"text": str(message["text"]), "until": str(until)}
