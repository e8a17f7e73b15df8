"""Engine signals -> Socket.IO events, emitted only after the transaction commits.

Receivers build each payload while the objects are at hand and park it in the session's
outbox (``session.info``); ``after_commit`` sends the outbox, ``after_rollback`` drops it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from onestop import signals
from onestop.db import utcnow
from onestop.extensions import db, socketio
from onestop.queueing.models import Counter, Ticket
from onestop.queueing.state import iso, waiting_by_service
from onestop.realtime import events as ev
from onestop.realtime import namespaces
from onestop.units.models import Unit

log = logging.getLogger(__name__)
Emit = tuple[str, dict[str, Any], str, list[str]]


def _outbox(session: Session) -> list[Emit]:
    return session.info.setdefault("outbox", [])  # type: ignore[no-any-return]


def _queue(session: Session, name: str, payload: dict[str, Any], namespace: str,
           rooms: list[str]) -> None:
    _outbox(session).append((name, payload, namespace, rooms))


def _display_rooms(unit_id: int, zone: str) -> list[str]:
    rooms = [ev.unit_room(unit_id)]
    return rooms + [ev.zone_room(unit_id, zone)] if zone else rooms


def _ticket_brief(ticket: Ticket) -> dict[str, Any]:
    return {"id": ticket.id, "label": ticket.label, "service": ticket.service.name,
            "service_id": ticket.service_id}


def on_called(session: Session, ticket: Ticket, counter: Counter, recall: bool) -> None:
    payload = {"ticket": _ticket_brief(ticket),
               "counter": {"id": counter.id, "number": counter.number, "name": counter.name},
               "recall": recall, "at": iso(utcnow())}
    _queue(session, ev.TICKET_CALLED, payload, ev.DISPLAY_NS,
           _display_rooms(ticket.unit_id, ticket.service.zone))
    _queue(session, ev.TICKET_CALLED, payload, ev.COUNTER_NS, [ev.unit_room(ticket.unit_id)])


def on_issued(session: Session, ticket: Ticket) -> None:
    payload = {"ticket": {**_ticket_brief(ticket), "priority": ticket.priority},
               "at": iso(ticket.issued_at)}
    _queue(session, ev.TICKET_ISSUED, payload, ev.COUNTER_NS, [ev.unit_room(ticket.unit_id)])


def on_changed(session: Session, ticket: Ticket, action: str) -> None:
    payload = {"ticket": {"id": ticket.id, "label": ticket.label, "state": ticket.state,
                          "service_id": ticket.service_id, "counter_id": ticket.counter_id},
               "action": action, "at": iso(utcnow())}
    _queue(session, ev.TICKET_CHANGED, payload, ev.COUNTER_NS, [ev.unit_room(ticket.unit_id)])


def on_queue(session: Session, unit_id: int, service_ids: list[int]) -> None:
    unit = session.get(Unit, unit_id)
    if unit is None:
        return
    counts = waiting_by_service(session, unit, unit.business_date(utcnow()))
    payload = {"unit_id": unit_id,
               "waiting": [{"service_id": s, "waiting": counts.get(s, 0)} for s in service_ids]}
    # one queue.changed per service set and commit is enough: replace an older one
    box = _outbox(session)
    box[:] = [e for e in box if not (e[0] == ev.QUEUE_CHANGED and e[1]["waiting"] and
                                     {w["service_id"] for w in e[1]["waiting"]} == set(service_ids))]
    for ns in (ev.DISPLAY_NS, ev.COUNTER_NS):
        _queue(session, ev.QUEUE_CHANGED, payload, ns, [ev.unit_room(unit_id)])


def on_counter(session: Session, counter: Counter) -> None:
    payload = {"counter": {"id": counter.id, "number": counter.number, "name": counter.name,
                           "state": counter.state, "pause_reason": counter.pause_reason,
                           "clerk_id": counter.clerk_id}}
    for ns in (ev.DISPLAY_NS, ev.COUNTER_NS):
        _queue(session, ev.COUNTER_CHANGED, payload, ns, [ev.unit_room(counter.unit_id)])


def on_day_closed(session: Session, unit_id: int, business_date: dt.date, expired: int) -> None:
    payload = {"unit_id": unit_id, "business_date": business_date.isoformat(), "expired": expired}
    _queue(session, ev.DAY_CLOSED, payload, ev.COUNTER_NS, [ev.unit_room(unit_id)])


def _flush_outbox(session: Session) -> None:
    box = session.info.pop("outbox", None)
    for name, payload, namespace, rooms in box or []:
        try:
            socketio.emit(name, payload, namespace=namespace, to=rooms)
        except Exception:  # a broken message queue must not fail a committed request
            log.exception("could not emit %s", name)


def _drop_outbox(session: Session) -> None:
    session.info.pop("outbox", None)


_RECEIVERS = [
    (signals.ticket_called, on_called), (signals.ticket_issued, on_issued),
    (signals.ticket_changed, on_changed), (signals.queue_changed, on_queue),
    (signals.counter_changed, on_counter), (signals.day_closed, on_day_closed),
]


def init_app(app: Flask) -> None:
    """Subscribe to the engine's signals and register the namespaces (idempotent)."""
    for signal, receiver in _RECEIVERS:
        signal.connect(receiver, weak=False)
    if not event.contains(db.session_factory, "after_commit", _flush_outbox):
        event.listen(db.session_factory, "after_commit", _flush_outbox)
        event.listen(db.session_factory, "after_rollback", _drop_outbox)
    namespaces.register(socketio)
