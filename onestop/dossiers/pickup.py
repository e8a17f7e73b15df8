"""The citizen comes back for the result: a queue ticket linked to a dossier.

At the kiosk's lookup a dossier ``ready`` offers "Lấy số nhận kết quả" and one
``supplement_requested`` offers "Lấy số nộp bổ sung"; one tap issues a ticket with
``dossier_id`` and ``purpose`` (``pickup`` / ``supplement``), so that the clerk who calls it
gets that dossier opened with the hand-over ready.

Routing (the unit setting ``returns_service``):

- a field code: the ticket joins that field's queue (a returns desk, "Trả kết quả");
- empty (the default): the counter that received the dossier (the counter that served the
  ticket it was received under) calls it first (``Ticket.target_counter_id``, see
  ``onestop.queueing.policy``), numbered in the dossier's field. When that counter is closed
  now, or the dossier was received without a ticket, the ticket joins the dossier's field
  instead: a ticket sent to a closed counter would wait all day.

One such ticket per dossier and business day (a unique index holds it even under a race;
the dossier row is locked first so that a second tap gets a clean refusal): a second tap
answers ``pickup_ticket_exists`` with the ticket already taken, which the kiosk shows again.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.dossiers.models import Dossier
from onestop.queueing.engine import Actor, issue_ticket
from onestop.queueing.errors import DomainError
from onestop.queueing.models import Counter, Service, Ticket
from onestop.units.models import Unit

# the dossier states that bring the citizen back to the desk, and why
PURPOSE_BY_STATE = {"ready": "pickup", "supplement_requested": "supplement"}


def purpose_for(dossier: Dossier) -> str | None:
    """``pickup`` / ``supplement`` when the dossier's state calls the citizen back, else None."""
    return PURPOSE_BY_STATE.get(dossier.state)


def desk_path(code: str) -> str:
    """The dossier's page on the dossier desk, where the clerk hands the result over."""
    return f"/counter/dossiers/{quote(code, safe='')}"


def _dossier_field(session: Session, unit: Unit, dossier: Dossier) -> Service | None:
    """The dossier's field: its own, else its procedure's, else its receiving ticket's."""
    ids = [dossier.service_id, dossier.procedure.service_id]
    if dossier.ticket_id is not None:
        received_under = session.get(Ticket, dossier.ticket_id)
        ids.append(received_under.service_id if received_under else None)
    for service_id in ids:
        service = session.get(Service, service_id) if service_id else None
        if service is not None and service.unit_id == unit.id and service.active:
            return service
    return None


def receiving_counter(session: Session, dossier: Dossier) -> Counter | None:
    """The counter that received the dossier: the one that served the ticket it came under."""
    if dossier.ticket_id is None:
        return None
    ticket = session.get(Ticket, dossier.ticket_id)
    return session.get(Counter, ticket.counter_id) if ticket and ticket.counter_id else None


def pickup_route(session: Session, unit: Unit, dossier: Dossier) -> tuple[Service, Counter | None]:
    """Where a pickup ticket goes: (the field it is numbered in, the counter it is sent to or
    None for the whole field). Raises ``pickup_no_field`` (409) when no field can take it."""
    code = str(unit.setting("returns_service") or "").strip()
    if code:
        returns = session.scalar(select(Service).where(
            Service.unit_id == unit.id, Service.code == code, Service.active.is_(True)))
        if returns is not None:
            return returns, None
    field = _dossier_field(session, unit, dossier)
    if field is None:
        raise DomainError("pickup_no_field")
    counter = receiving_counter(session, dossier)
    if counter is not None and counter.unit_id == unit.id and counter.state != "closed":
        return field, counter
    return field, None


def todays_pickup(session: Session, unit: Unit, dossier: Dossier, now: dt.datetime) -> Ticket | None:
    """The ticket already taken today for this dossier, if any."""
    return session.scalar(select(Ticket).where(
        Ticket.dossier_id == dossier.id, Ticket.business_date == unit.business_date(now)))


def issue_pickup_ticket(session: Session, unit: Unit, dossier: Dossier, *, actor: Actor,
                        now: dt.datetime, always_open: bool = False) -> Ticket:
    """Issue the ticket with which the citizen collects the result or hands in a supplement.

    Raises ``DomainError``: ``pickup_not_available`` (409, the dossier's state does not call
    the citizen back; ``state`` in the details), ``pickup_ticket_exists`` (409, one ticket a
    day; the details carry its ``ticket_id`` and ``label``), ``pickup_no_field``, and what
    ``issue_ticket`` raises (``service_closed``, ``outside_hours``, ``daily_cap_reached``).
    """
    if dossier.unit_id != unit.id:
        raise DomainError("dossier_not_found", status=404)
    # one tap at a time per dossier (PostgreSQL; SQLite writes one transaction at a time)
    session.execute(select(Dossier.id).where(Dossier.id == dossier.id).with_for_update())
    purpose = purpose_for(dossier)
    if purpose is None:
        raise DomainError("pickup_not_available", state=dossier.state)
    existing = todays_pickup(session, unit, dossier, now)
    if existing is not None:
        raise DomainError("pickup_ticket_exists", ticket_id=existing.id, label=existing.label)
    service, counter = pickup_route(session, unit, dossier)
    return issue_ticket(session, unit, service, actor=actor, now=now, source="kiosk",
                        always_open=always_open, dossier_id=dossier.id, purpose=purpose,
                        target_counter_id=counter.id if counter else None)
